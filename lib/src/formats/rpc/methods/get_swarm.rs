//! `get_swarm` (alias `get_snodes_for_pubkey`): which nodes serve a pubkey. Its params, the
//! client's request builder, the node's reply (also the body of a 421 wrong-swarm answer). The
//! client's parser of the reply is `nodelist::parse_get_swarm_reply`.

use serde_json::{Value, json};

use crate::formats::keys::Pubkey;
use crate::formats::rpc::RpcError;
use crate::formats::rpc::fields::{Params, pubkey_field};
use crate::formats::rpc::reply::with_t_hf;

// ---- params (node) -----------------------------------------------------------------------

/// `get_swarm` / `get_snodes_for_pubkey` params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetSwarmParams {
    /// The pubkey whose swarm is asked for.
    pub pubkey: Pubkey,
}

impl GetSwarmParams {
    /// Parses the params of a `get_swarm`.
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        Ok(Self { pubkey: pubkey_field(p, true)? })
    }
}

// ---- request (client) --------------------------------------------------------------------

/// `get_swarm` params.
pub fn get_swarm_params(pubkey: &Pubkey) -> Value {
    json!({ "pubkey": pubkey.to_hex() })
}

// ---- reply (node) ------------------------------------------------------------------------

/// A member of a swarm as `get_swarm` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmMember {
    /// The member's Ed25519 key.
    pub pubkey_ed25519: [u8; 32],
    /// The member's X25519 key.
    pub pubkey_x25519: [u8; 32],
    /// The member's IP address.
    pub ip: String,
    /// The storage RPC port (snkit serves everything, node-to-node included, on it).
    pub port: u16,
}

impl From<&crate::formats::nodelist::NodeInfo> for SwarmMember {
    fn from(n: &crate::formats::nodelist::NodeInfo) -> Self {
        Self {
            pubkey_ed25519: n.pubkey_ed25519,
            pubkey_x25519: n.pubkey_x25519,
            ip: n.public_ip.clone(),
            port: n.storage_port,
        }
    }
}

impl SwarmMember {
    /// The members of a node-list swarm (`NodeList::swarm_of` / `members`).
    pub fn from_nodes(nodes: &[crate::formats::nodelist::NodeInfo]) -> Vec<SwarmMember> {
        nodes.iter().map(SwarmMember::from).collect()
    }
}

const BASE32Z: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";

/// z-base-32 (as oxenc encodes it: 5 bits at a time from the most significant, last group
/// zero-padded).
pub fn base32z(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32Z[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(BASE32Z[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn member_json(m: &SwarmMember) -> Value {
    // snkit nodes have no separate legacy key: the Ed25519 key is the legacy key, as on the live
    // network for every node registered since the Ed25519 switch.
    json!({
        "address": format!("{}.snode", base32z(&m.pubkey_ed25519)),
        "pubkey_legacy": hex::encode(m.pubkey_ed25519),
        "pubkey_x25519": hex::encode(m.pubkey_x25519),
        "pubkey_ed25519": hex::encode(m.pubkey_ed25519),
        "ip": m.ip,
        "port": m.port.to_string(),
        "port_https": m.port,
        "port_omq": m.port,
        "port_quic": m.port,
    })
}

/// `get_swarm` reply: `{"snodes": [...], "swarm": 16 hex digits, "t", "hf"}`.
pub fn get_swarm_reply(swarm_id: u64, members: &[SwarmMember], now_ms: u64) -> Value {
    let snodes: Vec<Value> = members.iter().map(member_json).collect();
    with_t_hf(json!({ "snodes": snodes, "swarm": crate::formats::swarm::swarm_id_hex(swarm_id) }), now_ms)
}

/// The 421 for a request whose pubkey belongs to another swarm: the body is that swarm's
/// `get_swarm` JSON plus t/hf; clients replace their cached swarm with its `snodes`.
pub fn wrong_swarm(swarm_id: u64, members: &[SwarmMember], now_ms: u64) -> RpcError {
    RpcError::misdirected(get_swarm_reply(swarm_id, members, now_ms))
}
