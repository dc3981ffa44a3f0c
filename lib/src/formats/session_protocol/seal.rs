//! Encryption of a 1-1 message for its recipient, and its decryption (spec session-protocol.md
//! §4): P ‖ A ‖ sig, where sig = Ed25519(sender, P ‖ A ‖ Y), sealed (libsodium `crypto_box_seal`)
//! to the recipient's X25519 key Y.

use std::fmt;

use blake2::digest::consts::{U24, U32};
use blake2::digest::{FixedOutput, KeyInit, Update};
use blake2::{Blake2b, Blake2bMac, Digest};
use crypto_box::aead::Aead;
use crypto_box::{Nonce, PublicKey as BoxPublicKey, SalsaBox, SecretKey as BoxSecretKey};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::Sha512;
use x25519_dalek::PublicKey as XPublicKey;
use zeroize::{Zeroize, Zeroizing};

use super::error::SessionProtocolError;
use crate::formats::identity::{Identity, SessionId};
use crate::formats::limits::{
    SESSION_CIPHERTEXT_OVERHEAD, SESSION_MAX_CIPHERTEXT_BYTES, SESSION_MAX_PLAINTEXT_BYTES,
};

/// Length of the sender's Ed25519 key inside the sealed box.
const ED25519_PK_LEN: usize = 32;
/// Length of the Ed25519 signature inside the sealed box.
const SIGNATURE_LEN: usize = 64;
/// Length of an X25519 key (the sealed box's ephemeral key comes first).
const X25519_LEN: usize = 32;
/// The BLAKE2b key of libsession's deterministic ephemeral seed.
const BOX_EPHEMERAL_HASH_KEY: &[u8] = b"SessionBoxEphemeralHashKey";
/// Any scalar works to tell a low-order point (clamping makes it a multiple of 8).
const LOW_ORDER_PROBE: [u8; 32] = [0x42; 32];

/// A decrypted 1-1 message: the plaintext as signed (still padded) and who signed it.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenedBox {
    /// P: the padded `Content` (see [`super::unpad`]); wiped when dropped.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The sender's Session ID: 05 ‖ X25519 form of `sender_ed25519`.
    pub sender: SessionId,
    /// A: the Ed25519 key the message was signed with.
    pub sender_ed25519: [u8; 32],
}

impl fmt::Debug for OpenedBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedBox")
            .field("sender", &self.sender)
            .field("plaintext_len", &self.plaintext.len())
            .finish_non_exhaustive()
    }
}

/// The recipient's X25519 key (checked) and what is sealed to it: `P ‖ A ‖ sig(P ‖ A ‖ Y)`.
fn signed_inner(
    sender: &Identity,
    recipient: &SessionId,
    plaintext: &[u8],
) -> Result<([u8; 32], Zeroizing<Vec<u8>>), SessionProtocolError> {
    let y = recipient.x25519();
    check_recipient(&y)?;
    Ok((y, sign_for_recipient(sender, &y, plaintext)?))
}

/// Encrypts `plaintext` (normally a padded `Content`) from `sender` to `recipient`, with a fresh
/// random ephemeral key.
pub fn encrypt_for_recipient(
    sender: &Identity,
    recipient: &SessionId,
    plaintext: &[u8],
) -> Result<Vec<u8>, SessionProtocolError> {
    let (y, inner) = signed_inner(sender, recipient, plaintext)?;
    BoxPublicKey::from(y).seal(&mut rand_core::OsRng, &inner).map_err(|_| SessionProtocolError::SealFailed)
}

/// libsession's deterministic variant (same wire format): the ephemeral key is derived from the
/// sender's seed, the recipient and the plaintext, so equal inputs give equal ciphertexts.
/// eph seed = BLAKE2b-256(key = `SessionBoxEphemeralHashKey`, seed32 ‖ Y ‖ P);
/// eph_sk = SHA-512(eph seed)[0..32], as `crypto_box_seed_keypair`.
pub fn encrypt_for_recipient_deterministic(
    sender: &Identity,
    recipient: &SessionId,
    plaintext: &[u8],
) -> Result<Vec<u8>, SessionProtocolError> {
    let (y, inner) = signed_inner(sender, recipient, plaintext)?;
    let eph = deterministic_ephemeral(sender, &y, plaintext)?;
    seal_with_ephemeral(&eph, &y, &inner)
}

/// Opens a 1-1 message sealed to `recipient`, checks the sender's signature over P ‖ A ‖ own Y and
/// returns P with the sender.
pub fn decrypt_incoming(recipient: &Identity, ciphertext: &[u8]) -> Result<OpenedBox, SessionProtocolError> {
    if ciphertext.len() < SESSION_CIPHERTEXT_OVERHEAD {
        return Err(SessionProtocolError::CiphertextTooShort(ciphertext.len()));
    }
    if ciphertext.len() > SESSION_MAX_CIPHERTEXT_BYTES {
        return Err(SessionProtocolError::CiphertextTooLong(ciphertext.len()));
    }
    let too_short = || SessionProtocolError::CiphertextTooShort(ciphertext.len());
    let (eph, _) = ciphertext.split_first_chunk::<X25519_LEN>().ok_or_else(too_short)?;
    // libsodium refuses a box whose shared secret is all zeros.
    if !recipient.x25519_secret().diffie_hellman(&XPublicKey::from(*eph)).was_contributory() {
        return Err(SessionProtocolError::EphemeralLowOrder);
    }
    let own = BoxSecretKey::from_bytes(*Zeroizing::new(recipient.x25519_secret().to_bytes()));
    let inner = Zeroizing::new(own.unseal(ciphertext).map_err(|_| SessionProtocolError::OpenFailed)?);

    let (rest, sig) = inner.split_last_chunk::<SIGNATURE_LEN>().ok_or_else(too_short)?;
    let (p, a) = rest.split_last_chunk::<ED25519_PK_LEN>().ok_or_else(too_short)?;
    let vk = VerifyingKey::from_bytes(a).map_err(|_| SessionProtocolError::SenderKeyInvalid)?;
    let signed = signed_bytes(p, a, &recipient.x25519_public());
    vk.verify_strict(&signed, &Signature::from_bytes(sig)).map_err(|_| SessionProtocolError::BadSignature)?;

    Ok(OpenedBox {
        plaintext: Zeroizing::new(p.to_vec()),
        sender: SessionId::from_x25519(vk.to_montgomery().to_bytes()),
        sender_ed25519: *a,
    })
}

/// Refuses a recipient key libsodium would not seal to (X25519 with it gives all zeros).
fn check_recipient(y: &[u8; 32]) -> Result<(), SessionProtocolError> {
    if x25519_dalek::x25519(LOW_ORDER_PROBE, *y) == [0u8; 32] {
        return Err(SessionProtocolError::RecipientLowOrder);
    }
    Ok(())
}

/// P ‖ A ‖ Y: what the sender signs.
fn signed_bytes(p: &[u8], a: &[u8; 32], y: &[u8; 32]) -> Zeroizing<Vec<u8>> {
    let mut msg = Zeroizing::new(Vec::with_capacity(p.len() + 64));
    msg.extend_from_slice(p);
    msg.extend_from_slice(a);
    msg.extend_from_slice(y);
    msg
}

/// inner = P ‖ A ‖ Ed25519(sender, P ‖ A ‖ Y).
pub(super) fn sign_for_recipient(
    sender: &Identity,
    y: &[u8; 32],
    plaintext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SessionProtocolError> {
    if plaintext.len() > SESSION_MAX_PLAINTEXT_BYTES {
        return Err(SessionProtocolError::PlaintextTooLong(plaintext.len()));
    }
    let a = sender.ed25519_public();
    let sig = sender.sign(&signed_bytes(plaintext, &a, y));
    let mut inner = Zeroizing::new(Vec::with_capacity(plaintext.len() + ED25519_PK_LEN + SIGNATURE_LEN));
    inner.extend_from_slice(plaintext);
    inner.extend_from_slice(&a);
    inner.extend_from_slice(&sig);
    Ok(inner)
}

/// The ephemeral secret of the deterministic variant.
fn deterministic_ephemeral(
    sender: &Identity,
    y: &[u8; 32],
    plaintext: &[u8],
) -> Result<BoxSecretKey, SessionProtocolError> {
    let seed32 = Zeroizing::new(sender.signing_key().to_bytes());
    let mut mac = <Blake2bMac<U32> as KeyInit>::new_from_slice(BOX_EPHEMERAL_HASH_KEY)
        .map_err(|_| SessionProtocolError::SealFailed)?;
    mac.update(seed32.as_ref());
    mac.update(y);
    mac.update(plaintext);
    let mut out = blake2::digest::Output::<Blake2bMac<U32>>::default();
    mac.finalize_into(&mut out);
    let mut eph_seed = Zeroizing::new([0u8; 32]);
    eph_seed.copy_from_slice(&out);
    out.as_mut_slice().zeroize();

    let mut h = sha2::digest::Output::<Sha512>::default();
    Digest::finalize_into(Sha512::new_with_prefix(eph_seed.as_ref()), &mut h);
    let mut eph_sk = Zeroizing::new([0u8; 32]);
    eph_sk.copy_from_slice(&h[..32]);
    h.as_mut_slice().zeroize();
    Ok(BoxSecretKey::from_bytes(*eph_sk))
}

/// A sealed box made with a given ephemeral secret: eph_pk ‖ crypto_box(inner, nonce =
/// BLAKE2b-192(eph_pk ‖ Y), eph_sk, Y), which is exactly what `crypto_box_seal` produces.
pub(super) fn seal_with_ephemeral(
    eph: &BoxSecretKey,
    y: &[u8; 32],
    inner: &[u8],
) -> Result<Vec<u8>, SessionProtocolError> {
    let eph_pk = eph.public_key();
    let mut hasher = Blake2b::<U24>::new();
    Digest::update(&mut hasher, eph_pk.as_bytes());
    Digest::update(&mut hasher, y);
    let nonce: Nonce = hasher.finalize();
    let boxed = SalsaBox::new(&BoxPublicKey::from(*y), eph)
        .encrypt(&nonce, inner)
        .map_err(|_| SessionProtocolError::SealFailed)?;
    let mut out = Vec::with_capacity(X25519_LEN + boxed.len());
    out.extend_from_slice(eph_pk.as_bytes());
    out.extend_from_slice(&boxed);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libsession tests/test_session_encrypt.cpp "Session protocol deterministic encryption".
    const DETERMINISTIC_HELLO: &str = "208f96785db92319bc7a14afecc01e17bde912d17bbb32834c03ea63b1862c2a1b730e0725ef75b2f1a276db584c59a0ed9b5497bcb9f4effa893b5cb8b04dbe7a6ab457ebf972f03b006dd4572980a725399616d40184b86aa3b7b218bdc6dd7c1adccda8ef4897f0f458492240b39079c27a6c791067ab26a03067a7602b50f0434639906f93e548f909d5286edde365ebddc146";

    fn alice() -> Identity {
        Identity::from_seed_hex("0123456789abcdef0123456789abcdef00000000000000000000000000000000").unwrap()
    }

    fn bob() -> Identity {
        Identity::from_seed_hex("00112233445566778899aabbccddeeff").unwrap()
    }

    fn carol() -> Identity {
        Identity::from_seed(&[9u8; 16]).unwrap()
    }

    #[test]
    fn spec_keys() {
        assert_eq!(
            hex::encode(alice().ed25519_public()),
            "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7"
        );
        assert_eq!(
            bob().session_id().to_string(),
            "05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74"
        );
    }

    #[test]
    fn deterministic_vector_149_bytes() {
        let bob_sid =
            SessionId::parse("05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74").unwrap();
        let ct = encrypt_for_recipient_deterministic(&alice(), &bob_sid, b"hello").unwrap();
        assert_eq!(ct.len(), 149);
        assert_eq!(hex::encode(&ct), DETERMINISTIC_HELLO);
        // The 16-byte form of the same seed gives the same bytes.
        let alice16 = Identity::from_seed_hex("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(encrypt_for_recipient_deterministic(&alice16, &bob_sid, b"hello").unwrap(), ct);

        let opened = decrypt_incoming(&bob(), &ct).unwrap();
        assert_eq!(opened.plaintext.as_slice(), b"hello");
        assert_eq!(opened.sender, alice().session_id());
        assert_eq!(
            opened.sender.to_string(),
            "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
        );
        assert_eq!(opened.sender_ed25519, alice().ed25519_public());
    }

    #[test]
    fn deterministic_opens_with_the_crates_unseal() {
        // The hand-assembled sealed box is a real crypto_box_seal: the crate's own unseal opens it.
        let ct = encrypt_for_recipient_deterministic(&alice(), &bob().session_id(), b"x").unwrap();
        let own = BoxSecretKey::from_bytes(bob().x25519_secret().to_bytes());
        let inner = own.unseal(&ct).unwrap();
        assert_eq!(inner.len(), 1 + 32 + 64);
        assert_eq!(inner[0], b'x');
    }

    #[test]
    fn random_round_trip() {
        let msg = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit";
        let c1 = encrypt_for_recipient(&alice(), &bob().session_id(), msg).unwrap();
        let c2 = encrypt_for_recipient(&alice(), &bob().session_id(), msg).unwrap();
        assert_ne!(c1, c2);
        assert_eq!(c1.len(), msg.len() + SESSION_CIPHERTEXT_OVERHEAD);
        assert!(!c1.windows(5).any(|w| w == b"Lorem"));
        for c in [&c1, &c2] {
            let opened = decrypt_incoming(&bob(), c).unwrap();
            assert_eq!(opened.plaintext.as_slice(), msg);
            assert_eq!(opened.sender, alice().session_id());
        }
        // Empty plaintext: exactly the overhead.
        let empty = encrypt_for_recipient(&alice(), &bob().session_id(), b"").unwrap();
        assert_eq!(empty.len(), SESSION_CIPHERTEXT_OVERHEAD);
        assert_eq!(decrypt_incoming(&bob(), &empty).unwrap().plaintext.as_slice(), b"");
    }

    #[test]
    fn a_flipped_bit_anywhere_is_rejected() {
        let ct = encrypt_for_recipient_deterministic(&alice(), &bob().session_id(), b"hello").unwrap();
        for i in 0..ct.len() {
            for bit in [0x01u8, 0x80] {
                let mut broken = ct.clone();
                broken[i] ^= bit;
                let err = decrypt_incoming(&bob(), &broken).unwrap_err();
                assert!(
                    matches!(err, SessionProtocolError::OpenFailed | SessionProtocolError::EphemeralLowOrder),
                    "byte {i}: {err:?}"
                );
            }
        }
    }

    #[test]
    fn another_recipients_message_is_rejected() {
        let ct = encrypt_for_recipient(&alice(), &bob().session_id(), b"for bob").unwrap();
        assert_eq!(decrypt_incoming(&carol(), &ct), Err(SessionProtocolError::OpenFailed));
        assert_eq!(decrypt_incoming(&alice(), &ct), Err(SessionProtocolError::OpenFailed));
    }

    #[test]
    fn a_forwarded_message_fails_the_signature() {
        // Bob opens Alice's message and re-seals the same P ‖ A ‖ sig to Carol: the signature
        // names Bob's key, so Carol refuses it.
        let y_bob = bob().session_id().x25519();
        let inner = sign_for_recipient(&alice(), &y_bob, b"for bob").unwrap();
        let y_carol = carol().session_id().x25519();
        let resealed = BoxPublicKey::from(y_carol).seal(&mut rand_core::OsRng, &inner).unwrap();
        assert_eq!(decrypt_incoming(&carol(), &resealed), Err(SessionProtocolError::BadSignature));
        // A tampered P under an intact box fails the signature too.
        let mut bad = inner.to_vec();
        bad[0] ^= 1;
        let resealed = BoxPublicKey::from(y_bob).seal(&mut rand_core::OsRng, &bad).unwrap();
        assert_eq!(decrypt_incoming(&bob(), &resealed), Err(SessionProtocolError::BadSignature));
        // A sender key that is not a point: the first small y with no x on the curve.
        let not_a_point = (2u8..=255)
            .map(|y| {
                let mut k = [0u8; 32];
                k[0] = y;
                k
            })
            .find(|k| VerifyingKey::from_bytes(k).is_err())
            .unwrap();
        let mut bad = inner.to_vec();
        let a_at = bad.len() - 96;
        bad[a_at..a_at + 32].copy_from_slice(&not_a_point);
        let resealed = BoxPublicKey::from(y_bob).seal(&mut rand_core::OsRng, &bad).unwrap();
        assert_eq!(decrypt_incoming(&bob(), &resealed), Err(SessionProtocolError::SenderKeyInvalid));
    }

    #[test]
    fn truncated_input_is_rejected() {
        let ct = encrypt_for_recipient(&alice(), &bob().session_id(), b"hello").unwrap();
        for n in 0..SESSION_CIPHERTEXT_OVERHEAD {
            assert_eq!(decrypt_incoming(&bob(), &ct[..n]), Err(SessionProtocolError::CiphertextTooShort(n)));
        }
        for n in SESSION_CIPHERTEXT_OVERHEAD..ct.len() {
            assert_eq!(decrypt_incoming(&bob(), &ct[..n]), Err(SessionProtocolError::OpenFailed));
        }
        let mut longer = ct.clone();
        longer.push(0);
        assert_eq!(decrypt_incoming(&bob(), &longer), Err(SessionProtocolError::OpenFailed));
    }

    #[test]
    fn length_limits() {
        let huge = vec![0u8; SESSION_MAX_CIPHERTEXT_BYTES + 1];
        assert_eq!(decrypt_incoming(&bob(), &huge), Err(SessionProtocolError::CiphertextTooLong(huge.len())));
        let max = vec![1u8; SESSION_MAX_PLAINTEXT_BYTES];
        let ct = encrypt_for_recipient(&alice(), &bob().session_id(), &max).unwrap();
        assert_eq!(ct.len(), SESSION_MAX_CIPHERTEXT_BYTES);
        assert_eq!(*decrypt_incoming(&bob(), &ct).unwrap().plaintext, max);
        let over = vec![1u8; SESSION_MAX_PLAINTEXT_BYTES + 1];
        assert_eq!(
            encrypt_for_recipient(&alice(), &bob().session_id(), &over),
            Err(SessionProtocolError::PlaintextTooLong(over.len()))
        );
    }

    #[test]
    fn low_order_keys_are_refused() {
        // u = 0 and u = 1 are low-order points.
        for u in [[0u8; 32], {
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        }] {
            let sid = SessionId::from_x25519(u);
            assert_eq!(
                encrypt_for_recipient(&alice(), &sid, b"x"),
                Err(SessionProtocolError::RecipientLowOrder)
            );
            assert_eq!(
                encrypt_for_recipient_deterministic(&alice(), &sid, b"x"),
                Err(SessionProtocolError::RecipientLowOrder)
            );
            let mut ct = encrypt_for_recipient(&alice(), &bob().session_id(), b"x").unwrap();
            ct[..32].copy_from_slice(&u);
            assert_eq!(decrypt_incoming(&bob(), &ct), Err(SessionProtocolError::EphemeralLowOrder));
        }
    }

    #[test]
    fn debug_hides_the_plaintext() {
        let ct = encrypt_for_recipient(&alice(), &bob().session_id(), b"secret words").unwrap();
        let shown = format!("{:?}", decrypt_incoming(&bob(), &ct).unwrap());
        assert!(!shown.contains("secret"));
        assert!(shown.contains("05d2ad01"));
    }
}
