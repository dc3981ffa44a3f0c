//! The routes the Session apps speak (sogs.md §2), dispatched by hand from the method and the
//! path's segments so that a direct request, a `/batch` or `/sequence` subrequest and (later) an
//! onion request all take the same code. Statuses, JSON field names and refusals follow pysogs.

use axum::http::HeaderMap;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value, json};

use crate::formats::sogs::{decode_b64, disposition_filename, disposition_header, encode_b64, pad, unpad};

use super::Ctx;
use super::db::{Cached, now};
use super::model::{self, Perms, Room, User};

/// Posts a user may make in one room per [`RATE_LIMIT_WINDOW_S`] (admins exempt).
pub(crate) const RATE_LIMIT_POSTS: i64 = 5;
/// The rate limit's window in seconds.
pub(crate) const RATE_LIMIT_WINDOW_S: f64 = 16.0;
/// Default and largest `limit` of a message listing.
pub(crate) const LIST_LIMIT_DEFAULT: i64 = 100;
/// Largest `limit` of a message listing.
pub(crate) const LIST_LIMIT_MAX: i64 = 256;
/// An upload not yet claimed by a post, edit or room image lives this long.
pub(crate) const UNCLAIMED_FILE_S: f64 = 3600.0;
/// A claimed upload lives this long (a pinned post's files forever).
pub(crate) const CLAIMED_FILE_S: f64 = 15.0 * 86400.0;
/// Largest room file upload (pysogs' default).
pub(crate) const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// A blinded DM lives this long.
pub(crate) const DM_EXPIRY_S: f64 = 15.0 * 86400.0;
/// Longest reaction, in Unicode code points.
pub(crate) const MAX_REACTION_CHARS: usize = 12;
/// Reactors listed with each reaction of a message.
pub(crate) const REACTORS_SHOWN: usize = 4;
/// Most subrequests in one `/batch` or `/sequence`.
pub(crate) const MAX_SUBREQUESTS: usize = 256;
/// Longest room name (characters).
pub(crate) const MAX_ROOM_NAME_CHARS: usize = 128;
/// Longest room description (characters).
pub(crate) const MAX_ROOM_DESCRIPTION_CHARS: usize = 4096;

/// One request as the dispatcher sees it.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) method: String,
    /// The path as sent (still URL-encoded).
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// One answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(status: u16, v: &Value) -> Self {
        Self {
            status,
            content_type: "application/json".into(),
            headers: Vec::new(),
            body: v.to_string().into_bytes(),
        }
    }
    pub(crate) fn text(status: u16, t: &str) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8".into(),
            headers: Vec::new(),
            body: t.as_bytes().to_vec(),
        }
    }
    pub(crate) fn html(body: String) -> Self {
        Self {
            status: 200,
            content_type: "text/html; charset=utf-8".into(),
            headers: Vec::new(),
            body: body.into_bytes(),
        }
    }
}

/// A refused request: status and a plain-text reason.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status}: {msg}")]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) msg: String,
}

impl ApiError {
    pub(crate) fn new(status: u16, msg: impl Into<String>) -> Self {
        Self { status, msg: msg.into() }
    }
    pub(crate) fn reply(&self) -> Reply {
        Reply::text(self.status, &self.msg)
    }
}

/// The status of [`ApiError::needs_writer`]: never sent (not an HTTP status; were it ever
/// answered, it would become a 500).
const NEEDS_WRITER: u16 = 0;

impl ApiError {
    /// Whether a route run on a read-only connection tried to write: it is run again on the
    /// writer (store.rs).
    pub(crate) fn needs_writer(&self) -> bool {
        self.status == NEEDS_WRITER
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) {
            return Self::new(NEEDS_WRITER, "the route needs the writer");
        }
        tracing::error!(error = %e, "database failure");
        Self::new(500, "Internal server error")
    }
}

pub(crate) type Res<T> = Result<T, ApiError>;

fn bad(msg: &str) -> ApiError {
    ApiError::new(400, msg)
}
fn forbidden(msg: &str) -> ApiError {
    ApiError::new(403, msg)
}
fn not_found() -> ApiError {
    ApiError::new(404, "Not found")
}
fn need_user(user: Option<&User>) -> Res<&User> {
    user.ok_or_else(|| ApiError::new(401, "X-SOGS-* request authentication required"))
}

/// A query parameter's first value, URL-decoded.
pub(crate) fn query_param(q: Option<&str>, name: &str) -> Option<String> {
    q?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then(|| {
            percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned()
        })
    })
}

fn limit_param(q: Option<&str>) -> i64 {
    query_param(q, "limit")
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(LIST_LIMIT_DEFAULT, |l| l.clamp(1, LIST_LIMIT_MAX))
}

fn body_json(body: &[u8]) -> Res<Map<String, Value>> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad("Invalid request: expected a JSON object body")),
    }
}

fn int_seg(s: &str) -> Res<i64> {
    s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(not_found)
}

/// Routes one request for `user` (already authenticated) inside the caller's transaction (the
/// writer's savepoint, or a read-only connection's snapshot).
pub(crate) fn route(
    ctx: &Ctx,
    db: &Connection,
    user: Option<&User>,
    req: &Req,
    segs: &[String],
) -> Res<Reply> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let q = req.query.as_deref();
    let m = req.method.as_str();
    match (m, s.as_slice()) {
        ("GET", ["capabilities"]) => Ok(capabilities(ctx, q)),
        ("GET", ["rooms"]) => list_rooms(db, user),
        ("DELETE", ["rooms", "all", sid]) => delete_all_everywhere(ctx, db, user, sid),
        ("GET", ["room", t]) => {
            let (room, p) = visible_room(db, t, user)?;
            Ok(Reply::json(200, &model::room_json(db, &room, user, &p)?))
        }
        ("PUT", ["room", t]) => update_room(db, user, t, &req.body),
        ("GET", ["room", t, "pollInfo", n]) => poll_info(db, user, t, n),
        ("GET", ["room", t, "messages", "since", n]) => {
            let (room, p) = readable_room(db, t, user)?;
            let since = int_seg(n)?;
            let with_reactions = query_param(q, "t").is_some_and(|v| v.contains('r'));
            Ok(Reply::json(
                200,
                &Value::Array(messages_since(db, &room, user, &p, since, limit_param(q), with_reactions)?),
            ))
        }
        ("GET", ["room", t, "messages", "recent"]) => {
            let (room, p) = readable_room(db, t, user)?;
            Ok(Reply::json(200, &Value::Array(messages_live(db, &room, user, &p, None, limit_param(q))?)))
        }
        ("GET", ["room", t, "messages", "before", id]) => {
            let (room, p) = readable_room(db, t, user)?;
            let before = int_seg(id)?;
            Ok(Reply::json(
                200,
                &Value::Array(messages_live(db, &room, user, &p, Some(before), limit_param(q))?),
            ))
        }
        ("GET", ["room", t, "message", id]) => {
            let (room, p) = readable_room(db, t, user)?;
            let msgs = select_messages(
                db,
                &room,
                user,
                &p,
                "AND m.id = :x AND m.data IS NOT NULL",
                int_seg(id)?,
                1,
                "m.id",
            )?;
            let row = msgs.into_iter().next().ok_or_else(not_found)?;
            Ok(Reply::json(200, &message_json(db, &row, user, false)?))
        }
        ("POST", ["room", t, "message"]) => post_message(db, user, t, &req.body),
        ("PUT", ["room", t, "message", id]) => edit_message(db, user, t, int_seg(id)?, &req.body),
        ("DELETE", ["room", t, "message", id]) => delete_message(db, user, t, int_seg(id)?),
        ("POST", ["room", t, "pin", id]) => pin(db, user, t, int_seg(id)?),
        ("POST", ["room", t, "unpin", "all"]) => unpin(db, user, t, None),
        ("POST", ["room", t, "unpin", id]) => unpin(db, user, t, Some(int_seg(id)?)),
        ("PUT", ["room", t, "reaction", id, rest @ ..]) if !rest.is_empty() => {
            react(db, user, t, int_seg(id)?, &rest.join("/"), true)
        }
        ("DELETE", ["room", t, "reaction", id, rest @ ..]) if !rest.is_empty() => {
            react(db, user, t, int_seg(id)?, &rest.join("/"), false)
        }
        ("DELETE", ["room", t, "reactions", id, rest @ ..]) => {
            let emoji = (!rest.is_empty()).then(|| rest.join("/"));
            clear_reactions(db, user, t, int_seg(id)?, emoji.as_deref())
        }
        ("GET", ["room", t, "reactors", id, rest @ ..]) if !rest.is_empty() => {
            reactors(db, user, t, int_seg(id)?, &rest.join("/"), q)
        }
        ("POST", ["room", t, "file"]) => upload(db, user, t, &req.headers, &req.body),
        ("GET", ["room", t, "file", id]) | ("GET", ["room", t, "file", id, _]) => {
            download(db, user, t, int_seg(id)?)
        }
        ("POST", ["user", sid, "ban"]) => ban(ctx, db, user, sid, &req.body, true),
        ("POST", ["user", sid, "unban"]) => ban(ctx, db, user, sid, &req.body, false),
        ("POST", ["user", sid, "moderator"]) => set_moderator(ctx, db, user, sid, &req.body),
        ("DELETE", ["room", t, "all", sid]) => delete_all_in_room(ctx, db, user, t, sid),
        ("GET", ["room", t, "permissions"]) => permissions_get(ctx, db, user, t, None),
        ("GET", ["room", t, "permissions", sid]) => permissions_get(ctx, db, user, t, Some(sid)),
        ("POST", ["room", t, "permissions", sid]) => permissions_set(ctx, db, user, t, sid, &req.body),
        ("GET", ["room", t, "futurePermissions"]) => futures_get(ctx, db, user, t, None),
        ("GET", ["room", t, "futurePermissions", sid]) => futures_get(ctx, db, user, t, Some(sid)),
        ("POST", ["room", t, "futurePermissions", sid]) => futures_set(ctx, db, user, t, sid, &req.body),
        ("POST", ["inbox", sid]) => dm_send(db, user, sid, &req.body),
        ("GET", ["inbox"]) => dm_box(db, user, false, None, q),
        ("GET", ["inbox", "since", id]) => dm_box(db, user, false, Some(int_seg(id)?), q),
        ("GET", ["outbox"]) => dm_box(db, user, true, None, q),
        ("GET", ["outbox", "since", id]) => dm_box(db, user, true, Some(int_seg(id)?), q),
        ("DELETE", ["inbox"]) => dm_delete(db, user),
        _ => Err(not_found()),
    }
}

fn capabilities(ctx: &Ctx, q: Option<&str>) -> Reply {
    let mut caps = vec!["sogs", "reactions"];
    if !ctx.allow_unblinded {
        caps.push("blind");
    }
    if let Some(req) = query_param(q, "required") {
        let missing: Vec<&str> = req.split(',').filter(|c| !c.is_empty() && !caps.contains(c)).collect();
        if !missing.is_empty() {
            return Reply::json(412, &json!({"capabilities": caps, "missing": missing}));
        }
    }
    Reply::json(200, &json!({"capabilities": caps}))
}

fn list_rooms(db: &Connection, user: Option<&User>) -> Res<Reply> {
    let mut out = Vec::new();
    for room in model::rooms(db)? {
        let p = model::perms(db, &room, user)?;
        if p.banned || !(p.read || p.accessible) {
            continue;
        }
        out.push(model::room_json(db, &room, user, &p)?);
    }
    Ok(Reply::json(200, &Value::Array(out)))
}

/// The room, for someone who may see it (banned or neither readable nor accessible: 404).
fn visible_room(db: &Connection, t: &str, user: Option<&User>) -> Res<(Room, Perms)> {
    let room = model::room(db, t)?.ok_or_else(not_found)?;
    let p = model::perms(db, &room, user)?;
    if p.banned || !(p.read || p.accessible) {
        return Err(not_found());
    }
    Ok((room, p))
}

/// The room, for someone who may read it (403 otherwise); notes their activity.
fn readable_room(db: &Connection, t: &str, user: Option<&User>) -> Res<(Room, Perms)> {
    let room = model::room(db, t)?.ok_or_else(not_found)?;
    let p = model::perms(db, &room, user)?;
    if !p.read {
        return Err(forbidden("You do not have read permission in this room"));
    }
    if let Some(u) = user {
        model::touch_room(db, room.id, u.id)?;
    }
    Ok((room, p))
}

fn any_room(db: &Connection, t: &str, user: Option<&User>) -> Res<(Room, Perms)> {
    let room = model::room(db, t)?.ok_or_else(not_found)?;
    let p = model::perms(db, &room, user)?;
    Ok((room, p))
}

fn strip_controls(s: &str, keep_newlines: bool) -> String {
    s.chars().filter(|c| !c.is_control() || (keep_newlines && (*c == '\n' || *c == '\t'))).collect()
}

fn update_room(db: &Connection, user: Option<&User>, t: &str, body: &[u8]) -> Res<Reply> {
    let u = need_user(user)?;
    let (room, p) = any_room(db, t, Some(u))?;
    if !p.admin {
        return Err(forbidden("This endpoint requires admin room permissions"));
    }
    let req = body_json(body)?;
    let mut did = false;
    if let Some(n) = req.get("name") {
        let n = n.as_str().ok_or_else(|| bad("name must be a string"))?;
        let n = strip_controls(n, false);
        if n.chars().count() > MAX_ROOM_NAME_CHARS {
            return Err(bad("name too long"));
        }
        db.exec("UPDATE rooms SET name = ? WHERE id = ?", params![n, room.id])?;
        did = true;
    }
    if let Some(d) = req.get("description") {
        let d = match d {
            Value::Null => None,
            Value::String(s) => Some(strip_controls(s, true)).filter(|s| !s.is_empty()),
            _ => return Err(bad("description must be a string or null")),
        };
        if d.as_ref().is_some_and(|d| d.chars().count() > MAX_ROOM_DESCRIPTION_CHARS) {
            return Err(bad("description too long"));
        }
        db.exec("UPDATE rooms SET description = ? WHERE id = ?", params![d, room.id])?;
        did = true;
    }
    for col in ["read", "accessible", "write", "upload"] {
        if let Some(v) = req.get(&format!("default_{col}")) {
            let v = v
                .as_bool()
                .or_else(|| v.as_i64().map(|i| i != 0))
                .ok_or_else(|| bad("defaults must be booleans"))?;
            db.exec(&format!("UPDATE rooms SET {col} = ? WHERE id = ?"), params![v, room.id])?;
            did = true;
        }
    }
    if let Some(img) = req.get("image") {
        let id = img.as_i64().ok_or_else(|| bad("image must be a file id"))?;
        let n = db.exec("UPDATE files SET expiry = NULL WHERE id = ? AND room = ?", params![id, room.id])?;
        if n == 0 {
            return Err(bad("image must be a file uploaded to this room"));
        }
        db.exec("UPDATE rooms SET image = ? WHERE id = ?", params![id, room.id])?;
        did = true;
    }
    if !did {
        return Err(bad("Room update: must include at least one field to update"));
    }
    model::bump_info(db, room.id)?;
    Ok(Reply::json(200, &json!({})))
}

fn poll_info(db: &Connection, user: Option<&User>, t: &str, n: &str) -> Res<Reply> {
    let seen = int_seg(n)?;
    let (room, p) = visible_room(db, t, user)?;
    if let Some(u) = user {
        model::touch_room(db, room.id, u.id)?;
    }
    let mut m = Map::new();
    m.insert("token".into(), json!(room.token));
    m.insert("active_users".into(), json!(model::active_users(db, room.id)?));
    m.insert("read".into(), json!(p.read));
    m.insert("write".into(), json!(p.write));
    m.insert("upload".into(), json!(p.upload));
    if room.info_updates != seen {
        m.insert("details".into(), model::room_json(db, &room, user, &p)?);
    }
    if p.moderator {
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
    Ok(Reply::json(200, &Value::Object(m)))
}

/// One message row.
#[derive(Debug, Clone)]
pub(crate) struct MsgRow {
    pub(crate) id: i64,
    pub(crate) session_id: String,
    pub(crate) posted: f64,
    pub(crate) edited: Option<f64>,
    pub(crate) seqno: i64,
    pub(crate) seqno_data: i64,
    pub(crate) data: Option<Vec<u8>>,
    pub(crate) data_size: Option<i64>,
    pub(crate) signature: Option<Vec<u8>>,
    pub(crate) whisper_to: Option<String>,
    pub(crate) whisper_mods: bool,
}

impl MsgRow {
    /// The data as posted (padding restored).
    pub(crate) fn padded(&self) -> Option<Vec<u8>> {
        let d = self.data.as_ref()?;
        Some(pad(d, usize::try_from(self.data_size.unwrap_or(0)).unwrap_or(0)))
    }
}

#[allow(clippy::too_many_arguments)]
fn select_messages(
    db: &Connection,
    room: &Room,
    user: Option<&User>,
    p: &Perms,
    cond: &str,
    x: i64,
    limit: i64,
    order: &str,
) -> Res<Vec<MsgRow>> {
    let sql = format!(
        "SELECT m.id, u.session_id, m.posted, m.edited, m.seqno, m.seqno_data, m.data, m.data_size, m.signature,
                w.session_id, m.whisper_mods
         FROM messages m JOIN users u ON u.id = m.user LEFT JOIN users w ON w.id = m.whisper_to
         WHERE m.room = :room
           AND ((m.whisper_to IS NULL AND NOT m.whisper_mods) OR m.user = :me OR m.whisper_to = :me
                OR (m.whisper_mods AND :mod))
           {cond}
         ORDER BY {order} LIMIT :limit"
    );
    let mut st = db.prepare_cached(&sql)?;
    let me = user.map_or(-1, |u| u.id);
    let rows = st.query_map(
        rusqlite::named_params! {":room": room.id, ":me": me, ":mod": p.moderator, ":x": x, ":limit": limit},
        |r| {
            Ok(MsgRow {
                id: r.get(0)?,
                session_id: r.get(1)?,
                posted: r.get(2)?,
                edited: r.get(3)?,
                seqno: r.get(4)?,
                seqno_data: r.get(5)?,
                data: r.get(6)?,
                data_size: r.get(7)?,
                signature: r.get(8)?,
                whisper_to: r.get(9)?,
                whisper_mods: r.get(10)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `{emoji: {index, count, reactors, you?}}` of one message.
fn reactions_json(db: &Connection, msg: i64, user: Option<&User>) -> Res<Map<String, Value>> {
    let mut st = db.prepare_cached(
        "SELECT r.reaction, u.session_id, r.user FROM reactions r JOIN users u ON u.id = r.user
         WHERE r.message = ? ORDER BY r.at, r.rowid",
    )?;
    let rows =
        st.query_map([msg], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
    let mut out = Map::new();
    for row in rows {
        let (emoji, sid, uid) = row?;
        let index = out.len();
        let e = out.entry(emoji).or_insert_with(|| json!({"index": index, "count": 0, "reactors": []}));
        if let Some(o) = e.as_object_mut() {
            let count = o.get("count").and_then(Value::as_i64).unwrap_or(0) + 1;
            o.insert("count".into(), json!(count));
            if let Some(Value::Array(list)) = o.get_mut("reactors")
                && list.len() < REACTORS_SHOWN
            {
                list.push(json!(sid));
            }
            if user.is_some_and(|u| u.id == uid) {
                o.insert("you".into(), json!(true));
            }
        }
    }
    Ok(out)
}

/// A message as the apps read it. `reaction_only`: the `t=r` form `{id, seqno, reactions}`.
pub(crate) fn message_json(
    db: &Connection,
    m: &MsgRow,
    user: Option<&User>,
    reaction_only: bool,
) -> Res<Value> {
    let mut o = Map::new();
    o.insert("id".into(), json!(m.id));
    o.insert("seqno".into(), json!(m.seqno));
    if reaction_only {
        o.insert("reactions".into(), Value::Object(reactions_json(db, m.id, user)?));
        return Ok(Value::Object(o));
    }
    o.insert("session_id".into(), json!(m.session_id));
    o.insert("posted".into(), json!(m.posted));
    if let Some(e) = m.edited {
        o.insert("edited".into(), json!(e));
    }
    match (m.padded(), &m.signature) {
        (Some(data), Some(sig)) => {
            o.insert("data".into(), json!(encode_b64(&data)));
            o.insert("signature".into(), json!(encode_b64(sig)));
            o.insert("reactions".into(), Value::Object(reactions_json(db, m.id, user)?));
        }
        _ => {
            o.insert("data".into(), Value::Null);
            o.insert("deleted".into(), json!(true));
        }
    }
    if m.whisper_mods || m.whisper_to.is_some() {
        o.insert("whisper".into(), json!(true));
        o.insert("whisper_mods".into(), json!(m.whisper_mods));
        if let Some(w) = &m.whisper_to {
            o.insert("whisper_to".into(), json!(w));
        }
    } else {
        o.insert("whisper".into(), json!(false));
        o.insert("whisper_mods".into(), json!(false));
    }
    Ok(Value::Object(o))
}

fn messages_since(
    db: &Connection,
    room: &Room,
    user: Option<&User>,
    p: &Perms,
    since: i64,
    limit: i64,
    with_reactions: bool,
) -> Res<Vec<Value>> {
    let cond = if with_reactions { "AND m.seqno > :x" } else { "AND m.seqno_data > :x" };
    let order = if with_reactions { "m.seqno" } else { "m.seqno_data" };
    let rows = select_messages(db, room, user, p, cond, since, limit, order)?;
    rows.iter().map(|m| message_json(db, m, user, m.seqno_data <= since)).collect()
}

fn messages_live(
    db: &Connection,
    room: &Room,
    user: Option<&User>,
    p: &Perms,
    before: Option<i64>,
    limit: i64,
) -> Res<Vec<Value>> {
    let rows = match before {
        Some(b) => {
            select_messages(db, room, user, p, "AND m.data IS NOT NULL AND m.id < :x", b, limit, "m.id DESC")?
        }
        None => {
            select_messages(db, room, user, p, "AND m.data IS NOT NULL AND :x = :x", 0, limit, "m.id DESC")?
        }
    };
    rows.iter().map(|m| message_json(db, m, user, false)).collect()
}

fn data_and_sig(req: &Map<String, Value>) -> Res<(Vec<u8>, Vec<u8>)> {
    let data = req
        .get("data")
        .and_then(Value::as_str)
        .and_then(decode_b64)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| bad("data must be non-empty base64"))?;
    let sig = req
        .get("signature")
        .and_then(Value::as_str)
        .and_then(decode_b64)
        .filter(|s| s.len() == 64)
        .ok_or_else(|| bad("signature must be 64 bytes of base64"))?;
    Ok((data, sig))
}

fn file_ids(req: &Map<String, Value>) -> Res<Vec<i64>> {
    match req.get("files") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => {
            a.iter().map(|v| v.as_i64().ok_or_else(|| bad("files must be file ids"))).collect()
        }
        _ => Err(bad("files must be a list of file ids")),
    }
}

fn claim_files(db: &Connection, room: i64, msg: i64, files: &[i64]) -> Res<()> {
    for f in files {
        db.exec(
            "UPDATE files SET message = ?1, expiry = ?4 WHERE id = ?2 AND room = ?3 AND message IS NULL
               AND expiry IS NOT NULL",
            params![msg, f, room, now() + CLAIMED_FILE_S],
        )?;
    }
    Ok(())
}

/// Inserts a post (the rules checked by the caller) and answers its JSON.
pub(crate) fn insert_post(
    db: &Connection,
    room: &Room,
    author: &User,
    data: &[u8],
    sig: &[u8],
    whisper_to: Option<i64>,
    whisper_mods: bool,
) -> Res<i64> {
    let seq = model::next_seqno(db, room.id)?;
    let stored = unpad(data);
    db.exec(
        "INSERT INTO messages (room, user, posted, seqno, seqno_data, data, data_size, signature, whisper_to, whisper_mods)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![room.id, author.id, now(), seq, seq, stored, data.len() as i64, sig, whisper_to, whisper_mods],
    )?;
    Ok(db.last_insert_rowid())
}

/// The rate limit of sogs.md §2: 429 after [`RATE_LIMIT_POSTS`] in [`RATE_LIMIT_WINDOW_S`].
pub(crate) fn check_rate(db: &Connection, room: &Room, user: &User, p: &Perms) -> Res<()> {
    if p.admin {
        return Ok(());
    }
    let recent: i64 = db.row(
        "SELECT COUNT(*) FROM messages WHERE user = ? AND room = ? AND posted > ?",
        params![user.id, room.id, now() - RATE_LIMIT_WINDOW_S],
        |r| r.get(0),
    )?;
    if recent >= RATE_LIMIT_POSTS {
        return Err(ApiError::new(429, "Rate limit exceeded"));
    }
    Ok(())
}

fn post_message(db: &Connection, user: Option<&User>, t: &str, body: &[u8]) -> Res<Reply> {
    let u = need_user(user)?;
    let (room, p) = any_room(db, t, Some(u))?;
    if p.banned || !p.write {
        return Err(forbidden("You do not have write permission in this room"));
    }
    let req = body_json(body)?;
    let (data, sig) = data_and_sig(&req)?;
    let whisper_mods = req.get("whisper_mods").and_then(Value::as_bool).unwrap_or(false);
    let whisper_to = match req.get("whisper_to") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        _ => return Err(bad("whisper_to must be a Session ID")),
    };
    if (whisper_mods || whisper_to.is_some()) && !p.moderator {
        return Err(forbidden("Only moderators may whisper"));
    }
    let whisper_user = match &whisper_to {
        Some(s) => {
            let s = s.to_ascii_lowercase();
            if s.len() != 66 || hex::decode(&s).is_err() {
                return Err(bad("whisper_to must be a Session ID"));
            }
            Some(model::get_or_create_user(db, &s)?.id)
        }
        None => None,
    };
    let files = file_ids(&req)?;
    check_rate(db, &room, u, &p)?;
    let id = insert_post(db, &room, u, &data, &sig, whisper_user, whisper_mods)?;
    claim_files(db, room.id, id, &files)?;
    let row = select_messages(db, &room, Some(u), &p, "AND m.id = :x", id, 1, "m.id")?;
    let row = row.into_iter().next().ok_or_else(not_found)?;
    Ok(Reply::json(201, &message_json(db, &row, Some(u), false)?))
}

fn live_message(db: &Connection, room: i64, id: i64) -> Res<(i64, bool)> {
    let r: Option<(i64, bool, bool)> = db
        .query_row(
            "SELECT user, data IS NOT NULL, (whisper_to IS NOT NULL OR whisper_mods) FROM messages WHERE id = ? AND room = ?",
            params![id, room],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    match r {
        Some((user, true, whisper)) => Ok((user, whisper)),
        _ => Err(not_found()),
    }
}

fn edit_message(db: &Connection, user: Option<&User>, t: &str, id: i64, body: &[u8]) -> Res<Reply> {
    let u = need_user(user)?;
    let (room, p) = any_room(db, t, Some(u))?;
    if p.banned || !p.write {
        return Err(forbidden("You do not have write permission in this room"));
    }
    let (author, _) = live_message(db, room.id, id)?;
    if author != u.id {
        return Err(forbidden("Only the author may edit a message"));
    }
    let req = body_json(body)?;
    let (data, sig) = data_and_sig(&req)?;
    let files = file_ids(&req)?;
    let seq = model::next_seqno(db, room.id)?;
    db.exec(
        "UPDATE messages SET data = ?, data_size = ?, signature = ?, edited = ?, seqno = ?, seqno_data = ? WHERE id = ?",
        params![unpad(&data), data.len() as i64, sig, now(), seq, seq, id],
    )?;
    claim_files(db, room.id, id, &files)?;
    Ok(Reply::json(200, &json!({})))
}

/// Deletes posts (data, signature, reactions, pins); their files expire now. Returns how many.
pub(crate) fn delete_posts(db: &Connection, room: i64, ids: &[i64]) -> Res<usize> {
    let mut n = 0;
    for id in ids {
        let seq = model::next_seqno(db, room)?;
        n += db.exec(
            "UPDATE messages SET data = NULL, data_size = NULL, signature = NULL, seqno = ?, seqno_data = ?
             WHERE id = ? AND room = ? AND data IS NOT NULL",
            params![seq, seq, id, room],
        )?;
        db.exec("DELETE FROM reactions WHERE message = ?", [id])?;
        if db.exec("DELETE FROM pinned_messages WHERE message = ?", [id])? > 0 {
            model::bump_info(db, room)?;
        }
        db.exec("UPDATE files SET expiry = ? WHERE message = ?", params![now(), id])?;
    }
    Ok(n)
}

fn delete_message(db: &Connection, user: Option<&User>, t: &str, id: i64) -> Res<Reply> {
    let u = need_user(user)?;
    let (room, p) = any_room(db, t, Some(u))?;
    if p.banned || !(p.write || p.moderator) {
        return Err(forbidden("You do not have write permission in this room"));
    }
    let (author, _) = live_message(db, room.id, id)?;
    if author != u.id && !p.moderator {
        return Err(forbidden("Only the author or a moderator may delete a message"));
    }
    delete_posts(db, room.id, &[id])?;
    Ok(Reply::json(200, &json!({})))
}

fn admin_room(db: &Connection, user: Option<&User>, t: &str) -> Res<Room> {
    let u = need_user(user)?;
    let (room, p) = any_room(db, t, Some(u))?;
    if !p.admin {
        return Err(forbidden("This endpoint requires admin room permissions"));
    }
    Ok(room)
}

fn pin(db: &Connection, user: Option<&User>, t: &str, id: i64) -> Res<Reply> {
    let room = admin_room(db, user, t)?;
    let u = need_user(user)?;
    let (_, whisper) = live_message(db, room.id, id)?;
    if whisper {
        return Err(not_found());
    }
    db.exec(
        "INSERT OR REPLACE INTO pinned_messages (room, message, pinned_by, pinned_at) VALUES (?, ?, ?, ?)",
        params![room.id, id, u.id, now()],
    )?;
    db.exec("UPDATE files SET expiry = NULL WHERE message = ?", [id])?;
    model::bump_info(db, room.id)?;
    let info: i64 = db.row("SELECT info_updates FROM rooms WHERE id = ?", [room.id], |r| r.get(0))?;
    Ok(Reply::json(200, &json!({"info_updates": info})))
}

fn unpin(db: &Connection, user: Option<&User>, t: &str, id: Option<i64>) -> Res<Reply> {
    let room = admin_room(db, user, t)?;
    let ids: Vec<i64> = {
        let mut st = db.prepare(
            "SELECT message FROM pinned_messages WHERE room = ?1 AND (?2 IS NULL OR message = ?2)",
        )?;
        st.query_map(params![room.id, id], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    for m in &ids {
        db.exec("DELETE FROM pinned_messages WHERE room = ? AND message = ?", params![room.id, m])?;
        db.exec("UPDATE files SET expiry = ? WHERE message = ?", params![now() + CLAIMED_FILE_S, m])?;
    }
    if !ids.is_empty() {
        model::bump_info(db, room.id)?;
    }
    let info: i64 = db.row("SELECT info_updates FROM rooms WHERE id = ?", [room.id], |r| r.get(0))?;
    let unpinned = if id.is_some() { json!(!ids.is_empty()) } else { json!(ids.len()) };
    Ok(Reply::json(200, &json!({"unpinned": unpinned, "info_updates": info})))
}

fn check_reaction(emoji: &str) -> Res<String> {
    let e = crate::formats::sogs::decode_path(emoji);
    let n = e.chars().count();
    if n == 0 || n > MAX_REACTION_CHARS {
        return Err(bad("Invalid reaction: must be 1-12 unicode code points"));
    }
    Ok(e)
}

fn reactable(db: &Connection, room: &Room, id: i64) -> Res<()> {
    let (_, whisper) = live_message(db, room.id, id)?;
    if whisper {
        return Err(not_found());
    }
    Ok(())
}

fn bump_message(db: &Connection, room: i64, id: i64) -> Res<i64> {
    let seq = model::next_seqno(db, room)?;
    db.exec("UPDATE messages SET seqno = ? WHERE id = ?", params![seq, id])?;
    Ok(seq)
}

fn message_seqno(db: &Connection, id: i64) -> Res<i64> {
    Ok(db.row("SELECT seqno FROM messages WHERE id = ?", [id], |r| r.get(0))?)
}

fn react(db: &Connection, user: Option<&User>, t: &str, id: i64, emoji: &str, add: bool) -> Res<Reply> {
    let u = need_user(user)?;
    let (room, p) = any_room(db, t, Some(u))?;
    let allowed = if add { p.accessible } else { p.read };
    if p.banned || !allowed {
        return Err(forbidden("You do not have access to this room"));
    }
    let emoji = check_reaction(emoji)?;
    reactable(db, &room, id)?;
    let changed = if add {
        db.exec(
            "INSERT OR IGNORE INTO reactions (message, reaction, user, at) VALUES (?, ?, ?, ?)",
            params![id, emoji, u.id, now()],
        )?
    } else {
        db.exec(
            "DELETE FROM reactions WHERE message = ? AND reaction = ? AND user = ?",
            params![id, emoji, u.id],
        )?
    } > 0;
    let seqno = if changed { bump_message(db, room.id, id)? } else { message_seqno(db, id)? };
    let key = if add { "added" } else { "removed" };
    Ok(Reply::json(200, &json!({key: changed, "seqno": seqno})))
}

fn mod_room(db: &Connection, user: Option<&User>, t: &str) -> Res<(Room, Perms)> {
    let u = need_user(user)?;
    let (room, p) = any_room(db, t, Some(u))?;
    if !p.moderator {
        return Err(forbidden("This endpoint requires moderator room permissions"));
    }
    Ok((room, p))
}

fn clear_reactions(
    db: &Connection,
    user: Option<&User>,
    t: &str,
    id: i64,
    emoji: Option<&str>,
) -> Res<Reply> {
    let (room, _) = mod_room(db, user, t)?;
    let emoji = emoji.map(check_reaction).transpose()?;
    reactable(db, &room, id)?;
    let n = db.exec(
        "DELETE FROM reactions WHERE message = ?1 AND (?2 IS NULL OR reaction = ?2)",
        params![id, emoji],
    )?;
    let seqno = if n > 0 { bump_message(db, room.id, id)? } else { message_seqno(db, id)? };
    Ok(Reply::json(200, &json!({"removed": n, "seqno": seqno})))
}

fn reactors(
    db: &Connection,
    user: Option<&User>,
    t: &str,
    id: i64,
    emoji: &str,
    q: Option<&str>,
) -> Res<Reply> {
    let (room, _) = readable_room(db, t, user)?;
    let emoji = check_reaction(emoji)?;
    reactable(db, &room, id)?;
    let limit = query_param(q, "limit").and_then(|l| l.parse::<i64>().ok()).filter(|l| *l > 0).unwrap_or(-1);
    let mut st = db.prepare(
        "SELECT u.session_id, r.at FROM reactions r JOIN users u ON u.id = r.user
         WHERE r.message = ? AND r.reaction = ? ORDER BY r.at, r.rowid LIMIT ?",
    )?;
    let rows: Vec<Value> = st
        .query_map(params![id, emoji, limit], |r| Ok(json!([r.get::<_, String>(0)?, r.get::<_, f64>(1)?])))?
        .collect::<Result<_, _>>()?;
    Ok(Reply::json(200, &Value::Array(rows)))
}

/// Stores an upload (unclaimed: [`UNCLAIMED_FILE_S`]) and answers its id.
pub(crate) fn store_file(
    db: &Connection,
    room: i64,
    uploader: Option<i64>,
    name: Option<&str>,
    data: &[u8],
) -> Res<i64> {
    if data.is_empty() {
        return Err(bad("No file data provided"));
    }
    if data.len() > MAX_UPLOAD_BYTES {
        return Err(ApiError::new(413, "File too large"));
    }
    let t = now();
    db.exec(
        "INSERT INTO files (room, uploader, size, uploaded, expiry, filename, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![room, uploader, data.len() as i64, t, t + UNCLAIMED_FILE_S, name, data],
    )?;
    Ok(db.last_insert_rowid())
}

fn upload(db: &Connection, user: Option<&User>, t: &str, headers: &HeaderMap, body: &[u8]) -> Res<Reply> {
    let u = need_user(user)?;
    let (room, p) = any_room(db, t, Some(u))?;
    if p.banned || !p.upload {
        return Err(forbidden("You do not have upload permission in this room"));
    }
    let name = headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .and_then(disposition_filename)
        .map(|n| strip_controls(&n, false).replace('/', "_"));
    let id = store_file(db, room.id, Some(u.id), name.as_deref(), body)?;
    Ok(Reply::json(201, &json!({"id": id})))
}

/// A stored, unexpired file of `room`: (name, bytes).
pub(crate) fn file_bytes(db: &Connection, room: Option<i64>, id: i64) -> Res<(Option<String>, Vec<u8>)> {
    db.row(
        "SELECT filename, data FROM files WHERE id = ?1 AND (?2 IS NULL OR room = ?2) AND (expiry IS NULL OR expiry > ?3)",
        params![id, room, now()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(not_found)
}

/// A file as an HTTP answer: the bytes, `Content-Disposition` when it has a name.
pub(crate) fn file_reply(name: Option<String>, data: Vec<u8>) -> Reply {
    let mut headers = Vec::new();
    if let Some(n) = name {
        headers.push(("content-disposition".to_string(), disposition_header(&n)));
    }
    Reply { status: 200, content_type: "application/octet-stream".into(), headers, body: data }
}

fn download(db: &Connection, user: Option<&User>, t: &str, id: i64) -> Res<Reply> {
    let (room, _) = readable_room(db, t, user)?;
    let (name, data) = file_bytes(db, Some(room.id), id)?;
    Ok(file_reply(name, data))
}

/// The rooms a moderation request names: `rooms: [...]` (`["*"]`: every room the caller
/// moderates, or administers with `admin`) or `global: true` (`None`).
fn rooms_or_global(
    db: &Connection,
    me: &User,
    req: &Map<String, Value>,
    admin: bool,
) -> Res<Option<Vec<Room>>> {
    let global = req.get("global").and_then(Value::as_bool).unwrap_or(false);
    let tokens: Vec<String> = match req.get("rooms") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| bad("rooms must be tokens")))
            .collect::<Res<_>>()?,
        _ => return Err(bad("Invalid request: rooms must be a list")),
    };
    if !tokens.is_empty() && global {
        return Err(bad("Invalid request: cannot specify both 'rooms' and 'global'"));
    }
    if tokens.is_empty() && !global {
        return Err(bad("Invalid request: neither 'rooms' nor 'global' specified"));
    }
    if global {
        if !me.moderator || (admin && !me.admin) {
            return Err(forbidden("This requires global moderator permissions"));
        }
        return Ok(None);
    }
    let ok = |p: &Perms| if admin { p.admin } else { p.moderator };
    if tokens.len() > 1 && tokens.iter().any(|t| t == "*") {
        return Err(bad("Invalid request: room '*' must be the only rooms value"));
    }
    let mut out = Vec::new();
    if tokens == ["*"] {
        for room in model::rooms(db)? {
            if ok(&model::perms(db, &room, Some(me))?) {
                out.push(room);
            }
        }
        if out.is_empty() {
            return Err(forbidden("You moderate no room"));
        }
        return Ok(Some(out));
    }
    for t in &tokens {
        let room = model::room(db, t)?.ok_or_else(not_found)?;
        if !ok(&model::perms(db, &room, Some(me))?) {
            return Err(forbidden("You do not have the required permission in every room given"));
        }
        out.push(room);
    }
    Ok(Some(out))
}

fn target_user(ctx: &Ctx, db: &Connection, sid: &str) -> Res<User> {
    model::user_for_admin(db, sid, &ctx.server_pk).map_err(|_| not_found())
}

fn ban(ctx: &Ctx, db: &Connection, user: Option<&User>, sid: &str, body: &[u8], ban: bool) -> Res<Reply> {
    let me = need_user(user)?;
    let req = body_json(body)?;
    let rooms = rooms_or_global(db, me, &req, false)?;
    let target = target_user(ctx, db, sid)?;
    let until = match req.get("timeout") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            now()
                + v.as_f64()
                    .filter(|t| *t > 0.0)
                    .ok_or_else(|| bad("Invalid ban request: timeout must be numeric"))?,
        ),
    };
    if ban {
        if target.id == me.id {
            return Err(forbidden("You cannot ban yourself"));
        }
        if target.moderator || target.admin {
            return Err(forbidden("Global moderators cannot be banned"));
        }
    }
    match rooms {
        Some(rooms) => {
            for room in rooms {
                if ban {
                    let tp = model::perms(db, &room, Some(&target))?;
                    let mp = model::perms(db, &room, Some(me))?;
                    if tp.admin || (tp.moderator && !mp.admin) {
                        return Err(forbidden("Moderators cannot ban admins or other moderators"));
                    }
                    model::ban_room(db, room.id, target.id, until)?;
                } else {
                    model::unban_room(db, room.id, target.id)?;
                }
            }
        }
        None => model::ban_global(db, target.id, ban, until)?,
    }
    Ok(Reply::json(200, &json!({})))
}

fn set_moderator(ctx: &Ctx, db: &Connection, user: Option<&User>, sid: &str, body: &[u8]) -> Res<Reply> {
    let me = need_user(user)?;
    let req = body_json(body)?;
    let rooms = rooms_or_global(db, me, &req, true)?;
    let target = target_user(ctx, db, sid)?;
    let flag = |k: &str| req.get(k).and_then(Value::as_bool);
    let (mut mod_, mut admin) = (flag("moderator"), flag("admin"));
    match (admin, mod_) {
        (None, None) => {
            return Err(bad("Invalid moderator request: at least one of admin/moderator must be specified"));
        }
        (Some(true), Some(false)) => {
            return Err(bad("Invalid moderator call: admin=True, moderator=False is impossible"));
        }
        (Some(true), Some(true)) => mod_ = None,
        (Some(false), Some(false)) => admin = None,
        _ => {}
    }
    let visible = flag("visible");
    let mut info = Map::new();
    match rooms {
        Some(rooms) => {
            let visible = visible.unwrap_or(true);
            for room in rooms {
                match (admin, mod_) {
                    (Some(true), None) => model::set_room_mod(db, room.id, target.id, true, visible)?,
                    (None, Some(true)) => {
                        let keep_admin = model::perms(db, &room, Some(&target))?.admin && !target.admin;
                        model::set_room_mod(db, room.id, target.id, keep_admin, visible)?
                    }
                    (None, Some(false)) => model::remove_room_mod(db, room.id, target.id, false)?,
                    (Some(false), None) => model::remove_room_mod(db, room.id, target.id, true)?,
                    _ => model::set_room_mod(db, room.id, target.id, false, visible)?,
                }
                let n: i64 =
                    db.row("SELECT info_updates FROM rooms WHERE id = ?", [room.id], |r| r.get(0))?;
                info.insert(room.token.clone(), json!(n));
            }
        }
        None => {
            let visible = visible.unwrap_or(false);
            let (m, a) = match (admin, mod_) {
                (Some(true), None) => (true, true),
                (None, Some(true)) => (true, target.admin),
                (None, Some(false)) => (false, false),
                (Some(false), None) => (target.moderator, false),
                _ => (true, false),
            };
            model::set_global_mod(db, target.id, m, a, visible)?;
            for room in model::rooms(db)? {
                info.insert(room.token.clone(), json!(room.info_updates));
            }
        }
    }
    Ok(Reply::json(200, &json!({"info_updates": info})))
}

fn delete_all_of(db: &Connection, room: &Room, target: i64) -> Res<usize> {
    let ids: Vec<i64> = {
        let mut st =
            db.prepare("SELECT id FROM messages WHERE room = ? AND user = ? AND data IS NOT NULL")?;
        st.query_map(params![room.id, target], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    delete_posts(db, room.id, &ids)
}

fn delete_all_in_room(ctx: &Ctx, db: &Connection, user: Option<&User>, t: &str, sid: &str) -> Res<Reply> {
    let me = need_user(user)?;
    let (room, p) = any_room(db, t, Some(me))?;
    let target = target_user(ctx, db, sid)?;
    if !p.moderator && target.id != me.id {
        return Err(forbidden("This endpoint requires moderator room permissions"));
    }
    let n = delete_all_of(db, &room, target.id)?;
    Ok(Reply::json(200, &json!({"id": target.session_id, "deleted": n})))
}

fn delete_all_everywhere(ctx: &Ctx, db: &Connection, user: Option<&User>, sid: &str) -> Res<Reply> {
    let me = need_user(user)?;
    let target = target_user(ctx, db, sid)?;
    let mut total = 0;
    let mut any = false;
    for room in model::rooms(db)? {
        let p = model::perms(db, &room, Some(me))?;
        if p.moderator || target.id == me.id {
            any = true;
            total += delete_all_of(db, &room, target.id)?;
        }
    }
    if !any {
        return Err(forbidden("You moderate no room"));
    }
    Ok(Reply::json(200, &json!({"id": target.session_id, "deleted": total})))
}

fn permissions_get(
    ctx: &Ctx,
    db: &Connection,
    user: Option<&User>,
    t: &str,
    sid: Option<&str>,
) -> Res<Reply> {
    let (room, _) = mod_room(db, user, t)?;
    let only = sid.map(|s| target_user(ctx, db, s)).transpose()?;
    let m = model::overrides_json(db, room.id, only.as_ref().map(|u| u.id))?;
    match only {
        Some(u) => {
            let p = model::perms(db, &room, Some(&u))?;
            let mut v = m.get(&u.session_id).cloned().unwrap_or_else(|| json!({}));
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "effective".into(),
                    json!({"read": p.read, "accessible": p.accessible, "write": p.write, "upload": p.upload,
                           "banned": p.banned, "moderator": p.moderator, "admin": p.admin}),
                );
            }
            Ok(Reply::json(200, &v))
        }
        None => Ok(Reply::json(200, &Value::Object(m))),
    }
}

fn perm_changes(req: &Map<String, Value>) -> Res<[Option<Option<bool>>; 4]> {
    let mut out = [None; 4];
    for (i, k) in ["read", "accessible", "write", "upload"].iter().enumerate() {
        out[i] = match req.get(*k) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::Bool(b)) => Some(Some(*b)),
            Some(_) => return Err(bad("permissions must be true, false or null")),
        };
    }
    if out.iter().all(Option::is_none) {
        return Err(bad("at least one of read, accessible, write, upload is required"));
    }
    Ok(out)
}

fn permissions_set(
    ctx: &Ctx,
    db: &Connection,
    user: Option<&User>,
    t: &str,
    sid: &str,
    body: &[u8],
) -> Res<Reply> {
    let (room, _) = mod_room(db, user, t)?;
    let target = target_user(ctx, db, sid)?;
    let req = body_json(body)?;
    let changes = perm_changes(&req)?;
    model::set_perms(db, room.id, target.id, changes)?;
    Ok(Reply::json(200, &json!({})))
}

fn futures_get(ctx: &Ctx, db: &Connection, user: Option<&User>, t: &str, sid: Option<&str>) -> Res<Reply> {
    let (room, _) = mod_room(db, user, t)?;
    let only = sid.map(|s| target_user(ctx, db, s)).transpose()?.map(|u| u.id);
    let mut st = db.prepare(
        "SELECT u.session_id, f.at, f.read, f.accessible, f.write, f.upload FROM user_permission_futures f
         JOIN users u ON u.id = f.user WHERE f.room = ?1 AND (?2 IS NULL OR f.user = ?2) ORDER BY f.at",
    )?;
    let rows: Vec<Value> = st
        .query_map(params![room.id, only], |r| {
            let mut o = Map::new();
            o.insert("session_id".into(), json!(r.get::<_, String>(0)?));
            o.insert("at".into(), json!(r.get::<_, f64>(1)?));
            for (i, k) in ["read", "accessible", "write", "upload"].iter().enumerate() {
                if let Some(v) = r.get::<_, Option<bool>>(2 + i)? {
                    o.insert((*k).into(), json!(v));
                }
            }
            Ok(Value::Object(o))
        })?
        .collect::<Result<_, _>>()?;
    Ok(Reply::json(200, &Value::Array(rows)))
}

fn futures_set(
    ctx: &Ctx,
    db: &Connection,
    user: Option<&User>,
    t: &str,
    sid: &str,
    body: &[u8],
) -> Res<Reply> {
    let (room, _) = mod_room(db, user, t)?;
    let target = target_user(ctx, db, sid)?;
    let req = body_json(body)?;
    let delay = req
        .get("in")
        .and_then(Value::as_f64)
        .filter(|d| *d >= 0.0 && d.is_finite())
        .ok_or_else(|| bad("in (seconds from now) is required"))?;
    let c = perm_changes(&req)?;
    // A future can only set a value (true/false); null is refused here for clarity.
    let v = |x: Option<Option<bool>>| x.flatten();
    db.exec(
        "INSERT INTO user_permission_futures (room, user, at, read, accessible, write, upload) VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![room.id, target.id, now() + delay, v(c[0]), v(c[1]), v(c[2]), v(c[3])],
    )?;
    Ok(Reply::json(200, &json!({})))
}

fn blind_user(user: Option<&User>) -> Res<&User> {
    let u = need_user(user)?;
    if !(u.session_id.starts_with("15") || u.session_id.starts_with("25")) {
        return Err(ApiError::new(401, "X-SOGS-* request authentication with a blinded id required"));
    }
    Ok(u)
}

fn dm_json(db: &Connection, id: i64, with_body: bool) -> Res<Value> {
    Ok(db.row(
        "SELECT i.id, i.posted_at, i.expires_at, s.session_id, r.session_id, i.body FROM inbox i
         JOIN users s ON s.id = i.sender JOIN users r ON r.id = i.recipient WHERE i.id = ?",
        [id],
        |r| {
            let mut o = json!({"id": r.get::<_, i64>(0)?, "posted_at": r.get::<_, f64>(1)?,
                "expires_at": r.get::<_, f64>(2)?, "sender": r.get::<_, String>(3)?, "recipient": r.get::<_, String>(4)?});
            if with_body {
                o["message"] = json!(encode_b64(&r.get::<_, Vec<u8>>(5)?));
            }
            Ok(o)
        },
    )?)
}

fn dm_send(db: &Connection, user: Option<&User>, sid: &str, body: &[u8]) -> Res<Reply> {
    let me = need_user(user)?;
    let sid = sid.to_ascii_lowercase();
    if crate::formats::blinding::BlindedId::parse(&sid).is_err() {
        return Err(not_found());
    }
    let to = model::find_user(db, &sid)?.ok_or_else(not_found)?;
    if to.banned {
        return Err(not_found());
    }
    let req = body_json(body)?;
    let msg = req
        .get("message")
        .and_then(Value::as_str)
        .and_then(decode_b64)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| bad("No message provided"))?;
    let t = now();
    db.exec(
        "INSERT INTO inbox (recipient, sender, body, posted_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        params![to.id, me.id, msg, t, t + DM_EXPIRY_S],
    )?;
    let id = db.last_insert_rowid();
    Ok(Reply::json(201, &dm_json(db, id, false)?))
}

fn dm_box(
    db: &Connection,
    user: Option<&User>,
    out: bool,
    since: Option<i64>,
    q: Option<&str>,
) -> Res<Reply> {
    let me = blind_user(user)?;
    let col = if out { "sender" } else { "recipient" };
    let ids: Vec<i64> = {
        let mut st = db.prepare(&format!(
            "SELECT id FROM inbox WHERE {col} = ? AND id > ? AND expires_at > ? ORDER BY id LIMIT ?"
        ))?;
        st.query_map(params![me.id, since.unwrap_or(0), now(), limit_param(q)], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    if ids.is_empty() && since.is_some() {
        return Ok(Reply {
            status: 304,
            content_type: "text/plain".into(),
            headers: Vec::new(),
            body: Vec::new(),
        });
    }
    let msgs: Vec<Value> = ids.iter().map(|id| dm_json(db, *id, true)).collect::<Res<_>>()?;
    Ok(Reply::json(200, &Value::Array(msgs)))
}

fn dm_delete(db: &Connection, user: Option<&User>) -> Res<Reply> {
    let me = blind_user(user)?;
    let n = db.exec("DELETE FROM inbox WHERE recipient = ?", [me.id])?;
    Ok(Reply::json(200, &json!({"deleted": n})))
}
