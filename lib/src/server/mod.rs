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

/// The JSON line a daemon with a key (`fileserver`, `sogs`) prints on stdout once it listens:
/// where it is and the keys clients sign over and encrypt onion requests to.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Ready {
    /// The base URL: `http(s)://ADDR`, or the configured public one.
    pub url: String,
    /// The X25519 public key, hex (a download URL's `p=`, a join URL's `public_key`).
    pub pubkey: String,
    /// The Ed25519 public key, hex.
    pub pubkey_ed25519: String,
}

impl Ready {
    /// The line of a daemon at `url` holding `keys`.
    pub fn new(url: String, keys: &keys::NodeKeys) -> Self {
        Self {
            url,
            pubkey: hex::encode(keys.x25519_public()),
            pubkey_ed25519: hex::encode(keys.ed25519_public()),
        }
    }
}
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
