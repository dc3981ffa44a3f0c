//! The write side of the store: the writer thread with group commit, the changes it runs, and
//! the checkpoint thread.
//!
//! Every change (insert, delete, expiry sweep, pubkey removal) is a [`Change`]; the store queues
//! it as a job over a bounded channel, whichever way the caller waits for the answer. The writer
//! takes every job waiting (up to [`STORE_GROUP_COMMIT_MAX`]), runs each inside its own savepoint
//! of one transaction, commits once (one fsync for the whole batch), and only then answers each
//! caller.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};

use super::{Counters, Inserted, Res, StoreError, check_message, to_i64};
use crate::formats::keys::Pubkey;
use crate::formats::limits::{
    STORE_CHECKPOINT_INTERVAL_MS, STORE_EXPIRE_CHUNK, STORE_GROUP_COMMIT_MAX, STORE_GROUP_COMMIT_WAIT_US,
    STORE_INSERT_MANY_MAX,
};
use crate::formats::rpc::message::{StoredMessage, is_public_outbox};
use crate::formats::rpc::{ExpireMode, ExpireOutcome};

/// One change to the store, run by the writer inside its own savepoint.
pub(super) trait Change: Send + 'static {
    type Output: Send + 'static;

    /// Before queueing: refuses a change the store would refuse (limits), or answers at once a
    /// change that changes nothing (`Some`), without a transaction.
    fn prepare(&self) -> Res<Option<Self::Output>> {
        Ok(None)
    }

    /// Runs the change on the writer's connection (inside a savepoint).
    fn run(&self, conn: &Connection) -> Res<Self::Output>;
}

/// Where a job's answer goes: a blocking caller's channel or an async caller's oneshot.
pub(super) enum Reply<T> {
    Blocking(SyncSender<T>),
    Async(tokio::sync::oneshot::Sender<T>),
}

impl<T> Reply<T> {
    fn send(self, v: T) {
        // A caller that went away (dropped future) no longer needs the answer.
        match self {
            Reply::Blocking(tx) => {
                let _ = tx.send(v);
            }
            Reply::Async(tx) => {
                let _ = tx.send(v);
            }
        }
    }
}

/// A queued change and where its answer goes.
pub(super) type Job = Box<dyn Queued>;

/// A change waiting in the queue (the writer does not know its type).
pub(super) trait Queued: Send {
    /// Runs the change in a savepoint; the result waits for the batch's commit.
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Ran>;
    /// Answers the caller that its change was not committed.
    fn fail(self: Box<Self>, why: &rusqlite::Error);
}

/// A change that ran, waiting for the batch's commit.
pub(super) trait Ran: Send {
    fn is_ok(&self) -> bool;
    /// Answers the caller; if the commit failed, a successful result becomes that failure.
    fn answer(self: Box<Self>, commit_err: Option<&rusqlite::Error>);
}

/// A job: a change and its caller.
pub(super) struct Pending<C: Change> {
    pub(super) change: C,
    pub(super) reply: Reply<Res<C::Output>>,
}

struct Done<T> {
    result: Res<T>,
    reply: Reply<Res<T>>,
}

/// What a caller hears when its batch did not commit: a full disk by name (the node answers it
/// with its own text), anything else with SQLite's reason.
fn not_committed(why: &rusqlite::Error) -> StoreError {
    if why.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
        StoreError::Full
    } else {
        StoreError::NotCommitted { reason: why.to_string() }
    }
}

impl<C: Change> Queued for Pending<C> {
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Ran> {
        let result = in_savepoint(conn, || self.change.run(conn));
        Box::new(Done { result, reply: self.reply })
    }

    fn fail(self: Box<Self>, why: &rusqlite::Error) {
        self.reply.send(Err(not_committed(why)));
    }
}

impl<T: Send + 'static> Ran for Done<T> {
    fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    fn answer(self: Box<Self>, commit_err: Option<&rusqlite::Error>) {
        let result = match (commit_err, self.result) {
            (Some(why), Ok(_)) => Err(not_committed(why)),
            (_, r) => r,
        };
        self.reply.send(result);
    }
}

/// The writer thread's loop: batches, runs and commits jobs until the last sender is dropped.
pub(super) fn writer_loop(conn: Connection, rx: Receiver<Job>, stats: &Counters) {
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
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        for job in batch {
            job.fail(&e);
        }
        return;
    }
    let done: Vec<Box<dyn Ran>> = batch.into_iter().map(|job| job.run(conn)).collect();
    let commit_err = if done.iter().any(|d| d.is_ok()) {
        conn.execute_batch("COMMIT").err()
    } else {
        let _ = conn.execute_batch("ROLLBACK");
        None
    };
    if commit_err.is_some() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for d in done {
        d.answer(commit_err.as_ref());
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

// ---- the checkpointer --------------------------------------------------------------------------

/// Checkpoints the WAL every STORE_CHECKPOINT_INTERVAL_MS (PASSIVE: never blocks the writer or
/// readers), so that commits only pay the WAL fsync; a last one runs at shutdown.
pub(super) fn checkpoint_loop(conn: Connection, stop: mpsc::Receiver<()>) {
    let every = Duration::from_millis(STORE_CHECKPOINT_INTERVAL_MS);
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

// ---- the changes -------------------------------------------------------------------------------

/// Stores one message (see [`super::Store::insert`]).
pub(super) struct Insert(pub(super) StoredMessage);

impl Change for Insert {
    type Output = Inserted;

    fn prepare(&self) -> Res<Option<Inserted>> {
        check_message(&self.0).map(|()| None)
    }

    fn run(&self, conn: &Connection) -> Res<Inserted> {
        insert_one(conn, &self.0)
    }
}

/// Stores many messages all-or-nothing (see [`super::Store::insert_many`]).
pub(super) struct InsertMany(pub(super) Vec<StoredMessage>);

impl Change for InsertMany {
    type Output = Vec<Inserted>;

    fn prepare(&self) -> Res<Option<Vec<Inserted>>> {
        if self.0.len() > STORE_INSERT_MANY_MAX {
            return Err(StoreError::TooMany(self.0.len()));
        }
        self.0.iter().try_for_each(check_message)?;
        Ok(self.0.is_empty().then(Vec::new))
    }

    fn run(&self, conn: &Connection) -> Res<Vec<Inserted>> {
        self.0.iter().map(|m| insert_one(conn, m)).collect()
    }
}

/// Deletes one pubkey's messages by hash (see [`super::Store::delete`]).
pub(super) struct Delete(pub(super) Pubkey, pub(super) Vec<String>);

impl Change for Delete {
    type Output = Vec<String>;

    fn prepare(&self) -> Res<Option<Vec<String>>> {
        Ok(self.1.is_empty().then(Vec::new))
    }

    fn run(&self, conn: &Connection) -> Res<Vec<String>> {
        let pk = self.0.to_bytes();
        let mut st = conn
            .prepare_cached("DELETE FROM messages WHERE pubkey = ?1 AND hash = ?2")
            .map_err(StoreError::from_sqlite)?;
        let mut deleted = Vec::new();
        for h in &self.1 {
            if st.execute(params![&pk[..], h]).map_err(StoreError::from_sqlite)? > 0 {
                deleted.push(h.clone());
            }
        }
        Ok(deleted)
    }
}

/// Deletes a pubkey's messages in one namespace (or all: `None`), optionally only those with a
/// timestamp at most `before` (see [`super::Store::delete_matching_async`]).
pub(super) struct DeleteMatching {
    pub(super) pubkey: Pubkey,
    pub(super) namespace: Option<i16>,
    pub(super) before: Option<u64>,
}

impl Change for DeleteMatching {
    type Output = Vec<(i16, String)>;

    fn prepare(&self) -> Res<Option<Self::Output>> {
        self.before.map(|b| to_i64("before", b)).transpose().map(|_| None)
    }

    fn run(&self, conn: &Connection) -> Res<Self::Output> {
        let pk = self.pubkey.to_bytes();
        let before = self.before.map(|b| to_i64("before", b)).transpose()?;
        let mut st = conn
            .prepare_cached(
                "DELETE FROM messages WHERE pubkey = ?1 AND (?2 IS NULL OR namespace = ?2) \
                 AND (?3 IS NULL OR timestamp <= ?3) RETURNING namespace, hash",
            )
            .map_err(StoreError::from_sqlite)?;
        let rows = st
            .query_map(params![&pk[..], self.namespace, before], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(StoreError::from_sqlite)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(StoreError::from_sqlite)
    }
}

/// Sets some messages' expiry (see [`super::Store::expire_messages_async`]).
pub(super) struct ExpireMessages {
    pub(super) pubkey: Pubkey,
    pub(super) updates: Vec<(String, u64)>,
    pub(super) mode: ExpireMode,
}

impl Change for ExpireMessages {
    type Output = ExpireOutcome;

    fn prepare(&self) -> Res<Option<ExpireOutcome>> {
        self.updates.iter().try_for_each(|(_, e)| to_i64("expiry", *e).map(|_| ()))?;
        Ok(None)
    }

    fn run(&self, conn: &Connection) -> Res<ExpireOutcome> {
        let sql = StoreError::from_sqlite;
        let pk = self.pubkey.to_bytes();
        // The mode's condition: extend only raises, shorten only lowers, plain sets.
        let update = match self.mode {
            ExpireMode::Plain => "UPDATE messages SET expiry = ?1 WHERE hash = ?2 AND pubkey = ?3",
            ExpireMode::Extend => {
                "UPDATE messages SET expiry = ?1 WHERE hash = ?2 AND pubkey = ?3 AND expiry < ?1"
            }
            ExpireMode::Shorten => {
                "UPDATE messages SET expiry = ?1 WHERE hash = ?2 AND pubkey = ?3 AND expiry > ?1"
            }
        };
        let mut up = conn.prepare_cached(update).map_err(sql)?;
        let mut current = conn
            .prepare_cached("SELECT expiry FROM messages WHERE hash = ?1 AND pubkey = ?2")
            .map_err(sql)?;
        let mut out = ExpireOutcome::default();
        for (h, e) in &self.updates {
            if up.execute(params![to_i64("expiry", *e)?, h, &pk[..]]).map_err(sql)? > 0 {
                out.updated.push((h.clone(), *e));
            } else if let Some(now) =
                current.query_row(params![h, &pk[..]], |r| r.get::<_, i64>(0)).optional().map_err(sql)?
            {
                out.unchanged.push((h.clone(), now.max(0) as u64));
            }
        }
        Ok(out)
    }
}

/// Shortens a pubkey's later expiries (see [`super::Store::expire_all_async`]).
pub(super) struct ExpireAll {
    pub(super) pubkey: Pubkey,
    pub(super) namespace: Option<i16>,
    pub(super) expiry: u64,
}

impl Change for ExpireAll {
    type Output = Vec<(i16, String)>;

    fn prepare(&self) -> Res<Option<Self::Output>> {
        to_i64("expiry", self.expiry).map(|_| None)
    }

    fn run(&self, conn: &Connection) -> Res<Self::Output> {
        let pk = self.pubkey.to_bytes();
        let mut st = conn
            .prepare_cached(
                "UPDATE messages SET expiry = ?3 WHERE pubkey = ?1 AND (?2 IS NULL OR namespace = ?2) \
                 AND expiry > ?3 RETURNING namespace, hash",
            )
            .map_err(StoreError::from_sqlite)?;
        let rows = st
            .query_map(params![&pk[..], self.namespace, to_i64("expiry", self.expiry)?], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(StoreError::from_sqlite)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(StoreError::from_sqlite)
    }
}

/// Deletes up to [`STORE_EXPIRE_CHUNK`] messages expired at the given time (ms).
pub(super) struct ExpireChunk(pub(super) u64);

impl Change for ExpireChunk {
    type Output = usize;

    fn prepare(&self) -> Res<Option<usize>> {
        to_i64("now", self.0).map(|_| None)
    }

    fn run(&self, conn: &Connection) -> Res<usize> {
        conn.prepare_cached(
            "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE expiry <= ?1 LIMIT ?2)",
        )
        .map_err(StoreError::from_sqlite)?
        .execute(params![to_i64("now", self.0)?, STORE_EXPIRE_CHUNK as i64])
        .map_err(StoreError::from_sqlite)
    }
}

/// Deletes every message of some pubkeys (see [`super::Store::remove_pubkeys`]).
pub(super) struct RemovePubkeys(pub(super) Vec<Pubkey>);

impl Change for RemovePubkeys {
    type Output = usize;

    fn prepare(&self) -> Res<Option<usize>> {
        Ok(self.0.is_empty().then_some(0))
    }

    fn run(&self, conn: &Connection) -> Res<usize> {
        let mut st =
            conn.prepare_cached("DELETE FROM messages WHERE pubkey = ?1").map_err(StoreError::from_sqlite)?;
        let mut n = 0;
        for pk in &self.0 {
            n += st.execute([&pk.to_bytes()[..]]).map_err(StoreError::from_sqlite)?;
        }
        Ok(n)
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{FAR, msg, open_tmp, pk};
    use super::super::{SCHEMA_VERSION, Store};
    use super::*;
    use crate::formats::limits::MAX_MESSAGE_BYTES;

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
    fn test_delete_matching_by_namespace_all_and_before() {
        let (_d, s) = open_tmp();
        for n in 0..4 {
            s.insert(msg(pk(1), 0, n, FAR)).unwrap();
            s.insert(msg(pk(1), 5, n, FAR)).unwrap();
        }
        s.insert(msg(pk(2), 0, 9, FAR)).unwrap();
        // delete_before: the message timestamp (1_700_000_000_000 + n) at most `before`.
        let mut d = s.delete_matching(&pk(1), Some(0), Some(1_700_000_000_001)).unwrap();
        d.sort();
        assert_eq!(d, vec![(0, "h1-0-0".to_string()), (0, "h1-0-1".to_string())]);
        assert_eq!(s.delete_matching(&pk(1), Some(7), None).unwrap(), vec![], "an empty namespace");
        let mut d = s.delete_matching(&pk(1), None, None).unwrap();
        d.sort();
        assert_eq!(d.len(), 6, "all namespaces: {d:?}");
        assert_eq!(d[0], (0, "h1-0-2".to_string()));
        assert_eq!(d[5], (5, "h1-5-3".to_string()));
        assert_eq!(s.count_for(&pk(1)).unwrap(), 0);
        assert_eq!(s.count_for(&pk(2)).unwrap(), 1, "another pubkey is untouched");
    }

    #[test]
    fn test_expire_modes_and_expire_all() {
        let (_d, s) = open_tmp();
        for n in 0..3 {
            s.insert(msg(pk(1), 0, n, FAR)).unwrap();
        }
        s.insert(msg(pk(1), 4, 9, FAR)).unwrap();
        let h = |n: u32| format!("h1-0-{n}");
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            // extend only raises; the other is reported unchanged with its expiry.
            let o = s
                .expire_messages_async(
                    &pk(1),
                    vec![(h(0), FAR + 5), (h(1), FAR - 5), ("nope".into(), FAR)],
                    ExpireMode::Extend,
                )
                .await
                .unwrap();
            assert_eq!(o.updated, vec![(h(0), FAR + 5)]);
            assert_eq!(o.unchanged, vec![(h(1), FAR)], "an unknown hash is ignored");
            let o = s
                .expire_messages_async(&pk(1), vec![(h(0), FAR + 9), (h(1), FAR - 5)], ExpireMode::Shorten)
                .await
                .unwrap();
            assert_eq!((o.updated, o.unchanged), (vec![(h(1), FAR - 5)], vec![(h(0), FAR + 5)]));
            let o = s.expire_messages_async(&pk(2), vec![(h(2), FAR - 1)], ExpireMode::Plain).await.unwrap();
            assert_eq!(o, ExpireOutcome::default(), "another pubkey's hash is untouched");
            // expire_all only shortens, and not what is already at or below the expiry.
            let mut u = s.expire_all_async(&pk(1), Some(0), FAR - 5).await.unwrap();
            u.sort();
            assert_eq!(u, vec![(0, h(0)), (0, h(2))]);
            assert_eq!(
                s.expire_all_async(&pk(1), None, FAR - 5).await.unwrap(),
                vec![(4, "h1-4-9".to_string())]
            );
        });
        let e = s.expiries(&pk(1), &[h(0), h(1), "nope".into()]).unwrap();
        assert_eq!(e, vec![(h(0), FAR - 5), (h(1), FAR - 5)]);
    }
}
