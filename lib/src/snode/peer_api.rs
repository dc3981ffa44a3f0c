//! The node-to-node endpoints (docs/node-protocol.md): replication, bulk pushes, sync requests,
//! forwarded client requests and the health probe. Every request but the probe is signed by a
//! registered node (see `auth`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::auth::{self, AuthError};
use super::protocol::{self, Health, PushReply, ReplicateReply, Stored};
use super::store::{Inserted, StoredMessage};
use super::{NodeContext, handlers, handoff, now_ms};
use crate::formats::nodelist::NodeInfo;
use crate::server::HttpError;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks a node-to-node request's signature and that its sender is a registered node
/// (refreshing the view once if the sender is unknown). Returns the sender.
pub(crate) async fn authenticate(
    node: &NodeContext,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<NodeInfo, HttpError> {
    let ed = auth::verify_headers(
        header(headers, auth::HDR_PUBKEY),
        header(headers, auth::HDR_TIMESTAMP),
        header(headers, auth::HDR_SIGNATURE),
        path,
        body,
        now_ms(),
    )
    .map_err(|e| HttpError::unauthorized(e.to_string()))?;
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
        .ok_or_else(|| HttpError::unauthorized(AuthError::Unknown(hex::encode(ed)).to_string()))
}

fn parse_batch(body: &[u8]) -> Result<Vec<StoredMessage>, HttpError> {
    super::protocol::parse_batch(body).map_err(|e| HttpError::bad_request(format!("invalid request: {e}")))
}

/// Stores a batch from a peer (one transaction) and wakes the handoff task if any record is not
/// this node's.
async fn store_batch(
    node: &NodeContext,
    msgs: Vec<StoredMessage>,
) -> Result<Vec<(StoredMessage, Inserted)>, HttpError> {
    let view = node.view.current();
    let strays = msgs.iter().any(|m| !view.is_mine(&m.pubkey));
    let kept = msgs.clone();
    let t0 = std::time::Instant::now();
    let n = msgs.len();
    let inserted = node.store.insert_many_async(msgs).await.map_err(|e| {
        tracing::warn!(error = %e, "cannot store a peer batch");
        HttpError::unavailable(format!("cannot store: {e}"))
    })?;
    tracing::debug!(messages = n, insert_ms = t0.elapsed().as_millis() as u64, "peer batch stored");
    if strays {
        node.handoff_kick.notify_one();
    }
    Ok(kept.into_iter().zip(inserted).collect())
}

/// `POST /snode/v1/replicate`: a swarm peer forwards client stores; we store them without
/// forwarding and answer a signed entry per message.
pub(super) async fn replicate(
    State(node): State<Arc<NodeContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    authenticate(&node, &headers, protocol::PATH_REPLICATE, &body).await?;
    let done = store_batch(&node, parse_batch(&body)?).await?;
    let results = done
        .into_iter()
        .map(|(m, ins)| Stored {
            signature: STANDARD.encode(node.keys.sign(m.hash.as_bytes())),
            expiry: ins.expiry_ms(&m),
            already: !ins.is_new(),
            hash: m.hash,
        })
        .collect();
    Ok(axum::Json(ReplicateReply { results }).into_response())
}

/// `POST /snode/v1/push`: bulk records from a node handing them on (all-or-nothing).
pub(super) async fn push(
    State(node): State<Arc<NodeContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    authenticate(&node, &headers, protocol::PATH_PUSH, &body).await?;
    let done = store_batch(&node, parse_batch(&body)?).await?;
    let stored = done.iter().filter(|(_, i)| i.is_new()).count();
    Ok(axum::Json(PushReply { stored, already: done.len() - stored }).into_response())
}

/// `POST /snode/v1/sync`: a member of a swarm asks for every record of its swarm we hold.
pub(super) async fn sync(
    State(node): State<Arc<NodeContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    let sender = authenticate(&node, &headers, protocol::PATH_SYNC, &body).await?;
    let swarm = Some(sender.swarm_id).filter(|&s| s != crate::formats::swarm::INVALID_SWARM_ID);
    tokio::spawn(handoff::push_swarm_records(node.clone(), sender, swarm));
    Ok((StatusCode::ACCEPTED, axum::Json(serde_json::json!({"accepted": true}))).into_response())
}

/// `POST /snode/v1/storage_cc`: a swarm peer forwards a client request (delete); we run it
/// locally without forwarding and answer `{"code", "body"}`.
pub(super) async fn storage_cc(
    State(node): State<Arc<NodeContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    authenticate(&node, &headers, protocol::PATH_STORAGE_CC, &body).await?;
    run_forwarded(&node, &body, handlers::Origin::Peer).await
}

/// `POST /snode/v1/storage_cc_redelivery`: as [`storage_cc`], for a request a peer forwarded
/// while we could not take it (down, overloaded); its clock window is not checked again.
pub(super) async fn storage_cc_redelivery(
    State(node): State<Arc<NodeContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    authenticate(&node, &headers, protocol::PATH_STORAGE_CC_REDELIVERY, &body).await?;
    run_forwarded(&node, &body, handlers::Origin::Redelivered).await
}

async fn run_forwarded(
    node: &Arc<NodeContext>,
    body: &[u8],
    origin: handlers::Origin,
) -> Result<Response, HttpError> {
    let (status, reply) = handlers::run_rpc(node, body, origin).await;
    let body = reply.into_json();
    Ok(axum::Json(serde_json::json!({"code": status, "body": body})).into_response())
}

/// `GET /snode/v1/health`: what `testnet status` and `testnet up` look at.
pub(super) async fn health(State(node): State<Arc<NodeContext>>) -> Response {
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
        sync_subscriptions: node.sync.subscriptions(),
    })
    .into_response()
}
