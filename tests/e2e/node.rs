//! End-to-end tests of the network (issue 4 "done when"): real `snode` processes on loopback,
//! started by `testnet`. Two 20-node testnets carry most assertions (so CI pays for few
//! start-ups); a small one checks proof of work.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use snkit::identity::Identity;
use snkit::keys::Pubkey;
use snkit::nodelist::NodeList;
use snkit::rpc::message_hash;

use crate::common::{Testnet, eventually, http, now_ms, post_raw, rpc};

/// Namespace used for test messages: a public inbox whose retrieve needs no signature.
const NS: i16 = -10;
const LONG_TTL: u64 = 3_600_000;
const CONVERGE: Duration = Duration::from_secs(60);

/// A message the network acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Msg {
    pk: String,
    hash: String,
}

fn random_pubkey() -> String {
    format!("05{}", hex::encode(rand::random::<[u8; 32]>()))
}

fn node_list(tn: &Testnet) -> NodeList {
    NodeList::load(tn.nodes_json().to_str().unwrap()).expect("nodes.json")
}

/// The swarm of `pk` in the testnet's current node list: (id, member ed25519 hex keys).
fn swarm_of(tn: &Testnet, pk: &str) -> (u64, Vec<String>) {
    let (id, members) = node_list(tn).swarm_of(&Pubkey::parse(pk).unwrap()).expect("a swarm");
    (id, members.iter().map(|n| hex::encode(n.pubkey_ed25519)).collect())
}

fn store_params(pk: &str, data: &[u8], ttl: u64) -> Value {
    json!({"pubkey": pk, "timestamp": now_ms(), "ttl": ttl, "data": STANDARD.encode(data), "namespace": NS})
}

/// Stores `data` for `pk` through a member of its swarm; panics unless acknowledged.
fn store_ok(tn: &Testnet, pk: &str, data: &[u8], ttl: u64) -> Msg {
    let (_, members) = swarm_of(tn, pk);
    let entry = tn.index_of(&members[rand::random::<usize>() % members.len()]).unwrap();
    let (status, reply) = rpc(&tn.url(entry), "store", store_params(pk, data, ttl));
    assert_eq!(status, 200, "store to node {entry}: {reply}");
    Msg { pk: pk.to_string(), hash: reply["hash"].as_str().unwrap().to_string() }
}

/// Every hash node `url` returns for `pk` (following `more`); None if the node refused.
fn retrieve_all(url: &str, pk: &str) -> Option<BTreeSet<String>> {
    crate::common::retrieve_hashes(url, pk, NS).ok()
}

fn by_pubkey(msgs: &[Msg]) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for msg in msgs {
        m.entry(msg.pk.clone()).or_default().insert(msg.hash.clone());
    }
    m
}

/// Every running node holds exactly the records of its swarm: it returns every message of every
/// pubkey of its swarm, and its message count is the number of those messages. `maybe` holds the
/// hashes of stores that were not acknowledged (the client gave up, e.g. while a killed member's
/// replication timed out) and may or may not have landed: a node may hold them, nothing else.
fn check_exact(tn: &Testnet, msgs: &[Msg], maybe: &BTreeSet<String>) -> Result<(), String> {
    let list = node_list(tn);
    let expected = by_pubkey(msgs);
    let status = tn.status();
    for node in status["nodes"].as_array().unwrap() {
        if node["state"] != "running" {
            continue;
        }
        let i = node["index"].as_u64().unwrap() as usize;
        let ed = node["pubkey_ed25519"].as_str().unwrap();
        let mut mine = 0u64;
        for (pk, hashes) in &expected {
            let (_, members) = list.swarm_of(&Pubkey::parse(pk).unwrap()).unwrap();
            if !members.iter().any(|n| hex::encode(n.pubkey_ed25519) == ed) {
                continue;
            }
            let got = retrieve_all(&tn.url(i), pk).ok_or(format!("node {i} refused to serve {pk}"))?;
            let extra: Vec<&String> = got.difference(hashes).collect();
            if !got.is_superset(hashes) || extra.iter().any(|h| !maybe.contains(*h)) {
                return Err(format!("node {i} has {} of {} messages of {pk}", got.len(), hashes.len()));
            }
            mine += got.len() as u64;
        }
        if node["messages"].as_u64() != Some(mine) {
            return Err(format!("node {i} holds {} records, its swarm has {mine}", node["messages"]));
        }
    }
    Ok(())
}

fn assert_exact(tn: &Testnet, msgs: &[Msg], maybe: &BTreeSet<String>, when: &str) {
    let mut last = String::new();
    let ok = eventually(CONVERGE, || match check_exact(tn, msgs, maybe) {
        Ok(()) => true,
        Err(e) => {
            last = e;
            false
        }
    });
    assert!(ok, "{when}: nodes do not hold exactly their swarm's records: {last}");
}

/// Messages held by all nodes together. A node that misses `testnet status`'s health deadline
/// (a loaded machine) has no count in that report, so the sum is taken only from a report in
/// which every node answered: a partial sum would look like lost messages.
fn total_messages(tn: &Testnet) -> u64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status = tn.status();
        let nodes = status["nodes"].as_array().unwrap();
        let counts: Vec<u64> = nodes.iter().filter_map(|n| n["messages"].as_u64()).collect();
        if counts.len() == nodes.len() || std::time::Instant::now() > deadline {
            return counts.iter().sum();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn swarm_count(tn: &Testnet) -> usize {
    node_list(tn).swarm_ids().len()
}

#[test]
fn twenty_nodes_store_retrieve_misdirect_refuse_and_expire() {
    let tn = Testnet::up(20);
    assert!(swarm_count(&tn) >= 2, "20 nodes form several swarms");

    // Short-lived messages first: they must be gone by the end of the test.
    let short: Vec<Msg> =
        (0..3).map(|i| store_ok(&tn, &random_pubkey(), format!("brief {i}").as_bytes(), 10_000)).collect();
    let started = std::time::Instant::now();

    // A message stored on one node is retrievable from every member of its swarm.
    let pk = random_pubkey();
    let msg = store_ok(&tn, &pk, b"hello swarm", LONG_TTL);
    let (_, members) = swarm_of(&tn, &pk);
    for ed in &members {
        let url = tn.url(tn.index_of(ed).unwrap());
        let has = || retrieve_all(&url, &pk).expect("member serves its pubkey").contains(&msg.hash);
        assert!(eventually(CONVERGE, has), "member {ed} lacks the message");
    }
    // Stored twice: kept once, `already`.
    let (status, again) =
        rpc(&tn.url(tn.index_of(&members[0]).unwrap()), "store", store_params(&pk, b"hello swarm", LONG_TTL));
    assert_eq!(status, 200);
    assert!(again["swarm"].as_object().unwrap().values().all(|m| m["already"] == json!(true)), "{again}");

    // A node outside the swarm answers 421 with the right swarm.
    let (right_id, _) = swarm_of(&tn, &pk);
    let outsider =
        node_list(&tn).iter().find(|n| !members.contains(&hex::encode(n.pubkey_ed25519))).unwrap().url();
    for (method, params) in [
        ("store", store_params(&pk, b"misdirected", LONG_TTL)),
        ("retrieve", json!({"pubkey": pk, "namespace": NS})),
    ] {
        let (status, body) = rpc(&outsider, method, params);
        assert_eq!(status, 421, "{method}: {body}");
        let swarm = u64::from_str_radix(body["swarm"].as_str().unwrap(), 16).unwrap();
        assert_eq!(swarm, right_id, "{body}");
        let snodes: BTreeSet<String> = body["snodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["pubkey_ed25519"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(snodes, members.iter().cloned().collect::<BTreeSet<_>>());
    }

    // Malformed, oversized and badly signed requests get the live statuses and change nothing.
    let before = total_messages(&tn);
    let url = tn.url(tn.index_of(&members[0]).unwrap());
    let bad_sig = STANDARD.encode([7u8; 64]);
    let id = Identity::generate();
    let owner = id.session_id().to_string();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("not JSON", b"{not json".to_vec(), 400),
        ("no method", br#"{"params":{}}"#.to_vec(), 400),
        ("unknown method", br#"{"method":"nope","params":{}}"#.to_vec(), 400),
        ("bad pubkey", json!({"method":"store","params":{"pubkey":"05zz","timestamp":now_ms(),"ttl":60000,"data":"aGk="}}).to_string().into_bytes(), 400),
        ("oversized data", json!({"method":"store","params":{"pubkey":pk,"timestamp":now_ms(),"ttl":60000,"namespace":NS,
            "data":STANDARD.encode(vec![1u8; 76_801])}}).to_string().into_bytes(), 400),
        ("ttl too short", json!({"method":"store","params":{"pubkey":pk,"timestamp":now_ms(),"ttl":5000,"namespace":NS,"data":"aGk="}}).to_string().into_bytes(), 403),
        ("from the future", json!({"method":"store","params":{"pubkey":pk,"timestamp":now_ms()+3_600_000,"ttl":60000,"namespace":NS,"data":"aGk="}}).to_string().into_bytes(), 406),
        ("unsigned private namespace", json!({"method":"store","params":{"pubkey":owner,"timestamp":now_ms(),"ttl":60000,"namespace":1,"data":"aGk="}}).to_string().into_bytes(), 401),
        ("bad store signature", json!({"method":"store","params":{"pubkey":owner,"timestamp":now_ms(),"ttl":60000,"namespace":1,"data":"aGk=",
            "signature":bad_sig,"pubkey_ed25519":hex::encode(id.ed25519_public())}}).to_string().into_bytes(), 401),
        ("bad retrieve signature", json!({"method":"retrieve","params":{"pubkey":owner,"namespace":0,"timestamp":now_ms(),
            "signature":bad_sig,"pubkey_ed25519":hex::encode(id.ed25519_public())}}).to_string().into_bytes(), 401),
        ("unsigned delete", json!({"method":"delete","params":{"pubkey":pk,"messages":[msg.hash]}}).to_string().into_bytes(), 401),
    ];
    for (what, body, want) in cases {
        // The owner's pubkey may live in another swarm: ask one of its members.
        let target = if String::from_utf8_lossy(&body).contains(&owner) {
            let (_, m) = swarm_of(&tn, &owner);
            tn.url(tn.index_of(&m[0]).unwrap())
        } else {
            url.clone()
        };
        let (status, reply) = post_raw(&target, "/storage_rpc/v1", &body);
        assert_eq!(status, want, "{what}: {reply}");
    }
    // A body over the 10 MiB cap: 413, or the node closes the connection before reading it all.
    let big = http().post(format!("{url}/storage_rpc/v1")).body(vec![b' '; 11 * 1024 * 1024]).send();
    match big {
        Ok(r) if r.status().as_u16() >= 400 => {
            assert_eq!(r.status().as_u16(), 413, "a body over the 10 MiB cap")
        }
        Err(_) => {}
        Ok(r) => panic!("an 11 MiB body was accepted: {}", r.status()),
    }
    // Node-to-node endpoints refuse unsigned requests.
    let (status, _) = post_raw(&url, "/snode/v1/replicate", br#"{"messages":[]}"#);
    assert_eq!(status, 401);
    assert_eq!(total_messages(&tn), before, "refused requests changed nothing");

    assert!(retrieve_all(&url, &pk).unwrap().contains(&msg.hash), "the unsigned delete deleted nothing");

    // Expired messages are gone (TTL 10 s; the sweeper runs every second).
    std::thread::sleep(Duration::from_secs(11).saturating_sub(started.elapsed()));
    for m in &short {
        let (_, members) = swarm_of(&tn, &m.pk);
        for ed in &members {
            let url = tn.url(tn.index_of(ed).unwrap());
            assert!(eventually(Duration::from_secs(5), || retrieve_all(&url, &m.pk).unwrap().is_empty()));
        }
    }
    assert!(eventually(Duration::from_secs(5), || total_messages(&tn) == before.saturating_sub(3 * 7)
        || total_messages(&tn) < before));
    let exact: Vec<Msg> = vec![msg];
    assert_exact(&tn, &exact, &BTreeSet::new(), "after expiry");

    // A barrage of mangled requests on every endpoint: each gets an answer below 500 (a mangled
    // store may still be a valid store), and the node is alive and consistent afterwards.
    let valid = json!({"method":"store","params":{"pubkey":pk,"timestamp":now_ms(),"ttl":60000,
        "namespace":NS,"data":"aGVsbG8gd29ybGQ="}})
    .to_string()
    .into_bytes();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut stored_by_barrage = 0;
    for round in 0..300 {
        let mut body = valid.clone();
        match round % 4 {
            0 => {
                let i = rng.gen_range(0..body.len());
                body[i] = rng.r#gen();
            }
            1 => body.truncate(rng.gen_range(0..body.len())),
            2 => body = (0..rng.gen_range(0..300)).map(|_| rng.r#gen()).collect(),
            _ => {
                let i = rng.gen_range(0..body.len());
                body.splice(i..i, (0..rng.gen_range(1..40)).map(|_| rng.r#gen::<u8>()));
            }
        }
        for path in ["/storage_rpc/v1", "/onion_req/v2", "/json_rpc", "/snode/v1/push", "/snode/v1/sync"] {
            let (status, reply) = post_raw(&url, path, &body);
            assert!(
                status < 500,
                "{path} answered {status} to {:?}: {reply}",
                String::from_utf8_lossy(&body)
            );
            if path == "/storage_rpc/v1" && status == 200 {
                stored_by_barrage += 1;
            }
        }
    }
    assert!(rpc(&url, "info", json!({})).0 == 200, "the node survived the barrage");
    assert!(stored_by_barrage < 300, "most mangled requests are refused");

    // On a terminal `testnet status` is a table: a header and one row per node with its swarm.
    let cmdline = format!("{} status --dir {}", crate::common::bin("testnet").display(), tn.dir().display());
    let out = std::process::Command::new("script").args(["-qec", &cmdline, "/dev/null"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(table.contains("registry http://") && table.contains("running"), "{table}");
    let rows: Vec<&str> =
        table.lines().filter(|l| l.contains("http://127.0.0.1:") && !l.starts_with("registry")).collect();
    assert_eq!(rows.len(), 20, "one row per node:\n{table}");
    for (i, row) in rows.iter().enumerate() {
        assert!(row.trim_start().starts_with(&i.to_string()) && row.contains("running"), "{row}");
    }
    assert!(serde_json::from_str::<Value>(table.trim()).is_err(), "a table, not JSON, on a TTY");
}

#[test]
fn twenty_nodes_survive_kills_and_swarm_changes_without_loss() {
    let tn = Testnet::up(20);
    let mut msgs: Vec<Msg> =
        (0..60).map(|i| store_ok(&tn, &random_pubkey(), format!("m{i}").as_bytes(), LONG_TTL)).collect();

    // Kill -9 two members of a swarm during a stream of stores to that swarm.
    let list = node_list(&tn);
    let target_swarm = list.swarm_ids()[0];
    let members: Vec<String> =
        list.members(target_swarm).iter().map(|n| hex::encode(n.pubkey_ed25519)).collect();
    let member_urls: Vec<String> = members.iter().map(|ed| tn.url(tn.index_of(ed).unwrap())).collect();
    let pubkeys: Vec<String> = std::iter::repeat_with(random_pubkey)
        .filter(|pk| list.swarm_of(&Pubkey::parse(pk).unwrap()).unwrap().0 == target_swarm)
        .take(10)
        .collect();
    let acked = Arc::new(Mutex::new(Vec::<Msg>::new()));
    let unacked = Arc::new(Mutex::new(BTreeSet::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let streamers: Vec<_> = (0..4)
        .map(|t| {
            let (acked, unacked, stop, urls, pubkeys) =
                (acked.clone(), unacked.clone(), stop.clone(), member_urls.clone(), pubkeys.clone());
            std::thread::spawn(move || {
                let mut n = 0usize;
                let client = http();
                while !stop.load(Ordering::Relaxed) {
                    let pk = &pubkeys[n % pubkeys.len()];
                    let url = &urls[(n + t) % urls.len()];
                    let data = format!("stream {t} {n}");
                    let body =
                        json!({"method": "store", "params": store_params(pk, data.as_bytes(), LONG_TTL)});
                    let resp = client
                        .post(format!("{url}/storage_rpc/v1"))
                        .timeout(Duration::from_secs(10))
                        .body(body.to_string())
                        .send();
                    if let Ok(r) = resp.and_then(|r| r.error_for_status()) {
                        let v: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
                        acked
                            .lock()
                            .unwrap()
                            .push(Msg { pk: pk.clone(), hash: v["hash"].as_str().unwrap().to_string() });
                    } else {
                        let hash = message_hash(&Pubkey::parse(pk).unwrap(), NS, data.as_bytes());
                        unacked.lock().unwrap().insert(hash);
                    }
                    n += 1;
                }
            })
        })
        .collect();
    // Let the stream run before, between and after the kills (debug builds are slow: a
    // replicated store can take a few hundred ms on a loaded machine).
    let acked_before = || acked.lock().unwrap().len();
    assert!(eventually(Duration::from_secs(30), || acked_before() >= 10), "the stream is being acknowledged");
    let killed: Vec<usize> = members[..2].iter().map(|ed| tn.index_of(ed).unwrap()).collect();
    for &k in &killed {
        tn.kill(k);
        let n = acked_before();
        assert!(eventually(Duration::from_secs(30), || acked_before() >= n + 5), "stores go on after a kill");
    }
    stop.store(true, Ordering::Relaxed);
    for s in streamers {
        s.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let maybe = unacked.lock().unwrap().clone();
    assert!(acked.len() >= 20, "the stream was acknowledged ({} stores)", acked.len());
    let expected = by_pubkey(&acked);
    for (ed, url) in members.iter().zip(&member_urls).skip(2) {
        // Replication finished before each acknowledgement unless a peer was slow (a loaded
        // machine): then the message is on its way, so allow it to land.
        let has_all =
            || expected.iter().all(|(pk, hashes)| retrieve_all(url, pk).unwrap().is_superset(hashes));
        assert!(eventually(CONVERGE, has_all), "survivor {ed} lacks acknowledged messages");
    }
    for &k in &killed {
        tn.start(k);
    }
    for &k in &killed {
        let url = tn.url(k);
        let ok = eventually(CONVERGE, || {
            expected.iter().all(|(pk, hashes)| retrieve_all(&url, pk).is_some_and(|g| g.is_superset(hashes)))
        });
        assert!(ok, "restarted node {k} caught up with every acknowledged message");
    }
    msgs.extend(acked);
    assert_exact(&tn, &msgs, &maybe, "after the kills");

    // Add nodes until a new swarm forms: no message lost, each node holds exactly its swarm's.
    let swarms = swarm_count(&tn);
    let mut added = 0;
    while swarm_count(&tn) == swarms {
        assert!(added < 10, "a new swarm formed after adding nodes");
        tn.add(1);
        added += 1;
    }
    assert_exact(&tn, &msgs, &maybe, "after a new swarm formed");

    // Remove nodes (deregister + stop) until a swarm dissolves.
    let swarms = swarm_count(&tn);
    let mut removed = 0;
    while swarm_count(&tn) == swarms {
        assert!(removed < 16, "a swarm dissolved after removing nodes");
        let list = node_list(&tn);
        let smallest = list.swarm_ids().into_iter().min_by_key(|id| list.members(*id).len()).unwrap();
        let victim = hex::encode(list.members(smallest)[0].pubkey_ed25519);
        tn.stop(tn.index_of(&victim).unwrap());
        removed += 1;
    }
    assert_exact(&tn, &msgs, &maybe, "after a swarm dissolved");
    tn.down_leaving_nothing_running();
}

#[test]
fn stores_without_enough_work_get_432_and_change_nothing() {
    let difficulty = 5;
    let tn = Testnet::up_with_pow(5, difficulty);
    let nodes: Value = serde_json::from_str(&std::fs::read_to_string(tn.nodes_json()).unwrap()).unwrap();
    assert_eq!(nodes["pow_difficulty"], json!(difficulty));
    let url = tn.url(0);
    let pk = random_pubkey();
    let ts = now_ms();
    let data = STANDARD.encode(b"worked for");
    let params = json!({"pubkey": pk, "timestamp": ts, "ttl": 60_000, "data": data, "namespace": NS});
    let (status, body) = rpc(&url, "store", params.clone());
    assert_eq!((status, body), (432, json!({"difficulty": difficulty})));
    let mut wrong = params.clone();
    wrong["nonce"] = json!("AAAAAAAAAAA=");
    let env = snkit::envelope::Envelope {
        pubkey: pk.clone(),
        timestamp: ts,
        ttl: 60_000,
        data: data.clone(),
        nonce: None,
    };
    let nonce = snkit::pow::solve(&env, difficulty, 1, &|_| {}).unwrap();
    if nonce != [0u8; 8] {
        let (status, _) = rpc(&url, "store", wrong);
        assert_eq!(status, 432);
    }
    assert_eq!(total_messages(&tn), 0, "refused stores changed nothing");
    let mut good = params;
    good["nonce"] = json!(snkit::envelope::encode_nonce(&nonce));
    let (status, body) = rpc(&url, "store", good);
    assert_eq!(status, 200, "{body}");
    assert!(retrieve_all(&url, &pk).unwrap().contains(body["hash"].as_str().unwrap()));
}

#[test]
fn snode_alone_keeps_every_message_across_a_clean_restart() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    // Register the node in a file registry once it has made its keys.
    let spawn = || {
        std::process::Command::new(crate::common::bin("snode"))
            .arg("--data")
            .arg(&data)
            .args(["--listen", "127.0.0.1:0", "--log", "warn", "--registry"])
            .arg(dir.path().join("registry.json"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // snode itself creates its data directory and key file (0600) on first start.
    let mut child = Reap(spawn());
    assert!(eventually(Duration::from_secs(30), || data.join("listen.addr").exists()));
    assert_eq!(std::fs::metadata(data.join("key.json")).unwrap().permissions().mode() & 0o777, 0o600);
    let keys = snkit::snode::NodeKeys::load_or_create(&data.join("key.json")).unwrap();
    let addr = std::fs::read_to_string(data.join("listen.addr")).unwrap();
    let port: u16 = addr.trim().rsplit(':').next().unwrap().parse().unwrap();
    let mut reg = snkit::registry::Registry::new();
    reg.join(keys.ed25519_public(), keys.x25519_public(), "127.0.0.1", port).unwrap();
    reg.save_atomic(dir.path().join("registry.json")).unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let pk = random_pubkey();
    assert!(eventually(Duration::from_secs(30), || rpc(&url, "store", store_params(&pk, b"x", LONG_TTL)).0
        == 200));
    let stored: Vec<String> = (0..20)
        .map(|i| {
            let (status, body) = rpc(&url, "store", store_params(&pk, format!("m{i}").as_bytes(), LONG_TTL));
            assert_eq!(status, 200, "{body}");
            body["hash"].as_str().unwrap().to_string()
        })
        .collect();
    // SIGTERM: a clean exit (status 0).
    let pid = rustix::process::Pid::from_child(&child.0);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    assert!(child.0.wait().unwrap().success(), "snode exits 0 on SIGTERM");
    // Restart on the same port with the same data: every message is there.
    let _ = std::fs::remove_file(data.join("listen.addr"));
    let _child = Reap(
        std::process::Command::new(crate::common::bin("snode"))
            .arg("--data")
            .arg(&data)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--log", "warn", "--registry"])
            .arg(dir.path().join("registry.json"))
            .spawn()
            .unwrap(),
    );
    assert!(eventually(Duration::from_secs(30), || data.join("listen.addr").exists()));
    assert!(eventually(Duration::from_secs(30), || retrieve_all(&url, &pk).is_some()));
    let got = retrieve_all(&url, &pk).unwrap();
    assert!(stored.iter().all(|h| got.contains(h)), "a restart keeps every message");
}

/// Kills (and reaps) a child process when dropped, also when the test panicked.
struct Reap(std::process::Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn snode_and_testnet_refuse_bad_invocations_with_one_line() {
    use crate::common::cmd;
    let one_line = |out: &std::process::Output| {
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("hint:")).collect();
        assert_eq!(lines.len(), 1, "one error line: {err}");
    };
    let out = cmd("snode").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    one_line(&out);
    let out =
        cmd("snode").args(["--data", "/proc/no/such/dir", "--registry", "/nonexistent"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    one_line(&out);
    let empty = tempfile::tempdir().unwrap();
    let out = cmd("testnet").args(["status", "--dir"]).arg(empty.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    one_line(&out);
    let out = cmd("testnet").args(["up", "--nodes", "0", "--dir"]).arg(empty.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    one_line(&out);
    let out = cmd("testnet").args(["kill", "3", "--dir"]).arg(empty.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    one_line(&out);
}
