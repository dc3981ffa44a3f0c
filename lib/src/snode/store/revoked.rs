//! Revoked subaccount tokens (`revoke_subaccount` / `unrevoke_subaccount`): a table of the
//! store's database, so that a revocation survives a restart and a revoked token is refused
//! until the owner unrevokes it.
//!
//! As live, each account keeps at most [`MAX_SUBACCOUNT_TOKENS`] revocations: a new one pushes
//! out the oldest, and revoking a token again makes it the newest. Unlike the live server, a
//! revocation does not depend on the account having messages stored (there, an account with
//! none had nowhere to keep it, and the revocation lapsed when its last message did).

use rusqlite::{Connection, OptionalExtension, params};

use super::writer::Change;
use super::{Res, StoreError, to_i64};
use crate::formats::keys::Pubkey;
use crate::formats::rpc::SubaccountToken;
use crate::formats::rpc::subaccount::MAX_SUBACCOUNT_TOKENS;

/// The table (schema version 2). `id` orders revocations, newest last.
pub(super) const SCHEMA_V2: &str = "
CREATE TABLE IF NOT EXISTS revoked_subaccounts (
    id        INTEGER PRIMARY KEY,
    pubkey    BLOB    NOT NULL,
    token     BLOB    NOT NULL,
    timestamp INTEGER NOT NULL,
    UNIQUE (pubkey, token)
);
";

/// Revokes tokens of one account at the request's `timestamp` (see
/// [`super::Store::revoke_async`]).
pub(super) struct Revoke {
    pub(super) pubkey: Pubkey,
    pub(super) tokens: Vec<SubaccountToken>,
    pub(super) timestamp: u64,
}

impl Change for Revoke {
    type Output = ();

    fn prepare(&self) -> Res<Option<()>> {
        to_i64("timestamp", self.timestamp)?;
        Ok(self.tokens.is_empty().then_some(()))
    }

    fn run(&self, conn: &Connection) -> Res<()> {
        let sql = StoreError::from_sqlite;
        let pk = self.pubkey.to_bytes();
        let ts = to_i64("timestamp", self.timestamp)?;
        // Delete then insert: a repeated revocation becomes the newest (a fresh id).
        let mut del = conn
            .prepare_cached("DELETE FROM revoked_subaccounts WHERE pubkey = ?1 AND token = ?2")
            .map_err(sql)?;
        let mut ins = conn
            .prepare_cached("INSERT INTO revoked_subaccounts (pubkey, token, timestamp) VALUES (?1, ?2, ?3)")
            .map_err(sql)?;
        for t in &self.tokens {
            del.execute(params![&pk[..], &t.as_bytes()[..]]).map_err(sql)?;
            ins.execute(params![&pk[..], &t.as_bytes()[..], ts]).map_err(sql)?;
        }
        conn.prepare_cached(
            "DELETE FROM revoked_subaccounts WHERE pubkey = ?1 AND id NOT IN \
             (SELECT id FROM revoked_subaccounts WHERE pubkey = ?1 ORDER BY id DESC LIMIT ?2)",
        )
        .map_err(sql)?
        .execute(params![&pk[..], MAX_SUBACCOUNT_TOKENS as i64])
        .map_err(sql)?;
        Ok(())
    }
}

/// Unrevokes tokens of one account; answers how many were revoked (see
/// [`super::Store::unrevoke_async`]).
pub(super) struct Unrevoke {
    pub(super) pubkey: Pubkey,
    pub(super) tokens: Vec<SubaccountToken>,
}

impl Change for Unrevoke {
    type Output = u64;

    fn prepare(&self) -> Res<Option<u64>> {
        Ok(self.tokens.is_empty().then_some(0))
    }

    fn run(&self, conn: &Connection) -> Res<u64> {
        let pk = self.pubkey.to_bytes();
        let mut st = conn
            .prepare_cached("DELETE FROM revoked_subaccounts WHERE pubkey = ?1 AND token = ?2")
            .map_err(StoreError::from_sqlite)?;
        let mut n = 0;
        for t in &self.tokens {
            n += st.execute(params![&pk[..], &t.as_bytes()[..]]).map_err(StoreError::from_sqlite)? as u64;
        }
        Ok(n)
    }
}

/// Whether the account has revoked the token (see [`super::Store::is_revoked`]).
pub(super) fn is_revoked(conn: &Connection, pubkey: &Pubkey, token: &SubaccountToken) -> Res<bool> {
    let found = conn
        .prepare_cached("SELECT 1 FROM revoked_subaccounts WHERE pubkey = ?1 AND token = ?2")?
        .query_row(params![&pubkey.to_bytes()[..], &token.as_bytes()[..]], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

/// The account's revoked tokens, oldest first (see [`super::Store::revoked_tokens`]).
pub(super) fn revoked_tokens(conn: &Connection, pubkey: &Pubkey) -> Res<Vec<SubaccountToken>> {
    let mut st =
        conn.prepare_cached("SELECT token FROM revoked_subaccounts WHERE pubkey = ?1 ORDER BY id")?;
    let rows = st.query_map(params![&pubkey.to_bytes()[..]], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for raw in rows {
        // A row that is not 36 bytes was not written by this code: skip it.
        if let Some(t) = SubaccountToken::from_slice(&raw?) {
            out.push(t);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::super::fixtures::{open_tmp, pk};
    use super::*;
    use crate::formats::rpc::Access;

    fn token(n: u8) -> SubaccountToken {
        SubaccountToken::new(0x05, Access::READ, &[n; 32])
    }

    #[tokio::test]
    async fn test_revoked_until_unrevoked() {
        let (_d, s) = open_tmp();
        assert!(!s.is_revoked(&pk(1), &token(1)).unwrap());
        s.revoke_async(&pk(1), vec![token(1), token(2)], 1_700_000_000_000).await.unwrap();
        assert!(s.is_revoked(&pk(1), &token(1)).unwrap());
        // Another account's revocations are its own.
        assert!(!s.is_revoked(&pk(2), &token(1)).unwrap());
        assert_eq!(s.unrevoke_async(&pk(1), vec![token(1), token(3)]).await.unwrap(), 1);
        assert!(!s.is_revoked(&pk(1), &token(1)).unwrap());
        assert!(s.is_revoked(&pk(1), &token(2)).unwrap());
        assert_eq!(s.revoked_tokens(&pk(1)).unwrap(), vec![token(2)]);
    }

    #[tokio::test]
    async fn test_revocations_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("messages.db");
        {
            let s = Store::open(&path).unwrap();
            s.revoke_async(&pk(1), vec![token(7)], 1_700_000_000_000).await.unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert!(s.is_revoked(&pk(1), &token(7)).unwrap());
    }

    #[tokio::test]
    async fn test_only_the_newest_fifty_are_kept() {
        let (_d, s) = open_tmp();
        for n in 0..MAX_SUBACCOUNT_TOKENS as u8 {
            s.revoke_async(&pk(1), vec![token(n)], 1_700_000_000_000).await.unwrap();
        }
        // Revoking the first again makes it the newest; the 51st then pushes out the second.
        s.revoke_async(&pk(1), vec![token(0)], 1_700_000_000_001).await.unwrap();
        s.revoke_async(&pk(1), vec![token(200)], 1_700_000_000_002).await.unwrap();
        assert!(s.is_revoked(&pk(1), &token(0)).unwrap());
        assert!(!s.is_revoked(&pk(1), &token(1)).unwrap());
        assert!(s.is_revoked(&pk(1), &token(2)).unwrap());
        assert!(s.is_revoked(&pk(1), &token(200)).unwrap());
    }
}
