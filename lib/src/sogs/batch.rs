//! `POST /batch` (every subrequest, in any order) and `POST /sequence` (in order, stopping after
//! the first non-2xx, which is included): `[{method, path, headers?, json|b64|bytes}]` →
//! `[{code, headers, body}]`. The signature headers are checked once, on the outer request; each
//! subrequest runs in its own savepoint (atomic on its own, committed with the group).

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use crate::formats::sogs::{decode_b64, encode_b64};

use super::api::{ApiError, MAX_SUBREQUESTS, Reply, Req, Res};
use super::model::User;
use super::{Ctx, routed, segments};

fn sub_request(v: &Value) -> Res<Req> {
    let o = v
        .as_object()
        .ok_or_else(|| ApiError::new(400, "Invalid batch request: subrequests must be objects"))?;
    let method = o
        .get("method")
        .and_then(Value::as_str)
        .filter(|m| ["GET", "POST", "PUT", "DELETE"].contains(m))
        .ok_or_else(|| {
            ApiError::new(400, "Invalid batch request: method must be GET, POST, PUT or DELETE")
        })?;
    let full = o
        .get("path")
        .and_then(Value::as_str)
        .filter(|p| p.starts_with('/'))
        .ok_or_else(|| ApiError::new(400, "Invalid batch request: path must start with /"))?;
    let (path, query) = match full.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (full.to_string(), None),
    };
    let mut headers = HeaderMap::new();
    if let Some(Value::Object(h)) = o.get("headers") {
        for (k, v) in h {
            let lower = k.to_ascii_lowercase();
            // Authentication travels only on the outer request.
            if lower.starts_with("x-sogs-") || lower == "authorization" {
                continue;
            }
            if let (Ok(k), Some(Ok(v))) = (HeaderName::try_from(lower), v.as_str().map(HeaderValue::from_str))
            {
                headers.insert(k, v);
            }
        }
    }
    let body = if let Some(j) = o.get("json") {
        j.to_string().into_bytes()
    } else if let Some(b) = o.get("b64") {
        b.as_str().and_then(decode_b64).ok_or_else(|| ApiError::new(400, "Invalid batch request: bad b64"))?
    } else if let Some(b) = o.get("bytes") {
        b.as_str()
            .ok_or_else(|| ApiError::new(400, "Invalid batch request: bytes must be a string"))?
            .as_bytes()
            .to_vec()
    } else {
        Vec::new()
    };
    Ok(Req { method: method.to_string(), path, query, headers, body })
}

fn reply_json(r: &Reply) -> Value {
    let body = if r.content_type.starts_with("application/json") {
        serde_json::from_slice(&r.body).unwrap_or(Value::Null)
    } else if r.content_type.starts_with("text/") {
        json!(String::from_utf8_lossy(&r.body))
    } else {
        json!(encode_b64(&r.body))
    };
    let mut headers = Map::new();
    headers.insert("content-type".into(), json!(r.content_type));
    for (k, v) in &r.headers {
        headers.insert(k.to_ascii_lowercase(), json!(v));
    }
    json!({"code": r.status, "headers": headers, "body": body})
}

/// Runs a batch (`sequence`: stop after the first non-2xx), on the writer: each subrequest in
/// its own savepoint of the group transaction (kept on success, rolled back on a refusal).
pub(crate) fn run(
    ctx: &Ctx,
    db: &Connection,
    user: Option<&User>,
    body: &[u8],
    sequence: bool,
) -> Res<Reply> {
    let list: Vec<Value> = match serde_json::from_slice(body) {
        Ok(Value::Array(a)) => a,
        _ => return Err(ApiError::new(400, "Invalid batch request: expected a JSON list of subrequests")),
    };
    if list.is_empty() || list.len() > MAX_SUBREQUESTS {
        return Err(ApiError::new(400, "Invalid batch request: 1 to 256 subrequests"));
    }
    // Every subrequest is checked before any runs, so a malformed batch does nothing.
    let subs: Vec<Req> = list.iter().map(sub_request).collect::<Res<_>>()?;
    let mut out = Vec::with_capacity(subs.len());
    for sub in &subs {
        let segs = segments(&sub.path);
        let reply = if segs.len() == 1 && (segs[0] == "batch" || segs[0] == "sequence") {
            ApiError::new(400, "Invalid batch request: batches do not nest").reply()
        } else {
            routed(ctx, db, user, sub, &segs)
        };
        let ok = (200..300).contains(&reply.status);
        out.push(reply_json(&reply));
        if sequence && !ok {
            break;
        }
    }
    Ok(Reply::json(200, &Value::Array(out)))
}
