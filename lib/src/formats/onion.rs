//! Onion requests, byte-exact with the live network's `/onion_req/v2` (spec onion.md §5):
//!
//! - [`frame`]: `u32le N ‖ N bytes ‖ JSON`, the framing of the request body and of every layer;
//! - [`channel`]: the per-layer key (X25519, then HMAC-SHA256 "LOKI" for aes-gcm or BLAKE2b-256 of
//!   S ‖ A ‖ B for xchacha20) and the AEAD wire formats, both directions;
//! - [`build`](mod@build): the client side: [`build()`] wraps a request for a path of hops with a fresh
//!   ephemeral key per layer; [`decrypt_reply`] reads the final node's answer;
//! - [`peel`](mod@peel): the node side: [`peel()`] removes one layer and says what to do next
//!   ([`Layer::Final`], [`Layer::Relay`], [`Layer::Host`]); [`encrypt_reply`] answers;
//! - [`replay`]: [`ReplayGuard`], which a node uses to refuse a layer it has already seen;
//! - [`v4`]: onion requests to a server (`/oxen/v4/lsrpc`: file server, community server), both
//!   sides.
//!
//! snkit's node-to-node relay (in place of OxenMQ `sn.onion_request`) is an HTTP POST of the next
//! framed body, `u32le N ‖ ciphertext ‖ {"ephemeral_key", "enc_type", "hop_no"}`, to the next
//! node's `/onion_req/v2`; each hop adds 1 to `hop_no` and a node refuses `hop_no` above
//! [`ONION_MAX_HOP_NO`]. See `docs/onion.md`.

pub mod build;
pub mod channel;
pub mod frame;
pub mod path;
pub mod peel;
pub mod replay;
pub mod v4;

use std::fmt;
use std::str::FromStr;

pub use build::{
    HopKeys, OnionRequest, build, build_to, build_with_rng, decrypt_reply, snode_control, wrap_layer,
};
pub use channel::{LayerKey, ReplyKey};
pub use frame::{Frame, decode_frame, encode_frame};
pub use path::{PathError, PathNode, body_from_input, node_secret_from_key_json, parse_path};
pub use peel::{
    HostTarget, Layer, PeeledLayer, encrypt_reply, encrypt_reply_with_rng, open, peel, peel_guarded,
};
pub use replay::ReplayGuard;

pub use crate::formats::limits::{ONION_MAX_BODY, ONION_MAX_HOP_NO, ONION_MAX_JSON};

/// The layer encryption of an onion request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncType {
    /// AES-256-GCM, key = HMAC-SHA256(key "LOKI", S); iv(12) ‖ ct ‖ tag(16).
    AesGcm,
    /// XChaCha20-Poly1305 (IETF), key = BLAKE2b-256(S ‖ A ‖ B); nonce(24) ‖ ct ‖ tag(16).
    XChaCha20,
}

impl EncType {
    /// What a node assumes when a layer names no `enc_type` (onion.md: aes-gcm is the default).
    pub const WIRE_DEFAULT: EncType = EncType::AesGcm;
    /// What snkit's clients use unless told otherwise.
    pub const SNKIT_DEFAULT: EncType = EncType::XChaCha20;

    /// Parses an `enc_type`: `aes-gcm`/`gcm`, `xchacha20`/`xchacha20-poly1305`.
    /// `aes-cbc`/`cbc` (legacy) is recognised and refused.
    pub fn parse(s: &str) -> Result<Self, OnionError> {
        match s {
            "aes-gcm" | "gcm" => Ok(Self::AesGcm),
            "xchacha20" | "xchacha20-poly1305" => Ok(Self::XChaCha20),
            "aes-cbc" | "cbc" => Err(OnionError::UnsupportedEncType(s.to_string())),
            other => Err(OnionError::UnknownEncType(other.chars().take(40).collect())),
        }
    }

    /// The canonical name written into the JSON of a layer.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::AesGcm => "aes-gcm",
            Self::XChaCha20 => "xchacha20",
        }
    }
}

impl fmt::Display for EncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EncType {
    type Err = OnionError;
    fn from_str(s: &str) -> Result<Self, OnionError> {
        Self::parse(s)
    }
}

/// Why an onion request (or a reply) was refused. [`OnionError::status`] and
/// [`OnionError::wire_message`] give the plain HTTP answer the live network sends.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OnionError {
    /// The frame ends before its length prefix or its parts say it should.
    #[error("onion frame is truncated: {0}")]
    TruncatedFrame(String),
    /// The frame's ciphertext is over `ONION_MAX_BODY`.
    #[error("onion body is {0} bytes; the limit is {ONION_MAX_BODY}")]
    BodyTooLarge(usize),
    /// The frame's JSON part is over `ONION_MAX_JSON`.
    #[error("JSON part of the onion frame is {0} bytes; the limit is {ONION_MAX_JSON}")]
    JsonTooLarge(usize),
    /// The frame's JSON part is not a JSON object.
    #[error("JSON part of the onion frame is not a JSON object: {0}")]
    BadJson(String),
    /// A layer lacks a required field.
    #[error("onion layer has no \"{0}\" field")]
    MissingField(&'static str),
    /// A layer's field has the wrong type or value.
    #[error("onion layer field \"{field}\" is invalid: {reason}")]
    BadField {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The `ephemeral_key` is not a 32-byte hex key.
    #[error("ephemeral_key must be 64 hex characters (an X25519 public key)")]
    BadEphemeralKey,
    /// The `enc_type` names no known cipher.
    #[error("enc_type {0:?} is unknown (aes-gcm, gcm, xchacha20, xchacha20-poly1305)")]
    UnknownEncType(String),
    /// The `enc_type` is the legacy AES-CBC, which snkit refuses.
    #[error("enc_type {0:?} (legacy aes-cbc) is not supported")]
    UnsupportedEncType(String),
    /// The ciphertext is shorter than a nonce plus a tag.
    #[error("ciphertext is {got} bytes, shorter than the {min} bytes of nonce and tag")]
    CiphertextTooShort {
        /// Its length in bytes.
        got: usize,
        /// The nonce and tag length.
        min: usize,
    },
    /// The AEAD did not open the layer with the derived key.
    #[error("decryption failed: wrong key, or the ciphertext was tampered with")]
    DecryptionFailed,
    /// The layer's `hop_no` is over `ONION_MAX_HOP_NO`.
    #[error("hop number {0} is above the limit {ONION_MAX_HOP_NO}")]
    HopLimit(u64),
    /// The replay guard has seen this layer's ephemeral key.
    #[error("this layer (ephemeral key {0}) was already seen: replay refused")]
    Replayed(String),
    /// The `destination` is not a 32-byte hex Ed25519 key.
    #[error("destination must be 64 hex characters (an Ed25519 public key)")]
    BadDestination,
    /// A host layer's target is not an allowed `/loki/`, `/oxen/` … `/lsrpc` path.
    #[error(
        "relay target {0:?} is not allowed: it must start with /loki/ or /oxen/, end with /lsrpc and have no '?'"
    )]
    BadHostTarget(String),
    /// A host layer's protocol is neither `http` nor `https`.
    #[error("relay protocol {0:?} is not allowed (http or https)")]
    BadHostProtocol(String),
    /// The path's hop count is outside 1..=`ONION_MAX_PATH_LEN`.
    #[error("a path needs 1 to {max} hops, got {got}")]
    PathLength {
        /// The hops given.
        got: usize,
        /// The most hops allowed.
        max: usize,
    },
    /// The reply is neither base64 nor raw ciphertext.
    #[error("reply is not base64 or raw ciphertext: {0}")]
    BadReply(String),
    /// The reply is over `ONION_MAX_REPLY`.
    #[error("reply is {0} bytes; the limit is {limit}", limit = crate::formats::limits::ONION_MAX_REPLY)]
    ReplyTooLarge(usize),
    /// The decrypted reply is not the `{status, body}` JSON.
    #[error("decrypted reply is not {{\"status\", \"body\"}} JSON: {0}")]
    BadReplyJson(String),
}

impl OnionError {
    /// The HTTP status a node answers with when it cannot go on (onion.md "Snode to snode").
    pub fn status(&self) -> u16 {
        match self {
            Self::BodyTooLarge(_) => 413,
            Self::BadReply(_) | Self::ReplyTooLarge(_) | Self::BadReplyJson(_) => 502,
            _ => 400,
        }
    }

    /// The plain-text body a node answers with: the live network's strings where it has one
    /// ("Invalid ciphertext"), else this error's message.
    pub fn wire_message(&self) -> String {
        match self {
            Self::TruncatedFrame(_)
            | Self::BadJson(_)
            | Self::JsonTooLarge(_)
            | Self::MissingField(_)
            | Self::BadField { .. }
            | Self::BadEphemeralKey
            | Self::CiphertextTooShort { .. }
            | Self::DecryptionFailed => "Invalid ciphertext".to_string(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enc_type_aliases() {
        assert_eq!(EncType::parse("aes-gcm"), Ok(EncType::AesGcm));
        assert_eq!(EncType::parse("gcm"), Ok(EncType::AesGcm));
        assert_eq!(EncType::parse("xchacha20"), Ok(EncType::XChaCha20));
        assert_eq!(EncType::parse("xchacha20-poly1305"), Ok(EncType::XChaCha20));
        assert!(matches!(EncType::parse("cbc"), Err(OnionError::UnsupportedEncType(_))));
        assert!(matches!(EncType::parse("aes-cbc"), Err(OnionError::UnsupportedEncType(_))));
        assert!(matches!(EncType::parse("rot13"), Err(OnionError::UnknownEncType(_))));
        for e in [EncType::AesGcm, EncType::XChaCha20] {
            assert_eq!(e.as_str().parse::<EncType>(), Ok(e));
        }
    }

    #[test]
    fn errors_map_to_plain_statuses() {
        assert_eq!(OnionError::DecryptionFailed.status(), 400);
        assert_eq!(OnionError::DecryptionFailed.wire_message(), "Invalid ciphertext");
        assert_eq!(OnionError::HopLimit(16).status(), 400);
        assert_eq!(OnionError::BodyTooLarge(1 << 30).status(), 413);
    }
}
