//! Every way a ratchet operation can fail, one variant per rule (spec ratchet.md, "Distinct,
//! named errors"). Commands map them to one stderr line and an exit code with
//! [`RatchetError::is_bad_input`].

/// Why a ratchet operation failed. Nothing in the state changes when one of these is returned.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RatchetError {
    /// A message index this receiving chain has already consumed: a replay or a duplicate delivery.
    #[error("duplicate message: message {index} of this chain was already decrypted")]
    DuplicateMessage {
        /// The message's index in its chain.
        index: u32,
    },
    /// A message would skip more keys of its chain than `MAX_SKIP` allows.
    #[error("message too far ahead: message {index} would skip {skip} keys of its chain (MAX_SKIP is {max})")]
    TooFarAhead {
        /// The message's index in its chain.
        index: u32,
        /// How many keys decrypting it would skip.
        skip: u64,
        /// The `MAX_SKIP` limit.
        max: u32,
    },
    /// The message's skipped key was evicted from the store of skipped keys.
    #[error(
        "evicted key: the key of message {index} was dropped (over {max} skipped keys or an old chain); it can no longer be decrypted"
    )]
    EvictedKey {
        /// The message's index in its chain.
        index: u32,
        /// The store's limit on skipped keys.
        max: usize,
    },
    /// The AEAD tag did not verify under the derived message key.
    #[error("bad authentication tag: the message was altered, or is not from this session")]
    BadTag,
    /// A prekey bundle's signed prekey is not signed by its owner's identity key.
    #[error("bad prekey signature: the signed prekey of {session_id} is not signed by its Ed25519 key")]
    BadPrekeySignature {
        /// The bundle's owner.
        session_id: String,
    },
    /// A request names a prekey this identity does not hold.
    #[error("unknown prekey: this identity has no {kind} prekey with id {id}")]
    UnknownPrekey {
        /// Which kind of prekey: `signed` or `one-time`.
        kind: &'static str,
        /// The prekey id the request names.
        id: u32,
    },
    /// A request uses a one-time prekey that was consumed already.
    #[error(
        "used prekey: one-time prekey {id} was already used (or discarded); ask the sender for a new request"
    )]
    UsedPrekey {
        /// The one-time prekey's id.
        id: u32,
    },
    /// The message is addressed to another Session ID than this identity's.
    #[error("wrong recipient: the message is for {to}, this identity is {us}")]
    WrongRecipient {
        /// The Session ID the message is for.
        to: String,
        /// This identity's Session ID.
        us: String,
    },
    /// A message or command needs a session with a peer that has none.
    #[error(
        "no session with {peer}: accept their friend request, or send them one and wait for the acceptance"
    )]
    NoSession {
        /// The peer's Session ID.
        peer: String,
    },
    /// Starting a session with a peer that has one already, without `--force`.
    #[error("a session with {peer} already exists (use --force to start over)")]
    SessionExists {
        /// The peer's Session ID.
        peer: String,
    },
    /// An X25519 Diffie-Hellman gave all zeros: the peer's key has low order.
    #[error("rejected an all-zero Diffie-Hellman output (a low-order public key)")]
    ZeroDh,
    /// The sender a message claims differs from the one its keys prove.
    #[error("sender mismatch: {0}")]
    SenderMismatch(String),
    /// A friend request's signature does not verify under the sender's identity key.
    #[error("bad friend request signature: the request is not signed by {session_id}")]
    BadRequestSignature {
        /// The Session ID the request claims to come from.
        session_id: String,
    },
    /// A sealed friend request does not open with this identity's key.
    #[error("friend request cannot be opened: it was altered, or is not sealed for this identity")]
    SealBroken,
    /// The sending chain's 32-bit message counter is spent.
    #[error("chain exhausted: 2^32 messages were sent on one chain; wait for a reply")]
    ChainExhausted,
    /// A state file does not parse or breaks an invariant.
    #[error("corrupt state: {0}")]
    CorruptState(String),
    /// The state directory was made for another identity.
    #[error("state directory {path} belongs to {owner}, not to {us} (use its own --state)")]
    StateOwner {
        /// The state directory.
        path: String,
        /// The Session ID recorded in it.
        owner: String,
        /// This identity's Session ID.
        us: String,
    },
    /// Reading or writing the state directory failed.
    #[error("state directory: {0}")]
    Io(String),
    /// A wire message or state carries a version this code does not speak.
    #[error("unsupported version {0} (this ratchet speaks version 1)")]
    UnsupportedVersion(u64),
    /// An input is over its size limit.
    #[error("{what} is {len} bytes, over the limit of {max}")]
    TooLong {
        /// Which input.
        what: &'static str,
        /// Its size in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// A wire message does not decode; the string names what was malformed.
    #[error("malformed {0}")]
    Malformed(String),
    /// The Session app message inside a ratchet message is invalid.
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
