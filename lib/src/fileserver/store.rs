//! The file server's storage: the files on disk and their SQLite index, kept in step.
//!
//! Layout under the data directory: `files/<id>` (one file per upload, the raw bytes),
//! `tmp/` (uploads still streaming in), `index.sqlite` (one row per file: size, upload time,
//! expiry; WAL, `synchronous=FULL`). One mutex guards the index *and* the names under `files/`,
//! so an upload, an extend and the cleaner never interleave on one id.
//!
//! The durability rule: a file is renamed into `files/` only once its bytes are fsynced, the
//! directory is fsynced after the rename, and the row is committed after that; the handler
//! answers 200 only after [`Store::commit_upload`] returned. So after a crash a row always has
//! its file; what a crash can leave is a temporary file or a file without a row, and
//! [`Store::open`] removes both (and, defensively, a row without a file).

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension, params};

use crate::formats::limits::FILESERVER_COMPAT_ID_ATTEMPTS;

use super::ids;

/// Name of the index database inside the data directory.
pub const INDEX_FILE: &str = "index.sqlite";
/// Directory of the stored files inside the data directory.
pub const FILES_DIR: &str = "files";
/// Directory of uploads in progress inside the data directory.
pub const TMP_DIR: &str = "tmp";

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY NOT NULL,
    size INTEGER NOT NULL,
    uploaded_us INTEGER NOT NULL,
    expires_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS files_expires ON files (expires_us);";

/// Why the store failed (the handler answers 500 and logs this).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The index database failed.
    #[error("file index: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file or directory operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which path.
        path: String,
        /// The error.
        source: io::Error,
    },
    /// Every fresh compat id tried was taken (507).
    #[error("{FILESERVER_COMPAT_ID_ATTEMPTS} compat ids in a row were taken")]
    Collisions,
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io { op, path: path.display().to_string(), source }
}

/// One stored file as the index knows it. Times are microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileRow {
    /// Bytes on disk.
    pub size: u64,
    /// When it was (last) uploaded.
    pub uploaded_us: i64,
    /// When it expires: it is served while `now < expires_us`.
    pub expires_us: i64,
}

/// What a crash left behind and start-up removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Temporary files of uploads never answered.
    pub temp_files: usize,
    /// Files under `files/` without a row.
    pub orphan_files: usize,
    /// Rows whose file is missing.
    pub orphan_rows: usize,
}

/// The files and their index. Cheap to clone; every method blocks (call it off the runtime).
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Mutex<Connection>,
    files: PathBuf,
    tmp: PathBuf,
}

impl Store {
    /// Opens (or creates) the store under `dir` and removes what a crash left behind.
    pub fn open(dir: &Path) -> Result<(Self, Leftovers), StoreError> {
        let files = dir.join(FILES_DIR);
        let tmp = dir.join(TMP_DIR);
        for d in [&files, &tmp] {
            crate::net::fs::create_private_dir(d).map_err(io_err("create", d))?;
        }
        let db_path = dir.join(INDEX_FILE);
        let db = Connection::open(&db_path)?;
        // WAL with FULL: a committed row survives power loss, and readers never block the writer.
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        db.execute_batch(SCHEMA)?;
        let store = Self { inner: Arc::new(Inner { db: Mutex::new(db), files, tmp }) };
        let leftovers = store.remove_leftovers()?;
        Ok((store, leftovers))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic cannot leave the connection half-used: every statement is atomic in SQLite.
        self.inner.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where a new temporary upload file goes.
    pub fn temp_path(&self) -> PathBuf {
        self.inner.tmp.join(format!("{:016x}{:016x}.part", rand::random::<u64>(), rand::random::<u64>()))
    }

    /// The directory of temporary uploads.
    pub fn tmp_dir(&self) -> &Path {
        &self.inner.tmp
    }

    /// The directory of stored files.
    pub fn files_dir(&self) -> &Path {
        &self.inner.files
    }

    fn file_path(&self, id: &str) -> PathBuf {
        self.inner.files.join(id)
    }

    fn remove_leftovers(&self) -> Result<Leftovers, StoreError> {
        let db = self.lock();
        let mut out = Leftovers::default();
        for entry in fs::read_dir(&self.inner.tmp).map_err(io_err("list", &self.inner.tmp))? {
            let path = entry.map_err(io_err("list", &self.inner.tmp))?.path();
            fs::remove_file(&path).map_err(io_err("remove", &path))?;
            out.temp_files += 1;
        }
        let rows: HashSet<String> = {
            let mut stmt = db.prepare("SELECT id FROM files")?;
            stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?
        };
        let mut on_disk = HashSet::new();
        for entry in fs::read_dir(&self.inner.files).map_err(io_err("list", &self.inner.files))? {
            let entry = entry.map_err(io_err("list", &self.inner.files))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if rows.contains(&name) {
                on_disk.insert(name);
            } else {
                let path = entry.path();
                fs::remove_file(&path).map_err(io_err("remove", &path))?;
                out.orphan_files += 1;
            }
        }
        for id in rows.difference(&on_disk) {
            out.orphan_rows += db.execute("DELETE FROM files WHERE id = ?1", params![id])?;
        }
        sync_dir(&self.inner.files)?;
        Ok(out)
    }

    /// Stores the fsynced upload at `temp` (`size` bytes) for `ttl_s` seconds from `now_us`:
    /// under `hash_id` when given (an existing file of that id keeps its bytes, takes the later
    /// expiry and a fresh upload time), else under a fresh compat id. Returns the id and expiry.
    /// On return the file, the directory entry and the row are all durable.
    pub fn commit_upload(
        &self,
        temp: &Path,
        hash_id: Option<String>,
        size: u64,
        ttl_s: u64,
        now_us: i64,
    ) -> Result<(String, i64), StoreError> {
        let expires_us = now_us.saturating_add(secs_to_us(ttl_s));
        let db = self.lock();
        let id = match hash_id {
            Some(id) => {
                let existing = row(&db, &id)?;
                if existing.is_some() && self.file_path(&id).exists() {
                    let _ = fs::remove_file(temp);
                    let expires: i64 = db.query_row(
                        "UPDATE files SET uploaded_us = ?2, expires_us = max(expires_us, ?3) WHERE id = ?1
                         RETURNING expires_us",
                        params![id, now_us, expires_us],
                        |r| r.get(0),
                    )?;
                    return Ok((id, expires));
                }
                id
            }
            None => {
                let mut fresh = None;
                for _ in 0..FILESERVER_COMPAT_ID_ATTEMPTS {
                    let id = ids::compat_id();
                    if row(&db, &id)?.is_none() && !self.file_path(&id).exists() {
                        fresh = Some(id);
                        break;
                    }
                }
                fresh.ok_or(StoreError::Collisions)?
            }
        };
        let dest = self.file_path(&id);
        fs::rename(temp, &dest).map_err(io_err("rename into", &dest))?;
        if let Err(e) = sync_dir(&self.inner.files) {
            let _ = fs::remove_file(&dest);
            return Err(e);
        }
        let size_i = i64::try_from(size).unwrap_or(i64::MAX);
        let inserted = db.execute(
            "INSERT INTO files (id, size, uploaded_us, expires_us) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET size = excluded.size, uploaded_us = excluded.uploaded_us,
             expires_us = max(files.expires_us, excluded.expires_us)",
            params![id, size_i, now_us, expires_us],
        );
        if let Err(e) = inserted {
            // No row, so the file must not stay either (start-up would remove it anyway).
            let _ = fs::remove_file(&dest);
            return Err(e.into());
        }
        let expires = row(&db, &id)?.map_or(expires_us, |r| r.expires_us);
        Ok((id, expires))
    }

    /// The row of `id` if it exists and has not expired at `now_us`.
    pub fn info(&self, id: &str, now_us: i64) -> Result<Option<FileRow>, StoreError> {
        let db = self.lock();
        Ok(row(&db, id)?.filter(|r| r.expires_us > now_us))
    }

    /// The row and an open handle of `id` if it exists and has not expired at `now_us`. The
    /// handle is opened under the lock, so the cleaner cannot remove the file in between (and
    /// once open, a later removal does not cut the download short).
    pub fn open_file(&self, id: &str, now_us: i64) -> Result<Option<(FileRow, fs::File)>, StoreError> {
        let db = self.lock();
        let Some(r) = row(&db, id)?.filter(|r| r.expires_us > now_us) else {
            return Ok(None);
        };
        let path = self.file_path(id);
        match fs::File::open(&path) {
            Ok(f) => Ok(Some((r, f))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::warn!(id, "indexed file missing on disk");
                Ok(None)
            }
            Err(e) => Err(io_err("open", &path)(e)),
        }
    }

    /// Sets the expiry of `id` to `max(expiry, now + ttl)` (never shorter; an expired file not
    /// yet cleaned is revived, as the live server does); `None` when there is no such file.
    pub fn extend(&self, id: &str, ttl_s: u64, now_us: i64) -> Result<Option<FileRow>, StoreError> {
        let db = self.lock();
        if row(&db, id)?.is_none() || !self.file_path(id).exists() {
            return Ok(None);
        }
        db.execute(
            "UPDATE files SET expires_us = max(expires_us, ?2) WHERE id = ?1",
            params![id, now_us.saturating_add(secs_to_us(ttl_s))],
        )?;
        row(&db, id)
    }

    /// Removes every file expired at `now_us` and its row; returns how many. A file that cannot
    /// be removed keeps its row, so the next round tries again.
    pub fn clean(&self, now_us: i64) -> Result<usize, StoreError> {
        let db = self.lock();
        let expired: Vec<String> = {
            let mut stmt = db.prepare("SELECT id FROM files WHERE expires_us <= ?1")?;
            stmt.query_map(params![now_us], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?
        };
        let mut removed = 0;
        for id in expired {
            let path = self.file_path(&id);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(id, error = %e, "cannot remove an expired file");
                    continue;
                }
            }
            removed += db.execute("DELETE FROM files WHERE id = ?1", params![id])?;
        }
        Ok(removed)
    }

    /// How many rows the index holds (expired or not).
    pub fn count(&self) -> Result<u64, StoreError> {
        let db = self.lock();
        Ok(db.query_row("SELECT count(*) FROM files", [], |r| r.get::<_, i64>(0))?.max(0) as u64)
    }
}

fn row(db: &Connection, id: &str) -> Result<Option<FileRow>, StoreError> {
    Ok(db
        .query_row("SELECT size, uploaded_us, expires_us FROM files WHERE id = ?1", params![id], |r| {
            Ok(FileRow {
                size: r.get::<_, i64>(0)?.max(0) as u64,
                uploaded_us: r.get(1)?,
                expires_us: r.get(2)?,
            })
        })
        .optional()?)
}

fn secs_to_us(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX).saturating_mul(1_000_000)
}

/// fsyncs a directory, so that a rename or removal in it is durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io_err("fsync", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_with(store: &Store, bytes: &[u8]) -> PathBuf {
        let p = store.temp_path();
        fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn upload_dedupe_takes_the_later_expiry_and_keeps_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = Store::open(dir.path()).unwrap();
        let id = ids::hash_id(b"abc");
        let (a, e1) = s.commit_upload(&temp_with(&s, b"abc"), Some(id.clone()), 3, 100, 1_000_000).unwrap();
        let (b, e2) = s.commit_upload(&temp_with(&s, b"abc"), Some(id.clone()), 3, 10, 2_000_000).unwrap();
        assert_eq!((a.as_str(), b.as_str()), (id.as_str(), id.as_str()));
        assert_eq!(e1, 101_000_000);
        assert_eq!(e2, e1, "a shorter re-upload never shortens");
        assert_eq!(s.count().unwrap(), 1);
        assert_eq!(fs::read_dir(s.tmp_dir()).unwrap().count(), 0);
        assert_eq!(s.info(&id, 2_000_000).unwrap().unwrap().uploaded_us, 2_000_000);
    }

    #[test]
    fn expiry_extend_and_clean() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = Store::open(dir.path()).unwrap();
        let (id, exp) = s.commit_upload(&temp_with(&s, b"x"), None, 1, 1, 0).unwrap();
        assert!(id.parse::<u64>().is_ok());
        assert!(s.info(&id, exp - 1).unwrap().is_some());
        assert!(s.info(&id, exp).unwrap().is_none(), "expired at exactly its expiry");
        let r = s.extend(&id, 5, 0).unwrap().unwrap();
        assert_eq!(r.expires_us, 5_000_000);
        assert_eq!(s.extend(&id, 1, 0).unwrap().unwrap().expires_us, 5_000_000, "never shortens");
        assert_eq!(s.clean(4_000_000).unwrap(), 0);
        assert_eq!(s.clean(5_000_000).unwrap(), 1);
        assert_eq!(s.count().unwrap(), 0);
        assert_eq!(fs::read_dir(s.files_dir()).unwrap().count(), 0);
    }

    #[test]
    fn start_up_removes_crash_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let kept = {
            let (s, _) = Store::open(dir.path()).unwrap();
            let (kept, _) = s.commit_upload(&temp_with(&s, b"keep"), None, 4, 100, 0).unwrap();
            let (gone, _) = s.commit_upload(&temp_with(&s, b"gone"), None, 4, 100, 0).unwrap();
            temp_with(&s, b"partial");
            fs::write(s.files_dir().join("orphan"), b"o").unwrap();
            fs::remove_file(s.files_dir().join(&gone)).unwrap();
            kept
        };
        let (s, left) = Store::open(dir.path()).unwrap();
        assert_eq!(left, Leftovers { temp_files: 1, orphan_files: 1, orphan_rows: 1 });
        assert_eq!(s.count().unwrap(), 1);
        assert!(s.open_file(&kept, 0).unwrap().is_some());
    }
}
