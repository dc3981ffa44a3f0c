//! The client side of the network: `send` stores a message in its recipient's swarm and
//! `retrieve` reads an identity's new messages back, every request travelling through a fresh
//! 3-hop onion path.
//!
//! - [`files`]: `upload`, `download`, `fileinfo`, `extend`: attachments on a file server.
//! - [`lookup`]: `swarm-of`'s logic (which swarm holds a pubkey).
//! - `net::network` (re-exported as [`Network`]): the node list, the PoW difficulty, the swarm
//!   cache (421 updates), and one onion RPC call with path retries.
//! - [`send`](mod@send): envelope, PoW, storing on 3 distinct swarm members.
//! - [`retrieve`]: polling 3 swarm members, merging, dedupe, ordering.
//! - [`rpc`](mod@rpc): the `rpc` command: any storage RPC request signed, sent, its reply checked.
//! - [`sync`](mod@sync): synchronous routing: `send --sync`, `retrieve --listen` (docs/sync.md).
//! - [`state`]: what `retrieve` remembers between runs (last hash per node, seen hashes).
//! - [`sogs`](mod@sogs): a signing client of a community server (sogs.md §1).
//! - [`community`]: the `community` command's client (rooms, posts, polls, moderation, DMs).
//!
//! docs/client.md describes the behaviour and the state file.

pub mod community;
pub mod files;
pub mod lookup;
pub mod ratchet;
pub mod retrieve;
pub mod rpc;
pub mod send;
pub mod sogs;
pub mod state;
pub mod sync;

pub use crate::net::NetError;
pub use crate::net::network::Network;
pub use crate::net::nodes::NodeSource;
use crate::net::short;
pub use retrieve::{Retrieved, Retriever};
pub use send::{Failure, SendOptions, SendReport, check_ttl, prepare_message, send};
pub use state::RetrieveState;

/// Everything that can go wrong on the client side, one variant per rule.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The message to send has no bytes.
    #[error("the message is empty: pipe the bytes to send into stdin")]
    EmptyMessage,
    /// The message is over the network's size limit.
    #[error("the message is {len} bytes; the network stores at most {max} bytes")]
    MessageTooLarge {
        /// Its size in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The TTL is outside the range the nodes accept.
    #[error("TTL {ttl_ms} ms is out of range: a message lives {min_ms} ms to {max_ms} ms")]
    BadTtl {
        /// The TTL asked for.
        ttl_ms: u64,
        /// The shortest TTL accepted.
        min_ms: u64,
        /// The longest TTL accepted.
        max_ms: u64,
    },
    /// Loading the node list or reaching the network failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// Every member of the swarm refused or failed the store.
    #[error("no node stored the message ({summary})")]
    NoneStored {
        /// One line counting the failures by kind.
        summary: String,
        /// Each member's failure.
        failed: Vec<Failure>,
    },
    /// No member of the swarm answered at all.
    #[error("no node of the swarm answered ({summary})")]
    Unreachable {
        /// One line counting the failures by kind.
        summary: String,
    },
    /// Solving the proof of work failed.
    #[error("proof of work failed: {0}")]
    Pow(String),
    /// The request could not be built (a key or a signature failed).
    #[error("cannot build the request: {0}")]
    Request(String),
    /// `retrieve --delete` could not delete what it printed (the messages stay on the swarm).
    #[error("the messages were printed and saved, but deleting them failed: {0}")]
    Delete(String),
    /// `send --sync only`: the synchronous delivery failed and no fallback was allowed.
    #[error("synchronous delivery failed ({0}); --sync only does not fall back to the swarm")]
    SyncFailed(String),
    /// `retrieve --listen` could not keep its listener (its files, or no node to listen at).
    #[error("listener: {0}")]
    Listener(String),
    /// The retrieve state could not be read or written.
    #[error("retrieve state {path}: {reason}")]
    State {
        /// The state file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl ClientError {
    /// Whether the network may cure it by itself (nodes down, a swarm being rebuilt): what
    /// `retrieve --follow` keeps polling through. Anything else ends the stream.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Net(e) => e.is_transient(),
            _ => false,
        }
    }

    /// Whether the error is the caller's input (exit 2) rather than the network (exit 1).
    pub fn is_usage(&self) -> bool {
        match self {
            Self::EmptyMessage | Self::MessageTooLarge { .. } | Self::BadTtl { .. } => true,
            Self::Net(e) => e.is_usage(),
            _ => false,
        }
    }
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

/// The network a command talks to, from any node-list source (`crate::net::nodes`).
pub fn open_network(source: &NodeSource) -> Result<Network, ClientError> {
    Ok(Network::open(source)?)
}
