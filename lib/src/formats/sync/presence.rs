//! Sealed presence (spec sync.md §5.4): "I am online, reach me at node L under `listen_pk`",
//! signed by the sender's identity and sealed to one contact, always
//! [`SYNC_PRESENCE_SEALED_BYTES`] long so that an offline presence looks like an online one.
//!
//! ```text
//! sealed    = eph_pub (32) ‖ XChaCha20-Poly1305(key, nonce, plaintext)
//! key       = BLAKE2b-256("snkit-presence-v1" ‖ 0x00 ‖ shared ‖ eph_pub ‖ recipient_pub)
//! nonce     = BLAKE2b-192("snkit-presence-v1" ‖ 0x00 ‖ eph_pub ‖ recipient_pub)
//! plaintext = Ed25519 signature (64) ‖ body
//! body      = JSON {"v":1,"from","ed25519_pk","to","online","node"?,"listen_pk"?,"expires"?,"ts"}
//!             padded with spaces to a fixed length
//! signature over "snkit-presence-v1" ‖ 0x00 ‖ eph_pub ‖ body
//! ```
//! The same sealed-box construction as snkit's friend requests (docs/ratchet.md), under its own
//! context so that neither can be taken for the other.

use blake2::digest::consts::{U24, U32};
use blake2::{Blake2b, Digest};
use chacha20poly1305::aead::Aead;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signature, VerifyingKey};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::SyncError;
use crate::formats::identity::{Identity, SessionId, ed25519_pk_to_x25519};
use crate::formats::keys::decode_hex32;
use crate::formats::limits::SYNC_PRESENCE_SEALED_BYTES;

/// Domain separation of the seal and the signature.
const CONTEXT: &[u8] = b"snkit-presence-v1\0";
/// The only presence version.
const VERSION: u64 = 1;
/// Bytes of the sealed box around the plaintext: ephemeral key and AEAD tag.
const SEAL_OVERHEAD: usize = 32 + 16;
/// The signature at the head of the plaintext.
const SIG_BYTES: usize = 64;
/// The padded body's fixed length.
pub const BODY_BYTES: usize = SYNC_PRESENCE_SEALED_BYTES - SEAL_OVERHEAD - SIG_BYTES;

/// What a presence says (the sender is in the opened form, checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// Whether the sender has a listener running (false: no listener, or `--no-presence`).
    pub online: bool,
    /// The listening node's Ed25519 key.
    pub node: Option<[u8; 32]>,
    /// The listening session's key, the capability to deliver to it.
    pub listen_pk: Option<[u8; 32]>,
    /// Until when the presence holds, ms.
    pub expires: Option<u64>,
    /// When it was made, ms.
    pub ts: u64,
}

impl Presence {
    /// An offline presence (sealed to the same size as an online one).
    pub fn offline(ts: u64) -> Self {
        Self { online: false, node: None, listen_pk: None, expires: None, ts }
    }

    /// Whether it says the sender can be reached now: online, with a node and key, not expired.
    pub fn is_fresh(&self, now_ms: u64) -> bool {
        self.online
            && self.node.is_some()
            && self.listen_pk.is_some()
            && self.expires.is_some_and(|e| e > now_ms)
    }
}

/// An opened presence and who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedPresence {
    /// The sender (its signature checked).
    pub from: SessionId,
    /// What it says.
    pub presence: Presence,
}

#[derive(Serialize, Deserialize)]
struct Body {
    v: u64,
    from: String,
    ed25519_pk: String,
    to: String,
    online: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    listen_pk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    expires: Option<u64>,
    ts: u64,
}

fn box_key(shared: &[u8; 32], eph: &[u8; 32], recipient: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut h = Blake2b::<U32>::new();
    h.update(CONTEXT);
    h.update(shared);
    h.update(eph);
    h.update(recipient);
    Zeroizing::new(h.finalize().into())
}

fn box_nonce(eph: &[u8; 32], recipient: &[u8; 32]) -> [u8; 24] {
    let mut h = Blake2b::<U24>::new();
    h.update(CONTEXT);
    h.update(eph);
    h.update(recipient);
    h.finalize().into()
}

fn signed_bytes(eph: &[u8; 32], body: &[u8]) -> Vec<u8> {
    [CONTEXT, eph.as_slice(), body].concat()
}

/// Seals `presence` from `sender` to `to`: exactly [`SYNC_PRESENCE_SEALED_BYTES`] bytes.
pub fn seal(
    sender: &Identity,
    to: &SessionId,
    presence: &Presence,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, SyncError> {
    let body = Body {
        v: VERSION,
        from: sender.session_id().to_string(),
        ed25519_pk: hex::encode(sender.ed25519_public()),
        to: to.to_string(),
        online: presence.online,
        node: presence.node.map(hex::encode),
        listen_pk: presence.listen_pk.map(hex::encode),
        expires: presence.expires,
        ts: presence.ts,
    };
    let mut body = serde_json::to_vec(&body).map_err(|e| SyncError::Malformed(e.to_string()))?;
    if body.len() > BODY_BYTES {
        return Err(SyncError::PresenceTooLong { len: body.len(), max: BODY_BYTES });
    }
    // JSON allows trailing whitespace: the padding needs no length field.
    body.resize(BODY_BYTES, b' ');
    let eph = StaticSecret::random_from_rng(rng);
    let eph_pub = PublicKey::from(&eph).to_bytes();
    let recipient = to.x25519();
    let shared = Zeroizing::new(eph.diffie_hellman(&PublicKey::from(recipient)).to_bytes());
    if shared.iter().all(|b| *b == 0) {
        return Err(SyncError::ZeroDh);
    }
    let sig = sender.sign(&signed_bytes(&eph_pub, &body));
    let plaintext = Zeroizing::new([sig.as_slice(), &body].concat());
    let cipher = XChaCha20Poly1305::new((&*box_key(&shared, &eph_pub, &recipient)).into());
    let ct = cipher
        .encrypt(XNonce::from_slice(&box_nonce(&eph_pub, &recipient)), plaintext.as_slice())
        .map_err(|_| SyncError::Malformed("presence does not encrypt".into()))?;
    Ok([eph_pub.as_slice(), &ct].concat())
}

/// Opens a sealed presence with the recipient's identity and checks everything in it: the
/// size, the seal, the recipient, that `ed25519_pk` is the key of `from`, the signature.
pub fn open(identity: &Identity, sealed: &[u8]) -> Result<OpenedPresence, SyncError> {
    if sealed.len() != SYNC_PRESENCE_SEALED_BYTES {
        return Err(SyncError::PresenceSize { len: sealed.len(), expected: SYNC_PRESENCE_SEALED_BYTES });
    }
    let mut eph = [0u8; 32];
    eph.copy_from_slice(&sealed[..32]);
    let recipient = identity.x25519_public();
    let shared = identity.dh(&eph);
    if shared.iter().all(|b| *b == 0) {
        return Err(SyncError::ZeroDh);
    }
    let cipher = XChaCha20Poly1305::new((&*box_key(&shared, &eph, &recipient)).into());
    let plaintext = Zeroizing::new(
        cipher
            .decrypt(XNonce::from_slice(&box_nonce(&eph, &recipient)), &sealed[32..])
            .map_err(|_| SyncError::SealBroken)?,
    );
    let (sig, body_bytes) = plaintext.split_at(SIG_BYTES);
    let body: Body = serde_json::from_slice(body_bytes).map_err(|e| SyncError::Malformed(e.to_string()))?;
    if body.v != VERSION {
        return Err(SyncError::Malformed(format!("unknown presence version {}", body.v)));
    }
    let us = identity.session_id().to_string();
    if !body.to.eq_ignore_ascii_case(&us) {
        return Err(SyncError::WrongRecipient { to: body.to });
    }
    let from = SessionId::parse(&body.from).map_err(|e| SyncError::Malformed(format!("\"from\": {e}")))?;
    let ed = decode_hex32(&body.ed25519_pk)
        .map_err(|_| SyncError::Malformed("\"ed25519_pk\" must be 64 hex characters".into()))?;
    if ed25519_pk_to_x25519(&ed) != Some(from.x25519()) {
        return Err(SyncError::SenderMismatch(from.to_string()));
    }
    let mut sig_bytes = [0u8; 64];
    sig_bytes.copy_from_slice(sig);
    VerifyingKey::from_bytes(&ed)
        .and_then(|vk| vk.verify_strict(&signed_bytes(&eph, body_bytes), &Signature::from_bytes(&sig_bytes)))
        .map_err(|_| SyncError::BadSignature(from.to_string()))?;
    let key = |v: Option<String>, what: &str| -> Result<Option<[u8; 32]>, SyncError> {
        v.map(|s| decode_hex32(&s).map_err(|_| SyncError::Malformed(format!("\"{what}\" must be 64 hex"))))
            .transpose()
    };
    let presence = Presence {
        online: body.online,
        node: key(body.node, "node")?,
        listen_pk: key(body.listen_pk, "listen_pk")?,
        expires: body.expires,
        ts: body.ts,
    };
    Ok(OpenedPresence { from, presence })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn online() -> Presence {
        Presence {
            online: true,
            node: Some([7; 32]),
            listen_pk: Some([9; 32]),
            expires: Some(u64::MAX / 2),
            ts: 1_700_000_000_000,
        }
    }

    #[test]
    fn test_presence_round_trips_and_is_fresh() {
        let (alice, bob) = (Identity::generate(), Identity::generate());
        let sealed = seal(&alice, &bob.session_id(), &online(), &mut rand::thread_rng()).unwrap();
        let opened = open(&bob, &sealed).unwrap();
        assert_eq!(opened.from, alice.session_id());
        assert_eq!(opened.presence, online());
        assert!(opened.presence.is_fresh(1_700_000_000_000));
        assert!(!Presence::offline(1).is_fresh(0));
    }

    #[test]
    fn test_online_and_offline_seal_to_one_size() {
        let (alice, bob) = (Identity::generate(), Identity::generate());
        let a = seal(&alice, &bob.session_id(), &online(), &mut rand::thread_rng()).unwrap();
        let b =
            seal(&alice, &bob.session_id(), &Presence::offline(u64::MAX), &mut rand::thread_rng()).unwrap();
        assert_eq!(a.len(), SYNC_PRESENCE_SEALED_BYTES);
        assert_eq!(b.len(), SYNC_PRESENCE_SEALED_BYTES);
        assert!(!open(&bob, &b).unwrap().presence.online);
    }

    #[test]
    fn test_tampered_foreign_or_resized_presence_is_refused() {
        let (alice, bob, eve) = (Identity::generate(), Identity::generate(), Identity::generate());
        let mut sealed = seal(&alice, &bob.session_id(), &online(), &mut rand::thread_rng()).unwrap();
        assert_eq!(open(&eve, &sealed), Err(SyncError::SealBroken));
        assert!(matches!(open(&bob, &sealed[1..]), Err(SyncError::PresenceSize { .. })));
        sealed[100] ^= 1;
        assert_eq!(open(&bob, &sealed), Err(SyncError::SealBroken));
    }

    #[test]
    fn test_presence_signed_by_another_key_is_refused() {
        // Eve seals a body that claims to be from Alice: the key does not map to `from`.
        let (alice, bob, eve) = (Identity::generate(), Identity::generate(), Identity::generate());
        let body = Body {
            v: 1,
            from: alice.session_id().to_string(),
            ed25519_pk: hex::encode(eve.ed25519_public()),
            to: bob.session_id().to_string(),
            online: true,
            node: None,
            listen_pk: None,
            expires: None,
            ts: 1,
        };
        let mut body = serde_json::to_vec(&body).unwrap();
        body.resize(BODY_BYTES, b' ');
        let eph = StaticSecret::random_from_rng(rand::thread_rng());
        let eph_pub = PublicKey::from(&eph).to_bytes();
        let r = bob.x25519_public();
        let shared = eph.diffie_hellman(&PublicKey::from(r)).to_bytes();
        let sig = eve.sign(&signed_bytes(&eph_pub, &body));
        let pt = [sig.as_slice(), &body].concat();
        let ct = XChaCha20Poly1305::new((&*box_key(&shared, &eph_pub, &r)).into())
            .encrypt(XNonce::from_slice(&box_nonce(&eph_pub, &r)), pt.as_slice())
            .unwrap();
        let sealed = [eph_pub.as_slice(), &ct].concat();
        assert_eq!(open(&bob, &sealed), Err(SyncError::SenderMismatch(alice.session_id().to_string())));
    }

    #[test]
    fn test_largest_presence_fits() {
        let (alice, bob) = (Identity::generate(), Identity::generate());
        let p = Presence { expires: Some(u64::MAX), ts: u64::MAX, ..online() };
        assert!(seal(&alice, &bob.session_id(), &p, &mut rand::thread_rng()).is_ok());
    }
}
