//! The service node (`snode`): the storage RPC over HTTP, durable storage, replication within
//! the swarm, handoff when swarms change, expiry, and the onion endpoint; plus `testnet`, which
//! runs a registry and many nodes on loopback.
//!
//! - [`config`]: what a node is told at start.
//! - [`keys`]: the node key file (Ed25519 seed, X25519 derived).
//! - [`auth`]: signatures on node-to-node requests.
//! - [`view`]: the node's view of the registry: swarms, its own swarm, parameters.
//! - [`peers`]: the client side of node-to-node requests (replication, pushes).
//! - [`protocol`]: wire types and paths of node-to-node endpoints.
//! - [`server`]: the HTTP server and its routes; [`handlers`]: the storage RPC methods.
//! - [`handoff`]: reaction to swarm changes; [`tasks`]: registry poller and expiry sweeper.
//! - [`crate::testnet`]: the `testnet` command's logic.

pub mod auth;
pub mod config;
pub mod handlers;
pub mod handoff;
pub mod keys;
pub mod onion_relay;
pub mod peers;
pub mod protocol;
pub mod server;
pub mod store;
pub mod tasks;
pub mod view;

use std::sync::Arc;

use tokio::sync::Notify;

pub use crate::formats::time::now_ms;
pub use config::NodeConfig;
pub use keys::NodeKeys;

use crate::snode::store::Store;
use peers::Peers;
use view::ViewHandle;

/// Why a node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("cannot create data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    #[error(transparent)]
    Store(#[from] crate::snode::store::StoreError),
    #[error("cannot listen on {0}: {1}")]
    Listen(String, std::io::Error),
    #[error("cannot write {0}: {1}")]
    ListenFile(String, std::io::Error),
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// Everything a running node shares between its request handlers and background tasks.
#[derive(Debug)]
pub struct Node {
    pub keys: Arc<NodeKeys>,
    pub store: Store,
    pub view: ViewHandle,
    pub peers: Peers,
    pub config: NodeConfig,
    /// Wakes the registry poller for an immediate refresh (unknown sender, say).
    pub refresh: Notify,
    /// Wakes the handoff task (records that are not ours arrived).
    pub handoff_kick: Notify,
    /// What the last handoff round left (for `health`), read and written together so that a
    /// reader never pairs one round's count with another round's view.
    pub handoff: std::sync::Mutex<HandoffState>,
    /// Replay guard of onion requests.
    pub onion_guard: onion_relay::Guard,
    /// Asks the node to shut down (its data directory vanished).
    pub stop: Notify,
}

impl Node {
    /// This node's Ed25519 key.
    pub fn ed25519(&self) -> [u8; 32] {
        self.keys.ed25519_public()
    }

    /// The TLS side of `--tls`: a fresh self-signed certificate (crate::net::tls).
    fn tls_acceptor(&self) -> Result<tokio_rustls::TlsAcceptor, NodeError> {
        let config =
            crate::net::tls::self_signed_server_config().map_err(|e| NodeError::Http(e.to_string()))?;
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }

    /// See [`Node::handoff`].
    pub fn handoff_state(&self) -> HandoffState {
        self.handoff.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub fn set_handoff_state(&self, state: HandoffState) {
        *self.handoff.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = state;
    }
}

/// The outcome of the last handoff round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandoffState {
    /// Digest of the view the round acted on (`testnet stop` waits until it is the current one).
    pub view_digest: String,
    /// Records still to hand on (a round that could not read the store counts as pending).
    pub pending: usize,
}

/// Runs a node until `shutdown` resolves: binds, serves, and on shutdown stops accepting, lets
/// in-flight requests finish, stops the background tasks and closes the store.
pub async fn run(
    config: NodeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    crate::net::fs::create_private_dir(&config.data_dir)
        .map_err(|e| NodeError::DataDir(config.data_dir.display().to_string(), e))?;
    let keys = Arc::new(NodeKeys::load_or_create(&config.key_path())?);
    let store = {
        let path = config.db_path();
        tokio::task::spawn_blocking(move || Store::open(path))
            .await
            .map_err(|e| NodeError::Serve(std::io::Error::other(e.to_string())))??
    };
    let me = keys.ed25519_public();
    let initial = tasks::fetch_view(&config.registry, &me).await.unwrap_or_default();
    let peers = Peers::new(keys.clone(), store.clone(), config.replication_timeout, config.tls)
        .map_err(|e| NodeError::Http(e.to_string()))?;
    let node = Arc::new(Node {
        keys,
        store,
        view: ViewHandle::new(initial),
        peers,
        config: config.clone(),
        refresh: Notify::new(),
        handoff_kick: Notify::new(),
        handoff: std::sync::Mutex::new(HandoffState::default()),
        onion_guard: onion_relay::Guard::default(),
        stop: Notify::new(),
    });

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| NodeError::Listen(config.listen.to_string(), e))?;
    let bound = listener.local_addr().map_err(|e| NodeError::Listen(config.listen.to_string(), e))?;
    crate::net::fs::write_atomic(&config.listen_file(), bound.to_string().as_bytes())
        .map_err(|e| NodeError::ListenFile(config.listen_file().display().to_string(), e))?;
    tracing::info!(ed25519 = %hex::encode(me), listen = %bound, "snode listening");

    let background = vec![
        tokio::spawn(tasks::poll_registry(node.clone())),
        tokio::spawn(tasks::sweep(node.clone())),
        tokio::spawn(handoff::run(node.clone())),
    ];

    let app = server::router(node.clone());
    let stopper = node.clone();
    let shutdown = async move {
        tokio::select! {
            _ = shutdown => {}
            _ = stopper.stop.notified() => {}
        }
    };
    let served = if node.config.tls {
        server::serve_tls(listener, app, node.tls_acceptor()?, shutdown).await
    } else {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    };
    tracing::info!("snode stopping: server closed, stopping background tasks");
    for task in &background {
        task.abort();
    }
    for task in background {
        let _ = task.await;
    }
    // The store's writer finishes queued jobs and closes when the last clone is dropped.
    drop(node);
    served.map_err(NodeError::Serve)?;
    tracing::info!("snode stopped");
    Ok(())
}
