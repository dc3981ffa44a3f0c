//! A testnet of real hosts (issue 17): `testnet up --hosts` puts every node, the registry and
//! each client in its own network namespace with its own address, so what each node saw of the
//! network can be checked from the peer addresses it recorded (`snode --peer-log`). These tests
//! need root (namespaces, links); elsewhere they skip with a message. CI runs as root.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::common::{Testnet, bin, eventually, now_ms, retrieve_hashes};

/// A public inbox namespace: stores and retrieves need no signature.
const NS: i16 = -10;
/// How long every acknowledged message may take to reach all members after the heal (the
/// nodes retry a failed replication every 2 s).
const CONVERGE_WITHIN: Duration = Duration::from_secs(60);
/// The phase of a store that ran while the partition or the heal was being made.
const TRANSITION: u8 = 9;
/// Timeout of the tests' own direct requests to a node (a cut host fails at once: no route).
const DIRECT_TIMEOUT: Duration = Duration::from_secs(10);

fn root_or_skip(what: &str) -> bool {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: {what} needs root for network namespaces (CI runs as root)");
        return false;
    }
    // Root in a container may still lack CAP_NET_ADMIN/CAP_SYS_ADMIN: probe once.
    let probe = format!("snkit-probe-{}-{:08x}", std::process::id(), rand::random::<u32>());
    let made = Command::new("ip").args(["netns", "add", &probe]).stderr(Stdio::null()).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: {what}: 'ip netns add' is refused here (no iproute2, or no CAP_SYS_ADMIN)");
        return false;
    }
    let _ = Command::new("ip").args(["netns", "del", &probe]).status();
    true
}

/// `testnet up --hosts --nodes n --clients 2`.
fn hosts_testnet(n: usize) -> Testnet {
    Testnet::up_with(n, &["--hosts", "--clients", "2"])
}

/// The `hosts` record of `testnet.json`.
fn net(tn: &Testnet) -> Value {
    tn.state()["hosts"].clone()
}

/// The host named `name` (`registry`, `c1`, `n3`).
fn host(tn: &Testnet, name: &str) -> Value {
    let n = net(tn);
    let all = std::iter::once(n["registry"].clone())
        .chain(n["clients"].as_array().cloned().unwrap_or_default())
        .chain(n["nodes"].as_array().cloned().unwrap_or_default());
    all.into_iter().find(|h| h["name"] == name).unwrap_or_else(|| panic!("no host {name} in {n}"))
}

fn addr(tn: &Testnet, name: &str) -> String {
    host(tn, name)["addr"].as_str().unwrap().to_string()
}

/// Runs `f` on this thread from inside host `name` (its sockets carry that host's address).
fn from_host<T>(tn: &Testnet, name: &str, f: impl FnOnce() -> T) -> T {
    let ns = host(tn, name)["netns"].as_str().unwrap().to_string();
    snkit::testnet::hosts::in_netns(&ns, f).expect("enter the host's namespace")
}

/// `testnet exec HOST --dir DIR -- args…` with `stdin`.
fn exec(tn: &Testnet, name: &str, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(bin("testnet"))
        .args(["exec", name, "--dir"])
        .arg(tn.dir())
        .arg("--")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run testnet exec");
    // A command that exits without reading its input is not a failure of the test.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("testnet exec")
}

/// A plain request with a short timeout; `None` when there was no answer.
fn try_rpc(url: &str, method: &str, params: Value) -> Option<(u16, Value)> {
    let client = reqwest::blocking::Client::builder()
        .timeout(DIRECT_TIMEOUT)
        .use_preconfigured_tls(snkit::tls::client_config().expect("TLS config"))
        .build()
        .expect("HTTP client");
    let resp = client
        .post(format!("{url}/storage_rpc/v1"))
        .header("content-type", "application/json")
        .body(json!({"method": method, "params": params}).to_string())
        .send()
        .ok()?;
    let status = resp.status().as_u16();
    let text = resp.text().unwrap_or_default();
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

fn namespaces() -> String {
    let out = Command::new("ip").args(["netns", "list"]).output().expect("ip netns list");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_host_testnet_gives_each_process_its_own_address_exec_runs_in_a_host_and_down_removes_everything() {
    if !root_or_skip("testnet up --hosts") {
        return;
    }
    let tn = hosts_testnet(3);
    let n = net(&tn);
    let slot = n["slot"].as_u64().unwrap();
    let prefix = format!("sk{slot}-");

    // Every host has its own address; the node list carries the nodes' addresses.
    let names = ["registry", "c1", "c2", "n0", "n1", "n2"];
    let addrs: BTreeSet<String> = names.iter().map(|h| addr(&tn, h)).collect();
    assert_eq!(addrs.len(), names.len(), "one distinct address per host: {n}");
    let listed: BTreeSet<String> =
        tn.nodes().iter().map(|e| e["public_ip"].as_str().unwrap().to_string()).collect();
    let node_addrs: BTreeSet<String> = ["n0", "n1", "n2"].iter().map(|h| addr(&tn, h)).collect();
    assert_eq!(listed, node_addrs, "nodes.json names the nodes' own addresses");
    assert!(tn.registry_url().contains(&addr(&tn, "registry")), "the registry listens on its host");
    let present = namespaces();
    for h in names {
        assert!(present.contains(&format!("{prefix}{h}")), "namespace of {h} in: {present}");
    }
    // Nothing of the testnet holds an address in the root namespace: the bridge is a bare switch.
    let bridge = n["bridge"].as_str().unwrap();
    let out = Command::new("ip").args(["-4", "-o", "addr", "show", "dev", bridge]).output().unwrap();
    assert!(out.stdout.is_empty(), "the bridge has no address: {}", String::from_utf8_lossy(&out.stdout));

    // exec runs inside the client's host and passes its exit code on.
    let out = exec(&tn, "c1", &["ip", "-4", "-o", "addr", "show", "dev", "eth0"], b"");
    assert!(out.status.success(), "exec: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&addr(&tn, "c1")), "c1 sees its own address");
    let out = exec(&tn, "c2", &["sh", "-c", "exit 3"], b"");
    assert_eq!(out.status.code(), Some(3), "exec exits with the command's code");
    let out = exec(&tn, "nosuch", &["true"], b"");
    assert_eq!(out.status.code(), Some(2), "an unknown host is a usage error");

    // A partition cuts node 0 off from the client; heal restores it.
    let (u0, u1) = (tn.url(0), tn.url(1));
    assert!(from_host(&tn, "c1", || try_rpc(&u0, "info", json!({}))).is_some(), "c1 reaches node 0");
    let cut = tn.run(&["partition", "0"]);
    assert_eq!(cut["cut"], json!(["n0"]), "{cut}");
    assert!(from_host(&tn, "c1", || try_rpc(&u0, "info", json!({}))).is_none(), "node 0 is cut off from c1");
    assert!(from_host(&tn, "c1", || try_rpc(&u1, "info", json!({}))).is_some(), "node 1 is not");
    tn.run(&["heal"]);
    assert!(from_host(&tn, "c1", || try_rpc(&u0, "info", json!({}))).is_some(), "healed: c1 reaches node 0");

    // down removes every namespace, veth and the bridge.
    tn.down_leaving_nothing_running();
    let left = namespaces();
    assert!(!left.contains(&prefix), "down left namespaces: {left}");
    let links: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|l| l.starts_with(&prefix))
        .collect();
    assert!(links.is_empty(), "down left links: {links:?}");
}

#[test]
fn without_root_a_host_testnet_is_refused_with_a_usage_error() {
    if !root_or_skip("dropping to an unprivileged user") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("tn");
    // setpriv (util-linux) runs the command as nobody.
    let Ok(out) = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bin("testnet"))
        .args(["up", "--hosts", "--nodes", "1", "--dir"])
        .arg(&target)
        .output()
    else {
        eprintln!("skipped: setpriv is not installed");
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit 2 without root: {err}");
    assert!(err.contains("needs root") && err.lines().count() <= 2, "one clear line: {err}");
    assert!(!target.exists(), "nothing was made: {}", target.display());
}

/// One line of a node's `peers.ndjson`.
#[derive(Debug, Clone)]
struct Seen {
    /// The address of the node that recorded it.
    at: String,
    /// The peer's IP address.
    peer: String,
    route: String,
    hop_no: Option<u64>,
    ts_ms: u64,
}

/// Every request the nodes recorded between `from` and `to` (ms).
fn seen(tn: &Testnet, from: u64, to: u64) -> Vec<Seen> {
    let mut out = Vec::new();
    for (i, node) in tn.state()["nodes"].as_array().unwrap().iter().enumerate() {
        let at = node["ip"].as_str().unwrap().to_string();
        let path = Path::new(node["data_dir"].as_str().unwrap()).join("peers.ndjson");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("node {i}'s peer log: {e}"));
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            let ts_ms = v["ts_ms"].as_u64().unwrap();
            if ts_ms < from || ts_ms > to {
                continue;
            }
            let peer: std::net::SocketAddr = v["peer"].as_str().unwrap().parse().unwrap();
            out.push(Seen {
                at: at.clone(),
                peer: peer.ip().to_string(),
                route: v["route"].as_str().unwrap().to_string(),
                hop_no: v["hop_no"].as_u64(),
                ts_ms,
            });
        }
    }
    out
}

/// Checks the onion requests of one operation made from `client`: the guards (hop 1) saw only
/// the client's address, every later hop only addresses of nodes that were the hop before it,
/// the client's address reached no node but a guard, and every path had all four layers.
fn check_hops(records: &[Seen], client: &str, what: &str) {
    let onion: Vec<&Seen> = records.iter().filter(|s| s.route == "/onion_req/v2").collect();
    let mut by_hop: BTreeMap<u64, Vec<&Seen>> = BTreeMap::new();
    for s in &onion {
        by_hop.entry(s.hop_no.expect("an onion line names its hop")).or_default().push(s);
    }
    assert_eq!(by_hop.keys().copied().collect::<Vec<_>>(), vec![0, 1, 2, 3], "{what}: hops seen: {onion:#?}");
    let paths = by_hop[&0].len();
    assert!(paths >= 3, "{what}: three copies, each through its own path: {onion:#?}");
    for s in &by_hop[&0] {
        assert_eq!(s.peer, client, "{what}: hop 1 ({}) saw only the client's address", s.at);
    }
    for hop in 1..=3u64 {
        let before: Vec<&Seen> = by_hop[&(hop - 1)].clone();
        assert_eq!(by_hop[&hop].len(), paths, "{what}: every path reached hop {}", hop + 1);
        for s in &by_hop[&hop] {
            assert_ne!(s.peer, client, "{what}: hop {} ({}) saw the client's address", hop + 1, s.at);
            assert_ne!(s.peer, s.at, "{what}: a hop is not its own predecessor");
            let from_previous = before.iter().any(|b| b.at == s.peer && b.ts_ms <= s.ts_ms);
            assert!(
                from_previous,
                "{what}: hop {} ({}) saw {}, which was no hop {} just before: {onion:#?}",
                hop + 1,
                s.at,
                s.peer,
                hop
            );
        }
    }
    let stray: Vec<&Seen> = records.iter().filter(|s| s.peer == client && s.hop_no != Some(0)).collect();
    assert!(stray.is_empty(), "{what}: the client's address reached a node only as a guard: {stray:#?}");
}

#[test]
fn through_three_hop_paths_each_hop_sees_only_the_address_of_the_hop_before_it() {
    if !root_or_skip("testnet up --hosts") {
        return;
    }
    // Seven nodes: each path is three distinct nodes besides its target.
    let tn = hosts_testnet(7);
    let keys = tempfile::tempdir().unwrap();
    let (alice, bob) = (keys.path().join("alice.json"), keys.path().join("bob.json"));
    for id in [&alice, &bob] {
        crate::common::cmd("keygen").arg("-o").arg(id).assert().success();
    }
    let bob_id: Value = serde_json::from_str(&std::fs::read_to_string(&bob).unwrap()).unwrap();
    let bob_sid = bob_id["session_id"].as_str().unwrap();

    let t0 = now_ms();
    // By name: exec puts the toolkit's own commands first on PATH. Fresh paths: a kept path's
    // build-time test is a 3-layer request to its last hop, which would blur the per-hop count.
    let (send, retrieve) = ("send", "retrieve");
    let out = exec(
        &tn,
        "c1",
        &[send, "--fresh-path", "--identity", alice.to_str().unwrap(), "--to", bob_sid],
        b"over real hosts",
    );
    assert!(out.status.success(), "send from c1: {}", String::from_utf8_lossy(&out.stderr));
    let sent: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!sent["stored"].as_array().unwrap().is_empty(), "stored: {sent}");
    let t1 = now_ms();
    let state = keys.path().join("state");
    let out = exec(
        &tn,
        "c2",
        &[retrieve, "--fresh-path", "--identity", bob.to_str().unwrap(), "--state", state.to_str().unwrap()],
        b"",
    );
    assert!(out.status.success(), "retrieve from c2: {}", String::from_utf8_lossy(&out.stderr));
    let got = String::from_utf8_lossy(&out.stdout);
    assert!(got.contains(sent["hash"].as_str().unwrap()), "bob retrieved the message: {got}");
    let t2 = now_ms();

    check_hops(&seen(&tn, t0, t1), &addr(&tn, "c1"), "send from c1");
    check_hops(&seen(&tn, t1, t2), &addr(&tn, "c2"), "retrieve from c2");
}

/// Stores message `n` for `pk` on the node at `url`; its hash when the node acknowledged it.
fn store(url: &str, pk: &str, n: usize) -> Option<String> {
    let data = STANDARD.encode(format!("message {n}"));
    let params =
        json!({"pubkey": pk, "timestamp": now_ms(), "ttl": 3_600_000, "data": data, "namespace": NS});
    match try_rpc(url, "store", params) {
        Some((200, reply)) => reply["hash"].as_str().map(str::to_string),
        _ => None,
    }
}

#[test]
fn a_swarm_split_three_four_during_stores_loses_no_acknowledged_message_once_healed() {
    if !root_or_skip("testnet up --hosts") {
        return;
    }
    let tn = hosts_testnet(7);
    let swarms: BTreeSet<String> = tn.nodes().iter().map(|n| n["swarm_id"].to_string()).collect();
    assert_eq!(swarms.len(), 1, "seven nodes make one swarm of seven: {swarms:?}");
    let urls = tn.urls();
    let pk = format!("05{}", hex::encode(rand::random::<[u8; 32]>()));

    // Phase 0 before the split, 1 during it, 2 from the heal on.
    let phase = Arc::new(AtomicU8::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<(u8, usize, String)>>> = Arc::default();
    let refused: Arc<Mutex<Vec<(u8, usize)>>> = Arc::default();
    let client_ns = host(&tn, "c1")["netns"].as_str().unwrap().to_string();
    let stream = {
        let (phase, stop, acked, refused, urls, pk) =
            (phase.clone(), stop.clone(), acked.clone(), refused.clone(), urls.clone(), pk.clone());
        std::thread::spawn(move || {
            // The whole stream comes from client c1, round-robin over the members.
            snkit::testnet::hosts::in_netns(&client_ns, || {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let (p, member) = (phase.load(Ordering::SeqCst), n % urls.len());
                    let took = std::time::Instant::now();
                    let stored = store(&urls[member], &pk, n);
                    let took = took.elapsed();
                    // A store the split began or ended during belongs to no phase.
                    let p = if phase.load(Ordering::SeqCst) == p { p } else { TRANSITION };
                    match stored {
                        Some(hash) => {
                            if p == 1 {
                                eprintln!(
                                    "store {n} on member {member} during the split: acknowledged in {took:?}"
                                );
                            }
                            acked.lock().unwrap().push((p, member, hash));
                        }
                        None => refused.lock().unwrap().push((p, member)),
                    }
                    n += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
            .expect("enter c1's namespace");
        })
    };
    let count = |p: u8| acked.lock().unwrap().iter().filter(|(q, _, _)| *q == p).count();

    let began = std::time::Instant::now();
    assert!(eventually(Duration::from_secs(30), || count(0) >= 7), "stores before the split");
    eprintln!("split after {:?}", began.elapsed());
    tn.run(&["partition", "0", "1", "2"]);
    phase.store(1, Ordering::SeqCst);
    // Each store on the majority side now waits out the replication timeout of its pooled
    // connections to the cut members (packets to them go nowhere): a few seconds apiece.
    assert!(eventually(Duration::from_secs(90), || count(1) >= 6), "stores acknowledged during the split");
    eprintln!("heal after {:?}", began.elapsed());
    // Stores from here on may see the links restored.
    phase.store(2, Ordering::SeqCst);
    tn.run(&["heal"]);
    assert!(eventually(Duration::from_secs(30), || count(2) >= 7), "stores after the heal");
    stop.store(true, Ordering::SeqCst);
    stream.join().expect("the store stream");

    let acked = acked.lock().unwrap().clone();
    let refused = refused.lock().unwrap().clone();
    // The split was real: the cut members refused (could not be reached), and none of them
    // acknowledged a store meanwhile.
    assert!(refused.iter().any(|(p, m)| *p == 1 && *m < 3), "the cut members were unreachable: {refused:?}");
    assert!(
        !acked.iter().any(|(p, m, _)| *p == 1 && *m < 3),
        "a cut member acknowledged a store during the split: {acked:?}"
    );

    eprintln!(
        "stream stopped after {:?}: {} acknowledged, {} refused",
        began.elapsed(),
        acked.len(),
        refused.len()
    );
    // Every acknowledged message, before, during and after the split, ends on all seven.
    let want: BTreeSet<String> = acked.iter().map(|(_, _, h)| h.clone()).collect();
    let holds = |i: usize| from_host(&tn, "c1", || retrieve_hashes(&urls[i], &pk, NS));
    let converged =
        eventually(CONVERGE_WITHIN, || (0..urls.len()).all(|i| holds(i).is_ok_and(|h| want.is_subset(&h))));
    eprintln!("converged ({converged}) after {:?}", began.elapsed());
    if !converged {
        let missing: Vec<String> = (0..urls.len())
            .map(|i| {
                let got = holds(i).unwrap_or_default();
                let gone: Vec<(u8, usize, &String)> =
                    acked.iter().filter(|(_, _, h)| !got.contains(h)).map(|(p, m, h)| (*p, *m, h)).collect();
                format!("node {i}: {} missing {gone:?}", gone.len())
            })
            .collect();
        panic!(
            "acknowledged messages missing after the heal (phase, stored on, hash):\n{}",
            missing.join("\n")
        );
    }
}
