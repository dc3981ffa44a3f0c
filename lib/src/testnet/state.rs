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
    /// The state's name as `testnet status` prints it.
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
    /// The node's position in the testnet, from 0.
    pub index: usize,
    /// The node's Ed25519 key, hex.
    pub pubkey_ed25519: String,
    /// The node's X25519 key, hex.
    pub pubkey_x25519: String,
    /// The node's storage port.
    pub port: u16,
    /// The address the node listens on and is registered with: loopback, or its own host's
    /// address in a host testnet (`up --hosts`).
    #[serde(default = "loopback")]
    pub ip: String,
    /// The node's base URL.
    pub url: String,
    /// The process id of its `snode`.
    pub pid: u32,
    /// Its data directory.
    pub data_dir: String,
    /// Whether it runs, was stopped or was killed.
    pub state: NodeState,
}

fn loopback() -> String {
    super::LOOPBACK.to_string()
}

fn key32(hex_key: &str, what: &str) -> Result<[u8; 32], TestnetError> {
    decode_hex32(hex_key).map_err(|_| TestnetError::Failed(format!("testnet.json: bad {what}")))
}

impl NodeEntry {
    /// The node's Ed25519 key, decoded.
    pub fn ed25519(&self) -> Result<[u8; 32], TestnetError> {
        key32(&self.pubkey_ed25519, "pubkey_ed25519")
    }

    /// The node's X25519 key, decoded.
    pub fn x25519(&self) -> Result<[u8; 32], TestnetError> {
        key32(&self.pubkey_x25519, "pubkey_x25519")
    }
}

/// The whole testnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestnetState {
    /// The testnet's directory.
    pub dir: String,
    /// The URL of the testnet's registry.
    pub registry_url: String,
    /// The process id of the registry server, while it runs.
    pub registry_pid: Option<u32>,
    /// The proof-of-work difficulty the registry announces.
    pub pow_difficulty: u64,
    /// The `RUST_LOG` level the nodes run with.
    pub log_level: String,
    /// Nodes serve HTTPS (`testnet up --tls`).
    #[serde(default)]
    pub tls: bool,
    /// The nodes, by index.
    pub nodes: Vec<NodeEntry>,
    /// The process id of the file server (`testnet up --fileserver`), while it runs.
    #[serde(default)]
    pub fileserver_pid: Option<u32>,
    /// The process id of the community server (`testnet up --sogs`), while it runs.
    #[serde(default)]
    pub sogs_pid: Option<u32>,
    /// The network of a host testnet (`testnet up --hosts`); none on loopback.
    #[serde(default)]
    pub hosts: Option<super::hosts::HostNet>,
}

impl TestnetState {
    /// Reads `testnet.json`.
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

    /// Writes `testnet.json` atomically.
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
