//! Every way a 1-1 message can be refused, one variant per rule (spec session-protocol.md §4).

use crate::formats::limits::{
    SESSION_CIPHERTEXT_OVERHEAD, SESSION_MAX_CIPHERTEXT_BYTES, SESSION_MAX_CONTENT_BYTES,
    SESSION_MAX_MESSAGE_BYTES, SESSION_MAX_PLAINTEXT_BYTES,
};

/// A protobuf rule broken by the bytes being decoded: the size limit, prost's wire-format rules,
/// or a proto2 field rule of the few messages decoded here. `message` and `field` name the field
/// as the `.proto` does.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProtoError {
    /// The protobuf input is over `SESSION_MAX_MESSAGE_BYTES`.
    #[error("protobuf input is {0} bytes; the limit is {SESSION_MAX_MESSAGE_BYTES}")]
    TooLarge(usize),
    /// The bytes do not decode as the expected protobuf message.
    #[error("protobuf input is malformed: {0}")]
    Decode(prost::DecodeError),
    /// A field's value does not fit the Rust type it maps to.
    #[error("protobuf field {message}.{field} is out of range for its type")]
    ValueOutOfRange {
        /// The protobuf message.
        message: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A string field is not valid UTF-8.
    #[error("protobuf string {message}.{field} is not UTF-8")]
    NotUtf8 {
        /// The protobuf message.
        message: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A field the format requires is absent.
    #[error("required protobuf field {message}.{field} is missing")]
    MissingField {
        /// The protobuf message.
        message: &'static str,
        /// The field.
        field: &'static str,
    },
}

/// Why a 1-1 message could not be padded, encrypted, decrypted, wrapped or read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SessionProtocolError {
    /// The content to seal is over `SESSION_MAX_CONTENT_BYTES`.
    #[error("content is {0} bytes; the limit is {SESSION_MAX_CONTENT_BYTES}")]
    ContentTooLong(usize),
    /// The padded plaintext is over `SESSION_MAX_PLAINTEXT_BYTES`.
    #[error("plaintext is {0} bytes; the limit is {SESSION_MAX_PLAINTEXT_BYTES}")]
    PlaintextTooLong(usize),
    /// The recipient's X25519 key is a low-order point.
    #[error("recipient key is a low-order X25519 point (libsodium refuses to seal to it)")]
    RecipientLowOrder,
    /// The sealed-box encryption failed.
    #[error("sealed-box encryption failed")]
    SealFailed,
    /// The ciphertext is shorter than a sealed box's overhead.
    #[error("ciphertext is {0} bytes; a 1-1 message has at least {SESSION_CIPHERTEXT_OVERHEAD}")]
    CiphertextTooShort(usize),
    /// The ciphertext is over `SESSION_MAX_CIPHERTEXT_BYTES`.
    #[error("ciphertext is {0} bytes; the limit is {SESSION_MAX_CIPHERTEXT_BYTES}")]
    CiphertextTooLong(usize),
    /// The sealed box's ephemeral key is a low-order point.
    #[error("ephemeral key of the sealed box is a low-order X25519 point")]
    EphemeralLowOrder,
    /// The sealed box does not open with this account's key.
    #[error("sealed box does not open with this account's key: it is for someone else, or was altered")]
    OpenFailed,
    /// The sender's Ed25519 key in the plaintext is not a valid point.
    #[error("sender's Ed25519 key inside the message is not a valid point")]
    SenderKeyInvalid,
    /// The sender's signature over the content and recipient does not verify.
    #[error("bad signature: the message is not signed by its sender for this recipient")]
    BadSignature,
    /// A protobuf layer is malformed.
    #[error(transparent)]
    Proto(#[from] ProtoError),
    /// The wrapped message is over `SESSION_MAX_MESSAGE_BYTES`.
    #[error("wrapped message is {0} bytes; the limit is {SESSION_MAX_MESSAGE_BYTES}")]
    WrappedTooLarge(usize),
    /// The WebSocketMessage is not of type REQUEST.
    #[error("WebSocketMessage type is {0}, not REQUEST (1)")]
    WebSocketType(u32),
    /// The WebSocketMessage has no request.
    #[error("WebSocketMessage carries no request")]
    NoRequest,
    /// The WebSocketRequestMessage has no body.
    #[error("WebSocketRequestMessage carries no body (the Envelope)")]
    NoBody,
    /// The Envelope is not of type SESSION_MESSAGE.
    #[error("Envelope type is {0}, not SESSION_MESSAGE (6)")]
    EnvelopeType(u32),
    /// The Envelope has no content.
    #[error("Envelope carries no content (the ciphertext)")]
    NoContent,
    /// The Content has no dataMessage.
    #[error("Content carries no dataMessage")]
    NoDataMessage,
    /// The DataMessage has no body text.
    #[error("DataMessage carries no body text")]
    NoText,
}
