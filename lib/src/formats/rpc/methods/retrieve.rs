//! `retrieve`: read a mailbox. Its params and limits (a signature is needed except for the
//! namespaces anyone may read), the string the owner signs, the client's request builder, the
//! node's reply and the client's parser of it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::formats::identity::Identity;
use crate::formats::keys::{Ed25519Pk, Pubkey};
use crate::formats::limits::{
    RETRIEVE_DEFAULT_SIZE_DIVISOR, RETRIEVE_MAX_COUNT, RETRIEVE_MAX_SIZE, SIGNATURE_CLOCK_TOLERANCE_MS,
};
use crate::formats::rpc::RpcError;
use crate::formats::rpc::client::{ReplyError, obj, str_field, u64_field};
use crate::formats::rpc::fields::{
    Params, get, is_hash, missing, opt_ed25519, opt_i64, opt_namespace, opt_signature, opt_str,
    opt_timestamp, pubkey_field, within,
};
use crate::formats::rpc::message::{StoredMessage, is_noauth_retrieve_namespace};
use crate::formats::rpc::reply::with_t_hf;
use crate::formats::rpc::sig::{namespace_part, verify_request};
use crate::formats::rpc::subaccount::{Access, Subaccount, opt_subaccount};

// ---- params (node) -----------------------------------------------------------------------

/// `retrieve` params.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrieveParams {
    /// The account whose messages are asked for.
    pub pubkey: Pubkey,
    /// The namespace to read.
    pub namespace: i16,
    /// `last_hash` / `lastHash`; "" is absent.
    pub last_hash: Option<String>,
    /// `max_count`: the most messages wanted (clamped by the node).
    pub max_count: Option<i64>,
    /// `max_size`: the most bytes of messages wanted (negative: a fraction of the node's limit).
    pub max_size: Option<i64>,
    /// `timestamp` of the signature, in ms.
    pub timestamp_ms: Option<u64>,
    /// The signature over the retrieve, by the account's key.
    pub signature: Option<[u8; 64]>,
    /// For a 03-prefixed account: the Ed25519 key that signed.
    pub pubkey_ed25519: Option<Ed25519Pk>,
    /// The subaccount the request is signed by, if any (its token and the owner's note).
    pub subaccount: Option<Subaccount>,
}

/// A validated retrieve, with the live limits resolved: what to ask the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveQuery {
    /// The account to read.
    pub pubkey: Pubkey,
    /// The namespace to read.
    pub namespace: i16,
    /// Messages after this hash only; `None` reads from the oldest.
    pub last_hash: Option<String>,
    /// The most messages to return.
    pub max_count: usize,
    /// The most bytes of message data to return.
    pub max_size: u64,
}

/// The live limit rules: 0 counts as unset; neither set → 1/5 of the maximum size; a negative
/// size -n → maximum / n; larger than the maximum → the maximum. (A negative `max_count` is
/// unset too.) Returns (max_count, max_size) in the store's terms.
pub fn resolve_retrieve_limits(max_count: Option<i64>, max_size: Option<i64>) -> (usize, u64) {
    let count = max_count.filter(|&c| c > 0);
    let mut size = max_size.filter(|&s| s != 0);
    if count.is_none() && size.is_none() {
        size = Some(-(RETRIEVE_DEFAULT_SIZE_DIVISOR as i64));
    }
    let size = match size {
        Some(s) if s < 0 => RETRIEVE_MAX_SIZE / s.unsigned_abs(),
        Some(s) => (s as u64).min(RETRIEVE_MAX_SIZE),
        None => RETRIEVE_MAX_SIZE,
    };
    let count = count.map(|c| usize::try_from(c).unwrap_or(usize::MAX).min(RETRIEVE_MAX_COUNT));
    (count.unwrap_or(RETRIEVE_MAX_COUNT), size)
}

impl RetrieveParams {
    /// Parses the params of a `retrieve` (types only; `validate` checks the rules).
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let pubkey = pubkey_field(p, true)?;
        let namespace = opt_namespace(p)?.unwrap_or(0);
        let a = opt_str(p, "last_hash")?;
        let b = opt_str(p, "lastHash")?;
        let last = match (a, b) {
            (Some(_), Some(_)) => {
                return Err(RpcError::invalid_request("Cannot specify both 'last_hash' and 'lastHash'"));
            }
            (x, y) => x.or(y).filter(|h| !h.is_empty()),
        };
        if let Some(h) = last
            && !is_hash(h)
        {
            return Err(RpcError::invalid_request("Invalid last_hash: expected base64 (43 chars)"));
        }
        Ok(Self {
            pubkey,
            namespace,
            last_hash: last.map(str::to_owned),
            max_count: opt_i64(p, "max_count")?,
            max_size: opt_i64(p, "max_size")?,
            timestamp_ms: opt_timestamp(p, "timestamp", false)?,
            signature: opt_signature(p)?,
            pubkey_ed25519: opt_ed25519(p, &pubkey)?,
            // As live: the subaccount fields are only read on a signed retrieve.
            subaccount: if get(p, "signature").is_some() { opt_subaccount(p)? } else { None },
        })
    }

    /// A signature is required except in -10 and public outboxes (401 when missing); a given
    /// signature is always checked: timestamp within ±60 s (406), then the signature (401).
    pub fn validate(&self, now_ms: u64) -> Result<RetrieveQuery, RpcError> {
        match &self.signature {
            None if !is_noauth_retrieve_namespace(self.namespace) => {
                return Err(RpcError::unauthorized("retrieve: request signature required"));
            }
            None => {}
            Some(sig) => {
                let ts = self.timestamp_ms.ok_or_else(|| missing("timestamp"))?;
                if !within(now_ms, ts, SIGNATURE_CLOCK_TOLERANCE_MS) {
                    return Err(RpcError::clock("retrieve timestamp too far from current time"));
                }
                let msg = retrieve_sig_message(self.namespace, ts);
                if !verify_request(
                    &self.pubkey,
                    self.pubkey_ed25519.as_ref(),
                    self.subaccount.as_ref(),
                    Access::READ,
                    sig,
                    &msg,
                ) {
                    return Err(RpcError::unauthorized("retrieve signature verification failed"));
                }
            }
        }
        let (max_count, max_size) = resolve_retrieve_limits(self.max_count, self.max_size);
        Ok(RetrieveQuery {
            pubkey: self.pubkey,
            namespace: self.namespace,
            last_hash: self.last_hash.clone(),
            max_count,
            max_size,
        })
    }
}

// ---- signed string -----------------------------------------------------------------------

/// `"retrieve" ‖ dec(ns) ‖ dec(timestamp)` (ns part empty for 0).
pub fn retrieve_sig_message(namespace: i16, timestamp_ms: u64) -> Vec<u8> {
    format!("retrieve{}{}", namespace_part(namespace), timestamp_ms).into_bytes()
}

// ---- request (client) --------------------------------------------------------------------

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

// ---- reply (node) ------------------------------------------------------------------------

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

// ---- reply (client) ----------------------------------------------------------------------

/// A message from a retrieve reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrievedMessage {
    /// The message's hash.
    pub hash: String,
    /// When it was stored, as the sender stated (ms since the epoch).
    pub timestamp_ms: u64,
    /// When the node will drop it (ms since the epoch).
    pub expiry_ms: u64,
    /// The message's data, decoded from base64.
    pub data: Vec<u8>,
}

/// A parsed retrieve reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveReply {
    /// The messages, oldest first.
    pub messages: Vec<RetrievedMessage>,
    /// `true` when the node has more messages than it returned.
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
