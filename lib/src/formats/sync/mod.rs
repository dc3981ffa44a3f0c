//! Synchronous routing's formats (docs/sync.md): what travels between two online clients and
//! the listening node that joins them. Pure: every function is of its inputs plus an RNG.
//!
//! - [`ack`]: the hash lock a recipient opens to acknowledge an item, which the node checks
//!   but cannot forge.
//! - [`presence`]: the sealed, fixed-size presence a sender attaches inside every message.
//! - [`wrap`]: the frame around a message's body that carries the presence.
//! - [`rpc`]: the params, signed strings and replies of `sync_listen`, `sync_deliver` and
//!   `sync_unlisten`.

pub mod ack;
pub mod presence;
pub mod rpc;
pub mod wrap;

/// Why a sync format could not be built or opened: one variant per rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// An X25519 exchange gave the all-zero output (a low-order key).
    #[error("X25519 gave an all-zero shared secret: the peer's key is of low order")]
    ZeroDh,
    /// A sealed presence is not exactly its fixed size.
    #[error("sealed presence is {len} bytes; it must be {expected}")]
    PresenceSize {
        /// Its length.
        len: usize,
        /// The fixed length.
        expected: usize,
    },
    /// The presence's seal does not open with our key (not for us, or altered).
    #[error("sealed presence does not open with our key")]
    SealBroken,
    /// The presence's inner JSON is not the presence format.
    #[error("presence body: {0}")]
    Malformed(String),
    /// The presence names another recipient.
    #[error("presence is addressed to {to}, not to us")]
    WrongRecipient {
        /// Whom it names.
        to: String,
    },
    /// The presence's `ed25519_pk` is not the key of its `from`.
    #[error("presence ed25519_pk is not the key of {0}")]
    SenderMismatch(String),
    /// The presence's signature does not verify.
    #[error("presence signature of {0} does not verify")]
    BadSignature(String),
    /// The presence JSON does not fit the padded body.
    #[error("presence JSON is {len} bytes; the sealed size leaves room for {max}")]
    PresenceTooLong {
        /// Its length.
        len: usize,
        /// The room.
        max: usize,
    },
}
