//! The state directory of one identity (spec ratchet.md, "State"; layout in docs/ratchet.md):
//!
//! ```text
//! DIR/lock                 held (File::lock, exclusive) for the whole of one command
//! DIR/prekeys.json         the signed and one-time prekeys (PrekeyStore), 0600
//! DIR/sessions/<id>.json   one Double Ratchet session per peer Session ID, 0600
//! ```
//!
//! Every file is replaced atomically (temp file, fsync, rename, fsync the directory), so a kill
//! leaves either the old or the new content. Temp files a killed writer left behind are removed
//! when the next process takes the lock.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::formats::identity::SessionId;
use crate::formats::ratchet::error::RatchetError;
use crate::formats::ratchet::prekeys::PrekeyStore;
use crate::formats::ratchet::session::Session;
use crate::net::fs::{self as fsutil, SECRET_FILE_MODE};

/// The lock file's name.
pub const LOCK_FILE: &str = "lock";
/// The prekey file's name.
pub const PREKEYS_FILE: &str = "prekeys.json";
/// The directory holding one file per session.
pub const SESSIONS_DIR: &str = "sessions";

/// The default state directory of an identity: `$XDG_DATA_HOME/snkit/ratchet/<session_id>`,
/// else `~/.local/share/snkit/ratchet/<session_id>`.
pub fn default_dir(owner: &SessionId) -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".local/share"),
    };
    Some(base.join("snkit").join("ratchet").join(owner.to_string()))
}

fn io_err(path: &Path, e: io::Error) -> RatchetError {
    RatchetError::Io(format!("{}: {e}", path.display()))
}

/// An open, locked state directory. The lock is released when this is dropped.
#[derive(Debug)]
pub struct StateDir {
    root: PathBuf,
    _lock: File,
}

impl StateDir {
    /// Creates the directory if needed (0700), takes the lock (waiting for another process to
    /// finish), and removes temp files a killed process left.
    pub fn open(root: &Path) -> Result<Self, RatchetError> {
        let sessions = root.join(SESSIONS_DIR);
        fsutil::create_private_dir(&sessions).map_err(|e| io_err(&sessions, e))?;
        let lock_path = root.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(SECRET_FILE_MODE)
            .open(&lock_path)
            .map_err(|e| io_err(&lock_path, e))?;
        lock.lock().map_err(|e| io_err(&lock_path, e))?;
        let dir = Self { root: root.to_path_buf(), _lock: lock };
        dir.remove_stale_temp_files(root);
        dir.remove_stale_temp_files(&sessions);
        Ok(dir)
    }

    fn remove_stale_temp_files(&self, dir: &Path) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.contains(".tmp.") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    fn read(path: &Path) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, RatchetError> {
        match fs::read(path) {
            Ok(bytes) => Ok(Some(zeroize::Zeroizing::new(bytes))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(path, e)),
        }
    }

    fn write(path: &Path, bytes: &[u8]) -> Result<(), RatchetError> {
        fsutil::write_atomic(path, bytes).map_err(|e| io_err(path, e))
    }

    /// The prekeys of `owner` (an empty store if none were made yet).
    pub fn load_prekeys(&self, owner: &SessionId) -> Result<PrekeyStore, RatchetError> {
        let path = self.root.join(PREKEYS_FILE);
        let Some(bytes) = Self::read(&path)? else { return Ok(PrekeyStore::new(owner)) };
        let store = PrekeyStore::from_bytes(&bytes)
            .map_err(|e| RatchetError::CorruptState(format!("{}: {e}", path.display())))?;
        if !store.owner().eq_ignore_ascii_case(&owner.to_string()) {
            return Err(RatchetError::StateOwner {
                path: self.root.display().to_string(),
                owner: store.owner().to_string(),
                us: owner.to_string(),
            });
        }
        Ok(store)
    }

    /// Writes the prekey store atomically.
    pub fn save_prekeys(&self, store: &PrekeyStore) -> Result<(), RatchetError> {
        Self::write(&self.root.join(PREKEYS_FILE), &store.to_bytes()?)
    }

    /// The file of the session with `peer`.
    pub fn session_path(&self, peer: &SessionId) -> PathBuf {
        self.root.join(SESSIONS_DIR).join(format!("{peer}.json"))
    }

    /// The session of `local` with `peer`, if there is one.
    pub fn load_session(&self, local: &SessionId, peer: &SessionId) -> Result<Option<Session>, RatchetError> {
        let path = self.session_path(peer);
        let Some(bytes) = Self::read(&path)? else { return Ok(None) };
        let session = Session::from_bytes(&bytes)
            .map_err(|e| RatchetError::CorruptState(format!("{}: {e}", path.display())))?;
        if session.local() != *local {
            return Err(RatchetError::StateOwner {
                path: self.root.display().to_string(),
                owner: session.local().to_string(),
                us: local.to_string(),
            });
        }
        if session.peer() != *peer {
            return Err(RatchetError::CorruptState(format!(
                "{} holds a session with {}",
                path.display(),
                session.peer()
            )));
        }
        Ok(Some(session))
    }

    /// Writes one session atomically.
    pub fn save_session(&self, session: &Session) -> Result<(), RatchetError> {
        Self::write(&self.session_path(&session.peer()), &session.to_bytes()?)
    }

    /// The peers that have a session file.
    pub fn peers(&self) -> Result<Vec<SessionId>, RatchetError> {
        let dir = self.root.join(SESSIONS_DIR);
        let mut out = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| io_err(&dir, e))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".json").and_then(|s| SessionId::parse(s).ok()) {
                out.push(id);
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn test_state_dir_files_are_private_and_temp_files_cleaned() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("st");
        let owner = SessionId::from_x25519([1; 32]);
        {
            let dir = StateDir::open(&root).unwrap();
            let store = dir.load_prekeys(&owner).unwrap();
            dir.save_prekeys(&store).unwrap();
            let mode = fs::metadata(root.join(PREKEYS_FILE)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            fs::write(root.join(".prekeys.json.tmp.1.2"), b"half").unwrap();
        }
        let dir = StateDir::open(&root).unwrap();
        assert!(!root.join(".prekeys.json.tmp.1.2").exists());
        let other = SessionId::from_x25519([2; 32]);
        assert!(matches!(dir.load_prekeys(&other).unwrap_err(), RatchetError::StateOwner { .. }));
        fs::write(root.join(PREKEYS_FILE), b"{not json").unwrap();
        assert!(matches!(dir.load_prekeys(&owner).unwrap_err(), RatchetError::CorruptState(_)));
    }

    #[test]
    fn test_lock_excludes_a_second_process() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::open(tmp.path()).unwrap();
        let other = File::open(tmp.path().join(LOCK_FILE)).unwrap();
        assert!(other.try_lock().is_err());
        drop(dir);
        assert!(other.try_lock().is_ok());
    }

    #[test]
    fn test_default_dir_under_xdg_data_home() {
        let owner = SessionId::from_x25519([3; 32]);
        if let Some(d) = default_dir(&owner) {
            assert!(d.ends_with(format!("snkit/ratchet/{owner}")));
        }
    }
}
