//! The community server (`sogs`): rooms, messages, moderation, files and blinded DMs as the
//! Session apps speak them (spec sogs.md, docs/sogs.md). [`run`] starts one; [`router`] is its
//! HTTP surface, one function so that more routes (the onion `POST /oxen/v4/lsrpc`) can be
//! merged onto it.
//!
//! - `db`: the SQLite schema and opening it (WAL, durable commits).
//! - `model`: users (and the `05`→`15` carry-over), rooms, permissions, moderators, bans.
//! - `auth`: the X-SOGS-* request signature, checked in the order of sogs.md §1.
//! - `api`: the app routes (§2); `batch`: `/batch` and `/sequence`.
//! - `rest`: the operator's Bearer-token REST API (§4); `web`: the room list and room pages.
//! - [`admin`]: the command-line administration (§4), on the database directly.
//! - `cleanup`: the periodic clean-up (expired files, DMs, nonces, bans; scheduled permissions).
//!
//! A sibling of [`crate::snode`] and [`crate::fileserver`]: it shares only [`crate::server`].

pub mod admin;
mod api;
mod auth;
mod batch;
mod cleanup;
pub mod db;
mod model;
mod rest;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rusqlite::Connection;

use crate::server::keys::{KEY_FILE, KeyError, NodeKeys};

use api::{Reply, Req};

/// Largest request body read (a room file upload plus multipart framing).
pub const MAX_REQUEST_BYTES: usize = api::MAX_UPLOAD_BYTES + 64 * 1024;
/// How often the clean-up runs.
pub const CLEANUP_INTERVAL_MS: u64 = 10_000;

/// What a community server is told at start.
#[derive(Debug, Clone)]
pub struct SogsConfig {
    /// Data directory: key file, database. Created (0700) if missing.
    pub dir: PathBuf,
    /// Address to listen on (port 0: a free port).
    pub listen: SocketAddr,
    /// The public URL of the server (join URLs, the web page); default: the listening URL.
    pub base_url: Option<String>,
    /// Serve HTTPS with a self-signed certificate made at start.
    pub tls: bool,
    /// Accept unblinded (`00`) keys; off by default (capability `blind`).
    pub allow_unblinded: bool,
}

pub use crate::server::Ready;

/// Why a community server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum SogsError {
    /// The data directory could not be made.
    #[error("cannot create data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    /// The key file could not be read or made.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The database could not be opened.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
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

/// What every request shares.
pub(crate) struct Ctx {
    db: Mutex<Connection>,
    /// The server's X25519 public key (signed over, in join URLs, the blinding factor's input).
    pub(crate) server_pk: [u8; 32],
    pub(crate) keys: NodeKeys,
    pub(crate) allow_unblinded: bool,
    pub(crate) base_url: String,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("server_pk", &hex::encode(self.server_pk)).finish_non_exhaustive()
    }
}

impl Ctx {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panicked holder left no open transaction (rusqlite rolls back on drop).
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A handle to a server's state: what [`router`] serves.
#[derive(Debug, Clone)]
pub struct Server(Arc<Ctx>);

impl Server {
    /// Opens the data directory (key file made on first start, database) for serving.
    pub fn open(dir: &std::path::Path, base_url: String, allow_unblinded: bool) -> Result<Self, SogsError> {
        crate::net::fs::create_private_dir(dir)
            .map_err(|e| SogsError::DataDir(dir.display().to_string(), e))?;
        let keys = NodeKeys::load_or_create(&dir.join(KEY_FILE))?;
        let db = db::open(dir)?;
        Ok(Self(Arc::new(Ctx {
            db: Mutex::new(db),
            server_pk: keys.x25519_public(),
            keys,
            allow_unblinded,
            base_url,
        })))
    }
}

impl Server {
    /// The server's keys (the onion route decrypts with its X25519 secret).
    pub fn keys(&self) -> &NodeKeys {
        &self.0.keys
    }

    /// The X25519 public key clients sign over.
    pub fn pubkey(&self) -> [u8; 32] {
        self.0.server_pk
    }
}

/// The HTTP surface of a server: every route of sogs.md §2 and §4 and the web pages, all through
/// one fallback handler, plus the onion `POST /oxen/v4/lsrpc` (`server::lsrpc`), which hands its
/// inner request back to the same routes.
pub fn router(server: &Server) -> Router {
    let app = Router::new()
        .fallback(handle)
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(server.0.clone());
    crate::server::lsrpc::route(app, server.0.keys.x25519_secret())
}

/// Answers one HTTP request: reads the body (bounded), then does the work off the runtime.
async fn handle(State(ctx): State<Arc<Ctx>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(b) => b,
        Err(_) => return Reply::text(413, "Request body too large").into_response(),
    };
    let req = Req {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body: body.to_vec(),
    };
    // Multipart is parsed here (async), before the blocking work.
    let req = match rest::prepare(&req).await {
        Ok(r) => r,
        Err(e) => return e.reply().into_response(),
    };
    match tokio::task::spawn_blocking(move || dispatch(&ctx, &req)).await {
        Ok(reply) => reply.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "request task failed");
            Reply::text(500, "Internal server error").into_response()
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = Response::new(Body::from(self.body));
        *r.status_mut() = status;
        let h = r.headers_mut();
        if status != StatusCode::NOT_MODIFIED
            && let Ok(v) = HeaderValue::from_str(&self.content_type)
        {
            h.insert(axum::http::header::CONTENT_TYPE, v);
        }
        for (k, v) in self.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::from_str(&v)) {
                h.insert(k, v);
            }
        }
        r
    }
}

/// Splits a raw path into URL-decoded segments (`/room/a/reaction/1/%F0%9F%8D%86` → the emoji).
pub(crate) fn segments(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

/// One request, start to answer (blocking: it holds the database).
pub(crate) fn dispatch(ctx: &Ctx, req: &Req) -> Reply {
    let segs = segments(&req.path);
    if req.method == "GET" && (segs.is_empty() || segs.first().is_some_and(|s| s == "r")) {
        return web::page(ctx, &segs);
    }
    if rest::is_bearer(&req.headers) {
        return rest::handle(ctx, req, &segs).unwrap_or_else(|e| e.reply());
    }
    let mut db = ctx.lock();
    match authenticated(ctx, &mut db, req, &segs) {
        Ok(reply) => reply,
        Err(e) => e.reply(),
    }
}

/// Authentication and the route in one transaction (one commit, one fsync): the route runs in a
/// savepoint that a refusal rolls back, while the nonce written by authentication is committed
/// whatever the route answers, so a refused request cannot be replayed later either.
fn authenticated(ctx: &Ctx, db: &mut Connection, req: &Req, segs: &[String]) -> Result<Reply, api::ApiError> {
    let mut tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let user = match auth::authenticate(ctx, &tx, req) {
        Ok(u) => u,
        Err(e) => {
            tx.commit()?;
            return Err(e);
        }
    };
    if let ("POST", [b]) = (req.method.as_str(), segs)
        && (b == "batch" || b == "sequence")
    {
        // Each subrequest gets its own transaction.
        tx.commit()?;
        return batch::run(ctx, db, user.as_ref(), &req.body, b == "sequence");
    }
    let reply = {
        // Dropped uncommitted, a savepoint rolls back.
        let sp = tx.savepoint()?;
        match api::route(ctx, &sp, user.as_ref(), req, segs) {
            Ok(reply) if reply.status < 400 => {
                sp.commit()?;
                reply
            }
            Ok(reply) => reply,
            Err(e) => e.reply(),
        }
    };
    tx.commit()?;
    Ok(reply)
}

/// Runs one route in its own transaction: committed before a 2xx is answered, rolled back on a
/// refusal.
pub(crate) fn in_transaction(
    ctx: &Ctx,
    db: &mut Connection,
    user: Option<&model::User>,
    req: &Req,
    segs: &[String],
) -> Reply {
    let tx = match db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(t) => t,
        Err(e) => return api::ApiError::from(e).reply(),
    };
    match api::route(ctx, &tx, user, req, segs) {
        Ok(reply) if reply.status < 400 => match tx.commit() {
            Ok(()) => reply,
            Err(e) => api::ApiError::from(e).reply(),
        },
        Ok(reply) => reply,
        Err(e) => e.reply(),
    }
}

/// Runs a community server until `shutdown` resolves: opens the store, binds, calls `ready`
/// once listening, serves, and runs the clean-up.
pub async fn run(
    config: SogsConfig,
    ready: impl FnOnce(&Ready),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), SogsError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| SogsError::Listen(config.listen.to_string(), e))?;
    let bound = listener.local_addr().map_err(|e| SogsError::Listen(config.listen.to_string(), e))?;
    let url = format!("{}://{bound}", if config.tls { "https" } else { "http" });
    let base_url = config.base_url.clone().unwrap_or_else(|| url.clone()).trim_end_matches('/').to_string();
    let (dir, base, allow) = (config.dir.clone(), base_url.clone(), config.allow_unblinded);
    let server = tokio::task::spawn_blocking(move || Server::open(&dir, base, allow))
        .await
        .map_err(|e| SogsError::Serve(std::io::Error::other(e.to_string())))??;
    let tls = if config.tls {
        Some(crate::net::tls::self_signed_server_config().map_err(|e| SogsError::Tls(e.to_string()))?)
    } else {
        None
    };
    // Poll the shutdown future once before announcing readiness, so that its signal handlers are
    // installed by the time anyone who read the ready line sends SIGTERM.
    let mut shutdown = Box::pin(shutdown);
    tokio::select! {
        biased;
        () = &mut shutdown => return Ok(()),
        () = std::future::ready(()) => {}
    }
    let info = Ready::new(base_url, &server.0.keys);
    tracing::info!(url = %info.url, listen = %url, pubkey = %info.pubkey, blinded_only = !config.allow_unblinded, "sogs listening");
    ready(&info);
    let cleaner = tokio::spawn(clean_loop(server.0.clone()));
    let served = crate::server::serve(listener, router(&server), tls, shutdown).await;
    cleaner.abort();
    let _ = cleaner.await;
    served.map_err(SogsError::Serve)?;
    tracing::info!("sogs stopped");
    Ok(())
}

async fn clean_loop(ctx: Arc<Ctx>) {
    let mut tick = tokio::time::interval(Duration::from_millis(CLEANUP_INTERVAL_MS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let c = ctx.clone();
        match tokio::task::spawn_blocking(move || cleanup::run(&mut c.lock())).await {
            Ok(Ok(n)) if n.any() => tracing::info!(?n, "clean-up"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "clean-up failed; retrying next round"),
            Err(e) => tracing::warn!(error = %e, "clean-up task failed"),
        }
    }
}
