//! `POST /oxen/v4/lsrpc`, the onion endpoint of a server (sogs.md §3, attachments.md §5), for
//! every daemon that speaks it (the file server, the community server): [`route`] adds it to a
//! daemon's router with one call.
//!
//! The handler decrypts the frame the last snode relays with the daemon's X25519 key(s)
//! ([`v4::open_request`]), reads the bencoded inner request, runs it through the daemon's own
//! router (the router as it was before this route was added, called as a tower service, so every
//! route, status and header is exactly what a direct request gets; X-SOGS-* and other headers
//! travel inside), and seals the bencoded `{code, headers}` + body reply with the same key.
//!
//! Errors, as the live servers answer them:
//! - a frame that does not decrypt under any key: a plain HTTP 400 (`Invalid ciphertext`), not
//!   encrypted (the server has no key to answer with);
//! - an inner request that does not parse: HTTP 200 with the encrypted code 400
//!   `Invalid v4 onion request` (text/plain);
//! - any status of the inner route (404, 413, ...): HTTP 200, that code inside.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tower::ServiceExt as _;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::formats::limits::{ONION_MAX_BODY, ONION_MAX_JSON, ONION_MAX_REPLY};
use crate::formats::onion::v4::{self, V4_TARGET, V4Request, V4Response};

/// Largest inner response body the endpoint seals: what a client reads, less room for the
/// metadata and the AEAD.
pub const LSRPC_MAX_INNER_REPLY: usize = ONION_MAX_REPLY - ONION_MAX_JSON;

/// Request headers never passed to the inner route: the body's length is set from the body
/// itself (as pysogs does), and the connection-level ones belong to the outer request.
const DROPPED_HEADERS: [&str; 4] = ["content-length", "transfer-encoding", "connection", "host"];

/// The content type an inner request with a body gets when it names none (session-file-server's
/// subrequest default).
const DEFAULT_BODY_TYPE: &str = "application/octet-stream";

/// A marker in the inner request's extensions: it arrived through `/oxen/v4/lsrpc` (a handler
/// may read it, e.g. to log the origin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViaOnion;

/// What the handler needs: the daemon's router and its X25519 keys.
struct Lsrpc {
    inner: Router,
    keys: Vec<(StaticSecret, [u8; 32])>,
}

/// Adds `POST /oxen/v4/lsrpc` to `router`, decrypting with `x25519_secret` (and dispatching into
/// `router` itself, without this route: an onion request cannot nest another).
pub fn route(router: Router, x25519_secret: &StaticSecret) -> Router {
    route_with_keys(router, std::slice::from_ref(x25519_secret))
}

/// [`route`] for a server that holds several X25519 keys (the live file server keeps its legacy
/// key beside the current one): each is tried in turn.
pub fn route_with_keys(router: Router, secrets: &[StaticSecret]) -> Router {
    let keys = secrets.iter().map(|s| (s.clone(), PublicKey::from(s).to_bytes())).collect();
    let state = Arc::new(Lsrpc { inner: router.clone(), keys });
    let endpoint = Router::new()
        .route(V4_TARGET, post(handle))
        .layer(DefaultBodyLimit::max(ONION_MAX_BODY))
        .with_state(state);
    router.merge(endpoint)
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, v4::V4_TEXT_PLAIN)], text).into_response()
}

async fn handle(State(state): State<Arc<Lsrpc>>, body: Bytes) -> Response {
    let (plaintext, key) = match v4::open_request(&state.keys, &body) {
        Ok(opened) => opened,
        Err(e) => {
            tracing::debug!(error = %e, "v4 onion request refused");
            return plain(StatusCode::BAD_REQUEST, "Invalid ciphertext");
        }
    };
    let reply = match v4::decode_request(&plaintext) {
        Ok(req) => dispatch(state.inner.clone(), req).await,
        Err(e) => {
            tracing::debug!(error = %e, "invalid v4 onion request");
            V4Response::invalid_request()
        }
    };
    let sealed = v4::seal_reply(&key, &reply);
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/octet-stream")], sealed).into_response()
}

/// The inner request as an HTTP request for the daemon's router, or `None` when its method, path
/// or a header is not valid HTTP.
fn to_http(req: V4Request) -> Option<Request<Body>> {
    let method = Method::from_bytes(req.method.as_bytes()).ok()?;
    let mut builder = Request::builder().method(method).uri(&req.endpoint);
    let mut has_type = false;
    for (name, value) in &req.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        if DROPPED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        has_type |= name == header::CONTENT_TYPE;
        builder = builder.header(name, HeaderValue::from_str(value).ok()?);
    }
    let body = req.body.unwrap_or_default();
    if !body.is_empty() && !has_type {
        builder = builder.header(header::CONTENT_TYPE, DEFAULT_BODY_TYPE);
    }
    builder = builder.header(header::CONTENT_LENGTH, body.len());
    let mut http = builder.body(Body::from(body)).ok()?;
    http.extensions_mut().insert(ViaOnion);
    Some(http)
}

async fn dispatch(inner: Router, req: V4Request) -> V4Response {
    let (method, endpoint) = (req.method.clone(), req.endpoint.clone());
    let Some(http) = to_http(req) else {
        tracing::debug!(%method, %endpoint, "v4 inner request is not valid HTTP");
        return V4Response::invalid_request();
    };
    let resp = match inner.oneshot(http).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let (parts, body) = resp.into_parts();
    let body = match axum::body::to_bytes(body, LSRPC_MAX_INNER_REPLY).await {
        Ok(b) => b.to_vec(),
        Err(e) => {
            tracing::warn!(%method, %endpoint, error = %e, "v4 inner reply unreadable or too large");
            return V4Response {
                code: 500,
                headers: vec![("content-type".into(), v4::V4_TEXT_PLAIN.into())],
                body: b"Reply too large for an onion request".to_vec(),
            };
        }
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in &parts.headers {
        let Ok(value) = value.to_str() else { continue };
        match headers.iter_mut().find(|(k, _)| k == name.as_str()) {
            // Repeated headers join as HTTP allows (one JSON key each).
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(value);
            }
            None => headers.push((name.as_str().to_string(), value.to_string())),
        }
    }
    tracing::debug!(%method, %endpoint, code = parts.status.as_u16(), bytes = body.len(), "v4 onion request");
    V4Response { code: parts.status.as_u16(), headers, body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::onion::EncType;
    use axum::routing::get;

    fn app() -> Router {
        Router::new().route("/hello", get(|| async { "hi" })).route(
            "/echo",
            post(|headers: axum::http::HeaderMap, body: Bytes| async move {
                let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("-");
                let sogs = headers.get("x-sogs-pubkey").and_then(|v| v.to_str().ok()).unwrap_or("-");
                (StatusCode::CREATED, format!("{ct}|{sogs}|{}", body.len()))
            }),
        )
    }

    async fn call(router: &Router, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let req = Request::builder().method("POST").uri(V4_TARGET).body(Body::from(body)).unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        (status, axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap().to_vec())
    }

    #[tokio::test]
    async fn dispatches_into_the_router_and_seals_the_reply() {
        let secret = StaticSecret::random_from_rng(rand::rngs::OsRng);
        let pk = PublicKey::from(&secret).to_bytes();
        let router = route(app(), &secret);
        for enc in [EncType::AesGcm, EncType::XChaCha20] {
            let req = V4Request { method: "GET".into(), endpoint: "/hello".into(), ..Default::default() };
            let sealed = v4::seal_request(&pk, &req, enc).unwrap();
            let (status, body) = call(&router, sealed.direct_body()).await;
            assert_eq!(status, StatusCode::OK);
            let r = v4::open_reply(&sealed.reply_key, &body).unwrap();
            assert_eq!((r.code, r.body.as_slice()), (200, &b"hi"[..]));
            assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
            assert_eq!(r.header("content-length"), None);

            let req = V4Request {
                method: "POST".into(),
                endpoint: "/echo".into(),
                headers: vec![
                    ("X-SOGS-Pubkey".into(), "00ab".into()),
                    ("Content-Length".into(), "999".into()),
                ],
                body: Some(vec![1; 10]),
            };
            let sealed = v4::seal_request(&pk, &req, enc).unwrap();
            let r = v4::open_reply(&sealed.reply_key, &call(&router, sealed.direct_body()).await.1).unwrap();
            assert_eq!(r.code, 201);
            assert_eq!(r.body, b"application/octet-stream|00ab|10");
        }
    }

    #[tokio::test]
    async fn errors_travel_as_the_reference_sends_them() {
        let secret = StaticSecret::random_from_rng(rand::rngs::OsRng);
        let pk = PublicKey::from(&secret).to_bytes();
        let router = route(app(), &secret);
        // Unknown route: the inner 404 inside an HTTP 200.
        let req = V4Request { method: "GET".into(), endpoint: "/nope".into(), ..Default::default() };
        let sealed = v4::seal_request(&pk, &req, EncType::XChaCha20).unwrap();
        let (status, body) = call(&router, sealed.direct_body()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v4::open_reply(&sealed.reply_key, &body).unwrap().code, 404);
        // A bad method: 400 "Invalid v4 onion request", sealed.
        let req = V4Request { method: "G T".into(), endpoint: "/hello".into(), ..Default::default() };
        let sealed = v4::seal_request(&pk, &req, EncType::XChaCha20).unwrap();
        let r = v4::open_reply(&sealed.reply_key, &call(&router, sealed.direct_body()).await.1).unwrap();
        assert_eq!(r, V4Response::invalid_request());
        // No nesting: the inner router has no lsrpc route.
        let req = V4Request {
            method: "POST".into(),
            endpoint: V4_TARGET.into(),
            body: Some(vec![1]),
            ..Default::default()
        };
        let sealed = v4::seal_request(&pk, &req, EncType::XChaCha20).unwrap();
        let r = v4::open_reply(&sealed.reply_key, &call(&router, sealed.direct_body()).await.1).unwrap();
        assert_eq!(r.code, 404);
        // Another server's key, or junk: a plain 400.
        let sealed = v4::seal_request(&[7; 32], &req, EncType::XChaCha20).unwrap();
        let (status, body) = call(&router, sealed.direct_body()).await;
        assert_eq!((status, body.as_slice()), (StatusCode::BAD_REQUEST, &b"Invalid ciphertext"[..]));
        assert_eq!(call(&router, b"junk".to_vec()).await.0, StatusCode::BAD_REQUEST);
    }
}
