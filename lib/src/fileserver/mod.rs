//! The file server (`fileserver`): a compatible session-file-server. It keeps end-to-end
//! encrypted attachments as opaque blobs under unguessable ids until they expire
//! (attachments.md §5, docs/fileserver.md). [`run`] starts one.
//!
//! - `ids`: hash ids (BLAKE2b, the live server's salt), compat ids, the `X-FS-TTL` rule.
//! - [`store`]: files on disk and their SQLite index, and the durability rule.
//! - `routes`: the HTTP routes and their exact statuses and JSON.
//!
//! A sibling of [`crate::snode`]: it shares only what lives in [`crate::server`] (serving,
//! shutdown, errors, the key file) and below.

mod ids;
mod routes;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::formats::limits::FILESERVER_CLEAN_INTERVAL_MS;
use crate::server::keys::{KEY_FILE, KeyError, NodeKeys};
pub use routes::TTL_HEADER;
pub use store::Store;

/// What a file server is told at start.
#[derive(Debug, Clone)]
pub struct FileServerConfig {
    /// Data directory: key file, index, files. Created (0700) if missing.
    pub dir: PathBuf,
    /// Address to listen on (port 0: a free port, told in [`Ready::url`]).
    pub listen: SocketAddr,
    /// Serve HTTPS with a self-signed certificate made at start.
    pub tls: bool,
    /// Random integer ids below 2^53 (the older apps' ids) instead of hash ids.
    pub compat_ids: bool,
}

pub use crate::server::Ready;

/// Why a file server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum FileServerError {
    /// The data directory could not be made.
    #[error("cannot create data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    /// The key file could not be read or made.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The listen address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Listen(String, std::io::Error),
    /// The TLS configuration could not be made.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// Serving failed.
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// Runs a file server until `shutdown` resolves: opens the store (removing a crash's
/// leftovers), binds, calls `ready` once listening, serves, and runs the cleaner. On shutdown it
/// stops accepting and lets in-flight requests finish; an upload cut off there was never
/// answered and leaves at most a temporary file, which the next start removes.
pub async fn run(
    config: FileServerConfig,
    ready: impl FnOnce(&Ready),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), FileServerError> {
    crate::net::fs::create_private_dir(&config.dir)
        .map_err(|e| FileServerError::DataDir(config.dir.display().to_string(), e))?;
    let keys = NodeKeys::load_or_create(&config.dir.join(KEY_FILE))?;
    let dir = config.dir.clone();
    let (store, leftovers) = tokio::task::spawn_blocking(move || Store::open(&dir))
        .await
        .map_err(|e| FileServerError::Serve(std::io::Error::other(e.to_string())))??;
    tracing::info!(
        temp_files = leftovers.temp_files,
        orphan_files = leftovers.orphan_files,
        orphan_rows = leftovers.orphan_rows,
        "store opened; crash leftovers removed"
    );
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| FileServerError::Listen(config.listen.to_string(), e))?;
    let bound = listener.local_addr().map_err(|e| FileServerError::Listen(config.listen.to_string(), e))?;
    let tls = if config.tls {
        Some(crate::net::tls::self_signed_server_config().map_err(|e| FileServerError::Tls(e.to_string()))?)
    } else {
        None
    };
    let info = Ready::new(format!("{}://{bound}", if config.tls { "https" } else { "http" }), &keys);
    tracing::info!(url = %info.url, ed25519 = %info.pubkey_ed25519, compat_ids = config.compat_ids, "fileserver listening");
    ready(&info);

    let cleaner = tokio::spawn(clean_loop(store.clone()));
    let app = router(store, &keys, config.compat_ids);
    let served = crate::server::serve(listener, app, tls, shutdown).await;
    cleaner.abort();
    let _ = cleaner.await;
    served.map_err(FileServerError::Serve)?;
    tracing::info!("fileserver stopped");
    Ok(())
}

/// The HTTP surface of a file server over `store`: the file routes plus the onion
/// `POST /oxen/v4/lsrpc` decrypting with `keys` (what [`run`] serves; the fuzz target drives it
/// without a socket).
pub fn router(store: Store, keys: &NodeKeys, compat_ids: bool) -> axum::Router {
    let app = routes::router(Arc::new(routes::Ctx { store, compat_ids }));
    // The apps reach a file server only through onion requests (attachments.md §5).
    crate::server::lsrpc::route(app, keys.x25519_secret())
}

/// Every [`FILESERVER_CLEAN_INTERVAL_MS`]: remove the expired files and their rows.
async fn clean_loop(store: Store) {
    let mut tick = tokio::time::interval(Duration::from_millis(FILESERVER_CLEAN_INTERVAL_MS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = store.clone();
        match tokio::task::spawn_blocking(move || s.clean(routes::now_us())).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(removed = n, "expired files removed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "clean-up failed; retrying next round"),
            Err(e) => tracing::warn!(error = %e, "clean-up task failed"),
        }
    }
}
