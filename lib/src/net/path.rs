//! Onion path selection: [`CLIENT_PATH_HOPS`] distinct random nodes, never the target when the
//! network has enough other nodes, and avoiding nodes that already failed this operation.
//!
//! Fallbacks for small networks, in order: drop the "avoid" set; allow the target; finally allow
//! a node twice (a 1-node testnet still works, with no privacy).

use rand::Rng;
use rand::seq::SliceRandom;

use crate::formats::limits::CLIENT_PATH_HOPS;
use crate::formats::nodelist::NodeInfo;

/// Picks a path of `CLIENT_PATH_HOPS` nodes from `pool` for a request to `target` (ed25519).
/// Returns `None` only for an empty pool.
pub(crate) fn choose_path<R: Rng + ?Sized>(
    pool: &[NodeInfo],
    target: &[u8; 32],
    avoid: &[[u8; 32]],
    rng: &mut R,
) -> Option<Vec<NodeInfo>> {
    if pool.is_empty() {
        return None;
    }
    // Tier 0: neither the target nor an avoided node; 1: not the target; 2: anything.
    for tier in 0..3 {
        let keep = |n: &&NodeInfo| match tier {
            0 => n.pubkey_ed25519 != *target && !avoid.contains(&n.pubkey_ed25519),
            1 => n.pubkey_ed25519 != *target,
            _ => true,
        };
        let candidates = distinct(pool.iter().filter(keep).collect());
        if candidates.len() >= CLIENT_PATH_HOPS {
            return Some(candidates.choose_multiple(rng, CLIENT_PATH_HOPS).map(|n| (*n).clone()).collect());
        }
    }
    // Fewer distinct nodes than hops: repeat nodes, still preferring non-targets.
    let others: Vec<&NodeInfo> = pool.iter().filter(|n| n.pubkey_ed25519 != *target).collect();
    let from = if others.is_empty() { pool.iter().collect::<Vec<_>>() } else { others };
    (0..CLIENT_PATH_HOPS).map(|_| from.choose(rng).map(|n| (*n).clone())).collect()
}

/// Keeps the first node of each key.
fn distinct(nodes: Vec<&NodeInfo>) -> Vec<&NodeInfo> {
    let mut seen = std::collections::HashSet::new();
    nodes.into_iter().filter(|n| seen.insert(n.pubkey_ed25519)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn nodes(n: u8) -> Vec<NodeInfo> {
        (0..n)
            .map(|i| NodeInfo {
                pubkey_ed25519: [i; 32],
                pubkey_x25519: [i; 32],
                public_ip: "127.0.0.1".into(),
                storage_port: 1000 + u16::from(i),
                swarm_id: 0,
            })
            .collect()
    }

    #[test]
    fn test_path_is_three_distinct_nodes_without_target() {
        let pool = nodes(10);
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let p = choose_path(&pool, &[3; 32], &[], &mut rng).unwrap();
            assert_eq!(p.len(), 3);
            assert!(p.iter().all(|n| n.pubkey_ed25519 != [3; 32]));
            assert!(
                p[0].pubkey_ed25519 != p[1].pubkey_ed25519
                    && p[1].pubkey_ed25519 != p[2].pubkey_ed25519
                    && p[0].pubkey_ed25519 != p[2].pubkey_ed25519
            );
        }
    }

    #[test]
    fn test_path_avoids_failed_nodes_when_possible() {
        let pool = nodes(6);
        let mut rng = StdRng::seed_from_u64(1);
        let avoid = [[0; 32], [1; 32]];
        for _ in 0..100 {
            let p = choose_path(&pool, &[5; 32], &avoid, &mut rng).unwrap();
            assert!(p.iter().all(|n| !avoid.contains(&n.pubkey_ed25519) && n.pubkey_ed25519 != [5; 32]));
        }
    }

    #[test]
    fn test_small_network_still_gets_a_path() {
        let mut rng = StdRng::seed_from_u64(2);
        let p = choose_path(&nodes(3), &[0; 32], &[], &mut rng).unwrap();
        assert_eq!(p.len(), 3);
        let p = choose_path(&nodes(1), &[0; 32], &[], &mut rng).unwrap();
        assert_eq!(p.len(), 3);
        assert!(choose_path(&[], &[0; 32], &[], &mut rng).is_none());
    }

    #[test]
    fn test_paths_vary() {
        let pool = nodes(20);
        let mut rng = StdRng::seed_from_u64(3);
        let a = choose_path(&pool, &[0; 32], &[], &mut rng).unwrap();
        let distinct = (0..20).any(|_| {
            let b = choose_path(&pool, &[0; 32], &[], &mut rng).unwrap();
            b.iter().map(|n| n.pubkey_ed25519).collect::<Vec<_>>()
                != a.iter().map(|n| n.pubkey_ed25519).collect::<Vec<_>>()
        });
        assert!(distinct);
    }
}
