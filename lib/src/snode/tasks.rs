//! Background tasks of a node: the registry poller and the expiry sweeper.

use std::sync::Arc;

use super::view::SwarmView;
use super::{NodeContext, now_ms};
use crate::formats::registry::Registry;

/// Fetches the registry from `source` (URL or file) and builds `me`'s view of it. A client per
/// call, as each poll had its own before (a fresh connection costs nothing on loopback).
pub(crate) async fn fetch_view(source: &str, me: &[u8; 32]) -> Result<SwarmView, String> {
    let client = crate::net::http::async_client(0).map_err(|e| e.to_string())?;
    let registry = Registry::fetch_async(&client, source).await.map_err(|e| e.to_string())?;
    Ok(SwarmView::from_registry(&registry, me))
}

/// Polls the registry every `poll_interval` (or at once when woken) and publishes changes.
pub(crate) async fn poll_registry(node: Arc<NodeContext>) {
    let me = node.ed25519();
    let mut failures: u32 = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(node.config.poll_interval) => {}
            _ = node.refresh.notified() => {}
        }
        match fetch_view(&node.config.registry, &me).await {
            Ok(view) => {
                if failures > 0 {
                    tracing::info!("registry reachable again");
                }
                failures = 0;
                let swarm = view.my_swarm;
                let digest = view.digest.clone();
                let nodes = view.nodes.len();
                if node.view.update(view) {
                    tracing::info!(
                        nodes,
                        swarm = ?swarm.map(|s| format!("{s:016x}")),
                        digest = %&digest[..16],
                        "registry changed"
                    );
                }
            }
            Err(e) => {
                failures += 1;
                if failures == 1 || failures.is_multiple_of(100) {
                    tracing::warn!(error = %e, failures, "cannot fetch the registry; keeping the last view");
                }
            }
        }
    }
}

/// Deletes expired messages every `sweep_interval`. Also stops the node if its data directory
/// disappeared (a removed test directory must not leave a node running).
pub(crate) async fn sweep(node: Arc<NodeContext>) {
    loop {
        tokio::time::sleep(node.config.sweep_interval).await;
        if !node.config.data_dir.exists() {
            tracing::warn!("data directory is gone: stopping");
            node.stop.notify_one();
            return;
        }
        let store = node.store.clone();
        match tokio::task::spawn_blocking(move || store.expire(now_ms())).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::debug!(expired = n, "swept expired messages"),
            Ok(Err(e)) => tracing::warn!(error = %e, "expiry sweep failed"),
            Err(e) => tracing::warn!(error = %e, "expiry sweep task failed"),
        }
    }
}
