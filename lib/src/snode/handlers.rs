//! The storage RPC methods (storage-rpc.md §3) on this node: parse and validate with
//! `snkit::rpc`, check the swarm (421) and the proof of work (432), run on the store, replicate
//! client stores and deletes to the swarm, and answer with the live network's JSON.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::peers::PeerOutcome;
use super::protocol;
use super::view::SwarmView;
use super::{NodeContext, now_ms};
use crate::formats::limits::{SIGNATURE_CLOCK_TOLERANCE_FORWARDED_MS, SIGNATURE_CLOCK_TOLERANCE_MS};
use crate::formats::nodelist::NodeInfo;
use crate::formats::rpc::{self, ReplyBody, Request, RpcError, StoreMemberFailure, SwarmMember};
use crate::server::HttpError;

/// Who sent the request: a client (replicate to the swarm) or a swarm peer (run here only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// A client: the request is run here and on every swarm member.
    Client,
    /// A swarm peer forwarding a client's request at once.
    Peer,
    /// A swarm peer redelivering a client's request we missed (we were down): its clock
    /// window is not checked again, the signature still is.
    Redelivered,
}

impl Origin {
    /// The clock window of a signed timestamp: ±60 s from a client, ±70 s forwarded (live
    /// `SIGNATURE_TOLERANCE_FORWARDED`), none when redelivered later (it was checked on entry).
    fn tolerance_ms(self) -> u64 {
        match self {
            Origin::Client => SIGNATURE_CLOCK_TOLERANCE_MS,
            Origin::Peer => SIGNATURE_CLOCK_TOLERANCE_FORWARDED_MS,
            Origin::Redelivered => u64::MAX,
        }
    }
}

/// `POST /storage_rpc/v1`.
pub(super) async fn storage_rpc(
    State(node): State<Arc<NodeContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.contains_key("x-loki-long-poll") {
        return HttpError::new(StatusCode::GONE, "long polling is no longer supported").into_response();
    }
    let (status, reply) = run_rpc(&node, &body, Origin::Client).await;
    respond(status, reply)
}

/// `GET` or `POST /ping_test/v1`: the live nodes' reachability probe.
pub(super) async fn ping() -> impl IntoResponse {
    (StatusCode::OK, axum::Json(json!({"status": "OK"})))
}

/// `POST /json_rpc`: the one oxend JSON-RPC call a client makes of a seed node,
/// `get_n_service_nodes` (the live apps bootstrap from `https://seedN.getsession.org/json_rpc`),
/// so that any snode can stand in for a seed. The whole node list is returned (`limit` is not
/// applied: a client needs every node to compute swarms); other methods get JSON-RPC's
/// "method not found".
pub(super) async fn json_rpc(State(node): State<Arc<NodeContext>>, body: Bytes) -> Response {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return respond(400, ReplyBody::Text(format!("invalid JSON-RPC request: {e}"))),
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let reply = match request.get("method").and_then(Value::as_str) {
        Some("get_n_service_nodes") => {
            let mut list = node.view.current().node_list_json();
            if node.config.tls {
                list["tls"] = Value::Bool(true);
            }
            json!({"jsonrpc": "2.0", "id": id, "result": list})
        }
        _ => json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "Method not found"}}),
    };
    respond(200, ReplyBody::Json(reply))
}

/// An HTTP response of a status and a reply body (JSON or text).
fn respond(status: u16, body: ReplyBody) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match body {
        ReplyBody::Json(v) => {
            (status, [(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
        }
        ReplyBody::Text(t) => {
            (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], t).into_response()
        }
        ReplyBody::Binary(b) => {
            (status, [(header::CONTENT_TYPE, "application/octet-stream")], b).into_response()
        }
    }
}

fn error(e: RpcError) -> (u16, ReplyBody) {
    (e.status, e.body())
}

fn ok(v: Value) -> (u16, ReplyBody) {
    (rpc::status::OK, ReplyBody::Json(v))
}

/// A node as `get_swarm` describes it.
fn member(n: &NodeInfo) -> SwarmMember {
    SwarmMember {
        pubkey_ed25519: n.pubkey_ed25519,
        pubkey_x25519: n.pubkey_x25519,
        ip: n.public_ip.clone(),
        port: n.storage_port,
    }
}

fn members(view: &SwarmView, swarm: u64) -> Vec<SwarmMember> {
    view.members(swarm).iter().map(member).collect()
}

/// Runs one storage RPC request body; returns the status and reply body.
pub(super) async fn run_rpc(node: &Arc<NodeContext>, body: &[u8], origin: Origin) -> (u16, ReplyBody) {
    let now = now_ms();
    // snkit's sync methods (docs/sync.md) are served from memory, before the storage parser.
    if let Some(answer) = node.sync.try_run(body, now).await {
        return answer;
    }
    let req = match rpc::parse_request(body) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    run_parsed(node, req, body, origin, now).await
}

/// A subrequest of a batch, boxed (the batch arm of [`run_parsed`] runs [`run_parsed`]).
fn run_sub<'a>(
    node: &'a Arc<NodeContext>,
    sub: rpc::SubRequest,
    origin: Origin,
    now: u64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = (u16, ReplyBody)> + Send + 'a>> {
    Box::pin(async move { run_parsed(node, sub.request, &sub.body, origin, now).await })
}

/// Runs a parsed request whose body (as sent, forwarded to swarm peers) is `body`.
async fn run_parsed(
    node: &Arc<NodeContext>,
    mut req: Request,
    body: &[u8],
    origin: Origin,
    now: u64,
) -> (u16, ReplyBody) {
    let view = node.view.current();
    if let Some(pk) = req.swarm_pubkey() {
        match view.swarm_for(pk) {
            None => return error(RpcError::unavailable("Snode not ready: no swarms in the network yet")),
            Some(s) if Some(s) != view.my_swarm => {
                return error(rpc::wrong_swarm(s, &members(&view, s), now));
            }
            Some(_) => {}
        }
    }
    // A subaccount the owner revoked fails validation (401), as live, before anything else of
    // the signature is checked.
    if let Some((pk, token)) = req.subaccount_token() {
        let store = node.store.clone();
        match tokio::task::spawn_blocking(move || store.is_revoked(&pk, &token)).await {
            Ok(Ok(false)) => {}
            Ok(Ok(true)) => req.mark_subaccount_revoked(),
            Ok(Err(e)) => return error(e.into()),
            Err(e) => return error(RpcError::internal(e.to_string())),
        }
    }
    match req {
        Request::Store(p) => store(node, &view, p, body, origin, now).await,
        Request::Retrieve(p) => {
            let q = match p.validate(now) {
                Ok(q) => q,
                Err(e) => return error(e),
            };
            // Read on the runtime thread, not the blocking pool: a retrieve is one indexed read
            // from a pooled WAL reader (it never waits for the writer), and the two thread
            // hand-offs cost more than the read itself. They were half the node's CPU per
            // retrieve (117 → 55 µs; 8,225 → 15,800 retrieves/s, docs/performance.md). The
            // largest reply's read is bounded by `max_size` like its encoding, which has always
            // run here.
            let found =
                node.store.retrieve(&q.pubkey, q.namespace, q.last_hash.as_deref(), q.max_count, q.max_size);
            match found {
                Ok((msgs, more)) => ok(rpc::retrieve_reply(&msgs, more, now)),
                Err(e) => error(e.into()),
            }
        }
        Request::Delete(p) => delete(node, &view, p, body, origin, now).await,
        Request::DeleteAll(p) => {
            if let Err(e) = p.validate(now, origin.tolerance_ms()) {
                return error(e);
            }
            let (pk, sel, ts) = (p.pubkey, p.namespace, p.timestamp);
            // Redelivered late, it must not take messages stored since the call: only those
            // dated up to the request's timestamp.
            let bound = (origin == Origin::Redelivered).then_some(ts);
            let local = node.store.delete_matching_async(&pk, sel.one(), bound);
            swarm_wide(node, &view, body, origin, now, local, |d| {
                rpc::delete_all_member_ok(|m| node.keys.sign(m), &pk, sel, ts, d)
            })
            .await
        }
        Request::DeleteBefore(p) => {
            if let Err(e) = p.validate(now) {
                return error(e);
            }
            let (pk, sel, before) = (p.pubkey, p.namespace, p.before);
            let local = node.store.delete_matching_async(&pk, sel.one(), Some(before));
            swarm_wide(node, &view, body, origin, now, local, |d| {
                rpc::delete_all_member_ok(|m| node.keys.sign(m), &pk, sel, before, d)
            })
            .await
        }
        Request::Expire(p) => {
            // A fixed 60 s on the live server, forwarded or not; a redelivery is not re-checked.
            let tolerance =
                if origin == Origin::Redelivered { u64::MAX } else { SIGNATURE_CLOCK_TOLERANCE_MS };
            if let Err(e) = p.validate(now, tolerance) {
                return error(e);
            }
            let local = node.store.expire_messages_async(&p.pubkey, p.updates(now), p.store_mode());
            swarm_wide(node, &view, body, origin, now, local, |o| {
                rpc::expire_member_ok(|m| node.keys.sign(m), &p, now, o)
            })
            .await
        }
        Request::ExpireAll(p) => {
            if let Err(e) = p.validate(now, origin.tolerance_ms()) {
                return error(e);
            }
            let (pk, sel, expiry) = (p.pubkey, p.namespace, p.expiry);
            let local = node.store.expire_all_async(&pk, sel.one(), expiry);
            swarm_wide(node, &view, body, origin, now, local, |u| {
                rpc::expire_all_member_ok(|m| node.keys.sign(m), &pk, sel, expiry, u)
            })
            .await
        }
        Request::GetExpiries(p) => {
            if let Err(e) = p.validate(now) {
                return error(e);
            }
            let store = node.store.clone();
            let found = tokio::task::spawn_blocking(move || store.expiries(&p.pubkey, &p.messages)).await;
            match found {
                Ok(Ok(found)) => ok(rpc::get_expiries_reply(&found)),
                Ok(Err(e)) => error(e.into()),
                Err(e) => error(RpcError::internal(e.to_string())),
            }
        }
        Request::RevokeSubaccount(p) => {
            if let Err(e) = p.validate(now, origin.tolerance_ms()) {
                return error(e);
            }
            let (pk, tokens) = (p.pubkey, p.tokens.clone());
            let local = async {
                match p.kind {
                    rpc::RevokeKind::Revoke => {
                        node.store.revoke_async(&pk, tokens, p.timestamp).await.map(|()| 0)
                    }
                    rpc::RevokeKind::Unrevoke => node.store.unrevoke_async(&pk, tokens).await,
                }
            };
            swarm_wide(node, &view, body, origin, now, local, |removed| {
                rpc::revoke_member_ok(|m| node.keys.sign(m), &p, *removed)
            })
            .await
        }
        Request::Batch(p) => {
            let runs = p.requests.into_iter().map(|sub| run_sub(node, sub, origin, now));
            let results = futures_util::future::join_all(runs).await;
            ok(rpc::batch_reply(results.into_iter().map(|(s, b)| rpc::batch_result(s, b)).collect()))
        }
        Request::Sequence(p) => {
            let mut results = Vec::with_capacity(p.requests.len());
            for sub in p.requests {
                let (status, body) = run_sub(node, sub, origin, now).await;
                results.push(rpc::batch_result(status, body));
                if rpc::sequence_stops(status) {
                    break;
                }
            }
            ok(rpc::batch_reply(results))
        }
        Request::IfElse(p) => {
            let version = rpc::NodeVersion {
                hf: rpc::HARDFORK.map(u64::from),
                v: rpc::SERVER_VERSION.map(u64::from),
                height: view.height,
            };
            let (held, chosen) = p.choose(&version);
            let result = match chosen {
                Some(sub) => {
                    let (status, body) = run_sub(node, sub, origin, now).await;
                    Some(rpc::batch_result(status, body))
                }
                None => None,
            };
            ok(rpc::ifelse_reply(&version, held, result))
        }
        Request::GetSwarm(p) => match view.swarm_for(&p.pubkey) {
            Some(s) => ok(rpc::get_swarm_reply(s, &members(&view, s), now)),
            None => ok(rpc::get_swarm_reply(crate::formats::swarm::INVALID_SWARM_ID, &[], now)),
        },
        Request::Info => ok(rpc::info_reply(now)),
        Request::ActiveNodesBin => {
            (rpc::status::OK, ReplyBody::Binary(rpc::active_nodes_bin(&view.nodes, rpc::SERVER_VERSION)))
        }
        Request::RevokedSubaccounts(p) => {
            if let Err(e) = p.validate(now) {
                return error(e);
            }
            let store = node.store.clone();
            match tokio::task::spawn_blocking(move || store.revoked_tokens(&p.pubkey)).await {
                Ok(Ok(tokens)) => ok(rpc::revoked_subaccounts_reply(&tokens, now)),
                Ok(Err(e)) => error(e.into()),
                Err(e) => error(RpcError::internal(e.to_string())),
            }
        }
        Request::OxendRequest(p) => match p.endpoint.as_str() {
            "get_service_nodes" | "get_n_service_nodes" | "get_all_service_nodes" => {
                ok(rpc::oxend_reply(view.node_list_json(), now))
            }
            other => error(RpcError::invalid_request(format!(
                "oxend_request endpoint '{}' is not supported (get_service_nodes)",
                other.chars().take(64).collect::<String>()
            ))),
        },
    }
}

/// The proof-of-work check of a client store (pow.md) at the network's difficulty. The payload
/// is built from the pubkey and data *as the client sent them* (pow.md §4): re-encoding the
/// decoded values would refuse a valid nonce over, say, unpadded base64.
fn check_pow(p: &rpc::StoreParams, difficulty: u64) -> Result<(), RpcError> {
    if difficulty == 0 {
        return Ok(());
    }
    crate::formats::pow::verify(&p.to_envelope(), difficulty).map_err(|_| RpcError::invalid_pow(difficulty))
}

async fn store(
    node: &Arc<NodeContext>,
    view: &SwarmView,
    p: rpc::StoreParams,
    _body: &[u8],
    origin: Origin,
    now: u64,
) -> (u16, ReplyBody) {
    let msg = match p.validate(now) {
        Ok(m) => m,
        Err(e) => return error(e),
    };
    if origin == Origin::Client
        && let Err(e) = check_pow(&p, view.pow_difficulty)
    {
        return error(e);
    }
    let me = node.ed25519();
    let hash = msg.hash.clone();
    let peers = if origin == Origin::Client { view.peers(&me) } else { Vec::new() };
    let t0 = std::time::Instant::now();
    let local = async {
        let r = node.store.insert_async(msg.clone()).await;
        (r, t0.elapsed())
    };
    let remote = node.peers.replicate(&peers, &msg);
    let ((local, local_time), remote) = tokio::join!(local, remote);
    tracing::debug!(
        local_ms = local_time.as_millis() as u64,
        total_ms = t0.elapsed().as_millis() as u64,
        "store"
    );

    let mut results = Vec::with_capacity(remote.len() + 1);
    match local {
        Ok(ins) => results.push((
            hex::encode(me),
            rpc::store_member_ok(|m| node.keys.sign(m), &hash, ins.expiry_ms(&msg), !ins.is_new()),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "local store failed");
            let why = match e {
                crate::snode::store::StoreError::Busy => {
                    StoreMemberFailure::Code { code: 503, reason: e.to_string() }
                }
                _ => StoreMemberFailure::QueryFailure,
            };
            results.push((hex::encode(me), rpc::store_member_failed(&why)));
        }
    }
    for (ed, outcome) in remote {
        let entry = match outcome {
            PeerOutcome::Stored(s) => {
                let mut v = json!({"hash": s.hash, "signature": s.signature, "expiry": s.expiry});
                if s.already {
                    v["already"] = json!(true);
                }
                v
            }
            PeerOutcome::Timeout => rpc::store_member_failed(&StoreMemberFailure::Timeout),
            PeerOutcome::Code(code, reason) => {
                rpc::store_member_failed(&StoreMemberFailure::Code { code, reason })
            }
            PeerOutcome::BadPeerResponse => rpc::store_member_failed(&StoreMemberFailure::BadPeerResponse),
            PeerOutcome::QueryFailure => rpc::store_member_failed(&StoreMemberFailure::QueryFailure),
        };
        results.push((hex::encode(ed), entry));
    }
    let (status, body) = rpc::swarm_reply(results, Some(&hash), now);
    (status, ReplyBody::Json(body))
}

async fn delete(
    node: &Arc<NodeContext>,
    view: &SwarmView,
    p: rpc::DeleteParams,
    body: &[u8],
    origin: Origin,
    now: u64,
) -> (u16, ReplyBody) {
    if let Err(e) = p.validate() {
        return error(e);
    }
    let me = node.ed25519();
    let local = node.store.delete_async(&p.pubkey, &p.messages);
    let (local, remote) = tokio::join!(local, forward_to_swarm(node, view, body, origin));
    let deleted: Vec<String> = match local {
        Ok(d) => d,
        Err(e) => return error(e.into()),
    };
    if let Err(e) = p.check_deleted(&deleted) {
        return error(e);
    }
    let mine = rpc::delete_member_ok(|m| node.keys.sign(m), &p.pubkey, &p.messages, &deleted);
    if origin != Origin::Client {
        return ok(mine);
    }
    let mut results = vec![(hex::encode(me), mine)];
    results.extend(remote);
    let (status, body) = rpc::swarm_reply(results, None, now);
    (status, ReplyBody::Json(body))
}

/// Forwards a client's request (its body as sent) to every other member of our swarm, when it
/// came from a client, and returns each member's entry: its own reply, or why it failed. A
/// member that could not take it now (no answer, 5xx) gets it again later
/// ([`super::redelivery`], recorded in the store first), so that a member that was down ends in
/// the same state even if this node restarts meanwhile.
async fn forward_to_swarm(
    node: &Arc<NodeContext>,
    view: &SwarmView,
    body: &[u8],
    origin: Origin,
) -> Vec<(String, Value)> {
    if origin != Origin::Client {
        return Vec::new();
    }
    let peers = view.peers(&node.ed25519());
    let forwards = peers.iter().map(|peer| {
        let node = node.clone();
        let peers_client = node.peers.clone();
        let url = node.peers.url_of(peer);
        let ed = peer.pubkey_ed25519;
        let body = body.to_vec();
        let timeout = node.config.replication_timeout;
        async move {
            let r = peers_client.post_signed(&url, protocol::PATH_STORAGE_CC, body.clone(), timeout).await;
            let (entry, retry) = match r {
                Err(e) if e.is_timeout() => (rpc::store_member_failed(&StoreMemberFailure::Timeout), true),
                Err(_) => (rpc::store_member_failed(&StoreMemberFailure::QueryFailure), true),
                Ok(resp) => match resp.bytes().await.map(|b| serde_json::from_slice::<Value>(&b)) {
                    Ok(Ok(v)) if v["code"] == json!(200) => (v["body"].clone(), false),
                    Ok(Ok(v)) => {
                        let code = v["code"].as_u64().unwrap_or(500) as u16;
                        let reason = v["body"].as_str().unwrap_or_default().to_string();
                        (rpc::store_member_failed(&StoreMemberFailure::Code { code, reason }), code >= 500)
                    }
                    _ => (rpc::store_member_failed(&StoreMemberFailure::BadPeerResponse), true),
                },
            };
            if retry {
                super::redelivery::schedule(&node, ed, body).await;
            }
            (hex::encode(ed), entry)
        }
    });
    futures_util::future::join_all(forwards).await
}

/// A recursive method that changes this node's store (delete_all, delete_before, …): runs
/// `local` here while the swarm runs the request, and answers this node's entry (built by
/// `entry` from what `local` changed) alone to a peer, or the merged
/// `{"swarm": {ed25519: entry}, "t", "hf"}` to a client.
async fn swarm_wide<T>(
    node: &Arc<NodeContext>,
    view: &SwarmView,
    body: &[u8],
    origin: Origin,
    now: u64,
    local: impl std::future::Future<Output = Result<T, crate::snode::store::StoreError>>,
    entry: impl FnOnce(&T) -> Value,
) -> (u16, ReplyBody) {
    let (local, remote) = tokio::join!(local, forward_to_swarm(node, view, body, origin));
    let mine = match local {
        Ok(done) => entry(&done),
        Err(e) => {
            tracing::warn!(error = %e, "local change failed");
            if origin != Origin::Client {
                return error(e.into());
            }
            rpc::store_member_failed(&StoreMemberFailure::QueryFailure)
        }
    };
    if origin != Origin::Client {
        return ok(mine);
    }
    let mut results = vec![(hex::encode(node.ed25519()), mine)];
    results.extend(remote);
    let (status, body) = rpc::swarm_reply(results, None, now);
    (status, ReplyBody::Json(body))
}
