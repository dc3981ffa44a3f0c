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
pub(crate) fn run(db: &mut Connection) -> rusqlite::Result<Cleaned> {
    let t = now();
    let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
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
    tx.commit()?;
    Ok(c)
}
