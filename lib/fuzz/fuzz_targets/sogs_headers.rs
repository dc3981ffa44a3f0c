//! The community server's parsers of request parts, alone (fast, so the fuzzer reaches deep
//! into each): the four X-SOGS-* auth headers (one per input line), the request path's URL
//! decoding, room tokens, and Content-Disposition filenames of uploads.
#![no_main]
use libfuzzer_sys::fuzz_target;
use snkit::sogs_formats as sogs;

fuzz_target!(|data: &[u8]| {
    let (mode, rest) = snkit_fuzz::split(data);
    let Ok(text) = std::str::from_utf8(rest) else { return };
    match mode % 4 {
        0 | 1 => {
            let mut lines = text.split('\n').map(|l| Some(l).filter(|l| !l.is_empty()));
            let mut next = || lines.next().flatten();
            let (pk, nonce, ts, sig) = (next(), next(), next(), next());
            if let Ok(Some(h)) = sogs::parse_auth_headers(pk, nonce, ts, sig, mode % 4 == 1) {
                // A parsed timestamp is then checked against the clock, as the server does.
                let _ = sogs::timestamp_fresh(h.timestamp, snkit::time::now_ms() as i64 / 1000);
            }
        }
        2 => {
            let _ = sogs::decode_path(text);
            let _ = sogs::valid_room_token(text);
            let _ = sogs::decode_b64(text);
        }
        _ => {
            let _ = sogs::disposition_filename(text);
        }
    }
});
