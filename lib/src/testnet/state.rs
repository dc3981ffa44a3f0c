//! `testnet.json`: what a testnet runs.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::TestnetError;
use crate::formats::keys::decode_hex32;

/// What a node of the testnet is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    /// Started (and registered).
    Running,
    /// Deregistered and stopped (`testnet stop`).
    Stopped,
    /// SIGKILLed, still registered (`testnet kill`).
    Killed,
    /// Stopped by `testnet down`.
    Down,
}

impl NodeState {
    pub fn as_str(&self) -> &'static str {
        match self {
            NodeState::Running => "running",
            NodeState::Stopped => "stopped",
            NodeState::Killed => "killed",
            NodeState::Down => "down",
        }
    }
}

/// One node of the testnet as `testnet.json` records it: not a node-list entry
/// ([`crate::formats::nodelist::NodeInfo`]) but the process behind it — its pid, data directory,
/// state (running, stopped, killed) and index — which no other layer knows or needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeEntry {
    pub index: usize,
    pub pubkey_ed25519: String,
    pub pubkey_x25519: String,
    pub port: u16,
    pub url: String,
    pub pid: u32,
    pub data_dir: String,
    pub state: NodeState,
}

fn key32(hex_key: &str, what: &str) -> Result<[u8; 32], TestnetError> {
    decode_hex32(hex_key).map_err(|_| TestnetError::Failed(format!("testnet.json: bad {what}")))
}

impl NodeEntry {
    pub fn ed25519(&self) -> Result<[u8; 32], TestnetError> {
        key32(&self.pubkey_ed25519, "pubkey_ed25519")
    }

    pub fn x25519(&self) -> Result<[u8; 32], TestnetError> {
        key32(&self.pubkey_x25519, "pubkey_x25519")
    }
}

/// The whole testnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestnetState {
    pub dir: String,
    pub registry_url: String,
    pub registry_pid: Option<u32>,
    pub pow_difficulty: u64,
    pub log_level: String,
    /// Nodes serve HTTPS (`testnet up --tls`).
    #[serde(default)]
    pub tls: bool,
    pub nodes: Vec<NodeEntry>,
}

impl TestnetState {
    pub fn load(path: &Path) -> Result<Self, TestnetError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            TestnetError::Usage(format!(
                "no testnet at {}: {e} (start one with 'testnet up')",
                path.display()
            ))
        })?;
        serde_json::from_str(&text)
            .map_err(|e| TestnetError::Failed(format!("{} is not valid: {e}", path.display())))
    }

    pub fn save(&self, path: &Path) -> Result<(), TestnetError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| TestnetError::io(path.display(), e))?;
        crate::net::fs::write_atomic(path, text.as_bytes()).map_err(|e| TestnetError::io(path.display(), e))
    }

    /// Whether the registry server or any node is still alive.
    pub fn anything_running(&self) -> bool {
        self.registry_pid.is_some_and(|p| super::procs::is_alive(p, &self.dir))
            || self.nodes.iter().any(|n| super::procs::is_alive(n.pid, &n.data_dir))
    }

    /// A node by index or by a unique prefix of its Ed25519 key.
    pub fn resolve(&self, node: &str) -> Result<usize, TestnetError> {
        let node = node.trim();
        if !node.is_empty() && node.chars().all(|c| c.is_ascii_digit()) {
            let i: usize = node.parse().map_err(|_| TestnetError::Usage(format!("bad node index {node}")))?;
            if i < self.nodes.len() {
                return Ok(i);
            }
            return Err(TestnetError::Usage(format!(
                "no node {i}: the testnet has {} nodes",
                self.nodes.len()
            )));
        }
        let lower = node.to_ascii_lowercase();
        let hits: Vec<usize> = self
            .nodes
            .iter()
            .filter(|n| !lower.is_empty() && n.pubkey_ed25519.starts_with(&lower))
            .map(|n| n.index)
            .collect();
        match hits.as_slice() {
            [i] => Ok(*i),
            [] => Err(TestnetError::Usage(format!(
                "no node matches '{node}' (give an index or an ed25519 prefix)"
            ))),
            _ => Err(TestnetError::Usage(format!(
                "'{node}' matches {} nodes; give a longer prefix",
                hits.len()
            ))),
        }
    }
}
