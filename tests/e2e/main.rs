//! End-to-end tests: the built commands (assert_cmd), against real `snode` processes on free
//! loopback ports. One module per area; `common` holds the shared process helpers.

mod common;

mod attach;
mod client;
mod crypto;
mod identity;
mod node;
mod ratchet;
mod swarm;
