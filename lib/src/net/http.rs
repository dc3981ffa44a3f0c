//! The one HTTP client stack of the toolkit, built on `reqwest` with the one TLS configuration of
//! [`crate::net::tls`] (any certificate, verified handshake, ring only):
//! - [`Transport`]: blocking, for the command-line clients (`send`, `retrieve`, `swarm-of`, the
//!   node-list loader, `testnet`'s health polls);
//! - [`async_client`]: async, for the daemon (peers, onion relay, registry polls).
//!
//! Both follow no redirect (a node must not be steered elsewhere: onion.md), every call has a
//! timeout (named in `formats::limits`), and every body read is bounded.

use std::io::Read;
use std::time::Duration;

use crate::formats::limits::{
    CLIENT_CONNECT_TIMEOUT_MS, CLIENT_MAX_REPLY_BYTES, CLIENT_POOL_IDLE_PER_HOST, CLIENT_REQUEST_TIMEOUT_MS,
};
use crate::net::tls::{TlsError, shared_client_config};

/// A call that got no usable HTTP answer (refused, timed out, reset, bad URL, a body too large).
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// No answer at all.
    #[error("{0}")]
    NoAnswer(String),
    /// The answer's body could not be read to its end.
    #[error("reading the reply: {0}")]
    Read(String),
    /// The answer's body is longer than the call allows.
    #[error("reply larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
}

/// Why an HTTP client could not be made.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// reqwest could not build the client.
    #[error("HTTP client: {0}")]
    Build(#[from] reqwest::Error),
}

/// An HTTP answer: status and body (whatever the status).
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// The HTTP status.
    pub status: u16,
    /// The body, at most the call's limit.
    pub body: Vec<u8>,
}

impl HttpReply {
    /// The body as text for an error message (lossy, trimmed, at most 200 characters).
    pub fn text(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        text.chars().take(200).collect()
    }
}

/// The async client of a daemon: no redirects, the node TLS configuration, `idle_per_host`
/// pooled connections per peer. Timeouts are per request (each use has its own).
pub fn async_client(idle_per_host: usize) -> Result<reqwest::Client, HttpError> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(idle_per_host)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .use_preconfigured_tls(shared_client_config()?)
        .build()?)
}

/// Reads an async answer's body in chunks, refusing more than `limit` bytes without buffering
/// past it.
pub async fn read_body_async(mut resp: reqwest::Response, limit: u64) -> Result<Vec<u8>, TransportError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| TransportError::Read(describe(&e)))? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(TransportError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The blocking client. Cheap to clone (shares its connection pool).
#[derive(Debug, Clone)]
pub struct Transport {
    client: Option<reqwest::blocking::Client>,
    /// Why the client could not be made, reported by every call (a client that cannot be built
    /// is a failed call, not a crash at start).
    broken: Option<String>,
    max_reply: u64,
}

impl Default for Transport {
    fn default() -> Self {
        Self::new()
    }
}

impl Transport {
    /// A client with the client timeouts of `limits` and replies up to `CLIENT_MAX_REPLY_BYTES`.
    pub fn new() -> Self {
        Self::with_timeouts(
            Duration::from_millis(CLIENT_CONNECT_TIMEOUT_MS),
            Duration::from_millis(CLIENT_REQUEST_TIMEOUT_MS),
        )
    }

    /// A client with explicit timeouts (`request` caps each call as a whole).
    pub fn with_timeouts(connect: Duration, request: Duration) -> Self {
        Self::build(Some(connect), request, CLIENT_MAX_REPLY_BYTES)
    }

    /// A client whose calls are capped by `request` as a whole (connect included) and whose
    /// replies may hold up to `max_reply` bytes.
    pub fn with_limits(request: Duration, max_reply: u64) -> Self {
        Self::build(None, request, max_reply)
    }

    /// The same client with replies up to `max_reply` bytes.
    #[must_use]
    pub fn with_max_reply(mut self, max_reply: u64) -> Self {
        self.max_reply = max_reply;
        self
    }

    fn build(connect: Option<Duration>, request: Duration, max_reply: u64) -> Self {
        let made = shared_client_config().map_err(|e| e.to_string()).and_then(|tls| {
            let mut builder = reqwest::blocking::Client::builder()
                .timeout(request)
                .pool_max_idle_per_host(CLIENT_POOL_IDLE_PER_HOST)
                .redirect(reqwest::redirect::Policy::none())
                .use_preconfigured_tls(tls);
            if let Some(connect) = connect {
                builder = builder.connect_timeout(connect);
            }
            builder.build().map_err(|e| format!("HTTP client: {}", describe(&e)))
        });
        match made {
            Ok(client) => Self { client: Some(client), broken: None, max_reply },
            Err(reason) => Self { client: None, broken: Some(reason), max_reply },
        }
    }

    fn client(&self) -> Result<&reqwest::blocking::Client, TransportError> {
        self.client.as_ref().ok_or_else(|| {
            TransportError::NoAnswer(self.broken.clone().unwrap_or_else(|| "no HTTP client".to_string()))
        })
    }

    /// POSTs `body` to `url`; any HTTP status is an `Ok` reply, only a missing answer is an error.
    pub fn post(&self, url: &str, content_type: &str, body: &[u8]) -> Result<HttpReply, TransportError> {
        let request = self.client()?.post(url).header("Content-Type", content_type).body(body.to_vec());
        self.finish(request)
    }

    /// POSTs a JSON value.
    pub fn post_json(&self, url: &str, value: &serde_json::Value) -> Result<HttpReply, TransportError> {
        self.post(url, "application/json", value.to_string().as_bytes())
    }

    /// GETs `url`; any HTTP status is an `Ok` reply.
    pub fn get(&self, url: &str) -> Result<HttpReply, TransportError> {
        let request = self.client()?.get(url);
        self.finish(request)
    }

    /// Any method with extra headers and an optional body (with its content type); any HTTP status
    /// is an `Ok` reply.
    pub fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Option<(&str, &[u8])>,
    ) -> Result<HttpReply, TransportError> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| TransportError::NoAnswer(format!("bad HTTP method {method}")))?;
        let mut request = self.client()?.request(method, url);
        for (k, v) in headers {
            request = request.header(*k, v.as_str());
        }
        if let Some((content_type, bytes)) = body {
            request = request.header("Content-Type", content_type).body(bytes.to_vec());
        }
        self.finish(request)
    }

    fn finish(&self, request: reqwest::blocking::RequestBuilder) -> Result<HttpReply, TransportError> {
        let response = request.send().map_err(|e| TransportError::NoAnswer(describe(&e)))?;
        let status = response.status().as_u16();
        let mut buf = Vec::new();
        response
            .take(self.max_reply + 1)
            .read_to_end(&mut buf)
            .map_err(|e| TransportError::Read(e.to_string()))?;
        if buf.len() as u64 > self.max_reply {
            return Err(TransportError::TooLarge { limit: self.max_reply });
        }
        Ok(HttpReply { status, body: buf })
    }
}

/// What went wrong with a call, without the URL (the caller's message names it): the kind of
/// failure and its innermost cause.
pub fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection refused or failed"
    } else if e.is_builder() {
        "bad node URL"
    } else if e.is_body() || e.is_decode() {
        "timed out or connection reset"
    } else {
        "transport error"
    };
    let mut cause: Option<String> = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = Some(s.to_string());
        source = s.source();
    }
    match cause {
        Some(c) => format!("{what} ({c})"),
        None => what.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn test_refused_connection_is_an_error_not_a_hang() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let t = Transport::new();
        let err = t.post(&format!("http://127.0.0.1:{port}/x"), "text/plain", b"hi").unwrap_err();
        assert!(err.to_string().contains("connection"), "{err}");
    }

    #[test]
    fn test_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        // Accepts and never answers, until the client has given up (without the timeouts, this
        // test would hang rather than pass).
        let server = std::thread::spawn(move || {
            let conn = listener.accept();
            let _ = done_rx.recv();
            drop(conn);
        });
        let t = Transport::with_timeouts(Duration::from_millis(300), Duration::from_millis(300));
        let err = t.post(&format!("http://127.0.0.1:{port}/x"), "text/plain", b"hi");
        assert!(err.is_err());
        done_tx.send(()).unwrap();
        server.join().unwrap();
    }

    #[test]
    fn test_reply_over_the_limit_is_refused() {
        use std::io::Write;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = std::io::Read::read(&mut conn, &mut buf);
            let body = vec![b'x'; 100];
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body);
        });
        let t = Transport::with_limits(Duration::from_secs(5), 10);
        let err = t.get(&format!("http://127.0.0.1:{port}/x")).unwrap_err();
        assert!(matches!(err, TransportError::TooLarge { limit: 10 }), "{err}");
        server.join().unwrap();
    }
}
