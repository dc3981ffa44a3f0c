//! Request signatures, as every signed method shares them: the namespace part of a signed
//! string, base64 decoding and verification with the live network's key rules (storage-rpc.md
//! "Signature format and verification"). Each method's signed string is in its file.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};

use super::RpcError;
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

/// Verifies `sig` over `msg` for `pubkey`: for an 05 account with `pubkey_ed25519`, that key
/// must map to the account's X25519 key and is the verifying key; otherwise the 32 key bytes
/// are used as the Ed25519 key.
pub fn verify_signature(
    pubkey: &Pubkey,
    pubkey_ed25519: Option<&Ed25519Pk>,
    sig: &[u8; 64],
    msg: &[u8],
) -> bool {
    let key_bytes = match pubkey_ed25519 {
        Some(ed) if pubkey.type_byte() == ACCOUNT_TYPE => {
            if ed25519_pk_to_x25519(ed.as_bytes()).as_ref() != Some(pubkey.key()) {
                return false;
            }
            *ed.as_bytes()
        }
        _ => *pubkey.key(),
    };
    let Ok(vk) = VerifyingKey::from_bytes(&key_bytes) else { return false };
    vk.verify_strict(msg, &Signature::from_bytes(sig)).is_ok()
}
