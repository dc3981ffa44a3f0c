//! Durable message storage for a service node: SQLite (WAL, `synchronous=FULL`) with group
//! commit.
//!
//! One writer thread owns the only read-write connection. Every change (insert, delete, expiry
//! sweep, pubkey removal) is a job sent to it over a bounded channel; the writer takes every job
//! waiting (up to [`STORE_GROUP_COMMIT_MAX`]), runs each inside its own savepoint of one
//! transaction, commits once (one fsync for the whole batch), and only then answers each caller.
//! So `insert` returns only when the message is on disk, and 64 concurrent callers cost one
//! fsync, not 64. Reads use a small pool of read-only connections and never wait for the writer
//! (WAL readers see the last committed state).
//!
//! Expired messages are never returned, even before [`Store::expire`] has swept them.
//! See `docs/storage.md` for the durability reasoning and the schema.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::formats::keys::Pubkey;
use crate::formats::limits::{
    MAX_MESSAGE_BYTES, STORE_BUSY_TIMEOUT_MS, STORE_CHECKPOINT_INTERVAL_MS, STORE_EXPIRE_CHUNK,
    STORE_GROUP_COMMIT_MAX, STORE_GROUP_COMMIT_WAIT_US, STORE_HASH_MAX_CHARS, STORE_INSERT_MANY_MAX,
    STORE_READ_POOL, STORE_WAL_AUTOCHECKPOINT_PAGES, STORE_WRITE_QUEUE,
};
pub use crate::formats::rpc::message::{StoredMessage, is_public_outbox};
use crate::formats::time::now_ms;

/// The schema version this code writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// The message was new and is now stored.
    New,
    /// A message with this hash was already stored; it is kept once. `expiry_ms` is its expiry
    /// now (extended to the new expiry if that was later, as the live network does).
    Already { expiry_ms: u64 },
}

impl Inserted {
    /// The expiry the stored copy has after this insert.
    pub fn expiry_ms(&self, inserted: &StoredMessage) -> u64 {
        match self {
            Inserted::New => inserted.expiry_ms,
            Inserted::Already { expiry_ms } => *expiry_ms,
        }
    }

    pub fn is_new(&self) -> bool {
        matches!(self, Inserted::New)
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open message store {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error(
        "message store {path} has schema version {found}; this snode understands up to {supported}: \
         use a newer snode or another --data directory"
    )]
    SchemaTooNew { path: PathBuf, found: i64, supported: i64 },
    #[error("message store database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("message store disk is full")]
    Full,
    #[error("message data is {0} bytes; the limit is {MAX_MESSAGE_BYTES}")]
    DataTooLarge(usize),
    #[error("message hash must be 1 to {STORE_HASH_MAX_CHARS} characters, got {0}")]
    BadHash(usize),
    #[error("{field} {value} does not fit the store's 63-bit integers")]
    OutOfRange { field: &'static str, value: u64 },
    #[error("message hash {0} is already stored for another pubkey")]
    HashTaken(String),
    #[error("insert_many got {0} messages; the limit is {STORE_INSERT_MANY_MAX}")]
    TooMany(usize),
    #[error("message store is busy ({STORE_WRITE_QUEUE} writes queued); retry shortly")]
    Busy,
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
    stats: Arc<Counters>,
    jobs: Option<SyncSender<Job>>,
    writer: Option<JoinHandle<()>>,
    stop_checkpointer: Option<mpsc::Sender<()>>,
    checkpointer: Option<JoinHandle<()>>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
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

/// Where a job's answer goes: a blocking caller's channel or an async caller's oneshot.
enum ReplyTo<T> {
    Blocking(SyncSender<T>),
    Async(tokio::sync::oneshot::Sender<T>),
}

impl<T> ReplyTo<T> {
    fn send(self, v: T) {
        // A caller that went away (dropped future) no longer needs the answer.
        match self {
            ReplyTo::Blocking(tx) => {
                let _ = tx.send(v);
            }
            ReplyTo::Async(tx) => {
                let _ = tx.send(v);
            }
        }
    }
}

type Res<T> = Result<T, StoreError>;

enum Job {
    Insert(StoredMessage, ReplyTo<Res<Inserted>>),
    InsertMany(Vec<StoredMessage>, ReplyTo<Res<Vec<Inserted>>>),
    Delete(Pubkey, Vec<String>, ReplyTo<Res<Vec<String>>>),
    Expire(i64, ReplyTo<Res<usize>>),
    RemovePubkeys(Vec<Pubkey>, ReplyTo<Res<usize>>),
}

/// A job's result waiting for the batch's commit.
enum Done {
    Insert(ReplyTo<Res<Inserted>>, Res<Inserted>),
    InsertMany(ReplyTo<Res<Vec<Inserted>>>, Res<Vec<Inserted>>),
    Delete(ReplyTo<Res<Vec<String>>>, Res<Vec<String>>),
    Count(ReplyTo<Res<usize>>, Res<usize>),
}

impl Done {
    fn is_ok(&self) -> bool {
        match self {
            Done::Insert(_, r) => r.is_ok(),
            Done::InsertMany(_, r) => r.is_ok(),
            Done::Delete(_, r) => r.is_ok(),
            Done::Count(_, r) => r.is_ok(),
        }
    }

    /// Answers the caller; if the commit failed, every successful result becomes that failure.
    fn answer(self, commit_err: Option<&str>) {
        let fail = || StoreError::Sqlite(commit_failure(commit_err.unwrap_or("commit failed")));
        match self {
            Done::Insert(tx, r) => tx.send(if commit_err.is_some() && r.is_ok() { Err(fail()) } else { r }),
            Done::InsertMany(tx, r) => {
                tx.send(if commit_err.is_some() && r.is_ok() { Err(fail()) } else { r })
            }
            Done::Delete(tx, r) => tx.send(if commit_err.is_some() && r.is_ok() { Err(fail()) } else { r }),
            Done::Count(tx, r) => tx.send(if commit_err.is_some() && r.is_ok() { Err(fail()) } else { r }),
        }
    }
}

fn commit_failure(msg: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
        Some(format!("transaction not committed: {msg}")),
    )
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

const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS messages (
    id        INTEGER PRIMARY KEY,
    pubkey    BLOB    NOT NULL,
    namespace INTEGER NOT NULL,
    hash      TEXT    NOT NULL UNIQUE,
    timestamp INTEGER NOT NULL,
    expiry    INTEGER NOT NULL,
    data      BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_owner ON messages(pubkey, namespace, id);
CREATE INDEX IF NOT EXISTS messages_expiry ON messages(expiry);
";

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_millis(STORE_BUSY_TIMEOUT_MS))?;
    // FULL: in WAL mode the WAL is fsynced at every commit, so a commit survives power loss,
    // not only a crash of the process. With group commit that is one fsync per batch.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn open_writer(path: &Path) -> Res<Connection> {
    let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
    create_private(path).map_err(|e| {
        open_err(rusqlite::Error::InvalidParameterName(format!("cannot create {}: {e}", path.display())))
    })?;
    let conn = Connection::open(path).map_err(open_err)?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(open_err(rusqlite::Error::InvalidParameterName(format!(
            "journal_mode is {mode}, expected wal"
        ))));
    }
    configure(&conn).map_err(open_err)?;
    // The checkpoint thread keeps the WAL short; this is only a backstop if it falls behind.
    let backstop =
        if std::env::var_os("SNKIT_NO_CKPT").is_some() { 1000 } else { STORE_WAL_AUTOCHECKPOINT_PAGES };
    conn.pragma_update(None, "wal_autocheckpoint", backstop).map_err(open_err)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(open_err)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < 1 {
        conn.execute_batch(&format!("BEGIN; {SCHEMA_V1} PRAGMA user_version = 1; COMMIT;"))
            .map_err(open_err)?;
    }
    // Later versions migrate here, one step per version, each in its own transaction.
    Ok(conn)
}

/// Creates the database file 0600 if it does not exist (SQLite gives its -wal and -shm files the
/// same mode): messages are only readable by the node.
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path).map(drop)
}

/// The connection that checkpoints the WAL into the database file, off the writer's path.
fn open_checkpointer(path: &Path) -> Res<Connection> {
    let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
    let conn = Connection::open(path).map_err(open_err)?;
    configure(&conn).map_err(open_err)?;
    Ok(conn)
}

/// Checkpoints the WAL every STORE_CHECKPOINT_INTERVAL_MS (PASSIVE: never blocks the writer or
/// readers), so that commits only pay the WAL fsync; a last one runs at shutdown.
fn checkpoint_loop(conn: Connection, stop: mpsc::Receiver<()>) {
    let every = Duration::from_millis(STORE_CHECKPOINT_INTERVAL_MS);
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

fn open_reader(path: &Path) -> Res<Connection> {
    let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(open_err)?;
    conn.busy_timeout(Duration::from_millis(STORE_BUSY_TIMEOUT_MS)).map_err(open_err)?;
    Ok(conn)
}

impl Store {
    /// Opens (creating if needed) the store at `path`, a SQLite file, and starts its writer.
    pub fn open(path: impl AsRef<Path>) -> Res<Store> {
        let path = path.as_ref().to_path_buf();
        let writer = open_writer(&path)?;
        let mut readers = Vec::with_capacity(STORE_READ_POOL);
        for _ in 0..STORE_READ_POOL {
            readers.push(Mutex::new(open_reader(&path)?));
        }
        let (tx, rx) = mpsc::sync_channel(STORE_WRITE_QUEUE);
        let stats = Arc::new(Counters::default());
        let writer_stats = stats.clone();
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer_loop(writer, rx, &writer_stats))
            .map_err(|e| StoreError::Open {
                path: path.clone(),
                source: rusqlite::Error::InvalidParameterName(format!("cannot start writer thread: {e}")),
            })?;
        let (stop_tx, stop_rx) = mpsc::channel();
        let ckpt_conn = open_checkpointer(&path)?;
        let ckpt = std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || checkpoint_loop(ckpt_conn, stop_rx))
            .map_err(|e| StoreError::Open {
                path: path.clone(),
                source: rusqlite::Error::InvalidParameterName(format!("cannot start checkpoint thread: {e}")),
            })?;
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                stats,
                jobs: Some(tx),
                writer: Some(handle),
                stop_checkpointer: Some(stop_tx),
                checkpointer: Some(ckpt),
                readers,
                next_reader: AtomicUsize::new(0),
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

    fn sender(&self) -> Res<&SyncSender<Job>> {
        self.inner.jobs.as_ref().ok_or(StoreError::WriterGone)
    }

    /// Queues a job and waits (blocking) for its committed result.
    fn run_blocking<T>(&self, make: impl FnOnce(ReplyTo<Res<T>>) -> Job) -> Res<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.sender()?.send(make(ReplyTo::Blocking(tx))).map_err(|_| StoreError::WriterGone)?;
        rx.recv().map_err(|_| StoreError::WriterGone)?
    }

    /// Queues a job without blocking the async runtime and awaits its committed result.
    async fn run_async<T>(&self, make: impl FnOnce(ReplyTo<Res<T>>) -> Job) -> Res<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        match self.sender()?.try_send(make(ReplyTo::Async(tx))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(StoreError::Busy),
            Err(TrySendError::Disconnected(_)) => return Err(StoreError::WriterGone),
        }
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Stores one message; returns once it is committed to disk. The same hash stored twice is
    /// kept once ([`Inserted::Already`] with the stored expiry).
    pub fn insert(&self, msg: StoredMessage) -> Res<Inserted> {
        check_message(&msg)?;
        self.run_blocking(|r| Job::Insert(msg, r))
    }

    /// [`Store::insert`] for tokio callers: never blocks the runtime; [`StoreError::Busy`] when
    /// the writer's queue is full.
    pub async fn insert_async(&self, msg: StoredMessage) -> Res<Inserted> {
        check_message(&msg)?;
        self.run_async(|r| Job::Insert(msg, r)).await
    }

    /// Stores many messages all-or-nothing (replication, bulk pushes): either every message is
    /// committed (each `New` or `Already`) or none is.
    pub fn insert_many(&self, msgs: Vec<StoredMessage>) -> Res<Vec<Inserted>> {
        check_many(&msgs)?;
        if msgs.is_empty() {
            return Ok(Vec::new());
        }
        self.run_blocking(|r| Job::InsertMany(msgs, r))
    }

    /// [`Store::insert_many`] for tokio callers.
    pub async fn insert_many_async(&self, msgs: Vec<StoredMessage>) -> Res<Vec<Inserted>> {
        check_many(&msgs)?;
        if msgs.is_empty() {
            return Ok(Vec::new());
        }
        self.run_async(|r| Job::InsertMany(msgs, r)).await
    }

    /// Deletes the pubkey's messages with these hashes; returns the hashes actually deleted
    /// (in the order asked). Hashes of other pubkeys are untouched.
    pub fn delete(&self, pubkey: &Pubkey, hashes: &[String]) -> Res<Vec<String>> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let pk = *pubkey;
        let hs = hashes.to_vec();
        self.run_blocking(|r| Job::Delete(pk, hs, r))
    }

    /// [`Store::delete`] for tokio callers.
    pub async fn delete_async(&self, pubkey: &Pubkey, hashes: &[String]) -> Res<Vec<String>> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let pk = *pubkey;
        let hs = hashes.to_vec();
        self.run_async(|r| Job::Delete(pk, hs, r)).await
    }

    /// Deletes every message whose expiry is at or before `now_ms`; returns how many. Runs in
    /// chunks so that inserts are not held up by a large sweep.
    pub fn expire(&self, now_ms: u64) -> Res<usize> {
        let now = to_i64("now", now_ms)?;
        let mut total = 0;
        loop {
            let n = self.run_blocking(|r| Job::Expire(now, r))?;
            total += n;
            if n < STORE_EXPIRE_CHUNK {
                return Ok(total);
            }
        }
    }

    /// Deletes every message of these pubkeys (records no longer this node's swarm's); returns
    /// how many messages were removed.
    pub fn remove_pubkeys(&self, pubkeys: &[Pubkey]) -> Res<usize> {
        if pubkeys.is_empty() {
            return Ok(0);
        }
        let pks = pubkeys.to_vec();
        self.run_blocking(|r| Job::RemovePubkeys(pks, r))
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

    fn reader(&self) -> Res<MutexGuard<'_, Connection>> {
        let n = self.inner.readers.len();
        let start = self.inner.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(g) = self.inner.readers[(start + i) % n].try_lock() {
                return Ok(g);
            }
        }
        // All busy: wait for one. A poisoned connection is still usable (no Rust state inside).
        let m = &self.inner.readers[start % n];
        Ok(m.lock().unwrap_or_else(|p| p.into_inner()))
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
        self.retrieve_at(now_ms(), pubkey, namespace, last_hash, max_count, max_size)
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
        use crate::formats::limits::{RETRIEVE_MAX_COUNT, RETRIEVE_PER_MESSAGE_OVERHEAD};
        let now = to_i64("now", now_ms)?;
        let max_count = max_count.clamp(1, RETRIEVE_MAX_COUNT);
        let pk = pubkey.to_bytes();
        let conn = self.reader()?;
        let after: i64 = match last_hash.filter(|h| !h.is_empty()) {
            Some(h) => conn
                .prepare_cached("SELECT id FROM messages WHERE pubkey = ?1 AND namespace = ?2 AND hash = ?3")?
                .query_row(params![&pk[..], namespace, h], |r| r.get(0))
                .optional()?
                .unwrap_or(0),
            None => 0,
        };
        let mut st = conn.prepare_cached(
            "SELECT hash, timestamp, expiry, data FROM messages \
             WHERE pubkey = ?1 AND namespace = ?2 AND id > ?3 AND expiry > ?4 ORDER BY id LIMIT ?5",
        )?;
        let mut rows = st.query(params![&pk[..], namespace, after, now, (max_count + 1) as i64])?;
        let mut out = Vec::new();
        let mut more = false;
        let mut size: u64 = 0;
        while let Some(row) = rows.next()? {
            if out.len() >= max_count {
                more = true;
                break;
            }
            let hash: String = row.get(0)?;
            let data: Vec<u8> = row.get(3)?;
            size += RETRIEVE_PER_MESSAGE_OVERHEAD + hash.len() as u64 + base64_len(data.len());
            if !out.is_empty() && size > max_size {
                more = true;
                break;
            }
            out.push(StoredMessage {
                pubkey: *pubkey,
                namespace,
                hash,
                timestamp_ms: row.get::<_, i64>(1)?.max(0) as u64,
                expiry_ms: row.get::<_, i64>(2)?.max(0) as u64,
                data,
            });
        }
        Ok((out, more))
    }

    /// Number of stored messages (including expired ones not yet swept).
    pub fn count(&self) -> Res<u64> {
        let conn = self.reader()?;
        let n: i64 = conn.prepare_cached("SELECT COUNT(*) FROM messages")?.query_row([], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// Number of unexpired messages stored for one pubkey (all namespaces).
    pub fn count_for(&self, pubkey: &Pubkey) -> Res<u64> {
        let conn = self.reader()?;
        let n: i64 = conn
            .prepare_cached("SELECT COUNT(*) FROM messages WHERE pubkey = ?1 AND expiry > ?2")?
            .query_row(params![&pubkey.to_bytes()[..], to_i64("now", now_ms())?], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// Every pubkey with at least one stored message, sorted.
    pub fn all_pubkeys(&self) -> Res<Vec<Pubkey>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached("SELECT DISTINCT pubkey FROM messages ORDER BY pubkey")?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let raw: Vec<u8> = row.get(0)?;
            if let Ok(pk) = Pubkey::from_bytes(&raw) {
                out.push(pk);
            }
        }
        Ok(out)
    }

    /// Every unexpired message of one pubkey, all namespaces, in insertion order (for pushing a
    /// pubkey's records to a new swarm member).
    pub fn messages_for(&self, pubkey: &Pubkey) -> Res<Vec<StoredMessage>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT pubkey, namespace, hash, timestamp, expiry, data, id FROM messages \
             WHERE pubkey = ?1 AND expiry > ?2 ORDER BY id",
        )?;
        let rows = st.query(params![&pubkey.to_bytes()[..], to_i64("now", now_ms())?])?;
        collect_rows(rows).map(|(v, _)| v)
    }

    /// Every unexpired message of the store in batches of at most `limit`, in insertion order:
    /// start with `None`, continue with the returned cursor until it is `None`. Used for swarm
    /// handoff (filter by pubkey on the caller's side, then `remove_pubkeys`).
    pub fn scan(
        &self,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Res<(Vec<StoredMessage>, Option<ScanCursor>)> {
        let limit = limit.clamp(1, STORE_INSERT_MANY_MAX);
        let after = cursor.map(|c| c.0).unwrap_or(0);
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT pubkey, namespace, hash, timestamp, expiry, data, id FROM messages \
             WHERE id > ?1 AND expiry > ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = st.query(params![after, to_i64("now", now_ms())?, limit as i64])?;
        let (msgs, last_id) = collect_rows(rows)?;
        let next = if msgs.len() == limit { last_id.map(ScanCursor) } else { None };
        Ok((msgs, next))
    }

    /// The unexpired messages among `hashes` that are stored now (a deleted or expired one is
    /// simply absent), in the order given.
    pub fn messages_by_hash(&self, hashes: &[String]) -> Res<Vec<StoredMessage>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT pubkey, namespace, hash, timestamp, expiry, data, id FROM messages \
             WHERE hash = ?1 AND expiry > ?2",
        )?;
        let now = to_i64("now", now_ms())?;
        let mut out = Vec::new();
        for h in hashes {
            out.extend(collect_rows(st.query(params![h, now])?)?.0);
        }
        Ok(out)
    }

    /// Whether a message with this hash is stored (expired or not).
    pub fn contains(&self, hash: &str) -> Res<bool> {
        let conn = self.reader()?;
        let found = conn
            .prepare_cached("SELECT 1 FROM messages WHERE hash = ?1")?
            .query_row([hash], |_| Ok(()))
            .optional()?;
        Ok(found.is_some())
    }
}

fn check_many(msgs: &[StoredMessage]) -> Res<()> {
    if msgs.len() > STORE_INSERT_MANY_MAX {
        return Err(StoreError::TooMany(msgs.len()));
    }
    msgs.iter().try_for_each(check_message)
}

/// Length of the padded base64 encoding of `n` bytes.
fn base64_len(n: usize) -> u64 {
    (n as u64).div_ceil(3) * 4
}

fn collect_rows(mut rows: rusqlite::Rows<'_>) -> Res<(Vec<StoredMessage>, Option<i64>)> {
    let mut out = Vec::new();
    let mut last = None;
    while let Some(row) = rows.next()? {
        let raw: Vec<u8> = row.get(0)?;
        let id: i64 = row.get(6)?;
        last = Some(id);
        let Ok(pubkey) = Pubkey::from_bytes(&raw) else { continue };
        out.push(StoredMessage {
            pubkey,
            namespace: row.get(1)?,
            hash: row.get(2)?,
            timestamp_ms: row.get::<_, i64>(3)?.max(0) as u64,
            expiry_ms: row.get::<_, i64>(4)?.max(0) as u64,
            data: row.get(5)?,
        });
    }
    Ok((out, last))
}

// ---- the writer thread -----------------------------------------------------------------------

fn writer_loop(conn: Connection, rx: Receiver<Job>, stats: &Counters) {
    // Under load the callers of the last batch come back together once it committed; waiting a
    // moment (at most STORE_GROUP_COMMIT_WAIT_US) until as many jobs as last time have arrived
    // keeps batches large instead of committing a few early arrivals on their own. A single
    // caller (last batch of 1) never waits.
    let mut last_batch = 1;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        let deadline = Instant::now() + Duration::from_micros(STORE_GROUP_COMMIT_WAIT_US);
        while batch.len() < STORE_GROUP_COMMIT_MAX {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {
                    let now = Instant::now();
                    if batch.len() >= last_batch || now >= deadline {
                        break;
                    }
                    match rx.recv_timeout(deadline - now) {
                        Ok(j) => batch.push(j),
                        Err(_) => break,
                    }
                }
            }
        }
        last_batch = batch.len();
        stats.jobs.fetch_add(batch.len() as u64, Ordering::Relaxed);
        stats.commits.fetch_add(1, Ordering::Relaxed);
        run_batch(&conn, batch);
    }
}

/// Runs a batch of jobs in one transaction, each in its own savepoint (a failed job is rolled
/// back alone), commits once, then answers every caller.
fn run_batch(conn: &Connection, batch: Vec<Job>) {
    let mut done = Vec::with_capacity(batch.len());
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let msg = e.to_string();
        for job in batch {
            fail_job(job, &msg);
        }
        return;
    }
    for job in batch {
        done.push(run_job(conn, job));
    }
    let commit_err = if done.iter().any(Done::is_ok) {
        conn.execute_batch("COMMIT").err().map(|e| e.to_string())
    } else {
        let _ = conn.execute_batch("ROLLBACK");
        None
    };
    if commit_err.is_some() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for d in done {
        d.answer(commit_err.as_deref());
    }
}

fn fail_job(job: Job, msg: &str) {
    let e = || StoreError::Sqlite(commit_failure(msg));
    match job {
        Job::Insert(_, r) => r.send(Err(e())),
        Job::InsertMany(_, r) => r.send(Err(e())),
        Job::Delete(_, _, r) => r.send(Err(e())),
        Job::Expire(_, r) => r.send(Err(e())),
        Job::RemovePubkeys(_, r) => r.send(Err(e())),
    }
}

/// Runs `f` inside a savepoint: released on success, rolled back on failure.
fn in_savepoint<T>(conn: &Connection, f: impl FnOnce() -> Res<T>) -> Res<T> {
    conn.execute_batch("SAVEPOINT job").map_err(StoreError::from_sqlite)?;
    match f() {
        Ok(v) => {
            conn.execute_batch("RELEASE job").map_err(StoreError::from_sqlite)?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            Err(e)
        }
    }
}

fn run_job(conn: &Connection, job: Job) -> Done {
    match job {
        Job::Insert(m, r) => Done::Insert(r, in_savepoint(conn, || insert_one(conn, &m))),
        Job::InsertMany(ms, r) => {
            Done::InsertMany(r, in_savepoint(conn, || ms.iter().map(|m| insert_one(conn, m)).collect()))
        }
        Job::Delete(pk, hashes, r) => {
            Done::Delete(r, in_savepoint(conn, || delete_hashes(conn, &pk, &hashes)))
        }
        Job::Expire(now, r) => Done::Count(r, in_savepoint(conn, || expire_chunk(conn, now))),
        Job::RemovePubkeys(pks, r) => Done::Count(r, in_savepoint(conn, || remove_pubkeys(conn, &pks))),
    }
}

fn insert_one(conn: &Connection, m: &StoredMessage) -> Res<Inserted> {
    let pk = m.pubkey.to_bytes();
    let ts = to_i64("timestamp", m.timestamp_ms)?;
    let exp = to_i64("expiry", m.expiry_ms)?;
    let sql = StoreError::from_sqlite;
    if is_public_outbox(m.namespace) {
        conn.prepare_cached("DELETE FROM messages WHERE pubkey = ?1 AND namespace = ?2 AND hash != ?3")
            .map_err(sql)?
            .execute(params![&pk[..], m.namespace, m.hash])
            .map_err(sql)?;
    }
    let added = conn
        .prepare_cached(
            "INSERT INTO messages (pubkey, namespace, hash, timestamp, expiry, data) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(hash) DO NOTHING",
        )
        .map_err(sql)?
        .execute(params![&pk[..], m.namespace, m.hash, ts, exp, m.data])
        .map_err(sql)?;
    if added == 1 {
        return Ok(Inserted::New);
    }
    // Only the same pubkey's copy may be extended: a hash claimed by another pubkey is refused
    // (the hash covers the pubkey, so this only happens with a forged hash).
    let existing: Option<i64> = conn
        .prepare_cached(
            "UPDATE messages SET expiry = max(expiry, ?3) WHERE hash = ?1 AND pubkey = ?2 RETURNING expiry",
        )
        .map_err(sql)?
        .query_row(params![m.hash, &pk[..], exp], |r| r.get(0))
        .optional()
        .map_err(sql)?;
    match existing {
        Some(e) => Ok(Inserted::Already { expiry_ms: e.max(0) as u64 }),
        None => Err(StoreError::HashTaken(m.hash.clone())),
    }
}

fn delete_hashes(conn: &Connection, pk: &Pubkey, hashes: &[String]) -> Res<Vec<String>> {
    let pk = pk.to_bytes();
    let mut st = conn
        .prepare_cached("DELETE FROM messages WHERE pubkey = ?1 AND hash = ?2")
        .map_err(StoreError::from_sqlite)?;
    let mut deleted = Vec::new();
    for h in hashes {
        if st.execute(params![&pk[..], h]).map_err(StoreError::from_sqlite)? > 0 {
            deleted.push(h.clone());
        }
    }
    Ok(deleted)
}

fn expire_chunk(conn: &Connection, now: i64) -> Res<usize> {
    conn.prepare_cached(
        "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE expiry <= ?1 LIMIT ?2)",
    )
    .map_err(StoreError::from_sqlite)?
    .execute(params![now, STORE_EXPIRE_CHUNK as i64])
    .map_err(StoreError::from_sqlite)
}

fn remove_pubkeys(conn: &Connection, pks: &[Pubkey]) -> Res<usize> {
    let mut st =
        conn.prepare_cached("DELETE FROM messages WHERE pubkey = ?1").map_err(StoreError::from_sqlite)?;
    let mut n = 0;
    for pk in pks {
        n += st.execute([&pk.to_bytes()[..]]).map_err(StoreError::from_sqlite)?;
    }
    Ok(n)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pk(n: u8) -> Pubkey {
        Pubkey::new(0x05, [n; 32])
    }

    fn msg(p: Pubkey, ns: i16, n: u32, expiry_ms: u64) -> StoredMessage {
        StoredMessage {
            pubkey: p,
            namespace: ns,
            hash: format!("h{}-{ns}-{n}", p.key()[0]),
            timestamp_ms: 1_700_000_000_000 + n as u64,
            expiry_ms,
            data: format!("data {n}").into_bytes(),
        }
    }

    const FAR: u64 = 4_000_000_000_000;

    fn open_tmp() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("messages.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn test_insert_is_durable_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        {
            let s = Store::open(&path).unwrap();
            assert_eq!(s.insert(msg(pk(1), 0, 1, FAR)).unwrap(), Inserted::New);
            assert_eq!(s.insert_many(vec![msg(pk(1), 0, 2, FAR), msg(pk(2), 5, 3, FAR)]).unwrap().len(), 2);
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.count().unwrap(), 3);
        let (got, more) = s.retrieve(&pk(1), 0, None, 100, u64::MAX).unwrap();
        assert!(!more);
        assert_eq!(got, vec![msg(pk(1), 0, 1, FAR), msg(pk(1), 0, 2, FAR)]);
        let v: i64 =
            Connection::open(&path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn test_duplicate_hash_stored_once_and_expiry_reported() {
        let (_d, s) = open_tmp();
        let m = msg(pk(1), 0, 1, FAR);
        assert_eq!(s.insert(m.clone()).unwrap(), Inserted::New);
        // A shorter expiry keeps the stored one; a longer one extends it (live behaviour).
        let mut shorter = m.clone();
        shorter.expiry_ms = FAR - 10;
        assert_eq!(s.insert(shorter).unwrap(), Inserted::Already { expiry_ms: FAR });
        let mut longer = m.clone();
        longer.expiry_ms = FAR + 10;
        assert_eq!(s.insert(longer).unwrap(), Inserted::Already { expiry_ms: FAR + 10 });
        assert_eq!(s.count().unwrap(), 1);
        let r = s.insert_many(vec![m.clone(), msg(pk(1), 0, 2, FAR)]).unwrap();
        assert_eq!(r, vec![Inserted::Already { expiry_ms: FAR + 10 }, Inserted::New]);
        assert_eq!(s.count().unwrap(), 2);
    }

    #[test]
    fn test_hash_of_another_pubkey_refused_and_batch_rolled_back() {
        let (_d, s) = open_tmp();
        let a = msg(pk(1), 0, 1, FAR);
        s.insert(a.clone()).unwrap();
        let mut forged = msg(pk(2), 0, 2, FAR + 5);
        forged.hash = a.hash.clone();
        assert!(matches!(s.insert(forged.clone()).unwrap_err(), StoreError::HashTaken(_)));
        // All-or-nothing: the good message before the bad one is rolled back with it.
        let good = msg(pk(2), 0, 3, FAR);
        assert!(matches!(s.insert_many(vec![good.clone(), forged]).unwrap_err(), StoreError::HashTaken(_)));
        assert!(!s.contains(&good.hash).unwrap());
        assert_eq!(s.count().unwrap(), 1);
        assert_eq!(s.retrieve(&pk(1), 0, None, 10, u64::MAX).unwrap().0[0].expiry_ms, FAR);
        // A failed job in a batch does not fail the others (each has its own savepoint).
        assert_eq!(s.insert(good).unwrap(), Inserted::New);
    }

    #[test]
    fn test_insert_many_is_all_or_nothing() {
        let (_d, s) = open_tmp();
        let mut bad = msg(pk(1), 0, 3, FAR);
        bad.data = vec![0; MAX_MESSAGE_BYTES + 1];
        let err = s.insert_many(vec![msg(pk(1), 0, 1, FAR), bad]).unwrap_err();
        assert!(matches!(err, StoreError::DataTooLarge(_)));
        let mut huge = msg(pk(1), 0, 4, FAR);
        huge.expiry_ms = u64::MAX;
        assert!(matches!(
            s.insert_many(vec![msg(pk(1), 0, 1, FAR), huge]).unwrap_err(),
            StoreError::OutOfRange { .. }
        ));
        assert_eq!(s.count().unwrap(), 0);
    }

    #[test]
    fn test_retrieve_pages_with_last_hash_count_and_size() {
        let (_d, s) = open_tmp();
        for n in 0..10 {
            s.insert(msg(pk(1), 0, n, FAR)).unwrap();
        }
        s.insert(msg(pk(1), 3, 99, FAR)).unwrap();
        s.insert(msg(pk(2), 0, 98, FAR)).unwrap();
        let (page, more) = s.retrieve(&pk(1), 0, None, 4, u64::MAX).unwrap();
        assert_eq!(page.iter().map(|m| m.timestamp_ms % 100).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        assert!(more);
        let last = page.last().unwrap().hash.clone();
        let (page, more) = s.retrieve(&pk(1), 0, Some(&last), 4, u64::MAX).unwrap();
        assert_eq!(page.iter().map(|m| m.timestamp_ms % 100).collect::<Vec<_>>(), vec![4, 5, 6, 7]);
        assert!(more);
        let last = page.last().unwrap().hash.clone();
        let (page, more) = s.retrieve(&pk(1), 0, Some(&last), 4, u64::MAX).unwrap();
        assert_eq!(page.len(), 2);
        assert!(!more);
        // Unknown last hash (or one of another namespace): everything.
        let (all, _) = s.retrieve(&pk(1), 0, Some("unknown"), 100, u64::MAX).unwrap();
        assert_eq!(all.len(), 10);
        let other_ns = msg(pk(1), 3, 99, FAR).hash;
        assert_eq!(s.retrieve(&pk(1), 0, Some(&other_ns), 100, u64::MAX).unwrap().0.len(), 10);
        assert_eq!(s.retrieve(&pk(1), 3, Some(""), 100, u64::MAX).unwrap().0.len(), 1);
        // Size: each message costs overhead + hash + base64(data); at least one is returned.
        let one = crate::formats::limits::RETRIEVE_PER_MESSAGE_OVERHEAD + 7 + base64_len(6);
        let (page, more) = s.retrieve(&pk(1), 0, None, 100, one * 3).unwrap();
        assert_eq!((page.len(), more), (3, true));
        let (page, more) = s.retrieve(&pk(1), 0, None, 100, 1).unwrap();
        assert_eq!((page.len(), more), (1, true));
    }

    #[test]
    fn test_expired_messages_never_returned_and_swept() {
        let (_d, s) = open_tmp();
        let now = 1_800_000_000_000;
        s.insert(msg(pk(1), 0, 1, now - 1)).unwrap();
        s.insert(msg(pk(1), 0, 2, now)).unwrap();
        s.insert(msg(pk(1), 0, 3, now + 1)).unwrap();
        let (got, _) = s.retrieve_at(now, &pk(1), 0, None, 100, u64::MAX).unwrap();
        assert_eq!(got.iter().map(|m| m.timestamp_ms % 100).collect::<Vec<_>>(), vec![3]);
        assert_eq!(s.count().unwrap(), 3);
        assert_eq!(s.expire(now).unwrap(), 2);
        assert_eq!(s.count().unwrap(), 1);
        assert_eq!(s.expire(now).unwrap(), 0);
    }

    #[test]
    fn test_delete_only_own_hashes() {
        let (_d, s) = open_tmp();
        let a = msg(pk(1), 0, 1, FAR);
        let b = msg(pk(2), 0, 2, FAR);
        s.insert(a.clone()).unwrap();
        s.insert(b.clone()).unwrap();
        let deleted = s.delete(&pk(1), &[b.hash.clone(), a.hash.clone(), "nope".into()]).unwrap();
        assert_eq!(deleted, vec![a.hash.clone()]);
        assert!(!s.contains(&a.hash).unwrap());
        assert!(s.contains(&b.hash).unwrap());
    }

    #[test]
    fn test_public_outbox_holds_one_message() {
        let (_d, s) = open_tmp();
        assert!(
            is_public_outbox(-1) && is_public_outbox(-21) && !is_public_outbox(-10) && !is_public_outbox(1)
        );
        s.insert(msg(pk(1), -1, 1, FAR)).unwrap();
        s.insert(msg(pk(1), -1, 2, FAR)).unwrap();
        let (got, _) = s.retrieve(&pk(1), -1, None, 10, u64::MAX).unwrap();
        assert_eq!(got, vec![msg(pk(1), -1, 2, FAR)]);
    }

    #[test]
    fn test_pubkeys_scan_and_removal() {
        let (_d, s) = open_tmp();
        for p in 1..=3u8 {
            for n in 0..5 {
                s.insert(msg(pk(p), 0, n, FAR)).unwrap();
            }
        }
        assert_eq!(s.all_pubkeys().unwrap(), vec![pk(1), pk(2), pk(3)]);
        assert_eq!(s.count_for(&pk(2)).unwrap(), 5);
        assert_eq!(s.messages_for(&pk(2)).unwrap().len(), 5);
        let mut seen = 0;
        let mut cursor = None;
        loop {
            let (batch, next) = s.scan(cursor, 4).unwrap();
            seen += batch.len();
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, 15);
        assert_eq!(s.remove_pubkeys(&[pk(1)]).unwrap(), 5);
        assert_eq!(s.remove_pubkeys_where(|p| *p == pk(3)).unwrap(), 5);
        assert_eq!(s.all_pubkeys().unwrap(), vec![pk(2)]);
    }

    #[test]
    fn test_concurrent_inserts_all_acknowledged_and_present_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let s = Store::open(&path).unwrap();
        let threads: Vec<_> = (0..32u8)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for n in 0..25 {
                        assert_eq!(s.insert(msg(pk(t), 0, n, FAR)).unwrap(), Inserted::New);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // Group commit: concurrent callers share transactions (and so fsyncs).
        let stats = s.stats();
        assert!(stats.jobs >= 32 * 25 && stats.commits < stats.jobs, "no batching: {stats:?}");
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.count().unwrap(), 32 * 25);
        for t in 0..32u8 {
            assert_eq!(s.count_for(&pk(t)).unwrap(), 25);
        }
    }

    #[test]
    fn test_async_insert_from_tokio() {
        let (_d, s) = open_tmp();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        rt.block_on(async {
            let tasks: Vec<_> = (0..64u32)
                .map(|n| {
                    let s = s.clone();
                    tokio::spawn(async move { s.insert_async(msg(pk(9), 0, n, FAR)).await })
                })
                .collect();
            for t in tasks {
                assert_eq!(t.await.unwrap().unwrap(), Inserted::New);
            }
            assert_eq!(
                s.insert_async(msg(pk(9), 0, 0, FAR)).await.unwrap(),
                Inserted::Already { expiry_ms: FAR }
            );
        });
        assert_eq!(s.count().unwrap(), 64);
    }

    #[test]
    fn test_readers_do_not_wait_for_an_open_write_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let s = Store::open(&path).unwrap();
        s.insert(msg(pk(1), 0, 1, FAR)).unwrap();
        // Another connection holds the write lock with an uncommitted insert.
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        other
            .execute(
                "INSERT INTO messages (pubkey, namespace, hash, timestamp, expiry, data) VALUES (?1, 0, 'x', 1, ?2, x'00')",
                params![&pk(1).to_bytes()[..], FAR as i64],
            )
            .unwrap();
        // Reads go on, from the last committed state.
        let (got, more) = s.retrieve(&pk(1), 0, None, 10, u64::MAX).unwrap();
        assert_eq!((got.len(), more), (1, false));
        assert_eq!(s.count().unwrap(), 1);
        other.execute_batch("ROLLBACK").unwrap();
    }

    #[test]
    fn test_newer_schema_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 99").unwrap();
        assert!(matches!(Store::open(&path).unwrap_err(), StoreError::SchemaTooNew { found: 99, .. }));
    }
}
