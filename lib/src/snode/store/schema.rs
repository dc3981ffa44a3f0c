//! The store's schema and its migration, and the settings every connection to the database
//! gets. `PRAGMA user_version` holds the schema version; opening the read-write connection
//! creates version 1 on an empty file, migrates it to version 2 (revoked subaccounts) and 3
//! (pending redeliveries), refuses a newer one, and is where later versions migrate.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::{Res, StoreError};
use crate::formats::limits::STORE_BUSY_TIMEOUT_MS;

/// The schema version this code writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 3;

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

/// Settings of every read-write connection (the writer's and the checkpointer's).
pub(super) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_millis(STORE_BUSY_TIMEOUT_MS))?;
    // FULL: in WAL mode the WAL is fsynced at every commit, so a commit survives power loss,
    // not only a crash of the process. With group commit that is one fsync per batch.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Opens the writer's connection: creates the file (0600) if needed, switches it to WAL, sets
/// the auto-checkpoint backstop to `autocheckpoint_pages` and brings the schema up to
/// [`SCHEMA_VERSION`].
pub(super) fn open_writer(path: &Path, autocheckpoint_pages: i64) -> Res<Connection> {
    let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
    create_private(path).map_err(|source| StoreError::Create { path: path.to_path_buf(), source })?;
    let conn = Connection::open(path).map_err(open_err)?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NotWal { path: path.to_path_buf(), mode });
    }
    configure(&conn).map_err(open_err)?;
    // The checkpoint thread keeps the WAL short; this is only a backstop if it falls behind.
    conn.pragma_update(None, "wal_autocheckpoint", autocheckpoint_pages).map_err(open_err)?;
    migrate(&conn, path)?;
    Ok(conn)
}

/// Brings the schema up to [`SCHEMA_VERSION`]; refuses a file written by a newer snode.
fn migrate(conn: &Connection, path: &Path) -> Res<()> {
    let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
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
    if version < 2 {
        // 2: revoked subaccount tokens.
        conn.execute_batch(&format!("BEGIN; {} PRAGMA user_version = 2; COMMIT;", super::revoked::SCHEMA_V2))
            .map_err(open_err)?;
    }
    if version < 3 {
        // 3: forwarded requests waiting for redelivery.
        conn.execute_batch(&format!(
            "BEGIN; {} PRAGMA user_version = 3; COMMIT;",
            super::redeliveries::SCHEMA_V3
        ))
        .map_err(open_err)?;
    }
    // Later versions migrate here, one step per version, each in its own transaction.
    Ok(())
}

/// Creates the database file 0600 if it does not exist (SQLite gives its -wal and -shm files the
/// same mode): messages are only readable by the node.
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path).map(drop)
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    #[test]
    fn test_newer_schema_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 99").unwrap();
        assert!(matches!(Store::open(&path).unwrap_err(), StoreError::SchemaTooNew { found: 99, .. }));
    }
}
