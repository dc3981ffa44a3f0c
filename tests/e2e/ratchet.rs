//! End-to-end tests: the `ratchet` command (X3DH, Double Ratchet, friend requests).
//!
//! Identities are made in-test; the long runs drive the library (unit tests in
//! `lib/src/formats/ratchet/`), these run the built command. The conversation over a real testnet
//! (ratchet | send, retrieve | ratchet) is in `client.rs`.

// Unwrap, expect and panic in this module's helpers: `main.rs`'s crate-level `expect` covers them.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::rngs::OsRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use snkit::client::ratchet::Account;
use snkit::identity::Identity;
use snkit::ratchet::{PrekeyStore, SealedRequest};

/// One identity: its file and its state directory.
struct Party {
    id: Identity,
    file: PathBuf,
    state: PathBuf,
    _dir: tempfile::TempDir,
}

impl Party {
    fn new(seed: u8) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let id = Identity::from_seed(&[seed; 16]).unwrap();
        let file = dir.path().join("id.json");
        std::fs::write(&file, serde_json::to_string(&id.to_file()).unwrap()).unwrap();
        let state = dir.path().join("state");
        Self { id, file, state, _dir: dir }
    }

    fn sid(&self) -> String {
        self.id.session_id().to_string()
    }

    fn cmd(&self, sub: &str) -> assert_cmd::Command {
        let mut c = cargo_bin_cmd!("ratchet");
        c.arg(sub).arg("--identity").arg(&self.file).arg("--state").arg(&self.state);
        c
    }

    /// Runs a subcommand that must succeed; returns stdout.
    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.cmd(args[0]).args(&args[1..]).write_stdin(stdin).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn decrypt(&self, stdin: &str) -> Vec<Value> {
        self.ok(&["decrypt"], stdin).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    fn encrypt(&self, to: &Party, text: &str) -> String {
        self.ok(&["encrypt", "--to", &to.sid()], text)
    }

    /// Every file of the state directory (but the lock), with its bytes.
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.file_name().is_some_and(|n| n != "lock") {
                    out.insert(p.clone(), std::fs::read(&p).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.state, &mut out);
        out
    }

    /// Runs a subcommand that must fail with exit `code` and exactly one stderr line containing
    /// `expect`, leaving every state file byte-identical.
    fn fails(&self, args: &[&str], stdin: &str, code: i32, expect: &str) -> String {
        let before = self.snapshot();
        let out = self.cmd(args[0]).args(&args[1..]).write_stdin(stdin).output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().filter(|l| !l.starts_with("hint: ")).count(), 1, "one line: {stderr}");
        assert!(stderr.starts_with("ratchet: error: ") && stderr.contains(expect), "{expect:?} in {stderr}");
        assert_eq!(self.snapshot(), before, "state changed by a failed {args:?}");
        stderr
    }
}

/// Alice requests, Bob accepts, Alice reads the acceptance: both have the session. Returns
/// the acceptance line (Bob's first message, with its X3DH header).
fn handshake(alice: &Party, bob: &Party) -> String {
    let req = alice.ok(&["request", "--to", &bob.sid(), "--name", "Alice"], "Hi Bob, it is Alice\n");
    let seen = bob.decrypt(&req);
    assert_eq!(seen[0]["type"], "friend_request");
    assert_eq!(seen[0]["from"], alice.sid());
    assert_eq!(seen[0]["name"], "Alice");
    assert_eq!(seen[0]["text"], "Hi Bob, it is Alice");
    let acc = bob.ok(&["accept", "--text", "welcome"], &req);
    let got = alice.decrypt(&acc);
    assert_eq!(got[0]["type"], "message");
    assert_eq!(got[0]["text"], "welcome");
    assert_eq!(got[0]["new_session"], true);
    acc
}

fn flip_hex(v: &mut Value, field: &str, byte: usize) {
    let mut raw = hex::decode(v[field].as_str().unwrap()).unwrap();
    raw[byte] ^= 0x01;
    v[field] = hex::encode(raw).into();
}

/// Messages of the scripted conversation (the issue's 1,000), one `ratchet encrypt` process each.
const CONVERSATION_MESSAGES: usize = 1_000;
/// Messages held back per direction before a shuffled batch is delivered to one `decrypt`.
const CONVERSATION_BATCH: usize = 12;

#[test]
fn conversation_through_the_command_with_loss_and_reordering() {
    let (alice, bob) = (Party::new(1), Party::new(2));
    handshake(&alice, &bob);
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut queues: [Vec<(usize, String)>; 2] = [Vec::new(), Vec::new()];
    let mut delivered = HashSet::new();
    let mut lost = 0;
    let parties = [&alice, &bob];
    for i in 0..CONVERSATION_MESSAGES {
        let s = rng.gen_range(0..2);
        let line = parties[s].encrypt(parties[1 - s], &format!("msg {i}"));
        if rng.gen_bool(0.1) {
            lost += 1;
        } else {
            let at = rng.gen_range(0..=queues[1 - s].len());
            queues[1 - s].insert(at, (i, line));
        }
        for r in 0..2 {
            let last = i == CONVERSATION_MESSAGES - 1;
            if queues[r].len() >= CONVERSATION_BATCH || (last && !queues[r].is_empty()) {
                // Deliver the batch in its shuffled order, some as `retrieve` would print them.
                let batch: Vec<(usize, String)> = queues[r].drain(..).collect();
                let input: String = batch
                    .iter()
                    .map(|(_, l)| {
                        if rng.gen_bool(0.5) {
                            format!(
                                "{}\n",
                                serde_json::json!({"hash": "h", "timestamp": 1, "data": B64.encode(l)})
                            )
                        } else {
                            l.clone()
                        }
                    })
                    .collect();
                let out = parties[r].decrypt(&input);
                assert_eq!(out.len(), batch.len());
                for ((j, _), rec) in batch.iter().zip(&out) {
                    assert_eq!(rec["type"], "message", "{rec}");
                    assert_eq!(rec["text"], format!("msg {j}"));
                    assert_eq!(rec["from"], parties[1 - r].sid());
                    assert!(delivered.insert(*j));
                }
            }
        }
    }
    assert_eq!(delivered.len() + lost, CONVERSATION_MESSAGES);
}

#[test]
fn every_failure_is_a_distinct_one_line_error_with_state_untouched() {
    let (alice, bob, carol) = (Party::new(3), Party::new(4), Party::new(5));
    let acceptance = handshake(&alice, &bob);
    // Bob's second message still carries the X3DH header (Alice has not replied yet).
    let with_x3dh = bob.encrypt(&alice, "second");
    let m: Value = serde_json::from_str(&with_x3dh).unwrap();
    assert!(m.get("x3dh").is_some());

    // Duplicate.
    let dup = alice.fails(&["decrypt"], &acceptance, 1, "duplicate message");

    // A flipped bit in every field.
    let mut errors = HashSet::new();
    for (field, byte) in [("from", 5), ("to", 9), ("header", 3), ("header", 35), ("header", 39), ("ct", 0)] {
        let mut t = m.clone();
        if field == "ct" {
            let mut raw = B64.decode(t["ct"].as_str().unwrap()).unwrap();
            let last = raw.len() - 1;
            raw[byte] ^= 1;
            raw[last] ^= 0x80;
            t["ct"] = B64.encode(raw).into();
        } else {
            flip_hex(&mut t, field, byte);
        }
        errors.insert(alice.fails(&["decrypt"], &format!("{t}\n"), 1, ""));
    }
    for (field, byte) in [("ik", 0), ("ek", 31)] {
        let mut t = m.clone();
        flip_hex(&mut t["x3dh"], field, byte);
        errors.insert(alice.fails(&["decrypt"], &format!("{t}\n"), 1, ""));
    }
    {
        // The version field: a flipped bit names the version this side does not speak.
        let mut t = m.clone();
        t["v"] = (t["v"].as_u64().unwrap() ^ 2).into();
        errors.insert(alice.fails(&["decrypt"], &format!("{t}\n"), 1, "unsupported version 3"));
    }
    for field in ["spk_id", "opk_id"] {
        let mut t = m.clone();
        t["x3dh"][field] = (t["x3dh"][field].as_u64().unwrap() ^ 4).into();
        errors.insert(alice.fails(&["decrypt"], &format!("{t}\n"), 1, ""));
    }
    let tag = alice.fails(
        &["decrypt"],
        &{
            let mut t = m.clone();
            let mut raw = B64.decode(t["ct"].as_str().unwrap()).unwrap();
            raw[0] ^= 1;
            t["ct"] = B64.encode(raw).into();
            format!("{t}\n")
        },
        1,
        "bad authentication tag",
    );
    assert!(errors.len() >= 4, "tampering gives precise errors: {errors:?}");

    // Too far ahead: Bob's chain jumps by more than MAX_SKIP (driven in-process for speed).
    {
        let acct = Account::open(&bob.id, &bob.state).unwrap();
        let mut session = acct.session(&alice.id.session_id()).unwrap().unwrap();
        for _ in 0..snkit::limits::MAX_SKIP + 1 {
            session.encrypt(b"skipped").unwrap();
        }
        acct.state().save_session(&session).unwrap();
    }
    let far = bob.encrypt(&alice, "far");
    let ahead = alice.fails(&["decrypt"], &far, 1, "message too far ahead");

    // Wrong identity: Carol (with her own state) decrypts a message for Alice.
    let wrong = carol.fails(&["decrypt"], &with_x3dh, 1, "wrong recipient");

    // Bad prekey signature: a request whose enclosed bundle's signature is broken.
    let mut store = PrekeyStore::new(&carol.id.session_id());
    let mut bundle = store.publish(&carol.id, 1, 0, &mut OsRng).unwrap();
    let mut sig = hex::decode(&bundle.spk.sig).unwrap();
    sig[10] ^= 1;
    bundle.spk.sig = hex::encode(sig);
    let req = SealedRequest::create(&carol.id, &bob.id.session_id(), "Carol", "hi", &bundle, 0, &mut OsRng)
        .unwrap();
    let badsig = bob.fails(&["accept"], &req.to_line(), 1, "bad prekey signature");
    bob.fails(&["decrypt"], &req.to_line(), 1, "bad prekey signature");

    let kinds: HashSet<_> = [&dup, &tag, &ahead, &wrong, &badsig].iter().map(|s| s.to_string()).collect();
    assert_eq!(kinds.len(), 5, "distinct messages");
    // After all that, the untampered message still decrypts.
    assert_eq!(alice.decrypt(&with_x3dh)[0]["text"], "second");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let alice = Party::new(6);
    alice.fails(&["decrypt"], "not json\n", 2, "malformed JSON");
    alice.fails(&["decrypt"], "{\"x\":1}\n", 2, "neither a wire message");
    alice.fails(&["decrypt"], "{\"data\":\"%%%\"}\n", 2, "not base64");
    alice.fails(&["encrypt", "--to", "05zz"], "hi", 2, "--to");
    alice.fails(
        &["accept"],
        "{\"v\":1,\"type\":\"friend_request\",\"to\":\"05\",\"sealed\":\"\"}",
        2,
        "\"to\"",
    );
    alice.fails(&["bundle", "--opks", "100000"], "", 2, "over the limit");
    let bob = Party::new(7);
    alice.fails(&["encrypt", "--to", &bob.sid()], "hi", 1, "no session with");
    let out =
        cargo_bin_cmd!("ratchet").args(["decrypt", "--identity", "/nonexistent.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().filter(|l| !l.starts_with("hint:")).count(), 1);
}

#[test]
fn mixed_stream_reports_each_failure_in_order() {
    let (alice, bob) = (Party::new(8), Party::new(9));
    let acceptance = handshake(&alice, &bob);
    let m1 = bob.encrypt(&alice, "one");
    let m2 = bob.encrypt(&alice, "two");
    let out = alice.cmd("decrypt").write_stdin(format!("{m2}{acceptance}{m1}")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let recs: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[0]["text"], "two");
    assert_eq!(recs[1]["type"], "error");
    assert_eq!(recs[1]["error"], "duplicate_message");
    assert_eq!(recs[1]["line"], 2);
    assert_eq!(recs[2]["text"], "one");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.contains("line 2: duplicate message"), "{stderr}");
}

/// SIGKILL at random moments of a long `decrypt` and of repeated `encrypt`s never leaves a
/// state that fails to load, nor one that lost a committed key: every message is printed, and
/// printed twice only when flagged `redelivered` (at most once per kill: committed, then
/// killed before it was read).
#[test]
fn sigkill_never_corrupts_or_loses_committed_keys() {
    let (alice, bob) = (Party::new(10), Party::new(11));
    handshake(&alice, &bob);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);

    // Alice writes 300 messages in-process; the stream reorders them (within MAX_SKIP).
    let mut lines: Vec<(usize, String)> = {
        let mut acct = Account::open(&alice.id, &alice.state).unwrap();
        (0..300)
            .map(|i| (i, acct.encrypt(&bob.id.session_id(), format!("k{i}").as_bytes()).unwrap().to_line()))
            .collect()
    };
    for chunk in lines.chunks_mut(25) {
        let n = chunk.len();
        for k in 0..n {
            chunk.swap(k, rng.gen_range(0..n));
        }
    }
    let input_path = bob.state.parent().unwrap().join("stream.ndjson");
    std::fs::write(&input_path, lines.iter().map(|(_, l)| format!("{l}\n")).collect::<String>()).unwrap();

    let bin = assert_cmd::cargo::cargo_bin!("ratchet");
    let mut delivered = HashSet::new();
    let mut repeated = 0usize;
    let mut kills = 0usize;
    for round in 0..12 {
        let out_path = bob.state.parent().unwrap().join(format!("out{round}"));
        let mut child = std::process::Command::new(bin)
            .args(["decrypt", "--identity"])
            .arg(&bob.file)
            .arg("--state")
            .arg(&bob.state)
            .arg(&input_path)
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let last = round == 11;
        if !last {
            std::thread::sleep(Duration::from_millis(rng.gen_range(5..120)));
            if child.try_wait().unwrap().is_none() {
                kills += 1;
            }
            let _ = child.kill();
        }
        let _ = child.wait();
        // The state always loads after a kill.
        {
            let acct = Account::open(&bob.id, &bob.state).unwrap();
            assert!(acct.session(&alice.id.session_id()).unwrap().is_some());
        }
        let text = std::fs::read_to_string(&out_path).unwrap();
        let complete = text.rsplit_once('\n').map(|(c, _)| c).unwrap_or("");
        for rec in complete.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()) {
            match rec["type"].as_str() {
                Some("message") => {
                    let i: usize = rec["text"].as_str().unwrap()[1..].parse().unwrap();
                    let again = !delivered.insert(i);
                    if again {
                        assert_eq!(rec["redelivered"], true, "message {i} decrypted twice: {rec}");
                        repeated += 1;
                    }
                }
                Some("error") => {
                    assert_eq!(rec["error"], "duplicate_message", "{rec}");
                    let (i, _) = lines[rec["line"].as_u64().unwrap() as usize - 1];
                    assert!(delivered.contains(&i), "message {i} lost: committed but never printed");
                }
                _ => panic!("unexpected record {rec}"),
            }
        }
    }
    assert!(repeated <= kills, "{repeated} redeliveries with {kills} kills");
    assert_eq!(delivered.len(), lines.len(), "every message decrypted");

    // Kill `encrypt` at random moments: every line it printed decrypts, exactly once.
    let mut printed = Vec::new();
    for i in 0..30 {
        let mut child = std::process::Command::new(bin)
            .args(["encrypt", "--identity"])
            .arg(&alice.file)
            .arg("--state")
            .arg(&alice.state)
            .args(["--to", &bob.sid()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            let _ = stdin.write_all(format!("e{i}").as_bytes());
        }
        if rng.gen_bool(0.6) {
            std::thread::sleep(Duration::from_micros(rng.gen_range(0..8000)));
            let _ = child.kill();
        }
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        if let Some(line) = text.lines().next().filter(|_| text.ends_with('\n')) {
            printed.push((i, line.to_string()));
        }
        Account::open(&alice.id, &alice.state).unwrap().session(&bob.id.session_id()).unwrap().unwrap();
    }
    let input: String = printed.iter().map(|(_, l)| format!("{l}\n")).collect();
    let recs = bob.decrypt(&input);
    for ((i, _), rec) in printed.iter().zip(&recs) {
        assert_eq!(rec["text"], format!("e{i}"), "{rec}");
    }
}

/// Processes on one state directory take turns (the lock): concurrent `encrypt`s never reuse a
/// message key, so every line they print decrypts, exactly once.
#[test]
fn concurrent_encrypts_share_the_state_safely() {
    let (alice, bob) = (Party::new(12), Party::new(13));
    handshake(&alice, &bob);
    let bin = assert_cmd::cargo::cargo_bin!("ratchet");
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut child = std::process::Command::new(bin)
                .args(["encrypt", "--identity"])
                .arg(&alice.file)
                .arg("--state")
                .arg(&alice.state)
                .args(["--to", &bob.sid()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child.stdin.take().unwrap().write_all(format!("c{i}").as_bytes()).unwrap();
            child
        })
        .collect();
    let mut input = String::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        input.push_str(&String::from_utf8(out.stdout).unwrap());
    }
    let texts: HashSet<String> =
        bob.decrypt(&input).iter().map(|r| r["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(texts, (0..8).map(|i| format!("c{i}")).collect());
}

#[test]
fn published_bundles_are_enclosed_by_request_from_a_file_or_stdin() {
    let (alice, bob) = (Party::new(21), Party::new(22));
    // `bundle` publishes a signed prekey and N one-time prekeys, kept in the state.
    let bundle: Value = serde_json::from_str(&alice.ok(&["bundle", "--opks", "3"], "")).unwrap();
    assert_eq!(bundle["session_id"], alice.sid());
    assert_eq!(bundle["opks"].as_array().unwrap().len(), 3);
    let spk = bundle["spk"]["id"].clone();
    // The signed prekey stays the same until it is due; the one-time prekeys are fresh each time.
    let again: Value = serde_json::from_str(&alice.ok(&["bundle", "--opks", "2"], "")).unwrap();
    assert_eq!(again["spk"]["id"], spk);
    assert_ne!(again["opks"][0]["id"], bundle["opks"][0]["id"]);

    // --bundle FILE: the request carries that bundle, and Bob's acceptance uses its prekeys.
    let file = alice.state.parent().unwrap().join("alice-bundle.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let req = alice
        .ok(&["request", "--to", &bob.sid(), "--name", "Alice", "--bundle", file.to_str().unwrap()], "Hi");
    let acc = bob.ok(&["accept", "--text", "hello"], &req);
    let got = alice.decrypt(&acc);
    assert_eq!(got[0]["text"], "hello", "{got:?}");

    // --bundle -: the first stdin line is the bundle, the rest the introduction.
    let carol = Party::new(23);
    let line = carol.ok(&["bundle", "--opks", "1"], "");
    let req = carol
        .ok(&["request", "--to", &bob.sid(), "--name", "Carol", "--bundle", "-"], &format!("{line}Hi Bob\n"));
    let seen = bob.decrypt(&req);
    assert_eq!(seen[0]["type"], "friend_request");
    assert_eq!(seen[0]["text"], "Hi Bob");
    let acc = bob.ok(&["accept", "--text", "hi Carol"], &req);
    assert_eq!(carol.decrypt(&acc)[0]["text"], "hi Carol");

    // Someone else's bundle is refused before anything is sealed, the state untouched.
    carol.fails(
        &["request", "--to", &bob.sid(), "--name", "C", "--bundle", file.to_str().unwrap()],
        "x",
        1,
        "sender mismatch",
    );
}

/// `ratchet encrypt --attach`: the pointers travel inside the ratchet as `{"text",
/// "attachments"}`, and `decrypt` prints them back as `attachments`; bad pointers exit 2.
#[test]
fn attachments_travel_inside_the_ratchet() {
    let alice = Party::new(41);
    let bob = Party::new(42);
    handshake(&alice, &bob);
    let dir = tempfile::tempdir().unwrap();
    let pointer = serde_json::json!({
        "url": "http://127.0.0.1:9000/file/3qXfYbeRSxXa89I8ApcbKl0_BshkLQ6myd0DsvcrDEy3#d",
        "key": "ab".repeat(32), "size": 48213, "content_type": "image/jpeg", "file_name": "photo.jpg",
        "expires": 1_800_000_000u64,
    });
    let p = dir.path().join("p.json");
    std::fs::write(&p, pointer.to_string()).unwrap();
    let line = alice.ok(&["encrypt", "--to", &bob.sid(), "--attach", p.to_str().unwrap()], "a photo\n");
    // The key is not in the wire message: only inside its ciphertext.
    assert!(!line.contains(&"ab".repeat(32)), "{line}");
    let got = bob.decrypt(&line);
    assert_eq!(got[0]["type"], "message");
    assert_eq!(got[0]["text"], "a photo");
    let atts = got[0]["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 1);
    for k in ["url", "key", "size", "content_type", "file_name"] {
        assert_eq!(atts[0][k], pointer[k], "{k}");
    }
    // A pointer that does not say how to decrypt its file, a missing file, stdin: exit 2.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"url":"http://h/file/1","key":"00","size":1}"#).unwrap();
    let to = bob.sid();
    alice.fails(&["encrypt", "--to", &to, "--attach", bad.to_str().unwrap()], "x", 2, "--attach");
    alice.fails(&["encrypt", "--to", &to, "--attach", "/nonexistent.json"], "x", 2, "nonexistent");
}

/// `send --attach` refuses, before touching the network, a raw message (it is not end-to-end
/// encrypted, so the keys would reach the swarm) and unusable pointers.
#[test]
fn send_attach_refuses_raw_messages_and_bad_pointers() {
    let alice = Party::new(43);
    let bob = Party::new(44);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.json");
    std::fs::write(
        &p,
        serde_json::json!({"url": "http://h/file/x#d", "key": "cd".repeat(32), "size": 3}).to_string(),
    )
    .unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[1,2]").unwrap();
    let to = bob.sid();
    let id = alice.file.to_str().unwrap();
    let nodes = dir.path().join("nodes.json");
    for (args, expect) in [
        (vec!["--attach", p.to_str().unwrap()], "--format session"),
        (vec!["--format", "session", "--attach", bad.to_str().unwrap()], "not an attachment pointer"),
        (vec!["--format", "session", "--attach", "-"], "stdin is the message"),
        (vec!["--format", "session", "--attach", "/nonexistent.json"], "nonexistent"),
    ] {
        let out = cargo_bin_cmd!("send")
            .args(["--identity", id, "--to", &to, "--nodes"])
            .arg(&nodes)
            .args(&args)
            .write_stdin("hi")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("send: error: ") && err.lines().next().unwrap().contains(expect),
            "{args:?}: {err}"
        );
    }
}
