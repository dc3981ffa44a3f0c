//! Old profile pictures: AES-256-GCM under the account's 32-byte profile key (attachments.md §3).
//!
//! `blob = nonce(12) ‖ ciphertext ‖ tag(16)`, no associated data, no padding. A blob under 29
//! bytes (no room for one byte of picture) is refused. GCM cannot stream its verification, so a
//! picture is handled in memory, bounded by [`PROFILE_MAX_BLOB_BYTES`]. New profile pictures use
//! the 'S' format with the profile-picture domain instead
//! ([`Domain::ProfilePicture`](super::stream::Domain::ProfilePicture)).

use std::fmt;

use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::formats::limits::{
    PROFILE_KEY_BYTES, PROFILE_MAX_BLOB_BYTES, PROFILE_MIN_BLOB_BYTES, PROFILE_NONCE_BYTES, PROFILE_TAG_BYTES,
};

/// Why a profile picture could not be encrypted or decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// A profile key is not `PROFILE_KEY_BYTES`.
    #[error("profile key must be {PROFILE_KEY_BYTES} bytes, got {0}")]
    KeyLength(usize),
    /// The blob is under `PROFILE_MIN_BLOB_BYTES` (nonce, tag and one byte).
    #[error(
        "profile picture blob is {0} bytes, under the {PROFILE_MIN_BLOB_BYTES}-byte minimum (nonce + tag + 1)"
    )]
    TooShort(usize),
    /// The blob is over `PROFILE_MAX_BLOB_BYTES`.
    #[error("profile picture is {0} bytes, over the {PROFILE_MAX_BLOB_BYTES}-byte limit")]
    TooLarge(usize),
    /// The picture to encrypt is empty.
    #[error("profile picture is empty")]
    Empty,
    /// The GCM tag does not verify under the key.
    #[error("invalid key or corrupted data (the GCM tag does not match)")]
    Authentication,
}

/// The 32-byte profile key (`profileKey` in the message; zeroized on drop, never in `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct ProfileKey(Zeroizing<[u8; PROFILE_KEY_BYTES]>);

impl ProfileKey {
    /// The key from its `PROFILE_KEY_BYTES` raw bytes; any other length is refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProfileError> {
        let key: [u8; PROFILE_KEY_BYTES] =
            bytes.try_into().map_err(|_| ProfileError::KeyLength(bytes.len()))?;
        Ok(Self(Zeroizing::new(key)))
    }

    /// A new random profile key.
    pub fn generate<G: RngCore + CryptoRng + ?Sized>(rng: &mut G) -> Self {
        let mut key = Zeroizing::new([0u8; PROFILE_KEY_BYTES]);
        rng.fill_bytes(key.as_mut());
        Self(key)
    }

    /// The raw key bytes (a secret: not for logs).
    pub fn as_bytes(&self) -> &[u8; PROFILE_KEY_BYTES] {
        &self.0
    }

    fn cipher(&self) -> Result<Aes256Gcm, ProfileError> {
        Aes256Gcm::new_from_slice(self.0.as_ref()).map_err(|_| ProfileError::KeyLength(PROFILE_KEY_BYTES))
    }
}

impl fmt::Debug for ProfileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProfileKey(..)")
    }
}

/// Encrypts a picture under `key` with a nonce drawn from `rng`.
pub fn encrypt<G: RngCore + CryptoRng + ?Sized>(
    key: &ProfileKey,
    picture: &[u8],
    rng: &mut G,
) -> Result<Vec<u8>, ProfileError> {
    if picture.is_empty() {
        return Err(ProfileError::Empty);
    }
    if picture.len() > PROFILE_MAX_BLOB_BYTES - PROFILE_NONCE_BYTES - PROFILE_TAG_BYTES {
        return Err(ProfileError::TooLarge(picture.len()));
    }
    let mut nonce = [0u8; PROFILE_NONCE_BYTES];
    rng.fill_bytes(&mut nonce);
    let sealed = key
        .cipher()?
        .encrypt(Nonce::from_slice(&nonce), picture)
        .map_err(|_| ProfileError::TooLarge(picture.len()))?;
    let mut blob = Vec::with_capacity(PROFILE_NONCE_BYTES + sealed.len());
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    Ok(blob)
}

/// Decrypts a profile picture blob.
pub fn decrypt(key: &ProfileKey, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProfileError> {
    if blob.len() < PROFILE_MIN_BLOB_BYTES {
        return Err(ProfileError::TooShort(blob.len()));
    }
    if blob.len() > PROFILE_MAX_BLOB_BYTES {
        return Err(ProfileError::TooLarge(blob.len()));
    }
    let (nonce, sealed) = blob.split_at(PROFILE_NONCE_BYTES);
    key.cipher()?
        .decrypt(Nonce::from_slice(nonce), sealed)
        .map(Zeroizing::new)
        .map_err(|_| ProfileError::Authentication)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn round_trip() {
        let key = ProfileKey::generate(&mut OsRng);
        for picture in [&b"x"[..], b"a small picture", &[9u8; 100_000]] {
            let blob = encrypt(&key, picture, &mut OsRng).unwrap();
            assert_eq!(blob.len(), picture.len() + PROFILE_NONCE_BYTES + PROFILE_TAG_BYTES);
            assert_eq!(decrypt(&key, &blob).unwrap().as_slice(), picture);
        }
    }

    #[test]
    fn under_29_bytes_is_refused() {
        let key = ProfileKey::generate(&mut OsRng);
        let blob = encrypt(&key, b"x", &mut OsRng).unwrap();
        assert_eq!(blob.len(), PROFILE_MIN_BLOB_BYTES);
        assert_eq!(decrypt(&key, &blob[..28]), Err(ProfileError::TooShort(28)));
        assert_eq!(decrypt(&key, &[]), Err(ProfileError::TooShort(0)));
        assert_eq!(encrypt(&key, b"", &mut OsRng), Err(ProfileError::Empty));
    }

    #[test]
    fn tampering_and_wrong_key_are_refused() {
        let key = ProfileKey::generate(&mut OsRng);
        let blob = encrypt(&key, b"a small picture", &mut OsRng).unwrap();
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 1;
            assert_eq!(decrypt(&key, &bad), Err(ProfileError::Authentication), "byte {i}");
        }
        let mut longer = blob.clone();
        longer.push(0);
        assert_eq!(decrypt(&key, &longer), Err(ProfileError::Authentication));
        let other = ProfileKey::generate(&mut OsRng);
        assert_eq!(decrypt(&other, &blob), Err(ProfileError::Authentication));
        assert_eq!(ProfileKey::from_bytes(&[0; 31]).unwrap_err(), ProfileError::KeyLength(31));
        assert_eq!(format!("{key:?}"), "ProfileKey(..)");
    }
}
