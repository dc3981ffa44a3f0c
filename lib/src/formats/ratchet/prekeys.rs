//! Prekeys (spec ratchet.md, "Keys"): the signed prekey (current first, a few previous ones
//! kept for late first messages) and the one-time prekeys of one identity, and the prekey
//! bundle JSON `{"session_id", "ed25519_pk", "spk": {"id", "pub", "sig"}, "opks": [{"id", "pub"}]}`.

use std::collections::VecDeque;
use std::fmt;

use ed25519_dalek::{Signature, VerifyingKey};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};

use super::encoding::{encode_pk, hex_array, hex_bytes};
use super::error::RatchetError;
use super::keys::RatchetKeyPair;
use crate::formats::identity::{Identity, SessionId, ed25519_pk_to_x25519};
use crate::formats::keys::decode_hex32;
use crate::formats::limits::{MAX_OLD_SPKS, MAX_OPKS_PER_BUNDLE, MAX_STORED_OPKS, SPK_ROTATION_SECS};

/// Version of the prekey file format.
const PREKEYS_FORMAT: u32 = 1;

/// The bytes a signed prekey's signature covers: `Encode(spk_pub) = 0x05 || spk_pub`.
fn spk_signed_bytes(spk_pub: &[u8; 32]) -> [u8; 33] {
    encode_pk(spk_pub)
}

#[derive(Serialize, Deserialize)]
struct SignedPrekey {
    id: u32,
    pair: RatchetKeyPair,
    #[serde(with = "hex_bytes")]
    sig: [u8; 64],
    created: u64,
}

#[derive(Serialize, Deserialize)]
struct OneTimePrekey {
    id: u32,
    pair: RatchetKeyPair,
}

/// The prekeys of one identity (the `prekeys.json` of its state directory).
#[derive(Serialize, Deserialize)]
pub struct PrekeyStore {
    format: u32,
    session_id: String,
    /// Current signed prekey first.
    signed: Vec<SignedPrekey>,
    /// Oldest first.
    one_time: VecDeque<OneTimePrekey>,
    next_spk_id: u32,
    next_opk_id: u32,
}

impl fmt::Debug for PrekeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrekeyStore")
            .field("session_id", &self.session_id)
            .field("signed_ids", &self.signed.iter().map(|s| s.id).collect::<Vec<_>>())
            .field("one_time", &self.one_time.len())
            .finish_non_exhaustive()
    }
}

impl PrekeyStore {
    /// An empty store for this identity.
    pub fn new(owner: &SessionId) -> Self {
        Self {
            format: PREKEYS_FORMAT,
            session_id: owner.to_string(),
            signed: Vec::new(),
            one_time: VecDeque::new(),
            next_spk_id: 1,
            next_opk_id: 1,
        }
    }

    /// The Session ID the store belongs to.
    pub fn owner(&self) -> &str {
        &self.session_id
    }

    /// Number of one-time prekeys held.
    pub fn one_time_count(&self) -> usize {
        self.one_time.len()
    }

    /// Makes a new signed prekey when there is none or the current one is older than
    /// [`SPK_ROTATION_SECS`] (keeping [`MAX_OLD_SPKS`] previous ones), then `opks` fresh
    /// one-time prekeys, and returns the bundle that publishes them.
    pub fn publish(
        &mut self,
        identity: &Identity,
        opks: usize,
        now: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Bundle, RatchetError> {
        if opks > MAX_OPKS_PER_BUNDLE {
            return Err(RatchetError::TooLong { what: "--opks", len: opks, max: MAX_OPKS_PER_BUNDLE });
        }
        let due = self.signed.first().is_none_or(|s| now.saturating_sub(s.created) >= SPK_ROTATION_SECS);
        if due {
            let pair = RatchetKeyPair::generate(rng);
            let sig = identity.sign(&spk_signed_bytes(pair.public()));
            let id = self.next_spk_id;
            self.next_spk_id = self.next_spk_id.wrapping_add(1).max(1);
            self.signed.insert(0, SignedPrekey { id, pair, sig, created: now });
            self.signed.truncate(1 + MAX_OLD_SPKS);
        }
        let mut fresh = Vec::with_capacity(opks);
        for _ in 0..opks {
            let pair = RatchetKeyPair::generate(rng);
            let id = self.next_opk_id;
            self.next_opk_id = self.next_opk_id.wrapping_add(1).max(1);
            fresh.push(BundleOpk { id, public: hex::encode(pair.public()) });
            self.one_time.push_back(OneTimePrekey { id, pair });
        }
        while self.one_time.len() > MAX_STORED_OPKS {
            self.one_time.pop_front();
        }
        let spk = self.signed.first().ok_or_else(|| RatchetError::CorruptState("no signed prekey".into()))?;
        Ok(Bundle {
            session_id: identity.session_id().to_string(),
            ed25519_pk: hex::encode(identity.ed25519_public()),
            spk: BundleSpk { id: spk.id, public: hex::encode(spk.pair.public()), sig: hex::encode(spk.sig) },
            opks: fresh,
        })
    }

    /// The signed prekey `id`.
    pub fn signed(&self, id: u32) -> Result<&RatchetKeyPair, RatchetError> {
        self.signed
            .iter()
            .find(|s| s.id == id)
            .map(|s| &s.pair)
            .ok_or(RatchetError::UnknownPrekey { kind: "signed", id })
    }

    /// The one-time prekey `id`; one that was handed out and is gone is "used".
    pub fn one_time(&self, id: u32) -> Result<&RatchetKeyPair, RatchetError> {
        if let Some(k) = self.one_time.iter().find(|k| k.id == id) {
            return Ok(&k.pair);
        }
        if id != 0 && id < self.next_opk_id {
            Err(RatchetError::UsedPrekey { id })
        } else {
            Err(RatchetError::UnknownPrekey { kind: "one-time", id })
        }
    }

    /// Deletes a one-time prekey (after the first message naming it decrypted).
    pub fn remove_one_time(&mut self, id: u32) -> bool {
        let before = self.one_time.len();
        self.one_time.retain(|k| k.id != id);
        self.one_time.len() != before
    }

    /// Whether every key of `bundle` is one of ours (a bundle we may hand out).
    pub fn holds(&self, bundle: &VerifiedBundle) -> bool {
        let spk_ok = self.signed(bundle.spk_id).is_ok_and(|p| p.public() == &bundle.spk);
        spk_ok && bundle.opks.iter().all(|(id, pk)| self.one_time(*id).is_ok_and(|p| p.public() == pk))
    }

    /// The store as JSON bytes, to be written to its 0600 file (a secret).
    pub fn to_bytes(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, RatchetError> {
        serde_json::to_vec(self)
            .map(zeroize::Zeroizing::new)
            .map_err(|e| RatchetError::CorruptState(format!("cannot encode prekeys: {e}")))
    }

    /// Parses a store from its bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RatchetError> {
        let s: PrekeyStore = serde_json::from_slice(bytes)
            .map_err(|e| RatchetError::CorruptState(format!("prekey file does not parse: {e}")))?;
        if s.format != PREKEYS_FORMAT {
            return Err(RatchetError::CorruptState(format!("unknown prekey format {}", s.format)));
        }
        if !s.signed.iter().all(|k| k.pair.is_consistent())
            || !s.one_time.iter().all(|k| k.pair.is_consistent())
        {
            return Err(RatchetError::CorruptState("a prekey's public key does not match its secret".into()));
        }
        Ok(s)
    }
}

/// The signed prekey of a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleSpk {
    /// The prekey's id.
    pub id: u32,
    /// The public key, hex.
    #[serde(rename = "pub")]
    pub public: String,
    /// The Ed25519 signature of the public key, hex.
    pub sig: String,
}

/// A one-time prekey of a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleOpk {
    /// The prekey's id.
    pub id: u32,
    /// The public key, hex.
    #[serde(rename = "pub")]
    pub public: String,
}

/// A prekey bundle as published (JSON, hex keys).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// The owner's Session ID.
    pub session_id: String,
    /// The owner's Ed25519 key, hex.
    pub ed25519_pk: String,
    /// The signed prekey.
    pub spk: BundleSpk,
    /// The one-time prekeys (may be empty).
    #[serde(default)]
    pub opks: Vec<BundleOpk>,
}

/// A bundle whose keys parsed and whose signed prekey verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBundle {
    /// The owner's Session ID.
    pub session_id: SessionId,
    /// The owner's Ed25519 key.
    pub ed25519_pk: [u8; 32],
    /// The signed prekey's id.
    pub spk_id: u32,
    /// The signed prekey.
    pub spk: [u8; 32],
    /// The one-time prekeys, with their ids.
    pub opks: Vec<(u32, [u8; 32])>,
}

fn bundle_key(field: &str, s: &str) -> Result<[u8; 32], RatchetError> {
    decode_hex32(s)
        .map_err(|_| RatchetError::malformed(format!("prekey bundle: \"{field}\" must be 64 hex characters")))
}

impl Bundle {
    /// Parses a bundle from JSON (types only; `verify` checks the signature).
    pub fn from_json(value: &serde_json::Value) -> Result<Self, RatchetError> {
        serde_json::from_value(value.clone())
            .map_err(|e| RatchetError::malformed(format!("prekey bundle: {e}")))
    }

    /// The bundle as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Parses the keys, checks that `ed25519_pk` is the key of `session_id`, and verifies the
    /// signed prekey's signature (Ed25519 over `0x05 || spk_pub`).
    pub fn verify(&self) -> Result<VerifiedBundle, RatchetError> {
        let session_id = SessionId::parse(&self.session_id)
            .map_err(|e| RatchetError::malformed(format!("prekey bundle: \"session_id\": {e}")))?;
        let ed25519_pk = bundle_key("ed25519_pk", &self.ed25519_pk)?;
        let spk = bundle_key("spk.pub", &self.spk.public)?;
        let sig: [u8; 64] = hex_array(&self.spk.sig).ok_or_else(|| {
            RatchetError::malformed("prekey bundle: \"spk.sig\" must be 128 hex characters")
        })?;
        let mut opks = Vec::with_capacity(self.opks.len());
        for o in &self.opks {
            opks.push((o.id, bundle_key("opks.pub", &o.public)?));
        }
        if ed25519_pk_to_x25519(&ed25519_pk) != Some(session_id.x25519()) {
            return Err(RatchetError::SenderMismatch(format!(
                "the bundle's ed25519_pk is not the key of {session_id}"
            )));
        }
        let vk = VerifyingKey::from_bytes(&ed25519_pk)
            .map_err(|_| RatchetError::BadPrekeySignature { session_id: session_id.to_string() })?;
        vk.verify_strict(&spk_signed_bytes(&spk), &Signature::from_bytes(&sig))
            .map_err(|_| RatchetError::BadPrekeySignature { session_id: session_id.to_string() })?;
        Ok(VerifiedBundle { session_id, ed25519_pk, spk_id: self.spk.id, spk, opks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn test_bundle_verifies_and_rotates() {
        let id = Identity::from_seed(&[1u8; 16]).unwrap();
        let mut store = PrekeyStore::new(&id.session_id());
        let b1 = store.publish(&id, 3, 1000, &mut OsRng).unwrap();
        let v = b1.verify().unwrap();
        assert_eq!(v.opks.len(), 3);
        assert!(store.holds(&v));
        let b2 = store.publish(&id, 0, 1000 + 60, &mut OsRng).unwrap();
        assert_eq!(b2.spk, b1.spk, "not due yet");
        let b3 = store.publish(&id, 0, 1000 + SPK_ROTATION_SECS, &mut OsRng).unwrap();
        assert_ne!(b3.spk.id, b1.spk.id);
        assert!(store.signed(b1.spk.id).is_ok(), "previous signed prekey kept");
        let back = PrekeyStore::from_bytes(&store.to_bytes().unwrap()).unwrap();
        assert_eq!(back.to_bytes().unwrap(), store.to_bytes().unwrap());
    }

    #[test]
    fn test_bad_prekey_signature() {
        let id = Identity::from_seed(&[2u8; 16]).unwrap();
        let mut store = PrekeyStore::new(&id.session_id());
        let mut b = store.publish(&id, 1, 0, &mut OsRng).unwrap();
        let mut sig = hex::decode(&b.spk.sig).unwrap();
        sig[3] ^= 1;
        b.spk.sig = hex::encode(sig);
        assert!(matches!(b.verify().unwrap_err(), RatchetError::BadPrekeySignature { .. }));
        let mut b = store.publish(&id, 0, 0, &mut OsRng).unwrap();
        b.spk.public = hex::encode([9u8; 32]);
        assert!(matches!(b.verify().unwrap_err(), RatchetError::BadPrekeySignature { .. }));
        let other = Identity::from_seed(&[3u8; 16]).unwrap();
        let mut b = store.publish(&id, 0, 0, &mut OsRng).unwrap();
        b.session_id = other.session_id().to_string();
        assert!(matches!(b.verify().unwrap_err(), RatchetError::SenderMismatch(_)));
    }

    #[test]
    fn test_used_and_unknown_one_time_prekeys() {
        let id = Identity::from_seed(&[4u8; 16]).unwrap();
        let mut store = PrekeyStore::new(&id.session_id());
        let b = store.publish(&id, 2, 0, &mut OsRng).unwrap();
        let first = b.opks[0].id;
        assert!(store.one_time(first).is_ok());
        assert!(store.remove_one_time(first));
        assert_eq!(store.one_time(first).unwrap_err(), RatchetError::UsedPrekey { id: first });
        assert_eq!(
            store.one_time(999).unwrap_err(),
            RatchetError::UnknownPrekey { kind: "one-time", id: 999 }
        );
        assert!(matches!(store.signed(77).unwrap_err(), RatchetError::UnknownPrekey { kind: "signed", .. }));
    }

    #[test]
    fn test_debug_shows_no_secret() {
        let id = Identity::from_seed(&[5u8; 16]).unwrap();
        let mut store = PrekeyStore::new(&id.session_id());
        store.publish(&id, 1, 0, &mut OsRng).unwrap();
        let shown = format!("{store:?}");
        assert!(!shown.contains("secret") && !shown.contains("pair"));
    }
}
