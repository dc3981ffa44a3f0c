//! The hash-lock ack (spec sync.md §5.3): the sender locks an item to the recipient's X25519 key
//! and the exact bytes; only the recipient can compute the proof, the node can only check it.
//!
//! ```text
//! k          = X25519(e, R)                      (refused when all zero)
//! ack_secret = BLAKE2b-256(key = "snkit-sync-ack-v1", k ‖ E ‖ R ‖ h)
//! ack_check  = BLAKE2b-256(ack_secret)
//! ```
//! `R` is the recipient's X25519 key, `E` the sender's fresh ephemeral public key, `h` the
//! 43-character storage hash of (recipient, namespace 0, data) as ASCII. The node sees `E` and
//! `ack_check`; a proof it could forge would need `e` or `R`'s secret.

use blake2::digest::consts::U32;
use blake2::digest::{Digest, Mac};
use blake2::{Blake2b, Blake2bMac};
use rand_core::CryptoRngCore;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::SyncError;

/// The BLAKE2b key of the ack secret (domain separation from every other use of `k`).
pub const ACK_CONTEXT: &[u8] = b"snkit-sync-ack-v1";

/// What the sender sends with an item: its ephemeral key and the check of the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckLock {
    /// `E`, the sender's ephemeral X25519 public key.
    pub eph: [u8; 32],
    /// `ack_check` = BLAKE2b-256(ack_secret).
    pub check: [u8; 32],
}

fn secret_of(k: &[u8; 32], eph: &[u8; 32], recipient: &[u8; 32], hash: &str) -> Zeroizing<[u8; 32]> {
    // A 17-byte key always fits BLAKE2b's 64-byte key limit.
    let mut mac = match <Blake2bMac<U32> as Mac>::new_from_slice(ACK_CONTEXT) {
        Ok(m) => m,
        Err(_) => unreachable!("the ack context is a valid BLAKE2b key"),
    };
    mac.update(k);
    mac.update(eph);
    mac.update(recipient);
    mac.update(hash.as_bytes());
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// `ack_check` of a secret (or of a proof the node received).
pub fn check_of(secret: &[u8; 32]) -> [u8; 32] {
    Blake2b::<U32>::digest(secret).into()
}

/// The sender's side: a fresh lock on `hash` for `recipient` (its X25519 key), and the secret
/// the recipient's proof must equal.
pub fn lock(
    recipient: &[u8; 32],
    hash: &str,
    rng: &mut impl CryptoRngCore,
) -> Result<(AckLock, Zeroizing<[u8; 32]>), SyncError> {
    let e = StaticSecret::random_from_rng(rng);
    let eph = PublicKey::from(&e).to_bytes();
    let k = Zeroizing::new(e.diffie_hellman(&PublicKey::from(*recipient)).to_bytes());
    if k.iter().all(|b| *b == 0) {
        return Err(SyncError::ZeroDh);
    }
    let secret = secret_of(&k, &eph, recipient, hash);
    Ok((AckLock { eph, check: check_of(&secret) }, secret))
}

/// The recipient's side: the proof for an item received with `lock` whose bytes hash to `hash`,
/// or `None` when the lock does not match (the bytes were altered, or the item is not for us).
/// `dh` is the recipient's X25519 exchange (`Identity::dh`), `recipient` its public key.
pub fn open(
    dh: impl FnOnce(&[u8; 32]) -> Zeroizing<[u8; 32]>,
    recipient: &[u8; 32],
    lock: &AckLock,
    hash: &str,
) -> Option<[u8; 32]> {
    let k = dh(&lock.eph);
    if k.iter().all(|b| *b == 0) {
        return None;
    }
    let secret = secret_of(&k, &lock.eph, recipient, hash);
    (check_of(&secret) == lock.check).then_some(*secret)
}

/// The node's check before it releases a waiting deliver.
pub fn proof_matches(proof: &[u8; 32], check: &[u8; 32]) -> bool {
    check_of(proof) == *check
}

/// The sender's comparison of a proof with its secret, in constant time (no early exit).
pub fn proof_is_secret(proof: &[u8; 32], secret: &[u8; 32]) -> bool {
    proof.iter().zip(secret.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::identity::Identity;
    use crate::formats::keys::Pubkey;
    use crate::formats::rpc::message_hash;

    fn hash_for(id: &Identity, data: &[u8]) -> String {
        message_hash(&Pubkey::from(id.session_id()), 0, data)
    }

    #[test]
    fn test_recipient_opens_and_node_checks() {
        let bob = Identity::generate();
        let h = hash_for(&bob, b"hello");
        let (lock, secret) = lock(&bob.x25519_public(), &h, &mut rand::thread_rng()).unwrap();
        let proof = open(|e| bob.dh(e), &bob.x25519_public(), &lock, &h).unwrap();
        assert!(proof_matches(&proof, &lock.check));
        assert!(proof_is_secret(&proof, &secret));
    }

    #[test]
    fn test_altered_bytes_or_wrong_recipient_give_no_proof() {
        let bob = Identity::generate();
        let eve = Identity::generate();
        let h = hash_for(&bob, b"hello");
        let (lock, _) = lock(&bob.x25519_public(), &h, &mut rand::thread_rng()).unwrap();
        // One changed byte: another hash, no valid proof.
        assert!(open(|e| bob.dh(e), &bob.x25519_public(), &lock, &hash_for(&bob, b"hellp")).is_none());
        // Someone else's key cannot open it.
        assert!(open(|e| eve.dh(e), &eve.x25519_public(), &lock, &h).is_none());
    }

    #[test]
    fn test_node_cannot_forge_a_proof() {
        // What the node sees is E and ack_check; any proof it makes up (say the check itself, or
        // a hash of what it saw) fails the sender's comparison and, but for a preimage, its own.
        let bob = Identity::generate();
        let h = hash_for(&bob, b"x");
        let (lock, secret) = lock(&bob.x25519_public(), &h, &mut rand::thread_rng()).unwrap();
        for forged in [lock.check, lock.eph, check_of(&lock.eph), [0u8; 32]] {
            assert!(!proof_matches(&forged, &lock.check));
            assert!(!proof_is_secret(&forged, &secret));
        }
    }

    #[test]
    fn test_low_order_recipient_key_is_refused() {
        assert_eq!(lock(&[0u8; 32], "h", &mut rand::thread_rng()).err(), Some(SyncError::ZeroDh));
    }

    #[test]
    fn test_secret_is_the_documented_construction() {
        // Fixed inputs, recomputed with the primitives directly.
        let (k, e, r) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let got = secret_of(&k, &e, &r, "H");
        let mut mac = <Blake2bMac<U32> as Mac>::new_from_slice(b"snkit-sync-ack-v1").unwrap();
        mac.update(&[[1u8; 32], [2u8; 32], [3u8; 32]].concat());
        mac.update(b"H");
        let want: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(*got, want);
    }
}
