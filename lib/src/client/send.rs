//! Sending: build the envelope, solve its proof of work, and store it on
//! [`CLIENT_STORE_COPIES`] distinct members of the recipient's swarm, each through its own fresh
//! onion path. A 421 answer replaces the swarm and the send carries on with the new members; a
//! 432 answer raises the difficulty, the nonce is solved again and the store retried; a member
//! that cannot be reached is replaced by another member of the swarm.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use serde_json::Value;

use super::{ClientError, summarize};
use crate::formats::envelope::{Envelope, encode_nonce};
use crate::formats::keys::Pubkey;
use crate::formats::limits::{
    CLIENT_DEFAULT_TTL_MS, CLIENT_MAX_MESSAGE_BYTES, CLIENT_MAX_REDIRECTS, CLIENT_MAX_TTL_MS,
    CLIENT_MIN_TTL_MS, CLIENT_STORE_COPIES,
};
use crate::formats::limits::{POW_MAX_THREADS, POW_SEND_MAX_EXPECTED_TRIALS};
use crate::formats::nodelist::NodeInfo;
use crate::formats::pow;
use crate::formats::rpc;
use crate::formats::rpc::client::MemberStore;
use crate::formats::time::now_ms;
use crate::net::network::{Network, RpcReply, swarm_from_421};

/// How to send.
#[derive(Debug, Clone)]
pub struct SendOptions {
    /// Milliseconds the message lives (10 s to 14 days).
    pub ttl_ms: u64,
    /// The namespace (0: the DM inbox; other public inboxes are multiples of 10).
    pub namespace: i16,
    /// How many distinct swarm members to store on.
    pub copies: usize,
    /// Threads for the proof of work.
    pub pow_threads: usize,
    /// The envelope timestamp (now when `None`).
    pub timestamp_ms: Option<u64>,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            ttl_ms: CLIENT_DEFAULT_TTL_MS,
            namespace: 0,
            copies: CLIENT_STORE_COPIES,
            pow_threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            timestamp_ms: None,
        }
    }
}

/// A node that did not store the message, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    /// The node's ed25519 key, hex.
    pub node: String,
    /// Why it failed.
    pub reason: String,
}

/// What `send` prints: `{"hash", "stored": [node ed25519 hex...], "failed": [{node, reason}]}`.
#[derive(Debug, Clone, Serialize)]
pub struct SendReport {
    /// The message's hash, as the nodes signed it.
    pub hash: String,
    /// The Ed25519 keys (hex) of the members that stored it.
    pub stored: Vec<String>,
    /// The members that did not, and why.
    pub failed: Vec<Failure>,
}

/// The bytes `send` stores for what it read: a single JSON value (such as the line
/// `ratchet encrypt` prints) is stored as its text without surrounding whitespace (no trailing
/// newline); anything else is stored byte for byte. Refuses empty and oversize messages.
pub fn prepare_message(input: &[u8]) -> Result<Vec<u8>, ClientError> {
    let data = match std::str::from_utf8(input) {
        Ok(text) => {
            let trimmed = text.trim();
            if !trimmed.is_empty() && serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok() {
                trimmed.as_bytes().to_vec()
            } else {
                input.to_vec()
            }
        }
        Err(_) => input.to_vec(),
    };
    check_size(&data)?;
    Ok(data)
}

fn check_size(data: &[u8]) -> Result<(), ClientError> {
    if data.is_empty() {
        return Err(ClientError::EmptyMessage);
    }
    if data.len() > CLIENT_MAX_MESSAGE_BYTES {
        return Err(ClientError::MessageTooLarge { len: data.len(), max: CLIENT_MAX_MESSAGE_BYTES });
    }
    Ok(())
}

/// Refuses a TTL outside the range the nodes accept.
pub fn check_ttl(ttl_ms: u64) -> Result<(), ClientError> {
    if !(CLIENT_MIN_TTL_MS..=CLIENT_MAX_TTL_MS).contains(&ttl_ms) {
        return Err(ClientError::BadTtl { ttl_ms, min_ms: CLIENT_MIN_TTL_MS, max_ms: CLIENT_MAX_TTL_MS });
    }
    Ok(())
}

/// What one store attempt on one node came to.
enum Outcome {
    Stored,
    Failed(String),
    WrongSwarm(Vec<NodeInfo>),
    NeedsDifficulty(u64),
}

/// Stores `data` for `to` on `opts.copies` distinct members of its swarm. `Ok` when at least
/// one node stored it (the report lists the others' failures); `Err(NoneStored)` otherwise.
pub fn send(net: &Network, to: &Pubkey, data: &[u8], opts: &SendOptions) -> Result<SendReport, ClientError> {
    check_size(data)?;
    check_ttl(opts.ttl_ms)?;
    let mut envelope = Envelope {
        pubkey: to.to_hex(),
        timestamp: opts.timestamp_ms.unwrap_or_else(now_ms),
        ttl: opts.ttl_ms,
        data: B64.encode(data),
        nonce: None,
    };
    let mut solved_at = 0;
    solve(&mut envelope, net.pow_difficulty(), opts, &mut solved_at)?;

    let local_hash = rpc::message_hash(to, opts.namespace, data);
    let mut stored: Vec<String> = Vec::new();
    let mut failed: Vec<Failure> = Vec::new();
    let mut tried: Vec<[u8; 32]> = Vec::new();
    let mut redirects = 0;
    let copies = opts.copies.max(1);

    let mut swarm = shuffled(net.swarm_of(to)?);
    loop {
        let need = copies.saturating_sub(stored.len());
        let batch: Vec<NodeInfo> =
            swarm.iter().filter(|n| !tried.contains(&n.pubkey_ed25519)).take(need).cloned().collect();
        if need == 0 || batch.is_empty() {
            break;
        }
        tried.extend(batch.iter().map(|n| n.pubkey_ed25519));
        let params = rpc::client::store_params(&envelope, opts.namespace);
        let outcomes: Vec<(NodeInfo, Outcome)> = std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .iter()
                .map(|node| {
                    let (params, expected) = (&params, local_hash.as_str());
                    s.spawn(move || (node.clone(), store_on(net, node, params, expected)))
                })
                .collect();
            handles
                .into_iter()
                .zip(batch.iter())
                .map(|(h, node)| {
                    h.join().unwrap_or_else(|_| (node.clone(), Outcome::Failed("internal error".into())))
                })
                .collect()
        });
        let mut retry_pow = None;
        let mut redirected = false;
        for (node, outcome) in outcomes {
            match outcome {
                // The node signed exactly `local_hash` (judge_store checked it).
                Outcome::Stored => stored.push(node.ed_hex()),
                Outcome::Failed(reason) => failed.push(Failure { node: node.ed_hex(), reason }),
                Outcome::WrongSwarm(nodes) if redirects < CLIENT_MAX_REDIRECTS && !nodes.is_empty() => {
                    // One redirect per round, however many members said so.
                    if !redirected {
                        net.set_swarm(to, nodes.clone());
                        swarm = shuffled(nodes);
                        redirected = true;
                    }
                }
                Outcome::WrongSwarm(_) => {
                    failed.push(Failure { node: node.ed_hex(), reason: "421 wrong swarm".into() })
                }
                Outcome::NeedsDifficulty(d) if d > solved_at => {
                    retry_pow = Some(retry_pow.map_or(d, |r: u64| r.max(d)));
                    tried.retain(|k| *k != node.pubkey_ed25519);
                }
                Outcome::NeedsDifficulty(d) => failed.push(Failure {
                    node: node.ed_hex(),
                    reason: format!("432 proof of work refused at difficulty {d}"),
                }),
            }
        }
        if redirected {
            redirects += 1;
        }
        if let Some(d) = retry_pow {
            net.set_pow_difficulty(d);
            solve(&mut envelope, d, opts, &mut solved_at)?;
        }
    }

    // A node that failed first and stored on a later try counts as stored only.
    failed.retain(|f| !stored.contains(&f.node));
    if stored.is_empty() {
        return Err(ClientError::NoneStored { summary: summarize(&failed), failed });
    }
    Ok(SendReport { hash: local_hash, stored, failed })
}

fn solve(
    envelope: &mut Envelope,
    difficulty: u64,
    opts: &SendOptions,
    solved_at: &mut u64,
) -> Result<(), ClientError> {
    if difficulty == 0 {
        return Ok(());
    }
    pow::check_feasible(envelope, difficulty, POW_SEND_MAX_EXPECTED_TRIALS)
        .map_err(|e| ClientError::Pow(e.to_string()))?;
    let threads = opts.pow_threads.clamp(1, POW_MAX_THREADS);
    let nonce =
        pow::solve(envelope, difficulty, threads, &|_| {}).map_err(|e| ClientError::Pow(e.to_string()))?;
    envelope.nonce = Some(encode_nonce(&nonce));
    *solved_at = difficulty;
    Ok(())
}

fn shuffled(mut nodes: Vec<NodeInfo>) -> Vec<NodeInfo> {
    use rand::seq::SliceRandom;
    nodes.shuffle(&mut rand::thread_rng());
    nodes
}

fn store_on(net: &Network, node: &NodeInfo, params: &Value, expected_hash: &str) -> Outcome {
    match net.onion_rpc(node, "store", params) {
        Err(reason) => Outcome::Failed(reason),
        Ok(reply) => judge_store(node, reply, expected_hash),
    }
}

/// What a store reply says, for the message whose hash we computed (`expected_hash`).
fn judge_store(node: &NodeInfo, reply: RpcReply, expected_hash: &str) -> Outcome {
    let RpcReply { status, body } = reply;
    match status {
        200 => {
            let Ok(parsed) = rpc::client::parse_store_reply(&body) else {
                return Outcome::Failed(format!("unreadable store reply: {}", body_text(&body)));
            };
            // The target's own entry must be a success signed by its key: "stored" in the report
            // means a node said so with its signature, never a 200 alone.
            let me = node.ed_hex();
            match parsed.members.iter().find(|(k, _)| k.eq_ignore_ascii_case(&me)) {
                None => Outcome::Failed("store reply has no entry of the node itself".into()),
                Some((_, MemberStore::Failed { reason })) => {
                    Outcome::Failed(format!("node reported: {reason}"))
                }
                Some((_, MemberStore::Stored { hash, .. })) if hash != expected_hash => Outcome::Failed(
                    format!("store reply signs another message: hash {hash}, expected {expected_hash}"),
                ),
                Some((_, own)) if !own.verify(&me) => {
                    Outcome::Failed("store reply signature does not verify".into())
                }
                Some(_) => Outcome::Stored,
            }
        }
        421 => Outcome::WrongSwarm(swarm_from_421(&body)),
        432 => match body.get("difficulty").and_then(Value::as_u64) {
            Some(d) => Outcome::NeedsDifficulty(d),
            None => Outcome::Failed("432 proof of work refused".into()),
        },
        406 | 425 => Outcome::Failed(format!("{status} clock out of sync with the node")),
        _ => Outcome::Failed(format!("{status} {}", body_text(&body))),
    }
}

fn body_text(body: &Value) -> String {
    let text = match body {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.chars().take(160).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node() -> NodeInfo {
        NodeInfo {
            pubkey_ed25519: [1; 32],
            pubkey_x25519: [2; 32],
            public_ip: "127.0.0.1".into(),
            storage_port: 1,
            swarm_id: 0,
        }
    }

    #[test]
    fn test_json_line_is_stored_without_its_newline() {
        assert_eq!(prepare_message(b"{\"a\":1}\n").unwrap(), b"{\"a\":1}");
        assert_eq!(prepare_message(b"hello\n").unwrap(), b"hello\n");
        assert_eq!(prepare_message(&[0xff, 0x00, 0x0a]).unwrap(), vec![0xff, 0x00, 0x0a]);
    }

    #[test]
    fn test_empty_and_oversize_messages_are_refused() {
        assert!(matches!(prepare_message(b""), Err(ClientError::EmptyMessage)));
        let big = vec![b'x'; CLIENT_MAX_MESSAGE_BYTES + 1];
        assert!(matches!(prepare_message(&big), Err(ClientError::MessageTooLarge { .. })));
        assert!(prepare_message(&big[..CLIENT_MAX_MESSAGE_BYTES]).is_ok());
    }

    #[test]
    fn test_ttl_bounds() {
        assert!(check_ttl(CLIENT_DEFAULT_TTL_MS).is_ok());
        assert!(check_ttl(CLIENT_MIN_TTL_MS - 1).is_err());
        assert!(check_ttl(CLIENT_MAX_TTL_MS + 1).is_err());
    }

    #[test]
    fn test_store_replies_are_judged() {
        use base64::Engine;
        use ed25519_dalek::Signer;
        let sk = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let signer = NodeInfo { pubkey_ed25519: sk.verifying_key().to_bytes(), ..node() };
        let sig = base64::engine::general_purpose::STANDARD.encode(sk.sign(b"h").to_bytes());
        let entry = json!({"hash": "h", "signature": sig, "expiry": 1});
        let ok = RpcReply { status: 200, body: json!({"hash": "h", "swarm": {signer.ed_hex(): entry}}) };
        assert!(matches!(judge_store(&signer, ok, "h"), Outcome::Stored));
        // A 200 without the node's own signed entry is not a store.
        let bare = RpcReply { status: 200, body: json!({"hash": "h", "swarm": {}}) };
        assert!(matches!(judge_store(&signer, bare, "h"), Outcome::Failed(r) if r.contains("no entry")));
        // A valid signed entry of another message (an old one, replayed) is not this store.
        let entry = json!({"hash": "h", "signature": sig, "expiry": 1});
        let stale = RpcReply { status: 200, body: json!({"hash": "h", "swarm": {signer.ed_hex(): entry}}) };
        assert!(
            matches!(judge_store(&signer, stale, "h2"), Outcome::Failed(r) if r.contains("another message"))
        );
        let forged = json!({"hash": "h", "signature": sig, "expiry": 1});
        let other = RpcReply { status: 200, body: json!({"hash": "h", "swarm": {node().ed_hex(): forged}}) };
        assert!(matches!(judge_store(&node(), other, "h"), Outcome::Failed(r) if r.contains("signature")));
        let own_fail = RpcReply {
            status: 200,
            body: json!({"swarm": {hex::encode([1u8; 32]): {"failed": true, "reason": "x"}}}),
        };
        assert!(matches!(judge_store(&node(), own_fail, "h"), Outcome::Failed(_)));
        let pow = RpcReply { status: 432, body: json!({"difficulty": 5}) };
        assert!(matches!(judge_store(&node(), pow, "h"), Outcome::NeedsDifficulty(5)));
        let wrong = RpcReply { status: 421, body: json!({"snodes": []}) };
        assert!(matches!(judge_store(&node(), wrong, "h"), Outcome::WrongSwarm(v) if v.is_empty()));
        let clock = RpcReply { status: 406, body: json!("Timestamp error") };
        assert!(matches!(judge_store(&node(), clock, "h"), Outcome::Failed(r) if r.contains("clock")));
    }
}
