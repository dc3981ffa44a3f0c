//! The read side of the store: a small pool of read-only connections and the queries run on
//! them. WAL readers see the last committed state and never wait for the writer. Every query
//! takes the time it hides expired messages at, so that the caller's clock decides.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{Res, ScanCursor, StoreError, to_i64};
use crate::formats::keys::Pubkey;
use crate::formats::limits::{
    RETRIEVE_MAX_COUNT, RETRIEVE_PER_MESSAGE_OVERHEAD, STORE_BUSY_TIMEOUT_MS, STORE_INSERT_MANY_MAX,
    STORE_READ_POOL,
};
use crate::formats::rpc::message::StoredMessage;

/// The read-only connections, handed out round-robin.
pub(super) struct Readers {
    pool: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    /// Opens [`STORE_READ_POOL`] read-only connections to the database at `path`.
    pub(super) fn open(path: &Path) -> Res<Self> {
        let mut pool = Vec::with_capacity(STORE_READ_POOL);
        for _ in 0..STORE_READ_POOL {
            pool.push(Mutex::new(open_reader(path)?));
        }
        Ok(Self { pool, next: AtomicUsize::new(0) })
    }

    /// A free connection, or (all busy) the next one once it is free.
    pub(super) fn get(&self) -> MutexGuard<'_, Connection> {
        let n = self.pool.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(g) = self.pool[(start + i) % n].try_lock() {
                return g;
            }
        }
        // All busy: wait for one. A poisoned connection is still usable (no Rust state inside).
        self.pool[start % n].lock().unwrap_or_else(|p| p.into_inner())
    }
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

/// See [`super::Store::retrieve`].
pub(super) fn retrieve(
    conn: &Connection,
    now_ms: u64,
    pubkey: &Pubkey,
    namespace: i16,
    last_hash: Option<&str>,
    max_count: usize,
    max_size: u64,
) -> Res<(Vec<StoredMessage>, bool)> {
    let now = to_i64("now", now_ms)?;
    let max_count = max_count.clamp(1, RETRIEVE_MAX_COUNT);
    let pk = pubkey.to_bytes();
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

/// See [`super::Store::count`].
pub(super) fn count(conn: &Connection) -> Res<u64> {
    let n: i64 = conn.prepare_cached("SELECT COUNT(*) FROM messages")?.query_row([], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// See [`super::Store::count_for`].
pub(super) fn count_for(conn: &Connection, now_ms: u64, pubkey: &Pubkey) -> Res<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM messages WHERE pubkey = ?1 AND expiry > ?2")?
        .query_row(params![&pubkey.to_bytes()[..], to_i64("now", now_ms)?], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// See [`super::Store::all_pubkeys`].
pub(super) fn all_pubkeys(conn: &Connection) -> Res<Vec<Pubkey>> {
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

/// See [`super::Store::messages_for`].
pub(super) fn messages_for(conn: &Connection, now_ms: u64, pubkey: &Pubkey) -> Res<Vec<StoredMessage>> {
    let mut st = conn.prepare_cached(
        "SELECT pubkey, namespace, hash, timestamp, expiry, data, id FROM messages \
         WHERE pubkey = ?1 AND expiry > ?2 ORDER BY id",
    )?;
    let rows = st.query(params![&pubkey.to_bytes()[..], to_i64("now", now_ms)?])?;
    collect_rows(rows).map(|(v, _)| v)
}

/// See [`super::Store::scan`].
pub(super) fn scan(
    conn: &Connection,
    now_ms: u64,
    cursor: Option<ScanCursor>,
    limit: usize,
) -> Res<(Vec<StoredMessage>, Option<ScanCursor>)> {
    let limit = limit.clamp(1, STORE_INSERT_MANY_MAX);
    let after = cursor.map(|c| c.0).unwrap_or(0);
    let mut st = conn.prepare_cached(
        "SELECT pubkey, namespace, hash, timestamp, expiry, data, id FROM messages \
         WHERE id > ?1 AND expiry > ?2 ORDER BY id LIMIT ?3",
    )?;
    let rows = st.query(params![after, to_i64("now", now_ms)?, limit as i64])?;
    let (msgs, last_id) = collect_rows(rows)?;
    let next = if msgs.len() == limit { last_id.map(ScanCursor) } else { None };
    Ok((msgs, next))
}

/// See [`super::Store::messages_by_hash`].
pub(super) fn messages_by_hash(conn: &Connection, now_ms: u64, hashes: &[String]) -> Res<Vec<StoredMessage>> {
    let mut st = conn.prepare_cached(
        "SELECT pubkey, namespace, hash, timestamp, expiry, data, id FROM messages \
         WHERE hash = ?1 AND expiry > ?2",
    )?;
    let now = to_i64("now", now_ms)?;
    let mut out = Vec::new();
    for h in hashes {
        out.extend(collect_rows(st.query(params![h, now])?)?.0);
    }
    Ok(out)
}

/// See [`super::Store::expiries`].
pub(super) fn expiries(
    conn: &Connection,
    now_ms: u64,
    pubkey: &Pubkey,
    hashes: &[String],
) -> Res<Vec<(String, u64)>> {
    let mut st =
        conn.prepare_cached("SELECT expiry FROM messages WHERE hash = ?1 AND pubkey = ?2 AND expiry > ?3")?;
    let (pk, now) = (pubkey.to_bytes(), to_i64("now", now_ms)?);
    let mut out = Vec::new();
    for h in hashes {
        if let Some(e) = st.query_row(params![h, &pk[..], now], |r| r.get::<_, i64>(0)).optional()? {
            out.push((h.clone(), e.max(0) as u64));
        }
    }
    Ok(out)
}

/// See [`super::Store::contains`].
pub(super) fn contains(conn: &Connection, hash: &str) -> Res<bool> {
    let found = conn
        .prepare_cached("SELECT 1 FROM messages WHERE hash = ?1")?
        .query_row([hash], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
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

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::super::fixtures::{FAR, msg, open_tmp, pk};
    use super::*;

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
    fn test_expiry_is_read_from_the_store_clock() {
        let dir = tempfile::tempdir().unwrap();
        let clock = std::sync::Arc::new(crate::formats::time::ManualClock::at(1_800_000_000_000));
        let options = super::super::StoreOptions { clock: clock.clone(), ..Default::default() };
        let s = Store::open_with(dir.path().join("m.db"), options).unwrap();
        s.insert(msg(pk(1), 0, 1, 1_800_000_000_010)).unwrap();
        assert_eq!(s.retrieve(&pk(1), 0, None, 10, u64::MAX).unwrap().0.len(), 1);
        assert_eq!(s.count_for(&pk(1)).unwrap(), 1);
        clock.set(1_800_000_000_010);
        assert!(s.retrieve(&pk(1), 0, None, 10, u64::MAX).unwrap().0.is_empty());
        assert_eq!(s.count_for(&pk(1)).unwrap(), 0);
        assert!(s.scan(None, 10).unwrap().0.is_empty());
        assert!(s.messages_for(&pk(1)).unwrap().is_empty());
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
}
