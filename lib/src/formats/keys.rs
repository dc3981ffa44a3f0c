//! Typed public keys and their one hex codec.
//!
//! - [`Pubkey`]: what addresses a swarm and a mailbox, a type byte and 32 key bytes (spec
//!   swarms.md §1, storage-rpc.md). `05` is an account (X25519 key), `03` a group (Ed25519
//!   key); other type bytes are carried as they are.
//! - [`Ed25519Pk`], [`X25519Pk`]: bare 32-byte keys (a node's identity and onion keys, a
//!   signer), written as 64 hex characters everywhere the network prints them.
//! - [`decode_hex32`]: the one 64-hex → 32-byte decoder every format uses.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Hex length of a pubkey with its type byte.
pub const PUBKEY_HEX_LEN: usize = 66;
/// Hex length of a bare key without a type byte (accepted on testnets, type 05 assumed).
const BARE_KEY_HEX_LEN: usize = 64;
/// Type byte of an account pubkey (Session ID).
pub const ACCOUNT_TYPE: u8 = 0x05;
/// Type byte of a group pubkey (Ed25519).
pub const GROUP_TYPE: u8 = 0x03;

/// Why a pubkey was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PubkeyError {
    /// The pubkey is not 66 hex characters.
    #[error("pubkey must be 66 hex characters (type byte + 32-byte key), got {0}")]
    Length(usize),
    /// The pubkey is not hex.
    #[error("pubkey is not hex")]
    NotHex,
}

/// A type byte and a 32-byte key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pubkey {
    type_byte: u8,
    key: [u8; 32],
}

impl Pubkey {
    /// A pubkey from its type byte (`05`, `03`, ...) and 32-byte key.
    pub fn new(type_byte: u8, key: [u8; 32]) -> Self {
        Self { type_byte, key }
    }

    /// Parses 66 hex characters, or (as the live testnet allows) 64 with type 05 assumed.
    pub fn parse(s: &str) -> Result<Self, PubkeyError> {
        let s = s.trim();
        let raw = match s.len() {
            PUBKEY_HEX_LEN => hex::decode(s).map_err(|_| PubkeyError::NotHex)?,
            BARE_KEY_HEX_LEN => {
                let mut v = vec![ACCOUNT_TYPE];
                v.extend(hex::decode(s).map_err(|_| PubkeyError::NotHex)?);
                v
            }
            n => return Err(PubkeyError::Length(n)),
        };
        Self::from_bytes(&raw)
    }

    /// Parses the 33 raw bytes: type byte ‖ key.
    pub fn from_bytes(raw: &[u8]) -> Result<Self, PubkeyError> {
        if raw.len() != 33 {
            return Err(PubkeyError::Length(raw.len() * 2));
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&raw[1..]);
        Ok(Self { type_byte: raw[0], key })
    }

    /// The type byte: `05` for a Session account, `03` for a group, ...
    pub fn type_byte(&self) -> u8 {
        self.type_byte
    }

    /// The 32 key bytes (what swarm mapping and most signatures use).
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// type byte ‖ key, 33 bytes.
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = self.type_byte;
        out[1..].copy_from_slice(&self.key);
        out
    }

    /// 66 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }
}

impl From<crate::formats::identity::SessionId> for Pubkey {
    fn from(id: crate::formats::identity::SessionId) -> Self {
        Self { type_byte: ACCOUNT_TYPE, key: id.x25519() }
    }
}

impl fmt::Display for Pubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Pubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pubkey({})", self.to_hex())
    }
}

impl std::str::FromStr for Pubkey {
    type Err = PubkeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Pubkey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Pubkey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Hex length of a bare 32-byte key.
const KEY_HEX_LEN: usize = 64;

/// Why 64 hex characters were refused as a 32-byte key.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum KeyHexError {
    /// The key is not `KEY_HEX_LEN` hex characters.
    #[error("a key must be {KEY_HEX_LEN} hex characters, got {0}")]
    Length(usize),
    /// The key has a non-hex character.
    #[error("a key must be hex digits (0-9, a-f)")]
    NotHex,
}

/// Decodes exactly 64 hex characters (either case) into 32 bytes.
pub fn decode_hex32(s: &str) -> Result<[u8; 32], KeyHexError> {
    if s.len() != KEY_HEX_LEN {
        return Err(KeyHexError::Length(s.len()));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| KeyHexError::NotHex)?;
    Ok(out)
}

/// One newtype per kind of bare 32-byte public key, so that an Ed25519 key is never passed
/// where an X25519 key is expected; each prints and parses as 64 lowercase hex.
macro_rules! bare_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 32]);

        impl $name {
            /// Wraps 32 key bytes.
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// Parses 64 hex characters.
            pub fn from_hex(s: &str) -> Result<Self, KeyHexError> {
                decode_hex32(s).map(Self)
            }

            /// The 32 key bytes.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// 64 lowercase hex characters.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
        }

        /// The key bytes, so that byte-taking functions (`hex::encode`, hashers) take the key.
        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl From<[u8; 32]> for $name {
            fn from(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.to_hex())
            }
        }

        impl std::str::FromStr for $name {
            type Err = KeyHexError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_hex(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::from_hex(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

bare_key!(
    /// An Ed25519 public key: a node's identity, a signer, a group's key.
    Ed25519Pk
);
bare_key!(
    /// An X25519 public key: a node's onion key, an account's Session ID key.
    X25519Pk
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prefixed_and_bare_keys() {
        let full = "053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8";
        let pk = Pubkey::parse(full).unwrap();
        assert_eq!(pk.type_byte(), 5);
        assert_eq!(pk.to_hex(), full);
        assert_eq!(Pubkey::parse(&full[2..]).unwrap(), pk);
        assert_eq!(
            Pubkey::parse("ff0f06693428fca9102a451e3f28d9cc743d8ea60a89ab6aa69eb119470c11cbd3")
                .unwrap()
                .type_byte(),
            0xff
        );
        assert_eq!(Pubkey::parse("05ab"), Err(PubkeyError::Length(4)));
        assert_eq!(Pubkey::parse(&"zz".repeat(33)), Err(PubkeyError::NotHex));
    }

    #[test]
    fn bare_keys_have_one_hex_codec() {
        let hex = "3506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8";
        let ed = Ed25519Pk::from_hex(hex).unwrap();
        assert_eq!(ed.to_hex(), hex);
        assert_eq!(X25519Pk::from_hex(&hex.to_uppercase()).unwrap().as_bytes(), ed.as_bytes());
        assert_eq!(serde_json::to_string(&ed).unwrap(), format!("\"{hex}\""));
        assert_eq!(decode_hex32("ab"), Err(KeyHexError::Length(2)));
        assert_eq!(decode_hex32(&"zz".repeat(32)), Err(KeyHexError::NotHex));
        assert_eq!(format!("{ed:?}"), format!("Ed25519Pk({hex})"));
    }
}
