//! Forwarded requests waiting to be redelivered to a swarm peer that could not take them (it
//! was down, or answered 5xx): a table of the store's database, so that a restart of the entry
//! node does not forget them (schema version 3). `snode::redelivery` sends them.

use rusqlite::{Connection, params};

use super::writer::Change;
use super::{Res, StoreError, to_i64};

/// The table (schema version 3).
pub(super) const SCHEMA_V3: &str = "
CREATE TABLE IF NOT EXISTS redeliveries (
    id      INTEGER PRIMARY KEY,
    peer    BLOB    NOT NULL,
    body    BLOB    NOT NULL,
    created INTEGER NOT NULL
);
";

/// One pending redelivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redelivery {
    /// Its row.
    pub id: i64,
    /// The peer's Ed25519 key.
    pub peer: [u8; 32],
    /// The request as the client sent it.
    pub body: Vec<u8>,
    /// When it was first forwarded, ms.
    pub created_ms: u64,
}

/// Records a redelivery; answers its id (see [`super::Store::queue_redelivery_async`]).
pub(super) struct Queue {
    pub(super) peer: [u8; 32],
    pub(super) body: Vec<u8>,
    pub(super) created_ms: u64,
}

impl Change for Queue {
    type Output = i64;

    fn prepare(&self) -> Res<Option<i64>> {
        to_i64("created", self.created_ms).map(|_| None)
    }

    fn run(&self, conn: &Connection) -> Res<i64> {
        conn.prepare_cached("INSERT INTO redeliveries (peer, body, created) VALUES (?1, ?2, ?3)")
            .map_err(StoreError::from_sqlite)?
            .execute(params![&self.peer[..], &self.body, to_i64("created", self.created_ms)?])
            .map_err(StoreError::from_sqlite)?;
        Ok(conn.last_insert_rowid())
    }
}

/// Forgets a redelivery (delivered, or given up).
pub(super) struct Done(pub(super) i64);

impl Change for Done {
    type Output = ();

    fn run(&self, conn: &Connection) -> Res<()> {
        conn.prepare_cached("DELETE FROM redeliveries WHERE id = ?1")
            .map_err(StoreError::from_sqlite)?
            .execute([self.0])
            .map_err(StoreError::from_sqlite)?;
        Ok(())
    }
}

/// Every pending redelivery, oldest first.
pub(super) fn pending(conn: &Connection) -> Res<Vec<Redelivery>> {
    let mut st = conn.prepare_cached("SELECT id, peer, body, created FROM redeliveries ORDER BY id")?;
    let rows = st.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, Vec<u8>>(2)?, r.get::<_, i64>(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, peer, body, created) = row?;
        // A row this code did not write (a peer key of another length) is skipped.
        let Ok(peer) = <[u8; 32]>::try_from(peer.as_slice()) else { continue };
        out.push(Redelivery { id, peer, body, created_ms: created.max(0) as u64 });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::Store;

    #[tokio::test]
    async fn test_redeliveries_survive_reopening_until_done() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("messages.db");
        let id = {
            let s = Store::open(&path).unwrap();
            let a = s.queue_redelivery_async([1; 32], b"{\"a\":1}".to_vec(), 5).await.unwrap();
            s.queue_redelivery_async([2; 32], b"{}".to_vec(), 6).await.unwrap();
            a
        };
        let s = Store::open(&path).unwrap();
        let p = s.pending_redeliveries().unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].id, p[0].peer, p[0].body.as_slice(), p[0].created_ms),
            (id, [1; 32], &b"{\"a\":1}"[..], 5)
        );
        s.redelivery_done_async(id).await.unwrap();
        assert_eq!(s.pending_redeliveries().unwrap().len(), 1);
    }
}
