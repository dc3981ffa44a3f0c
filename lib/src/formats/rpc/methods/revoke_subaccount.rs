//! `revoke_subaccount` and its inverse `unrevoke_subaccount` (one file: they differ only in
//! their name, field name and reply): the account owner (never a subaccount) tells every member
//! of its swarm to refuse, or to accept again, some subaccount tokens. Their params (signed over
//! `"(un)revoke_subaccount" ‖ dec(timestamp) ‖ token…`, the 36 raw bytes of each token in
//! request order), the client's request builder, and each member's reply with the node's
//! signature over `PUBKEY_HEX ‖ dec(timestamp) ‖ token…`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::formats::keys::{Ed25519Pk, Pubkey};
use crate::formats::rpc::RpcError;
use crate::formats::rpc::fields::{Params, opt_ed25519, pubkey_field, req_signature, req_timestamp, within};
use crate::formats::rpc::sig::verify_signature;
use crate::formats::rpc::subaccount::{MAX_SUBACCOUNT_TOKENS, SubaccountToken, token_list};

/// Which of the two methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeKind {
    /// `revoke_subaccount` (field `revoke`).
    Revoke,
    /// `unrevoke_subaccount` (field `unrevoke`).
    Unrevoke,
}

impl RevokeKind {
    /// The method name, which also starts the signed string and the error texts.
    pub fn method(self) -> &'static str {
        match self {
            RevokeKind::Revoke => "revoke_subaccount",
            RevokeKind::Unrevoke => "unrevoke_subaccount",
        }
    }

    /// The params field holding the tokens.
    pub fn field(self) -> &'static str {
        match self {
            RevokeKind::Revoke => "revoke",
            RevokeKind::Unrevoke => "unrevoke",
        }
    }
}

/// `revoke_subaccount` / `unrevoke_subaccount` params.
#[derive(Debug, Clone, PartialEq)]
pub struct RevokeSubaccountParams {
    /// Revoke or unrevoke.
    pub kind: RevokeKind,
    /// The account.
    pub pubkey: Pubkey,
    /// The tokens, in request order.
    pub tokens: Vec<SubaccountToken>,
    /// The request time (ms), which the owner signs.
    pub timestamp: u64,
    /// The owner's signature over [`revoke_sig_message`].
    pub signature: [u8; 64],
    /// The owner's Ed25519 key (05 accounts).
    pub pubkey_ed25519: Option<Ed25519Pk>,
}

impl RevokeSubaccountParams {
    /// Reads the params (400 on a missing or malformed field; as live, revoke reads its tokens
    /// before the timestamp, unrevoke after it, and only revoke has a limit).
    pub fn parse(p: &Params, kind: RevokeKind) -> Result<Self, RpcError> {
        let pubkey = pubkey_field(p, false)?;
        let (tokens, timestamp) = match kind {
            RevokeKind::Revoke => {
                let tokens = token_list(p, kind.field())?;
                if tokens.len() > MAX_SUBACCOUNT_TOKENS {
                    return Err(RpcError::invalid_request(format!(
                        "invalid revoke: cannot revoke more than {MAX_SUBACCOUNT_TOKENS} subaccounts at once"
                    )));
                }
                (tokens, req_timestamp(p, "timestamp")?)
            }
            RevokeKind::Unrevoke => {
                let ts = req_timestamp(p, "timestamp")?;
                (token_list(p, kind.field())?, ts)
            }
        };
        Ok(Self {
            kind,
            tokens,
            timestamp,
            pubkey_ed25519: opt_ed25519(p, &pubkey)?,
            signature: req_signature(p)?,
            pubkey,
        })
    }

    /// The timestamp within `tolerance_ms` of `now_ms` (406), then the owner's signature (401;
    /// a subaccount cannot sign these).
    pub fn validate(&self, now_ms: u64, tolerance_ms: u64) -> Result<(), RpcError> {
        let method = self.kind.method();
        if !within(now_ms, self.timestamp, tolerance_ms) {
            return Err(RpcError::clock(format!("{method} timestamp too far from current time")));
        }
        let msg = revoke_sig_message(self.kind, self.timestamp, &self.tokens);
        if !verify_signature(&self.pubkey, self.pubkey_ed25519.as_ref(), &self.signature, &msg) {
            return Err(RpcError::unauthorized(format!("{method} signature verification failed")));
        }
        Ok(())
    }
}

/// `"(un)revoke_subaccount" ‖ dec(timestamp) ‖ token…` (36 raw bytes each, request order).
pub fn revoke_sig_message(kind: RevokeKind, timestamp: u64, tokens: &[SubaccountToken]) -> Vec<u8> {
    let mut m = format!("{}{timestamp}", kind.method()).into_bytes();
    for t in tokens {
        m.extend_from_slice(t.as_bytes());
    }
    m
}

/// Signed params for the owner of `pubkey` (signing with `sign`; `pubkey_ed25519` for 05
/// accounts) at `timestamp` (ms).
pub fn revoke_params(
    kind: RevokeKind,
    pubkey: &Pubkey,
    pubkey_ed25519: Option<&[u8; 32]>,
    tokens: &[SubaccountToken],
    timestamp: u64,
    sign: impl Fn(&[u8]) -> [u8; 64],
) -> Value {
    let sig = sign(&revoke_sig_message(kind, timestamp, tokens));
    let mut p = json!({
        "pubkey": pubkey.to_hex(),
        "timestamp": timestamp,
        "signature": STANDARD.encode(sig),
    });
    p[kind.field()] = json!(tokens.iter().map(SubaccountToken::to_base64).collect::<Vec<_>>());
    if let Some(ed) = pubkey_ed25519 {
        p["pubkey_ed25519"] = json!(hex::encode(ed));
    }
    p
}

/// What a node signs in its reply: `PUBKEY_HEX ‖ dec(timestamp) ‖ token…` (raw, request order).
pub fn revoke_signature_message(pubkey: &Pubkey, timestamp: u64, tokens: &[SubaccountToken]) -> Vec<u8> {
    let mut m = format!("{}{timestamp}", pubkey.to_hex()).into_bytes();
    for t in tokens {
        m.extend_from_slice(t.as_bytes());
    }
    m
}

/// One member's entry: `{"signature"}` for revoke (the live server documents a `count` but
/// never sends it), `{"count": tokens actually removed, "signature"}` for unrevoke.
pub fn revoke_member_ok(sign: impl Fn(&[u8]) -> [u8; 64], p: &RevokeSubaccountParams, removed: u64) -> Value {
    let sig = STANDARD.encode(sign(&revoke_signature_message(&p.pubkey, p.timestamp, &p.tokens)));
    match p.kind {
        RevokeKind::Revoke => json!({ "signature": sig }),
        RevokeKind::Unrevoke => json!({ "count": removed, "signature": sig }),
    }
}
