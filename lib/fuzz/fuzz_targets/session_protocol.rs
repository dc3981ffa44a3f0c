//! What the apps' 1-1 messages are made of, from the swarm's `data` down to `Content`: the
//! WebSocketMessage/Envelope wrapping (mode 0), the sealed box (mode 1: the bytes are sealed to
//! the fixture identity first, so the signature and sender checks inside are reached), the
//! `Content` protobuf and its padding (mode 2).
#![no_main]
use libfuzzer_sys::fuzz_target;
use snkit::session_protocol::{
    content::Content, padding::unpad, seal::decrypt_incoming, wrap::unwrap_from_swarm,
};

fuzz_target!(|data: &[u8]| {
    let (mode, rest) = snkit_fuzz::split(data);
    let me = snkit_fuzz::identity();
    match mode % 3 {
        0 => {
            let _ = unwrap_from_swarm(rest);
            let _ = decrypt_incoming(&me, rest);
        }
        1 => {
            let pk = crypto_box::PublicKey::from(me.session_id().x25519());
            if let Ok(sealed) = pk.seal(&mut rand::thread_rng(), rest) {
                let _ = decrypt_incoming(&me, &sealed);
            }
        }
        _ => {
            let _ = Content::decode(unpad(rest));
        }
    }
});
