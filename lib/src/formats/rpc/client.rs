//! The client side of the storage RPC: request params (signed where the network wants it) and
//! reply parsers. Used by `send`, `retrieve` and the node's tests. The `get_swarm` reply (also a
//! 421's body) has one parser, [`crate::formats::nodelist::parse_get_swarm_reply`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Value, json};

use super::sig::{delete_sig_message, retrieve_sig_message, store_sig_message};
use crate::formats::envelope::Envelope;
use crate::formats::identity::Identity;
use crate::formats::keys::Pubkey;

/// Why a reply could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("reply is not a JSON object")]
    NotObject,
    #[error("reply has no '{0}' field")]
    Missing(&'static str),
    #[error("reply field '{0}' has the wrong type")]
    WrongType(&'static str),
    #[error("reply message data is not base64")]
    BadData,
    #[error("reply swarm id '{0}' is not hex")]
    BadSwarmId(String),
    #[error("reply snode key '{0}' is not 64 hex characters")]
    BadKey(String),
}

/// The body of a storage RPC request: `{"method": ..., "params": ...}`.
pub fn request(method: &str, params: Value) -> Value {
    json!({ "method": method, "params": params })
}

/// `store` params from an envelope, for a public inbox (namespace divisible by 10, e.g. 0): no
/// signature. The envelope's strings go out exactly as they are, so that the node recomputes
/// the same proof of work.
pub fn store_params(env: &Envelope, namespace: i16) -> Value {
    let mut p = json!({
        "pubkey": env.pubkey,
        "timestamp": env.timestamp,
        "ttl": env.ttl,
        "data": env.data,
    });
    if namespace != 0 {
        p["namespace"] = json!(namespace);
    }
    if let Some(n) = &env.nonce {
        p["nonce"] = json!(n);
    }
    p
}

/// `store` params signed by the owner of the mailbox (namespaces not divisible by 10 need
/// this): signature over `"store" ‖ dec(ns) ‖ dec(timestamp)`, with `pubkey_ed25519`.
pub fn signed_store_params(id: &Identity, env: &Envelope, namespace: i16) -> Value {
    let mut p = store_params(env, namespace);
    let sig = id.sign(&store_sig_message(namespace, env.timestamp));
    p["signature"] = json!(STANDARD.encode(sig));
    p["pubkey_ed25519"] = json!(hex::encode(id.ed25519_public()));
    p
}

/// Signed `retrieve` params for the identity's own mailbox: signature over
/// `"retrieve" ‖ dec(ns) ‖ dec(now_ms)` (ns part empty for 0), `pubkey_ed25519` always given.
pub fn retrieve_params(id: &Identity, namespace: i16, last_hash: Option<&str>, now_ms: u64) -> Value {
    let sig = id.sign(&retrieve_sig_message(namespace, now_ms));
    let mut p = json!({
        "pubkey": id.session_id().to_string(),
        "namespace": namespace,
        "timestamp": now_ms,
        "signature": STANDARD.encode(sig),
        "pubkey_ed25519": hex::encode(id.ed25519_public()),
    });
    if let Some(h) = last_hash.filter(|h| !h.is_empty()) {
        p["last_hash"] = json!(h);
    }
    p
}

/// Signed `delete` params: signature over `"delete" ‖ hash…`.
pub fn delete_params(id: &Identity, hashes: &[String], required: bool) -> Value {
    let sig = id.sign(&delete_sig_message(hashes));
    let mut p = json!({
        "pubkey": id.session_id().to_string(),
        "messages": hashes,
        "signature": STANDARD.encode(sig),
        "pubkey_ed25519": hex::encode(id.ed25519_public()),
    });
    if required {
        p["required"] = json!(true);
    }
    p
}

/// `get_swarm` params.
pub fn get_swarm_params(pubkey: &Pubkey) -> Value {
    json!({ "pubkey": pubkey.to_hex() })
}

fn obj(v: &Value) -> Result<&serde_json::Map<String, Value>, ReplyError> {
    v.as_object().ok_or(ReplyError::NotObject)
}

fn u64_field(m: &serde_json::Map<String, Value>, name: &'static str) -> Result<u64, ReplyError> {
    m.get(name).ok_or(ReplyError::Missing(name))?.as_u64().ok_or(ReplyError::WrongType(name))
}

fn str_field<'a>(m: &'a serde_json::Map<String, Value>, name: &'static str) -> Result<&'a str, ReplyError> {
    m.get(name).ok_or(ReplyError::Missing(name))?.as_str().ok_or(ReplyError::WrongType(name))
}

/// A message from a retrieve reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrievedMessage {
    pub hash: String,
    pub timestamp_ms: u64,
    pub expiry_ms: u64,
    pub data: Vec<u8>,
}

/// A parsed retrieve reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveReply {
    pub messages: Vec<RetrievedMessage>,
    pub more: bool,
    /// The node's clock (`t`), if it sent one.
    pub t: Option<u64>,
}

/// Parses `{"messages": [{"hash","timestamp","expiration","data"}], "more"}`.
pub fn parse_retrieve_reply(v: &Value) -> Result<RetrieveReply, ReplyError> {
    let m = obj(v)?;
    let list = m.get("messages").ok_or(ReplyError::Missing("messages"))?;
    let list = list.as_array().ok_or(ReplyError::WrongType("messages"))?;
    let mut messages = Vec::with_capacity(list.len());
    for item in list {
        let o = obj(item)?;
        let data = STANDARD.decode(str_field(o, "data")?).map_err(|_| ReplyError::BadData)?;
        messages.push(RetrievedMessage {
            hash: str_field(o, "hash")?.to_owned(),
            timestamp_ms: u64_field(o, "timestamp")?,
            expiry_ms: u64_field(o, "expiration")?,
            data,
        });
    }
    let more = match m.get("more") {
        None => false,
        Some(b) => b.as_bool().ok_or(ReplyError::WrongType("more"))?,
    };
    Ok(RetrieveReply { messages, more, t: m.get("t").and_then(Value::as_u64) })
}

/// One swarm member's answer to a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberStore {
    Stored {
        hash: String,
        /// base64 of the member's Ed25519 signature over `hash`.
        signature: String,
        expiry_ms: u64,
        already: bool,
    },
    Failed {
        /// What the member reported: "timeout", "code 406: …", "bad_peer_response", …
        reason: String,
    },
}

/// A parsed store reply: each member's result, keyed by its Ed25519 key (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreReply {
    /// The top-level `hash` (compat field), if present.
    pub hash: Option<String>,
    pub members: Vec<(String, MemberStore)>,
    pub t: Option<u64>,
}

impl StoreReply {
    /// Members that stored the message.
    pub fn stored(&self) -> usize {
        self.members.iter().filter(|(_, r)| matches!(r, MemberStore::Stored { .. })).count()
    }
}

impl MemberStore {
    /// Checks a stored member's signature over the hash with its Ed25519 key (hex).
    pub fn verify(&self, member_ed25519_hex: &str) -> bool {
        let MemberStore::Stored { hash, signature, .. } = self else { return false };
        let Ok(Ok(key)) = hex::decode(member_ed25519_hex).map(<[u8; 32]>::try_from) else { return false };
        let Ok(vk) = VerifyingKey::from_bytes(&key) else { return false };
        let Ok(Ok(sig)) = STANDARD.decode(signature).map(<[u8; 64]>::try_from) else { return false };
        vk.verify_strict(hash.as_bytes(), &Signature::from_bytes(&sig)).is_ok()
    }
}

fn failure_reason(o: &serde_json::Map<String, Value>) -> String {
    if o.get("timeout").is_some() {
        "timeout".into()
    } else if let Some(code) = o.get("code") {
        let reason = o.get("reason").and_then(Value::as_str).unwrap_or("");
        format!("code {code}: {reason}")
    } else if o.get("bad_peer_response").is_some() {
        "bad_peer_response".into()
    } else if o.get("query_failure").is_some() {
        "query_failure".into()
    } else if let Some(r) = o.get("reason").and_then(Value::as_str) {
        r.to_owned()
    } else {
        "failed".into()
    }
}

/// Parses `{"swarm": {ed25519_hex: {...}}, "hash", "t"}` (a store reply's body, 200 or 500).
pub fn parse_store_reply(v: &Value) -> Result<StoreReply, ReplyError> {
    let m = obj(v)?;
    let swarm = m.get("swarm").ok_or(ReplyError::Missing("swarm"))?;
    let swarm = swarm.as_object().ok_or(ReplyError::WrongType("swarm"))?;
    let mut members = Vec::with_capacity(swarm.len());
    for (key, r) in swarm {
        let o = obj(r)?;
        let result = if o.get("failed").and_then(Value::as_bool) == Some(true) {
            MemberStore::Failed { reason: failure_reason(o) }
        } else {
            MemberStore::Stored {
                hash: str_field(o, "hash")?.to_owned(),
                signature: str_field(o, "signature")?.to_owned(),
                expiry_ms: u64_field(o, "expiry")?,
                already: o.get("already").and_then(Value::as_bool).unwrap_or(false),
            }
        };
        members.push((key.clone(), result));
    }
    Ok(StoreReply {
        hash: m.get("hash").and_then(Value::as_str).map(str::to_owned),
        members,
        t: m.get("t").and_then(Value::as_u64),
    })
}
