//! Blinded IDs for communities (SOGS) and the file server's version blinding, byte-exact with the
//! live Session network (spec identity.md §3).
//!
//! Notation as in the spec: `a` is the account's Ed25519 secret scalar, `A = a·G` its Ed25519
//! public key, `X` its X25519 public key (the Session ID), `S` the server's 32-byte public key.
//!
//! - **blinded15**: `k = reduce(BLAKE2b-512(S))`, one factor per server. Secret `k·a`, public
//!   `k·A`, ID `15`‖hex. A Session ID only fixes `A` up to its sign, so it maps to two candidate
//!   15 IDs ([`blind15_ids`]); [`session_id_matches`] accepts both.
//! - **blinded25**: `k = reduce(BLAKE2b-512(0x05 ‖ X ‖ S))`, one factor per user and server.
//!   Public `k·|A|` (unambiguous from a Session ID); secret `±k·a`, negated when `A`'s sign bit is
//!   set so that it still matches the public key.
//! - **Signing** with a blinded keypair is ordinary Ed25519 (any verifier accepts it against the
//!   blinded public key); only the nonce derivation is specific, and it matches libsession.
//! - **07 version blinding**: a standard Ed25519 keypair from a keyed hash of the seed.

use std::fmt;

use blake2::digest::consts::{U32, U64};
use blake2::digest::{KeyInit, Mac};
use blake2::{Blake2b512, Blake2bMac, Digest};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::formats::identity::{Identity, SessionId};
use crate::formats::keys::decode_hex32;

/// ID type byte of a blinded15 key.
pub const BLINDED15_PREFIX: u8 = 0x15;
/// ID type byte of a blinded25 key.
pub const BLINDED25_PREFIX: u8 = 0x25;
/// ID type byte of a version-blinded key (file server `X-FS-Pubkey`).
pub const VERSION_BLINDED_PREFIX: u8 = 0x07;
/// Hex length of a blinded ID: prefix byte + 32-byte key.
pub const BLINDED_ID_HEX_LEN: usize = 66;

/// BLAKE2b key of the blind25 nonce seed: `h = BLAKE2b-256(key, seed32)`.
const BLIND25_SEED_KEY: &[u8] = b"SessCommBlind25_seed";
/// BLAKE2b key of the blind25 nonce: `r = reduce(BLAKE2b-512(key, h ‖ kA ‖ M))`.
const BLIND25_SIG_KEY: &[u8] = b"SessCommBlind25_sig";
/// BLAKE2b key of the version-blinded seed: `seed' = BLAKE2b-256(key, seed32)`.
const VERSION_BLIND_KEY: &[u8] = b"VersionCheckKey_sig";

/// Why a blinded key or ID could not be derived or parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlindingError {
    /// A blinded ID is not 66 hex characters.
    #[error("blinded ID must be 66 hex characters (prefix + 64), got {0} characters")]
    IdLength(usize),
    /// A blinded ID is not hex.
    #[error("blinded ID is not hex")]
    IdNotHex,
    /// A blinded ID's prefix is neither `15` nor `25`.
    #[error("blinded ID must start with 15 or 25, got {0:02x}")]
    IdPrefix(u8),
    /// A server public key is not 64 hex characters.
    #[error("server public key must be 64 hex characters (32 bytes), got {0} characters")]
    ServerKeyLength(usize),
    /// A server public key is not hex.
    #[error("server public key is not hex")]
    ServerKeyNotHex,
    /// The Session ID's X25519 key maps to no Ed25519 point.
    #[error("the Session ID's X25519 key has no Ed25519 point (u = -1)")]
    SessionIdNotOnCurve,
    /// The Session ID's Ed25519 point has a small-order component.
    #[error("the Session ID's Ed25519 point is not in the prime-order subgroup")]
    SessionIdNotInPrimeSubgroup,
    /// Blinding gave the identity point, which is no key.
    #[error("the blinding factor sends the key to the identity point")]
    BlindedToIdentity,
    /// Keyed BLAKE2b refused its key.
    #[error("keyed BLAKE2b refused its key (longer than 64 bytes)")]
    HashKeyLength,
}

/// Which blinding an ID or keypair uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlindedKind {
    /// `15`: per-server factor, sign of the real key unknown from a Session ID.
    Blind15,
    /// `25`: per-user-and-server factor, unambiguous from a Session ID.
    Blind25,
}

impl BlindedKind {
    /// The ID type byte.
    pub fn prefix(self) -> u8 {
        match self {
            Self::Blind15 => BLINDED15_PREFIX,
            Self::Blind25 => BLINDED25_PREFIX,
        }
    }
}

/// A 15 or 25 blinded ID: the type byte and a blinded Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlindedId {
    kind: BlindedKind,
    key: [u8; 32],
}

impl BlindedId {
    /// Parses `15` or `25` + 64 hex characters (case-insensitive).
    pub fn parse(s: &str) -> Result<Self, BlindingError> {
        let s = s.trim();
        if s.len() != BLINDED_ID_HEX_LEN {
            return Err(BlindingError::IdLength(s.len()));
        }
        let raw = hex::decode(s).map_err(|_| BlindingError::IdNotHex)?;
        let kind = match raw[0] {
            BLINDED15_PREFIX => BlindedKind::Blind15,
            BLINDED25_PREFIX => BlindedKind::Blind25,
            other => return Err(BlindingError::IdPrefix(other)),
        };
        let mut key = [0u8; 32];
        key.copy_from_slice(&raw[1..]);
        Ok(Self { kind, key })
    }

    /// The ID of a blinded public key.
    pub fn new(kind: BlindedKind, key: [u8; 32]) -> Self {
        Self { kind, key }
    }

    /// Which blinding the ID is (`15` or `25`).
    pub fn kind(&self) -> BlindedKind {
        self.kind
    }

    /// The blinded Ed25519 public key (the 32 bytes after the type byte).
    pub fn key(&self) -> [u8; 32] {
        self.key
    }

    /// The 33 raw bytes: type byte ‖ key.
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = self.kind.prefix();
        out[1..].copy_from_slice(&self.key);
        out
    }

    /// The Ed25519 verifying key of the blinded public key, or `None` if the bytes are not a point.
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(&self.key).ok()
    }
}

impl fmt::Display for BlindedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}{}", self.kind.prefix(), hex::encode(self.key))
    }
}

impl fmt::Debug for BlindedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlindedId({self})")
    }
}

/// Parses a server public key given as 64 hex characters.
pub fn parse_server_pubkey(s: &str) -> Result<[u8; 32], BlindingError> {
    let s = s.trim();
    if s.len() != 64 {
        return Err(BlindingError::ServerKeyLength(s.len()));
    }
    decode_hex32(s).map_err(|_| BlindingError::ServerKeyNotHex)
}

/// The two blinded15 IDs a Session ID can stand for on one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blind15Ids {
    /// `k·A'` with `A'` the Ed25519 point of `X` taken with sign bit 0: the ID when the account's
    /// real Ed25519 key has sign bit 0.
    pub positive: BlindedId,
    /// `−k·A'` (the same bytes with bit 0x80 of the last byte flipped): the ID when the real key
    /// has sign bit 1.
    pub flipped: BlindedId,
}

impl Blind15Ids {
    /// Whether `id` is either candidate.
    pub fn contains(&self, id: &BlindedId) -> bool {
        *id == self.positive || *id == self.flipped
    }
}

/// The blinded15 factor of a server: `k = reduce(BLAKE2b-512(S))` (unkeyed).
pub fn blind15_factor(server_pk: &[u8; 32]) -> Scalar {
    Scalar::from_bytes_mod_order_wide(&Blake2b512::digest(server_pk).into())
}

/// The blinded25 factor of an account on a server: `k = reduce(BLAKE2b-512(0x05 ‖ X ‖ S))`.
pub fn blind25_factor(session_id: &SessionId, server_pk: &[u8; 32]) -> Scalar {
    let mut h = Blake2b512::new();
    Digest::update(&mut h, session_id.to_bytes());
    Digest::update(&mut h, server_pk);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

/// Both candidate blinded15 IDs of a Session ID on a server (see [`Blind15Ids`]).
pub fn blind15_ids(session_id: &SessionId, server_pk: &[u8; 32]) -> Result<Blind15Ids, BlindingError> {
    let blinded = blind_point(&session_id_point(session_id)?, &blind15_factor(server_pk))?;
    Ok(Blind15Ids {
        positive: BlindedId::new(BlindedKind::Blind15, blinded.compress().to_bytes()),
        flipped: BlindedId::new(BlindedKind::Blind15, (-blinded).compress().to_bytes()),
    })
}

/// The blinded15 ID `15 ‖ k·A'` of a Session ID on a server: the [`Blind15Ids::positive`]
/// candidate, which is the account's real ID when its Ed25519 key has sign bit 0.
pub fn blind15_id(session_id: &SessionId, server_pk: &[u8; 32]) -> Result<BlindedId, BlindingError> {
    Ok(blind15_ids(session_id, server_pk)?.positive)
}

/// The blinded25 ID `25 ‖ k·A'` of a Session ID on a server (unambiguous).
pub fn blind25_id(session_id: &SessionId, server_pk: &[u8; 32]) -> Result<BlindedId, BlindingError> {
    let blinded = blind_point(&session_id_point(session_id)?, &blind25_factor(session_id, server_pk))?;
    Ok(BlindedId::new(BlindedKind::Blind25, blinded.compress().to_bytes()))
}

/// Whether the account with `session_id` is the owner of the 15 or 25 blinded ID `blinded` on the
/// server `server_pk`. A 15 ID matches if it is either candidate of [`blind15_ids`].
pub fn session_id_matches(
    session_id: &SessionId,
    blinded: &BlindedId,
    server_pk: &[u8; 32],
) -> Result<bool, BlindingError> {
    match blinded.kind() {
        BlindedKind::Blind15 => Ok(blind15_ids(session_id, server_pk)?.contains(blinded)),
        BlindedKind::Blind25 => Ok(blind25_id(session_id, server_pk)? == *blinded),
    }
}

/// A blinded keypair of an account on one server: the secret scalar `ka`, the public key `kA`
/// and the secret the signing nonces are derived from. Secrets are zeroized on drop and never
/// shown by `Debug`.
pub struct BlindedKeypair {
    kind: BlindedKind,
    secret: Zeroizing<Scalar>,
    public: [u8; 32],
    nonce_key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for BlindedKeypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindedKeypair").field("id", &self.id().to_string()).finish_non_exhaustive()
    }
}

impl BlindedKeypair {
    /// The blinded15 keypair: `ka = k·a`, `kA = ka·G`. Its nonce secret is libsession's:
    /// `SHA-512(seed32 ‖ A)[32..64]`.
    pub fn blind15(identity: &Identity, server_pk: &[u8; 32]) -> Result<Self, BlindingError> {
        #[expect(
            clippy::op_ref,
            reason = "by reference, so the secret scalar is not copied out of its Zeroizing"
        )]
        let secret = Zeroizing::new(blind15_factor(server_pk) * &*account_scalar(identity));
        let public = blinded_public(&secret)?;
        let seed32 = Zeroizing::new(identity.signing_key().to_bytes());
        let mut h = Sha512::new();
        Digest::update(&mut h, seed32.as_ref());
        Digest::update(&mut h, identity.ed25519_public());
        let digest = Zeroizing::new(<[u8; 64]>::from(h.finalize()));
        let mut nonce_key = Zeroizing::new([0u8; 32]);
        nonce_key.copy_from_slice(&digest[32..]);
        Ok(Self { kind: BlindedKind::Blind15, secret, public, nonce_key })
    }

    /// The blinded25 keypair: `k' = k`, negated when `A`'s sign bit is set; `ka = k'·a`,
    /// `kA = ka·G = k·|A|`. Its nonce secret is `BLAKE2b-256(key=SessCommBlind25_seed, seed32)`.
    pub fn blind25(identity: &Identity, server_pk: &[u8; 32]) -> Result<Self, BlindingError> {
        let k = blind25_factor(&identity.session_id(), server_pk);
        let k = if identity.ed25519_public()[31] & 0x80 != 0 { -k } else { k };
        #[expect(
            clippy::op_ref,
            reason = "by reference, so the secret scalar is not copied out of its Zeroizing"
        )]
        let secret = Zeroizing::new(k * &*account_scalar(identity));
        let public = blinded_public(&secret)?;
        let seed32 = Zeroizing::new(identity.signing_key().to_bytes());
        let nonce_key = keyed_blake2b_256(BLIND25_SEED_KEY, &[seed32.as_ref()])?;
        Ok(Self { kind: BlindedKind::Blind25, secret, public, nonce_key })
    }

    /// Which blinding the keypair is (`15` or `25`).
    pub fn kind(&self) -> BlindedKind {
        self.kind
    }

    /// The blinded public key `kA`.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The blinded ID: type byte ‖ `kA`.
    pub fn id(&self) -> BlindedId {
        BlindedId::new(self.kind, self.public)
    }

    /// The blinded secret scalar `ka` (for the blinded DM key agreement).
    pub fn secret_scalar(&self) -> &Scalar {
        &self.secret
    }

    /// An Ed25519 signature over `msg` by `ka`, verifiable against `kA` by any Ed25519 verifier:
    /// `R = r·G`, `s = r + reduce(SHA-512(R ‖ kA ‖ msg))·ka`, with the nonce `r` of the kind:
    /// blind15 `reduce(SHA-512(nonce_key ‖ kA ‖ msg))`, blind25
    /// `reduce(BLAKE2b-512(key=SessCommBlind25_sig, nonce_key ‖ kA ‖ msg))`.
    pub fn sign(&self, msg: &[u8]) -> Result<[u8; 64], BlindingError> {
        let wide = match self.kind {
            BlindedKind::Blind15 => {
                let mut h = Sha512::new();
                Digest::update(&mut h, self.nonce_key.as_ref());
                Digest::update(&mut h, self.public);
                Digest::update(&mut h, msg);
                Zeroizing::new(<[u8; 64]>::from(h.finalize()))
            }
            BlindedKind::Blind25 => {
                keyed_blake2b_512(BLIND25_SIG_KEY, &[self.nonce_key.as_ref(), &self.public, msg])?
            }
        };
        let r = Zeroizing::new(Scalar::from_bytes_mod_order_wide(&wide));
        let big_r = EdwardsPoint::mul_base(&r).compress().to_bytes();
        let mut h = Sha512::new();
        Digest::update(&mut h, big_r);
        Digest::update(&mut h, self.public);
        Digest::update(&mut h, msg);
        let challenge = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        let s = *r + challenge * *self.secret;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&big_r);
        sig[32..].copy_from_slice(s.as_bytes());
        Ok(sig)
    }
}

/// The blinded15 keypair of an account on a server.
pub fn blind15_keypair(identity: &Identity, server_pk: &[u8; 32]) -> Result<BlindedKeypair, BlindingError> {
    BlindedKeypair::blind15(identity, server_pk)
}

/// The blinded25 keypair of an account on a server.
pub fn blind25_keypair(identity: &Identity, server_pk: &[u8; 32]) -> Result<BlindedKeypair, BlindingError> {
    BlindedKeypair::blind25(identity, server_pk)
}

/// A blinded15 signature over `msg` (libsession's nonce), verifiable against the 15 key.
pub fn blind15_sign(
    identity: &Identity,
    server_pk: &[u8; 32],
    msg: &[u8],
) -> Result<[u8; 64], BlindingError> {
    BlindedKeypair::blind15(identity, server_pk)?.sign(msg)
}

/// A blinded25 signature over `msg`, verifiable against the 25 key.
pub fn blind25_sign(
    identity: &Identity,
    server_pk: &[u8; 32],
    msg: &[u8],
) -> Result<[u8; 64], BlindingError> {
    BlindedKeypair::blind25(identity, server_pk)?.sign(msg)
}

/// The version-blinded Ed25519 seed: `seed' = BLAKE2b-256(key=VersionCheckKey_sig, seed32)`.
pub fn version_blinded_seed(seed32: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>, BlindingError> {
    keyed_blake2b_256(VERSION_BLIND_KEY, &[seed32])
}

/// The file server's version-blinded keypair: a standard Ed25519 keypair from
/// [`version_blinded_seed`]; ID `07` ‖ pk. The key is zeroized on drop and never shown by `Debug`.
pub struct VersionBlindedKeypair {
    signing: SigningKey,
}

impl fmt::Debug for VersionBlindedKeypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VersionBlindedKeypair").field("id", &self.id_hex()).finish_non_exhaustive()
    }
}

impl VersionBlindedKeypair {
    /// The identity's version-blinded keypair, from its `version_blinded_seed`.
    pub fn from_identity(identity: &Identity) -> Result<Self, BlindingError> {
        let seed32 = Zeroizing::new(identity.signing_key().to_bytes());
        let blinded_seed = version_blinded_seed(&seed32)?;
        Ok(Self { signing: SigningKey::from_bytes(&blinded_seed) })
    }

    /// The version-blinded Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The public key, as a verifying key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The ID as sent in `X-FS-Pubkey`: `07` ‖ hex(pk).
    pub fn id_hex(&self) -> String {
        format!("{VERSION_BLINDED_PREFIX:02x}{}", hex::encode(self.public_key()))
    }

    /// A standard (RFC 8032) Ed25519 signature over `msg` with the version-blinded key.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }
}

/// The version-blinded keypair of an account.
pub fn version_blinded_keypair(identity: &Identity) -> Result<VersionBlindedKeypair, BlindingError> {
    VersionBlindedKeypair::from_identity(identity)
}

/// A version-blinded signature over `msg`.
pub fn version_blinded_sign(identity: &Identity, msg: &[u8]) -> Result<[u8; 64], BlindingError> {
    Ok(VersionBlindedKeypair::from_identity(identity)?.sign(msg))
}

/// The account's Ed25519 secret scalar `a` (clamped, reduced mod ℓ).
pub(crate) fn account_scalar(identity: &Identity) -> Zeroizing<Scalar> {
    Zeroizing::new(identity.signing_key().to_scalar())
}

/// `A'`: the Ed25519 point of a Session ID's X25519 key with sign bit 0, refused (as libsodium's
/// `noclamp` multiplication refuses it) unless it lies in the prime-order subgroup.
pub(crate) fn session_id_point(session_id: &SessionId) -> Result<EdwardsPoint, BlindingError> {
    let point =
        MontgomeryPoint(session_id.x25519()).to_edwards(0).ok_or(BlindingError::SessionIdNotOnCurve)?;
    if point.is_small_order() || !point.is_torsion_free() {
        return Err(BlindingError::SessionIdNotInPrimeSubgroup);
    }
    Ok(point)
}

/// `k·P`, refused if it is the identity point.
pub(crate) fn blind_point(point: &EdwardsPoint, k: &Scalar) -> Result<EdwardsPoint, BlindingError> {
    let blinded = k * point;
    if blinded.is_identity() {
        return Err(BlindingError::BlindedToIdentity);
    }
    Ok(blinded)
}

/// `ka·G` as bytes, refused if it is the identity point.
fn blinded_public(secret: &Scalar) -> Result<[u8; 32], BlindingError> {
    if *secret == Scalar::ZERO {
        return Err(BlindingError::BlindedToIdentity);
    }
    Ok(EdwardsPoint::mul_base(secret).compress().to_bytes())
}

/// Keyed BLAKE2b-256 (libsodium `crypto_generichash` with a key) over the concatenated parts.
pub(crate) fn keyed_blake2b_256(key: &[u8], parts: &[&[u8]]) -> Result<Zeroizing<[u8; 32]>, BlindingError> {
    let mut mac =
        <Blake2bMac<U32> as KeyInit>::new_from_slice(key).map_err(|_| BlindingError::HashKeyLength)?;
    for part in parts {
        Mac::update(&mut mac, part);
    }
    Ok(Zeroizing::new(mac.finalize().into_bytes().into()))
}

/// Keyed BLAKE2b-512 over the concatenated parts.
pub(crate) fn keyed_blake2b_512(key: &[u8], parts: &[&[u8]]) -> Result<Zeroizing<[u8; 64]>, BlindingError> {
    let mut mac =
        <Blake2bMac<U64> as KeyInit>::new_from_slice(key).map_err(|_| BlindingError::HashKeyLength)?;
    for part in parts {
        Mac::update(&mut mac, part);
    }
    Ok(Zeroizing::new(mac.finalize().into_bytes().into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signature;

    const SEED1: &str = "fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122";
    const SEED2: &str = "8659efdcbe0949e0f81141e6d397e8be75f45d09262f209d5950e97989eb43c7";
    const SID1: &str = "05fe94b7ad4b7f1cc1bb92671f1f0d243f226e115b33770465e82b503fc3e96e1f";
    const SID2: &str = "0505c9a9bf178fa644d44bebf628716dc7f2df3d0842e97881962c723699152073";
    const SERVER: &str = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    const SERVER0: &str = "00cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";

    fn id(seed: &str) -> Identity {
        Identity::from_seed_hex(seed).unwrap()
    }

    fn sid(s: &str) -> SessionId {
        SessionId::parse(s).unwrap()
    }

    fn server(s: &str) -> [u8; 32] {
        parse_server_pubkey(s).unwrap()
    }

    #[test]
    fn spec_seeds_give_the_spec_session_ids() {
        assert_eq!(id(SEED1).session_id().to_string(), SID1);
        assert_eq!(id(SEED2).session_id().to_string(), SID2);
        assert_eq!(id(SEED2).ed25519_public()[31] & 0x80, 0x80, "seed2's edpk has sign bit 1");
    }

    #[test]
    fn blind15_id_from_session_id_is_k_times_positive_point() {
        let s = server(SERVER);
        assert_eq!(
            blind15_id(&sid(SID1), &s).unwrap().to_string(),
            "15b74ed205f1f931e1bb1291183778a9456b835937d923b0f2e248aa3a44c07844"
        );
        assert_eq!(
            blind15_id(&sid(SID2), &s).unwrap().to_string(),
            "1561e070286ff7a71f167e92b18c709882b148d8238c8872caf414b301ba0564fd"
        );
    }

    #[test]
    fn blind15_flipped_candidate_is_the_sign_bit_flip() {
        let s = server(SERVER);
        for sid_hex in [SID1, SID2] {
            let ids = blind15_ids(&sid(sid_hex), &s).unwrap();
            let mut flipped = ids.positive.key();
            flipped[31] ^= 0x80;
            assert_eq!(ids.flipped.key(), flipped);
        }
        let ids = blind15_ids(&sid(SID2), &s).unwrap();
        assert_eq!(
            ids.flipped.to_string(),
            "1561e070286ff7a71f167e92b18c709882b148d8238c8872caf414b301ba05647d"
        );
    }

    #[test]
    fn blind15_keypair_is_positive_form_for_sign_0_and_negated_form_for_sign_1() {
        let s = server(SERVER);
        let kp1 = blind15_keypair(&id(SEED1), &s).unwrap();
        assert_eq!(kp1.id(), blind15_ids(&sid(SID1), &s).unwrap().positive);
        let kp2 = blind15_keypair(&id(SEED2), &s).unwrap();
        assert_eq!(kp2.id(), blind15_ids(&sid(SID2), &s).unwrap().flipped);
        assert_eq!(
            kp2.id().to_string(),
            "1561e070286ff7a71f167e92b18c709882b148d8238c8872caf414b301ba05647d"
        );
    }

    #[test]
    fn blind25_id_from_session_id() {
        let s = server(SERVER);
        assert_eq!(
            blind25_id(&sid(SID1), &s).unwrap().to_string(),
            "253b991dcbba44cfdb45d5b38880d95cff723309e3ece6fd01415ad5fa1dccc7ac"
        );
        assert_eq!(
            blind25_id(&sid(SID2), &s).unwrap().to_string(),
            "25a69cc6884530bf8498d22892e563716c4742f2845a7eb608de2aecbe7b6b5996"
        );
    }

    #[test]
    fn blind25_id_with_server_key_starting_00() {
        assert_eq!(
            blind25_id(&sid(SID1), &server(SERVER0)).unwrap().to_string(),
            "2598589c7885b56cbeae6ab7b4224f202815520a54995872cb1833b44db6401c8d"
        );
    }

    #[test]
    fn blind25_keypair_negates_k_for_sign_1_so_it_matches_the_session_id_form() {
        for s in [server(SERVER), server(SERVER0)] {
            for (seed, sid_hex) in [(SEED1, SID1), (SEED2, SID2)] {
                let kp = blind25_keypair(&id(seed), &s).unwrap();
                assert_eq!(kp.id(), blind25_id(&sid(sid_hex), &s).unwrap());
                assert_eq!(EdwardsPoint::mul_base(kp.secret_scalar()).compress().to_bytes(), kp.public_key());
            }
        }
    }

    #[test]
    fn blind15_sign_uses_libsession_nonce() {
        let sig = blind15_sign(&id(SEED1), &server(SERVER), b"hello").unwrap();
        assert_eq!(
            hex::encode(sig),
            "1a5ade20b43af0e16b3e591d6f86303938d7557c0ac54469dd4f5aea759f82d2\
             2cafa42587251756e133acdddd8cbec2f707a9ce09a49f2193f46a91502c5006"
        );
    }

    #[test]
    fn blind25_sign_uses_keyed_blake2b_nonce() {
        let sig = blind25_sign(&id(SEED1), &server(SERVER), b"hello").unwrap();
        assert_eq!(
            hex::encode(sig),
            "e6c57de4ac0cd278abbeef815bd88b163a037085deae789ecaaf4805884c4c3d\
             3db25f3afa856241366cb341a3a4c9bbaa2cda81d028079c956fab16a7fe6206"
        );
    }

    #[test]
    fn blinded_signatures_verify_with_standard_ed25519_against_ka() {
        let messages: [&[u8]; 3] = [b"hello", b"", b"1234567890GET/room/lobby"];
        for seed in [SEED1, SEED2] {
            let ident = id(seed);
            for s in [server(SERVER), server(SERVER0)] {
                let pairs = [blind15_keypair(&ident, &s).unwrap(), blind25_keypair(&ident, &s).unwrap()];
                for kp in &pairs {
                    let vk = kp.id().verifying_key().unwrap();
                    for msg in messages {
                        let sig = Signature::from_bytes(&kp.sign(msg).unwrap());
                        assert!(vk.verify_strict(msg, &sig).is_ok(), "{kp:?} {msg:?}");
                        assert!(ed25519_dalek::Verifier::verify(&vk, msg, &sig).is_ok());
                        assert!(vk.verify_strict(b"other", &sig).is_err());
                    }
                }
            }
        }
        let vk = blind15_keypair(&id(SEED1), &server(SERVER)).unwrap().id().verifying_key().unwrap();
        let sig = blind15_sign(&id(SEED1), &server(SERVER), b"hello").unwrap();
        assert!(vk.verify_strict(b"hello", &Signature::from_bytes(&sig)).is_ok());
        let vk = blind25_keypair(&id(SEED1), &server(SERVER)).unwrap().id().verifying_key().unwrap();
        let sig = blind25_sign(&id(SEED1), &server(SERVER), b"hello").unwrap();
        assert!(vk.verify_strict(b"hello", &Signature::from_bytes(&sig)).is_ok());
    }

    #[test]
    fn version_blinding_seed_key_and_signature() {
        let ident = id(SEED1);
        let seed32 = ident.signing_key().to_bytes();
        assert_eq!(
            hex::encode(version_blinded_seed(&seed32).unwrap().as_ref()),
            "91faddc2c36da4f7bcf24fd977d9ca5346ae7489cfd43c58cad9eaaa6ed60f69"
        );
        let kp = version_blinded_keypair(&ident).unwrap();
        assert_eq!(
            hex::encode(kp.public_key()),
            "88e8adb27e7b8ce776fcc25bc1501fb2888fcac0308e52fb10044f789ae1a8fa"
        );
        assert_eq!(kp.id_hex(), "0788e8adb27e7b8ce776fcc25bc1501fb2888fcac0308e52fb10044f789ae1a8fa");
        let msg = b"1234567890GET/session_version?platform=desktop";
        let sig = version_blinded_sign(&ident, msg).unwrap();
        assert_eq!(
            hex::encode(sig),
            "143c2c9828f7680ee81e6247bc7aa4777c49\
             91add87cd724149b00452bed4e920fa57daf4627c68f43fcbddb2d465d5ea11def523f3befb2bbee39c769676305"
        );
        assert!(kp.verifying_key().verify_strict(msg, &Signature::from_bytes(&sig)).is_ok());
    }

    #[test]
    fn pysogs_blinding_vectors() {
        let ident = id("880adf5164a79bce71f7387fbc2cb2693c0bf0ab4cb42bf1edafddade7527a66");
        let s = server("6a32c7b491f4199dd1260a4cc60ae51c6bd71dad939cc521e738409f53f943be");
        let id15 = "15cef185d46b60a548641bd8c5baa4b7cf90b7da8e883c0ac774c703d249086479";
        let id25 = "25dd332c1de0038e5b5b6d2d037569c343d1e18500a94716f108f1918c0879ce3b";
        assert_eq!(blind15_keypair(&ident, &s).unwrap().id().to_string(), id15);
        assert!(blind15_ids(&ident.session_id(), &s).unwrap().contains(&BlindedId::parse(id15).unwrap()));
        assert_eq!(blind25_keypair(&ident, &s).unwrap().id().to_string(), id25);
        assert_eq!(blind25_id(&ident.session_id(), &s).unwrap().to_string(), id25);
    }

    #[test]
    fn match_accepts_both_15_candidates_and_the_25_id_and_rejects_others() {
        let s = server(SERVER);
        for sid_hex in [SID1, SID2] {
            let session = sid(sid_hex);
            let ids = blind15_ids(&session, &s).unwrap();
            assert!(session_id_matches(&session, &ids.positive, &s).unwrap());
            assert!(session_id_matches(&session, &ids.flipped, &s).unwrap());
            let id25 = blind25_id(&session, &s).unwrap();
            assert!(session_id_matches(&session, &id25, &s).unwrap());
            // The same key under the other prefix is a different ID.
            let as15 = BlindedId::new(BlindedKind::Blind15, id25.key());
            assert!(!session_id_matches(&session, &as15, &s).unwrap());
            // Another server's IDs do not match.
            let other = blind15_ids(&session, &server(SERVER0)).unwrap();
            assert!(!session_id_matches(&session, &other.positive, &s).unwrap());
            assert!(
                !session_id_matches(&session, &blind25_id(&session, &server(SERVER0)).unwrap(), &s).unwrap()
            );
        }
        // Another account's IDs do not match.
        let other = blind15_ids(&sid(SID2), &s).unwrap();
        assert!(!session_id_matches(&sid(SID1), &other.positive, &s).unwrap());
        assert!(!session_id_matches(&sid(SID1), &other.flipped, &s).unwrap());
        assert!(!session_id_matches(&sid(SID1), &blind25_id(&sid(SID2), &s).unwrap(), &s).unwrap());
        // A real keypair's ID always matches its own Session ID.
        for seed in [SEED1, SEED2] {
            let ident = id(seed);
            for kp in [blind15_keypair(&ident, &s).unwrap(), blind25_keypair(&ident, &s).unwrap()] {
                assert!(session_id_matches(&ident.session_id(), &kp.id(), &s).unwrap());
            }
        }
    }

    #[test]
    fn blinded_id_parsing_rules() {
        let s = "15b74ed205f1f931e1bb1291183778a9456b835937d923b0f2e248aa3a44c07844";
        let parsed = BlindedId::parse(&s.to_uppercase()).unwrap();
        assert_eq!(parsed.kind(), BlindedKind::Blind15);
        assert_eq!(parsed.to_string(), s);
        assert_eq!(parsed.to_bytes()[0], 0x15);
        assert_eq!(BlindedId::parse("15ab"), Err(BlindingError::IdLength(4)));
        assert_eq!(BlindedId::parse(&format!("zz{}", &s[2..])), Err(BlindingError::IdNotHex));
        assert_eq!(BlindedId::parse(&format!("05{}", &s[2..])), Err(BlindingError::IdPrefix(5)));
        assert_eq!(parse_server_pubkey("abcd"), Err(BlindingError::ServerKeyLength(4)));
        assert_eq!(parse_server_pubkey(&"g".repeat(64)), Err(BlindingError::ServerKeyNotHex));
    }

    #[test]
    fn session_id_without_prime_order_point_is_refused() {
        // u = 0 maps to the order-4 point (0, -1).
        let zero = SessionId::from_x25519([0u8; 32]);
        assert_eq!(blind25_id(&zero, &server(SERVER)), Err(BlindingError::SessionIdNotInPrimeSubgroup));
        // u = -1 (p - 1) has no Edwards point.
        let mut minus_one = [0xffu8; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        let minus_one = SessionId::from_x25519(minus_one);
        assert_eq!(blind15_ids(&minus_one, &server(SERVER)), Err(BlindingError::SessionIdNotOnCurve));
    }

    #[test]
    fn debug_never_shows_blinded_secrets() {
        let ident = id(SEED1);
        let s = server(SERVER);
        let kp15 = blind15_keypair(&ident, &s).unwrap();
        let kp25 = blind25_keypair(&ident, &s).unwrap();
        let vkp = version_blinded_keypair(&ident).unwrap();
        let shown = format!("{kp15:?} {kp25:?} {vkp:?}");
        for secret in [
            hex::encode(kp15.secret_scalar().as_bytes()),
            hex::encode(kp25.secret_scalar().as_bytes()),
            hex::encode(kp15.nonce_key.as_ref()),
            hex::encode(kp25.nonce_key.as_ref()),
            hex::encode(vkp.signing.to_bytes()),
        ] {
            assert!(!shown.contains(&secret[..16]), "{shown}");
        }
        assert!(shown.contains(&kp15.id().to_string()));
        assert!(shown.contains(&vkp.id_hex()));
    }
}
