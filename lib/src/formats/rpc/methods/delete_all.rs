//! `delete_all`: remove every message of a mailbox, in one namespace or in all of them. Its
//! params (signed by the owner over `"delete_all" ‖ nsS ‖ timestamp`), the client's request
//! builder, and each member's reply with the node's signature over what it deleted (shared with
//! `delete_before`, whose reply has the same shape).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::formats::identity::Identity;
use crate::formats::keys::{Ed25519Pk, Pubkey};
use crate::formats::rpc::RpcError;
use crate::formats::rpc::fields::{
    Params, namespace_or_all, opt_ed25519, pubkey_field, req_signature, req_timestamp, within,
};
use crate::formats::rpc::sig::{NamespaceSel, verify_request};
use crate::formats::rpc::subaccount::{Access, Subaccount, opt_subaccount};

// ---- params (node) -----------------------------------------------------------------------

/// `delete_all` params.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteAllParams {
    /// The mailbox.
    pub pubkey: Pubkey,
    /// One namespace (default 0) or `"all"`.
    pub namespace: NamespaceSel,
    /// The request time (ms), which the owner signs.
    pub timestamp: u64,
    /// The owner's signature over [`delete_all_sig_message`].
    pub signature: [u8; 64],
    /// The owner's Ed25519 key (05 accounts).
    pub pubkey_ed25519: Option<Ed25519Pk>,
    /// The subaccount the request is signed by, if any (its token and the owner's note).
    pub subaccount: Option<Subaccount>,
}

impl DeleteAllParams {
    /// Reads the params (400 on a missing or malformed field).
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let pubkey = pubkey_field(p, false)?;
        Ok(Self {
            namespace: namespace_or_all(p)?,
            timestamp: req_timestamp(p, "timestamp")?,
            pubkey_ed25519: opt_ed25519(p, &pubkey)?,
            signature: req_signature(p)?,
            subaccount: opt_subaccount(p)?,
            pubkey,
        })
    }

    /// The timestamp within `tolerance_ms` of `now_ms` (406; the live window is ±60 s, ±70 s
    /// for a request forwarded by a swarm peer), then the signature (401).
    pub fn validate(&self, now_ms: u64, tolerance_ms: u64) -> Result<(), RpcError> {
        if !within(now_ms, self.timestamp, tolerance_ms) {
            return Err(RpcError::clock("delete_all timestamp too far from current time"));
        }
        let msg = delete_all_sig_message(self.namespace, self.timestamp);
        if !verify_request(
            &self.pubkey,
            self.pubkey_ed25519.as_ref(),
            self.subaccount.as_ref(),
            Access::DELETE,
            &self.signature,
            &msg,
        ) {
            return Err(RpcError::unauthorized("delete_all signature verification failed"));
        }
        Ok(())
    }
}

// ---- signed string -----------------------------------------------------------------------

/// `"delete_all" ‖ nsS ‖ dec(timestamp)` (nsS: "" for 0, "all", or dec(ns)).
pub fn delete_all_sig_message(namespace: NamespaceSel, timestamp: u64) -> Vec<u8> {
    format!("delete_all{}{timestamp}", namespace.sig_part()).into_bytes()
}

// ---- request (client) --------------------------------------------------------------------

/// Signed `delete_all` params for `id`'s mailbox at `timestamp` (ms).
pub fn delete_all_params(id: &Identity, namespace: NamespaceSel, timestamp: u64) -> Value {
    let sig = id.sign(&delete_all_sig_message(namespace, timestamp));
    json!({
        "pubkey": id.session_id().to_string(),
        "namespace": namespace_json(namespace),
        "timestamp": timestamp,
        "signature": STANDARD.encode(sig),
        "pubkey_ed25519": hex::encode(id.ed25519_public()),
    })
}

/// A namespace selection as the request sends it: the number, or `"all"`.
pub fn namespace_json(namespace: NamespaceSel) -> Value {
    match namespace {
        NamespaceSel::One(n) => json!(n),
        NamespaceSel::All => json!("all"),
    }
}

// ---- reply (node) ------------------------------------------------------------------------

/// What a node signs in its delete_all / delete_before reply:
/// `PUBKEY_HEX ‖ dec(ts) ‖ sorted deleted…` (all namespaces' hashes sorted together).
pub fn delete_all_signature_message(pubkey: &Pubkey, ts: u64, deleted: &[(i16, String)]) -> Vec<u8> {
    let mut hashes: Vec<&str> = deleted.iter().map(|(_, h)| h.as_str()).collect();
    hashes.sort_unstable();
    let mut m = format!("{}{ts}", pubkey.to_hex()).into_bytes();
    for h in hashes {
        m.extend_from_slice(h.as_bytes());
    }
    m
}

/// The `deleted` (or `updated`) field: a sorted list for one namespace, or for `"all"` an
/// object `{dec(ns): [sorted hashes]}`.
pub fn hashes_by_namespace(namespace: NamespaceSel, hashes: &[(i16, String)]) -> Value {
    match namespace {
        NamespaceSel::One(_) => {
            let mut v: Vec<&str> = hashes.iter().map(|(_, h)| h.as_str()).collect();
            v.sort_unstable();
            json!(v)
        }
        NamespaceSel::All => {
            let mut by_ns: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for (ns, h) in hashes {
                by_ns.entry(ns.to_string()).or_default().push(h);
            }
            for v in by_ns.values_mut() {
                v.sort_unstable();
            }
            json!(by_ns)
        }
    }
}

/// One member's successful delete_all / delete_before: `{"deleted", "signature"}`, where `ts`
/// is the request's `timestamp` (delete_all) or `before` (delete_before).
pub fn delete_all_member_ok(
    sign: impl Fn(&[u8]) -> [u8; 64],
    pubkey: &Pubkey,
    namespace: NamespaceSel,
    ts: u64,
    deleted: &[(i16, String)],
) -> Value {
    let sig = sign(&delete_all_signature_message(pubkey, ts, deleted));
    json!({ "deleted": hashes_by_namespace(namespace, deleted), "signature": STANDARD.encode(sig) })
}
