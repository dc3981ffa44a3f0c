//! Every limit of the toolkit, named, in one place. Each constant says where its value comes
//! from (a spec section or a measured choice). Sections are kept apart so that each area's
//! constants stay together.

// ---- identity and mnemonic -------------------------------------------------------------------

// ---- swarms and registry ---------------------------------------------------------------------

// ---- storage RPC and node --------------------------------------------------------------------

// store + rpc (owner: store). Values marked "live" are the Session network's (storage-rpc.md).

/// Largest HTTP/RPC request body a node accepts (live: 10 MiB).
pub const RPC_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Largest decoded message `data` (live: 76,800 bytes).
pub const MAX_MESSAGE_BYTES: usize = 76_800;
/// Largest base64 `data` string in JSON (live: 76,800 / 3 * 4 = 102,400 characters).
pub const MAX_MESSAGE_BASE64_CHARS: usize = MAX_MESSAGE_BYTES / 3 * 4;
/// Shortest TTL a store may ask for, in ms (live: 10 s).
pub const TTL_MIN_MS: u64 = 10_000;
/// Longest TTL in public-inbox namespaces (divisible by 10), in ms (live: 14 days).
pub const TTL_MAX_PUBLIC_MS: u64 = 14 * 24 * 3600 * 1000;
/// Longest TTL in every other namespace, in ms (live since HF19.3: 30 days).
pub const TTL_MAX_PRIVATE_MS: u64 = 30 * 24 * 3600 * 1000;
/// How far in the future a store `timestamp`, or in the past its `expiry`, may be (live: 10 s).
pub const STORE_CLOCK_TOLERANCE_MS: u64 = 10_000;
/// Window around now for a request signature's timestamp (live: ±60 s).
pub const SIGNATURE_CLOCK_TOLERANCE_MS: u64 = 60_000;
/// Window for requests forwarded within a swarm (live: ±70 s).
pub const SIGNATURE_CLOCK_TOLERANCE_FORWARDED_MS: u64 = 70_000;
/// Timestamps below this are taken to be seconds, not ms, and refused (live: 1,000,000 s).
pub const MIN_TIMESTAMP_MS: u64 = 1_000_000_000;
/// Bytes a retrieve reply may carry (live RETRIEVE_MAX_SIZE: 10 MiB less base64 and framing).
pub const RETRIEVE_MAX_SIZE: u64 = 7_800_000;
/// Without max_count/max_size a retrieve gets 1/RETRIEVE_DEFAULT_SIZE_DIVISOR of the maximum (live: 5).
pub const RETRIEVE_DEFAULT_SIZE_DIVISOR: u64 = 5;
/// Bytes counted per retrieved message on top of its hash and base64 data (snkit: JSON framing).
pub const RETRIEVE_PER_MESSAGE_OVERHEAD: u64 = 100;
/// Most messages one retrieve returns, whatever max_count says (snkit safety bound; the size
/// bound is the live one and usually binds first).
pub const RETRIEVE_MAX_COUNT: usize = 10_000;
/// Most hashes in one `delete` request (snkit bound; the body cap allows ~200,000).
pub const DELETE_MAX_HASHES: usize = 10_000;
/// Length of a message hash: unpadded base64 of 32 bytes.
pub const MESSAGE_HASH_CHARS: usize = 43;
/// Longest hash the store accepts (it stores what replication hands it; rpc checks 43).
pub const STORE_HASH_MAX_CHARS: usize = 64;
/// Longest proof-of-work nonce string accepted in a store (base64 of 8 bytes is 12).
pub const MAX_NONCE_CHARS: usize = 24;
/// Jobs waiting for the store's writer thread before async callers get "busy" (blocking
/// callers wait).
pub const STORE_WRITE_QUEUE: usize = 8_192;
/// Most jobs the writer commits in one transaction (group commit).
pub const STORE_GROUP_COMMIT_MAX: usize = 1_024;
/// Most messages in one `insert_many` (all-or-nothing) call.
pub const STORE_INSERT_MANY_MAX: usize = 10_000;
/// Read-only SQLite connections kept for retrieves.
pub const STORE_READ_POOL: usize = 4;
/// Rows deleted per writer job when expiring, so inserts interleave with a large sweep.
pub const STORE_EXPIRE_CHUNK: usize = 5_000;
/// Default batch size of `Store::scan` (swarm handoff and bulk pushes).
pub const STORE_SCAN_BATCH: usize = 1_000;
/// How long a connection waits on a SQLite lock before failing, in ms.
pub const STORE_BUSY_TIMEOUT_MS: u64 = 10_000;

// ---- proof of work ---------------------------------------------------------------------------

// ---- onion requests --------------------------------------------------------------------------

// ---- client (send / retrieve) ----------------------------------------------------------------

// ---- ratchet ---------------------------------------------------------------------------------

// ---- end -------------------------------------------------------------------------------------
