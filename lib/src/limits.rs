//! Every limit of the toolkit, named, in one place. Each constant says where its value comes
//! from (a spec section or a measured choice). Sections are kept apart so that each area's
//! constants stay together.

// ---- identity and mnemonic -------------------------------------------------------------------

// ---- swarms and registry ---------------------------------------------------------------------

// ---- storage RPC and node --------------------------------------------------------------------

// ---- proof of work ---------------------------------------------------------------------------

// ---- onion requests --------------------------------------------------------------------------

// ---- client (send / retrieve) ----------------------------------------------------------------

// ---- ratchet ---------------------------------------------------------------------------------

/// Most message keys one chain may be advanced by a single message (spec ratchet.md, "Limits").
pub const MAX_SKIP: u32 = 2000;
/// Most skipped message keys stored per session; the oldest is evicted first (ratchet.md).
pub const MAX_SKIPPED_KEYS: usize = 2000;
/// Most old receiving chains kept besides the current one (ratchet.md).
pub const MAX_OLD_RECEIVING_CHAINS: usize = 5;
/// Most records of forgotten keys (evicted skipped keys, dropped chains) kept per session, so
/// that a late message gets "evicted key" rather than a misleading error (snkit's choice).
pub const MAX_FORGOTTEN_RECORDS: usize = 256;
/// Age after which `ratchet bundle` makes a new signed prekey: 7 days (snkit's choice, as Signal).
pub const SPK_ROTATION_SECS: u64 = 7 * 24 * 3600;
/// Previous signed prekeys kept for late first messages (snkit's choice).
pub const MAX_OLD_SPKS: usize = 3;
/// Most one-time prekeys kept in a state directory; the oldest are discarded first.
pub const MAX_STORED_OPKS: usize = 1000;
/// Most one-time prekeys `ratchet bundle --opks N` makes at once.
pub const MAX_OPKS_PER_BUNDLE: usize = 100;
/// One-time prekeys `ratchet bundle` makes when `--opks` is not given.
pub const DEFAULT_BUNDLE_OPKS: usize = 10;
/// One-time prekeys a friend request's own bundle carries when no bundle is named.
pub const REQUEST_BUNDLE_OPKS: usize = 1;
/// Longest display name in a friend request, in bytes.
pub const MAX_REQUEST_NAME_BYTES: usize = 100;
/// Longest introduction text in a friend request, in bytes.
pub const MAX_REQUEST_TEXT_BYTES: usize = 2000;
/// Longest plaintext `ratchet encrypt` takes: well within a stored message after base64+JSON.
pub const MAX_PLAINTEXT_BYTES: usize = 48 * 1024;
/// Longest wire message or friend request line the ratchet parses.
pub const MAX_WIRE_BYTES: usize = 256 * 1024;

// ---- end -------------------------------------------------------------------------------------
