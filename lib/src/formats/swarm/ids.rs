//! The id a new swarm takes (spec swarms.md §2, oxen-core `get_new_swarm_id`, exactly): the
//! middle of the widest gap between existing ids on a ring of `MAX_ID + 1` values.

/// The largest id a swarm can take (2^64-2; 2^64-1 is `INVALID_SWARM_ID`). The ring treats
/// `MAX_ID` and 0 as one apart.
pub const MAX_ID: u64 = u64::MAX - 1;

/// A new swarm id for the existing, ascending `sorted_ids`: 0 for none; otherwise the middle of
/// the largest gap (the first maximum wins; the wrap-around gap only when strictly larger).
pub fn get_new_swarm_id(sorted_ids: &[u64]) -> u64 {
    let (Some(&first), Some(&last)) = (sorted_ids.first(), sorted_ids.last()) else {
        return 0;
    };
    let mut best_gap = 0u64;
    let mut best = 0usize;
    for (i, pair) in sorted_ids.windows(2).enumerate() {
        let gap = pair[1].wrapping_sub(pair[0]);
        if gap > best_gap {
            best_gap = gap;
            best = i;
        }
    }
    // The gap across the wrap: MAX_ID and 0 count as one apart.
    let wrap_gap = (MAX_ID - last).wrapping_add(first).wrapping_add(1);
    if wrap_gap > best_gap {
        best_gap = wrap_gap;
        best = sorted_ids.len() - 1;
    }
    let diff = best_gap / 2;
    let to_max = MAX_ID - sorted_ids[best];
    if diff > to_max { diff - to_max - 1 } else { sorted_ids[best] + diff }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::swarm::rng::Mt64;

    #[test]
    fn test_new_swarm_id_vectors() {
        assert_eq!(get_new_swarm_id(&[]), 0);
        assert_eq!(get_new_swarm_id(&[0]), MAX_ID / 2);
        let c = get_new_swarm_id(&[0, MAX_ID / 2]);
        assert_eq!(c, MAX_ID / 2 + MAX_ID / 4 + 1);
        assert_eq!(get_new_swarm_id(&[0, MAX_ID / 2, c]), MAX_ID / 4);
        assert_eq!(get_new_swarm_id(&[MAX_ID / 2]), MAX_ID);
        assert_eq!(get_new_swarm_id(&[MAX_ID / 4]), MAX_ID / 2 + MAX_ID / 4);
        assert_eq!(get_new_swarm_id(&[12345678901234567890]), 12345678901234567890 - MAX_ID / 2 - 1);
        assert_eq!(get_new_swarm_id(&[MAX_ID / 2 - 100, MAX_ID / 2 + 100]), MAX_ID);
        assert_eq!(get_new_swarm_id(&[MAX_ID / 2 - 100, MAX_ID / 2 + 101]), 0);
        assert_eq!(get_new_swarm_id(&[MAX_ID / 2 - 101, MAX_ID / 2 + 101]), MAX_ID);
        assert_eq!(get_new_swarm_id(&[MAX_ID / 2 - 101, MAX_ID / 2 + 102]), 0);
    }

    #[test]
    fn test_new_swarm_id_never_reuses_the_only_id() {
        // oxen-core bug #1437: with one swarm left, MAX_ID/2 came back even when taken.
        assert_eq!(get_new_swarm_id(&[MAX_ID / 2]), MAX_ID);
        assert_eq!(get_new_swarm_id(&[MAX_ID]), MAX_ID / 2 - 1);
    }

    /// oxen-core `deterministic_swarm_ids`: 10,000 steps driven by mt19937_64(12345); a draw below
    /// 2^62 removes the id at index (draw % len), any other draw adds a new id.
    #[test]
    fn test_new_swarm_id_10000_add_remove_steps() {
        let mut rng = Mt64::new(12345);
        let mut ids: Vec<u64> = Vec::new();
        for _ in 0..10_000 {
            let n = rng.next_u64();
            if n < (1u64 << 62) {
                assert!(!ids.is_empty());
                let idx = (n % ids.len() as u64) as usize;
                ids.remove(idx);
            } else {
                let id = get_new_swarm_id(&ids);
                let at = ids.binary_search(&id).expect_err("new id already taken");
                ids.insert(at, id);
            }
        }
        assert_eq!(ids.len(), 5048);
        let expected: &[(usize, u64)] = &[
            (0, 1548112371908607),
            (1, 4398046511103999),
            (2, 7247980650299391),
            (3, 10097914789494783),
            (4, 12947848928690175),
            (25, 72796465851793407),
            (29, 84196202408574975),
            (42, 121245346218115071),
            (99, 283691592152252415),
            (404, 1203745330089164798),
            (888, 2829738309616402430),
            (999, 3243154681660178430),
            (2000, 6581905302285713406),
            (3000, 10403878089179267070),
            (3333, 11669248846982021118),
            (4567, 16860997617805426686),
            (5000, 18311495347400081406),
            (5045, 18439742383663874046),
            (5046, 18442592317803069438),
            (5047, 18445442251942264830),
        ];
        for &(i, want) in expected {
            assert_eq!(ids[i], want, "ids[{i}]");
        }
    }
}
