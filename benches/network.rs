//! Benchmarks: network — a load generator against a real testnet (release `snode` processes on
//! loopback, started by the release `testnet` binary): durable, replicated stores per second and
//! retrieves per second with 64 concurrent clients, p50/p99 latency, and each node's resident
//! memory (VmRSS from /proc).
//!
//! Every store is a full client store: validated, committed to SQLite (group commit, fsync)
//! on the entry node and replicated to every other member of its swarm before the reply; a
//! store counts as done only when the reply says every member stored it.
//! Two set-ups by default: 7 nodes (one full swarm: every store is written on 7 nodes) and
//! 1 node (no replication: the node's own ceiling). `SNKIT_BENCH_NODES` (a comma-separated list,
//! default `7,1`) and `SNKIT_BENCH_SECONDS` (default 5 per phase) change them.
//!
//! Lines: `name: value unit (target: ...)`.

use snkit::time::now_ms;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use snkit::keys::Pubkey;
use snkit::nodelist::NodeList;

const CLIENTS: usize = 64;
const PUBKEYS: usize = 2_000;
const NS: i16 = -10;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The testnet of the benchmark; `testnet down` when dropped.
struct Net {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ = Command::new(&self.bin).arg("down").arg("--dir").arg(self.dir.path()).output();
    }
}

pub fn run() {
    let list = std::env::var("SNKIT_BENCH_NODES").unwrap_or_else(|_| "7,1".into());
    for nodes in list.split(',').filter_map(|n| n.trim().parse::<usize>().ok()) {
        run_with(nodes);
    }
}

fn run_with(nodes: usize) {
    let seconds = env_usize("SNKIT_BENCH_SECONDS", 5) as u64;
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_testnet"));
    let Ok(dir) = tempfile::Builder::new().prefix("snkit-bench-").tempdir() else {
        println!("network: skipped (no temp dir)");
        return;
    };
    let net = Net { dir, bin };
    let up = Command::new(&net.bin)
        .args(["up", "--nodes", &nodes.to_string(), "--log", "warn", "--dir"])
        .arg(net.dir.path())
        .output();
    match up {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            println!("network: skipped (testnet up failed: {})", String::from_utf8_lossy(&o.stderr).trim());
            return;
        }
        Err(e) => {
            println!("network: skipped (cannot run testnet: {e})");
            return;
        }
    }
    let Ok(list) = NodeList::load(net.dir.path().join("nodes.json").to_str().unwrap_or_default()) else {
        println!("network: skipped (no nodes.json)");
        return;
    };
    let swarms = list.swarm_ids().len();
    // Pubkeys and, for each, the URLs of its swarm's members.
    let targets: Arc<Vec<(String, Vec<String>)>> = Arc::new(
        (0..PUBKEYS)
            .map(|_| {
                let pk = format!("05{}", hex::encode(rand::random::<[u8; 32]>()));
                let urls = list
                    .swarm_of(&Pubkey::parse(&pk).unwrap_or_else(|_| Pubkey::new(5, [0; 32])))
                    .map(|(_, m)| m.iter().map(|n| n.url()).collect())
                    .unwrap_or_default();
                (pk, urls)
            })
            .collect(),
    );
    println!(
        "network_setup_{nodes}_nodes: {nodes} nodes in {swarms} swarm(s), {CLIENTS} concurrent clients, {seconds} s per phase, \
         100-byte messages, release binaries, loopback"
    );

    let data = STANDARD.encode([0x5au8; 100]);
    let store = load(&targets, Duration::from_secs(seconds), move |agent, i, pk, url| {
        let now = now_ms();
        let body = json!({"method": "store", "params": {
            "pubkey": pk, "timestamp": now, "ttl": 3_600_000, "namespace": NS,
            "data": format!("{}{:016x}", &data[..data.len() - 16], i)}});
        post_store(agent, url, &body)
    });
    let tag = format!("{nodes}_nodes");
    report(&format!("store_{tag}"), &store, "stores/s", Some((10_000.0, 20.0)));

    let retrieve = load(&targets, Duration::from_secs(seconds), |agent, _i, pk, url| {
        let body = json!({"method": "retrieve", "params": {"pubkey": pk, "namespace": NS, "max_count": 10}});
        post(agent, url, &body)
    });
    report(&format!("retrieve_{tag}"), &retrieve, "retrieves/s", None);

    let mut rss = Vec::new();
    if let Ok(text) = std::fs::read_to_string(net.dir.path().join("testnet.json"))
        && let Ok(state) = serde_json::from_str::<Value>(&text)
    {
        for n in state["nodes"].as_array().into_iter().flatten() {
            if let Some((now, peak)) = n["pid"].as_u64().and_then(vm_rss_kib) {
                rss.push((now as f64 / 1024.0, peak as f64 / 1024.0));
            }
        }
    }
    if !rss.is_empty() {
        let mean = rss.iter().map(|r| r.0).sum::<f64>() / rss.len() as f64;
        let peak = rss.iter().map(|r| r.1).fold(0.0, f64::max);
        println!(
            "network_node_rss_{tag}: {mean:.1} MiB mean after the load, {peak:.1} MiB highest peak (VmHWM) over {} nodes",
            rss.len()
        );
    }
    drop(net);
}

type Agent = reqwest::blocking::Client;

/// POSTs a storage RPC; true on a 2xx answer.
fn send(agent: &Agent, url: &str, body: &Value) -> Option<reqwest::blocking::Response> {
    let resp = agent.post(format!("{url}/storage_rpc/v1")).body(body.to_string()).send().ok()?;
    resp.status().is_success().then_some(resp)
}

fn post(agent: &Agent, url: &str, body: &Value) -> bool {
    send(agent, url, body).is_some()
}

/// A store counts only when every member of the swarm stored it: the entry node answers 200 as
/// soon as one member did, so its per-member `swarm` entries are checked here.
fn post_store(agent: &Agent, url: &str, body: &Value) -> bool {
    let Some(resp) = send(agent, url, body) else {
        return false;
    };
    let Ok(reply) = resp.text().map(|t| serde_json::from_str::<Value>(&t)) else { return false };
    let Ok(reply) = reply else { return false };
    reply["swarm"].as_object().is_some_and(|m| !m.is_empty() && m.values().all(|v| v.get("failed").is_none()))
}

/// The outcome of one phase.
struct Phase {
    ok: usize,
    failed: usize,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

/// Runs `CLIENTS` threads, each sending requests back to back for `duration`.
fn load(
    targets: &Arc<Vec<(String, Vec<String>)>>,
    duration: Duration,
    op: impl Fn(&Agent, usize, &str, &str) -> bool + Send + Sync + Clone + 'static,
) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (targets, stop, op) = (targets.clone(), stop.clone(), op.clone());
            std::thread::spawn(move || {
                // reqwest is built without a crypto provider: the toolkit's TLS config is its.
                let Some(agent) = snkit::tls::client_config().ok().and_then(|tls| {
                    Agent::builder().timeout(Duration::from_secs(30)).use_preconfigured_tls(tls).build().ok()
                }) else {
                    return (0, 1, Vec::new());
                };
                let (mut ok, mut failed, mut lat) = (0usize, 0usize, Vec::new());
                let mut i = c * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    let (pk, urls) = &targets[i % targets.len()];
                    if urls.is_empty() {
                        failed += 1;
                        break;
                    }
                    let url = &urls[(i / targets.len()) % urls.len()];
                    let t = Instant::now();
                    if op(&agent, i, pk, url) {
                        ok += 1;
                        lat.push(t.elapsed().as_micros() as u64);
                    } else {
                        failed += 1;
                    }
                    i += 1;
                }
                (ok, failed, lat)
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut phase = Phase { ok: 0, failed: 0, elapsed: Duration::ZERO, latencies_us: Vec::new() };
    for h in handles {
        if let Ok((ok, failed, lat)) = h.join() {
            phase.ok += ok;
            phase.failed += failed;
            phase.latencies_us.extend(lat);
        }
    }
    phase.elapsed = start.elapsed();
    phase.latencies_us.sort_unstable();
    phase
}

fn percentile_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted_us.len() as f64 - 1.0) * p).round() as usize;
    sorted_us[idx] as f64 / 1000.0
}

fn report(name: &str, phase: &Phase, unit: &str, target: Option<(f64, f64)>) {
    let rate = phase.ok as f64 / phase.elapsed.as_secs_f64();
    let (p50, p99) = (percentile_ms(&phase.latencies_us, 0.50), percentile_ms(&phase.latencies_us, 0.99));
    match target {
        Some((rate_target, p99_target)) => {
            println!(
                "network_{name}_rate: {rate:.0} {unit} ({} ok, {} failed) (target: >= {rate_target:.0})",
                phase.ok, phase.failed
            );
            println!("network_{name}_p50: {p50:.2} ms");
            println!("network_{name}_p99: {p99:.2} ms (target: < {p99_target:.0})");
        }
        None => {
            println!("network_{name}_rate: {rate:.0} {unit} ({} ok, {} failed)", phase.ok, phase.failed);
            println!("network_{name}_p50: {p50:.2} ms");
            println!("network_{name}_p99: {p99:.2} ms");
        }
    }
}

/// VmRSS and VmHWM (peak resident memory) of a process, in KiB.
fn vm_rss_kib(pid: u64) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
