//! Reachability testing, the node's side (formats/reachability.rs has the rules): in each period
//! the node tests the nodes assigned to it with a signed request to their storage port, checks
//! their signed replies, and reports each outcome, signed, to the registry; and it answers the
//! tests of its own testers. Nothing runs while the registry's `reach_period_ms` is 0.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::peer_api::authenticate;
use super::{NodeContext, now_ms};
use crate::formats::limits::REACH_TEST_TIMEOUT_MS;
use crate::formats::reachability::{self, NodeKey, Report};
use crate::formats::registry::Registry;
use crate::server::HttpError;

/// Path of a reachability test (node to node, signed).
pub(crate) const PATH_REACH: &str = "/snode/v1/reach";
/// Path, on the registry's server, that takes reports.
pub(crate) const REGISTRY_REPORT_PATH: &str = "/reach/report";

/// `POST /snode/v1/reach` `{"period": P}` from a registered node: the signed reply.
pub(crate) async fn answer(
    State(node): State<Arc<NodeContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match answer_inner(&node, &headers, &body).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn answer_inner(node: &NodeContext, headers: &HeaderMap, body: &[u8]) -> Result<Value, HttpError> {
    let tester = authenticate(node, headers, PATH_REACH, body).await?;
    let req: Value = serde_json::from_slice(body)
        .map_err(|e| HttpError::bad_request(format!("invalid request: reachability test: {e}")))?;
    let period = req["period"]
        .as_u64()
        .ok_or_else(|| HttpError::bad_request("invalid request: \"period\" must be an unsigned integer"))?;
    let me = node.ed25519();
    let sig = node.keys.sign(&reachability::reply_bytes(&me, &tester.pubkey_ed25519, period));
    Ok(reachability::reply_json(&me, &tester.pubkey_ed25519, period, &sig))
}

/// The registry server's base (`http://host:port`) from the registry URL the node polls; None for
/// a registry read from a file (there is nowhere to report to).
fn registry_base(source: &str) -> Option<String> {
    let rest = source
        .strip_prefix("http://")
        .map(|r| ("http://", r))
        .or_else(|| source.strip_prefix("https://").map(|r| ("https://", r)))?;
    let host = rest.1.split('/').next()?;
    Some(format!("{}{host}", rest.0))
}

/// Tests `testee` once in `period`: Ok when it answered with its valid signature, else why not.
async fn test_one(
    node: &NodeContext,
    registry: &Registry,
    testee: &NodeKey,
    period: u64,
    timeout: Duration,
) -> Result<(), String> {
    let info = registry.node_list().find(testee).cloned().ok_or("not in the node list")?;
    let body = json!({ "period": period }).to_string().into_bytes();
    let url = node.peers.url_of(&info);
    let resp = node
        .peers
        .post_signed(&url, PATH_REACH, body, timeout)
        .await
        .map_err(|e| crate::net::http::describe(&e))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
    }
    let reply = serde_json::from_slice::<Value>(&bytes).map_err(|e| format!("reply is not JSON: {e}"))?;
    reachability::check_reply(&reply, testee, &node.ed25519(), period).map_err(|e| e.to_string())
}

/// One period's tests and reports.
async fn run_period(
    node: Arc<NodeContext>,
    registry: Arc<Registry>,
    base: Arc<String>,
    period: u64,
    timeout: Duration,
) {
    let me = node.ed25519();
    let testees = reachability::testees_of(&registry, &me, period);
    let mut tasks = Vec::with_capacity(testees.len());
    for testee in testees {
        let (node, registry, base) = (node.clone(), registry.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let outcome = test_one(&node, &registry, &testee, period, timeout).await;
            let reachable = outcome.is_ok();
            let mut report = Report {
                tester: node.ed25519(),
                testee,
                period,
                height: registry.height() as u64,
                reachable,
                signature: [0; 64],
            };
            report.signature = node.keys.sign(&report.signed_bytes());
            if let Err(why) = &outcome {
                tracing::info!(testee = %hex::encode(testee), period, why = %why, "reachability test failed");
            }
            let url = format!("{base}{REGISTRY_REPORT_PATH}");
            let sent = node
                .peers
                .http()
                .post(&url)
                .header("content-type", "application/json")
                .body(report.to_json().to_string())
                .timeout(timeout)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => tracing::debug!(status = %r.status(), "registry refused a reachability report"),
                Err(e) => tracing::debug!(error = %e, "cannot send a reachability report"),
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// The testing loop: once per period (a quarter into it, so that every node has seen the same
/// registry), test the assigned nodes and report. The registry is the one the node's view was
/// last built from (the poller keeps it current).
pub(crate) async fn run(node: Arc<NodeContext>) {
    let Some(base) = registry_base(&node.config.registry) else { return };
    let base = Arc::new(base);
    loop {
        let registry = node.view.current().registry.clone();
        let period_ms = registry.as_ref().map_or(0, |r| r.reach_period_ms());
        let Some(registry) = registry.filter(|_| period_ms > 0) else {
            tokio::time::sleep(node.config.poll_interval).await;
            continue;
        };
        let now = now_ms();
        let period = reachability::period_at(now, period_ms);
        // Three quarters of the period: the test starts a quarter in and must report before it ends.
        let timeout = Duration::from_millis(REACH_TEST_TIMEOUT_MS.min(period_ms * 3 / 4));
        tokio::spawn(run_period(node.clone(), registry, base.clone(), period, timeout));
        // Next: a quarter into the next period.
        let next = (period + 1) * period_ms + period_ms / 4;
        tokio::time::sleep(Duration::from_millis(next.saturating_sub(now_ms()))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::registry_base;

    #[test]
    fn reports_go_to_the_registry_servers_origin() {
        assert_eq!(
            registry_base("http://127.0.0.1:4000/registry.json").as_deref(),
            Some("http://127.0.0.1:4000")
        );
        assert_eq!(registry_base("https://reg.example/x/y").as_deref(), Some("https://reg.example"));
        assert_eq!(registry_base("/tmp/registry.json"), None);
    }
}
