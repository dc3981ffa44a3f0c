//! The sender (spec sync.md §5.6): frame the message with our sealed presence, deliver it to
//! the recipient's listening node when its presence is fresh, and otherwise (or on any failure:
//! 404, a timeout, 429, 413, 5xx, a dead path, a bad proof) store **the same bytes** with the
//! same timestamp in the swarm, so that the recipient's seen set drops a second copy.

use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};

use super::{PeerRecord, SelfRecord, sync_dir};
use crate::client::ClientError;
use crate::client::send::{SendOptions, send};
use crate::formats::identity::{Identity, SessionId};
use crate::formats::keys::Pubkey;
use crate::formats::limits::{CLIENT_MAX_MESSAGE_BYTES, SYNC_PRESENCE_FAILS_OFFLINE};
use crate::formats::nodelist::NodeInfo;
use crate::formats::rpc;
use crate::formats::sync::rpc::{self as srpc, METHOD_DELIVER};
use crate::formats::sync::{ack, presence, wrap};
use crate::formats::time::now_ms;
use crate::net::network::Network;

/// `send --sync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Deliver synchronously when the peer's presence is fresh, else store.
    Auto,
    /// Always store (the message still carries our presence).
    Off,
    /// Deliver synchronously or fail (tests): never store.
    Only,
}

impl SyncMode {
    /// Parses `auto`, `off` or `only`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "off" => Some(Self::Off),
            "only" => Some(Self::Only),
            _ => None,
        }
    }
}

/// How `send` uses the sync route.
#[derive(Debug, Clone)]
pub struct SyncSendOptions {
    /// See [`SyncMode`].
    pub mode: SyncMode,
    /// How long the listening node waits for the ack (`wait_ms`).
    pub ack_timeout_ms: u64,
    /// Attach our online presence when our listener runs (false: `--no-presence`, an offline
    /// presence of the same size).
    pub presence: bool,
}

/// How one deliver ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Acked with a proof that opens our lock.
    Acked {
        /// Milliseconds from sending to the verified ack.
        ack_ms: u64,
    },
    /// Not acked.
    Failed {
        /// Why, one line.
        reason: String,
        /// What the failure says about the peer.
        verdict: Verdict,
    },
}

/// What a failed deliver says about the peer, hence what its record becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A 404 (`unknown`, `not_listening`, `gone`): not listening there; offline at once.
    Gone,
    /// A 429 (`rate_limited`, `queue_full`): listening, but its bucket or queue at L is full for
    /// now. A failure that does not mark it offline: the next message tries again (sync.md
    /// §5.6 would mark it offline until its next presence, and a steady sender faster than the
    /// bucket then never went back to sync).
    Busy,
    /// Anything else (a timeout, a forged proof, a dead path, a 5xx): one failure, offline at
    /// `SYNC_PRESENCE_FAILS_OFFLINE`.
    Failed,
}

impl Verdict {
    /// Whether the peer is offline after this failure, its `fails`-th in a row.
    pub fn marks_offline(self, fails: u32) -> bool {
        match self {
            Self::Gone => true,
            Self::Busy => false,
            Self::Failed => fails >= SYNC_PRESENCE_FAILS_OFFLINE,
        }
    }
}

/// One `sync_deliver` of `data` (the exact bytes a fallback stores) to `to`'s listening key
/// `listen_pk` at `node`.
#[allow(clippy::too_many_arguments)]
pub fn deliver(
    net: &Network,
    to: &SessionId,
    node: &NodeInfo,
    listen_pk: &[u8; 32],
    data: &[u8],
    timestamp: u64,
    expiry: u64,
    wait_ms: u64,
) -> Delivered {
    let hash = rpc::message_hash(&Pubkey::from(*to), 0, data);
    let (lock, secret) = match ack::lock(&to.x25519(), &hash, &mut rand::thread_rng()) {
        Ok(l) => l,
        Err(e) => return Delivered::Failed { reason: e.to_string(), verdict: Verdict::Failed },
    };
    let params = srpc::deliver_params(listen_pk, data, &lock, timestamp, expiry, wait_ms);
    let start = Instant::now();
    let reply = match net.onion_rpc(node, METHOD_DELIVER, &params) {
        Ok(r) => r,
        Err(reason) => {
            return Delivered::Failed { reason: format!("path: {reason}"), verdict: Verdict::Failed };
        }
    };
    let (status, proof) = srpc::parse_deliver_reply(&reply.body);
    let what = status.clone().unwrap_or_else(|| body_text(&reply.body));
    match (reply.status, proof) {
        (200, Some(p)) if ack::proof_is_secret(&p, &secret) => {
            Delivered::Acked { ack_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX) }
        }
        (200, _) => Delivered::Failed {
            reason: "invalid proof: the ack does not open our lock".into(),
            verdict: Verdict::Failed,
        },
        (404, _) => Delivered::Failed { reason: format!("404 {what}"), verdict: Verdict::Gone },
        (429, _) => Delivered::Failed { reason: format!("429 {what}"), verdict: Verdict::Busy },
        (code, _) => Delivered::Failed { reason: format!("{code} {what}"), verdict: Verdict::Failed },
    }
}

fn body_text(body: &Value) -> String {
    let t = match body {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    t.chars().take(120).collect()
}

/// Our presence sealed for `to`: online when our listener runs (and `online` is asked for),
/// else offline, one size either way.
pub fn sealed_presence(
    me: &Identity,
    to: &SessionId,
    state_dir: &Path,
    online: bool,
) -> Result<Vec<u8>, ClientError> {
    let now = now_ms();
    let dir = sync_dir(state_dir, &me.session_id());
    let p = online
        .then(|| SelfRecord::load(&dir).and_then(|s| s.presence(now)))
        .flatten()
        .unwrap_or_else(|| presence::Presence::offline(now));
    presence::seal(me, to, &p, &mut rand::thread_rng()).map_err(|e| ClientError::Request(e.to_string()))
}

/// `send` of a snkit message: framed with our presence (unless `body` is framed already: a
/// retry of the same bytes), delivered synchronously or stored. The report is
/// `{"hash","via":"sync","node","ack_ms"}` or the store report plus `"via":"async","sync":{...}`.
/// `Err(SyncFailed)` only with `--sync only`; `Err(NoneStored)` when the fallback stored nowhere.
pub fn send_message(
    net: &Network,
    me: &Identity,
    to: &SessionId,
    body: &[u8],
    state_dir: &Path,
    opts: &SendOptions,
    sync: &SyncSendOptions,
) -> Result<Value, ClientError> {
    let data = if wrap::unframe(body).is_some() {
        body.to_vec()
    } else {
        wrap::frame(&sealed_presence(me, to, state_dir, sync.presence)?, body)
    };
    if data.len() > CLIENT_MAX_MESSAGE_BYTES {
        return Err(ClientError::MessageTooLarge {
            len: data.len(),
            max: CLIENT_MAX_MESSAGE_BYTES
                - wrap::overhead(crate::formats::limits::SYNC_PRESENCE_SEALED_BYTES),
        });
    }
    let timestamp = opts.timestamp_ms.unwrap_or_else(now_ms);
    let expiry = timestamp + opts.ttl_ms;
    let dir = sync_dir(state_dir, &me.session_id());
    let reason = match sync.mode {
        SyncMode::Off => "--sync off".to_string(),
        _ => match try_sync(net, to, &dir, &data, timestamp, expiry, sync.ack_timeout_ms) {
            Ok(done) => return Ok(done),
            Err(reason) => reason,
        },
    };
    if sync.mode == SyncMode::Only {
        return Err(ClientError::SyncFailed(reason));
    }
    let opts = SendOptions { timestamp_ms: Some(timestamp), ..opts.clone() };
    let report = send(net, &Pubkey::from(*to), &data, &opts)?;
    let mut v = serde_json::to_value(&report).map_err(|e| ClientError::Request(e.to_string()))?;
    v["via"] = json!("async");
    v["sync"] = json!({"reason": reason});
    Ok(v)
}

/// The sync attempt: `Ok` the report of an acked deliver, `Err` why the message goes async
/// instead (no fresh presence, or the deliver failed: the peer's record says so).
fn try_sync(
    net: &Network,
    to: &SessionId,
    dir: &Path,
    data: &[u8],
    timestamp: u64,
    expiry: u64,
    wait_ms: u64,
) -> Result<Value, String> {
    let now = now_ms();
    let peer = PeerRecord::load(dir, to);
    let Some((node_pk, listen_pk)) = peer.target(now) else {
        return Err(if peer.offline {
            "peer marked offline".into()
        } else {
            "no fresh presence of the peer".into()
        });
    };
    let Some(node) = net.nodes().iter().find(|n| n.pubkey_ed25519 == node_pk).cloned() else {
        return Err("the peer's listening node is not in our node list".into());
    };
    match deliver(net, to, &node, &listen_pk, data, timestamp, expiry, wait_ms) {
        Delivered::Acked { ack_ms } => {
            let _ = PeerRecord::update(dir, to, |now_rec| {
                now_rec.last_ok = Some(now_ms());
                now_rec.fails = 0;
            });
            let hash = rpc::message_hash(&Pubkey::from(*to), 0, data);
            Ok(json!({"hash": hash, "via": "sync", "node": node.ed_hex(), "ack_ms": ack_ms}))
        }
        Delivered::Failed { reason, verdict } => {
            // Read again: a new presence may have come while the deliver failed (the peer's
            // listener failed over at the same time), and our verdict is about the old one.
            let _ = PeerRecord::update(dir, to, |now_rec| {
                if now_rec.node == peer.node && now_rec.listen_pk == peer.listen_pk {
                    now_rec.fails += 1;
                    now_rec.offline |= verdict.marks_offline(now_rec.fails);
                }
            });
            Err(reason)
        }
    }
}
