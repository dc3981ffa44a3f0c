//! Downloaded attachment blobs (the 'S' stream, legacy AES-CBC + HMAC, GCM profile pictures)
//! and download URLs, all of them chosen by whoever sent the message or runs the file server.
#![no_main]
use libfuzzer_sys::fuzz_target;
use snkit::attachments::{legacy, pointer::DownloadUrl, profile, stream};
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    let (mode, rest) = snkit_fuzz::split(data);
    let mut sink = Vec::new();
    match mode % 4 {
        0 => {
            if let Ok(key) = stream::StreamKey::from_bytes(&[3u8; 32]) {
                let _ = stream::decrypt(&key, &mut Cursor::new(rest), &mut sink);
            }
        }
        1 => {
            if let Ok(key) = legacy::LegacyKey::from_bytes(&[5u8; 64]) {
                let size = rest.len() as u64;
                let _ = legacy::decrypt(&key, &[0u8; 32], size, &mut Cursor::new(rest), &mut sink);
            }
        }
        2 => {
            if let Ok(key) = profile::ProfileKey::from_bytes(&[6u8; 32]) {
                let _ = profile::decrypt(&key, rest);
            }
        }
        _ => {
            if let Ok(url) = std::str::from_utf8(rest) {
                let _ = DownloadUrl::parse(url);
            }
        }
    }
});
