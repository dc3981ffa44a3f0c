//! Benchmarks: files — `attach encrypt` ('S' format) MB/s against the bare libsodium
//! secretstream primitive (dryoc's XChaCha20-Poly1305 push of 32 KiB messages, the same calls
//! the format makes) measured in the same run (target: >= 80% of it), and upload / download MB/s
//! to a real `fileserver`, direct and through 3-hop onion paths (v4) of a release testnet.
//!
//! The format reads a file twice (BLAKE2b of seed ‖ file for the deterministic key, then the
//! encryption), so the BLAKE2b pass is measured too: it explains the gap to the primitive.
//!
//! Lines: `name: value unit (target: ...)`.

use std::io::Cursor;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use blake2::Blake2bMac;
use blake2::digest::consts::U56;
use blake2::digest::{KeyInit, Update};
use dryoc::classic::crypto_secretstream_xchacha20poly1305::{
    Header, Key, State, crypto_secretstream_xchacha20poly1305_init_push as init_push,
    crypto_secretstream_xchacha20poly1305_push as push,
};
use dryoc::constants::CRYPTO_SECRETSTREAM_XCHACHA20POLY1305_TAG_MESSAGE as TAG_MESSAGE;
use snkit::attachments::stream::{self, Domain, SizePolicy};
use snkit::client::Network;
use snkit::client::files::{self, FileServer, UploadScheme, Via};

/// Bytes encrypted per round (in memory: the disk is not what is measured).
const ENC_BYTES: usize = 256 << 20;
/// Rounds; the best is kept.
const ROUNDS: usize = 3;
/// The file uploaded and downloaded: just under the apps' 10,218,286-byte limit.
const FILE_BYTES: usize = 10_000_000;
/// Uploads and downloads per route.
const TRANSFERS: usize = 5;
/// Nodes of the testnet the onion paths go through.
const NODES: usize = 6;
/// A secretstream message.
const CHUNK: usize = 32 * 1024;
/// Its overhead.
const ABYTES: usize = 17;

fn mbps(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs / 1e6
}

fn best<F: FnMut() -> f64>(mut f: F) -> f64 {
    (0..ROUNDS).map(|_| f()).fold(0.0, f64::max)
}

fn bare_secretstream(data: &[u8]) -> f64 {
    let key: Key = [7u8; 32];
    let mut header: Header = [0u8; 24];
    let mut state = State::new();
    init_push(&mut state, &mut header, &key);
    let mut out = vec![0u8; CHUNK + ABYTES];
    let t = Instant::now();
    for piece in data.chunks(CHUNK) {
        let ct = &mut out[..piece.len() + ABYTES];
        if push(&mut state, ct, piece, None, TAG_MESSAGE).is_err() {
            return 0.0;
        }
        std::hint::black_box(&ct);
    }
    mbps(data.len(), t.elapsed().as_secs_f64())
}

fn bare_blake2b(data: &[u8]) -> f64 {
    let t = Instant::now();
    let Ok(mut h) = <Blake2bMac<U56> as KeyInit>::new_from_slice(&[0u8]) else { return 0.0 };
    for piece in data.chunks(CHUNK) {
        h.update(piece);
    }
    std::hint::black_box(blake2::digest::FixedOutput::finalize_fixed(h));
    mbps(data.len(), t.elapsed().as_secs_f64())
}

fn attach_encrypt(data: &[u8]) -> f64 {
    let seed = [1u8; 32];
    let t = Instant::now();
    let mut input = Cursor::new(data);
    let r =
        stream::encrypt(&seed, Domain::Attachment, SizePolicy::AllowLarge, &mut input, &mut std::io::sink());
    if r.is_err() {
        return 0.0;
    }
    mbps(data.len(), t.elapsed().as_secs_f64())
}

pub fn run() {
    let data: Vec<u8> = (0..ENC_BYTES).map(|i| (i as u8).wrapping_mul(31)).collect();
    let prim = best(|| bare_secretstream(&data));
    let b2 = best(|| bare_blake2b(&data));
    let enc = best(|| attach_encrypt(&data));
    println!("files.secretstream_push: {prim:.0} MB/s (bare XChaCha20-Poly1305 secretstream, one core)");
    println!("files.blake2b_56: {b2:.0} MB/s (the key derivation pass)");
    println!(
        "files.attach_encrypt: {enc:.0} MB/s = {:.0}% of the primitive (target: >= 80%; the two-pass ceiling is {:.0} MB/s = {:.0}%)",
        100.0 * enc / prim,
        1.0 / (1.0 / prim + 1.0 / b2),
        100.0 / (1.0 + prim / b2)
    );
    transfers();
}

struct Net {
    dir: tempfile::TempDir,
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ =
            Command::new(env!("CARGO_BIN_EXE_testnet")).args(["down", "--dir"]).arg(self.dir.path()).output();
    }
}

fn transfers() {
    let Ok(dir) = tempfile::Builder::new().prefix("snkit-bench-files-").tempdir() else {
        println!("files: transfers skipped (no temp dir)");
        return;
    };
    let net_guard = Net { dir };
    let up = Command::new(env!("CARGO_BIN_EXE_testnet"))
        .args(["up", "--fileserver", "--nodes", &NODES.to_string(), "--log", "warn", "--dir"])
        .arg(net_guard.dir.path())
        .output();
    match up {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            println!(
                "files: transfers skipped (testnet up failed: {})",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return;
        }
        Err(e) => {
            println!("files: transfers skipped (cannot run testnet: {e})");
            return;
        }
    }
    let d = net_guard.dir.path();
    let (Some(Ok(server)), Ok(net)) =
        (FileServer::from_dir(d), Network::from_file(&d.join("nodes.json").to_string_lossy()))
    else {
        println!("files: transfers skipped (no fileserver.json or nodes.json)");
        return;
    };
    let file = d.join("bench.bin");
    let body: Vec<u8> = (0..FILE_BYTES).map(|i| (i as u8) ^ 0x5a).collect();
    if std::fs::write(&file, &body).is_err() {
        println!("files: transfers skipped (cannot write the file)");
        return;
    }
    for (name, via) in [("direct", Via::direct()), ("onion", Via::Onion(&net))] {
        measure(name, &via, &server, &file, d);
    }
}

fn measure(name: &str, via: &Via<'_>, server: &FileServer, file: &Path, dir: &Path) {
    let mut up = Vec::new();
    let mut down = Vec::new();
    for i in 0..TRANSFERS {
        // A different seed each time: a new blob, not a dedupe of the last one.
        let scheme = UploadScheme::Stream(zeroize::Zeroizing::new([i as u8 + 1; 32]));
        let t = Instant::now();
        let Ok(u) = files::upload(via, server, file, &scheme, None) else {
            println!("files.upload_{name}: failed");
            return;
        };
        up.push(t.elapsed().as_secs_f64());
        let out = dir.join(format!("out-{name}-{i}"));
        let t = Instant::now();
        if files::download(via, &u.pointer, Some(server), &out, true).is_err() {
            println!("files.download_{name}: failed");
            return;
        }
        down.push(t.elapsed().as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "files.upload_{name}: {:.1} MB/s (a {FILE_BYTES}-byte file: encrypt + upload, median of {TRANSFERS})",
        mbps(FILE_BYTES, median(&mut up))
    );
    println!(
        "files.download_{name}: {:.1} MB/s (download + verify + decrypt, median of {TRANSFERS})",
        mbps(FILE_BYTES, median(&mut down))
    );
}
