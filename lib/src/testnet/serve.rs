//! `testnet registry-serve`: serves the testnet's `registry.json` over HTTP (`GET
//! /registry.json`, re-read from disk on every request, so a change by `testnet add/stop` is seen
//! at once) and `GET /nodes.json`. As the stand-in for the chain it also takes the nodes'
//! reachability reports (`POST /reach/report`), keeps them in memory, and at each period's end
//! appends the decommissions, recommissions and deregistrations they call for
//! (formats/reachability.rs); `GET /reach/status` shows each node's recent tallies.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::TestnetError;
use crate::formats::reachability::{self, Action, Ledger, Report, Verdict};
use crate::formats::registry::Registry;
use crate::formats::time::now_ms;

/// Largest report body the server reads.
const REPORT_MAX_BYTES: usize = 4096;

#[derive(Clone)]
struct Ctx {
    dir: PathBuf,
    ledger: Arc<Mutex<Ledger>>,
}

fn load_registry(dir: &Path) -> Result<Registry, String> {
    Registry::load(dir.join("registry.json")).map_err(|e| e.to_string())
}

async fn report(State(ctx): State<Ctx>, body: Bytes) -> Response {
    let refuse = |code: StatusCode, why: String| (code, why).into_response();
    if body.len() > REPORT_MAX_BYTES {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a report is at most {REPORT_MAX_BYTES} bytes"),
        );
    }
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "a report is a JSON object".into());
    };
    let report = match Report::from_json(&value) {
        Ok(r) => r,
        Err(e @ reachability::ReachError::Signature(_)) => {
            return refuse(StatusCode::UNAUTHORIZED, e.to_string());
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let registry = match load_registry(&ctx.dir) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, e),
    };
    let now = reachability::period_at(now_ms(), registry.reach_period_ms());
    let mut ledger = ctx.ledger.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match ledger.record(&registry, &report, now) {
        Ok(()) => (StatusCode::OK, axum::Json(json!({"recorded": true}))).into_response(),
        Err(e) => refuse(StatusCode::FORBIDDEN, e.to_string()),
    }
}

async fn reach_status(State(ctx): State<Ctx>) -> Response {
    let Ok(registry) = load_registry(&ctx.dir) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "cannot read the registry").into_response();
    };
    let ledger = ctx.ledger.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let nodes: Vec<Value> = registry
        .registered()
        .map(|r| {
            let tallies: Vec<Value> = ledger
                .tallies(&r.pubkey_ed25519)
                .map(|(p, t)| {
                    let (up, down) = t.counts();
                    let verdict = match t.verdict() {
                        Verdict::Up => "up",
                        Verdict::Down => "down",
                        Verdict::Undecided => "undecided",
                    };
                    json!({"period": p, "reachable": up, "unreachable": down, "verdict": verdict})
                })
                .collect();
            json!({
                "pubkey_ed25519": hex::encode(r.pubkey_ed25519),
                "standing": if registry.is_decommissioned(&r.pubkey_ed25519) { "decommissioned" } else { "active" },
                "tests": tallies,
            })
        })
        .collect();
    axum::Json(json!({"reach_period_ms": registry.reach_period_ms(), "nodes": nodes})).into_response()
}

/// At each period boundary: the actions the closed periods call for, appended to the registry
/// under its lock, and `nodes.json` rewritten.
async fn judge(ctx: Ctx) {
    loop {
        let period_ms = load_registry(&ctx.dir).map(|r| r.reach_period_ms()).unwrap_or(0);
        if period_ms == 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let now = reachability::period_at(now_ms(), period_ms);
        let dir = ctx.dir.clone();
        let ledger = ctx.ledger.clone();
        let judged = tokio::task::spawn_blocking(move || apply_verdicts(&dir, &ledger, now)).await;
        match judged {
            Ok(Ok(actions)) => {
                for a in actions {
                    tracing::info!(action = ?a, period = now, "reachability verdict");
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot apply reachability verdicts"),
            Err(e) => tracing::warn!(error = %e, "verdict task failed"),
        }
        // Just after the next boundary (late reports of the closing period had half of it).
        let next = (now + 1) * period_ms + period_ms / 8;
        tokio::time::sleep(Duration::from_millis(next.saturating_sub(now_ms()))).await;
    }
}

fn apply_verdicts(dir: &Path, ledger: &Mutex<Ledger>, now: u64) -> Result<Vec<Action>, TestnetError> {
    let actions = super::reg::update(dir, |registry| {
        let mut ledger = ledger.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let decommissioned: Vec<[u8; 32]> = registry
            .registered()
            .map(|r| r.pubkey_ed25519)
            .filter(|k| registry.is_decommissioned(k))
            .collect();
        for k in decommissioned {
            ledger.adopt(k, now);
        }
        let mut done = Vec::new();
        for action in ledger.decide(registry, now) {
            let applied = match action {
                Action::Decommission(k) => registry.decommission(&k),
                Action::Recommission(k) => registry.recommission(&k),
                Action::Deregister(k) => registry.leave(&k),
            };
            match applied {
                Ok(()) => {
                    ledger.applied(action, now);
                    done.push(action);
                }
                Err(e) => tracing::warn!(error = %e, action = ?action, "registry refused a verdict"),
            }
        }
        Ok(done)
    })?;
    if !actions.is_empty() {
        let tls = super::TestnetState::load(&super::state_path(dir)).map(|s| s.tls).unwrap_or(false);
        super::write_nodes_json(dir, tls)?;
    }
    Ok(actions)
}

/// File the registry server writes its bound address to.
pub const ADDR_FILE: &str = "registry.addr";

async fn serve_file(path: PathBuf) -> Response {
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => {
            (StatusCode::SERVICE_UNAVAILABLE, format!("cannot read {}: {e}", path.display())).into_response()
        }
    }
}

async fn registry(State(ctx): State<Ctx>) -> Response {
    serve_file(ctx.dir.join("registry.json")).await
}

async fn nodes(State(ctx): State<Ctx>) -> Response {
    serve_file(super::nodes_json_path(&ctx.dir)).await
}

/// Runs the registry server on `rt` until SIGTERM/SIGINT.
pub fn run(rt: &tokio::runtime::Runtime, dir: &Path, listen: SocketAddr) -> Result<(), TestnetError> {
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| TestnetError::io(format!("cannot listen on {listen}"), e))?;
        let bound = listener.local_addr().map_err(|e| TestnetError::io("listen address", e))?;
        crate::net::fs::write_atomic(&dir.join(ADDR_FILE), bound.to_string().as_bytes())
            .map_err(|e| TestnetError::io(ADDR_FILE, e))?;
        let ctx = Ctx { dir: dir.to_path_buf(), ledger: Arc::new(Mutex::new(Ledger::new())) };
        let judge_task = tokio::spawn(judge(ctx.clone()));
        let app = Router::new()
            .route("/registry.json", get(registry))
            .route("/nodes.json", get(nodes))
            .route("/reach/report", post(report))
            .route("/reach/status", get(reach_status))
            .with_state(ctx);
        let watched = dir.to_path_buf();
        // Stop on SIGTERM/SIGINT, or when the testnet directory is removed.
        let stop = async move {
            let gone = async {
                while watched.exists() {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            };
            tokio::select! {
                _ = crate::server::shutdown_signal() => {}
                _ = gone => {}
            }
        };
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
            .map_err(|e| TestnetError::io("registry server", e));
        judge_task.abort();
        served
    })
}
