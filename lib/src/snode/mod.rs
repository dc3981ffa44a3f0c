//! The service node (`snode`): the storage RPC over HTTP, durable storage, replication within
//! the swarm, handoff when swarms change, expiry, and the onion endpoint. [`run`] starts one.
//!
//! - [`config`]: what a node is told at start.
//! - [`keys`]: the node key file (Ed25519 seed, X25519 derived).
//! - `auth`: signatures on node-to-node requests.
//! - [`link`]: the persistent, authenticated peer links replication streams over.
//! - `view`: the node's view of the registry: swarms, its own swarm, parameters.
//! - `peers`: the client side of node-to-node requests (replication, pushes).
//! - `protocol`: wire types and paths of node-to-node endpoints; `peer_api`: their handlers.
//! - `server`: the routes; `handlers`: the storage RPC methods; `onion_relay`: the onion endpoint.
//! - `handoff`: reaction to swarm changes; `tasks`: registry poller and expiry sweeper.
//! - [`store`]: the durable message store.
//! - [`sync`]: synchronous routing's in-memory registry and its RPCs (docs/sync.md).

mod auth;
pub mod config;
mod handlers;
mod handoff;
pub mod keys;
pub mod link;
mod onion_relay;
mod peer_api;
pub mod peer_log;
mod peers;
pub mod protocol;
mod reachability;
mod redelivery;
mod server;
pub mod store;
pub mod sync;
mod tasks;
pub(crate) mod view;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::formats::time::now_ms;
pub use config::NodeConfig;
pub use keys::NodeKeys;

use peers::Peers;
use store::Store;
use view::ViewHandle;

/// Why a node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The data directory could not be created.
    #[error("cannot create data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    /// The node key file could not be loaded or made.
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    /// The message store could not be opened.
    #[error(transparent)]
    Store(#[from] crate::snode::store::StoreError),
    /// The listen address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Listen(String, std::io::Error),
    /// The listen file could not be written.
    #[error("cannot write {0}: {1}")]
    ListenFile(String, std::io::Error),
    /// The HTTP client for node-to-node requests could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
    /// The server failed while serving.
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// Everything a running node shares between its request handlers and background tasks.
#[derive(Debug)]
pub(crate) struct NodeContext {
    pub(crate) keys: Arc<NodeKeys>,
    pub(crate) store: Store,
    pub(crate) view: ViewHandle,
    pub(crate) peers: Peers,
    pub(crate) config: NodeConfig,
    /// Wakes the registry poller for an immediate refresh (unknown sender, say).
    pub(crate) refresh: Notify,
    /// Wakes the handoff task (records that are not ours arrived).
    pub(crate) handoff_kick: Notify,
    /// What the last handoff round left (for `health`), read and written together so that a
    /// reader never pairs one round's count with another round's view.
    handoff: std::sync::Mutex<HandoffState>,
    /// Replay guard of onion requests.
    pub(crate) onion_guard: onion_relay::Guard,
    /// Asks the node to shut down (its data directory vanished).
    pub(crate) stop: Notify,
    /// Synchronous routing's subscriptions, in memory only (docs/sync.md).
    pub(crate) sync: Arc<sync::SyncRegistry>,
}

impl NodeContext {
    /// This node's Ed25519 key.
    pub(crate) fn ed25519(&self) -> [u8; 32] {
        self.keys.ed25519_public()
    }

    /// See [`NodeContext::handoff`].
    pub(crate) fn handoff_state(&self) -> HandoffState {
        self.handoff.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub(crate) fn set_handoff_state(&self, state: HandoffState) {
        *self.handoff.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = state;
    }
}

/// The outcome of the last handoff round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HandoffState {
    /// Digest of the view the round acted on (`testnet stop` waits until it is the current one).
    pub(crate) view_digest: String,
    /// Records still to hand on (a round that could not read the store counts as pending).
    pub(crate) pending: usize,
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
        let (path, options) = (config.db_path(), config.store.clone());
        tokio::task::spawn_blocking(move || Store::open_with(path, options))
            .await
            .map_err(|e| NodeError::Serve(std::io::Error::other(e.to_string())))??
    };
    let me = keys.ed25519_public();
    let initial = tasks::fetch_view(&config.registry, &me).await.unwrap_or_default();
    let peers = Peers::new(keys.clone(), store.clone(), config.replication_timeout, config.tls)
        .map_err(|e| NodeError::Http(e.to_string()))?;
    let node = Arc::new(NodeContext {
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
        sync: Arc::new(sync::SyncRegistry::default()),
    });

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| NodeError::Listen(config.listen.to_string(), e))?;
    let bound = listener.local_addr().map_err(|e| NodeError::Listen(config.listen.to_string(), e))?;
    crate::net::fs::write_atomic(&config.listen_file(), bound.to_string().as_bytes())
        .map_err(|e| NodeError::ListenFile(config.listen_file().display().to_string(), e))?;
    tracing::info!(ed25519 = %hex::encode(me), listen = %bound, "snode listening");

    redelivery::resume(&node);
    let background = vec![
        tokio::spawn(tasks::poll_registry(node.clone())),
        tokio::spawn(tasks::sweep(node.clone())),
        tokio::spawn(handoff::run(node.clone())),
        tokio::spawn(reachability::run(node.clone())),
        tokio::spawn(sync::sweep_task(node.sync.clone())),
    ];

    let mut app = server::router(node.clone());
    if node.config.peer_log {
        let log = peer_log::PeerLog::open(&node.config.data_dir).map_err(|e| {
            NodeError::DataDir(node.config.data_dir.join(peer_log::PEER_LOG_FILE).display().to_string(), e)
        })?;
        app = app.layer(axum::middleware::from_fn_with_state(std::sync::Arc::new(log), peer_log::record));
    }
    let stopper = node.clone();
    let shutdown = async move {
        tokio::select! {
            _ = shutdown => {}
            _ = stopper.stop.notified() => {}
        }
    };
    // The TLS side of `--tls`: a fresh self-signed certificate at every start.
    let tls = if node.config.tls {
        Some(crate::net::tls::self_signed_server_config().map_err(|e| NodeError::Http(e.to_string()))?)
    } else {
        None
    };
    let served = crate::server::serve(listener, app, tls, shutdown).await;
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
