//! End-to-end tests: send and retrieve over a real testnet (snode processes on loopback).
//!
//! One 20-node testnet serves every network scenario (starting testnets is the slow part on a
//! 2-core CI): bulk delivery exactly once, an offline recipient, two swarm members killed between
//! send and retrieve, TTL expiry. Bad-input tests need no testnet.

use std::path::Path;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use snkit::identity::Identity;

fn keygen(dir: &Path, name: &str) -> (std::path::PathBuf, Identity) {
    let path = dir.join(format!("{name}.json"));
    let id = Identity::generate();
    snkit::fsutil::write_new_secret(&path, &serde_json::to_vec(&id.to_file()).unwrap()).unwrap();
    (path, id)
}

// (the network scenarios over a 20-node testnet join once tests/e2e/common.rs's Testnet lands)

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
