//! Layer 4, shared part: what every daemon needs (graceful shutdown, serving a router over HTTP
//! or TLS, one HTTP error type). The daemons (`snode`, and the servers to come) are siblings on
//! top of it.
//!
//! - [`listen`]: [`serve`] an axum router on a listener, plain or TLS, until shutdown.
//! - [`error`]: [`HttpError`], a status and a plain-text body.
//! - [`keys`]: the daemon key file (Ed25519 seed, X25519 derived), made on first start.
//! - [`lsrpc`]: `POST /oxen/v4/lsrpc`, the onion endpoint of a server, added with one call.

pub mod error;
pub mod keys;
pub mod listen;
pub mod lsrpc;

pub use error::HttpError;
pub use listen::serve;

/// Resolves on SIGTERM or SIGINT (clean shutdown of a daemon).
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
}
