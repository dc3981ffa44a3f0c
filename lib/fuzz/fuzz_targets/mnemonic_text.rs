//! Recovery-phrase text and seed input, as `mnemonic` and `keygen --seed -` read them.
#![no_main]
use libfuzzer_sys::fuzz_target;
use snkit::mnemonic;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(decoded) = mnemonic::decode(text, None) {
        // A phrase that decodes re-encodes to one that decodes to the same seed.
        if let Ok(phrase) = mnemonic::encode(&decoded.seed, decoded.format) {
            let again = mnemonic::decode(&phrase, Some(decoded.format));
            assert!(again.is_ok_and(|d| d.seed == decoded.seed), "mnemonic round trip changed the seed");
        }
    }
    let _ = mnemonic::parse_seed_text(text);
});
