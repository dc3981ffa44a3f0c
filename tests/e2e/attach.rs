//! `attach`: each scheme round-trips through the real binary; a blob that does not decrypt
//! exits 1 and leaves no output file; bad flags exit 2 with one line.

#![expect(clippy::unwrap_used, reason = "test helpers: a failed step is the test's failure")]

use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::cmd;

/// The spec's vector seed (attachments.md §1) as a keygen identity file.
const VECTOR_SEED: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn identity(dir: &Path) -> String {
    let path = dir.join("id.json");
    cmd("keygen").args(["--seed", VECTOR_SEED, "-o"]).arg(&path).assert().success();
    path.to_string_lossy().into_owned()
}

fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// Runs `attach ARGS` expecting success; returns its JSON summary.
fn attach_ok(dir: &Path, args: &[&str]) -> Value {
    let out = cmd("attach").current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `attach ARGS` expecting exit `code` and one error line (plus at most a hint line).
fn attach_fails(dir: &Path, args: &[&str], code: i32) -> String {
    let out = cmd("attach").current_dir(dir).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}: stdout {:?}", String::from_utf8_lossy(&out.stdout));
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].starts_with("attach: error: "), "{args:?}: {stderr}");
    assert!(lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")), "{args:?}: {stderr}");
    stderr
}

/// The names in `dir`, sorted (to check that a failure left nothing, not even a temporary file).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn payload(dir: &Path, name: &str, n: usize) -> String {
    let data: Vec<u8> = (0..n).map(|i| (i * 7 + i / 251) as u8).collect();
    std::fs::write(dir.join(name), data).unwrap();
    name.to_string()
}

#[test]
fn stream_reproduces_the_cross_client_vector_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let id = identity(d);
    std::fs::write(d.join("v.txt"), "cross client vector").unwrap();
    let e = attach_ok(d, &["encrypt", "v.txt", "--identity", &id]);
    assert_eq!(e["scheme"], "stream");
    assert_eq!(e["key"], "2227f0271670f5a6873d65501c3e3362b34aab5da0aec3b986accb7aa5a1643a");
    assert_eq!(e["size"], 19);
    assert_eq!(e["encrypted_size"], 4096);
    assert_eq!(e["out"], "v.txt.enc");
    assert_eq!(e["sha256"], "bbc8f2c708e6e3e97ca67bd52e00ff081e6294461bb62d635a9b4048d8ec78c0");
    assert_eq!(sha256_of(&d.join("v.txt.enc")), e["sha256"]);
    assert!(e.get("digest").is_none());

    let p = attach_ok(d, &["encrypt", "v.txt", "--identity", &id, "--domain", "profile", "-o", "v.pic"]);
    assert_eq!(p["key"], "09edaf4b7b48b405c1c01f0c3347fc68e65adea0d9696d24e80411a0cced90cb");

    let key = e["key"].as_str().unwrap();
    let r = attach_ok(d, &["decrypt", "v.txt.enc", "--key", key, "--size", "19", "-o", "back.txt"]);
    assert_eq!(
        r,
        json!({"scheme": "stream", "size": 19, "encrypted_size": 4096,
                         "sha256": sha256_of(&d.join("v.txt")), "out": "back.txt"})
    );
    assert_eq!(std::fs::read(d.join("back.txt")).unwrap(), b"cross client vector");

    // Through pipes: the blob on stdin, the file on stdout, the summary on stderr.
    let out = cmd("attach")
        .current_dir(d)
        .args(["decrypt", "-", "--key", key, "-o", "-"])
        .write_stdin(std::fs::read(d.join("v.txt.enc")).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, b"cross client vector");
    let summary: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!((summary["out"].as_str(), summary["encrypted_size"].as_u64()), (Some("-"), Some(4096)));

    // A file over several messages, and through a pointer whose URL says '#d'.
    let big = payload(d, "big.bin", 200_000);
    let e = attach_ok(d, &["encrypt", &big, "--identity", &id, "-o", "big.enc"]);
    assert_eq!(e["encrypted_size"], 200_704);
    let pointer = json!({"url": "http://127.0.0.1:1/file/42#d", "key": e["key"], "size": 200_000});
    std::fs::write(d.join("pointer.json"), pointer.to_string()).unwrap();
    let r = attach_ok(d, &["decrypt", "big.enc", "--pointer", "pointer.json", "-o", "big.out"]);
    assert_eq!(r["sha256"], sha256_of(&d.join(&big)));
    assert_eq!(sha256_of(&d.join("big.out")), sha256_of(&d.join(&big)));
}

#[test]
fn legacy_and_gcm_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f = payload(d, "doc.bin", 70_000);
    let want = sha256_of(&d.join(&f));

    let e = attach_ok(d, &["encrypt", &f, "--scheme", "legacy", "-o", "doc.leg"]);
    assert_eq!(e["scheme"], "legacy");
    assert_eq!(e["key"].as_str().unwrap().len(), 128);
    assert_eq!(e["digest"], e["sha256"]);
    assert_eq!(sha256_of(&d.join("doc.leg")), e["sha256"]);
    let (key, digest) = (e["key"].as_str().unwrap(), e["digest"].as_str().unwrap());
    let r =
        attach_ok(d, &["decrypt", "doc.leg", "--key", key, "--digest", digest, "--size", "70000", "-o", "a"]);
    assert_eq!((r["scheme"].as_str(), r["sha256"].as_str()), (Some("legacy"), Some(want.as_str())));
    let pointer = json!({"url": "http://h/file/7", "key": key, "digest": digest, "size": 70_000});
    std::fs::write(d.join("p.json"), pointer.to_string()).unwrap();
    let r = attach_ok(d, &["decrypt", "doc.leg", "--pointer", "p.json", "-o", "b"]);
    assert_eq!(r["sha256"], want.as_str());

    let e = attach_ok(d, &["encrypt", &f, "--scheme", "gcm", "-o", "doc.gcm"]);
    assert_eq!(e["encrypted_size"], 70_000 + 28);
    let key = e["key"].as_str().unwrap();
    let r = attach_ok(d, &["decrypt", "doc.gcm", "--scheme", "gcm", "--key", key, "-o", "c"]);
    assert_eq!(r["sha256"], want.as_str());
    assert_eq!(sha256_of(&d.join("c")), want);
}

#[test]
fn blobs_that_do_not_decrypt_exit_1_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let id = identity(d);
    let f = payload(d, "f.bin", 50_000);
    let s = attach_ok(d, &["encrypt", &f, "--identity", &id, "-o", "f.s"]);
    let l = attach_ok(d, &["encrypt", &f, "--scheme", "legacy", "-o", "f.l"]);
    let g = attach_ok(d, &["encrypt", &f, "--scheme", "gcm", "-o", "f.g"]);
    let (skey, lkey, ldig, gkey) = (
        s["key"].as_str().unwrap(),
        l["key"].as_str().unwrap(),
        l["digest"].as_str().unwrap(),
        g["key"].as_str().unwrap(),
    );
    let blob = std::fs::read(d.join("f.s")).unwrap();
    let mut flipped = blob.clone();
    flipped[40_000] ^= 1;
    std::fs::write(d.join("flipped"), &flipped).unwrap();
    // Cut after the first message: every byte so far authenticates, FINAL is missing.
    std::fs::write(d.join("truncated"), &blob[..25 + 32_785]).unwrap();
    let mut longer = blob.clone();
    longer.extend_from_slice(b"more");
    std::fs::write(d.join("extended"), &longer).unwrap();
    let lblob = std::fs::read(d.join("f.l")).unwrap();
    let mut lflipped = lblob.clone();
    lflipped[100] ^= 0x40;
    std::fs::write(d.join("lflipped"), &lflipped).unwrap();
    let before = names(d);

    let wrong32 = "11".repeat(32);
    let mut wrong_digest = ldig.to_string();
    wrong_digest.replace_range(..2, if &ldig[..2] == "00" { "01" } else { "00" });
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["flipped", "--key", skey], "invalid key or corrupted data"),
        (vec!["truncated", "--key", skey], "without its FINAL message"),
        (vec!["extended", "--key", skey], "invalid key or corrupted data"),
        (vec!["f.s", "--key", &wrong32], "invalid key or corrupted data"),
        (vec!["f.s", "--key", skey, "--size", "49999"], "expected size is 49999"),
        (vec!["lflipped", "--key", lkey, "--digest", ldig, "--size", "50000"], "HMAC does not match"),
        (vec!["f.l", "--key", lkey, "--digest", &wrong_digest, "--size", "50000"], "digest mismatch"),
        (vec!["f.g", "--scheme", "gcm", "--key", &wrong32], "invalid key or corrupted data"),
        (vec!["f.g", "--key", gkey], "not 0x53"),
    ];
    for (args, why) in cases {
        let mut full = vec!["decrypt"];
        full.extend(&args);
        full.extend(["-o", "out.bin"]);
        let stderr = attach_fails(d, &full, 1);
        assert!(stderr.contains(why), "{args:?}: {stderr}");
        assert_eq!(names(d), before, "{args:?} left a file behind");
    }
}

#[test]
fn bad_flags_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let id = identity(d);
    let f = payload(d, "f.bin", 10);
    std::fs::write(d.join("exists"), "x").unwrap();
    std::fs::write(d.join("bad.json"), r#"{"url": "http://h/file/1", "key": "ab", "size": 1}"#).unwrap();
    let key32 = "22".repeat(32);
    let key64 = "22".repeat(64);
    let before = names(d);
    // No subcommand: the help, as every command prints it, and exit 2.
    cmd("attach").assert().code(2);
    let cases: Vec<Vec<&str>> = vec![
        vec!["frobnicate"],
        vec!["encrypt", &f],
        vec!["encrypt", "missing.bin", "--identity", &id],
        vec!["encrypt", &f, "--identity", "nope.json"],
        vec!["encrypt", &f, "--scheme", "rot13"],
        vec!["encrypt", &f, "--scheme", "legacy", "--identity", &id],
        vec!["encrypt", &f, "--identity", &id, "-o", "exists"],
        vec!["encrypt", "-", "--identity", &id],
        vec!["encrypt", ".", "--identity", &id, "-o", "dir.enc"],
        vec!["decrypt", &f, "-o", "x"],
        vec!["decrypt", &f, "--key", "zz", "-o", "x"],
        vec!["decrypt", &f, "--key", "abcd", "-o", "x"],
        vec!["decrypt", &f, "--key", &key64, "-o", "x"],
        vec!["decrypt", &f, "--key", &key64, "--digest", &key32, "-o", "x"],
        vec!["decrypt", &f, "--key", &key32, "--digest", &key32, "--scheme", "stream", "-o", "x"],
        vec!["decrypt", &f, "--key", &key32, "--pointer", "bad.json", "-o", "x"],
        vec!["decrypt", &f, "--pointer", "bad.json", "-o", "x"],
        vec!["decrypt", &f, "--key", &key32],
        vec!["decrypt", &f, "--key", &key32, "-o", "exists"],
        vec!["decrypt", "missing.enc", "--key", &key32, "-o", "x"],
    ];
    for args in cases {
        attach_fails(d, &args, 2);
        assert_eq!(names(d), before, "{args:?} left a file behind");
    }
}
