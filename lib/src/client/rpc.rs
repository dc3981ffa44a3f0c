//! The `rpc` command's logic: any storage RPC request, built and signed for an account, sent
//! to a member of the account's swarm (through a 3-hop onion path, or directly), and its reply
//! with every swarm member's signature checked.
//!
//! Signing reuses the node's own parser: the caller's params get the account's `pubkey`,
//! `pubkey_ed25519`, a `timestamp` of now where the method takes one, the subaccount fields,
//! and a placeholder signature; they are parsed exactly as a node parses them (so bad params
//! are refused here with the node's own 400 text), and the parsed request's
//! [`Request::signed_message`] is signed. A signature the caller gave is kept as it is (a way to
//! send a deliberately bad one). `batch` / `sequence` / `ifelse` sign each subrequest.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::seq::SliceRandom;
use serde_json::{Map, Value, json};

use crate::formats::identity::Identity;
use crate::formats::keys::{ACCOUNT_TYPE, GROUP_TYPE, Pubkey};
use crate::formats::nodelist::NodeInfo;
use crate::formats::rpc::group_subaccount::GroupMemberKey;
use crate::formats::rpc::{self, Request, SubaccountGrant, status};
use crate::net::http::Transport;
use crate::net::network::{Network, swarm_from_421};

/// Most nodes one call tries when they cannot be reached (then the last failure is reported).
pub const RPC_NODE_ATTEMPTS: usize = 3;
/// The path of the storage RPC on a node.
const STORAGE_RPC_PATH: &str = "/storage_rpc/v1";

/// Methods whose params take a `timestamp` the signer fills in with now.
const TIMESTAMPED: &[&str] = &[
    "store",
    "retrieve",
    "delete_all",
    "get_expiries",
    "revoke_subaccount",
    "unrevoke_subaccount",
    "revoked_subaccounts",
];
/// Methods signed by the account (or a subaccount).
const SIGNED: &[&str] = &[
    "store",
    "retrieve",
    "delete",
    "delete_all",
    "delete_before",
    "expire",
    "expire_all",
    "get_expiries",
    "revoke_subaccount",
    "unrevoke_subaccount",
    "revoked_subaccounts",
];
/// Methods that take no subaccount (only the owner may call them).
const OWNER_ONLY: &[&str] = &["revoke_subaccount", "unrevoke_subaccount", "revoked_subaccounts"];

/// The key a request is signed with.
#[derive(Debug)]
pub enum RequestKey {
    /// An identity's Ed25519 key (the owner's, or a plain subaccount's).
    Identity(Identity),
    /// A Session group member's blinded key (libsession's group subaccounts).
    GroupMember(GroupMemberKey),
}

impl RequestKey {
    /// The signature over `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        match self {
            RequestKey::Identity(id) => id.sign(msg),
            RequestKey::GroupMember(k) => k.sign(msg),
        }
    }
}

/// Who signs: the account and the key its requests are signed with.
#[derive(Debug)]
pub struct RpcSigner {
    /// The account acted on.
    pub account: Pubkey,
    /// The account's Ed25519 key, sent as `pubkey_ed25519` (05 accounts).
    pub account_ed25519: Option<[u8; 32]>,
    /// The key that signs the requests: the owner's, or the subaccount's.
    pub key: RequestKey,
    /// The owner's grant, when `key` is a subaccount.
    pub grant: Option<SubaccountGrant>,
}

impl RpcSigner {
    /// The owner of a Session ID (05) signs for itself.
    pub fn owner(id: Identity) -> Self {
        Self {
            account: Pubkey::from(id.session_id()),
            account_ed25519: Some(id.ed25519_public()),
            key: RequestKey::Identity(id),
            grant: None,
        }
    }

    /// The 03 (group) account whose key is `id`'s Ed25519 key, signing for itself.
    pub fn group(id: Identity) -> Self {
        Self {
            account: Pubkey::new(GROUP_TYPE, id.ed25519_public()),
            account_ed25519: None,
            key: RequestKey::Identity(id),
            grant: None,
        }
    }

    /// `key` acts on `account` with the owner's `grant`.
    pub fn subaccount(
        account: Pubkey,
        account_ed25519: Option<[u8; 32]>,
        key: Identity,
        grant: SubaccountGrant,
    ) -> Self {
        let account_ed25519 = account_ed25519.filter(|_| account.type_byte() == ACCOUNT_TYPE);
        Self { account, account_ed25519, key: RequestKey::Identity(key), grant: Some(grant) }
    }

    /// A member of the Session group `group` (an 03 account) signing with its blinded key.
    pub fn group_member(group: Pubkey, key: GroupMemberKey) -> Self {
        let grant = key.grant().clone();
        Self { account: group, account_ed25519: None, key: RequestKey::GroupMember(key), grant: Some(grant) }
    }
}

/// Why an `rpc` call failed.
#[derive(Debug, thiserror::Error)]
pub enum RpcCallError {
    /// The params are not what the method takes (the node's own 400 text, or ours).
    #[error("bad params: {0}")]
    BadParams(String),
    /// The node answered with an error status.
    #[error("node {node} refused: {status} {text}")]
    Refused {
        /// The node (Ed25519 hex).
        node: String,
        /// Its status.
        status: u16,
        /// Its body, as text.
        text: String,
        /// The body as JSON, when it was.
        body: Value,
    },
    /// The node could not be reached (or no path to it).
    #[error("cannot reach node {node}: {reason}")]
    Unreachable {
        /// The node (Ed25519 hex).
        node: String,
        /// Why.
        reason: String,
    },
    /// The account's swarm, or the asked node, is not in the node list.
    #[error("{0}")]
    NoNode(String),
}

impl RpcCallError {
    /// Whether the caller's input is at fault (exit 2).
    pub fn is_usage(&self) -> bool {
        matches!(self, RpcCallError::BadParams(_))
    }
}

/// How the request travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Through a fresh 3-hop onion path (the default, as the apps do).
    Onion,
    /// A plain HTTP(S) POST to the node.
    Direct,
}

/// What the node answered: the node asked, its status and its body, in which every swarm
/// member's entry has `"verified": true|false`.
#[derive(Debug, Clone)]
pub struct RpcOutcome {
    /// The node asked (Ed25519 hex).
    pub node: String,
    /// Its HTTP status.
    pub status: u16,
    /// Its body, annotated.
    pub reply: Value,
}

fn bad(why: impl std::fmt::Display) -> RpcCallError {
    RpcCallError::BadParams(why.to_string())
}

/// The params of `method` completed and signed by `signer` at `now_ms` (see the module doc).
/// Without a signer, the params go as given.
pub fn prepare(
    method: &str,
    params: Value,
    signer: Option<&RpcSigner>,
    now_ms: u64,
) -> Result<Value, RpcCallError> {
    let Value::Object(mut p) = params else { return Err(bad("params must be a JSON object")) };
    let Some(s) = signer else { return Ok(Value::Object(p)) };
    match method {
        "batch" | "sequence" => {
            if let Some(Value::Array(subs)) = p.get_mut("requests") {
                for sub in subs {
                    prepare_sub(sub, s, now_ms)?;
                }
            }
        }
        "ifelse" => {
            for branch in ["then", "else"] {
                if let Some(sub) = p.get_mut(branch) {
                    prepare_sub(sub, s, now_ms)?;
                }
            }
        }
        "get_swarm" | "get_snodes_for_pubkey" => {
            p.entry("pubkey").or_insert_with(|| json!(s.account.to_hex()));
        }
        m if SIGNED.contains(&m) => return sign(m, p, s, now_ms),
        _ => {}
    }
    Ok(Value::Object(p))
}

fn prepare_sub(sub: &mut Value, s: &RpcSigner, now_ms: u64) -> Result<(), RpcCallError> {
    let Some(method) = sub.get("method").and_then(Value::as_str).map(str::to_owned) else { return Ok(()) };
    if let Some(params) = sub.get_mut("params") {
        *params = prepare(&method, params.take(), Some(s), now_ms)?;
    }
    Ok(())
}

fn sign(method: &str, mut p: Map<String, Value>, s: &RpcSigner, now_ms: u64) -> Result<Value, RpcCallError> {
    p.entry("pubkey").or_insert_with(|| json!(s.account.to_hex()));
    if let Some(ed) = &s.account_ed25519 {
        p.entry("pubkey_ed25519").or_insert_with(|| json!(hex::encode(ed)));
    }
    if TIMESTAMPED.contains(&method) {
        p.entry("timestamp").or_insert_with(|| json!(now_ms));
    }
    if method == "delete_before" {
        p.entry("before").or_insert_with(|| json!(now_ms));
    }
    if let Some(g) = &s.grant
        && !OWNER_ONLY.contains(&method)
        && !p.contains_key("subaccount")
    {
        p.insert("subaccount".into(), json!(g.token.to_base64()));
        p.insert("subaccount_sig".into(), json!(STANDARD.encode(g.signature)));
    }
    let given = p.contains_key("signature");
    if !given {
        p.insert("signature".into(), json!(STANDARD.encode([0u8; 64])));
    }
    let req = rpc::parse_request_value(json!({"method": method, "params": p.clone()}))
        .map_err(|e| bad(e.message))?;
    match req.signed_message() {
        _ if given => {}
        Some(msg) => {
            p.insert("signature".into(), json!(STANDARD.encode(s.key.sign(&msg))));
        }
        // A public-inbox store needs no signature.
        None => {
            p.remove("signature");
            p.remove("subaccount");
            p.remove("subaccount_sig");
        }
    }
    Ok(Value::Object(p))
}

/// Adds `"verified": bool` to every entry of a `"swarm"` in `body` (a reply to `req`), and to
/// those inside a batch's, sequence's or ifelse's results.
pub fn annotate(req: &Request, body: &mut Value) {
    if let Some(Value::Object(swarm)) = body.get_mut("swarm") {
        for (ed, entry) in swarm.iter_mut() {
            let ok = rpc::verify_member_entry(req, ed, entry);
            if let Value::Object(e) = entry {
                e.insert("verified".into(), json!(ok));
            }
        }
    }
    match req {
        Request::Batch(b) | Request::Sequence(b) => {
            if let Some(Value::Array(results)) = body.get_mut("results") {
                for (sub, result) in b.requests.iter().zip(results.iter_mut()) {
                    if let Some(inner) = result.get_mut("body") {
                        annotate(&sub.request, inner);
                    }
                }
            }
        }
        Request::IfElse(p) => {
            let chosen = if body.get("condition") == Some(&json!(true)) { &p.then } else { &p.otherwise };
            if let (Some(sub), Some(inner)) = (chosen, body.get_mut("result").and_then(|r| r.get_mut("body")))
            {
                annotate(&sub.request, inner);
            }
        }
        _ => {}
    }
}

/// Sends `{"method", "params"}` (already prepared) to `target` (Ed25519 hex of a node of the
/// list), or else to a random member of the swarm of the request's account (any node for
/// methods without one): an unreachable member is replaced by another, up to
/// [`RPC_NODE_ATTEMPTS`] nodes, and a 421 is retried once on the swarm it names.
pub fn call(
    net: &Network,
    method: &str,
    params: &Value,
    route: Route,
    target: Option<&str>,
) -> Result<RpcOutcome, RpcCallError> {
    let req =
        rpc::parse_request_value(json!({"method": method, "params": params})).map_err(|e| bad(e.message))?;
    let mut queue = candidates(net, &req, target)?;
    let mut redirected = false;
    let mut tried = 0;
    let mut last_err = None;
    while let Some(node) = queue.pop() {
        if tried == RPC_NODE_ATTEMPTS {
            break;
        }
        tried += 1;
        let (status, mut body) = match send(net, &node, method, params, route) {
            Ok(r) => r,
            Err(e) => {
                last_err = Some(e);
                continue;
            }
        };
        if status == status::MISDIRECTED_REQUEST
            && target.is_none()
            && !redirected
            && let Some(pk) = account_of(&req)
        {
            let mut swarm = swarm_from_421(&body);
            if !swarm.is_empty() {
                net.set_swarm(pk, swarm.clone());
                swarm.shuffle(&mut rand::thread_rng());
                queue = swarm;
                redirected = true;
                tried = 0;
                continue;
            }
        }
        if status != status::OK {
            let text = match &body {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            return Err(RpcCallError::Refused { node: node.ed_hex(), status, text, body });
        }
        annotate(&req, &mut body);
        return Ok(RpcOutcome { node: node.ed_hex(), status, reply: body });
    }
    Err(last_err.unwrap_or_else(|| RpcCallError::NoNode("no node to ask".to_string())))
}

/// The account whose swarm should answer: the request's own, or for a batch, sequence or
/// ifelse the first its subrequests name (the node checks each subrequest's swarm).
fn account_of(req: &Request) -> Option<&Pubkey> {
    match req {
        Request::Batch(b) | Request::Sequence(b) => b.requests.iter().find_map(|s| account_of(&s.request)),
        Request::IfElse(p) => p.then.iter().chain(p.otherwise.iter()).find_map(|s| account_of(&s.request)),
        // Any node answers it (as live), but only the account's swarm holds its revocations.
        Request::RevokedSubaccounts(p) => Some(&p.pubkey),
        other => other.swarm_pubkey(),
    }
}

/// The nodes to try, the one to try first last: the target alone, or the account's swarm
/// (any node without an account) shuffled.
fn candidates(net: &Network, req: &Request, target: Option<&str>) -> Result<Vec<NodeInfo>, RpcCallError> {
    if let Some(t) = target {
        let t = t.to_ascii_lowercase();
        return net
            .nodes()
            .iter()
            .find(|n| n.ed_hex() == t)
            .cloned()
            .map(|n| vec![n])
            .ok_or_else(|| RpcCallError::NoNode(format!("node {t} is not in the node list")));
    }
    let mut nodes = match account_of(req) {
        Some(pk) => net.swarm_of(pk).map_err(|e| RpcCallError::NoNode(e.to_string()))?,
        None => net.nodes().to_vec(),
    };
    nodes.shuffle(&mut rand::thread_rng());
    Ok(nodes)
}

/// One request to `node`: its status and body (a text body as a JSON string).
fn send(
    net: &Network,
    node: &NodeInfo,
    method: &str,
    params: &Value,
    route: Route,
) -> Result<(u16, Value), RpcCallError> {
    let unreachable = |reason: String| RpcCallError::Unreachable { node: node.ed_hex(), reason };
    match route {
        Route::Onion => {
            let r = net.onion_rpc(node, method, params).map_err(unreachable)?;
            Ok((r.status, r.body))
        }
        Route::Direct => {
            let url = format!("{}{STORAGE_RPC_PATH}", net.url_of(node));
            let r = Transport::new()
                .post_json(&url, &rpc::client::request(method, params.clone()))
                .map_err(|e| unreachable(e.to_string()))?;
            // JSON, else text, else (active_nodes_bin) binary as base64, as an onion reply has it.
            let body =
                serde_json::from_slice(&r.body).unwrap_or_else(|_| match String::from_utf8(r.body.clone()) {
                    Ok(text) => Value::String(text),
                    Err(_) => Value::String(STANDARD.encode(&r.body)),
                });
            Ok((r.status, body))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::rpc::{Access, SubaccountToken};

    const NOW: u64 = 1_700_000_000_000;

    fn alice() -> Identity {
        Identity::from_seed_hex("000102030405060708090a0b0c0d0e0f").unwrap()
    }

    fn parsed(method: &str, p: &Value) -> Request {
        rpc::parse_request_value(json!({"method": method, "params": p})).unwrap()
    }

    fn validates(method: &str, p: &Value) -> bool {
        match parsed(method, p) {
            Request::Store(r) => r.validate(NOW).is_ok(),
            Request::Retrieve(r) => r.validate(NOW).is_ok(),
            Request::Delete(r) => r.validate().is_ok(),
            Request::DeleteAll(r) => r.validate(NOW, 60_000).is_ok(),
            Request::DeleteBefore(r) => r.validate(NOW).is_ok(),
            Request::Expire(r) => r.validate(NOW, 60_000).is_ok(),
            Request::ExpireAll(r) => r.validate(NOW, 60_000).is_ok(),
            Request::GetExpiries(r) => r.validate(NOW).is_ok(),
            Request::RevokeSubaccount(r) => r.validate(NOW, 60_000).is_ok(),
            _ => false,
        }
    }

    fn h() -> String {
        "a".repeat(43)
    }

    #[test]
    fn test_every_signed_method_is_signed_so_the_node_accepts_it() {
        let s = RpcSigner::owner(alice());
        let token = SubaccountToken::new(5, Access::READ, &[9; 32]).to_base64();
        for (method, params) in [
            ("store", json!({"namespace": 3, "ttl": 86_400_000, "data": "aGk="})),
            ("retrieve", json!({"namespace": 2})),
            ("delete", json!({"messages": [h()]})),
            ("delete_all", json!({"namespace": "all"})),
            ("delete_before", json!({})),
            ("expire", json!({"messages": [h()], "expiry": NOW + 5000, "extend": true})),
            ("expire_all", json!({"expiry": NOW + 5000})),
            ("get_expiries", json!({"messages": [h()]})),
            ("revoke_subaccount", json!({"revoke": token})),
            ("unrevoke_subaccount", json!({"unrevoke": [token]})),
        ] {
            let p = prepare(method, params, Some(&s), NOW).unwrap();
            assert!(validates(method, &p), "{method}: {p}");
            assert_eq!(p["pubkey"], json!(s.account.to_hex()));
        }
    }

    #[test]
    fn test_subaccount_signing_and_owner_only_methods() {
        let owner = alice();
        let sub = Identity::from_seed_hex("0f0e0d0c0b0a09080706050403020100").unwrap();
        let account = Pubkey::from(owner.session_id());
        let grant = SubaccountGrant::issue(&account, Access::READ, &sub.ed25519_public(), |m| owner.sign(m));
        let s = RpcSigner::subaccount(account, Some(owner.ed25519_public()), sub, grant.clone());
        let p = prepare("retrieve", json!({"namespace": 2}), Some(&s), NOW).unwrap();
        assert_eq!(p["subaccount"], json!(grant.token.to_base64()));
        assert!(validates("retrieve", &p));
        // Read only: a delete is signed, sent, and refused by the node.
        let d = prepare("delete", json!({"messages": [h()]}), Some(&s), NOW).unwrap();
        assert!(!validates("delete", &d));
        // revoke takes no subaccount: none is added.
        let r = prepare("revoke_subaccount", json!({"revoke": grant.token.to_hex()}), Some(&s), NOW).unwrap();
        assert!(r.get("subaccount").is_none());
    }

    #[test]
    fn test_batch_subrequests_are_signed_each_and_bad_params_are_the_nodes_400() {
        let s = RpcSigner::owner(alice());
        let p = prepare(
            "sequence",
            json!({"requests": [{"method": "delete_all", "params": {}}, {"method": "info", "params": {}}]}),
            Some(&s),
            NOW,
        )
        .unwrap();
        assert!(validates("delete_all", &p["requests"][0]["params"]));
        let e = prepare("expire", json!({"messages": [h()]}), Some(&s), NOW).unwrap_err();
        assert_eq!(e.to_string(), "bad params: invalid request: Required field 'expiry' missing");
        assert!(e.is_usage());
        // A given signature is kept: the node will refuse it.
        let p =
            prepare("delete_all", json!({"signature": STANDARD.encode([1u8; 64])}), Some(&s), NOW).unwrap();
        assert!(!validates("delete_all", &p));
        // A public inbox store carries no signature.
        let p = prepare("store", json!({"ttl": 86_400_000, "data": "aGk="}), Some(&s), NOW).unwrap();
        assert!(p.get("signature").is_none());
    }

    #[test]
    fn test_annotate_marks_each_member() {
        let s = RpcSigner::owner(alice());
        let node = Identity::from_seed_hex("0f0e0d0c0b0a09080706050403020100").unwrap();
        let p = prepare("delete_all", json!({}), Some(&s), NOW).unwrap();
        let req = parsed("delete_all", &p);
        let Request::DeleteAll(d) = &req else { panic!() };
        let entry = rpc::delete_all_member_ok(|m| node.sign(m), &d.pubkey, d.namespace, d.timestamp, &[]);
        let mut body = json!({"swarm": {
            hex::encode(node.ed25519_public()): entry,
            "00".repeat(32): {"failed": true, "timeout": true},
        }});
        annotate(&req, &mut body);
        assert_eq!(body["swarm"][hex::encode(node.ed25519_public())]["verified"], json!(true));
        assert_eq!(body["swarm"]["00".repeat(32)]["verified"], json!(false));
    }
}
