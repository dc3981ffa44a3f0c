//! The registry: snkit's stand-in for the staking chain (docs/registry.md). An ordered history
//! of node registrations (join: Ed25519 + X25519 keys and `ip:port`; leave: by Ed25519 key) plus
//! the network's parameters. Swarm membership is replayed from the history through the
//! assignment engine ([`crate::formats::swarm::SwarmMap`]), each event with an RNG seeded from a BLAKE2b
//! hash chain over the events, so every node and client computes the same map.
//!
//! Reading and writing it (files, HTTP) is `net::registry`. On disk and over HTTP it is one JSON
//! object:
//! `{"format": "snkit-registry/1", "network": {"pow_difficulty": 0}, "height": 2,
//!   "head": "<64 hex>", "events": [{"op": "join", ...}, {"op": "leave", ...}]}`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use serde_json::{Map, Value, json};

use crate::formats::keys::decode_hex32;
use crate::formats::limits::{REACH_MIN_PERIOD_MS, REGISTRY_MAX_EVENTS};
use crate::formats::nodelist::{NodeInfo, NodeList, NodeListError};
use crate::formats::swarm::{AssignError, INVALID_SWARM_ID, NodeKey, SwarmMap};

/// The `format` tag of a registry document.
pub const REGISTRY_FORMAT: &str = "snkit-registry/1";
/// The first link of the hash chain is BLAKE2b-256 of this string.
pub const CHAIN_GENESIS: &[u8] = b"snkit-registry/1";

type Blake2b256 = Blake2b<U32>;

/// Why a registry, or a change to it, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The registry file could not be read.
    #[error("cannot read registry {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The registry file could not be written.
    #[error("cannot write registry {path}: {reason}")]
    Write {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The registry is not JSON.
    #[error("registry is not valid JSON: {0}")]
    Json(String),
    /// The registry JSON is not a registry document; the string says what is missing.
    #[error("registry: {0}")]
    Shape(String),
    /// An event is malformed.
    #[error("registry event {index}: {reason}")]
    BadEvent {
        /// The event's position in the log.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A join of a node that is active already.
    #[error("registry event {index}: node {pubkey} joins but is already active")]
    AlreadyActive {
        /// The event's position in the log.
        index: usize,
        /// The node's Ed25519 key, hex.
        pubkey: String,
    },
    /// A leave of a node that is not active.
    #[error("registry event {index}: node {pubkey} leaves but is not active")]
    NotActive {
        /// The event's position in the log.
        index: usize,
        /// The node's Ed25519 key, hex.
        pubkey: String,
    },
    /// A join reuses the X25519 key of an active node.
    #[error("registry event {index}: pubkey_x25519 {pubkey} is already used by an active node")]
    DuplicateX25519 {
        /// The event's position in the log.
        index: usize,
        /// The reused X25519 key, hex.
        pubkey: String,
    },
    /// A join reuses the address of an active node.
    #[error("registry event {index}: address {address} is already used by an active node")]
    AddressInUse {
        /// The event's position in the log.
        index: usize,
        /// The reused `ip:port`.
        address: String,
    },
    /// The log is over `REGISTRY_MAX_EVENTS`.
    #[error("registry holds more than {limit} events")]
    TooManyEvents {
        /// The limit.
        limit: usize,
    },
    /// The stated head hash does not match the hash chain of the events.
    #[error(
        "registry head {stated} does not match its events (computed {computed}); the file was edited or cut"
    )]
    HeadMismatch {
        /// The head the document states.
        stated: String,
        /// The head its events hash to.
        computed: String,
    },
    /// Fetching the registry over HTTP failed.
    #[error("cannot fetch registry: {0}")]
    Fetch(NodeListError),
}

impl RegistryError {
    /// Whether the failure is the network's (exit 1), not the registry's content (exit 2).
    pub fn is_network(&self) -> bool {
        matches!(self, Self::Fetch(e) if e.is_network())
    }
}

/// A registered node: its keys and storage address, as a join event carries them. Not a
/// [`NodeInfo`]: a registration has no swarm (the replay assigns it, and [`Registry::node_list`]
/// turns records into `NodeInfo`s), and its address is an `Ipv4Addr` because its 4 bytes are
/// hashed into the chain ([`Event::chain_bytes`]) and checked for uniqueness.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeRecord {
    /// The node's Ed25519 key, its identity on the network.
    pub pubkey_ed25519: [u8; 32],
    /// The node's X25519 key, for onion layers addressed to it.
    pub pubkey_x25519: [u8; 32],
    /// The node's IPv4 address.
    pub public_ip: Ipv4Addr,
    /// The port of the node's storage HTTP server.
    pub storage_port: u16,
}

impl NodeRecord {
    /// `ip:port`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.public_ip, self.storage_port)
    }
}

/// One entry of the history.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    /// A node joins the network.
    Join(NodeRecord),
    /// A node leaves the network.
    Leave {
        /// The leaving node's Ed25519 key.
        pubkey_ed25519: [u8; 32],
    },
    /// Its testers found a node unreachable (formats/reachability.rs): it leaves its swarm but
    /// stays registered, in swarm 2^64−1.
    Decommission {
        /// The node's Ed25519 key.
        pubkey_ed25519: [u8; 32],
    },
    /// A decommissioned node passed its tests again: it rejoins a swarm.
    Recommission {
        /// The node's Ed25519 key.
        pubkey_ed25519: [u8; 32],
    },
}

impl Event {
    /// The bytes the hash chain covers: join = 0x01 ‖ ed25519 ‖ x25519 ‖ ipv4 (4) ‖ port (u16 BE);
    /// leave = 0x02 ‖ ed25519; decommission = 0x03 ‖ ed25519; recommission = 0x04 ‖ ed25519.
    pub fn chain_bytes(&self) -> Vec<u8> {
        match self {
            Event::Join(n) => {
                let mut b = Vec::with_capacity(71);
                b.push(0x01);
                b.extend_from_slice(&n.pubkey_ed25519);
                b.extend_from_slice(&n.pubkey_x25519);
                b.extend_from_slice(&n.public_ip.octets());
                b.extend_from_slice(&n.storage_port.to_be_bytes());
                b
            }
            Event::Leave { pubkey_ed25519 } => tagged(0x02, pubkey_ed25519),
            Event::Decommission { pubkey_ed25519 } => tagged(0x03, pubkey_ed25519),
            Event::Recommission { pubkey_ed25519 } => tagged(0x04, pubkey_ed25519),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Event::Join(n) => json!({
                "op": "join",
                "pubkey_ed25519": hex::encode(n.pubkey_ed25519),
                "pubkey_x25519": hex::encode(n.pubkey_x25519),
                "public_ip": n.public_ip.to_string(),
                "storage_port": n.storage_port,
            }),
            Event::Leave { pubkey_ed25519 } => json!({
                "op": "leave",
                "pubkey_ed25519": hex::encode(pubkey_ed25519),
            }),
            Event::Decommission { pubkey_ed25519 } => json!({
                "op": "decommission",
                "pubkey_ed25519": hex::encode(pubkey_ed25519),
            }),
            Event::Recommission { pubkey_ed25519 } => json!({
                "op": "recommission",
                "pubkey_ed25519": hex::encode(pubkey_ed25519),
            }),
        }
    }

    fn from_json(v: &Value, index: usize) -> Result<Self, RegistryError> {
        let bad = |reason: String| RegistryError::BadEvent { index, reason };
        let obj = v.as_object().ok_or_else(|| bad("is not a JSON object".into()))?;
        let get = |f: &str| obj.get(f).ok_or_else(|| bad(format!("has no \"{f}\" field")));
        let key = |f: &str| -> Result<[u8; 32], RegistryError> {
            let s = get(f)?.as_str().ok_or_else(|| bad(format!("\"{f}\" is not a string")))?;
            decode_hex32(s).map_err(|_| bad(format!("\"{f}\" must be 64 hex characters")))
        };
        match get("op")?.as_str() {
            Some("join") => {
                let ip_text =
                    get("public_ip")?.as_str().ok_or_else(|| bad("\"public_ip\" is not a string".into()))?;
                let public_ip: Ipv4Addr = ip_text
                    .parse()
                    .map_err(|_| bad(format!("public_ip '{ip_text}' is not an IPv4 address")))?;
                if public_ip.is_unspecified() {
                    return Err(bad("public_ip 0.0.0.0 is not an address a client can reach".into()));
                }
                let storage_port = match get("storage_port")?.as_u64() {
                    Some(p @ 1..=65535) => p as u16,
                    _ => return Err(bad("\"storage_port\" must be a port number 1-65535".into())),
                };
                Ok(Event::Join(NodeRecord {
                    pubkey_ed25519: key("pubkey_ed25519")?,
                    pubkey_x25519: key("pubkey_x25519")?,
                    public_ip,
                    storage_port,
                }))
            }
            Some("leave") => Ok(Event::Leave { pubkey_ed25519: key("pubkey_ed25519")? }),
            Some("decommission") => Ok(Event::Decommission { pubkey_ed25519: key("pubkey_ed25519")? }),
            Some("recommission") => Ok(Event::Recommission { pubkey_ed25519: key("pubkey_ed25519")? }),
            _ => Err(bad("\"op\" must be \"join\", \"leave\", \"decommission\" or \"recommission\"".into())),
        }
    }
}

/// 0x`tag` ‖ key: the chain bytes of the events that name only a node.
fn tagged(tag: u8, pubkey_ed25519: &[u8; 32]) -> Vec<u8> {
    let mut b = Vec::with_capacity(33);
    b.push(tag);
    b.extend_from_slice(pubkey_ed25519);
    b
}

/// The network's parameters, carried by the registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkParams {
    /// Proof-of-work difficulty for stores (pow.md); 0 = off.
    pub pow_difficulty: u64,
    /// Length of a reachability-testing period in ms (formats/reachability.rs); 0 = no testing.
    pub reach_period_ms: u64,
}

/// The state replayed from the history.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    map: SwarmMap,
    /// Registered nodes by key, with the index of their join event.
    active: BTreeMap<NodeKey, (usize, NodeRecord)>,
    /// The registered nodes that are decommissioned (in no swarm).
    decommissioned: BTreeSet<NodeKey>,
    /// X25519 keys and addresses of the active nodes (each must be unique among them).
    x25519_in_use: BTreeSet<[u8; 32]>,
    addresses_in_use: BTreeSet<(Ipv4Addr, u16)>,
    head: [u8; 32],
}

impl Default for State {
    fn default() -> Self {
        Self {
            map: SwarmMap::new(),
            active: BTreeMap::new(),
            decommissioned: BTreeSet::new(),
            x25519_in_use: BTreeSet::new(),
            addresses_in_use: BTreeSet::new(),
            head: Blake2b256::digest(CHAIN_GENESIS).into(),
        }
    }
}

/// The registry: history, parameters and the swarm map replayed from them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    params: NetworkParams,
    events: Vec<Event>,
    state: State,
}

impl Registry {
    /// An empty registry (no nodes, pow difficulty 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// The network's parameters.
    pub fn params(&self) -> &NetworkParams {
        &self.params
    }

    /// The proof-of-work difficulty stores must meet (0 = off).
    pub fn pow_difficulty(&self) -> u64 {
        self.params.pow_difficulty
    }

    /// Sets the proof-of-work difficulty (a parameter, not an event: it moves no node).
    pub fn set_pow_difficulty(&mut self, difficulty: u64) {
        self.params.pow_difficulty = difficulty;
    }

    /// The reachability-testing period in ms (0 = off).
    pub fn reach_period_ms(&self) -> u64 {
        self.params.reach_period_ms
    }

    /// Sets the reachability-testing period (a parameter: it moves no node).
    pub fn set_reach_period_ms(&mut self, period_ms: u64) {
        self.params.reach_period_ms = period_ms;
    }

    /// The history, oldest first.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Number of events (the registry's "height").
    pub fn height(&self) -> usize {
        self.events.len()
    }

    /// The hash chain after the last event: equal heads mean equal histories.
    pub fn head(&self) -> [u8; 32] {
        self.state.head
    }

    /// [`Self::head`] in hex.
    pub fn head_hex(&self) -> String {
        hex::encode(self.state.head)
    }

    /// The swarm map of the active nodes.
    pub fn swarm_map(&self) -> &SwarmMap {
        &self.state.map
    }

    /// Whether the node with this Ed25519 key is registered and has not left.
    pub fn is_active(&self, pubkey_ed25519: &[u8; 32]) -> bool {
        self.state.active.contains_key(pubkey_ed25519)
    }

    /// Every registered node (decommissioned ones too), by key.
    pub fn registered(&self) -> impl Iterator<Item = &NodeRecord> {
        self.state.active.values().map(|(_, r)| r)
    }

    /// Whether the node is registered but decommissioned (in no swarm).
    pub fn is_decommissioned(&self, pubkey_ed25519: &[u8; 32]) -> bool {
        self.state.decommissioned.contains(pubkey_ed25519)
    }

    /// Takes an active node out of its swarm (appends a decommission event).
    pub fn decommission(&mut self, pubkey_ed25519: &[u8; 32]) -> Result<(), RegistryError> {
        self.push(Event::Decommission { pubkey_ed25519: *pubkey_ed25519 })
    }

    /// Puts a decommissioned node back into a swarm (appends a recommission event).
    pub fn recommission(&mut self, pubkey_ed25519: &[u8; 32]) -> Result<(), RegistryError> {
        self.push(Event::Recommission { pubkey_ed25519: *pubkey_ed25519 })
    }

    /// The registry as it was after its first `height` events (all of them if `height` is past
    /// the end): what a report made against an older view is checked with.
    pub fn at_height(&self, height: usize) -> Registry {
        if height >= self.events.len() {
            return self.clone();
        }
        let mut past = Registry { params: self.params.clone(), ..Registry::default() };
        for event in &self.events[..height] {
            // A prefix of a history that replayed cannot fail to replay; stop if it ever did.
            if past.push(event.clone()).is_err() {
                break;
            }
        }
        past
    }

    /// The registration of an active node.
    pub fn node(&self, pubkey_ed25519: &[u8; 32]) -> Option<&NodeRecord> {
        self.state.active.get(pubkey_ed25519).map(|(_, r)| r)
    }

    /// Registers a node (appends a join event).
    pub fn join(
        &mut self,
        pubkey_ed25519: [u8; 32],
        pubkey_x25519: [u8; 32],
        public_ip: &str,
        storage_port: u16,
    ) -> Result<(), RegistryError> {
        let index = self.events.len();
        let bad = |reason: String| RegistryError::BadEvent { index, reason };
        let ip: Ipv4Addr =
            public_ip.parse().map_err(|_| bad(format!("public_ip '{public_ip}' is not an IPv4 address")))?;
        if ip.is_unspecified() {
            return Err(bad("public_ip 0.0.0.0 is not an address a client can reach".into()));
        }
        if storage_port == 0 {
            return Err(bad("storage_port must be 1-65535".into()));
        }
        self.push(Event::Join(NodeRecord { pubkey_ed25519, pubkey_x25519, public_ip: ip, storage_port }))
    }

    /// Deregisters a node (appends a leave event).
    pub fn leave(&mut self, pubkey_ed25519: &[u8; 32]) -> Result<(), RegistryError> {
        self.push(Event::Leave { pubkey_ed25519: *pubkey_ed25519 })
    }

    /// Validates and applies one event; on error nothing changes.
    fn push(&mut self, event: Event) -> Result<(), RegistryError> {
        if self.events.len() >= REGISTRY_MAX_EVENTS {
            return Err(RegistryError::TooManyEvents { limit: REGISTRY_MAX_EVENTS });
        }
        apply(&mut self.state, self.events.len(), &event)?;
        self.events.push(event);
        Ok(())
    }

    /// Builds a registry by replaying `events` in order.
    pub fn from_events(params: NetworkParams, events: Vec<Event>) -> Result<Self, RegistryError> {
        if events.len() > REGISTRY_MAX_EVENTS {
            return Err(RegistryError::TooManyEvents { limit: REGISTRY_MAX_EVENTS });
        }
        let mut state = State::default();
        for (index, event) in events.iter().enumerate() {
            apply(&mut state, index, event)?;
        }
        Ok(Self { params, events, state })
    }

    /// The registered nodes with their swarm ids (2^64−1 for a decommissioned one), in
    /// registration order: what `nodes.json` holds.
    pub fn node_list(&self) -> NodeList {
        let mut by_join: Vec<&(usize, NodeRecord)> = self.state.active.values().collect();
        by_join.sort_unstable_by_key(|(i, _)| *i);
        by_join
            .into_iter()
            .filter_map(|(_, r)| {
                Some(NodeInfo {
                    pubkey_ed25519: r.pubkey_ed25519,
                    pubkey_x25519: r.pubkey_x25519,
                    public_ip: r.public_ip.to_string(),
                    storage_port: r.storage_port,
                    swarm_id: if self.state.decommissioned.contains(&r.pubkey_ed25519) {
                        INVALID_SWARM_ID
                    } else {
                        self.state.map.swarm_of(&r.pubkey_ed25519)?
                    },
                })
            })
            .collect::<Vec<_>>()
            .into()
    }

    /// What a testnet writes as `nodes.json` and a node answers to `get_service_nodes`: the node
    /// list form `{"service_node_states": [...]}` plus `"pow_difficulty"` and the registry's
    /// `"height"` and `"head"` (extra fields that node-list readers ignore).
    pub fn nodes_json(&self) -> Value {
        let mut v = self.node_list().to_json();
        v["pow_difficulty"] = json!(self.params.pow_difficulty);
        v["height"] = json!(self.events.len());
        v["head"] = json!(self.head_hex());
        v
    }

    /// The registry document (docs/registry.md).
    pub fn to_json(&self) -> Value {
        json!({
            "format": REGISTRY_FORMAT,
            "network": self.network_json(),
            "height": self.events.len(),
            "head": self.head_hex(),
            "events": self.events.iter().map(Event::to_json).collect::<Vec<_>>(),
        })
    }

    /// The document's `"network"` object; `reach_period_ms` only when testing is on, so a registry
    /// without it reads as before.
    fn network_json(&self) -> Value {
        let mut network = json!({ "pow_difficulty": self.params.pow_difficulty });
        if self.params.reach_period_ms > 0 {
            network["reach_period_ms"] = json!(self.params.reach_period_ms);
        }
        network
    }

    /// Parses a registry document, replays it, and checks `head` when present.
    pub fn from_json(value: &Value) -> Result<Self, RegistryError> {
        let shape = |s: &str| RegistryError::Shape(s.to_string());
        let obj: &Map<String, Value> = value.as_object().ok_or_else(|| shape("must be a JSON object"))?;
        match obj.get("format").and_then(Value::as_str) {
            Some(REGISTRY_FORMAT) => {}
            Some(other) => return Err(shape(&format!("format '{other}' is not '{REGISTRY_FORMAT}'"))),
            None => return Err(shape(&format!("has no \"format\": \"{REGISTRY_FORMAT}\""))),
        }
        let mut params = NetworkParams::default();
        if let Some(network) = obj.get("network") {
            let network = network.as_object().ok_or_else(|| shape("\"network\" must be an object"))?;
            if let Some(d) = network.get("pow_difficulty") {
                params.pow_difficulty =
                    d.as_u64().ok_or_else(|| shape("network.pow_difficulty must be an unsigned integer"))?;
            }
            if let Some(p) = network.get("reach_period_ms") {
                params.reach_period_ms = match p.as_u64() {
                    Some(0) => 0,
                    Some(ms) if ms >= REACH_MIN_PERIOD_MS => ms,
                    _ => {
                        return Err(shape(&format!(
                            "network.reach_period_ms must be 0 (off) or at least {REACH_MIN_PERIOD_MS}"
                        )));
                    }
                };
            }
        }
        let raw =
            obj.get("events").and_then(Value::as_array).ok_or_else(|| shape("has no \"events\" array"))?;
        if raw.len() > REGISTRY_MAX_EVENTS {
            return Err(RegistryError::TooManyEvents { limit: REGISTRY_MAX_EVENTS });
        }
        let events =
            raw.iter().enumerate().map(|(i, e)| Event::from_json(e, i)).collect::<Result<Vec<_>, _>>()?;
        let registry = Self::from_events(params, events)?;
        if let Some(height) = obj.get("height")
            && height.as_u64() != Some(registry.events.len() as u64)
        {
            return Err(shape(&format!(
                "height {height} does not match its {} events",
                registry.events.len()
            )));
        }
        if let Some(stated) = obj.get("head") {
            let stated = stated.as_str().unwrap_or_default().to_ascii_lowercase();
            if stated != registry.head_hex() {
                return Err(RegistryError::HeadMismatch { stated, computed: registry.head_hex() });
            }
        }
        Ok(registry)
    }

    /// Parses registry JSON text.
    pub fn parse_str(text: &str) -> Result<Self, RegistryError> {
        let value: Value = serde_json::from_str(text).map_err(|e| RegistryError::Json(e.to_string()))?;
        Self::from_json(&value)
    }
}

/// The next link of the hash chain: BLAKE2b-256(previous ‖ event bytes).
pub fn chain_next(previous: &[u8; 32], event: &Event) -> [u8; 32] {
    let mut h = Blake2b256::new();
    h.update(previous);
    h.update(event.chain_bytes());
    h.finalize().into()
}

/// The assignment seed of an event: the first 8 bytes of its chain link, little-endian (as
/// oxen-core reads a block hash).
pub fn seed_of(link: &[u8; 32]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&link[..8]);
    u64::from_le_bytes(first)
}

/// Validates `event` against `state` and applies it; on error `state` is unchanged.
fn apply(state: &mut State, index: usize, event: &Event) -> Result<(), RegistryError> {
    let link = chain_next(&state.head, event);
    let seed = seed_of(&link);
    match event {
        Event::Join(record) => {
            let pubkey = hex::encode(record.pubkey_ed25519);
            if state.active.contains_key(&record.pubkey_ed25519) {
                return Err(RegistryError::AlreadyActive { index, pubkey });
            }
            if state.x25519_in_use.contains(&record.pubkey_x25519) {
                return Err(RegistryError::DuplicateX25519 {
                    index,
                    pubkey: hex::encode(record.pubkey_x25519),
                });
            }
            let address = (record.public_ip, record.storage_port);
            if state.addresses_in_use.contains(&address) {
                return Err(RegistryError::AddressInUse { index, address: record.address() });
            }
            state.map.join(record.pubkey_ed25519, seed).map_err(|e| assign_error(index, e))?;
            state.x25519_in_use.insert(record.pubkey_x25519);
            state.addresses_in_use.insert(address);
            state.active.insert(record.pubkey_ed25519, (index, record.clone()));
        }
        Event::Leave { pubkey_ed25519 } => {
            if !state.active.contains_key(pubkey_ed25519) {
                return Err(RegistryError::NotActive { index, pubkey: hex::encode(pubkey_ed25519) });
            }
            // A decommissioned node already left its swarm.
            if !state.decommissioned.contains(pubkey_ed25519) {
                state.map.leave(pubkey_ed25519, seed).map_err(|e| assign_error(index, e))?;
            }
            state.decommissioned.remove(pubkey_ed25519);
            if let Some((_, record)) = state.active.remove(pubkey_ed25519) {
                state.x25519_in_use.remove(&record.pubkey_x25519);
                state.addresses_in_use.remove(&(record.public_ip, record.storage_port));
            }
        }
        Event::Decommission { pubkey_ed25519 } => {
            if !state.active.contains_key(pubkey_ed25519) {
                return Err(RegistryError::NotActive { index, pubkey: hex::encode(pubkey_ed25519) });
            }
            if state.decommissioned.contains(pubkey_ed25519) {
                return Err(RegistryError::BadEvent {
                    index,
                    reason: format!("node {} is already decommissioned", hex::encode(pubkey_ed25519)),
                });
            }
            state.map.leave(pubkey_ed25519, seed).map_err(|e| assign_error(index, e))?;
            state.decommissioned.insert(*pubkey_ed25519);
        }
        Event::Recommission { pubkey_ed25519 } => {
            if !state.decommissioned.contains(pubkey_ed25519) {
                return Err(RegistryError::BadEvent {
                    index,
                    reason: format!("node {} is not decommissioned", hex::encode(pubkey_ed25519)),
                });
            }
            state.map.join(*pubkey_ed25519, seed).map_err(|e| assign_error(index, e))?;
            state.decommissioned.remove(pubkey_ed25519);
        }
    }
    state.head = link;
    Ok(())
}

fn assign_error(index: usize, e: AssignError) -> RegistryError {
    match e {
        AssignError::AlreadyActive(k) => RegistryError::AlreadyActive { index, pubkey: hex::encode(k) },
        AssignError::NotActive(k) => RegistryError::NotActive { index, pubkey: hex::encode(k) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::limits::{SWARM_MAX_SIZE, SWARM_MIN_SIZE};

    fn ed(i: u8) -> [u8; 32] {
        [i; 32]
    }

    fn x(i: u8) -> [u8; 32] {
        let mut k = [i; 32];
        k[0] ^= 0x80;
        k
    }

    fn registry(n: u8) -> Registry {
        let mut r = Registry::new();
        for i in 1..=n {
            r.join(ed(i), x(i), "127.0.0.1", 40000 + u16::from(i)).unwrap();
        }
        r
    }

    #[test]
    fn test_chain_genesis_and_first_link() {
        let r = Registry::new();
        let genesis: [u8; 32] = Blake2b256::digest(CHAIN_GENESIS).into();
        assert_eq!(r.head(), genesis);
        let r1 = registry(1);
        let link = chain_next(&genesis, &r1.events()[0]);
        assert_eq!(r1.head(), link);
        assert_eq!(r1.events()[0].chain_bytes().len(), 71);
    }

    #[test]
    fn test_node_list_is_the_replayed_map() {
        let r = registry(30);
        let list = r.node_list();
        assert_eq!(list.len(), 30);
        assert_eq!(list[0].pubkey_ed25519, ed(1));
        assert_eq!(list[0].url(), "http://127.0.0.1:40001");
        for node in list.iter() {
            assert_eq!(Some(node.swarm_id), r.swarm_map().swarm_of(&node.pubkey_ed25519));
        }
        let ids = list.swarm_ids();
        assert!(ids.len() >= 2);
        for id in ids {
            let n = list.members(id).len();
            assert!((SWARM_MIN_SIZE..=SWARM_MAX_SIZE).contains(&n));
        }
    }

    #[test]
    fn test_json_round_trip_replays_to_the_same_map() {
        let mut r = registry(25);
        r.leave(&ed(3)).unwrap();
        r.leave(&ed(17)).unwrap();
        r.join(ed(3), x(3), "127.0.0.1", 40003).unwrap();
        r.set_pow_difficulty(12);
        let text = r.to_json().to_string();
        let back = Registry::parse_str(&text).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.node_list(), r.node_list());
        assert_eq!(back.pow_difficulty(), 12);
        assert_eq!(back.height(), 28);
    }

    #[test]
    fn test_nodes_json_is_a_node_list_with_network_params() {
        let mut r = registry(12);
        r.set_pow_difficulty(3);
        let v = r.nodes_json();
        assert_eq!(v["pow_difficulty"], json!(3));
        assert_eq!(NodeList::parse(&v).unwrap(), r.node_list());
    }

    #[test]
    fn test_inconsistent_changes_are_refused_and_change_nothing() {
        let mut r = registry(3);
        let before = r.clone();
        assert!(matches!(
            r.join(ed(1), x(9), "127.0.0.1", 1),
            Err(RegistryError::AlreadyActive { index: 3, .. })
        ));
        assert!(matches!(r.join(ed(9), x(1), "127.0.0.1", 1), Err(RegistryError::DuplicateX25519 { .. })));
        assert!(matches!(r.join(ed(9), x(9), "127.0.0.1", 40001), Err(RegistryError::AddressInUse { .. })));
        assert!(matches!(r.join(ed(9), x(9), "0.0.0.0", 1), Err(RegistryError::BadEvent { .. })));
        assert!(matches!(r.join(ed(9), x(9), "localhost", 1), Err(RegistryError::BadEvent { .. })));
        assert!(matches!(r.join(ed(9), x(9), "127.0.0.1", 0), Err(RegistryError::BadEvent { .. })));
        assert!(matches!(r.leave(&ed(9)), Err(RegistryError::NotActive { index: 3, .. })));
        assert_eq!(r, before);
        // Once a node has left, its keys and address may be registered again.
        r.leave(&ed(1)).unwrap();
        r.join(ed(9), x(1), "127.0.0.1", 40001).unwrap();
        r.join(ed(1), x(10), "127.0.0.1", 40010).unwrap();
        assert_eq!(r.node_list().len(), 4);
    }

    #[test]
    fn test_bad_documents_are_refused() {
        let good = registry(2).to_json();
        let with = |f: &str, v: Value| {
            let mut d = good.clone();
            d[f] = v;
            Registry::from_json(&d).unwrap_err()
        };
        assert!(matches!(with("format", json!("other")), RegistryError::Shape(_)));
        assert!(matches!(with("events", json!({})), RegistryError::Shape(_)));
        assert!(matches!(with("height", json!(5)), RegistryError::Shape(_)));
        assert!(matches!(with("head", json!("00")), RegistryError::HeadMismatch { .. }));
        assert!(matches!(with("network", json!({"pow_difficulty": -1})), RegistryError::Shape(_)));
        assert!(matches!(
            with("events", json!([{"op": "leave", "pubkey_ed25519": hex::encode(ed(1))}])),
            RegistryError::NotActive { index: 0, .. }
        ));
        assert!(matches!(with("events", json!([{"op": "jump"}])), RegistryError::BadEvent { index: 0, .. }));
        assert!(matches!(Registry::parse_str("[1"), Err(RegistryError::Json(_))));
        // Without head and height (a hand-written file) the document is accepted.
        let mut bare = good.clone();
        bare.as_object_mut().unwrap().remove("head");
        bare.as_object_mut().unwrap().remove("height");
        assert_eq!(Registry::from_json(&bare).unwrap(), registry(2));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            /// Any consistent history round-trips through JSON and replays to the same map.
            #[test]
            fn registry_json_round_trips(ops in proptest::collection::vec((any::<bool>(), 0u8..40), 0..80), d in any::<u64>()) {
                let mut r = Registry::new();
                r.set_pow_difficulty(d);
                for (join, i) in ops {
                    let _ = if join { r.join(ed(i), x(i), "10.0.0.1", 1000 + u16::from(i)) } else { r.leave(&ed(i)) };
                }
                let back = Registry::parse_str(&r.to_json().to_string()).unwrap();
                prop_assert_eq!(back.node_list(), r.node_list());
                prop_assert_eq!(back, r);
            }

            #[test]
            fn registry_parse_never_panics(text in ".{0,300}", edits in proptest::collection::vec((any::<usize>(), any::<char>()), 1..4)) {
                let _ = Registry::parse_str(&text);
                // Damaged valid documents: refused or accepted, never a panic.
                let mut doc: Vec<char> = registry(3).to_json().to_string().chars().collect();
                for (at, c) in edits {
                    let i = at % doc.len();
                    doc[i] = c;
                }
                let _ = Registry::parse_str(&doc.into_iter().collect::<String>());
            }
        }
    }
}
