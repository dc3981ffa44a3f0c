//! Benchmarks: sync — synchronous delivery on a real 20-node testnet (release `snode`s), beside
//! the async send→retrieve figure of the same run, and the node's memory under 10,000
//! subscriptions plus a flood of delivers.
//!
//! - delivery: `client::sync::deliver::deliver` to Bob's listening node while Bob's
//!   `retrieve --listen` loop (`client::sync::listen::run`, in this process) holds a listen;
//!   the time from the deliver's start to Bob's line being written (what a reader sees), and
//!   to the verified ack (what `send` waits for: one more onion round trip plus the fsyncs of
//!   the state and the journal).
//! - async: `client::send` (3 copies) then `Retriever::poll` that returns it, per message.
//! - flood: 10,000 `sync_listen`s with fresh keys (hold 0) straight to one node, then delivers
//!   to unknown keys and to one subscription past its caps; the node's RSS before and after.

use std::io::Write;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use snkit::client::sync::SelfRecord;
use snkit::client::sync::deliver::{Delivered, deliver};
use snkit::client::sync::listen::{self, ListenOptions};
use snkit::client::{self, Network, RetrieveState, Retriever, SendOptions};
use snkit::identity::Identity;
use snkit::keys::Pubkey;
use snkit::sync_formats::rpc as srpc;

const NODES: usize = 20;
const ROUNDS: usize = 200;
const ASYNC_ROUNDS: usize = 100;
const FLOOD_SUBSCRIPTIONS: usize = 10_000;
const FLOOD_DELIVERS: usize = 2_000;

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

/// Bob's stdout: the instant each line is complete goes to the bench.
struct Stamps(mpsc::Sender<Instant>);

impl Write for Stamps {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for _ in buf.iter().filter(|b| **b == b'\n') {
            let _ = self.0.send(Instant::now());
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn rss_kb(pid: u64) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn post(http: &reqwest::blocking::Client, url: &str, method: &str, params: serde_json::Value) -> u16 {
    http.post(format!("{url}/storage_rpc/v1"))
        .body(serde_json::json!({"method": method, "params": params}).to_string())
        .send()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

pub fn run() {
    let Ok(dir) = tempfile::Builder::new().prefix("snkit-bench-sync-").tempdir() else {
        println!("sync: skipped (no temp dir)");
        return;
    };
    let guard = Net { dir };
    let up = Command::new(env!("CARGO_BIN_EXE_testnet"))
        .args(["up", "--nodes", &NODES.to_string(), "--log", "warn", "--dir"])
        .arg(guard.dir.path())
        .output();
    if !up.as_ref().is_ok_and(|o| o.status.success()) {
        println!("sync: skipped (testnet up failed)");
        return;
    }
    let nodes = guard.dir.path().join("nodes.json");
    let (Ok(net), Ok(bob_net)) =
        (Network::from_file(&nodes.to_string_lossy()), Network::from_file(&nodes.to_string_lossy()))
    else {
        println!("sync: skipped (node list)");
        return;
    };
    let bob = Identity::generate();
    let bob_sid = bob.session_id();
    let state_dir = guard.dir.path().join("state");
    let (Ok(bob_state), Ok(async_state)) = (
        RetrieveState::load(&state_dir, &bob_sid.to_string()),
        RetrieveState::load(&guard.dir.path().join("async-state"), &bob_sid.to_string()),
    ) else {
        println!("sync: skipped (state)");
        return;
    };
    let Ok(bob_copy) = Identity::from_seed(bob.seed()) else { return };
    let (tx, rx) = mpsc::channel();
    let sd = state_dir.clone();
    std::thread::spawn(move || {
        let _ =
            listen::run(bob_net, bob_copy, bob_state, &sd, Box::new(Stamps(tx)), ListenOptions::default());
    });
    let sync_dir = snkit::client::sync::sync_dir(&state_dir, &bob_sid);
    let deadline = Instant::now() + Duration::from_secs(20);
    let me = loop {
        if let Some(me) = SelfRecord::load(&sync_dir) {
            break me;
        }
        if Instant::now() > deadline {
            println!("sync: skipped (the listener did not start)");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (Ok(node_pk), Ok(listen_pk)) = (hex_32(&me.node), hex_32(&me.listen_pk)) else { return };
    let Some(node) = net.nodes().iter().find(|n| n.pubkey_ed25519 == node_pk).cloned() else { return };
    // Let the first listen be held.
    std::thread::sleep(Duration::from_millis(500));

    let mut printed = Vec::with_capacity(ROUNDS);
    let mut acked = Vec::with_capacity(ROUNDS);
    let mut failed = 0;
    // Paced under the per-subscription deliver bucket (a human chat rate): faster, the node
    // answers 429 and a sender would store instead.
    let pace = Duration::from_millis(1_000 / snkit::limits::SYNC_DELIVER_RATE_PER_SEC + 5);
    for i in 0..ROUNDS + 10 {
        std::thread::sleep(pace);
        let data = format!("sync {i}");
        let now = snkit::time::now_ms();
        let t0 = Instant::now();
        let out = deliver(&net, &bob_sid, &node, &listen_pk, data.as_bytes(), now, now + 60_000, 5_000);
        let t1 = Instant::now();
        let line = rx.recv_timeout(Duration::from_secs(5));
        // Drain anything else (async copies of nothing: there are none).
        while rx.try_recv().is_ok() {}
        if i < 10 {
            continue; // warm-up
        }
        match (out, line) {
            (Delivered::Acked { .. }, Ok(at)) => {
                printed.push(at.saturating_duration_since(t0).as_secs_f64() * 1e3);
                acked.push((t1 - t0).as_secs_f64() * 1e3);
            }
            _ => failed += 1,
        }
    }
    printed.sort_by(f64::total_cmp);
    acked.sort_by(f64::total_cmp);
    println!(
        "sync delivery (deliver → line printed) p50: {:.2} ms, p99: {:.2} ms (target: p50 < 5 ms, p99 < 20 ms; {NODES} nodes, 4 nodes per path)",
        percentile(&printed, 0.5),
        percentile(&printed, 0.99)
    );
    println!(
        "sync ack (deliver → verified ack) p50: {:.2} ms, p99: {:.2} ms",
        percentile(&acked, 0.5),
        percentile(&acked, 0.99)
    );
    if failed > 0 {
        println!("sync rounds not acked or not printed: {failed} of {ROUNDS}");
    }

    // The async figure of the same run: another identity's send→retrieve.
    let carol = Identity::generate();
    let carol_pk = Pubkey::from(carol.session_id());
    let Ok(carol_state) =
        RetrieveState::load(&guard.dir.path().join("carol"), &carol.session_id().to_string())
    else {
        return;
    };
    drop(async_state);
    let mut retriever = Retriever::new(&carol, carol_state);
    let opts = SendOptions::default();
    for i in 0..5 {
        let _ = client::send(&net, &carol_pk, format!("warm {i}").as_bytes(), &opts);
        let _ = retriever.poll(&net);
    }
    let mut round_trip = Vec::with_capacity(ASYNC_ROUNDS);
    for i in 0..ASYNC_ROUNDS {
        let t0 = Instant::now();
        if client::send(&net, &carol_pk, format!("async {i}").as_bytes(), &opts).is_err() {
            continue;
        }
        if !retriever.poll(&net).unwrap_or_default().is_empty() {
            round_trip.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    round_trip.sort_by(f64::total_cmp);
    println!(
        "sync: async send→retrieve in the same run p50: {:.2} ms, p99: {:.2} ms (tight loop; a reader also waits half its poll interval)",
        percentile(&round_trip, 0.5),
        percentile(&round_trip, 0.99)
    );

    flood(&guard);
}

fn hex_32(s: &str) -> Result<[u8; 32], ()> {
    hex::decode(s).map_err(drop)?.try_into().map_err(drop)
}

/// 10,000 subscriptions and floods against one node: its RSS, and that it keeps serving.
fn flood(guard: &Net) {
    let Ok(text) = std::fs::read_to_string(guard.dir.path().join("testnet.json")) else { return };
    let Ok(state) = serde_json::from_str::<serde_json::Value>(&text) else { return };
    let (Some(url), Some(pid)) = (state["nodes"][0]["url"].as_str(), state["nodes"][0]["pid"].as_u64())
    else {
        println!("sync flood: skipped (no node url/pid)");
        return;
    };
    let Ok(tls) = snkit::tls::client_config() else { return };
    let Ok(http) = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .use_preconfigured_tls(tls)
        .build()
    else {
        return;
    };
    let before = rss_kb(pid).unwrap_or(0);
    let t0 = Instant::now();
    let refused = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..8usize {
            let (http, refused) = (&http, &refused);
            s.spawn(move || {
                for i in (t..FLOOD_SUBSCRIPTIONS + 100).step_by(8) {
                    let mut seed = [0u8; 32];
                    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
                    let sk = SigningKey::from_bytes(&seed);
                    let code = post(
                        http,
                        url,
                        "sync_listen",
                        srpc::listen_params(&sk, 0, &[], 0, snkit::time::now_ms()),
                    );
                    if code == 429 {
                        refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let subs_secs = t0.elapsed().as_secs_f64();
    let after_subs = rss_kb(pid).unwrap_or(0);
    // Flood: delivers of the largest data to one subscription (past its byte cap) and to keys
    // the node does not hold.
    let sk = SigningKey::from_bytes(&[0u8; 32]);
    let pk = sk.verifying_key().to_bytes();
    let big = vec![7u8; snkit::limits::SYNC_MAX_DATA_BYTES];
    let lock = snkit::sync_formats::ack::AckLock { eph: [1; 32], check: [2; 32] };
    // A listen that just ended: delivers to it queue (within the grace) up to its caps.
    post(&http, url, "sync_listen", srpc::listen_params(&sk, 0, &[], 0, snkit::time::now_ms()));
    let mut codes = std::collections::BTreeMap::<u16, usize>::new();
    let results: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8usize)
            .map(|t| {
                let (http, big) = (&http, &big);
                s.spawn(move || {
                    let mut out = Vec::new();
                    for i in (t..FLOOD_DELIVERS).step_by(8) {
                        let to = if i % 2 == 0 { pk } else { [i as u8; 32] };
                        let now = snkit::time::now_ms();
                        out.push(post(
                            http,
                            url,
                            "sync_deliver",
                            srpc::deliver_params(&to, big, &lock, now, now + 60_000, 100),
                        ));
                    }
                    out
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    for c in results {
        *codes.entry(c).or_default() += 1;
    }
    let after_flood = rss_kb(pid).unwrap_or(0);
    let serving = post(&http, url, "info", serde_json::json!({})) == 200;
    println!(
        "sync flood: {FLOOD_SUBSCRIPTIONS} subscriptions in {subs_secs:.1} s ({} more refused 429); node RSS {} MiB before, {} MiB with them, {} MiB after {FLOOD_DELIVERS} delivers of 76,800 bytes (statuses {codes:?}); still serving: {serving}",
        refused.load(std::sync::atomic::Ordering::Relaxed),
        before / 1024,
        after_subs / 1024,
        after_flood / 1024,
    );
}
