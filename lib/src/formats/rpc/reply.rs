//! What every reply of the node shares: `t`/`hf`, the versions it reports, and the swarm-wide
//! reply of the methods a whole swarm answers (store, delete) with each member's result.
//! Each method's own reply is in its file under `methods/`.

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Map, Value, json};

use super::status;

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

/// Why a swarm member's part of a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreMemberFailure {
    /// The member did not answer in time.
    Timeout,
    /// The member answered with an error status and reason.
    Code {
        /// The HTTP status.
        code: u16,
        /// The member's reason.
        reason: String,
    },
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

/// The signer closure for an Ed25519 `SigningKey`.
pub fn signer(key: &SigningKey) -> impl Fn(&[u8]) -> [u8; 64] + '_ {
    move |m| key.sign(m).to_bytes()
}
