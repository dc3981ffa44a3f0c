//! The web pages: `GET /` lists the rooms anyone may read; `GET /r/{token}/` shows a room's
//! name, description, join URL with its QR code (SVG) and its recent messages' text. Every
//! string from the database is HTML-escaped.

use rusqlite::Connection;

use crate::formats::session_protocol::Content;
use crate::formats::sogs::join_url;

use super::Ctx;
use super::api::{ApiError, Reply, Res};
use super::model;

/// Messages shown on a room page.
pub(crate) const PAGE_MESSAGES: i64 = 50;
/// Smallest side of the QR code, in pixels.
const QR_MIN_PX: u32 = 240;

/// `&`, `<`, `>`, `"`, `'` escaped.
pub(crate) fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn shell(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title><style>body{{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em}}\
         .msg{{border-bottom:1px solid #ddd;padding:.4em 0}}.who{{color:#666;font-size:.8em}}\
         .qr svg{{width:240px;height:240px}}code{{word-break:break-all}}</style></head><body>{body}</body></html>\n",
        escape(title)
    )
}

/// The page for `segs` (`[]` or `["r", token]`).
pub(crate) fn page(ctx: &Ctx, db: &Connection, segs: &[String]) -> Reply {
    let r = match segs {
        [] => index(db),
        [r, token] if r == "r" => room_page(ctx, db, token),
        _ => Err(ApiError::new(404, "Not found")),
    };
    r.unwrap_or_else(|e| e.reply())
}

fn index(db: &Connection) -> Res<Reply> {
    let mut items = String::new();
    for room in model::rooms(db)? {
        let p = model::perms(db, &room, None)?;
        if !(p.read || p.accessible) {
            continue;
        }
        items.push_str(&format!(
            "<li><a href=\"/r/{t}/\">{n}</a>{d}</li>",
            t = escape(&room.token),
            n = escape(&room.name),
            d = room.description.as_deref().map(|d| format!(" — {}", escape(d))).unwrap_or_default()
        ));
    }
    if items.is_empty() {
        items.push_str("<li>No rooms yet.</li>");
    }
    Ok(Reply::html(shell("Rooms", &format!("<h1>Rooms</h1><ul>{items}</ul>"))))
}

/// The text of a stored message (a Session `Content` with a `DataMessage` body), if it has one.
pub(crate) fn message_text(data: &[u8]) -> Option<String> {
    Content::decode(data).ok()?.text_body().map(str::to_string)
}

fn room_page(ctx: &Ctx, db: &Connection, token: &str) -> Res<Reply> {
    let room = model::room(db, token)?.ok_or_else(|| ApiError::new(404, "Not found"))?;
    let p = model::perms(db, &room, None)?;
    if !(p.read || p.accessible) {
        return Err(ApiError::new(404, "Not found"));
    }
    let url = join_url(&ctx.base_url, &room.token, &ctx.server_pk);
    let svg = qrcode::QrCode::new(url.as_bytes())
        .map(|c| c.render::<qrcode::render::svg::Color<'_>>().min_dimensions(QR_MIN_PX, QR_MIN_PX).build())
        .unwrap_or_default();
    let mut msgs = String::new();
    if p.read {
        let mut st = db.prepare(
            "SELECT m.data, u.session_id, m.posted FROM messages m JOIN users u ON u.id = m.user
             WHERE m.room = ? AND m.data IS NOT NULL AND m.whisper_to IS NULL AND NOT m.whisper_mods
             ORDER BY m.id DESC LIMIT ?",
        )?;
        let rows = st.query_map(rusqlite::params![room.id, PAGE_MESSAGES], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?, r.get::<_, f64>(2)?))
        })?;
        for row in rows {
            let (data, sid, _) = row?;
            if let Some(text) = message_text(&data) {
                msgs.push_str(&format!(
                    "<div class=\"msg\"><div class=\"who\">{}…</div><div class=\"text\">{}</div></div>",
                    escape(&sid[..sid.len().min(10)]),
                    escape(&text)
                ));
            }
        }
    }
    let body = format!(
        "<h1>{name}</h1>{desc}<p>Join this community in Session:</p><p><code id=\"join-url\">{u}</code></p>\
         <div class=\"qr\">{svg}</div><h2>Recent messages</h2>{msgs}",
        name = escape(&room.name),
        desc = room
            .description
            .as_deref()
            .map(|d| format!("<p class=\"description\">{}</p>", escape(d)))
            .unwrap_or_default(),
        u = escape(&url),
    );
    Ok(Reply::html(shell(&room.name, &body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')&\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;"
        );
    }
}
