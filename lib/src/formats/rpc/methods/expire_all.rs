//! `expire_all`: shorten the expiry of every message of a mailbox (one namespace or all) to
//! `expiry`. Its params (signed over `"expire_all" ‖ nsS ‖ expiry`), the client's request
//! builder, and each member's reply with the node's signature over what it updated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::delete_all::{delete_all_signature_message, hashes_by_namespace, namespace_json};
use crate::formats::identity::Identity;
use crate::formats::keys::{Ed25519Pk, Pubkey};
use crate::formats::rpc::RpcError;
use crate::formats::rpc::fields::{
    Params, namespace_or_all, opt_ed25519, pubkey_field, req_signature, req_timestamp,
};
use crate::formats::rpc::sig::{NamespaceSel, verify_request};
use crate::formats::rpc::subaccount::{Access, Subaccount, opt_subaccount};

/// `expire_all` params.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpireAllParams {
    /// The mailbox.
    pub pubkey: Pubkey,
    /// One namespace (default 0) or `"all"`.
    pub namespace: NamespaceSel,
    /// The new expiry (ms): later ones are shortened to it, earlier ones untouched.
    pub expiry: u64,
    /// The owner's signature over [`expire_all_sig_message`].
    pub signature: [u8; 64],
    /// The owner's Ed25519 key (05 accounts).
    pub pubkey_ed25519: Option<Ed25519Pk>,
    /// The subaccount the request is signed by, if any (its token and the owner's note).
    pub subaccount: Option<Subaccount>,
}

impl ExpireAllParams {
    /// Reads the params (400 on a missing or malformed field).
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let pubkey = pubkey_field(p, false)?;
        Ok(Self {
            expiry: req_timestamp(p, "expiry")?,
            namespace: namespace_or_all(p)?,
            pubkey_ed25519: opt_ed25519(p, &pubkey)?,
            signature: req_signature(p)?,
            subaccount: opt_subaccount(p)?,
            pubkey,
        })
    }

    /// `expiry` at least `now - tolerance_ms` (406; ±60 s, ±70 s forwarded), then the
    /// signature (401). There is no upper bound: expire_all only shortens.
    pub fn validate(&self, now_ms: u64, tolerance_ms: u64) -> Result<(), RpcError> {
        if self.expiry < now_ms.saturating_sub(tolerance_ms) {
            return Err(RpcError::clock("expire_all timestamp should be >= current time"));
        }
        let msg = expire_all_sig_message(self.namespace, self.expiry);
        if !verify_request(
            &self.pubkey,
            self.pubkey_ed25519.as_ref(),
            self.subaccount.as_ref(),
            Access::DELETE,
            &self.signature,
            &msg,
        ) {
            return Err(RpcError::unauthorized("expire_all signature verification failed"));
        }
        Ok(())
    }
}

/// `"expire_all" ‖ nsS ‖ dec(expiry)`.
pub fn expire_all_sig_message(namespace: NamespaceSel, expiry: u64) -> Vec<u8> {
    format!("expire_all{}{expiry}", namespace.sig_part()).into_bytes()
}

/// Signed `expire_all` params for `id`'s mailbox.
pub fn expire_all_params(id: &Identity, namespace: NamespaceSel, expiry: u64) -> Value {
    let sig = id.sign(&expire_all_sig_message(namespace, expiry));
    json!({
        "pubkey": id.session_id().to_string(),
        "namespace": namespace_json(namespace),
        "expiry": expiry,
        "signature": STANDARD.encode(sig),
        "pubkey_ed25519": hex::encode(id.ed25519_public()),
    })
}

/// One member's successful expire_all: `{"updated", "signature"}`, signed over
/// `PUBKEY_HEX ‖ dec(expiry) ‖ sorted updated…` (the request's expiry is not echoed).
pub fn expire_all_member_ok(
    sign: impl Fn(&[u8]) -> [u8; 64],
    pubkey: &Pubkey,
    namespace: NamespaceSel,
    expiry: u64,
    updated: &[(i16, String)],
) -> Value {
    let sig = sign(&delete_all_signature_message(pubkey, expiry, updated));
    json!({ "updated": hashes_by_namespace(namespace, updated), "signature": STANDARD.encode(sig) })
}
