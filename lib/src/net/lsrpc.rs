//! The client side of onion requests to a server (v4, sogs.md §3): one HTTP request, encrypted
//! to the server's X25519 key, sent through a fresh 3-hop onion path whose last node relays it to
//! the server's `/oxen/v4/lsrpc` (onion.md "Relay to an HTTP server"); the reply comes back
//! encrypted to this request's ephemeral key. Used by the file server client and, later, the
//! community server client.
//!
//! [`direct`] sends the same v4 request straight to the server (no nodes): for tests and for a
//! server that is on the same machine.

use super::http::Transport;
use super::network::Network;
use super::path::choose_path;
use super::short;
use crate::formats::keys::X25519Pk;
use crate::formats::limits::CLIENT_PATH_ATTEMPTS;
use crate::formats::onion::v4::{self, V4_TARGET, V4Request, V4Response};
use crate::formats::onion::{self, EncType, HopKeys, HostTarget};

/// Default port of a server URL without one, by scheme.
const HTTP_PORT: u16 = 80;
/// Default port of an `https://` server URL without one.
const HTTPS_PORT: u16 = 443;

/// A server an onion request goes to: where it is and the key its requests are encrypted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTarget {
    /// `http://host[:port]` or `https://host[:port]` (no path).
    pub base_url: String,
    /// The server's X25519 key.
    pub x25519: X25519Pk,
}

/// Why a server request could not be made or got no usable answer.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ServerRequestError {
    /// The server URL is not `http(s)://host[:port]`.
    #[error("server URL {0:?} is not http(s)://HOST[:PORT]")]
    BadUrl(String),
    /// The request could not be built (too large, bad fields).
    #[error("cannot build the onion request: {0}")]
    Build(String),
    /// Every path tried failed; the last failure.
    #[error("no answer through the onion paths tried: {0}")]
    Path(String),
    /// The server answered, but not with a v4 reply (a plain error, or undecryptable bytes).
    #[error("the server did not answer the v4 request: {0}")]
    Server(String),
}

impl ServerTarget {
    /// A server at `base_url` with X25519 key `x25519`; the URL keeps only scheme, host and port.
    pub fn new(base_url: &str, x25519: X25519Pk) -> Result<Self, ServerRequestError> {
        let t = Self { base_url: base_url.trim_end_matches('/').to_string(), x25519 };
        t.host_target()?;
        Ok(t)
    }

    /// What the last node relays to: host, port, protocol and `/oxen/v4/lsrpc`.
    pub fn host_target(&self) -> Result<HostTarget, ServerRequestError> {
        let bad = || ServerRequestError::BadUrl(self.base_url.clone());
        let (protocol, rest) = self.base_url.split_once("://").ok_or_else(bad)?;
        let default_port = match protocol {
            "http" => HTTP_PORT,
            "https" => HTTPS_PORT,
            _ => return Err(bad()),
        };
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(bad());
        }
        // host, host:port, [v6]:port
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, _)) if !h.ends_with(']') && h.contains(':') => (rest, default_port),
            Some((h, p)) => (h, p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad)?),
            None => (rest, default_port),
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(HostTarget {
            host: host.trim_start_matches('[').trim_end_matches(']').to_string(),
            port,
            protocol: protocol.to_string(),
            target: V4_TARGET.to_string(),
            method: "POST".to_string(),
        })
    }
}

/// Sends `req` straight to the server's `/oxen/v4/lsrpc` and opens the reply.
pub fn direct(
    transport: &Transport,
    server: &ServerTarget,
    req: &V4Request,
    enc: EncType,
) -> Result<V4Response, ServerRequestError> {
    let sealed = v4::seal_request(server.x25519.as_bytes(), req, enc)
        .map_err(|e| ServerRequestError::Build(e.to_string()))?;
    let url = format!("{}{V4_TARGET}", server.base_url);
    let reply = transport
        .post(&url, "application/octet-stream", &sealed.direct_body())
        .map_err(|e| ServerRequestError::Path(format!("{url}: {e}")))?;
    if reply.status != 200 {
        return Err(ServerRequestError::Server(format!("HTTP {} {}", reply.status, reply.text())));
    }
    v4::open_reply(&sealed.reply_key, &reply.body).map_err(|e| ServerRequestError::Server(e.to_string()))
}

impl Network {
    /// Sends `req` to `server` through a fresh onion path of `CLIENT_PATH_HOPS` nodes, the last
    /// relaying to the server; a path that fails (no answer from the guard, an error status on
    /// the way) is replaced, up to `CLIENT_PATH_ATTEMPTS` paths. Each attempt is a new request
    /// under a new key: a node on the path never sees the same ciphertext twice.
    pub fn onion_server(
        &self,
        server: &ServerTarget,
        req: &V4Request,
    ) -> Result<V4Response, ServerRequestError> {
        let target = server.host_target()?;
        let mut avoid: Vec<[u8; 32]> = Vec::new();
        let mut last_error = String::from("no path");
        let mut rng = rand::thread_rng();
        for _ in 0..CLIENT_PATH_ATTEMPTS {
            // No node is the target here: any node of the list may be on the path.
            let Some(path) = choose_path(self.nodes(), &[0u8; 32], &avoid, &mut rng) else {
                return Err(ServerRequestError::Path("no node to build a path with".into()));
            };
            let sealed = v4::seal_request(server.x25519.as_bytes(), req, self.enc())
                .map_err(|e| ServerRequestError::Build(e.to_string()))?;
            let hops: Vec<HopKeys> = path.iter().map(HopKeys::from).collect();
            let (request, _last_hop_key) =
                onion::build_to(&hops, &sealed.ciphertext, &sealed.relay_control(&target), self.enc())
                    .map_err(|e| ServerRequestError::Build(e.to_string()))?;
            let guard = &path[0];
            let url = format!("{}/onion_req/v2", self.url_of(guard));
            match self.transport().post(&url, "application/octet-stream", &request.guard_body) {
                Err(e) => {
                    last_error = format!("guard {}: {e}", short(&guard.ed_hex()));
                    avoid.push(guard.pubkey_ed25519);
                }
                Ok(reply) if reply.status != 200 => {
                    last_error = format!("path: HTTP {} {}", reply.status, reply.text());
                    // A 400 from the server itself (it could not decrypt) is not the path's fault,
                    // but the client cannot tell it from a relay's: try another path anyway.
                    avoid.extend(path.iter().skip(1).map(|n| n.pubkey_ed25519));
                }
                Ok(reply) => {
                    return v4::open_reply(&sealed.reply_key, &reply.body)
                        .map_err(|e| ServerRequestError::Server(e.to_string()));
                }
            }
        }
        Err(ServerRequestError::Path(last_error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(url: &str) -> Result<HostTarget, ServerRequestError> {
        ServerTarget { base_url: url.into(), x25519: X25519Pk::from([1u8; 32]) }.host_target()
    }

    #[test]
    fn server_urls_give_relay_targets() {
        let h = t("http://127.0.0.1:8088").unwrap();
        assert_eq!((h.host.as_str(), h.port, h.protocol.as_str()), ("127.0.0.1", 8088, "http"));
        assert_eq!(h.target, "/oxen/v4/lsrpc");
        assert_eq!(t("http://filev2.getsession.org").unwrap().port, 80);
        assert_eq!(t("https://example.org").unwrap().port, 443);
        assert_eq!(t("http://[::1]:9000").unwrap().host, "::1");
        for bad in ["ftp://x", "http://", "http://x/file", "x", "http://x:0", "http://x:99999"] {
            assert!(t(bad).is_err(), "{bad}");
        }
    }
}
