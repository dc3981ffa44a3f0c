//! Ratchet wire messages, headers, bundles and friend requests, as `ratchet decrypt` reads them.
#![no_main]
use libfuzzer_sys::fuzz_target;
use snkit::ratchet::{
    prekeys::Bundle,
    request::SealedRequest,
    wire::{Header, WireMessage},
};

fuzz_target!(|data: &[u8]| {
    let _ = Header::from_bytes(data);
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Ok(msg) = WireMessage::from_json(&value) {
        let again = WireMessage::from_json(&msg.to_json());
        assert!(again.is_ok_and(|m| m == msg), "wire message round trip changed it");
    }
    if let Ok(bundle) = Bundle::from_json(&value) {
        let _ = bundle.verify();
    }
    if let Ok(req) = SealedRequest::from_json(&value) {
        let _ = req.open(&snkit_fuzz::identity());
    }
});
