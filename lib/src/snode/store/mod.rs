//! Durable message storage for a service node: SQLite (WAL, `synchronous=FULL`) with group
//! commit.
//!
//! One writer thread owns the only read-write connection. Every change (insert, delete, expiry
//! sweep, pubkey removal) is a job sent to it over a bounded channel; the writer takes every job
//! waiting (up to [`STORE_GROUP_COMMIT_MAX`](crate::limits::STORE_GROUP_COMMIT_MAX)), runs each
//! inside its own savepoint of one transaction, commits once (one fsync for the whole batch), and
//! only then answers each caller.
//! So `insert` returns only when the message is on disk, and 64 concurrent callers cost one
//! fsync, not 64. Reads use a small pool of read-only connections and never wait for the writer
//! (WAL readers see the last committed state).
//!
//! Expired messages are never returned, even before [`Store::expire`] has swept them.
//! See `docs/storage.md` for the durability reasoning and the schema.
//!
//! - this file: the [`Store`] API, its options and errors;
//! - `schema`: the schema, its migration and the connection settings;
//! - `writer`: the writer thread (group commit, the changes it runs) and the checkpointer;
//! - `reads`: the read-only connection pool and the queries;
//! - `revoked`: revoked subaccount tokens (their table, changes and query);
//! - `redeliveries`: forwarded requests waiting for a peer that could not take them.

mod reads;
mod redeliveries;
mod revoked;
mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, MutexGuard};
use std::thread::JoinHandle;

use rusqlite::Connection;

use crate::formats::keys::Pubkey;
use crate::formats::limits::{
    MAX_MESSAGE_BYTES, STORE_EXPIRE_CHUNK, STORE_HASH_MAX_CHARS, STORE_INSERT_MANY_MAX,
    STORE_WAL_AUTOCHECKPOINT_PAGES, STORE_WRITE_QUEUE,
};
use crate::formats::rpc::SubaccountToken;
pub use crate::formats::rpc::message::{StoredMessage, is_public_outbox};
use crate::formats::time::{Clock, SystemClock};
pub use redeliveries::Redelivery;
pub use schema::SCHEMA_VERSION;
use writer::{Change, Job, Pending, Reply};

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// The message was new and is now stored.
    New,
    /// A message with this hash was already stored; it is kept once. `expiry_ms` is its expiry
    /// now (extended to the new expiry if that was later, as the live network does).
    Already {
        /// The stored message's expiry after this insert, ms since the epoch.
        expiry_ms: u64,
    },
}

impl Inserted {
    /// The expiry the stored copy has after this insert.
    pub fn expiry_ms(&self, inserted: &StoredMessage) -> u64 {
        match self {
            Inserted::New => inserted.expiry_ms,
            Inserted::Already { expiry_ms } => *expiry_ms,
        }
    }

    /// `true` when this insert stored the message for the first time.
    pub fn is_new(&self) -> bool {
        matches!(self, Inserted::New)
    }
}

/// Why a store operation failed.
///
/// The open failures that are not SQLite's own keep the wording they had when they were
/// reported through `rusqlite` ("Invalid parameter name: ..."): scripts may match it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite could not open the database file.
    #[error("cannot open message store {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The data directory could not be created.
    #[error("cannot open message store {path}: Invalid parameter name: cannot create {path}: {source}")]
    Create {
        /// The database file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database could not be put in WAL mode.
    #[error("cannot open message store {path}: Invalid parameter name: journal_mode is {mode}, expected wal")]
    NotWal {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// The writer or a reader thread could not be started.
    #[error(
        "cannot open message store {path}: Invalid parameter name: cannot start {thread} thread: {source}"
    )]
    Thread {
        /// The database file.
        path: PathBuf,
        /// Which thread.
        thread: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file's schema is newer than this snode understands.
    #[error(
        "message store {path} has schema version {found}; this snode understands up to {supported}: \
         use a newer snode or another --data directory"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The file's `user_version`.
        found: i64,
        /// The newest version this snode knows.
        supported: i64,
    },
    /// Any other SQLite failure.
    #[error("message store database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The batch holding the change could not begin or commit: nothing of it is on disk.
    #[error("message store database error: transaction not committed: {reason}")]
    NotCommitted {
        /// SQLite's reason.
        reason: String,
    },
    /// The disk is full (`SQLITE_FULL`).
    #[error("message store disk is full")]
    Full,
    /// The message data is over `MAX_MESSAGE_BYTES`.
    #[error("message data is {0} bytes; the limit is {MAX_MESSAGE_BYTES}")]
    DataTooLarge(usize),
    /// The message hash is empty or over `STORE_HASH_MAX_CHARS`.
    #[error("message hash must be 1 to {STORE_HASH_MAX_CHARS} characters, got {0}")]
    BadHash(usize),
    /// A timestamp or expiry does not fit SQLite's signed 64-bit integers.
    #[error("{field} {value} does not fit the store's 63-bit integers")]
    OutOfRange {
        /// Which value.
        field: &'static str,
        /// The value.
        value: u64,
    },
    /// The hash is stored already under another pubkey.
    #[error("message hash {0} is already stored for another pubkey")]
    HashTaken(String),
    /// One `insert_many` got more than `STORE_INSERT_MANY_MAX` messages.
    #[error("insert_many got {0} messages; the limit is {STORE_INSERT_MANY_MAX}")]
    TooMany(usize),
    /// The writer's queue is full (`STORE_WRITE_QUEUE`): back-pressure.
    #[error("message store is busy ({STORE_WRITE_QUEUE} writes queued); retry shortly")]
    Busy,
    /// The writer thread has stopped, so nothing can be written.
    #[error("message store writer has stopped")]
    WriterGone,
}

impl StoreError {
    fn from_sqlite(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            StoreError::Full
        } else {
            StoreError::Sqlite(e)
        }
    }
}

/// A store failure as the RPC answers it: a full queue is 503, a refused record 400.
impl From<StoreError> for crate::formats::rpc::RpcError {
    fn from(e: StoreError) -> Self {
        use StoreError as E;
        match e {
            E::Busy => crate::formats::rpc::RpcError::unavailable(e.to_string()),
            E::DataTooLarge(_) | E::BadHash(_) | E::HashTaken(_) | E::OutOfRange { .. } | E::TooMany(_) => {
                crate::formats::rpc::RpcError::invalid_request(e)
            }
            other => crate::formats::rpc::RpcError::internal(other.to_string()),
        }
    }
}

type Res<T> = Result<T, StoreError>;

/// How a store is opened.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// WAL pages after which the writer checkpoints itself (a backstop: the checkpoint thread
    /// normally keeps the WAL short).
    pub wal_autocheckpoint_pages: i64,
    /// The time expired messages are hidden at.
    pub clock: Arc<dyn Clock>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { wal_autocheckpoint_pages: STORE_WAL_AUTOCHECKPOINT_PAGES, clock: Arc::new(SystemClock) }
    }
}

/// Where a [`Store::scan`] continues: opaque, only valid for the store that returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanCursor(i64);

/// The durable message store. Cheap to clone; every clone shares the writer thread and the read
/// pool. The writer stops when the last clone is dropped (after finishing queued jobs).
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    stats: Arc<Counters>,
    jobs: Option<SyncSender<Job>>,
    writer: Option<JoinHandle<()>>,
    stop_checkpointer: Option<mpsc::Sender<()>>,
    checkpointer: Option<JoinHandle<()>>,
    readers: reads::Readers,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel lets the writer drain what is queued and exit.
        self.jobs.take();
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
        self.stop_checkpointer.take();
        if let Some(h) = self.checkpointer.take() {
            let _ = h.join();
        }
    }
}

/// Writer activity since `open`: how well group commit batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Transactions committed (one fsync each).
    pub commits: u64,
    /// Jobs (inserts, insert_many calls, deletes, …) run in them.
    pub jobs: u64,
}

#[derive(Debug, Default)]
struct Counters {
    commits: std::sync::atomic::AtomicU64,
    jobs: std::sync::atomic::AtomicU64,
}

fn to_i64(field: &'static str, value: u64) -> Res<i64> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { field, value })
}

fn check_message(m: &StoredMessage) -> Res<()> {
    if m.data.len() > MAX_MESSAGE_BYTES {
        return Err(StoreError::DataTooLarge(m.data.len()));
    }
    if m.hash.is_empty() || m.hash.len() > STORE_HASH_MAX_CHARS {
        return Err(StoreError::BadHash(m.hash.len()));
    }
    to_i64("timestamp", m.timestamp_ms)?;
    to_i64("expiry", m.expiry_ms)?;
    Ok(())
}

/// The connection that checkpoints the WAL into the database file, off the writer's path.
fn open_checkpointer(path: &Path) -> Res<Connection> {
    let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
    let conn = Connection::open(path).map_err(open_err)?;
    schema::configure(&conn).map_err(open_err)?;
    Ok(conn)
}

impl Store {
    /// Opens (creating if needed) the store at `path`, a SQLite file, and starts its writer.
    pub fn open(path: impl AsRef<Path>) -> Res<Store> {
        Self::open_with(path, StoreOptions::default())
    }

    /// [`Store::open`] with options.
    pub fn open_with(path: impl AsRef<Path>, options: StoreOptions) -> Res<Store> {
        let path = path.as_ref().to_path_buf();
        let writer = schema::open_writer(&path, options.wal_autocheckpoint_pages)?;
        let readers = reads::Readers::open(&path)?;
        let (tx, rx) = mpsc::sync_channel(STORE_WRITE_QUEUE);
        let stats = Arc::new(Counters::default());
        let writer_stats = stats.clone();
        let thread_err = |thread, source| StoreError::Thread { path: path.clone(), thread, source };
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer::writer_loop(writer, rx, &writer_stats))
            .map_err(|e| thread_err("writer", e))?;
        let (stop_tx, stop_rx) = mpsc::channel();
        let ckpt_conn = open_checkpointer(&path)?;
        let ckpt = std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || writer::checkpoint_loop(ckpt_conn, stop_rx))
            .map_err(|e| thread_err("checkpoint", e))?;
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                clock: options.clock,
                stats,
                jobs: Some(tx),
                writer: Some(handle),
                stop_checkpointer: Some(stop_tx),
                checkpointer: Some(ckpt),
                readers,
            }),
        })
    }

    /// Commits and jobs since `open` (jobs / commits = the average group-commit batch).
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            commits: self.inner.stats.commits.load(Ordering::Relaxed),
            jobs: self.inner.stats.jobs.load(Ordering::Relaxed),
        }
    }

    /// The SQLite file this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    // ---- writes: one path (`write`); `write_blocking` only waits differently -------------------

    /// Queues `change` (unless `prepare` already answered it) and awaits its committed result
    /// without blocking the async runtime: [`StoreError::Busy`] when the writer's queue is full.
    async fn write<C: Change>(&self, change: C) -> Res<C::Output> {
        if let Some(out) = change.prepare()? {
            return Ok(out);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.queue(Box::new(Pending { change, reply: Reply::Async(tx) }), false)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// [`Store::write`] for threads that may block: waits for room in the queue
    /// (back-pressure) and for the result.
    fn write_blocking<C: Change>(&self, change: C) -> Res<C::Output> {
        if let Some(out) = change.prepare()? {
            return Ok(out);
        }
        let (tx, rx) = mpsc::sync_channel(1);
        self.queue(Box::new(Pending { change, reply: Reply::Blocking(tx) }), true)?;
        rx.recv().map_err(|_| StoreError::WriterGone)?
    }

    fn queue(&self, job: Job, wait_for_room: bool) -> Res<()> {
        let jobs = self.inner.jobs.as_ref().ok_or(StoreError::WriterGone)?;
        if wait_for_room {
            return jobs.send(job).map_err(|_| StoreError::WriterGone);
        }
        jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => StoreError::Busy,
            TrySendError::Disconnected(_) => StoreError::WriterGone,
        })
    }

    /// Stores one message; returns once it is committed to disk. The same hash stored twice is
    /// kept once ([`Inserted::Already`] with the stored expiry).
    pub fn insert(&self, msg: StoredMessage) -> Res<Inserted> {
        self.write_blocking(writer::Insert(msg))
    }

    /// [`Store::insert`] for tokio callers: never blocks the runtime; [`StoreError::Busy`] when
    /// the writer's queue is full.
    pub async fn insert_async(&self, msg: StoredMessage) -> Res<Inserted> {
        self.write(writer::Insert(msg)).await
    }

    /// Stores many messages all-or-nothing (replication, bulk pushes): either every message is
    /// committed (each `New` or `Already`) or none is.
    pub fn insert_many(&self, msgs: Vec<StoredMessage>) -> Res<Vec<Inserted>> {
        self.write_blocking(writer::InsertMany(msgs))
    }

    /// [`Store::insert_many`] for tokio callers.
    pub async fn insert_many_async(&self, msgs: Vec<StoredMessage>) -> Res<Vec<Inserted>> {
        self.write(writer::InsertMany(msgs)).await
    }

    /// Deletes the pubkey's messages with these hashes; returns the hashes actually deleted
    /// (in the order asked). Hashes of other pubkeys are untouched.
    pub fn delete(&self, pubkey: &Pubkey, hashes: &[String]) -> Res<Vec<String>> {
        self.write_blocking(writer::Delete(*pubkey, hashes.to_vec()))
    }

    /// [`Store::delete`] for tokio callers.
    pub async fn delete_async(&self, pubkey: &Pubkey, hashes: &[String]) -> Res<Vec<String>> {
        self.write(writer::Delete(*pubkey, hashes.to_vec())).await
    }

    /// Deletes the pubkey's messages in `namespace` (every namespace if None) whose timestamp
    /// is at most `before` (all if None), durably; returns each deleted message's namespace and
    /// hash (delete_all, delete_before).
    pub async fn delete_matching_async(
        &self,
        pubkey: &Pubkey,
        namespace: Option<i16>,
        before: Option<u64>,
    ) -> Res<Vec<(i16, String)>> {
        self.write(writer::DeleteMatching { pubkey: *pubkey, namespace, before }).await
    }

    /// Blocking [`Store::delete_matching_async`].
    pub fn delete_matching(
        &self,
        pubkey: &Pubkey,
        namespace: Option<i16>,
        before: Option<u64>,
    ) -> Res<Vec<(i16, String)>> {
        self.write_blocking(writer::DeleteMatching { pubkey: *pubkey, namespace, before })
    }

    /// Deletes every message whose expiry is at or before `now_ms`; returns how many. Runs in
    /// chunks so that inserts are not held up by a large sweep.
    pub fn expire(&self, now_ms: u64) -> Res<usize> {
        let mut total = 0;
        loop {
            let n = self.write_blocking(writer::ExpireChunk(now_ms))?;
            total += n;
            if n < STORE_EXPIRE_CHUNK {
                return Ok(total);
            }
        }
    }

    /// Deletes every message of these pubkeys (records no longer this node's swarm's); returns
    /// how many messages were removed.
    pub fn remove_pubkeys(&self, pubkeys: &[Pubkey]) -> Res<usize> {
        self.write_blocking(writer::RemovePubkeys(pubkeys.to_vec()))
    }

    /// Removes the messages of every stored pubkey for which `pred` is true.
    pub fn remove_pubkeys_where(&self, pred: impl Fn(&Pubkey) -> bool) -> Res<usize> {
        let doomed: Vec<Pubkey> = self.all_pubkeys()?.into_iter().filter(|p| pred(p)).collect();
        let mut total = 0;
        for chunk in doomed.chunks(STORE_EXPIRE_CHUNK) {
            total += self.remove_pubkeys(chunk)?;
        }
        Ok(total)
    }

    // ---- reads (`reads`): never wait for the writer ---------------------------------------------

    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.inner.readers.get()
    }

    fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    /// The pubkey's unexpired messages in `namespace` stored after the one with `last_hash`
    /// (unknown or absent `last_hash`: from the first), in insertion order, at most `max_count`
    /// of them and at most `max_size` bytes as the live network counts them (hash, base64 data
    /// and a per-message overhead; at least one message is returned if any). `more` is true
    /// when further messages were left out.
    pub fn retrieve(
        &self,
        pubkey: &Pubkey,
        namespace: i16,
        last_hash: Option<&str>,
        max_count: usize,
        max_size: u64,
    ) -> Res<(Vec<StoredMessage>, bool)> {
        self.retrieve_at(self.now_ms(), pubkey, namespace, last_hash, max_count, max_size)
    }

    /// [`Store::retrieve`] as seen at `now_ms` (messages expiring at or before it are hidden).
    pub fn retrieve_at(
        &self,
        now_ms: u64,
        pubkey: &Pubkey,
        namespace: i16,
        last_hash: Option<&str>,
        max_count: usize,
        max_size: u64,
    ) -> Res<(Vec<StoredMessage>, bool)> {
        reads::retrieve(&self.reader(), now_ms, pubkey, namespace, last_hash, max_count, max_size)
    }

    /// Number of stored messages (including expired ones not yet swept).
    pub fn count(&self) -> Res<u64> {
        reads::count(&self.reader())
    }

    /// Number of unexpired messages stored for one pubkey (all namespaces).
    pub fn count_for(&self, pubkey: &Pubkey) -> Res<u64> {
        reads::count_for(&self.reader(), self.now_ms(), pubkey)
    }

    /// The current expiry of those of `hashes` that are the pubkey's unexpired messages (in
    /// the order asked; get_expiries).
    pub fn expiries(&self, pubkey: &Pubkey, hashes: &[String]) -> Res<Vec<(String, u64)>> {
        reads::expiries(&self.reader(), self.now_ms(), pubkey, hashes)
    }

    /// Sets the expiry of the pubkey's messages `updates` (hash, expiry) as `mode` allows,
    /// durably (expire).
    pub async fn expire_messages_async(
        &self,
        pubkey: &Pubkey,
        updates: Vec<(String, u64)>,
        mode: crate::formats::rpc::ExpireMode,
    ) -> Res<crate::formats::rpc::ExpireOutcome> {
        self.write(writer::ExpireMessages { pubkey: *pubkey, updates, mode }).await
    }

    /// Shortens to `expiry` every later expiry of the pubkey's messages in `namespace` (all if
    /// None), durably; returns what it changed (expire_all).
    pub async fn expire_all_async(
        &self,
        pubkey: &Pubkey,
        namespace: Option<i16>,
        expiry: u64,
    ) -> Res<Vec<(i16, String)>> {
        self.write(writer::ExpireAll { pubkey: *pubkey, namespace, expiry }).await
    }

    /// Revokes subaccount tokens of `pubkey` (the owner's request `timestamp`), durably; each
    /// account keeps its newest [`MAX_SUBACCOUNT_TOKENS`](crate::formats::rpc::subaccount::MAX_SUBACCOUNT_TOKENS).
    pub async fn revoke_async(
        &self,
        pubkey: &Pubkey,
        tokens: Vec<SubaccountToken>,
        timestamp: u64,
    ) -> Res<()> {
        self.write(revoked::Revoke { pubkey: *pubkey, tokens, timestamp }).await
    }

    /// Unrevokes subaccount tokens of `pubkey`, durably; returns how many had been revoked.
    pub async fn unrevoke_async(&self, pubkey: &Pubkey, tokens: Vec<SubaccountToken>) -> Res<u64> {
        self.write(revoked::Unrevoke { pubkey: *pubkey, tokens }).await
    }

    /// Whether `pubkey`'s owner has revoked `token`.
    pub fn is_revoked(&self, pubkey: &Pubkey, token: &SubaccountToken) -> Res<bool> {
        revoked::is_revoked(&self.reader(), pubkey, token)
    }

    /// Records, durably, a forwarded request `body` to redeliver to `peer`; returns its id.
    pub async fn queue_redelivery_async(&self, peer: [u8; 32], body: Vec<u8>, created_ms: u64) -> Res<i64> {
        self.write(redeliveries::Queue { peer, body, created_ms }).await
    }

    /// Forgets redelivery `id` (delivered, or given up).
    pub async fn redelivery_done_async(&self, id: i64) -> Res<()> {
        self.write(redeliveries::Done(id)).await
    }

    /// Every pending redelivery, oldest first (resumed at start).
    pub fn pending_redeliveries(&self) -> Res<Vec<Redelivery>> {
        redeliveries::pending(&self.reader())
    }

    /// `pubkey`'s revoked subaccount tokens, oldest revocation first.
    pub fn revoked_tokens(&self, pubkey: &Pubkey) -> Res<Vec<SubaccountToken>> {
        revoked::revoked_tokens(&self.reader(), pubkey)
    }

    /// Every pubkey with at least one stored message, sorted.
    pub fn all_pubkeys(&self) -> Res<Vec<Pubkey>> {
        reads::all_pubkeys(&self.reader())
    }

    /// Every unexpired message of one pubkey, all namespaces, in insertion order (for pushing a
    /// pubkey's records to a new swarm member).
    pub fn messages_for(&self, pubkey: &Pubkey) -> Res<Vec<StoredMessage>> {
        reads::messages_for(&self.reader(), self.now_ms(), pubkey)
    }

    /// Every unexpired message of the store in batches of at most `limit`, in insertion order:
    /// start with `None`, continue with the returned cursor until it is `None`. Used for swarm
    /// handoff (filter by pubkey on the caller's side, then `remove_pubkeys`).
    pub fn scan(
        &self,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Res<(Vec<StoredMessage>, Option<ScanCursor>)> {
        reads::scan(&self.reader(), self.now_ms(), cursor, limit)
    }

    /// The unexpired messages among `hashes` that are stored now (a deleted or expired one is
    /// simply absent), in the order given.
    pub fn messages_by_hash(&self, hashes: &[String]) -> Res<Vec<StoredMessage>> {
        reads::messages_by_hash(&self.reader(), self.now_ms(), hashes)
    }

    /// Whether a message with this hash is stored (expired or not).
    pub fn contains(&self, hash: &str) -> Res<bool> {
        reads::contains(&self.reader(), hash)
    }
}

/// What the tests of every part of the store build their messages and stores from.
#[cfg(test)]
mod fixtures {
    use super::*;

    pub(super) fn pk(n: u8) -> Pubkey {
        Pubkey::new(0x05, [n; 32])
    }

    pub(super) fn msg(p: Pubkey, ns: i16, n: u32, expiry_ms: u64) -> StoredMessage {
        StoredMessage {
            pubkey: p,
            namespace: ns,
            hash: format!("h{}-{ns}-{n}", p.key()[0]),
            timestamp_ms: 1_700_000_000_000 + n as u64,
            expiry_ms,
            data: format!("data {n}").into_bytes(),
        }
    }

    pub(super) const FAR: u64 = 4_000_000_000_000;

    pub(super) fn open_tmp() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("messages.db")).unwrap();
        (dir, store)
    }
}
