//! Onion frames and layers as a node peels them. Mode byte even: the bytes are the request body
//! itself (the outer frame); odd: they are the plaintext of a correctly encrypted layer, so the
//! inner frame, its routing JSON and host targets are reached past the AEAD.
#![no_main]
use libfuzzer_sys::fuzz_target;
use snkit::onion::{EncType, build::wrap_layer, decode_frame, peel::peel};

fuzz_target!(|data: &[u8]| {
    let (secret, public) = snkit_fuzz::node_keys();
    let (mode, rest) = snkit_fuzz::split(data);
    let _ = decode_frame(rest);
    let body = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        let enc = if mode & 2 == 0 { EncType::AesGcm } else { EncType::XChaCha20 };
        wrap_layer(&public, rest, enc)
    };
    let _ = peel(&secret, &public, &body);
    if let Ok(value) = serde_json::from_slice(rest) {
        let _ = snkit::onion::parse_path(&value);
    }
});
