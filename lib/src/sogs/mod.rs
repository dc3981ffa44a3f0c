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
//! - `store`: the one writer thread with group commit, and the read-only connection pool.
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
mod store;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
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
    store: store::Store,
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

/// A handle to a server's state: what [`router`] serves.
#[derive(Debug, Clone)]
pub struct Server(Arc<Ctx>);

impl Server {
    /// Opens the data directory (key file made on first start, database) for serving.
    pub fn open(dir: &std::path::Path, base_url: String, allow_unblinded: bool) -> Result<Self, SogsError> {
        crate::net::fs::create_private_dir(dir)
            .map_err(|e| SogsError::DataDir(dir.display().to_string(), e))?;
        let keys = NodeKeys::load_or_create(&dir.join(KEY_FILE))?;
        let store = store::Store::open(dir)?;
        Ok(Self(Arc::new(Ctx { store, server_pk: keys.x25519_public(), keys, allow_unblinded, base_url })))
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
    answer(ctx, req).await.into_response()
}

/// One request, start to answer. A signed API request (what every app sends, polls above all)
/// stays on the runtime: its signature is checked here (one Ed25519 verification), the writer's
/// part (the nonce, the user row, any write) is awaited without holding a thread, and a small
/// read runs inline, so it costs two thread hand-offs (to the writer and back) instead of the
/// four a blocking-pool task adds. The web pages, the REST API and the read of a file download
/// (up to its size limit) run on the blocking pool.
async fn answer(ctx: Arc<Ctx>, req: Req) -> Reply {
    let segs = segments(&req.path);
    if req.method == "GET" && (segs.is_empty() || segs.first().is_some_and(|s| s == "r")) {
        return blocking(move || {
            ctx.store.read(|db| web::page(&ctx, db, &segs)).unwrap_or_else(store_failed)
        })
        .await;
    }
    if rest::is_bearer(&req.headers) {
        return blocking(move || {
            let c = ctx.clone();
            ctx.store
                .write(move |db| rest::handle(&c, db, &req, &segs).unwrap_or_else(|e| e.reply()))
                .unwrap_or_else(store_failed)
        })
        .await;
    }
    let checked = match auth::check(&ctx, &req) {
        Ok(c) => c,
        Err(e) => return e.reply(),
    };
    if !read_only_route(&req.method, &segs) {
        let c = ctx.clone();
        return ctx
            .store
            .write_async(move |db| write_route(&c, db, checked, &req, &segs))
            .await
            .unwrap_or_else(store_failed);
    }
    let user = match admit(&ctx, checked).await {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let (req, segs) = (Arc::new(req), Arc::new(segs));
    let read = {
        let (c, u, r, sg) = (ctx.clone(), user.clone(), req.clone(), segs.clone());
        move || c.store.read(|db| api::route(&c, db, u.as_ref(), &r, &sg))
    };
    let file = req.method == "GET" && segs.len() >= 4 && segs[0] == "room" && segs[2] == "file";
    let first = if file {
        tokio::task::spawn_blocking(read).await.unwrap_or(Err(store::StoreError::NotRun))
    } else {
        read()
    };
    match first {
        Ok(Ok(reply)) => return reply,
        Ok(Err(e)) if !e.needs_writer() => return e.reply(),
        Ok(Err(_)) => {}
        Err(e) => return store_failed(e),
    }
    // The read found it must write after all (the user's room activity is due): the writer.
    let c = ctx.clone();
    ctx.store
        .write_async(move |db| routed(&c, db, user.as_ref(), &req, &segs))
        .await
        .unwrap_or_else(store_failed)
}

/// Runs blocking work (a web page, a REST call) on the blocking pool.
async fn blocking(f: impl FnOnce() -> Reply + Send + 'static) -> Reply {
    match tokio::task::spawn_blocking(f).await {
        Ok(reply) => reply,
        Err(e) => {
            tracing::error!(error = %e, "request task failed");
            Reply::text(500, "Internal server error")
        }
    }
}

/// The signature's nonce and the user's row, committed before a read route answers.
async fn admit(ctx: &Ctx, checked: Option<auth::Checked>) -> Result<Option<model::User>, Reply> {
    let Some(ch) = checked else { return Ok(None) };
    match ctx.store.write_async(move |db| auth::admit(db, &ch)).await {
        Ok(Ok(u)) => Ok(Some(u)),
        Ok(Err(e)) => Err(e.reply()),
        Err(e) => Err(store_failed(e)),
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

/// A signed request that writes, on the writer: admits the user (nonce, user row), then runs
/// the route (or the batch) in its savepoint.
fn write_route(
    ctx: &Ctx,
    db: &Connection,
    checked: Option<auth::Checked>,
    req: &Req,
    segs: &[String],
) -> Reply {
    let user = match checked.map(|ch| auth::admit(db, &ch)).transpose() {
        Ok(u) => u,
        // A refused request's writes (the nonce, the user row) are kept.
        Err(e) => return e.reply(),
    };
    if let ("POST", [b]) = (req.method.as_str(), segs)
        && (b == "batch" || b == "sequence")
    {
        return batch::run(ctx, db, user.as_ref(), &req.body, b == "sequence").unwrap_or_else(|e| e.reply());
    }
    routed(ctx, db, user.as_ref(), req, segs)
}

/// The routes that normally only read (the polls, room info, files, DM boxes): answered from a
/// read-only connection after the signature's nonce is committed by the writer. One that finds
/// it must write after all (its room activity is due) is run again on the writer.
fn read_only_route(method: &str, segs: &[String]) -> bool {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    method == "GET"
        && matches!(
            s.as_slice(),
            ["capabilities"]
                | ["rooms"]
                | ["room", _]
                | ["room", _, "pollInfo", _]
                | ["room", _, "messages", ..]
                | ["room", _, "message", _]
                | ["room", _, "reactors", ..]
                | ["room", _, "file", ..]
                | ["inbox"]
                | ["inbox", "since", _]
                | ["outbox"]
                | ["outbox", "since", _]
        )
}

fn store_failed(e: store::StoreError) -> Reply {
    tracing::error!(error = %e, "database failure");
    Reply::text(500, "Internal server error")
}

/// Runs one route in a savepoint of the writer's group transaction: kept when it answers
/// below 400, rolled back on a refusal (the group commits before any answer is sent).
pub(crate) fn routed(
    ctx: &Ctx,
    db: &Connection,
    user: Option<&model::User>,
    req: &Req,
    segs: &[String],
) -> Reply {
    let run = |db: &Connection| api::route(ctx, db, user, req, segs).unwrap_or_else(|e| e.reply());
    store::savepoint(db, run, |r| r.status < 400).unwrap_or_else(|e| api::ApiError::from(e).reply())
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
        let round = move || c.store.write(|db| store::savepoint(db, cleanup::round, Result::is_ok));
        match tokio::task::spawn_blocking(round).await {
            Ok(Ok(Ok(Ok(n)))) if n.any() => tracing::info!(?n, "clean-up"),
            Ok(Ok(Ok(Ok(_)))) => {}
            Ok(Ok(Ok(Err(e)) | Err(e))) => tracing::warn!(error = %e, "clean-up failed; retrying next round"),
            Ok(Err(e)) => tracing::warn!(error = %e, "clean-up failed; retrying next round"),
            Err(e) => tracing::warn!(error = %e, "clean-up task failed"),
        }
    }
}
