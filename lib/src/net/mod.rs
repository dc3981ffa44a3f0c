//! Layer 2: effects every upper layer shares: the one HTTP client stack ([`http`]) with its TLS
//! configuration ([`tls`]), the node-list loader ([`nodes`]), registry files and URLs
//! ([`registry`]), the network view a client sends
//! through ([`network`], [`path`]), onion requests to a server ([`lsrpc`]), and durable local
//! files ([`fs`]).

pub mod fs;
pub mod http;
pub mod lsrpc;
pub mod network;
pub mod nodes;
pub(crate) mod path;
pub(crate) mod registry;
pub mod tls;

/// Why the network view could not be built or asked: the node list, the bootstrap, the swarms.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The node list could not be loaded.
    #[error("cannot read the node list {source_name}: {reason}")]
    NodeList {
        /// Where the list was to come from.
        source_name: String,
        /// Why it failed.
        reason: String,
    },
    /// The seed node could not give a node list.
    #[error("cannot bootstrap from {url}: {reason}")]
    Bootstrap {
        /// The seed's URL.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The node list has no usable node.
    #[error("the node list has no usable node")]
    NoNodes,
    /// No swarm exists for the pubkey.
    #[error("no swarm holds {pubkey}: the node list has no swarm")]
    NoSwarm {
        /// The pubkey, hex.
        pubkey: String,
    },
}

impl NetError {
    /// Whether the network may cure it by itself (a swarm being rebuilt, nodes coming back).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::NoSwarm { .. } | Self::NoNodes)
    }

    /// Whether the error is the caller's input (exit 2) rather than the network (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::NodeList { .. })
    }
}

/// The first 8 hex digits of a node key, for messages.
pub(crate) fn short(hex: &str) -> &str {
    hex.get(..8).unwrap_or(hex)
}
