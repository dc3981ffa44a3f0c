//! Registry documents and node lists, as a client or node loads them from a file or over HTTP,
//! and a get_swarm reply.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(reg) = snkit::registry::Registry::parse_str(text) {
        // A document that parsed replays to the same document.
        let again = snkit::registry::Registry::parse_str(&reg.to_json().to_string());
        assert!(again.is_ok_and(|r| r.head() == reg.head()), "registry round trip changed the chain");
    }
    let _ = snkit::nodelist::NodeList::parse_str(text);
    if let Ok(value) = serde_json::from_str(text) {
        let _ = snkit::nodelist::parse_get_swarm_reply(&value);
    }
    let _ = snkit::envelope::Envelope::parse(text);
});
