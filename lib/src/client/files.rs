//! Files on a file server, the client side of `upload`, `download`, `fileinfo` and `extend`
//! (attachments.md §1–5, docs/attachments.md).
//!
//! - Upload: the file is encrypted as the apps do (the 'S' stream format, keyed by the
//!   uploader's seed, or the legacy format) into a private temporary file, then posted to
//!   `POST /file`; the result is an `AttachmentPointer` (`{url, key, size, digest?, content_type,
//!   file_name}`) plus the server's `expires`.
//! - Download: the blob named by a pointer's URL is fetched into a private temporary file, then
//!   decrypted by the scheme the URL and pointer name (`#d` → stream; a digest → legacy) into a
//!   temporary file next to the destination, which takes the destination's name only once every
//!   byte authenticated and the size matched.
//!
//! Requests go either through an onion path (v4, [`crate::net::lsrpc`], as the apps do: the
//! server never learns the client's address) or straight to the server's routes (`--direct`).
//! Either way the server sees only ciphertext; the key never leaves the pointer.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::formats::attachments::legacy::{self, LegacyKey};
use crate::formats::attachments::pointer::{AttachmentPointer, DownloadUrl, Scheme};
use crate::formats::attachments::stream::{self, Domain, SizePolicy, StreamKey};
use crate::formats::keys::X25519Pk;
use crate::formats::limits::{CLIENT_MAX_REPLY_BYTES, FILESERVER_MAX_FILE_BYTES};
use crate::formats::onion::v4::{V4Request, V4Response};
use crate::net::http::Transport;
use crate::net::lsrpc::ServerTarget;
use crate::net::network::Network;

/// The live default file server's X25519 key: a download URL without `p=` is encrypted to it
/// (libsession `DEFAULT_CONFIG.pubkey_hex`, Android `DEFAULT_FILE_SERVER`).
pub const DEFAULT_FILESERVER_X25519: &str =
    "da21e1d886c6fbaea313f75298bd64aab03a97ce985b46bb2dad9f2089c8ee59";
/// The live default file server's URL.
pub const DEFAULT_FILESERVER_URL: &str = "http://filev2.getsession.org";
/// The file `testnet up --fileserver` writes next to `nodes.json`: `{url, pubkey, pubkey_ed25519}`.
pub const FILESERVER_INFO_FILE: &str = "fileserver.json";
/// The header naming a file's lifetime in seconds (the server's `X-FS-TTL`).
const TTL_HEADER: &str = "X-FS-TTL";
/// The content type of a pointer whose file's extension says nothing.
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";
/// Longest file name kept from a pointer (bytes); longer names are cut.
const MAX_FILE_NAME_BYTES: usize = 200;

/// Why a file operation failed, one variant per rule.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// The input (a file, a pointer, a flag) is unusable.
    #[error("{0}")]
    Input(String),
    /// The encrypted file is larger than a file server takes.
    #[error("the encrypted file is {size} bytes; a file server takes at most {FILESERVER_MAX_FILE_BYTES}")]
    TooLarge {
        /// Its size in bytes.
        size: u64,
    },
    /// The file server could not be reached, or its answer could not be read.
    #[error("file server {url}: {reason}")]
    Unreachable {
        /// The server.
        url: String,
        /// Why.
        reason: String,
    },
    /// The file server answered with an error status.
    #[error("file server {url} answered {code}{}", what_code(*code))]
    Refused {
        /// The server.
        url: String,
        /// The status.
        code: u16,
    },
    /// The blob did not decrypt or verify (wrong key, corrupted, truncated, wrong digest, size).
    #[error("the downloaded file does not verify: {0}")]
    Verify(String),
    /// A local file could not be written.
    #[error("{0}")]
    Output(String),
}

fn what_code(code: u16) -> &'static str {
    match code {
        404 => ": no such file (unknown, or expired)",
        413 => ": the file is empty or over the server's size limit",
        400 => ": bad request (e.g. a TTL out of range)",
        507 => ": the server found no free id",
        _ => "",
    }
}

impl FilesError {
    /// Whether this is the caller's input (exit 2) rather than a failed operation (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::Input(_) | Self::TooLarge { .. })
    }
}

/// A file server: where it is and the X25519 key onion requests to it are encrypted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileServer {
    /// `http(s)://host[:port]`.
    pub url: String,
    /// Its X25519 key.
    pub x25519: X25519Pk,
}

impl FileServer {
    /// A server from its URL and key hex.
    pub fn new(url: &str, x25519_hex: &str) -> Result<Self, FilesError> {
        let x25519 = X25519Pk::from_hex(x25519_hex.trim())
            .map_err(|e| FilesError::Input(format!("file server key: {e}")))?;
        let server = Self { url: url.trim_end_matches('/').to_string(), x25519 };
        server.target()?;
        Ok(server)
    }

    /// Reads `{url, pubkey}` (what `fileserver serve` prints and `testnet up --fileserver`
    /// writes as `fileserver.json`).
    pub fn from_info_file(path: &Path) -> Result<Self, FilesError> {
        let text = fs::read_to_string(path)
            .map_err(|e| FilesError::Input(format!("cannot read {}: {e}", path.display())))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| FilesError::Input(format!("{} is not JSON: {e}", path.display())))?;
        let field = |k: &str| {
            v.get(k).and_then(Value::as_str).ok_or_else(|| {
                FilesError::Input(format!(
                    "{} has no \"{k}\" (expected {{\"url\", \"pubkey\"}})",
                    path.display()
                ))
            })
        };
        Self::new(field("url")?, field("pubkey")?)
    }

    /// The testnet's file server, if a `fileserver.json` lies in `dir`.
    pub fn from_dir(dir: &Path) -> Option<Result<Self, FilesError>> {
        let path = dir.join(FILESERVER_INFO_FILE);
        path.exists().then(|| Self::from_info_file(&path))
    }

    fn target(&self) -> Result<ServerTarget, FilesError> {
        ServerTarget::new(&self.url, self.x25519).map_err(|e| FilesError::Input(e.to_string()))
    }
}

/// How requests reach the file server.
#[derive(Debug)]
pub enum Via<'a> {
    /// Straight to its HTTP routes (the server sees the client's address).
    Direct(Transport),
    /// v4 onion requests through 3-hop paths of this network.
    Onion(&'a Network),
}

impl Via<'_> {
    /// A direct client with a reply limit that fits the largest file.
    pub fn direct() -> Self {
        Self::Direct(Transport::new().with_max_reply(CLIENT_MAX_REPLY_BYTES))
    }

    /// One request (body in memory), answered as a v4 response in both modes.
    fn call(&self, server: &FileServer, req: V4Request) -> Result<V4Response, FilesError> {
        let unreachable = |reason: String| FilesError::Unreachable { url: server.url.clone(), reason };
        match self {
            Via::Onion(net) => {
                net.onion_server(&server.target()?, &req).map_err(|e| unreachable(e.to_string()))
            }
            Via::Direct(t) => {
                let url = format!("{}{}", server.url, req.endpoint);
                let reply = t
                    .request(&req.method, &url, &req.headers, req.body)
                    .map_err(|e| unreachable(e.to_string()))?;
                Ok(V4Response { code: reply.status, headers: Vec::new(), body: reply.body })
            }
        }
    }
}

/// A private temporary file, removed when dropped.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// Creates `dir/.NAME.tmp.PID.RANDOM` (0600, never an existing file).
    fn create(dir: &Path, name: &str) -> Result<(Self, File), FilesError> {
        let path = dir.join(format!(".{name}.tmp.{}.{}", std::process::id(), rand::random::<u32>()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(crate::net::fs::SECRET_FILE_MODE)
            .open(&path)
            .map_err(|e| FilesError::Output(format!("cannot create {}: {e}", path.display())))?;
        Ok((Self { path }, file))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// How to encrypt an upload.
#[derive(Debug, Clone)]
pub enum UploadScheme {
    /// The 'S' format, keyed by this 32-byte Ed25519 seed (the uploader's identity).
    Stream(Zeroizing<[u8; 32]>),
    /// The legacy AES-CBC + HMAC format, random keys.
    Legacy,
}

/// What `upload` prints: the pointer to send, and when the server will drop the file.
#[derive(Debug, Serialize)]
pub struct Uploaded {
    /// The pointer (`url`, `key`, `size`, `digest`?, `content_type`, `file_name`).
    #[serde(flatten)]
    pub pointer: AttachmentPointer,
    /// Unix seconds at which the server forgets the file.
    pub expires: i64,
}

/// The content type the apps would give a file, by its extension.
pub fn content_type_of(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "mp3" => "audio/mpeg",
        "m4a" | "aac" => "audio/aac",
        "ogg" => "audio/ogg",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "zip" => "application/zip",
        _ => DEFAULT_CONTENT_TYPE,
    }
}

/// Encrypts `path` and uploads it; `ttl` (seconds) asks the server for a lifetime.
pub fn upload(
    via: &Via<'_>,
    server: &FileServer,
    path: &Path,
    scheme: &UploadScheme,
    ttl: Option<u64>,
) -> Result<Uploaded, FilesError> {
    let mut input =
        File::open(path).map_err(|e| FilesError::Input(format!("cannot read {}: {e}", path.display())))?;
    if !input.metadata().map(|m| m.is_file()).unwrap_or(false) {
        return Err(FilesError::Input(format!("{} is not a regular file", path.display())));
    }
    let (temp, blob) = TempFile::create(&std::env::temp_dir(), "upload")?;
    let mut out = BufWriter::new(blob);
    let (key, digest, size) = match scheme {
        UploadScheme::Stream(seed) => {
            let e =
                stream::encrypt(seed.as_ref(), Domain::Attachment, SizePolicy::Regular, &mut input, &mut out)
                    .map_err(|e| FilesError::Input(format!("{}: {e}", path.display())))?;
            (e.key.as_bytes().to_vec(), None, e.plaintext_len)
        }
        UploadScheme::Legacy => {
            let e = legacy::encrypt(&mut input, &mut out, &mut rand::rngs::OsRng)
                .map_err(|e| FilesError::Input(format!("{}: {e}", path.display())))?;
            (e.key.as_bytes().to_vec(), Some(e.digest.to_vec()), e.plaintext_len)
        }
    };
    let mut blob = out.into_inner().map_err(|e| FilesError::Output(format!("temporary file: {e}")))?;
    let len = blob.stream_position().map_err(|e| FilesError::Output(format!("temporary file: {e}")))?;
    if len > FILESERVER_MAX_FILE_BYTES {
        return Err(FilesError::TooLarge { size: len });
    }
    let size = u32::try_from(size).map_err(|_| FilesError::TooLarge { size: len })?;
    blob.seek(SeekFrom::Start(0)).map_err(|e| FilesError::Output(format!("temporary file: {e}")))?;
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let mut headers = vec![
        ("Content-Type".to_string(), DEFAULT_CONTENT_TYPE.to_string()),
        (
            "Content-Disposition".to_string(),
            match &file_name {
                // Quotes and control characters cannot go into the header: the name is left out.
                Some(n) if n.chars().all(|c| !c.is_control() && c != '"' && c != '\\') && n.is_ascii() => {
                    format!("attachment; filename=\"{n}\"")
                }
                _ => "attachment".to_string(),
            },
        ),
    ];
    if let Some(ttl) = ttl {
        headers.push((TTL_HEADER.to_string(), ttl.to_string()));
    }
    let resp = match via {
        Via::Direct(t) => {
            let url = format!("{}/file", server.url);
            let r = t
                .post_stream(&url, &headers, blob, len)
                .map_err(|e| FilesError::Unreachable { url: server.url.clone(), reason: e.to_string() })?;
            V4Response { code: r.status, headers: Vec::new(), body: r.body }
        }
        Via::Onion(_) => {
            let mut body = Vec::with_capacity(len as usize);
            blob.read_to_end(&mut body).map_err(|e| FilesError::Output(format!("temporary file: {e}")))?;
            via.call(
                server,
                V4Request { method: "POST".into(), endpoint: "/file".into(), headers, body: Some(body) },
            )?
        }
    };
    drop(temp);
    let reply = json_reply(server, &resp)?;
    let id = reply
        .get("id")
        .and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_u64().map(|n| n.to_string())))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad_reply(server, "no \"id\""))?;
    let expires =
        reply.get("expires").and_then(Value::as_f64).ok_or_else(|| bad_reply(server, "no \"expires\""))?;
    let stream_format = matches!(scheme, UploadScheme::Stream(_));
    let default_key = server.x25519.to_hex() == DEFAULT_FILESERVER_X25519;
    let url = DownloadUrl::new(&server.url, &id, stream_format, (!default_key).then_some(server.x25519));
    let pointer = AttachmentPointer {
        url: url.to_string(),
        key,
        size,
        digest,
        content_type: Some(content_type_of(path).to_string()),
        file_name,
        ..Default::default()
    };
    Ok(Uploaded { pointer, expires: expires.floor() as i64 })
}

fn bad_reply(server: &FileServer, what: &str) -> FilesError {
    FilesError::Unreachable { url: server.url.clone(), reason: format!("unexpected reply: {what}") }
}

/// A 200 JSON reply, or the error its status says.
fn json_reply(server: &FileServer, resp: &V4Response) -> Result<Value, FilesError> {
    if resp.code != 200 {
        return Err(FilesError::Refused { url: server.url.clone(), code: resp.code });
    }
    serde_json::from_slice(&resp.body).map_err(|e| bad_reply(server, &format!("not JSON ({e})")))
}

/// What `download` prints for one file.
#[derive(Debug, Serialize)]
pub struct Downloaded {
    /// The pointer's URL.
    pub url: String,
    /// How the blob was encrypted.
    pub scheme: Scheme,
    /// The file's size.
    pub size: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// Where it was written.
    pub out: String,
}

/// The server a download URL names: its base URL and key (`p=`, else `known` when the URL is
/// its server, else the live default's key).
pub fn server_of(url: &DownloadUrl, known: Option<&FileServer>) -> Result<(FileServer, String), FilesError> {
    let (base, _) = url
        .base
        .split_once("/file/")
        .ok_or_else(|| FilesError::Input(format!("{} is not a file URL", url.base)))?;
    let id = url.file_id().to_string();
    if id.is_empty() {
        return Err(FilesError::Input(format!("{} names no file id", url.base)));
    }
    let x25519 = match (url.server_x25519, known) {
        (Some(k), _) => k,
        (None, Some(s)) if s.url == base => s.x25519,
        _ => X25519Pk::from_hex(DEFAULT_FILESERVER_X25519).map_err(|e| FilesError::Input(e.to_string()))?,
    };
    let server = FileServer { url: base.to_string(), x25519 };
    server.target()?;
    Ok((server, id))
}

/// A safe name for a file in a directory: the pointer's file name without any directory part,
/// control characters or a leading dot, else the file id.
pub fn safe_file_name(pointer: &AttachmentPointer, id: &str) -> String {
    let from = |s: &str| -> Option<String> {
        let base = Path::new(s).file_name()?.to_str()?;
        let cleaned: String =
            base.chars().map(|c| if c.is_control() || c == '/' || c == '\\' { '_' } else { c }).collect();
        let cleaned = cleaned.trim_start_matches('.').trim().to_string();
        let mut end = cleaned.len().min(MAX_FILE_NAME_BYTES);
        while !cleaned.is_char_boundary(end) {
            end -= 1;
        }
        let cut = cleaned[..end].to_string();
        (!cut.is_empty()).then_some(cut)
    };
    pointer
        .file_name
        .as_deref()
        .and_then(from)
        .or_else(|| from(id))
        .unwrap_or_else(|| "attachment".to_string())
}

/// Fetches, verifies and decrypts the file `pointer` names into `dest` (refusing to replace an
/// existing `dest` unless `force`). Nothing is left at `dest` unless every check passed.
pub fn download(
    via: &Via<'_>,
    pointer: &AttachmentPointer,
    known: Option<&FileServer>,
    dest: &Path,
    force: bool,
) -> Result<Downloaded, FilesError> {
    let url = pointer.download_url().map_err(|e| FilesError::Input(format!("pointer: {e}")))?;
    let scheme = pointer.scheme().map_err(|e| FilesError::Input(format!("pointer: {e}")))?;
    let (server, id) = server_of(&url, known)?;
    if !force && dest.exists() {
        return Err(FilesError::Input(format!(
            "{} already exists (pass --force to replace it)",
            dest.display()
        )));
    }
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // The blob first, whole, in a private temporary file: the legacy format checks its HMAC and
    // digest before decrypting a byte.
    let (blob_temp, mut blob) = TempFile::create(&dir, "download.blob")?;
    let endpoint = format!("/file/{id}");
    match via {
        Via::Direct(t) => {
            let full = format!("{}{endpoint}", server.url);
            let mut w = BufWriter::new(&mut blob);
            let (reply, _) = t
                .get_to(&full, &mut w, FILESERVER_MAX_FILE_BYTES)
                .map_err(|e| FilesError::Unreachable { url: server.url.clone(), reason: e.to_string() })?;
            if reply.status != 200 {
                return Err(FilesError::Refused { url: server.url.clone(), code: reply.status });
            }
            w.flush().map_err(|e| FilesError::Output(format!("temporary file: {e}")))?;
        }
        Via::Onion(_) => {
            let resp = via.call(
                &server,
                V4Request { method: "GET".into(), endpoint, headers: Vec::new(), body: None },
            )?;
            if resp.code != 200 {
                return Err(FilesError::Refused { url: server.url.clone(), code: resp.code });
            }
            blob.write_all(&resp.body).map_err(|e| FilesError::Output(format!("temporary file: {e}")))?;
        }
    }
    blob.seek(SeekFrom::Start(0)).map_err(|e| FilesError::Output(format!("temporary file: {e}")))?;

    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (out_temp, out_file) = TempFile::create(&dir, &name)?;
    let mut hashing = HashingWriter { inner: BufWriter::new(out_file), sha: Sha256::new(), len: 0 };
    match scheme {
        Scheme::Stream => {
            let key = StreamKey::from_bytes(&pointer.key)
                .map_err(|e| FilesError::Input(format!("pointer key: {e}")))?;
            stream::decrypt(&key, &mut io::BufReader::new(&mut blob), &mut hashing)
                .map_err(|e| FilesError::Verify(e.to_string()))?;
            if pointer.size != 0 && hashing.len != u64::from(pointer.size) {
                return Err(FilesError::Verify(format!(
                    "it decrypted to {} bytes, the pointer says {}",
                    hashing.len, pointer.size
                )));
            }
        }
        Scheme::Legacy => {
            let key = LegacyKey::from_bytes(&pointer.key)
                .map_err(|e| FilesError::Input(format!("pointer key: {e}")))?;
            let digest = pointer.digest.as_deref().unwrap_or_default();
            legacy::decrypt(&key, digest, u64::from(pointer.size), &mut blob, &mut hashing)
                .map_err(|e| FilesError::Verify(e.to_string()))?;
        }
    }
    let (mut writer, sha, size) = (hashing.inner, hashing.sha, hashing.len);
    let fail = |e: io::Error| FilesError::Output(format!("cannot write {}: {e}", dest.display()));
    writer.flush().map_err(fail)?;
    writer.get_ref().sync_all().map_err(fail)?;
    if force {
        fs::rename(&out_temp.path, dest).map_err(fail)?;
    } else {
        // A link fails if the destination appeared meanwhile: never clobber it.
        fs::hard_link(&out_temp.path, dest).map_err(fail)?;
    }
    drop((out_temp, blob_temp));
    Ok(Downloaded {
        url: pointer.url.clone(),
        scheme,
        size,
        sha256: hex::encode(sha.finalize()),
        out: dest.display().to_string(),
    })
}

struct HashingWriter<W: Write> {
    inner: W,
    sha: Sha256,
    len: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `GET /file/{id}/info`: `{"size", "uploaded", "expires"}` as the server answers it.
pub fn info(via: &Via<'_>, server: &FileServer, id: &str) -> Result<Value, FilesError> {
    check_id(id)?;
    let resp = via.call(
        server,
        V4Request {
            method: "GET".into(),
            endpoint: format!("/file/{id}/info"),
            headers: Vec::new(),
            body: None,
        },
    )?;
    json_reply(server, &resp)
}

/// `POST /file/{id}/extend` with an optional `X-FS-TTL`: the new `{"size", "uploaded",
/// "expires"}` (never shortened).
pub fn extend(via: &Via<'_>, server: &FileServer, id: &str, ttl: Option<u64>) -> Result<Value, FilesError> {
    check_id(id)?;
    let headers = ttl.map(|t| vec![(TTL_HEADER.to_string(), t.to_string())]).unwrap_or_default();
    let resp = via.call(
        server,
        V4Request { method: "POST".into(), endpoint: format!("/file/{id}/extend"), headers, body: None },
    )?;
    json_reply(server, &resp)
}

/// snkit's own message format with files (the plaintext `ratchet encrypt --attach` encrypts):
/// `{"text"?, "attachments": [pointer, ...]}`, a pointer in the JSON form `upload` prints. It
/// travels only inside the ratchet's end-to-end encryption: the keys are in it.
pub fn attachment_message(
    text: Option<&str>,
    attachments: &[AttachmentPointer],
) -> Result<Vec<u8>, FilesError> {
    let mut v = serde_json::json!({ "attachments": attachments });
    if let Some(t) = text {
        v["text"] = Value::from(t);
    }
    serde_json::to_vec(&v).map_err(|e| FilesError::Input(format!("cannot encode the message: {e}")))
}

/// Reads [`attachment_message`]'s format back: the text and the pointers, or `None` when the
/// plaintext is not such a message (any other text or bytes).
pub fn read_attachment_message(plaintext: &[u8]) -> Option<(Option<String>, Vec<AttachmentPointer>)> {
    if plaintext.first() != Some(&b'{') {
        return None;
    }
    let v: Value = serde_json::from_slice(plaintext).ok()?;
    let list = v.get("attachments")?.as_array()?;
    let pointers: Vec<AttachmentPointer> =
        list.iter().map(|p| serde_json::from_value(p.clone())).collect::<Result<_, _>>().ok()?;
    Some((v.get("text").and_then(Value::as_str).map(str::to_string), pointers))
}

/// The file a command names: a download URL (`http(s)://…/file/ID#…`: its server and key), or a
/// bare file id on `known`. Returns the server and the id.
pub fn target_of(text: &str, known: Option<&FileServer>) -> Result<(FileServer, String), FilesError> {
    let text = text.trim();
    if text.starts_with("http://") || text.starts_with("https://") {
        let url = DownloadUrl::parse(text).map_err(|e| FilesError::Input(e.to_string()))?;
        return server_of(&url, known);
    }
    check_id(text)?;
    let server = known.cloned().ok_or_else(|| {
        FilesError::Input(format!(
            "{text:?} is a bare file id: name its server with --fileserver URL --fileserver-key HEX, or pass the URL"
        ))
    })?;
    Ok((server, text.to_string()))
}

/// A file id is one URL path segment of url-safe characters (hash ids: base64url; compat ids:
/// digits).
fn check_id(id: &str) -> Result<(), FilesError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(FilesError::Input(format!("{id:?} is not a file id (url-safe base64 or digits)")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_made_safe() {
        let p = |n: &str| AttachmentPointer { file_name: Some(n.into()), ..Default::default() };
        assert_eq!(safe_file_name(&p("photo.jpg"), "id"), "photo.jpg");
        assert_eq!(safe_file_name(&p("../../etc/passwd"), "id"), "passwd");
        assert_eq!(safe_file_name(&p(".bashrc"), "id"), "bashrc");
        assert_eq!(safe_file_name(&p(".."), "abc"), "abc");
        assert_eq!(safe_file_name(&p("a\nb"), "id"), "a_b");
        assert_eq!(safe_file_name(&AttachmentPointer::default(), "Xyz_-1"), "Xyz_-1");
        assert_eq!(safe_file_name(&p(&"é".repeat(300)), "id").len(), MAX_FILE_NAME_BYTES);
    }

    #[test]
    fn urls_name_their_server_and_key() {
        let mine = FileServer::new("http://127.0.0.1:9000", &"ab".repeat(32)).unwrap();
        let url = DownloadUrl::parse("http://127.0.0.1:9000/file/abc#d").unwrap();
        let (s, id) = server_of(&url, Some(&mine)).unwrap();
        assert_eq!((s.url.as_str(), id.as_str(), s.x25519), ("http://127.0.0.1:9000", "abc", mine.x25519));
        let url = DownloadUrl::parse(&format!("http://x.org/file/7#p={}&d", "cd".repeat(32))).unwrap();
        assert_eq!(server_of(&url, Some(&mine)).unwrap().0.x25519.to_hex(), "cd".repeat(32));
        let url = DownloadUrl::parse("http://filev2.getsession.org/file/123").unwrap();
        assert_eq!(server_of(&url, Some(&mine)).unwrap().0.x25519.to_hex(), DEFAULT_FILESERVER_X25519);
        assert!(check_id("../x").is_err());
        assert!(check_id("").is_err());
        assert!(check_id("3qXfYbeRSxXa89I8ApcbKl0_BshkLQ6myd0DsvcrDEy3").is_ok());
    }

    #[test]
    fn attachment_messages_round_trip() {
        let p = AttachmentPointer {
            url: "http://h/file/x#d".into(),
            key: vec![3; 32],
            size: 9,
            ..Default::default()
        };
        let m = attachment_message(Some("look"), std::slice::from_ref(&p)).unwrap();
        assert_eq!(read_attachment_message(&m), Some((Some("look".to_string()), vec![p])));
        assert_eq!(read_attachment_message(b"plain text"), None);
        assert_eq!(read_attachment_message(br#"{"attachments":[{"url":1}]}"#), None);
        assert_eq!(read_attachment_message(br#"{"text":"x"}"#), None);
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type_of(Path::new("a.JPG")), "image/jpeg");
        assert_eq!(content_type_of(Path::new("a")), DEFAULT_CONTENT_TYPE);
    }
}
