//! Getting a node list: THE one loader every command that needs the network uses (`swarm-of`,
//! `send`, `retrieve`), and the HTTP side of the node-list format (`get_service_nodes`,
//! `get_swarm`, a registry or node list served over HTTP).
//!
//! A source ([`NodeSource::parse`]) is:
//! - `-`: stdin;
//! - `http(s)://HOST:PORT` (no path): a node, asked `oxend_request get_service_nodes` at
//!   `/storage_rpc/v1`;
//! - `http(s)://HOST[:PORT]/json_rpc`: a seed's JSON-RPC endpoint, asked `get_n_service_nodes`
//!   (as the Session apps bootstrap from `https://seed1.getsession.org/json_rpc`);
//! - any other `http(s)://` URL: a node list or registry document, fetched with GET;
//! - anything else: a file holding a node list or a registry document.
//!
//! Without a source, `$SNKIT_NODES` names one, else `.testnet/nodes.json` is used if it exists.
//! Every source is read up to `NODE_LIST_MAX_BYTES`.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::http::{HttpReply, Transport, TransportError};
use crate::formats::keys::Pubkey;
use crate::formats::limits::{CLIENT_CONNECT_TIMEOUT_MS, NODE_LIST_HTTP_TIMEOUT_MS, NODE_LIST_MAX_BYTES};
use crate::formats::nodelist::{NodeList, NodeListError, SwarmReply, parse_get_swarm_reply};
use crate::formats::registry::{REGISTRY_FORMAT, Registry, RegistryError};

/// Environment variable naming the node-list source when no flag names one.
pub const NODES_ENV: &str = "SNKIT_NODES";
/// The node list used when neither a flag nor `SNKIT_NODES` names one, if it exists (the
/// `nodes.json` of a testnet started in the current directory).
pub const DEFAULT_NODES_PATH: &str = ".testnet/nodes.json";

/// Where a node list comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeSource {
    /// `-`.
    Stdin,
    /// A file: a node list or a registry document.
    File(String),
    /// A node list or registry document served over HTTP (GET).
    Document(String),
    /// A service node, asked `get_service_nodes` (its base URL, no trailing slash).
    Node(String),
    /// A seed's JSON-RPC endpoint, asked `get_n_service_nodes`.
    Seed(String),
}

/// Why a node list could not be had from its source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// A node list failed to load.
    #[error(transparent)]
    List(#[from] NodeListError),
    /// A registry failed to load.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl LoadError {
    /// Whether the failure is the network's or a node's (exit 1), not the input's (exit 2).
    pub fn is_network(&self) -> bool {
        match self {
            Self::List(e) => e.is_network(),
            Self::Registry(e) => e.is_network(),
        }
    }

    /// The failure without the source's name (for messages that name it already).
    pub fn reason(&self) -> String {
        match self {
            Self::List(NodeListError::Io { reason, .. }) => reason.clone(),
            Self::List(NodeListError::TooLarge { limit, .. }) => format!("larger than {limit} bytes"),
            Self::List(NodeListError::Json(e)) => format!("not JSON: {e}"),
            Self::List(NodeListError::Unreachable { reason, .. }) => reason.clone(),
            Self::List(NodeListError::HttpStatus { status, body, .. }) => format!("HTTP {status}: {body}"),
            Self::List(NodeListError::BadReply { reason, .. }) => reason.clone(),
            other => other.to_string(),
        }
    }
}

impl NodeSource {
    /// Reads a source as the module doc describes.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        if text == "-" {
            return Self::Stdin;
        }
        let Some((_, rest)) =
            text.split_once("://").filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
        else {
            return Self::File(text.to_string());
        };
        let url = text.trim_end_matches('/');
        match rest.trim_end_matches('/').split_once('/') {
            None => Self::Node(url.to_string()),
            Some((_, "json_rpc")) => Self::Seed(url.to_string()),
            Some(_) => Self::Document(text.to_string()),
        }
    }

    /// The source to use without a flag: `$SNKIT_NODES`, else [`DEFAULT_NODES_PATH`] if it exists.
    pub fn from_env_or_default() -> Option<Self> {
        match std::env::var(NODES_ENV) {
            Ok(s) if !s.trim().is_empty() => Some(Self::parse(&s)),
            _ => Path::new(DEFAULT_NODES_PATH).exists().then(|| Self::File(DEFAULT_NODES_PATH.to_string())),
        }
    }

    /// The source as the user wrote it, for messages.
    pub fn name(&self) -> &str {
        match self {
            Self::Stdin => "-",
            Self::File(s) | Self::Document(s) | Self::Node(s) | Self::Seed(s) => s,
        }
    }

    /// Whether the list comes from a node or seed (whose answer is the network's, not the input).
    pub fn is_remote_node(&self) -> bool {
        matches!(self, Self::Node(_) | Self::Seed(_))
    }

    /// Whether the source is reached over HTTPS (the nodes it lists then speak HTTPS too).
    pub fn is_https(&self) -> bool {
        self.name().starts_with("https://")
    }

    /// The node-list JSON of the source: `{"service_node_states": [...]}` (with
    /// `pow_difficulty` and `tls` where the source carries them), a registry document being
    /// replayed to that form.
    pub fn load_value(&self) -> Result<Value, LoadError> {
        let value = match self {
            Self::Stdin | Self::File(_) => parse_json(&read_bounded(self.name())?)?,
            Self::Document(url) => parse_json(&http_get(url)?)?,
            Self::Node(url) => storage_rpc(url, &get_service_nodes_request())?.1,
            Self::Seed(url) => post_json(url, &seed_request())?,
        };
        if value.get("format").and_then(Value::as_str) == Some(REGISTRY_FORMAT) {
            return Ok(Registry::from_json(&value)?.nodes_json());
        }
        Ok(value)
    }

    /// The node list of the source.
    pub fn load(&self) -> Result<NodeList, LoadError> {
        let value = self.load_value()?;
        NodeList::parse(&value).map_err(|e| match self {
            Self::Node(url) | Self::Seed(url) => LoadError::List(NodeListError::BadReply {
                url: endpoint_of(self, url),
                reason: e.to_string(),
            }),
            _ => LoadError::List(e),
        })
    }
}

fn endpoint_of(source: &NodeSource, url: &str) -> String {
    match source {
        NodeSource::Node(_) => format!("{}/storage_rpc/v1", base_url(url)),
        _ => url.to_string(),
    }
}

fn parse_json(text: &str) -> Result<Value, NodeListError> {
    serde_json::from_str(text).map_err(|e| NodeListError::Json(e.to_string()))
}

impl NodeList {
    /// Reads a node list from a file, or from stdin for `-`.
    pub fn load(path_or_dash: &str) -> Result<Self, NodeListError> {
        Self::parse_str(&read_bounded(path_or_dash)?)
    }

    /// Asks a node for the node list: POST `{url}/storage_rpc/v1` with
    /// `oxend_request` / `get_service_nodes`, and parses the `{"result": {...}}` reply.
    pub fn fetch_from_node(url: &str) -> Result<Self, NodeListError> {
        let (endpoint, reply) = storage_rpc(url, &get_service_nodes_request())?;
        Self::parse(&reply).map_err(|e| NodeListError::BadReply { url: endpoint, reason: e.to_string() })
    }
}

/// The `oxend_request` asking a node for every active node.
fn get_service_nodes_request() -> Value {
    json!({"method": "oxend_request", "params": {"endpoint": "get_service_nodes",
        "params": {"active_only": true}}})
}

/// A seed's `get_n_service_nodes` request for every active node, with the fields a client uses.
fn seed_request() -> Value {
    json!({"jsonrpc": "2.0", "id": "0", "method": "get_n_service_nodes", "params": {
        "active_only": true,
        "fields": {"public_ip": true, "storage_port": true, "pubkey_x25519": true,
                   "pubkey_ed25519": true, "swarm_id": true}}})
}

/// Asks a node which swarm holds `pk`: POST `{url}/storage_rpc/v1` with method `get_swarm`;
/// the reply is `{"snodes": [...], "swarm": "<hex>"}` (storage-rpc.md §3).
pub fn get_swarm(url: &str, pk: &Pubkey) -> Result<SwarmReply, NodeListError> {
    let body = json!({ "method": "get_swarm", "params": { "pubkey": pk.to_hex() } });
    let (endpoint, reply) = storage_rpc(url, &body)?;
    parse_get_swarm_reply(&reply).map_err(|reason| NodeListError::BadReply { url: endpoint, reason })
}

/// Reads a file (or stdin for `-`), refusing more than `NODE_LIST_MAX_BYTES`.
pub(crate) fn read_bounded(path_or_dash: &str) -> Result<String, NodeListError> {
    let io_err =
        |e: std::io::Error| NodeListError::Io { path: path_or_dash.to_string(), reason: e.to_string() };
    let mut buf = Vec::new();
    if path_or_dash == "-" {
        std::io::stdin().lock().take(NODE_LIST_MAX_BYTES + 1).read_to_end(&mut buf).map_err(io_err)?;
    } else {
        std::fs::File::open(path_or_dash)
            .map_err(io_err)?
            .take(NODE_LIST_MAX_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(io_err)?;
    }
    if buf.len() as u64 > NODE_LIST_MAX_BYTES {
        return Err(NodeListError::TooLarge { path: path_or_dash.to_string(), limit: NODE_LIST_MAX_BYTES });
    }
    String::from_utf8(buf).map_err(|_| NodeListError::Io {
        path: path_or_dash.to_string(),
        reason: "not UTF-8 text".to_string(),
    })
}

/// `url` without a trailing slash, with `http://` added when no scheme is given.
pub fn base_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    if url.contains("://") { url.to_string() } else { format!("http://{url}") }
}

/// The client of node-list fetches: the client connect timeout, `NODE_LIST_HTTP_TIMEOUT_MS`
/// for the call, replies up to `NODE_LIST_MAX_BYTES`. One per process (it owns a thread).
fn transport() -> &'static Transport {
    static ONE: std::sync::OnceLock<Transport> = std::sync::OnceLock::new();
    ONE.get_or_init(|| {
        Transport::with_timeouts(
            Duration::from_millis(CLIENT_CONNECT_TIMEOUT_MS),
            Duration::from_millis(NODE_LIST_HTTP_TIMEOUT_MS),
        )
        .with_max_reply(NODE_LIST_MAX_BYTES)
    })
}

/// A 200 answer's body as text; anything else an error naming `url`.
pub(crate) fn answer_text(
    url: &str,
    answer: Result<HttpReply, TransportError>,
) -> Result<String, NodeListError> {
    let reply = answer.map_err(|e| match e {
        TransportError::TooLarge { limit } => {
            NodeListError::BadReply { url: url.to_string(), reason: format!("larger than {limit} bytes") }
        }
        other => NodeListError::Unreachable { url: url.to_string(), reason: other.to_string() },
    })?;
    if reply.status != 200 {
        let text = String::from_utf8_lossy(&reply.body);
        let body: String = text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
        return Err(NodeListError::HttpStatus { url: url.to_string(), status: reply.status, body });
    }
    String::from_utf8(reply.body)
        .map_err(|_| NodeListError::BadReply { url: url.to_string(), reason: "not UTF-8 text".to_string() })
}

/// GETs `url` (a registry or node list over HTTP) and returns the body text.
pub(crate) fn http_get(url: &str) -> Result<String, NodeListError> {
    answer_text(url, transport().get(url))
}

/// POSTs a JSON body to `url` and parses the JSON reply; errors name `url`.
fn post_json(url: &str, body: &Value) -> Result<Value, NodeListError> {
    let text = answer_text(url, transport().post_json(url, body))?;
    serde_json::from_str(&text)
        .map_err(|e| NodeListError::BadReply { url: url.to_string(), reason: format!("not JSON: {e}") })
}

/// POSTs a storage RPC body to `{url}/storage_rpc/v1`; returns the endpoint and the JSON reply
/// (with an RPC-level `{"result": ...}` wrapper kept as it is).
fn storage_rpc(url: &str, body: &Value) -> Result<(String, Value), NodeListError> {
    let endpoint = format!("{}/storage_rpc/v1", base_url(url));
    let value = post_json(&endpoint, body)?;
    Ok((endpoint, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_base_url() {
        assert_eq!(base_url("http://127.0.0.1:5/"), "http://127.0.0.1:5");
        assert_eq!(base_url("127.0.0.1:5"), "http://127.0.0.1:5");
    }

    #[test]
    fn test_sources_parse() {
        assert_eq!(NodeSource::parse("-"), NodeSource::Stdin);
        assert_eq!(NodeSource::parse("nodes.json"), NodeSource::File("nodes.json".into()));
        assert_eq!(NodeSource::parse("http://1.2.3.4:5"), NodeSource::Node("http://1.2.3.4:5".into()));
        assert_eq!(NodeSource::parse("https://1.2.3.4:5/"), NodeSource::Node("https://1.2.3.4:5".into()));
        assert_eq!(
            NodeSource::parse("https://seed1.getsession.org/json_rpc"),
            NodeSource::Seed("https://seed1.getsession.org/json_rpc".into())
        );
        assert_eq!(
            NodeSource::parse("http://1.2.3.4:5/nodes.json"),
            NodeSource::Document("http://1.2.3.4:5/nodes.json".into())
        );
        assert!(NodeSource::parse("https://a/json_rpc").is_https());
    }

    #[test]
    fn test_sources_read_lists_and_registries() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = Registry::new();
        for i in 1..=13u8 {
            reg.join([i; 32], [i ^ 0x40; 32], "127.0.0.1", 30000 + u16::from(i)).unwrap();
        }
        let reg_path = dir.path().join("registry.json");
        reg.save_atomic(&reg_path).unwrap();
        let list_path = dir.path().join("nodes.json");
        std::fs::write(&list_path, reg.nodes_json().to_string()).unwrap();
        for path in [&reg_path, &list_path] {
            let source = NodeSource::parse(path.to_str().unwrap());
            assert_eq!(source.load().unwrap(), reg.node_list());
        }
        let err = NodeSource::parse("http://127.0.0.1:1/nodes.json").load().unwrap_err();
        assert!(err.is_network(), "{err}");
        let err = NodeSource::parse("http://127.0.0.1:1").load().unwrap_err();
        assert!(err.is_network() && err.to_string().contains("/storage_rpc/v1"), "{err}");
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"format":"snkit-registry/1","events":[{"op":"leave"}]}"#).unwrap();
        let err = NodeSource::parse(bad.to_str().unwrap()).load().unwrap_err();
        assert!(matches!(err, LoadError::Registry(_)) && !err.is_network(), "{err}");
    }
}
