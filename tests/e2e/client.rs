//! End-to-end tests: send and retrieve over a real testnet (snode processes on loopback).
//!
//! One 20-node testnet serves every network scenario (starting testnets is the slow part on a
//! 2-core CI): bulk delivery exactly once, an offline recipient, two swarm members killed between
//! send and retrieve, TTL expiry. Bad-input tests need no testnet.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use snkit::client::{self, Network, RetrieveState, Retrieved, Retriever, SendOptions};
use snkit::identity::Identity;
use snkit::keys::Pubkey;

use crate::common::{Testnet, http};

const RECIPIENTS: usize = 50;
const MESSAGES: usize = 1_000;
const SEND_THREADS: usize = 8;
/// Proof-of-work difficulty of the conversation testnet (small: debug builds solve it in ms).
const POW_DIFFICULTY: u64 = 5;
/// Shortest TTL the network accepts (10 s) — the expiry scenario waits for it.
const SHORT_TTL_MS: u64 = 10_000;

fn keygen(dir: &Path, name: &str) -> (std::path::PathBuf, Identity) {
    let path = dir.join(format!("{name}.json"));
    let id = Identity::generate();
    snkit::fs::write_new_secret(&path, &serde_json::to_vec(&id.to_file()).unwrap()).unwrap();
    (path, id)
}

fn send_cmd(id: &Path, to: &str, nodes: &Path, data: &[u8], extra: &[&str]) -> assert_cmd::assert::Assert {
    cargo_bin_cmd!("send")
        .args(["--identity", id.to_str().unwrap(), "--to", to, "--nodes", nodes.to_str().unwrap()])
        .args(extra)
        .write_stdin(data.to_vec())
        .timeout(Duration::from_secs(120))
        .assert()
}

fn retrieve_cmd(id: &Path, state: &Path, nodes: &Path) -> Vec<Value> {
    let out = cargo_bin_cmd!("retrieve")
        .args(["--identity", id.to_str().unwrap(), "--state", state.to_str().unwrap()])
        .args(["--nodes", nodes.to_str().unwrap()])
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn poll_all(net: &Network, id: &Identity, state_dir: &Path) -> Vec<Retrieved> {
    let state = RetrieveState::load(state_dir, &id.session_id().to_string()).unwrap();
    let mut r = Retriever::new(id, state);
    let got = r.poll(net).unwrap();
    r.save().unwrap();
    got
}

/// `send` stores on 3 distinct members of the recipient's swarm (the seed design). A member that
/// was slow may be listed in `failed` (another took its place), never in both lists.
fn assert_three_distinct_swarm_members(report: &Value, to: &str, nodes: &Path) {
    let stored: Vec<&str> =
        report["stored"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let distinct: HashSet<&str> = stored.iter().copied().collect();
    assert_eq!((stored.len(), distinct.len()), (3, 3), "{report}");
    for f in report["failed"].as_array().unwrap() {
        assert!(!distinct.contains(f["node"].as_str().unwrap()), "{report}");
    }
    let out = cargo_bin_cmd!("swarm-of").args([to, "--nodes", nodes.to_str().unwrap()]).assert().success();
    let swarm: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let members: HashSet<&str> =
        swarm["nodes"].as_array().unwrap().iter().map(|n| n["pubkey_ed25519"].as_str().unwrap()).collect();
    assert!(distinct.is_subset(&members), "stored {distinct:?}, swarm {members:?}");
}

#[test]
fn test_send_and_retrieve_over_a_20_node_testnet() {
    let tn = Testnet::up(20);
    let nodes = tn.nodes_json();
    let dir = tempfile::tempdir().unwrap();
    let net = Network::from_file(nodes.to_str().unwrap()).unwrap();

    // -- TTL expiry, started first so the wait overlaps the rest.
    let (carol_file, carol) = keygen(dir.path(), "carol");
    let (alice_file, _alice) = keygen(dir.path(), "alice");
    let carol_sid = carol.session_id().to_string();
    let short_sent = Instant::now();
    send_cmd(&alice_file, &carol_sid, &nodes, b"short-lived", &["--ttl", &SHORT_TTL_MS.to_string()])
        .success();
    let early = retrieve_cmd(&carol_file, &dir.path().join("carol-early"), &nodes);
    assert_eq!(early.len(), 1, "{early:?}");

    // -- The recipient is offline during the send (never ran retrieve); gets everything later.
    let (bob_file, bob) = keygen(dir.path(), "bob");
    let bob_sid = bob.session_id().to_string();
    let mut sent_hashes = Vec::new();
    for i in 0..5 {
        let out = send_cmd(&alice_file, &bob_sid, &nodes, format!("offline {i}").as_bytes(), &[])
            .success()
            .get_output()
            .stdout
            .clone();
        let report: Value = serde_json::from_slice(&out).unwrap();
        assert_three_distinct_swarm_members(&report, &bob_sid, &nodes);
        sent_hashes.push(report["hash"].as_str().unwrap().to_string());
    }
    // A JSON line (what `ratchet encrypt` prints) is stored as the line without its newline.
    send_cmd(&alice_file, &bob_sid, &nodes, b"{\"v\":1,\"body\":\"x\"}\n", &[]).success();

    // -- Bulk: 1,000 messages to 50 recipients, sent in-process, all retrieved exactly once.
    let recipients: Vec<Identity> = (0..RECIPIENTS).map(|_| Identity::generate()).collect();
    let work: Vec<(usize, Vec<u8>)> =
        (0..MESSAGES).map(|i| (i % RECIPIENTS, format!("bulk message {i}").into_bytes())).collect();
    let expected: HashMap<usize, HashSet<String>> = {
        let mut m: HashMap<usize, HashSet<String>> = HashMap::new();
        for (r, data) in &work {
            m.entry(*r).or_default().insert(B64.encode(data));
        }
        m
    };
    // In-process sends store on one entry node each (which replicates to its whole swarm) to
    // keep CI time modest; the CLI sends above and below store on 3 members.
    let bulk_opts = SendOptions { copies: 1, ..SendOptions::default() };
    let bulk_opts = &bulk_opts;
    std::thread::scope(|s| {
        for chunk in work.chunks(MESSAGES.div_ceil(SEND_THREADS)) {
            let (net, recipients) = (&net, &recipients);
            s.spawn(move || {
                for (r, data) in chunk {
                    let to = Pubkey::from(recipients[*r].session_id());
                    let report = client::send(net, &to, data, bulk_opts).unwrap();
                    assert!(!report.stored.is_empty());
                }
            });
        }
    });
    let bulk_state = dir.path().join("bulk");
    std::thread::scope(|s| {
        for (i, id) in recipients.iter().enumerate() {
            let (net, expected, bulk_state) = (&net, &expected, &bulk_state);
            s.spawn(move || {
                let got = poll_all(net, id, bulk_state);
                let datas: Vec<String> = got.iter().map(|m| m.data.clone()).collect();
                let unique: HashSet<String> = datas.iter().cloned().collect();
                assert_eq!(datas.len(), unique.len(), "recipient {i} got a message twice");
                assert_eq!(&unique, &expected[&i], "recipient {i}");
                assert!(poll_all(net, id, bulk_state).is_empty(), "recipient {i}: second poll not empty");
            });
        }
    });

    // -- `retrieve --follow` streams messages as they arrive; a closed stdout ends it quietly.
    let (dave_file, dave) = keygen(dir.path(), "dave");
    let dave_sid = dave.session_id().to_string();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_retrieve"))
        .args(["--identity", dave_file.to_str().unwrap(), "--nodes", nodes.to_str().unwrap(), "--follow"])
        .arg("--state")
        .arg(dir.path().join("dave"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break; // drops the pipe's read end
            }
        }
    });
    for i in 0..2 {
        let data = format!("live {i}");
        send_cmd(&alice_file, &dave_sid, &nodes, data.as_bytes(), &[]).success();
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("--follow printed the new message");
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(B64.decode(v["data"].as_str().unwrap()).unwrap(), data.as_bytes());
    }
    drop(rx);
    let mut exited = None;
    for i in 0..20 {
        send_cmd(&alice_file, &dave_sid, &nodes, format!("after close {i}").as_bytes(), &[]).success();
        std::thread::sleep(Duration::from_millis(1_500));
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
    }
    if exited.is_none() {
        let _ = child.kill();
    }
    let _ = child.wait();
    let _ = reader.join();
    assert!(
        exited.is_some_and(|s| s.success()),
        "--follow did not end quietly on a closed stdout: {exited:?}"
    );

    // -- Kill 2 members of Bob's swarm between send and retrieve: nothing is lost.
    let swarm = net.swarm_of(&Pubkey::from(bob.session_id())).unwrap();
    let victims: Vec<usize> = swarm.iter().take(2).filter_map(|n| tn.index_of(&n.ed_hex())).collect();
    assert_eq!(victims.len(), 2);
    for v in victims {
        tn.kill(v);
    }
    let bob_state = dir.path().join("bob");
    let got = retrieve_cmd(&bob_file, &bob_state, &nodes);
    let got_hashes: Vec<&str> = got.iter().map(|m| m["hash"].as_str().unwrap()).collect();
    for h in &sent_hashes {
        assert!(got_hashes.contains(&h.as_str()), "lost {h}");
    }
    assert_eq!(got.len(), 6, "{got:?}");
    let datas: Vec<Vec<u8>> = got.iter().map(|m| B64.decode(m["data"].as_str().unwrap()).unwrap()).collect();
    assert!(datas.contains(&b"offline 0".to_vec()));
    assert!(datas.contains(&b"{\"v\":1,\"body\":\"x\"}".to_vec()));
    let ts: Vec<u64> = got.iter().map(|m| m["timestamp"].as_u64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "not in timestamp order: {ts:?}");
    // A second run prints only new messages: none.
    assert!(retrieve_cmd(&bob_file, &bob_state, &nodes).is_empty());

    // -- A stale node list: the recipient's real swarm is missing from it, so the client first asks
    // members of the wrong swarm; their 421 carries the right swarm, and send/retrieve carry on there.
    let (erin_file, erin) = keygen(dir.path(), "erin");
    let erin_sid = erin.session_id().to_string();
    let real: Vec<String> =
        net.swarm_of(&Pubkey::from(erin.session_id())).unwrap().iter().map(|n| n.ed_hex()).collect();
    let mut list: Value = serde_json::from_str(&std::fs::read_to_string(&nodes).unwrap()).unwrap();
    for n in list["service_node_states"].as_array_mut().unwrap() {
        if real.iter().any(|r| Some(r.as_str()) == n["pubkey_ed25519"].as_str()) {
            n["swarm_id"] = serde_json::json!(u64::MAX); // "in no swarm": still usable as a path hop
        }
    }
    let stale = dir.path().join("stale-nodes.json");
    std::fs::write(&stale, list.to_string()).unwrap();
    let out = send_cmd(&alice_file, &erin_sid, &stale, b"via 421", &[]).success().get_output().stdout.clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    let stored: Vec<&str> =
        report["stored"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(!stored.is_empty() && stored.iter().all(|s| real.iter().any(|r| r == s)), "{report}");
    let got = retrieve_cmd(&erin_file, &dir.path().join("erin"), &stale);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(B64.decode(got[0]["data"].as_str().unwrap()).unwrap(), b"via 421");

    // -- TTL expiry: once the TTL has passed, the message is gone.
    let wait = Duration::from_millis(SHORT_TTL_MS + 1_500).saturating_sub(short_sent.elapsed());
    std::thread::sleep(wait);
    let late = retrieve_cmd(&carol_file, &dir.path().join("carol-late"), &nodes);
    assert!(late.is_empty(), "expired message still served: {late:?}");
}

// ---- a conversation: friend request, accept, messages both ways, each side offline in turn ----

fn ratchet(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    cargo_bin_cmd!("ratchet")
        .args(args)
        .write_stdin(stdin.to_vec())
        .timeout(Duration::from_secs(60))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

fn ndjson(lines: &[Value]) -> Vec<u8> {
    lines.iter().map(|l| format!("{l}\n")).collect::<String>().into_bytes()
}

#[test]
fn test_ratchet_conversation_over_send_and_retrieve() {
    // Proof of work on: every send solves the nonce at the node list's difficulty.
    let tn = Testnet::up_with_pow(8, POW_DIFFICULTY);
    let nodes = tn.nodes_json();
    let dir = tempfile::tempdir().unwrap();
    let (alice_file, alice) = keygen(dir.path(), "alice");
    let (bob_file, bob) = keygen(dir.path(), "bob");
    let (a_sid, b_sid) = (alice.session_id().to_string(), bob.session_id().to_string());
    let (a_id, b_id) = (alice_file.to_str().unwrap(), bob_file.to_str().unwrap());
    let a_rs = dir.path().join("ratchet-alice");
    let b_rs = dir.path().join("ratchet-bob");
    let (a_rs, b_rs) = (a_rs.to_str().unwrap(), b_rs.to_str().unwrap());
    let a_inbox = dir.path().join("inbox-alice");
    let b_inbox = dir.path().join("inbox-bob");

    // Alice's friend request travels through the network; Bob was offline and reads it later.
    let req = ratchet(
        &["request", "--identity", a_id, "--state", a_rs, "--to", &b_sid, "--name", "Alice"],
        b"Hi Bob",
    );
    send_cmd(&alice_file, &b_sid, &nodes, &req, &[]).success();
    let got = retrieve_cmd(&bob_file, &b_inbox, &nodes);
    assert_eq!(got.len(), 1);
    let shown: Value =
        serde_json::from_slice(&ratchet(&["decrypt", "--identity", b_id, "--state", b_rs], &ndjson(&got)))
            .unwrap();
    assert_eq!(shown["type"], "friend_request", "{shown}");
    assert_eq!(shown["from"], a_sid.as_str());
    let first =
        ratchet(&["accept", "--identity", b_id, "--state", b_rs, "--text", "Hi Alice"], &ndjson(&got));
    send_cmd(&bob_file, &a_sid, &nodes, &first, &[]).success();

    // Alice reads Bob's acceptance.
    let got = retrieve_cmd(&alice_file, &a_inbox, &nodes);
    assert_eq!(got.len(), 1);
    let out = ratchet(&["decrypt", "--identity", a_id, "--state", a_rs], &ndjson(&got));
    let shown: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(shown["type"], "message", "{shown}");
    assert_eq!(shown["text"], "Hi Alice");

    // Bob is offline while Alice sends three messages; he gets them all, in order.
    for i in 0..3 {
        let line = ratchet(
            &["encrypt", "--identity", a_id, "--state", a_rs, "--to", &b_sid],
            format!("a{i}").as_bytes(),
        );
        send_cmd(&alice_file, &b_sid, &nodes, &line, &[]).success();
    }
    let got = retrieve_cmd(&bob_file, &b_inbox, &nodes);
    assert_eq!(got.len(), 3);
    let out = ratchet(&["decrypt", "--identity", b_id, "--state", b_rs], &ndjson(&got));
    let texts: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts, ["a0", "a1", "a2"]);

    // Now Alice is offline while Bob answers twice.
    for i in 0..2 {
        let line = ratchet(
            &["encrypt", "--identity", b_id, "--state", b_rs, "--to", &a_sid],
            format!("b{i}").as_bytes(),
        );
        send_cmd(&bob_file, &a_sid, &nodes, &line, &[]).success();
    }
    let got = retrieve_cmd(&alice_file, &a_inbox, &nodes);
    let out = ratchet(&["decrypt", "--identity", a_id, "--state", a_rs], &ndjson(&got));
    let texts: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts, ["b0", "b1"]);
    // Nothing is delivered twice.
    assert!(retrieve_cmd(&alice_file, &a_inbox, &nodes).is_empty());
    assert!(retrieve_cmd(&bob_file, &b_inbox, &nodes).is_empty());

    // The live apps' 1-1 format: Alice sends as a Session app would; Bob's decrypt opens it,
    // checks Alice's signature and names her; Carol's cannot.
    send_cmd(
        &alice_file,
        &b_sid,
        &nodes,
        "Hi Bob, as the apps say it\n".as_bytes(),
        &["--format", "session"],
    )
    .success();
    let got = retrieve_cmd(&bob_file, &b_inbox, &nodes);
    assert_eq!(got.len(), 1);
    let data = B64.decode(got[0]["data"].as_str().unwrap()).unwrap();
    let opened = snkit::session_protocol::read_message(&bob, &data).unwrap();
    assert_eq!(opened.sender.to_string(), a_sid);
    let out = ratchet(&["decrypt", "--identity", b_id, "--state", b_rs], &ndjson(&got));
    let shown: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(shown["type"], "session_message", "{shown}");
    assert_eq!(shown["from"], a_sid.as_str());
    assert_eq!(shown["text"], "Hi Bob, as the apps say it");
    let (carol_file, _carol) = keygen(dir.path(), "carol");
    let carol_state = dir.path().join("ratchet-carol");
    let refused = cargo_bin_cmd!("ratchet")
        .args([
            "decrypt",
            "--identity",
            carol_file.to_str().unwrap(),
            "--state",
            carol_state.to_str().unwrap(),
        ])
        .write_stdin(ndjson(&got))
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(err.contains("Session app message"), "{err}");

    // A node list that does not know the difficulty: the node's 432 {"difficulty"} makes send
    // solve the nonce and store anyway.
    let mut list: Value = serde_json::from_str(&std::fs::read_to_string(&nodes).unwrap()).unwrap();
    assert_eq!(list["pow_difficulty"], POW_DIFFICULTY);
    list["pow_difficulty"] = serde_json::json!(0);
    let no_pow = dir.path().join("no-pow-nodes.json");
    std::fs::write(&no_pow, list.to_string()).unwrap();
    send_cmd(&alice_file, &b_sid, &no_pow, b"after a 432", &[]).success();
    let got = retrieve_cmd(&bob_file, &b_inbox, &nodes);
    assert_eq!(got.len(), 1);
    assert_eq!(B64.decode(got[0]["data"].as_str().unwrap()).unwrap(), b"after a 432");

    // --node: bootstrap the node list (and the difficulty) from one node.
    let url = tn.url(3);
    cargo_bin_cmd!("send")
        .args(["--identity", a_id, "--to", &b_sid, "--node", &url])
        .write_stdin("bootstrapped")
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    let out = cargo_bin_cmd!("retrieve")
        .args(["--identity", b_id, "--node", &url, "--state"])
        .arg(&b_inbox)
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let got: Vec<Value> =
        String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(got.len(), 1);
    assert_eq!(B64.decode(got[0]["data"].as_str().unwrap()).unwrap(), b"bootstrapped");
}

// ---- bad input: one stderr line, exit 2 (input) or 1 (network), never a hang ----------------

fn one_error_line(stderr: &[u8], cmd: &str) -> String {
    let text = String::from_utf8_lossy(stderr).to_string();
    let first = text.lines().next().unwrap_or_default().to_string();
    assert!(first.starts_with(&format!("{cmd}: error: ")), "{text}");
    assert!(text.lines().count() <= 2, "{text}");
    first
}

fn dead_nodes_file(dir: &Path) -> std::path::PathBuf {
    // Real keys, closed ports: nothing answers.
    let mut states = Vec::new();
    for _ in 0..6 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let id = Identity::generate();
        states.push(serde_json::json!({
            "pubkey_ed25519": hex::encode(id.ed25519_public()),
            "pubkey_x25519": hex::encode(id.x25519_public()),
            "public_ip": "127.0.0.1", "storage_port": port, "swarm_id": 0,
        }));
    }
    let path = dir.join("dead-nodes.json");
    std::fs::write(&path, serde_json::json!({"service_node_states": states}).to_string()).unwrap();
    path
}

#[test]
fn test_send_bad_input_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (id, _) = keygen(dir.path(), "a");
    let to = Identity::generate().session_id().to_string();
    let nodes = dead_nodes_file(dir.path());
    let n = nodes.to_str().unwrap();
    let cases: Vec<(Vec<String>, Vec<u8>, i32, &str)> = vec![
        (
            vec!["--identity".into(), "/nonexistent/id.json".into(), "--to".into(), to.clone()],
            b"x".to_vec(),
            2,
            "identity",
        ),
        (
            vec!["--identity".into(), id.display().to_string(), "--to".into(), "05zz".into()],
            b"x".to_vec(),
            2,
            "--to",
        ),
        (
            vec!["--identity".into(), id.display().to_string(), "--to".into(), to.clone()],
            Vec::new(),
            2,
            "empty",
        ),
        (
            vec!["--identity".into(), id.display().to_string(), "--to".into(), to.clone()],
            vec![b'x'; 76_801],
            2,
            "76800",
        ),
        (
            vec![
                "--identity".into(),
                id.display().to_string(),
                "--to".into(),
                to.clone(),
                "--format".into(),
                "session".into(),
            ],
            vec![0xff, 0xfe],
            2,
            "not UTF-8",
        ),
        (
            vec![
                "--identity".into(),
                id.display().to_string(),
                "--to".into(),
                to.clone(),
                "--format".into(),
                "session".into(),
            ],
            vec![b'x'; 76_001],
            2,
            "the limit is",
        ),
        (
            vec![
                "--identity".into(),
                id.display().to_string(),
                "--to".into(),
                to.clone(),
                "--ttl".into(),
                "5".into(),
            ],
            b"x".to_vec(),
            2,
            "TTL",
        ),
        (
            vec!["--identity".into(), id.display().to_string(), "--to".into(), to.clone()],
            b"x".to_vec(),
            1,
            "no node",
        ),
    ];
    for (args, stdin, code, needle) in cases {
        let out = cargo_bin_cmd!("send")
            .args(&args)
            .args(["--nodes", n])
            .write_stdin(stdin)
            .timeout(Duration::from_secs(60))
            .assert()
            .code(code)
            .get_output()
            .clone();
        let line = one_error_line(&out.stderr, "send");
        assert!(line.contains(needle), "{args:?}: {line}");
        assert!(out.stdout.is_empty());
    }
    // No node list at all is a usage error.
    cargo_bin_cmd!("send")
        .args(["--identity", id.to_str().unwrap(), "--to", &to])
        .write_stdin("x")
        .assert()
        .code(2);
    // A node list file that does not exist.
    let out = cargo_bin_cmd!("send")
        .args(["--identity", id.to_str().unwrap(), "--to", &to, "--nodes", "/nonexistent/nodes.json"])
        .write_stdin("x")
        .assert()
        .code(2)
        .get_output()
        .clone();
    one_error_line(&out.stderr, "send");
    // An unreachable bootstrap node.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = cargo_bin_cmd!("send")
        .args([
            "--identity",
            id.to_str().unwrap(),
            "--to",
            &to,
            "--node",
            &format!("http://127.0.0.1:{port}"),
        ])
        .write_stdin("x")
        .timeout(Duration::from_secs(60))
        .assert()
        .code(1)
        .get_output()
        .clone();
    one_error_line(&out.stderr, "send");
}

#[test]
fn test_retrieve_bad_input_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (id, _) = keygen(dir.path(), "a");
    let nodes = dead_nodes_file(dir.path());
    let state = dir.path().join("state");
    let run = |args: &[&str], code: i32| {
        let out = cargo_bin_cmd!("retrieve").args(args).timeout(Duration::from_secs(60)).assert().code(code);
        let out = out.get_output().clone();
        one_error_line(&out.stderr, "retrieve");
        assert!(out.stdout.is_empty());
    };
    let (n, s, i) = (nodes.to_str().unwrap(), state.to_str().unwrap(), id.to_str().unwrap());
    run(&["--identity", "/nonexistent.json", "--state", s, "--nodes", n], 2);
    run(&["--identity", i, "--state", s], 2);
    run(&["--identity", i, "--state", s, "--nodes", n], 1);
    // A corrupt state file is refused, not reset.
    let sid = Identity::load(&id).unwrap().session_id().to_string();
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join(format!("{sid}.json")), b"{garbage").unwrap();
    run(&["--identity", i, "--state", s, "--nodes", n], 1);
}

/// The README's first command (`make demo` runs scripts/demo.sh): a testnet, a message from one
/// identity read back by another, a friend request and its acceptance — and nothing left running.
#[test]
fn test_demo_script_delivers_and_leaves_nothing_running() {
    let bin = Path::new(env!("CARGO_BIN_EXE_keygen")).parent().unwrap().to_path_buf();
    let tmp = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/demo.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .env("SNKIT_BIN", &bin)
        .env("TMPDIR", tmp.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("Hello Bob! This is Alice, over three onion hops."), "{stdout}");
    assert!(stdout.contains("\"type\":\"friend_request\""), "{stdout}");
    assert!(stdout.contains("Hi Alice! Yes."), "{stdout}");
    let gone = crate::common::eventually(Duration::from_secs(5), || {
        crate::common::processes_naming(tmp.path()).is_empty()
            && std::fs::read_dir(tmp.path()).map(|d| d.count() == 0).unwrap_or(false)
    });
    let left = crate::common::processes_naming(tmp.path());
    assert!(gone, "the demo left processes running ({left:?}) or files behind");
}

/// Live service nodes serve HTTPS with self-signed certificates: a `--tls` testnet does the
/// same, and send, retrieve (over onion paths whose every hop is HTTPS) and swarm-of talk to it.
#[test]
fn test_send_and_retrieve_over_https_nodes() {
    let tn = Testnet::up_tls(6);
    let nodes = tn.nodes_json();
    let list: Value = serde_json::from_str(&std::fs::read_to_string(&nodes).unwrap()).unwrap();
    assert_eq!(list["tls"], true, "nodes.json says the nodes speak HTTPS");
    let url = tn.url(0);
    assert!(url.starts_with("https://"), "{url}");
    // Plain HTTP to a TLS node gets no storage RPC answer.
    let plain = url.replacen("https://", "http://", 1);
    let refused = http()
        .post(format!("{plain}/storage_rpc/v1"))
        .body(r#"{"method":"info","params":{}}"#)
        .send()
        .and_then(|r| r.error_for_status());
    assert!(refused.is_err(), "a TLS node answered plain HTTP");

    let dir = tempfile::tempdir().unwrap();
    let (alice_file, _) = keygen(dir.path(), "alice");
    let (bob_file, bob) = keygen(dir.path(), "bob");
    let bob_sid = bob.session_id().to_string();
    let out = send_cmd(&alice_file, &bob_sid, &nodes, b"over https", &[]).success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["stored"].as_array().unwrap().len(), 3, "{report}");
    // Bootstrapping from an https:// node implies HTTPS for every node it lists.
    cargo_bin_cmd!("send")
        .args(["--identity", alice_file.to_str().unwrap(), "--to", &bob_sid, "--node", &url])
        .write_stdin(b"via an https bootstrap".to_vec())
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    // Or from a seed's JSON-RPC endpoint (get_n_service_nodes), as the apps bootstrap; every
    // snode answers it.
    cargo_bin_cmd!("send")
        .args(["--identity", alice_file.to_str().unwrap(), "--to", &bob_sid])
        .args(["--node", &format!("{url}/json_rpc")])
        .write_stdin(b"via a seed".to_vec())
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    let got = retrieve_cmd(&bob_file, &dir.path().join("bob"), &nodes);
    let texts: HashSet<Vec<u8>> =
        got.iter().map(|m| B64.decode(m["data"].as_str().unwrap()).unwrap()).collect();
    let want = [b"over https".to_vec(), b"via an https bootstrap".to_vec(), b"via a seed".to_vec()];
    assert_eq!(texts, HashSet::from(want));
    // swarm-of asks a TLS node directly.
    let asked = cargo_bin_cmd!("swarm-of").args([&bob_sid, "--node", &url]).assert().success();
    let swarm: Value = serde_json::from_slice(&asked.get_output().stdout).unwrap();
    assert!(!swarm["nodes"].as_array().unwrap().is_empty(), "{swarm}");
    tn.down_leaving_nothing_running();
}
