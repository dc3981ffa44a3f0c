//! Requests to a file server, through its whole HTTP surface (`fileserver::router` on a real
//! store in a scratch directory): uploads with their `X-FS-TTL` and headers, downloads, info
//! and extend by id, and the onion `/oxen/v4/lsrpc` the apps use.
//!
//! The first byte picks how the rest is sent: 0 as a `RawRequest`; 1 that request sealed into a
//! v4 onion request to the server's key; 2 the raw bytes sealed as the onion plaintext (the v4
//! request parser sees them); 3 the v4 request and reply decoders on the raw bytes, no server.
#![no_main]
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use snkit_fuzz::{RawRequest, drive};

struct Fixture {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    server_pk: [u8; 32],
    runs: u64,
    dir: std::path::PathBuf,
}

fn fixture(generation: u64) -> Fixture {
    let dir = snkit_fuzz::scratch_dir("fileserver", generation);
    let _ = std::fs::create_dir_all(&dir);
    let keys = snkit::server::keys::NodeKeys::load_or_create(&dir.join(snkit::server::keys::KEY_FILE))
        .unwrap_or_else(|e| unreachable!("file server keys: {e}"));
    let (store, _) =
        snkit::fileserver::Store::open(&dir).unwrap_or_else(|e| unreachable!("file server store: {e}"));
    let app = snkit::fileserver::router(store, &keys, generation % 2 == 1);
    Fixture { rt: snkit_fuzz::runtime(), app, server_pk: keys.x25519_public(), runs: 0, dir }
}

thread_local! {
    static FIXTURE: RefCell<Option<Fixture>> = const { RefCell::new(None) };
}
static GENERATION: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let (mode, rest) = snkit_fuzz::split(data);
    if mode % 4 == 3 {
        let _ = snkit::onion::v4::decode_request(rest);
        let _ = snkit::onion::v4::decode_response(rest);
        return;
    }
    FIXTURE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|f| f.runs >= snkit_fuzz::RESET_EVERY) {
            if let Some(old) = slot.take() {
                let _ = std::fs::remove_dir_all(&old.dir);
            }
            *slot = Some(fixture(GENERATION.fetch_add(1, Ordering::Relaxed)));
        }
        let Some(f) = slot.as_mut() else { return };
        f.runs += 1;
        let raw = match mode % 4 {
            0 => RawRequest::parse(rest),
            1 => RawRequest::parse(rest).and_then(|raw| snkit_fuzz::v4_post(&f.server_pk, &raw.to_v4())),
            _ => Some(snkit_fuzz::v4_post_raw(&f.server_pk, rest)),
        };
        if let Some(req) = raw.as_ref().and_then(RawRequest::to_http) {
            drive(&f.rt, &f.app, req);
        }
    });
});
