//! The server's database access: one writer thread that commits concurrent requests in groups,
//! and a pool of read-only connections for the requests that only read (the polls).
//!
//! **Group commit.** Every request that writes (a post, and the nonce of every signed request)
//! is a job sent to the one writer thread. The writer takes the first waiting job and every job
//! queued behind it (at most [`MAX_GROUP_JOBS`]), runs each in its own savepoint inside one
//! `BEGIN IMMEDIATE` transaction, commits once (one WAL fsync for the group, `synchronous=FULL`)
//! and only then hands each job its result. So a reply is sent only after its commit, as with
//! one transaction per request, but N concurrent posts cost one fsync instead of N; while one
//! group commits, the next one queues up, so the group size follows the load.
//!
//! **Readers.** WAL lets readers run beside the writer without blocking it. A read runs in one
//! deferred transaction (one consistent snapshot) on a connection opened read-only, so a route
//! that turns out to need a write fails with `SQLITE_READONLY` instead of writing outside the
//! writer; the caller then re-runs it as a writer job ([`super::api::ApiError::needs_writer`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::db;

/// Most jobs committed together: bounds the time a group holds the write lock (the admin
/// command line waits behind it) and the latency of the first job of a group.
pub(crate) const MAX_GROUP_JOBS: usize = 256;
/// Read-only connections kept open between requests: at least as many as requests read at once
/// (a connection closed and reopened costs a schema parse); more are opened under a burst and
/// closed after it.
pub(crate) const MAX_IDLE_READERS: usize = 64;
/// How long a reader waits on a lock (WAL readers block only during a checkpoint's restart).
const READER_BUSY_TIMEOUT_MS: u64 = 10_000;

/// Why a job got no result.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The group's transaction could not begin or commit: nothing of the job is stored.
    #[error("the group commit failed: {0}")]
    Commit(String),
    /// The job panicked (its savepoint was rolled back).
    #[error("the job failed")]
    Panicked,
    /// The job was never run: the writer could not begin a transaction, or it has stopped.
    #[error("the database writer did not run the job")]
    NotRun,
    /// A read-only connection could not be opened or its transaction begun.
    #[error("database: {0}")]
    Read(#[from] rusqlite::Error),
}

/// What a job hands back after the commit: `Some(result)` if its group committed.
type Deliver = Box<dyn FnOnce(bool) + Send>;
/// A job: runs on the writer's connection inside the group transaction.
type Job = Box<dyn FnOnce(&Connection) -> Deliver + Send>;

/// The writer's queue and the reader pool of one server.
#[derive(Debug)]
pub(crate) struct Store {
    jobs: Sender<Job>,
    dir: PathBuf,
    readers: Mutex<Vec<Connection>>,
    counts: Arc<Counts>,
}

/// How the writer has been doing (the tests read it; a group of N jobs is one commit).
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// Jobs handed to the writer.
    pub(crate) sent: AtomicU64,
    /// Group transactions committed.
    pub(crate) commits: AtomicU64,
}

impl Store {
    /// Opens the database under `dir` (schema, WAL) and starts its writer thread.
    pub(crate) fn open(dir: &Path) -> rusqlite::Result<Self> {
        let conn = db::open(dir)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        std::thread::Builder::new()
            .name("sogs-writer".into())
            .spawn(move || writer(conn, queue, &c))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Self { jobs, dir: dir.to_path_buf(), readers: Mutex::new(Vec::new()), counts })
    }

    /// The writer's counters.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> &Counts {
        &self.counts
    }

    /// Runs `f` on the writer inside a group transaction and returns its result once the group
    /// has committed. Blocking: call it off the async runtime. `f` must leave no savepoint of its
    /// own open; what it writes is kept whatever it returns (use [`savepoint`] to undo a refusal).
    pub(crate) fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx): (SyncSender<Result<T, StoreError>>, _) = mpsc::sync_channel(1);
        self.submit(f, move |r| {
            // The caller may have gone (its connection closed): nothing to tell then.
            let _ = tx.send(r);
        })?;
        rx.recv().map_err(|_| StoreError::NotRun)?
    }

    /// [`Store::write`] for async callers: the task waits for the commit without holding a
    /// thread (the blocking pool's hand-offs cost more CPU than a poll's own work).
    pub(crate) async fn write_async<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(f, move |r| {
            let _ = tx.send(r);
        })?;
        rx.await.map_err(|_| StoreError::NotRun)?
    }

    /// Queues `f` for the writer; `reply` gets its result once its group has committed.
    fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> T + Send + 'static,
        reply: impl FnOnce(Result<T, StoreError>) + Send + 'static,
    ) -> Result<(), StoreError> {
        let job: Job = Box::new(move |db: &Connection| -> Deliver {
            // Its own savepoint name: a panic inside a nested `sp` still rolls the whole job back.
            let run = |db: &Connection| catch_unwind(AssertUnwindSafe(|| f(db)));
            let out = match named_savepoint(db, "job", run, Result::is_ok) {
                Ok(Ok(out)) => Ok(out),
                Ok(Err(_)) => Err(StoreError::Panicked),
                Err(e) => Err(StoreError::Commit(e.to_string())),
            };
            Box::new(move |committed: bool| {
                let r = match out {
                    Ok(_) if !committed => Err(StoreError::Commit("the group was rolled back".into())),
                    r => r,
                };
                reply(r);
            })
        });
        self.jobs.send(job).map_err(|_| StoreError::NotRun)?;
        self.counts.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Runs `f` on a read-only connection in one read transaction (a consistent snapshot).
    /// Blocking: call it off the async runtime.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> T) -> Result<T, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_reader(&self.dir)?,
        };
        conn.execute_batch("BEGIN DEFERRED")?;
        let out = f(&conn);
        // A read transaction has nothing to commit; ending it releases the snapshot, so the WAL
        // can be checkpointed past it.
        let ended = conn.execute_batch("COMMIT");
        if ended.is_ok() && conn.is_autocommit() {
            let mut idle = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
        }
        Ok(out)
    }
}

fn open_reader(dir: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        dir.join(db::DB_FILE),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(Duration::from_millis(READER_BUSY_TIMEOUT_MS))?;
    conn.set_prepared_statement_cache_capacity(db::STATEMENT_CACHE);
    Ok(conn)
}

/// Runs `f` inside a savepoint of `db`'s open transaction: released (kept) when `keep` says so,
/// rolled back otherwise.
pub(crate) fn savepoint<T>(
    db: &Connection,
    f: impl FnOnce(&Connection) -> T,
    keep: impl FnOnce(&T) -> bool,
) -> rusqlite::Result<T> {
    named_savepoint(db, "sp", f, keep)
}

fn named_savepoint<T>(
    db: &Connection,
    name: &str,
    f: impl FnOnce(&Connection) -> T,
    keep: impl FnOnce(&T) -> bool,
) -> rusqlite::Result<T> {
    db.execute_batch(&format!("SAVEPOINT {name}"))?;
    let out = f(db);
    if keep(&out) {
        db.execute_batch(&format!("RELEASE {name}"))?;
    } else {
        db.execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"))?;
    }
    Ok(out)
}

/// The writer thread: one group transaction at a time, until every sender is gone.
fn writer(conn: Connection, queue: Receiver<Job>, counts: &Counts) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP_JOBS {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if commit_group(&conn, group) {
            counts.commits.fetch_add(1, Ordering::Relaxed);
        }
    }
    tracing::debug!("sogs writer stopped");
}

/// Runs and commits one group; whether it committed.
fn commit_group(conn: &Connection, group: Vec<Job>) -> bool {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // Nothing runs: dropping a job drops its reply channel, so its caller gets
        // `StoreError::NotRun` (and answers 500).
        tracing::error!(error = %e, jobs = group.len(), "cannot begin the group transaction");
        return false;
    }
    let delivers: Vec<Deliver> = group.into_iter().map(|job| job(conn)).collect();
    let committed = match conn.execute_batch("COMMIT") {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, jobs = delivers.len(), "group commit failed; rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            false
        }
    };
    for deliver in delivers {
        deliver(committed);
    }
    committed
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::params;

    fn nonce_rows(dir: &Path) -> i64 {
        let db = db::open(dir).unwrap();
        db.query_row("SELECT COUNT(*) FROM nonces", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn concurrent_writes_queued_behind_a_commit_share_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let (release, wait) = mpsc::channel::<()>();
        let blocker = {
            let s = store.clone();
            std::thread::spawn(move || s.write(move |_| wait.recv().is_ok()).unwrap())
        };
        while store.counts().sent.load(Ordering::Relaxed) < 1 {
            std::thread::yield_now();
        }
        const WRITERS: u8 = 31;
        let writers: Vec<_> = (0..WRITERS)
            .map(|i| {
                let s = store.clone();
                std::thread::spawn(move || {
                    s.write(move |db| {
                        db.execute("INSERT INTO nonces VALUES (?, 0)", params![[i; 16].as_slice()])
                    })
                    .unwrap()
                    .unwrap();
                    // Answered only after the commit: another connection sees the row.
                    let db = db::open(s.dir.as_path()).unwrap();
                    let n: i64 = db
                        .query_row("SELECT COUNT(*) FROM nonces WHERE nonce = ?", [[i; 16].as_slice()], |r| {
                            r.get(0)
                        })
                        .unwrap();
                    assert_eq!(n, 1);
                })
            })
            .collect();
        while store.counts().sent.load(Ordering::Relaxed) < 1 + u64::from(WRITERS) {
            std::thread::yield_now();
        }
        release.send(()).unwrap();
        assert!(blocker.join().unwrap());
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(nonce_rows(dir.path()), i64::from(WRITERS));
        // The blocker's group, then one group of the 31 that queued behind it.
        assert_eq!(store.counts().commits.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_panicking_job_is_rolled_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let r = store.write(|db| {
            db.execute("INSERT INTO nonces VALUES (?, 0)", [[1u8; 16].as_slice()]).unwrap();
            db.execute_batch("SAVEPOINT sp").unwrap();
            #[allow(clippy::panic)]
            {
                panic!("a bug in a route")
            }
        });
        assert!(matches!(r, Err(StoreError::Panicked)));
        store
            .write(|db| db.execute("INSERT INTO nonces VALUES (?, 0)", [[2u8; 16].as_slice()]))
            .unwrap()
            .unwrap();
        assert_eq!(nonce_rows(dir.path()), 1);
    }

    #[test]
    fn a_refused_savepoint_is_undone_and_readers_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let kept = store
            .write(|db| {
                savepoint(
                    db,
                    |db| db.execute("INSERT INTO nonces VALUES (?, 0)", [[3u8; 16].as_slice()]),
                    |_| false,
                )
            })
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(kept, 1);
        assert_eq!(nonce_rows(dir.path()), 0);
        let e =
            store.read(|db| db.execute("INSERT INTO nonces VALUES (?, 0)", [[4u8; 16].as_slice()])).unwrap();
        assert!(super::super::api::ApiError::from(e.unwrap_err()).needs_writer());
        let n: i64 =
            store.read(|db| db.query_row("SELECT COUNT(*) FROM nonces", [], |r| r.get(0))).unwrap().unwrap();
        assert_eq!(n, 0);
    }
}
