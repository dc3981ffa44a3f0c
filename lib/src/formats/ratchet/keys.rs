//! The keys of the Double Ratchet, one small type each, with its KDF beside its constants
//! (spec ratchet.md, "Double Ratchet"): [`RootKey`] (KDF_RK), [`ChainKey`] (KDF_CK),
//! [`MessageKey`] (the seed a chain step yields) and [`MessageKeys`] (the AEAD key and nonce it
//! expands to), plus the X25519 ratchet key pair and the peer's public ratchet key.

use std::fmt;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::encoding::hex_bytes;
use super::error::RatchetError;

/// KDF_RK info string (libsignal).
const ROOT_KDF_INFO: &[u8] = b"WhisperRatchet";
/// KDF_CK: HMAC input that yields the message key seed.
const MESSAGE_KEY_SEED: u8 = 0x01;
/// KDF_CK: HMAC input that yields the next chain key.
const CHAIN_KEY_SEED: u8 = 0x02;
/// Message key expansion info string (libsignal).
const MESSAGE_KEYS_INFO: &[u8] = b"WhisperMessageKeys";
/// Bytes of message key material: 32 key, 24 nonce, 24 unused (libsignal's 80).
const MESSAGE_KEYS_LEN: usize = 80;
/// XChaCha20-Poly1305 key length.
const AEAD_KEY_LEN: usize = 32;
/// XChaCha20-Poly1305 nonce length.
const AEAD_NONCE_LEN: usize = 24;
/// Poly1305 tag length (what a ciphertext adds to its plaintext; the tests check it).
#[cfg(test)]
const AEAD_TAG_LEN: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// X25519 agreement that refuses an all-zero output (a low-order public key; spec ratchet.md).
pub fn dh(secret: &[u8; 32], public: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>, RatchetError> {
    let secret = StaticSecret::from(*secret);
    let shared = secret.diffie_hellman(&PublicKey::from(*public));
    if !shared.was_contributory() {
        return Err(RatchetError::ZeroDh);
    }
    Ok(Zeroizing::new(shared.to_bytes()))
}

/// The root key: each DH ratchet step feeds a DH output through KDF_RK.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RootKey(#[serde(with = "hex_bytes")] [u8; 32]);

impl RootKey {
    /// A root key from its bytes.
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    /// KDF_RK(rk, dh_out) = HKDF-SHA256(salt = rk, IKM = dh_out, info "WhisperRatchet", 64 bytes)
    /// → new root key ‖ new chain key (index 0).
    pub fn step(&self, dh_out: &[u8; 32]) -> (RootKey, ChainKey) {
        let mut okm = Zeroizing::new([0u8; 64]);
        let hk = Hkdf::<Sha256>::new(Some(&self.0), dh_out);
        // 64 bytes is far below HKDF-SHA256's 8160-byte limit.
        let _ = hk.expand(ROOT_KDF_INFO, okm.as_mut());
        let (root, chain) = split_64(&okm);
        (RootKey(root), ChainKey::new(chain, 0))
    }

    #[cfg(test)]
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey(..)")
    }
}

/// Splits 64 bytes of key material into two 32-byte keys.
pub(crate) fn split_64(okm: &[u8; 64]) -> ([u8; 32], [u8; 32]) {
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    a.copy_from_slice(&okm[..32]);
    b.copy_from_slice(&okm[32..]);
    (a, b)
}

/// A chain key and the index of the next message it makes a key for.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
pub struct ChainKey {
    #[serde(with = "hex_bytes")]
    key: [u8; 32],
    index: u32,
}

impl ChainKey {
    /// A chain key from its bytes and the index of its next message.
    pub fn new(key: [u8; 32], index: u32) -> Self {
        Self { key, index }
    }

    /// Index of the next message on this chain.
    pub fn index(&self) -> u32 {
        self.index
    }

    fn hmac(&self, input: u8) -> [u8; 32] {
        // HMAC takes keys of any length.
        let mut mac = match <HmacSha256 as Mac>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable_hmac(),
        };
        mac.update(&[input]);
        mac.finalize().into_bytes().into()
    }

    /// KDF_CK, first half: the seed of message `index` = HMAC-SHA256(ck, 0x01).
    pub fn message_key(&self) -> MessageKey {
        MessageKey { seed: self.hmac(MESSAGE_KEY_SEED), index: self.index }
    }

    /// KDF_CK, second half: the next chain key = HMAC-SHA256(ck, 0x02).
    pub fn next(&self) -> Result<ChainKey, RatchetError> {
        let index = self.index.checked_add(1).ok_or(RatchetError::ChainExhausted)?;
        Ok(ChainKey { key: self.hmac(CHAIN_KEY_SEED), index })
    }

    #[cfg(test)]
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.key
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainKey").field("index", &self.index).finish_non_exhaustive()
    }
}

#[cold]
fn unreachable_hmac() -> ! {
    // HMAC-SHA256 accepts every key length; reaching this is a programming error.
    std::process::abort()
}

/// The 32-byte seed of one message key and the index it belongs to (what skipped keys store).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
pub struct MessageKey {
    #[serde(with = "hex_bytes")]
    seed: [u8; 32],
    index: u32,
}

impl MessageKey {
    /// The index of the message this key is for.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// HKDF-SHA256(salt = 32 zero bytes, IKM = seed, info "WhisperMessageKeys", 80 bytes).
    pub fn expand(&self) -> MessageKeys {
        let mut okm = Zeroizing::new([0u8; MESSAGE_KEYS_LEN]);
        let hk = Hkdf::<Sha256>::new(Some(&[0u8; 32]), &self.seed);
        // 80 bytes is far below HKDF-SHA256's limit.
        let _ = hk.expand(MESSAGE_KEYS_INFO, okm.as_mut());
        let mut keys = MessageKeys { key: [0u8; AEAD_KEY_LEN], nonce: [0u8; AEAD_NONCE_LEN] };
        keys.key.copy_from_slice(&okm[..AEAD_KEY_LEN]);
        keys.nonce.copy_from_slice(&okm[AEAD_KEY_LEN..AEAD_KEY_LEN + AEAD_NONCE_LEN]);
        keys
    }
}

impl fmt::Debug for MessageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageKey").field("index", &self.index).finish_non_exhaustive()
    }
}

/// The XChaCha20-Poly1305 key and nonce of one message (each encrypts exactly one message).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct MessageKeys {
    key: [u8; AEAD_KEY_LEN],
    nonce: [u8; AEAD_NONCE_LEN],
}

impl MessageKeys {
    /// Encrypts with associated data `ad || header`.
    pub fn seal(&self, ad: &[u8], header: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let aad = [ad, header].concat();
        let cipher = XChaCha20Poly1305::new((&self.key).into());
        // Encryption fails only for plaintexts over 256 GiB, which no caller can pass.
        cipher
            .encrypt(XNonce::from_slice(&self.nonce), Payload { msg: plaintext, aad: &aad })
            .unwrap_or_default()
    }

    /// Decrypts and verifies; any change to the ciphertext, `ad` or `header` is [`RatchetError::BadTag`].
    pub fn open(
        &self,
        ad: &[u8],
        header: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, RatchetError> {
        let aad = [ad, header].concat();
        let cipher = XChaCha20Poly1305::new((&self.key).into());
        cipher
            .decrypt(XNonce::from_slice(&self.nonce), Payload { msg: ciphertext, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| RatchetError::BadTag)
    }

    #[cfg(test)]
    pub(crate) fn key(&self) -> &[u8; 32] {
        &self.key
    }
}

impl fmt::Debug for MessageKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MessageKeys(..)")
    }
}

/// Our X25519 ratchet key pair (the sending side's key; the secret never leaves the state).
#[derive(Clone, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
pub struct RatchetKeyPair {
    #[serde(with = "hex_bytes")]
    public: [u8; 32],
    #[serde(with = "hex_bytes")]
    secret: [u8; 32],
}

impl RatchetKeyPair {
    /// A fresh ratchet keypair.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let secret = StaticSecret::random_from_rng(rng);
        Self { public: PublicKey::from(&secret).to_bytes(), secret: secret.to_bytes() }
    }

    /// A pair from a secret (the public key is recomputed).
    pub fn from_secret(secret: [u8; 32]) -> Self {
        let s = StaticSecret::from(secret);
        Self { public: PublicKey::from(&s).to_bytes(), secret: s.to_bytes() }
    }

    /// The public key.
    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    pub(crate) fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// DH with a peer's public key (all-zero output refused).
    pub fn dh(&self, their: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>, RatchetError> {
        dh(&self.secret, their)
    }

    /// Whether the stored public key matches the secret (a state-loading check).
    pub fn is_consistent(&self) -> bool {
        PublicKey::from(&StaticSecret::from(self.secret)).to_bytes() == self.public
    }
}

impl fmt::Debug for RatchetKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RatchetKeyPair").field("public", &hex::encode(self.public)).finish_non_exhaustive()
    }
}

/// The peer's public ratchet key: the direction is in the type.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RemoteRatchetKey(#[serde(with = "hex_bytes")] [u8; 32]);

impl RemoteRatchetKey {
    /// A peer's ratchet key from its bytes.
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for RemoteRatchetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemoteRatchetKey({})", hex::encode(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h32(s: &str) -> [u8; 32] {
        super::super::encoding::hex_array(s).unwrap()
    }

    /// libsignal's `test_chain_key_derivation`, re-derived (spec ratchet.md, known answers).
    #[test]
    fn test_chain_key_derivation_known_answer() {
        let ck = ChainKey::new(h32("8ab72d6f4cc5ac0d387eaf463378ddb28edd07385b1cb01250c715982e7ad48f"), 0);
        let next = ck.next().unwrap();
        assert_eq!(
            hex::encode(next.bytes()),
            "28e8f8fee54b801eef7c5cfb2f17f32c7b334485bbb70fac6ec10342a246d15d"
        );
        assert_eq!(next.index(), 1);
        let keys = ck.message_key().expand();
        assert_eq!(
            hex::encode(keys.key()),
            "bf51e9d75e0e31031051f82a2491ffc084fa298b7793bd9db620056febf45217"
        );
    }

    #[test]
    fn test_zero_dh_output_rejected() {
        let pair = RatchetKeyPair::generate(&mut rand::rngs::OsRng);
        assert_eq!(pair.dh(&[0u8; 32]).unwrap_err(), RatchetError::ZeroDh);
        // The order-8 point with u = 1 is also refused.
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(pair.dh(&one).unwrap_err(), RatchetError::ZeroDh);
    }

    #[test]
    fn test_message_keys_seal_open_and_tamper() {
        let mk = ChainKey::new([9u8; 32], 0).message_key().expand();
        let ct = mk.seal(b"ad", b"header", b"hello");
        assert_eq!(ct.len(), 5 + AEAD_TAG_LEN);
        assert_eq!(mk.open(b"ad", b"header", &ct).unwrap().as_slice(), b"hello");
        assert_eq!(mk.open(b"ad", b"headeR", &ct).unwrap_err(), RatchetError::BadTag);
        assert_eq!(mk.open(b"aD", b"header", &ct).unwrap_err(), RatchetError::BadTag);
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert_eq!(mk.open(b"ad", b"header", &bad).unwrap_err(), RatchetError::BadTag);
    }

    #[test]
    fn test_debug_shows_no_secret() {
        let pair = RatchetKeyPair::from_secret([0x42; 32]);
        let shown = format!("{pair:?} {:?} {:?}", RootKey::new([0x42; 32]), ChainKey::new([0x42; 32], 3));
        assert!(!shown.contains("4242"));
        assert!(shown.contains(&hex::encode(pair.public())));
    }
}
