//! End-to-end tests: `swarm-of` against node-list files (the spec's swarm ids and pubkeys), the
//! NDJSON stream mode, the default node list, and every kind of bad input.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::{Value, json};
use snkit::nodelist::NodeList;
use snkit::registry::Registry;

use crate::common::Testnet;

/// The nearest-swarm test ids of swarms.md §1.
const SPEC_SWARMS: [u64; 7] = [100, 200, 300, 399, 498, 596, 694];

/// `05` + 24 zero bytes + v (big-endian): a pubkey whose swarm-space position is v.
fn at(v: u64) -> String {
    format!("05{}{v:016x}", "00".repeat(24))
}

fn node(i: usize, swarm_id: Value) -> Value {
    json!({
        "pubkey_ed25519": format!("{:064x}", i + 1),
        "pubkey_x25519": format!("{:064x}", 1000 + i),
        "public_ip": "127.0.0.1",
        "storage_port": 30000 + i,
        "swarm_id": swarm_id,
    })
}

/// Two nodes per spec swarm; the second of each pair writes its id as a hex string.
fn spec_nodes() -> Value {
    let mut nodes = Vec::new();
    for (s, id) in SPEC_SWARMS.iter().enumerate() {
        nodes.push(node(2 * s, json!(id)));
        nodes.push(node(2 * s + 1, json!(format!("{id:016x}"))));
    }
    json!({ "service_node_states": nodes })
}

fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

fn swarm_of() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("swarm-of");
    cmd.env_remove("SNKIT_NODES");
    cmd
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8(out.to_vec()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Runs a command expected to fail: checks the exit code and that stderr is one error line
/// (plus at most one `hint:` line); returns the error line.
fn fails(cmd: &mut assert_cmd::Command, code: i32) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty() && lines.len() <= 2, "stderr: {stderr}");
    assert!(lines[0].starts_with("swarm-of: error: "), "stderr: {stderr}");
    if lines.len() == 2 {
        assert!(lines[1].starts_with("hint: "), "stderr: {stderr}");
    }
    lines[0].to_string()
}

#[test]
fn swarm_of_maps_spec_pubkeys_to_the_nearest_swarm() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = write(dir.path(), "nodes.json", &spec_nodes());
    let cases: &[(&str, u64)] = &[
        (&at(100), 100),
        (&at(200), 200),
        (&at(498), 498),
        (&at(0), 100),
        (&at(1), 100),
        (&at(0x96), 100),
        (&at(0x97), 200),
        (&at(0x8000000000000000), 694),
        (&at(0x800000000000018d), 694),
        (&at(0x800000000000018e), 100),
        (&at(u64::MAX), 100),
        // The spec's real pubkeys (their positions are in swarms.md §1).
        ("053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8", 100),
        ("05cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", 100),
        ("03d3511706b8b34f6e8411bf07bd22ba6b2435ca56846fbccf6eb1e166a6cd15cc", 694),
        ("ff0f06693428fca9102a451e3f28d9cc743d8ea60a89ab6aa69eb119470c11cbd3", 100),
        ("05ffba630924aa1224bb930dde21c0d11bf004608f2812217f8ac812d6c7e3ad48", 694),
    ];
    for (pk, want) in cases {
        let out = swarm_of().arg(pk).arg("--nodes").arg(&nodes).output().unwrap();
        assert!(out.status.success(), "{pk}: {}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["pubkey"], json!(pk), "{pk}");
        assert_eq!(v["swarm_id"], json!(format!("{want:016x}")), "{pk}");
        let members = v["nodes"].as_array().unwrap();
        assert_eq!(members.len(), 2, "{pk}");
        for m in members {
            assert_eq!(m["swarm_id"], json!(want));
            assert_eq!(m["swarm"], json!(format!("{want:016x}")));
            for field in ["pubkey_ed25519", "pubkey_x25519", "public_ip", "storage_port"] {
                assert!(m.get(field).is_some(), "{field} missing in {m}");
            }
        }
    }
}

#[test]
fn swarm_of_reads_many_ids_from_stdin_as_ndjson() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = write(dir.path(), "nodes.json", &spec_nodes());
    let bare = &at(200)[2..]; // 64 hex: type 05 assumed
    let input = format!(
        "{}\n\n{{\"session_id\":\"{}\",\"seed\":\"00\"}}\n{{\"pubkey\":\"{}\"}}\n{bare}\n",
        at(0),
        at(498),
        at(0x8000000000000000u64)
    );
    let out = swarm_of().arg("--nodes").arg(&nodes).write_stdin(input).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out.stdout);
    let got: Vec<&str> = lines.iter().map(|l| l["swarm_id"].as_str().unwrap()).collect();
    assert_eq!(got, ["0000000000000064", "00000000000001f2", "00000000000002b6", "00000000000000c8"]);
    assert_eq!(lines[3]["pubkey"], json!(at(200)));
    // "-" as the ID means the same.
    let out = swarm_of().arg("-").arg("--nodes").arg(&nodes).write_stdin(at(1)).output().unwrap();
    assert_eq!(json_lines(&out.stdout)[0]["swarm_id"], json!("0000000000000064"));
}

#[test]
fn swarm_of_reads_the_node_list_from_stdin_and_every_list_form() {
    let nodes = spec_nodes();
    let forms = [nodes.clone(), json!({ "result": nodes.clone() }), nodes["service_node_states"].clone()];
    for form in forms {
        let out = swarm_of().args([&at(300), "--nodes", "-"]).write_stdin(form.to_string()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(json_lines(&out.stdout)[0]["swarm_id"], json!(format!("{:016x}", 300)));
    }
}

#[test]
fn swarm_of_keeps_swarm_ids_beyond_double_precision() {
    let dir = tempfile::tempdir().unwrap();
    let big = u64::MAX - 1;
    let list = json!([node(0, json!(big)), node(1, json!(5)), node(2, json!(u64::MAX))]);
    let nodes = write(dir.path(), "nodes.json", &list);
    let out = swarm_of().arg(at(u64::MAX - 3)).arg("--nodes").arg(&nodes).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["swarm_id"], json!("fffffffffffffffe"));
    assert_eq!(v["nodes"][0]["swarm_id"].as_u64(), Some(big));
    // The node in no swarm (2^64-1) is never an answer.
    let out = swarm_of().arg(at(u64::MAX)).arg("--nodes").arg(&nodes).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["swarm_id"], json!("fffffffffffffffe"));
    assert_eq!(v["nodes"].as_array().unwrap().len(), 1);
}

#[test]
fn swarm_of_default_node_list_is_env_then_dot_testnet() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".testnet")).unwrap();
    write(&dir.path().join(".testnet"), "nodes.json", &spec_nodes());
    let out = swarm_of().current_dir(dir.path()).arg(at(200)).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_lines(&out.stdout)[0]["swarm_id"], json!("00000000000000c8"));

    let other = write(dir.path(), "one.json", &json!([node(0, json!(7))]));
    let out = swarm_of().current_dir(dir.path()).env("SNKIT_NODES", &other).arg(at(200)).output().unwrap();
    assert_eq!(json_lines(&out.stdout)[0]["swarm_id"], json!("0000000000000007"));
}

#[test]
fn swarm_of_refuses_bad_ids() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = write(dir.path(), "nodes.json", &spec_nodes());
    for bad in ["05ab", "hello", &"zz".repeat(33), &format!("{}00", at(1))] {
        let line = fails(swarm_of().arg(bad).arg("--nodes").arg(&nodes), 2);
        assert!(line.contains("is not a Session ID or pubkey"), "{line}");
    }
    // In a stream, the bad line is named; the lines before it were answered.
    let out = swarm_of()
        .arg("--nodes")
        .arg(&nodes)
        .write_stdin(format!("{}\nnope\n{}\n", at(1), at(2)))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_lines(&out.stdout).len(), 1);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.starts_with("swarm-of: error: input line 2: 'nope'"), "{stderr}");
    let line = fails(swarm_of().arg("--nodes").arg(&nodes).write_stdin("{\"id\":\"x\"}\n"), 2);
    assert!(line.contains("\"session_id\""), "{line}");
}

#[test]
fn swarm_of_refuses_bad_node_lists() {
    let dir = tempfile::tempdir().unwrap();
    let mut zero_ip = node(0, json!(1));
    zero_ip["public_ip"] = json!("0.0.0.0");
    let mut no_port = node(0, json!(1));
    no_port.as_object_mut().unwrap().remove("storage_port");
    let cases: Vec<(Value, &str)> = vec![
        (json!([zero_ip]), "0.0.0.0"),
        (json!([no_port]), "no \"storage_port\" field"),
        (json!([node(0, json!(1.5e19))]), "swarm_id"),
        (json!([node(0, json!("xyz"))]), "hex swarm id"),
        (json!({"nodes": []}), "service_node_states"),
        (json!([node(0, json!(1)), node(0, json!(2))]), "repeats pubkey_ed25519"),
        (json!([]), "no node in a swarm"),
        (json!({"service_node_states": []}), "no node in a swarm"),
        (json!([node(0, json!(u64::MAX))]), "no node in a swarm"),
    ];
    for (i, (list, want)) in cases.into_iter().enumerate() {
        let path = write(dir.path(), &format!("bad{i}.json"), &list);
        let line = fails(swarm_of().arg(at(1)).arg("--nodes").arg(&path), 2);
        assert!(line.contains(want), "case {i}: {line}");
    }
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{not json").unwrap();
    let line = fails(swarm_of().arg(at(1)).arg("--nodes").arg(&garbage), 2);
    assert!(line.contains("not valid JSON"), "{line}");
    let line = fails(swarm_of().arg(at(1)).arg("--nodes").arg(dir.path().join("missing.json")), 2);
    assert!(line.contains("cannot read node list"), "{line}");
}

#[test]
fn swarm_of_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    // No node list anywhere.
    let line = fails(swarm_of().current_dir(dir.path()).arg(at(1)), 2);
    assert!(line.contains("no node list"), "{line}");
    // --nodes - and IDs on stdin cannot share stdin.
    let line = fails(swarm_of().args(["--nodes", "-"]).write_stdin("[]"), 2);
    assert!(line.contains("SESSION_ID must be an argument"), "{line}");
    // --nodes and --node exclude each other.
    fails(swarm_of().args([&at(1), "--nodes", "x.json", "--node", "http://127.0.0.1:1"]), 2);
}

#[test]
fn swarm_of_unreachable_node_fails_with_exit_1() {
    // Port 1 on loopback: nothing listens there.
    let line = fails(swarm_of().args([&at(1), "--node", "http://127.0.0.1:1"]), 1);
    assert!(line.contains("cannot reach http://127.0.0.1:1/storage_rpc/v1"), "{line}");
    let line = fails(swarm_of().args([&at(1), "--nodes", "http://127.0.0.1:1/nodes.json"]), 1);
    assert!(line.contains("cannot reach http://127.0.0.1:1/nodes.json"), "{line}");
}

#[test]
fn swarm_of_help_shows_an_example() {
    let out = swarm_of().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("EXAMPLES:") && help.contains("swarm-of 05"), "{help}");
}

/// Against a real 12-node testnet (two swarms): asking a node (`--node`, get_swarm) gives the
/// same swarm and members as computing from its nodes.json; the registry it serves replays to
/// the same map, and a node's get_service_nodes answer is the same list.
#[test]
fn swarm_of_node_agrees_with_the_node_list_on_a_testnet() {
    let tn = Testnet::up(12);
    let nodes_json = tn.nodes_json();
    let list = NodeList::load(nodes_json.to_str().unwrap()).unwrap();
    assert_eq!(list.len(), 12);
    assert_eq!(list.swarm_ids().len(), 2);

    let members = |v: &Value| {
        let mut m: Vec<String> = v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| format!("{} {}:{}", n["pubkey_ed25519"], n["public_ip"], n["storage_port"]))
            .collect();
        m.sort();
        m
    };
    let ids: Vec<String> =
        [0u64, 1, 1 << 62, 1 << 63, (1 << 63) + (1 << 62), u64::MAX].iter().map(|&v| at(v)).collect();
    let input = ids.join("\n") + "\n";
    let local = swarm_of().arg("--nodes").arg(&nodes_json).write_stdin(input.clone()).output().unwrap();
    assert!(local.status.success(), "{}", String::from_utf8_lossy(&local.stderr));
    for (i, url) in [tn.url(0), tn.url(11)].iter().enumerate() {
        let remote = swarm_of().arg("--node").arg(url).write_stdin(input.clone()).output().unwrap();
        assert!(remote.status.success(), "{}", String::from_utf8_lossy(&remote.stderr));
        let (local, remote) = (json_lines(&local.stdout), json_lines(&remote.stdout));
        assert_eq!(local.len(), ids.len());
        assert_eq!(remote.len(), ids.len());
        for (l, r) in local.iter().zip(&remote) {
            assert_eq!(l["pubkey"], r["pubkey"]);
            assert_eq!(l["swarm_id"], r["swarm_id"], "node {i}");
            assert_eq!(members(l), members(r), "node {i}");
        }
    }

    // --nodes also takes the registry (file or URL) or the served nodes.json URL: same answers.
    let registry_url = tn.registry_url();
    let served_nodes = registry_url.replace("/registry.json", "/nodes.json");
    let registry_file = tn.dir().join("registry.json");
    for source in [registry_url.clone(), served_nodes, registry_file.display().to_string()] {
        let out = swarm_of().arg("--nodes").arg(&source).write_stdin(input.clone()).output().unwrap();
        assert!(out.status.success(), "{source}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(json_lines(&out.stdout), json_lines(&local.stdout), "{source}");
    }

    // The registry the testnet serves replays to exactly the published list.
    let registry = Registry::fetch(&tn.registry_url()).unwrap();
    assert_eq!(registry.node_list(), list);
    // So does a node's get_service_nodes answer.
    assert_eq!(NodeList::fetch_from_node(&tn.url(3)).unwrap(), list);
}

#[test]
fn swarm_of_reads_keygen_output() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = write(dir.path(), "nodes.json", &spec_nodes());
    let identity = cargo_bin_cmd!("keygen").output().unwrap();
    assert!(identity.status.success());
    let id: Value = serde_json::from_slice(&identity.stdout).unwrap();
    let out = swarm_of().arg("--nodes").arg(&nodes).write_stdin(identity.stdout).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["pubkey"], id["session_id"]);
}
