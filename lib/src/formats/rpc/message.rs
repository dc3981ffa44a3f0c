//! One stored message as the storage RPC hands it to a node's store and gets it back, and the
//! namespace rules: which namespaces anyone may write or read, and which keep one message.

use crate::formats::keys::Pubkey;

/// One stored message, as the RPC layer hands it to the store and gets it back.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The account it is stored for.
    pub pubkey: Pubkey,
    /// Its namespace.
    pub namespace: i16,
    /// The message hash (`rpc::message_hash`): 43 base64 characters.
    pub hash: String,
    /// The sender's timestamp, ms since the epoch.
    pub timestamp_ms: u64,
    /// When it expires, ms since the epoch.
    pub expiry_ms: u64,
    /// The message's bytes.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for StoredMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredMessage")
            .field("pubkey", &self.pubkey)
            .field("namespace", &self.namespace)
            .field("hash", &self.hash)
            .field("timestamp_ms", &self.timestamp_ms)
            .field("expiry_ms", &self.expiry_ms)
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// `-(20n+1)`: a public outbox, which holds one message.
pub fn is_public_outbox(namespace: i16) -> bool {
    namespace < 0 && (-(namespace as i32)) % 20 == 1
}
/// `-(100n+11)` (-11, -111, …): retrieves here skip the subaccount revocation check (live
/// `is_unrevocable_namespace`), so that a revoked member can still read what it needs to learn
/// of its removal.
pub fn is_unrevocable_namespace(namespace: i16) -> bool {
    namespace < 0 && (-(namespace as i32)) % 100 == 11
}

/// Namespaces divisible by 10 are public inboxes: anyone may store without a signature.
pub fn is_public_inbox(namespace: i16) -> bool {
    namespace % 10 == 0
}

/// Namespaces readable without a signature: -10 (legacy closed groups) and public outboxes.
pub fn is_noauth_retrieve_namespace(namespace: i16) -> bool {
    namespace == -10 || is_public_outbox(namespace)
}
