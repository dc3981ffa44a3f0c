//! Layer 1: the formats and rules of the network, pure functions of their inputs (plus an
//! injected RNG or clock). Nothing here opens a socket or a file.

pub mod limits;
pub mod time;

pub mod blinding;
pub mod identity;
pub mod keys;
pub mod mnemonic;

pub mod nodelist;
pub mod reachability;
pub mod registry;
pub mod swarm;

pub mod envelope;
pub mod onion;
pub mod pow;
pub mod rpc;

pub mod ratchet;
pub mod session_protocol;

pub mod attachments;

pub mod community;
pub mod sogs;

pub mod sync;
