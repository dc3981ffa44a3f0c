//! The node's HTTP server: routes, body limit, and the node-to-node endpoints
//! (docs/node-protocol.md). The storage RPC methods live in `handlers`, the onion endpoint in
//! `onion_relay`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::auth::{self, AuthError};
use super::protocol::{self, Batch, Health, PushReply, ReplicateReply, Stored};
use super::{Node, handlers, handoff, now_ms, onion_relay};
use crate::formats::limits::{NODE_TLS_DRAIN_MS, NODE_TLS_HANDSHAKE_TIMEOUT_MS, RPC_MAX_BODY_BYTES};
use crate::formats::nodelist::NodeInfo;
use crate::snode::store::StoredMessage;

/// Every route of a node.
pub fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/storage_rpc/v1", post(handlers::storage_rpc))
        .route("/onion_req/v2", post(onion_relay::onion_req))
        .route("/ping_test/v1", get(ping).post(ping))
        .route("/json_rpc", post(handlers::json_rpc))
        .route(protocol::PATH_REPLICATE, post(replicate))
        .route(protocol::PATH_PUSH, post(push))
        .route(protocol::PATH_SYNC, post(sync))
        .route(protocol::PATH_STORAGE_CC, post(storage_cc))
        .route(protocol::PATH_HEALTH, get(health))
        .layer(DefaultBodyLimit::max(RPC_MAX_BODY_BYTES))
        .with_state(node)
}

/// Serves `app` over TLS on `listener` (what `snode --tls` runs instead of `axum::serve`) until
/// `shutdown` resolves. A handshake gets [`NODE_TLS_HANDSHAKE_TIMEOUT_MS`]; at shutdown the open
/// connections get [`NODE_TLS_DRAIN_MS`] to finish. A store cut off there was committed or not
/// before its reply, never acknowledged without being durable.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: Router,
    acceptor: tokio_rustls::TlsAcceptor,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, app) = (acceptor.clone(), app.clone());
        connections.spawn(async move {
            let handshake = Duration::from_millis(NODE_TLS_HANDSHAKE_TIMEOUT_MS);
            let Ok(Ok(tls)) = tokio::time::timeout(handshake, acceptor.accept(tcp)).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let io = hyper_util::rt::TokioIo::new(tls);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
        });
        while connections.try_join_next().is_some() {}
    }
    let drain = Duration::from_millis(NODE_TLS_DRAIN_MS);
    let _ = tokio::time::timeout(drain, async { while connections.join_next().await.is_some() {} }).await;
    connections.abort_all();
    Ok(())
}

async fn ping() -> impl IntoResponse {
    (StatusCode::OK, axum::Json(serde_json::json!({"status": "OK"})))
}

/// A plain-text error reply.
pub fn text(status: StatusCode, message: impl Into<String>) -> Response {
    (status, message.into()).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks a node-to-node request's signature and that its sender is a registered node
/// (refreshing the view once if the sender is unknown). Returns the sender.
#[allow(clippy::result_large_err)]
pub async fn authenticate(
    node: &Node,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<NodeInfo, Response> {
    let ed = auth::verify_headers(
        header(headers, auth::HDR_PUBKEY),
        header(headers, auth::HDR_TIMESTAMP),
        header(headers, auth::HDR_SIGNATURE),
        path,
        body,
        now_ms(),
    )
    .map_err(|e| text(StatusCode::UNAUTHORIZED, e.to_string()))?;
    if let Some(n) = node.view.current().node(&ed) {
        return Ok(n.clone());
    }
    // The sender may have registered after our last poll: look again, once.
    if let Ok(view) = super::tasks::fetch_view(&node.config.registry, &node.ed25519()).await {
        node.view.update(view);
    }
    node.view
        .current()
        .node(&ed)
        .cloned()
        .ok_or_else(|| text(StatusCode::UNAUTHORIZED, AuthError::Unknown(hex::encode(ed)).to_string()))
}

#[allow(clippy::result_large_err)]
fn parse_batch(body: &[u8]) -> Result<Vec<StoredMessage>, Response> {
    let batch: Batch = serde_json::from_slice(body)
        .map_err(|e| text(StatusCode::BAD_REQUEST, format!("invalid request: bad batch: {e}")))?;
    batch
        .messages
        .iter()
        .map(|m| m.to_stored().map_err(|e| text(StatusCode::BAD_REQUEST, format!("invalid request: {e}"))))
        .collect()
}

/// Stores a batch from a peer (one transaction) and wakes the handoff task if any record is not
/// this node's.
#[allow(clippy::result_large_err)]
async fn store_batch(
    node: &Node,
    msgs: Vec<StoredMessage>,
) -> Result<Vec<(StoredMessage, crate::snode::store::Inserted)>, Response> {
    let view = node.view.current();
    let strays = msgs.iter().any(|m| !view.is_mine(&m.pubkey));
    let kept = msgs.clone();
    let t0 = std::time::Instant::now();
    let n = msgs.len();
    let inserted = node.store.insert_many_async(msgs).await.map_err(|e| {
        tracing::warn!(error = %e, "cannot store a peer batch");
        text(StatusCode::SERVICE_UNAVAILABLE, format!("cannot store: {e}"))
    })?;
    tracing::debug!(messages = n, insert_ms = t0.elapsed().as_millis() as u64, "peer batch stored");
    if strays {
        node.handoff_kick.notify_one();
    }
    Ok(kept.into_iter().zip(inserted).collect())
}

/// `POST /snode/v1/replicate`: a swarm peer forwards client stores; we store them without
/// forwarding and answer a signed entry per message.
async fn replicate(State(node): State<Arc<Node>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authenticate(&node, &headers, protocol::PATH_REPLICATE, &body).await {
        return r;
    }
    let msgs = match parse_batch(&body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    match store_batch(&node, msgs).await {
        Ok(done) => {
            let results = done
                .into_iter()
                .map(|(m, ins)| Stored {
                    signature: STANDARD.encode(node.keys.sign(m.hash.as_bytes())),
                    expiry: ins.expiry_ms(&m),
                    already: !ins.is_new(),
                    hash: m.hash,
                })
                .collect();
            axum::Json(ReplicateReply { results }).into_response()
        }
        Err(r) => r,
    }
}

/// `POST /snode/v1/push`: bulk records from a node handing them on (all-or-nothing).
async fn push(State(node): State<Arc<Node>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authenticate(&node, &headers, protocol::PATH_PUSH, &body).await {
        return r;
    }
    let msgs = match parse_batch(&body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    match store_batch(&node, msgs).await {
        Ok(done) => {
            let stored = done.iter().filter(|(_, i)| i.is_new()).count();
            axum::Json(PushReply { stored, already: done.len() - stored }).into_response()
        }
        Err(r) => r,
    }
}

/// `POST /snode/v1/sync`: a member of a swarm asks for every record of its swarm we hold.
async fn sync(State(node): State<Arc<Node>>, headers: HeaderMap, body: Bytes) -> Response {
    let sender = match authenticate(&node, &headers, protocol::PATH_SYNC, &body).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let swarm = Some(sender.swarm_id).filter(|&s| s != crate::formats::swarm::INVALID_SWARM_ID);
    tokio::spawn(handoff::push_swarm_records(node.clone(), sender, swarm));
    (StatusCode::ACCEPTED, axum::Json(serde_json::json!({"accepted": true}))).into_response()
}

/// `POST /snode/v1/storage_cc`: a swarm peer forwards a client request (delete); we run it
/// locally without forwarding and answer `{"code", "body"}`.
async fn storage_cc(State(node): State<Arc<Node>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authenticate(&node, &headers, protocol::PATH_STORAGE_CC, &body).await {
        return r;
    }
    let (status, reply) = handlers::run_rpc(&node, &body, handlers::Origin::Peer).await;
    let body = match reply {
        crate::formats::rpc::ReplyBody::Json(v) => v,
        crate::formats::rpc::ReplyBody::Text(t) => serde_json::Value::String(t),
    };
    axum::Json(serde_json::json!({"code": status, "body": body})).into_response()
}

/// `GET /snode/v1/health`: what `testnet status` and `testnet up` look at.
async fn health(State(node): State<Arc<Node>>) -> Response {
    let view = node.view.current();
    let store = node.store.clone();
    let messages =
        tokio::task::spawn_blocking(move || store.count()).await.ok().and_then(Result::ok).unwrap_or(0);
    let handoff = node.handoff_state();
    axum::Json(Health {
        pubkey_ed25519: hex::encode(node.ed25519()),
        swarm_id: view.my_swarm.map(|s| format!("{s:016x}")),
        view_digest: view.digest.clone(),
        registered_nodes: view.nodes.len(),
        messages,
        pow_difficulty: view.pow_difficulty,
        pending_handoff: handoff.pending,
        handoff_view_digest: handoff.view_digest,
    })
    .into_response()
}
