//! What a client knows about the network: the node list (from any source of [`super::nodes`]),
//! the PoW difficulty, swarms corrected by 421 answers, and one storage RPC sent through a fresh
//! onion path with path retries. A node is a [`NodeInfo`] throughout: its URL is derived from
//! it in the network's scheme ([`Network::url_of`]), never stored.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use super::http::Transport;
use super::nodes::{LoadError, NodeSource};
use super::path::{CLIENT_KEPT_PATHS, KeptPaths, choose_path};
use super::{NetError, short};
use crate::formats::keys::Pubkey;
use crate::formats::limits::{CLIENT_MAX_NODES, CLIENT_PATH_ATTEMPTS};
use crate::formats::nodelist::{NodeInfo, NodeList};
use crate::formats::onion::{self, EncType, HopKeys};

/// A storage RPC answer from the target node: its status and JSON body (a plain-text body is a
/// JSON string).
#[derive(Debug, Clone)]
pub struct RpcReply {
    /// The target node's HTTP status.
    pub status: u16,
    /// Its JSON body.
    pub body: Value,
}

/// The network as one client sees it. `Sync`: one value serves many threads.
#[derive(Debug)]
pub struct Network {
    list: NodeList,
    /// The nodes paths are built from (the first `CLIENT_MAX_NODES` of the list).
    nodes: Vec<NodeInfo>,
    pow_difficulty: AtomicU64,
    /// Swarms learned from 421 answers, by pubkey hex; they override the node list's mapping.
    swarms: Mutex<HashMap<String, Vec<NodeInfo>>>,
    transport: Transport,
    enc: EncType,
    /// Whether the nodes speak HTTPS (live service nodes do; a `testnet up --tls` too).
    https: bool,
    /// The paths kept between requests and runs ([`Network::keep_paths`]); `None`: a fresh path
    /// for every request.
    kept: Option<Mutex<KeptPaths>>,
}

/// Why a request through one path failed, and the hops it blames.
struct PathFailure {
    reason: String,
    blamed: Vec<[u8; 32]>,
}

impl Network {
    /// A network from a node list value: `{"service_node_states":[...], "pow_difficulty"?: N}`,
    /// the same inside `{"result": ...}`, or a bare array (difficulty 0).
    pub fn from_value(value: &Value, source_name: &str) -> Result<Self, NetError> {
        let list = NodeList::parse(value).map_err(|e| NetError::NodeList {
            source_name: source_name.to_string(),
            reason: e.to_string(),
        })?;
        let difficulty = pow_difficulty_of(value);
        let mut net = Self::new(list, difficulty)?;
        net.set_https(tls_of(value));
        Ok(net)
    }

    /// A network from a node list and a difficulty.
    pub fn new(list: NodeList, pow_difficulty: u64) -> Result<Self, NetError> {
        let nodes: Vec<NodeInfo> = list.iter().take(CLIENT_MAX_NODES).cloned().collect();
        if nodes.is_empty() {
            return Err(NetError::NoNodes);
        }
        Ok(Self {
            list,
            nodes,
            pow_difficulty: AtomicU64::new(pow_difficulty),
            swarms: Mutex::new(HashMap::new()),
            transport: Transport::new(),
            enc: EncType::XChaCha20,
            https: false,
            kept: None,
        })
    }

    /// Keeps onion paths in `dir` (`paths.json`): requests go through the saved paths (tested
    /// when built, replaced when a hop fails, rotated after their lifetime: `net::path`) instead
    /// of a fresh path each, and the next process finds them there.
    pub fn keep_paths(&mut self, dir: &std::path::Path) {
        self.kept = Some(Mutex::new(KeptPaths::load(dir, &self.nodes, crate::formats::time::now_ms())));
    }

    /// The file the kept paths are saved in, if paths are kept.
    pub fn kept_paths_file(&self) -> Option<std::path::PathBuf> {
        let kept = self.kept.as_ref()?.lock().ok()?;
        Some(kept.file().to_path_buf())
    }

    /// Talks HTTPS to every node (self-signed certificates accepted: see `crate::net::tls`).
    pub fn set_https(&mut self, https: bool) {
        self.https = https;
    }

    /// A node's base URL in this network's scheme (`http://ip:port` or `https://ip:port`).
    pub fn url_of(&self, node: &NodeInfo) -> String {
        node.url_with(self.https)
    }

    /// Reads a node list file (what `testnet` writes as `nodes.json`, or a registry).
    pub fn from_file(path: &str) -> Result<Self, NetError> {
        Self::open(&NodeSource::File(path.to_string()))
    }

    /// The network of a node-list source (see `crate::net::nodes`). A node or seed is asked
    /// directly (the client knows no other node yet to build a path with), and the nodes it lists
    /// speak what it speaks: HTTPS for an `https://` URL.
    pub fn open(source: &NodeSource) -> Result<Self, NetError> {
        let name = source.name().trim_end_matches('/').to_string();
        let failed = |e: LoadError| {
            if e.is_network() || source.is_remote_node() {
                NetError::Bootstrap { url: name.clone(), reason: e.reason() }
            } else {
                NetError::NodeList { source_name: name.clone(), reason: e.reason() }
            }
        };
        let value = source.load_value().map_err(failed)?;
        match Self::from_value(&value, &name) {
            Ok(mut net) => {
                net.set_https(net.https || source.is_https() && source.is_remote_node());
                Ok(net)
            }
            Err(NetError::NodeList { reason, .. }) if source.is_remote_node() => {
                Err(NetError::Bootstrap { url: name, reason })
            }
            Err(e) => Err(e),
        }
    }

    /// Chooses the onion encryption (xchacha20 by default).
    pub fn set_enc(&mut self, enc: EncType) {
        self.enc = enc;
    }

    /// The onion encryption in use.
    pub fn enc(&self) -> EncType {
        self.enc
    }

    /// The HTTP client requests go out on.
    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Every node of the list.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// The node list as loaded.
    pub fn node_list(&self) -> &NodeList {
        &self.list
    }

    /// The PoW difficulty stores need (0 = off).
    pub fn pow_difficulty(&self) -> u64 {
        self.pow_difficulty.load(Ordering::Relaxed)
    }

    /// Raises the difficulty after a 432 answer.
    pub fn set_pow_difficulty(&self, difficulty: u64) {
        self.pow_difficulty.store(difficulty, Ordering::Relaxed);
    }

    /// The nodes of the swarm that holds `pk`: a swarm learned from a 421 if any, else the node
    /// list's mapping (swarms.md §1).
    pub fn swarm_of(&self, pk: &Pubkey) -> Result<Vec<NodeInfo>, NetError> {
        if let Ok(cache) = self.swarms.lock()
            && let Some(nodes) = cache.get(&pk.to_hex())
        {
            return Ok(nodes.clone());
        }
        match self.list.swarm_of(pk) {
            Some((_, members)) if !members.is_empty() => Ok(members),
            _ => Err(NetError::NoSwarm { pubkey: pk.to_hex() }),
        }
    }

    /// Replaces the cached swarm of `pk` (from a 421 answer's `snodes`).
    pub fn set_swarm(&self, pk: &Pubkey, nodes: Vec<NodeInfo>) {
        if nodes.is_empty() {
            return;
        }
        if let Ok(mut cache) = self.swarms.lock() {
            cache.insert(pk.to_hex(), nodes);
        }
    }

    /// Sends `{"method", "params"}` to `target` through an onion path: a kept one when paths
    /// are kept, else a fresh one. A path that fails (no answer from the guard, an error status
    /// from a relay, an undecryptable reply) is replaced by another, up to `CLIENT_PATH_ATTEMPTS`
    /// paths. `Err` says why the last failed.
    pub fn onion_rpc(&self, target: &NodeInfo, method: &str, params: &Value) -> Result<RpcReply, String> {
        self.onion_rpc_via(&self.transport, target, method, params)
    }

    /// [`Network::onion_rpc`] on another HTTP client: a held call (`sync_listen`) needs a
    /// longer timeout than the client's 15 s, a clean shutdown's `sync_unlisten` a shorter one.
    pub fn onion_rpc_via(
        &self,
        transport: &Transport,
        target: &NodeInfo,
        method: &str,
        params: &Value,
    ) -> Result<RpcReply, String> {
        let payload = json!({"method": method, "params": params}).to_string();
        if let Some(kept) = &self.kept {
            return self.onion_rpc_kept(transport, kept, target, payload.as_bytes());
        }
        let mut avoid: Vec<[u8; 32]> = Vec::new();
        let mut last_error = String::from("no path");
        let mut rng = rand::thread_rng();
        for _ in 0..CLIENT_PATH_ATTEMPTS {
            let Some(path) = choose_path(&self.nodes, &target.pubkey_ed25519, &avoid, &mut rng) else {
                return Err("no node to build a path with".to_string());
            };
            match self.through(transport, &path, target, payload.as_bytes()) {
                Ok(reply) => return Ok(reply),
                Err(f) => {
                    last_error = f.reason;
                    avoid.extend(f.blamed);
                }
            }
        }
        Err(last_error)
    }

    fn onion_rpc_kept(
        &self,
        transport: &Transport,
        kept: &Mutex<KeptPaths>,
        target: &NodeInfo,
        payload: &[u8],
    ) -> Result<RpcReply, String> {
        let mut last_error = String::from("no path");
        for _ in 0..CLIENT_PATH_ATTEMPTS {
            let path = match self.kept_path(kept, target) {
                Ok(p) => p,
                Err(e) => {
                    last_error = e;
                    continue;
                }
            };
            match self.through(transport, &path, target, payload) {
                Ok(reply) => {
                    self.top_up(kept, target);
                    return Ok(reply);
                }
                Err(f) => {
                    let mut k = kept.lock().map_err(|_| "path state poisoned".to_string())?;
                    k.failed(&path, &f.blamed, crate::formats::time::now_ms());
                    save(&k);
                    last_error = f.reason;
                }
            }
        }
        Err(last_error)
    }

    /// A kept path usable for `target`, built (and tested) now when there is none.
    fn kept_path(&self, kept: &Mutex<KeptPaths>, target: &NodeInfo) -> Result<Vec<NodeInfo>, String> {
        // The lock is held while building, so that concurrent requests wait for one new path
        // instead of each building their own.
        let mut k = kept.lock().map_err(|_| "path state poisoned".to_string())?;
        k.prune(crate::formats::time::now_ms());
        if let Some(p) = k.pick(&target.pubkey_ed25519, &mut rand::thread_rng()) {
            return Ok(p.hops);
        }
        if k.len() >= CLIENT_KEPT_PATHS {
            // Every kept path runs through this target (a small network): a one-off path for this
            // request, so that good kept paths are not thrown away for it.
            let mut rng = rand::thread_rng();
            return choose_path(&self.nodes, &target.pubkey_ed25519, &k.avoided(), &mut rng)
                .ok_or_else(|| "no node to build a path with".to_string());
        }
        let hops = self.build_path(&k, &target.pubkey_ed25519)?;
        k.add(hops.clone(), crate::formats::time::now_ms());
        save(&k);
        Ok(hops)
    }

    /// After a success: builds the standby path when fewer than [`CLIENT_KEPT_PATHS`] are kept,
    /// so that the next failure is retried at once on it. A failed build is only logged (the
    /// request it follows has succeeded).
    fn top_up(&self, kept: &Mutex<KeptPaths>, target: &NodeInfo) {
        let Ok(mut k) = kept.lock() else { return };
        if k.len() >= CLIENT_KEPT_PATHS {
            return;
        }
        match self.build_path(&k, &target.pubkey_ed25519) {
            Ok(hops) => {
                k.add(hops, crate::formats::time::now_ms());
                save(&k);
            }
            Err(e) => tracing::debug!(error = %e, "no standby path yet"),
        }
    }

    /// Chooses a path (not through `target`, avoiding the hops `kept` avoids) and tests it with
    /// an `info` request through it to its last hop; up to `CLIENT_PATH_ATTEMPTS` tries.
    fn build_path(&self, kept: &KeptPaths, target: &[u8; 32]) -> Result<Vec<NodeInfo>, String> {
        let mut avoid = kept.avoided();
        let mut last_error = String::from("no path");
        let mut rng = rand::thread_rng();
        let info = json!({"method": "info", "params": {}}).to_string();
        for _ in 0..CLIENT_PATH_ATTEMPTS {
            let Some(path) = choose_path(&self.nodes, target, &avoid, &mut rng) else {
                return Err("no node to build a path with".to_string());
            };
            let Some((last, relays)) = path.split_last() else { return Err("empty path".to_string()) };
            match self.through(&self.transport, relays, last, info.as_bytes()) {
                Ok(reply) if reply.status == 200 => return Ok(path),
                Ok(reply) => {
                    last_error = format!("path test: HTTP {} from its last hop", reply.status);
                    avoid.push(last.pubkey_ed25519);
                }
                Err(f) => {
                    last_error = format!("path test: {}", f.reason);
                    avoid.extend(f.blamed);
                }
            }
        }
        Err(last_error)
    }

    /// One request through `path` (guard first) to `target`, and the hops a failure blames: the
    /// guard when it does not answer, the relays after it for an error status, every hop for a
    /// reply that does not decrypt.
    fn through(
        &self,
        transport: &Transport,
        path: &[NodeInfo],
        target: &NodeInfo,
        payload: &[u8],
    ) -> Result<RpcReply, PathFailure> {
        let fail = |reason: String, blamed: Vec<[u8; 32]>| PathFailure { reason, blamed };
        let hops: Vec<HopKeys> = path
            .iter()
            .chain(std::iter::once(target))
            .map(|n| HopKeys { ed25519: n.pubkey_ed25519.into(), x25519: n.pubkey_x25519.into() })
            .collect();
        let (request, reply_key) =
            onion::build(&hops, payload, self.enc).map_err(|e| fail(format!("onion: {e}"), Vec::new()))?;
        let Some(guard) = path.first() else { return Err(fail("empty path".to_string(), Vec::new())) };
        let url = format!("{}/onion_req/v2", self.url_of(guard));
        match transport.post(&url, "application/octet-stream", &request.guard_body) {
            Err(e) => Err(fail(format!("guard {}: {e}", short(&guard.ed_hex())), vec![guard.pubkey_ed25519])),
            Ok(reply) if reply.status != 200 => Err(fail(
                format!("path: HTTP {} {}", reply.status, reply.text()),
                path.iter().skip(1).map(|n| n.pubkey_ed25519).collect(),
            )),
            Ok(reply) => match onion::decrypt_reply(&reply_key, &reply.body) {
                Ok((status, body)) => Ok(RpcReply { status, body: normalize_body(body) }),
                Err(e) => Err(fail(
                    format!("path: bad reply ({e})"),
                    path.iter().map(|n| n.pubkey_ed25519).collect(),
                )),
            },
        }
    }
}

/// Saves the kept paths; a failure is logged, not fatal (they are a cache: the next run builds
/// new ones).
fn save(kept: &KeptPaths) {
    if let Err(e) = kept.save() {
        tracing::warn!(file = %kept.file().display(), error = %e, "cannot save the kept paths");
    }
}

/// A body that is a JSON string holding JSON is parsed (nodes may answer either way).
fn normalize_body(body: Value) -> Value {
    match body {
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        other => other,
    }
}

/// The `pow_difficulty` a node list carries next to its nodes (0 when absent).
pub fn pow_difficulty_of(value: &Value) -> u64 {
    let top = value.get("result").unwrap_or(value);
    top.get("pow_difficulty").and_then(Value::as_u64).unwrap_or(0)
}

/// Whether a node list says its nodes speak HTTPS (`"tls": true` next to the nodes, as
/// `testnet up --tls` writes it).
pub fn tls_of(value: &Value) -> bool {
    let top = value.get("result").unwrap_or(value);
    top.get("tls").and_then(Value::as_bool).unwrap_or(false)
}

/// The `snodes` of a 421 answer (a `get_swarm` body), as nodes (none if it does not parse).
pub fn swarm_from_421(body: &Value) -> Vec<NodeInfo> {
    match crate::formats::nodelist::parse_get_swarm_reply(body) {
        Ok(reply) => reply.nodes,
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_421_body_gives_the_new_swarm() {
        let entry = json!({"pubkey_ed25519": "aa".repeat(32), "pubkey_x25519": "bb".repeat(32), "ip": "127.0.0.1",
            "port_https": 5000, "port": "5000"});
        let body = json!({"snodes": [entry.clone(), entry], "swarm": "0000000000000001", "t": 1});
        let nodes = swarm_from_421(&body);
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].url(), "http://127.0.0.1:5000");
        assert!(swarm_from_421(&json!("Wrong swarm")).is_empty());
    }

    #[test]
    fn test_difficulty_is_read_from_either_form() {
        assert_eq!(pow_difficulty_of(&json!({"service_node_states": [], "pow_difficulty": 7})), 7);
        assert_eq!(
            pow_difficulty_of(&json!({"result": {"service_node_states": [], "pow_difficulty": 3}})),
            3
        );
        assert_eq!(pow_difficulty_of(&json!([])), 0);
    }

    #[test]
    fn test_string_bodies_holding_json_are_parsed() {
        assert_eq!(normalize_body(json!("{\"a\":1}")), json!({"a": 1}));
        assert_eq!(normalize_body(json!("plain")), json!("plain"));
    }
}
