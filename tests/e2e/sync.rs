//! Synchronous routing (docs/sync.md, spec sync.md §6) with real processes: `retrieve --listen`
//! receivers, `send --sync` senders, and the node RPCs refusing abuse.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use snkit::identity::Identity;
use snkit::sync_formats::rpc as srpc;

use crate::common::{Testnet, bin, cmd, eventually, http, now_ms, post_raw, rpc, rpc_with, rss_kib};

fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(format!("{name}.json"));
    let id = Identity::generate();
    snkit::fs::write_new_secret(&path, &serde_json::to_vec(&id.to_file()).unwrap()).unwrap();
    (path, id.session_id().to_string())
}

/// A `retrieve --listen` process whose lines are collected as they come.
struct Listener {
    child: Child,
    lines: Arc<Mutex<Vec<Value>>>,
}

impl Listener {
    fn start(id: &Path, state: &Path, nodes: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_with(id, state, nodes, env, &[])
    }

    fn start_with(id: &Path, state: &Path, nodes: &Path, env: &[(&str, &str)], args: &[&str]) -> Self {
        let mut child = Command::new(bin("retrieve"))
            .args(["--identity", id.to_str().unwrap(), "--state", state.to_str().unwrap()])
            .args(["--nodes", nodes.to_str().unwrap(), "--listen"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn retrieve --listen");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(serde_json::from_str::<Value>(&line).unwrap());
            }
        });
        // Ready once it has written self.json.
        let sid = Identity::load(id).unwrap().session_id().to_string();
        let me = state.join(format!("{sid}.sync/self.json"));
        assert!(eventually(Duration::from_secs(20), || me.exists()), "listener never wrote {}", me.display());
        Self { child, lines }
    }

    /// The message lines printed so far (not `--events` lines).
    fn lines(&self) -> Vec<Value> {
        self.lines.lock().unwrap().iter().filter(|l| l.get("event").is_none()).cloned().collect()
    }

    /// The `--events` lines printed so far.
    fn events(&self) -> Vec<Value> {
        self.lines.lock().unwrap().iter().filter(|l| l.get("event").is_some()).cloned().collect()
    }

    /// The bodies printed so far, as text.
    fn texts(&self) -> Vec<String> {
        self.lines().iter().map(text_of).collect()
    }

    fn wait_for(&self, text: &str, limit: Duration) -> Value {
        let mut found = None;
        let ok = eventually(limit, || {
            found = self.lines().into_iter().find(|l| text_of(l) == text);
            found.is_some()
        });
        assert!(ok, "listener never printed {text:?}; printed {:?}", self.texts());
        found.unwrap()
    }

    fn term(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        self.child.wait().unwrap()
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn text_of(line: &Value) -> String {
    let b = base64::engine::general_purpose::STANDARD.decode(line["data"].as_str().unwrap_or("")).unwrap();
    String::from_utf8(b).unwrap()
}

fn send(
    id: &Path,
    state: &Path,
    to: &str,
    nodes: &Path,
    text: &str,
    extra: &[&str],
) -> (bool, Value, Duration) {
    let t = Instant::now();
    let out = cmd("send")
        .args(["--identity", id.to_str().unwrap(), "--to", to, "--state", state.to_str().unwrap()])
        .args(["--nodes", nodes.to_str().unwrap()])
        .args(extra)
        .write_stdin(text.as_bytes().to_vec())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    if !out.status.success() {
        eprintln!("send {text:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    (out.status.success(), v, t.elapsed())
}

fn peers(id: &Path, state: &Path) -> Vec<Value> {
    let out = cmd("retrieve")
        .args(["--identity", id.to_str().unwrap(), "--state", state.to_str().unwrap(), "--peers"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn online(id: &Path, state: &Path, peer: &str) -> bool {
    peers(id, state).iter().any(|p| p["session_id"] == json!(peer) && p["online"] == json!(true))
}

/// Every body a plain `retrieve` of `id` prints from the swarm now (a fresh state).
fn swarm_texts(id: &Path, nodes: &Path, scratch: &Path) -> Vec<String> {
    let out = cmd("retrieve")
        .args(["--identity", id.to_str().unwrap(), "--state", scratch.to_str().unwrap()])
        .args(["--nodes", nodes.to_str().unwrap()])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| text_of(&serde_json::from_str(l).unwrap()))
        .collect()
}

struct Pair {
    tmp: tempfile::TempDir,
    a: PathBuf,
    b: PathBuf,
    a_sid: String,
    b_sid: String,
}

impl Pair {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let (a, a_sid) = keygen(tmp.path(), "alice");
        let (b, b_sid) = keygen(tmp.path(), "bob");
        Self { tmp, a, b, a_sid, b_sid }
    }

    fn state(&self, who: &str) -> PathBuf {
        self.tmp.path().join(format!("state-{who}"))
    }

    /// The handshake: A's first message goes async carrying A's presence, B answers with its
    /// own, and A's next message goes sync.
    fn handshake(&self, nodes: &Path, la: &Listener, lb: &Listener) {
        self.handshake_with(nodes, la, lb, true);
    }

    /// [`Pair::handshake`]; `honest` false under a node that forges acks, where B's handshake
    /// "fails" (the forged proof) and B marks A offline.
    fn handshake_with(&self, nodes: &Path, la: &Listener, lb: &Listener, honest: bool) {
        let _ = la;
        let (ok, v, _) = send(&self.a, &self.state("a"), &self.b_sid, nodes, "hello 1", &[]);
        assert!(ok, "{v}");
        assert_eq!(v["via"], json!("async"), "the first message cannot go sync: {v}");
        let line = lb.wait_for("hello 1", Duration::from_secs(30));
        assert_eq!(line["via"], json!("async"));
        // Under a forging node A's own answer to B's presence (sync.md §5.4: a new presence is
        // answered) fails on its forged proof and marks B offline, racing with this check: so
        // there only B's presence having reached A is required, not A's verdict on it.
        let reached = || {
            peers(&self.a, &self.state("a"))
                .iter()
                .any(|p| p["session_id"] == json!(self.b_sid) && p["node"].is_string())
        };
        let handshake_in = || if honest { online(&self.a, &self.state("a"), &self.b_sid) } else { reached() };
        assert!(
            eventually(Duration::from_secs(30), handshake_in),
            "B's handshake never reached A: {:?}",
            peers(&self.a, &self.state("a"))
        );
        if honest {
            assert!(online(&self.b, &self.state("b"), &self.a_sid), "B holds A's presence from its message");
        }
    }
}

#[test]
fn test_handshake_then_sync_then_clean_stop_falls_back_at_once() {
    let tn = Testnet::up(20);
    let nodes = tn.nodes_json();
    let p = Pair::new();
    let la = Listener::start(&p.a, &p.state("a"), &nodes, &[]);
    let mut lb = Listener::start(&p.b, &p.state("b"), &nodes, &[]);
    p.handshake(&nodes, &la, &lb);

    // A's second message goes sync, acked by B's listener, printed once.
    let (ok, v, _) = send(&p.a, &p.state("a"), &p.b_sid, &nodes, "hello 2", &[]);
    assert!(ok && v["via"] == json!("sync"), "second message: {v}");
    assert!(v["ack_ms"].as_u64().is_some());
    let line = lb.wait_for("hello 2", Duration::from_secs(10));
    assert_eq!(line["via"], json!("sync"));
    assert_eq!(line["hash"], v["hash"]);

    // B stops cleanly (SIGTERM): it unlistens and removes self.json.
    assert!(lb.term().success(), "retrieve --listen exits 0 on SIGTERM");
    let b_self = p.state("b").join(format!("{}.sync/self.json", p.b_sid));
    assert!(!b_self.exists(), "self.json is removed on a clean stop");

    // A's next send gets a 404 and stores at once: far below the ack timeout.
    // The reason is the node's 404, not a 202 after the 5 s wait: the fallback did not wait out
    // the ack timeout. (Wall time is not asserted: a debug `send` under four helpers' builds
    // takes seconds to start and store whatever its route.)
    let (ok, v, took) = send(&p.a, &p.state("a"), &p.b_sid, &nodes, "hello 3", &["--ack-timeout", "5000"]);
    assert!(ok, "{v}");
    assert_eq!(v["via"], json!("async"), "{v}");
    let reason = v["sync"]["reason"].as_str().unwrap();
    assert!(reason == "404 unknown" || reason == "404 gone", "{v} after {took:?}");
    assert!(!v["stored"].as_array().unwrap().is_empty());
    // Further sends go straight to async.
    let (ok, v, _) = send(&p.a, &p.state("a"), &p.b_sid, &nodes, "hello 4", &[]);
    assert!(ok && v["sync"]["reason"] == json!("peer marked offline"), "{v}");

    // B's plain retrieve (its own state) prints the two fallbacks, and nothing printed before.
    let out = cmd("retrieve")
        .args(["--identity", p.b.to_str().unwrap(), "--state", p.state("b").to_str().unwrap()])
        .args(["--nodes", nodes.to_str().unwrap()])
        .output()
        .unwrap();
    let texts: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| text_of(&serde_json::from_str(l).unwrap()))
        .collect();
    assert_eq!(texts, ["hello 3", "hello 4"]);
    // The sync message was never stored: the swarm holds 1, 3 and 4 only.
    let mut all = swarm_texts(&p.b, &nodes, &p.tmp.path().join("scratch"));
    all.sort();
    assert_eq!(all, ["hello 1", "hello 3", "hello 4"]);
}

/// A message sent through the sync methods directly to a node.
fn call(url: &str, method: &str, params: Value) -> (u16, Value) {
    rpc(url, method, params)
}

#[test]
fn test_abuse_is_refused_and_the_node_keeps_serving() {
    let tn = Testnet::up(3);
    let url = tn.url(0);
    let sk = SigningKey::from_bytes(&[7; 32]);
    let pk = sk.verifying_key().to_bytes();
    let lock = snkit::sync_formats::ack::AckLock { eph: [1; 32], check: [2; 32] };
    let now = now_ms();
    // Unknown listener: 404 unknown.
    let (s, v) = call(&url, "sync_deliver", srpc::deliver_params(&pk, b"x", &lock, now, now + 60_000, 500));
    assert_eq!((s, v["status"].clone()), (404, json!("unknown")));
    // Bad signature: 401. Stale timestamp: 406.
    let mut bad = srpc::listen_params(&sk, 0, &[], 0, now);
    bad["cursor"] = json!(1);
    assert_eq!(call(&url, "sync_listen", bad).0, 401);
    assert_eq!(call(&url, "sync_listen", srpc::listen_params(&sk, 0, &[], 0, now - 3_600_000)).0, 406);
    // Malformed: 400.
    assert_eq!(call(&url, "sync_listen", json!({"listen_pk": "nope"})).0, 400);
    // Oversize data: 413.
    let big = vec![0u8; snkit::limits::SYNC_MAX_DATA_BYTES + 1];
    let (s, _) = call(&url, "sync_deliver", srpc::deliver_params(&pk, &big, &lock, now, now + 60_000, 500));
    assert_eq!(s, 413);
    // A burst over the bucket: 429 rate_limited (a listen just ended keeps delivers queued).
    let (s, v) = call(&url, "sync_listen", srpc::listen_params(&sk, 0, &[], 0, now_ms()));
    assert_eq!((s, v["new"].clone()), (200, json!(true)));
    let burst = snkit::limits::SYNC_DELIVER_BURST as usize + 10;
    let codes: Vec<(u16, Value)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..burst)
            .map(|_| {
                let url = url.clone();
                s.spawn(move || {
                    let n = now_ms();
                    call(&url, "sync_deliver", srpc::deliver_params(&pk, b"y", &lock, n, n + 60_000, 100))
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(codes.iter().any(|(s, v)| *s == 429 && v["status"] == json!("rate_limited")), "{codes:?}");
    assert!(codes.iter().all(|(s, _)| *s < 500), "{codes:?}");
    // Unlisten: the subscription goes; a deliver is 404 again.
    assert_eq!(call(&url, "sync_unlisten", srpc::unlisten_params(&sk, now_ms())).0, 200);
    let n = now_ms();
    assert_eq!(call(&url, "sync_deliver", srpc::deliver_params(&pk, b"x", &lock, n, n + 60_000, 500)).0, 404);
    // Garbage at the sync methods never gets a 5xx, and the node still serves its RPC.
    for body in [
        &b"{\"method\":\"sync_listen\",\"params\":7}"[..],
        b"{\"method\":\"sync_deliver\"}",
        b"{\"method\":\"sync_unlisten\",\"params\":{}}",
    ] {
        let (s, _) = post_raw(&url, "/storage_rpc/v1", body);
        assert!((400..500).contains(&s), "{s}");
    }
    // The barrage of tests/e2e/node.rs, aimed at the sync methods: mangled listens and
    // delivers, each answered below 500.
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(15);
    let n = now_ms();
    let valid = [
        json!({"method": "sync_listen", "params": srpc::listen_params(&sk, 0, &[], 0, n)}).to_string(),
        json!({"method": "sync_deliver", "params": srpc::deliver_params(&pk, b"hi", &lock, n, n + 60_000, 100)})
            .to_string(),
    ];
    for round in 0..300 {
        let mut body = valid[round % 2].clone().into_bytes();
        match round % 3 {
            0 => {
                let i = rng.gen_range(0..body.len());
                body[i] = rng.r#gen();
            }
            1 => body.truncate(rng.gen_range(0..body.len())),
            _ => {
                let i = rng.gen_range(0..body.len());
                body.splice(i..i, (0..rng.gen_range(1..40)).map(|_| rng.r#gen::<u8>()));
            }
        }
        let (s, reply) = post_raw(&url, "/storage_rpc/v1", &body);
        assert!(s < 500, "{s} to {:?}: {reply}", String::from_utf8_lossy(&body));
    }
    assert_eq!(rpc(&url, "info", json!({})).0, 200);

    // 10,000 subscriptions (the node's cap) and then some: the surplus is refused 429, the node's
    // memory stays bounded and it keeps serving.
    let pid = tn.state()["nodes"][0]["pid"].as_u64().expect("node 0's pid") as u32;
    let rss_before = rss_kib(pid);
    let cap = snkit::limits::NODE_SYNC_MAX_SUBSCRIPTIONS;
    let codes: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8usize)
            .map(|t| {
                let url = url.clone();
                s.spawn(move || {
                    let client = http();
                    let mut codes = Vec::new();
                    for i in (t..cap + 100).step_by(8) {
                        let mut seed = [0xa5u8; 32];
                        seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
                        let sk = SigningKey::from_bytes(&seed);
                        let params = srpc::listen_params(&sk, 0, &[], 0, now_ms());
                        codes.push(rpc_with(&client, &url, "sync_listen", params).0);
                    }
                    codes
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let accepted = codes.iter().filter(|&&c| c == 200).count();
    let refused = codes.iter().filter(|&&c| c == 429).count();
    assert_eq!(
        accepted + refused,
        codes.len(),
        "only 200 and 429: {:?}",
        codes.iter().find(|&&c| c != 200 && c != 429)
    );
    assert!(refused >= 100 && accepted <= cap, "{accepted} subscriptions accepted, {refused} refused");
    let rss_after = rss_kib(pid);
    // Measured: 13 → 19 MiB for 10,000 (release). Debug builds are bigger; 64 MiB bounds both.
    assert!(
        rss_after < 64 * 1024,
        "node RSS {rss_before} KiB → {rss_after} KiB with {accepted} subscriptions"
    );
    assert_eq!(rpc(&url, "info", json!({})).0, 200, "the node keeps serving");
}

#[test]
fn test_bad_sync_flags_exit_2_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, _) = keygen(tmp.path(), "a");
    let (_, b_sid) = keygen(tmp.path(), "b");
    let nodes = tmp.path().join("none.json");
    for extra in [&["--sync", "sometimes"][..], &["--ack-timeout", "5"], &["--ack-timeout", "60000"]] {
        let out = cmd("send")
            .args(["--identity", a.to_str().unwrap(), "--to", &b_sid, "--nodes", nodes.to_str().unwrap()])
            .args(extra)
            .write_stdin(b"x".to_vec())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        // One error line (and at most clap's hint line), as every command's bad input.
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.starts_with("send: error: ") && text.trim().lines().count() <= 2, "{extra:?}: {text}");
    }
    for extra in [
        &["--listen", "--listen-node", "nowhere"][..],
        &["--peers", "--listen"],
        &["--listen", "--delete"],
        &["--listen", "--listen-rate", "0"],
        &["--listen", "--listen-burst", "many"],
        &["--events"],
        &["--listen-rate", "5"],
    ] {
        let out = cmd("retrieve")
            .args(["--identity", a.to_str().unwrap(), "--nodes", nodes.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // --peers of an identity that never listened: nothing, exit 0, no network.
    let out = cmd("retrieve")
        .args([
            "--identity",
            a.to_str().unwrap(),
            "--state",
            tmp.path().join("s").to_str().unwrap(),
            "--peers",
        ])
        .output()
        .unwrap();
    assert!(out.status.success() && out.stdout.is_empty());
}

#[test]
fn test_forged_acks_fall_back_and_every_message_arrives_once() {
    let tn = Testnet::up_env(12, &[("SNKIT_TEST_SYNC_HOSTILE", "forge")]);
    let nodes = tn.nodes_json();
    let p = Pair::new();
    let la = Listener::start(&p.a, &p.state("a"), &nodes, &[]);
    let lb = Listener::start(&p.b, &p.state("b"), &nodes, &[]);
    // B's handshake is acked by A, but the node forges the proof: B marks A offline; A still
    // holds B's presence.
    p.handshake_with(&nodes, &la, &lb, false);
    let mut reasons = Vec::new();
    for i in 2..=6 {
        let (ok, v, _) = send(
            &p.a,
            &p.state("a"),
            &p.b_sid,
            &nodes,
            &format!("hello {i}"),
            &["--ack-timeout", ACK_TIMEOUT],
        );
        assert!(ok, "{v}");
        assert_eq!(v["via"], json!("async"), "a forged ack is never a delivery: {v}");
        reasons.push(v["sync"]["reason"].as_str().unwrap().to_string());
    }
    // A meets the forged proof either in its first send or, when its answer to B's handshake
    // came back first, there (B is then marked offline and every send goes straight to async).
    let a_saw_forgery_first = peers(&p.a, &p.state("a"))
        .iter()
        .any(|r| r["session_id"] == json!(p.b_sid) && r["offline"] == json!(true));
    assert!(
        reasons[0].contains("invalid proof") || (a_saw_forgery_first && reasons[0] == "peer marked offline"),
        "{reasons:?}"
    );
    assert!(reasons.iter().all(|r| r.contains("invalid proof") || r == "peer marked offline"), "{reasons:?}");
    let want: Vec<String> = (1..=6).map(|i| format!("hello {i}")).collect();
    assert!(
        eventually(Duration::from_secs(30), || {
            let mut t = lb.texts();
            t.sort();
            t == want
        }),
        "B printed {:?}",
        lb.texts()
    );
    // Still once each after a few more polls.
    std::thread::sleep(Duration::from_secs(2));
    let mut t = lb.texts();
    t.sort();
    assert_eq!(t, want);
}

/// The senders' ack timeout: sync.md §6 says 500 ms, but a debug build on two cores shared
/// with other builds (load average 25-40) acks in over a second; the default 5 s keeps the
/// sync route in use, and a late ack only costs a fallback, which the tests also check.
const ACK_TIMEOUT: &str = "5000";

/// A conversation of `n` messages during which B's listener is killed (-9) after 30% and
/// restarted after 70%, or (with `kill_node`) its listening node is killed after 30%.
fn conversation_survives(kill_node: bool, n: usize) {
    let tn = Testnet::up(20);
    let nodes = tn.nodes_json();
    let p = Pair::new();
    let la = Listener::start(&p.a, &p.state("a"), &nodes, &[]);
    let mut lb = Listener::start(&p.b, &p.state("b"), &nodes, &[]);
    p.handshake(&nodes, &la, &lb);
    let mut printed: Vec<String> = Vec::new();
    let mut vias = Vec::new();
    let mut reasons = Vec::new();
    let mut killed = false;
    for i in 2..=n {
        if i == n * 3 / 10 {
            if kill_node {
                let me: Value = serde_json::from_slice(
                    &std::fs::read(p.state("b").join(format!("{}.sync/self.json", p.b_sid))).unwrap(),
                )
                .unwrap();
                let idx = tn.index_of(me["node"].as_str().unwrap()).unwrap();
                tn.kill(idx);
            } else {
                printed.extend(lb.texts());
                lb.kill9();
                killed = true;
            }
        }
        if killed && i == n * 7 / 10 {
            lb = Listener::start(&p.b, &p.state("b"), &nodes, &[]);
            killed = false;
        }
        let (ok, v, _) = send(
            &p.a,
            &p.state("a"),
            &p.b_sid,
            &nodes,
            &format!("hello {i}"),
            &["--ack-timeout", ACK_TIMEOUT],
        );
        assert!(ok, "send {i} failed: {v}");
        vias.push(v["via"].as_str().unwrap_or("").to_string());
        reasons.push(format!("{i}: {}", v["sync"]["reason"].as_str().unwrap_or("-")));
    }
    let want: Vec<String> = (1..=n).map(|i| format!("hello {i}")).collect();
    // What B printed over its runs, plus what a plain retrieve then finds new.
    assert!(
        eventually(Duration::from_secs(40), || {
            let mut got: Vec<String> = printed.iter().cloned().chain(lb.texts()).collect();
            got.sort();
            got.dedup();
            got.len() == n
        }),
        "B is missing messages: printed {:?}",
        printed.iter().cloned().chain(lb.texts()).collect::<Vec<_>>()
    );
    let mut got: Vec<String> = printed.iter().cloned().chain(lb.texts()).collect();
    let total = got.len();
    got.sort();
    let mut sorted_want = want.clone();
    sorted_want.sort();
    assert_eq!(got, sorted_want, "exactly the sent set");
    assert_eq!(total, n, "none twice");
    assert!(vias.iter().any(|v| v == "sync"), "{vias:?}");
    assert!(vias.iter().any(|v| v == "async"), "{vias:?}");
    // After the disruption the conversation is back on the sync route.
    assert!(vias[n * 7 / 10..].iter().any(|v| v == "sync"), "{reasons:?}");
}

/// Messages of the kill tests: sync.md §6's 1,000 (about 45 s per test on a quiet machine: each
/// send is its own process). `SNKIT_E2E_SYNC_MESSAGES=N` runs N instead, for a quick look.
fn kill_test_messages() -> usize {
    const SPEC_MESSAGES: usize = 1_000;
    std::env::var("SNKIT_E2E_SYNC_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(SPEC_MESSAGES)
}

#[test]
fn test_receiver_killed_mid_conversation_loses_nothing() {
    conversation_survives(false, kill_test_messages());
}

#[test]
fn test_listening_node_killed_mid_conversation_loses_nothing() {
    conversation_survives(true, kill_test_messages());
}

#[test]
fn test_crash_between_print_and_ack_prints_once() {
    let tn = Testnet::up(12);
    let nodes = tn.nodes_json();
    let p = Pair::new();
    let la = Listener::start(&p.a, &p.state("a"), &nodes, &[]);
    let mut lb = Listener::start(&p.b, &p.state("b"), &nodes, &[("SNKIT_TEST_SYNC_CRASH_AFTER_SAVE", "1")]);
    p.handshake(&nodes, &la, &lb);
    // B prints and saves "hello 2" and aborts before its ack: A times out and stores.
    let (ok, v, _) = send(&p.a, &p.state("a"), &p.b_sid, &nodes, "hello 2", &["--ack-timeout", ACK_TIMEOUT]);
    assert!(ok, "{v}");
    assert_eq!(v["via"], json!("async"), "{v}");
    lb.wait_for("hello 2", Duration::from_secs(10));
    assert!(
        eventually(Duration::from_secs(10), || lb.child.try_wait().unwrap().is_some()),
        "failpoint did not fire"
    );
    let before = lb.texts();
    // Restarted, B polls the stored copy: already seen, not printed again.
    let lb2 = Listener::start(&p.b, &p.state("b"), &nodes, &[]);
    let (ok, v, _) = send(&p.a, &p.state("a"), &p.b_sid, &nodes, "hello 3", &[]);
    assert!(ok, "{v}");
    lb2.wait_for("hello 3", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(3));
    let mut all: Vec<String> = before.into_iter().chain(lb2.texts()).collect();
    all.sort();
    assert_eq!(all, ["hello 1", "hello 2", "hello 3"]);
    // The journal holds the sync line printed before the crash.
    let journal =
        std::fs::read_to_string(p.state("b").join(format!("{}.sync/inbox.ndjson", p.b_sid))).unwrap();
    assert!(journal.lines().any(|l| text_of(&serde_json::from_str(l).unwrap()) == "hello 2"), "{journal}");
}

#[test]
fn test_a_retry_of_the_same_framed_bytes_is_printed_once() {
    // sync.md §6.4's variant: a sender killed during its deliver reruns `send` with the same
    // bytes. `send` passes framed stdin through unchanged, so both copies share one hash.
    let tn = Testnet::up(3);
    let nodes = tn.nodes_json();
    let p = Pair::new();
    let alice = Identity::load(&p.a).unwrap();
    let bob = snkit::identity::SessionId::parse(&p.b_sid).unwrap();
    let offline = snkit::sync_formats::presence::Presence::offline(now_ms());
    let sealed =
        snkit::sync_formats::presence::seal(&alice, &bob, &offline, &mut rand::thread_rng()).unwrap();
    let framed = snkit::sync_formats::wrap::frame(&sealed, b"only once");
    let mut hashes = Vec::new();
    for _ in 0..2 {
        let out = cmd("send")
            .args([
                "--identity",
                p.a.to_str().unwrap(),
                "--to",
                &p.b_sid,
                "--state",
                p.state("a").to_str().unwrap(),
            ])
            .args(["--nodes", nodes.to_str().unwrap()])
            .write_stdin(framed.clone())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        hashes.push(v["hash"].clone());
    }
    assert_eq!(hashes[0], hashes[1], "the same bytes, the same hash");
    assert_eq!(swarm_texts(&p.b, &nodes, &p.state("b")), ["only once"]);
}

#[test]
fn test_a_burst_at_the_listening_node_is_429_and_the_send_falls_back() {
    // sync.md §6.7: "burst over the bucket: 429, and the sender falls back". A flood of delivers
    // (locks that open for nobody, so never acked) keeps B's bucket at the node empty while A
    // sends; A's deliver is refused 429 and the message is stored in the swarm instead.
    let tn = Testnet::up(6);
    let nodes = tn.nodes_json();
    let p = Pair::new();
    let la = Listener::start(&p.a, &p.state("a"), &nodes, &[]);
    // B asks for a bucket smaller than the node's (1/s, burst 3) and prints its events.
    let lb = Listener::start_with(
        &p.b,
        &p.state("b"),
        &nodes,
        &[],
        &["--events", "--listen-rate", "1", "--listen-burst", "3"],
    );
    p.handshake(&nodes, &la, &lb);
    let ev = lb.events();
    let kinds: Vec<&str> = ev.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"listening"), "{ev:?}");
    let sub = ev.iter().find(|e| e["event"] == json!("subscribed")).expect("a subscribed event");
    assert_eq!(
        (sub["rate"].clone(), sub["burst"].clone()),
        (json!(1), json!(3)),
        "the node's bucket for B: {sub}"
    );
    assert!(
        ev.iter().any(|e| e["event"] == json!("presence")
            && e["peer"] == json!(p.a_sid)
            && e["online"] == json!(true)),
        "B's event for A's presence: {ev:?}"
    );
    assert!(
        eventually(Duration::from_secs(20), || lb.events().iter().any(|e| e["event"] == json!("handshake")
            && e["peer"] == json!(p.a_sid)
            && e["acked"] == json!(true))),
        "B's acked handshake to A: {:?}",
        lb.events()
    );
    let b_rec = peers(&p.a, &p.state("a")).into_iter().find(|r| r["session_id"] == json!(p.b_sid)).unwrap();
    let node_url = tn.url(tn.index_of(b_rec["node"].as_str().unwrap()).expect("B's listening node"));
    let listen_pk: [u8; 32] = hex::decode(b_rec["listen_pk"].as_str().unwrap()).unwrap().try_into().unwrap();

    let stop = std::sync::atomic::AtomicBool::new(false);
    let refused_flood = std::sync::atomic::AtomicUsize::new(0);
    let mut reasons = Vec::new();
    std::thread::scope(|s| {
        for _ in 0..8 {
            let (stop, refused_flood, node_url) = (&stop, &refused_flood, &node_url);
            s.spawn(move || {
                let client = http();
                let lock = snkit::sync_formats::ack::AckLock { eph: [1; 32], check: [2; 32] };
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let n = now_ms();
                    let params = srpc::deliver_params(&listen_pk, b"flood", &lock, n, n + 60_000, 100);
                    if rpc_with(&client, node_url, "sync_deliver", params).0 == 429 {
                        refused_flood.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
        assert!(
            eventually(Duration::from_secs(20), || refused_flood.load(std::sync::atomic::Ordering::Relaxed)
                > 0),
            "the flood empties B's bucket"
        );
        // A refilled token can go to A's deliver rather than the flood's: then the send is sync
        // and the next one tries again.
        for i in 0..5 {
            let (ok, v, _) = send(
                &p.a,
                &p.state("a"),
                &p.b_sid,
                &nodes,
                &format!("burst {i}"),
                &["--ack-timeout", ACK_TIMEOUT],
            );
            assert!(ok, "send exits 0 whatever the route: {v}");
            let reason = v["sync"]["reason"].as_str().unwrap_or("").to_string();
            reasons.push((v["via"].clone(), reason.clone()));
            if reason.starts_with("429") {
                assert_eq!(v["via"], json!("async"), "{v}");
                assert!(!v["stored"].as_array().unwrap().is_empty(), "stored in the swarm: {v}");
                break;
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    assert!(reasons.iter().any(|(_, r)| r.starts_with("429")), "no send met the 429: {reasons:?}");
    // A 429 says B listens, only not that fast: A keeps trying sync (docs/sync.md, deviation).
    let b_rec = peers(&p.a, &p.state("a")).into_iter().find(|r| r["session_id"] == json!(p.b_sid)).unwrap();
    assert_eq!(b_rec["offline"], json!(false), "{b_rec}");
    // Every message reaches B once, the refused one by its async copy.
    let mut want: Vec<String> = std::iter::once("hello 1".to_string())
        .chain((0..reasons.len()).map(|i| format!("burst {i}")))
        .collect();
    want.sort();
    assert!(
        eventually(Duration::from_secs(30), || {
            let mut t = lb.texts();
            t.sort();
            t == want
        }),
        "B printed {:?}, want {want:?} ({reasons:?})",
        lb.texts()
    );
}
