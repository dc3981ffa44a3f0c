//! The node-to-node endpoints (docs/node-protocol.md): replication, bulk pushes, sync requests,
//! forwarded client requests and the health probe. Every request but the probe is signed by a
//! registered node (see `auth`); replication also arrives over peer links (see `link`), whose
//! receiving side is here too.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::AsyncWriteExt;

use super::auth::{self, AuthError};
use super::link::{self, LinkIo};
use super::protocol::{self, Health, PushReply, ReplicateReply, Stored};
use super::store::{Inserted, StoredMessage};
use super::{NodeContext, handlers, handoff, now_ms};
use crate::formats::limits::{NODE_LINK_HANDSHAKE_TIMEOUT_MS, NODE_LINK_RECEIVER_INFLIGHT};
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
    known_node(node, &ed)
        .await
        .ok_or_else(|| HttpError::unauthorized(AuthError::Unknown(hex::encode(ed)).to_string()))
}

/// The registered node of Ed25519 key `ed`, looking at the registry once more if our view does
/// not hold it (the sender may have registered after our last poll).
async fn known_node(node: &NodeContext, ed: &[u8; 32]) -> Option<NodeInfo> {
    if let Some(n) = node.view.current().node(ed) {
        return Some(n.clone());
    }
    if let Ok(view) = super::tasks::fetch_view(&node.config.registry, &node.ed25519()).await {
        node.view.update(view);
    }
    node.view.current().node(ed).cloned()
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

/// `GET /snode/v1/link` with `Upgrade: snode-link/1`: a swarm peer opens its persistent link
/// (see `link`). The connection is answered 101 and handed to [`serve_link`]; nothing is
/// accepted on it before the peer has authenticated.
pub(super) async fn link(State(node): State<Arc<NodeContext>>, mut req: axum::extract::Request) -> Response {
    let token = req.headers().get(header::UPGRADE).and_then(|v| v.to_str().ok());
    if !token.is_some_and(|t| t.eq_ignore_ascii_case(link::UPGRADE_TOKEN)) {
        return HttpError::bad_request(format!("a peer link needs Upgrade: {}", link::UPGRADE_TOKEN))
            .into_response();
    }
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => serve_link(node, hyper_util::rt::TokioIo::new(upgraded)).await,
            Err(e) => tracing::debug!(error = %e, "peer link upgrade failed"),
        }
    });
    (
        StatusCode::SWITCHING_PROTOCOLS,
        [(header::CONNECTION, "upgrade"), (header::UPGRADE, link::UPGRADE_TOKEN)],
    )
        .into_response()
}

/// The receiving side of a peer link: authenticate the peer (within
/// [`NODE_LINK_HANDSHAKE_TIMEOUT_MS`]), then store each batch it sends and answer it with every
/// message's signed entry. Up to [`NODE_LINK_RECEIVER_INFLIGHT`] batches are worked on at once
/// (their inserts share group commits); beyond that the link is not read, which slows the
/// sender down through TCP. Each answer goes out only once its batch is durable.
async fn serve_link<S: LinkIo + 'static>(node: Arc<NodeContext>, mut io: S) {
    let opening = std::time::Duration::from_millis(NODE_LINK_HANDSHAKE_TIMEOUT_MS);
    let registered = |ed: [u8; 32]| {
        let node = node.clone();
        async move { known_node(&node, &ed).await.is_some() }
    };
    let session = match tokio::time::timeout(opening, link::respond(&mut io, &node.keys, registered)).await {
        Ok(Ok(session)) => session,
        Ok(Err(e)) => {
            tracing::info!(error = %e, "peer link refused");
            return;
        }
        Err(_) => {
            tracing::info!("peer link refused: no handshake in time");
            return;
        }
    };
    let link::Session { peer, mut send, mut recv } = session;
    tracing::debug!(peer = %hex::encode(peer), "peer link accepted");
    let (mut rd, wr) = tokio::io::split(io);
    let (answers, mut to_send) = tokio::sync::mpsc::channel::<Vec<u8>>(NODE_LINK_RECEIVER_INFLIGHT);
    let writer = tokio::spawn(async move {
        let mut wr = tokio::io::BufWriter::new(wr);
        while let Some(first) = to_send.recv().await {
            // Answers ready together go out in one write.
            let mut next = Some(first);
            while let Some(plain) = next {
                if link::send_sealed(&mut wr, &mut send, &plain).await.is_err() {
                    return;
                }
                next = to_send.try_recv().ok();
            }
            if wr.flush().await.is_err() {
                return;
            }
        }
    });
    let slots = Arc::new(tokio::sync::Semaphore::new(NODE_LINK_RECEIVER_INFLIGHT));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else { break };
        let payload = match link::recv_sealed(&mut rd, &mut recv).await {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(peer = %hex::encode(peer), error = %e, "peer link ended");
                break;
            }
        };
        let (node, answers) = (node.clone(), answers.clone());
        tokio::spawn(async move {
            let answer = answer_batch(&node, &peer, &payload).await;
            let _ = answers.send(answer).await;
            drop(slot);
        });
    }
    // The writer still sends the answers of batches being stored, then ends with the channel.
    drop(answers);
    let _ = writer.await;
}

/// Stores one batch that came over the link of `peer` and encodes its answer.
async fn answer_batch(node: &NodeContext, peer: &[u8; 32], payload: &[u8]) -> Vec<u8> {
    // Request id 0 is never sent: an unreadable request is answered to no pending batch.
    let id = link::request_id(payload).unwrap_or(0);
    // A node deregistered since its link opened is not a node any more.
    if node.view.current().node(peer).is_none() {
        let why = AuthError::Unknown(hex::encode(peer)).to_string();
        return link::encode_answer(id, &link::Answer::Refused(StatusCode::UNAUTHORIZED.as_u16(), why));
    }
    let messages = match link::decode_replicate(payload) {
        Ok((_, m)) => m,
        Err(e) => {
            let why = format!("invalid request: {e}");
            return link::encode_answer(id, &link::Answer::Refused(StatusCode::BAD_REQUEST.as_u16(), why));
        }
    };
    let answer = match store_batch(node, messages).await {
        Ok(done) => link::Answer::Stored(
            done.into_iter()
                .map(|(m, ins)| link::Entry {
                    expiry: ins.expiry_ms(&m),
                    already: !ins.is_new(),
                    signature: node.keys.sign(m.hash.as_bytes()),
                })
                .collect(),
        ),
        Err(e) => link::Answer::Refused(e.status_code().as_u16(), e.body().to_string()),
    };
    link::encode_answer(id, &answer)
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
