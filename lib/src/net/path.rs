//! Onion path selection: [`CLIENT_PATH_HOPS`] distinct random nodes, never the target when the
//! network has enough other nodes, and avoiding nodes that already failed this operation.
//!
//! Fallbacks for small networks, in order: drop the "avoid" set; allow the target; finally allow
//! a node twice (a 1-node testnet still works, with no privacy).
//!
//! [`KeptPaths`]: the paths a client keeps between runs, as the apps do ("each Session client
//! establishes a path on start-up… all requests are sent through this path"), in
//! `<state dir>/paths.json` (0600, replaced atomically):
//!
//! ```json
//! {"version":1,
//!  "paths":[{"hops":["<ed25519 hex>","…","…"],"built_ms":1700000000000}, …],
//!  "avoid":{"<ed25519 hex>":<until ms>, …}}
//! ```
//! Up to [`CLIENT_KEPT_PATHS`] paths, each tested when built, dropped when one of its hops fails
//! (that hop then avoided for [`CLIENT_PATH_AVOID_MS`]) and rotated [`CLIENT_PATH_LIFETIME_MS`]
//! after it was built. Hops are saved by key and looked up in the node list of each run, so a
//! path through nodes the list no longer has is dropped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::formats::limits::CLIENT_PATH_HOPS;
use crate::formats::nodelist::NodeInfo;

/// Paths kept: a request goes through one; when it fails, the next attempt takes the other at
/// once instead of first building and testing a new one.
pub(crate) const CLIENT_KEPT_PATHS: usize = 2;
/// A path is rotated (rebuilt through other nodes) this long after it was built.
pub(crate) const CLIENT_PATH_LIFETIME_MS: u64 = 10 * 60 * 1000;
/// A hop blamed for a failure is left out of new paths for this long.
pub(crate) const CLIENT_PATH_AVOID_MS: u64 = 5 * 60 * 1000;
/// The kept paths' file inside the client's state directory.
pub(crate) const PATHS_FILE: &str = "paths.json";
/// Version of that file's format.
pub(crate) const PATHS_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct PathsFile {
    version: u32,
    #[serde(default)]
    paths: Vec<SavedPath>,
    #[serde(default)]
    avoid: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedPath {
    hops: Vec<String>,
    built_ms: u64,
}

/// One kept path: its hops (guard first) and when it was built and tested.
#[derive(Debug, Clone)]
pub(crate) struct KeptPath {
    pub(crate) hops: Vec<NodeInfo>,
    pub(crate) built_ms: u64,
}

impl KeptPath {
    fn contains(&self, key: &[u8; 32]) -> bool {
        self.hops.iter().any(|h| h.pubkey_ed25519 == *key)
    }
}

/// The paths of one client, and the hops it avoids.
#[derive(Debug)]
pub(crate) struct KeptPaths {
    file: PathBuf,
    paths: Vec<KeptPath>,
    avoid: BTreeMap<[u8; 32], u64>,
}

impl KeptPaths {
    /// The paths saved in `dir` whose hops are all in `nodes` and which are still fresh at
    /// `now_ms`. A missing, unreadable or corrupt file is an empty set (the paths are a cache:
    /// new ones are built), and is replaced at the next save.
    pub(crate) fn load(dir: &Path, nodes: &[NodeInfo], now_ms: u64) -> Self {
        let file = dir.join(PATHS_FILE);
        let mut kept = Self { file, paths: Vec::new(), avoid: BTreeMap::new() };
        let saved: Option<PathsFile> = std::fs::read_to_string(&kept.file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .filter(|f: &PathsFile| f.version == PATHS_VERSION);
        let Some(saved) = saved else { return kept };
        let by_key = |hex_key: &str| nodes.iter().find(|n| n.ed_hex() == hex_key).cloned();
        for p in saved.paths {
            let hops: Option<Vec<NodeInfo>> = p.hops.iter().map(|h| by_key(h)).collect();
            if let Some(hops) = hops.filter(|h| h.len() == CLIENT_PATH_HOPS) {
                kept.paths.push(KeptPath { hops, built_ms: p.built_ms });
            }
        }
        for (k, until) in saved.avoid {
            let mut key = [0u8; 32];
            if hex::decode_to_slice(&k, &mut key).is_ok() {
                kept.avoid.insert(key, until);
            }
        }
        kept.prune(now_ms);
        kept
    }

    /// Where the paths are saved.
    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// Writes the paths (0600, atomically; the directory is made 0700 when missing).
    pub(crate) fn save(&self) -> std::io::Result<()> {
        if let Some(dir) = self.file.parent() {
            crate::net::fs::create_private_dir(dir)?;
        }
        let file = PathsFile {
            version: PATHS_VERSION,
            paths: self
                .paths
                .iter()
                .map(|p| SavedPath {
                    hops: p.hops.iter().map(NodeInfo::ed_hex).collect(),
                    built_ms: p.built_ms,
                })
                .collect(),
            avoid: self.avoid.iter().map(|(k, v)| (hex::encode(k), *v)).collect(),
        };
        let text = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
        crate::net::fs::write_atomic(&self.file, &text)
    }

    /// Drops the paths past their lifetime and the avoidances that ended.
    pub(crate) fn prune(&mut self, now_ms: u64) {
        self.paths.retain(|p| now_ms < p.built_ms.saturating_add(CLIENT_PATH_LIFETIME_MS));
        self.avoid.retain(|_, until| now_ms < *until);
    }

    /// How many paths are kept.
    pub(crate) fn len(&self) -> usize {
        self.paths.len()
    }

    /// The hops new paths leave out.
    pub(crate) fn avoided(&self) -> Vec<[u8; 32]> {
        self.avoid.keys().copied().collect()
    }

    /// A kept path that does not pass through `target` (a node is not its own relay), chosen at
    /// random among them so that two paths share the load.
    pub(crate) fn pick<R: Rng + ?Sized>(&self, target: &[u8; 32], rng: &mut R) -> Option<KeptPath> {
        let usable: Vec<&KeptPath> = self.paths.iter().filter(|p| !p.contains(target)).collect();
        usable.choose(rng).map(|p| (*p).clone())
    }

    /// Keeps a newly built (and tested) path.
    pub(crate) fn add(&mut self, hops: Vec<NodeInfo>, now_ms: u64) {
        self.paths.push(KeptPath { hops, built_ms: now_ms });
        while self.paths.len() > CLIENT_KEPT_PATHS {
            self.paths.remove(0);
        }
    }

    /// A request through `path` failed, blaming `bad` (some of its hops, or all when the failure
    /// cannot be pinned on one): the path is dropped and those hops avoided until
    /// `now_ms + CLIENT_PATH_AVOID_MS`.
    pub(crate) fn failed(&mut self, path: &[NodeInfo], bad: &[[u8; 32]], now_ms: u64) {
        let keys: Vec<[u8; 32]> = path.iter().map(|n| n.pubkey_ed25519).collect();
        self.paths.retain(|p| p.hops.iter().map(|n| n.pubkey_ed25519).collect::<Vec<_>>() != keys);
        // Any other kept path through a blamed hop fails the same way: drop it too.
        self.paths.retain(|p| !bad.iter().any(|b| p.contains(b)));
        for b in bad {
            self.avoid.insert(*b, now_ms.saturating_add(CLIENT_PATH_AVOID_MS));
        }
    }
}

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
    fn kept_paths_round_trip_through_the_file_and_rotate_after_their_lifetime() {
        let dir = tempfile::tempdir().unwrap();
        let pool = nodes(10);
        let mut kept = KeptPaths::load(dir.path(), &pool, 1_000);
        assert_eq!(kept.len(), 0);
        kept.add(pool[0..3].to_vec(), 1_000);
        kept.add(pool[3..6].to_vec(), 2_000);
        kept.add(pool[6..9].to_vec(), 3_000);
        assert_eq!(kept.len(), CLIENT_KEPT_PATHS, "the oldest beyond the limit goes");
        kept.save().unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(kept.file()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = KeptPaths::load(dir.path(), &pool, 3_000);
        assert_eq!(again.len(), 2);
        let mut rng = StdRng::seed_from_u64(4);
        // A path through the target is not used for it.
        for _ in 0..20 {
            let p = again.pick(&[3; 32], &mut rng).unwrap();
            assert_eq!(p.hops[0].pubkey_ed25519, [6; 32]);
        }
        // Past its lifetime, a path is gone; a node list without a hop drops its path.
        let later = KeptPaths::load(dir.path(), &pool, 2_000 + CLIENT_PATH_LIFETIME_MS);
        assert_eq!(later.len(), 1);
        let without = KeptPaths::load(dir.path(), &pool[..8], 3_000);
        assert_eq!(without.len(), 1);
    }

    #[test]
    fn a_failed_hop_drops_its_paths_and_is_avoided_for_a_while() {
        let dir = tempfile::tempdir().unwrap();
        let pool = nodes(10);
        let mut kept = KeptPaths::load(dir.path(), &pool, 0);
        kept.add(pool[0..3].to_vec(), 0);
        kept.add(vec![pool[3].clone(), pool[1].clone(), pool[4].clone()], 0);
        kept.add(pool[5..8].to_vec(), 0);
        kept.failed(&pool[0..3], &[[1; 32]], 100);
        assert_eq!(kept.len(), 1, "both paths through the blamed hop are dropped");
        assert_eq!(kept.avoided(), vec![[1; 32]]);
        kept.save().unwrap();
        let again = KeptPaths::load(dir.path(), &pool, 100 + CLIENT_PATH_AVOID_MS - 1);
        assert_eq!(again.avoided(), vec![[1; 32]]);
        let later = KeptPaths::load(dir.path(), &pool, 100 + CLIENT_PATH_AVOID_MS);
        assert!(later.avoided().is_empty());
        std::fs::write(dir.path().join(PATHS_FILE), b"{not json").unwrap();
        assert_eq!(KeptPaths::load(dir.path(), &pool, 0).len(), 0, "a corrupt file is an empty cache");
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
