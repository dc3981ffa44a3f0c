//! The community server's rules over its database: users (and the `05`→`15` carry-over), rooms,
//! permissions, moderators and bans. Functions take the connection of the caller's transaction;
//! none commits on its own.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value, json};

use crate::formats::blinding::blind15_ids;
use crate::formats::identity::SessionId;

use super::db::{Cached, now};

/// How long a user counts as active in a room (pysogs' default: 7 days).
pub(crate) const ACTIVE_THRESHOLD_S: f64 = 7.0 * 86400.0;
/// A user's room activity is rewritten at most this often (a poll is then read-only).
pub(crate) const ACTIVITY_GRANULARITY_S: f64 = 60.0;

/// A user as the rules see them.
#[derive(Debug, Clone)]
pub(crate) struct User {
    /// Row id.
    pub(crate) id: i64,
    /// `15…`, `25…` or `05…` (unblinded, or named by an admin).
    pub(crate) session_id: String,
    /// Global moderator.
    pub(crate) moderator: bool,
    /// Global admin.
    pub(crate) admin: bool,
    /// Globally banned now.
    pub(crate) banned: bool,
}

/// A room's row.
#[derive(Debug, Clone)]
pub(crate) struct Room {
    /// Row id.
    pub(crate) id: i64,
    /// The token as created.
    pub(crate) token: String,
    /// Display name.
    pub(crate) name: String,
    /// Description, if any.
    pub(crate) description: Option<String>,
    /// Room image file id.
    pub(crate) image: Option<i64>,
    /// Creation time.
    pub(crate) created: f64,
    /// Grows with each post, edit, deletion and reaction change.
    pub(crate) message_sequence: i64,
    /// Grows with each info change.
    pub(crate) info_updates: i64,
    /// Defaults of the four permissions.
    pub(crate) defaults: [bool; 4],
}

/// What one user may do in one room.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Perms {
    /// May read messages.
    pub(crate) read: bool,
    /// May see the room (and react) even without read.
    pub(crate) accessible: bool,
    /// May post.
    pub(crate) write: bool,
    /// May upload files.
    pub(crate) upload: bool,
    /// Banned from the room (or globally).
    pub(crate) banned: bool,
    /// Moderator (room or global).
    pub(crate) moderator: bool,
    /// Admin (room or global).
    pub(crate) admin: bool,
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let t = now();
    let banned: bool = r.get(4)?;
    let until: Option<f64> = r.get(5)?;
    Ok(User {
        id: r.get(0)?,
        session_id: r.get(1)?,
        moderator: r.get(2)?,
        admin: r.get(3)?,
        banned: banned && until.is_none_or(|u| u > t),
    })
}

const USER_COLS: &str = "id, session_id, moderator, admin, banned, banned_until";

/// The user with `session_id`, if known.
pub(crate) fn find_user(db: &Connection, session_id: &str) -> rusqlite::Result<Option<User>> {
    db.row(&format!("SELECT {USER_COLS} FROM users WHERE session_id = ?"), [session_id], user_from_row)
        .optional()
}

/// The blinded15 key hex with the sign bit cleared: both candidates of a 05 ID map to it.
fn blinded_abs(id15: &str) -> String {
    let mut b = id15.to_ascii_lowercase().into_bytes();
    // hex char 64 holds the high nibble of the last byte, whose top bit is the sign.
    if let Some(c) = b.get_mut(64) {
        let v = (*c as char).to_digit(16).unwrap_or(0) & 0x7;
        *c = char::from_digit(v, 16).map_or(b'0', |ch| ch as u8);
    }
    String::from_utf8(b).unwrap_or_default()
}

/// The user with `session_id`, made when new. A new `15` user takes over the rows an admin gave
/// its `05` ID (the carry-over of sogs.md §1).
pub(crate) fn get_or_create_user(db: &Connection, session_id: &str) -> rusqlite::Result<User> {
    if let Some(u) = find_user(db, session_id)? {
        return Ok(u);
    }
    let t = now();
    db.exec(
        "INSERT INTO users (session_id, created, last_active) VALUES (?, ?, ?)",
        params![session_id, t, t],
    )?;
    let id = db.last_insert_rowid();
    if session_id.starts_with("15") {
        let abs = blinded_abs(session_id);
        let old: Option<i64> = db
            .query_row("SELECT user FROM needs_blinding WHERE blinded_abs = ?", [&abs], |r| r.get(0))
            .optional()?;
        if let Some(old) = old {
            carry_over(db, old, id)?;
            db.exec("DELETE FROM needs_blinding WHERE blinded_abs = ?", [&abs])?;
            tracing::info!(blinded = session_id, "admin-given 05 rows moved to the blinded user");
        }
    }
    find_user(db, session_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// Moves global flags, room overrides and futures from the 05 user `old` to the 15 user `new`.
fn carry_over(db: &Connection, old: i64, new: i64) -> rusqlite::Result<()> {
    db.exec(
        "UPDATE users SET (moderator, admin, visible_mod, banned, banned_until) =
            (SELECT moderator, admin, visible_mod, banned, banned_until FROM users WHERE id = ?1)
         WHERE id = ?2",
        params![old, new],
    )?;
    db.exec("UPDATE OR IGNORE user_permission_overrides SET user = ?2 WHERE user = ?1", params![old, new])?;
    db.exec("UPDATE user_permission_futures SET user = ?2 WHERE user = ?1", params![old, new])?;
    db.exec(
        "UPDATE users SET moderator = 0, admin = 0, visible_mod = 0, banned = 0, banned_until = NULL WHERE id = ?",
        [old],
    )?;
    Ok(())
}

/// The user an admin names by `sid`: a `05` ID on a blinding server is resolved to its `15` user
/// when that user is already known, and otherwise kept as the `05` user with a carry-over row.
pub(crate) fn user_for_admin(db: &Connection, sid: &str, server_pk: &[u8; 32]) -> Result<User, String> {
    let sid = sid.trim().to_ascii_lowercase();
    let parse_err = || format!("{sid} is not a Session ID (05…) or blinded ID (15…/25…)");
    if sid.len() != 66 || hex::decode(&sid).is_err() {
        return Err(parse_err());
    }
    let e = |e: rusqlite::Error| e.to_string();
    match &sid[..2] {
        "15" | "25" => get_or_create_user(db, &sid).map_err(e),
        "05" => {
            let parsed = SessionId::parse(&sid).map_err(|_| parse_err())?;
            let ids = blind15_ids(&parsed, server_pk).map_err(|x| x.to_string())?;
            for cand in [ids.positive.to_string(), ids.flipped.to_string()] {
                if let Some(u) = find_user(db, &cand).map_err(e)? {
                    return Ok(u);
                }
            }
            let user = get_or_create_user(db, &sid).map_err(e)?;
            db.exec(
                "INSERT OR REPLACE INTO needs_blinding (blinded_abs, user) VALUES (?, ?)",
                params![blinded_abs(&ids.positive.to_string()), user.id],
            )
            .map_err(e)?;
            Ok(user)
        }
        _ => Err(parse_err()),
    }
}

fn room_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Room> {
    Ok(Room {
        id: r.get(0)?,
        token: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        image: r.get(4)?,
        created: r.get(5)?,
        message_sequence: r.get(6)?,
        info_updates: r.get(7)?,
        defaults: [r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?],
    })
}

const ROOM_COLS: &str = "id, token, name, description, image, created, message_sequence, info_updates, read, accessible, write, upload";

/// The room with `token` (case-insensitive).
pub(crate) fn room(db: &Connection, token: &str) -> rusqlite::Result<Option<Room>> {
    db.row(&format!("SELECT {ROOM_COLS} FROM rooms WHERE token = ?"), [token], room_from_row).optional()
}

/// Every room, by token.
pub(crate) fn rooms(db: &Connection) -> rusqlite::Result<Vec<Room>> {
    let mut st = db.prepare(&format!("SELECT {ROOM_COLS} FROM rooms ORDER BY token"))?;
    st.query_map([], room_from_row)?.collect()
}

/// Makes a room; `false` if the token is taken.
pub(crate) fn add_room(
    db: &Connection,
    token: &str,
    name: &str,
    description: Option<&str>,
) -> rusqlite::Result<bool> {
    let n = db.exec(
        "INSERT OR IGNORE INTO rooms (token, name, description, created) VALUES (?, ?, ?, ?)",
        params![token, name, description, now()],
    )?;
    Ok(n == 1)
}

/// Bumps a room's `info_updates`.
pub(crate) fn bump_info(db: &Connection, room: i64) -> rusqlite::Result<()> {
    db.exec("UPDATE rooms SET info_updates = info_updates + 1 WHERE id = ?", [room])?;
    Ok(())
}

/// Bumps every room's `info_updates` (a global moderator changed).
pub(crate) fn bump_info_all(db: &Connection) -> rusqlite::Result<()> {
    db.exec("UPDATE rooms SET info_updates = info_updates + 1", [])?;
    Ok(())
}

/// Takes the room's next message sequence number.
pub(crate) fn next_seqno(db: &Connection, room: i64) -> rusqlite::Result<i64> {
    db.row(
        "UPDATE rooms SET message_sequence = message_sequence + 1 WHERE id = ? RETURNING message_sequence",
        [room],
        |r| r.get(0),
    )
}

/// The effective permissions of `user` (or of anonymous) in `room`.
pub(crate) fn perms(db: &Connection, room: &Room, user: Option<&User>) -> rusqlite::Result<Perms> {
    let [dr, da, dw, du] = room.defaults;
    let Some(user) = user else {
        return Ok(Perms { read: dr, accessible: da || dr, write: false, upload: false, ..Perms::default() });
    };
    type Row = (bool, Option<f64>, Option<bool>, Option<bool>, Option<bool>, Option<bool>, bool, bool);
    let o: Option<Row> = db
        .query_row(
            "SELECT banned, banned_until, read, accessible, write, upload, moderator, admin
             FROM user_permission_overrides WHERE room = ? AND user = ?",
            params![room.id, user.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
        )
        .optional()?;
    let (banned, until, r, a, w, u, m, ad) = o.unwrap_or((false, None, None, None, None, None, false, false));
    let admin = ad || user.admin;
    let moderator = admin || m || user.moderator;
    if moderator {
        return Ok(Perms {
            read: true,
            accessible: true,
            write: true,
            upload: true,
            banned: false,
            moderator,
            admin,
        });
    }
    let banned = user.banned || (banned && until.is_none_or(|t| t > now()));
    if banned {
        return Ok(Perms { banned: true, ..Perms::default() });
    }
    let read = r.unwrap_or(dr);
    let write = w.unwrap_or(dw);
    Ok(Perms {
        read,
        accessible: read || a.unwrap_or(da),
        write,
        upload: u.unwrap_or(du),
        banned: false,
        moderator: false,
        admin: false,
    })
}

/// Records that `user` was active in `room` (at most every [`ACTIVITY_GRANULARITY_S`]).
/// On a read-only connection it only looks: when a write is due, the write fails with
/// `SQLITE_READONLY` and the request is run again on the writer.
pub(crate) fn touch_room(db: &Connection, room: i64, user: i64) -> rusqlite::Result<()> {
    let t = now();
    if db.is_readonly(rusqlite::DatabaseName::Main)? {
        let fresh: Option<bool> = db
            .query_row(
                "SELECT last_active >= ?3 - ?4 FROM room_users WHERE room = ?1 AND user = ?2",
                params![room, user, t, ACTIVITY_GRANULARITY_S],
                |r| r.get(0),
            )
            .optional()?;
        if fresh == Some(true) {
            return Ok(());
        }
    }
    db.exec(
        "INSERT INTO room_users (room, user, last_active) VALUES (?1, ?2, ?3)
         ON CONFLICT (room, user) DO UPDATE SET last_active = ?3 WHERE last_active < ?3 - ?4",
        params![room, user, t, ACTIVITY_GRANULARITY_S],
    )?;
    Ok(())
}

/// Users active in the room in the last [`ACTIVE_THRESHOLD_S`].
pub(crate) fn active_users(db: &Connection, room: i64) -> rusqlite::Result<i64> {
    db.row(
        "SELECT COUNT(*) FROM room_users WHERE room = ? AND last_active > ?",
        params![room, now() - ACTIVE_THRESHOLD_S],
        |r| r.get(0),
    )
}

/// Room moderators: (session_id, admin, visible), room rows and global mods together.
pub(crate) fn mods(db: &Connection, room: i64) -> rusqlite::Result<Vec<(String, bool, bool)>> {
    let mut st = db.prepare(
        "SELECT u.session_id, o.admin, o.visible_mod FROM user_permission_overrides o JOIN users u ON u.id = o.user
           WHERE o.room = ?1 AND (o.moderator OR o.admin)
         UNION ALL
         SELECT session_id, admin, visible_mod FROM users WHERE (moderator OR admin)
           AND id NOT IN (SELECT user FROM user_permission_overrides WHERE room = ?1 AND (moderator OR admin))
         ORDER BY 1",
    )?;
    st.query_map([room], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect()
}

/// Makes `user` a moderator (or admin) of `room`, visible or hidden.
pub(crate) fn set_room_mod(
    db: &Connection,
    room: i64,
    user: i64,
    admin: bool,
    visible: bool,
) -> rusqlite::Result<()> {
    db.exec(
        "INSERT INTO user_permission_overrides (room, user, moderator, admin, visible_mod) VALUES (?1, ?2, 1, ?3, ?4)
         ON CONFLICT (room, user) DO UPDATE SET moderator = 1, admin = ?3, visible_mod = ?4",
        params![room, user, admin, visible],
    )?;
    bump_info(db, room)
}

/// Removes `user`'s moderator (and admin) rights in `room`, or only admin with `admin_only`.
pub(crate) fn remove_room_mod(
    db: &Connection,
    room: i64,
    user: i64,
    admin_only: bool,
) -> rusqlite::Result<()> {
    let sql = if admin_only {
        "UPDATE user_permission_overrides SET admin = 0 WHERE room = ? AND user = ?"
    } else {
        "UPDATE user_permission_overrides SET moderator = 0, admin = 0 WHERE room = ? AND user = ?"
    };
    db.exec(sql, params![room, user])?;
    bump_info(db, room)
}

/// Sets or clears global moderator/admin rights.
pub(crate) fn set_global_mod(
    db: &Connection,
    user: i64,
    moderator: bool,
    admin: bool,
    visible: bool,
) -> rusqlite::Result<()> {
    db.exec(
        "UPDATE users SET moderator = ?, admin = ?, visible_mod = ? WHERE id = ?",
        params![moderator || admin, admin, visible, user],
    )?;
    bump_info_all(db)
}

/// Bans `user` from `room` (until `until`, or for good).
pub(crate) fn ban_room(db: &Connection, room: i64, user: i64, until: Option<f64>) -> rusqlite::Result<()> {
    db.exec(
        "INSERT INTO user_permission_overrides (room, user, banned, banned_until) VALUES (?1, ?2, 1, ?3)
         ON CONFLICT (room, user) DO UPDATE SET banned = 1, banned_until = ?3",
        params![room, user, until],
    )?;
    Ok(())
}

/// Lifts a room ban.
pub(crate) fn unban_room(db: &Connection, room: i64, user: i64) -> rusqlite::Result<()> {
    db.exec(
        "UPDATE user_permission_overrides SET banned = 0, banned_until = NULL WHERE room = ? AND user = ?",
        params![room, user],
    )?;
    Ok(())
}

/// Sets or lifts a global ban.
pub(crate) fn ban_global(
    db: &Connection,
    user: i64,
    banned: bool,
    until: Option<f64>,
) -> rusqlite::Result<()> {
    db.exec("UPDATE users SET banned = ?, banned_until = ? WHERE id = ?", params![banned, until, user])?;
    Ok(())
}

/// Sets per-user overrides in a room (each `None` leaves that one as it is; `Some(None)` clears
/// it back to the room default).
pub(crate) fn set_perms(
    db: &Connection,
    room: i64,
    user: i64,
    set: [Option<Option<bool>>; 4],
) -> rusqlite::Result<()> {
    db.exec(
        "INSERT OR IGNORE INTO user_permission_overrides (room, user) VALUES (?, ?)",
        params![room, user],
    )?;
    for (col, v) in ["read", "accessible", "write", "upload"].iter().zip(set) {
        if let Some(v) = v {
            db.exec(
                &format!("UPDATE user_permission_overrides SET {col} = ? WHERE room = ? AND user = ?"),
                params![v, room, user],
            )?;
        }
    }
    Ok(())
}

/// Every override row of a room as JSON: `{session_id: {banned, read, ...}}` (only set fields).
pub(crate) fn overrides_json(
    db: &Connection,
    room: i64,
    only_user: Option<i64>,
) -> rusqlite::Result<Map<String, Value>> {
    let mut st = db.prepare(
        "SELECT u.session_id, o.banned, o.banned_until, o.read, o.accessible, o.write, o.upload, o.moderator, o.admin
         FROM user_permission_overrides o JOIN users u ON u.id = o.user
         WHERE o.room = ?1 AND (?2 IS NULL OR o.user = ?2) ORDER BY u.session_id",
    )?;
    let rows = st.query_map(params![room, only_user], |r| {
        let mut m = Map::new();
        let banned: bool = r.get(1)?;
        if banned {
            m.insert("banned".into(), json!(true));
            if let Some(t) = r.get::<_, Option<f64>>(2)? {
                m.insert("banned_until".into(), json!(t));
            }
        }
        for (i, k) in ["read", "accessible", "write", "upload"].iter().enumerate() {
            if let Some(v) = r.get::<_, Option<bool>>(3 + i)? {
                m.insert((*k).into(), json!(v));
            }
        }
        if r.get::<_, bool>(7)? {
            m.insert("moderator".into(), json!(true));
        }
        if r.get::<_, bool>(8)? {
            m.insert("admin".into(), json!(true));
        }
        Ok((r.get::<_, String>(0)?, Value::Object(m)))
    })?;
    let mut out = Map::new();
    for row in rows {
        let (k, v) = row?;
        if v.as_object().is_some_and(|o| !o.is_empty()) {
            out.insert(k, v);
        }
    }
    Ok(out)
}

/// Room info as `GET /room/{t}` answers it, for `user`.
pub(crate) fn room_json(
    db: &Connection,
    room: &Room,
    user: Option<&User>,
    p: &Perms,
) -> rusqlite::Result<Value> {
    let mut mods = Vec::new();
    let mut admins = Vec::new();
    let mut hmods = Vec::new();
    let mut hadmins = Vec::new();
    for (sid, admin, visible) in self::mods(db, room.id)? {
        match (admin, visible) {
            (true, true) => admins.push(sid),
            (false, true) => mods.push(sid),
            (true, false) => hadmins.push(sid),
            (false, false) => hmods.push(sid),
        }
    }
    let mut m = Map::new();
    m.insert("token".into(), json!(room.token));
    m.insert("name".into(), json!(room.name));
    m.insert("info_updates".into(), json!(room.info_updates));
    m.insert("message_sequence".into(), json!(room.message_sequence));
    m.insert("created".into(), json!(room.created));
    m.insert("active_users".into(), json!(active_users(db, room.id)?));
    m.insert("active_users_cutoff".into(), json!(ACTIVE_THRESHOLD_S as i64));
    m.insert("moderators".into(), json!(mods));
    m.insert("admins".into(), json!(admins));
    m.insert("read".into(), json!(p.read));
    m.insert("write".into(), json!(p.write));
    m.insert("upload".into(), json!(p.upload));
    if let Some(d) = &room.description {
        m.insert("description".into(), json!(d));
    }
    if let Some(i) = room.image {
        m.insert("image_id".into(), json!(i));
    }
    let pinned = pinned_json(db, room.id)?;
    if !pinned.is_empty() {
        m.insert("pinned_messages".into(), Value::Array(pinned));
    }
    if p.moderator {
        if !hmods.is_empty() {
            m.insert("hidden_moderators".into(), json!(hmods));
        }
        if !hadmins.is_empty() {
            m.insert("hidden_admins".into(), json!(hadmins));
        }
        m.insert("moderator".into(), json!(true));
        let [dr, da, dw, du] = room.defaults;
        m.insert("default_read".into(), json!(dr));
        m.insert("default_accessible".into(), json!(da));
        m.insert("default_write".into(), json!(dw));
        m.insert("default_upload".into(), json!(du));
    }
    if p.admin {
        m.insert("admin".into(), json!(true));
    }
    if let Some(u) = user {
        if u.moderator {
            m.insert("global_moderator".into(), json!(true));
        }
        if u.admin {
            m.insert("global_admin".into(), json!(true));
        }
    }
    Ok(Value::Object(m))
}

/// `[{id, pinned_at, pinned_by}]` in pinning order.
pub(crate) fn pinned_json(db: &Connection, room: i64) -> rusqlite::Result<Vec<Value>> {
    let mut st = db.prepare(
        "SELECT p.message, p.pinned_at, u.session_id FROM pinned_messages p JOIN users u ON u.id = p.pinned_by
         WHERE p.room = ? ORDER BY p.pinned_at",
    )?;
    st.query_map([room], |r| {
        Ok(json!({"id": r.get::<_, i64>(0)?, "pinned_at": r.get::<_, f64>(1)?, "pinned_by": r.get::<_, String>(2)?}))
    })?
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::blinding::BlindedKeypair;
    use crate::formats::identity::Identity;

    const SERVER: &str = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let db = super::super::db::open(dir.path()).unwrap();
        (dir, db)
    }

    #[test]
    fn both_blind15_candidates_map_to_one_key_without_the_sign_bit() {
        // identity.md §3: seed2's real key is the negated candidate (…0564 7d vs …0564 fd).
        let a = "1561e070286ff7a71f167e92b18c709882b148d8238c8872caf414b301ba0564fd";
        let b = "1561e070286ff7a71f167e92b18c709882b148d8238c8872caf414b301ba05647d";
        assert_eq!(blinded_abs(a), blinded_abs(b));
        assert_eq!(blinded_abs(b), b);
    }

    #[test]
    fn an_admin_given_05_id_carries_over_to_the_real_15_user_of_either_sign() {
        let pk: [u8; 32] = hex::decode(SERVER).unwrap().try_into().unwrap();
        for seed in [
            "fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122",
            "8659efdcbe0949e0f81141e6d397e8be75f45d09262f209d5950e97989eb43c7",
        ] {
            let (_d, db) = db();
            assert!(add_room(&db, "r", "R", None).unwrap());
            let room = room(&db, "r").unwrap().unwrap();
            let id = Identity::from_seed(&hex::decode(seed).unwrap()).unwrap();
            let old = user_for_admin(&db, &id.session_id().to_string(), &pk).unwrap();
            assert!(old.session_id.starts_with("05"));
            set_room_mod(&db, room.id, old.id, true, true).unwrap();
            set_global_mod(&db, old.id, true, false, false).unwrap();
            let real = BlindedKeypair::blind15(&id, &pk).unwrap().id().to_string();
            let user = get_or_create_user(&db, &real).unwrap();
            assert!(user.moderator, "global flag carried over");
            let p = perms(&db, &room, Some(&user)).unwrap();
            assert!(p.admin && p.moderator, "room admin row carried over");
            let old_now = find_user(&db, &old.session_id).unwrap().unwrap();
            assert!(!old_now.moderator);
            // A second admin action on the 05 ID now reaches the 15 user directly.
            let again = user_for_admin(&db, &id.session_id().to_string(), &pk).unwrap();
            assert_eq!(again.id, user.id);
        }
    }

    #[test]
    fn permissions_follow_defaults_overrides_bans_and_roles() {
        let (_d, db) = db();
        add_room(&db, "r", "R", None).unwrap();
        let r = room(&db, "r").unwrap().unwrap();
        let u = get_or_create_user(&db, &format!("15{}", "11".repeat(32))).unwrap();
        let p = perms(&db, &r, Some(&u)).unwrap();
        assert!(p.read && p.write && p.upload && !p.moderator);
        let anon = perms(&db, &r, None).unwrap();
        assert!(anon.read && !anon.write);
        set_perms(&db, r.id, u.id, [None, None, Some(Some(false)), None]).unwrap();
        assert!(!perms(&db, &r, Some(&u)).unwrap().write);
        set_perms(&db, r.id, u.id, [None, None, Some(None), None]).unwrap();
        assert!(perms(&db, &r, Some(&u)).unwrap().write, "null is back to the default");
        ban_room(&db, r.id, u.id, Some(now() - 1.0)).unwrap();
        assert!(!perms(&db, &r, Some(&u)).unwrap().banned, "an expired ban is no ban");
        ban_room(&db, r.id, u.id, None).unwrap();
        let p = perms(&db, &r, Some(&u)).unwrap();
        assert!(p.banned && !p.read && !p.write);
        set_room_mod(&db, r.id, u.id, false, true).unwrap();
        assert!(perms(&db, &r, Some(&u)).unwrap().moderator, "a moderator is never banned out");
    }
}
