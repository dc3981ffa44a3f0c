//! Talking to other nodes: replication of client stores (batched per peer, several batches in
//! flight), bulk pushes for handoff, sync requests and forwarded requests. Every request is signed
//! with the node key (see `auth`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::auth;
use super::keys::NodeKeys;
use super::now_ms;
use super::protocol::{self, Batch, PushReply, ReplicateReply, Stored, WireMessage};
use crate::limits::{
    NODE_PUSH_BATCH_MAX_BYTES, NODE_PUSH_BATCH_MAX_MESSAGES, NODE_REPLICATION_DELIVERY_TIMEOUT_MS,
    NODE_REPLICATION_INFLIGHT_PER_PEER, NODE_REPLICATION_RETRY_MAX_MESSAGES, NODE_REPLICATION_RETRY_MS,
};
use crate::nodelist::NodeInfo;

/// How a peer answered one replicated message (the per-member entry of a store reply).
#[derive(Debug, Clone)]
pub enum PeerOutcome {
    Stored(Stored),
    /// No answer within the timeout.
    Timeout,
    /// The peer answered with an error status.
    Code(u16, String),
    /// The peer answered 200 with a body we could not use.
    BadPeerResponse,
    /// The request could not be sent (connection refused, reset, ...).
    QueryFailure,
}

/// Why a bulk push to a node failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("cannot reach {0}: {1}")]
    Unreachable(String, String),
    #[error("{0} answered {1}: {2}")]
    Refused(String, u16, String),
    #[error("{0} gave an unreadable answer")]
    BadResponse(String),
}

struct Job {
    msg: WireMessage,
    reply: oneshot::Sender<PeerOutcome>,
}

#[derive(Clone)]
struct PeerQueue {
    url: String,
    tx: mpsc::Sender<Job>,
}

/// Messages one peer has not taken yet, pushed again every [`NODE_REPLICATION_RETRY_MS`].
type Redelivery = Arc<Mutex<VecDeque<WireMessage>>>;

impl PeerOutcome {
    /// Whether the peer may take the message later: no answer, or a server-side failure. A 4xx
    /// (wrong swarm, refused) is final.
    fn worth_retrying(&self) -> bool {
        match self {
            PeerOutcome::Stored(_) => false,
            PeerOutcome::Code(status, _) => *status >= 500,
            PeerOutcome::Timeout | PeerOutcome::BadPeerResponse | PeerOutcome::QueryFailure => true,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The node's HTTP client to its peers.
#[derive(Clone)]
pub struct Peers {
    http: reqwest::Client,
    keys: Arc<NodeKeys>,
    timeout: Duration,
    queues: Arc<Mutex<HashMap<[u8; 32], PeerQueue>>>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers").finish_non_exhaustive()
    }
}

impl Peers {
    pub fn new(keys: Arc<NodeKeys>, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(NODE_REPLICATION_INFLIGHT_PER_PEER * 2)
            .tcp_nodelay(true)
            // onion.md: a relay follows no redirects (a node must not be steered elsewhere).
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http, keys, timeout, queues: Arc::new(Mutex::new(HashMap::new())) })
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// POSTs a signed request to `url` + `path`.
    pub async fn post_signed(
        &self,
        base_url: &str,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut req = self.http.post(format!("{base_url}{path}")).timeout(timeout);
        for (name, value) in auth::sign_headers(&self.keys, path, now_ms(), &body) {
            req = req.header(name, value);
        }
        req.header("content-type", "application/json").body(body).send().await
    }

    /// Replicates one message to each of `peers` concurrently; returns each peer's outcome
    /// within the replication timeout.
    pub async fn replicate(&self, peers: &[NodeInfo], msg: &WireMessage) -> Vec<([u8; 32], PeerOutcome)> {
        let waits = peers.iter().map(|peer| {
            let queue = self.queue_for(peer);
            let job_msg = msg.clone();
            let ed = peer.pubkey_ed25519;
            let timeout = self.timeout;
            async move {
                let (tx, rx) = oneshot::channel();
                let run = async {
                    if queue.tx.send(Job { msg: job_msg, reply: tx }).await.is_err() {
                        return PeerOutcome::QueryFailure;
                    }
                    rx.await.unwrap_or(PeerOutcome::QueryFailure)
                };
                let outcome = tokio::time::timeout(timeout, run).await.unwrap_or(PeerOutcome::Timeout);
                (ed, outcome)
            }
        });
        futures_util::future::join_all(waits).await
    }

    fn queue_for(&self, peer: &NodeInfo) -> PeerQueue {
        let url = peer.url();
        let mut queues = lock(&self.queues);
        if let Some(q) = queues.get(&peer.pubkey_ed25519)
            && q.url == url
            && !q.tx.is_closed()
        {
            return q.clone();
        }
        let (tx, rx) = mpsc::channel::<Job>(NODE_PUSH_BATCH_MAX_MESSAGES * 16);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let redelivery: Redelivery = Arc::default();
        for _ in 0..NODE_REPLICATION_INFLIGHT_PER_PEER {
            tokio::spawn(replication_worker(self.clone(), url.clone(), rx.clone(), redelivery.clone()));
        }
        tokio::spawn(redelivery_worker(self.clone(), url.clone(), tx.downgrade(), redelivery));
        let q = PeerQueue { url, tx };
        queues.insert(peer.pubkey_ed25519, q.clone());
        q
    }

    /// Pushes `messages` to `node` in batches (each batch all-or-nothing on the receiver).
    pub async fn push(&self, node: &NodeInfo, messages: &[WireMessage]) -> Result<usize, PushError> {
        self.push_to(&node.url(), messages).await
    }

    async fn push_to(&self, url: &str, messages: &[WireMessage]) -> Result<usize, PushError> {
        let url = url.to_string();
        let mut stored = 0;
        for batch in batches(messages) {
            let body = serde_json::to_vec(&Batch { messages: batch.to_vec() })
                .map_err(|_| PushError::BadResponse(url.clone()))?;
            let resp = self
                .post_signed(&url, protocol::PATH_PUSH, body, self.timeout * 2)
                .await
                .map_err(|e| PushError::Unreachable(url.clone(), e.to_string()))?;
            let status = resp.status().as_u16();
            let bytes = resp.bytes().await.map_err(|e| PushError::Unreachable(url.clone(), e.to_string()))?;
            if status != 200 {
                return Err(PushError::Refused(url.clone(), status, String::from_utf8_lossy(&bytes).into()));
            }
            let reply: PushReply =
                serde_json::from_slice(&bytes).map_err(|_| PushError::BadResponse(url.clone()))?;
            stored += reply.stored + reply.already;
        }
        Ok(stored)
    }

    /// Asks `node` to push us every record of our swarm.
    pub async fn request_sync(&self, node: &NodeInfo) -> Result<(), PushError> {
        let url = node.url();
        let resp = self
            .post_signed(&url, protocol::PATH_SYNC, b"{}".to_vec(), self.timeout)
            .await
            .map_err(|e| PushError::Unreachable(url.clone(), e.to_string()))?;
        let status = resp.status().as_u16();
        if status / 100 != 2 {
            return Err(PushError::Refused(url, status, String::new()));
        }
        Ok(())
    }
}

/// Splits messages into batches bounded in count and bytes.
pub fn batches(messages: &[WireMessage]) -> Vec<&[WireMessage]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, m) in messages.iter().enumerate() {
        let size = m.data.len() + 200;
        if i > start
            && (i - start >= NODE_PUSH_BATCH_MAX_MESSAGES || bytes + size > NODE_PUSH_BATCH_MAX_BYTES)
        {
            out.push(&messages[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < messages.len() {
        out.push(&messages[start..]);
    }
    out
}

async fn replication_worker(
    peers: Peers,
    url: String,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    redelivery: Redelivery,
) {
    loop {
        let mut jobs = Vec::new();
        {
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(job) => jobs.push(job),
                None => return,
            }
            let mut bytes = jobs[0].msg.data.len();
            while jobs.len() < NODE_PUSH_BATCH_MAX_MESSAGES && bytes < NODE_PUSH_BATCH_MAX_BYTES {
                match rx.try_recv() {
                    Ok(job) => {
                        bytes += job.msg.data.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
        }
        // Jobs whose caller already gave up waiting are still sent: the message must reach the
        // peer even when the client's reply went out without it.
        let t0 = std::time::Instant::now();
        let outcomes = send_batch(&peers, &url, &jobs).await;
        tracing::debug!(peer = %url, messages = jobs.len(), ms = t0.elapsed().as_millis() as u64, "replication batch");
        let retry: Vec<WireMessage> = jobs
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| o.worth_retrying())
            .map(|(j, _)| j.msg.clone())
            .collect();
        if !retry.is_empty() {
            keep_for_redelivery(&redelivery, &url, retry);
        }
        for (job, outcome) in jobs.into_iter().zip(outcomes) {
            let _ = job.reply.send(outcome);
        }
    }
}

fn keep_for_redelivery(redelivery: &Redelivery, url: &str, messages: Vec<WireMessage>) {
    let mut queue = lock(redelivery);
    queue.extend(messages);
    let excess = queue.len().saturating_sub(NODE_REPLICATION_RETRY_MAX_MESSAGES);
    if excess > 0 {
        queue.drain(..excess);
        tracing::warn!(peer = %url, dropped = excess, "redelivery queue full: oldest messages dropped");
    }
}

/// Pushes what a peer missed, again and again, until it takes it. Ends once the peer's queue is
/// gone (the peer left, or changed address) and nothing is left to deliver to it.
async fn redelivery_worker(peers: Peers, url: String, alive: mpsc::WeakSender<Job>, redelivery: Redelivery) {
    loop {
        tokio::time::sleep(Duration::from_millis(NODE_REPLICATION_RETRY_MS)).await;
        let pending: Vec<WireMessage> = lock(&redelivery).drain(..).collect();
        if pending.is_empty() {
            if alive.upgrade().is_none() {
                return;
            }
            continue;
        }
        match peers.push_to(&url, &pending).await {
            Ok(_) => tracing::info!(peer = %url, messages = pending.len(), "redelivered missed replicas"),
            Err(PushError::Refused(_, status, reason)) if status < 500 => {
                // Final: the peer (or we) left the network; it will not take these later either.
                tracing::warn!(peer = %url, status, %reason, messages = pending.len(), "redelivery refused");
            }
            Err(e) => {
                tracing::debug!(peer = %url, error = %e, messages = pending.len(), "redelivery failed");
                if alive.upgrade().is_none() {
                    return;
                }
                let mut queue = lock(&redelivery);
                let newer: Vec<WireMessage> = queue.drain(..).collect();
                drop(queue);
                keep_for_redelivery(&redelivery, &url, pending.into_iter().chain(newer).collect());
            }
        }
    }
}

async fn send_batch(peers: &Peers, url: &str, jobs: &[Job]) -> Vec<PeerOutcome> {
    let all = |o: PeerOutcome| vec![o; jobs.len()];
    let batch = Batch { messages: jobs.iter().map(|j| j.msg.clone()).collect() };
    let Ok(body) = serde_json::to_vec(&batch) else {
        return all(PeerOutcome::QueryFailure);
    };
    let delivery = Duration::from_millis(NODE_REPLICATION_DELIVERY_TIMEOUT_MS);
    let resp = match peers.post_signed(url, protocol::PATH_REPLICATE, body, delivery).await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return all(PeerOutcome::Timeout),
        Err(_) => return all(PeerOutcome::QueryFailure),
    };
    let status = resp.status().as_u16();
    let Ok(bytes) = resp.bytes().await else {
        return all(PeerOutcome::QueryFailure);
    };
    if status != 200 {
        let reason: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
        return all(PeerOutcome::Code(status, reason));
    }
    match serde_json::from_slice::<ReplicateReply>(&bytes) {
        Ok(reply) if reply.results.len() == jobs.len() => {
            reply.results.into_iter().map(PeerOutcome::Stored).collect()
        }
        _ => all(PeerOutcome::BadPeerResponse),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(i: u64) -> WireMessage {
        WireMessage {
            pubkey: format!("05{}", "ab".repeat(32)),
            namespace: 0,
            hash: format!("h{i}"),
            timestamp: i,
            expiry: i + 1,
            data: String::new(),
        }
    }

    #[test]
    fn test_only_transient_failures_are_redelivered() {
        assert!(PeerOutcome::Timeout.worth_retrying());
        assert!(PeerOutcome::QueryFailure.worth_retrying());
        assert!(PeerOutcome::BadPeerResponse.worth_retrying());
        assert!(PeerOutcome::Code(503, "busy".into()).worth_retrying());
        assert!(!PeerOutcome::Code(421, "wrong swarm".into()).worth_retrying());
        assert!(!PeerOutcome::Code(401, "unknown sender".into()).worth_retrying());
        let stored = Stored { hash: "h".into(), expiry: 1, already: false, signature: String::new() };
        assert!(!PeerOutcome::Stored(stored).worth_retrying());
    }

    #[test]
    fn test_redelivery_queue_is_bounded_and_drops_the_oldest() {
        let queue: Redelivery = Arc::default();
        keep_for_redelivery(&queue, "peer", (0..10).map(wire).collect());
        let extra = NODE_REPLICATION_RETRY_MAX_MESSAGES as u64;
        keep_for_redelivery(&queue, "peer", (10..10 + extra).map(wire).collect());
        let q = lock(&queue);
        assert_eq!(q.len(), NODE_REPLICATION_RETRY_MAX_MESSAGES);
        assert_eq!(q.front().map(|m| m.hash.as_str()), Some("h10"), "the 10 oldest were dropped");
        assert_eq!(q.back().map(|m| m.timestamp), Some(9 + extra));
    }
}
