//! Faults (issue 17): what a node does when the world around it breaks. Tests that need root
//! (a tmpfs mount) skip with a message elsewhere; CI runs as root.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::common::{Testnet, eventually, now_ms, rpc};

/// A public inbox namespace: retrieves need no signature.
const NS: i16 = -10;
/// Each filler store carries this much data, so the disk fills in a few dozen stores.
const FILLER_BYTES: usize = 40_000;
/// The tmpfs the node's data directory lives on: room for the store and a little more.
const TMPFS_SIZE: &str = "2m";

/// A tmpfs mounted over a directory, unmounted (lazily: the node may still hold it) on drop.
struct Tmpfs {
    at: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` at `at`, moving what `at` holds onto it; None without the right
    /// to mount.
    fn over(at: &Path, size: &str) -> Option<Self> {
        let saved = tempfile::tempdir().ok()?;
        for entry in std::fs::read_dir(at).ok()?.flatten() {
            std::fs::copy(entry.path(), saved.path().join(entry.file_name())).ok()?;
        }
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        for entry in std::fs::read_dir(saved.path()).ok()?.flatten() {
            std::fs::copy(entry.path(), at.join(entry.file_name())).ok()?;
        }
        Some(Self { at: at.to_path_buf() })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
    }
}

/// Fills the file system holding `dir` to the last byte with `dir/filler`.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).expect("create filler");
    let block = vec![0xAAu8; 4096];
    while f.write_all(&block).is_ok() {}
    // The last partial block: one byte at a time until nothing fits.
    while f.write_all(&[0u8]).is_ok() {}
    let _ = f.sync_all();
}

fn store(url: &str, pk: &str, n: usize) -> (u16, serde_json::Value) {
    let mut data = format!("message {n} ").into_bytes();
    data.resize(FILLER_BYTES, b'x');
    let params = json!({"pubkey": pk, "timestamp": now_ms(), "ttl": 3_600_000, "data": STANDARD.encode(&data), "namespace": NS});
    rpc(url, "store", params)
}

/// The hashes the node holds for `pk` (following `more`), or its refusal status.
fn hashes(url: &str, pk: &str) -> Result<BTreeSet<String>, u16> {
    let mut out = BTreeSet::new();
    let mut last = String::new();
    loop {
        let (status, body) = rpc(url, "retrieve", json!({"pubkey": pk, "namespace": NS, "last_hash": last}));
        if status != 200 {
            return Err(status);
        }
        let msgs = body["messages"].as_array().cloned().unwrap_or_default();
        for m in &msgs {
            last = m["hash"].as_str().unwrap_or_default().to_string();
            out.insert(last.clone());
        }
        if msgs.is_empty() || !body["more"].as_bool().unwrap_or(false) {
            return Ok(out);
        }
    }
}

/// A store is acknowledged when the reply is 200 and names its hash (one member here).
fn acked(status: u16, reply: &serde_json::Value) -> Option<String> {
    (status == 200).then(|| reply["hash"].as_str().map(str::to_string)).flatten()
}

#[test]
fn a_full_disk_refuses_stores_with_a_5xx_keeps_serving_reads_and_stores_again_once_freed() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: mounting a small tmpfs for the node's data needs root (CI runs as root)");
        return;
    }
    let tn = Testnet::up(1);
    let url = tn.url(0);
    let data_dir = tn.dir().join("nodes").join("0");
    tn.kill(0);
    let Some(_mount) = Tmpfs::over(&data_dir, TMPFS_SIZE) else {
        eprintln!("skipped: mount -t tmpfs was refused here (no CAP_SYS_ADMIN)");
        return;
    };
    tn.start(0);
    let pk = format!("05{}", hex::encode(rand::random::<[u8; 32]>()));

    // Some stores while there is room.
    let mut kept = BTreeSet::new();
    for n in 0..3 {
        let (status, reply) = store(&url, &pk, n);
        kept.insert(acked(status, &reply).unwrap_or_else(|| panic!("store {n} with room: {status} {reply}")));
    }

    // Fill the disk. Stores may still fit into space SQLite already holds; keep storing until one
    // is refused, and every one that was acknowledged must stay.
    fill(&data_dir);
    let mut refused = None;
    for n in 3..200 {
        let (status, reply) = store(&url, &pk, n);
        match acked(status, &reply) {
            Some(hash) => {
                kept.insert(hash);
            }
            None => {
                refused = Some((status, reply));
                break;
            }
        }
    }
    let (status, reply) = refused.expect("a store on a full disk was refused");
    assert!((500..600).contains(&status), "a full disk answers a 5xx, got {status} {reply}");
    // The live reply format still names the hash it would have had; what acknowledges a store is
    // a member's signature over it, and no member gives one.
    let members = reply["swarm"].as_object().cloned().unwrap_or_default();
    assert!(!members.is_empty(), "the refusal reports the members' results: {reply}");
    assert!(
        members.values().all(|m| m["failed"] == true && m.get("signature").is_none()),
        "no member acknowledged the refused store: {reply}"
    );

    // Reads go on, with everything acknowledged.
    assert_eq!(hashes(&url, &pk), Ok(kept.clone()), "reads on a full disk");
    let (status, _) = rpc(&url, "info", json!({}));
    assert_eq!(status, 200, "the node still answers info on a full disk");

    // Space freed: stores succeed again (the first one may race SQLite noticing).
    std::fs::remove_file(data_dir.join("filler")).expect("remove filler");
    let again = eventually(Duration::from_secs(10), || {
        let (status, reply) = store(&url, &pk, 1000);
        acked(status, &reply).map(|h| kept.insert(h)).is_some()
    });
    assert!(again, "stores succeed again once space is freed");

    // Nothing acknowledged is lost across a crash and restart.
    tn.kill(0);
    tn.start(0);
    assert_eq!(hashes(&url, &pk), Ok(kept), "after a restart");
}
