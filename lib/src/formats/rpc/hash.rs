//! The message hash (id) of the live network since HF19.3 (storage-rpc.md "Message hash").

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use blake2::Blake2b;
use blake2::digest::Digest;
use blake2::digest::consts::U32;

use crate::formats::keys::Pubkey;

/// `base64(BLAKE2b-256(type_byte ‖ key ‖ NS ‖ data))` with the standard alphabet and no `=`
/// padding (43 characters); NS is the decimal namespace, or nothing for namespace 0.
pub fn message_hash(pubkey: &Pubkey, namespace: i16, data: &[u8]) -> String {
    let mut h = Blake2b::<U32>::new();
    h.update(pubkey.to_bytes());
    if namespace != 0 {
        h.update(namespace.to_string().as_bytes());
    }
    h.update(data);
    STANDARD_NO_PAD.encode(h.finalize())
}

/// The message hash of storage servers v2.2–v2.4 (storage-rpc.md "Message hash"), before
/// namespaces and before the hash stopped covering the time:
/// `base64(BLAKE2b-256(dec(timestamp_ms) ‖ dec(expiry_ms) ‖ type_byte ‖ key ‖ data))`, unpadded.
/// Only for reading old records and logs: nodes of today hash with [`message_hash`].
pub fn legacy_message_hash_v22(pubkey: &Pubkey, timestamp_ms: u64, expiry_ms: u64, data: &[u8]) -> String {
    let mut h = Blake2b::<U32>::new();
    h.update(timestamp_ms.to_string().as_bytes());
    h.update(expiry_ms.to_string().as_bytes());
    h.update(pubkey.to_bytes());
    h.update(data);
    STANDARD_NO_PAD.encode(h.finalize())
}
