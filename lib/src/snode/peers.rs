//! Talking to other nodes: replication of client stores over one persistent, authenticated link
//! per peer (see `link`: batched, several batches in flight, reconnected with backoff), and bulk
//! pushes for handoff, sync requests and forwarded requests as signed HTTP requests (see `auth`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

use super::auth;
use super::keys::NodeKeys;
use super::link::{self, LinkError, LinkIo};
use super::now_ms;
use super::protocol::{self, Batch, PeerMessage, PushReply, Stored};
use crate::formats::limits::{
    NODE_LINK_BACKOFF_MAX_MS, NODE_LINK_BACKOFF_MIN_MS, NODE_LINK_HANDSHAKE_TIMEOUT_MS,
    NODE_LINK_INFLIGHT_BATCHES, NODE_LINK_QUEUE_MESSAGES, NODE_PUSH_BATCH_MAX_BYTES,
    NODE_PUSH_BATCH_MAX_MESSAGES, NODE_REPLICATION_DELIVERY_TIMEOUT_MS, NODE_REPLICATION_INFLIGHT_PER_PEER,
    NODE_REPLICATION_RETRY_MAX_MESSAGES, NODE_REPLICATION_RETRY_MS,
};
use crate::formats::nodelist::NodeInfo;
use crate::formats::rpc::message::StoredMessage;
use crate::snode::store::Store;

/// How a peer answered one replicated message (the per-member entry of a store reply).
#[derive(Debug, Clone)]
pub(crate) enum PeerOutcome {
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

/// Why the client to the peers could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PeersError {
    #[error(transparent)]
    Http(#[from] crate::net::http::HttpError),
    #[error("cannot set up TLS to the peers: {0}")]
    Tls(String),
}

/// Why a bulk push to a node failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PushError {
    #[error("cannot reach {0}: {1}")]
    Unreachable(String, String),
    #[error("{0} answered {1}: {2}")]
    Refused(String, u16, String),
    #[error("{0} gave an unreadable answer")]
    BadResponse(String),
}

struct Job {
    msg: StoredMessage,
    reply: oneshot::Sender<PeerOutcome>,
}

#[derive(Clone)]
struct PeerQueue {
    url: String,
    tx: mpsc::Sender<Job>,
}

/// Hashes of the messages one peer has not taken yet. Every [`NODE_REPLICATION_RETRY_MS`] they
/// are read again from our store and pushed: a message deleted or expired meanwhile is not
/// brought back, and the queue costs a hash per message, not its data.
type Redelivery = Arc<Mutex<VecDeque<String>>>;

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

/// Locks `m`, also after a panic elsewhere (the queues stay usable: each update is whole).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The node's HTTP client to its peers.
#[derive(Clone)]
pub(crate) struct Peers {
    http: reqwest::Client,
    store: Store,
    /// Whether every node of this network speaks HTTPS.
    tls: bool,
    /// The TLS client of the links on a `--tls` network (any certificate: the link's handshake
    /// authenticates the node).
    tls_links: Option<tokio_rustls::TlsConnector>,
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
    pub(crate) fn new(
        keys: Arc<NodeKeys>,
        store: Store,
        timeout: Duration,
        tls: bool,
    ) -> Result<Self, PeersError> {
        // No redirects (onion.md: a relay must not be steered elsewhere); peers present
        // self-signed certificates, their keys in the registry being what counts.
        let http = crate::net::http::async_client(NODE_REPLICATION_INFLIGHT_PER_PEER * 2)?;
        let tls_links = if tls {
            let config =
                crate::net::tls::shared_client_config().map_err(|e| PeersError::Tls(e.to_string()))?;
            Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
        } else {
            None
        };
        Ok(Self { http, store, tls, tls_links, keys, timeout, queues: Arc::new(Mutex::new(HashMap::new())) })
    }

    /// A peer's base URL in this network's scheme.
    pub(crate) fn url_of(&self, peer: &NodeInfo) -> String {
        peer.url_with(self.tls)
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// POSTs a signed request to `url` + `path`.
    pub(crate) async fn post_signed(
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
    pub(crate) async fn replicate(
        &self,
        peers: &[NodeInfo],
        msg: &StoredMessage,
    ) -> Vec<([u8; 32], PeerOutcome)> {
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

    /// Forgets the replication queues of nodes that are no longer our swarm peers: their workers
    /// end, and what they had not taken is not pushed to them any more (a node that rejoins
    /// catches up by its own sync).
    pub(crate) fn retain_peers(&self, peers: &[NodeInfo]) {
        let keep: std::collections::HashSet<[u8; 32]> = peers.iter().map(|p| p.pubkey_ed25519).collect();
        lock(&self.queues).retain(|ed, _| keep.contains(ed));
    }

    fn queue_for(&self, peer: &NodeInfo) -> PeerQueue {
        let url = self.url_of(peer);
        let mut queues = lock(&self.queues);
        if let Some(q) = queues.get(&peer.pubkey_ed25519)
            && q.url == url
            && !q.tx.is_closed()
        {
            return q.clone();
        }
        let (tx, rx) = mpsc::channel::<Job>(NODE_LINK_QUEUE_MESSAGES);
        let redelivery: Redelivery = Arc::default();
        tokio::spawn(link_worker(self.clone(), peer.clone(), url.clone(), rx, redelivery.clone()));
        tokio::spawn(redelivery_worker(self.clone(), url.clone(), tx.downgrade(), redelivery));
        let q = PeerQueue { url, tx };
        queues.insert(peer.pubkey_ed25519, q.clone());
        q
    }

    /// Pushes `messages` to `node` in batches (each batch all-or-nothing on the receiver).
    pub(crate) async fn push(&self, node: &NodeInfo, messages: &[PeerMessage]) -> Result<usize, PushError> {
        self.push_to(&self.url_of(node), messages).await
    }

    async fn push_to(&self, url: &str, messages: &[PeerMessage]) -> Result<usize, PushError> {
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
    pub(crate) async fn request_sync(&self, node: &NodeInfo) -> Result<(), PushError> {
        let url = self.url_of(node);
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
pub(crate) fn batches(messages: &[PeerMessage]) -> Vec<&[PeerMessage]> {
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

/// Dials `peer` and authenticates the link: TCP, TLS on a `--tls` network, the upgrade, the
/// handshake (the peer must prove it holds the key the registry lists for it).
async fn dial(peers: &Peers, peer: &NodeInfo) -> Result<(Box<dyn LinkIo>, link::Session), LinkError> {
    let host = format!("{}:{}", peer.public_ip, peer.storage_port);
    let tcp = tokio::net::TcpStream::connect(&host).await?;
    // Batches and answers are small and latency-bound: no Nagle delay behind a delayed ack.
    let _ = tcp.set_nodelay(true);
    let mut io: Box<dyn LinkIo> = match &peers.tls_links {
        Some(connector) => {
            let name = rustls::pki_types::ServerName::try_from(peer.public_ip.clone())
                .map_err(|e| LinkError::Tls(e.to_string()))?;
            Box::new(connector.connect(name, tcp).await?)
        }
        None => Box::new(tcp),
    };
    link::upgrade(&mut io, &host).await?;
    let session = link::initiate(&mut io, &peers.keys, &peer.pubkey_ed25519).await?;
    Ok((io, session))
}

/// How a link ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The peer's queue is gone ([`Peers::retain_peers`]): the worker ends.
    QueueClosed,
    /// The connection broke, timed out or misbehaved: dial again.
    Broken,
}

/// One peer's replication: keeps a link open (dialling again with backoff when it breaks) and
/// streams the queued messages over it. While the peer cannot be reached, what is queued fails
/// at once (kept for redelivery) instead of holding client stores for the whole timeout.
async fn link_worker(
    peers: Peers,
    peer: NodeInfo,
    url: String,
    mut rx: mpsc::Receiver<Job>,
    redelivery: Redelivery,
) {
    let mut backoff = Duration::from_millis(NODE_LINK_BACKOFF_MIN_MS);
    loop {
        let opening = Duration::from_millis(NODE_LINK_HANDSHAKE_TIMEOUT_MS);
        match tokio::time::timeout(opening, dial(&peers, &peer)).await {
            Ok(Ok((io, session))) => {
                tracing::debug!(peer = %url, "peer link open");
                backoff = Duration::from_millis(NODE_LINK_BACKOFF_MIN_MS);
                let opened = std::time::Instant::now();
                if run_link(&url, io, session, &mut rx, &redelivery).await == Ended::QueueClosed {
                    return;
                }
                tracing::debug!(peer = %url, "peer link closed");
                // A link that served a while is dialled again at once (the peer may be back
                // already); one that breaks as soon as it opens waits like a failed dial.
                if opened.elapsed() > Duration::from_millis(NODE_LINK_BACKOFF_MAX_MS) {
                    continue;
                }
            }
            Ok(Err(e)) => tracing::debug!(peer = %url, error = %e, "cannot open a peer link"),
            Err(_) => tracing::debug!(peer = %url, "opening a peer link timed out"),
        }
        let retry_at = tokio::time::Instant::now() + backoff;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(retry_at) => break,
                job = rx.recv() => match job {
                    Some(job) => finish(&url, &redelivery, vec![job], |_| PeerOutcome::QueryFailure),
                    None => return,
                },
            }
        }
        backoff = (backoff * 2).min(Duration::from_millis(NODE_LINK_BACKOFF_MAX_MS));
    }
}

/// Takes `first` and whatever else is queued, up to a batch's bounds.
fn drain_batch(first: Job, rx: &mut mpsc::Receiver<Job>) -> Vec<Job> {
    let mut bytes = first.msg.data.len();
    let mut jobs = vec![first];
    while jobs.len() < NODE_PUSH_BATCH_MAX_MESSAGES && bytes < NODE_PUSH_BATCH_MAX_BYTES {
        match rx.try_recv() {
            Ok(job) => {
                bytes += job.msg.data.len();
                jobs.push(job);
            }
            Err(_) => break,
        }
    }
    jobs
}

/// Streams batches over an open link until it breaks or the queue closes. Up to
/// [`NODE_LINK_INFLIGHT_BATCHES`] batches are unanswered at a time; what is queued meanwhile
/// forms the next batch. A batch unanswered for [`NODE_REPLICATION_DELIVERY_TIMEOUT_MS`] ends
/// the link. Jobs whose caller already gave up waiting are still sent: the message must reach
/// the peer even when the client's reply went out without it.
async fn run_link(
    url: &str,
    io: Box<dyn LinkIo>,
    session: link::Session,
    rx: &mut mpsc::Receiver<Job>,
    redelivery: &Redelivery,
) -> Ended {
    let link::Session { mut send, mut recv, .. } = session;
    let (mut rd, wr) = tokio::io::split(io);
    let mut wr = tokio::io::BufWriter::new(wr);
    // The reader has its own task: a frame half read must not be dropped by the select below.
    let (answers_tx, mut answers) = mpsc::channel(NODE_LINK_INFLIGHT_BATCHES + 1);
    let reader = tokio::spawn(async move {
        loop {
            let frame = link::recv_sealed(&mut rd, &mut recv).await;
            let end = frame.is_err();
            if answers_tx.send(frame).await.is_err() || end {
                return;
            }
        }
    });
    let delivery = Duration::from_millis(NODE_REPLICATION_DELIVERY_TIMEOUT_MS);
    let mut pending: HashMap<u64, (std::time::Instant, Vec<Job>)> = HashMap::new();
    let mut next_id: u64 = 1;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let ended = loop {
        tokio::select! {
            answer = answers.recv() => match answer {
                Some(Ok(payload)) => {
                    if let Err(e) = settle(url, redelivery, &mut pending, &payload) {
                        tracing::warn!(peer = %url, error = %e, "unusable answer on a peer link");
                        break Ended::Broken;
                    }
                }
                Some(Err(e)) => {
                    tracing::debug!(peer = %url, error = %e, "peer link broke");
                    break Ended::Broken;
                }
                None => break Ended::Broken,
            },
            job = rx.recv(), if pending.len() < NODE_LINK_INFLIGHT_BATCHES => match job {
                None => break Ended::QueueClosed,
                Some(first) => {
                    let jobs = drain_batch(first, rx);
                    let id = next_id;
                    next_id += 1;
                    let payload = link::encode_replicate(id, &jobs.iter().map(|j| &j.msg).collect::<Vec<_>>());
                    pending.insert(id, (std::time::Instant::now(), jobs));
                    let write = async {
                        link::send_sealed(&mut wr, &mut send, &payload).await?;
                        wr.flush().await?;
                        Ok::<_, LinkError>(())
                    };
                    if !matches!(tokio::time::timeout(delivery, write).await, Ok(Ok(()))) {
                        break Ended::Broken;
                    }
                }
            },
            _ = tick.tick() => {
                if pending.values().any(|(sent, _)| sent.elapsed() > delivery) {
                    tracing::warn!(peer = %url, "a batch went unanswered on a peer link: dialling again");
                    break Ended::Broken;
                }
            }
        }
    };
    reader.abort();
    for (_, (_, jobs)) in pending.drain() {
        finish(url, redelivery, jobs, |_| PeerOutcome::QueryFailure);
    }
    ended
}

/// Settles the batch an answer is for: each job gets its outcome.
fn settle(
    url: &str,
    redelivery: &Redelivery,
    pending: &mut HashMap<u64, (std::time::Instant, Vec<Job>)>,
    payload: &[u8],
) -> Result<(), LinkError> {
    let (id, answer) = link::decode_answer(payload)?;
    let (_, jobs) = pending.remove(&id).ok_or(LinkError::Malformed("answer to no pending batch"))?;
    match answer {
        link::Answer::Stored(entries) if entries.len() == jobs.len() => {
            let mut entries = entries.into_iter();
            finish(url, redelivery, jobs, |job| match entries.next() {
                Some(e) => PeerOutcome::Stored(Stored {
                    hash: job.msg.hash.clone(),
                    expiry: e.expiry,
                    already: e.already,
                    signature: STANDARD.encode(e.signature),
                }),
                None => PeerOutcome::BadPeerResponse,
            });
        }
        link::Answer::Stored(_) => finish(url, redelivery, jobs, |_| PeerOutcome::BadPeerResponse),
        link::Answer::Refused(status, reason) => {
            finish(url, redelivery, jobs, |_| PeerOutcome::Code(status, reason.clone()))
        }
    }
    Ok(())
}

/// Answers each job with its outcome; what the peer may still take later is kept for redelivery.
fn finish(url: &str, redelivery: &Redelivery, jobs: Vec<Job>, mut outcome: impl FnMut(&Job) -> PeerOutcome) {
    let mut retry = Vec::new();
    for job in jobs {
        let o = outcome(&job);
        if o.worth_retrying() {
            retry.push(job.msg.hash.clone());
        }
        let _ = job.reply.send(o);
    }
    if !retry.is_empty() {
        keep_for_redelivery(redelivery, url, retry);
    }
}
fn keep_for_redelivery(redelivery: &Redelivery, url: &str, hashes: Vec<String>) {
    let mut queue = lock(redelivery);
    queue.extend(hashes);
    let excess = queue.len().saturating_sub(NODE_REPLICATION_RETRY_MAX_MESSAGES);
    if excess > 0 {
        queue.drain(..excess);
        tracing::warn!(peer = %url, dropped = excess, "redelivery queue full: oldest messages dropped");
    }
}

/// Pushes what a peer missed, again and again, until it takes it. Ends as soon as the peer's
/// queue is gone ([`Peers::retain_peers`]: it left our swarm, or changed address).
async fn redelivery_worker(peers: Peers, url: String, alive: mpsc::WeakSender<Job>, redelivery: Redelivery) {
    loop {
        tokio::time::sleep(Duration::from_millis(NODE_REPLICATION_RETRY_MS)).await;
        if alive.upgrade().is_none() {
            return;
        }
        let pending: Vec<String> = lock(&redelivery).drain(..).collect();
        if pending.is_empty() {
            continue;
        }
        let store = peers.store.clone();
        let wanted = pending.clone();
        let messages = match tokio::task::spawn_blocking(move || store.messages_by_hash(&wanted)).await {
            Ok(Ok(found)) => found.iter().map(PeerMessage::from_stored).collect::<Vec<_>>(),
            _ => {
                // Our own store cannot be read now: try again next round.
                requeue(&redelivery, &url, pending);
                continue;
            }
        };
        if messages.is_empty() {
            continue; // all deleted or expired meanwhile
        }
        match peers.push_to(&url, &messages).await {
            Ok(_) => tracing::info!(peer = %url, messages = messages.len(), "redelivered missed replicas"),
            Err(PushError::Refused(_, status, reason)) if status < 500 => {
                // Final: the peer (or we) left the network; it will not take these later either.
                tracing::warn!(peer = %url, status, %reason, messages = messages.len(), "redelivery refused");
            }
            Err(e) => {
                tracing::debug!(peer = %url, error = %e, messages = messages.len(), "redelivery failed");
                requeue(&redelivery, &url, messages.into_iter().map(|m| m.hash).collect());
            }
        }
    }
}

/// Puts `hashes` back in front of what arrived meanwhile (oldest first, bound kept).
fn requeue(redelivery: &Redelivery, url: &str, hashes: Vec<String>) {
    let newer: Vec<String> = lock(redelivery).drain(..).collect();
    keep_for_redelivery(redelivery, url, hashes.into_iter().chain(newer).collect());
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let hashes = |r: std::ops::Range<usize>| r.map(|i| format!("h{i}")).collect::<Vec<_>>();
        keep_for_redelivery(&queue, "peer", hashes(0..10));
        let extra = NODE_REPLICATION_RETRY_MAX_MESSAGES;
        keep_for_redelivery(&queue, "peer", hashes(10..10 + extra));
        {
            let q = lock(&queue);
            assert_eq!(q.len(), NODE_REPLICATION_RETRY_MAX_MESSAGES);
            assert_eq!(q.front().map(String::as_str), Some("h10"), "the 10 oldest were dropped");
            assert_eq!(q.back(), Some(&format!("h{}", 9 + extra)));
        }
        // A failed push goes back in front of what arrived meanwhile.
        let queue: Redelivery = Arc::default();
        keep_for_redelivery(&queue, "peer", hashes(5..7));
        requeue(&queue, "peer", hashes(0..2));
        assert_eq!(lock(&queue).iter().cloned().collect::<Vec<_>>(), ["h0", "h1", "h5", "h6"]);
    }
}
