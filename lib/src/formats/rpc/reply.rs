//! Reply builders for the node: the JSON the live network answers with.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Map, Value, json};

use super::{RpcError, status};
use crate::formats::keys::Pubkey;
use crate::formats::rpc::message::StoredMessage;

/// The hard fork whose rules snkit follows (30-day private TTLs and the current message hash
/// arrived in 19.3), reported as `hf` in replies.
pub const HARDFORK: [u16; 2] = [19, 3];
/// The storage-server version `info` reports (`[2, x, y]`).
pub const SERVER_VERSION: [u16; 3] = [2, 11, 0];

/// Adds `t` (the node's time in ms) and `hf` to a reply object.
pub fn with_t_hf(mut v: Value, now_ms: u64) -> Value {
    if let Value::Object(m) = &mut v {
        m.insert("t".into(), json!(now_ms));
        m.insert("hf".into(), json!(HARDFORK));
    }
    v
}

/// A member of a swarm as `get_swarm` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmMember {
    pub pubkey_ed25519: [u8; 32],
    pub pubkey_x25519: [u8; 32],
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

/// `info` reply: `{"version": [2, x, y], "timestamp": ms, "t", "hf"}`.
pub fn info_reply(now_ms: u64) -> Value {
    with_t_hf(json!({ "version": SERVER_VERSION, "timestamp": now_ms }), now_ms)
}

/// `oxend_request` reply: `{"result": <oxend json>, "t", "hf"}` (for get_service_nodes, the
/// node list `{"service_node_states": [...]}`).
pub fn oxend_reply(result: Value, now_ms: u64) -> Value {
    with_t_hf(json!({ "result": result }), now_ms)
}

/// `retrieve` reply: `{"messages": [{"hash","timestamp","expiration","data"}], "more", "t", "hf"}`.
pub fn retrieve_reply(messages: &[StoredMessage], more: bool, now_ms: u64) -> Value {
    let msgs: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "hash": m.hash,
                "timestamp": m.timestamp_ms,
                "expiration": m.expiry_ms,
                "data": STANDARD.encode(&m.data),
            })
        })
        .collect();
    with_t_hf(json!({ "messages": msgs, "more": more }), now_ms)
}

/// One swarm member's successful store: `{"hash", "signature", "expiry", "already"?}`, signed
/// with the member's Ed25519 key over the hash string. `sign` is the node's Ed25519 signer
/// (e.g. `|m| keys.sign(m)`, or [`signer`] for a `SigningKey`).
pub fn store_member_ok(sign: impl Fn(&[u8]) -> [u8; 64], hash: &str, expiry_ms: u64, already: bool) -> Value {
    let sig = sign(hash.as_bytes());
    let mut v = json!({ "hash": hash, "signature": STANDARD.encode(sig), "expiry": expiry_ms });
    if already {
        v["already"] = json!(true);
    }
    v
}

/// Why a swarm member's part of a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreMemberFailure {
    /// The member did not answer in time.
    Timeout,
    /// The member answered with an error status and reason.
    Code { code: u16, reason: String },
    /// The member's answer could not be understood.
    BadPeerResponse,
    /// The member's own database failed.
    QueryFailure,
}

/// A failed member: `{"failed": true, "timeout"|"code"+"reason"|"bad_peer_response"|"query_failure"}`.
pub fn store_member_failed(why: &StoreMemberFailure) -> Value {
    let mut v = json!({ "failed": true });
    match why {
        StoreMemberFailure::Timeout => v["timeout"] = json!(true),
        StoreMemberFailure::Code { code, reason } => {
            v["code"] = json!(code);
            v["reason"] = json!(reason);
        }
        StoreMemberFailure::BadPeerResponse => v["bad_peer_response"] = json!(true),
        StoreMemberFailure::QueryFailure => v["query_failure"] = json!(true),
    }
    v
}

/// A swarm-wide reply (store, delete): `{"swarm": {member_ed25519_hex: result}, "t", "hf"}`
/// plus, for a store, the top-level `hash` (compat). Status 200 if any member succeeded (has no
/// `failed`), otherwise 500.
pub fn swarm_reply(members: Vec<(String, Value)>, hash: Option<&str>, now_ms: u64) -> (u16, Value) {
    let any_ok = members.iter().any(|(_, v)| v.get("failed").is_none());
    let swarm: Map<String, Value> = members.into_iter().collect();
    let mut v = json!({ "swarm": swarm });
    if let Some(h) = hash {
        v["hash"] = json!(h);
    }
    let status = if any_ok { status::OK } else { status::INTERNAL_SERVER_ERROR };
    (status, with_t_hf(v, now_ms))
}

/// What a node signs in its delete reply: `PUBKEY_HEX ‖ requested… ‖ deleted…`.
pub fn delete_signature_message(pubkey: &Pubkey, requested: &[String], deleted: &[String]) -> Vec<u8> {
    let mut m = pubkey.to_hex().into_bytes();
    for h in requested.iter().chain(deleted) {
        m.extend_from_slice(h.as_bytes());
    }
    m
}

/// One member's successful delete: `{"deleted": [...], "signature"}` (`sign` as in
/// [`store_member_ok`]).
pub fn delete_member_ok(
    sign: impl Fn(&[u8]) -> [u8; 64],
    pubkey: &Pubkey,
    requested: &[String],
    deleted: &[String],
) -> Value {
    let sig = sign(&delete_signature_message(pubkey, requested, deleted));
    json!({ "deleted": deleted, "signature": STANDARD.encode(sig) })
}

/// The signer closure for an Ed25519 `SigningKey`.
pub fn signer(key: &SigningKey) -> impl Fn(&[u8]) -> [u8; 64] + '_ {
    move |m| key.sign(m).to_bytes()
}
