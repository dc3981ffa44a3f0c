//! Every limit of the toolkit, named, in one place. Each constant says where its value comes
//! from (a spec section or a measured choice). Sections are kept apart so that each area's
//! constants stay together.

// ---- identity and mnemonic -------------------------------------------------------------------

// ---- swarms and registry ---------------------------------------------------------------------

// ---- storage RPC and node --------------------------------------------------------------------

// ---- proof of work ---------------------------------------------------------------------------

// ---- onion requests --------------------------------------------------------------------------

// ---- client (send / retrieve) ----------------------------------------------------------------

/// Largest message a client sends: the store RPC's 76,800 decoded bytes (storage-rpc.md "store").
pub const CLIENT_MAX_MESSAGE_BYTES: usize = 76_800;
/// Default TTL of a sent message: one day (the live apps use 14 days for DMs; a day keeps test
/// networks small). Any value in the public-inbox range below is accepted.
pub const CLIENT_DEFAULT_TTL_MS: u64 = 24 * 60 * 60 * 1000;
/// Shortest TTL a public inbox accepts (storage-rpc.md "Limits": 10 s).
pub const CLIENT_MIN_TTL_MS: u64 = 10 * 1000;
/// Longest TTL a public inbox accepts (storage-rpc.md "Limits": 14 days).
pub const CLIENT_MAX_TTL_MS: u64 = 14 * 24 * 60 * 60 * 1000;
/// How many distinct swarm members a message is stored on directly (the seed design: 3).
pub const CLIENT_STORE_COPIES: usize = 3;
/// How many swarm members a retrieve asks (the seed design: 3).
pub const CLIENT_RETRIEVE_NODES: usize = 3;
/// Onion path length: guard, middle, exit; the target snode comes after them.
pub const CLIENT_PATH_HOPS: usize = 3;
/// Fresh paths tried for one target before the target itself counts as failed.
pub const CLIENT_PATH_ATTEMPTS: usize = 3;
/// How many times a 421 (wrong swarm) answer may redirect one operation.
pub const CLIENT_MAX_REDIRECTS: usize = 2;
/// TCP connect timeout of every client HTTP call (loopback or LAN: a live node answers in ms).
pub const CLIENT_CONNECT_TIMEOUT_MS: u64 = 3_000;
/// Read/write timeout of every client HTTP call, and the overall cap of one call. An onion
/// request crosses four nodes, each allowed a few seconds by the node's own relay timeout.
pub const CLIENT_REQUEST_TIMEOUT_MS: u64 = 15_000;
/// Largest HTTP reply body a client reads (the RPC's 10 MiB body cap, storage-rpc.md §3).
pub const CLIENT_MAX_REPLY_BYTES: u64 = 10 * 1024 * 1024;
/// Pages of one node's retrieve answer read in one poll (each page is bounded by the node).
pub const CLIENT_RETRIEVE_MAX_PAGES: usize = 50;
/// `retrieve --follow` polling interval.
pub const CLIENT_FOLLOW_INTERVAL_MS: u64 = 1_000;
/// Hashes of already printed messages remembered per identity (on top of expiry pruning), so a
/// node that forgot a last hash cannot make `retrieve` print a message twice.
pub const CLIENT_SEEN_HASHES_MAX: usize = 20_000;
/// Bootstrap node lists larger than this are refused (a node list is a few hundred entries).
pub const CLIENT_MAX_NODES: usize = 10_000;

// ---- ratchet ---------------------------------------------------------------------------------

// ---- end -------------------------------------------------------------------------------------
