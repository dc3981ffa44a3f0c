//! The testnet's use of the registry (`snkit::registry`): create, load, save, add, remove.

use std::path::Path;

use serde_json::Value;

use super::TestnetError;
use crate::formats::registry::Registry;

/// File locked around every read-modify-write of `registry.json`: the `testnet` commands and the
/// registry server (which appends decommissions) both change it.
const LOCK_FILE: &str = "registry.lock";

pub(crate) fn new(pow_difficulty: u64, reach_period_ms: u64) -> Registry {
    let mut r = Registry::new();
    r.set_pow_difficulty(pow_difficulty);
    r.set_reach_period_ms(reach_period_ms);
    r
}

/// Loads `registry.json` of `dir`, lets `change` edit it, and saves it if the history grew, all
/// under the directory's registry lock.
pub(crate) fn update<T>(
    dir: &Path,
    change: impl FnOnce(&mut Registry) -> Result<T, TestnetError>,
) -> Result<T, TestnetError> {
    let lock_path = dir.join(LOCK_FILE);
    crate::net::fs::with_lock(&lock_path, || {
        let path = dir.join("registry.json");
        let mut registry = load(&path)?;
        let before = registry.head();
        let out = change(&mut registry)?;
        if registry.head() != before {
            save(&registry, &path)?;
        }
        Ok(out)
    })
    .map_err(|e| TestnetError::io(lock_path.display(), e))?
}

pub(crate) fn load(path: &Path) -> Result<Registry, TestnetError> {
    Registry::load(path).map_err(|e| TestnetError::io(path.display(), e))
}

pub(crate) fn save(r: &Registry, path: &Path) -> Result<(), TestnetError> {
    r.save_atomic(path).map_err(|e| TestnetError::io(path.display(), e))
}

pub(crate) fn add(
    r: &mut Registry,
    ed: &[u8; 32],
    x: &[u8; 32],
    ip: &str,
    port: u16,
) -> Result<(), TestnetError> {
    r.join(*ed, *x, ip, port).map_err(|e| TestnetError::Failed(format!("cannot register node: {e}")))
}

pub(crate) fn remove(r: &mut Registry, ed: &[u8; 32]) -> Result<(), TestnetError> {
    r.leave(ed).map_err(|e| TestnetError::Failed(format!("cannot deregister node: {e}")))
}

/// The node list in its JSON form, with the network's `pow_difficulty` beside the node states.
pub(crate) fn node_list_json(r: &Registry) -> Value {
    r.nodes_json()
}
