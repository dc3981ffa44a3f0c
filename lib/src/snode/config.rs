//! What a node is told at start: where its data lives, where it listens, where the registry is.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::store::StoreOptions;
use crate::formats::limits::{NODE_REGISTRY_POLL_MS, NODE_REPLICATION_TIMEOUT_MS, NODE_SWEEP_INTERVAL_MS};

/// Name of the SQLite database inside the data directory.
pub const DB_FILE: &str = "messages.sqlite";
/// File the node writes its bound address to once it listens (so `--listen 127.0.0.1:0` works).
pub const LISTEN_FILE: &str = "listen.addr";

/// A node's configuration.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Data directory: key file, database, listen address file.
    pub data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port, written to `<data>/listen.addr`).
    pub listen: SocketAddr,
    /// Registry source: an `http://` URL or a file path.
    pub registry: String,
    /// Interval between registry polls.
    pub poll_interval: Duration,
    /// Interval of the expiry sweeper.
    pub sweep_interval: Duration,
    /// Timeout of a replication request to one peer.
    pub replication_timeout: Duration,
    /// Serve HTTPS (a self-signed certificate) instead of HTTP, and talk HTTPS to the peers, as
    /// the live service nodes do. A network is all one or all the other.
    pub tls: bool,
    /// How the message store is opened.
    pub store: StoreOptions,
    /// Record every accepted request with its peer address in `<data>/peers.ndjson`
    /// (`snode --peer-log`, `super::peer_log`).
    pub peer_log: bool,
}

impl NodeConfig {
    /// The defaults, with these three set.
    pub fn new(data_dir: PathBuf, listen: SocketAddr, registry: String) -> Self {
        Self {
            data_dir,
            listen,
            registry,
            poll_interval: Duration::from_millis(NODE_REGISTRY_POLL_MS),
            sweep_interval: Duration::from_millis(NODE_SWEEP_INTERVAL_MS),
            replication_timeout: Duration::from_millis(NODE_REPLICATION_TIMEOUT_MS),
            tls: false,
            store: StoreOptions::default(),
            peer_log: false,
        }
    }

    /// The node key file in the data directory.
    pub fn key_path(&self) -> PathBuf {
        self.data_dir.join(super::keys::KEY_FILE)
    }

    /// The message database in the data directory.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join(DB_FILE)
    }

    /// The file the node writes its bound address to.
    pub fn listen_file(&self) -> PathBuf {
        self.data_dir.join(LISTEN_FILE)
    }
}
