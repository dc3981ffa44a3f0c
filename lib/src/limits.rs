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

// ---- onion requests --------------------------------------------------------------------------

// ---- client (send / retrieve) ----------------------------------------------------------------

// ---- ratchet ---------------------------------------------------------------------------------

// ---- end -------------------------------------------------------------------------------------
