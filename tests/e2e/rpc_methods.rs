//! End-to-end tests of the swarm-wide storage RPC methods beyond store/delete (issue 12):
//! `delete_all` and `delete_before` through a real 12-node testnet. Each member's entry is
//! checked against the node signature over the live string, the bad inputs change nothing, and a
//! member that was down during the call reaches the same state once it is back (redelivery).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use snkit::identity::Identity;
use snkit::keys::Pubkey;
use snkit::nodelist::NodeList;
use snkit::rpc::ExpireMode;
use snkit::rpc::NamespaceSel::{All, One};
use snkit::rpc::client::{
    delete_all_params, delete_before_params, expire_all_params, expire_params, get_expiries_params,
    retrieve_params,
};

use crate::common::{Testnet, eventually, now_ms, rpc};

const CONVERGE: Duration = Duration::from_secs(60);

/// The ed25519 keys (hex) of the members of `id`'s swarm.
fn swarm_members(tn: &Testnet, id: &Identity) -> Vec<String> {
    let list = NodeList::load(tn.nodes_json().to_str().unwrap()).expect("nodes.json");
    let (_, members) = list.swarm_of(&Pubkey::from(id.session_id())).expect("a swarm");
    members.iter().map(|n| hex::encode(n.pubkey_ed25519)).collect()
}

/// Stores `data` in `ns` for `id` (signed when the namespace needs it) through node `url`.
fn store(url: &str, id: &Identity, ns: i16, ts: u64, data: &[u8]) -> String {
    let mut p = json!({
        "pubkey": id.session_id().to_string(), "timestamp": ts, "ttl": 3_600_000,
        "data": STANDARD.encode(data), "namespace": ns,
        "pubkey_ed25519": hex::encode(id.ed25519_public()),
    });
    p["signature"] = json!(STANDARD.encode(id.sign(&snkit::rpc::store_sig_message(ns, ts))));
    let (status, reply) = rpc(url, "store", p);
    assert_eq!(status, 200, "store: {reply}");
    reply["hash"].as_str().unwrap().to_string()
}

/// The hashes node `url` holds for `id` in `ns` (a signed retrieve), sorted; None if refused.
fn held(url: &str, id: &Identity, ns: i16) -> Option<Vec<String>> {
    let (status, body) = rpc(url, "retrieve", retrieve_params(id, ns, None, now_ms()));
    if status != 200 {
        return None;
    }
    let mut v: Vec<String> =
        body["messages"].as_array()?.iter().map(|m| m["hash"].as_str().unwrap().to_string()).collect();
    v.sort();
    Some(v)
}

/// Waits until every running member in `urls` holds exactly `want` in `ns`.
fn assert_all_hold(urls: &[String], id: &Identity, ns: i16, want: &[String], when: &str) {
    let mut want = want.to_vec();
    want.sort();
    let mut last = String::new();
    let ok = eventually(CONVERGE, || {
        urls.iter().all(|u| {
            let got = held(u, id, ns);
            let same = got.as_ref() == Some(&want);
            if !same {
                last = format!("{u} holds {got:?}");
            }
            same
        })
    });
    assert!(ok, "{when}: ns {ns}: want {want:?}: {last}");
}

/// Checks one member's entry: its `deleted` (flattened, sorted) is `want`, and its signature is
/// the member's over `PUBKEY_HEX ‖ ts ‖ sorted deleted…`.
fn check_entry(ed: &str, entry: &Value, id: &Identity, ts: u64, want: &[String]) {
    let mut deleted: Vec<String> = match &entry["deleted"] {
        Value::Array(a) => a.iter().map(|h| h.as_str().unwrap().to_string()).collect(),
        Value::Object(m) => m
            .values()
            .flat_map(|a| a.as_array().unwrap().iter().map(|h| h.as_str().unwrap().to_string()))
            .collect(),
        other => panic!("member {ed}: no deleted: {other}"),
    };
    deleted.sort();
    let mut want = want.to_vec();
    want.sort();
    assert_eq!(deleted, want, "member {ed}: {entry}");
    let msg = format!("{}{ts}{}", Pubkey::from(id.session_id()).to_hex(), want.concat());
    let sig: [u8; 64] =
        STANDARD.decode(entry["signature"].as_str().unwrap()).unwrap().try_into().expect("64-byte signature");
    let key = Pubkey::new(0x03, hex::decode(ed).unwrap().try_into().unwrap());
    assert!(
        snkit::rpc::verify_signature(&key, None, &sig, msg.as_bytes()),
        "member {ed}: bad node signature"
    );
}

#[test]
fn twelve_nodes_delete_all_and_delete_before_swarm_wide_with_a_member_down() {
    let tn = Testnet::up(12);
    let alice = Identity::generate();
    let members = swarm_members(&tn, &alice);
    let idx: Vec<usize> = members.iter().map(|ed| tn.index_of(ed).unwrap()).collect();
    let urls: Vec<String> = idx.iter().map(|&i| tn.url(i)).collect();
    let t0 = now_ms() - 5_000;
    let inbox: Vec<String> =
        (0..3).map(|n| store(&urls[0], &alice, 0, t0 + n, format!("in {n}").as_bytes())).collect();
    let config: Vec<String> =
        (0..2).map(|n| store(&urls[1], &alice, 2, t0 + n, format!("cf {n}").as_bytes())).collect();
    assert_all_hold(&urls, &alice, 0, &inbox, "after the stores");
    assert_all_hold(&urls, &alice, 2, &config, "after the stores");

    // Bad inputs: answered by the entry node alone (no swarm), and nothing changes anywhere.
    let now = now_ms();
    let mallory = Identity::generate();
    let mut forged = delete_all_params(&mallory, All, now);
    forged["pubkey"] = json!(alice.session_id().to_string());
    forged["pubkey_ed25519"] = json!(hex::encode(alice.ed25519_public()));
    let cases = [
        ("delete_all", forged, 401, "delete_all signature verification failed"),
        (
            "delete_all",
            delete_all_params(&alice, All, now - 120_000),
            406,
            "delete_all timestamp too far from current time",
        ),
        (
            "delete_all",
            delete_all_params(&alice, One(0), now + 120_000),
            406,
            "delete_all timestamp too far from current time",
        ),
        (
            "delete_before",
            delete_before_params(&alice, All, now + 120_000),
            401,
            "delete_before timestamp too far in the future",
        ),
        (
            "delete_all",
            json!({"pubkey": alice.session_id().to_string(), "timestamp": now}),
            400,
            "invalid request: Required field 'signature' missing",
        ),
    ];
    for (method, params, status, text) in cases {
        let (got, body) = rpc(&urls[2], method, params);
        assert_eq!((got, body.as_str()), (status, Some(text)), "{method}");
    }
    let mut wrong_ns = delete_before_params(&alice, One(0), now);
    wrong_ns["namespace"] = json!(2);
    let (got, body) = rpc(&urls[2], "delete_before", wrong_ns);
    assert_eq!((got, body.as_str()), (401, Some("delete_before signature verification failed")));
    std::thread::sleep(Duration::from_secs(1));
    assert_all_hold(&urls, &alice, 0, &inbox, "after the refused requests");
    assert_all_hold(&urls, &alice, 2, &config, "after the refused requests");

    // delete_before in ns 0: the two oldest, on every member, each signing what it deleted.
    let before = t0 + 1;
    let (status, reply) = rpc(&urls[3], "delete_before", delete_before_params(&alice, One(0), before));
    assert_eq!(status, 200, "{reply}");
    let swarm = reply["swarm"].as_object().unwrap();
    assert_eq!(swarm.len(), members.len(), "every member answers: {reply}");
    for (ed, entry) in swarm {
        check_entry(ed, entry, &alice, before, &inbox[..2]);
    }
    assert!(reply["t"].is_u64() && reply["hf"].is_array());
    assert_all_hold(&urls, &alice, 0, &inbox[2..], "after delete_before");
    assert_all_hold(&urls, &alice, 2, &config, "delete_before of ns 0 leaves ns 2");

    // delete_all "all" with one member down: the others delete at once; the one down does when
    // it is back (redelivery), so every member ends with nothing.
    let down = idx.len() - 1;
    tn.kill(idx[down]);
    let ts = now_ms();
    let (status, reply) = rpc(&urls[0], "delete_all", delete_all_params(&alice, All, ts));
    assert_eq!(status, 200, "{reply}");
    let swarm = reply["swarm"].as_object().unwrap();
    for (ed, entry) in swarm {
        if *ed == members[down] {
            assert_eq!(entry["failed"], json!(true), "the member down failed: {entry}");
            continue;
        }
        assert!(entry["deleted"].is_object(), "\"all\" answers by namespace: {entry}");
        let mut want = inbox[2..].to_vec();
        want.extend(config.iter().cloned());
        check_entry(ed, entry, &alice, ts, &want);
    }
    assert_all_hold(&urls[..down], &alice, 0, &[], "after delete_all");
    assert_all_hold(&urls[..down], &alice, 2, &[], "after delete_all");
    tn.start(idx[down]);
    assert_all_hold(&urls, &alice, 0, &[], "the member that was down, once back");
    assert_all_hold(&urls, &alice, 2, &[], "the member that was down, once back");
}

/// The expiries node `url` reports for `hashes` of `id` (get_expiries).
fn expiries(url: &str, id: &Identity, hashes: &[String]) -> Value {
    let (status, body) = rpc(url, "get_expiries", get_expiries_params(id, hashes, now_ms()));
    assert_eq!(status, 200, "get_expiries: {body}");
    assert!(body.get("t").is_none(), "get_expiries has no t/hf: {body}");
    body["expiries"].clone()
}

fn verify_member(ed: &str, entry: &Value, msg: &str) {
    let sig: [u8; 64] =
        STANDARD.decode(entry["signature"].as_str().unwrap()).unwrap().try_into().expect("64-byte signature");
    let key = Pubkey::new(0x03, hex::decode(ed).unwrap().try_into().unwrap());
    assert!(
        snkit::rpc::verify_signature(&key, None, &sig, msg.as_bytes()),
        "member {ed}: bad node signature on {entry}"
    );
}

#[test]
fn twelve_nodes_expire_expire_all_and_get_expiries_swarm_wide_with_a_member_down() {
    let tn = Testnet::up(12);
    let alice = Identity::generate();
    let pkh = Pubkey::from(alice.session_id()).to_hex();
    let members = swarm_members(&tn, &alice);
    let idx: Vec<usize> = members.iter().map(|ed| tn.index_of(ed).unwrap()).collect();
    let urls: Vec<String> = idx.iter().map(|&i| tn.url(i)).collect();
    let t0 = now_ms();
    let mut hashes: Vec<String> =
        (0..3).map(|n| store(&urls[0], &alice, 0, t0, format!("m {n}").as_bytes())).collect();
    hashes.sort();
    let first = t0 + 3_600_000;
    let all_at = |e: &Value, want: &[u64]| hashes.iter().zip(want).all(|(h, w)| e[h].as_u64() == Some(*w));
    assert!(eventually(CONVERGE, || urls
        .iter()
        .all(|u| all_at(&expiries(u, &alice, &hashes), &[first, first, first]))));

    // Bad inputs change nothing: a forged signature, an expiry in the past, a stale get_expiries.
    let mallory = Identity::generate();
    let mut forged = expire_params(&mallory, &hashes, &[t0 + 600_000], ExpireMode::Plain);
    forged["pubkey"] = json!(alice.session_id().to_string());
    forged["pubkey_ed25519"] = json!(hex::encode(alice.ed25519_public()));
    let cases = [
        ("expire", forged, 401, "expire: signature verification failed"),
        (
            "expire",
            expire_params(&alice, &hashes, &[t0 - 120_000], ExpireMode::Plain),
            401,
            "expire: timestamp should be >= current time",
        ),
        (
            "expire_all",
            expire_all_params(&alice, One(0), t0 - 120_000),
            406,
            "expire_all timestamp should be >= current time",
        ),
        (
            "get_expiries",
            get_expiries_params(&alice, &hashes, t0 - 120_000),
            406,
            "get_expiries timestamp too far from current time",
        ),
    ];
    for (method, params, status, text) in cases {
        let (got, body) = rpc(&urls[2], method, params);
        assert_eq!((got, body.as_str()), (status, Some(text)), "{method}");
    }
    std::thread::sleep(Duration::from_secs(1));
    for u in &urls {
        assert!(
            all_at(&expiries(u, &alice, &hashes), &[first, first, first]),
            "refused requests changed nothing"
        );
    }

    // extend, one expiry for two messages: every member extends both, signing the live string.
    let later = t0 + 7_200_000;
    let req = vec![hashes[1].clone(), hashes[0].clone()];
    let (status, reply) = rpc(&urls[1], "expire", expire_params(&alice, &req, &[later], ExpireMode::Extend));
    assert_eq!(status, 200, "{reply}");
    let swarm = reply["swarm"].as_object().unwrap();
    assert_eq!(swarm.len(), members.len(), "{reply}");
    for (ed, entry) in swarm {
        assert_eq!(entry["updated"], json!([hashes[0], hashes[1]]), "{entry}");
        assert_eq!(entry["expiry"], json!(later));
        assert_eq!(entry["unchanged"], json!({}));
        verify_member(ed, entry, &format!("{pkh}{later}{}{}{}{}", req[0], req[1], hashes[0], hashes[1]));
    }
    // Clamped to now + 30 days.
    let (status, reply) = rpc(
        &urls[1],
        "expire",
        expire_params(&alice, &hashes[2..], &[t0 + 40 * 86_400_000], ExpireMode::Plain),
    );
    assert_eq!(status, 200, "{reply}");
    let clamped = reply["swarm"][&members[0]]["expiry"].as_u64().unwrap();
    assert!(clamped <= now_ms() + 30 * 86_400_000 && clamped > t0 + 29 * 86_400_000, "{reply}");
    // Each member clamps with its own clock, so the clamped values differ by a few ms.
    for u in &urls {
        let e = expiries(u, &alice, &hashes);
        assert!(all_at(&e, &[later, later]), "{u}: {e}");
        let c = e[&hashes[2]].as_u64().unwrap();
        assert!(c <= now_ms() + 30 * 86_400_000 && c > t0 + 29 * 86_400_000, "{u}: {e}");
    }

    // expire_all with a member down: shortened at once on the others, and on that one once back.
    let down = idx.len() - 1;
    tn.kill(idx[down]);
    let short = now_ms() + 600_000;
    let (status, reply) = rpc(&urls[0], "expire_all", expire_all_params(&alice, One(0), short));
    assert_eq!(status, 200, "{reply}");
    for (ed, entry) in reply["swarm"].as_object().unwrap() {
        if *ed == members[down] {
            assert_eq!(entry["failed"], json!(true), "{entry}");
            continue;
        }
        assert_eq!(entry["updated"], json!(hashes), "{entry}");
        verify_member(ed, entry, &format!("{pkh}{short}{}", hashes.concat()));
    }
    tn.start(idx[down]);
    assert!(
        eventually(CONVERGE, || urls
            .iter()
            .all(|u| all_at(&expiries(u, &alice, &hashes), &[short, short, short]))),
        "every member, the one that was down too, has the shortened expiries"
    );
}

fn store_sub(id: &Identity, ns: i16, ts: u64, data: &[u8], signed: bool) -> Value {
    let mut p = json!({
        "pubkey": id.session_id().to_string(), "timestamp": ts, "ttl": 3_600_000,
        "data": STANDARD.encode(data), "namespace": ns,
    });
    if signed {
        p["pubkey_ed25519"] = json!(hex::encode(id.ed25519_public()));
        p["signature"] = json!(STANDARD.encode(id.sign(&snkit::rpc::store_sig_message(ns, ts))));
    }
    json!({"method": "store", "params": p})
}

#[test]
fn twelve_nodes_batch_and_sequence() {
    let tn = Testnet::up(12);
    let alice = Identity::generate();
    let members = swarm_members(&tn, &alice);
    let urls: Vec<String> = members.iter().map(|ed| tn.url(tn.index_of(ed).unwrap())).collect();
    let t0 = now_ms();

    // batch: every subrequest runs, recursive ones on the whole swarm; results in request order.
    let (status, reply) = rpc(
        &urls[0],
        "batch",
        json!({"requests": [store_sub(&alice, 0, t0, b"one", false), {"method": "info", "params": {}}, store_sub(&alice, 0, t0, b"two", false)]}),
    );
    assert_eq!(status, 200, "{reply}");
    let results = reply["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert!(reply.get("t").is_none(), "no t/hf at the top of a batch reply");
    assert_eq!(results[0]["code"], json!(200));
    assert_eq!(results[0]["body"]["swarm"].as_object().unwrap().len(), members.len(), "{reply}");
    assert!(results[1]["body"]["version"].is_array(), "{reply}");
    let mut stored: Vec<String> =
        [&results[0], &results[2]].iter().map(|r| r["body"]["hash"].as_str().unwrap().to_string()).collect();
    assert_all_hold(&urls, &alice, 0, &stored, "after the batch");

    // sequence: stops after the first failure, which is included (live text as a string body).
    let (status, reply) = rpc(
        &urls[1],
        "sequence",
        json!({"requests": [store_sub(&alice, 0, t0, b"three", false), store_sub(&alice, 33, t0, b"x", false), store_sub(&alice, 0, t0, b"never", false)]}),
    );
    assert_eq!(status, 200, "{reply}");
    let results = reply["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{reply}");
    assert_eq!(
        results[1],
        json!({"code": 401, "body": "store: signature required to store to namespace 33"})
    );
    stored.push(results[0]["body"]["hash"].as_str().unwrap().to_string());

    // Refused batches change nothing.
    let too_many: Vec<Value> =
        (0..21).map(|n| store_sub(&alice, 0, t0, format!("no {n}").as_bytes(), false)).collect();
    let cases = [
        (json!({"requests": too_many}), "invalid request: Invalid batch request: subrequest limit exceeded"),
        (
            json!({"requests": [store_sub(&alice, 0, t0, b"no", false), {"method": "nope", "params": {}}]}),
            "invalid request: Invalid batch subrequest: invalid method \"nope\"",
        ),
        (
            json!({"requests": [store_sub(&alice, 0, t0, b"no", false), {"method": "sequence", "params": {}}]}),
            "invalid request: Invalid batch subrequest: subrequests may not contain meta-requests",
        ),
    ];
    for (params, text) in cases {
        let (status, body) = rpc(&urls[2], "batch", params);
        assert_eq!((status, body.as_str()), (400, Some(text)));
    }
    let (status, body) = rpc(&urls[2], "nope", json!({}));
    assert_eq!(status, 400, "unknown method: {body}");
    std::thread::sleep(Duration::from_secs(1));
    assert_all_hold(&urls, &alice, 0, &stored, "after the refused batches");

    // A recursive subrequest inside a batch reaches every member.
    let (status, reply) = rpc(
        &urls[3],
        "batch",
        json!({"requests": [{"method": "delete_all", "params": delete_all_params(&alice, One(0), now_ms())}]}),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["results"][0]["code"], json!(200), "{reply}");
    assert_eq!(reply["results"][0]["body"]["swarm"].as_object().unwrap().len(), members.len(), "{reply}");
    assert_all_hold(&urls, &alice, 0, &[], "after a batched delete_all");
}

#[test]
fn twelve_nodes_ifelse_runs_the_branch_the_nodes_versions_choose() {
    let tn = Testnet::up(12);
    let alice = Identity::generate();
    let members = swarm_members(&tn, &alice);
    let url = tn.url(tn.index_of(&members[0]).unwrap());
    let t0 = now_ms();

    // The condition holds (snode reports hf [19, 3]): `then` runs, here a recursive store.
    let (status, reply) = rpc(
        &url,
        "ifelse",
        json!({"if": {"hf_at_least": [19, 3], "v_before": [99]}, "then": store_sub(&alice, 0, t0, b"new", false),
            "else": {"method": "info", "params": {}}}),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["condition"], json!(true), "{reply}");
    assert_eq!(reply["hf"], json!([19, 3]));
    assert!(reply["v"].is_array() && reply["height"].as_u64().unwrap() > 0, "{reply}");
    assert_eq!(reply["result"]["code"], json!(200), "{reply}");
    assert_eq!(reply["result"]["body"]["swarm"].as_object().unwrap().len(), members.len(), "{reply}");
    let hash = reply["result"]["body"]["hash"].as_str().unwrap().to_string();
    let urls: Vec<String> = members.iter().map(|ed| tn.url(tn.index_of(ed).unwrap())).collect();
    assert_all_hold(&urls, &alice, 0, std::slice::from_ref(&hash), "after the ifelse store");

    // It does not hold and there is no `else`: no result, nothing runs.
    let (status, reply) = rpc(
        &url,
        "ifelse",
        json!({"if": {"hf_at_least": [99]}, "then": store_sub(&alice, 0, t0, b"never", false)}),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["condition"], json!(false), "{reply}");
    assert!(reply.get("result").is_none(), "{reply}");

    // Refusals: the live texts, and nothing stored.
    let (status, body) = rpc(&url, "ifelse", json!({"if": {}, "then": {"method": "info", "params": {}}}));
    assert_eq!(
        (status, body.as_str()),
        (400, Some("invalid request: Invalid ifelse request: must specify at least one \"if\" condition"))
    );
    let (status, body) =
        rpc(&url, "ifelse", json!({"if": {"hf_at_least": [1]}, "then": {"method": "nope", "params": {}}}));
    assert_eq!(
        (status, body.as_str()),
        (400, Some("invalid request: Invalid ifelse request method \"then\""))
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_all_hold(&urls, &alice, 0, &[hash], "after the refused ifelse requests");
}
