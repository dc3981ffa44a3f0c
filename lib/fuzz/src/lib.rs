//! Fixtures shared by the fuzz targets: fixed keys, so a crash found once reproduces from its
//! input file alone.

use x25519_dalek::{PublicKey, StaticSecret};

/// The node key every onion target decrypts with.
pub fn node_keys() -> (StaticSecret, [u8; 32]) {
    let secret = StaticSecret::from([7u8; 32]);
    let public = PublicKey::from(&secret).to_bytes();
    (secret, public)
}

/// The recipient of the session-protocol targets.
pub fn identity() -> snkit::identity::Identity {
    match snkit::identity::Identity::from_seed(&[9u8; 32]) {
        Ok(id) => id,
        Err(e) => unreachable!("a 32-byte seed is always accepted: {e}"),
    }
}

/// The first byte of an input picks a mode; the rest is the data.
pub fn split(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((mode, rest)) => (*mode, rest),
        None => (0, data),
    }
}

/// A request as the HTTP targets read it from their input: a first line `METHOD TARGET`, header
/// lines `Name: value`, an empty line, then the body (text, so seeds stay readable and the
/// fuzzer's dictionary applies).
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// The method as written.
    pub method: String,
    /// The path, with `?query` when there is one.
    pub target: String,
    /// Header lines in their order.
    pub headers: Vec<(String, String)>,
    /// Everything after the first empty line.
    pub body: Vec<u8>,
}

impl RawRequest {
    /// Reads `data`; `None` when the head is not UTF-8 or has no `METHOD TARGET` line.
    pub fn parse(data: &[u8]) -> Option<Self> {
        let split = data.windows(2).position(|w| w == b"\n\n");
        let (head, body) = match split {
            Some(i) => (&data[..i], &data[i + 2..]),
            None => (data, &[][..]),
        };
        let head = std::str::from_utf8(head).ok()?;
        let mut lines = head.lines();
        let (method, target) = lines.next()?.split_once(' ')?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Some(Self { method: method.to_string(), target: target.to_string(), headers, body: body.to_vec() })
    }

    /// The path without the query, and the query.
    pub fn path_and_query(&self) -> (&str, Option<&str>) {
        match self.target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (&self.target, None),
        }
    }

    /// As an HTTP request, or `None` when the method, target or a header is not valid HTTP (the
    /// server would never see such a request).
    pub fn to_http(&self) -> Option<axum::http::Request<axum::body::Body>> {
        let method = axum::http::Method::from_bytes(self.method.as_bytes()).ok()?;
        let mut b = axum::http::Request::builder().method(method).uri(self.target.as_str());
        for (k, v) in &self.headers {
            let name = axum::http::HeaderName::from_bytes(k.as_bytes()).ok()?;
            let value = axum::http::HeaderValue::from_str(v).ok()?;
            b = b.header(name, value);
        }
        b.body(axum::body::Body::from(self.body.clone())).ok()
    }

    /// As the inner request of a v4 onion request (`/oxen/v4/lsrpc`).
    pub fn to_v4(&self) -> snkit::onion::v4::V4Request {
        snkit::onion::v4::V4Request {
            method: self.method.clone(),
            endpoint: self.target.clone(),
            headers: self.headers.clone(),
            body: (!self.body.is_empty()).then(|| self.body.clone()),
        }
    }
}

/// `req` sealed to `server_x25519` as the body of `POST /oxen/v4/lsrpc`.
pub fn v4_post(server_x25519: &[u8; 32], req: &snkit::onion::v4::V4Request) -> Option<RawRequest> {
    let sealed = snkit::onion::v4::seal_request(server_x25519, req, snkit::onion::EncType::XChaCha20).ok()?;
    Some(v4_body(sealed.direct_body()))
}

/// Raw bytes (not necessarily a valid request plaintext) sealed to `server_x25519` as a v4 body.
pub fn v4_post_raw(server_x25519: &[u8; 32], plaintext: &[u8]) -> RawRequest {
    let eph = x25519_dalek::StaticSecret::random_from_rng(rand::rngs::OsRng);
    let key = snkit::onion::LayerKey::for_client(snkit::onion::EncType::XChaCha20, &eph, server_x25519);
    let ciphertext = key.encrypt(&mut rand::rngs::OsRng, plaintext);
    let control = serde_json::json!({
        "ephemeral_key": hex_encode(&x25519_dalek::PublicKey::from(&eph).to_bytes()),
        "enc_type": "xchacha20",
    });
    v4_body(snkit::onion::encode_frame(&ciphertext, &control))
}

fn v4_body(body: Vec<u8>) -> RawRequest {
    RawRequest {
        method: "POST".into(),
        target: snkit::onion::v4::V4_TARGET.into(),
        headers: vec![("Content-Type".into(), "application/octet-stream".into())],
        body,
    }
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// How many inputs a server target runs before it starts over on an empty data directory: the
/// uploads it accepts would otherwise fill the scratch disk during a long run.
pub const RESET_EVERY: u64 = 1000;

/// A fresh scratch directory for a server target (tmpfs when there is one: the servers fsync
/// every commit).
pub fn scratch_dir(name: &str, generation: u64) -> std::path::PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        std::path::PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("snkit-fuzz-{name}-{}-{generation}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `req` through `app` on `rt` and reads the whole answer (a handler that panics fails
/// the target; an error status is a normal answer).
pub fn drive(rt: &tokio::runtime::Runtime, app: &axum::Router, req: axum::http::Request<axum::body::Body>) {
    use tower::ServiceExt;
    rt.block_on(async {
        // A router's error type is Infallible: every request gets an answer.
        let Ok(resp) = app.clone().oneshot(req).await;
        let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await;
    });
}

/// A single-threaded runtime with a blocking pool (the servers do their work in spawn_blocking).
pub fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => unreachable!("a current-thread runtime always builds: {e}"),
    }
}
