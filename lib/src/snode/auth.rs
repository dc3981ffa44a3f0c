//! Authentication of node-to-node requests (docs/node-protocol.md).
//!
//! The sender adds three headers: `X-Snode-Ed25519` (its registered Ed25519 key, hex),
//! `X-Snode-Timestamp` (ms since the epoch) and `X-Snode-Signature` (base64 of an Ed25519
//! signature over `"snode-v1" ‖ path ‖ dec(timestamp) ‖ BLAKE2b-256(body)`). The receiver checks the
//! clock window, the signature, and that the key belongs to a registered node.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use blake2::{Blake2b, Digest, digest::consts::U32};
use ed25519_dalek::{Signature, VerifyingKey};

use super::keys::NodeKeys;
use crate::formats::limits::NODE_AUTH_CLOCK_WINDOW_MS;

pub(crate) const HDR_PUBKEY: &str = "x-snode-ed25519";
pub(crate) const HDR_TIMESTAMP: &str = "x-snode-timestamp";
pub(crate) const HDR_SIGNATURE: &str = "x-snode-signature";
const DOMAIN: &[u8] = b"snode-v1";

/// Why a node-to-node request was refused (answered 401).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum AuthError {
    #[error("missing header {0}")]
    Missing(&'static str),
    #[error("header {0} is malformed")]
    Malformed(&'static str),
    #[error("timestamp is outside the ±{}s window", NODE_AUTH_CLOCK_WINDOW_MS / 1000)]
    Clock,
    #[error("bad node signature")]
    Signature,
    #[error("sender {0} is not a registered node")]
    Unknown(String),
}

fn signed_bytes(path: &str, timestamp_ms: u64, body: &[u8]) -> Vec<u8> {
    let digest = Blake2b::<U32>::digest(body);
    let mut msg = Vec::with_capacity(DOMAIN.len() + path.len() + 20 + 32);
    msg.extend_from_slice(DOMAIN);
    msg.extend_from_slice(path.as_bytes());
    msg.extend_from_slice(timestamp_ms.to_string().as_bytes());
    msg.extend_from_slice(&digest);
    msg
}

/// The three header values (name, value) that authenticate `body` POSTed to `path`.
pub(crate) fn sign_headers(
    keys: &NodeKeys,
    path: &str,
    timestamp_ms: u64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    let sig = keys.sign(&signed_bytes(path, timestamp_ms, body));
    [
        (HDR_PUBKEY, hex::encode(keys.ed25519_public())),
        (HDR_TIMESTAMP, timestamp_ms.to_string()),
        (HDR_SIGNATURE, STANDARD.encode(sig)),
    ]
}

/// Checks the headers of a request to `path` and returns the sender's Ed25519 key. The caller
/// then checks that the key is registered.
pub(crate) fn verify_headers(
    pubkey: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    path: &str,
    body: &[u8],
    now_ms: u64,
) -> Result<[u8; 32], AuthError> {
    let pubkey = pubkey.ok_or(AuthError::Missing(HDR_PUBKEY))?;
    let timestamp = timestamp.ok_or(AuthError::Missing(HDR_TIMESTAMP))?;
    let signature = signature.ok_or(AuthError::Missing(HDR_SIGNATURE))?;
    let mut ed = [0u8; 32];
    hex::decode_to_slice(pubkey, &mut ed).map_err(|_| AuthError::Malformed(HDR_PUBKEY))?;
    let ts: u64 = timestamp.parse().map_err(|_| AuthError::Malformed(HDR_TIMESTAMP))?;
    if ts.abs_diff(now_ms) > NODE_AUTH_CLOCK_WINDOW_MS {
        return Err(AuthError::Clock);
    }
    let sig_bytes = STANDARD.decode(signature).map_err(|_| AuthError::Malformed(HDR_SIGNATURE))?;
    let sig = Signature::from_slice(&sig_bytes).map_err(|_| AuthError::Malformed(HDR_SIGNATURE))?;
    let vk = VerifyingKey::from_bytes(&ed).map_err(|_| AuthError::Malformed(HDR_PUBKEY))?;
    vk.verify_strict(&signed_bytes(path, ts, body), &sig).map_err(|_| AuthError::Signature)?;
    Ok(ed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(h: &[(&str, String); 3], path: &str, body: &[u8], now: u64) -> Result<[u8; 32], AuthError> {
        verify_headers(Some(&h[0].1), Some(&h[1].1), Some(&h[2].1), path, body, now)
    }

    #[test]
    fn signed_request_verifies_and_tampering_fails() {
        let keys = NodeKeys::from_seed(&[1u8; 32]);
        let now = 1_700_000_000_000;
        let h = sign_headers(&keys, "/snode/v1/replicate", now, b"body");
        assert_eq!(check(&h, "/snode/v1/replicate", b"body", now + 5), Ok(keys.ed25519_public()));
        assert_eq!(check(&h, "/snode/v1/replicate", b"bodx", now), Err(AuthError::Signature));
        assert_eq!(check(&h, "/snode/v1/push", b"body", now), Err(AuthError::Signature));
        assert_eq!(
            check(&h, "/snode/v1/replicate", b"body", now + NODE_AUTH_CLOCK_WINDOW_MS + 1),
            Err(AuthError::Clock)
        );
        assert_eq!(
            verify_headers(None, Some("1"), Some("x"), "/", b"", now),
            Err(AuthError::Missing(HDR_PUBKEY))
        );
    }
}
