//! What `retrieve` remembers between runs, one file per identity:
//! `<state dir>/<session id>.json`, mode 0600, replaced atomically (`crate::net::fs::write_atomic`).
//!
//! ```json
//! {"version":1,"session_id":"05…",
//!  "last_hash":{"<node ed25519 hex>":"<43-char hash>", …},
//!  "seen":[["<hash>",<expiration ms>], …]}
//! ```
//! `last_hash` is the newest hash each node returned (sent back as `last_hash` next time);
//! `seen` lists the hashes already printed, oldest first, pruned when they expire and capped at
//! [`CLIENT_SEEN_HASHES_MAX`], so a node that forgot a last hash (or a new swarm member) cannot
//! make `retrieve` print a message twice.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ClientError;
use crate::formats::limits::CLIENT_SEEN_HASHES_MAX;

/// Version of the state file format.
pub const STATE_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    session_id: String,
    #[serde(default)]
    last_hash: BTreeMap<String, String>,
    #[serde(default)]
    seen: Vec<(String, u64)>,
}

/// The retrieve state of one identity.
#[derive(Debug, Clone)]
pub struct RetrieveState {
    path: PathBuf,
    session_id: String,
    last_hash: BTreeMap<String, String>,
    seen_order: VecDeque<(String, u64)>,
    seen: HashSet<String>,
}

/// The default state directory: `$XDG_DATA_HOME/snkit/retrieve`, else
/// `$HOME/.local/share/snkit/retrieve`, else `./.snkit/retrieve`.
pub fn default_state_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()).map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".local/share"))
    });
    match base {
        Some(b) => b.join("snkit").join("retrieve"),
        None => PathBuf::from(".snkit").join("retrieve"),
    }
}

/// Where a client keeps its onion paths by default (`net::path`, `paths.json`):
/// `$XDG_DATA_HOME/snkit/paths`, else `$HOME/.local/share/snkit/paths`, else `./.snkit/paths`.
pub fn default_paths_dir() -> PathBuf {
    default_state_dir().with_file_name("paths")
}

impl RetrieveState {
    /// Loads the state of `session_id` from `dir` (an empty state if there is no file yet).
    pub fn load(dir: &Path, session_id: &str) -> Result<Self, ClientError> {
        let path = dir.join(format!("{session_id}.json"));
        let err = |reason: String| ClientError::State { path: path.display().to_string(), reason };
        let mut state = Self {
            path: path.clone(),
            session_id: session_id.to_string(),
            last_hash: BTreeMap::new(),
            seen_order: VecDeque::new(),
            seen: HashSet::new(),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(state),
            Err(e) => return Err(err(e.to_string())),
        };
        let file: StateFile =
            serde_json::from_str(&text).map_err(|e| err(format!("corrupt state file: {e}")))?;
        if file.version != STATE_VERSION {
            return Err(err(format!("unknown state version {}", file.version)));
        }
        if !file.session_id.eq_ignore_ascii_case(session_id) {
            return Err(err(format!("state belongs to {}, not {session_id}", file.session_id)));
        }
        state.last_hash = file.last_hash;
        for (hash, exp) in file.seen {
            state.remember(hash, exp);
        }
        Ok(state)
    }

    /// Where the state is saved.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last hash seen from a node (ed25519 hex).
    pub fn last_hash(&self, node: &str) -> Option<&str> {
        self.last_hash.get(node).map(String::as_str)
    }

    /// Every node's last hash.
    pub fn last_hashes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.last_hash.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Records the newest hash a node returned.
    pub fn set_last_hash(&mut self, node: &str, hash: &str) {
        self.last_hash.insert(node.to_string(), hash.to_string());
    }

    /// Whether a message was already printed.
    pub fn is_seen(&self, hash: &str) -> bool {
        self.seen.contains(hash)
    }

    /// Remembers a printed message until it expires (bounded by `CLIENT_SEEN_HASHES_MAX`).
    pub fn remember(&mut self, hash: String, expiration_ms: u64) {
        if !self.seen.insert(hash.clone()) {
            return;
        }
        self.seen_order.push_back((hash, expiration_ms));
        while self.seen_order.len() > CLIENT_SEEN_HASHES_MAX {
            if let Some((old, _)) = self.seen_order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }

    /// Forgets seen hashes whose message has expired (the network no longer holds them).
    pub fn prune(&mut self, now_ms: u64) {
        let seen = &mut self.seen;
        self.seen_order.retain(|(h, exp)| {
            let keep = *exp > now_ms;
            if !keep {
                seen.remove(h);
            }
            keep
        });
    }

    /// Number of remembered hashes.
    pub fn seen_len(&self) -> usize {
        self.seen_order.len()
    }

    /// Saves the state atomically (creating the directory 0700 if needed).
    pub fn save(&self) -> Result<(), ClientError> {
        let err = |reason: String| ClientError::State { path: self.path.display().to_string(), reason };
        if let Some(dir) = self.path.parent() {
            crate::net::fs::create_private_dir(dir).map_err(|e| err(e.to_string()))?;
        }
        let file = StateFile {
            version: STATE_VERSION,
            session_id: self.session_id.clone(),
            last_hash: self.last_hash.clone(),
            seen: self.seen_order.iter().cloned().collect(),
        };
        let text = serde_json::to_vec(&file).map_err(|e| err(e.to_string()))?;
        crate::net::fs::write_atomic(&self.path, &text).map_err(|e| err(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "05aa";

    #[test]
    fn test_state_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = RetrieveState::load(dir.path(), SID).unwrap();
        s.set_last_hash("node1", "h1");
        s.remember("h1".into(), 100);
        s.remember("h2".into(), 200);
        s.save().unwrap();
        let t = RetrieveState::load(dir.path(), SID).unwrap();
        assert_eq!(t.last_hash("node1"), Some("h1"));
        assert!(t.is_seen("h1") && t.is_seen("h2") && !t.is_seen("h3"));
    }

    #[test]
    fn test_seen_is_pruned_by_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = RetrieveState::load(dir.path(), SID).unwrap();
        s.remember("old".into(), 10);
        s.remember("new".into(), 1000);
        s.prune(500);
        assert!(!s.is_seen("old") && s.is_seen("new"));
    }

    #[test]
    fn test_seen_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = RetrieveState::load(dir.path(), SID).unwrap();
        for i in 0..CLIENT_SEEN_HASHES_MAX + 5 {
            s.remember(format!("h{i}"), u64::MAX);
        }
        assert_eq!(s.seen_len(), CLIENT_SEEN_HASHES_MAX);
        assert!(!s.is_seen("h0") && s.is_seen(&format!("h{}", CLIENT_SEEN_HASHES_MAX + 4)));
    }

    #[test]
    fn test_corrupt_or_foreign_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(format!("{SID}.json")), b"{not json").unwrap();
        assert!(matches!(RetrieveState::load(dir.path(), SID), Err(ClientError::State { .. })));
        let s = RetrieveState::load(dir.path(), "05bb").unwrap();
        s.save().unwrap();
        std::fs::rename(dir.path().join("05bb.json"), dir.path().join(format!("{SID}.json"))).unwrap();
        assert!(RetrieveState::load(dir.path(), SID).is_err());
    }

    #[test]
    fn test_state_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let s = RetrieveState::load(&dir.path().join("sub"), SID).unwrap();
        s.save().unwrap();
        let mode = std::fs::metadata(s.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    proptest::proptest! {
        #[test]
        fn prop_state_file_round_trips(
            last in proptest::collection::btree_map("[0-9a-f]{64}", "[A-Za-z0-9+/]{43}", 0..8),
            seen in proptest::collection::vec(("[A-Za-z0-9+/]{43}", 1u64..u64::MAX), 0..32),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut s = RetrieveState::load(dir.path(), SID).unwrap();
            for (node, hash) in &last {
                s.set_last_hash(node, hash);
            }
            for (hash, exp) in &seen {
                s.remember(hash.clone(), *exp);
            }
            s.save().unwrap();
            let t = RetrieveState::load(dir.path(), SID).unwrap();
            for (node, hash) in &last {
                proptest::prop_assert_eq!(t.last_hash(node), Some(hash.as_str()));
            }
            for (hash, _) in &seen {
                proptest::prop_assert!(t.is_seen(hash));
            }
            proptest::prop_assert_eq!(t.seen_len(), s.seen_len());
        }
    }
}
