//! The message hash (id) of the live network since HF19.3 (storage-rpc.md "Message hash").

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use blake2::Blake2b;
use blake2::digest::Digest;
use blake2::digest::consts::U32;

use crate::pubkey::Pubkey;

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
