//! `retrieve --listen` (spec sync.md §5.5): one `sync_listen` held at the listening node L at
//! all times, the swarm polled in parallel (never L itself, so that L cannot pair the listen key
//! with the account's signed retrieves by timing), both paths printed as one NDJSON stream with
//! `"via": "sync"|"async"` and one seen set, so a message is printed once whichever way it came.
//!
//! For each batch of items: verify each hash lock, print what is not seen yet, flush, save the
//! seen set and append the sync-inbox journal (fsync), and **only then** send the proofs with
//! the next listen. A crash before the save leaves the items unacked: their senders store, and
//! the copies are printed from the swarm. A crash after it leaves them seen: the stored copies
//! are dropped.
//!
//! Threads: the listen loop, the poll loop, one per handshake, one waiting for SIGTERM/SIGINT.
//! The caller's thread waits for a stop (a signal, a closed stdout, a fatal error), then sends
//! `sync_unlisten` (bounded by `SYNC_UNLISTEN_TIMEOUT_MS`) and removes `self.json`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use serde::Serialize;

use super::deliver::{Delivered, deliver};
use super::{PeerRecord, SelfRecord, sync_dir};
use crate::client::ClientError;
use crate::client::retrieve::Retriever;
use crate::client::state::RetrieveState;
use crate::formats::identity::{Identity, SessionId};
use crate::formats::keys::Pubkey;
use crate::formats::limits::{
    CLIENT_CONNECT_TIMEOUT_MS, CLIENT_PATH_ATTEMPTS, SYNC_ACK_TIMEOUT_MS, SYNC_ASYNC_POLL_MS,
    SYNC_HEARTBEAT_MS, SYNC_JOURNAL_MAX_BYTES, SYNC_LISTEN_CLIENT_TIMEOUT_MS, SYNC_LISTEN_HOLD_MAX_MS,
    SYNC_LISTEN_RETRY_MS, SYNC_PRESENCE_TTL_MS, SYNC_UNLISTEN_TIMEOUT_MS,
};
use crate::formats::nodelist::NodeInfo;
use crate::formats::rpc;
use crate::formats::sync::ack;
use crate::formats::sync::presence::{self, Presence};
use crate::formats::sync::rpc::{self as srpc, Ack, METHOD_LISTEN, METHOD_UNLISTEN};
use crate::formats::sync::wrap;
use crate::formats::time::now_ms;
use crate::net::http::Transport;
use crate::net::network::Network;

/// The test-only failpoint: after this many saved sync batches, the listener aborts before it
/// acks (the crash between print and ack of sync.md §6.4). Only the e2e tests set it.
pub const CRASH_AFTER_SAVE_ENV: &str = "SNKIT_TEST_SYNC_CRASH_AFTER_SAVE";

/// Where to listen (`--listen-node`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenNode {
    /// A random member of our own swarm (the seed's choice).
    Swarm,
    /// Any node (less linkable to the account: sync.md §5.9).
    Any,
    /// This node (Ed25519 key); a failover picks from our swarm.
    Node([u8; 32]),
}

impl ListenNode {
    /// Parses `swarm`, `any` or 64 hex characters.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "swarm" => Some(Self::Swarm),
            "any" => Some(Self::Any),
            hex => crate::formats::keys::decode_hex32(hex).ok().map(Self::Node),
        }
    }
}

/// How `retrieve --listen` listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenOptions {
    /// Where (`--listen-node`).
    pub node: ListenNode,
    /// Our own deliver bucket at L (`--listen-rate`, `--listen-burst`; the node caps both).
    pub rate: Option<u64>,
    /// Its burst.
    pub burst: Option<u64>,
    /// Also print the listener's events as `{"event": …}` lines (`--events`).
    pub events: bool,
}

impl Default for ListenOptions {
    fn default() -> Self {
        Self { node: ListenNode::Swarm, rate: None, burst: None, events: false }
    }
}

/// One printed line.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Line {
    /// The storage hash of the bytes as sent (the same on both paths).
    pub hash: String,
    /// The sender's timestamp, ms.
    pub timestamp: u64,
    /// When the swarm copy (if any) expires, ms.
    pub expiration: u64,
    /// The message body, base64 (the frame stripped).
    pub data: String,
    /// The node it came from: L for sync, a swarm member for async.
    pub from_node: String,
    /// `sync` or `async`.
    pub via: &'static str,
}

enum Stop {
    Signal,
    Closed,
    Fatal(ClientError),
}

struct Inner {
    state: RetrieveState,
    out: Box<dyn Write + Send>,
    journal: PathBuf,
    saved_batches: u64,
}

struct Shared {
    net: Arc<Network>,
    identity: Arc<Identity>,
    me: SessionId,
    dir: PathBuf,
    sk: SigningKey,
    inner: Mutex<Inner>,
    node: Mutex<NodeInfo>,
    opts: ListenOptions,
    stopped: AtomicBool,
    stop: Mutex<mpsc::Sender<Stop>>,
    crash_after: Option<u64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    fn stop(&self, why: Stop) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = lock(&self.stop).send(why);
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    fn node(&self) -> NodeInfo {
        lock(&self.node).clone()
    }

    fn listen_pk(&self) -> [u8; 32] {
        self.sk.verifying_key().to_bytes()
    }

    fn write_self(&self) -> Result<(), ClientError> {
        let now = now_ms();
        SelfRecord {
            node: self.node().ed_hex(),
            listen_pk: hex::encode(self.listen_pk()),
            expires: now + SYNC_PRESENCE_TTL_MS,
            pid: std::process::id(),
            heartbeat: now,
        }
        .save(&self.dir)
        .map_err(|e| {
            ClientError::Listener(format!("cannot write {}: {e}", self.dir.join("self.json").display()))
        })
    }

    /// Our online presence now.
    fn presence(&self) -> Presence {
        let now = now_ms();
        Presence {
            online: true,
            node: Some(self.node().pubkey_ed25519),
            listen_pk: Some(self.listen_pk()),
            expires: Some(now + SYNC_PRESENCE_TTL_MS),
            ts: now,
        }
    }

    /// Prints lines, flushes, saves the state; a closed stdout stops the listener.
    /// Writes one JSON line per item and flushes; a closed stdout stops the listener.
    fn write_lines<T: Serialize>(&self, inner: &mut Inner, items: &[T]) -> Result<(), ()> {
        let ok = items
            .iter()
            .all(|l| serde_json::to_writer(&mut inner.out, l).is_ok() && inner.out.write_all(b"\n").is_ok())
            && inner.out.flush().is_ok();
        if !ok {
            self.stop(Stop::Closed);
            return Err(());
        }
        Ok(())
    }

    /// With `--events`: one `{"event", "t", …}` line among the messages (a closed stdout stops
    /// the listener, as for a message line).
    fn event(&self, name: &str, mut fields: serde_json::Value) {
        if !self.opts.events {
            return;
        }
        fields["event"] = serde_json::json!(name);
        fields["t"] = serde_json::json!(now_ms());
        let _ = self.write_lines(&mut lock(&self.inner), &[fields]);
    }

    fn save(&self, inner: &mut Inner) -> Result<(), ()> {
        if let Err(e) = inner.state.save() {
            self.stop(Stop::Fatal(e));
            return Err(());
        }
        Ok(())
    }

    /// A presence found in a message: record it; a new or changed one is answered with a
    /// handshake ([`PeerRecord::handshake_due`]: the same presence at most once per
    /// `SYNC_PRESENCE_REPLY_MIN_INTERVAL_MS`).
    fn take_presence(self: &Arc<Self>, sealed: &[u8]) {
        let Ok(opened) = presence::open(&self.identity, sealed) else { return };
        if opened.from == self.me {
            return;
        }
        let now = now_ms();
        let taken = PeerRecord::update(&self.dir, &opened.from, |rec| {
            let changed = rec.take_presence(&opened.presence);
            (changed, changed && rec.handshake_due(now))
        });
        let (changed, due) = taken.unwrap_or((false, false));
        if changed {
            let p = &opened.presence;
            self.event(
                "presence",
                serde_json::json!({"peer": opened.from.to_string(), "online": p.online,
                    "node": p.node.map(hex::encode), "expires": p.expires}),
            );
        }
        if due {
            self.spawn_handshake(opened.from);
        }
    }

    /// A presence-only message to `peer`'s listening node: never stored in the swarm.
    fn spawn_handshake(self: &Arc<Self>, peer: SessionId) {
        let me = self.clone();
        std::thread::spawn(move || me.handshake(&peer));
    }

    fn handshake(&self, peer: &SessionId) {
        let now = now_ms();
        let rec = PeerRecord::load(&self.dir, peer);
        let Some((node_pk, listen_pk)) = rec.target(now) else { return };
        let Some(node) = self.net.nodes().iter().find(|n| n.pubkey_ed25519 == node_pk).cloned() else {
            return;
        };
        let Ok(sealed) = presence::seal(&self.identity, peer, &self.presence(), &mut rand::thread_rng())
        else {
            return;
        };
        let data = wrap::frame(&sealed, b"");
        let outcome = deliver(
            &self.net,
            peer,
            &node,
            &listen_pk,
            &data,
            now,
            now + SYNC_PRESENCE_TTL_MS,
            SYNC_ACK_TIMEOUT_MS,
        );
        let (acked, reason) = match &outcome {
            Delivered::Acked { .. } => (true, None),
            Delivered::Failed { reason, .. } => (false, Some(reason.clone())),
        };
        self.event(
            "handshake",
            serde_json::json!({"peer": peer.to_string(), "node": node.ed_hex(), "acked": acked, "reason": reason}),
        );
        let _ = PeerRecord::update(&self.dir, peer, |now_rec| {
            if now_rec.listen_pk != rec.listen_pk {
                return; // a newer presence came meanwhile
            }
            match outcome {
                Delivered::Acked { .. } => {
                    now_rec.last_ok = Some(now_ms());
                    now_rec.fails = 0;
                }
                Delivered::Failed { verdict, .. } => {
                    now_rec.fails += 1;
                    now_rec.offline |= verdict.marks_offline(now_rec.fails);
                }
            }
        });
    }

    /// After a change of L (start, failover): a handshake to every peer whose presence is fresh.
    fn handshake_all(self: &Arc<Self>) {
        let now = now_ms();
        for rec in PeerRecord::load_all(&self.dir) {
            if rec.is_fresh(now)
                && let Ok(peer) = SessionId::parse(&rec.session_id)
            {
                self.spawn_handshake(peer);
            }
        }
    }

    /// One batch of items: the proofs to send with the next listen, once printed and saved.
    fn take_items(self: &Arc<Self>, items: &[srpc::Item]) -> Option<Vec<Ack>> {
        let me_pk = Pubkey::from(self.me);
        let node = self.node().ed_hex();
        let mut acks = Vec::new();
        let mut lines = Vec::new();
        let mut presences = Vec::new();
        let mut journal = Vec::new();
        let mut inner = lock(&self.inner);
        let mut sorted: Vec<&srpc::Item> = items.iter().collect();
        sorted.sort_by_key(|i| i.seq);
        for item in sorted {
            let h = rpc::message_hash(&me_pk, 0, &item.data);
            // A lock that does not open: altered bytes or not for us. No print, no ack.
            let Some(proof) =
                ack::open(|e| self.identity.dh(e), &self.identity.x25519_public(), &item.lock, &h)
            else {
                continue;
            };
            acks.push(Ack { seq: item.seq, proof });
            let framed = wrap::unframe(&item.data);
            if let Some(f) = framed
                && f.body.is_empty()
            {
                // A handshake: its presence is all it carries (never stored, never printed).
                presences.push(f.presence.to_vec());
                continue;
            }
            if !admit(&mut inner.state, &h, item.expiry) {
                continue;
            }
            if let Some(f) = framed {
                presences.push(f.presence.to_vec());
            }
            let body = framed.map_or(&item.data[..], |f| f.body);
            let line = Line {
                hash: h.clone(),
                timestamp: item.timestamp,
                expiration: item.expiry,
                data: B64.encode(body),
                from_node: node.clone(),
                via: "sync",
            };
            journal.push(line.clone());
            lines.push(line);
        }
        self.write_lines(&mut inner, &lines).ok()?;
        if !lines.is_empty() {
            self.save(&mut inner).ok()?;
            let path = inner.journal.clone();
            if let Err(e) = append_journal(&path, &journal) {
                self.stop(Stop::Fatal(ClientError::Listener(format!("journal {}: {e}", path.display()))));
                return None;
            }
            inner.saved_batches += 1;
            if self.crash_after.is_some_and(|n| inner.saved_batches >= n) {
                // The test-only crash between print (saved) and ack.
                std::process::abort();
            }
        }
        drop(inner);
        for p in presences {
            self.take_presence(&p);
        }
        Some(acks)
    }

    /// Another listening node after L failed.
    fn failover(self: &Arc<Self>) {
        let old = self.node();
        match pick_node(&self.net, &self.me, self.opts.node, &[old.pubkey_ed25519]) {
            Some(n) => {
                eprintln!("retrieve: listening node {} failed; listening at {}", short(&old), short(&n));
                self.event("failover", serde_json::json!({"from": old.ed_hex(), "to": n.ed_hex()}));
                *lock(&self.node) = n;
            }
            None => {
                eprintln!(
                    "retrieve: listening node {} failed and no other node is known; retrying",
                    short(&old)
                );
                std::thread::sleep(Duration::from_millis(SYNC_LISTEN_RETRY_MS));
            }
        }
        if let Err(e) = self.write_self() {
            self.stop(Stop::Fatal(e));
            return;
        }
        self.handshake_all();
    }

    fn listen_loop(self: &Arc<Self>) {
        let long = Transport::with_timeouts(
            Duration::from_millis(CLIENT_CONNECT_TIMEOUT_MS),
            Duration::from_millis(SYNC_LISTEN_CLIENT_TIMEOUT_MS),
        );
        let mut cursor = 0u64;
        let mut acks: Vec<Ack> = Vec::new();
        let mut refused = 0usize;
        while !self.stopped() {
            let node = self.node();
            let params = srpc::with_deliver_limits(
                srpc::listen_params(&self.sk, cursor, &acks, SYNC_LISTEN_HOLD_MAX_MS, now_ms()),
                self.opts.rate,
                self.opts.burst,
            );
            match self.net.onion_rpc_via(&long, &node, METHOD_LISTEN, &params) {
                Err(_) => {
                    // CLIENT_PATH_ATTEMPTS paths to L failed: L is down (or unreachable).
                    cursor = 0;
                    acks.clear();
                    refused = 0;
                    if !self.stopped() {
                        self.failover();
                    }
                }
                Ok(r) if r.status == 200 => {
                    refused = 0;
                    let Ok(reply) = srpc::parse_listen_reply(&r.body) else {
                        std::thread::sleep(Duration::from_millis(SYNC_LISTEN_RETRY_MS));
                        continue;
                    };
                    if reply.new {
                        // A new subscription (first call, node restart, expiry): seqs restart.
                        cursor = 0;
                        self.event(
                            "subscribed",
                            serde_json::json!({"node": node.ed_hex(), "rate": reply.bucket.map(|b| b.rate),
                                "burst": reply.bucket.map(|b| b.burst)}),
                        );
                    }
                    if self.stopped() {
                        return;
                    }
                    let Some(new_acks) = self.take_items(&reply.items) else { return };
                    acks = new_acks;
                    cursor = reply.items.iter().map(|i| i.seq).fold(cursor, u64::max);
                }
                Ok(r) => {
                    refused += 1;
                    tracing::debug!(status = r.status, "sync_listen refused");
                    self.event(
                        "listen_refused",
                        serde_json::json!({"node": node.ed_hex(), "status": r.status}),
                    );
                    if refused >= CLIENT_PATH_ATTEMPTS {
                        refused = 0;
                        cursor = 0;
                        acks.clear();
                        self.failover();
                    } else {
                        std::thread::sleep(Duration::from_millis(SYNC_LISTEN_RETRY_MS));
                    }
                }
            }
        }
    }

    fn poll_loop(self: &Arc<Self>) {
        let snapshot = lock(&self.inner).state.clone();
        let mut retriever = Retriever::new(&self.identity, snapshot);
        let mut warned = false;
        let mut beat = Instant::now();
        while !self.stopped() {
            let snapshot = lock(&self.inner).state.clone();
            retriever.replace_state(snapshot);
            retriever.set_exclude(Some(self.node().pubkey_ed25519));
            match retriever.poll(&self.net) {
                Ok(messages) => {
                    warned = false;
                    let mut inner = lock(&self.inner);
                    let mut changed = false;
                    let last: Vec<(String, String)> = retriever
                        .state()
                        .last_hashes()
                        .map(|(n, h)| (n.to_string(), h.to_string()))
                        .collect();
                    for (n, h) in last {
                        if inner.state.last_hash(&n) != Some(h.as_str()) {
                            inner.state.set_last_hash(&n, &h);
                            changed = true;
                        }
                    }
                    let mut lines = Vec::new();
                    let mut presences = Vec::new();
                    for m in messages {
                        if !admit(&mut inner.state, &m.hash, m.expiration) {
                            continue;
                        }
                        changed = true;
                        if let Some(p) = &m.presence {
                            presences.push(p.clone());
                            if m.data.is_empty() {
                                continue;
                            }
                        }
                        lines.push(Line {
                            hash: m.hash,
                            timestamp: m.timestamp,
                            expiration: m.expiration,
                            data: m.data,
                            from_node: m.from_node,
                            via: "async",
                        });
                    }
                    if self.write_lines(&mut inner, &lines).is_err() {
                        return;
                    }
                    if changed && self.save(&mut inner).is_err() {
                        return;
                    }
                    drop(inner);
                    for p in presences {
                        self.take_presence(&p);
                    }
                }
                Err(e) if e.is_transient() => {
                    if !warned {
                        eprintln!("retrieve: warning: {e} (still polling)");
                        warned = true;
                    }
                }
                Err(e) => {
                    self.stop(Stop::Fatal(e));
                    return;
                }
            }
            if beat.elapsed() >= Duration::from_millis(SYNC_HEARTBEAT_MS) {
                beat = Instant::now();
                if let Err(e) = self.write_self() {
                    self.stop(Stop::Fatal(e));
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(SYNC_ASYNC_POLL_MS));
        }
    }
}

/// The dedupe rule both paths share (sync.md §5.7): a message is printed when its storage hash
/// is not in the seen set, and is then remembered until its expiry, so the copy of the other
/// path (the same bytes, so the same hash) is dropped while it can exist.
pub(crate) fn admit(state: &mut RetrieveState, hash: &str, expiry: u64) -> bool {
    if state.is_seen(hash) {
        return false;
    }
    state.remember(hash.to_string(), expiry);
    true
}

fn short(n: &NodeInfo) -> String {
    n.ed_hex().chars().take(8).collect()
}

/// Appends lines to the journal and fsyncs it; over `SYNC_JOURNAL_MAX_BYTES` it keeps its newer
/// half.
fn append_journal(path: &Path, lines: &[Line]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut text = Vec::new();
    for l in lines {
        serde_json::to_writer(&mut text, l).map_err(std::io::Error::other)?;
        text.push(b'\n');
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
    f.write_all(&text)?;
    f.sync_data()?;
    if f.metadata()?.len() > SYNC_JOURNAL_MAX_BYTES {
        let all = std::fs::read(path)?;
        let half = all.len() / 2;
        let cut = all[half..].iter().position(|b| *b == b'\n').map_or(all.len(), |p| half + p + 1);
        crate::net::fs::write_atomic(path, &all[cut..])?;
    }
    Ok(())
}

/// A listening node: by `choice`, avoiding `avoid`; any other node when the choice has none.
fn pick_node(net: &Network, me: &SessionId, choice: ListenNode, avoid: &[[u8; 32]]) -> Option<NodeInfo> {
    use rand::seq::SliceRandom;
    let ok = |n: &&NodeInfo| !avoid.contains(&n.pubkey_ed25519);
    let mut rng = rand::thread_rng();
    if let ListenNode::Node(pk) = choice
        && let Some(n) = net.nodes().iter().filter(ok).find(|n| n.pubkey_ed25519 == pk)
    {
        return Some(n.clone());
    }
    if choice != ListenNode::Any
        && let Ok(swarm) = net.swarm_of(&Pubkey::from(*me))
        && let Some(n) = swarm.iter().filter(ok).collect::<Vec<_>>().choose(&mut rng)
    {
        return Some((*n).clone());
    }
    net.nodes().iter().filter(ok).collect::<Vec<_>>().choose(&mut rng).map(|n| (*n).clone())
}

/// Runs the listener until SIGTERM/SIGINT or a closed `out` (then `Ok`, after unlistening) or
/// a fatal error.
pub fn run(
    net: Network,
    identity: Identity,
    state: RetrieveState,
    state_dir: &Path,
    out: Box<dyn Write + Send>,
    opts: ListenOptions,
) -> Result<(), ClientError> {
    let me = identity.session_id();
    let dir = sync_dir(state_dir, &me);
    crate::net::fs::create_private_dir(&dir)
        .map_err(|e| ClientError::Listener(format!("cannot create {}: {e}", dir.display())))?;
    let node = pick_node(&net, &me, opts.node, &[])
        .ok_or_else(|| ClientError::Listener("no node to listen at".into()))?;
    let (tx, rx) = mpsc::channel();
    let crash_after = std::env::var(CRASH_AFTER_SAVE_ENV).ok().and_then(|v| v.parse().ok());
    let shared = Arc::new(Shared {
        net: Arc::new(net),
        identity: Arc::new(identity),
        me,
        dir: dir.clone(),
        sk: SigningKey::generate(&mut rand::rngs::OsRng),
        inner: Mutex::new(Inner { state, out, journal: dir.join("inbox.ndjson"), saved_batches: 0 }),
        node: Mutex::new(node),
        opts,
        stopped: AtomicBool::new(false),
        stop: Mutex::new(tx.clone()),
        crash_after,
    });
    shared.write_self()?;
    shared.event("listening", serde_json::json!({"node": shared.node().ed_hex()}));
    spawn_signal_waiter(tx);
    let l = shared.clone();
    std::thread::spawn(move || l.listen_loop());
    let p = shared.clone();
    std::thread::spawn(move || p.poll_loop());
    shared.handshake_all();

    let why = rx.recv().unwrap_or(Stop::Signal);
    shared.stopped.store(true, Ordering::SeqCst);
    // A bounded, best-effort unlisten: senders then get 404 `gone` and store at once.
    let short = Transport::with_timeouts(
        Duration::from_millis(SYNC_UNLISTEN_TIMEOUT_MS),
        Duration::from_millis(SYNC_UNLISTEN_TIMEOUT_MS),
    );
    let unlistened = shared.net.onion_rpc_via(
        &short,
        &shared.node(),
        METHOD_UNLISTEN,
        &srpc::unlisten_params(&shared.sk, now_ms()),
    );
    SelfRecord::remove(&dir);
    if matches!(why, Stop::Signal) {
        let ok = unlistened.is_ok_and(|r| r.status == 200);
        shared.event("unlistened", serde_json::json!({"node": shared.node().ed_hex(), "ok": ok}));
    }
    match why {
        Stop::Signal | Stop::Closed => Ok(()),
        Stop::Fatal(e) => Err(e),
    }
}

/// SIGTERM or SIGINT sends [`Stop::Signal`].
fn spawn_signal_waiter(tx: mpsc::Sender<Stop>) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        rt.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut term) = signal(SignalKind::terminate()) else { return };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        });
        let _ = tx.send(Stop::Signal);
    });
}

/// `retrieve --peers`: each contact's presence as we hold it, without touching the network.
pub fn peers(state_dir: &Path, me: &SessionId) -> Vec<serde_json::Value> {
    let dir = sync_dir(state_dir, me);
    let now = now_ms();
    PeerRecord::load_all(&dir)
        .into_iter()
        .map(|r| {
            serde_json::json!({"session_id": r.session_id, "online": r.is_fresh(now), "node": r.node,
                "listen_pk": r.listen_pk, "expires": r.expires, "last_ok": r.last_ok, "offline": r.offline})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What happens to one message: tried sync or not, the listener's fate, the ack's.
    #[derive(Debug, Clone, Copy)]
    enum Fate {
        /// No fresh presence: stored only.
        Async,
        /// Delivered, printed, saved, acked: never stored.
        Acked,
        /// Delivered, printed and saved, the ack lost: stored too.
        AckLost,
        /// Delivered, the listener crashed before printing: stored.
        CrashBeforePrint,
        /// Delivered, printed and saved, the listener crashed before acking: stored.
        CrashAfterSave,
    }

    fn fate() -> impl Strategy<Value = Fate> {
        prop_oneof![
            Just(Fate::Async),
            Just(Fate::Acked),
            Just(Fate::AckLost),
            Just(Fate::CrashBeforePrint),
            Just(Fate::CrashAfterSave),
        ]
    }

    proptest! {
        /// sync.md §6.8: random interleavings of sync and async copies, lost acks and restarts;
        /// the printed set equals the sent set and nothing is printed twice. The real state
        /// file is saved and reloaded at each restart, as `retrieve --listen` does.
        #[test]
        fn prop_printed_set_is_the_sent_set(
            fates in proptest::collection::vec(fate(), 1..40),
            // Each stored copy is polled this many times (three members, repeated polls).
            polls in proptest::collection::vec(1usize..4, 40),
            // The order the swarm hands stored copies out in (a permutation seed).
            seed in any::<u64>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let load = || RetrieveState::load(dir.path(), "05aa").unwrap();
            let mut state = load();
            let mut printed: Vec<String> = Vec::new();
            let mut stored: Vec<String> = Vec::new();
            let exp = u64::MAX;
            for (i, f) in fates.iter().enumerate() {
                let h = format!("hash{i}");
                match f {
                    Fate::Async => stored.push(h),
                    Fate::Acked | Fate::AckLost | Fate::CrashAfterSave => {
                        if admit(&mut state, &h, exp) {
                            printed.push(h.clone());
                        }
                        state.save().unwrap();
                        if !matches!(f, Fate::Acked) {
                            stored.push(h);
                        }
                        if matches!(f, Fate::CrashAfterSave) {
                            state = load();
                        }
                    }
                    Fate::CrashBeforePrint => {
                        state = load();
                        stored.push(h);
                    }
                }
            }
            // The async path: every stored copy, several times, in a shuffled order, with a
            // restart half way.
            let mut copies: Vec<String> = stored
                .iter()
                .enumerate()
                .flat_map(|(i, h)| std::iter::repeat_n(h.clone(), polls[i % polls.len()]))
                .collect();
            use rand::{SeedableRng, seq::SliceRandom};
            copies.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
            let half = copies.len() / 2;
            for (k, h) in copies.iter().enumerate() {
                if k == half {
                    state.save().unwrap();
                    state = load();
                }
                if admit(&mut state, h, exp) {
                    printed.push(h.clone());
                }
            }
            let mut want: Vec<String> = (0..fates.len()).map(|i| format!("hash{i}")).collect();
            want.sort();
            let n = printed.len();
            printed.sort();
            printed.dedup();
            prop_assert_eq!(n, printed.len(), "printed twice");
            prop_assert_eq!(printed, want);
        }
    }
}
