//! Benchmarks: sogs — a real `sogs serve` process (release build, its database on disk, WAL,
//! `synchronous=FULL`) under `CLIENTS` concurrent clients, each with its own blinded identity
//! signing every request as the apps do (sogs.md §1: X-SOGS-* headers, blinded15 Ed25519):
//!
//! - signed posts (`POST /room/bench/message` with a padded `Content` and its signature) per
//!   second, p50/p99 of the request as the client sees it;
//! - signed `since/{seqno}` polls per second: the steady state of an app (nothing new since its
//!   last seqno) and a poll that returns `POLL_BACKLOG` messages;
//! - the server's and the clients' CPU time per request (/proc/PID/stat before and after each
//!   phase), and from them the rate the machine's cores would sustain if the server and its
//!   clients had them to themselves: on a shared machine the wall-clock rates say more about the
//!   neighbours' load than about the server;
//! - the server's peak and final RSS (`VmHWM`/`VmRSS` from /proc/PID/status);
//! - the primitive costs measured in the same run (one core): a blinded request signature (what
//!   each client does per request) and an Ed25519 verification (what the server does), so that the
//!   CPU left for everything else on this machine can be worked out.
//!
//! The clients are room admins: the rate limit (5 posts per 16 s per user, admins exempt) would
//! otherwise cap 16 clients at 5 posts/s. Lines: `name: value unit (target: ...)`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::RngCore;
use serde_json::{Value, json};
use snkit::community_formats::build_post;
use snkit::identity::Identity;
use snkit::sogs_formats::{Signer, encode_b64, signed_message, verify};

/// Concurrent clients (the issue's figure).
const CLIENTS: usize = 16;
/// Seconds each measured phase runs.
const PHASE_SECS: u64 = 5;
/// Messages a backlog poll returns.
const POLL_BACKLOG: i64 = 20;
/// Different post bodies each client cycles through (made before the clock starts: the body's
/// own signature is the app's work, not the server's).
const BODIES_PER_CLIENT: usize = 32;
/// Iterations of each primitive measurement.
const PRIMITIVE_ROUNDS: usize = 2_000;
/// Pooled connections per client (one request in flight each).
const IDLE_PER_HOST: usize = CLIENTS;
/// Client-side cap on one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The room the clients use.
const ROOM: &str = "bench";
/// Clock ticks per second of /proc/PID/stat's CPU times (Linux's USER_HZ, 100 on every ABI).
const USER_HZ: f64 = 100.0;

/// User + system CPU seconds of a process (`self` or a pid) so far.
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces, so split after its ')').
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().filter_map(|v| v.parse().ok()).collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the state letter.
    match (f.get(10), f.get(11)) {
        (Some(u), Some(s)) => (u + s) / USER_HZ,
        _ => f64::NAN,
    }
}

/// What one phase measured.
struct Measured {
    per_s: f64,
    failed: usize,
    lat: Vec<f64>,
    /// Server and client (this process) CPU microseconds per successful request.
    server_us: f64,
    client_us: f64,
}

impl Measured {
    /// Requests per second the machine's cores could serve if the server and its clients had them
    /// to themselves: cores / CPU time per request.
    fn capacity(&self) -> f64 {
        let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        cores * 1e6 / (self.server_us + self.client_us)
    }

    fn line(&self, name: &str, unit: &str, what: &str) {
        println!(
            "sogs.{name}: {:.0} {unit}/s, p50 {:.1} ms, p99 {:.1} ms, {} failed ({what})",
            self.per_s,
            percentile(&self.lat, 0.5),
            percentile(&self.lat, 0.99),
            self.failed
        );
        println!(
            "sogs.{name}_cpu: server {:.0} us + clients {:.0} us of CPU per request = {:.0} {unit}/s on {} idle cores",
            self.server_us,
            self.client_us,
            self.capacity(),
            std::thread::available_parallelism().map_or(1, usize::from)
        );
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The server process; SIGKILLed on drop (its data dir is a temp dir).
struct Sogs {
    child: Child,
    url: String,
    pubkey: [u8; 32],
}

impl Drop for Sogs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn admin(dir: &Path, args: &[&str]) -> Result<(), String> {
    let o = Command::new(env!("CARGO_BIN_EXE_sogs"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if o.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&o.stderr).trim().to_string()) }
}

fn start(dir: &Path) -> Result<Sogs, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sogs"))
        .args(["serve", "--dir"])
        .arg(dir)
        .args(["--listen", "127.0.0.1:0", "--log", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    let read = child.stdout.take().map(|o| BufReader::new(o).read_line(&mut line));
    let ready: Value = match read {
        Some(Ok(n)) if n > 0 => serde_json::from_str(&line).map_err(|e| e.to_string())?,
        _ => {
            let _ = child.kill();
            return Err("no ready line".into());
        }
    };
    let url = ready["url"].as_str().unwrap_or_default().to_string();
    let mut pubkey = [0u8; 32];
    if hex::decode_to_slice(ready["pubkey"].as_str().unwrap_or_default(), &mut pubkey).is_err() {
        let _ = child.kill();
        return Err("bad pubkey in the ready line".into());
    }
    Ok(Sogs { child, url, pubkey })
}

/// `VmHWM` and `VmRSS` of `pid` in MiB.
fn rss(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// One client: its signer and a ready-made post bodies.
struct Client {
    signer: Signer,
    bodies: Vec<Vec<u8>>,
}

/// The per-request X-SOGS-* headers (fresh nonce, now).
fn headers(
    signer: &Signer,
    server_pk: &[u8; 32],
    method: &str,
    path: &str,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let mut nonce = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let (p, q) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    signer.headers(server_pk, &nonce, now, method, p, q, body).unwrap_or_default()
}

#[derive(Clone, Copy)]
enum Phase {
    Posts,
    /// Polls since this seqno.
    Polls(i64),
}

struct Tally {
    ok: usize,
    failed: usize,
    lat_ms: Vec<f64>,
}

async fn client_loop(
    http: reqwest::Client,
    base: Arc<String>,
    server_pk: [u8; 32],
    client: Arc<Client>,
    phase: Phase,
    until: Instant,
) -> Tally {
    let mut t = Tally { ok: 0, failed: 0, lat_ms: Vec::new() };
    let mut i = 0usize;
    while Instant::now() < until {
        let (method, path, body) = match phase {
            Phase::Posts => {
                ("POST", format!("/room/{ROOM}/message"), client.bodies[i % client.bodies.len()].clone())
            }
            Phase::Polls(since) => {
                ("GET", format!("/room/{ROOM}/messages/since/{since}?limit={POLL_BACKLOG}"), Vec::new())
            }
        };
        i += 1;
        let start = Instant::now();
        let mut rb = http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET),
                format!("{base}{path}"),
            )
            .timeout(REQUEST_TIMEOUT);
        for (k, v) in headers(&client.signer, &server_pk, method, &path, &body) {
            rb = rb.header(k, v);
        }
        if !body.is_empty() {
            rb = rb.header("Content-Type", "application/json").body(body);
        }
        let good = match rb.send().await {
            Ok(r) => {
                let s = r.status().as_u16();
                r.bytes().await.is_ok() && (200..300).contains(&s)
            }
            Err(_) => false,
        };
        t.lat_ms.push(start.elapsed().as_secs_f64() * 1e3);
        if good {
            t.ok += 1;
        } else {
            t.failed += 1;
        }
    }
    t
}

fn run_phase(
    rt: &tokio::runtime::Runtime,
    http: &reqwest::Client,
    server: &Sogs,
    clients: &[Arc<Client>],
    phase: Phase,
) -> Measured {
    let base = Arc::new(server.url.clone());
    let pid = server.child.id().to_string();
    let (server_cpu, client_cpu) = (cpu_secs(&pid), cpu_secs("self"));
    let start = Instant::now();
    let until = start + Duration::from_secs(PHASE_SECS);
    let tallies: Vec<Tally> = rt.block_on(async {
        let tasks: Vec<_> = clients
            .iter()
            .map(|c| {
                tokio::spawn(client_loop(http.clone(), base.clone(), server.pubkey, c.clone(), phase, until))
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            if let Ok(t) = t.await {
                out.push(t);
            }
        }
        out
    });
    let secs = start.elapsed().as_secs_f64();
    let (server_cpu, client_cpu) = (cpu_secs(&pid) - server_cpu, cpu_secs("self") - client_cpu);
    let ok: usize = tallies.iter().map(|t| t.ok).sum();
    let failed: usize = tallies.iter().map(|t| t.failed).sum();
    let mut lat: Vec<f64> = tallies.into_iter().flat_map(|t| t.lat_ms).collect();
    lat.sort_by(f64::total_cmp);
    let per = |cpu: f64| cpu * 1e6 / ok.max(1) as f64;
    Measured { per_s: ok as f64 / secs, failed, lat, server_us: per(server_cpu), client_us: per(client_cpu) }
}

/// The room's `message_sequence` (an anonymous GET).
fn room_seq(rt: &tokio::runtime::Runtime, http: &reqwest::Client, server: &Sogs) -> i64 {
    rt.block_on(async {
        let r = http.get(format!("{}/room/{ROOM}", server.url)).timeout(REQUEST_TIMEOUT).send().await.ok()?;
        let v: Value = serde_json::from_slice(&r.bytes().await.ok()?).ok()?;
        v["message_sequence"].as_i64()
    })
    .unwrap_or(0)
}

fn primitives(signer: &Signer, server_pk: &[u8; 32]) {
    let body = br#"{"data":"x","signature":"y"}"#;
    let t = Instant::now();
    let mut last = Vec::new();
    for _ in 0..PRIMITIVE_ROUNDS {
        last = headers(signer, server_pk, "POST", "/room/bench/message", body);
    }
    let sign_us = t.elapsed().as_secs_f64() * 1e6 / PRIMITIVE_ROUNDS as f64;
    std::hint::black_box(&last);
    let msg = signed_message(server_pk, &[1u8; 16], "1700000000", "POST", "/room/bench/message", None, body);
    let Ok(sig) = signer.sign(&msg) else { return };
    let mut pk = [0u8; 32];
    if hex::decode_to_slice(&signer.pubkey_hex()[2..], &mut pk).is_err() {
        return;
    }
    let t = Instant::now();
    let mut good = 0usize;
    for _ in 0..PRIMITIVE_ROUNDS {
        good += usize::from(verify(std::hint::black_box(&pk), &msg, &sig));
    }
    let verify_us = t.elapsed().as_secs_f64() * 1e6 / PRIMITIVE_ROUNDS as f64;
    std::hint::black_box(good);
    println!("sogs.client_sign: {sign_us:.1} us per request (blinded15 X-SOGS headers, one core)");
    println!(
        "sogs.server_verify: {verify_us:.1} us per request (Ed25519 verify of the X-SOGS signature, one core)"
    );
}

pub fn run() {
    let Ok(dir) = tempfile::Builder::new().prefix("snkit-bench-sogs-").tempdir() else {
        println!("sogs: skipped (no temp dir)");
        return;
    };
    if let Err(e) = admin(dir.path(), &["--add-room", ROOM, "--name", "Bench"]) {
        println!("sogs: skipped (sogs --add-room failed: {e})");
        return;
    }
    let server = match start(dir.path()) {
        Ok(s) => s,
        Err(e) => {
            println!("sogs: skipped (sogs serve: {e})");
            return;
        }
    };
    let clients: Vec<Arc<Client>> = (0..CLIENTS)
        .filter_map(|_| {
            let id = Identity::generate();
            let signer = Signer::blinded(&id, &server.pubkey).ok()?;
            let bodies = (0..BODIES_PER_CLIENT)
                .filter_map(|j| {
                    let data =
                        build_post(&format!("bench post {j} from a client"), Some("bench"), &[], 1).ok()?;
                    let sig = signer.sign(&data).ok()?;
                    Some(
                        json!({"data": encode_b64(&data), "signature": encode_b64(&sig)})
                            .to_string()
                            .into_bytes(),
                    )
                })
                .collect();
            Some(Arc::new(Client { signer, bodies }))
        })
        .collect();
    if clients.len() != CLIENTS {
        println!("sogs: skipped (blinded keys)");
        return;
    }
    let ids: Vec<String> = clients.iter().map(|c| c.signer.pubkey_hex()).collect();
    let mut args = vec!["--rooms", ROOM, "--add-moderators"];
    args.extend(ids.iter().map(String::as_str));
    args.push("--admin");
    if let Err(e) = admin(dir.path(), &args) {
        println!("sogs: skipped (sogs --add-moderators failed: {e})");
        return;
    }
    primitives(&clients[0].signer, &server.pubkey);
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() else {
        println!("sogs: skipped (no runtime)");
        return;
    };
    let Ok(http) = snkit::http::async_client(IDLE_PER_HOST) else {
        println!("sogs: skipped (no HTTP client)");
        return;
    };
    println!("sogs.load: {}", std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim());
    let posts = run_phase(&rt, &http, &server, &clients, Phase::Posts);
    posts.line(
        "posts",
        "posts",
        &format!("{CLIENTS} clients, {PHASE_SECS} s; target: >= 2000 posts/s, p99 < 50 ms"),
    );
    let newest = room_seq(&rt, &http, &server);
    // Steady state: each poll asks for what came after the newest seqno (nothing new).
    let polls = run_phase(&rt, &http, &server, &clients, Phase::Polls(newest));
    polls.line("polls_empty", "polls", "since/newest: nothing new; target: >= 5000 polls/s, p99 < 50 ms");
    let since = (newest - POLL_BACKLOG).max(0);
    let polls = run_phase(&rt, &http, &server, &clients, Phase::Polls(since));
    polls.line(&format!("polls_{POLL_BACKLOG}"), "polls", &format!("each returns {POLL_BACKLOG} messages"));
    let (hwm, now) = rss(server.child.id());
    println!("sogs.rss: peak {hwm:.1} MiB, now {now:.1} MiB (server VmHWM / VmRSS)");
    println!("sogs.load_after: {}", std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim());
}
