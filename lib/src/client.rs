//! The client side of the network: `send` stores a message in its recipient's swarm and
//! `retrieve` reads an identity's new messages back, every request travelling through a fresh
//! 3-hop onion path.
//!
//! - [`transport`]: blocking HTTP with connect/read/write timeouts on every call.
//! - [`path`]: picking onion paths (3 distinct random nodes, never the target when avoidable).
//! - [`network`]: the node list, the PoW difficulty, the swarm cache (421 updates), and one
//!   onion RPC call with path retries.
//! - [`send`]: envelope, PoW, storing on 3 distinct swarm members.
//! - [`retrieve`]: polling 3 swarm members, merging, dedupe, ordering.
//! - [`state`]: what `retrieve` remembers between runs (last hash per node, seen hashes).
//!
//! docs/client.md describes the behaviour and the state file.

pub mod network;
pub mod path;
pub mod retrieve;
pub mod send;
pub mod state;
pub mod transport;

pub use network::{Network, Node};
pub use retrieve::{Retrieved, Retriever};
pub use send::{Failure, SendOptions, SendReport, check_ttl, prepare_message, send};
pub use state::RetrieveState;

/// Everything that can go wrong on the client side, one variant per rule.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the message is empty: pipe the bytes to send into stdin")]
    EmptyMessage,
    #[error("the message is {len} bytes; the network stores at most {max} bytes")]
    MessageTooLarge { len: usize, max: usize },
    #[error("TTL {ttl_ms} ms is out of range: a message lives {min_ms} ms to {max_ms} ms")]
    BadTtl { ttl_ms: u64, min_ms: u64, max_ms: u64 },
    #[error("cannot read the node list {source_name}: {reason}")]
    NodeList { source_name: String, reason: String },
    #[error("cannot bootstrap from {url}: {reason}")]
    Bootstrap { url: String, reason: String },
    #[error("the node list has no usable node")]
    NoNodes,
    #[error("no swarm holds {pubkey}: the node list has no swarm")]
    NoSwarm { pubkey: String },
    #[error("no node stored the message ({summary})")]
    NoneStored { summary: String, failed: Vec<Failure> },
    #[error("no node of the swarm answered ({summary})")]
    Unreachable { summary: String },
    #[error("proof of work failed: {0}")]
    Pow(String),
    #[error("cannot build the request: {0}")]
    Request(String),
    #[error("retrieve state {path}: {reason}")]
    State { path: String, reason: String },
}

impl ClientError {
    /// Whether the network may cure it by itself (nodes down, a swarm being rebuilt): what
    /// `retrieve --follow` keeps polling through. Anything else ends the stream.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::NoSwarm { .. } | Self::NoNodes)
    }

    /// Whether the error is the caller's input (exit 2) rather than the network (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::EmptyMessage | Self::MessageTooLarge { .. } | Self::BadTtl { .. } | Self::NodeList { .. }
        )
    }
}

/// Milliseconds since the Unix epoch (the network's clock unit).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A short one-line summary of failures: `"3 nodes: a1b2c3d4: timeout; ..."`.
pub(crate) fn summarize(failed: &[Failure]) -> String {
    if failed.is_empty() {
        return "no node tried".to_string();
    }
    let parts: Vec<String> =
        failed.iter().take(3).map(|f| format!("{}: {}", short(&f.node), f.reason)).collect();
    let more = if failed.len() > 3 { format!("; and {} more", failed.len() - 3) } else { String::new() };
    format!("{}{}", parts.join("; "), more)
}

/// The first 8 hex digits of a node key, for messages.
pub(crate) fn short(hex: &str) -> &str {
    hex.get(..8).unwrap_or(hex)
}

/// The network a command talks to: `--nodes FILE` (a node list such as testnet's `nodes.json`)
/// or `--node URL` (bootstrap the list from that node).
pub fn open_network(nodes_file: Option<&str>, node_url: Option<&str>) -> Result<Network, ClientError> {
    match (nodes_file, node_url) {
        (Some(path), _) => Network::from_file(path),
        (None, Some(url)) => Network::bootstrap(url),
        (None, None) => Err(ClientError::NodeList {
            source_name: "(none)".into(),
            reason: "no node list given: pass --nodes FILE or --node URL".into(),
        }),
    }
}

/// The command-line form of a client error: one line, exit 2 for bad input, 1 for the network,
/// with a hint where one helps.
pub fn cli_error(err: ClientError) -> crate::cli::CliError {
    use crate::cli::CliError;
    let hint = match &err {
        ClientError::NodeList { .. } => {
            Some("pass the nodes.json that 'testnet up' wrote, or --node http://IP:PORT")
        }
        ClientError::Bootstrap { .. } => {
            Some("is the node running? check the URL, e.g. http://127.0.0.1:PORT")
        }
        ClientError::NoneStored { .. } | ClientError::Unreachable { .. } => {
            Some("are the nodes running? 'testnet status --dir DIR' lists them")
        }
        ClientError::MessageTooLarge { .. } => Some("split the message, or send an attachment reference"),
        _ => None,
    };
    let base = if err.is_usage() { CliError::usage(&err) } else { CliError::failed(&err) };
    match hint {
        Some(h) => base.hint(h),
        None => base,
    }
}
