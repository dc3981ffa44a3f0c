//! Serving an axum [`Router`] on a bound listener, over plain HTTP or TLS, until a shutdown
//! future resolves: what every daemon runs once its routes are built.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use rustls::ServerConfig;
use tokio::net::TcpListener;

use crate::formats::limits::{NODE_TLS_DRAIN_MS, NODE_TLS_HANDSHAKE_TIMEOUT_MS};

/// Serves `app` on `listener` until `shutdown` resolves, over TLS with `tls` or plain HTTP
/// without. On shutdown it stops accepting and lets in-flight requests finish (plain HTTP: all
/// of them; TLS: see `serve_tls`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match tls {
        Some(config) => {
            serve_tls(listener, app, tokio_rustls::TlsAcceptor::from(Arc::new(config)), shutdown).await
        }
        None => {
            axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}

/// The TLS accept loop (hyper over tokio-rustls: `axum::serve` has no TLS). A handshake gets
/// [`NODE_TLS_HANDSHAKE_TIMEOUT_MS`]; at shutdown the open connections get [`NODE_TLS_DRAIN_MS`]
/// to finish. A request cut off there was answered or not, never half-done by the server's
/// doing: handlers answer only once their work is durable.
async fn serve_tls(
    listener: TcpListener,
    app: Router,
    acceptor: tokio_rustls::TlsAcceptor,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, app) = (acceptor.clone(), app.clone());
        connections.spawn(async move {
            let handshake = Duration::from_millis(NODE_TLS_HANDSHAKE_TIMEOUT_MS);
            let Ok(Ok(tls)) = tokio::time::timeout(handshake, acceptor.accept(tcp)).await else {
                return;
            };
            // The peer address, as `axum::serve` gives it over plain HTTP (`ConnectInfo`).
            let app = tower::ServiceExt::map_request(
                app,
                move |mut r: axum::http::Request<hyper::body::Incoming>| {
                    r.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                    r
                },
            );
            let service = hyper_util::service::TowerToHyperService::new(app);
            let io = hyper_util::rt::TokioIo::new(tls);
            // With upgrades: a node's peer links start as an HTTP upgrade (snode/link.rs).
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .with_upgrades()
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
    let drain = Duration::from_millis(NODE_TLS_DRAIN_MS);
    let _ = tokio::time::timeout(drain, async { while connections.join_next().await.is_some() {} }).await;
    connections.abort_all();
    Ok(())
}
