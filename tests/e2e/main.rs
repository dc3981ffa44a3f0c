//! End-to-end tests: the built commands (assert_cmd), against real `snode` processes on free
//! loopback ports. One module per area; `common` holds the shared process helpers.

// Test code may unwrap, expect and panic: a failure is the test failing, with its message. The
// workspace lints deny these for the library and the commands; clippy's allow-*-in-tests covers
// only `#[test]` functions, not the shared helpers of this test crate.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a failing test panics with its message; the shared helpers are not #[test] functions"
)]

mod common;

mod attach;
mod client;
mod community;
mod crypto;
mod faults;
mod files;
mod fileserver;
mod hosts;
mod identity;
mod links;
mod node;
mod paths;
mod ratchet;
mod rpc_command;
mod rpc_methods;
mod sogs;
mod sources;
mod swarm;
mod sync;
