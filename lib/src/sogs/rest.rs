//! The operator's REST API (sogs.md §4): `Authorization: Bearer TOKEN`, tokens made with
//! `sogs --add-token NAME` and stored as their SHA-256 only. A missing or wrong token is 401.
//! Messages posted here are signed by the server's own Ed25519 key, as the system user
//! `ff…` (the server's Ed25519 public key).

use axum::extract::{FromRequest, Multipart};
use axum::http::{HeaderMap, HeaderValue};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::formats::session_protocol::{Content, PaddingStyle, pad};
use crate::formats::sogs::valid_room_token;

use super::Ctx;
use super::api::{self, ApiError, MsgRow, Reply, Req, Res};
use super::db::now;
use super::model::{self, Perms};

/// Whether the request carries `Authorization: Bearer …` (it then takes this API, not §2).
pub(crate) fn is_bearer(h: &HeaderMap) -> bool {
    bearer(h).is_some()
}

fn bearer(h: &HeaderMap) -> Option<&str> {
    let v = h.get("authorization")?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ').unwrap_or((v, ""));
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The SHA-256 a token is stored as.
pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Turns a multipart upload (`POST /room/{t}/upload` with a Bearer token) into its file: the
/// body becomes the first file part's bytes and its name a `Content-Disposition`.
pub(crate) async fn prepare(req: &Req) -> Res<Req> {
    let is_upload = req.method == "POST"
        && req.path.trim_end_matches('/').ends_with("/upload")
        && is_bearer(&req.headers);
    if !is_upload {
        return Ok(req.clone());
    }
    let mut http = axum::http::Request::builder().method("POST").uri("/");
    for (k, v) in &req.headers {
        http = http.header(k, v);
    }
    let http =
        http.body(axum::body::Body::from(req.body.clone())).map_err(|_| ApiError::new(400, "Bad request"))?;
    let mut mp = Multipart::from_request(http, &())
        .await
        .map_err(|_| ApiError::new(400, "Expected a multipart/form-data body"))?;
    while let Ok(Some(field)) = mp.next_field().await {
        let name = field.file_name().map(str::to_string);
        let is_file = name.is_some() || field.name() == Some("file");
        let data = field.bytes().await.map_err(|_| ApiError::new(400, "Malformed multipart body"))?;
        if is_file {
            let mut out = req.clone();
            out.body = data.to_vec();
            if let Some(n) = name
                && let Ok(v) = HeaderValue::from_str(&crate::formats::sogs::disposition_header(&n))
            {
                out.headers.insert("content-disposition", v);
            }
            return Ok(out);
        }
    }
    Err(ApiError::new(400, "No file part in the multipart body"))
}

fn admin_perms() -> Perms {
    Perms {
        read: true,
        accessible: true,
        write: true,
        upload: true,
        banned: false,
        moderator: true,
        admin: true,
    }
}

fn room_of(db: &Connection, t: &str) -> Res<model::Room> {
    model::room(db, t)?.ok_or_else(|| ApiError::new(404, "No such room"))
}

fn room_value(db: &Connection, t: &str) -> Res<Value> {
    let room = room_of(db, t)?;
    Ok(model::room_json(db, &room, None, &admin_perms())?)
}

/// Handles one REST request (token checked first).
/// Runs on the writer inside its group transaction; the route's writes are kept only when it
/// succeeds.
pub(crate) fn handle(ctx: &Ctx, db: &Connection, req: &Req, segs: &[String]) -> Res<Reply> {
    let token = bearer(&req.headers).unwrap_or_default();
    let known: Option<String> = db
        .query_row("SELECT name FROM api_tokens WHERE hash = ?", [token_hash(token)], |r| r.get(0))
        .optional()?;
    if token.is_empty() || known.is_none() {
        return Err(ApiError::new(401, "Invalid or missing API token"));
    }
    super::store::savepoint(db, |db| route(ctx, db, req, segs), |r| r.as_ref().is_ok_and(|r| r.status < 400))?
}

fn body(req: &Req) -> Res<serde_json::Map<String, Value>> {
    match serde_json::from_slice(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::new(400, "Expected a JSON object body")),
    }
}

fn str_field<'a>(m: &'a serde_json::Map<String, Value>, k: &str) -> Res<&'a str> {
    m.get(k).and_then(Value::as_str).ok_or_else(|| ApiError::new(400, format!("{k} (a string) is required")))
}

fn system_user(ctx: &Ctx, db: &Connection) -> Res<model::User> {
    Ok(model::get_or_create_user(db, &format!("ff{}", hex::encode(ctx.keys.ed25519_public())))?)
}

fn route(ctx: &Ctx, db: &Connection, req: &Req, segs: &[String]) -> Res<Reply> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (req.method.as_str(), s.as_slice()) {
        ("POST", ["room"]) => {
            let b = body(req)?;
            let token = str_field(&b, "token")?;
            if !valid_room_token(token) {
                return Err(ApiError::new(400, "token must be 1-64 of [A-Za-z0-9_-]"));
            }
            let name = b.get("name").and_then(Value::as_str).unwrap_or(token);
            let desc = b.get("description").and_then(Value::as_str);
            if !model::add_room(db, token, name, desc)? {
                return Err(ApiError::new(409, "A room with this token already exists"));
            }
            Ok(Reply::json(201, &room_value(db, token)?))
        }
        ("GET", ["room", t]) => Ok(Reply::json(200, &room_value(db, t)?)),
        ("PUT", ["room", t]) => {
            let room = room_of(db, t)?;
            let b = body(req)?;
            if let Some(n) = b.get("name") {
                let n = n.as_str().ok_or_else(|| ApiError::new(400, "name must be a string"))?;
                db.execute("UPDATE rooms SET name = ? WHERE id = ?", params![n, room.id])?;
            }
            if let Some(d) = b.get("description") {
                db.execute("UPDATE rooms SET description = ? WHERE id = ?", params![d.as_str(), room.id])?;
            }
            model::bump_info(db, room.id)?;
            Ok(Reply::json(200, &room_value(db, t)?))
        }
        ("DELETE", ["room", t]) => {
            let room = room_of(db, t)?;
            db.execute("DELETE FROM rooms WHERE id = ?", [room.id])?;
            Ok(Reply::json(200, &json!({"deleted": room.token})))
        }
        ("POST", ["room", t, "message"]) => {
            let room = room_of(db, t)?;
            let b = body(req)?;
            let content = str_field(&b, "content")?;
            let ms = (now() * 1000.0) as u64;
            let data = pad(&Content::text(content, ms).encode(), PaddingStyle::Libsession)
                .map_err(|e| ApiError::new(400, e.to_string()))?;
            let sig = ctx.keys.sign(&data);
            let sys = system_user(ctx, db)?;
            let id = api::insert_post(db, &room, &sys, &data, &sig, None, false)?;
            Ok(Reply::json(201, &rest_message(db, id)?.ok_or_else(|| ApiError::new(404, "Not found"))?))
        }
        ("GET", ["room", t, "messages"]) => {
            let room = room_of(db, t)?;
            let since = api::query_param(req.query.as_deref(), "since")
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            let ids: Vec<i64> = {
                let mut st = db.prepare(
                    "SELECT id FROM messages WHERE room = ? AND posted > ? AND data IS NOT NULL ORDER BY id LIMIT ?",
                )?;
                st.query_map(params![room.id, since, api::LIST_LIMIT_MAX], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            let msgs: Vec<Value> =
                ids.iter().filter_map(|id| rest_message(db, *id).transpose()).collect::<Res<_>>()?;
            Ok(Reply::json(200, &Value::Array(msgs)))
        }
        ("DELETE", ["room", t, "message", id]) => {
            let room = room_of(db, t)?;
            let id: i64 = id.parse().map_err(|_| ApiError::new(404, "Not found"))?;
            if api::delete_posts(db, room.id, &[id])? == 0 {
                return Err(ApiError::new(404, "Not found"));
            }
            Ok(Reply::json(200, &json!({})))
        }
        ("POST", ["room", t, "ban"]) => {
            let room = room_of(db, t)?;
            let b = body(req)?;
            let target = model::user_for_admin(db, str_field(&b, "session_id")?, &ctx.server_pk)
                .map_err(|e| ApiError::new(400, e))?;
            let until = b.get("timeout").and_then(Value::as_f64).map(|t| now() + t);
            model::ban_room(db, room.id, target.id, until)?;
            Ok(Reply::json(200, &json!({})))
        }
        ("DELETE", ["room", t, "ban", sid]) => {
            let room = room_of(db, t)?;
            let target = model::user_for_admin(db, sid, &ctx.server_pk).map_err(|e| ApiError::new(400, e))?;
            model::unban_room(db, room.id, target.id)?;
            Ok(Reply::json(200, &json!({})))
        }
        ("GET", ["room", t, "bans"]) => {
            let room = room_of(db, t)?;
            let mut st = db.prepare(
                "SELECT u.session_id, o.banned_until FROM user_permission_overrides o JOIN users u ON u.id = o.user
                 WHERE o.room = ? AND o.banned AND (o.banned_until IS NULL OR o.banned_until > ?) ORDER BY u.session_id",
            )?;
            let rows: Vec<Value> = st
                .query_map(params![room.id, now()], |r| {
                    Ok(json!({"session_id": r.get::<_, String>(0)?, "banned_until": r.get::<_, Option<f64>>(1)?}))
                })?
                .collect::<Result<_, _>>()?;
            Ok(Reply::json(200, &Value::Array(rows)))
        }
        ("POST", ["room", t, "upload"]) => {
            let room = room_of(db, t)?;
            let name = req
                .headers
                .get("content-disposition")
                .and_then(|v| v.to_str().ok())
                .and_then(crate::formats::sogs::disposition_filename);
            let id = api::store_file(db, room.id, None, name.as_deref(), &req.body)?;
            Ok(Reply::json(201, &json!({"id": id})))
        }
        ("GET", ["file", id]) => {
            let id: i64 = id.parse().map_err(|_| ApiError::new(404, "Not found"))?;
            let (name, data) = api::file_bytes(db, None, id)?;
            Ok(api::file_reply(name, data))
        }
        _ => Err(ApiError::new(404, "Not found")),
    }
}

/// A message as this API answers it: the app fields plus the decoded `content` text.
fn rest_message(db: &Connection, id: i64) -> Res<Option<Value>> {
    let row: Option<MsgRow> = db
        .query_row(
            "SELECT m.id, u.session_id, m.posted, m.edited, m.seqno, m.seqno_data, m.data, m.data_size, m.signature,
                    NULL, m.whisper_mods FROM messages m JOIN users u ON u.id = m.user WHERE m.id = ?",
            [id],
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
        )
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let mut v = api::message_json(db, &row, None, false)?;
    if let Some(text) = row.data.as_deref().and_then(super::web::message_text) {
        v["content"] = json!(text);
    }
    Ok(Some(v))
}
