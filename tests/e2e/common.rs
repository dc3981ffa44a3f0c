//! Helpers shared by the end-to-end tests: running commands, testnets of real `snode` processes
//! on loopback that clean up after themselves (even when a test fails), and a storage-RPC call.
//!
//! ```ignore
//! let tn = Testnet::up(20);                       // registry + 20 snodes in a temp dir
//! let (status, body) = rpc(&tn.urls()[0], "info", json!({}));
//! cmd("swarm-of").arg("--nodes").arg(tn.nodes_json()) ...;
//! ```                                              // dropped: `testnet down`, leftovers SIGKILLed
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A command of the toolkit, built by cargo for this test run.
pub fn cmd(name: &str) -> assert_cmd::Command {
    use assert_cmd::cargo::cargo_bin_cmd;
    match name {
        "keygen" => cargo_bin_cmd!("keygen"),
        "mnemonic" => cargo_bin_cmd!("mnemonic"),
        "swarm-of" => cargo_bin_cmd!("swarm-of"),
        "pow" => cargo_bin_cmd!("pow"),
        "onion-wrap" => cargo_bin_cmd!("onion-wrap"),
        "send" => cargo_bin_cmd!("send"),
        "retrieve" => cargo_bin_cmd!("retrieve"),
        "ratchet" => cargo_bin_cmd!("ratchet"),
        "snode" => cargo_bin_cmd!("snode"),
        "testnet" => cargo_bin_cmd!("testnet"),
        "attach" => cargo_bin_cmd!("attach"),
        "rpc" => cargo_bin_cmd!("rpc"),
        "upload" => cargo_bin_cmd!("upload"),
        "download" => cargo_bin_cmd!("download"),
        "fileinfo" => cargo_bin_cmd!("fileinfo"),
        "extend" => cargo_bin_cmd!("extend"),
        "sogs" => cargo_bin_cmd!("sogs"),
        other => panic!("unknown command {other}"),
    }
}

/// Path of a built command.
pub fn bin(name: &str) -> PathBuf {
    match name {
        "snode" => PathBuf::from(env!("CARGO_BIN_EXE_snode")),
        "testnet" => PathBuf::from(env!("CARGO_BIN_EXE_testnet")),
        other => cmd(other).get_program().into(),
    }
}

pub use snkit::time::now_ms;

/// A plain HTTP client for the tests' own requests (30 s per call), with the toolkit's TLS
/// configuration (reqwest is built without a crypto provider of its own).
pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .use_preconfigured_tls(snkit::tls::client_config().expect("TLS config"))
        .build()
        .expect("HTTP client")
}

/// POSTs `{"method", "params"}` to `url`/storage_rpc/v1; returns the status and the body (JSON,
/// or a JSON string holding the text of a non-JSON body).
pub fn rpc(url: &str, method: &str, params: Value) -> (u16, Value) {
    post_raw(url, "/storage_rpc/v1", json!({"method": method, "params": params}).to_string().as_bytes())
}

/// Every hash node `url` holds for `pk` in namespace `ns` (an unsigned public inbox), following
/// `more`; the node's status if it refused.
pub fn retrieve_hashes(url: &str, pk: &str, ns: i16) -> Result<std::collections::BTreeSet<String>, u16> {
    let mut out = std::collections::BTreeSet::new();
    let mut last = String::new();
    loop {
        let (status, body) = rpc(url, "retrieve", json!({"pubkey": pk, "namespace": ns, "last_hash": last}));
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

/// POSTs raw bytes to `url` + `path`; returns the status and the body as in [`rpc`].
pub fn post_raw(url: &str, path: &str, body: &[u8]) -> (u16, Value) {
    post_raw_with(&http(), url, path, body)
}

/// [`rpc`] over a client the caller keeps (for thousands of calls: one connection pool).
pub fn rpc_with(client: &reqwest::blocking::Client, url: &str, method: &str, params: Value) -> (u16, Value) {
    let body = json!({"method": method, "params": params}).to_string();
    post_raw_with(client, url, "/storage_rpc/v1", body.as_bytes())
}

/// [`post_raw`] over a client the caller keeps.
pub fn post_raw_with(client: &reqwest::blocking::Client, url: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let resp = client
        .post(format!("{url}{path}"))
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send();
    let (status, text) = match resp {
        Ok(r) => (r.status().as_u16(), r.text().unwrap_or_default()),
        Err(e) => panic!("POST {url}{path}: {e}"),
    };
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Resident set size of a process in KiB, from /proc.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Polls `check` every 100 ms until it returns true or `limit` passes; returns whether it did.
pub fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A running testnet in a temporary directory; `testnet down` (and SIGKILL of anything left)
/// when dropped, also when the test panicked.
pub struct Testnet {
    dir: tempfile::TempDir,
}

impl Testnet {
    /// Registry + `n` nodes, proof of work off.
    pub fn up(n: usize) -> Self {
        Self::up_with_pow(n, 0)
    }

    /// Registry + `n` nodes with proof-of-work difficulty `d`.
    pub fn up_with_pow(n: usize, d: u64) -> Self {
        Self::up_with(n, &["--pow", &d.to_string()])
    }

    /// Registry + `n` nodes that test each other every `period_ms` (`testnet up --reach-period`).
    pub fn up_with_reach(n: usize, period_ms: u64) -> Self {
        Self::up_with(n, &["--reach-period", &period_ms.to_string()])
    }

    /// Registry + `n` nodes serving HTTPS with self-signed certificates (`testnet up --tls`).
    pub fn up_tls(n: usize) -> Self {
        Self::up_with(n, &["--tls"])
    }

    /// Registry + `n` nodes + a file server (`testnet up --fileserver`).
    pub fn up_fileserver(n: usize) -> Self {
        Self::up_with(n, &["--fileserver"])
    }

    /// Registry + `n` nodes, with more `testnet up` flags.
    pub fn up_with(n: usize, extra: &[&str]) -> Self {
        let dir = tempfile::Builder::new().prefix("snkit-testnet-").tempdir().expect("temp dir");
        let tn = Self { dir };
        let n = n.to_string();
        let mut args = vec!["up", "--nodes", n.as_str(), "--log", "info"];
        args.extend_from_slice(extra);
        let out = tn.run(&args);
        assert!(out.get("registry_url").is_some(), "testnet up printed {out}");
        tn
    }

    /// Registry + `n` nodes started with extra environment variables (test-only node modes).
    pub fn up_env(n: usize, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::Builder::new().prefix("snkit-testnet-").tempdir().expect("temp dir");
        let out = std::process::Command::new(bin("testnet"))
            .args(["up", "--nodes", &n.to_string(), "--log", "info", "--dir"])
            .arg(dir.path())
            .envs(env.iter().copied())
            .output()
            .expect("run testnet");
        assert!(out.status.success(), "testnet up failed: {}", String::from_utf8_lossy(&out.stderr));
        Self { dir }
    }

    /// Runs `testnet <args> --dir DIR`; panics (with its stderr) if it fails; returns its JSON.
    pub fn run(&self, args: &[&str]) -> Value {
        let out = std::process::Command::new(bin("testnet"))
            .args(args)
            .arg("--dir")
            .arg(self.dir.path())
            .output()
            .expect("run testnet");
        assert!(
            out.status.success(),
            "testnet {args:?} failed: {}\n(logs in {})",
            String::from_utf8_lossy(&out.stderr),
            self.dir.path().display()
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `DIR/nodes.json`: the node list (`{"service_node_states": [...], "pow_difficulty": N}`).
    pub fn nodes_json(&self) -> PathBuf {
        self.dir.path().join("nodes.json")
    }

    /// The registry's URL.
    pub fn registry_url(&self) -> String {
        self.state()["registry_url"].as_str().unwrap_or_default().to_string()
    }

    /// `testnet.json`, as it is now.
    pub fn state(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.path().join("testnet.json")).expect("testnet.json");
        serde_json::from_str(&text).expect("testnet.json is JSON")
    }

    /// Every node's URL, by index (including stopped or killed ones).
    pub fn urls(&self) -> Vec<String> {
        self.state()["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["url"].as_str().unwrap().to_string())
            .collect()
    }

    /// URL of node `i`.
    pub fn url(&self, i: usize) -> String {
        self.urls()[i].clone()
    }

    /// Ed25519 key (hex) of node `i`.
    pub fn ed25519(&self, i: usize) -> String {
        self.state()["nodes"][i]["pubkey_ed25519"].as_str().unwrap().to_string()
    }

    /// Index of the node with this Ed25519 key (hex).
    pub fn index_of(&self, ed25519: &str) -> Option<usize> {
        self.state()["nodes"].as_array()?.iter().position(|n| n["pubkey_ed25519"].as_str() == Some(ed25519))
    }

    /// The registered nodes as in nodes.json (`pubkey_ed25519`, `pubkey_x25519`, `public_ip`,
    /// `storage_port`, `swarm_id`).
    pub fn nodes(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.nodes_json()).expect("nodes.json");
        let v: Value = serde_json::from_str(&text).expect("nodes.json is JSON");
        v["service_node_states"].as_array().cloned().unwrap_or_default()
    }

    /// `testnet status` JSON.
    pub fn status(&self) -> Value {
        self.run(&["status", "--json"])
    }

    /// Deregister node `i` and stop it (SIGTERM).
    pub fn stop(&self, i: usize) {
        self.run(&["stop", &i.to_string()]);
    }

    /// SIGKILL node `i` (stays registered).
    pub fn kill(&self, i: usize) {
        self.run(&["kill", &i.to_string()]);
    }

    /// Restart node `i` with its data.
    pub fn start(&self, i: usize) {
        self.run(&["start", &i.to_string()]);
    }

    /// Add `k` nodes; returns their indices.
    pub fn add(&self, k: usize) -> Vec<usize> {
        let out = self.run(&["add", "--count", &k.to_string()]);
        out["added"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect()
    }
}

/// Every live process whose command line names `dir` (pid, command line).
pub fn processes_naming(dir: &Path) -> Vec<(i32, String)> {
    let marker = dir.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse::<i32>().ok()?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            // A zombie has an empty command line: it is not running.
            cmdline.contains(&marker).then_some((pid, cmdline))
        })
        .collect()
}

impl Testnet {
    /// `testnet down`, then checks that it stopped everything it started.
    pub fn down_leaving_nothing_running(&self) {
        self.run(&["down"]);
        // A SIGKILLed straggler takes a moment to disappear from /proc.
        let gone = eventually(Duration::from_secs(5), || processes_naming(self.dir.path()).is_empty());
        let left = processes_naming(self.dir.path());
        assert!(gone, "testnet down left processes running: {left:?}");
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        let _ = std::process::Command::new(bin("testnet"))
            .args(["down", "--dir"])
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        // Belt and braces: SIGKILL any process whose command line still names this directory.
        for (pid, _) in processes_naming(self.dir.path()) {
            if let Some(p) = rustix::process::Pid::from_raw(pid) {
                let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
            }
        }
        if std::env::var_os("SNKIT_KEEP_TESTNET").is_some() {
            let path = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap()).keep();
            eprintln!("testnet kept in {}", path.display());
        }
    }
}

/// A daemon with a key (`fileserver`, `sogs`) run as `BIN serve --dir DIR --listen 127.0.0.1:0
/// --log LEVEL EXTRA…` (LEVEL from the environment variable `log_env`, default warn), once it
/// printed its ready line `{url, pubkey, pubkey_ed25519}`; its log goes to the test's stderr.
/// SIGKILLed when dropped.
pub struct Daemon {
    pub child: std::process::Child,
    pub url: String,
    pub ready: Value,
}

impl Daemon {
    pub fn start(bin: &str, dir: &Path, log_env: &str, extra: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(bin)
            .args(["serve", "--dir"])
            .arg(dir)
            .args(["--listen", "127.0.0.1:0", "--log"])
            .arg(std::env::var(log_env).unwrap_or_else(|_| "warn".into()))
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("ready line {line:?}: {e}"));
        let url = ready["url"].as_str().unwrap().to_string();
        Self { child, url, ready }
    }

    /// `host:port` of its URL.
    pub fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    /// Its X25519 key (the ready line's `pubkey`).
    pub fn pubkey(&self) -> [u8; 32] {
        hex::decode(self.ready["pubkey"].as_str().unwrap()).unwrap().try_into().unwrap()
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}
