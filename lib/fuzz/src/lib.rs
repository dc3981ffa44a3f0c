//! Fixtures shared by the fuzz targets: fixed keys, so a crash found once reproduces from its
//! input file alone.

use x25519_dalek::{PublicKey, StaticSecret};

/// The node key every onion target decrypts with.
pub fn node_keys() -> (StaticSecret, [u8; 32]) {
    let secret = StaticSecret::from([7u8; 32]);
    let public = PublicKey::from(&secret).to_bytes();
    (secret, public)
}

/// The recipient of the session-protocol targets.
pub fn identity() -> snkit::identity::Identity {
    match snkit::identity::Identity::from_seed(&[9u8; 32]) {
        Ok(id) => id,
        Err(e) => unreachable!("a 32-byte seed is always accepted: {e}"),
    }
}

/// The first byte of an input picks a mode; the rest is the data.
pub fn split(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((mode, rest)) => (*mode, rest),
        None => (0, data),
    }
}
