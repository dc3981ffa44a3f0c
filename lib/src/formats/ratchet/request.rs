//! Friend requests (spec ratchet.md, "Friend requests"): the first contact, carrying the
//! sender's display name, introduction, Session ID and prekey bundle, signed inside with the
//! sender's Ed25519 key and sealed to the recipient's X25519 key.
//!
//! snkit's format (docs/ratchet.md):
//! - outer JSON line: `{"v": 1, "type": "friend_request", "to": SESSION_ID, "sealed": base64}`;
//! - `sealed` = ephemeral X25519 pub (32) ‖ XChaCha20-Poly1305 ciphertext (no associated data);
//!   key = BLAKE2b-256(shared ‖ eph_pub ‖ recipient_pub), nonce = BLAKE2b-192(eph_pub ‖
//!   recipient_pub) (as libsodium's sealed box derives its nonce: unique per ephemeral key);
//! - plaintext = Ed25519 signature (64) ‖ body, the body a JSON object
//!   `{"from", "ed25519_pk", "to", "name", "text", "bundle", "timestamp"}`;
//! - the signature covers `"snkit friend request v1" ‖ 0x00 ‖ eph_pub ‖ body`: the exact body
//!   bytes (no canonical form needed) bound to this one sealed box.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use blake2::digest::consts::{U24, U32};
use blake2::{Blake2b, Digest};
use chacha20poly1305::aead::Aead;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signature, VerifyingKey};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::error::RatchetError;
use super::keys::dh;
use super::prekeys::{Bundle, VerifiedBundle};
use crate::formats::identity::{Identity, SessionId, ed25519_pk_to_x25519};
use crate::formats::keys::decode_hex32;
use crate::formats::limits::{MAX_REQUEST_NAME_BYTES, MAX_REQUEST_TEXT_BYTES, MAX_WIRE_BYTES};

/// The `type` of a friend request line.
const REQUEST_TYPE: &str = "friend_request";
/// The only friend request version.
const REQUEST_VERSION: u64 = 1;
/// Domain separation of the inner signature.
const REQUEST_SIG_CONTEXT: &[u8] = b"snkit friend request v1\0";

/// A sealed friend request, as sent (only the recipient is visible).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedRequest {
    /// The recipient.
    pub to: SessionId,
    /// The sealed request bytes.
    pub sealed: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct SealedJson {
    v: u64,
    #[serde(rename = "type")]
    kind: String,
    to: String,
    sealed: String,
}

#[derive(Serialize, Deserialize)]
struct Body {
    from: String,
    ed25519_pk: String,
    to: String,
    name: String,
    text: String,
    bundle: Bundle,
    timestamp: u64,
}

/// An opened and verified friend request.
#[derive(Clone, Debug)]
pub struct FriendRequest {
    /// The sender.
    pub from: SessionId,
    /// The display name the sender gave.
    pub name: String,
    /// The request's text.
    pub text: String,
    /// The sender's timestamp, ms since the epoch.
    pub timestamp: u64,
    /// The sender's prekey bundle, as sent.
    pub bundle: Bundle,
    /// The same bundle, with its signatures verified.
    pub verified: VerifiedBundle,
}

fn box_key(shared: &[u8; 32], eph: &[u8; 32], recipient: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut h = Blake2b::<U32>::new();
    h.update(shared);
    h.update(eph);
    h.update(recipient);
    Zeroizing::new(h.finalize().into())
}

fn box_nonce(eph: &[u8; 32], recipient: &[u8; 32]) -> [u8; 24] {
    let mut h = Blake2b::<U24>::new();
    h.update(eph);
    h.update(recipient);
    h.finalize().into()
}

fn signed_bytes(eph: &[u8; 32], body: &[u8]) -> Vec<u8> {
    [REQUEST_SIG_CONTEXT, eph.as_slice(), body].concat()
}

fn check_len(what: &'static str, s: &str, max: usize) -> Result<(), RatchetError> {
    if s.len() > max {
        return Err(RatchetError::TooLong { what, len: s.len(), max });
    }
    Ok(())
}

impl SealedRequest {
    /// Builds a friend request from `identity` to `to`, carrying `bundle` (the sender's own).
    pub fn create(
        identity: &Identity,
        to: &SessionId,
        name: &str,
        text: &str,
        bundle: &Bundle,
        timestamp: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, RatchetError> {
        check_len("display name", name, MAX_REQUEST_NAME_BYTES)?;
        check_len("introduction", text, MAX_REQUEST_TEXT_BYTES)?;
        let body = Body {
            from: identity.session_id().to_string(),
            ed25519_pk: hex::encode(identity.ed25519_public()),
            to: to.to_string(),
            name: name.to_string(),
            text: text.to_string(),
            bundle: bundle.clone(),
            timestamp,
        };
        let body =
            serde_json::to_vec(&body).map_err(|e| RatchetError::malformed(format!("friend request: {e}")))?;
        Self::seal(identity, to, &body, rng)
    }

    /// Signs `body` with `signer` and seals it to `to`.
    fn seal(
        signer: &Identity,
        to: &SessionId,
        body: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, RatchetError> {
        let eph = StaticSecret::random_from_rng(rng);
        let eph_pub = PublicKey::from(&eph).to_bytes();
        let recipient = to.x25519();
        let shared = dh(&Zeroizing::new(eph.to_bytes()), &recipient)?;
        let sig = signer.sign(&signed_bytes(&eph_pub, body));
        let plaintext = Zeroizing::new([sig.as_slice(), body].concat());
        let cipher = XChaCha20Poly1305::new((&*box_key(&shared, &eph_pub, &recipient)).into());
        let ct = cipher
            .encrypt(XNonce::from_slice(&box_nonce(&eph_pub, &recipient)), plaintext.as_slice())
            .map_err(|_| RatchetError::malformed("friend request too large"))?;
        Ok(Self { to: *to, sealed: [eph_pub.as_slice(), &ct].concat() })
    }

    /// The JSON object.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.json()).unwrap_or(Value::Null)
    }

    fn json(&self) -> impl Serialize {
        SealedJson {
            v: REQUEST_VERSION,
            kind: REQUEST_TYPE.into(),
            to: self.to.to_string(),
            sealed: B64.encode(&self.sealed),
        }
    }

    /// The line `request` prints and `send` stores.
    pub fn to_line(&self) -> String {
        serde_json::to_string(&self.json()).unwrap_or_default()
    }

    /// Parses a sealed request from its JSON line.
    pub fn from_json(value: &Value) -> Result<Self, RatchetError> {
        if let Some(v) = value.get("v").and_then(Value::as_u64)
            && v != REQUEST_VERSION
        {
            return Err(RatchetError::UnsupportedVersion(v));
        }
        let json: SealedJson = serde_json::from_value(value.clone())
            .map_err(|e| RatchetError::malformed(format!("friend request: {e}")))?;
        if json.kind != REQUEST_TYPE {
            return Err(RatchetError::malformed(format!(
                "friend request: \"type\" must be \"{REQUEST_TYPE}\""
            )));
        }
        if json.sealed.len() > MAX_WIRE_BYTES {
            return Err(RatchetError::TooLong {
                what: "friend request",
                len: json.sealed.len(),
                max: MAX_WIRE_BYTES,
            });
        }
        let to = SessionId::parse(&json.to)
            .map_err(|e| RatchetError::malformed(format!("friend request: \"to\": {e}")))?;
        let sealed = B64
            .decode(&json.sealed)
            .map_err(|_| RatchetError::malformed("friend request: \"sealed\" is not base64"))?;
        Ok(Self { to, sealed })
    }

    /// Opens the request with the recipient's identity and verifies everything in it: the
    /// seal, the recipient, the sender's key and signature, and the enclosed bundle.
    pub fn open(&self, identity: &Identity) -> Result<FriendRequest, RatchetError> {
        let us = identity.session_id();
        if self.to != us {
            return Err(RatchetError::WrongRecipient { to: self.to.to_string(), us: us.to_string() });
        }
        if self.sealed.len() < 32 + 16 + 64 {
            return Err(RatchetError::SealBroken);
        }
        let mut eph = [0u8; 32];
        eph.copy_from_slice(&self.sealed[..32]);
        let recipient = identity.x25519_public();
        let shared = identity.dh(&eph);
        if shared.iter().all(|b| *b == 0) {
            return Err(RatchetError::ZeroDh);
        }
        let cipher = XChaCha20Poly1305::new((&*box_key(&shared, &eph, &recipient)).into());
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(XNonce::from_slice(&box_nonce(&eph, &recipient)), &self.sealed[32..])
                .map_err(|_| RatchetError::SealBroken)?,
        );
        if plaintext.len() < 64 {
            return Err(RatchetError::SealBroken);
        }
        let (sig, body_bytes) = plaintext.split_at(64);
        let body: Body = serde_json::from_slice(body_bytes)
            .map_err(|e| RatchetError::malformed(format!("friend request body: {e}")))?;
        let from = SessionId::parse(&body.from)
            .map_err(|e| RatchetError::malformed(format!("friend request: \"from\": {e}")))?;
        if !body.to.eq_ignore_ascii_case(&us.to_string()) {
            return Err(RatchetError::WrongRecipient { to: body.to, us: us.to_string() });
        }
        let ed: [u8; 32] = decode_hex32(&body.ed25519_pk).map_err(|_| {
            RatchetError::malformed("friend request: \"ed25519_pk\" must be 64 hex characters")
        })?;
        if ed25519_pk_to_x25519(&ed) != Some(from.x25519()) {
            return Err(RatchetError::SenderMismatch(format!(
                "the request's ed25519_pk is not the key of {from}"
            )));
        }
        let mut sig_bytes = [0u8; 64];
        sig_bytes.copy_from_slice(sig);
        VerifyingKey::from_bytes(&ed)
            .and_then(|vk| {
                vk.verify_strict(&signed_bytes(&eph, body_bytes), &Signature::from_bytes(&sig_bytes))
            })
            .map_err(|_| RatchetError::BadRequestSignature { session_id: from.to_string() })?;
        check_len("display name", &body.name, MAX_REQUEST_NAME_BYTES)?;
        check_len("introduction", &body.text, MAX_REQUEST_TEXT_BYTES)?;
        let verified = body.bundle.verify()?;
        if verified.session_id != from {
            return Err(RatchetError::SenderMismatch(format!(
                "the enclosed bundle belongs to {}, the request is from {from}",
                verified.session_id
            )));
        }
        Ok(FriendRequest {
            from,
            name: body.name,
            text: body.text,
            timestamp: body.timestamp,
            bundle: body.bundle,
            verified,
        })
    }
}

/// Serializes as the JSON line (fields in the spec's order).
impl Serialize for SealedRequest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::ratchet::prekeys::PrekeyStore;
    use rand::rngs::OsRng;

    fn ids() -> (Identity, Identity, Bundle) {
        let alice = Identity::from_seed(&[10u8; 16]).unwrap();
        let bob = Identity::from_seed(&[11u8; 16]).unwrap();
        let mut store = PrekeyStore::new(&alice.session_id());
        let bundle = store.publish(&alice, 1, 0, &mut OsRng).unwrap();
        (alice, bob, bundle)
    }

    #[test]
    fn test_request_round_trip() {
        let (alice, bob, bundle) = ids();
        let req = SealedRequest::create(&alice, &bob.session_id(), "Alice", "hi Bob", &bundle, 5, &mut OsRng)
            .unwrap();
        let line = req.to_line();
        assert!(!line.contains(&alice.session_id().to_string()), "the sender is sealed");
        let back = SealedRequest::from_json(&serde_json::from_str(&line).unwrap()).unwrap();
        let opened = back.open(&bob).unwrap();
        assert_eq!(opened.from, alice.session_id());
        assert_eq!((opened.name.as_str(), opened.text.as_str(), opened.timestamp), ("Alice", "hi Bob", 5));
        assert_eq!(opened.bundle, bundle);
    }

    #[test]
    fn test_request_wrong_recipient_and_tamper() {
        let (alice, bob, bundle) = ids();
        let carol = Identity::from_seed(&[12u8; 16]).unwrap();
        let req = SealedRequest::create(&alice, &bob.session_id(), "A", "t", &bundle, 0, &mut OsRng).unwrap();
        assert!(matches!(req.open(&carol).unwrap_err(), RatchetError::WrongRecipient { .. }));
        for i in [0, 40, req.sealed.len() - 1] {
            let mut t = req.clone();
            t.sealed[i] ^= 1;
            assert_eq!(t.open(&bob).unwrap_err(), RatchetError::SealBroken, "byte {i}");
        }
        let mut t = req.clone();
        t.to = carol.session_id();
        assert_eq!(t.open(&carol).unwrap_err(), RatchetError::SealBroken);
    }

    #[test]
    fn test_request_signed_by_someone_else_is_refused() {
        let (alice, bob, bundle) = ids();
        let mallory = Identity::from_seed(&[13u8; 16]).unwrap();
        // Mallory seals a body that claims to be from Alice, signing it with her own key.
        let body = Body {
            from: alice.session_id().to_string(),
            ed25519_pk: hex::encode(alice.ed25519_public()),
            to: bob.session_id().to_string(),
            name: "Alice".into(),
            text: "trust me".into(),
            bundle,
            timestamp: 0,
        };
        let body = serde_json::to_vec(&body).unwrap();
        let req = SealedRequest::seal(&mallory, &bob.session_id(), &body, &mut OsRng).unwrap();
        assert!(matches!(req.open(&bob).unwrap_err(), RatchetError::BadRequestSignature { .. }));
    }

    #[test]
    fn test_request_bad_prekey_signature() {
        let (alice, bob, mut bundle) = ids();
        let mut sig = hex::decode(&bundle.spk.sig).unwrap();
        sig[0] ^= 0x10;
        bundle.spk.sig = hex::encode(sig);
        let req = SealedRequest::create(&alice, &bob.session_id(), "A", "t", &bundle, 0, &mut OsRng).unwrap();
        assert!(matches!(req.open(&bob).unwrap_err(), RatchetError::BadPrekeySignature { .. }));
    }
}
