//! Every node-list source (README "Node lists") works the same for `swarm-of`, `send` and
//! `retrieve`: a file, `-`, a node's URL (`--nodes` and `--node`), a seed's `/json_rpc`, a
//! registry (file and URL), `$SNKIT_NODES`, and the `.testnet/nodes.json` default; a bad source is
//! one error line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use snkit::identity::Identity;

use crate::common::Testnet;

/// How one command is told where the nodes are.
struct Source {
    name: &'static str,
    args: Vec<String>,
    env: Option<String>,
    cwd: Option<PathBuf>,
    /// The node list comes on stdin (`--nodes -`).
    stdin: Option<Vec<u8>>,
}

impl Source {
    fn flag(name: &'static str, flag: &str, value: &str) -> Self {
        Self { name, args: vec![flag.into(), value.into()], env: None, cwd: None, stdin: None }
    }

    /// No flag: the source comes from the environment or the current directory.
    fn none(name: &'static str) -> Self {
        Self { name, args: Vec::new(), env: None, cwd: None, stdin: None }
    }

    fn apply(&self, cmd: &mut assert_cmd::Command) {
        cmd.env_remove("SNKIT_NODES").args(&self.args).timeout(Duration::from_secs(120));
        if let Some(v) = &self.env {
            cmd.env("SNKIT_NODES", v);
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
    }
}

fn one_error_line(stderr: &[u8], cmd: &str) -> String {
    let text = String::from_utf8_lossy(stderr).to_string();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("hint: ")).collect();
    assert_eq!(lines.len(), 1, "{cmd} printed more than one error line: {text}");
    assert!(lines[0].starts_with(&format!("{cmd}: error: ")), "{text}");
    lines[0].to_string()
}

#[test]
fn every_source_works_for_swarm_of_send_and_retrieve() {
    let tn = Testnet::up(6);
    let dir = tempfile::tempdir().unwrap();
    let keygen = |dir: &Path, name: &str| -> (PathBuf, Identity) {
        let path = dir.join(format!("{name}.json"));
        let id = Identity::generate();
        snkit::fs::write_new_secret(&path, &serde_json::to_vec(&id.to_file()).unwrap()).unwrap();
        (path, id)
    };
    let (alice, _) = keygen(dir.path(), "alice");
    let (bob, bob_id) = keygen(dir.path(), "bob");
    let bob_sid = bob_id.session_id().to_string();
    let nodes = tn.nodes_json();
    let nodes_text = std::fs::read(&nodes).unwrap();
    let registry_file = tn.dir().join("registry.json");
    // A directory with a testnet's default node list, as `testnet up` leaves in its directory.
    let here = dir.path().join("here");
    std::fs::create_dir_all(here.join(".testnet")).unwrap();
    std::fs::copy(&nodes, here.join(".testnet/nodes.json")).unwrap();
    let file = |p: &Path| p.to_str().unwrap().to_string();

    let sources = vec![
        Source::flag("file", "--nodes", &file(&nodes)),
        Source { stdin: Some(nodes_text.clone()), ..Source::flag("stdin", "--nodes", "-") },
        Source::flag("node url", "--nodes", &tn.url(0)),
        Source::flag("--node", "--node", &tn.url(1)),
        Source::flag("seed", "--node", &format!("{}/json_rpc", tn.url(2))),
        Source::flag("registry file", "--nodes", &file(&registry_file)),
        Source::flag("registry url", "--nodes", &tn.registry_url()),
        Source { env: Some(file(&nodes)), ..Source::none("$SNKIT_NODES") },
        Source { cwd: Some(here.clone()), ..Source::none(".testnet default") },
    ];

    let swarm_via = |s: &Source| -> Value {
        let mut cmd = cargo_bin_cmd!("swarm-of");
        cmd.arg(&bob_sid);
        s.apply(&mut cmd);
        if let Some(stdin) = &s.stdin {
            cmd.write_stdin(stdin.clone());
        }
        let out = cmd.assert().success().get_output().stdout.clone();
        serde_json::from_slice(&out).unwrap()
    };
    let expected = swarm_via(&sources[0]);
    assert!(!expected["nodes"].as_array().unwrap().is_empty(), "{expected}");

    for (i, s) in sources.iter().enumerate() {
        let got = swarm_via(s);
        assert_eq!(got["swarm_id"], expected["swarm_id"], "swarm-of via {}", s.name);

        let text = format!("via source {i}: {}", s.name);
        let mut send = cargo_bin_cmd!("send");
        send.args(["--identity", &file(&alice), "--to", &bob_sid]);
        s.apply(&mut send);
        if s.stdin.is_some() {
            // send's message is stdin: a node list cannot come from there too.
            let out = send.write_stdin(text.clone()).assert().code(2).get_output().clone();
            let line = one_error_line(&out.stderr, "send");
            assert!(line.contains("reads stdin"), "{line}");
            continue;
        }
        let out = send.write_stdin(text.clone()).assert().success().get_output().stdout.clone();
        let report: Value = serde_json::from_slice(&out).unwrap();
        assert!(!report["stored"].as_array().unwrap().is_empty(), "send via {}: {report}", s.name);

        let mut retrieve = cargo_bin_cmd!("retrieve");
        let state = dir.path().join(format!("state-{i}"));
        retrieve.args(["--identity", &file(&bob), "--state", &file(&state)]);
        s.apply(&mut retrieve);
        let out = retrieve.assert().success().get_output().stdout.clone();
        let texts: Vec<Vec<u8>> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                B64.decode(v["data"].as_str().unwrap()).unwrap()
            })
            .collect();
        assert!(texts.contains(&text.clone().into_bytes()), "retrieve via {}: {texts:?}", s.name);
    }

    // retrieve reads the node list from stdin too.
    let out = cargo_bin_cmd!("retrieve")
        .env_remove("SNKIT_NODES")
        .args(["--identity", &file(&bob), "--state", &file(&dir.path().join("state-stdin"))])
        .args(["--nodes", "-"])
        .write_stdin(nodes_text)
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(!out.is_empty(), "retrieve --nodes - printed nothing");

    // Bad sources: one line, exit 2 (the input's fault), for every command.
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{not json").unwrap();
    let missing = file(&dir.path().join("missing.json"));
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let bad = vec![
        Source::flag("missing file", "--nodes", &missing),
        Source::flag("not JSON", "--nodes", &file(&garbage)),
        Source { env: Some(missing.clone()), ..Source::none("$SNKIT_NODES missing") },
        Source { cwd: Some(empty), ..Source::none("no source at all") },
    ];
    for source in &bad {
        let mut swarm = cargo_bin_cmd!("swarm-of");
        swarm.arg(&bob_sid);
        source.apply(&mut swarm);
        let out = swarm.assert().code(2).get_output().clone();
        one_error_line(&out.stderr, "swarm-of");

        let mut send = cargo_bin_cmd!("send");
        send.args(["--identity", &file(&alice), "--to", &bob_sid]);
        source.apply(&mut send);
        let out = send.write_stdin("x").assert().code(2).get_output().clone();
        one_error_line(&out.stderr, "send");

        let mut retrieve = cargo_bin_cmd!("retrieve");
        retrieve.args(["--identity", &file(&bob), "--state", &file(&dir.path().join("state-bad"))]);
        source.apply(&mut retrieve);
        let out = retrieve.assert().code(2).get_output().clone();
        one_error_line(&out.stderr, "retrieve");
    }
    // A node that does not answer is the network's failure: one line, exit 1.
    let out = cargo_bin_cmd!("send")
        .env_remove("SNKIT_NODES")
        .args(["--identity", &file(&alice), "--to", &bob_sid, "--nodes", "http://127.0.0.1:1"])
        .write_stdin("x")
        .timeout(Duration::from_secs(60))
        .assert()
        .code(1)
        .get_output()
        .clone();
    one_error_line(&out.stderr, "send");
    tn.down_leaving_nothing_running();
}
