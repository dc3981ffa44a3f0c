//! The `ratchet` command's accounts: what each subcommand does over an identity's state
//! directory ([`account`]), and that directory (atomic 0600 files, a lock: [`state`]).

pub mod account;
pub mod state;

pub use account::{Account, Decrypted, Received, Record};
pub use state::StateDir;
