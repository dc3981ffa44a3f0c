//! End-to-end tests: clients keep their onion paths (`--path-dir`, `paths.json`) across
//! processes, as the apps do; a killed hop gets its paths replaced; `--fresh-path` keeps none.
//! One 8-node testnet serves all three scenarios.

use std::path::Path;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;
use snkit::identity::Identity;

use crate::common::Testnet;

const NODES: usize = 8;

fn keygen(dir: &Path, name: &str) -> (std::path::PathBuf, Identity) {
    let path = dir.join(format!("{name}.json"));
    let id = Identity::generate();
    snkit::fs::write_new_secret(&path, &serde_json::to_vec(&id.to_file()).unwrap()).unwrap();
    (path, id)
}

fn send(id: &Path, to: &str, nodes: &Path, paths: &[&str], text: &str) -> Value {
    let out = cargo_bin_cmd!("send")
        .args(["--identity", id.to_str().unwrap(), "--to", to, "--nodes", nodes.to_str().unwrap()])
        .args(paths)
        .write_stdin(text.as_bytes().to_vec())
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn saved(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("paths.json")).unwrap()).unwrap()
}

/// The hops of each saved path, guard first.
fn hops(v: &Value) -> Vec<Vec<String>> {
    v["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["hops"].as_array().unwrap().iter().map(|h| h.as_str().unwrap().to_string()).collect())
        .collect()
}

#[test]
fn consecutive_sends_reuse_the_saved_paths_and_a_killed_hop_gets_replaced() {
    let tn = Testnet::up(NODES);
    let work = tempfile::tempdir().unwrap();
    let (alice, _) = keygen(work.path(), "alice");
    let (_, bob) = keygen(work.path(), "bob");
    let to = bob.session_id().to_string();
    let nodes = tn.nodes_json();
    let dir = work.path().join("paths");
    let flag = ["--path-dir", dir.to_str().unwrap()];

    // -- The first send builds and tests its paths and saves them (0600), with their build time.
    send(&alice, &to, &nodes, &flag, "one");
    let first = saved(&dir);
    let kept = hops(&first);
    assert_eq!(kept.len(), 2, "two paths kept: {first}");
    assert!(kept.iter().all(|p| p.len() == 3), "three hops each: {first}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("paths.json")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // -- The second send, another process, goes through the same paths: nothing is rebuilt.
    send(&alice, &to, &nodes, &flag, "two");
    let second = saved(&dir);
    assert_eq!(second["paths"], first["paths"], "the saved paths (and build times) are reused");

    // -- Kill the guard of both paths (one at a time would do): each send still succeeds, the
    // paths through the dead node are replaced and the node is avoided.
    let guards: Vec<String> = kept.iter().map(|p| p[0].clone()).collect();
    for g in &guards {
        tn.kill(tn.index_of(g).unwrap());
    }
    let report = send(&alice, &to, &nodes, &flag, "three");
    assert!(!report["stored"].as_array().unwrap().is_empty(), "{report}");
    let third = saved(&dir);
    let now_kept = hops(&third);
    assert!(!now_kept.is_empty(), "{third}");
    for p in &now_kept {
        for g in &guards {
            assert!(!p.contains(g), "a path through the killed node {g} is still kept: {third}");
        }
    }
    assert_ne!(third["paths"], first["paths"], "the paths through the killed nodes were replaced");
    // The failure is on record: the blamed hops are avoided for a while (which hops exactly
    // depends on where each request failed: a dead guard is blamed alone, a relay error blames
    // the hops after the guard).
    assert!(third["avoid"].as_object().is_some_and(|a| !a.is_empty()), "{third}");
    // And the next process reuses the replacements.
    send(&alice, &to, &nodes, &flag, "four");
    let fourth = saved(&dir);
    for p in hops(&fourth) {
        for g in &guards {
            assert!(!p.contains(g), "{fourth}");
        }
    }

    // -- --fresh-path: today's behaviour, nothing read or written.
    let fresh = work.path().join("fresh");
    send(&alice, &to, &nodes, &["--fresh-path"], "five");
    assert!(!fresh.exists());
    let out = cargo_bin_cmd!("send")
        .args(["--identity", alice.to_str().unwrap(), "--to", &to, "--nodes", nodes.to_str().unwrap()])
        .args(["--fresh-path", "--path-dir", fresh.to_str().unwrap()])
        .write_stdin(b"six".to_vec())
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    let first_line = err.lines().next().unwrap_or_default();
    assert!(first_line.contains("--fresh-path") && first_line.contains("--path-dir"), "{err}");
    assert!(!fresh.exists());
}
