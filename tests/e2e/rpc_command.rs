//! End-to-end tests of the `rpc` command (and `retrieve --delete`) on a real 12-node testnet:
//! every method signed and sent by the command, every swarm member's signature reported
//! verified, recursive changes visible on every member, bad inputs (bad signature, stale
//! timestamp, unknown method, oversized batch, wrong subaccount flag, revoked token) refused
//! with the live status and text while changing nothing, and a revocation that survives a
//! member's restart until it is unrevoked.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use snkit::identity::Identity;
use snkit::keys::Pubkey;
use snkit::nodelist::NodeList;

use crate::common::{Testnet, cmd, eventually, now_ms, rpc};

const CONVERGE: Duration = Duration::from_secs(60);

/// What one `rpc` run gave: exit code, stdout as JSON (Null if none), stderr.
struct Run {
    code: i32,
    out: Value,
    err: String,
}

/// Runs `rpc METHOD ARGS... --nodes NODES`.
fn rpc_cmd(tn: &Testnet, method: &str, args: &[&str]) -> Run {
    let out = cmd("rpc").arg(method).args(args).arg("--nodes").arg(tn.nodes_json()).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        out: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `rpc` that must succeed; returns its reply.
fn ok(tn: &Testnet, method: &str, args: &[&str]) -> Value {
    let r = rpc_cmd(tn, method, args);
    assert_eq!(r.code, 0, "rpc {method} {args:?}: {}", r.err);
    r.out
}

/// `rpc` that the node must refuse (exit 1) with `status` and exactly `text` on stderr.
fn refused(tn: &Testnet, method: &str, args: &[&str], status: u16, text: &str) {
    let r = rpc_cmd(tn, method, args);
    assert_eq!(r.code, 1, "rpc {method} {args:?} should be refused: {} {}", r.out, r.err);
    assert!(r.err.contains(&format!("refused: {status} {text}\n")), "rpc {method}: {}", r.err);
    assert_eq!(r.err.lines().count(), 1, "one line: {}", r.err);
}

/// Every member entry of `reply`'s swarm says `verified: true`, and there are `n` of them.
fn all_verified(reply: &Value, n: usize) {
    let swarm = reply["swarm"].as_object().unwrap_or_else(|| panic!("no swarm: {reply}"));
    assert_eq!(swarm.len(), n, "{reply}");
    for (ed, e) in swarm {
        assert_eq!(e["verified"], json!(true), "member {ed}: {e}");
    }
}

fn keygen(dir: &Path, name: &str) -> (PathBuf, Identity) {
    let path = dir.join(format!("{name}.json"));
    cmd("keygen").arg("-o").arg(&path).assert().success();
    let id = Identity::load(&path).unwrap();
    (path, id)
}

fn members(tn: &Testnet, id: &Identity) -> Vec<String> {
    members_of(tn, &Pubkey::from(id.session_id()))
}

fn members_of(tn: &Testnet, pk: &Pubkey) -> Vec<String> {
    let list = NodeList::load(tn.nodes_json().to_str().unwrap()).unwrap();
    let (_, m) = list.swarm_of(pk).unwrap();
    m.iter().map(|n| hex::encode(n.pubkey_ed25519)).collect()
}

/// The hashes member `ed` holds in `ns` for the identity at `id` (retrieve through `rpc`,
/// directly to that member), sorted; None if refused.
fn held_on(tn: &Testnet, id: &Path, ed: &str, ns: i16, extra: &[&str]) -> Option<Vec<String>> {
    let params = json!({"namespace": ns}).to_string();
    let mut args = vec!["--identity", id.to_str().unwrap(), "--params", &params, "--direct", "--target", ed];
    args.extend_from_slice(extra);
    let r = rpc_cmd(tn, "retrieve", &args);
    if r.code != 0 {
        return None;
    }
    let mut v: Vec<String> =
        r.out["messages"].as_array()?.iter().map(|m| m["hash"].as_str().unwrap().to_string()).collect();
    v.sort();
    Some(v)
}

/// Waits until every member holds exactly `want` in `ns`.
fn all_hold(tn: &Testnet, id: &Path, eds: &[String], ns: i16, want: &[String], when: &str) {
    let mut want = want.to_vec();
    want.sort();
    let mut last = String::new();
    let ok = eventually(CONVERGE, || {
        eds.iter().all(|ed| {
            let got = held_on(tn, id, ed, ns, &[]);
            let same = got.as_ref() == Some(&want);
            if !same {
                last = format!("{ed} holds {got:?}");
            }
            same
        })
    });
    assert!(ok, "{when}: want {want:?}: {last}");
}

fn store(tn: &Testnet, id: &Path, ns: i16, data: &str, n: usize) -> String {
    let p = json!({"namespace": ns, "ttl": 3_600_000, "data": STANDARD.encode(data)}).to_string();
    let reply = ok(tn, "store", &["--identity", id.to_str().unwrap(), "--params", &p]);
    all_verified(&reply, n);
    reply["hash"].as_str().unwrap().to_string()
}

fn expiries_on(tn: &Testnet, id: &Path, ed: &str, hashes: &[String]) -> Value {
    let p = json!({"messages": hashes}).to_string();
    ok(tn, "get_expiries", &["--identity", id.to_str().unwrap(), "--params", &p, "--direct", "--target", ed])
        ["expiries"]
        .clone()
}

#[test]
fn twelve_nodes_every_method_through_the_rpc_command() {
    let tn = Testnet::up(12);
    let tmp = tempfile::tempdir().unwrap();
    let (a, alice) = keygen(tmp.path(), "alice");
    let ai = a.to_str().unwrap();
    let eds = members(&tn, &alice);
    let n = eds.len();

    // store (onion path, the default) and retrieve.
    let h1 = store(&tn, &a, 3, "one", n);
    let h2 = store(&tn, &a, 3, "two", n);
    let h0 = store(&tn, &a, 0, "inbox", n);
    all_hold(&tn, &a, &eds, 3, &[h1.clone(), h2.clone()], "after the stores");
    let got = ok(&tn, "retrieve", &["--identity", ai, "--params", r#"{"namespace":3}"#]);
    let order: Vec<&str> =
        got["messages"].as_array().unwrap().iter().map(|m| m["hash"].as_str().unwrap()).collect();
    assert_eq!(order, [h1.as_str(), h2.as_str()], "stored order");

    // Bad inputs, each refused and changing nothing.
    let zero_sig = json!({"signature": STANDARD.encode([0u8; 64]), "namespace": 3}).to_string();
    refused(
        &tn,
        "delete_all",
        &["--identity", ai, "--params", &zero_sig],
        401,
        "delete_all signature verification failed",
    );
    let stale = json!({"timestamp": now_ms() - 120_000, "namespace": "all"}).to_string();
    refused(
        &tn,
        "delete_all",
        &["--identity", ai, "--params", &stale],
        406,
        "delete_all timestamp too far from current time",
    );
    let past = json!({"messages": [h1], "expiry": now_ms() - 120_000}).to_string();
    refused(
        &tn,
        "expire",
        &["--identity", ai, "--params", &past],
        401,
        "expire: timestamp should be >= current time",
    );
    let r = rpc_cmd(&tn, "no_such_method", &["--identity", ai]);
    assert_eq!(
        (r.code, r.err.trim_end()),
        (
            2,
            "rpc: error: bad params: invalid request: unknown method 'no_such_method'\nhint: see 'rpc --help' for each method's params"
        )
    );
    let big = json!({"requests": vec![json!({"method": "delete_all", "params": {}}); 21]}).to_string();
    let r = rpc_cmd(&tn, "batch", &["--identity", ai, "--params", &big]);
    assert_eq!(r.code, 2, "{}", r.err);
    assert!(r.err.contains("Invalid batch request: subrequest limit exceeded"), "{}", r.err);
    // The same two sent by hand are the node's own 400s.
    let url = tn.url(tn.index_of(&eds[0]).unwrap());
    let (status, _) = rpc(&url, "no_such_method", json!({}));
    assert_eq!(status, 400);
    let (status, body) = rpc(&url, "batch", serde_json::from_str(&big).unwrap());
    assert_eq!(
        (status, body),
        (400, json!("invalid request: Invalid batch request: subrequest limit exceeded"))
    );
    all_hold(&tn, &a, &eds, 3, &[h1.clone(), h2.clone()], "after the bad inputs");
    all_hold(&tn, &a, &eds, 0, std::slice::from_ref(&h0), "after the bad inputs");

    // get_expiries, then expire (extend one) seen on every member.
    let before = expiries_on(&tn, &a, &eds[0], &[h1.clone(), h2.clone()]);
    assert_eq!(before.as_object().unwrap().len(), 2, "{before}");
    let later = before[&h1].as_u64().unwrap() + 600_000;
    let p = json!({"messages": [h1], "expiry": later, "extend": true}).to_string();
    let reply = ok(&tn, "expire", &["--identity", ai, "--params", &p]);
    all_verified(&reply, n);
    for ed in &eds {
        let e = expiries_on(&tn, &a, ed, &[h1.clone(), h2.clone()]);
        assert_eq!((e[&h1].as_u64(), &e[&h2]), (Some(later), &before[&h2]), "member {ed}");
    }
    // expire_all shortens everything to one expiry, on every member.
    let short = now_ms() + 1_800_000;
    let reply = ok(
        &tn,
        "expire_all",
        &["--identity", ai, "--params", &json!({"expiry": short, "namespace": 3}).to_string()],
    );
    all_verified(&reply, n);
    for ed in &eds {
        let e = expiries_on(&tn, &a, ed, &[h1.clone(), h2.clone()]);
        assert_eq!((e[&h1].as_u64(), e[&h2].as_u64()), (Some(short), Some(short)), "member {ed}");
    }

    // batch, sequence and ifelse: each subrequest signed on its own.
    let batch = json!({"requests": [
        {"method": "get_expiries", "params": {"messages": [h1]}},
        {"method": "info", "params": {}},
    ]})
    .to_string();
    let reply = ok(&tn, "batch", &["--identity", ai, "--params", &batch, "--direct"]);
    assert_eq!(reply["results"][0]["code"], json!(200), "{reply}");
    assert_eq!(reply["results"][0]["body"]["expiries"][&h1], json!(short));
    assert_eq!(reply["results"][1]["body"]["version"].as_array().map(Vec::len), Some(3));
    let seq = json!({"requests": [
        {"method": "delete_all", "params": {"signature": STANDARD.encode([0u8; 64])}},
        {"method": "delete_all", "params": {"namespace": "all"}},
    ]})
    .to_string();
    let reply = ok(&tn, "sequence", &["--identity", ai, "--params", &seq]);
    assert_eq!(reply["results"], json!([{"code": 401, "body": "delete_all signature verification failed"}]));
    let ifelse =
        json!({"if": {"hf_at_least": [19]}, "then": {"method": "delete", "params": {"messages": [h2]}}})
            .to_string();
    let reply = ok(&tn, "ifelse", &["--identity", ai, "--params", &ifelse]);
    assert_eq!(
        (reply["condition"].clone(), reply["result"]["code"].clone()),
        (json!(true), json!(200)),
        "{reply}"
    );
    all_verified(&reply["result"]["body"], n);
    // The recursive delete is on every member.
    all_hold(&tn, &a, &eds, 3, std::slice::from_ref(&h1), "after ifelse's delete");

    // delete (recursive), delete_before and delete_all, each visible on every member.
    let reply = ok(&tn, "delete", &["--identity", ai, "--params", &json!({"messages": [h1]}).to_string()]);
    all_verified(&reply, n);
    for e in reply["swarm"].as_object().unwrap().values() {
        assert_eq!(e["deleted"], json!([h1]), "{e}");
    }
    all_hold(&tn, &a, &eds, 3, &[], "after delete");
    let h3 = store(&tn, &a, 3, "three", n);
    let reply = ok(&tn, "delete_before", &["--identity", ai, "--params", r#"{"namespace":"all"}"#]);
    all_verified(&reply, n);
    all_hold(&tn, &a, &eds, 3, &[], "after delete_before");
    all_hold(&tn, &a, &eds, 0, &[], "after delete_before");
    let _ = h3;
    let h4 = store(&tn, &a, 0, "four", n);
    let reply = ok(&tn, "delete_all", &["--identity", ai]);
    all_verified(&reply, n);
    for e in reply["swarm"].as_object().unwrap().values() {
        assert_eq!(e["deleted"], json!([h4]), "{e}");
    }
    all_hold(&tn, &a, &eds, 0, &[], "after delete_all");

    // The methods any node answers.
    let sw = ok(&tn, "get_swarm", &["--identity", ai, "--direct"]);
    let mut listed: Vec<String> = sw["snodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pubkey_ed25519"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    let mut want = eds.clone();
    want.sort();
    assert_eq!(listed, want);
    assert!(ok(&tn, "info", &[])["version"].is_array());
    let sn = ok(&tn, "oxend_request", &["--params", r#"{"endpoint":"get_service_nodes"}"#]);
    assert_eq!(sn["result"]["service_node_states"].as_array().map(Vec::len), Some(12));

    let bin = ok(&tn, "active_nodes_bin", &[]);
    let raw = STANDARD.decode(bin.as_str().expect("base64 through the onion path")).unwrap();
    assert_eq!(raw.len(), 12 * 51);
    let direct = ok(&tn, "active_nodes_bin", &["--direct"]);
    assert_eq!(STANDARD.decode(direct.as_str().unwrap()).unwrap().len(), 12 * 51);

    // A 03 (group) account, signed by its own Ed25519 key: it may list its revocations.
    let group = Pubkey::new(0x03, alice.ed25519_public());
    let token = snkit::rpc::SubaccountToken::new(0x03, snkit::rpc::Access::READ, &[7; 32]);
    let p = json!({"revoke": [token.to_hex()]}).to_string();
    let reply = ok(&tn, "revoke_subaccount", &["--identity", ai, "--group", "--params", &p]);
    all_verified(&reply, members_of(&tn, &group).len());
    let listed = ok(&tn, "revoked_subaccounts", &["--identity", ai, "--group"]);
    assert_eq!(listed["revoked_subaccounts"], json!([token.to_base64()]), "{listed}");
    // An 05 account cannot sign it (the live server checks the raw X25519 bytes).
    refused(
        &tn,
        "revoked_subaccounts",
        &["--identity", ai],
        401,
        "revoked_subaccounts signature verification failed",
    );

    // retrieve --delete: what it prints is gone from the swarm afterwards.
    let (b, bob) = keygen(tmp.path(), "bob");
    let bob_eds = members(&tn, &bob);
    for text in ["hi", "there"] {
        cmd("send")
            .args(["--identity", ai, "--to", &bob.session_id().to_string(), "--nodes"])
            .arg(tn.nodes_json())
            .write_stdin(text)
            .assert()
            .success();
    }
    let state = tmp.path().join("state");
    let out = cmd("retrieve")
        .args(["--identity", b.to_str().unwrap(), "--delete", "--state"])
        .arg(&state)
        .arg("--nodes")
        .arg(tn.nodes_json())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    all_hold(&tn, &b, &bob_eds, 0, &[], "after retrieve --delete");
}

#[test]
fn twelve_nodes_subaccount_flags_and_revocation_through_the_rpc_command() {
    let tn = Testnet::up(12);
    let tmp = tempfile::tempdir().unwrap();
    let (a, alice) = keygen(tmp.path(), "alice");
    let (b, bob) = keygen(tmp.path(), "bob");
    let (ai, bi) = (a.to_str().unwrap(), b.to_str().unwrap());
    let eds = members(&tn, &alice);
    let n = eds.len();
    let h1 = store(&tn, &a, 3, "config", n);
    all_hold(&tn, &a, &eds, 3, std::slice::from_ref(&h1), "after the store");

    let sub = |flags: &'static str| -> Vec<String> {
        vec![
            "--identity".into(),
            ai.into(),
            "--subaccount-key".into(),
            bi.into(),
            "--subaccount-flags".into(),
            flags.into(),
        ]
    };
    let with = |v: Vec<String>, more: &[&str]| -> Vec<String> {
        v.into_iter().chain(more.iter().map(|s| s.to_string())).collect()
    };
    let run = |method: &str, args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        rpc_cmd(&tn, method, &refs)
    };
    let ns3 = r#"{"namespace":3}"#;

    // Read: retrieve works, a delete is refused (401) and deletes nothing.
    let r = run("retrieve", with(sub("r"), &["--params", ns3]));
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out["messages"][0]["hash"], json!(h1));
    let del = json!({"messages": [h1]}).to_string();
    let r = run("delete", with(sub("r"), &["--params", &del]));
    assert_eq!(r.code, 1);
    assert!(r.err.contains("refused: 401 delete_msgs signature verification failed"), "{}", r.err);
    // Write without read: the retrieve is refused.
    let r = run("retrieve", with(sub("w"), &["--params", ns3]));
    assert!(r.err.contains("refused: 401 retrieve signature verification failed"), "{}", r.err);
    // Write: stores; an expire that shortens needs delete too (400).
    let data = json!({"namespace": 3, "ttl": 3_600_000, "data": STANDARD.encode("by bob")}).to_string();
    let r = run("store", with(sub("w"), &["--params", &data]));
    assert_eq!(r.code, 0, "{}", r.err);
    all_verified(&r.out, n);
    let h2 = r.out["hash"].as_str().unwrap().to_string();
    let shorten = json!({"messages": [h1], "expiry": now_ms() + 60_000, "shorten": true}).to_string();
    let r = run("expire", with(sub("w"), &["--params", &shorten]));
    assert!(
        r.err.contains(
            "refused: 400 expire: shorten parameter cannot be used with this subaccount token (missing delete access)"
        ),
        "{}",
        r.err
    );
    all_hold(&tn, &a, &eds, 3, &[h1.clone(), h2.clone()], "after the refused subaccount requests");

    // Revoke bob's read token while one member is down: refused on every member, the one that
    // was down (redelivery) and one restarted since (the revocation is on disk).
    let token = format!("05010000{}", hex::encode(bob.ed25519_public()));
    let down = tn.index_of(&eds[1]).unwrap();
    tn.kill(down);
    // The entry node is eds[0], which redelivers to the member that is down; the restart of
    // another member (eds[2]) shows the revocation is on that member's disk.
    let revoke = json!({"revoke": token}).to_string();
    let reply = ok(&tn, "revoke_subaccount", &["--identity", ai, "--params", &revoke, "--target", &eds[0]]);
    let swarm = reply["swarm"].as_object().unwrap();
    assert_eq!(swarm.len(), n, "{reply}");
    for (ed, e) in swarm {
        assert_eq!(e["verified"], json!(ed != &eds[1]), "member {ed}: {e}");
    }
    tn.start(down);
    let restarted = tn.index_of(&eds[2]).unwrap();
    tn.kill(restarted);
    tn.start(restarted);
    let sub_r: Vec<String> = sub("r");
    let sub_refs: Vec<&str> = sub_r.iter().skip(2).map(String::as_str).collect();
    for ed in &eds {
        let ok_ = eventually(CONVERGE, || held_on(&tn, &a, ed, 3, &sub_refs).is_none());
        assert!(ok_, "member {ed} still accepts the revoked token");
        let r = run("retrieve", with(sub("r"), &["--params", ns3, "--direct", "--target", ed]));
        assert!(r.err.contains("refused: 401 retrieve signature verification failed"), "{ed}: {}", r.err);
    }
    // Another token of bob (read+write) is not revoked.
    let r = run("retrieve", with(sub("rw"), &["--params", ns3]));
    assert_eq!(r.code, 0, "{}", r.err);
    // A subaccount cannot unrevoke itself: the owner's signature is needed.
    let unrevoke = json!({"unrevoke": token}).to_string();
    let r = run("unrevoke_subaccount", with(sub("r"), &["--params", &unrevoke]));
    assert!(r.err.contains("refused: 401 unrevoke_subaccount signature verification failed"), "{}", r.err);
    // The owner unrevokes: accepted again everywhere.
    let reply = ok(&tn, "unrevoke_subaccount", &["--identity", ai, "--params", &unrevoke]);
    all_verified(&reply, n);
    for e in reply["swarm"].as_object().unwrap().values() {
        assert_eq!(e["count"], json!(1), "{e}");
    }
    for ed in &eds {
        assert_eq!(
            held_on(&tn, &a, ed, 3, &sub_refs),
            Some({
                let mut v = vec![h1.clone(), h2.clone()];
                v.sort();
                v
            }),
            "member {ed}"
        );
    }
    // Delete access: bob deletes alice's message on every member.
    let r = run("delete", with(sub("rd"), &["--params", &del]));
    assert_eq!(r.code, 0, "{}", r.err);
    all_verified(&r.out, n);
    all_hold(&tn, &a, &eds, 3, &[h2], "after bob's delete");

    // A Session group (03) whose admin holds the group key (alice's here), and bob as a member
    // with libsession's auth data: reads and writes, cannot delete, then is revoked.
    let group = Pubkey::new(0x03, alice.ed25519_public()).to_hex();
    let g_eds = members_of(&tn, &Pubkey::new(0x03, alice.ed25519_public()));
    let gn = g_eds.len();
    let data = json!({"namespace": 11, "ttl": 3_600_000, "data": STANDARD.encode("group msg")}).to_string();
    let by_admin = ok(&tn, "store", &["--identity", ai, "--group", "--params", &data]);
    all_verified(&by_admin, gn);
    let auth = snkit::rpc::group_subaccount::make_group_subaccount(
        &alice,
        &bob.session_id(),
        snkit::rpc::Access::WRITE,
    )
    .unwrap();
    let auth_hex = hex::encode(auth);
    let member = ["--identity", bi, "--account", group.as_str(), "--group-auth", auth_hex.as_str()];
    let with_member =
        |more: &[&str]| -> Vec<String> { member.iter().chain(more).map(|s| s.to_string()).collect() };
    let r = run("retrieve", with_member(&["--params", r#"{"namespace":11}"#]));
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out["messages"][0]["hash"], by_admin["hash"], "{}", r.out);
    let data = json!({"namespace": 11, "ttl": 3_600_000, "data": STANDARD.encode("from bob")}).to_string();
    let r = run("store", with_member(&["--params", &data]));
    assert_eq!(r.code, 0, "{}", r.err);
    all_verified(&r.out, gn);
    let r = run("delete_all", with_member(&["--params", r#"{"namespace":11}"#]));
    assert!(r.err.contains("refused: 401 delete_all signature verification failed"), "{}", r.err);
    let token = snkit::rpc::group_subaccount::GroupMemberKey::new(&bob, &auth).unwrap().grant().token;
    let reply = ok(
        &tn,
        "revoke_subaccount",
        &["--identity", ai, "--group", "--params", &json!({"revoke": token.to_hex()}).to_string()],
    );
    all_verified(&reply, gn);
    let r = run("retrieve", with_member(&["--params", r#"{"namespace":11}"#]));
    assert!(r.err.contains("refused: 401 retrieve signature verification failed"), "{}", r.err);
}

#[test]
fn twelve_nodes_redelivery_survives_the_entry_node_restarting() {
    let tn = Testnet::up(12);
    let tmp = tempfile::tempdir().unwrap();
    let (a, alice) = keygen(tmp.path(), "alice");
    let ai = a.to_str().unwrap();
    let eds = members(&tn, &alice);
    let n = eds.len();
    let h = store(&tn, &a, 3, "to be deleted", n);
    all_hold(&tn, &a, &eds, 3, std::slice::from_ref(&h), "after the store");

    // eds[1] is down during a delete_all entered at eds[0]; then eds[0] is killed (SIGKILL)
    // and restarted before eds[1] comes back: the pending redelivery was on eds[0]'s disk.
    let down = tn.index_of(&eds[1]).unwrap();
    let entry = tn.index_of(&eds[0]).unwrap();
    tn.kill(down);
    let reply =
        ok(&tn, "delete_all", &["--identity", ai, "--params", r#"{"namespace":3}"#, "--target", &eds[0]]);
    for (ed, e) in reply["swarm"].as_object().unwrap() {
        assert_eq!(e["verified"], json!(ed != &eds[1]), "member {ed}: {e}");
    }
    tn.kill(entry);
    tn.start(entry);
    tn.start(down);
    all_hold(&tn, &a, &eds, 3, &[], "after the redelivery");
}
