//! The service node list (spec storage-rpc.md §6): what `testnet` writes as `nodes.json`, what a
//! node answers to `oxend_request get_service_nodes`, and what `--nodes` reads; the one parser of
//! a `get_swarm` reply ([`parse_get_swarm_reply`], also a 421's body), and the pubkey → swarm
//! lookup over a list ([`NodeList::swarm_of`]). Pure format: reading lists from files, stdin and
//! nodes is `net::nodes`.
//!
//! Accepted forms: `{"service_node_states": [...]}`, `{"result": {"service_node_states": [...]}}`
//! (an RPC reply), or a bare array. Each node is an object with `pubkey_ed25519`,
//! `pubkey_x25519` (64 hex each), `public_ip` (IPv4, not 0.0.0.0), `storage_port` and `swarm_id`
//! (a JSON integer or hex digits, 16 when snkit writes them; oxend's `swarm` hex field is
//! accepted in its place). Other fields are ignored. Written back by [`NodeList::to_json`] with `swarm_id` as an integer AND
//! `swarm` as 16 hex, as oxend does.

use std::net::Ipv4Addr;
use std::ops::{Deref, DerefMut};

use serde_json::{Value, json};

use crate::formats::keys::{Pubkey, decode_hex32};
use crate::formats::swarm::{INVALID_SWARM_ID, parse_swarm_id_hex, swarm_for, swarm_id_hex};

/// Why a node list (or a node's reply) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeListError {
    /// The node-list file could not be read.
    #[error("cannot read node list {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The node-list file is over `NODE_LIST_MAX_BYTES`.
    #[error("node list {path} is larger than {limit} bytes")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The node list is not JSON.
    #[error("node list is not valid JSON: {0}")]
    Json(String),
    /// The JSON is none of the three accepted shapes.
    #[error(
        "node list must be {{\"service_node_states\": [...]}}, {{\"result\": {{\"service_node_states\": [...]}}}} or a JSON array of nodes"
    )]
    Shape,
    /// An entry of the list is not an object.
    #[error("node {index} of the list is not a JSON object")]
    NotAnObject {
        /// The entry's position in the list.
        index: usize,
    },
    /// An entry lacks a required field.
    #[error("node {index} of the list has no \"{field}\" field")]
    MissingField {
        /// The entry's position in the list.
        index: usize,
        /// The missing field.
        field: &'static str,
    },
    /// An entry's field has the wrong type or value.
    #[error("node {index} of the list: \"{field}\" {reason}")]
    BadField {
        /// The entry's position in the list.
        index: usize,
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// An entry's `public_ip` is 0.0.0.0: the node never announced an address.
    #[error("node {index} of the list has public_ip 0.0.0.0 (it never announced its address)")]
    Unroutable {
        /// The entry's position in the list.
        index: usize,
    },
    /// Two entries share one Ed25519 key.
    #[error("node {index} of the list repeats pubkey_ed25519 {pubkey}")]
    Duplicate {
        /// The position of the second entry.
        index: usize,
        /// The repeated key, hex.
        pubkey: String,
    },
    /// The node-list URL could not be reached.
    #[error("cannot reach {url}: {reason}")]
    Unreachable {
        /// The URL.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The node-list URL answered with a non-200 status.
    #[error("{url} answered HTTP {status}: {body}")]
    HttpStatus {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// The node-list URL's answer is not a node list.
    #[error("{url} sent a reply snkit cannot read: {reason}")]
    BadReply {
        /// The URL.
        url: String,
        /// Why it could not be read.
        reason: String,
    },
}

impl NodeListError {
    /// Whether the failure is the network's or a node's (exit 1), not the input's (exit 2).
    pub fn is_network(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::HttpStatus { .. } | Self::BadReply { .. })
    }
}

/// One service node as the node list describes it, and as every client and node uses it: its
/// keys (the onion layers and signatures) and its address; the URL is derived
/// ([`NodeInfo::url_with`]) in the scheme of the network. The registry's join event carries the
/// same fields but `swarm_id`, which the replay assigns (`formats::registry::NodeRecord`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeInfo {
    /// The node's Ed25519 key, its identity on the network.
    pub pubkey_ed25519: [u8; 32],
    /// The node's X25519 key, for onion layers addressed to it.
    pub pubkey_x25519: [u8; 32],
    /// The node's announced IPv4 address.
    pub public_ip: String,
    /// The port of the node's storage HTTP server.
    pub storage_port: u16,
    /// [`INVALID_SWARM_ID`] for a node in no swarm (decommissioned or unassigned).
    pub swarm_id: u64,
}

impl NodeInfo {
    /// The node's storage server base URL, `http://ip:port` (POST `/storage_rpc/v1` there).
    pub fn url(&self) -> String {
        self.url_with(false)
    }

    /// The base URL in the scheme of a network: `https://ip:port` where nodes speak TLS.
    pub fn url_with(&self, https: bool) -> String {
        let scheme = if https { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.public_ip, self.storage_port)
    }

    /// The node's Ed25519 key in hex: its name in replies, reports and the retrieve state.
    pub fn ed_hex(&self) -> String {
        hex::encode(self.pubkey_ed25519)
    }

    /// Whether the node is in a swarm.
    pub fn in_swarm(&self) -> bool {
        self.swarm_id != INVALID_SWARM_ID
    }

    /// The node-list object: the five fields, plus `swarm` (the id in 16 hex digits).
    pub fn to_json(&self) -> Value {
        json!({
            "pubkey_ed25519": hex::encode(self.pubkey_ed25519),
            "pubkey_x25519": hex::encode(self.pubkey_x25519),
            "public_ip": self.public_ip,
            "storage_port": self.storage_port,
            "swarm_id": self.swarm_id,
            "swarm": swarm_id_hex(self.swarm_id),
        })
    }

    /// Parses one node-list object; `index` names it in errors.
    pub fn from_json(value: &Value, index: usize) -> Result<Self, NodeListError> {
        let obj = value.as_object().ok_or(NodeListError::NotAnObject { index })?;
        let field =
            |name: &'static str| obj.get(name).ok_or(NodeListError::MissingField { index, field: name });
        let pubkey_ed25519 = key_field(field("pubkey_ed25519")?, index, "pubkey_ed25519")?;
        let pubkey_x25519 = key_field(field("pubkey_x25519")?, index, "pubkey_x25519")?;
        let public_ip = ip_field(field("public_ip")?, index, "public_ip")?;
        let storage_port = port_field(field("storage_port")?, index, "storage_port")?;
        let swarm_id = match (obj.get("swarm_id"), obj.get("swarm")) {
            (Some(v), _) => swarm_id_field(v, index, "swarm_id")?,
            (None, Some(v)) => swarm_id_field(v, index, "swarm")?,
            (None, None) => return Err(NodeListError::MissingField { index, field: "swarm_id" }),
        };
        Ok(Self { pubkey_ed25519, pubkey_x25519, public_ip, storage_port, swarm_id })
    }
}

fn bad(index: usize, field: &'static str, reason: impl Into<String>) -> NodeListError {
    NodeListError::BadField { index, field, reason: reason.into() }
}

fn key_field(v: &Value, index: usize, field: &'static str) -> Result<[u8; 32], NodeListError> {
    let s = v.as_str().ok_or_else(|| bad(index, field, "is not a string"))?;
    decode_hex32(s).map_err(|_| bad(index, field, "must be 64 hex characters"))
}

fn ip_field(v: &Value, index: usize, field: &'static str) -> Result<String, NodeListError> {
    let s = v.as_str().ok_or_else(|| bad(index, field, "is not a string"))?;
    let ip: Ipv4Addr = s.parse().map_err(|_| bad(index, field, format!("'{s}' is not an IPv4 address")))?;
    if ip.is_unspecified() {
        return Err(NodeListError::Unroutable { index });
    }
    Ok(ip.to_string())
}

fn port_field(v: &Value, index: usize, field: &'static str) -> Result<u16, NodeListError> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse::<u64>().ok(),
        _ => None,
    };
    match n {
        Some(p @ 1..=65535) => Ok(p as u16),
        _ => Err(bad(index, field, format!("must be a port number 1-65535, got {v}"))),
    }
}

fn swarm_id_field(v: &Value, index: usize, field: &'static str) -> Result<u64, NodeListError> {
    match v {
        Value::Number(n) => n.as_u64().ok_or_else(|| {
            bad(
                index,
                field,
                format!("{n} is not an exact unsigned 64-bit integer; write it as 16 hex digits"),
            )
        }),
        Value::String(s) => parse_swarm_id_hex(s)
            .ok_or_else(|| bad(index, field, format!("'{s}' is not a hex swarm id (1-16 hex digits)"))),
        _ => Err(bad(index, field, "must be an integer or a 16-hex-digit string")),
    }
}

/// The result of `get_swarm`: a pubkey's swarm id and its nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmReply {
    /// The swarm the answering node places the pubkey in.
    pub swarm_id: u64,
    /// That swarm's members.
    pub nodes: Vec<NodeInfo>,
}

/// A list of service nodes (a `Vec<NodeInfo>` with the node-list operations).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeList(pub Vec<NodeInfo>);

impl Deref for NodeList {
    type Target = Vec<NodeInfo>;
    fn deref(&self) -> &Vec<NodeInfo> {
        &self.0
    }
}

impl DerefMut for NodeList {
    fn deref_mut(&mut self) -> &mut Vec<NodeInfo> {
        &mut self.0
    }
}

impl From<Vec<NodeInfo>> for NodeList {
    fn from(nodes: Vec<NodeInfo>) -> Self {
        Self(nodes)
    }
}

impl IntoIterator for NodeList {
    type Item = NodeInfo;
    type IntoIter = std::vec::IntoIter<NodeInfo>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a NodeList {
    type Item = &'a NodeInfo;
    type IntoIter = std::slice::Iter<'a, NodeInfo>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl NodeList {
    /// Parses any accepted form (see the module doc). An empty list is valid here; commands that
    /// need a swarm refuse it themselves.
    pub fn parse(value: &Value) -> Result<Self, NodeListError> {
        let states = match value {
            Value::Array(a) => a,
            Value::Object(o) => {
                let inner = o.get("result").unwrap_or(value);
                match inner.get("service_node_states") {
                    Some(Value::Array(a)) => a,
                    _ => return Err(NodeListError::Shape),
                }
            }
            _ => return Err(NodeListError::Shape),
        };
        let mut seen = std::collections::HashSet::with_capacity(states.len());
        let mut nodes = Vec::with_capacity(states.len());
        for (index, state) in states.iter().enumerate() {
            let node = NodeInfo::from_json(state, index)?;
            if !seen.insert(node.pubkey_ed25519) {
                return Err(NodeListError::Duplicate { index, pubkey: hex::encode(node.pubkey_ed25519) });
            }
            nodes.push(node);
        }
        Ok(Self(nodes))
    }

    /// Parses JSON text of any accepted form.
    pub fn parse_str(text: &str) -> Result<Self, NodeListError> {
        let value: Value = serde_json::from_str(text).map_err(|e| NodeListError::Json(e.to_string()))?;
        Self::parse(&value)
    }

    /// The `{"service_node_states": [...]}` form.
    pub fn to_json(&self) -> Value {
        json!({ "service_node_states": self.0.iter().map(NodeInfo::to_json).collect::<Vec<_>>() })
    }

    /// The valid swarm ids of the list, ascending, without duplicates or `INVALID_SWARM_ID`.
    pub fn swarm_ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.0.iter().filter(|n| n.in_swarm()).map(|n| n.swarm_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The members of swarm `id`, in list order.
    pub fn members(&self, id: u64) -> Vec<NodeInfo> {
        if id == INVALID_SWARM_ID {
            return Vec::new();
        }
        self.0.iter().filter(|n| n.swarm_id == id).cloned().collect()
    }

    /// The node with this Ed25519 key.
    pub fn find(&self, pubkey_ed25519: &[u8; 32]) -> Option<&NodeInfo> {
        self.0.iter().find(|n| &n.pubkey_ed25519 == pubkey_ed25519)
    }

    /// The swarm that holds `pk` (swarms.md §1 over the list's valid swarm ids) and its nodes;
    /// `None` when no node is in a swarm.
    pub fn swarm_of(&self, pk: &Pubkey) -> Option<(u64, Vec<NodeInfo>)> {
        let id = swarm_for(&self.swarm_ids(), pk)?;
        Some((id, self.members(id)))
    }
}

/// Parses a `get_swarm` reply (also the body of a 421 "wrong swarm" answer).
pub fn parse_get_swarm_reply(reply: &Value) -> Result<SwarmReply, String> {
    let swarm = reply.get("swarm").and_then(Value::as_str).ok_or("no \"swarm\" string")?;
    let swarm_id =
        parse_swarm_id_hex(swarm).ok_or_else(|| format!("\"swarm\" '{swarm}' is not a hex swarm id"))?;
    let snodes = reply.get("snodes").and_then(Value::as_array).ok_or("no \"snodes\" array")?;
    let mut nodes = Vec::with_capacity(snodes.len());
    for (index, s) in snodes.iter().enumerate() {
        let one = |field: &'static str| s.get(field).ok_or(NodeListError::MissingField { index, field });
        let node = (|| {
            let port = match s.get("port_https") {
                Some(p) => port_field(p, index, "port_https")?,
                None => port_field(one("port")?, index, "port")?,
            };
            Ok::<_, NodeListError>(NodeInfo {
                pubkey_ed25519: key_field(one("pubkey_ed25519")?, index, "pubkey_ed25519")?,
                pubkey_x25519: key_field(one("pubkey_x25519")?, index, "pubkey_x25519")?,
                public_ip: ip_field(one("ip")?, index, "ip")?,
                storage_port: port,
                swarm_id,
            })
        })()
        .map_err(|e| format!("snodes: {e}"))?;
        nodes.push(node);
    }
    Ok(SwarmReply { swarm_id, nodes })
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: &str = "2222222222222222222222222222222222222222222222222222222222222222";

    fn node(i: u8, swarm: Value) -> Value {
        json!({
            "pubkey_ed25519": hex::encode([i; 32]),
            "pubkey_x25519": X,
            "public_ip": "127.0.0.1",
            "storage_port": 30000 + u16::from(i),
            "swarm_id": swarm,
        })
    }

    fn spec_list() -> NodeList {
        let ids = [100u64, 200, 300, 399, 498, 596, 694];
        let nodes: Vec<Value> = ids.iter().enumerate().map(|(i, id)| node(i as u8 + 1, json!(id))).collect();
        NodeList::parse(&json!({ "service_node_states": nodes })).unwrap()
    }

    fn at(v: u64) -> Pubkey {
        let mut key = [0u8; 32];
        key[24..].copy_from_slice(&v.to_be_bytes());
        Pubkey::new(5, key)
    }

    #[test]
    fn test_parse_accepts_every_form() {
        let nodes = json!([node(1, json!(5)), node(2, json!("0000000000000007"))]);
        let bare = NodeList::parse(&nodes).unwrap();
        assert_eq!(bare.len(), 2);
        assert_eq!(bare[0].swarm_id, 5);
        assert_eq!(bare[1].swarm_id, 7);
        assert_eq!(bare[0].url(), "http://127.0.0.1:30001");
        assert_eq!(NodeList::parse(&json!({ "service_node_states": nodes })).unwrap(), bare);
        assert_eq!(NodeList::parse(&json!({ "result": { "service_node_states": nodes } })).unwrap(), bare);
        assert!(NodeList::parse(&json!([])).unwrap().is_empty());
    }

    #[test]
    fn test_swarm_id_beyond_double_precision_round_trips() {
        let list =
            NodeList::parse(&json!([node(1, json!(u64::MAX - 1)), node(2, json!("fffffffffffffffe"))]))
                .unwrap();
        assert_eq!(list[0].swarm_id, u64::MAX - 1);
        assert_eq!(list[1].swarm_id, u64::MAX - 1);
        let back = list.to_json();
        assert_eq!(back["service_node_states"][0]["swarm_id"], json!(18446744073709551614u64));
        assert_eq!(back["service_node_states"][0]["swarm"], json!("fffffffffffffffe"));
        assert_eq!(NodeList::parse(&back).unwrap(), list);
        // Text round trip too (serde_json keeps u64 exact).
        assert_eq!(NodeList::parse_str(&back.to_string()).unwrap(), list);
    }

    #[test]
    fn test_oxend_swarm_field_is_accepted_without_swarm_id() {
        let mut n = node(1, json!(0));
        n.as_object_mut().unwrap().remove("swarm_id");
        n["swarm"] = json!("00000000000000ff");
        assert_eq!(NodeList::parse(&json!([n])).unwrap()[0].swarm_id, 255);
    }

    #[test]
    fn test_parse_rejects_bad_nodes() {
        let with = |field: &str, v: Value| {
            let mut n = node(1, json!(1));
            n[field] = v;
            NodeList::parse(&json!([n])).unwrap_err()
        };
        let without = |field: &str| {
            let mut n = node(1, json!(1));
            n.as_object_mut().unwrap().remove(field);
            NodeList::parse(&json!([n])).unwrap_err()
        };
        assert_eq!(with("public_ip", json!("0.0.0.0")), NodeListError::Unroutable { index: 0 });
        assert!(matches!(
            with("public_ip", json!("example")),
            NodeListError::BadField { field: "public_ip", .. }
        ));
        assert!(matches!(with("pubkey_ed25519", json!("abcd")), NodeListError::BadField { .. }));
        assert!(matches!(with("pubkey_x25519", json!(5)), NodeListError::BadField { .. }));
        assert!(matches!(with("storage_port", json!(0)), NodeListError::BadField { .. }));
        assert!(matches!(with("storage_port", json!(70000)), NodeListError::BadField { .. }));
        assert!(matches!(with("swarm_id", json!(1.5e19)), NodeListError::BadField { field: "swarm_id", .. }));
        assert!(matches!(with("swarm_id", json!(-1)), NodeListError::BadField { .. }));
        assert!(matches!(with("swarm_id", json!("0x12")), NodeListError::BadField { .. }));
        assert!(matches!(with("swarm_id", json!("12345678901234567")), NodeListError::BadField { .. }));
        for field in ["pubkey_ed25519", "pubkey_x25519", "public_ip", "storage_port", "swarm_id"] {
            assert_eq!(without(field), NodeListError::MissingField { index: 0, field });
        }
        assert_eq!(NodeList::parse(&json!([5])).unwrap_err(), NodeListError::NotAnObject { index: 0 });
        assert_eq!(NodeList::parse(&json!({"nodes": []})).unwrap_err(), NodeListError::Shape);
        assert_eq!(NodeList::parse(&json!("x")).unwrap_err(), NodeListError::Shape);
        assert!(matches!(
            NodeList::parse(&json!([node(1, json!(1)), node(1, json!(2))])).unwrap_err(),
            NodeListError::Duplicate { index: 1, .. }
        ));
        assert!(matches!(NodeList::parse_str("{"), Err(NodeListError::Json(_))));
    }

    #[test]
    fn test_swarm_of_uses_the_spec_mapping() {
        let list = spec_list();
        for (v, want) in [(100, 100), (200, 200), (498, 498), (0, 100), (1, 100), (0x8000000000000000, 694)] {
            let (id, members) = list.swarm_of(&at(v)).unwrap();
            assert_eq!(id, want);
            assert_eq!(members.len(), 1);
            assert_eq!(members[0].swarm_id, want);
        }
    }

    #[test]
    fn test_swarm_of_ignores_nodes_in_no_swarm() {
        let list = NodeList::parse(&json!([node(1, json!(u64::MAX)), node(2, json!(40))])).unwrap();
        assert_eq!(list.swarm_ids(), vec![40]);
        assert_eq!(list.swarm_of(&at(u64::MAX)).unwrap().0, 40);
        let none = NodeList::parse(&json!([node(1, json!(u64::MAX))])).unwrap();
        assert_eq!(none.swarm_of(&at(1)), None);
        assert_eq!(NodeList::default().swarm_of(&at(1)), None);
    }

    #[test]
    fn test_get_swarm_reply_parses() {
        let list = spec_list();
        let members = list.members(200);
        let snodes: Vec<Value> = members
            .iter()
            .map(|n| {
                json!({
                    "address": "ignored.snode",
                    "pubkey_legacy": hex::encode(n.pubkey_ed25519),
                    "pubkey_x25519": hex::encode(n.pubkey_x25519),
                    "pubkey_ed25519": hex::encode(n.pubkey_ed25519),
                    "ip": n.public_ip,
                    "port": n.storage_port.to_string(),
                    "port_https": n.storage_port,
                    "port_omq": 0,
                })
            })
            .collect();
        let reply = json!({ "snodes": snodes, "swarm": "00000000000000c8", "t": 1, "hf": [19, 0] });
        let parsed = parse_get_swarm_reply(&reply).unwrap();
        assert_eq!(parsed, SwarmReply { swarm_id: 200, nodes: members });
        assert!(parse_get_swarm_reply(&json!({"snodes": []})).is_err());
        assert!(
            parse_get_swarm_reply(&json!({"swarm": "00000000000000c8", "snodes": [{"ip": "1.2.3.4"}]}))
                .is_err()
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn arb_node() -> impl Strategy<Value = NodeInfo> {
            (any::<[u8; 32]>(), any::<[u8; 32]>(), 1u32..u32::MAX, 1u16..=u16::MAX, any::<u64>()).prop_map(
                |(ed, x, ip, port, swarm_id)| NodeInfo {
                    pubkey_ed25519: ed,
                    pubkey_x25519: x,
                    public_ip: Ipv4Addr::from(ip).to_string(),
                    storage_port: port,
                    swarm_id,
                },
            )
        }

        proptest! {
            #[test]
            fn node_list_json_round_trips(nodes in proptest::collection::vec(arb_node(), 0..20)) {
                let mut seen = std::collections::HashSet::new();
                let nodes: Vec<NodeInfo> = nodes.into_iter().filter(|n| seen.insert(n.pubkey_ed25519)).collect();
                let list = NodeList(nodes);
                let text = list.to_json().to_string();
                prop_assert_eq!(NodeList::parse_str(&text).unwrap(), list.clone());
                // The bare-array form and hex swarm ids give the same list.
                let hexed: Vec<Value> = list.iter().map(|n| {
                    let mut v = n.to_json();
                    v["swarm_id"] = json!(swarm_id_hex(n.swarm_id));
                    v
                }).collect();
                prop_assert_eq!(NodeList::parse(&Value::Array(hexed)).unwrap(), list);
            }

            #[test]
            fn node_list_parse_never_panics(text in ".{0,200}") {
                let _ = NodeList::parse_str(&text);
            }
        }
    }
}
