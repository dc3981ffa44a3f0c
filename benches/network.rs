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
//! Before the testnets, the primitives a replicated store is built of are measured in the same
//! run, in this thread's CPU time (the machine is shared): an Ed25519 signature and verification,
//! an X25519 agreement, and a 100-byte insert into the store with 64 concurrent writers (group
//! commit). After each store phase a sample of the acknowledged stores is looked up on every
//! member of their swarm; at the end the swarm's member-stores per second (rate × members) is set
//! against the single node's store rate of the same run.
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

/// Acknowledged stores looked up on every member of their swarm after each store phase.
const CHECKED_STORES: usize = 300;
/// Concurrent writers, and inserts each, of the store primitive.
const STORE_WRITERS: usize = 64;
const STORE_INSERTS_EACH: usize = 100;
/// Iterations of each crypto primitive (CPU-timed).
const CRYPTO_ROUNDS: u32 = 2_000;

pub fn run() {
    primitives();
    let list = std::env::var("SNKIT_BENCH_NODES").unwrap_or_else(|_| "7,1".into());
    let mut rates = Vec::new();
    for nodes in list.split(',').filter_map(|n| n.trim().parse::<usize>().ok()) {
        if let Some(rate) = run_with(nodes) {
            rates.push((nodes, rate));
        }
    }
    let single = rates.iter().find(|(n, _)| *n == 1).map(|r| r.1);
    for &(nodes, rate) in rates.iter().filter(|(n, _)| *n > 1) {
        if let Some(single) = single.filter(|s| *s > 0.0) {
            let member_stores = rate * nodes as f64;
            println!(
                "network_member_stores_{nodes}_nodes: {member_stores:.0} member-stores/s = {:.2} × the single node's \
                 {single:.0} stores/s in this run (target: >= 2)",
                member_stores / single
            );
        }
    }
}

/// CPU time this thread has run (`/proc/thread-self/schedstat`, ns), or wall time where missing.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

/// µs of this thread's CPU per call of `f`, over `rounds` calls.
fn cpu_us_per_call(rounds: u32, mut f: impl FnMut()) -> f64 {
    let (c0, t0) = (thread_cpu(), Instant::now());
    for _ in 0..rounds {
        f();
    }
    let spent = match (c0, thread_cpu()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => t0.elapsed(),
    };
    spent.as_secs_f64() * 1e6 / f64::from(rounds)
}

/// This process's CPU time (all threads), in seconds.
fn process_cpu_seconds() -> f64 {
    pid_cpu_seconds(u64::from(std::process::id())).unwrap_or(0.0)
}

/// The primitives of a replicated store, measured in this run.
fn primitives() {
    use ed25519_dalek::{Signer, SigningKey};
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let hash = "a43-character-base64-message-hash-xxxxxxxxx";
    let sig = key.sign(hash.as_bytes());
    let vk = key.verifying_key();
    let sign = cpu_us_per_call(CRYPTO_ROUNDS, || {
        std::hint::black_box(key.sign(std::hint::black_box(hash.as_bytes())));
    });
    let verify = cpu_us_per_call(CRYPTO_ROUNDS, || {
        let _ = std::hint::black_box(vk.verify_strict(std::hint::black_box(hash.as_bytes()), &sig));
    });
    let secret = x25519_dalek::StaticSecret::from(rand::random::<[u8; 32]>());
    let public = x25519_dalek::PublicKey::from(rand::random::<[u8; 32]>());
    let x25519 = cpu_us_per_call(CRYPTO_ROUNDS, || {
        std::hint::black_box(secret.diffie_hellman(std::hint::black_box(&public)));
    });
    println!("network_primitive_ed25519_sign: {sign:.1} µs CPU (the hash, as each member signs it)");
    println!("network_primitive_ed25519_verify: {verify:.1} µs CPU (verify_strict)");
    println!("network_primitive_x25519: {x25519:.1} µs CPU (one agreement)");

    let Ok(dir) = tempfile::Builder::new().prefix("snkit-bench-store-").tempdir() else { return };
    let Ok(store) = snkit::snode::store::Store::open(dir.path().join("messages.sqlite")) else {
        println!("network_primitive_store_insert: skipped (cannot open a store)");
        return;
    };
    let (cpu0, t0) = (process_cpu_seconds(), Instant::now());
    let writers: Vec<_> = (0..STORE_WRITERS)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || {
                let pubkey = Pubkey::new(5, rand::random());
                let now = now_ms();
                (0..STORE_INSERTS_EACH)
                    .filter(|i| {
                        let data = format!("{w:04}{i:06}{}", "x".repeat(90)).into_bytes();
                        let hash = snkit::rpc::message_hash(&pubkey, NS, &data);
                        let msg = snkit::snode::store::StoredMessage {
                            pubkey,
                            namespace: NS,
                            hash,
                            timestamp_ms: now,
                            expiry_ms: now + 3_600_000,
                            data,
                        };
                        store.insert(msg).is_ok()
                    })
                    .count()
            })
        })
        .collect();
    let inserted: usize = writers.into_iter().filter_map(|w| w.join().ok()).sum();
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), process_cpu_seconds() - cpu0);
    let stats = store.stats();
    println!(
        "network_primitive_store_insert: {:.0} inserts/s, {:.1} µs CPU per insert ({STORE_WRITERS} writers, \
                 {:.1} inserts per group commit, fsync each commit)",
        inserted as f64 / wall,
        cpu * 1e6 / inserted.max(1) as f64,
        stats.jobs as f64 / stats.commits.max(1) as f64
    );
}

/// Runs one set-up; returns its store rate.
fn run_with(nodes: usize) -> Option<f64> {
    let seconds = env_usize("SNKIT_BENCH_SECONDS", 5) as u64;
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_testnet"));
    let Ok(dir) = tempfile::Builder::new().prefix("snkit-bench-").tempdir() else {
        println!("network: skipped (no temp dir)");
        return None;
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
            return None;
        }
        Err(e) => {
            println!("network: skipped (cannot run testnet: {e})");
            return None;
        }
    }
    let Ok(list) = NodeList::load(net.dir.path().join("nodes.json").to_str().unwrap_or_default()) else {
        println!("network: skipped (no nodes.json)");
        return None;
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

    let pids = node_pids(net.dir.path());
    let cpu_before: f64 = pids.iter().filter_map(|&p| pid_cpu_seconds(p)).sum();
    let data = STANDARD.encode([0x5au8; 100]);
    let store = load(&targets, Duration::from_secs(seconds), move |agent, i, pk, url| {
        let now = now_ms();
        let body = json!({"method": "store", "params": {
            "pubkey": pk, "timestamp": now, "ttl": 3_600_000, "namespace": NS,
            "data": format!("{}{:016x}", &data[..data.len() - 16], i)}});
        post_store(agent, url, &body)
    });
    let tag = format!("{nodes}_nodes");
    // The targets: 7 members sharing 2 cores, >= 4,000 replicated stores/s; one node
    // >= 10,000.
    let target = if nodes > 1 { (4_000.0, 20.0) } else { (10_000.0, 20.0) };
    let store_rate = report(&format!("store_{tag}"), &store, "stores/s", Some(target));
    let cpu_after: f64 = pids.iter().filter_map(|&p| pid_cpu_seconds(p)).sum();
    if store.ok > 0 && !pids.is_empty() {
        let per_store = (cpu_after - cpu_before) * 1e6 / store.ok as f64;
        println!(
            "network_store_{tag}_node_cpu: {per_store:.0} µs of node CPU per acknowledged store, all {} node(s) \
             together ({:.0} µs per member)",
            pids.len(),
            per_store / pids.len() as f64
        );
    }
    check_on_every_member(&tag, &targets, &store.acked);
    if nodes > 1 {
        kill_and_restart(&net, &tag, &targets, &STANDARD.encode([0x5au8; 100]));
    }

    let (node_cpu0, bench_cpu0): (f64, f64) =
        (pids.iter().filter_map(|&p| pid_cpu_seconds(p)).sum(), process_cpu_seconds());
    let retrieve = load(&targets, Duration::from_secs(seconds), |agent, _i, pk, url| {
        let body = json!({"method": "retrieve", "params": {"pubkey": pk, "namespace": NS, "max_count": 10}});
        post(agent, url, &body).then_some(String::new())
    });
    report(&format!("retrieve_{tag}"), &retrieve, "retrieves/s", None);
    // Where a retrieve's CPU goes: the nodes', and the load generator's own (its 64 HTTP
    // clients share the same 2 cores, so the wall rate is at most cores ÷ the sum).
    let node_cpu: f64 = pids.iter().filter_map(|&p| pid_cpu_seconds(p)).sum::<f64>() - node_cpu0;
    let bench_cpu = process_cpu_seconds() - bench_cpu0;
    if retrieve.ok > 0 {
        let (n, b) = (node_cpu * 1e6 / retrieve.ok as f64, bench_cpu * 1e6 / retrieve.ok as f64);
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let target = if nodes == 1 { " (target: >= 20000 retrieves/s)" } else { "" };
        println!(
            "network_retrieve_{tag}_cpu: {n:.0} µs of node CPU and {b:.0} µs of load-generator CPU per retrieve \
             (⇒ at most {:.0} retrieves/s on {cores} idle cores with this client, {:.0} with a free one){target}",
            cores as f64 * 1e6 / (n + b),
            cores as f64 * 1e6 / n,
        );
    }

    let rss: Vec<(f64, f64)> = pids
        .iter()
        .filter_map(|&p| vm_rss_kib(p))
        .map(|(now, peak)| (now as f64 / 1024.0, peak as f64 / 1024.0))
        .collect();
    if !rss.is_empty() {
        let mean = rss.iter().map(|r| r.0).sum::<f64>() / rss.len() as f64;
        let peak = rss.iter().map(|r| r.1).fold(0.0, f64::max);
        println!(
            "network_node_rss_{tag}: {mean:.1} MiB mean after the load, {peak:.1} MiB highest peak (VmHWM) over {} nodes",
            rss.len()
        );
    }
    drop(net);
    Some(store_rate)
}

/// The same store load for 10 s, during which one member is killed (-9) at 2 s and restarted
/// at 4 s: how long after the restart the rate is back (to 80% of the rate before the kill,
/// over 250 ms windows), and whether the acknowledged stores are on every member afterwards.
fn kill_and_restart(net: &Net, tag: &str, targets: &Arc<Vec<(String, Vec<String>)>>, data: &str) {
    const VICTIM: &str = "3";
    const KILL_AT_MS: u64 = 2_000;
    const RESTART_AT_MS: u64 = 4_000;
    const WINDOW_MS: u64 = 250;
    let data = data.to_string();
    let (bin, dir) = (net.bin.clone(), net.dir.path().to_path_buf());
    let testnet = move |cmd: &str| {
        Command::new(&bin).args([cmd, VICTIM, "--dir"]).arg(&dir).output().is_ok_and(|o| o.status.success())
    };
    let t0 = Instant::now();
    let driver = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(KILL_AT_MS));
        let killed = testnet("kill");
        std::thread::sleep(Duration::from_millis(
            RESTART_AT_MS.saturating_sub(t0.elapsed().as_millis() as u64),
        ));
        let started = testnet("start");
        (killed && started, t0.elapsed().as_millis() as u64)
    });
    // A success here is what a client sees: the entry node's 200 with the hash. Stores that
    // also reached every member (what the other phases count) are timed on the side.
    let full_ms = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let full = full_ms.clone();
    let phase = load(targets, Duration::from_secs(10), move |agent, i, pk, url| {
        let now = now_ms();
        let body = json!({"method": "store", "params": {
            "pubkey": pk, "timestamp": now, "ttl": 3_600_000, "namespace": NS,
            "data": format!("{}{:016x}", &data[..data.len() - 16], i + 7_000_000_000)}});
        let reply: Value = serde_json::from_str(&send(agent, url, &body)?.text().ok()?).ok()?;
        let everywhere = reply["swarm"]
            .as_object()
            .is_some_and(|m| !m.is_empty() && m.values().all(|v| v.get("failed").is_none()));
        if everywhere {
            full.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(t0.elapsed().as_millis() as u64);
        }
        reply["hash"].as_str().map(str::to_string)
    });
    let Ok((true, restarted_ms)) = driver.join() else {
        println!("network_recovery_{tag}: skipped (testnet kill/start failed)");
        return;
    };
    // `testnet start` returns once the node answers; its time is when the node is back.
    let full_ms = full_ms.lock().map(|v| v.clone()).unwrap_or_default();
    let rate_of = |times: &[u64], from: u64| {
        let n = times.iter().filter(|&&t| t >= from && t < from + WINDOW_MS).count();
        n as f64 * 1000.0 / WINDOW_MS as f64
    };
    let rate_in = |from: u64| rate_of(&phase.done_ms, from);
    let full_in = |from: u64| rate_of(&full_ms, from);
    let before: f64 = (500..KILL_AT_MS).step_by(WINDOW_MS as usize).map(rate_in).sum::<f64>()
        / ((KILL_AT_MS - 500) / WINDOW_MS) as f64;
    let end = phase.elapsed.as_millis() as u64 - WINDOW_MS;
    let back = |rate: &dyn Fn(u64) -> f64, base: f64| {
        (restarted_ms..end).step_by(50).find(|&t| rate(t) >= 0.8 * base).map(|t| t - restarted_ms)
    };
    let ms = |d: Option<u64>| d.map_or("never".to_string(), |ms| format!("{ms} ms"));
    let full_before: f64 = (500..KILL_AT_MS).step_by(WINDOW_MS as usize).map(full_in).sum::<f64>()
        / ((KILL_AT_MS - 500) / WINDOW_MS) as f64;
    let timeline = |rate: &dyn Fn(u64) -> f64| -> String {
        (0..phase.elapsed.as_millis() as u64 / 500)
            .map(|w| format!("{:.0}", rate(w * 500)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "network_recovery_{tag}_timeline: every 500 ms, stores/s acknowledged: {}; of those on all members: {} \
         (killed at {KILL_AT_MS} ms, back at {restarted_ms} ms)",
        timeline(&rate_in),
        timeline(&full_in)
    );
    println!(
        "network_recovery_{tag}: {before:.0} acknowledged stores/s before the kill -9 of node {VICTIM}, {:.0} while it \
         was down, back to 80% {} after its restart (target: within 2 s); on all 7 members again (80% of {full_before:.0}/s) \
         {} after it; {} acknowledged, {} failed in 10 s",
        rate_in(KILL_AT_MS + 500),
        ms(back(&rate_in, before)),
        ms(back(&full_in, full_before)),
        phase.ok,
        phase.failed
    );
    // The restarted member catches up on what it missed by redelivery: give it a moment.
    std::thread::sleep(Duration::from_secs(5));
    check_on_every_member(&format!("recovery_{tag}"), targets, &phase.acked);
}

/// Looks a sample of the acknowledged stores up on every member of their swarm: each must be
/// there (the replies said so; this checks the members' stores themselves).
fn check_on_every_member(tag: &str, targets: &[(String, Vec<String>)], acked: &[(usize, String)]) {
    let Some(agent) = snkit::tls::client_config().ok().and_then(|tls| {
        Agent::builder().timeout(Duration::from_secs(30)).use_preconfigured_tls(tls).build().ok()
    }) else {
        return;
    };
    let step = (acked.len() / CHECKED_STORES).max(1);
    let sample: Vec<&(usize, String)> = acked.iter().step_by(step).take(CHECKED_STORES).collect();
    let (mut lookups, mut missing) = (0usize, 0usize);
    for (target, hash) in &sample {
        let (pk, urls) = &targets[*target];
        for url in urls {
            let body = json!({"method": "retrieve", "params": {"pubkey": pk, "namespace": NS, "max_count": 100_000}});
            let held = send(&agent, url, &body)
                .and_then(|r| r.text().ok())
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|v| {
                    v["messages"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|m| m["hash"].as_str() == Some(hash.as_str()))
                });
            lookups += 1;
            if !held {
                missing += 1;
            }
        }
    }
    println!(
        "network_store_{tag}_on_every_member: {} of {lookups} (store, member) pairs held, {missing} missing \
         ({} acknowledged stores sampled of {}) (target: 0 missing)",
        lookups - missing,
        sample.len(),
        acked.len()
    );
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

/// A store counts only when every member of the swarm stored it (its hash is returned): the entry node answers 200 as
/// soon as one member did, so its per-member `swarm` entries are checked here.
fn post_store(agent: &Agent, url: &str, body: &Value) -> Option<String> {
    let resp = send(agent, url, body)?;
    let reply: Value = serde_json::from_str(&resp.text().ok()?).ok()?;
    let all = reply["swarm"]
        .as_object()
        .is_some_and(|m| !m.is_empty() && m.values().all(|v| v.get("failed").is_none()));
    all.then(|| reply["hash"].as_str().map(str::to_string)).flatten()
}

/// The outcome of one phase.
struct Phase {
    /// (target index, hash) of each acknowledged store (empty for other operations).
    acked: Vec<(usize, String)>,
    ok: usize,
    failed: usize,
    elapsed: Duration,
    latencies_us: Vec<u64>,
    /// When each success completed, ms since the phase began (for rates over time).
    done_ms: Vec<u64>,
}

/// Runs `CLIENTS` threads, each sending requests back to back for `duration`.
fn load(
    targets: &Arc<Vec<(String, Vec<String>)>>,
    duration: Duration,
    op: impl Fn(&Agent, usize, &str, &str) -> Option<String> + Send + Sync + Clone + 'static,
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
                    return (0, 1, Vec::new(), Vec::new(), Vec::new());
                };
                let (mut ok, mut failed, mut lat, mut acked, mut done) =
                    (0usize, 0usize, Vec::new(), Vec::new(), Vec::new());
                let mut i = c * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    let (pk, urls) = &targets[i % targets.len()];
                    if urls.is_empty() {
                        failed += 1;
                        break;
                    }
                    let url = &urls[(i / targets.len()) % urls.len()];
                    let t = Instant::now();
                    match op(&agent, i, pk, url) {
                        Some(hash) => {
                            ok += 1;
                            lat.push(t.elapsed().as_micros() as u64);
                            done.push(start.elapsed().as_millis() as u64);
                            if !hash.is_empty() {
                                acked.push((i % targets.len(), hash));
                            }
                        }
                        None => failed += 1,
                    }
                    i += 1;
                }
                (ok, failed, lat, acked, done)
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut phase = Phase {
        acked: Vec::new(),
        ok: 0,
        failed: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
        done_ms: Vec::new(),
    };
    for h in handles {
        if let Ok((ok, failed, lat, acked, done)) = h.join() {
            phase.acked.extend(acked);
            phase.done_ms.extend(done);
            phase.ok += ok;
            phase.failed += failed;
            phase.latencies_us.extend(lat);
        }
    }
    phase.elapsed = start.elapsed();
    phase.latencies_us.sort_unstable();
    phase.done_ms.sort_unstable();
    phase
}

fn percentile_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted_us.len() as f64 - 1.0) * p).round() as usize;
    sorted_us[idx] as f64 / 1000.0
}

/// Prints a phase's figures; returns its rate.
fn report(name: &str, phase: &Phase, unit: &str, target: Option<(f64, f64)>) -> f64 {
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
    rate
}

/// The pids of the testnet's nodes (testnet.json).
fn node_pids(dir: &std::path::Path) -> Vec<u64> {
    let Ok(text) = std::fs::read_to_string(dir.join("testnet.json")) else { return Vec::new() };
    let Ok(state) = serde_json::from_str::<Value>(&text) else { return Vec::new() };
    state["nodes"].as_array().into_iter().flatten().filter_map(|n| n["pid"].as_u64()).collect()
}

/// A process's CPU time so far (user + system), from /proc/PID/stat, in seconds.
fn pid_cpu_seconds(pid: u64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    // USER_HZ is 100 on Linux.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// VmRSS and VmHWM (peak resident memory) of a process, in KiB.
fn vm_rss_kib(pid: u64) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
