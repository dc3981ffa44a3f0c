//! The node side of synchronous routing (docs/sync.md, spec sync.md §5.2): an in-memory
//! registry of listening sessions and the three RPCs, `sync_listen` (register, long-poll, ack),
//! `sync_deliver` (queue an item and wait for its ack) and `sync_unlisten`. Nothing is stored on
//! disk or replicated: a restart forgets every subscription, and the senders whose items were
//! lost time out and store in the swarm.
//!
//! Memory is bounded by the caps of `formats::limits` (subscriptions, queued items and bytes per
//! subscription, buffered bytes and held requests per node); over a cap the answer is 429, 413 or
//! 503 and the sender falls back to the swarm.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{Notify, oneshot};

use crate::formats::limits::{
    NODE_SYNC_MAX_BUFFERED_BYTES, NODE_SYNC_MAX_HELD_REQUESTS, NODE_SYNC_MAX_SUBSCRIPTIONS,
    NODE_SYNC_SWEEP_MS, SYNC_DELIVER_BURST, SYNC_DELIVER_RATE_PER_SEC, SYNC_LISTEN_GAP_GRACE_MS,
    SYNC_LISTEN_IDLE_EXPIRY_MS, SYNC_LISTEN_MAX_CALLS_PER_SEC, SYNC_LISTEN_REPLY_MAX_BYTES,
    SYNC_QUEUE_MAX_BYTES, SYNC_QUEUE_MAX_ITEMS,
};
use crate::formats::rpc::{ReplyBody, RpcError, status};
use crate::formats::sync::ack::{self, AckLock};
use crate::formats::sync::rpc::{
    self as srpc, DeliverParams, Item, ListenParams, SyncRequest, UnlistenParams, outcome,
};

/// The environment variable of the test-only hostile mode: `forge` answers every ack with a
/// random proof, `drop` never releases a waiting deliver. Only the e2e tests set it; a node
/// without it is honest.
pub const HOSTILE_ENV: &str = "SNKIT_TEST_SYNC_HOSTILE";

/// How a node treats acks (see [`HOSTILE_ENV`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckMode {
    Honest,
    Forge,
    Drop,
}

impl AckMode {
    fn from_env() -> Self {
        match std::env::var(HOSTILE_ENV).as_deref() {
            Ok("forge") => Self::Forge,
            Ok("drop") => Self::Drop,
            _ => Self::Honest,
        }
    }
}

/// How a waiting deliver ended.
#[derive(Debug)]
enum Ended {
    Acked([u8; 32]),
    Gone,
}

struct Queued {
    item: Item,
    /// Whether a listen has handed it out (a deliver past the grace keeps waiting for its ack).
    handed: bool,
    waiter: Option<oneshot::Sender<Ended>>,
}

/// A token bucket: `rate` per second, up to `burst`.
#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: u64) -> Self {
        Self { tokens: burst as f64, at: Instant::now() }
    }

    /// A lowered burst takes effect at once (tokens above it are dropped).
    fn cap(&mut self, burst: u64) {
        self.tokens = self.tokens.min(burst as f64);
    }

    fn refund(&mut self, burst: u64) {
        self.tokens = (self.tokens + 1.0).min(burst as f64);
    }

    fn take(&mut self, rate: u64, burst: u64) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * rate as f64;
        self.tokens = (self.tokens + refill).min(burst as f64);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

struct Subscription {
    queue: VecDeque<Queued>,
    next_seq: u64,
    bytes: usize,
    /// The id of the held listen, if any, and the signal that wakes it.
    held: Option<(u64, Arc<Notify>)>,
    last_listen_end: Instant,
    deliver_bucket: Bucket,
    /// The listener's own deliver bucket (`rate`/`burst` of its listens), at most the node's.
    deliver_rate: u64,
    deliver_burst: u64,
    listen_bucket: Bucket,
}

impl Subscription {
    /// The deliver bucket in force, as a listen's reply reports it.
    fn bucket(&self) -> srpc::DeliverBucket {
        srpc::DeliverBucket { rate: self.deliver_rate, burst: self.deliver_burst }
    }

    fn new() -> Self {
        Self {
            queue: VecDeque::new(),
            next_seq: 1,
            bytes: 0,
            held: None,
            last_listen_end: Instant::now(),
            deliver_bucket: Bucket::full(SYNC_DELIVER_BURST),
            deliver_rate: SYNC_DELIVER_RATE_PER_SEC,
            deliver_burst: SYNC_DELIVER_BURST,
            listen_bucket: Bucket::full(SYNC_LISTEN_MAX_CALLS_PER_SEC),
        }
    }
}

#[derive(Default)]
struct Inner {
    subs: HashMap<[u8; 32], Subscription>,
    buffered: usize,
    held_requests: usize,
    next_listen_id: u64,
}

impl Inner {
    /// Removes the item `seq` of `pk` (if queued) and returns it, keeping the byte counts true.
    fn take_item(&mut self, pk: &[u8; 32], seq: u64) -> Option<Queued> {
        let sub = self.subs.get_mut(pk)?;
        let at = sub.queue.iter().position(|q| q.item.seq == seq)?;
        let q = sub.queue.remove(at)?;
        sub.bytes -= q.item.data.len();
        self.buffered -= q.item.data.len();
        Some(q)
    }

    /// Erases a subscription: every waiting deliver ends `gone`, a held listen wakes (empty).
    fn drop_sub(&mut self, pk: &[u8; 32]) {
        if let Some(sub) = self.subs.remove(pk) {
            self.buffered -= sub.bytes;
            for q in sub.queue {
                if let Some(w) = q.waiter {
                    let _ = w.send(Ended::Gone);
                }
            }
            if let Some((_, wake)) = sub.held {
                wake.notify_one();
            }
        }
    }
}

/// The registry of one node, shared by its handlers and its sweeper.
pub(crate) struct SyncRegistry {
    inner: Mutex<Inner>,
    mode: AckMode,
    /// `NODE_SYNC_MAX_SUBSCRIPTIONS`, lowered only by unit tests (10,000 signatures take
    /// minutes unoptimised; the e2e test fills the real cap).
    max_subscriptions: usize,
}

impl std::fmt::Debug for SyncRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("SyncRegistry")
            .field("subscriptions", &inner.subs.len())
            .field("buffered", &inner.buffered)
            .field("mode", &self.mode)
            .finish()
    }
}

impl Default for SyncRegistry {
    fn default() -> Self {
        let mode = AckMode::from_env();
        if mode != AckMode::Honest {
            tracing::warn!(?mode, "sync: test-only hostile ack mode is on");
        }
        Self { inner: Mutex::new(Inner::default()), mode, max_subscriptions: NODE_SYNC_MAX_SUBSCRIPTIONS }
    }
}

/// Decrements the held-request count when a held call ends, however it ends.
struct HeldGuard<'a>(&'a SyncRegistry);

impl Drop for HeldGuard<'_> {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.held_requests = inner.held_requests.saturating_sub(1);
    }
}

fn json(status: u16, v: Value) -> (u16, ReplyBody) {
    (status, ReplyBody::Json(v))
}

fn deliver_status(code: u16, what: &str) -> (u16, ReplyBody) {
    json(code, srpc::deliver_reply(what, None))
}

fn error(e: RpcError) -> (u16, ReplyBody) {
    (e.status, e.body())
}

impl SyncRegistry {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Number of subscriptions (for health and tests).
    pub(crate) fn subscriptions(&self) -> usize {
        self.lock().subs.len()
    }

    /// Runs a sync request body, or `None` when the body names another method.
    pub(crate) async fn try_run(&self, body: &[u8], now_ms: u64) -> Option<(u16, ReplyBody)> {
        let req = match srpc::parse(body)? {
            Ok(r) => r,
            Err(e) => return Some(error(e)),
        };
        Some(match req {
            SyncRequest::Listen(p) => self.listen(p, now_ms).await,
            SyncRequest::Deliver(p) => self.deliver(p).await,
            SyncRequest::Unlisten(p) => self.unlisten(&p, now_ms),
        })
    }

    async fn listen(&self, p: ListenParams, now_ms: u64) -> (u16, ReplyBody) {
        if let Err(e) = p.verify(now_ms) {
            return error(e);
        }
        let pk = p.listen_pk;
        let (id, wake, new, cursor) = {
            let mut inner = self.lock();
            let new = !inner.subs.contains_key(&pk);
            if new && inner.subs.len() >= self.max_subscriptions {
                return deliver_status(status::TOO_MANY_REQUESTS, outcome::TOO_MANY_SUBSCRIPTIONS);
            }
            if p.hold_ms > 0 && inner.held_requests >= NODE_SYNC_MAX_HELD_REQUESTS {
                return deliver_status(status::SERVICE_UNAVAILABLE, outcome::NODE_FULL);
            }
            inner.subs.entry(pk).or_insert_with(Subscription::new);
            // A new subscription's seqs start again at 1: the cursor was an older one's.
            let cursor = if new { 0 } else { p.cursor };
            // The acks first: an acked item leaves the queue and releases its deliver.
            for a in &p.acks {
                let matches = inner.subs.get(&pk).and_then(|s| s.queue.iter().find(|q| q.item.seq == a.seq));
                if !matches.is_some_and(|q| ack::proof_matches(&a.proof, &q.item.lock.check)) {
                    continue;
                }
                if self.mode == AckMode::Drop {
                    continue;
                }
                if let Some(q) = inner.take_item(&pk, a.seq)
                    && let Some(w) = q.waiter
                {
                    let proof = if self.mode == AckMode::Forge { rand::random() } else { a.proof };
                    let _ = w.send(Ended::Acked(proof));
                }
            }
            // Items the listener holds durably but did not ack (it dropped them: a broken lock)
            // leave too; their senders time out and store.
            let stale: Vec<u64> =
                inner.subs[&pk].queue.iter().map(|q| q.item.seq).filter(|s| *s <= cursor).collect();
            for seq in stale {
                inner.take_item(&pk, seq);
            }
            let sub = inner.subs.get_mut(&pk).unwrap_or_else(|| unreachable!("inserted above"));
            if let Some(r) = p.rate {
                sub.deliver_rate = r.min(SYNC_DELIVER_RATE_PER_SEC);
            }
            if let Some(b) = p.burst {
                sub.deliver_burst = b.min(SYNC_DELIVER_BURST);
                sub.deliver_bucket.cap(sub.deliver_burst);
            }
            // A newer listen replaces a held one, which answers empty.
            if let Some((_, old)) = sub.held.take() {
                old.notify_one();
            }
            let ready = sub.queue.iter().any(|q| q.item.seq > cursor);
            // The call rate is charged to listens that find nothing: a listen that carries
            // items away is paced by the delivers' own bucket, and a busy loop of empty
            // listens (`hold_ms` 0, or tiny holds) is what the cap is for. A held listen that
            // an item wakes gets its token back below.
            if !ready && !sub.listen_bucket.take(SYNC_LISTEN_MAX_CALLS_PER_SEC, SYNC_LISTEN_MAX_CALLS_PER_SEC)
            {
                return deliver_status(status::TOO_MANY_REQUESTS, outcome::LISTEN_RATE);
            }
            if ready || p.hold_ms == 0 {
                sub.last_listen_end = Instant::now();
                let reply = Self::hand_out(sub, cursor, new, now_ms);
                return json(status::OK, reply);
            }
            inner.next_listen_id += 1;
            let id = inner.next_listen_id;
            let wake = Arc::new(Notify::new());
            if let Some(sub) = inner.subs.get_mut(&pk) {
                sub.held = Some((id, wake.clone()));
            }
            inner.held_requests += 1;
            (id, wake, new, cursor)
        };
        let _held = HeldGuard(self);
        let _ = tokio::time::timeout(Duration::from_millis(p.hold_ms), wake.notified()).await;
        let mut inner = self.lock();
        let Some(sub) = inner.subs.get_mut(&pk) else {
            // Unlistened or swept while held.
            return json(
                status::OK,
                srpc::listen_reply(&[], 0, new, 0, crate::formats::time::now_ms(), None),
            );
        };
        let still_ours = sub.held.as_ref().is_some_and(|(h, _)| *h == id);
        if !still_ours {
            // Replaced by a newer listen: this one answers empty.
            return json(
                status::OK,
                srpc::listen_reply(
                    &[],
                    sub.next_seq - 1,
                    new,
                    0,
                    crate::formats::time::now_ms(),
                    Some(sub.bucket()),
                ),
            );
        }
        sub.held = None;
        sub.last_listen_end = Instant::now();
        if sub.queue.iter().any(|q| q.item.seq > cursor) {
            sub.listen_bucket.refund(SYNC_LISTEN_MAX_CALLS_PER_SEC);
        }
        json(status::OK, Self::hand_out(sub, cursor, new, crate::formats::time::now_ms()))
    }

    /// The reply of a listen: the items above `cursor`, marked handed out, up to the reply cap.
    fn hand_out(sub: &mut Subscription, cursor: u64, new: bool, now_ms: u64) -> Value {
        let mut items = Vec::new();
        let mut bytes = 0;
        for q in sub.queue.iter_mut().filter(|q| q.item.seq > cursor) {
            if !items.is_empty() && bytes + q.item.data.len() > SYNC_LISTEN_REPLY_MAX_BYTES {
                break;
            }
            bytes += q.item.data.len();
            q.handed = true;
            items.push(q.item.clone());
        }
        let expires = now_ms + SYNC_LISTEN_IDLE_EXPIRY_MS;
        srpc::listen_reply(&items, sub.next_seq - 1, new, expires, now_ms, Some(sub.bucket()))
    }

    async fn deliver(&self, p: DeliverParams) -> (u16, ReplyBody) {
        let pk = p.listen_pk;
        let len = p.data.len();
        let (seq, rx, grace_left) = {
            let mut inner = self.lock();
            if inner.held_requests >= NODE_SYNC_MAX_HELD_REQUESTS
                || inner.buffered + len > NODE_SYNC_MAX_BUFFERED_BYTES
            {
                return deliver_status(status::SERVICE_UNAVAILABLE, outcome::NODE_FULL);
            }
            let Some(sub) = inner.subs.get_mut(&pk) else {
                return deliver_status(status::NOT_FOUND, outcome::UNKNOWN);
            };
            let since_listen = sub.last_listen_end.elapsed();
            let grace = Duration::from_millis(SYNC_LISTEN_GAP_GRACE_MS);
            if sub.held.is_none() && since_listen >= grace {
                return deliver_status(status::NOT_FOUND, outcome::NOT_LISTENING);
            }
            if !sub.deliver_bucket.take(sub.deliver_rate, sub.deliver_burst) {
                return deliver_status(status::TOO_MANY_REQUESTS, outcome::RATE_LIMITED);
            }
            if sub.queue.len() >= SYNC_QUEUE_MAX_ITEMS || sub.bytes + len > SYNC_QUEUE_MAX_BYTES {
                return deliver_status(status::TOO_MANY_REQUESTS, outcome::QUEUE_FULL);
            }
            let seq = sub.next_seq;
            sub.next_seq += 1;
            let (tx, rx) = oneshot::channel();
            let item = Item {
                seq,
                data: p.data,
                lock: AckLock { ..p.lock },
                timestamp: p.timestamp,
                expiry: p.expiry,
            };
            sub.queue.push_back(Queued { item, handed: false, waiter: Some(tx) });
            sub.bytes += len;
            if let Some((_, wake)) = &sub.held {
                wake.notify_one();
            }
            let grace_left = if sub.held.is_some() { None } else { Some(grace - since_listen) };
            inner.buffered += len;
            inner.held_requests += 1;
            (seq, rx, grace_left)
        };
        let _held = HeldGuard(self);
        let mut rx = rx;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(p.wait_ms);
        // No listen held: if none comes within the grace to take the item, the recipient is not
        // listening, and the sender may store at once rather than wait out its ack timeout.
        if let Some(left) = grace_left {
            let grace_end = (tokio::time::Instant::now() + left).min(deadline);
            tokio::select! {
                r = &mut rx => return Self::ended(r),
                () = tokio::time::sleep_until(grace_end) => {}
            }
            let mut inner = self.lock();
            let untaken = inner
                .subs
                .get(&pk)
                .is_some_and(|s| s.held.is_none() && s.queue.iter().any(|q| q.item.seq == seq && !q.handed));
            if untaken {
                inner.take_item(&pk, seq);
                return deliver_status(status::NOT_FOUND, outcome::NOT_LISTENING);
            }
        }
        tokio::select! {
            r = &mut rx => Self::ended(r),
            () = tokio::time::sleep_until(deadline) => {
                // Still queued: drop it. Acked in the meantime: the ack wins.
                self.lock().take_item(&pk, seq);
                match rx.try_recv() {
                    Ok(e) => Self::ended(Ok(e)),
                    Err(_) => deliver_status(status::ACCEPTED, outcome::TIMEOUT),
                }
            }
        }
    }

    fn ended(r: Result<Ended, oneshot::error::RecvError>) -> (u16, ReplyBody) {
        match r {
            Ok(Ended::Acked(proof)) => json(status::OK, srpc::deliver_reply(outcome::ACKED, Some(&proof))),
            Ok(Ended::Gone) | Err(_) => deliver_status(status::NOT_FOUND, outcome::GONE),
        }
    }

    fn unlisten(&self, p: &UnlistenParams, now_ms: u64) -> (u16, ReplyBody) {
        if let Err(e) = p.verify(now_ms) {
            return error(e);
        }
        let mut inner = self.lock();
        let known = inner.subs.contains_key(&p.listen_pk);
        inner.drop_sub(&p.listen_pk);
        json(status::OK, serde_json::json!({"removed": known, "t": now_ms}))
    }

    /// Erases subscriptions with no held listen and none for `SYNC_LISTEN_IDLE_EXPIRY_MS`.
    pub(crate) fn sweep(&self) -> usize {
        let mut inner = self.lock();
        let idle = Duration::from_millis(SYNC_LISTEN_IDLE_EXPIRY_MS);
        let dead: Vec<[u8; 32]> = inner
            .subs
            .iter()
            .filter(|(_, s)| s.held.is_none() && s.last_listen_end.elapsed() >= idle)
            .map(|(k, _)| *k)
            .collect();
        for pk in &dead {
            inner.drop_sub(pk);
        }
        dead.len()
    }
}

/// The sweeper task of a node's registry.
pub(crate) async fn sweep_task(registry: Arc<SyncRegistry>) {
    let mut tick = tokio::time::interval(Duration::from_millis(NODE_SYNC_SWEEP_MS));
    loop {
        tick.tick().await;
        let n = registry.sweep();
        if n > 0 {
            tracing::debug!(erased = n, "sync: idle subscriptions erased");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::identity::Identity;
    use crate::formats::keys::Pubkey;
    use crate::formats::sync::rpc::{Ack, deliver_params, listen_params, parse_listen_reply};
    use ed25519_dalek::SigningKey;
    use serde_json::json;

    const NOW: u64 = 1_700_000_000_000;

    fn body(method: &str, params: Value) -> Vec<u8> {
        json!({"method": method, "params": params}).to_string().into_bytes()
    }

    fn reg_with(max_subscriptions: usize) -> Arc<SyncRegistry> {
        Arc::new(SyncRegistry {
            inner: Mutex::new(Inner::default()),
            mode: AckMode::Honest,
            max_subscriptions,
        })
    }

    fn reg() -> Arc<SyncRegistry> {
        reg_with(NODE_SYNC_MAX_SUBSCRIPTIONS)
    }

    async fn listen(r: &SyncRegistry, sk: &SigningKey, cursor: u64, acks: &[Ack], hold: u64) -> (u16, Value) {
        let (s, b) =
            r.try_run(&body("sync_listen", listen_params(sk, cursor, acks, hold, NOW)), NOW).await.unwrap();
        (s, b.into_json())
    }

    fn deliver_body(pk: &[u8; 32], bob: &Identity, data: &[u8], wait: u64) -> (Vec<u8>, [u8; 32]) {
        let h = crate::formats::rpc::message_hash(&Pubkey::from(bob.session_id()), 0, data);
        let (lock, secret) = ack::lock(&bob.x25519_public(), &h, &mut rand::thread_rng()).unwrap();
        (body("sync_deliver", deliver_params(pk, data, &lock, NOW, NOW + 60_000, wait)), *secret)
    }

    #[tokio::test]
    async fn test_deliver_is_acked_through_a_listen() {
        let r = reg();
        let sk = SigningKey::from_bytes(&[1; 32]);
        let pk = sk.verifying_key().to_bytes();
        let bob = Identity::generate();
        assert_eq!(listen(&r, &sk, 0, &[], 0).await.0, 200);
        let (b, secret) = deliver_body(&pk, &bob, b"hi", 2_000);
        let r2 = r.clone();
        let sender = tokio::spawn(async move { r2.try_run(&b, NOW).await.unwrap() });
        // The listener gets the item, opens the lock and acks it on its next listen.
        let (_, v) = listen(&r, &sk, 0, &[], 1_000).await;
        let reply = parse_listen_reply(&v).unwrap();
        assert_eq!(reply.items.len(), 1);
        let it = &reply.items[0];
        let h = crate::formats::rpc::message_hash(&Pubkey::from(bob.session_id()), 0, &it.data);
        let proof = ack::open(|e| bob.dh(e), &bob.x25519_public(), &it.lock, &h).unwrap();
        let (s, _) = listen(&r, &sk, it.seq, &[Ack { seq: it.seq, proof }], 0).await;
        assert_eq!(s, 200);
        let (s, b) = sender.await.unwrap();
        assert_eq!(s, 200);
        let (st, p) = srpc::parse_deliver_reply(&b.into_json());
        assert_eq!(st.as_deref(), Some("acked"));
        assert!(ack::proof_is_secret(&p.unwrap(), &secret));
    }

    #[tokio::test]
    async fn test_refusals() {
        let r = reg();
        let sk = SigningKey::from_bytes(&[2; 32]);
        let pk = sk.verifying_key().to_bytes();
        let bob = Identity::generate();
        // Unknown listener: 404 unknown.
        let (b, _) = deliver_body(&pk, &bob, b"x", 500);
        let (s, v) = r.try_run(&b, NOW).await.unwrap();
        assert_eq!((s, v.into_json()["status"].clone()), (404, json!("unknown")));
        // Bad signature: 401; stale: 406.
        let mut p = listen_params(&sk, 0, &[], 0, NOW);
        p["cursor"] = json!(5);
        assert_eq!(r.try_run(&body("sync_listen", p), NOW).await.unwrap().0, 401);
        let p = listen_params(&sk, 0, &[], 0, NOW - 120_000);
        assert_eq!(r.try_run(&body("sync_listen", p), NOW).await.unwrap().0, 406);
        // Burst over the bucket: 429 rate_limited (a held listen keeps the deliveries queued).
        assert_eq!(listen(&r, &sk, 0, &[], 0).await.0, 200);
        let mut codes = Vec::new();
        let mut tasks = Vec::new();
        for _ in 0..(SYNC_DELIVER_BURST + 5) {
            let (b, _) = deliver_body(&pk, &bob, b"y", 100);
            let r2 = r.clone();
            tasks.push(tokio::spawn(async move { r2.try_run(&b, NOW).await.unwrap() }));
        }
        for t in tasks {
            let (s, v) = t.await.unwrap();
            codes.push((s, v.into_json()["status"].as_str().unwrap_or("").to_string()));
        }
        assert!(codes.iter().any(|(s, st)| *s == 429 && st == "rate_limited"), "{codes:?}");
        // Unlisten: the subscription is gone.
        let u = srpc::unlisten_params(&sk, NOW);
        assert_eq!(r.try_run(&body("sync_unlisten", u), NOW).await.unwrap().0, 200);
        assert_eq!(r.subscriptions(), 0);
    }

    #[tokio::test]
    async fn test_a_listeners_own_bucket_is_capped_by_the_nodes() {
        let r = reg();
        let sk = SigningKey::from_bytes(&[9; 32]);
        let pk = sk.verifying_key().to_bytes();
        let bob = Identity::generate();
        // Asking for more than the node allows gets the node's maximum.
        let p = srpc::with_deliver_limits(listen_params(&sk, 0, &[], 0, NOW), Some(1_000), Some(1_000));
        let (s, v) = r.try_run(&body("sync_listen", p), NOW).await.unwrap();
        let v = v.into_json();
        assert_eq!(s, 200);
        assert_eq!(
            (v["rate"].clone(), v["burst"].clone()),
            (json!(SYNC_DELIVER_RATE_PER_SEC), json!(SYNC_DELIVER_BURST))
        );
        // A burst of 3 at a rate of 1/s: the fourth of a quick burst is refused.
        let p = srpc::with_deliver_limits(listen_params(&sk, 0, &[], 0, NOW), Some(1), Some(3));
        let (_, v) = r.try_run(&body("sync_listen", p), NOW).await.unwrap();
        assert_eq!(v.into_json()["burst"], json!(3));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (b, _) = deliver_body(&pk, &bob, b"y", 100);
            let r2 = r.clone();
            tasks.push(tokio::spawn(async move { r2.try_run(&b, NOW).await.unwrap() }));
        }
        let mut limited = 0;
        for t in tasks {
            let (s, v) = t.await.unwrap();
            if s == 429 && v.into_json()["status"] == json!("rate_limited") {
                limited += 1;
            }
        }
        assert_eq!(limited, 1);
        // 0 is not a bucket: 400.
        let p = srpc::with_deliver_limits(listen_params(&sk, 0, &[], 0, NOW), Some(0), None);
        assert_eq!(r.try_run(&body("sync_listen", p), NOW).await.unwrap().0, 400);
    }

    #[tokio::test]
    async fn test_not_listening_answers_within_the_grace() {
        let r = reg();
        let sk = SigningKey::from_bytes(&[3; 32]);
        let pk = sk.verifying_key().to_bytes();
        let bob = Identity::generate();
        assert_eq!(listen(&r, &sk, 0, &[], 0).await.0, 200);
        let (b, _) = deliver_body(&pk, &bob, b"z", SYNC_LISTEN_GAP_GRACE_MS + 1_000);
        let t = Instant::now();
        let (s, v) = r.try_run(&b, NOW).await.unwrap();
        assert_eq!((s, v.into_json()["status"].clone()), (404, json!("not_listening")));
        assert!(t.elapsed() < Duration::from_millis(SYNC_LISTEN_GAP_GRACE_MS + 500));
    }

    #[tokio::test]
    async fn test_subscription_cap_is_held() {
        const CAP: usize = 50;
        let r = reg_with(CAP);
        for i in 0..CAP {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let sk = SigningKey::from_bytes(&seed);
            assert_eq!(listen(&r, &sk, 0, &[], 0).await.0, 200);
        }
        let extra = SigningKey::from_bytes(&[0xff; 32]);
        let (s, v) = listen(&r, &extra, 0, &[], 0).await;
        assert_eq!((s, v["status"].clone()), (429, json!("too_many_subscriptions")));
        assert_eq!(r.subscriptions(), CAP);
    }

    #[tokio::test]
    async fn test_busy_empty_listens_are_refused() {
        let r = reg();
        let sk = SigningKey::from_bytes(&[6; 32]);
        let pk = sk.verifying_key().to_bytes();
        assert_eq!(listen(&r, &sk, 0, &[], 0).await.0, 200);
        // An empty bucket (set, so that unoptimised signatures under load cannot refill it
        // during the test): an empty listen is refused...
        r.lock().subs.get_mut(&pk).unwrap().listen_bucket.tokens = -100.0;
        let (s, v) = listen(&r, &sk, 0, &[], 0).await;
        assert_eq!((s, v["status"].clone()), (429, json!("listen_rate_limited")));
        // ...but a listen that finds an item is not charged.
        let bob = Identity::generate();
        let (b, _) = deliver_body(&pk, &bob, b"i", 1_000);
        let r2 = r.clone();
        let sender = tokio::spawn(async move { r2.try_run(&b, NOW).await.unwrap() });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (s, v) = listen(&r, &sk, 0, &[], 0).await;
        assert_eq!(s, 200);
        assert_eq!(parse_listen_reply(&v).unwrap().items.len(), 1);
        drop(sender);
    }

    #[test]
    fn test_bucket_refills_at_its_rate_up_to_its_burst() {
        let mut b = Bucket::full(2);
        assert!(b.take(1, 2) && b.take(1, 2) && !b.take(1, 2));
        b.at -= Duration::from_secs(10);
        assert!(b.take(1, 2) && b.take(1, 2) && !b.take(1, 2), "refilled to the burst, not beyond");
    }

    #[tokio::test]
    async fn test_a_new_subscription_ignores_an_old_cursor() {
        // A listener whose node restarted still sends its old cursor: the new subscription's
        // first item (seq 1) must reach it.
        let r = reg();
        let sk = SigningKey::from_bytes(&[8; 32]);
        let pk = sk.verifying_key().to_bytes();
        let bob = Identity::generate();
        let r2 = r.clone();
        let sk2 = sk.clone();
        let held = tokio::spawn(async move { listen(&r2, &sk2, 99, &[], 2_000).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (b, _) = deliver_body(&pk, &bob, b"after restart", 500);
        let r3 = r.clone();
        let sender = tokio::spawn(async move { r3.try_run(&b, NOW).await.unwrap() });
        let (s, v) = held.await.unwrap();
        assert_eq!(s, 200);
        let reply = parse_listen_reply(&v).unwrap();
        assert!(reply.new);
        assert_eq!(reply.items.iter().map(|i| i.seq).collect::<Vec<_>>(), [1]);
        drop(sender);
    }

    #[tokio::test]
    async fn test_queue_is_bounded_by_bytes() {
        let r = reg();
        let sk = SigningKey::from_bytes(&[5; 32]);
        let pk = sk.verifying_key().to_bytes();
        let bob = Identity::generate();
        // A listen that ended just now lets delivers queue (within the grace) without a reader.
        assert_eq!(listen(&r, &sk, 0, &[], 0).await.0, 200);
        let big = vec![7u8; crate::formats::limits::SYNC_MAX_DATA_BYTES];
        let fit = SYNC_QUEUE_MAX_BYTES / big.len();
        assert!(fit + 3 < SYNC_DELIVER_BURST as usize, "the bucket must not refuse first");
        let mut tasks = Vec::new();
        for _ in 0..fit + 3 {
            let (b, _) = deliver_body(&pk, &bob, &big, 1_000);
            let r2 = r.clone();
            tasks.push(tokio::spawn(async move { r2.try_run(&b, NOW).await.unwrap() }));
        }
        let mut full = 0;
        for t in tasks {
            let (s, v) = t.await.unwrap();
            if s == 429 && v.into_json()["status"] == json!("queue_full") {
                full += 1;
            }
        }
        assert_eq!(full, 3);
        // Every ended item left the queue and the node-wide count.
        assert_eq!(r.lock().buffered, 0);
    }
}
