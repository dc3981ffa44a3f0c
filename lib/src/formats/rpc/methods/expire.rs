//! `expire`: set the expiry of some of a mailbox's messages: plain (either way), `shorten` only
//! or `extend` only; one expiry for all, or one per message; each clamped to now + 30 days. Its
//! params (signed over `"expire" ‖ ("shorten"|"extend"|"") ‖ expiry… ‖ hash…`), the client's
//! request builder, and each member's reply with the node's signature.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::formats::identity::Identity;
use crate::formats::keys::{Ed25519Pk, Pubkey};
use crate::formats::limits::{DELETE_MAX_HASHES, TTL_MAX_PRIVATE_MS};
use crate::formats::rpc::RpcError;
use crate::formats::rpc::fields::{
    Params, is_hash, opt_bool, opt_ed25519, pubkey_field, req_signature, string_list, timestamp_list,
};
use crate::formats::rpc::sig::verify_request;
use crate::formats::rpc::subaccount::{Access, Subaccount, opt_subaccount};

/// Which way an `expire` may move an expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireMode {
    /// Either way (no flag).
    Plain,
    /// `shorten: true`: only to an earlier expiry.
    Shorten,
    /// `extend: true`: only to a later expiry.
    Extend,
}

impl ExpireMode {
    /// The word the client signs: "shorten", "extend" or "".
    pub fn sig_part(self) -> &'static str {
        match self {
            ExpireMode::Plain => "",
            ExpireMode::Shorten => "shorten",
            ExpireMode::Extend => "extend",
        }
    }
}

/// `expire` params.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpireParams {
    /// The mailbox.
    pub pubkey: Pubkey,
    /// The hashes, in request order.
    pub messages: Vec<String>,
    /// One expiry for every message, or one per message (request values, ms).
    pub expiry: Vec<u64>,
    /// Plain, shorten or extend.
    pub mode: ExpireMode,
    /// The owner's signature over [`expire_sig_message`].
    pub signature: [u8; 64],
    /// The owner's Ed25519 key (05 accounts).
    pub pubkey_ed25519: Option<Ed25519Pk>,
    /// The subaccount the request is signed by, if any (its token and the owner's note).
    pub subaccount: Option<Subaccount>,
}

impl ExpireParams {
    /// Reads the params (400 on a missing or malformed field, with the live texts).
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let expiry = timestamp_list(p, "expiry", DELETE_MAX_HASHES)?;
        if expiry.is_empty() {
            return Err(RpcError::invalid_request("'expiry' does not contain any expiration timestamps"));
        }
        let shorten = opt_bool(p, "shorten")?.unwrap_or(false);
        let extend = opt_bool(p, "extend")?.unwrap_or(false);
        let mode = match (shorten, extend) {
            (true, true) => {
                return Err(RpcError::invalid_request("cannot specify both 'shorten' and 'extend'"));
            }
            (true, false) => ExpireMode::Shorten,
            (false, true) => ExpireMode::Extend,
            (false, false) => ExpireMode::Plain,
        };
        let messages = string_list(p, "messages", DELETE_MAX_HASHES)?;
        if messages.is_empty() {
            return Err(RpcError::invalid_request("messages does not contain any message hashes"));
        }
        if let Some(h) = messages.iter().find(|h| !is_hash(h)) {
            let shown: String = h.chars().take(64).collect();
            return Err(RpcError::invalid_request(format!("invalid message hash: {shown}")));
        }
        if expiry.len() > 1 && expiry.len() != messages.len() {
            return Err(RpcError::invalid_request(
                "'expiry' must be a single expiry, or the same length as 'messages'",
            ));
        }
        let pubkey = pubkey_field(p, false)?;
        Ok(Self {
            messages,
            expiry,
            mode,
            pubkey_ed25519: opt_ed25519(p, &pubkey)?,
            signature: req_signature(p)?,
            subaccount: opt_subaccount(p)?,
            pubkey,
        })
    }

    /// Every expiry at least `now - tolerance_ms` (the live server answers **401** here, before
    /// the signature, with a fixed 60 s), then the signature over the request values (401).
    pub fn validate(&self, now_ms: u64, tolerance_ms: u64) -> Result<(), RpcError> {
        if self.expiry.iter().any(|&e| e < now_ms.saturating_sub(tolerance_ms)) {
            return Err(RpcError::unauthorized("expire: timestamp should be >= current time"));
        }
        let msg = expire_sig_message(self.mode, &self.expiry, &self.messages);
        if !verify_request(
            &self.pubkey,
            self.pubkey_ed25519.as_ref(),
            self.subaccount.as_ref(),
            Access::WRITE,
            &self.signature,
            &msg,
        ) {
            return Err(RpcError::unauthorized("expire: signature verification failed"));
        }
        if self.mode == ExpireMode::Shorten && !self.may_shorten() {
            return Err(RpcError::new(
                crate::formats::rpc::status::BAD_REQUEST,
                "expire: shorten parameter cannot be used with this subaccount token (missing delete access)",
            ));
        }
        Ok(())
    }

    /// Whether the signer may shorten expiries: the owner, or a subaccount with delete access.
    fn may_shorten(&self) -> bool {
        self.subaccount.as_ref().is_none_or(|s| s.token.flags().allows(Access::DELETE))
    }

    /// The mode the store applies: the request's, except that a subaccount without delete
    /// access may only extend (live: forced extend-only, while the reply still follows the
    /// request's own flags, which the forwarded signature covers).
    pub fn store_mode(&self) -> ExpireMode {
        if self.may_shorten() { self.mode } else { ExpireMode::Extend }
    }

    /// The (hash, expiry) pairs to apply, each expiry clamped to `now + 30 days`; with one
    /// expiry a repeated hash is applied once.
    pub fn updates(&self, now_ms: u64) -> Vec<(String, u64)> {
        let cap = now_ms.saturating_add(TTL_MAX_PRIVATE_MS);
        let mut out: Vec<(String, u64)> = Vec::with_capacity(self.messages.len());
        for (i, h) in self.messages.iter().enumerate() {
            let e = self.expiry.get(i).or(self.expiry.first()).copied().unwrap_or(0).min(cap);
            if self.expiry.len() == 1 && out.iter().any(|(o, _)| o == h) {
                continue;
            }
            out.push((h.clone(), e));
        }
        out
    }
}

/// `"expire" ‖ ("shorten"|"extend"|"") ‖ dec(expiry)… ‖ hash…` (expiries concatenated when
/// one per message, hashes in request order).
pub fn expire_sig_message(mode: ExpireMode, expiry: &[u64], hashes: &[String]) -> Vec<u8> {
    let mut m = format!("expire{}", mode.sig_part());
    for e in expiry {
        m.push_str(&e.to_string());
    }
    for h in hashes {
        m.push_str(h);
    }
    m.into_bytes()
}

/// Signed `expire` params: one expiry (`expiry.len() == 1`) or one per hash.
pub fn expire_params(id: &Identity, hashes: &[String], expiry: &[u64], mode: ExpireMode) -> Value {
    let sig = id.sign(&expire_sig_message(mode, expiry, hashes));
    let mut p = json!({
        "pubkey": id.session_id().to_string(),
        "messages": hashes,
        "expiry": if expiry.len() == 1 { json!(expiry[0]) } else { json!(expiry) },
        "signature": STANDARD.encode(sig),
        "pubkey_ed25519": hex::encode(id.ed25519_public()),
    });
    match mode {
        ExpireMode::Plain => {}
        ExpireMode::Shorten => p["shorten"] = json!(true),
        ExpireMode::Extend => p["extend"] = json!(true),
    }
    p
}

/// What one member changed: the hashes updated (with their new expiry) and, of the requested
/// hashes that exist but were not updated, their current expiry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpireOutcome {
    /// (hash, new expiry) of each updated message.
    pub updated: Vec<(String, u64)>,
    /// (hash, current expiry) of each requested message left as it was.
    pub unchanged: Vec<(String, u64)>,
}

/// One member's successful expire: `{"updated": [sorted], "expiry": clamped | [per updated],
/// ["unchanged": {hash: ms}], "signature"}`, signed over `PUBKEY_HEX ‖ X ‖ requested… ‖
/// sorted updated… ‖ (hash ‖ dec(expiry)) per unchanged in hash order`, X being the single
/// clamped expiry or the reply's expiries concatenated. `unchanged` is only sent (and signed)
/// for `shorten` / `extend`; the mode word itself is not signed.
pub fn expire_member_ok(
    sign: impl Fn(&[u8]) -> [u8; 64],
    p: &ExpireParams,
    now_ms: u64,
    outcome: &ExpireOutcome,
) -> Value {
    let mut updated = outcome.updated.clone();
    updated.sort();
    let mut sig_msg = p.pubkey.to_hex();
    let mut v = json!({ "updated": updated.iter().map(|(h, _)| h).collect::<Vec<_>>() });
    if p.expiry.len() == 1 {
        let e = p.updates(now_ms).first().map(|(_, e)| *e).unwrap_or(0);
        sig_msg.push_str(&e.to_string());
        v["expiry"] = json!(e);
    } else {
        for (_, e) in &updated {
            sig_msg.push_str(&e.to_string());
        }
        v["expiry"] = json!(updated.iter().map(|(_, e)| *e).collect::<Vec<_>>());
    }
    for h in &p.messages {
        sig_msg.push_str(h);
    }
    for (h, _) in &updated {
        sig_msg.push_str(h);
    }
    if p.mode != ExpireMode::Plain {
        let unchanged: BTreeMap<&str, u64> =
            outcome.unchanged.iter().map(|(h, e)| (h.as_str(), *e)).collect();
        for (h, e) in &unchanged {
            sig_msg.push_str(h);
            sig_msg.push_str(&e.to_string());
        }
        v["unchanged"] = json!(unchanged);
    }
    v["signature"] = json!(STANDARD.encode(sign(sig_msg.as_bytes())));
    v
}
