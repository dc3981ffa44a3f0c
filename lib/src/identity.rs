//! Account identities: seed → Ed25519 → X25519 → Session ID, exactly as the live Session
//! network derives them (spec identity.md §1).

use std::fmt;
use std::path::Path;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};
use x25519_dalek::{PublicKey as XPublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

/// Length of the seeds the apps generate (and the 13-word phrase encodes).
pub const SEED16_LEN: usize = 16;
/// Length of a full Ed25519 seed (the 25-word phrase).
pub const SEED32_LEN: usize = 32;
/// The Session ID type byte of an account (X25519 key follows).
pub const SESSION_ID_PREFIX: u8 = 0x05;
/// Hex length of a Session ID: prefix byte + 32-byte key.
pub const SESSION_ID_HEX_LEN: usize = 66;

/// Why an identity or a Session ID was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    #[error("seed must be 16 or 32 bytes (32 or 64 hex characters), got {0} bytes")]
    SeedLength(usize),
    #[error("seed is not hex: {0}")]
    SeedNotHex(String),
    #[error("Session ID must be 66 hex characters ('05' + 64), got {0} characters")]
    SessionIdLength(usize),
    #[error("Session ID is not hex")]
    SessionIdNotHex,
    #[error("Session ID must start with 05 (an account), got {0:02x}")]
    SessionIdPrefix(u8),
    #[error("identity file is not valid: {0}")]
    BadFile(String),
    #[error("identity file does not match its seed: field {0} differs")]
    Mismatch(&'static str),
}

/// A Session ID: the 0x05 type byte and an X25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; 32]);

impl SessionId {
    /// Parses `05` + 64 hex characters (case-insensitive).
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let s = s.trim();
        if s.len() != SESSION_ID_HEX_LEN {
            return Err(IdentityError::SessionIdLength(s.len()));
        }
        let raw = hex::decode(s).map_err(|_| IdentityError::SessionIdNotHex)?;
        if raw[0] != SESSION_ID_PREFIX {
            return Err(IdentityError::SessionIdPrefix(raw[0]));
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&raw[1..]);
        Ok(Self(key))
    }

    /// The Session ID of an X25519 public key.
    pub fn from_x25519(pk: [u8; 32]) -> Self {
        Self(pk)
    }

    /// The X25519 public key (the 32 bytes after 0x05).
    pub fn x25519(&self) -> [u8; 32] {
        self.0
    }

    /// The 33 raw bytes: 0x05 ‖ key.
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = SESSION_ID_PREFIX;
        out[1..].copy_from_slice(&self.0);
        out
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}{}", SESSION_ID_PREFIX, hex::encode(self.0))
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// An account: its seed and the keys derived from it. Secret parts are zeroized on drop and
/// never shown by `Debug`.
pub struct Identity {
    seed: Zeroizing<Vec<u8>>,
    signing: SigningKey,
    x25519_secret: StaticSecret,
    x25519_public: [u8; 32],
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity").field("session_id", &self.session_id().to_string()).finish_non_exhaustive()
    }
}

impl Identity {
    /// A fresh identity from 16 random bytes, as the apps make them.
    pub fn generate() -> Self {
        let mut seed = Zeroizing::new([0u8; SEED16_LEN]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, seed.as_mut());
        // A 16-byte seed is always a valid length.
        match Self::from_seed(seed.as_ref()) {
            Ok(id) => id,
            Err(_) => unreachable_seed(),
        }
    }

    /// Derives the identity from a 16-byte seed (padded with 16 zero bytes, as the apps do) or a
    /// 32-byte Ed25519 seed used as-is.
    pub fn from_seed(seed: &[u8]) -> Result<Self, IdentityError> {
        let mut seed32 = Zeroizing::new([0u8; SEED32_LEN]);
        match seed.len() {
            SEED16_LEN => seed32[..SEED16_LEN].copy_from_slice(seed),
            SEED32_LEN => seed32.copy_from_slice(seed),
            n => return Err(IdentityError::SeedLength(n)),
        }
        let signing = SigningKey::from_bytes(&seed32);
        let x25519_secret = StaticSecret::from(ed25519_seed_to_x25519_secret(&seed32));
        let x25519_public = signing.verifying_key().to_montgomery().to_bytes();
        Ok(Self { seed: Zeroizing::new(seed.to_vec()), signing, x25519_secret, x25519_public })
    }

    /// Parses a hex seed (32 or 64 hex characters, surrounding whitespace ignored).
    pub fn from_seed_hex(hex_seed: &str) -> Result<Self, IdentityError> {
        let bytes = Zeroizing::new(
            hex::decode(hex_seed.trim()).map_err(|e| IdentityError::SeedNotHex(e.to_string()))?,
        );
        Self::from_seed(&bytes)
    }

    /// The seed as given (16 or 32 bytes).
    pub fn seed(&self) -> &[u8] {
        &self.seed
    }

    pub fn session_id(&self) -> SessionId {
        SessionId(self.x25519_public)
    }

    pub fn ed25519_public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    pub fn x25519_public(&self) -> [u8; 32] {
        self.x25519_public
    }

    pub fn x25519_secret(&self) -> &StaticSecret {
        &self.x25519_secret
    }

    /// Ed25519 signature over `msg` with the account key.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    /// X25519 agreement with a peer's public key.
    pub fn dh(&self, their_public: &[u8; 32]) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.x25519_secret.diffie_hellman(&XPublicKey::from(*their_public)).to_bytes())
    }

    /// The JSON form printed by `keygen` and read back by every command that takes `--identity`.
    pub fn to_file(&self) -> IdentityFile {
        IdentityFile {
            session_id: self.session_id().to_string(),
            ed25519_pk: hex::encode(self.ed25519_public()),
            x25519_pk: hex::encode(self.x25519_public),
            seed: hex::encode(self.seed.as_slice()),
        }
    }

    /// Reads an identity from its JSON form, re-deriving every key from the seed and refusing a
    /// file whose public fields do not match it.
    pub fn from_file(file: &IdentityFile) -> Result<Self, IdentityError> {
        let id = Self::from_seed_hex(&file.seed)?;
        let derived = id.to_file();
        if !derived.session_id.eq_ignore_ascii_case(&file.session_id) {
            return Err(IdentityError::Mismatch("session_id"));
        }
        if !derived.ed25519_pk.eq_ignore_ascii_case(&file.ed25519_pk) {
            return Err(IdentityError::Mismatch("ed25519_pk"));
        }
        if !derived.x25519_pk.eq_ignore_ascii_case(&file.x25519_pk) {
            return Err(IdentityError::Mismatch("x25519_pk"));
        }
        Ok(id)
    }

    /// Loads an identity file written by `keygen -o`.
    pub fn load(path: &Path) -> Result<Self, IdentityError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| IdentityError::BadFile(format!("{}: {e}", path.display())))?,
        );
        let file: IdentityFile = serde_json::from_str(&text)
            .map_err(|e| IdentityError::BadFile(format!("{}: {e}", path.display())))?;
        Self::from_file(&file)
    }
}

#[cold]
fn unreachable_seed() -> ! {
    // Only reachable if SEED16_LEN stopped being an accepted length: a programming error.
    std::process::abort()
}

/// The JSON object of an identity: `{"session_id", "ed25519_pk", "x25519_pk", "seed"}`, all hex.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
pub struct IdentityFile {
    pub session_id: String,
    pub ed25519_pk: String,
    pub x25519_pk: String,
    pub seed: String,
}

impl fmt::Debug for IdentityFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityFile").field("session_id", &self.session_id).finish_non_exhaustive()
    }
}

impl Drop for IdentityFile {
    fn drop(&mut self) {
        self.seed.zeroize();
    }
}

/// libsodium `crypto_sign_ed25519_sk_to_curve25519`: clamped first half of SHA-512(seed).
pub fn ed25519_seed_to_x25519_secret(seed32: &[u8; 32]) -> [u8; 32] {
    let mut h = Zeroizing::new([0u8; 64]);
    h.copy_from_slice(&Sha512::digest(seed32));
    let mut out = [0u8; 32];
    out.copy_from_slice(&h[..32]);
    out[0] &= 248;
    out[31] &= 127;
    out[31] |= 64;
    out
}

/// libsodium `crypto_sign_ed25519_pk_to_curve25519`: the birational map to Montgomery u.
/// Returns `None` for bytes that are not a valid Ed25519 point.
pub fn ed25519_pk_to_x25519(ed_pk: &[u8; 32]) -> Option<[u8; 32]> {
    VerifyingKey::from_bytes(ed_pk).ok().map(|vk| vk.to_montgomery().to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(seed: &str, ed: &str, sid: &str) {
        let id = Identity::from_seed_hex(seed).unwrap();
        assert_eq!(hex::encode(id.ed25519_public()), ed);
        assert_eq!(id.session_id().to_string(), sid);
    }

    #[test]
    fn spec_identity_vectors() {
        check(
            "000102030405060708090a0b0c0d0e0f",
            "65adc5bfb14b5363f1b50e63a431f6fe08ff5d4e8d362c1e3d4c56c9d044bfb0",
            "05ca03b8e369aeeb69fd260c2957d37b232db17a60db7a39bca9f0c0a6be135c1a",
        );
        check(
            "0123456789abcdef0123456789abcdef",
            "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7",
            "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72",
        );
        check(
            "00112233445566778899aabbccddeeff",
            "5ea34e72bb044654a6a23675690ef5ffaaf1656b02f93fb76655f9cbdbe89876",
            "05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74",
        );
        let zero = Identity::from_seed(&[0u8; 16]).unwrap();
        assert_eq!(
            zero.session_id().to_string(),
            "055bf55c73b82ebe22be80f3430667af570fae2556a6415e6b30d4065300aa947d"
        );
    }

    #[test]
    fn spec_blinding_seed_vectors() {
        check(
            "fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122",
            "f4ef873908f6a5377ba3853f0e2fa326eed9e741edf9f7d0311a3ecc66a57b32",
            "05fe94b7ad4b7f1cc1bb92671f1f0d243f226e115b33770465e82b503fc3e96e1f",
        );
        check(
            "8659efdcbe0949e0f81141e6d397e8be75f45d09262f209d5950e97989eb43c7",
            "3570b69a47dc094544c1c5089c40414bbda1ffdde8aab2617fe937ee74a5ee81",
            "0505c9a9bf178fa644d44bebf628716dc7f2df3d0842e97881962c723699152073",
        );
    }

    #[test]
    fn x25519_public_matches_base_point_multiplication() {
        for i in 0..64u8 {
            let id = Identity::from_seed(&[i; 16]).unwrap();
            let from_secret = XPublicKey::from(id.x25519_secret()).to_bytes();
            assert_eq!(from_secret, id.x25519_public());
            assert_eq!(ed25519_pk_to_x25519(&id.ed25519_public()), Some(id.x25519_public()));
        }
    }

    #[test]
    fn bad_seeds_are_refused() {
        assert_eq!(Identity::from_seed(&[0u8; 15]).unwrap_err(), IdentityError::SeedLength(15));
        assert!(matches!(Identity::from_seed_hex("zz"), Err(IdentityError::SeedNotHex(_))));
    }

    #[test]
    fn session_id_parsing() {
        let s = "05ca03b8e369aeeb69fd260c2957d37b232db17a60db7a39bca9f0c0a6be135c1a";
        assert_eq!(SessionId::parse(s).unwrap().to_string(), s);
        assert_eq!(SessionId::parse(&s.to_uppercase()).unwrap().to_string(), s);
        assert_eq!(SessionId::parse("05ab"), Err(IdentityError::SessionIdLength(4)));
        assert!(matches!(
            SessionId::parse(&format!("03{}", &s[2..])),
            Err(IdentityError::SessionIdPrefix(3))
        ));
    }

    #[test]
    fn debug_never_shows_the_seed() {
        let id = Identity::from_seed_hex("000102030405060708090a0b0c0d0e0f").unwrap();
        let shown = format!("{id:?} {:?}", id.to_file());
        assert!(!shown.contains("000102030405"));
    }

    #[test]
    fn file_round_trip_and_mismatch() {
        let id = Identity::generate();
        let file = id.to_file();
        let back = Identity::from_file(&file).unwrap();
        assert_eq!(back.session_id(), id.session_id());
        let mut bad = file.clone();
        bad.ed25519_pk = hex::encode([1u8; 32]);
        assert_eq!(Identity::from_file(&bad).unwrap_err(), IdentityError::Mismatch("ed25519_pk"));
    }
}
