//! snkit: a Session-style private messenger network as a library.
//!
//! Every format, protocol and rule of the toolkit lives here, one module per concept; the
//! commands under `tools/` only parse flags, read input, call this crate and print.

pub mod cli;
pub mod fsutil;
pub mod limits;

pub mod blinding;
pub mod identity;
pub mod mnemonic;
pub mod pubkey;

pub mod nodelist;
pub mod registry;
pub mod swarm;

pub mod envelope;
pub mod pow;

pub mod onion;
pub mod rpc;
pub mod tls;

pub mod node;
pub mod store;

pub mod client;

pub mod ratchet;

pub mod session_protocol;
