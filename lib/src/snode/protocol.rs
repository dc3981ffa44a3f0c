//! Wire types of the node-to-node endpoints (docs/node-protocol.md).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::formats::keys::Pubkey;
use crate::snode::store::StoredMessage;

/// Path of replication of client stores to swarm peers (reply has per-message signatures).
pub(crate) const PATH_REPLICATE: &str = "/snode/v1/replicate";
/// Path of bulk pushes (handoff to new members and new owners).
pub(crate) const PATH_PUSH: &str = "/snode/v1/push";
/// Path of a sync request: "push me every record of my swarm".
pub(crate) const PATH_SYNC: &str = "/snode/v1/sync";
/// Path of a forwarded client request (delete), run by the peer without forwarding again.
pub(crate) const PATH_STORAGE_CC: &str = "/snode/v1/storage_cc";
/// A forwarded client request sent again to a peer that missed it (its clock window is not
/// checked again; the path is covered by the node signature, so only a node can ask for that).
pub(crate) const PATH_STORAGE_CC_REDELIVERY: &str = "/snode/v1/storage_cc_redelivery";
/// Path of the health/status probe (`testnet status`).
pub(crate) const PATH_HEALTH: &str = "/snode/v1/health";

/// One message as it travels between nodes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PeerMessage {
    /// 66 hex characters.
    pub pubkey: String,
    pub namespace: i16,
    pub hash: String,
    pub timestamp: u64,
    pub expiry: u64,
    /// base64 of the message bytes.
    pub data: String,
}

impl PeerMessage {
    pub(crate) fn from_stored(m: &StoredMessage) -> Self {
        Self {
            pubkey: m.pubkey.to_hex(),
            namespace: m.namespace,
            hash: m.hash.clone(),
            timestamp: m.timestamp_ms,
            expiry: m.expiry_ms,
            data: STANDARD.encode(&m.data),
        }
    }

    /// Decodes and re-checks the message: the pubkey parses, the data is base64 within the size
    /// limit, and the hash is the hash of (pubkey, namespace, data).
    pub(crate) fn to_stored(&self) -> Result<StoredMessage, String> {
        let pubkey = Pubkey::parse(&self.pubkey).map_err(|e| format!("pubkey: {e}"))?;
        if self.data.len() > crate::formats::limits::RPC_MAX_BODY_BYTES {
            return Err("data too large".into());
        }
        let data = STANDARD.decode(&self.data).map_err(|_| "data is not base64".to_string())?;
        let hash = crate::formats::rpc::message_hash(&pubkey, self.namespace, &data);
        if hash != self.hash {
            return Err(format!("hash {} does not match the message", self.hash));
        }
        Ok(StoredMessage {
            pubkey,
            namespace: self.namespace,
            hash,
            timestamp_ms: self.timestamp,
            expiry_ms: self.expiry,
            data,
        })
    }
}

/// Parses the body of `/snode/v1/replicate` or `/snode/v1/push` into the messages to store,
/// checking each one as a client's store would be (the fuzz target `peer_batch` drives this).
pub fn parse_batch(body: &[u8]) -> Result<Vec<StoredMessage>, String> {
    let batch: Batch = serde_json::from_slice(body).map_err(|e| format!("bad batch: {e}"))?;
    batch.messages.iter().map(PeerMessage::to_stored).collect()
}

/// Body of `/snode/v1/replicate` and `/snode/v1/push`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Batch {
    pub messages: Vec<PeerMessage>,
}

/// One stored message in a replicate reply (same order as the request).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Stored {
    pub hash: String,
    pub expiry: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub already: bool,
    /// base64 Ed25519 signature of the storing node over the hash.
    pub signature: String,
}

/// Reply of `/snode/v1/replicate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReplicateReply {
    pub results: Vec<Stored>,
}

/// Reply of `/snode/v1/push`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PushReply {
    pub stored: usize,
    pub already: usize,
}

/// Reply of `/snode/v1/health`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    /// The node's Ed25519 key, hex.
    pub pubkey_ed25519: String,
    /// This node's swarm in its current view (16 hex), or null when it is in none.
    pub swarm_id: Option<String>,
    /// BLAKE2b of the node list this node currently sees (equal on nodes that agree).
    pub view_digest: String,
    /// How many nodes its registry view holds.
    pub registered_nodes: usize,
    /// How many messages its store holds.
    pub messages: u64,
    /// The proof-of-work difficulty it requires.
    pub pow_difficulty: u64,
    /// Records this node still has to hand on to other swarms.
    pub pending_handoff: usize,
    /// The view digest the handoff last reconciled against: equal to `view_digest` once the
    /// node has acted on its current view (empty from older nodes).
    #[serde(default)]
    pub handoff_view_digest: String,
    /// Synchronous routing's subscriptions held in memory (docs/sync.md; 0 from older nodes).
    #[serde(default)]
    pub sync_subscriptions: usize,
}
