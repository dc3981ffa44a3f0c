//! Files that hold secrets or state: created 0600, written atomically, never half-written.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Mode of every file holding a secret or private state.
pub const SECRET_FILE_MODE: u32 = 0o600;

/// Creates a new file with mode 0600 holding `bytes`; refuses to overwrite an existing file.
/// The content is written to a temporary file first, so a crash never leaves a partial key file.
pub fn write_new_secret(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if path.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} already exists", path.display()),
        ));
    }
    let tmp = temp_path(path);
    write_synced(&tmp, bytes)?;
    // hard_link fails if the target exists, so a racing writer cannot be overwritten.
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    linked?;
    sync_parent(path)
}

/// Replaces `path` atomically with `bytes` (mode 0600): write a temp file, fsync, rename,
/// fsync the directory. Readers see the old content or the new one, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path);
    if let Err(e) = write_synced(&tmp, bytes) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, path)?;
    sync_parent(path)
}

/// Creates a directory (and parents) with mode 0700, for state that holds secrets.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().recursive(true).mode(0o700).create(path)
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file: File = OpenOptions::new().write(true).create_new(true).mode(SECRET_FILE_MODE).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn temp_path(path: &Path) -> std::path::PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let unique = format!(".{name}.tmp.{}.{}", std::process::id(), rand::random::<u32>());
    path.with_file_name(unique)
}

fn sync_parent(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

/// Runs `f` holding an exclusive advisory lock (`flock`) on `lock_path` (created 0600 if
/// missing), so load-modify-save of a state file by several processes loses no update. The lock
/// is released when the file closes, also if `f` panics or the process dies.
pub fn with_lock<T>(lock_path: &Path, f: impl FnOnce() -> T) -> io::Result<T> {
    let lock = OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(lock_path)?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)?;
    let out = f();
    drop(lock);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn new_secret_is_0600_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("id.json");
        write_new_secret(&p, b"one").unwrap();
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(write_new_secret(&p, b"two").is_err());
        assert_eq!(fs::read(&p).unwrap(), b"one");
    }

    #[test]
    fn atomic_write_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state");
        write_atomic(&p, b"a").unwrap();
        write_atomic(&p, b"b").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"b");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
