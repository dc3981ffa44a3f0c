//! Blocking HTTP for the client: one `ureq` agent (keep-alive pool) with a connect timeout,
//! read/write timeouts and an overall cap on every call, so no client call can hang.

use std::io::Read;
use std::time::Duration;

use crate::formats::limits::{CLIENT_CONNECT_TIMEOUT_MS, CLIENT_MAX_REPLY_BYTES, CLIENT_REQUEST_TIMEOUT_MS};

/// A call that got no HTTP answer at all (refused, timed out, reset, bad URL).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

/// An HTTP answer: status and body (whatever the status).
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
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

/// The client's HTTP agent. Cheap to clone (shares its connection pool).
#[derive(Debug, Clone)]
pub struct Transport {
    agent: ureq::Agent,
}

impl Default for Transport {
    fn default() -> Self {
        Self::new()
    }
}

impl Transport {
    /// An agent with the client timeouts of `limits`.
    pub fn new() -> Self {
        Self::with_timeouts(
            Duration::from_millis(CLIENT_CONNECT_TIMEOUT_MS),
            Duration::from_millis(CLIENT_REQUEST_TIMEOUT_MS),
        )
    }

    /// An agent with explicit timeouts (`request` caps each call as a whole, and each read/write).
    pub fn with_timeouts(connect: Duration, request: Duration) -> Self {
        let agent = crate::net::tls::node_agent_builder()
            .timeout_connect(connect)
            .timeout_read(request)
            .timeout_write(request)
            .timeout(request)
            .max_idle_connections_per_host(16)
            .redirects(0)
            .build();
        Self { agent }
    }

    /// POSTs `body` to `url`; any HTTP status is an `Ok` reply, only a missing answer is an error.
    pub fn post(&self, url: &str, content_type: &str, body: &[u8]) -> Result<HttpReply, TransportError> {
        let result = self.agent.post(url).set("Content-Type", content_type).send_bytes(body);
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => return Err(TransportError(describe(&t))),
        };
        let status = response.status();
        let mut buf = Vec::new();
        response
            .into_reader()
            .take(CLIENT_MAX_REPLY_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| TransportError(format!("reading the reply: {e}")))?;
        if buf.len() as u64 > CLIENT_MAX_REPLY_BYTES {
            return Err(TransportError(format!("reply larger than {CLIENT_MAX_REPLY_BYTES} bytes")));
        }
        Ok(HttpReply { status, body: buf })
    }

    /// POSTs a JSON value.
    pub fn post_json(&self, url: &str, value: &serde_json::Value) -> Result<HttpReply, TransportError> {
        self.post(url, "application/json", value.to_string().as_bytes())
    }
}

fn describe(t: &ureq::Transport) -> String {
    use ureq::ErrorKind;
    let what = match t.kind() {
        ErrorKind::ConnectionFailed => "connection refused or failed",
        ErrorKind::Dns => "cannot resolve host",
        ErrorKind::Io => "timed out or connection reset",
        ErrorKind::InvalidUrl | ErrorKind::UnknownScheme => "bad node URL",
        _ => "transport error",
    };
    match t.message() {
        Some(m) => format!("{what} ({m})"),
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
        assert!(err.0.contains("connection"), "{err}");
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
}
