//! Every way a ratchet operation can fail, one variant per rule (spec ratchet.md, "Distinct,
//! named errors"). Commands map them to one stderr line and an exit code with
//! [`RatchetError::is_bad_input`].

/// Why a ratchet operation failed. Nothing in the state changes when one of these is returned.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RatchetError {
    #[error("duplicate message: message {index} of this chain was already decrypted")]
    DuplicateMessage { index: u32 },
    #[error("message too far ahead: message {index} would skip {skip} keys of its chain (MAX_SKIP is {max})")]
    TooFarAhead { index: u32, skip: u64, max: u32 },
    #[error(
        "evicted key: the key of message {index} was dropped (over {max} skipped keys or an old chain); it can no longer be decrypted"
    )]
    EvictedKey { index: u32, max: usize },
    #[error("bad authentication tag: the message was altered, or is not from this session")]
    BadTag,
    #[error("bad prekey signature: the signed prekey of {session_id} is not signed by its Ed25519 key")]
    BadPrekeySignature { session_id: String },
    #[error("unknown prekey: this identity has no {kind} prekey with id {id}")]
    UnknownPrekey { kind: &'static str, id: u32 },
    #[error(
        "used prekey: one-time prekey {id} was already used (or discarded); ask the sender for a new request"
    )]
    UsedPrekey { id: u32 },
    #[error("wrong recipient: the message is for {to}, this identity is {us}")]
    WrongRecipient { to: String, us: String },
    #[error(
        "no session with {peer}: accept their friend request, or send them one and wait for the acceptance"
    )]
    NoSession { peer: String },
    #[error("a session with {peer} already exists (use --force to start over)")]
    SessionExists { peer: String },
    #[error("rejected an all-zero Diffie-Hellman output (a low-order public key)")]
    ZeroDh,
    #[error("sender mismatch: {0}")]
    SenderMismatch(String),
    #[error("bad friend request signature: the request is not signed by {session_id}")]
    BadRequestSignature { session_id: String },
    #[error("friend request cannot be opened: it was altered, or is not sealed for this identity")]
    SealBroken,
    #[error("chain exhausted: 2^32 messages were sent on one chain; wait for a reply")]
    ChainExhausted,
    #[error("corrupt state: {0}")]
    CorruptState(String),
    #[error("state directory {path} belongs to {owner}, not to {us} (use its own --state)")]
    StateOwner { path: String, owner: String, us: String },
    #[error("state directory: {0}")]
    Io(String),
    #[error("unsupported version {0} (this ratchet speaks version 1)")]
    UnsupportedVersion(u64),
    #[error("{what} is {len} bytes, over the limit of {max}")]
    TooLong { what: &'static str, len: usize, max: usize },
    #[error("malformed {0}")]
    Malformed(String),
    #[error("Session app message: {0}")]
    SessionMessage(#[from] crate::formats::session_protocol::SessionProtocolError),
}

impl RatchetError {
    /// The input itself was wrong (exit 2), as opposed to a verification or state failure (exit 1).
    /// A well-formed message of another version is a message this side cannot accept (exit 1),
    /// like any other altered field: only what is not a message at all is bad input.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::Malformed(_) | Self::TooLong { .. } | Self::StateOwner { .. })
    }

    /// A short stable name for JSON error records (`decrypt` prints them).
    pub fn code(&self) -> &'static str {
        match self {
            Self::DuplicateMessage { .. } => "duplicate_message",
            Self::TooFarAhead { .. } => "too_far_ahead",
            Self::EvictedKey { .. } => "evicted_key",
            Self::BadTag => "bad_tag",
            Self::BadPrekeySignature { .. } => "bad_prekey_signature",
            Self::UnknownPrekey { .. } => "unknown_prekey",
            Self::UsedPrekey { .. } => "used_prekey",
            Self::WrongRecipient { .. } => "wrong_recipient",
            Self::NoSession { .. } => "no_session",
            Self::SessionExists { .. } => "session_exists",
            Self::ZeroDh => "zero_dh",
            Self::SenderMismatch(_) => "sender_mismatch",
            Self::BadRequestSignature { .. } => "bad_request_signature",
            Self::SealBroken => "seal_broken",
            Self::ChainExhausted => "chain_exhausted",
            Self::CorruptState(_) => "corrupt_state",
            Self::StateOwner { .. } => "state_owner",
            Self::Io(_) => "io",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::TooLong { .. } => "too_long",
            Self::Malformed(_) => "malformed",
            Self::SessionMessage(_) => "session_message",
        }
    }

    pub(crate) fn malformed(what: impl std::fmt::Display) -> Self {
        Self::Malformed(what.to_string())
    }
}
