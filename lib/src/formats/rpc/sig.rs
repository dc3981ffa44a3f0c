//! Request signatures, as every signed method shares them: the namespace part of a signed
//! string, base64 decoding and verification with the live network's key rules (storage-rpc.md
//! "Signature format and verification"). Each method's signed string is in its file.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};

use super::RpcError;
use super::subaccount::{Access, Subaccount};
use crate::formats::identity::ed25519_pk_to_x25519;
use crate::formats::keys::{ACCOUNT_TYPE, Ed25519Pk, Pubkey};

/// The namespace part of a signed string: empty for 0, else decimal.
pub fn namespace_part(namespace: i16) -> String {
    if namespace == 0 { String::new() } else { namespace.to_string() }
}

/// The namespace a swarm-wide method (delete_all, delete_before, expire_all) acts on: one
/// namespace, or every namespace of the account (`"all"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceSel {
    /// One namespace (0 when the request names none).
    One(i16),
    /// `"namespace": "all"`.
    All,
}

impl NamespaceSel {
    /// The namespace part of the signed string: "" for 0, `"all"`, or dec(ns).
    pub fn sig_part(&self) -> String {
        match self {
            NamespaceSel::One(n) => namespace_part(*n),
            NamespaceSel::All => "all".to_string(),
        }
    }

    /// The one namespace, or None for all.
    pub fn one(&self) -> Option<i16> {
        match self {
            NamespaceSel::One(n) => Some(*n),
            NamespaceSel::All => None,
        }
    }
}

/// Decodes a JSON signature: base64 of 64 bytes, 86 characters or 88 ending in "==".
pub fn decode_signature(s: &str) -> Result<[u8; 64], RpcError> {
    let bad = || RpcError::invalid_request("invalid signature: expected base64 encoded Ed25519 signature");
    let ok_len = s.len() == 86 || (s.len() == 88 && s.ends_with("=="));
    if !ok_len {
        return Err(bad());
    }
    let raw = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(s.trim_end_matches('='))
        .or_else(|_| STANDARD.decode(s))
        .map_err(|_| bad())?;
    raw.try_into().map_err(|_| bad())
}

/// Verifies `sig` over `msg` for `pubkey` without a subaccount ([`verify_request`]).
pub fn verify_signature(
    pubkey: &Pubkey,
    pubkey_ed25519: Option<&Ed25519Pk>,
    sig: &[u8; 64],
    msg: &[u8],
) -> bool {
    verify_request(pubkey, pubkey_ed25519, None, Access::NONE, sig, msg)
}

/// The live request check (`verify_signature` of the request handler): the account's key is
/// `pubkey_ed25519` for an 05 account that sent one (it must map to the account's X25519 key),
/// else the 32 key bytes used as an Ed25519 key. With a subaccount, the token must not be
/// revoked, must allow this account's prefix and every `required` flag, and must be signed by
/// the account's key; the request is then signed by the token's key instead.
pub fn verify_request(
    pubkey: &Pubkey,
    pubkey_ed25519: Option<&Ed25519Pk>,
    subaccount: Option<&Subaccount>,
    required: Access,
    sig: &[u8; 64],
    msg: &[u8],
) -> bool {
    let mut key_bytes = match pubkey_ed25519 {
        Some(ed) if pubkey.type_byte() == ACCOUNT_TYPE => {
            if ed25519_pk_to_x25519(ed.as_bytes()).as_ref() != Some(pubkey.key()) {
                return false;
            }
            *ed.as_bytes()
        }
        _ => *pubkey.key(),
    };
    if let Some(sub) = subaccount {
        if sub.revoked
            || !sub.token.prefix_allowed(pubkey.type_byte())
            || !sub.token.flags().allows(required)
            || !ed25519_ok(&key_bytes, &sub.signature, sub.token.as_bytes())
        {
            return false;
        }
        key_bytes = sub.token.pubkey();
    }
    ed25519_ok(&key_bytes, sig, msg)
}

/// Plain Ed25519 verification (libsodium's `crypto_sign_verify_detached` rules: canonical S,
/// no small-order keys, hence `verify_strict`).
fn ed25519_ok(key: &[u8; 32], sig: &[u8; 64], msg: &[u8]) -> bool {
    let Ok(vk) = VerifyingKey::from_bytes(key) else { return false };
    vk.verify_strict(msg, &Signature::from_bytes(sig)).is_ok()
}
