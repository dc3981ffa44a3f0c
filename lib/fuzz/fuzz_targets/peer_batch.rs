//! A node-to-node replicate/push batch, after its sender authenticated.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = snkit::snode::protocol::parse_batch(data);
});
