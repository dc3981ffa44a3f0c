//! Benchmarks: client — send→retrieve latency through 3-hop onion paths on loopback, and
//! messages/s with many concurrent senders, over a real 20-node testnet (release `snode`s).
//!
//! Latency: one `client::send` (3 copies, each through its own fresh path) followed by one
//! `Retriever::poll` (3 swarm members, each through its own path) that returns the message;
//! the wall time of the pair, measured per message. Throughput: `SENDERS` threads each calling
//! `client::send` in a loop for `THROUGHPUT_SECS`.
//!
//! Everything is measured twice in the same run: with a fresh path per request (the baseline),
//! then with kept paths (`Network::keep_paths`: built and tested once, reused). `cargo bench
//! --bench snkit -- client --nodes=FILE` measures any node list instead of a local testnet.

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use snkit::client::{self, Network, RetrieveState, Retriever, SendOptions};
use snkit::identity::Identity;
use snkit::keys::Pubkey;

const NODES: usize = 20;
const LATENCY_ROUNDS: usize = 200;
const SENDERS: usize = 16;
const THROUGHPUT_SECS: u64 = 5;

struct Net {
    dir: tempfile::TempDir,
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ =
            Command::new(env!("CARGO_BIN_EXE_testnet")).args(["down", "--dir"]).arg(self.dir.path()).output();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `--nodes=FILE` among the bench's arguments: measure that node list (any deployment) instead of
/// a local testnet.
fn nodes_arg() -> Option<String> {
    std::env::args().find_map(|a| a.strip_prefix("--nodes=").map(str::to_string))
}

pub fn run() {
    let Ok(dir) = tempfile::Builder::new().prefix("snkit-bench-client-").tempdir() else {
        println!("client: skipped (no temp dir)");
        return;
    };
    let nodes = match nodes_arg() {
        Some(file) => std::path::PathBuf::from(file),
        None => dir.path().join("nodes.json"),
    };
    let _net_guard = if nodes_arg().is_none() {
        let net_guard = Net { dir };
        let up = Command::new(env!("CARGO_BIN_EXE_testnet"))
            .args(["up", "--nodes", &NODES.to_string(), "--log", "warn", "--dir"])
            .arg(net_guard.dir.path())
            .output();
        match up {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                println!(
                    "client: skipped (testnet up failed: {})",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                return;
            }
            Err(e) => {
                println!("client: skipped (cannot run testnet: {e})");
                return;
            }
        }
        Some(net_guard)
    } else {
        None
    };
    let Ok(state) = tempfile::Builder::new().prefix("snkit-bench-client-state-").tempdir() else {
        println!("client: skipped (no temp dir)");
        return;
    };
    // The same load twice: a fresh path per request (the old behaviour, the baseline), then
    // paths kept as the apps keep them (built and tested once, reused by every request).
    for kept in [false, true] {
        let mut net = match Network::from_file(&nodes.to_string_lossy()) {
            Ok(n) => n,
            Err(e) => {
                println!("client: skipped ({e})");
                return;
            }
        };
        if kept {
            net.keep_paths(&state.path().join("paths"));
        }
        measure(
            &net,
            if kept { "kept paths" } else { "fresh paths" },
            &state.path().join(format!("state-{kept}")),
        );
    }
}

fn measure(net: &Network, mode: &str, state_dir: &std::path::Path) {
    let bob = Identity::generate();
    let bob_pk = Pubkey::from(bob.session_id());
    let Ok(state) = RetrieveState::load(state_dir, &bob.session_id().to_string()) else {
        println!("client: skipped (state)");
        return;
    };
    let mut retriever = Retriever::new(&bob, state);
    let opts = SendOptions::default();

    // Warm-up: connections, first swarm lookups.
    for i in 0..10 {
        let _ = client::send(net, &bob_pk, format!("warm {i}").as_bytes(), &opts);
        let _ = retriever.poll(net);
    }

    let mut send_only = Vec::with_capacity(LATENCY_ROUNDS);
    let mut round_trip = Vec::with_capacity(LATENCY_ROUNDS);
    let mut lost = 0;
    for i in 0..LATENCY_ROUNDS {
        let data = format!("latency {i}");
        let t0 = Instant::now();
        if client::send(net, &bob_pk, data.as_bytes(), &opts).is_err() {
            lost += 1;
            continue;
        }
        let t1 = Instant::now();
        let got = retriever.poll(net).unwrap_or_default();
        let t2 = Instant::now();
        if got.is_empty() {
            lost += 1;
        }
        send_only.push((t1 - t0).as_secs_f64() * 1e3);
        round_trip.push((t2 - t0).as_secs_f64() * 1e3);
    }
    send_only.sort_by(f64::total_cmp);
    round_trip.sort_by(f64::total_cmp);
    println!(
        "client [{mode}] send→retrieve latency p50: {:.2} ms (target: <= 8 ms, p99 <= 25 ms; send ×3 copies + retrieve ×3 nodes, 4 nodes per path)",
        percentile(&round_trip, 0.5)
    );
    println!("client [{mode}] send→retrieve latency p99: {:.2} ms", percentile(&round_trip, 0.99));
    println!("client [{mode}] send (3 copies) latency p50: {:.2} ms", percentile(&send_only, 0.5));
    println!("client [{mode}] send (3 copies) latency p99: {:.2} ms", percentile(&send_only, 0.99));
    if lost > 0 {
        println!("client [{mode}] latency rounds without delivery: {lost} of {LATENCY_ROUNDS}");
    }

    // Where the time goes: one onion round trip with no storage work (`info` through guard,
    // middle, exit to a target), and a retrieve poll with nothing new (3 such trips in parallel).
    let target = net.nodes()[0].clone();
    let mut onion_only = Vec::with_capacity(LATENCY_ROUNDS);
    let mut poll_only = Vec::with_capacity(LATENCY_ROUNDS);
    for _ in 0..LATENCY_ROUNDS {
        let t0 = Instant::now();
        let ok = net.onion_rpc(&target, "info", &serde_json::json!({})).is_ok_and(|r| r.status == 200);
        if ok {
            onion_only.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        let t1 = Instant::now();
        if retriever.poll(net).is_ok() {
            poll_only.push(t1.elapsed().as_secs_f64() * 1e3);
        }
    }
    onion_only.sort_by(f64::total_cmp);
    poll_only.sort_by(f64::total_cmp);
    println!(
        "client [{mode}] onion round trip (info, 3 hops + target) p50: {:.2} ms, p99: {:.2} ms (target: p50 <= 1.5 ms)",
        percentile(&onion_only, 0.5),
        percentile(&onion_only, 0.99)
    );
    println!(
        "client [{mode}] retrieve poll, nothing new (3 nodes in parallel) p50: {:.2} ms, p99: {:.2} ms",
        percentile(&poll_only, 0.5),
        percentile(&poll_only, 0.99)
    );

    // Throughput: many concurrent senders to many recipients.
    let recipients: Vec<Pubkey> = (0..50).map(|_| Pubkey::from(Identity::generate().session_id())).collect();
    let sent = AtomicU64::new(0);
    let failed = AtomicU64::new(0);
    let deadline = Instant::now() + Duration::from_secs(THROUGHPUT_SECS);
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..SENDERS {
            let (recipients, sent, failed, opts) = (&recipients, &sent, &failed, &opts);
            s.spawn(move || {
                let mut i = t;
                while Instant::now() < deadline {
                    let to = &recipients[i % recipients.len()];
                    match client::send(net, to, format!("load {t} {i}").as_bytes(), opts) {
                        Ok(_) => sent.fetch_add(1, Ordering::Relaxed),
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                    i += SENDERS;
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "client [{mode}] messages/s with {SENDERS} concurrent senders: {:.0} msg/s ({} sent, {} failed, {NODES} nodes, 3 copies each; target: >= 500 msg/s, none failed)",
        sent.load(Ordering::Relaxed) as f64 / secs,
        sent.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
}
