//! The node's HTTP routes: one router per area (the client RPC, the onion endpoint, the
//! node-to-node API), merged under one body limit. Serving them is `crate::server::serve`'s.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use super::{NodeContext, handlers, link, onion_relay, peer_api, protocol, reachability};
use crate::formats::limits::RPC_MAX_BODY_BYTES;

/// Every route of a node.
pub(crate) fn router(node: Arc<NodeContext>) -> Router {
    Router::new()
        .merge(client_rpc())
        .merge(onion())
        .merge(node_to_node())
        .layer(DefaultBodyLimit::max(RPC_MAX_BODY_BYTES))
        .with_state(node)
}

/// What clients (and seeds' clients) call: the storage RPC, the ping and oxend's JSON-RPC.
fn client_rpc() -> Router<Arc<NodeContext>> {
    Router::new()
        .route("/storage_rpc/v1", post(handlers::storage_rpc))
        .route("/ping_test/v1", get(handlers::ping).post(handlers::ping))
        .route("/json_rpc", post(handlers::json_rpc))
}

/// The onion endpoint (onion.md §5).
fn onion() -> Router<Arc<NodeContext>> {
    Router::new().route("/onion_req/v2", post(onion_relay::onion_req))
}

/// The node-to-node API (docs/node-protocol.md).
fn node_to_node() -> Router<Arc<NodeContext>> {
    Router::new()
        .route(protocol::PATH_REPLICATE, post(peer_api::replicate))
        .route(protocol::PATH_PUSH, post(peer_api::push))
        .route(protocol::PATH_SYNC, post(peer_api::sync))
        .route(protocol::PATH_STORAGE_CC, post(peer_api::storage_cc))
        .route(protocol::PATH_STORAGE_CC_REDELIVERY, post(peer_api::storage_cc_redelivery))
        .route(protocol::PATH_HEALTH, get(peer_api::health))
        .route(link::PATH_LINK, get(peer_api::link))
        .route(reachability::PATH_REACH, post(reachability::answer))
}
