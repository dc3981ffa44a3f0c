//! `get_expiries`: the current expiry of some of a mailbox's messages. Its params (signed over
//! `"get_expiries" ‖ timestamp ‖ hash…`), the client's request builder and the node's reply
//! (not swarm-wide, no `t`/`hf`).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::formats::identity::Identity;
use crate::formats::keys::{Ed25519Pk, Pubkey};
use crate::formats::limits::{DELETE_MAX_HASHES, SIGNATURE_CLOCK_TOLERANCE_MS};
use crate::formats::rpc::RpcError;
use crate::formats::rpc::fields::{
    Params, opt_ed25519, pubkey_field, req_signature, req_timestamp, string_list, within,
};
use crate::formats::rpc::sig::verify_request;
use crate::formats::rpc::subaccount::{Access, Subaccount, opt_subaccount};

/// `get_expiries` params.
#[derive(Debug, Clone, PartialEq)]
pub struct GetExpiriesParams {
    /// The mailbox.
    pub pubkey: Pubkey,
    /// The hashes asked about (not checked as hashes: the live server only looks them up).
    pub messages: Vec<String>,
    /// The request time (ms).
    pub timestamp: u64,
    /// The owner's signature over [`get_expiries_sig_message`].
    pub signature: [u8; 64],
    /// The owner's Ed25519 key (05 accounts).
    pub pubkey_ed25519: Option<Ed25519Pk>,
    /// The subaccount the request is signed by, if any (its token and the owner's note).
    pub subaccount: Option<Subaccount>,
}

impl GetExpiriesParams {
    /// Reads the params (400 on a missing or malformed field).
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let pubkey = pubkey_field(p, false)?;
        let messages = string_list(p, "messages", DELETE_MAX_HASHES)?;
        if messages.is_empty() {
            return Err(RpcError::invalid_request("messages does not contain any message hashes"));
        }
        Ok(Self {
            messages,
            timestamp: req_timestamp(p, "timestamp")?,
            pubkey_ed25519: opt_ed25519(p, &pubkey)?,
            signature: req_signature(p)?,
            subaccount: opt_subaccount(p)?,
            pubkey,
        })
    }

    /// The timestamp within ±60 s (406), then the signature (401).
    pub fn validate(&self, now_ms: u64) -> Result<(), RpcError> {
        if !within(now_ms, self.timestamp, SIGNATURE_CLOCK_TOLERANCE_MS) {
            return Err(RpcError::clock("get_expiries timestamp too far from current time"));
        }
        let msg = get_expiries_sig_message(self.timestamp, &self.messages);
        if !verify_request(
            &self.pubkey,
            self.pubkey_ed25519.as_ref(),
            self.subaccount.as_ref(),
            Access::READ,
            &self.signature,
            &msg,
        ) {
            return Err(RpcError::unauthorized("get_expiries signature verification failed"));
        }
        Ok(())
    }
}

/// `"get_expiries" ‖ dec(timestamp) ‖ hash…` (request order).
pub fn get_expiries_sig_message(timestamp: u64, hashes: &[String]) -> Vec<u8> {
    let mut m = format!("get_expiries{timestamp}").into_bytes();
    for h in hashes {
        m.extend_from_slice(h.as_bytes());
    }
    m
}

/// Signed `get_expiries` params for `id`'s mailbox at `timestamp`.
pub fn get_expiries_params(id: &Identity, hashes: &[String], timestamp: u64) -> Value {
    let sig = id.sign(&get_expiries_sig_message(timestamp, hashes));
    json!({
        "pubkey": id.session_id().to_string(),
        "messages": hashes,
        "timestamp": timestamp,
        "signature": STANDARD.encode(sig),
        "pubkey_ed25519": hex::encode(id.ed25519_public()),
    })
}

/// The reply: `{"expiries": {hash: ms}}` for the hashes found, and nothing else (the live
/// server adds no `t`/`hf` here).
pub fn get_expiries_reply(found: &[(String, u64)]) -> Value {
    let m: BTreeMap<&str, u64> = found.iter().map(|(h, e)| (h.as_str(), *e)).collect();
    json!({ "expiries": m })
}
