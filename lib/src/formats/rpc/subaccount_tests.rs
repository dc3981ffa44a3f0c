//! Subaccounts and (un)revoke_subaccount: the token layout, the signed strings and node
//! signatures, every method's flag, and the live error texts (fed to `tests.rs`'s table test).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{Value, json};

use super::*;
use crate::formats::identity::Identity;
use crate::formats::keys::Pubkey;

const NOW: u64 = 1_700_000_000_000;

fn owner() -> Identity {
    Identity::from_seed_hex("000102030405060708090a0b0c0d0e0f").unwrap()
}

fn member() -> Identity {
    Identity::from_seed_hex("f0e0d0c0b0a090807060504030201000").unwrap()
}

fn owner_pk() -> Pubkey {
    Pubkey::from(owner().session_id())
}

fn parse(method: &str, params: Value) -> Result<Request, RpcError> {
    parse_request_value(json!({"method": method, "params": params}))
}

fn grant(flags: Access) -> SubaccountGrant {
    SubaccountGrant::issue(&owner_pk(), flags, &member().ed25519_public(), |m| owner().sign(m))
}

/// `method`'s params from `base` (no signature), with pubkey, pubkey_ed25519 and the grant
/// added, signed by the member's key over the request's own signed string.
fn by_member(method: &str, mut base: Value, g: &SubaccountGrant) -> Value {
    base["pubkey"] = json!(owner_pk().to_hex());
    base["pubkey_ed25519"] = json!(hex::encode(owner().ed25519_public()));
    base["signature"] = json!(STANDARD.encode([0u8; 64]));
    g.add_to(&mut base);
    let msg = parse(method, base.clone()).unwrap().signed_message().unwrap();
    base["signature"] = json!(STANDARD.encode(member().sign(&msg)));
    base
}

/// Validates a parsed request as the node would (no clock or revocation trouble).
fn validate(r: &Request) -> Result<(), RpcError> {
    match r {
        Request::Store(p) => p.validate(NOW).map(drop),
        Request::Retrieve(p) => p.validate(NOW).map(drop),
        Request::Delete(p) => p.validate(),
        Request::DeleteAll(p) => p.validate(NOW, 60_000),
        Request::DeleteBefore(p) => p.validate(NOW),
        Request::Expire(p) => p.validate(NOW, 60_000),
        Request::ExpireAll(p) => p.validate(NOW, 60_000),
        Request::GetExpiries(p) => p.validate(NOW),
        Request::RevokeSubaccount(p) => p.validate(NOW, 60_000),
        other => panic!("not a signed method: {other:?}"),
    }
}

fn hashes() -> Vec<String> {
    vec!["a".repeat(43), "b".repeat(43)]
}

/// One request of every method taking a subaccount, and the flags it needs.
fn every_method() -> Vec<(&'static str, Value, Access)> {
    let hs = hashes();
    vec![
        (
            "store",
            json!({"timestamp": NOW, "ttl": 86_400_000, "data": "aGk=", "namespace": 3}),
            Access::WRITE,
        ),
        (
            "store",
            json!({"timestamp": NOW, "ttl": 86_400_000, "data": "aGk=", "namespace": -1}),
            Access::WRITE.with(Access::DELETE),
        ),
        ("retrieve", json!({"namespace": 3, "timestamp": NOW}), Access::READ),
        ("delete", json!({"messages": hs}), Access::DELETE),
        ("delete_all", json!({"namespace": "all", "timestamp": NOW}), Access::DELETE),
        ("delete_before", json!({"before": NOW}), Access::DELETE),
        ("expire", json!({"messages": hs, "expiry": NOW + 1000}), Access::WRITE),
        ("expire_all", json!({"expiry": NOW + 1000}), Access::DELETE),
        ("get_expiries", json!({"messages": hs, "timestamp": NOW}), Access::READ),
    ]
}

#[test]
fn test_token_layout() {
    let pk = [0xab; 32];
    let t = SubaccountToken::new(0x03, Access::READ.with(Access::WRITE), &pk);
    assert_eq!(t.to_hex(), format!("03030000{}", "ab".repeat(32)));
    assert_eq!((t.prefix(), t.flags(), t.pubkey()), (0x03, Access(3), pk));
    assert_eq!(t.to_base64().len(), 48);
    assert_eq!(SubaccountToken::from_text(&t.to_base64()), Some(t));
    assert_eq!(SubaccountToken::from_text(&t.to_hex()), Some(t));
    assert_eq!(SubaccountToken::from_text(&t.to_hex()[2..]), None);
    assert_eq!(SubaccountToken::from_text(&"z".repeat(72)), None);
    // The live tests' flag bytes: read+write 03, read 01, all three 07, read+write+anyprefix 0b.
    let rwd = Access::from_letters("rwd").unwrap();
    assert_eq!(rwd, Access(0x07));
    assert_eq!(Access::from_letters("rwa"), Some(Access(0x0b)));
    assert_eq!(Access::from_letters("rx"), None);
    assert!(t.prefix_allowed(0x03) && !t.prefix_allowed(0x05));
    let any = SubaccountToken::new(0x03, Access::READ.with(Access::ANY_PREFIX), &pk);
    assert!(any.prefix_allowed(0x99));
}

#[test]
fn test_every_method_accepts_its_flags_and_refuses_less() {
    for (method, base, needed) in every_method() {
        let ok = parse(method, by_member(method, base.clone(), &grant(needed))).unwrap();
        assert_eq!(validate(&ok), Ok(()), "{method} with {needed:?}");
        // Every flag but one of those needed: the method's own 401.
        for bit in [Access::READ, Access::WRITE, Access::DELETE] {
            if !needed.allows(bit) {
                continue;
            }
            let less = Access(Access::from_letters("rwd").unwrap().0 & !bit.0);
            let r = parse(method, by_member(method, base.clone(), &grant(less))).unwrap();
            let e = validate(&r).unwrap_err();
            assert_eq!(e.status, 401, "{method} without {bit:?}: {e:?}");
            assert!(e.message.contains("signature"), "{method}: {}", e.message);
        }
    }
}

#[test]
fn test_each_check_of_a_subaccount_fails_alone() {
    let base = json!({"namespace": 3, "timestamp": NOW});
    let g = grant(Access::READ);
    let good = by_member("retrieve", base.clone(), &g);
    assert_eq!(validate(&parse("retrieve", good.clone()).unwrap()), Ok(()));
    // Revoked (the node's table said so).
    let mut r = parse("retrieve", good.clone()).unwrap();
    r.mark_subaccount_revoked();
    assert_eq!(validate(&r).unwrap_err().message, "retrieve signature verification failed");
    // The request signed by the owner instead of the subaccount key.
    let mut by_owner = good.clone();
    by_owner["signature"] = json!(STANDARD.encode(owner().sign(&retrieve_sig_message(3, NOW))));
    assert_eq!(validate(&parse("retrieve", by_owner).unwrap()).unwrap_err().status, 401);
    // A token the owner did not sign (signed by the member itself).
    let self_made = SubaccountGrant { token: g.token, signature: member().sign(g.token.as_bytes()) };
    assert_eq!(
        validate(&parse("retrieve", by_member("retrieve", base.clone(), &self_made)).unwrap())
            .unwrap_err()
            .status,
        401
    );
    // A token for another network prefix; AnyPrefix lets it through.
    let other = SubaccountToken::new(0x03, Access::READ, &member().ed25519_public());
    let g03 = SubaccountGrant { token: other, signature: owner().sign(other.as_bytes()) };
    assert_eq!(
        validate(&parse("retrieve", by_member("retrieve", base.clone(), &g03)).unwrap()).unwrap_err().status,
        401
    );
    let any = SubaccountToken::new(0x03, Access::READ.with(Access::ANY_PREFIX), &member().ed25519_public());
    let gany = SubaccountGrant { token: any, signature: owner().sign(any.as_bytes()) };
    assert_eq!(validate(&parse("retrieve", by_member("retrieve", base, &gany)).unwrap()), Ok(()));
}

#[test]
fn test_group_account_tokens_are_signed_by_the_group_key() {
    // An 03 account: its 32 bytes are the group's Ed25519 key, no pubkey_ed25519.
    let group = owner();
    let gpk = Pubkey::new(0x03, group.ed25519_public());
    let g = SubaccountGrant::issue(&gpk, Access::READ, &member().ed25519_public(), |m| group.sign(m));
    assert_eq!(g.token.prefix(), 0x03);
    let mut p = json!({"pubkey": gpk.to_hex(), "namespace": 11, "timestamp": NOW,
        "signature": STANDARD.encode([0u8; 64])});
    g.add_to(&mut p);
    p["signature"] = json!(STANDARD.encode(member().sign(&retrieve_sig_message(11, NOW))));
    assert_eq!(validate(&parse("retrieve", p).unwrap()), Ok(()));
}

#[test]
fn test_expire_without_delete_only_extends() {
    let hs = hashes();
    let w = grant(Access::WRITE);
    let plain =
        parse("expire", by_member("expire", json!({"messages": hs, "expiry": NOW + 1000}), &w)).unwrap();
    let Request::Expire(p) = &plain else { panic!() };
    assert_eq!(p.validate(NOW, 60_000), Ok(()));
    // Forced extend-only in the store, while the request (and the reply) stay plain.
    assert_eq!((p.mode, p.store_mode()), (ExpireMode::Plain, ExpireMode::Extend));
    let shorten = parse(
        "expire",
        by_member("expire", json!({"messages": hs, "expiry": NOW + 1000, "shorten": true}), &w),
    )
    .unwrap();
    let Request::Expire(s) = &shorten else { panic!() };
    let e = s.validate(NOW, 60_000).unwrap_err();
    assert_eq!(
        (e.status, e.message.as_str()),
        (400, "expire: shorten parameter cannot be used with this subaccount token (missing delete access)")
    );
    let wd = grant(Access::WRITE.with(Access::DELETE));
    let r = parse(
        "expire",
        by_member("expire", json!({"messages": hs, "expiry": NOW + 1000, "shorten": true}), &wd),
    )
    .unwrap();
    let Request::Expire(s) = &r else { panic!() };
    assert_eq!((s.validate(NOW, 60_000), s.store_mode()), (Ok(()), ExpireMode::Shorten));
}

#[test]
fn test_revoke_signed_strings_are_pinned() {
    let t1 = SubaccountToken::new(0x05, Access::READ, &[1; 32]);
    let t2 = SubaccountToken::new(0x05, Access(7), &[2; 32]);
    let mut want = b"revoke_subaccount1700000000000".to_vec();
    want.extend_from_slice(t1.as_bytes());
    want.extend_from_slice(t2.as_bytes());
    assert_eq!(revoke_sig_message(RevokeKind::Revoke, NOW, &[t1, t2]), want);
    let mut want = b"unrevoke_subaccount1700000000000".to_vec();
    want.extend_from_slice(t1.as_bytes());
    assert_eq!(revoke_sig_message(RevokeKind::Unrevoke, NOW, &[t1]), want);
    // The node's reply: PUBKEY_HEX ‖ ts ‖ raw tokens, the same for both.
    let mut want = format!("{}1700000000000", owner_pk().to_hex()).into_bytes();
    want.extend_from_slice(t1.as_bytes());
    assert_eq!(revoke_signature_message(&owner_pk(), NOW, &[t1]), want);
}

#[test]
fn test_revoke_params_parse_and_verify() {
    let t = grant(Access::READ).token;
    let id = owner();
    let ed = id.ed25519_public();
    for kind in [RevokeKind::Revoke, RevokeKind::Unrevoke] {
        let p = client::revoke_params(kind, &owner_pk(), Some(&ed), &[t], NOW, |m| id.sign(m));
        let Request::RevokeSubaccount(r) = parse(kind.method(), p.clone()).unwrap() else { panic!() };
        assert_eq!((r.kind, r.tokens.as_slice()), (kind, &[t][..]));
        assert_eq!(r.validate(NOW, 60_000), Ok(()));
        assert_eq!(r.validate(NOW + 61_000, 60_000).unwrap_err().status, 406);
        // A single token instead of a list, in hex, is the same request.
        let mut one = p.clone();
        one[kind.field()] = json!(t.to_hex());
        assert_eq!(parse(kind.method(), one).unwrap(), Request::RevokeSubaccount(r.clone()));
        // A subaccount cannot sign these: the member's signature fails.
        let mut by_member = p;
        by_member["signature"] = json!(STANDARD.encode(member().sign(&revoke_sig_message(kind, NOW, &[t]))));
        let Request::RevokeSubaccount(bad) = parse(kind.method(), by_member).unwrap() else { panic!() };
        assert_eq!(
            bad.validate(NOW, 60_000).unwrap_err().message,
            format!("{} signature verification failed", kind.method())
        );
    }
}

#[test]
fn test_revoke_member_replies_and_their_signatures() {
    let node = member();
    let t = grant(Access::READ).token;
    let id = owner();
    for (kind, want_keys) in
        [(RevokeKind::Revoke, vec!["signature"]), (RevokeKind::Unrevoke, vec!["count", "signature"])]
    {
        let p =
            client::revoke_params(kind, &owner_pk(), Some(&id.ed25519_public()), &[t], NOW, |m| id.sign(m));
        let req = parse(kind.method(), p).unwrap();
        let Request::RevokeSubaccount(r) = &req else { panic!() };
        let entry = revoke_member_ok(|m| node.sign(m), r, 1);
        let keys: Vec<&String> = entry.as_object().unwrap().keys().collect();
        assert_eq!(keys, want_keys.iter().collect::<Vec<_>>());
        if kind == RevokeKind::Unrevoke {
            assert_eq!(entry["count"], json!(1));
        }
        let sig: [u8; 64] =
            STANDARD.decode(entry["signature"].as_str().unwrap()).unwrap().try_into().unwrap();
        let vk = VerifyingKey::from_bytes(&node.ed25519_public()).unwrap();
        vk.verify(&revoke_signature_message(&owner_pk(), NOW, &[t]), &Signature::from_bytes(&sig)).unwrap();
        assert!(verify_member_entry(&req, &hex::encode(node.ed25519_public()), &entry));
        assert!(!verify_member_entry(&req, &hex::encode(owner().ed25519_public()), &entry));
    }
}

#[test]
fn test_member_signatures_of_every_recursive_method_verify() {
    let node = member();
    let id = owner();
    let pk = owner_pk();
    let hs = hashes();
    let ed = hex::encode(node.ed25519_public());
    let sign = |m: &[u8]| node.sign(m);
    let del = parse("delete", client::delete_params(&id, &hs, false)).unwrap();
    let Request::Delete(d) = &del else { panic!() };
    let entry = delete_member_ok(sign, &pk, &d.messages, &hs[..1]);
    assert!(verify_member_entry(&del, &ed, &entry));
    let mut forged = entry.clone();
    forged["deleted"] = json!(hs);
    assert!(!verify_member_entry(&del, &ed, &forged));
    let da = parse("delete_all", client::delete_all_params(&id, NamespaceSel::All, NOW)).unwrap();
    let entry =
        delete_all_member_ok(sign, &pk, NamespaceSel::All, NOW, &[(3, hs[1].clone()), (0, hs[0].clone())]);
    assert!(verify_member_entry(&da, &ed, &entry));
    let ea = parse("expire_all", client::expire_all_params(&id, NamespaceSel::One(0), NOW + 5)).unwrap();
    let entry = expire_all_member_ok(sign, &pk, NamespaceSel::One(0), NOW + 5, &[(0, hs[0].clone())]);
    assert!(verify_member_entry(&ea, &ed, &entry));
    for mode in [ExpireMode::Plain, ExpireMode::Extend] {
        let ex = parse("expire", client::expire_params(&id, &hs, &[NOW + 9], mode)).unwrap();
        let Request::Expire(p) = &ex else { panic!() };
        let outcome = ExpireOutcome {
            updated: vec![(hs[1].clone(), NOW + 9)],
            unchanged: vec![(hs[0].clone(), NOW + 99)],
        };
        let entry = expire_member_ok(sign, p, NOW, &outcome);
        assert!(verify_member_entry(&ex, &ed, &entry), "{mode:?} {entry}");
    }
    let st =
        parse("store", json!({"pubkey": pk.to_hex(), "timestamp": NOW, "ttl": 86_400_000, "data": "aGk="}))
            .unwrap();
    let entry = store_member_ok(sign, &hs[0], NOW + 1, false);
    assert!(verify_member_entry(&st, &ed, &entry));
    // A failed entry has no signature.
    assert!(!verify_member_entry(&st, &ed, &json!({"failed": true, "timeout": true})));
}

#[test]
fn test_revoked_subaccounts_signed_string_and_reply() {
    assert_eq!(revoked_subaccounts_sig_message(NOW), b"revoked_subaccounts1700000000000".to_vec());
    // Signed by the raw account key: a group (03) account can, an 05 account's X25519 bytes cannot.
    let g = owner();
    let gpk = Pubkey::new(0x03, g.ed25519_public());
    let p = json!({"pubkey": gpk.to_hex(), "timestamp": NOW,
        "signature": STANDARD.encode(g.sign(&revoked_subaccounts_sig_message(NOW)))});
    let Request::RevokedSubaccounts(r) = parse("revoked_subaccounts", p).unwrap() else { panic!() };
    assert_eq!(r.validate(NOW), Ok(()));
    let t = SubaccountToken::new(3, Access::READ, &[4; 32]);
    let reply = revoked_subaccounts_reply(&[t], NOW);
    assert_eq!(reply["revoked_subaccounts"], json!([t.to_base64()]));
    assert_eq!((reply["t"].clone(), reply["hf"].clone()), (json!(NOW), json!(HARDFORK)));
}

#[test]
fn test_active_nodes_bin_layout() {
    use crate::formats::nodelist::NodeInfo;
    let node = |ed: u8, ip: &str, swarm_id: u64| NodeInfo {
        pubkey_ed25519: [ed; 32],
        pubkey_x25519: [0; 32],
        public_ip: ip.into(),
        storage_port: 0x1234,
        swarm_id,
    };
    let nodes = [node(1, "10.0.0.2", 0x0102_0304_0506_0708), node(2, "::1", 5), node(3, "1.2.3.4", u64::MAX)];
    let b = active_nodes_bin(&nodes, [2, 300, 1]);
    assert_eq!(b.len(), ACTIVE_NODE_BYTES, "IPv6 and swarmless nodes are skipped");
    let mut want = vec![1u8; 32];
    want.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 10, 0, 0, 2, 0x12, 0x34, 0x12, 0x34, 2, 255, 1]);
    assert_eq!(b, want);
    assert_eq!(
        ReplyBody::Binary(vec![0xff, 0]).into_json(),
        json!("/wA="),
        "base64 inside batch results and onion replies"
    );
}

/// One request per new live error text (run by `every_live_error_text_is_sent`).
pub(super) fn live_errors_sent() -> Vec<RpcError> {
    let hs = hashes();
    let base = || json!({"pubkey": owner_pk().to_hex(), "messages": hashes(), "signature": STANDARD.encode([0u8; 64])});
    let with = |mut v: Value, k: &str, x: Value| {
        v[k] = x;
        v
    };
    let t = grant(Access::READ).token;
    let id = owner();
    let revoke = |kind| {
        client::revoke_params(kind, &owner_pk(), Some(&id.ed25519_public()), &[t], NOW, |m| id.sign(m))
    };
    let validated = |method: &str, p: Value, now: u64| match parse(method, p).unwrap() {
        Request::RevokeSubaccount(r) => r.validate(now, 60_000).unwrap_err(),
        Request::Expire(e) => e.validate(now, 60_000).unwrap_err(),
        other => panic!("{other:?}"),
    };
    let w = grant(Access::WRITE);
    let listed = |ts: u64| {
        let p = json!({"pubkey": owner_pk().to_hex(), "timestamp": ts,
            "signature": STANDARD.encode(owner().sign(&revoked_subaccounts_sig_message(NOW)))});
        let Request::RevokedSubaccounts(r) = parse("revoked_subaccounts", p).unwrap() else { panic!() };
        r.validate(NOW).unwrap_err()
    };
    vec![
        parse("delete", with(base(), "subaccount", json!(t.to_base64()))).unwrap_err(),
        parse("delete", with(with(base(), "subaccount", json!("abc")), "subaccount_sig", json!("x")))
            .unwrap_err(),
        parse("delete", with(with(base(), "subaccount", json!(t.to_hex())), "subaccount_sig", json!("x")))
            .unwrap_err(),
        parse("revoke_subaccount", with(revoke(RevokeKind::Revoke), "revoke", json!(["nope"]))).unwrap_err(),
        parse("revoke_subaccount", with(revoke(RevokeKind::Revoke), "revoke", json!(vec![t.to_hex(); 51])))
            .unwrap_err(),
        parse("unrevoke_subaccount", with(revoke(RevokeKind::Unrevoke), "unrevoke", json!(5))).unwrap_err(),
        validated(
            "expire",
            by_member("expire", json!({"messages": hs, "expiry": NOW + 1000, "shorten": true}), &w),
            NOW,
        ),
        validated("revoke_subaccount", revoke(RevokeKind::Revoke), NOW + 61_000),
        validated("unrevoke_subaccount", revoke(RevokeKind::Unrevoke), NOW + 61_000),
        validated("revoke_subaccount", with(revoke(RevokeKind::Revoke), "timestamp", json!(NOW + 1)), NOW),
        validated(
            "unrevoke_subaccount",
            with(revoke(RevokeKind::Unrevoke), "timestamp", json!(NOW + 1)),
            NOW,
        ),
        listed(NOW + 61_000),
        listed(NOW + 1),
    ]
}
