//! Retrieving: ask [`CLIENT_RETRIEVE_NODES`] members of the identity's own swarm, each through
//! its own onion path, for the messages after the last hash that node gave us (signed as
//! storage-rpc.md requires), merge the answers, drop what was already printed, and order the
//! rest by timestamp (then hash, so the order is total).

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use serde_json::Value;

use super::send::Failure;
use super::state::RetrieveState;
use super::{ClientError, summarize};
use crate::formats::identity::Identity;
use crate::formats::keys::Pubkey;
use crate::formats::limits::{CLIENT_MAX_REDIRECTS, CLIENT_RETRIEVE_MAX_PAGES, CLIENT_RETRIEVE_NODES};
use crate::formats::nodelist::NodeInfo;
use crate::formats::rpc;
use crate::formats::time::now_ms;
use crate::net::network::{Network, swarm_from_421};

/// One retrieved message, as `retrieve` prints it (one NDJSON line each).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Retrieved {
    /// The message hash (43 characters of unpadded base64).
    pub hash: String,
    /// The sender's envelope timestamp, ms.
    pub timestamp: u64,
    /// When the swarm drops the message, ms.
    pub expiration: u64,
    /// The stored bytes, standard base64 (what `ratchet decrypt` reads).
    pub data: String,
    /// The ed25519 key (hex) of the first node that returned it.
    pub from_node: String,
    /// The sealed presence of a framed message (docs/sync.md), not printed: `data` is the
    /// frame's body alone, so `retrieve | ratchet decrypt` reads what was sent.
    #[serde(skip)]
    pub presence: Option<Vec<u8>>,
}

/// What one node answered in one poll.
struct NodeAnswer {
    node: String,
    messages: Vec<Retrieved>,
}

enum NodeOutcome {
    Answered(NodeAnswer),
    Failed(String),
    WrongSwarm(Vec<NodeInfo>),
}

/// Polls an identity's swarm and remembers what it has printed.
#[derive(Debug)]
pub struct Retriever<'a> {
    identity: &'a Identity,
    pubkey: Pubkey,
    state: RetrieveState,
    namespace: i16,
    /// A node never polled (`retrieve --listen`'s listening node: it must not pair the listen
    /// key with the account's signed retrieves by timing).
    exclude: Option<[u8; 32]>,
}

impl<'a> Retriever<'a> {
    /// A retriever for `identity` with its saved state.
    pub fn new(identity: &'a Identity, state: RetrieveState) -> Self {
        let pubkey = Pubkey::from(identity.session_id());
        Self { identity, pubkey, state, namespace: 0, exclude: None }
    }

    /// Never polls `node` (see [`Retriever`]'s `exclude`).
    pub fn set_exclude(&mut self, node: Option<[u8; 32]>) {
        self.exclude = node;
    }

    /// Replaces the state (`retrieve --listen` keeps one shared state for both of its paths).
    pub fn replace_state(&mut self, state: RetrieveState) {
        self.state = state;
    }

    /// The state (saved by [`Retriever::save`]).
    pub fn state(&self) -> &RetrieveState {
        &self.state
    }

    /// Saves the state atomically.
    pub fn save(&self) -> Result<(), ClientError> {
        self.state.save()
    }

    /// `retrieve --delete`: deletes `hashes` (printed and saved already) from the identity's
    /// swarm with signed, recursive `delete` requests (at most `DELETE_MAX_HASHES` each) through
    /// an onion path; returns how many members confirmed each with a valid signature (the
    /// smallest count over the requests).
    pub fn delete(&self, net: &Network, hashes: &[String]) -> Result<usize, ClientError> {
        let mut confirmed = usize::MAX;
        for chunk in hashes.chunks(crate::formats::limits::DELETE_MAX_HASHES) {
            let params = rpc::client::delete_params(self.identity, chunk, false);
            let out = super::rpc::call(net, "delete", &params, super::rpc::Route::Onion, None)
                .map_err(|e| ClientError::Delete(e.to_string()))?;
            let ok = out.reply["swarm"]
                .as_object()
                .map_or(0, |m| m.values().filter(|e| e["verified"] == serde_json::json!(true)).count());
            if ok == 0 {
                return Err(ClientError::Delete(format!(
                    "no member of the swarm confirmed it ({})",
                    out.reply
                )));
            }
            confirmed = confirmed.min(ok);
        }
        Ok(if confirmed == usize::MAX { 0 } else { confirmed })
    }

    /// One poll: the new messages, oldest first, each at most once across runs. The state in
    /// memory is updated (call [`Retriever::save`] once they are printed). `Err(Unreachable)` when
    /// no member of the swarm answered.
    pub fn poll(&mut self, net: &Network) -> Result<Vec<Retrieved>, ClientError> {
        let mut swarm = shuffled(net.swarm_of(&self.pubkey)?);
        let exclude = self.exclude;
        swarm.retain(|n| Some(n.pubkey_ed25519) != exclude);
        let mut answers: Vec<NodeAnswer> = Vec::new();
        let mut failed: Vec<Failure> = Vec::new();
        let mut tried: Vec<[u8; 32]> = Vec::new();
        let mut redirects = 0;
        loop {
            let need = CLIENT_RETRIEVE_NODES.saturating_sub(answers.len());
            let batch: Vec<NodeInfo> =
                swarm.iter().filter(|n| !tried.contains(&n.pubkey_ed25519)).take(need).cloned().collect();
            if need == 0 || batch.is_empty() {
                break;
            }
            tried.extend(batch.iter().map(|n| n.pubkey_ed25519));
            let this = &*self;
            let outcomes: Vec<(NodeInfo, NodeOutcome)> = std::thread::scope(|s| {
                let handles: Vec<_> = batch
                    .iter()
                    .map(|node| {
                        let last = this.state.last_hash(&node.ed_hex()).map(str::to_string);
                        s.spawn(move || (node.clone(), this.fetch(net, node, last)))
                    })
                    .collect();
                handles
                    .into_iter()
                    .zip(batch.iter())
                    .map(|(h, node)| {
                        h.join()
                            .unwrap_or_else(|_| (node.clone(), NodeOutcome::Failed("internal error".into())))
                    })
                    .collect()
            });
            let mut redirected = false;
            for (node, outcome) in outcomes {
                match outcome {
                    NodeOutcome::Answered(a) => answers.push(a),
                    NodeOutcome::Failed(reason) => failed.push(Failure { node: node.ed_hex(), reason }),
                    NodeOutcome::WrongSwarm(nodes)
                        if !nodes.is_empty() && redirects < CLIENT_MAX_REDIRECTS =>
                    {
                        if !redirected {
                            net.set_swarm(&self.pubkey, nodes.clone());
                            swarm = shuffled(nodes);
                            swarm.retain(|n| Some(n.pubkey_ed25519) != exclude);
                            redirected = true;
                        }
                    }
                    NodeOutcome::WrongSwarm(_) => {
                        failed.push(Failure { node: node.ed_hex(), reason: "421 wrong swarm".into() })
                    }
                }
            }
            if redirected {
                redirects += 1;
            }
        }
        if answers.is_empty() {
            return Err(ClientError::Unreachable { summary: summarize(&failed) });
        }
        Ok(self.merge(answers))
    }

    /// Merges node answers into the new messages and records them in the state.
    fn merge(&mut self, answers: Vec<NodeAnswer>) -> Vec<Retrieved> {
        let mut fresh: Vec<Retrieved> = Vec::new();
        let mut batch: HashSet<String> = HashSet::new();
        for answer in answers {
            if let Some(last) = answer.messages.last() {
                self.state.set_last_hash(&answer.node, &last.hash);
            }
            for m in answer.messages {
                if !self.state.is_seen(&m.hash) && batch.insert(m.hash.clone()) {
                    fresh.push(m);
                }
            }
        }
        fresh.sort_by(|a, b| (a.timestamp, &a.hash).cmp(&(b.timestamp, &b.hash)));
        self.state.prune(now_ms());
        for m in &fresh {
            self.state.remember(m.hash.clone(), m.expiration);
        }
        fresh
    }

    /// Every page of one node's answer after `last_hash`.
    fn fetch(&self, net: &Network, node: &NodeInfo, mut last_hash: Option<String>) -> NodeOutcome {
        let node_hex = node.ed_hex();
        let mut messages = Vec::new();
        for _ in 0..CLIENT_RETRIEVE_MAX_PAGES {
            let params =
                rpc::client::retrieve_params(self.identity, self.namespace, last_hash.as_deref(), now_ms());
            let reply = match net.onion_rpc(node, "retrieve", &params) {
                Ok(r) => r,
                Err(reason) => return NodeOutcome::Failed(reason),
            };
            match reply.status {
                200 => {}
                421 => return NodeOutcome::WrongSwarm(swarm_from_421(&reply.body)),
                status => {
                    let text = match &reply.body {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    return NodeOutcome::Failed(format!(
                        "{status} {}",
                        text.chars().take(160).collect::<String>()
                    ));
                }
            }
            let (page, more) = match parse_messages(&reply.body, &node_hex) {
                Ok(p) => p,
                Err(reason) => return NodeOutcome::Failed(reason),
            };
            let empty = page.is_empty();
            if let Some(last) = page.last() {
                last_hash = Some(last.hash.clone());
            }
            messages.extend(page);
            if !more || empty {
                break;
            }
        }
        NodeOutcome::Answered(NodeAnswer { node: node_hex, messages })
    }
}

/// The messages of a retrieve reply `{"messages":[{hash,timestamp,expiration,data}], "more"}`
/// (parsed by `rpc::client::parse_retrieve_reply`), and its `more` flag.
pub fn parse_messages(body: &Value, node_hex: &str) -> Result<(Vec<Retrieved>, bool), String> {
    let reply =
        rpc::client::parse_retrieve_reply(body).map_err(|e| format!("unreadable retrieve reply: {e}"))?;
    let messages = reply
        .messages
        .into_iter()
        .map(|m| {
            let framed = crate::formats::sync::wrap::unframe(&m.data);
            Retrieved {
                hash: m.hash,
                timestamp: m.timestamp_ms,
                expiration: m.expiry_ms,
                data: B64.encode(framed.map_or(&m.data[..], |f| f.body)),
                from_node: node_hex.to_string(),
                presence: framed.map(|f| f.presence.to_vec()),
            }
        })
        .collect();
    Ok((messages, reply.more))
}

fn shuffled(mut nodes: Vec<NodeInfo>) -> Vec<NodeInfo> {
    use rand::seq::SliceRandom;
    nodes.shuffle(&mut rand::thread_rng());
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(hash: &str, ts: u64, node: &str) -> Retrieved {
        Retrieved {
            hash: hash.into(),
            timestamp: ts,
            expiration: u64::MAX,
            data: "AA==".into(),
            from_node: node.into(),
            presence: None,
        }
    }

    #[test]
    fn test_merge_dedupes_and_orders_by_timestamp() {
        let dir = tempfile::tempdir().unwrap();
        let id = Identity::generate();
        let state = RetrieveState::load(dir.path(), &id.session_id().to_string()).unwrap();
        let mut r = Retriever::new(&id, state);
        let a = NodeAnswer { node: "n1".into(), messages: vec![msg("b", 2, "n1"), msg("c", 3, "n1")] };
        let b = NodeAnswer { node: "n2".into(), messages: vec![msg("a", 1, "n2"), msg("b", 2, "n2")] };
        let out = r.merge(vec![a, b]);
        let hashes: Vec<_> = out.iter().map(|m| m.hash.as_str()).collect();
        assert_eq!(hashes, ["a", "b", "c"]);
        assert_eq!(r.state().last_hash("n1"), Some("c"));
        assert_eq!(r.state().last_hash("n2"), Some("b"));
        // A node that forgot our last hash answers everything again: nothing is printed twice.
        let again = NodeAnswer { node: "n3".into(), messages: vec![msg("a", 1, "n3"), msg("d", 4, "n3")] };
        let out = r.merge(vec![again]);
        assert_eq!(out.iter().map(|m| m.hash.as_str()).collect::<Vec<_>>(), ["d"]);
    }

    #[test]
    fn test_retrieve_reply_parses_and_refuses_garbage() {
        let body = json!({"messages": [
            {"hash": "h1", "timestamp": 5, "expiration": 9, "data": "AA=="},
            {"hash": "h2", "timestamp": 6, "expiration": 10, "data": "AQ=="}
        ], "more": true});
        let (got, more) = parse_messages(&body, "n").unwrap();
        assert_eq!(got.len(), 2);
        assert!(more);
        assert_eq!(got[1].timestamp, 6);
        assert_eq!(got[1].data, "AQ==");
        assert!(parse_messages(&json!("nope"), "n").is_err());
        assert!(parse_messages(&json!({"messages": [{"hash": 3}]}), "n").is_err());
    }
}
