//! End-to-end encryption between two identities (spec ratchet.md): X3DH from prekeys, the
//! Double Ratchet, friend requests, and the per-identity state directory.
//!
//! One module per job:
//! - [`keys`]: root, chain and message keys with their KDFs; ratchet key pairs;
//! - [`x3dh`]: the first shared secret and the associated data;
//! - [`session`]: one Double Ratchet session (chains, skipped keys, decrypt-on-a-plan);
//! - [`prekeys`]: signed and one-time prekeys, the bundle JSON;
//! - [`wire`]: the wire message JSON and the reading of `decrypt`'s input lines;
//! - [`request`]: sealed, signed friend requests;
//! - `client::ratchet::state`: the state directory (atomic 0600 files, a lock);
//! - `client::ratchet::account`: what each `ratchet` subcommand does, over the state directory;
//! - [`error`]: the one error enum.

pub mod encoding;
pub mod error;
pub mod keys;
pub mod prekeys;
pub mod request;
pub mod session;
pub mod wire;
pub mod x3dh;

pub use error::RatchetError;
pub use prekeys::{Bundle, PrekeyStore, VerifiedBundle};
pub use request::{FriendRequest, SealedRequest};
pub use session::Session;
pub use wire::{Header, Incoming, Payload, WireMessage};
pub use x3dh::X3dhHeader;
