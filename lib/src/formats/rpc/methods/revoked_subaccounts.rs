//! `revoked_subaccounts` (newest live server): the tokens an account has revoked, for its owner.
//! Not recursive, and (as live) checked against the account's raw key: `pubkey_ed25519` is
//! parsed but unused, so an 05 account cannot sign it, only an account whose 32 bytes are its
//! Ed25519 key (03 groups). Signed over `"revoked_subaccounts" ‖ dec(timestamp)`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::formats::keys::Pubkey;
use crate::formats::limits::SIGNATURE_CLOCK_TOLERANCE_MS;
use crate::formats::rpc::RpcError;
use crate::formats::rpc::fields::{Params, opt_ed25519, pubkey_field, req_signature, req_timestamp, within};
use crate::formats::rpc::reply::with_t_hf;
use crate::formats::rpc::sig::verify_signature;
use crate::formats::rpc::subaccount::SubaccountToken;

/// `revoked_subaccounts` params.
#[derive(Debug, Clone, PartialEq)]
pub struct RevokedSubaccountsParams {
    /// The account.
    pub pubkey: Pubkey,
    /// The request time (ms), which the owner signs.
    pub timestamp: u64,
    /// The owner's signature over [`revoked_subaccounts_sig_message`].
    pub signature: [u8; 64],
}

impl RevokedSubaccountsParams {
    /// Reads the params (400 on a missing or malformed field; `pubkey_ed25519` is checked, as
    /// live, then ignored).
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let pubkey = pubkey_field(p, false)?;
        opt_ed25519(p, &pubkey)?;
        Ok(Self { timestamp: req_timestamp(p, "timestamp")?, signature: req_signature(p)?, pubkey })
    }

    /// The timestamp within ±60 s (406), then the signature by the raw account key (401).
    pub fn validate(&self, now_ms: u64) -> Result<(), RpcError> {
        if !within(now_ms, self.timestamp, SIGNATURE_CLOCK_TOLERANCE_MS) {
            return Err(RpcError::clock("revoked_subaccounts timestamp too far from current time"));
        }
        let msg = revoked_subaccounts_sig_message(self.timestamp);
        if !verify_signature(&self.pubkey, None, &self.signature, &msg) {
            return Err(RpcError::unauthorized("revoked_subaccounts signature verification failed"));
        }
        Ok(())
    }
}

/// `"revoked_subaccounts" ‖ dec(timestamp)`.
pub fn revoked_subaccounts_sig_message(timestamp: u64) -> Vec<u8> {
    format!("revoked_subaccounts{timestamp}").into_bytes()
}

/// `{"revoked_subaccounts": [base64 token…], "t", "hf"}`, oldest revocation first.
pub fn revoked_subaccounts_reply(tokens: &[SubaccountToken], now_ms: u64) -> Value {
    let list: Vec<String> = tokens.iter().map(|t| STANDARD.encode(t.as_bytes())).collect();
    with_t_hf(json!({ "revoked_subaccounts": list }), now_ms)
}
