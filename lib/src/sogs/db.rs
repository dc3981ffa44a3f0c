//! The community server's SQLite database: the schema (modelled on pysogs' `schema.sqlite`,
//! written anew and smaller), opening it (WAL, `synchronous=FULL`, a busy timeout so that the
//! admin command line can write while the server runs) and the clock.
//!
//! Every write a handler makes happens inside one `BEGIN IMMEDIATE` transaction that commits
//! before the reply is sent, so nothing acknowledged can be lost and nothing half-done is kept.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// Name of the database inside the data directory.
pub const DB_FILE: &str = "sogs.sqlite";

/// How long a writer waits for another (the server, or an admin command) to finish.
const BUSY_TIMEOUT_MS: u64 = 10_000;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS rooms (
    id INTEGER PRIMARY KEY,
    token TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    description TEXT,
    image INTEGER,
    created REAL NOT NULL,
    message_sequence INTEGER NOT NULL DEFAULT 0,
    info_updates INTEGER NOT NULL DEFAULT 0,
    read INTEGER NOT NULL DEFAULT 1,
    accessible INTEGER NOT NULL DEFAULT 1,
    write INTEGER NOT NULL DEFAULT 1,
    upload INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    last_active REAL NOT NULL,
    banned INTEGER NOT NULL DEFAULT 0,
    banned_until REAL,
    moderator INTEGER NOT NULL DEFAULT 0,
    admin INTEGER NOT NULL DEFAULT 0,
    visible_mod INTEGER NOT NULL DEFAULT 0
);
-- A 05 Session ID an admin named, waiting for its owner's first blinded request: the blinded15
-- key with its sign bit cleared (both candidates map to it), and the 05 user holding the rows.
CREATE TABLE IF NOT EXISTS needs_blinding (
    blinded_abs TEXT PRIMARY KEY,
    user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS room_users (
    room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_active REAL NOT NULL,
    PRIMARY KEY (room, user)
) WITHOUT ROWID;
-- Per-user overrides: NULL = the room default.
CREATE TABLE IF NOT EXISTS user_permission_overrides (
    room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    banned INTEGER NOT NULL DEFAULT 0,
    banned_until REAL,
    read INTEGER,
    accessible INTEGER,
    write INTEGER,
    upload INTEGER,
    moderator INTEGER NOT NULL DEFAULT 0,
    admin INTEGER NOT NULL DEFAULT 0,
    visible_mod INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (room, user)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS user_permission_futures (
    id INTEGER PRIMARY KEY,
    room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at REAL NOT NULL,
    read INTEGER,
    accessible INTEGER,
    write INTEGER,
    upload INTEGER
);
CREATE INDEX IF NOT EXISTS futures_at ON user_permission_futures(at);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user INTEGER NOT NULL REFERENCES users(id),
    posted REAL NOT NULL,
    edited REAL,
    seqno INTEGER NOT NULL,
    seqno_data INTEGER NOT NULL,
    data BLOB,
    data_size INTEGER,
    signature BLOB,
    whisper_to INTEGER REFERENCES users(id),
    whisper_mods INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_room_seqno ON messages(room, seqno);
CREATE INDEX IF NOT EXISTS messages_room_seqno_data ON messages(room, seqno_data);
CREATE INDEX IF NOT EXISTS messages_user_posted ON messages(user, room, posted);
CREATE TABLE IF NOT EXISTS reactions (
    message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    reaction TEXT NOT NULL,
    user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at REAL NOT NULL,
    PRIMARY KEY (message, reaction, user)
);
CREATE TABLE IF NOT EXISTS pinned_messages (
    room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    pinned_by INTEGER NOT NULL REFERENCES users(id),
    pinned_at REAL NOT NULL,
    PRIMARY KEY (room, message)
) WITHOUT ROWID;
-- Room files; the bytes live in the row (an upload is at most SOGS_MAX_UPLOAD_BYTES), so a file
-- and its row are committed together. expiry NULL: never (a room image, a pinned post's file).
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room INTEGER REFERENCES rooms(id) ON DELETE CASCADE,
    uploader INTEGER REFERENCES users(id),
    size INTEGER NOT NULL,
    uploaded REAL NOT NULL,
    expiry REAL,
    filename TEXT,
    message INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS files_expiry ON files(expiry);
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sender INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body BLOB NOT NULL,
    posted_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_recipient ON inbox(recipient, id);
CREATE INDEX IF NOT EXISTS inbox_sender ON inbox(sender, id);
CREATE TABLE IF NOT EXISTS nonces (
    nonce BLOB PRIMARY KEY,
    at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_at ON nonces(at);
-- REST API tokens: only the SHA-256 of the token is kept.
CREATE TABLE IF NOT EXISTS api_tokens (
    name TEXT PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    created REAL NOT NULL
);
"#;

/// Opens (creating when missing) the database under `dir`, in WAL mode with `synchronous=FULL`
/// (a commit survives power loss), foreign keys on, and the schema in place.
pub fn open(dir: &Path) -> rusqlite::Result<Connection> {
    let db = Connection::open(dir.join(DB_FILE))?;
    db.busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS))?;
    db.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "FULL")?;
    db.pragma_update(None, "foreign_keys", "ON")?;
    db.execute_batch(SCHEMA)?;
    Ok(db)
}

/// Statements kept prepared per connection: the routes use a few dozen, and a statement parsed
/// again for every request costs more than the query it runs.
pub(crate) const STATEMENT_CACHE: usize = 256;

/// `execute` and `query_row` through the connection's statement cache (rusqlite's own two
/// prepare the SQL anew on every call).
pub(crate) trait Cached {
    /// [`Connection::execute`], prepared once.
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    /// [`Connection::query_row`], prepared once.
    fn row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Unix time in (fractional) seconds, as pysogs stores and answers times.
pub fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}
