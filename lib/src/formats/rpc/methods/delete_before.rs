//! `delete_before`: remove a mailbox's messages whose timestamp is at most `before`, in one
//! namespace or in all. Its params (signed over `"delete_before" ‖ nsS ‖ before`) and the
//! client's request builder; the member reply is delete_all's.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::delete_all::namespace_json;
use crate::formats::identity::Identity;
use crate::formats::keys::{Ed25519Pk, Pubkey};
use crate::formats::limits::SIGNATURE_CLOCK_TOLERANCE_MS;
use crate::formats::rpc::RpcError;
use crate::formats::rpc::fields::{
    Params, namespace_or_all, opt_ed25519, pubkey_field, req_signature, req_timestamp,
};
use crate::formats::rpc::sig::{NamespaceSel, verify_request};
use crate::formats::rpc::subaccount::{Access, Subaccount, opt_subaccount};

// ---- params (node) -----------------------------------------------------------------------

/// `delete_before` params.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteBeforeParams {
    /// The mailbox.
    pub pubkey: Pubkey,
    /// One namespace (default 0) or `"all"`.
    pub namespace: NamespaceSel,
    /// Messages with a timestamp at most this (ms) are deleted.
    pub before: u64,
    /// The owner's signature over [`delete_before_sig_message`].
    pub signature: [u8; 64],
    /// The owner's Ed25519 key (05 accounts).
    pub pubkey_ed25519: Option<Ed25519Pk>,
    /// The subaccount the request is signed by, if any (its token and the owner's note).
    pub subaccount: Option<Subaccount>,
}

impl DeleteBeforeParams {
    /// Reads the params (400 on a missing or malformed field).
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let pubkey = pubkey_field(p, false)?;
        Ok(Self {
            before: req_timestamp(p, "before")?,
            namespace: namespace_or_all(p)?,
            pubkey_ed25519: opt_ed25519(p, &pubkey)?,
            signature: req_signature(p)?,
            subaccount: opt_subaccount(p)?,
            pubkey,
        })
    }

    /// `before` at most 60 s in the future (the live server answers 401 here, and has no lower
    /// bound), then the signature (401).
    pub fn validate(&self, now_ms: u64) -> Result<(), RpcError> {
        if self.before > now_ms.saturating_add(SIGNATURE_CLOCK_TOLERANCE_MS) {
            return Err(RpcError::unauthorized("delete_before timestamp too far in the future"));
        }
        let msg = delete_before_sig_message(self.namespace, self.before);
        if !verify_request(
            &self.pubkey,
            self.pubkey_ed25519.as_ref(),
            self.subaccount.as_ref(),
            Access::DELETE,
            &self.signature,
            &msg,
        ) {
            return Err(RpcError::unauthorized("delete_before signature verification failed"));
        }
        Ok(())
    }
}

// ---- signed string -----------------------------------------------------------------------

/// `"delete_before" ‖ nsS ‖ dec(before)`.
pub fn delete_before_sig_message(namespace: NamespaceSel, before: u64) -> Vec<u8> {
    format!("delete_before{}{before}", namespace.sig_part()).into_bytes()
}

// ---- request (client) --------------------------------------------------------------------

/// Signed `delete_before` params for `id`'s mailbox.
pub fn delete_before_params(id: &Identity, namespace: NamespaceSel, before: u64) -> Value {
    let sig = id.sign(&delete_before_sig_message(namespace, before));
    json!({
        "pubkey": id.session_id().to_string(),
        "namespace": namespace_json(namespace),
        "before": before,
        "signature": STANDARD.encode(sig),
        "pubkey_ed25519": hex::encode(id.ed25519_public()),
    })
}
