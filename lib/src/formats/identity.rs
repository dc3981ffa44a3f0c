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
const SESSION_ID_PREFIX: u8 = 0x05;
/// Hex length of a Session ID: prefix byte + 32-byte key.
const SESSION_ID_HEX_LEN: usize = 66;

/// Why an identity or a Session ID was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    /// The seed is neither 16 nor 32 bytes.
    #[error("seed must be 16 or 32 bytes (32 or 64 hex characters), got {0} bytes")]
    SeedLength(usize),
    /// The seed is not hex.
    #[error("seed is not hex: {0}")]
    SeedNotHex(String),
    /// A Session ID is not 66 hex characters.
    #[error("Session ID must be 66 hex characters ('05' + 64), got {0} characters")]
    SessionIdLength(usize),
    /// A Session ID is not hex.
    #[error("Session ID is not hex")]
    SessionIdNotHex,
    /// A Session ID does not start with `05`.
    #[error("Session ID must start with 05 (an account), got {0:02x}")]
    SessionIdPrefix(u8),
    /// The identity file does not parse.
    #[error("identity file is not valid: {0}")]
    BadFile(String),
    /// A key in the identity file differs from the one its seed derives.
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

    /// The account's Session ID: `05` and its X25519 public key.
    pub fn session_id(&self) -> SessionId {
        SessionId(self.x25519_public)
    }

    /// The Ed25519 public key.
    pub fn ed25519_public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The Ed25519 public key, as a verifying key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The Ed25519 signing key (a secret).
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The X25519 public key, derived from the Ed25519 key.
    pub fn x25519_public(&self) -> [u8; 32] {
        self.x25519_public
    }

    /// The X25519 secret key (a secret).
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
    /// The Session ID, hex.
    pub session_id: String,
    /// The Ed25519 public key, hex.
    pub ed25519_pk: String,
    /// The X25519 public key, hex.
    pub x25519_pk: String,
    /// The seed, hex (the file is a secret: written 0600).
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
fn ed25519_seed_to_x25519_secret(seed32: &[u8; 32]) -> [u8; 32] {
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

    // ---- RFC 8032 §7.1 (Ed25519) and RFC 7748 §5.2 / §6.1 (X25519) known answers ----

    fn h32(s: &str) -> [u8; 32] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    fn rfc8032(secret: &str, public: &str, message: &str, signature: &str) {
        let signing = SigningKey::from_bytes(&h32(secret));
        assert_eq!(hex::encode(signing.verifying_key().to_bytes()), public);
        let msg = hex::decode(message).unwrap();
        let sig = signing.sign(&msg);
        assert_eq!(hex::encode(sig.to_bytes()), signature);
        assert!(signing.verifying_key().verify_strict(&msg, &sig).is_ok());
        let mut tampered = msg.clone();
        tampered.push(0);
        assert!(signing.verifying_key().verify_strict(&tampered, &sig).is_err());
    }

    #[test]
    fn test_rfc8032_test1_empty_message() {
        rfc8032(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        );
    }

    #[test]
    fn test_rfc8032_test2_one_byte() {
        rfc8032(
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        );
    }

    #[test]
    fn test_rfc8032_test3_two_bytes() {
        rfc8032(
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        );
    }

    #[test]
    fn test_rfc8032_sha_abc() {
        let message = hex::encode(Sha512::digest(b"abc"));
        assert_eq!(
            message,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        rfc8032(
            "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
            "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
            &message,
            "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
        );
    }

    #[test]
    fn test_rfc8032_keys_through_identity_derivation() {
        // A 32-byte seed goes through Identity unchanged: its Ed25519 key is the RFC's.
        let id = Identity::from_seed_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap();
        assert_eq!(
            hex::encode(id.ed25519_public()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            hex::encode(id.sign(b"")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }

    #[test]
    fn test_rfc7748_scalar_mult_vectors() {
        let out = x25519_dalek::x25519(
            h32("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
            h32("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
        );
        assert_eq!(hex::encode(out), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
        let out = x25519_dalek::x25519(
            h32("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
            h32("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
        );
        assert_eq!(hex::encode(out), "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
    }

    #[test]
    fn test_rfc7748_iterated_1_and_1000() {
        let mut k = x25519_dalek::X25519_BASEPOINT_BYTES;
        let mut u = x25519_dalek::X25519_BASEPOINT_BYTES;
        for i in 1..=1000 {
            let next = x25519_dalek::x25519(k, u);
            u = k;
            k = next;
            if i == 1 {
                assert_eq!(
                    hex::encode(k),
                    "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"
                );
            }
        }
        assert_eq!(hex::encode(k), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
    }

    #[test]
    fn test_rfc7748_alice_bob() {
        let alice =
            StaticSecret::from(h32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
        let bob = StaticSecret::from(h32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
        let alice_pub = XPublicKey::from(&alice);
        let bob_pub = XPublicKey::from(&bob);
        assert_eq!(
            hex::encode(alice_pub.as_bytes()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
        );
        assert_eq!(
            hex::encode(bob_pub.as_bytes()),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
        );
        let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
        assert_eq!(hex::encode(alice.diffie_hellman(&bob_pub).as_bytes()), shared);
        assert_eq!(hex::encode(bob.diffie_hellman(&alice_pub).as_bytes()), shared);
    }
}
