//! The key of one onion layer and its AEAD (onion.md "Keys"). S = X25519(my_sk, their_pk).
//!
//! - aes-gcm: key = HMAC-SHA256(key = "LOKI", msg = S); wire `iv(12) ‖ ct ‖ tag(16)`, no AAD.
//! - xchacha20: key = BLAKE2b-256(S ‖ A ‖ B), A = the client's (ephemeral) public key, B = the
//!   node's public key; wire `nonce(24) ‖ ct ‖ tag(16)`, IETF XChaCha20-Poly1305, no AAD.
//!
//! The same key encrypts the request layer (client → node) and the reply (node → client).

use std::fmt;

use aes_gcm::Aes256Gcm;
use blake2::Blake2b;
use blake2::digest::consts::U32;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit};
use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::{EncType, OnionError};

/// The HMAC key of the aes-gcm key derivation.
const AES_GCM_HMAC_KEY: &[u8] = b"LOKI";
/// AES-GCM iv length.
const GCM_IV_LEN: usize = 12;
/// XChaCha20-Poly1305 nonce length.
const XCHACHA_NONCE_LEN: usize = 24;
/// AEAD tag length (both).
const TAG_LEN: usize = 16;

/// A layer's symmetric key and cipher. The client keeps the final layer's key to read the reply
/// ([`ReplyKey`]); the final node derives the same key and answers with it. Zeroized on drop;
/// `Debug` shows only the cipher.
#[derive(Clone, PartialEq, Eq)]
pub struct LayerKey {
    enc: EncType,
    key: Zeroizing<[u8; 32]>,
}

/// The key a client keeps to decrypt the final node's reply.
pub type ReplyKey = LayerKey;

impl fmt::Debug for LayerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerKey").field("enc", &self.enc).finish_non_exhaustive()
    }
}

impl LayerKey {
    /// Derives the key from our secret and their public key. `client_pk` and `server_pk` are the
    /// A and B of the xchacha20 derivation (one of them is ours).
    pub fn derive(
        enc: EncType,
        my_secret: &StaticSecret,
        their_public: &[u8; 32],
        client_pk: &[u8; 32],
        server_pk: &[u8; 32],
    ) -> Self {
        let shared = Zeroizing::new(my_secret.diffie_hellman(&PublicKey::from(*their_public)).to_bytes());
        let mut key = Zeroizing::new([0u8; 32]);
        match enc {
            EncType::AesGcm => {
                // HMAC accepts keys of any length; "LOKI" cannot be refused.
                let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(AES_GCM_HMAC_KEY) {
                    Ok(m) => m,
                    Err(_) => return Self { enc, key },
                };
                mac.update(shared.as_ref());
                key.copy_from_slice(&mac.finalize().into_bytes());
            }
            EncType::XChaCha20 => {
                let mut h = Blake2b::<U32>::new();
                h.update(shared.as_ref());
                h.update(client_pk);
                h.update(server_pk);
                key.copy_from_slice(&h.finalize());
            }
        }
        Self { enc, key }
    }

    /// The client's key for a layer: ephemeral secret with the node's public key.
    pub fn for_client(enc: EncType, ephemeral: &StaticSecret, node_pk: &[u8; 32]) -> Self {
        let eph_pk = PublicKey::from(ephemeral).to_bytes();
        Self::derive(enc, ephemeral, node_pk, &eph_pk, node_pk)
    }

    /// The node's key for a layer: its secret with the layer's ephemeral public key.
    pub fn for_node(
        enc: EncType,
        node_secret: &StaticSecret,
        node_pk: &[u8; 32],
        ephemeral_pk: &[u8; 32],
    ) -> Self {
        Self::derive(enc, node_secret, ephemeral_pk, ephemeral_pk, node_pk)
    }

    /// Rebuilds a key from its raw bytes (e.g. a reply key a script kept as hex).
    pub fn from_bytes(enc: EncType, key: [u8; 32]) -> Self {
        Self { enc, key: Zeroizing::new(key) }
    }

    /// The raw key (secret: show only on explicit request, e.g. `onion-wrap`'s `reply_key`).
    pub fn to_bytes(&self) -> [u8; 32] {
        *self.key
    }

    /// The cipher this key encrypts with.
    pub fn enc_type(&self) -> EncType {
        self.enc
    }

    /// Bytes of nonce and tag this cipher adds.
    pub fn overhead(&self) -> usize {
        match self.enc {
            EncType::AesGcm => GCM_IV_LEN + TAG_LEN,
            EncType::XChaCha20 => XCHACHA_NONCE_LEN + TAG_LEN,
        }
    }

    /// Encrypts with a fresh random nonce: `nonce ‖ ct ‖ tag`.
    pub fn encrypt<R: RngCore + CryptoRng>(&self, rng: &mut R, plaintext: &[u8]) -> Vec<u8> {
        let mut out;
        let ct = match self.enc {
            EncType::AesGcm => {
                out = vec![0u8; GCM_IV_LEN];
                rng.fill_bytes(&mut out);
                let cipher = Aes256Gcm::new(self.key.as_ref().into());
                cipher.encrypt(aes_gcm::Nonce::from_slice(&out), plaintext)
            }
            EncType::XChaCha20 => {
                out = vec![0u8; XCHACHA_NONCE_LEN];
                rng.fill_bytes(&mut out);
                let cipher = XChaCha20Poly1305::new(self.key.as_ref().into());
                cipher.encrypt(chacha20poly1305::XNonce::from_slice(&out), plaintext)
            }
        };
        // Both AEADs only fail on inputs beyond 2^36 bytes, far above every onion limit.
        out.extend(ct.unwrap_or_default());
        out
    }

    /// Decrypts `nonce ‖ ct ‖ tag`; any change to any byte fails.
    pub fn decrypt(&self, data: &[u8]) -> Result<Vec<u8>, OnionError> {
        let min = self.overhead();
        if data.len() < min {
            return Err(OnionError::CiphertextTooShort { got: data.len(), min });
        }
        match self.enc {
            EncType::AesGcm => {
                let (iv, ct) = data.split_at(GCM_IV_LEN);
                Aes256Gcm::new(self.key.as_ref().into()).decrypt(aes_gcm::Nonce::from_slice(iv), ct)
            }
            EncType::XChaCha20 => {
                let (nonce, ct) = data.split_at(XCHACHA_NONCE_LEN);
                XChaCha20Poly1305::new(self.key.as_ref().into())
                    .decrypt(chacha20poly1305::XNonce::from_slice(nonce), ct)
            }
        }
        .map_err(|_| OnionError::DecryptionFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h32(s: &str) -> [u8; 32] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    // libsession-util tests/test_onionreq.cpp, "Onion request encryption" (onion.md case 1).
    const A: &str = "bbdfc83022d0aff084a6f0c529a93d1c4d728bf7e41199afed0e01ae70d20540";
    const B: &str = "caea52c5b0c316d85ffb53ea536826618b13dee40685f166f632653114526a78";
    const SK_B: &str = "8fcd8ad3a15c76f76f1c56dff0c529999f8c59b4acda79e05666e54d5727dca1";
    const ENC_GCM: &str = "1eb6ae1cd72f60999486365749bd5dc15cc0b6a2a44d7d063daa5e93722f0c025fd00306403b61";
    const ENC_XCHACHA: &str = concat!(
        "9e1a3abe60eff3ea5c23556cc7e225b6f94355315f7281f66ecf4dbb06e7899a52b863e03cde3b28",
        "7d1638d765db75de02b032"
    );

    fn node_key(enc: EncType) -> LayerKey {
        let b = StaticSecret::from(h32(SK_B));
        assert_eq!(PublicKey::from(&b).to_bytes(), h32(B));
        LayerKey::for_node(enc, &b, &h32(B), &h32(A))
    }

    #[test]
    fn case1_gcm_decrypts_to_hello_world() {
        let pt = node_key(EncType::AesGcm).decrypt(&hex::decode(ENC_GCM).unwrap()).unwrap();
        assert_eq!(pt, b"Hello world");
    }

    #[test]
    fn case1_xchacha_decrypts_to_hello_world() {
        let pt = node_key(EncType::XChaCha20).decrypt(&hex::decode(ENC_XCHACHA).unwrap()).unwrap();
        assert_eq!(pt, b"Hello world");
    }

    #[test]
    fn case1_any_changed_byte_fails() {
        for (enc, ct) in [(EncType::AesGcm, ENC_GCM), (EncType::XChaCha20, ENC_XCHACHA)] {
            let key = node_key(enc);
            let ct = hex::decode(ct).unwrap();
            for i in 0..ct.len() {
                let mut bad = ct.clone();
                bad[i] ^= 0x01;
                assert_eq!(key.decrypt(&bad), Err(OnionError::DecryptionFailed), "{enc} byte {i}");
            }
            assert!(key.decrypt(&ct[..ct.len() - 1]).is_err());
            assert!(matches!(key.decrypt(&ct[..10]), Err(OnionError::CiphertextTooShort { .. })));
        }
        // The vector's own broken variants, and ciphers crossed.
        let gcm = node_key(EncType::AesGcm);
        assert!(gcm.decrypt(&hex::decode(ENC_XCHACHA).unwrap()).is_err());
        let broken = ENC_GCM.replacen("365749", "365759", 1);
        assert!(gcm.decrypt(&hex::decode(broken).unwrap()).is_err());
    }

    #[test]
    fn both_directions_share_the_key() {
        let mut rng = rand::rngs::OsRng;
        for enc in [EncType::AesGcm, EncType::XChaCha20] {
            let node = StaticSecret::random_from_rng(rng);
            let node_pk = PublicKey::from(&node).to_bytes();
            let eph = StaticSecret::random_from_rng(rng);
            let eph_pk = PublicKey::from(&eph).to_bytes();
            let client = LayerKey::for_client(enc, &eph, &node_pk);
            let server = LayerKey::for_node(enc, &node, &node_pk, &eph_pk);
            assert_eq!(client, server);
            let ct = client.encrypt(&mut rng, b"ping");
            assert_eq!(ct.len(), 4 + client.overhead());
            assert_eq!(server.decrypt(&ct).unwrap(), b"ping");
            assert_eq!(client.decrypt(&server.encrypt(&mut rng, b"pong")).unwrap(), b"pong");
            assert!(!format!("{client:?}").contains(&hex::encode(client.to_bytes())));
        }
    }
}
