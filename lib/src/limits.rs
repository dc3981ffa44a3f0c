//! Every limit of the toolkit, named, in one place. Each constant says where its value comes
//! from (a spec section or a measured choice). Sections are kept apart so that each area's
//! constants stay together.

// ---- identity and mnemonic -------------------------------------------------------------------

// ---- swarms and registry ---------------------------------------------------------------------

// ---- storage RPC and node --------------------------------------------------------------------

// ---- node: snode, replication, testnet ------------------------------------------------------

/// Largest HTTP request body a node reads (storage-rpc.md §3: 10 MiB body cap).
pub const NODE_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Clock window for node-to-node request signatures (storage-rpc.md: ±70 s within the swarm).
pub const NODE_AUTH_CLOCK_WINDOW_MS: u64 = 70_000;
/// How long the entry node waits for a swarm peer to store a replicated message
/// (storage-rpc.md §3 Replication: 5 s).
pub const NODE_REPLICATION_TIMEOUT_MS: u64 = 5_000;
/// Most messages in one replication or bulk-push batch (all-or-nothing per batch).
pub const NODE_PUSH_BATCH_MAX_MESSAGES: usize = 256;
/// Most bytes of message data in one bulk-push batch.
pub const NODE_PUSH_BATCH_MAX_BYTES: usize = 4 * 1024 * 1024;
/// Concurrent replication requests in flight to one peer.
pub const NODE_REPLICATION_INFLIGHT_PER_PEER: usize = 4;
/// Default interval between two registry polls.
pub const NODE_REGISTRY_POLL_MS: u64 = 500;
/// Interval of the expiry sweeper (messages are gone within this long after their expiry).
pub const NODE_SWEEP_INTERVAL_MS: u64 = 1_000;
/// Interval at which records that are not this node's are handed on again after a failure.
pub const NODE_RECONCILE_RETRY_MS: u64 = 2_000;
/// Onion relay timeout (onion.md: 30 s).
pub const NODE_ONION_RELAY_TIMEOUT_MS: u64 = 30_000;
/// Highest hop number an onion request may reach before it is refused (onion.md: above 15 → 400).
pub const NODE_ONION_MAX_HOP: u64 = 15;
/// Time `testnet` waits for its nodes to be healthy and agree on the swarm map.
pub const TESTNET_READY_TIMEOUT_MS: u64 = 60_000;
/// Time `testnet` waits for a node to exit after SIGTERM before it sends SIGKILL.
pub const TESTNET_STOP_TIMEOUT_MS: u64 = 10_000;
/// Most nodes one `testnet up`/`add` starts.
pub const TESTNET_MAX_NODES: usize = 500;

// ---- proof of work ---------------------------------------------------------------------------

// ---- onion requests --------------------------------------------------------------------------

// ---- client (send / retrieve) ----------------------------------------------------------------

// ---- ratchet ---------------------------------------------------------------------------------

// ---- end -------------------------------------------------------------------------------------
