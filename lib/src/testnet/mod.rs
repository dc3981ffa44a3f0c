//! `testnet`: a registry and N service nodes on loopback, run in the background, for demos,
//! tests and fault experiments (docs/testnet.md).
//!
//! Layout of a testnet directory:
//! - `testnet.json`: what runs (registry URL and pid, each node's index, keys, port, pid, state);
//! - `registry.json`: the registry (served over HTTP by `testnet registry-serve`);
//! - `nodes.json`: the node list clients bootstrap from (`{"service_node_states": [...]}`);
//! - `nodes/<i>/`: each node's data (key file, database); `logs/`: every process's output;
//! - with `--fileserver`: `fileserver/` (its data) and `fileserver.json` (`{url, pubkey,
//!   pubkey_ed25519}`, which `upload` and `download` default to);
//! - with `--sogs`: `sogs/` (the community server's data, for `sogs --dir`) and `sogs.json`.
//!
//! With `--hosts` every process runs in its own network namespace with its own address
//! ([`hosts`]), and `exec`, `partition` and `heal` act on those hosts.

pub mod hosts;
mod procs;
mod reg;
pub mod serve;
mod state;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use state::{NodeEntry, NodeState, TestnetState};

use crate::client::files::FILESERVER_INFO_FILE;
use crate::formats::limits::{
    CLIENT_MAX_REPLY_BYTES, TESTNET_HEALTH_TIMEOUT_MS, TESTNET_MAX_NODES, TESTNET_READY_TIMEOUT_MS,
    TESTNET_STOP_TIMEOUT_MS,
};
use crate::net::http::Transport;
use crate::snode::keys::{KEY_FILE, NodeKeys};
use crate::snode::protocol::{Health, PATH_HEALTH};

/// Default testnet directory.
pub const DEFAULT_DIR: &str = ".testnet";
/// Loopback address every testnet process binds.
pub const LOOPBACK: &str = "127.0.0.1";

/// Why a testnet command failed.
#[derive(Debug, thiserror::Error)]
pub enum TestnetError {
    /// The command was used wrongly (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A file or process operation failed.
    #[error("{0}")]
    Io(String),
    /// The testnet did not do what was asked (exit 1).
    #[error("{0}")]
    Failed(String),
}

impl TestnetError {
    pub(crate) fn io(what: impl std::fmt::Display, e: impl std::fmt::Display) -> Self {
        Self::Io(format!("{what}: {e}"))
    }
}

/// The executables a testnet starts.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// The `snode` executable.
    pub snode: PathBuf,
    /// The `testnet` executable itself (runs `registry-serve`).
    pub testnet: PathBuf,
    /// The `fileserver` executable (`testnet up --fileserver`).
    pub fileserver: Option<PathBuf>,
    /// The `sogs` executable (`testnet up --sogs`).
    pub sogs: Option<PathBuf>,
}

/// A server a testnet may run beside its nodes (`up --fileserver`, `up --sogs`): each serves
/// `DIR/<name>/`, logs to `DIR/logs/<name>.log` and prints its `{url, pubkey, pubkey_ed25519}`
/// once listening, which the testnet writes to `DIR/<name>.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SideServer {
    FileServer,
    Sogs,
}

impl SideServer {
    const ALL: [SideServer; 2] = [SideServer::FileServer, SideServer::Sogs];

    fn name(self) -> &'static str {
        match self {
            SideServer::FileServer => "fileserver",
            SideServer::Sogs => "sogs",
        }
    }

    /// `DIR/<name>.json`: where clients find it.
    fn info_file(self) -> String {
        match self {
            SideServer::FileServer => FILESERVER_INFO_FILE.to_string(),
            SideServer::Sogs => SOGS_INFO_FILE.to_string(),
        }
    }

    fn bin(self, bins: &Binaries) -> Option<&PathBuf> {
        match self {
            SideServer::FileServer => bins.fileserver.as_ref(),
            SideServer::Sogs => bins.sogs.as_ref(),
        }
    }

    fn pid(self, state: &TestnetState) -> Option<u32> {
        match self {
            SideServer::FileServer => state.fileserver_pid,
            SideServer::Sogs => state.sogs_pid,
        }
    }

    fn set_pid(self, state: &mut TestnetState, pid: Option<u32>) {
        match self {
            SideServer::FileServer => state.fileserver_pid = pid,
            SideServer::Sogs => state.sogs_pid = pid,
        }
    }

    /// Its data directory, `DIR/<name>`.
    fn data_dir(self, dir: &Path) -> PathBuf {
        dir.join(self.name())
    }
}

/// File a `testnet up --sogs` writes next to `nodes.json`: the community server's `{url, pubkey,
/// pubkey_ed25519}` (its data is `DIR/sogs/`, which `sogs --dir` administers).
pub const SOGS_INFO_FILE: &str = "sogs.json";

/// Options of `testnet up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// How many nodes to start.
    pub nodes: usize,
    /// The proof-of-work difficulty the registry announces.
    pub pow_difficulty: u64,
    /// The `RUST_LOG` level of the nodes.
    pub log_level: String,
    /// Nodes serve HTTPS (self-signed), as live service nodes do.
    pub tls: bool,
    /// Reachability-testing period in ms (0 = the nodes do not test each other).
    pub reach_period_ms: u64,
    /// Start a file server beside the nodes; its `{url, pubkey, pubkey_ed25519}` goes to
    /// `fileserver.json` next to `nodes.json`.
    pub fileserver: bool,
    /// Start a community server beside the nodes; its `{url, pubkey, pubkey_ed25519}` goes to
    /// `sogs.json` next to `nodes.json`.
    pub sogs: bool,
    /// A testnet of real hosts: one network namespace and address per node, the registry and
    /// each client (Linux, root; [`hosts`]).
    pub hosts: bool,
    /// How many client hosts (`c1..cN`) a host testnet has.
    pub clients: usize,
}

fn state_path(dir: &Path) -> PathBuf {
    dir.join("testnet.json")
}

fn registry_path(dir: &Path) -> PathBuf {
    dir.join("registry.json")
}

/// Path of the node list a testnet writes.
pub fn nodes_json_path(dir: &Path) -> PathBuf {
    dir.join("nodes.json")
}

/// Starts a registry and `opts.nodes` nodes in `dir`; returns once all are healthy and agree on
/// the swarm map. Everything keeps running in the background.
pub fn up(dir: &Path, bins: &Binaries, opts: &UpOptions) -> Result<Value, TestnetError> {
    if opts.nodes == 0 || opts.nodes > TESTNET_MAX_NODES {
        return Err(TestnetError::Usage(format!("--nodes must be 1 to {TESTNET_MAX_NODES}")));
    }
    if opts.reach_period_ms != 0 && opts.reach_period_ms < crate::formats::limits::REACH_MIN_PERIOD_MS {
        return Err(TestnetError::Usage(format!(
            "--reach-period must be 0 (off) or at least {} ms",
            crate::formats::limits::REACH_MIN_PERIOD_MS
        )));
    }
    if opts.hosts {
        // Before anything is written: without root nothing of a host testnet can be made.
        hosts::require_root("testnet up --hosts")?;
    }
    if let Ok(old) = TestnetState::load(&state_path(dir)) {
        if old.anything_running() {
            return Err(TestnetError::Usage(format!(
                "a testnet is already running in {} (run 'testnet down --dir {}' first)",
                dir.display(),
                dir.display()
            )));
        }
        // An old, stopped testnet: start afresh.
        for sub in ["nodes", "logs"] {
            let _ = std::fs::remove_dir_all(dir.join(sub));
        }
        for f in [
            "registry.json",
            "registry.addr",
            "nodes.json",
            "testnet.json",
            FILESERVER_INFO_FILE,
            SOGS_INFO_FILE,
        ] {
            let _ = std::fs::remove_file(dir.join(f));
        }
    }
    for sub in ["", "nodes", "logs"] {
        crate::net::fs::create_private_dir(&dir.join(sub))
            .map_err(|e| TestnetError::io(dir.join(sub).display(), e))?;
    }
    let dir = std::fs::canonicalize(dir).map_err(|e| TestnetError::io(dir.display(), e))?;
    let registry = reg::new(opts.pow_difficulty, opts.reach_period_ms);
    reg::save(&registry, &registry_path(&dir))?;
    let net = if opts.hosts { Some(hosts::create(&dir, opts.clients)?) } else { None };
    if let Some(net) = &net {
        // Recorded at once, so that a failed start below can remove it.
        let mut state = TestnetState::empty(&dir, opts);
        state.hosts = Some(net.clone());
        state.save(&state_path(&dir))?;
    }

    let started = start_rest(&dir, bins, opts, net);
    if started.is_err() {
        // Leave nothing running behind a failed start.
        let _ = down(&dir);
    }
    started
}

fn start_rest(
    dir: &Path,
    bins: &Binaries,
    opts: &UpOptions,
    net: Option<hosts::HostNet>,
) -> Result<Value, TestnetError> {
    let dir = dir.to_path_buf();
    let mut state = TestnetState::empty(&dir, opts);
    state.hosts = net;
    set_control(&state);
    let (registry_pid, registry_url) = start_registry_server(&dir, bins, &state)?;
    state.registry_pid = Some(registry_pid);
    state.registry_url = registry_url;
    state.save(&state_path(&dir))?;
    let added = spawn_new_nodes(&dir, bins, &mut state, opts.nodes);
    state.save(&state_path(&dir))?;
    added?;
    let mut side = Vec::new();
    for (wanted, server) in [(opts.fileserver, SideServer::FileServer), (opts.sogs, SideServer::Sogs)] {
        if wanted {
            let (pid, info) = start_side_server(&dir, bins, server, &state)?;
            server.set_pid(&mut state, Some(pid));
            state.save(&state_path(&dir))?;
            side.push((server, info));
        }
    }
    wait_ready(&dir, &state)?;
    write_nodes_json(&dir, state.tls)?;
    let mut out = summary(&dir, &state);
    for (server, info) in side {
        out[server.name()] = info;
    }
    Ok(out)
}

impl TestnetState {
    /// A testnet of `opts` in `dir` with nothing started yet.
    fn empty(dir: &Path, opts: &UpOptions) -> Self {
        TestnetState {
            dir: dir.display().to_string(),
            registry_url: String::new(),
            registry_pid: None,
            pow_difficulty: opts.pow_difficulty,
            log_level: opts.log_level.clone(),
            tls: opts.tls,
            nodes: Vec::new(),
            fileserver_pid: None,
            sogs_pid: None,
            hosts: None,
        }
    }

    /// The address the registry and the side servers listen on.
    fn registry_ip(&self) -> &str {
        self.hosts.as_ref().map_or(LOOPBACK, |h| h.registry.addr.as_str())
    }

    /// The namespace the registry and the side servers run in (none on loopback).
    fn registry_netns(&self) -> Option<&str> {
        self.hosts.as_ref().map(|h| h.registry.netns.as_str())
    }

    /// The namespace node `i` runs in (none on loopback).
    fn node_netns(&self, i: usize) -> Option<&str> {
        self.hosts.as_ref().and_then(|h| h.nodes.get(i)).map(|h| h.netns.as_str())
    }
}

/// The namespace the `testnet` command's own HTTP polls are made from (a host testnet's
/// registry host); set before the first poll.
static CONTROL_NETNS: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

fn set_control(state: &TestnetState) {
    let _ = CONTROL_NETNS.set(state.registry_netns().map(str::to_string));
}

/// Starts `cmd` detached, inside `netns` when there is one.
fn spawn_in(netns: Option<&str>, cmd: std::process::Command, log: &Path) -> Result<u32, TestnetError> {
    match netns {
        Some(ns) => hosts::in_netns(ns, || procs::spawn_detached(cmd, log))?,
        None => procs::spawn_detached(cmd, log),
    }
}

/// Adds `count` nodes to a running testnet.
pub fn add(dir: &Path, bins: &Binaries, count: usize) -> Result<Value, TestnetError> {
    if count == 0 || count > TESTNET_MAX_NODES {
        return Err(TestnetError::Usage(format!("--count must be 1 to {TESTNET_MAX_NODES}")));
    }
    let mut state = load_running(dir)?;
    let dir = PathBuf::from(&state.dir);
    let added = spawn_new_nodes(&dir, bins, &mut state, count);
    state.save(&state_path(&dir))?;
    let added = added?;
    wait_ready(&dir, &state)?;
    write_nodes_json(&dir, state.tls)?;
    let mut out = summary(&dir, &state);
    out["added"] = json!(added);
    Ok(out)
}

/// Deregisters a node, lets it hand its records on, then stops it with SIGTERM.
pub fn stop(dir: &Path, node: &str) -> Result<Value, TestnetError> {
    let mut state = load_running(dir)?;
    let dir = PathBuf::from(&state.dir);
    let i = state.resolve(node)?;
    let entry = state.nodes[i].clone();
    if entry.state == NodeState::Stopped {
        return Err(TestnetError::Usage(format!("node {i} is already stopped")));
    }
    let ed = entry.ed25519()?;
    reg::update(&dir, |r| reg::remove(r, &ed))?;
    if entry.state == NodeState::Running && procs::is_alive(entry.pid, &entry.data_dir) {
        // Give the node the time to see it left and hand its records on.
        let deadline = Instant::now() + Duration::from_millis(TESTNET_STOP_TIMEOUT_MS);
        while Instant::now() < deadline {
            match health(&entry.url) {
                Some(h)
                    if h.swarm_id.is_none()
                        && h.pending_handoff == 0
                        && !h.view_digest.is_empty()
                        && h.handoff_view_digest == h.view_digest =>
                {
                    break;
                }
                None => break,
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        procs::terminate(entry.pid, &entry.data_dir, Duration::from_millis(TESTNET_STOP_TIMEOUT_MS));
    }
    state.nodes[i].state = NodeState::Stopped;
    state.save(&state_path(&dir))?;
    wait_ready(&dir, &state)?;
    write_nodes_json(&dir, state.tls)?;
    Ok(json!({"node": i, "pubkey_ed25519": entry.pubkey_ed25519, "state": "stopped"}))
}

/// Kills a node with SIGKILL; it stays registered (a crash, for fault tests).
pub fn kill(dir: &Path, node: &str) -> Result<Value, TestnetError> {
    let mut state = load_running(dir)?;
    let dir = PathBuf::from(&state.dir);
    let i = state.resolve(node)?;
    let entry = state.nodes[i].clone();
    if entry.state != NodeState::Running {
        return Err(TestnetError::Usage(format!("node {i} is not running")));
    }
    procs::kill_now(entry.pid, &entry.data_dir);
    state.nodes[i].state = NodeState::Killed;
    state.save(&state_path(&dir))?;
    Ok(json!({"node": i, "pubkey_ed25519": entry.pubkey_ed25519, "state": "killed"}))
}

/// Restarts a stopped or killed node with its data (a stopped node registers again).
pub fn start(dir: &Path, bins: &Binaries, node: &str) -> Result<Value, TestnetError> {
    let mut state = load_running(dir)?;
    let dir = PathBuf::from(&state.dir);
    let i = state.resolve(node)?;
    let entry = state.nodes[i].clone();
    if entry.state == NodeState::Running && procs::is_alive(entry.pid, &entry.data_dir) {
        return Err(TestnetError::Usage(format!("node {i} is already running")));
    }
    let data_dir = PathBuf::from(&entry.data_dir);
    let _ = std::fs::remove_file(data_dir.join(crate::snode::config::LISTEN_FILE));
    let pid = spawn_node(&dir, bins, &state, i, &entry.ip, &data_dir, entry.port)?;
    state.nodes[i].pid = pid;
    let port = wait_listen(&data_dir, pid)?;
    if port != entry.port {
        return Err(TestnetError::Failed(format!("node {i} came back on port {port}, not {}", entry.port)));
    }
    // A stopped node left the registry; a killed one may have been deregistered by its testers
    // meanwhile (formats/reachability.rs): either way it registers again.
    let (ed, x) = (entry.ed25519()?, entry.x25519()?);
    reg::update(
        &dir,
        |r| if r.is_active(&ed) { Ok(()) } else { reg::add(r, &ed, &x, &entry.ip, entry.port) },
    )?;
    state.nodes[i].state = NodeState::Running;
    state.save(&state_path(&dir))?;
    wait_ready(&dir, &state)?;
    write_nodes_json(&dir, state.tls)?;
    Ok(json!({"node": i, "pubkey_ed25519": entry.pubkey_ed25519, "state": "running", "pid": pid}))
}

/// Stops everything the testnet started (SIGTERM, then SIGKILL after a grace period).
pub fn down(dir: &Path) -> Result<Value, TestnetError> {
    let mut state = TestnetState::load(&state_path(dir))?;
    let grace = Duration::from_millis(TESTNET_STOP_TIMEOUT_MS);
    let mut targets: Vec<(u32, String)> = state
        .nodes
        .iter()
        .filter(|n| n.state == NodeState::Running)
        .map(|n| (n.pid, n.data_dir.clone()))
        .collect();
    if let Some(pid) = state.registry_pid {
        targets.push((pid, state.dir.clone()));
    }
    for server in SideServer::ALL {
        if let Some(pid) = server.pid(&state) {
            targets.push((pid, server.data_dir(Path::new(&state.dir)).display().to_string()));
        }
    }
    for (pid, marker) in &targets {
        procs::signal_term(*pid, marker);
    }
    let deadline = Instant::now() + grace;
    for (pid, marker) in &targets {
        while procs::is_alive(*pid, marker) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if procs::is_alive(*pid, marker) {
            procs::kill_now(*pid, marker);
        }
    }
    let stopped = targets.len();
    state.registry_pid = None;
    for server in SideServer::ALL {
        server.set_pid(&mut state, None);
    }
    for n in &mut state.nodes {
        n.state = NodeState::Down;
    }
    // The namespaces go once nothing runs in them any more.
    let removed = state.hosts.take().map(|net| hosts::destroy(net.slot));
    state.save(&state_path(dir))?;
    let mut out = json!({"dir": state.dir, "stopped_processes": stopped});
    if let Some(removed) = removed {
        out["removed_links"] = json!(removed);
    }
    Ok(out)
}

fn host_net(state: &TestnetState, what: &str) -> Result<hosts::HostNet, TestnetError> {
    let net = state.hosts.clone().ok_or_else(|| {
        TestnetError::Usage(format!("{what} needs a testnet of hosts (start it with 'testnet up --hosts')"))
    })?;
    hosts::require_root(what)?;
    Ok(net)
}

/// Runs `cmd` inside the namespace of host `name` (a client `c1`…, `registry`, a node's index
/// or `n<i>`), with `SNKIT_NODES` set to the testnet's `nodes.json` unless already set and the
/// directory of this executable first on `PATH` (the toolkit's other commands), and returns its
/// exit code (128 + the signal when a signal ended it).
pub fn exec(dir: &Path, name: &str, cmd: &[String]) -> Result<i32, TestnetError> {
    let state = TestnetState::load(&state_path(dir))?;
    let net = host_net(&state, "testnet exec")?;
    let host = net.find(name).ok_or_else(|| {
        let names: Vec<&str> = net.all().map(|h| h.name.as_str()).collect();
        TestnetError::Usage(format!("no host '{name}' in this testnet (hosts: {})", names.join(", ")))
    })?;
    let Some((program, args)) = cmd.split_first() else {
        return Err(TestnetError::Usage("exec needs a command after '--'".into()));
    };
    let mut command = std::process::Command::new(program);
    command.args(args);
    if std::env::var_os("SNKIT_NODES").is_none() {
        command.env("SNKIT_NODES", nodes_json_path(Path::new(&state.dir)));
    }
    // The toolkit's commands beside this one come first on PATH, so `exec c1 -- send …` runs the
    // same build's `send` whether or not the toolkit is installed.
    if let Some(tools) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        let rest = std::env::var_os("PATH").unwrap_or_default();
        let path = std::env::join_paths(std::iter::once(tools).chain(std::env::split_paths(&rest)));
        if let Ok(path) = path {
            command.env("PATH", path);
        }
    }
    let mut child = hosts::in_netns(&host.netns, || command.spawn())?
        .map_err(|e| TestnetError::Failed(format!("cannot run {program}: {e}")))?;
    let status = child.wait().map_err(|e| TestnetError::io(format!("waiting for {program}"), e))?;
    use std::os::unix::process::ExitStatusExt;
    Ok(status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// Cuts hosts off from every other host of the testnet (until [`heal`]).
pub fn partition(dir: &Path, names: &[String]) -> Result<Value, TestnetError> {
    let mut state = TestnetState::load(&state_path(dir))?;
    let mut net = host_net(&state, "testnet partition")?;
    let done = net.partition(names);
    let cut = net.cut.clone();
    state.hosts = Some(net);
    state.save(&state_path(dir))?;
    done?;
    let addrs: Vec<&str> = state
        .hosts
        .iter()
        .flat_map(|n| n.all())
        .filter(|h| cut.contains(&h.name))
        .map(|h| h.addr.as_str())
        .collect();
    Ok(json!({"cut": cut, "addresses": addrs}))
}

/// Removes every cut `partition` made.
pub fn heal(dir: &Path) -> Result<Value, TestnetError> {
    let mut state = TestnetState::load(&state_path(dir))?;
    let mut net = host_net(&state, "testnet heal")?;
    let healed = net.cut.clone();
    net.heal()?;
    state.hosts = Some(net);
    state.save(&state_path(dir))?;
    Ok(json!({"healed": healed}))
}

/// What runs: registry, swarms, each node's health and message count.
pub fn status(dir: &Path) -> Result<Value, TestnetError> {
    let state = TestnetState::load(&state_path(dir))?;
    set_control(&state);
    let registry = reg::load(&registry_path(dir)).ok();
    let reach = reach_status(&state.registry_url);
    let mut nodes = Vec::new();
    let mut swarms: std::collections::BTreeMap<String, Vec<usize>> = std::collections::BTreeMap::new();
    for n in &state.nodes {
        let alive = n.state == NodeState::Running && procs::is_alive(n.pid, &n.data_dir);
        let h = if alive { health(&n.url) } else { None };
        if let Some(sw) = h.as_ref().and_then(|h| h.swarm_id.clone()) {
            swarms.entry(sw).or_default().push(n.index);
        }
        nodes.push(json!({
            "index": n.index,
            "pubkey_ed25519": n.pubkey_ed25519,
            "url": n.url,
            "ip": n.ip,
            "pid": n.pid,
            "state": if n.state == NodeState::Running && !alive { "dead" } else { n.state.as_str() },
            "healthy": h.is_some(),
            "swarm_id": h.as_ref().and_then(|h| h.swarm_id.clone()),
            "messages": h.as_ref().map(|h| h.messages),
            "pending_handoff": h.as_ref().map(|h| h.pending_handoff),
            "standing": standing(registry.as_ref(), &n.pubkey_ed25519),
            "tests": reach.get(&n.pubkey_ed25519).map(|r| r["tests"].clone()).unwrap_or(json!([])),
        }));
    }
    let registry_alive = state.registry_pid.is_some_and(|p| procs::is_alive(p, &state.dir));
    Ok(json!({
        "dir": state.dir,
        "registry_url": state.registry_url,
        "registry_running": registry_alive,
        "pow_difficulty": state.pow_difficulty,
        "hosts": state.hosts,
        "swarms": swarms.into_iter().map(|(id, members)| json!({"swarm_id": id, "nodes": members})).collect::<Vec<_>>(),
        "nodes": nodes,
    }))
}

/// Where the registry has a node: `active` (in a swarm), `decommissioned` (registered, in none),
/// or `unregistered`.
fn standing(registry: Option<&crate::formats::registry::Registry>, ed_hex: &str) -> &'static str {
    let Some(r) = registry else { return "unknown" };
    match crate::formats::keys::decode_hex32(ed_hex) {
        Ok(k) if r.is_decommissioned(&k) => "decommissioned",
        Ok(k) if r.is_active(&k) => "active",
        _ => "unregistered",
    }
}

/// The last decided test verdict of a `status` node entry, as the table shows it: `up 3/3`.
fn last_test(node: &Value) -> String {
    let tests = node["tests"].as_array().cloned().unwrap_or_default();
    let closed = tests.iter().rev().find(|t| t["verdict"] != "undecided").or(tests.last());
    closed.map_or_else(
        || "-".to_string(),
        |t| {
            let (up, down) = (t["reachable"].as_u64().unwrap_or(0), t["unreachable"].as_u64().unwrap_or(0));
            format!("{} {up}/{}", t["verdict"].as_str().unwrap_or("?"), up + down)
        },
    )
}

/// A human table of `status` output.
pub fn status_table(status: &Value) -> String {
    let mut out = format!(
        "registry {} ({})  pow difficulty {}\n",
        status["registry_url"].as_str().unwrap_or("?"),
        if status["registry_running"].as_bool().unwrap_or(false) { "running" } else { "down" },
        status["pow_difficulty"]
    );
    out.push_str(&format!(
        "{:>5}  {:<16}  {:<22}  {:<8}  {:<14}  {:<16}  {:>8}  {:<10}\n",
        "node", "ed25519", "url", "state", "standing", "swarm", "messages", "tests"
    ));
    for n in status["nodes"].as_array().into_iter().flatten() {
        let ed = n["pubkey_ed25519"].as_str().unwrap_or("");
        out.push_str(&format!(
            "{:>5}  {:<16}  {:<22}  {:<8}  {:<14}  {:<16}  {:>8}  {:<10}\n",
            // A JSON value ignores the width: format the number itself so the column lines up.
            n["index"].as_u64().map(|i| i.to_string()).unwrap_or_default(),
            &ed[..ed.len().min(16)],
            n["url"].as_str().unwrap_or(""),
            n["state"].as_str().unwrap_or(""),
            n["standing"].as_str().unwrap_or(""),
            n["swarm_id"].as_str().unwrap_or("-"),
            n["messages"].as_u64().map(|m| m.to_string()).unwrap_or_else(|| "-".into()),
            last_test(n),
        ));
    }
    out
}

fn load_running(dir: &Path) -> Result<TestnetState, TestnetError> {
    let state = TestnetState::load(&state_path(dir))?;
    set_control(&state);
    if !state.registry_pid.is_some_and(|p| procs::is_alive(p, &state.dir)) {
        return Err(TestnetError::Failed(format!(
            "the testnet in {} is not running (start one with 'testnet up --dir {}')",
            dir.display(),
            dir.display()
        )));
    }
    Ok(state)
}

fn summary(dir: &Path, state: &TestnetState) -> Value {
    let running = state.nodes.iter().filter(|n| n.state == NodeState::Running).count();
    let swarms = reg::load(&registry_path(dir))
        .map(|r| crate::snode::view::SwarmView::from_registry(&r, &[0; 32]).swarm_ids.len())
        .unwrap_or(0);
    json!({
        "dir": state.dir,
        "registry_url": state.registry_url,
        "nodes_json": nodes_json_path(dir).display().to_string(),
        "nodes": running,
        "swarms": swarms,
        "pow_difficulty": state.pow_difficulty,
    })
}

/// Starts `<server> serve` on a free loopback port, waits for the JSON line it prints once
/// listening (in its log), and writes that line to its info file.
fn start_side_server(
    dir: &Path,
    bins: &Binaries,
    server: SideServer,
    state: &TestnetState,
) -> Result<(u32, Value), TestnetError> {
    let name = server.name();
    let bin = server
        .bin(bins)
        .ok_or_else(|| TestnetError::Usage(format!("--{name}: the {name} executable was not found")))?;
    let data = server.data_dir(dir);
    crate::net::fs::create_private_dir(&data).map_err(|e| TestnetError::io(data.display(), e))?;
    let log = dir.join("logs").join(format!("{name}.log"));
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("serve").arg("--dir").arg(&data).arg("--listen").arg(format!("{}:0", state.registry_ip()));
    let pid = spawn_in(state.registry_netns(), cmd, &log)?;
    let info_file = server.info_file();
    let deadline = Instant::now() + Duration::from_millis(TESTNET_READY_TIMEOUT_MS);
    loop {
        let ready = std::fs::read_to_string(&log).ok().and_then(|text| {
            text.lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| v.get("url").is_some() && v.get("pubkey").is_some())
        });
        if let Some(info) = ready {
            let text = serde_json::to_string_pretty(&info).map_err(|e| TestnetError::io(&info_file, e))?;
            crate::net::fs::write_atomic(&dir.join(&info_file), text.as_bytes())
                .map_err(|e| TestnetError::io(&info_file, e))?;
            return Ok((pid, info));
        }
        if !procs::is_alive(pid, "") || Instant::now() > deadline {
            procs::kill_now(pid, "");
            return Err(TestnetError::Failed(format!(
                "the {name} server did not start (see {})",
                log.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start_registry_server(
    dir: &Path,
    bins: &Binaries,
    state: &TestnetState,
) -> Result<(u32, String), TestnetError> {
    let addr_file = dir.join(serve::ADDR_FILE);
    let _ = std::fs::remove_file(&addr_file);
    let log = dir.join("logs").join("registry.log");
    let mut cmd = std::process::Command::new(&bins.testnet);
    cmd.arg("registry-serve").arg("--dir").arg(dir).arg("--listen").arg(format!("{}:0", state.registry_ip()));
    let pid = spawn_in(state.registry_netns(), cmd, &log)?;
    match wait_file(&addr_file, pid, dir) {
        Ok(addr) => Ok((pid, format!("http://{addr}/registry.json"))),
        Err(e) => {
            procs::kill_now(pid, "");
            Err(e)
        }
    }
}

/// Creates keys and data dirs for `count` new nodes, starts them, waits until they listen, and
/// registers them (in index order, one registry write). Returns the new indices.
fn spawn_new_nodes(
    dir: &Path,
    bins: &Binaries,
    state: &mut TestnetState,
    count: usize,
) -> Result<Vec<usize>, TestnetError> {
    let first = state.nodes.len();
    if let Some(net) = state.hosts.as_mut() {
        net.add_nodes(first, count)?;
    }
    for i in first..first + count {
        let ip = state
            .hosts
            .as_ref()
            .and_then(|h| h.nodes.get(i))
            .map_or(LOOPBACK.to_string(), |h| h.addr.clone());
        let data_dir = dir.join("nodes").join(i.to_string());
        crate::net::fs::create_private_dir(&data_dir).map_err(|e| TestnetError::io(data_dir.display(), e))?;
        let keys = NodeKeys::load_or_create(&data_dir.join(KEY_FILE))
            .map_err(|e| TestnetError::Failed(e.to_string()))?;
        let pid = spawn_node(dir, bins, state, i, &ip, &data_dir, 0)?;
        state.nodes.push(NodeEntry {
            index: i,
            pubkey_ed25519: hex::encode(keys.ed25519_public()),
            pubkey_x25519: hex::encode(keys.x25519_public()),
            port: 0,
            ip,
            url: String::new(),
            pid,
            data_dir: data_dir.display().to_string(),
            state: NodeState::Running,
        });
    }
    for i in first..first + count {
        let port = wait_listen(Path::new(&state.nodes[i].data_dir), state.nodes[i].pid)?;
        state.nodes[i].port = port;
        let scheme = if state.tls { "https" } else { "http" };
        state.nodes[i].url = format!("{scheme}://{}:{port}", state.nodes[i].ip);
    }
    reg::update(dir, |r| {
        for n in &state.nodes[first..] {
            reg::add(r, &n.ed25519()?, &n.x25519()?, &n.ip, n.port)?;
        }
        Ok(())
    })?;
    Ok((first..first + count).collect())
}

fn spawn_node(
    dir: &Path,
    bins: &Binaries,
    state: &TestnetState,
    i: usize,
    ip: &str,
    data_dir: &Path,
    port: u16,
) -> Result<u32, TestnetError> {
    let mut cmd = std::process::Command::new(&bins.snode);
    cmd.arg("--data")
        .arg(data_dir)
        .arg("--listen")
        .arg(format!("{ip}:{port}"))
        .arg("--registry")
        .arg(&state.registry_url)
        .arg("--log")
        .arg(&state.log_level);
    if state.tls {
        cmd.arg("--tls");
    }
    if state.hosts.is_some() {
        // Each host's peers are distinct addresses: worth recording (docs/faults.md).
        cmd.arg("--peer-log");
    }
    spawn_in(state.node_netns(i), cmd, &dir.join("logs").join(format!("node-{i}.log")))
}

fn wait_listen(data_dir: &Path, pid: u32) -> Result<u16, TestnetError> {
    let addr = wait_file(&data_dir.join(crate::snode::config::LISTEN_FILE), pid, data_dir)?;
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| TestnetError::Failed(format!("{}: bad listen address {addr}", data_dir.display())))
}

/// Waits for a process to write its address file; fails early if the process died.
fn wait_file(path: &Path, pid: u32, marker: &Path) -> Result<String, TestnetError> {
    let deadline = Instant::now() + Duration::from_millis(TESTNET_READY_TIMEOUT_MS);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            let t = text.trim();
            if !t.is_empty() {
                return Ok(t.to_string());
            }
        }
        // Our own child, not yet reaped: its pid cannot be reused, so no command-line check
        // (which would race with exec filling in the new command line).
        if !procs::is_alive(pid, "") {
            return Err(TestnetError::Failed(format!(
                "process {pid} exited before writing {} (see the logs under {})",
                path.display(),
                marker.display()
            )));
        }
        if Instant::now() > deadline {
            return Err(TestnetError::Failed(format!("timed out waiting for {}", path.display())));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// GET `url` and parse its JSON (short timeout); None on any failure.
fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Option<T> {
    // One client for every poll of the process (a blocking client owns a thread).
    static CLIENT: std::sync::OnceLock<Transport> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        let make = || {
            Transport::with_limits(Duration::from_millis(TESTNET_HEALTH_TIMEOUT_MS), CLIENT_MAX_REPLY_BYTES)
        };
        // In a host testnet the client (and the thread it owns) lives in the registry's host.
        match CONTROL_NETNS.get().cloned().flatten() {
            Some(ns) => hosts::in_netns(&ns, make).unwrap_or_else(|_| make()),
            None => make(),
        }
    });
    let reply = client.get(url).ok()?;
    if reply.status != 200 {
        return None;
    }
    serde_json::from_slice(&reply.body).ok()
}

/// GET a node's health (short timeout).
pub fn health(url: &str) -> Option<Health> {
    get_json(&format!("{url}{PATH_HEALTH}"))
}

/// The registry server's reachability tallies by node key (hex): standing and recent tests.
fn reach_status(registry_url: &str) -> std::collections::BTreeMap<String, Value> {
    let base = registry_url.strip_suffix("/registry.json").unwrap_or(registry_url);
    let status: Option<Value> = get_json(&format!("{base}/reach/status"));
    status
        .and_then(|s| s["nodes"].as_array().cloned())
        .into_iter()
        .flatten()
        .filter_map(|n| Some((n["pubkey_ed25519"].as_str()?.to_string(), n)))
        .collect()
}

/// Waits until every running node is healthy and sees the registry as it is on disk.
fn wait_ready(dir: &Path, state: &TestnetState) -> Result<(), TestnetError> {
    let registry = reg::load(&registry_path(dir))?;
    let expected = crate::snode::view::SwarmView::from_registry(&registry, &[0; 32]).digest;
    let deadline = Instant::now() + Duration::from_millis(TESTNET_READY_TIMEOUT_MS);
    let running: Vec<&NodeEntry> = state.nodes.iter().filter(|n| n.state == NodeState::Running).collect();
    let mut waiting: Vec<&NodeEntry> = running.clone();
    while !waiting.is_empty() {
        waiting.retain(|n| !matches!(health(&n.url), Some(h) if h.view_digest == expected));
        if waiting.is_empty() {
            break;
        }
        for n in &waiting {
            if !procs::is_alive(n.pid, &n.data_dir) {
                return Err(TestnetError::Failed(format!(
                    "node {} exited (see {}/logs/node-{}.log)",
                    n.index,
                    dir.display(),
                    n.index
                )));
            }
        }
        if Instant::now() > deadline {
            return Err(TestnetError::Failed(format!(
                "{} node(s) did not become ready in time (first: node {})",
                waiting.len(),
                waiting[0].index
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Writes `nodes.json` from the registry (with `pow_difficulty` beside the node states, and
/// `"tls": true` for a testnet of HTTPS nodes).
pub(crate) fn write_nodes_json(dir: &Path, tls: bool) -> Result<(), TestnetError> {
    let registry = reg::load(&registry_path(dir))?;
    let mut list = reg::node_list_json(&registry);
    // Clients must know to speak HTTPS to a --tls testnet (an addition to the node-list format).
    if tls {
        list["tls"] = Value::Bool(true);
    }
    let text = serde_json::to_string_pretty(&list).map_err(|e| TestnetError::io("nodes.json", e))?;
    crate::net::fs::write_atomic(&nodes_json_path(dir), text.as_bytes())
        .map_err(|e| TestnetError::io("nodes.json", e))
}
