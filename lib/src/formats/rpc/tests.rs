use super::*;

const VECTOR_PK: &str = "05ffba630924aa1224bb930dde21c0d11bf004608f2812217f8ac812d6c7e3ad48";
const VECTOR_DATA: &str = concat!(
    "CAES1gIKA1BVVBIPL2FwaS92MS9tZXNzYWdlGrsCCAYovfqZv4YvQq8CVwutUBbhRzZw80TvR6uTYMKg9DSag",
    "rtpeEpY31L7VxawfS8aSya0SiDa4J025SkjP13YX8g5pxgQ8Z6hgfNArMqr/tSijJ9miVKVDJ63YWE85O8kyW",
    "F8tdtZR5j0Vxb+JH5U8Rg1bp7ftKk3OSf7JJMcrUUrDnctQHe540zJ2OTDJ03DfubkX5NmKqEu5nhXGxeeDv3",
    "mTiL63fjtCvZYcikfjf6Nh1AX++HTgJ9SGoEIMastGUorFrmmXb2sbjHxNiJn0Radj/VzcA9VxYwBW5+AbGQ2",
    "d9+vvm7X+8vh+jIenJfjxf+8CWER+9adNfb4YUH07I+godNCV0O0J05gzqfKdT7J8MBZzFBtKrbk8oCagPpTs",
    "q/wZyYFKFKKD+q+zh704dYBILvs5yXUA96pIAA="
);

#[test]
fn test_message_hash_spec_vector() {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.decode(VECTOR_DATA).unwrap();
    assert_eq!(data.len(), 347);
    let pk = crate::formats::keys::Pubkey::parse(VECTOR_PK).unwrap();
    assert_eq!(message_hash(&pk, 0, &data), "4sMyAuaZlMwww3oFvfhazfw7ASx/7TDtO+TVc8aAjHs");
}

#[test]
fn test_legacy_v22_message_hash_spec_vector() {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.decode(VECTOR_DATA).unwrap();
    let pk = crate::formats::keys::Pubkey::parse(VECTOR_PK).unwrap();
    let ts = 1_616_650_862_026;
    assert_eq!(
        legacy_message_hash_v22(&pk, ts, ts + 48 * 3_600_000, &data),
        "rY7K5YXNsg7d8LBP6R4OoOr6L7IMFxa3Tr8ca5v5nBI"
    );
}

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::formats::envelope::Envelope;
use crate::formats::identity::Identity;
use crate::formats::keys::Pubkey;
use crate::formats::limits::{
    MAX_MESSAGE_BYTES, RETRIEVE_MAX_COUNT, RETRIEVE_MAX_SIZE, RPC_MAX_BODY_BYTES, TTL_MAX_PRIVATE_MS,
    TTL_MAX_PUBLIC_MS, TTL_MIN_MS,
};

const NOW: u64 = 1_700_000_000_000;

fn alice() -> Identity {
    Identity::from_seed_hex("000102030405060708090a0b0c0d0e0f").unwrap()
}

fn alice_pk() -> Pubkey {
    Pubkey::from(alice().session_id())
}

fn parse(method: &str, params: Value) -> Result<Request, RpcError> {
    parse_request(
        &serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})).unwrap(),
    )
}

fn store(params: Value) -> Result<StoreParams, RpcError> {
    match parse("store", params)? {
        Request::Store(p) => Ok(p),
        other => panic!("not a store: {other:?}"),
    }
}

fn retrieve(params: Value) -> Result<RetrieveParams, RpcError> {
    match parse("retrieve", params)? {
        Request::Retrieve(p) => Ok(p),
        other => panic!("not a retrieve: {other:?}"),
    }
}

fn delete(params: Value) -> Result<DeleteParams, RpcError> {
    match parse("delete", params)? {
        Request::Delete(p) => Ok(p),
        other => panic!("not a delete: {other:?}"),
    }
}

fn status_of<T: std::fmt::Debug>(r: Result<T, RpcError>) -> u16 {
    r.unwrap_err().status
}

fn store_base(ns: i16) -> Value {
    json!({"pubkey": alice_pk().to_hex(), "timestamp": NOW, "ttl": 86_400_000, "data": "aGVsbG8=", "namespace": ns})
}

fn signed_store(ns: i16, sig_ts: u64) -> Value {
    let id = alice();
    let mut p = store_base(ns);
    p["signature"] = json!(STANDARD.encode(id.sign(&store_sig_message(ns, sig_ts))));
    p["sig_timestamp"] = json!(sig_ts);
    p["pubkey_ed25519"] = json!(hex::encode(id.ed25519_public()));
    p
}

// ---- request envelope ------------------------------------------------------------------------

#[test]
fn test_malformed_bodies_are_400_invalid_request() {
    for body in [&b"not json"[..], b"[]", b"{}", b"{\"method\": 5}", b"{\"method\":\"store\",\"params\":[1]}"]
    {
        let e = parse_request(body).unwrap_err();
        assert_eq!(e.status, 400, "{body:?}");
        assert!(e.message.starts_with("invalid request: "), "{}", e.message);
    }
    let e = parse_request(br#"{"method":"nope","params":{}}"#).unwrap_err();
    assert_eq!((e.status, e.message.as_str()), (400, "invalid request: unknown method 'nope'"));
    let big = vec![b' '; RPC_MAX_BODY_BYTES + 1];
    assert_eq!(parse_request(&big).unwrap_err().status, 400);
}

#[test]
fn test_info_alias_and_ignored_fields() {
    assert_eq!(parse_request(br#"{"method":"info"}"#).unwrap(), Request::Info);
    let r = parse("get_snodes_for_pubkey", json!({"pubKey": alice_pk().to_hex()})).unwrap();
    assert_eq!(r, Request::GetSwarm(GetSwarmParams { pubkey: alice_pk() }));
    assert_eq!(r.method(), "get_swarm");
    assert_eq!(r.swarm_pubkey(), None);
    assert_eq!(parse("get_swarm", json!({})).unwrap_err().status, 400);
}

#[test]
fn test_oxend_request_only_get_service_nodes() {
    let r = parse("oxend_request", json!({"endpoint": "get_service_nodes", "params": {"active_only": true}}))
        .unwrap();
    assert!(
        matches!(r, Request::OxendRequest(OxendRequestParams { ref endpoint, .. }) if endpoint == "get_service_nodes")
    );
    assert_eq!(status_of(parse("oxend_request", json!({"endpoint": "ons_resolve"}))), 400);
    assert_eq!(status_of(parse("oxend_request", json!({}))), 400);
}

// ---- store -----------------------------------------------------------------------------------

#[test]
fn test_store_accepts_live_field_forms() {
    let p = store(json!({"pubKey": alice_pk().to_hex(), "timestamp": NOW.to_string(), "ttl": "60000", "data": "aGVsbG8="}))
        .unwrap();
    assert_eq!(
        (p.namespace, p.timestamp_ms, p.expiry_ms, p.data.as_slice()),
        (0, NOW, NOW + 60_000, &b"hello"[..])
    );
    assert!(p.gave_ttl);
    let p = store(json!({"pubkey": alice_pk().to_hex(), "timestamp": NOW, "expiry": (NOW + 20_000).to_string(), "data": ""}))
        .unwrap();
    assert_eq!((p.expiry_ms, p.ttl_ms(), p.gave_ttl), (NOW + 20_000, 20_000, false));
    let m = p.validate(NOW).unwrap();
    assert_eq!(m.hash, message_hash(&alice_pk(), 0, b""));
    assert_eq!(m.hash.len(), 43);
}

#[test]
fn test_store_bad_params_are_400() {
    let pk = alice_pk().to_hex();
    let cases = [
        json!({"pubkey": pk, "timestamp": NOW, "data": "aGk="}),
        json!({"pubkey": pk, "timestamp": NOW, "ttl": 60000, "expiry": NOW + 60000, "data": "aGk="}),
        json!({"pubkey": pk, "ttl": 60000, "data": "aGk="}),
        json!({"pubkey": pk, "timestamp": NOW, "ttl": -5, "data": "aGk="}),
        json!({"pubkey": pk, "timestamp": NOW, "ttl": "6e4", "data": "aGk="}),
        json!({"pubkey": pk, "timestamp": NOW, "ttl": 60000}),
        json!({"pubkey": pk, "timestamp": NOW, "ttl": 60000, "data": "not base64!"}),
        json!({"pubkey": pk, "timestamp": NOW, "ttl": 60000, "data": 5}),
        json!({"pubkey": pk, "pubKey": pk, "timestamp": NOW, "ttl": 60000, "data": "aGk="}),
        json!({"pubkey": "05abc", "timestamp": NOW, "ttl": 60000, "data": "aGk="}),
        json!({"timestamp": NOW, "ttl": 60000, "data": "aGk="}),
        json!({"pubkey": pk, "timestamp": NOW, "ttl": 60000, "data": "aGk=", "namespace": 32768}),
        json!({"pubkey": pk, "timestamp": NOW, "ttl": 60000, "data": "aGk=", "namespace": "1"}),
        json!({"pubkey": pk, "timestamp": NOW, "ttl": 60000, "data": "aGk=", "signature": "c2ln"}),
        json!({"pubkey": pk, "timestamp": NOW, "ttl": 60000, "data": "aGk=", "pubkey_ed25519": "00"}),
        json!({"pubkey": pk, "timestamp": NOW, "ttl": 60000, "data": "aGk=", "sig_timestamp": 1_700_000}),
        json!({"pubkey": pk, "timestamp": NOW, "ttl": 60000, "data": "aGk=", "nonce": "A".repeat(100)}),
        json!({"pubkey": "03".to_string() + &"11".repeat(32), "timestamp": NOW, "ttl": 60000, "data": "aGk=",
               "pubkey_ed25519": "11".repeat(32)}),
    ];
    for c in cases {
        let e = store(c.clone()).unwrap_err();
        assert_eq!(e.status, 400, "{c}: {}", e.message);
        assert!(e.message.starts_with("invalid request: "));
    }
}

#[test]
fn test_store_data_size_limit() {
    let ok = STANDARD.encode(vec![7u8; MAX_MESSAGE_BYTES]);
    let mut p = store_base(0);
    p["data"] = json!(ok);
    assert_eq!(store(p.clone()).unwrap().data.len(), MAX_MESSAGE_BYTES);
    p["data"] = json!(STANDARD.encode(vec![7u8; MAX_MESSAGE_BYTES + 1]));
    let e = store(p).unwrap_err();
    assert_eq!(e.status, 400);
    assert!(e.message.contains("76800"), "{}", e.message);
}

#[test]
fn test_store_ttl_out_of_range_is_403() {
    let check = |ns: i16, ttl: u64| {
        let mut p = if ns % 10 == 0 { store_base(ns) } else { signed_store(ns, NOW) };
        p["ttl"] = json!(ttl);
        store(p).unwrap().validate(NOW).map(|_| ())
    };
    assert_eq!(check(0, TTL_MIN_MS - 1).unwrap_err(), RpcError::bad_ttl());
    assert!(check(0, TTL_MIN_MS).is_ok());
    assert!(check(0, TTL_MAX_PUBLIC_MS).is_ok());
    assert_eq!(check(0, TTL_MAX_PUBLIC_MS + 1).unwrap_err().status, 403);
    assert_eq!(check(-10, TTL_MAX_PUBLIC_MS + 1).unwrap_err().status, 403);
    assert!(check(3, TTL_MAX_PUBLIC_MS + 1).is_ok());
    assert!(check(3, TTL_MAX_PRIVATE_MS).is_ok());
    assert_eq!(check(3, TTL_MAX_PRIVATE_MS + 1).unwrap_err().status, 403);
    // An expiry before the timestamp is a negative TTL.
    let mut p = store_base(0);
    p.as_object_mut().unwrap().remove("ttl");
    p["expiry"] = json!(NOW - 1);
    assert_eq!(store(p).unwrap().validate(NOW).unwrap_err().status, 403);
}

#[test]
fn test_store_clock_is_406() {
    let mut p = store_base(0);
    p["timestamp"] = json!(NOW + 10_000);
    assert!(store(p.clone()).unwrap().validate(NOW).is_ok());
    p["timestamp"] = json!(NOW + 10_001);
    let e = store(p).unwrap().validate(NOW).unwrap_err();
    assert_eq!((e.status, e.message.as_str()), (406, "Timestamp error: check your clock"));
    let mut p = store_base(0);
    p["timestamp"] = json!(NOW - 60_000);
    p["ttl"] = json!(49_999);
    assert_eq!(store(p).unwrap().validate(NOW).unwrap_err().status, 406);
}

#[test]
fn test_store_signature_rules() {
    // Public inboxes need none.
    assert!(store(store_base(0)).unwrap().validate(NOW).is_ok());
    assert!(store(store_base(-20)).unwrap().validate(NOW).is_ok());
    // Other namespaces: missing → 401.
    let e = store(store_base(3)).unwrap().validate(NOW).unwrap_err();
    assert_eq!((e.status, e.message.as_str()), (401, "store: signature required to store to namespace 3"));
    // Good signature (sig_timestamp may differ from timestamp).
    let m = store(signed_store(3, NOW - 30_000)).unwrap().validate(NOW).unwrap();
    assert_eq!(m.hash, message_hash(&alice_pk(), 3, b"hello"));
    // Signature timestamp more than 60 s away → 406.
    assert_eq!(store(signed_store(3, NOW - 60_001)).unwrap().validate(NOW).unwrap_err().status, 406);
    assert_eq!(store(signed_store(3, NOW + 60_001)).unwrap().validate(NOW).unwrap_err().status, 406);
    // Signed over another namespace → 401.
    let mut p = signed_store(3, NOW);
    p["namespace"] = json!(4);
    assert_eq!(store(p).unwrap().validate(NOW).unwrap_err().status, 401);
    // pubkey_ed25519 that does not map to the 05 key → 401.
    let mut p = signed_store(3, NOW);
    p["pubkey_ed25519"] =
        json!(hex::encode(Identity::from_seed_hex(&"11".repeat(16)).unwrap().ed25519_public()));
    assert_eq!(store(p).unwrap().validate(NOW).unwrap_err().status, 401);
    // Without pubkey_ed25519 the X25519 bytes are taken as an Ed25519 key: fails for 05.
    let mut p = signed_store(3, NOW);
    p.as_object_mut().unwrap().remove("pubkey_ed25519");
    assert_eq!(store(p).unwrap().validate(NOW).unwrap_err().status, 401);
    // Both the 88-character padded form and the 86-character unpadded one are accepted.
    let p = signed_store(3, NOW);
    let padded = p["signature"].as_str().unwrap().to_owned();
    assert!(padded.len() == 88 && padded.ends_with("=="));
    assert!(store(p.clone()).unwrap().validate(NOW).is_ok());
    let mut q = p.clone();
    q["signature"] = json!(padded.trim_end_matches('='));
    assert!(store(q).unwrap().validate(NOW).is_ok());
    let mut q = p;
    q["signature"] = json!(format!("{}AA", &padded[..86]));
    assert_eq!(status_of(store(q)), 400);
}

#[test]
fn test_group_pubkey_signs_with_its_own_ed25519_key() {
    let group = Identity::from_seed_hex(&"22".repeat(32)).unwrap();
    let pk = Pubkey::new(crate::formats::keys::GROUP_TYPE, group.ed25519_public());
    let p = json!({"pubkey": pk.to_hex(), "timestamp": NOW, "ttl": 60_000, "data": "aGk=", "namespace": 11,
                   "signature": STANDARD.encode(group.sign(&store_sig_message(11, NOW)))});
    assert!(store(p).unwrap().validate(NOW).is_ok());
}

// ---- retrieve --------------------------------------------------------------------------------

#[test]
fn test_retrieve_signature_rules() {
    let id = alice();
    let ok = client::retrieve_params(&id, 0, None, NOW);
    let q = retrieve(ok.clone()).unwrap().validate(NOW).unwrap();
    assert_eq!((q.pubkey, q.namespace, q.last_hash.as_deref()), (alice_pk(), 0, None));
    // Missing signature: 401, except -10 and public outboxes.
    let bare = json!({"pubkey": alice_pk().to_hex()});
    let e = retrieve(bare.clone()).unwrap().validate(NOW).unwrap_err();
    assert_eq!((e.status, e.message.as_str()), (401, "retrieve: request signature required"));
    for ns in [-10, -1, -21] {
        let mut p = bare.clone();
        p["namespace"] = json!(ns);
        assert!(retrieve(p).unwrap().validate(NOW).is_ok(), "ns {ns}");
    }
    let mut p = bare.clone();
    p["namespace"] = json!(5);
    assert_eq!(retrieve(p).unwrap().validate(NOW).unwrap_err().status, 401);
    // Clock: ±60 s.
    assert!(retrieve(ok.clone()).unwrap().validate(NOW + 60_000).is_ok());
    assert_eq!(retrieve(ok.clone()).unwrap().validate(NOW + 60_001).unwrap_err().status, 406);
    // Wrong namespace in the signed string → 401.
    let mut p = ok.clone();
    p["namespace"] = json!(2);
    assert_eq!(retrieve(p).unwrap().validate(NOW).unwrap_err().status, 401);
    // Signature without timestamp → 400.
    let mut p = ok;
    p.as_object_mut().unwrap().remove("timestamp");
    assert_eq!(retrieve(p).unwrap().validate(NOW).unwrap_err().status, 400);
    // Namespace 2 signed properly.
    assert!(retrieve(client::retrieve_params(&id, 2, None, NOW)).unwrap().validate(NOW).is_ok());
}

#[test]
fn test_retrieve_last_hash_forms() {
    let id = alice();
    let h = message_hash(&alice_pk(), 0, b"x");
    let mut p = client::retrieve_params(&id, 0, Some(&h), NOW);
    assert_eq!(retrieve(p.clone()).unwrap().last_hash, Some(h.clone()));
    p["last_hash"] = json!("");
    assert_eq!(retrieve(p.clone()).unwrap().last_hash, None);
    p.as_object_mut().unwrap().remove("last_hash");
    p["lastHash"] = json!(h);
    assert_eq!(retrieve(p.clone()).unwrap().last_hash, Some(h.clone()));
    p["last_hash"] = json!(h);
    assert_eq!(status_of(retrieve(p.clone())), 400);
    p.as_object_mut().unwrap().remove("last_hash");
    p["lastHash"] = json!("short");
    assert_eq!(status_of(retrieve(p)), 400);
}

#[test]
fn test_retrieve_limits_live_semantics() {
    let d = RETRIEVE_MAX_SIZE / 5;
    assert_eq!(resolve_retrieve_limits(None, None), (RETRIEVE_MAX_COUNT, d));
    assert_eq!(resolve_retrieve_limits(Some(0), Some(0)), (RETRIEVE_MAX_COUNT, d));
    assert_eq!(resolve_retrieve_limits(None, Some(-1)), (RETRIEVE_MAX_COUNT, RETRIEVE_MAX_SIZE));
    assert_eq!(resolve_retrieve_limits(None, Some(-2)), (RETRIEVE_MAX_COUNT, RETRIEVE_MAX_SIZE / 2));
    assert_eq!(resolve_retrieve_limits(None, Some(1000)), (RETRIEVE_MAX_COUNT, 1000));
    assert_eq!(resolve_retrieve_limits(None, Some(i64::MAX)), (RETRIEVE_MAX_COUNT, RETRIEVE_MAX_SIZE));
    assert_eq!(resolve_retrieve_limits(None, Some(i64::MIN)), (RETRIEVE_MAX_COUNT, 0));
    assert_eq!(resolve_retrieve_limits(Some(5), None), (5, RETRIEVE_MAX_SIZE));
    assert_eq!(resolve_retrieve_limits(Some(-5), None), (RETRIEVE_MAX_COUNT, d));
    assert_eq!(
        resolve_retrieve_limits(Some(i64::MAX), Some(-4)),
        (RETRIEVE_MAX_COUNT, RETRIEVE_MAX_SIZE / 4)
    );
    let mut p = client::retrieve_params(&alice(), 0, None, NOW);
    p["max_count"] = json!(3);
    p["max_size"] = json!(-2);
    let q = retrieve(p.clone()).unwrap().validate(NOW).unwrap();
    assert_eq!((q.max_count, q.max_size), (3, RETRIEVE_MAX_SIZE / 2));
    p["max_size"] = json!("big");
    assert_eq!(status_of(retrieve(p)), 400);
}

// ---- delete ----------------------------------------------------------------------------------

#[test]
fn test_delete_rules() {
    let id = alice();
    let hashes = vec![message_hash(&alice_pk(), 0, b"a"), message_hash(&alice_pk(), 0, b"b")];
    let p = client::delete_params(&id, &hashes, true);
    let d = delete(p.clone()).unwrap();
    assert!(d.required);
    d.validate().unwrap();
    assert_eq!(d.check_deleted(&[]).unwrap_err().status, 404);
    assert!(d.check_deleted(&hashes[..1]).is_ok());
    let relaxed = delete(client::delete_params(&id, &hashes, false)).unwrap();
    assert!(relaxed.check_deleted(&[]).is_ok());
    // Signature over other hashes → 401; none → 401.
    let mut bad = p.clone();
    bad["messages"] = json!([hashes[0]]);
    assert_eq!(delete(bad).unwrap().validate().unwrap_err().status, 401);
    let mut none = p.clone();
    none.as_object_mut().unwrap().remove("signature");
    assert_eq!(delete(none).unwrap().validate().unwrap_err().status, 401);
    // Bad params → 400.
    for (k, v) in [
        ("messages", json!([])),
        ("messages", json!(["xyz"])),
        ("messages", json!("h")),
        ("required", json!(1)),
    ] {
        let mut q = p.clone();
        q[k] = v;
        assert_eq!(status_of(delete(q)), 400, "{k}");
    }
}

// ---- replies ---------------------------------------------------------------------------------

fn member(n: u8) -> SwarmMember {
    let id = Identity::from_seed_hex(&format!("{n:02x}").repeat(16)).unwrap();
    SwarmMember {
        pubkey_ed25519: id.ed25519_public(),
        pubkey_x25519: id.x25519_public(),
        ip: "127.0.0.1".into(),
        port: 20_000 + n as u16,
    }
}

#[test]
fn test_wrong_swarm_421_and_get_swarm_round_trip() {
    let members = vec![member(1), member(2)];
    let e = wrong_swarm(0x1234_5678_9abc_def0, &members, NOW);
    assert_eq!(e.status, 421);
    let ReplyBody::Json(body) = e.body() else { panic!("421 must carry JSON") };
    assert_eq!(body["t"], json!(NOW));
    assert_eq!(body["hf"], json!(HARDFORK));
    assert_eq!(body["swarm"], json!("123456789abcdef0"));
    let s = &body["snodes"][0];
    assert_eq!(s["port"], json!("20001"));
    assert_eq!(s["port_https"], json!(20001));
    assert!(s["address"].as_str().unwrap().ends_with(".snode"));
    assert_eq!(s["address"].as_str().unwrap().len(), 52 + 6);
    let parsed = crate::formats::nodelist::parse_get_swarm_reply(&body).unwrap();
    assert_eq!((parsed.swarm_id, SwarmMember::from_nodes(&parsed.nodes)), (0x1234_5678_9abc_def0, members));
    assert_eq!(base32z(&[0xF0, 0xBF, 0xC7]), "6n9hq");
}

#[test]
fn test_invalid_pow_432_body() {
    let e = RpcError::invalid_pow(17);
    assert_eq!(e.status, 432);
    assert_eq!(e.body(), ReplyBody::Json(json!({"difficulty": 17})));
    assert_eq!(RpcError::internal("x").body(), ReplyBody::Text("x".into()));
}

#[test]
fn test_store_reply_round_trip_and_status() {
    let node = Identity::from_seed_hex(&"33".repeat(16)).unwrap();
    let node_hex = hex::encode(node.ed25519_public());
    let hash = message_hash(&alice_pk(), 0, b"hello");
    let ok = store_member_ok(|m| node.sign(m), &hash, NOW + 1000, true);
    let failed = store_member_failed(&StoreMemberFailure::Code { code: 406, reason: "clock".into() });
    let (status, body) =
        swarm_reply(vec![(node_hex.clone(), ok), ("ab".repeat(32), failed.clone())], Some(&hash), NOW);
    assert_eq!(status, 200);
    assert_eq!(body["hash"], json!(hash));
    let r = client::parse_store_reply(&body).unwrap();
    assert_eq!(r.stored(), 1);
    assert_eq!(r.t, Some(NOW));
    let (k, m) = r.members.iter().find(|(k, _)| *k == node_hex).unwrap();
    assert!(m.verify(k));
    assert!(
        matches!(m, client::MemberStore::Stored { already: true, expiry_ms, .. } if *expiry_ms == NOW + 1000)
    );
    assert!(!m.verify(&"ab".repeat(32)));
    let (_, f) = r.members.iter().find(|(k, _)| *k != node_hex).unwrap();
    assert_eq!(f, &client::MemberStore::Failed { reason: "code 406: clock".into() });
    let (status, _) = swarm_reply(vec![("ab".repeat(32), failed)], Some(&hash), NOW);
    assert_eq!(status, 500);
    for why in
        [StoreMemberFailure::Timeout, StoreMemberFailure::BadPeerResponse, StoreMemberFailure::QueryFailure]
    {
        assert_eq!(store_member_failed(&why)["failed"], json!(true));
    }
}

#[test]
fn test_delete_reply_signature() {
    let node = Identity::from_seed_hex(&"44".repeat(16)).unwrap();
    let req = vec!["a".repeat(43), "b".repeat(43)];
    let del = vec!["a".repeat(43)];
    let v = delete_member_ok(|m| node.sign(m), &alice_pk(), &req, &del);
    assert_eq!(v["deleted"], json!(del));
    // Deleted hashes are listed and signed sorted, whatever order they were asked in.
    let back = vec!["b".repeat(43), "a".repeat(43)];
    let w = delete_member_ok(|m| node.sign(m), &alice_pk(), &back, &back);
    assert_eq!(w["deleted"], json!(req));
    let sig: [u8; 64] = STANDARD.decode(w["signature"].as_str().unwrap()).unwrap().try_into().unwrap();
    let msg = format!("{}{}{}{}{}", alice_pk().to_hex(), back[0], back[1], req[0], req[1]);
    assert!(
        node.verifying_key()
            .verify_strict(msg.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig))
            .is_ok()
    );
    let sig: [u8; 64] = STANDARD.decode(v["signature"].as_str().unwrap()).unwrap().try_into().unwrap();
    let msg = format!("{}{}{}{}", alice_pk().to_hex(), req[0], req[1], del[0]);
    assert!(
        node.verifying_key()
            .verify_strict(msg.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig))
            .is_ok()
    );
}

#[test]
fn test_info_reply() {
    let v = info_reply(NOW);
    assert_eq!(v["version"], json!([2, 11, 0]));
    assert_eq!(v["timestamp"], json!(NOW));
    assert_eq!(
        oxend_reply(json!({"service_node_states": []}), NOW)["result"]["service_node_states"],
        json!([])
    );
}

// ---- client ⇄ server round trips -------------------------------------------------------------

#[test]
fn test_signed_store_params_validate_on_server() {
    let env = Envelope {
        pubkey: alice_pk().to_hex(),
        timestamp: NOW,
        ttl: 60_000,
        data: STANDARD.encode(b"config"),
        nonce: None,
    };
    let p = store(client::signed_store_params(&alice(), &env, 5)).unwrap();
    assert_eq!(p.validate(NOW).unwrap().namespace, 5);
    assert_eq!(p.to_envelope(), env);
}

fn arb_pubkey() -> impl Strategy<Value = Pubkey> {
    (prop_oneof![Just(0x05u8), Just(0x03u8), any::<u8>()], any::<[u8; 32]>())
        .prop_map(|(t, k)| Pubkey::new(t, k))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_store_params_round_trip(
        pk in arb_pubkey(),
        ts in 1_000_000_000_000u64..4_000_000_000_000,
        ttl in 1u64..3_000_000_000,
        data in proptest::collection::vec(any::<u8>(), 0..512),
        ns in any::<i16>(),
        nonce in proptest::option::of(any::<[u8; 8]>()),
    ) {
        let env = Envelope {
            pubkey: pk.to_hex(),
            timestamp: ts,
            ttl,
            data: STANDARD.encode(&data),
            nonce: nonce.map(|n| STANDARD.encode(n)),
        };
        let p = store(client::store_params(&env, ns)).unwrap();
        prop_assert_eq!(p.pubkey, pk);
        prop_assert_eq!(p.namespace, ns);
        prop_assert_eq!(p.timestamp_ms, ts);
        prop_assert_eq!(p.ttl_ms(), ttl);
        prop_assert_eq!(&p.data, &data);
        prop_assert_eq!(p.to_envelope(), env);
    }

    #[test]
    fn prop_retrieve_params_round_trip(seed in any::<[u8; 16]>(), ns in any::<i16>(), ts in 1_000_000_000_000u64..4_000_000_000_000, h in any::<[u8; 32]>()) {
        let id = Identity::from_seed(&seed).unwrap();
        let last = base64::engine::general_purpose::STANDARD_NO_PAD.encode(h);
        let q = retrieve(client::retrieve_params(&id, ns, Some(&last), ts)).unwrap().validate(ts).unwrap();
        prop_assert_eq!(q.pubkey, Pubkey::from(id.session_id()));
        prop_assert_eq!(q.namespace, ns);
        prop_assert_eq!(q.last_hash, Some(last));
    }

    #[test]
    fn prop_retrieve_reply_round_trip(
        items in proptest::collection::vec((any::<[u8; 32]>(), any::<u32>(), proptest::collection::vec(any::<u8>(), 0..64)), 0..8),
        more in any::<bool>(),
    ) {
        let msgs: Vec<crate::formats::rpc::message::StoredMessage> = items.iter().map(|(h, t, d)| crate::formats::rpc::message::StoredMessage {
            pubkey: alice_pk(),
            namespace: 0,
            hash: base64::engine::general_purpose::STANDARD_NO_PAD.encode(h),
            timestamp_ms: NOW + *t as u64,
            expiry_ms: NOW + *t as u64 + 1,
            data: d.clone(),
        }).collect();
        let r = client::parse_retrieve_reply(&retrieve_reply(&msgs, more, NOW)).unwrap();
        prop_assert_eq!(r.more, more);
        prop_assert_eq!(r.messages.len(), msgs.len());
        for (a, b) in r.messages.iter().zip(&msgs) {
            prop_assert_eq!(&a.hash, &b.hash);
            prop_assert_eq!(a.timestamp_ms, b.timestamp_ms);
            prop_assert_eq!(a.expiry_ms, b.expiry_ms);
            prop_assert_eq!(&a.data, &b.data);
        }
    }

    #[test]
    fn prop_parse_request_never_panics(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_request(&body);
    }

    #[test]
    fn prop_base32z_length(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assert_eq!(base32z(&bytes).len(), (bytes.len() * 8).div_ceil(5));
    }
}

#[test]
fn test_swarm_member_from_node_info() {
    let m = member(5);
    let n = crate::formats::nodelist::NodeInfo {
        pubkey_ed25519: m.pubkey_ed25519,
        pubkey_x25519: m.pubkey_x25519,
        public_ip: m.ip.clone(),
        storage_port: m.port,
        swarm_id: 7,
    };
    assert_eq!(SwarmMember::from_nodes(std::slice::from_ref(&n)), vec![m]);
    // The nodelist's own get_swarm parser reads what we build.
    let body = get_swarm_reply(7, &SwarmMember::from_nodes(std::slice::from_ref(&n)), NOW);
    let parsed = crate::formats::nodelist::parse_get_swarm_reply(&body).unwrap();
    assert_eq!(parsed.swarm_id, 7);
    assert_eq!(parsed.nodes[0].pubkey_ed25519, n.pubkey_ed25519);
    assert_eq!(parsed.nodes[0].storage_port, n.storage_port);
}

/// The signed strings byte for byte (storage-rpc.md): a bug shared by our client and our
/// node would pass every round trip, so the literal bytes are pinned here.
#[test]
fn signed_strings_are_the_live_networks_bytes() {
    assert_eq!(retrieve_sig_message(0, 1_700_000_000_123), b"retrieve1700000000123");
    assert_eq!(retrieve_sig_message(-10, 1_700_000_000_123), b"retrieve-101700000000123");
    assert_eq!(retrieve_sig_message(5, 42), b"retrieve542");
    assert_eq!(store_sig_message(0, 1_700_000_000_123), b"store1700000000123");
    assert_eq!(store_sig_message(11, 7), b"store117");
    assert_eq!(store_sig_message(-32768, 1), b"store-327681");
    assert_eq!(delete_sig_message(&["ab".into(), "cd".into()]), b"deleteabcd");
    assert_eq!(delete_sig_message(&[]), b"delete");
}

// ---- delete_all / delete_before -----------------------------------------------------------------

fn delete_all(params: Value) -> Result<DeleteAllParams, RpcError> {
    match parse("delete_all", params)? {
        Request::DeleteAll(p) => Ok(p),
        other => panic!("not a delete_all: {other:?}"),
    }
}

fn delete_before(params: Value) -> Result<DeleteBeforeParams, RpcError> {
    match parse("delete_before", params)? {
        Request::DeleteBefore(p) => Ok(p),
        other => panic!("not a delete_before: {other:?}"),
    }
}

fn err_text<T: std::fmt::Debug>(r: Result<T, RpcError>) -> (u16, String) {
    let e = r.unwrap_err();
    (e.status, e.message)
}

#[test]
fn delete_all_signed_strings_are_the_live_networks_bytes() {
    use crate::formats::rpc::NamespaceSel::{All, One};
    assert_eq!(delete_all_sig_message(One(0), 1_700_000_000_123), b"delete_all1700000000123");
    assert_eq!(delete_all_sig_message(All, 1_700_000_000_123), b"delete_allall1700000000123");
    assert_eq!(delete_all_sig_message(One(-42), 5), b"delete_all-425");
    assert_eq!(delete_before_sig_message(One(0), 1_700_000_000_123), b"delete_before1700000000123");
    assert_eq!(delete_before_sig_message(All, 9), b"delete_beforeall9");
    assert_eq!(delete_before_sig_message(One(3), 9), b"delete_before39");
}

#[test]
fn test_delete_all_rules_and_error_texts() {
    use crate::formats::limits::{SIGNATURE_CLOCK_TOLERANCE_FORWARDED_MS, SIGNATURE_CLOCK_TOLERANCE_MS};
    use crate::formats::rpc::NamespaceSel::{All, One};
    let id = alice();
    let p = delete_all(client::delete_all_params(&id, All, NOW)).unwrap();
    assert_eq!(p.namespace, All);
    p.validate(NOW + 60_000, SIGNATURE_CLOCK_TOLERANCE_MS).unwrap();
    // ±60 s from a client, ±70 s forwarded; the live text (pinned for ±120 s).
    let stale = (406, "delete_all timestamp too far from current time".to_string());
    assert_eq!(err_text(p.validate(NOW + 60_001, SIGNATURE_CLOCK_TOLERANCE_MS)), stale);
    assert_eq!(err_text(p.validate(NOW - 120_000, SIGNATURE_CLOCK_TOLERANCE_MS)), stale);
    p.validate(NOW - 70_000, SIGNATURE_CLOCK_TOLERANCE_FORWARDED_MS).unwrap();
    // A signature over another namespace, or another timestamp, is refused.
    let mut q = client::delete_all_params(&id, One(0), NOW);
    q["namespace"] = json!("all");
    assert_eq!(
        err_text(delete_all(q).unwrap().validate(NOW, SIGNATURE_CLOCK_TOLERANCE_MS)),
        (401, "delete_all signature verification failed".to_string())
    );
    let mut q = client::delete_all_params(&id, One(0), NOW);
    q.as_object_mut().unwrap().remove("namespace");
    assert_eq!(delete_all(q).unwrap().namespace, One(0), "namespace defaults to 0");
    // Parse errors (400, live texts).
    let base = client::delete_all_params(&id, One(0), NOW);
    let cases = [
        (
            "namespace",
            json!("some"),
            "invalid request: Invalid value given for 'namespace': expected integer or \"all\"",
        ),
        (
            "namespace",
            json!(32768),
            "invalid request: Invalid value given for 'namespace': value out of range",
        ),
        (
            "timestamp",
            json!(999_999_999),
            "invalid request: Invalid timestamp for 'timestamp': timestamp must be in milliseconds",
        ),
        (
            "timestamp",
            json!(-5),
            "invalid request: Invalid value given for 'timestamp': expected integer timestamp (in milliseconds)",
        ),
        ("timestamp", Value::Null, "invalid request: Required field 'timestamp' missing"),
        ("signature", Value::Null, "invalid request: Required field 'signature' missing"),
        (
            "signature",
            json!("abc"),
            "invalid request: invalid signature: expected base64 encoded Ed25519 signature",
        ),
    ];
    for (k, v, text) in cases {
        let mut q = base.clone();
        q[k] = v;
        assert_eq!(err_text(delete_all(q)), (400, text.to_string()), "{k}");
    }
}

#[test]
fn test_delete_before_rules_and_error_texts() {
    use crate::formats::rpc::NamespaceSel::One;
    let id = alice();
    let p = delete_before(client::delete_before_params(&id, One(0), NOW + 60_000)).unwrap();
    p.validate(NOW).unwrap();
    // No lower bound; more than 60 s ahead is a 401 (not 406) on the live server.
    delete_before(client::delete_before_params(&id, One(0), NOW - 86_400_000))
        .unwrap()
        .validate(NOW)
        .unwrap();
    assert_eq!(
        err_text(
            delete_before(client::delete_before_params(&id, One(0), NOW + 60_001)).unwrap().validate(NOW)
        ),
        (401, "delete_before timestamp too far in the future".to_string())
    );
    let mut q = client::delete_before_params(&id, One(0), NOW);
    q["before"] = json!(NOW - 1);
    assert_eq!(
        err_text(delete_before(q).unwrap().validate(NOW)),
        (401, "delete_before signature verification failed".to_string())
    );
    let mut q = client::delete_before_params(&id, One(0), NOW);
    q["before"] = Value::Null;
    assert_eq!(err_text(delete_before(q)), (400, "invalid request: Required field 'before' missing".into()));
}

#[test]
fn test_delete_all_reply_and_node_signature() {
    use crate::formats::rpc::NamespaceSel::{All, One};
    let node = Identity::from_seed_hex(&"44".repeat(16)).unwrap();
    let (a, b, c) = ("a".repeat(43), "b".repeat(43), "c".repeat(43));
    let deleted = vec![(5, c.clone()), (0, b.clone()), (-42, a.clone())];
    let check = |v: &Value, ts: u64| {
        let sig: [u8; 64] = STANDARD.decode(v["signature"].as_str().unwrap()).unwrap().try_into().unwrap();
        // PUBKEY_HEX ‖ dec(ts) ‖ every hash sorted together.
        let msg = format!("{}{ts}{a}{b}{c}", alice_pk().to_hex());
        assert_eq!(delete_all_signature_message(&alice_pk(), ts, &deleted), msg.as_bytes());
        assert!(
            node.verifying_key()
                .verify_strict(msg.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig))
                .is_ok()
        );
    };
    let one = delete_all_member_ok(|m| node.sign(m), &alice_pk(), One(0), NOW, &deleted);
    assert_eq!(one["deleted"], json!([a, b, c]));
    check(&one, NOW);
    let all = delete_all_member_ok(|m| node.sign(m), &alice_pk(), All, NOW + 1, &deleted);
    assert_eq!(all["deleted"], json!({"-42": [a], "0": [b], "5": [c]}));
    check(&all, NOW + 1);
    // Nothing deleted: the signature covers PUBKEY_HEX ‖ ts alone.
    let none = delete_all_member_ok(|m| node.sign(m), &alice_pk(), One(0), 7, &[]);
    assert_eq!(none["deleted"], json!([]));
    assert_eq!(
        delete_all_signature_message(&alice_pk(), 7, &[]),
        format!("{}7", alice_pk().to_hex()).as_bytes()
    );
}

// ---- expire / expire_all / get_expiries ---------------------------------------------------------

fn expire(params: Value) -> Result<ExpireParams, RpcError> {
    match parse("expire", params)? {
        Request::Expire(p) => Ok(p),
        other => panic!("not an expire: {other:?}"),
    }
}

fn node_signed(node: &Identity, v: &Value, msg: &str) -> bool {
    let sig: [u8; 64] = STANDARD.decode(v["signature"].as_str().unwrap()).unwrap().try_into().unwrap();
    node.verifying_key().verify_strict(msg.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig)).is_ok()
}

#[test]
fn expire_signed_strings_are_the_live_networks_bytes() {
    use crate::formats::rpc::NamespaceSel::{All, One};
    let h = ["ab".to_string(), "cd".to_string()];
    assert_eq!(expire_sig_message(ExpireMode::Plain, &[1_700_000_000_123], &h), b"expire1700000000123abcd");
    assert_eq!(expire_sig_message(ExpireMode::Shorten, &[5], &h), b"expireshorten5abcd");
    assert_eq!(expire_sig_message(ExpireMode::Extend, &[5], &h[..1]), b"expireextend5ab");
    assert_eq!(
        expire_sig_message(ExpireMode::Plain, &[5, 66], &h),
        b"expire566abcd",
        "multi: expiries concatenated"
    );
    assert_eq!(expire_all_sig_message(One(0), 77), b"expire_all77");
    assert_eq!(expire_all_sig_message(All, 77), b"expire_allall77");
    assert_eq!(expire_all_sig_message(One(-5), 77), b"expire_all-577");
    assert_eq!(get_expiries_sig_message(99, &h), b"get_expiries99abcd");
}

#[test]
fn test_expire_rules_and_error_texts() {
    let id = alice();
    let (a, b) = ("a".repeat(43), "b".repeat(43));
    let hashes = vec![a.clone(), b.clone()];
    let p = expire(client::expire_params(&id, &hashes, &[NOW + 1000], ExpireMode::Extend)).unwrap();
    assert_eq!(p.mode, ExpireMode::Extend);
    p.validate(NOW, 60_000).unwrap();
    // Clamped to now + 30 days for storage and the reply; the signature covers the request.
    let far = NOW + TTL_MAX_PRIVATE_MS + 5;
    let p = expire(client::expire_params(&id, &hashes, &[far], ExpireMode::Plain)).unwrap();
    p.validate(NOW, 60_000).unwrap();
    assert_eq!(
        p.updates(NOW),
        vec![(a.clone(), NOW + TTL_MAX_PRIVATE_MS), (b.clone(), NOW + TTL_MAX_PRIVATE_MS)]
    );
    // Multi: one expiry per message.
    let p = expire(client::expire_params(&id, &hashes, &[NOW + 1, NOW + 2], ExpireMode::Plain)).unwrap();
    p.validate(NOW, 60_000).unwrap();
    assert_eq!(p.updates(NOW), vec![(a.clone(), NOW + 1), (b.clone(), NOW + 2)]);
    // 401 (not 406) for a past expiry, before the signature.
    let old = expire(client::expire_params(&id, &hashes, &[NOW - 60_001], ExpireMode::Plain)).unwrap();
    assert_eq!(
        err_text(old.validate(NOW, 60_000)),
        (401, "expire: timestamp should be >= current time".into())
    );
    let mut q = client::expire_params(&id, &hashes, &[NOW + 1000], ExpireMode::Plain);
    q["shorten"] = json!(true);
    assert_eq!(
        err_text(expire(q).unwrap().validate(NOW, 60_000)),
        (401, "expire: signature verification failed".into())
    );
    let base = client::expire_params(&id, &hashes, &[NOW + 1000], ExpireMode::Plain);
    let cases = [
        (
            "shorten",
            json!(true),
            "extend",
            json!(true),
            "invalid request: cannot specify both 'shorten' and 'extend'",
        ),
        (
            "expiry",
            json!([]),
            "x",
            Value::Null,
            "invalid request: 'expiry' does not contain any expiration timestamps",
        ),
        (
            "expiry",
            json!([NOW, NOW, NOW]),
            "x",
            Value::Null,
            "invalid request: 'expiry' must be a single expiry, or the same length as 'messages'",
        ),
        (
            "messages",
            json!([]),
            "x",
            Value::Null,
            "invalid request: messages does not contain any message hashes",
        ),
        ("messages", json!("short"), "x", Value::Null, "invalid request: invalid message hash: short"),
        (
            "expiry",
            json!("soon"),
            "x",
            Value::Null,
            "invalid request: Invalid value given for 'expiry': expected timestamp array",
        ),
    ];
    for (k1, v1, k2, v2, text) in cases {
        let mut q = base.clone();
        q[k1] = v1;
        q[k2] = v2;
        assert_eq!(err_text(expire(q)), (400, text.to_string()), "{k1}");
    }
    // One hash as a string (live: array fields take a single value).
    let mut q = base.clone();
    q["messages"] = json!(a);
    assert_eq!(expire(q).unwrap().messages, vec![a]);
}

#[test]
fn test_expire_reply_and_node_signature() {
    let node = Identity::from_seed_hex(&"44".repeat(16)).unwrap();
    let (a, b, c) = ("a".repeat(43), "b".repeat(43), "c".repeat(43));
    let pkh = alice_pk().to_hex();
    // Single expiry, extend: `unchanged` is sent and signed (hash ‖ expiry, hash order); the
    // mode word is not signed.
    let req = vec![c.clone(), a.clone(), b.clone()];
    let p = expire(client::expire_params(&alice(), &req, &[NOW + 500], ExpireMode::Extend)).unwrap();
    let outcome = ExpireOutcome {
        updated: vec![(c.clone(), NOW + 500), (a.clone(), NOW + 500)],
        unchanged: vec![(b.clone(), NOW + 900)],
    };
    let v = expire_member_ok(|m| node.sign(m), &p, NOW, &outcome);
    assert_eq!(v["updated"], json!([a, c]));
    assert_eq!(v["expiry"], json!(NOW + 500));
    assert_eq!(v["unchanged"], json!({ b.clone(): NOW + 900 }));
    let e = NOW + 500;
    assert!(node_signed(&node, &v, &format!("{pkh}{e}{c}{a}{b}{a}{c}{b}{}", NOW + 900)));
    // Plain: no `unchanged`; multi: `expiry` is the applied expiries aligned with sorted updated.
    let req = vec![b.clone(), a.clone()];
    let p = expire(client::expire_params(&alice(), &req, &[NOW + 2, NOW + 1], ExpireMode::Plain)).unwrap();
    let outcome =
        ExpireOutcome { updated: vec![(b.clone(), NOW + 2), (a.clone(), NOW + 1)], unchanged: vec![] };
    let v = expire_member_ok(|m| node.sign(m), &p, NOW, &outcome);
    assert!(v.get("unchanged").is_none());
    assert_eq!(v["expiry"], json!([NOW + 1, NOW + 2]));
    assert!(node_signed(&node, &v, &format!("{pkh}{}{}{b}{a}{a}{b}", NOW + 1, NOW + 2)));
}

#[test]
fn test_expire_all_and_get_expiries_rules_replies_and_signatures() {
    use crate::formats::rpc::NamespaceSel::All;
    let id = alice();
    let node = Identity::from_seed_hex(&"44".repeat(16)).unwrap();
    let p = match parse("expire_all", client::expire_all_params(&id, All, NOW)).unwrap() {
        Request::ExpireAll(p) => p,
        other => panic!("{other:?}"),
    };
    p.validate(NOW + 60_000, 60_000).unwrap();
    assert_eq!(
        err_text(p.validate(NOW + 60_001, 60_000)),
        (406, "expire_all timestamp should be >= current time".into())
    );
    p.validate(NOW + 70_000, 70_000).unwrap();
    let mut q = client::expire_all_params(&id, All, NOW);
    q["namespace"] = json!(0);
    let Request::ExpireAll(bad) = parse("expire_all", q).unwrap() else { panic!() };
    assert_eq!(err_text(bad.validate(NOW, 60_000)), (401, "expire_all signature verification failed".into()));
    let (a, b) = ("a".repeat(43), "b".repeat(43));
    let v = expire_all_member_ok(|m| node.sign(m), &alice_pk(), All, NOW, &[(3, b.clone()), (0, a.clone())]);
    assert_eq!(v["updated"], json!({"0": [a], "3": [b]}));
    assert!(node_signed(&node, &v, &format!("{}{NOW}{a}{b}", alice_pk().to_hex())));

    let hashes = vec![a.clone(), "whatever".to_string()];
    let Request::GetExpiries(g) =
        parse("get_expiries", client::get_expiries_params(&id, &hashes, NOW)).unwrap()
    else {
        panic!()
    };
    assert_eq!(g.messages, hashes, "get_expiries does not check hashes");
    g.validate(NOW - 60_000).unwrap();
    assert_eq!(
        err_text(g.validate(NOW + 60_001)),
        (406, "get_expiries timestamp too far from current time".into())
    );
    let mut q = client::get_expiries_params(&id, &hashes, NOW);
    q["messages"] = json!([a]);
    let Request::GetExpiries(bad) = parse("get_expiries", q).unwrap() else { panic!() };
    assert_eq!(err_text(bad.validate(NOW)), (401, "get_expiries signature verification failed".into()));
    assert_eq!(get_expiries_reply(&[(a.clone(), 5)]), json!({"expiries": { a: 5 }}), "no t/hf");
}

// ---- batch / sequence ---------------------------------------------------------------------------

#[test]
fn test_batch_parse_and_live_error_texts() {
    let info = json!({"method": "info", "params": {}});
    let Request::Batch(b) = parse("batch", json!({"requests": [info, info]})).unwrap() else { panic!() };
    assert_eq!(b.requests.len(), 2);
    assert_eq!(b.requests[0].request, Request::Info);
    assert_eq!(b.requests[0].body, br#"{"method":"info","params":{}}"#);
    let Request::Sequence(s) = parse("sequence", json!({"requests": [info]})).unwrap() else { panic!() };
    assert_eq!(s.requests.len(), 1);
    let too_many: Vec<Value> = (0..21).map(|_| info.clone()).collect();
    let cases = [
        (json!({}), "invalid request: Invalid batch request: no valid \"requests\" field"),
        (json!({"requests": []}), "invalid request: Invalid batch request: no valid \"requests\" field"),
        (json!({"requests": too_many}), "invalid request: Invalid batch request: subrequest limit exceeded"),
        (json!({"requests": [1]}), "invalid request: Invalid batch request: requests must be objects"),
        (
            json!({"requests": [{"method": "info"}]}),
            "invalid request: Invalid batch request: subrequests must have method/params keys",
        ),
        (
            json!({"requests": [{"method": "nope", "params": {}}]}),
            "invalid request: Invalid batch subrequest: invalid method \"nope\"",
        ),
        (
            json!({"requests": [{"method": "batch", "params": {}}]}),
            "invalid request: Invalid batch subrequest: subrequests may not contain meta-requests",
        ),
        // A subrequest that does not parse fails the whole batch with its own message.
        (
            json!({"requests": [info, {"method": "delete_all", "params": {"pubkey": "05"}}]}),
            "invalid request: Pubkey must be 66 hex digits (33 bytes) long",
        ),
    ];
    for (params, text) in cases {
        assert_eq!(err_text(parse("batch", params.clone())), (400, text.to_string()), "{params}");
        assert_eq!(err_text(parse("sequence", params)), (400, text.to_string()));
    }
    assert_eq!(
        batch_reply(vec![
            batch_result(200, ReplyBody::Json(json!({"a": 1}))),
            batch_result(401, ReplyBody::Text("no".into()))
        ]),
        json!({"results": [{"code": 200, "body": {"a": 1}}, {"code": 401, "body": "no"}]})
    );
    assert!(!sequence_stops(200) && sequence_stops(401) && sequence_stops(421));
}

// ---- the live error table -----------------------------------------------------------------------

/// Every entry of [`errors::LIVE_ERRORS`] is sent by snode's own code for some request (and
/// every fixed text below is in the table).
#[test]
fn every_live_error_text_is_sent() {
    use crate::formats::rpc::NamespaceSel::{All, One};
    use crate::formats::rpc::errors::{LIVE_ERRORS, matches_pattern};
    let id = alice();
    let pk = alice_pk().to_hex();
    let h = "a".repeat(43);
    let hs = vec![h.clone()];
    let with = |mut v: Value, k: &str, x: Value| {
        v[k] = x;
        v
    };
    let sig_of = |m: &[u8]| json!(STANDARD.encode(alice().sign(m)));
    let forged = with(client::delete_all_params(&id, One(0), NOW), "timestamp", json!(NOW + 1));
    let mut got: Vec<RpcError> = vec![
        parse("delete_all", json!({"pubkey": pk, "timestamp": NOW})).unwrap_err(),
        parse("delete_all", with(client::delete_all_params(&id, One(0), NOW), "timestamp", json!(true)))
            .unwrap_err(),
        parse("delete_all", with(client::delete_all_params(&id, One(0), NOW), "timestamp", json!(5)))
            .unwrap_err(),
        parse("retrieve", json!({"pubkey": pk, "namespace": 40000})).unwrap_err(),
        parse("delete_all", with(client::delete_all_params(&id, One(0), NOW), "namespace", json!("x")))
            .unwrap_err(),
        parse("delete_all", with(client::delete_all_params(&id, One(0), NOW), "pubkey", json!("05")))
            .unwrap_err(),
        parse(
            "delete_all",
            with(client::delete_all_params(&id, One(0), NOW), "pubkey", json!(format!("03{}", &pk[2..]))),
        )
        .unwrap_err(),
        parse("delete_all", with(client::delete_all_params(&id, One(0), NOW), "pubkey_ed25519", json!("ab")))
            .unwrap_err(),
        parse(
            "delete_all",
            with(client::delete_all_params(&id, One(0), NOW), "pubkey_ed25519", json!("z".repeat(64))),
        )
        .unwrap_err(),
        parse("delete_all", with(client::delete_all_params(&id, One(0), NOW), "signature", json!("x")))
            .unwrap_err(),
        store(with(store_base(0), "pubKey", json!(pk))).unwrap_err(),
        store(with(store_base(0), "expiry", json!(NOW + 1000))).unwrap_err(),
        store(with(store_base(0), "data", json!("!!!"))).unwrap_err(),
        retrieve(json!({"pubkey": pk, "namespace": -10, "last_hash": h, "lastHash": h})).unwrap_err(),
        retrieve(json!({"pubkey": pk, "namespace": -10, "last_hash": "short"})).unwrap_err(),
        delete(json!({"pubkey": pk, "messages": [], "signature": sig_of(b"delete")})).unwrap_err(),
        delete(json!({"pubkey": pk, "messages": ["bad"]})).unwrap_err(),
        expire(with(client::expire_params(&id, &hs, &[NOW], ExpireMode::Plain), "expiry", json!([])))
            .unwrap_err(),
        expire(with(client::expire_params(&id, &hs, &[NOW], ExpireMode::Shorten), "extend", json!(true)))
            .unwrap_err(),
        expire(with(client::expire_params(&id, &hs, &[NOW], ExpireMode::Plain), "expiry", json!([NOW, NOW])))
            .unwrap_err(),
        parse("batch", json!({})).unwrap_err(),
        parse("batch", json!({"requests": vec![json!({"method": "info", "params": {}}); 21]})).unwrap_err(),
        parse("batch", json!({"requests": [1]})).unwrap_err(),
        parse("batch", json!({"requests": [{"method": "info"}]})).unwrap_err(),
        parse("batch", json!({"requests": [{"method": "x", "params": {}}]})).unwrap_err(),
        parse("batch", json!({"requests": [{"method": "ifelse", "params": {}}]})).unwrap_err(),
        parse("ifelse", json!({"then": json!({"method": "info", "params": {}})})).unwrap_err(),
        parse("ifelse", json!({"if": {"v_at_least": []}, "then": json!({"method": "info", "params": {}})}))
            .unwrap_err(),
        parse("ifelse", json!({"if": {"hf_at_least": [19]}})).unwrap_err(),
        parse("ifelse", json!({"if": {"hf_at_least": [19]}, "then": 5})).unwrap_err(),
        parse("ifelse", json!({"if": {"hf_at_least": [19]}, "else": {"method": "info"}})).unwrap_err(),
        parse("ifelse", json!({"if": {"hf_at_least": [19]}, "then": {"method": "x", "params": {}}}))
            .unwrap_err(),
        store(store_base(33)).unwrap().validate(NOW).unwrap_err(),
        store(with(signed_store(33, NOW), "sig_timestamp", json!(NOW + 1)))
            .unwrap()
            .validate(NOW)
            .unwrap_err(),
        retrieve(json!({"pubkey": pk})).unwrap().validate(NOW).unwrap_err(),
        retrieve(with(client::retrieve_params(&id, 0, None, NOW), "timestamp", json!(NOW + 1)))
            .unwrap()
            .validate(NOW)
            .unwrap_err(),
        delete(json!({"pubkey": pk, "messages": [h], "signature": sig_of(b"delete")}))
            .unwrap()
            .validate()
            .unwrap_err(),
        delete_all(forged).unwrap().validate(NOW, 60_000).unwrap_err(),
        delete_before(client::delete_before_params(&id, All, NOW + 61_000))
            .unwrap()
            .validate(NOW)
            .unwrap_err(),
        delete_before(with(client::delete_before_params(&id, All, NOW), "before", json!(NOW - 1)))
            .unwrap()
            .validate(NOW)
            .unwrap_err(),
        expire(client::expire_params(&id, &hs, &[NOW - 61_000], ExpireMode::Plain))
            .unwrap()
            .validate(NOW, 60_000)
            .unwrap_err(),
        expire(with(client::expire_params(&id, &hs, &[NOW], ExpireMode::Plain), "extend", json!(true)))
            .unwrap()
            .validate(NOW, 60_000)
            .unwrap_err(),
        store(with(store_base(0), "ttl", json!(1))).unwrap().validate(NOW).unwrap_err(),
        store(with(store_base(0), "timestamp", json!(NOW + 60_000))).unwrap().validate(NOW).unwrap_err(),
        store(signed_store(33, NOW - 61_000)).unwrap().validate(NOW).unwrap_err(),
        retrieve(client::retrieve_params(&id, 0, None, NOW - 61_000)).unwrap().validate(NOW).unwrap_err(),
        delete_all(client::delete_all_params(&id, One(0), NOW - 61_000))
            .unwrap()
            .validate(NOW, 60_000)
            .unwrap_err(),
    ];
    let Request::ExpireAll(ea) = parse("expire_all", client::expire_all_params(&id, All, NOW)).unwrap()
    else {
        panic!()
    };
    got.push(ea.validate(NOW + 61_000, 60_000).unwrap_err());
    let Request::ExpireAll(bad) =
        parse("expire_all", with(client::expire_all_params(&id, All, NOW), "expiry", json!(NOW + 1)))
            .unwrap()
    else {
        panic!()
    };
    got.push(bad.validate(NOW, 60_000).unwrap_err());
    let Request::GetExpiries(g) = parse("get_expiries", client::get_expiries_params(&id, &hs, NOW)).unwrap()
    else {
        panic!()
    };
    got.push(g.validate(NOW + 61_000).unwrap_err());
    let Request::GetExpiries(g) =
        parse("get_expiries", with(client::get_expiries_params(&id, &hs, NOW), "timestamp", json!(NOW + 1)))
            .unwrap()
    else {
        panic!()
    };
    got.push(g.validate(NOW).unwrap_err());
    got.extend(super::subaccount_tests::live_errors_sent());
    for live in LIVE_ERRORS {
        assert!(
            got.iter().any(|e| e.status == live.status && matches_pattern(live.text, &e.message)),
            "no request gets {} {:?}; got {:#?}",
            live.status,
            live.text,
            got.iter().map(|e| (e.status, e.message.as_str())).collect::<Vec<_>>()
        );
    }
    // And every error above is in the table (nothing snode sends is left out of it).
    for e in &got {
        assert!(
            LIVE_ERRORS.iter().any(|l| l.status == e.status && matches_pattern(l.text, &e.message)),
            "{} {:?} is not in the table",
            e.status,
            e.message
        );
    }
}

#[test]
fn test_error_pattern_matching() {
    use crate::formats::rpc::errors::matches_pattern;
    assert!(matches_pattern("a {} b", "a x b"));
    assert!(!matches_pattern("a {} b", "a  b"));
    assert!(matches_pattern("x: {}", "x: y"));
    assert!(!matches_pattern("x: {}", "x: "));
    assert!(matches_pattern("fixed", "fixed"));
    assert!(!matches_pattern("fixed", "fixed!"));
    assert!(matches_pattern("'{}': expected {}", "'ns': expected int"));
}
