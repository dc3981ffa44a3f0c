//! A daemon's key file (a service node's, a file server's): an Ed25519 seed, from which the X25519
//! key is derived exactly as for an account (identity.md). Created on first start with mode 0600,
//! written atomically.
//!
//! Format (`<data>/key.json`):
//! `{"ed25519_seed": hex64, "pubkey_ed25519": hex64, "pubkey_x25519": hex64}`.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use x25519_dalek::StaticSecret;
use zeroize::{Zeroize, Zeroizing};

use crate::formats::identity::Identity;
use crate::net::fs as fsutil;

/// Name of the key file inside a node's data directory.
pub const KEY_FILE: &str = "key.json";

/// Why a node key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("cannot read node key file {path}: {source}")]
    Read {
        /// The key file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write node key file {path}: {source}")]
    Write {
        /// The key file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not JSON of the key file format.
    #[error("node key file {path} is not valid JSON of the node key format: {reason}")]
    Format {
        /// The key file.
        path: String,
        /// What the parser said.
        reason: String,
    },
    /// The seed is not 32 bytes of hex.
    #[error("node key file {path}: ed25519_seed must be 64 hex characters")]
    Seed {
        /// The key file.
        path: String,
    },
    /// A public key in the file is not the one the seed gives.
    #[error("node key file {path}: field {field} does not match the seed")]
    Mismatch {
        /// The key file.
        path: String,
        /// The field that differs.
        field: &'static str,
    },
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    ed25519_seed: String,
    pubkey_ed25519: String,
    pubkey_x25519: String,
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        self.ed25519_seed.zeroize();
    }
}

/// A service node's keys. The secret parts never appear in `Debug`.
pub struct NodeKeys {
    id: Identity,
}

impl fmt::Debug for NodeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeKeys")
            .field("ed25519", &hex::encode(self.ed25519_public()))
            .finish_non_exhaustive()
    }
}

impl NodeKeys {
    /// Fresh random keys.
    pub fn generate() -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, seed.as_mut());
        Self::from_seed(&seed)
    }

    /// Keys from a 32-byte Ed25519 seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        match Identity::from_seed(seed) {
            Ok(id) => Self { id },
            // A 32-byte seed is always accepted by Identity::from_seed.
            Err(_) => std::process::abort(),
        }
    }

    /// Reads a key file, re-deriving the public keys and refusing a file that does not match.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let p = path.display().to_string();
        let text = Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| KeyError::Read { path: p.clone(), source })?,
        );
        let file: KeyFile = serde_json::from_str(&text)
            .map_err(|e| KeyError::Format { path: p.clone(), reason: e.to_string() })?;
        let raw =
            Zeroizing::new(hex::decode(&file.ed25519_seed).map_err(|_| KeyError::Seed { path: p.clone() })?);
        let seed: Zeroizing<[u8; 32]> =
            Zeroizing::new(raw.as_slice().try_into().map_err(|_| KeyError::Seed { path: p.clone() })?);
        let keys = Self::from_seed(&seed);
        if !file.pubkey_ed25519.eq_ignore_ascii_case(&hex::encode(keys.ed25519_public())) {
            return Err(KeyError::Mismatch { path: p, field: "pubkey_ed25519" });
        }
        if !file.pubkey_x25519.eq_ignore_ascii_case(&hex::encode(keys.x25519_public())) {
            return Err(KeyError::Mismatch { path: p, field: "pubkey_x25519" });
        }
        Ok(keys)
    }

    /// Writes the key file (mode 0600); refuses to overwrite an existing one.
    pub fn save_new(&self, path: &Path) -> Result<(), KeyError> {
        let file = KeyFile {
            ed25519_seed: hex::encode(self.id.seed()),
            pubkey_ed25519: hex::encode(self.ed25519_public()),
            pubkey_x25519: hex::encode(self.x25519_public()),
        };
        let text = Zeroizing::new(
            serde_json::to_string_pretty(&file)
                .map_err(|e| KeyError::Format { path: path.display().to_string(), reason: e.to_string() })?,
        );
        fsutil::write_new_secret(path, text.as_bytes())
            .map_err(|source| KeyError::Write { path: path.display().to_string(), source })
    }

    /// Loads `path`, or creates it with fresh keys when it does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        if path.exists() {
            return Self::load(path);
        }
        let keys = Self::generate();
        keys.save_new(path)?;
        Ok(keys)
    }

    /// The Ed25519 public key.
    pub fn ed25519_public(&self) -> [u8; 32] {
        self.id.ed25519_public()
    }

    /// The X25519 public key derived from it (what onion requests are encrypted to).
    pub fn x25519_public(&self) -> [u8; 32] {
        self.id.x25519_public()
    }

    /// The X25519 secret key.
    pub fn x25519_secret(&self) -> &StaticSecret {
        self.id.x25519_secret()
    }

    /// The Ed25519 signing key.
    pub fn signing_key(&self) -> &ed25519_dalek::SigningKey {
        self.id.signing_key()
    }

    /// Ed25519 signature with the node key.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.id.sign(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn key_file_is_created_0600_and_reloads_the_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let a = NodeKeys::load_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let b = NodeKeys::load_or_create(&path).unwrap();
        assert_eq!(a.ed25519_public(), b.ed25519_public());
        assert_eq!(a.x25519_public(), b.x25519_public());
        assert_eq!(
            crate::formats::identity::ed25519_pk_to_x25519(&a.ed25519_public()),
            Some(a.x25519_public())
        );
    }

    #[test]
    fn tampered_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        NodeKeys::generate().save_new(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["pubkey_x25519"] = serde_json::json!(hex::encode([7u8; 32]));
        std::fs::write(&path, v.to_string()).unwrap();
        assert!(matches!(NodeKeys::load(&path), Err(KeyError::Mismatch { field: "pubkey_x25519", .. })));
    }

    #[test]
    fn debug_hides_the_seed() {
        let k = NodeKeys::from_seed(&[9u8; 32]);
        let shown = format!("{k:?}");
        assert!(!shown.contains(&hex::encode([9u8; 32])));
    }
}
