//! Requests to a community server, through its whole HTTP surface (`sogs::router` on a real
//! database in a scratch directory with one room, `fuzz`): request lines, query strings, the
//! X-SOGS-* auth headers, JSON bodies, `/batch` and `/sequence` bodies, multipart uploads, the
//! Bearer REST API and the onion `/oxen/v4/lsrpc`.
//!
//! The first byte picks how the rest (a `RawRequest`) is sent: bit 0 adds valid X-SOGS-* headers
//! signed by a fixed blinded identity (so the routes behind authentication are reached, which
//! random bytes never would: a signature cannot be guessed); bit 1 seals the request into a v4
//! onion request to the server's key; bit 2 (without bit 1) seals the raw bytes themselves as
//! the onion plaintext, so the inner request's own parser sees them.
#![no_main]
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use snkit::sogs_formats::Signer;
use snkit_fuzz::{RawRequest, drive};

struct Fixture {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    server_pk: [u8; 32],
    signer: Signer,
    runs: u64,
    dir: std::path::PathBuf,
}

fn fixture(generation: u64) -> Fixture {
    let dir = snkit_fuzz::scratch_dir("sogs", generation);
    let mut admin = snkit::sogs::admin::Admin::open(&dir).unwrap_or_else(|e| unreachable!("sogs admin: {e}"));
    let _ = admin.add_room("fuzz", Some("Fuzz"), Some("a room for the fuzzer"));
    drop(admin);
    let server = snkit::sogs::Server::open(&dir, "http://sogs.invalid".into(), false)
        .unwrap_or_else(|e| unreachable!("sogs server: {e}"));
    let server_pk = server.pubkey();
    let signer = Signer::blinded(&snkit_fuzz::identity(), &server_pk)
        .unwrap_or_else(|e| unreachable!("a fixed identity blinds: {e}"));
    Fixture { rt: snkit_fuzz::runtime(), app: snkit::sogs::router(&server), server_pk, signer, runs: 0, dir }
}

thread_local! {
    static FIXTURE: RefCell<Option<Fixture>> = const { RefCell::new(None) };
}
/// Fresh nonces: the server refuses a nonce it has seen (replay protection).
static NONCE: AtomicU64 = AtomicU64::new(0);
static GENERATION: AtomicU64 = AtomicU64::new(0);

fn sign(f: &Fixture, raw: &mut RawRequest) {
    let n = NONCE.fetch_add(1, Ordering::Relaxed);
    let mut nonce = [0u8; 16];
    nonce[..8].copy_from_slice(&n.to_le_bytes());
    nonce[8..].copy_from_slice(&std::process::id().to_le_bytes().repeat(2));
    let now = snkit::time::now_ms() as i64 / 1000;
    let (path, query) = raw.path_and_query();
    let (path, query) = (path.to_string(), query.map(str::to_string));
    if let Ok(headers) =
        f.signer.headers(&f.server_pk, &nonce, now, &raw.method, &path, query.as_deref(), &raw.body)
    {
        raw.headers.extend(headers.into_iter().map(|(k, v)| (k.to_string(), v)));
    }
}

fuzz_target!(|data: &[u8]| {
    let (mode, rest) = snkit_fuzz::split(data);
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
        let raw = if mode & 2 == 0 && mode & 4 != 0 {
            Some(snkit_fuzz::v4_post_raw(&f.server_pk, rest))
        } else {
            RawRequest::parse(rest).and_then(|mut raw| {
                if mode & 1 != 0 {
                    sign(f, &mut raw);
                }
                if mode & 2 != 0 { snkit_fuzz::v4_post(&f.server_pk, &raw.to_v4()) } else { Some(raw) }
            })
        };
        if let Some(req) = raw.as_ref().and_then(RawRequest::to_http) {
            drive(&f.rt, &f.app, req);
        }
    });
});
