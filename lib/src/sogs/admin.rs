//! Administration from the command line (sogs.md §4, pysogs' `administration.md`): rooms,
//! moderators, permissions and API tokens, written to the server's database directly. SQLite's
//! WAL and busy timeout make this safe while the server runs; each command is one transaction.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use crate::formats::sogs::valid_room_token;
use crate::server::keys::{KEY_FILE, KeyError, NodeKeys};

use super::{db, model};

/// The `--rooms` value for global (server-wide) moderators.
pub const GLOBAL_ROOMS: &str = "+";
/// The `--rooms` value for every room.
pub const ALL_ROOMS: &str = "*";

/// Why an administration command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The data directory could not be made.
    #[error("cannot create data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    /// The key file could not be read or made.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The input is wrong (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The operation cannot be done (exit code 1).
    #[error("{0}")]
    Failed(String),
}

/// How `--add-perms`, `--remove-perms`, `--clear-perms` change the named permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermChange {
    /// Grant (`true`).
    Add,
    /// Deny (`false`).
    Remove,
    /// Back to the room default (`NULL`); without users: back to the built-in default (granted).
    Clear,
}

/// An open database of a server's data directory.
#[derive(Debug)]
pub struct Admin {
    db: Connection,
    server_pk: [u8; 32],
}

fn parse_perms(letters: &str) -> Result<Vec<&'static str>, AdminError> {
    let mut out = Vec::new();
    for c in letters.chars() {
        let p = match c {
            'r' => "read",
            'w' => "write",
            'u' => "upload",
            'a' => "accessible",
            other => {
                return Err(AdminError::Usage(format!(
                    "unknown permission letter {other:?}: use r, w, u, a"
                )));
            }
        };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.is_empty() {
        return Err(AdminError::Usage("no permission letters given (r, w, u, a)".into()));
    }
    Ok(out)
}

impl Admin {
    /// Opens the database of `dir` (made, with the server key, when new).
    pub fn open(dir: &Path) -> Result<Self, AdminError> {
        crate::net::fs::create_private_dir(dir)
            .map_err(|e| AdminError::DataDir(dir.display().to_string(), e))?;
        let keys = NodeKeys::load_or_create(&dir.join(KEY_FILE))?;
        Ok(Self { db: db::open(dir)?, server_pk: keys.x25519_public() })
    }

    fn tx(&mut self) -> Result<rusqlite::Transaction<'_>, AdminError> {
        Ok(self.db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }

    /// `--add-room TOKEN --name N --description D`.
    pub fn add_room(
        &mut self,
        token: &str,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<Value, AdminError> {
        if !valid_room_token(token) {
            return Err(AdminError::Usage(format!("room token {token:?} must be 1-64 of [A-Za-z0-9_-]")));
        }
        let tx = self.tx()?;
        if !model::add_room(&tx, token, name.unwrap_or(token), description)? {
            return Err(AdminError::Failed(format!("room {token} already exists")));
        }
        let v = room_line(&tx, token)?;
        tx.commit()?;
        Ok(v)
    }

    /// `--delete-room TOKEN`: the room and everything in it.
    pub fn delete_room(&mut self, token: &str) -> Result<Value, AdminError> {
        let tx = self.tx()?;
        let room = model::room(&tx, token)?.ok_or_else(|| AdminError::Failed(format!("no room {token}")))?;
        let messages: i64 =
            tx.query_row("SELECT COUNT(*) FROM messages WHERE room = ?", [room.id], |r| r.get(0))?;
        tx.execute("DELETE FROM rooms WHERE id = ?", [room.id])?;
        tx.commit()?;
        Ok(json!({"deleted": room.token, "messages": messages}))
    }

    fn rooms_of(tx: &Connection, rooms: &[String]) -> Result<Option<Vec<model::Room>>, AdminError> {
        if rooms.is_empty() {
            return Err(AdminError::Usage(
                "--rooms is required (TOKEN…, '*' for all, '+' for global)".into(),
            ));
        }
        if rooms.iter().any(|r| r == GLOBAL_ROOMS) {
            if rooms.len() > 1 {
                return Err(AdminError::Usage("--rooms + must stand alone".into()));
            }
            return Ok(None);
        }
        if rooms.iter().any(|r| r == ALL_ROOMS) {
            return Ok(Some(model::rooms(tx)?));
        }
        let mut out = Vec::new();
        for t in rooms {
            out.push(model::room(tx, t)?.ok_or_else(|| AdminError::Failed(format!("no room {t}")))?);
        }
        Ok(Some(out))
    }

    fn users_of(
        tx: &Connection,
        server_pk: &[u8; 32],
        sids: &[String],
    ) -> Result<Vec<model::User>, AdminError> {
        sids.iter().map(|s| model::user_for_admin(tx, s, server_pk).map_err(AdminError::Usage)).collect()
    }

    /// `--rooms … --add-moderators SID… [--admin] [--visible|--hidden]`. Visibility defaults to
    /// visible in rooms and hidden globally (as pysogs).
    pub fn add_moderators(
        &mut self,
        rooms: &[String],
        sids: &[String],
        admin: bool,
        visible: Option<bool>,
    ) -> Result<Value, AdminError> {
        let server_pk = self.server_pk;
        let tx = self.tx()?;
        let scope = Self::rooms_of(&tx, rooms)?;
        let users = Self::users_of(&tx, &server_pk, sids)?;
        let mut done = Vec::new();
        for u in &users {
            match &scope {
                None => model::set_global_mod(&tx, u.id, true, admin, visible.unwrap_or(false))?,
                Some(rs) => {
                    for r in rs {
                        model::set_room_mod(&tx, r.id, u.id, admin, visible.unwrap_or(true))?;
                    }
                }
            }
            done.push(u.session_id.clone());
        }
        tx.commit()?;
        let where_ =
            scope.map_or(json!("global"), |rs| json!(rs.iter().map(|r| r.token.clone()).collect::<Vec<_>>()));
        Ok(json!({"added": done, "rooms": where_, "admin": admin}))
    }

    /// `--rooms … --delete-moderators SID…`.
    pub fn delete_moderators(&mut self, rooms: &[String], sids: &[String]) -> Result<Value, AdminError> {
        let server_pk = self.server_pk;
        let tx = self.tx()?;
        let scope = Self::rooms_of(&tx, rooms)?;
        let users = Self::users_of(&tx, &server_pk, sids)?;
        for u in &users {
            match &scope {
                None => model::set_global_mod(&tx, u.id, false, false, false)?,
                Some(rs) => {
                    for r in rs {
                        model::remove_room_mod(&tx, r.id, u.id, false)?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(json!({"removed": users.iter().map(|u| u.session_id.clone()).collect::<Vec<_>>()}))
    }

    /// `--add-perms/--remove-perms/--clear-perms LETTERS --rooms … [--users SID…]`: per-user
    /// overrides, or (without users) the rooms' defaults.
    pub fn perms(
        &mut self,
        rooms: &[String],
        sids: &[String],
        letters: &str,
        change: PermChange,
    ) -> Result<Value, AdminError> {
        let cols = parse_perms(letters)?;
        let server_pk = self.server_pk;
        let tx = self.tx()?;
        let scope = Self::rooms_of(&tx, rooms)?
            .ok_or_else(|| AdminError::Usage("permissions are per room: --rooms TOKEN… or '*'".into()))?;
        let users = Self::users_of(&tx, &server_pk, sids)?;
        let value = match change {
            PermChange::Add => Some(true),
            PermChange::Remove => Some(false),
            PermChange::Clear => None,
        };
        for r in &scope {
            if users.is_empty() {
                for c in &cols {
                    tx.execute(
                        &format!("UPDATE rooms SET {c} = ? WHERE id = ?"),
                        params![value.unwrap_or(true), r.id],
                    )?;
                }
                model::bump_info(&tx, r.id)?;
            }
            for u in &users {
                let mut set = [None; 4];
                for (i, k) in ["read", "accessible", "write", "upload"].iter().enumerate() {
                    if cols.contains(k) {
                        set[i] = Some(value);
                    }
                }
                model::set_perms(&tx, r.id, u.id, set)?;
            }
        }
        tx.commit()?;
        Ok(json!({
            "rooms": scope.iter().map(|r| r.token.clone()).collect::<Vec<_>>(),
            "users": users.iter().map(|u| u.session_id.clone()).collect::<Vec<_>>(),
            "perms": cols,
            "change": format!("{change:?}").to_lowercase(),
        }))
    }

    /// `-L/--list-rooms`.
    pub fn list_rooms(&mut self) -> Result<Value, AdminError> {
        let rooms = model::rooms(&self.db)?;
        let mut out = Vec::new();
        for r in rooms {
            out.push(room_line(&self.db, &r.token)?);
        }
        Ok(json!({"rooms": out}))
    }

    /// `-M/--list-global-mods`.
    pub fn list_global_mods(&mut self) -> Result<Value, AdminError> {
        let mut st = self.db.prepare(
            "SELECT session_id, admin, visible_mod FROM users WHERE moderator OR admin ORDER BY admin DESC, session_id",
        )?;
        let mods: Vec<Value> = st
            .query_map([], |r| {
                Ok(json!({"session_id": r.get::<_, String>(0)?, "admin": r.get::<_, bool>(1)?, "visible": r.get::<_, bool>(2)?}))
            })?
            .collect::<Result<_, _>>()?;
        Ok(json!({"global_moderators": mods}))
    }

    /// `--add-token NAME`: a fresh random token, shown once; only its hash is stored.
    pub fn add_token(&mut self, name: &str) -> Result<Value, AdminError> {
        if name.is_empty() {
            return Err(AdminError::Usage("a token needs a name".into()));
        }
        let mut raw = zeroize::Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, raw.as_mut());
        let token = zeroize::Zeroizing::new(hex::encode(raw.as_ref()));
        let n = self.db.execute(
            "INSERT OR IGNORE INTO api_tokens (name, hash, created) VALUES (?, ?, ?)",
            params![name, super::rest::token_hash(&token), db::now()],
        )?;
        if n == 0 {
            return Err(AdminError::Failed(format!("a token named {name} exists; revoke it first")));
        }
        Ok(json!({"name": name, "token": token.as_str()}))
    }

    /// `--revoke-token NAME`.
    pub fn revoke_token(&mut self, name: &str) -> Result<Value, AdminError> {
        let n = self.db.execute("DELETE FROM api_tokens WHERE name = ?", [name])?;
        if n == 0 {
            return Err(AdminError::Failed(format!("no token named {name}")));
        }
        Ok(json!({"revoked": name}))
    }
}

fn room_line(db: &Connection, token: &str) -> Result<Value, AdminError> {
    let r = model::room(db, token)?.ok_or_else(|| AdminError::Failed(format!("no room {token}")))?;
    let messages: i64 =
        db.query_row("SELECT COUNT(*) FROM messages WHERE room = ? AND data IS NOT NULL", [r.id], |x| {
            x.get(0)
        })?;
    let mods = model::mods(db, r.id)?;
    let image: Option<i64> =
        db.query_row("SELECT image FROM rooms WHERE id = ?", [r.id], |x| x.get(0)).optional()?.flatten();
    let [read, accessible, write, upload] = r.defaults;
    Ok(json!({
        "token": r.token, "name": r.name, "description": r.description, "created": r.created,
        "messages": messages, "image_id": image,
        "moderators": mods.iter().filter(|m| !m.1).map(|m| m.0.clone()).collect::<Vec<_>>(),
        "admins": mods.iter().filter(|m| m.1).map(|m| m.0.clone()).collect::<Vec<_>>(),
        "default_read": read, "default_accessible": accessible, "default_write": write, "default_upload": upload,
    }))
}
