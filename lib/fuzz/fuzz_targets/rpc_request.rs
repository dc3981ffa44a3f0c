//! The storage RPC's JSON body, as `POST /storage_rpc/v1` and an onion's last hop hand it over.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = snkit::rpc::parse_request(data) {
        // Whatever parsed names a method and, at most, one account.
        let _ = (req.method(), req.swarm_pubkey());
    }
});
