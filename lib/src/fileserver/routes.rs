//! The HTTP routes of the file server, exactly as attachments.md §5 and the live
//! session-file-server answer them: JSON bodies as `application/json`, every application error
//! as `{"status_code": N}` with that status.
//!
//! | route | success |
//! |---|---|
//! | `POST /file` (raw body, optional `X-FS-TTL`) | 200 `{"id", "expires"}` |
//! | `GET /file/{id}` | 200 the bytes, `Expires:` (RFC 1123) |
//! | `GET /file/{id}/info` | 200 `{"size", "uploaded", "expires"}` |
//! | `POST /file/{id}/extend` (optional `X-FS-TTL`) | 200 `{"size", "uploaded", "expires"}` |

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde::Serialize;
use std::os::unix::fs::OpenOptionsExt;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::formats::limits::{
    FILESERVER_DEFAULT_TTL_S, FILESERVER_HASH_ID_CHARS, FILESERVER_MAX_FILE_BYTES,
    FILESERVER_READ_CHUNK_BYTES, FILESERVER_UPLOAD_IDLE_TIMEOUT_MS,
};
use crate::server::HttpError;

use super::ids::{self, HashId};
use super::store::{FileRow, Store, StoreError};

/// The header an uploader or extender names the lifetime in, in seconds.
pub const TTL_HEADER: &str = "x-fs-ttl";

/// What the handlers share.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) store: Store,
    /// `--compat-ids`: random integer ids instead of hash ids.
    pub(crate) compat_ids: bool,
}

/// The router: the four file routes, a JSON 404 for anything else, no body-size limit of axum's
/// own (the upload handler enforces [`FILESERVER_MAX_FILE_BYTES`] while streaming).
pub(crate) fn router(ctx: Arc<Ctx>) -> Router {
    Router::new()
        .route("/file", post(upload))
        .route("/file/{id}", get(download))
        .route("/file/{id}/info", get(info))
        .route("/file/{id}/extend", post(extend))
        .fallback(|| async { HttpError::status_json(StatusCode::NOT_FOUND) })
        .layer(DefaultBodyLimit::disable())
        .with_state(ctx)
}

fn status(code: StatusCode) -> HttpError {
    HttpError::status_json(code)
}

fn internal(e: impl std::fmt::Display) -> HttpError {
    tracing::error!(error = %e, "file server failure");
    status(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Microseconds since the epoch, by the system clock.
pub(crate) fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Unix seconds as the float the live server answers (microseconds after the point).
fn secs(us: i64) -> f64 {
    us as f64 / 1e6
}

/// The TTL the request asks for: the default without `X-FS-TTL`, 400 for a bad one.
fn requested_ttl(headers: &HeaderMap) -> Result<u64, HttpError> {
    match headers.get(TTL_HEADER) {
        None => Ok(FILESERVER_DEFAULT_TTL_S),
        Some(v) => ids::parse_ttl(v.as_bytes()).map_err(|e| {
            tracing::debug!(reason = %e, "bad X-FS-TTL");
            status(StatusCode::BAD_REQUEST)
        }),
    }
}

/// Runs a store call on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, HttpError> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?.map_err(|e| match e {
        StoreError::Collisions => {
            tracing::warn!(error = %e, "no free compat id");
            status(StatusCode::INSUFFICIENT_STORAGE)
        }
        other => internal(other),
    })
}

/// A temporary upload file, removed when dropped: on a refusal, an error, a client that went
/// away (the handler's future is dropped) and after success, when the name is already gone.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.0) {
            Ok(()) => tracing::debug!(path = %self.0.display(), "temporary upload removed"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %self.0.display(), error = %e, "cannot remove a temporary upload")
            }
        }
    }
}

#[derive(Serialize)]
struct Uploaded {
    id: String,
    expires: f64,
}

#[derive(Serialize)]
struct Info {
    size: u64,
    uploaded: f64,
    expires: f64,
}

impl From<FileRow> for Info {
    fn from(r: FileRow) -> Self {
        Self { size: r.size, uploaded: secs(r.uploaded_us), expires: secs(r.expires_us) }
    }
}

/// `POST /file`: streams the body to a temporary file under the size cap, fsyncs it, and answers
/// 200 only once [`Store::commit_upload`] made it durable. The checks in the live server's order:
/// size (413: empty or over the cap, the moment the cap is passed), then `X-FS-TTL` (400).
async fn upload(State(ctx): State<Arc<Ctx>>, headers: HeaderMap, body: Body) -> Result<Response, HttpError> {
    let ttl = requested_ttl(&headers);
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n == 0 || n > FILESERVER_MAX_FILE_BYTES) {
        return Err(status(StatusCode::PAYLOAD_TOO_LARGE));
    }
    // Created synchronously (one small syscall), not on the blocking pool: if the client goes
    // away, this future is dropped, and a create still queued on the pool would run after the
    // guard's removal and leave an orphan until the next start.
    let path = ctx.store.temp_path();
    let std_file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(crate::net::fs::SECRET_FILE_MODE)
        .open(&path)
        .map_err(internal)?;
    let temp = TempFile(path);
    let mut file = tokio::fs::File::from_std(std_file);
    let mut hash = (!ctx.compat_ids).then(HashId::new);
    let mut size: u64 = 0;
    let mut stream = body.into_data_stream();
    let idle = Duration::from_millis(FILESERVER_UPLOAD_IDLE_TIMEOUT_MS);
    loop {
        let chunk: Bytes = match tokio::time::timeout(idle, stream.next()).await {
            Err(_) => {
                tracing::info!("upload stalled; dropped");
                return Err(status(StatusCode::REQUEST_TIMEOUT));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                tracing::info!(error = %e, "upload body broke off");
                return Err(status(StatusCode::BAD_REQUEST));
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        size = size.saturating_add(chunk.len() as u64);
        if size > FILESERVER_MAX_FILE_BYTES {
            tracing::info!(size, "upload over the cap refused");
            return Err(status(StatusCode::PAYLOAD_TOO_LARGE));
        }
        if let Some(h) = hash.as_mut() {
            h.update(&chunk);
        }
        file.write_all(&chunk).await.map_err(internal)?;
        // The declared length is all there is (hyper enforces it): done without waiting for the
        // end-of-body signal, which a client that half-closes right after its body may never
        // let hyper deliver.
        if declared == Some(size) {
            break;
        }
    }
    if size == 0 {
        return Err(status(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let ttl = ttl?;
    file.flush().await.map_err(internal)?;
    file.sync_all().await.map_err(internal)?;
    drop(file);
    let (store, path, id) = (ctx.store.clone(), temp.0.clone(), hash.map(HashId::finish));
    let now = now_us();
    let (id, expires) = blocking(move || store.commit_upload(&path, id, size, ttl, now)).await?;
    drop(temp);
    tracing::info!(id, size, ttl, "file stored");
    Ok(Json(Uploaded { id, expires: secs(expires) }).into_response())
}

/// `GET /file/{id}`: the bytes, streamed, while the file has not expired (checked now).
async fn download(State(ctx): State<Arc<Ctx>>, Path(id): Path<String>) -> Result<Response, HttpError> {
    if !ids::is_plausible_id(&id) {
        return Err(status(StatusCode::NOT_FOUND));
    }
    let store = ctx.store.clone();
    let now = now_us();
    let Some((row, file)) = blocking(move || store.open_file(&id, now)).await? else {
        return Err(status(StatusCode::NOT_FOUND));
    };
    let reader = Some(tokio::fs::File::from_std(file));
    let chunks = futures_util::stream::unfold(reader, |reader| async move {
        let mut f = reader?;
        let mut buf = vec![0u8; FILESERVER_READ_CHUNK_BYTES];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(f)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut resp = Body::from_stream(chunks).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(row.size));
    if let Ok(v) = HeaderValue::from_str(&http_date(row.expires_us.div_euclid(1_000_000))) {
        h.insert(header::EXPIRES, v);
    }
    Ok(resp)
}

/// `GET /file/{id}/info`.
async fn info(State(ctx): State<Arc<Ctx>>, Path(id): Path<String>) -> Result<Json<Info>, HttpError> {
    if !ids::is_plausible_id(&id) {
        return Err(status(StatusCode::NOT_FOUND));
    }
    let store = ctx.store.clone();
    let now = now_us();
    match blocking(move || store.info(&id, now)).await? {
        Some(r) => Ok(Json(r.into())),
        None => Err(status(StatusCode::NOT_FOUND)),
    }
}

/// `POST /file/{id}/extend`: expiry = max(expiry, now + ttl). A compat id (shorter than 44
/// characters) is refused with 404: an expired numeric id may since name someone else's file.
async fn extend(
    State(ctx): State<Arc<Ctx>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Info>, HttpError> {
    let ttl = requested_ttl(&headers)?;
    if id.len() < FILESERVER_HASH_ID_CHARS || !ids::is_plausible_id(&id) {
        return Err(status(StatusCode::NOT_FOUND));
    }
    let store = ctx.store.clone();
    let now = now_us();
    match blocking(move || store.extend(&id, ttl, now)).await? {
        Some(r) => Ok(Json(r.into())),
        None => Err(status(StatusCode::NOT_FOUND)),
    }
}

/// An RFC 1123 date in GMT, whole seconds (`Sun, 10 Aug 2025 22:09:53 GMT`), as the `Expires`
/// header the live server and the apps' parsers use.
pub(crate) fn http_date(unix_s: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = unix_s.div_euclid(86_400);
    let rem = unix_s.rem_euclid(86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        // The example in the live server's reply (desktop's comment: 1754863793.186137).
        assert_eq!(http_date(1_754_863_793), "Sun, 10 Aug 2025 22:09:53 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    }
}
