//! The pubkey → swarm mapping of the live network (spec swarms.md §1; oxen-storage-server
//! `get_swarm_by_pk`, current version since v2.4.0). A client and a node must agree on it bit for
//! bit, so every vector of the spec is a test below.

use crate::formats::keys::Pubkey;

/// oxend's sentinel for "in no swarm" (unassigned or decommissioned nodes). Never a valid swarm.
pub const INVALID_SWARM_ID: u64 = u64::MAX;

/// The pubkey's position in swarm space: the 32 key bytes (the type byte is always dropped) as
/// four big-endian u64s, XORed together.
pub fn pubkey_to_swarm_space(pk: &Pubkey) -> u64 {
    pk.key().chunks_exact(8).fold(0u64, |acc, chunk| {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        acc ^ u64::from_be_bytes(word)
    })
}

/// The swarm that holds `pk`, among the valid swarm ids `sorted_ids` (ascending, without
/// [`INVALID_SWARM_ID`]); `None` when there is no swarm.
///
/// The nearest swarm on the ring of u64: R is the first id >= the pubkey's position (wrapping to
/// the first id), L the id before R (wrapping to the last); R wins only when strictly closer, so
/// ties go to L, and across the wrap gap L is the highest id.
pub fn swarm_for(sorted_ids: &[u64], pk: &Pubkey) -> Option<u64> {
    match sorted_ids {
        [] => None,
        [only] => Some(*only),
        _ => {
            let v = pubkey_to_swarm_space(pk);
            let mut r = sorted_ids.partition_point(|&id| id < v);
            if r == sorted_ids.len() {
                r = 0;
            }
            let l = if r == 0 { sorted_ids.len() - 1 } else { r - 1 };
            let (right, left) = (sorted_ids[r], sorted_ids[l]);
            let d_right = right.wrapping_sub(v);
            let d_left = v.wrapping_sub(left);
            Some(if d_right < d_left { right } else { left })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pk(hex: &str) -> Pubkey {
        Pubkey::parse(hex).unwrap()
    }

    /// `05` + 24 zero bytes + `v` big-endian: a pubkey whose swarm space value is `v`.
    fn at(v: u64) -> Pubkey {
        let mut key = [0u8; 32];
        key[24..].copy_from_slice(&v.to_be_bytes());
        Pubkey::new(0x05, key)
    }

    #[test]
    fn test_pubkey_to_swarm_space_vectors() {
        let cases: &[(&str, u64)] = &[
            ("053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8", 17589930838143112648),
            ("05cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", 10370619079776428163),
            ("03d3511706b8b34f6e8411bf07bd22ba6b2435ca56846fbccf6eb1e166a6cd15cc", 2144983569669512198),
            ("ff0f06693428fca9102a451e3f28d9cc743d8ea60a89ab6aa69eb119470c11cbd3", 9690840703409570833),
            ("05ffba630924aa1224bb930dde21c0d11bf004608f2812217f8ac812d6c7e3ad48", 4532060000165252872),
            ("05eeeeeeeeeeeeeeee777777777777777711111111111111118888888888888888", 0),
            ("050123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0),
            ("05fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe", 1),
            ("05ffffffffffffffffffffffffffffffffffffffffffffffff7fffffffffffffff", 1 << 63),
            ("05000000000000000000000000000000000000000000000000ffffffffffffffff", u64::MAX),
            ("050000000000000000000000000000000000000000000000000123456789abcdef", 0x0123456789abcdef),
        ];
        for (hex, want) in cases {
            assert_eq!(pubkey_to_swarm_space(&pk(hex)), *want, "{hex}");
        }
    }

    #[test]
    fn test_type_byte_is_dropped() {
        let key = "3506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8";
        for prefix in ["05", "03", "ff", "00"] {
            assert_eq!(pubkey_to_swarm_space(&pk(&format!("{prefix}{key}"))), 17589930838143112648);
        }
        // 64 hex characters: type 05 assumed, same position.
        assert_eq!(pubkey_to_swarm_space(&pk(key)), 17589930838143112648);
    }

    const SWARMS: [u64; 7] = [100, 200, 300, 399, 498, 596, 694];

    #[test]
    fn test_swarm_for_spec_vectors() {
        for (v, want) in [(100, 100), (200, 200), (498, 498), (0, 100), (1, 100)] {
            assert_eq!(swarm_for(&SWARMS, &at(v)), Some(want), "v = {v}");
        }
    }

    #[test]
    fn test_swarm_for_nearest_with_wraparound() {
        let cases: &[(u64, u64)] = &[
            (0x8000000000000000, 694),
            (0xa000000000000000, 100),
            // u64::MAX is reserved for swarm ids only; as a pubkey position it maps normally.
            (u64::MAX, 100),
            (u64::MAX - 1, 100),
        ];
        for &(v, want) in cases {
            assert_eq!(swarm_for(&SWARMS, &at(v)), Some(want), "v = {v:#x}");
        }
    }

    #[test]
    fn test_swarm_for_midpoints_go_to_the_lower_swarm() {
        let cases: &[(u64, u64)] = &[
            (0x95, 100),
            (0x96, 100),
            (0x97, 200),
            (0xf9, 200),
            (0xfa, 200),
            (0xfb, 300),
            (0x15d, 300),
            (0x15e, 399),
            (0x1c0, 399),
            (0x1c1, 498),
            (0x222, 498),
            (0x223, 498),
            (0x224, 596),
            (0x285, 596),
            (0x286, 694),
            // The long way round between 694 and 100: ties go "down", i.e. to the highest id.
            (0x800000000000018c, 694),
            (0x800000000000018d, 694),
            (0x800000000000018e, 100),
        ];
        for &(v, want) in cases {
            assert_eq!(swarm_for(&SWARMS, &at(v)), Some(want), "v = {v:#x}");
        }
    }

    #[test]
    fn test_swarm_for_ties_below_the_lowest_id_go_to_the_highest() {
        let mut ids = SWARMS.to_vec();
        let top = 0u64.wrapping_sub(20);
        ids.push(top);
        assert_eq!(swarm_for(&ids, &at(0x27)), Some(top));
        assert_eq!(swarm_for(&ids, &at(0x28)), Some(top));
        assert_eq!(swarm_for(&ids, &at(0x29)), Some(100));

        // With a swarm at 0, the top positions are 1 or 2 away from it (the old code's overflow).
        ids.insert(0, 0);
        assert_eq!(swarm_for(&ids, &at(u64::MAX)), Some(0));
        assert_eq!(swarm_for(&ids, &at(u64::MAX - 1)), Some(0));
    }

    #[test]
    fn test_swarm_for_empty_and_single() {
        assert_eq!(swarm_for(&[], &at(5)), None);
        for v in [0, 1, 1 << 63, u64::MAX] {
            assert_eq!(swarm_for(&[12345], &at(v)), Some(12345));
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// The rule stated plainly: R = the id reached first going up from v, L = the id reached
        /// first going down; R only when strictly closer.
        fn reference(ids: &[u64], v: u64) -> u64 {
            let r = *ids.iter().min_by_key(|&&id| id.wrapping_sub(v)).unwrap();
            let l = *ids.iter().min_by_key(|&&id| v.wrapping_sub(id)).unwrap();
            if r.wrapping_sub(v) < v.wrapping_sub(l) { r } else { l }
        }

        proptest! {
            #[test]
            fn swarm_for_is_the_nearest_swarm(
                mut ids in proptest::collection::vec(any::<u64>(), 2..40),
                v in any::<u64>(),
                near in any::<bool>(),
                offset in -3i64..=3,
            ) {
                ids.retain(|&id| id != INVALID_SWARM_ID);
                ids.sort_unstable();
                ids.dedup();
                prop_assume!(ids.len() >= 2);
                // Half the cases sit right next to an id, where the tie rules matter.
                let v = if near { ids[(v % ids.len() as u64) as usize].wrapping_add_signed(offset) } else { v };
                prop_assert_eq!(swarm_for(&ids, &at(v)), Some(reference(&ids, v)));
            }
        }
    }
}
