//! Layer 4, shared part: what every daemon needs (graceful shutdown, the TLS accept loop, one
//! HTTP error type). The daemons (`snode`, and the servers to come) are siblings on top of it.

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
