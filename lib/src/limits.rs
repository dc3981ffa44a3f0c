//! Every limit of the toolkit, named, in one place. Each constant says where its value comes
//! from (a spec section or a measured choice). Sections are kept apart so that each area's
//! constants stay together.

// ---- identity and mnemonic -------------------------------------------------------------------

// ---- swarms and registry ---------------------------------------------------------------------

/// Smallest size a swarm may have once the network has at least this many nodes (swarms.md, Nmin;
/// oxen-core MIN_SWARM_SIZE).
pub const SWARM_MIN_SIZE: usize = 5;
/// Size of a newly formed swarm and the floor a donor keeps when a starving swarm steals from it
/// (swarms.md, Ntarget; oxen-core IDEAL_SWARM_SIZE = NEW_SWARM_SIZE).
pub const SWARM_TARGET_SIZE: usize = 7;
/// Largest size a swarm may have while the network can still form a new swarm (swarms.md, Nmax;
/// defined but unused by oxen-core, enforced by snkit).
pub const SWARM_MAX_SIZE: usize = 10;
/// Percentile of swarm sizes a joining node is placed under (oxen-core FILL_SWARM_LOWER_PERCENTILE).
pub const SWARM_FILL_PERCENTILE: usize = 25;
/// Percentile used when the nodes of a dissolved swarm are placed again: the smallest swarms
/// (oxen-core DECOMMISSIONED_REDISTRIBUTION_LOWER_PERCENTILE).
pub const SWARM_REDISTRIBUTE_PERCENTILE: usize = 0;
/// Largest node list or registry file read from disk, stdin or HTTP (a 10,000-node list is ~3 MB).
pub const NODE_LIST_MAX_BYTES: u64 = 32 * 1024 * 1024;
/// Most events a registry may hold (joins and leaves); each replays through the assignment engine.
pub const REGISTRY_MAX_EVENTS: usize = 1_000_000;
/// Timeout of one HTTP request for a node list, a registry or a `get_swarm` (connect + reply).
pub const NODE_LIST_HTTP_TIMEOUT_MS: u64 = 10_000;

// ---- storage RPC and node --------------------------------------------------------------------

// ---- proof of work ---------------------------------------------------------------------------

// ---- onion requests --------------------------------------------------------------------------

// ---- client (send / retrieve) ----------------------------------------------------------------

// ---- ratchet ---------------------------------------------------------------------------------

// ---- end -------------------------------------------------------------------------------------
