//! `POST /onion_req/v2` (onion.md §5): peel one layer with the node's X25519 key (refusing
//! replays); as the final hop run the storage RPC here and answer the encrypted reply (base64,
//! HTTP 200); as a relay POST the next framed body to the destination node's `/onion_req/v2`
//! (found by Ed25519 key in the registry) and pass its answer back unchanged.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::NodeContext;
use super::handlers::{self, Origin};
use crate::formats::limits::{
    NODE_ONION_HOST_TIMEOUT_MS, NODE_ONION_RELAY_TIMEOUT_MS, ONION_MAX_RELAYED_REPLY,
};
use crate::formats::onion::{self, Layer};
use crate::formats::rpc::ReplyBody;
use crate::net::http::{TransportError, read_body_async};

/// The replay guard of a node's onion endpoint.
pub(crate) type Guard = onion::ReplayGuard;

fn plain(status: u16, text: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text.into()).into_response()
}

/// `POST /onion_req/v2`.
pub(crate) async fn onion_req(State(node): State<Arc<NodeContext>>, body: Bytes) -> Response {
    if !node.config.peer_log {
        return onion_answer(&node, body).await;
    }
    // For the peer log (`snode --peer-log`): which hop this node was (the outer frame says it in
    // clear; read only when logging, the peel reads it again).
    let hop_no = onion::decode_frame(&body)
        .ok()
        .and_then(|f| f.json.get("hop_no").and_then(Value::as_u64))
        .unwrap_or(0);
    let mut resp = onion_answer(&node, body).await;
    resp.extensions_mut().insert(super::peer_log::OnionHop(hop_no));
    resp
}

async fn onion_answer(node: &Arc<NodeContext>, body: Bytes) -> Response {
    let keys = node.keys.clone();
    let layer =
        match onion::peel_guarded(&node.onion_guard, keys.x25519_secret(), &keys.x25519_public(), &body) {
            Ok(l) => l,
            Err(e) => return plain(e.status(), e.wire_message()),
        };
    match layer {
        Layer::Final { rpc_body, control, reply, .. } => {
            let (status, body) = handlers::run_rpc(node, &rpc_body, Origin::Client).await;
            let as_json = control.get("json").and_then(Value::as_bool).unwrap_or(false);
            let body = match body {
                ReplyBody::Json(v) if as_json => v,
                ReplyBody::Json(v) => Value::String(v.to_string()),
                other => other.into_json(),
            };
            let sealed = onion::encrypt_reply(&reply, status, &body);
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], sealed).into_response()
        }
        Layer::Relay { destination_ed25519, next_body, .. } => {
            let Some(next) = node.view.current().node(&destination_ed25519).cloned() else {
                return plain(502, format!("Next node not found: {}", hex::encode(destination_ed25519)));
            };
            let sent = node
                .peers
                .http()
                .post(format!("{}/onion_req/v2", node.peers.url_of(&next)))
                .timeout(Duration::from_millis(NODE_ONION_RELAY_TIMEOUT_MS))
                .body(next_body)
                .send()
                .await;
            match sent {
                Ok(resp) => pass_back(resp, true).await,
                Err(e) if e.is_timeout() => plain(504, "Request time out"),
                Err(_) => {
                    plain(502, format!("Next node is unreachable: {}", hex::encode(destination_ed25519)))
                }
            }
        }
        Layer::Host { target, plaintext, .. } => {
            if target.protocol != "http" {
                return plain(
                    502,
                    format!("Cannot relay to {}: only http targets are supported", target.protocol),
                );
            }
            let Ok(method) = reqwest::Method::from_bytes(target.method.as_bytes()) else {
                return plain(400, "Invalid method for the target server");
            };
            let sent = node
                .peers
                .http()
                .request(method, target.url())
                .timeout(Duration::from_millis(NODE_ONION_HOST_TIMEOUT_MS))
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .body(plaintext)
                .send()
                .await;
            match sent {
                Ok(resp) => pass_back(resp, false).await,
                Err(e) if e.is_timeout() => plain(504, "Request time out"),
                Err(_) => plain(502, "Cannot reach the target server"),
            }
        }
    }
}

/// Passes the next hop's (or the server's) answer back unchanged: status, body and, for a relay,
/// content type. The body is read in chunks up to [`ONION_MAX_RELAYED_REPLY`]; a longer one is
/// not buffered further and comes back as a 502.
async fn pass_back(resp: reqwest::Response, keep_content_type: bool) -> Response {
    let status = resp.status();
    let ctype = resp.headers().get(header::CONTENT_TYPE).cloned();
    let body = match read_body_async(resp, ONION_MAX_RELAYED_REPLY as u64).await {
        Ok(body) => body,
        Err(TransportError::TooLarge { .. }) => {
            return plain(502, format!("Reply too large: over {ONION_MAX_RELAYED_REPLY} bytes"));
        }
        Err(_) => return plain(504, "Request time out"),
    };
    let mut r = (status, body).into_response();
    if keep_content_type && let Some(c) = ctype {
        r.headers_mut().insert(header::CONTENT_TYPE, c);
    }
    r
}
