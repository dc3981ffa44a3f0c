//! `delete`: remove messages from a mailbox by hash. Its params (always signed by the owner),
//! the string the owner signs, the client's request builder, and each member's reply with the
//! node's signature over what it deleted.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::formats::identity::Identity;
use crate::formats::keys::{Ed25519Pk, Pubkey};
use crate::formats::limits::DELETE_MAX_HASHES;
use crate::formats::rpc::RpcError;
use crate::formats::rpc::fields::{
    Params, bad_value, get, is_hash, missing, opt_bool, opt_ed25519, opt_signature, pubkey_field,
};
use crate::formats::rpc::sig::verify_request;
use crate::formats::rpc::subaccount::{Access, Subaccount, opt_subaccount};

// ---- params (node) -----------------------------------------------------------------------

/// `delete` params.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteParams {
    /// The account whose messages are deleted.
    pub pubkey: Pubkey,
    /// The hashes of the messages to delete.
    pub messages: Vec<String>,
    /// The signature over the delete, by the account's key.
    pub signature: Option<[u8; 64]>,
    /// For a 03-prefixed account: the Ed25519 key that signed.
    pub pubkey_ed25519: Option<Ed25519Pk>,
    /// `required: true` → 404 when nothing was deleted.
    pub required: bool,
    /// The subaccount the request is signed by, if any (its token and the owner's note).
    pub subaccount: Option<Subaccount>,
}

impl DeleteParams {
    /// Parses the params of a `delete` (types only; `validate` checks the rules).
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let pubkey = pubkey_field(p, false)?;
        let messages = match get(p, "messages") {
            None => return Err(missing("messages")),
            Some(Value::Array(a)) => a,
            Some(_) => return Err(bad_value("messages", "string array")),
        };
        if messages.is_empty() {
            return Err(RpcError::invalid_request("messages does not contain any message hashes"));
        }
        if messages.len() > DELETE_MAX_HASHES {
            return Err(RpcError::invalid_request(format!(
                "messages has {} hashes; the limit is {DELETE_MAX_HASHES}",
                messages.len()
            )));
        }
        let mut hashes = Vec::with_capacity(messages.len());
        for m in messages {
            let Value::String(h) = m else { return Err(bad_value("messages", "string array")) };
            if !is_hash(h) {
                let shown: String = h.chars().take(64).collect();
                return Err(RpcError::invalid_request(format!("invalid message hash: {shown}")));
            }
            hashes.push(h.clone());
        }
        Ok(Self {
            pubkey,
            messages: hashes,
            signature: opt_signature(p)?,
            pubkey_ed25519: opt_ed25519(p, &pubkey)?,
            required: opt_bool(p, "required")?.unwrap_or(false),
            subaccount: opt_subaccount(p)?,
        })
    }

    /// The signature over `"delete" ‖ hash…` is required (401 missing or bad).
    pub fn validate(&self) -> Result<(), RpcError> {
        let sig =
            self.signature.as_ref().ok_or_else(|| RpcError::unauthorized("delete: signature required"))?;
        if !verify_request(
            &self.pubkey,
            self.pubkey_ed25519.as_ref(),
            self.subaccount.as_ref(),
            Access::DELETE,
            sig,
            &delete_sig_message(&self.messages),
        ) {
            return Err(RpcError::unauthorized("delete_msgs signature verification failed"));
        }
        Ok(())
    }

    /// After the store deleted `deleted`: 404 when `required` and nothing was deleted.
    pub fn check_deleted(&self, deleted: &[String]) -> Result<(), RpcError> {
        if self.required && deleted.is_empty() {
            return Err(RpcError::not_found("no messages deleted"));
        }
        Ok(())
    }
}

// ---- signed string -----------------------------------------------------------------------

/// `"delete" ‖ hash…` (no timestamp).
pub fn delete_sig_message(hashes: &[String]) -> Vec<u8> {
    let mut m = b"delete".to_vec();
    for h in hashes {
        m.extend_from_slice(h.as_bytes());
    }
    m
}

// ---- request (client) --------------------------------------------------------------------

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

// ---- reply (node) ------------------------------------------------------------------------

/// What a node signs in its delete reply: `PUBKEY_HEX ‖ requested… ‖ deleted…` (requested in
/// request order, deleted as the reply lists them: sorted).
pub fn delete_signature_message(pubkey: &Pubkey, requested: &[String], deleted: &[String]) -> Vec<u8> {
    let mut m = pubkey.to_hex().into_bytes();
    for h in requested.iter().chain(deleted) {
        m.extend_from_slice(h.as_bytes());
    }
    m
}

/// One member's successful delete: `{"deleted": [sorted], "signature"}` (`sign` as in
/// [`super::store::store_member_ok`]); the live server sorts what it deleted (network-tests
/// `test_delete`).
pub fn delete_member_ok(
    sign: impl Fn(&[u8]) -> [u8; 64],
    pubkey: &Pubkey,
    requested: &[String],
    deleted: &[String],
) -> Value {
    let mut deleted = deleted.to_vec();
    deleted.sort_unstable();
    let sig = sign(&delete_signature_message(pubkey, requested, &deleted));
    json!({ "deleted": deleted, "signature": STANDARD.encode(sig) })
}
