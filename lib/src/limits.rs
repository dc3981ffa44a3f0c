//! Every limit of the toolkit, named, in one place. Each constant says where its value comes
//! from (a spec section or a measured choice). Sections are kept apart so that each area's
//! constants stay together.

// ---- identity and mnemonic -------------------------------------------------------------------

/// Longest recovery phrase `mnemonic decode` reads (25 words need ~250 bytes; this leaves room for
/// generous whitespace and refuses junk before any word lookup).
pub const MNEMONIC_MAX_PHRASE_BYTES: usize = 4096;
/// How many closest valid words an "unknown word" error suggests.
pub const MNEMONIC_SUGGESTIONS: usize = 3;
/// Words longer than this get no suggestions (edit distance against the whole list is skipped).
pub const MNEMONIC_MAX_SUGGESTION_WORD_CHARS: usize = 32;
/// Largest seed input `keygen --seed -`/`--seed-file` and `mnemonic encode` read (a JSON object
/// from `keygen` or `mnemonic decode` is a few hundred bytes).
pub const SEED_INPUT_MAX_BYTES: usize = 64 * 1024;

// ---- swarms and registry ---------------------------------------------------------------------

// ---- storage RPC and node --------------------------------------------------------------------

// ---- proof of work ---------------------------------------------------------------------------

/// Largest decoded message data in an envelope (storage-rpc.md "store": 76,800 bytes).
pub const ENVELOPE_MAX_DATA_BYTES: usize = 76_800;
/// Largest base64 form of the envelope data (storage-rpc.md: 102,400 characters).
pub const ENVELOPE_MAX_DATA_B64_LEN: usize = 102_400;
/// Length of the proof-of-work nonce (pow.md §4: 8 bytes).
pub const POW_NONCE_LEN: usize = 8;
/// Length of the nonce in base64 (pow.md §4: 12 characters).
pub const POW_NONCE_B64_LEN: usize = 12;
/// How many trials a solver thread runs between progress reports and cancellation checks
/// (a measured choice: about a millisecond of work, so Ctrl-C and progress feel immediate).
pub const POW_TRIALS_PER_BATCH: u64 = 4096;
/// Most solver threads `pow solve --threads` accepts (a sanity bound, not a tuning).
pub const POW_MAX_THREADS: usize = 1024;

// ---- onion requests --------------------------------------------------------------------------

/// Largest onion request body a node accepts on /onion_req/v2 (snkit's choice: a maximal store
/// request, 102,400 base64 characters plus JSON, wrapped in three layers, with room to spare).
pub const ONION_MAX_BODY: usize = 1024 * 1024;
/// Largest JSON part of one onion frame (snkit's choice: the routing JSON is ~200 bytes; a final
/// layer's control JSON may carry headers).
pub const ONION_MAX_JSON: usize = 16 * 1024;
/// Highest hop number a node relays (onion.md "Snode to snode": above 15 → 400).
pub const ONION_MAX_HOP_NO: u64 = 15;
/// Largest reply body the final node encrypts, and a client decrypts (snkit's choice: a retrieve
/// reply of the most messages at the most bytes, base64, fits).
pub const ONION_MAX_REPLY: usize = 16 * 1024 * 1024;
/// How long a node remembers a layer's ephemeral key to refuse a replay (snkit's choice: longer
/// than any client retry; the storage RPC's own ±60 s clock window covers the final request).
pub const ONION_REPLAY_WINDOW_SECS: u64 = 10 * 60;
/// Most ephemeral keys a node remembers at once (about 5 MB); the oldest are forgotten first.
pub const ONION_REPLAY_CAPACITY: usize = 100_000;
/// Hops in a client's onion path (onion.md: 3 hops).
pub const ONION_PATH_LEN: usize = 3;
/// Most hops `onion::build` wraps (the hop limit bounds any longer path anyway).
pub const ONION_MAX_PATH_LEN: usize = 15;

// ---- client (send / retrieve) ----------------------------------------------------------------

// ---- ratchet ---------------------------------------------------------------------------------

// ---- end -------------------------------------------------------------------------------------
