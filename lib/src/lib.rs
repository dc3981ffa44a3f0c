//! snkit: a Session-style private messenger network as a library.
//!
//! Every format, protocol and rule of the toolkit lives here; the commands under `tools/` only
//! parse flags, read input, call this crate and print. The crate is built in layers, each a
//! top-level module that imports only the layers above it in this list (docs/architecture.md;
//! `layers::tests` fails on an upward or cyclic import):
//!
//! 1. `formats`: pure formats and rules, no I/O.
//! 2. `net`: the one HTTP client stack, TLS, the node-list loader, onion sending, local files.
//! 3. [`client`]: what a user's command does against the network.
//! 4. `server`: what every daemon shares; then the daemons, siblings of each other: [`snode`],
//!    [`fileserver`].
//! 5. [`testnet`]: process orchestration of a local network.
//! 6. [`cli`]: the plumbing every binary shares (flags, JSON in/out, errors → exit codes).

#![warn(missing_docs, unreachable_pub)]

mod formats;
mod net;

pub mod client;
pub mod fileserver;
pub mod server;
pub mod snode;
pub mod sogs;

pub mod testnet;

#[cfg(feature = "cli")]
pub mod cli;

#[cfg(test)]
mod layers;

pub use formats::community as community_formats;
pub use formats::sync as sync_formats;
pub use formats::{
    attachments, blinding, envelope, identity, keys, limits, mnemonic, nodelist, onion, pow, ratchet,
    reachability, registry, rpc, session_protocol, sogs as sogs_formats, swarm, time,
};
pub use net::{fs, http, lsrpc, network, nodes, tls};
