//! The node key file: the daemons' shared key file of [`crate::server::keys`] (an Ed25519 seed,
//! X25519 derived, `<data>/key.json`, 0600), re-exported under its old path.

pub use crate::server::keys::{KEY_FILE, KeyError, NodeKeys};
