//! `testnet registry-serve`: serves the testnet's `registry.json` over HTTP (`GET
//! /registry.json`, re-read from disk on every request, so a change by `testnet add/stop` is seen
//! at once) and `GET /nodes.json`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::TestnetError;

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

async fn registry(State(dir): State<PathBuf>) -> Response {
    serve_file(dir.join("registry.json")).await
}

async fn nodes(State(dir): State<PathBuf>) -> Response {
    serve_file(super::nodes_json_path(&dir)).await
}

/// Runs the registry server until SIGTERM/SIGINT.
pub fn run(dir: &Path, listen: SocketAddr) -> Result<(), TestnetError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| TestnetError::io("cannot start the runtime", e))?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| TestnetError::io(format!("cannot listen on {listen}"), e))?;
        let bound = listener.local_addr().map_err(|e| TestnetError::io("listen address", e))?;
        crate::net::fs::write_atomic(&dir.join(ADDR_FILE), bound.to_string().as_bytes())
            .map_err(|e| TestnetError::io(ADDR_FILE, e))?;
        let app = Router::new()
            .route("/registry.json", get(registry))
            .route("/nodes.json", get(nodes))
            .with_state(dir.to_path_buf());
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
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
            .map_err(|e| TestnetError::io("registry server", e))
    })
}
