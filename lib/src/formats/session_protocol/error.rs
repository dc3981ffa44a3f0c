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
    #[error("protobuf input is {0} bytes; the limit is {SESSION_MAX_MESSAGE_BYTES}")]
    TooLarge(usize),
    #[error("protobuf input is malformed: {0}")]
    Decode(prost::DecodeError),
    #[error("protobuf field {message}.{field} is out of range for its type")]
    ValueOutOfRange { message: &'static str, field: &'static str },
    #[error("protobuf string {message}.{field} is not UTF-8")]
    NotUtf8 { message: &'static str, field: &'static str },
    #[error("required protobuf field {message}.{field} is missing")]
    MissingField { message: &'static str, field: &'static str },
}

/// Why a 1-1 message could not be padded, encrypted, decrypted, wrapped or read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SessionProtocolError {
    #[error("content is {0} bytes; the limit is {SESSION_MAX_CONTENT_BYTES}")]
    ContentTooLong(usize),
    #[error("plaintext is {0} bytes; the limit is {SESSION_MAX_PLAINTEXT_BYTES}")]
    PlaintextTooLong(usize),
    #[error("recipient key is a low-order X25519 point (libsodium refuses to seal to it)")]
    RecipientLowOrder,
    #[error("sealed-box encryption failed")]
    SealFailed,
    #[error("ciphertext is {0} bytes; a 1-1 message has at least {SESSION_CIPHERTEXT_OVERHEAD}")]
    CiphertextTooShort(usize),
    #[error("ciphertext is {0} bytes; the limit is {SESSION_MAX_CIPHERTEXT_BYTES}")]
    CiphertextTooLong(usize),
    #[error("ephemeral key of the sealed box is a low-order X25519 point")]
    EphemeralLowOrder,
    #[error("sealed box does not open with this account's key: it is for someone else, or was altered")]
    OpenFailed,
    #[error("sender's Ed25519 key inside the message is not a valid point")]
    SenderKeyInvalid,
    #[error("bad signature: the message is not signed by its sender for this recipient")]
    BadSignature,
    #[error(transparent)]
    Proto(#[from] ProtoError),
    #[error("wrapped message is {0} bytes; the limit is {SESSION_MAX_MESSAGE_BYTES}")]
    WrappedTooLarge(usize),
    #[error("WebSocketMessage type is {0}, not REQUEST (1)")]
    WebSocketType(u32),
    #[error("WebSocketMessage carries no request")]
    NoRequest,
    #[error("WebSocketRequestMessage carries no body (the Envelope)")]
    NoBody,
    #[error("Envelope type is {0}, not SESSION_MESSAGE (6)")]
    EnvelopeType(u32),
    #[error("Envelope carries no content (the ciphertext)")]
    NoContent,
    #[error("Content carries no dataMessage")]
    NoDataMessage,
    #[error("DataMessage carries no body text")]
    NoText,
}
