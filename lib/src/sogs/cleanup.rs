//! The periodic clean-up (pysogs `cleanup.py`): expired files and DMs, nonces past their window,
//! expired room and global bans, and scheduled permission changes whose time has come.

use rusqlite::{Connection, params};

use crate::formats::sogs::TIMESTAMP_SKEW_S;

use super::db::now;

/// How long a nonce is remembered: a request's timestamp may be up to [`TIMESTAMP_SKEW_S`] in the
/// future and is accepted for as long again, so a replay is refused for the whole window.
pub(crate) const NONCE_KEEP_S: f64 = 2.0 * TIMESTAMP_SKEW_S as f64;

/// What one clean-up round removed or applied.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Cleaned {
    /// Expired files removed.
    pub(crate) files: usize,
    /// Expired DMs removed.
    pub(crate) dms: usize,
    /// Old nonces removed.
    pub(crate) nonces: usize,
    /// Bans lifted.
    pub(crate) unbans: usize,
    /// Scheduled permission changes applied.
    pub(crate) futures: usize,
}

impl Cleaned {
    /// Whether anything happened.
    pub(crate) fn any(&self) -> bool {
        self.files + self.dms + self.nonces + self.unbans + self.futures > 0
    }
}

/// One round, in one transaction.
#[cfg(test)]
pub(crate) fn run(db: &mut Connection) -> rusqlite::Result<Cleaned> {
    let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let c = round(&tx)?;
    tx.commit()?;
    Ok(c)
}

/// One round inside the caller's transaction (the server's: a writer job in a savepoint).
pub(crate) fn round(tx: &Connection) -> rusqlite::Result<Cleaned> {
    let t = now();
    let mut c = Cleaned {
        files: tx.execute("DELETE FROM files WHERE expiry IS NOT NULL AND expiry <= ?", [t])?,
        dms: tx.execute("DELETE FROM inbox WHERE expires_at <= ?", [t])?,
        nonces: tx.execute("DELETE FROM nonces WHERE at <= ?", [t - NONCE_KEEP_S])?,
        ..Cleaned::default()
    };
    c.unbans = tx.execute(
        "UPDATE user_permission_overrides SET banned = 0, banned_until = NULL WHERE banned AND banned_until <= ?",
        [t],
    )? + tx.execute("UPDATE users SET banned = 0, banned_until = NULL WHERE banned AND banned_until <= ?", [t])?;
    let due: Vec<(i64, i64, i64, [Option<bool>; 4])> = {
        let mut st = tx.prepare(
            "SELECT id, room, user, read, accessible, write, upload FROM user_permission_futures WHERE at <= ? ORDER BY at",
        )?;
        st.query_map([t], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, [r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?]))
        })?
        .collect::<Result<_, _>>()?
    };
    for (id, room, user, vals) in due {
        tx.execute(
            "INSERT OR IGNORE INTO user_permission_overrides (room, user) VALUES (?, ?)",
            params![room, user],
        )?;
        for (col, v) in ["read", "accessible", "write", "upload"].iter().zip(vals) {
            if let Some(v) = v {
                tx.execute(
                    &format!("UPDATE user_permission_overrides SET {col} = ? WHERE room = ? AND user = ?"),
                    params![v, room, user],
                )?;
            }
        }
        tx.execute("DELETE FROM user_permission_futures WHERE id = ?", [id])?;
        c.futures += 1;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_files_dms_nonces_and_bans_go_and_due_futures_apply() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = super::super::db::open(dir.path()).unwrap();
        let t = now();
        db.execute_batch(&format!(
            "INSERT INTO rooms (id, token, name, created) VALUES (1, 'r', 'R', {t});
             INSERT INTO users (id, session_id, created, last_active) VALUES (1, 'a', {t}, {t}), (2, 'b', {t}, {t});
             INSERT INTO files (room, size, uploaded, expiry, data) VALUES (1, 1, {t}, {old}, x'00'), (1, 1, {t}, NULL, x'00'),
                 (1, 1, {t}, {later}, x'00');
             INSERT INTO inbox (recipient, sender, body, posted_at, expires_at) VALUES (1, 2, x'00', {t}, {old});
             INSERT INTO nonces (nonce, at) VALUES (x'01', {ancient}), (x'02', {t});
             INSERT INTO user_permission_overrides (room, user, banned, banned_until) VALUES (1, 1, 1, {old});
             INSERT INTO user_permission_futures (room, user, at, write) VALUES (1, 2, {old}, 0), (1, 2, {later}, 1);",
            old = t - 1.0,
            later = t + 3600.0,
            ancient = t - NONCE_KEEP_S - 1.0,
        ))
        .unwrap();
        let c = run(&mut db).unwrap();
        assert_eq!((c.files, c.dms, c.nonces, c.unbans, c.futures), (1, 1, 1, 1, 1));
        let files: i64 = db.query_row("SELECT COUNT(*) FROM files", [], |r| r.get(0)).unwrap();
        assert_eq!(files, 2, "a never-expiring (pinned, image) file and an unexpired one stay");
        let write: Option<bool> = db
            .query_row("SELECT write FROM user_permission_overrides WHERE user = 2", [], |r| r.get(0))
            .unwrap();
        assert_eq!(write, Some(false));
        let left: i64 =
            db.query_row("SELECT COUNT(*) FROM user_permission_futures", [], |r| r.get(0)).unwrap();
        assert_eq!(left, 1);
        assert!(!run(&mut db).unwrap().any());
    }
}
