//! Redelivery of forwarded client requests (delete_all, expire, revoke_subaccount, …) to a swarm
//! peer that could not take them when they were made (no answer, a 5xx): recorded in the store
//! first, so that a restart of this node resumes them ([`resume`]), then sent again every
//! [`NODE_REPLICATION_RETRY_MS`], marked as a redelivery (the peer does not check the clock
//! window again; the signature it does), until the peer answers anything but a 5xx or the
//! request is [`NODE_FORWARD_REDELIVERY_ATTEMPTS`] retry intervals old.

use std::sync::Arc;
use std::time::Duration;

use super::store::Redelivery;
use super::{NodeContext, now_ms, protocol};
use crate::formats::limits::{NODE_FORWARD_REDELIVERY_ATTEMPTS, NODE_REPLICATION_RETRY_MS};

/// Records `body` for `peer` and starts redelivering it. If even the record fails (store
/// busy), it is redelivered from memory only, as before.
pub(super) async fn schedule(node: &Arc<NodeContext>, peer: [u8; 32], body: Vec<u8>) {
    let created_ms = now_ms();
    let id = match node.store.queue_redelivery_async(peer, body.clone(), created_ms).await {
        Ok(id) => Some(id),
        Err(e) => {
            tracing::warn!(error = %e, peer = %hex::encode(peer), "cannot record a redelivery; keeping it in memory");
            None
        }
    };
    tokio::spawn(deliver(node.clone(), id, peer, body, created_ms));
}

/// Starts every redelivery the store holds (at start).
pub(super) fn resume(node: &Arc<NodeContext>) {
    let pending = match node.store.pending_redeliveries() {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read pending redeliveries");
            return;
        }
    };
    if !pending.is_empty() {
        tracing::info!(pending = pending.len(), "resuming redeliveries");
    }
    for Redelivery { id, peer, body, created_ms } in pending {
        tokio::spawn(deliver(node.clone(), Some(id), peer, body, created_ms));
    }
}

async fn deliver(node: Arc<NodeContext>, id: Option<i64>, peer: [u8; 32], body: Vec<u8>, created_ms: u64) {
    let retry = Duration::from_millis(NODE_REPLICATION_RETRY_MS);
    let deadline =
        created_ms.saturating_add(NODE_REPLICATION_RETRY_MS * u64::from(NODE_FORWARD_REDELIVERY_ATTEMPTS));
    let peer_hex = hex::encode(peer);
    let mut attempt = 0u32;
    let delivered = loop {
        tokio::time::sleep(retry).await;
        if now_ms() > deadline {
            break false;
        }
        attempt += 1;
        // The peer's address as the registry says now (it may have moved); unknown: wait.
        let Some(info) = node.view.current().node(&peer).cloned() else { continue };
        let url = node.peers.url_of(&info);
        let r = node
            .peers
            .post_signed(
                &url,
                protocol::PATH_STORAGE_CC_REDELIVERY,
                body.clone(),
                node.config.replication_timeout,
            )
            .await;
        let Ok(resp) = r else { continue };
        let status = resp.status().as_u16();
        let code = match resp.bytes().await.map(|b| serde_json::from_slice::<serde_json::Value>(&b)) {
            Ok(Ok(v)) => v["code"].as_u64().unwrap_or(500),
            _ => 500,
        };
        if status < 500 && code < 500 {
            tracing::info!(peer = %peer_hex, attempt, code, "redelivered a forwarded request");
            break true;
        }
    };
    if !delivered {
        tracing::warn!(peer = %peer_hex, "gave up redelivering a forwarded request");
    }
    if let Some(id) = id
        && let Err(e) = node.store.redelivery_done_async(id).await
    {
        tracing::warn!(error = %e, "cannot forget a finished redelivery (it will be sent again)");
    }
}
