//! Swarms: which swarm holds a pubkey (spec swarms.md §1, byte-exact with the live network) and
//! how swarms form from the registry's history (swarms.md §2 with snkit's rules; docs/swarms.md).
//!
//! - [`mapping`]: `pubkey_to_swarm_space` and `swarm_for`, the live network's `get_swarm_by_pk`.
//! - [`ids`]: `get_new_swarm_id`, the id a new swarm takes (oxen-core, exactly).
//! - [`rng`]: the deterministic random source of the assignment (mt19937_64 and oxen's
//!   `uniform_distribution_portable`).
//! - [`assignment`]: the assignment engine, a pure function of the join/leave history.

pub mod assignment;
pub mod ids;
pub mod mapping;
pub mod rng;

pub use assignment::{AssignError, NodeKey, SwarmMap};
pub use ids::{MAX_ID, get_new_swarm_id};
pub use mapping::{INVALID_SWARM_ID, pubkey_to_swarm_space, swarm_for};

/// A swarm id as the live network prints it (`"swarm"` fields): 16 lowercase hex digits.
pub fn swarm_id_hex(id: u64) -> String {
    format!("{id:016x}")
}

/// Parses a swarm id written in hex (either case): 16 digits as snkit and oxend's `swarm` field
/// write it, or fewer, as the live storage server's `get_swarm` reply does (`"swarm": "0"`).
pub fn parse_swarm_id_hex(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swarm_id_hex_round_trips() {
        assert_eq!(swarm_id_hex(0), "0000000000000000");
        assert_eq!(swarm_id_hex(INVALID_SWARM_ID), "ffffffffffffffff");
        assert_eq!(parse_swarm_id_hex("7FFFFFFFFFFFFFFF"), Some(MAX_ID / 2));
        assert_eq!(parse_swarm_id_hex("ffff"), Some(0xffff));
        assert_eq!(parse_swarm_id_hex("0"), Some(0));
        assert_eq!(parse_swarm_id_hex(""), None);
        assert_eq!(parse_swarm_id_hex("10000000000000000"), None);
        assert_eq!(parse_swarm_id_hex("+fffffffffffffff"), None);
    }
}
