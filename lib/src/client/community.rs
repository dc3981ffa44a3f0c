//! The `community` client: joining rooms of a community server, posting and reading messages as
//! the Session apps do, moderation, room files and blinded DMs (docs/sogs.md "The community
//! client"), on top of [`SogsClient`]'s signed requests.
//!
//! Every request goes through [`Conn::call`], whose [`Route`] decides how it travels: today
//! [`Route::Direct`] (plain HTTP(S) to the server); the onion v4 route (`POST /oxen/v4/lsrpc`
//! through 3 service nodes) is meant to become a second variant there, so no other code changes.
//!
//! What the client remembers lives in one state file, `<state dir>/community.json` (0600,
//! replaced atomically): the joined rooms with their server key and the last poll seqno, and the
//! last DM id read per server and identity. A seqno is saved only after its lines are printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::sogs::{SogsClient, SogsClientError};
use crate::formats::blinding::{BlindedId, BlindedKind, BlindingError};
pub use crate::formats::community::AttachedFile;
use crate::formats::community::{
    CommunityFormatError, build_post, decode_post, decrypt_from_blinded, encrypt_for_blinded, verify_post,
};
use crate::formats::identity::Identity;
use crate::formats::session_protocol::{Content, PaddingStyle, pad, unpad};
use crate::formats::sogs::{Signer, valid_room_token};
use crate::net::http::HttpReply;

/// Version of the state file format.
pub const COMMUNITY_STATE_VERSION: u32 = 1;
/// The state file's name inside the state directory.
pub const COMMUNITY_STATE_FILE: &str = "community.json";
/// Messages asked for per `since` poll (the server's maximum).
pub const POLL_LIMIT: usize = 256;
/// The default pause between two polls of `--follow`, in ms.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 2_000;

/// Everything that can go wrong in the community client, one variant per rule.
#[derive(Debug, thiserror::Error)]
pub enum CommunityError {
    /// A join URL is not `{base}/{room}?public_key={64 hex}`.
    #[error("bad join URL {url:?}: {reason} (expected http(s)://HOST/ROOM?public_key=HEX)")]
    BadJoinUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A room named on the command line was never joined.
    #[error("room {0:?} is not joined: run 'community join URL' first")]
    NotJoined(String),
    /// A room token names rooms on several servers.
    #[error("room {0:?} is joined on several servers: name it as SERVER/ROOM")]
    Ambiguous(String),
    /// A server named on the command line is not one of the joined rooms' servers.
    #[error("server {0:?} is not known: join one of its rooms first")]
    UnknownServer(String),
    /// Bad input (text, an ID, a file).
    #[error("{0}")]
    BadInput(String),
    /// A message or DM could not be built.
    #[error(transparent)]
    Format(#[from] CommunityFormatError),
    /// A key could not be derived.
    #[error(transparent)]
    Blinding(#[from] BlindingError),
    /// The server refused the request.
    #[error("{what}: the server answered {status}: {text}")]
    Refused {
        /// What was asked.
        what: String,
        /// The HTTP status.
        status: u16,
        /// Its text.
        text: String,
    },
    /// The server's answer is not what the API promises.
    #[error("{what}: unexpected answer: {reason}")]
    BadReply {
        /// What was asked.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// No answer.
    #[error(transparent)]
    Transport(#[from] SogsClientError),
    /// The onion route to the server failed (no path, or no answer through any).
    #[error("cannot reach {server} through onion paths: {reason}")]
    Unreachable {
        /// The server.
        server: String,
        /// Why.
        reason: String,
    },
    /// The state file could not be read or written.
    #[error("community state {path}: {reason}")]
    State {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl CommunityError {
    /// Whether the caller's input is at fault (exit 2) rather than the server or network (1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::BadJoinUrl { .. }
                | Self::NotJoined(_)
                | Self::Ambiguous(_)
                | Self::UnknownServer(_)
                | Self::BadInput(_)
                | Self::Format(CommunityFormatError::TooLong(_))
                | Self::Blinding(_)
        )
    }
}

/// A parsed join URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinUrl {
    /// The server base URL (no trailing slash).
    pub server: String,
    /// The room token.
    pub room: String,
    /// The server's X25519 key.
    pub pubkey: [u8; 32],
}

/// Parses `{base}/{room}?public_key={hex}` (the key may also be the only query parameter
/// among others).
pub fn parse_join_url(url: &str) -> Result<JoinUrl, CommunityError> {
    let bad = |reason| CommunityError::BadJoinUrl { url: url.to_string(), reason };
    let (left, query) = url.trim().split_once('?').ok_or_else(|| bad("no ?public_key="))?;
    if !(left.starts_with("http://") || left.starts_with("https://")) {
        return Err(bad("not an http:// or https:// URL"));
    }
    let key = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("public_key="))
        .ok_or_else(|| bad("no public_key parameter"))?;
    let pubkey: [u8; 32] = hex::decode(key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("public_key is not 64 hex characters"))?;
    let (server, room) = left.trim_end_matches('/').rsplit_once('/').ok_or_else(|| bad("no room"))?;
    if server.ends_with('/')
        || !server.contains("://")
        || server.split("://").nth(1).is_none_or(str::is_empty)
    {
        return Err(bad("no room after the server"));
    }
    if !valid_room_token(room) {
        return Err(bad("the room token is not 1-64 of A-Z a-z 0-9 _ -"));
    }
    Ok(JoinUrl { server: server.to_string(), room: room.to_string(), pubkey })
}

/// A joined room as the state file keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JoinedRoom {
    /// The server base URL.
    pub server: String,
    /// The room token.
    pub room: String,
    /// The server's X25519 key, hex.
    pub pubkey: String,
    /// The last seqno printed by `poll`.
    #[serde(default)]
    pub seqno: i64,
}

impl JoinedRoom {
    /// The server key as bytes.
    pub fn pubkey_bytes(&self) -> Result<[u8; 32], CommunityError> {
        hex::decode(&self.pubkey).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| CommunityError::State {
            path: COMMUNITY_STATE_FILE.into(),
            reason: format!("bad server key for {}", self.server),
        })
    }

    /// `SERVER/ROOM`, the room's key in the state file.
    pub fn key(&self) -> String {
        format!("{}/{}", self.server, self.room)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    #[serde(default)]
    rooms: BTreeMap<String, JoinedRoom>,
    /// `"{server} {own blinded id}"` → the last inbox message id printed.
    #[serde(default)]
    dm_since: BTreeMap<String, i64>,
}

/// The community client's state directory and file.
#[derive(Debug)]
pub struct CommunityState {
    path: PathBuf,
    file: StateFile,
}

/// The default state directory: `$XDG_DATA_HOME/snkit/community`, else
/// `$HOME/.local/share/snkit/community`, else `./.snkit/community` (as `retrieve`'s).
pub fn default_state_dir() -> PathBuf {
    let retrieve = super::state::default_state_dir();
    retrieve.parent().map_or_else(|| PathBuf::from(".snkit"), Path::to_path_buf).join("community")
}

impl CommunityState {
    /// Loads the state in `dir` (empty when there is none yet).
    pub fn load(dir: &Path) -> Result<Self, CommunityError> {
        let path = dir.join(COMMUNITY_STATE_FILE);
        let err = |reason: String| CommunityError::State { path: path.display().to_string(), reason };
        let file = match std::fs::read_to_string(&path) {
            Ok(t) => {
                let f: StateFile = serde_json::from_str(&t).map_err(|e| err(format!("corrupt: {e}")))?;
                if f.version != COMMUNITY_STATE_VERSION {
                    return Err(err(format!("unknown state version {}", f.version)));
                }
                f
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                StateFile { version: COMMUNITY_STATE_VERSION, ..StateFile::default() }
            }
            Err(e) => return Err(err(e.to_string())),
        };
        Ok(Self { path, file })
    }

    /// Saves atomically (the directory made 0700 when missing).
    pub fn save(&self) -> Result<(), CommunityError> {
        let err = |reason: String| CommunityError::State { path: self.path.display().to_string(), reason };
        if let Some(dir) = self.path.parent() {
            crate::net::fs::create_private_dir(dir).map_err(|e| err(e.to_string()))?;
        }
        let text = serde_json::to_vec_pretty(&self.file).map_err(|e| err(e.to_string()))?;
        crate::net::fs::write_atomic(&self.path, &text).map_err(|e| err(e.to_string()))
    }

    /// Every joined room.
    pub fn rooms(&self) -> impl Iterator<Item = &JoinedRoom> {
        self.file.rooms.values()
    }

    /// Remembers a joined room (keeping its seqno when it was joined before).
    pub fn join(&mut self, url: &JoinUrl) -> JoinedRoom {
        let pubkey = hex::encode(url.pubkey);
        let key = format!("{}/{}", url.server, url.room);
        let seqno = self.file.rooms.get(&key).filter(|r| r.pubkey == pubkey).map_or(0, |r| r.seqno);
        let room = JoinedRoom { server: url.server.clone(), room: url.room.clone(), pubkey, seqno };
        self.file.rooms.insert(key, room.clone());
        room
    }

    /// The joined room named `name`: `SERVER/ROOM`, or a token joined on one server only.
    pub fn room(&self, name: &str) -> Result<JoinedRoom, CommunityError> {
        if let Some(r) = self.file.rooms.get(name.trim_end_matches('/')) {
            return Ok(r.clone());
        }
        let mut found = self.file.rooms.values().filter(|r| r.room.eq_ignore_ascii_case(name));
        match (found.next(), found.next()) {
            (Some(r), None) => Ok(r.clone()),
            (Some(_), Some(_)) => Err(CommunityError::Ambiguous(name.to_string())),
            _ => Err(CommunityError::NotJoined(name.to_string())),
        }
    }

    /// A joined server: `server` as given (a base URL, or a joined room's name), or the only
    /// server joined when `None`. Returns its base URL and key.
    pub fn server(&self, server: Option<&str>) -> Result<(String, [u8; 32]), CommunityError> {
        let pick = |r: &JoinedRoom| Ok((r.server.clone(), r.pubkey_bytes()?));
        match server {
            Some(s) => {
                let base = s.trim_end_matches('/');
                if let Some(r) = self.file.rooms.values().find(|r| r.server == base) {
                    return pick(r);
                }
                match self.room(s) {
                    Ok(r) => pick(&r),
                    Err(_) => Err(CommunityError::UnknownServer(s.to_string())),
                }
            }
            None => {
                let mut servers: Vec<&JoinedRoom> = self.file.rooms.values().collect();
                servers.dedup_by(|a, b| a.server == b.server);
                match servers.as_slice() {
                    [one] => pick(one),
                    [] => {
                        Err(CommunityError::BadInput("no room joined: run 'community join URL' first".into()))
                    }
                    _ => Err(CommunityError::BadInput("several servers joined: pass --server URL".into())),
                }
            }
        }
    }

    /// Records the last seqno printed for a room.
    pub fn set_seqno(&mut self, room: &JoinedRoom, seqno: i64) {
        if let Some(r) = self.file.rooms.get_mut(&room.key()) {
            r.seqno = seqno;
        }
    }

    fn dm_key(server: &str, own: &str) -> String {
        format!("{server} {own}")
    }

    /// The last DM id read on `server` by the blinded `own`.
    pub fn dm_since(&self, server: &str, own: &str) -> Option<i64> {
        self.file.dm_since.get(&Self::dm_key(server, own)).copied()
    }

    /// Records the last DM id read.
    pub fn set_dm_since(&mut self, server: &str, own: &str, id: i64) {
        self.file.dm_since.insert(Self::dm_key(server, own), id);
    }
}

/// How the requests of the client travel.
#[derive(Debug, Clone)]
pub enum Route {
    /// Plain HTTP(S) straight to the server (it sees the client's address).
    Direct,
    /// v4 onion requests (`/oxen/v4/lsrpc`) through 3-hop paths of this network, as the apps
    /// reach a community: the server sees the last node's address, the nodes see no content.
    Onion(std::sync::Arc<crate::net::network::Network>),
}

/// A connection to one server, as one identity or anonymous.
#[derive(Debug)]
pub struct Conn {
    client: SogsClient,
    route: Route,
    server: String,
    identity: Option<Identity>,
    server_pk: [u8; 32],
    sign_as: SignAs,
}

/// Which of its keys an identity signs requests with (and is known to the server by).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignAs {
    /// `15…`, the apps' default.
    #[default]
    Blind15,
    /// `25…` (`--blind25`): what a DM to a `25…` ID needs.
    Blind25,
    /// `00` + the Ed25519 key (`--unblinded`; only servers that allow unblinded keys).
    Unblinded,
}

/// A percent-encoded path segment (emoji, IDs, room tokens).
pub fn path_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl Conn {
    /// A connection to `server` (key `server_pk`) signing as `identity`'s key of `sign_as`.
    pub fn new(
        server: &str,
        server_pk: [u8; 32],
        identity: Option<Identity>,
        route: Route,
        sign_as: SignAs,
    ) -> Result<Self, CommunityError> {
        let signer = match (&identity, sign_as) {
            (Some(id), SignAs::Unblinded) => Some(Signer::Unblinded(Box::new(
                Identity::from_seed(id.seed()).map_err(|e| CommunityError::BadInput(e.to_string()))?,
            ))),
            (Some(id), SignAs::Blind15) => Some(Signer::blinded(id, &server_pk)?),
            (Some(id), SignAs::Blind25) => Some(Signer::blinded25(id, &server_pk)?),
            (None, _) => None,
        };
        let client = SogsClient::with_signer(server, server_pk, signer);
        let server = server.trim_end_matches('/').to_string();
        Ok(Self { client, route, server, identity, server_pk, sign_as })
    }

    /// The one place a request leaves the client: signed by [`SogsClient`], sent by the route.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        content_type: &str,
        extra: &[(&str, String)],
    ) -> Result<HttpReply, CommunityError> {
        match &self.route {
            Route::Direct => Ok(self.client.request(method, path, body, content_type, extra)?),
            Route::Onion(net) => {
                // The X-SOGS-* headers travel inside the v4 payload, signed over the same bytes.
                let mut headers: Vec<(String, String)> = self
                    .client
                    .auth_headers(method, path, body)?
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect();
                headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
                let body = (!body.is_empty()).then(|| {
                    headers.push(("Content-Type".to_string(), content_type.to_string()));
                    body.to_vec()
                });
                let req = crate::formats::onion::v4::V4Request {
                    method: method.to_string(),
                    endpoint: path.to_string(),
                    headers,
                    body,
                };
                let target = crate::net::lsrpc::ServerTarget::new(
                    &self.server,
                    crate::formats::keys::X25519Pk::from_bytes(self.server_pk),
                )
                .map_err(|e| CommunityError::BadInput(e.to_string()))?;
                let reply = net.onion_server(&target, &req).map_err(|e| CommunityError::Unreachable {
                    server: self.server.clone(),
                    reason: e.to_string(),
                })?;
                Ok(HttpReply { status: reply.code, body: reply.body })
            }
        }
    }

    /// A request with an optional JSON body whose answer must be a 2xx JSON value.
    pub fn json(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, CommunityError> {
        let bytes = body.map(Value::to_string).unwrap_or_default();
        let reply = self.call(method, path, bytes.as_bytes(), "application/json", &[])?;
        let what = format!("{method} {path}");
        ok_json(&what, &reply)
    }

    /// The signer's blinded ID (`15…`), when signing.
    pub fn own_id(&self) -> Option<String> {
        self.client.pubkey_hex()
    }

    fn identity(&self) -> Result<&Identity, CommunityError> {
        self.identity.as_ref().ok_or_else(|| CommunityError::BadInput("this needs --identity FILE".into()))
    }

    /// The room's details (`GET /room/{t}`).
    pub fn room_info(&self, room: &str) -> Result<Value, CommunityError> {
        self.json("GET", &format!("/room/{}", path_segment(room)), None)
    }

    /// Every room the server lists.
    pub fn rooms(&self) -> Result<Value, CommunityError> {
        self.json("GET", "/rooms", None)
    }

    /// Uploads a room file: `{"id": n}`.
    pub fn upload(&self, room: &str, name: &str, bytes: &[u8]) -> Result<u64, CommunityError> {
        let path = format!("/room/{}/file", path_segment(room));
        let disposition = crate::formats::sogs::disposition_header(name);
        let reply = self.call(
            "POST",
            &path,
            bytes,
            "application/octet-stream",
            &[("Content-Disposition", disposition)],
        )?;
        let v = ok_json(&format!("POST {path}"), &reply)?;
        v["id"].as_u64().ok_or_else(|| CommunityError::BadReply { what: path, reason: "no file id".into() })
    }

    /// Downloads a room file's bytes.
    pub fn download(&self, room: &str, id: u64) -> Result<Vec<u8>, CommunityError> {
        let path = format!("/room/{}/file/{id}", path_segment(room));
        let reply = self.call("GET", &path, b"", "", &[])?;
        if !(200..300).contains(&reply.status) {
            return Err(refused(&format!("GET {path}"), &reply));
        }
        Ok(reply.body)
    }

    /// Signs a post body: the padded Content and its signature, base64.
    fn signed_post(
        &self,
        text: &str,
        name: Option<&str>,
        files: &[AttachedFile],
    ) -> Result<Value, CommunityError> {
        self.identity()?;
        let data = build_post(text, name, files, crate::formats::time::now_ms())?;
        let signer = self
            .client
            .signer()
            .ok_or_else(|| CommunityError::BadInput("this needs --identity FILE".into()))?;
        let sig = signer.sign(&data)?;
        Ok(json!({
            "data": B64.encode(&data),
            "signature": B64.encode(sig),
            "files": files.iter().map(|f| f.id).collect::<Vec<_>>(),
        }))
    }

    /// Posts `text` (with `files` already uploaded), optionally whispered.
    pub fn post(
        &self,
        room: &str,
        text: &str,
        name: Option<&str>,
        files: &[AttachedFile],
        whisper_to: Option<&str>,
        whisper_mods: bool,
    ) -> Result<Value, CommunityError> {
        let mut body = self.signed_post(text, name, files)?;
        if let Some(to) = whisper_to {
            body["whisper_to"] = json!(to);
        }
        if whisper_mods {
            body["whisper_mods"] = json!(true);
        }
        let v = self.json("POST", &format!("/room/{}/message", path_segment(room)), Some(&body))?;
        Ok(json!({"id": v["id"], "seqno": v["seqno"], "posted": v["posted"], "sender": v["session_id"]}))
    }

    /// Replaces the text of one's own message `id`.
    pub fn edit(&self, room: &str, id: i64, text: &str, name: Option<&str>) -> Result<Value, CommunityError> {
        let body = self.signed_post(text, name, &[])?;
        self.json("PUT", &format!("/room/{}/message/{id}", path_segment(room)), Some(&body))?;
        Ok(json!({"id": id, "edited": true}))
    }

    /// The room file URL of `id`.
    pub fn file_url(&self, room: &str, id: u64) -> String {
        format!("{}/room/{room}/file/{id}", self.server)
    }

    /// One `since` poll: the decoded lines of the updates after `seqno`.
    pub fn poll_once(&self, room: &str, seqno: i64) -> Result<Vec<Value>, CommunityError> {
        let path = format!("/room/{}/messages/since/{seqno}?t=r&limit={POLL_LIMIT}", path_segment(room));
        let v = self.json("GET", &path, None)?;
        let list = v
            .as_array()
            .ok_or_else(|| CommunityError::BadReply { what: path, reason: "not a list".into() })?;
        Ok(list.iter().map(decode_message).collect())
    }

    /// Sends a blinded DM with `text` (a padded Content, as the apps send it) to `to` (`15…`, or
    /// `25…` when signing as 25: the server names us to the recipient by the key we sign with).
    pub fn dm_send(&self, to: &str, text: &str) -> Result<Value, CommunityError> {
        let own = self.identity()?;
        let recipient =
            BlindedId::parse(to).map_err(|e| CommunityError::BadInput(format!("recipient: {e}")))?;
        let ours = match self.sign_as {
            SignAs::Blind15 => BlindedKind::Blind15,
            SignAs::Blind25 => BlindedKind::Blind25,
            SignAs::Unblinded => {
                return Err(CommunityError::BadInput(
                    "blinded DMs need a blinded key, not --unblinded".into(),
                ));
            }
        };
        if recipient.kind() != ours {
            return Err(CommunityError::BadInput(format!(
                "a blinded DM goes between two IDs of one kind (15… to 15…, 25… to 25…); {to:.2}… needs {}",
                if recipient.kind() == BlindedKind::Blind25 {
                    "--blind25"
                } else {
                    "signing as 15… (no --blind25)"
                }
            )));
        }
        let content = Content::text(text, crate::formats::time::now_ms()).encode();
        let padded =
            pad(&content, PaddingStyle::Libsession).map_err(|e| CommunityError::BadInput(e.to_string()))?;
        let ct = encrypt_for_blinded(own, &self.server_pk, &recipient, &padded)?;
        let v = self.json(
            "POST",
            &format!("/inbox/{}", path_segment(to)),
            Some(&json!({"message": B64.encode(ct)})),
        )?;
        Ok(
            json!({"id": v["id"], "posted_at": v["posted_at"], "expires_at": v["expires_at"], "sender": v["sender"], "recipient": v["recipient"]}),
        )
    }

    /// The inbox after `since` (all of it with `None`), decrypted; empty on 304.
    pub fn dm_poll(&self, since: Option<i64>) -> Result<Vec<Value>, CommunityError> {
        let own = self.identity()?;
        let path = match since {
            Some(id) => format!("/inbox/since/{id}"),
            None => "/inbox".to_string(),
        };
        let reply = self.call("GET", &path, b"", "", &[])?;
        if reply.status == 304 {
            return Ok(Vec::new());
        }
        let v = ok_json(&format!("GET {path}"), &reply)?;
        let list = v
            .as_array()
            .ok_or_else(|| CommunityError::BadReply { what: path, reason: "not a list".into() })?;
        Ok(list.iter().map(|m| self.decode_dm(own, m)).collect())
    }

    fn decode_dm(&self, own: &Identity, m: &Value) -> Value {
        let sender = m["sender"].as_str().unwrap_or_default();
        let mut line = json!({"id": m["id"], "posted_at": m["posted_at"], "sender": sender});
        let opened = BlindedId::parse(sender)
            .map_err(CommunityFormatError::from)
            .and_then(|s| {
                let data = m["message"]
                    .as_str()
                    .and_then(crate::formats::sogs::decode_b64)
                    .ok_or(CommunityFormatError::BadDm("message is not base64"))?;
                decrypt_from_blinded(own, &self.server_pk, &s, &data)
            })
            .and_then(|o| {
                let c = Content::decode(unpad(&o.message))
                    .map_err(|e| CommunityFormatError::NotContent(e.to_string()))?;
                Ok((o.sender_session_id.to_string(), c.text_body().unwrap_or_default().to_string()))
            });
        match opened {
            Ok((sid, text)) => {
                line["session_id"] = json!(sid);
                line["text"] = json!(text);
                line["decrypted"] = json!(true);
            }
            Err(e) => {
                line["text"] = Value::Null;
                line["decrypted"] = json!(false);
                line["error"] = json!(e.to_string());
            }
        }
        line
    }
}

/// The 2xx JSON answer of a request, else [`CommunityError::Refused`].
fn ok_json(what: &str, reply: &HttpReply) -> Result<Value, CommunityError> {
    if !(200..300).contains(&reply.status) {
        return Err(refused(what, reply));
    }
    serde_json::from_slice(&reply.body)
        .map_err(|e| CommunityError::BadReply { what: what.to_string(), reason: e.to_string() })
}

fn refused(what: &str, reply: &HttpReply) -> CommunityError {
    CommunityError::Refused { what: what.to_string(), status: reply.status, text: reply.text() }
}

/// One poll line from one server message: `{id, seqno, sender, posted, edited, text, name,
/// deleted, whisper, reactions, files, verified}`. A message whose signature does not verify, or
/// whose data does not decode, is still a line, with `"verified": false` (and `error`); deleted
/// messages and reaction-only updates have nothing to verify (`"verified": null`).
pub fn decode_message(m: &Value) -> Value {
    let sender = m["session_id"].as_str().unwrap_or_default();
    let deleted = m["deleted"].as_bool().unwrap_or(false);
    let mut line = json!({
        "id": m["id"], "seqno": m["seqno"], "sender": m.get("session_id").cloned().unwrap_or(Value::Null),
        "posted": m.get("posted").cloned().unwrap_or(Value::Null),
        "edited": m.get("edited").cloned().unwrap_or(Value::Null),
        "text": Value::Null, "name": Value::Null, "deleted": deleted,
        "whisper": m["whisper"].as_bool().unwrap_or(false),
        "reactions": m.get("reactions").cloned().unwrap_or_else(|| json!({})),
        "files": [], "verified": Value::Null,
    });
    let Some(data_b64) = m["data"].as_str() else { return line };
    let data = crate::formats::sogs::decode_b64(data_b64);
    let sig: Option<[u8; 64]> =
        m["signature"].as_str().and_then(crate::formats::sogs::decode_b64).and_then(|s| s.try_into().ok());
    let Some(data) = data else {
        line["verified"] = json!(false);
        line["error"] = json!("data is not base64");
        return line;
    };
    line["verified"] = json!(sig.is_some_and(|s| verify_post(sender, &data, &s)));
    match decode_post(&data) {
        Ok(p) => {
            line["text"] = json!(p.text);
            line["name"] = json!(p.name);
            line["files"] = json!(p.files);
        }
        Err(e) => {
            line["verified"] = json!(false);
            line["error"] = json!(e.to_string());
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

    #[test]
    fn join_urls() {
        let u = parse_join_url(&format!("http://127.0.0.1:8080/lobby?public_key={KEY}")).unwrap();
        assert_eq!((u.server.as_str(), u.room.as_str()), ("http://127.0.0.1:8080", "lobby"));
        assert_eq!(hex::encode(u.pubkey), KEY);
        let u = parse_join_url(&format!("https://chat.example.org/sub/r-1?x=1&public_key={KEY}")).unwrap();
        assert_eq!(u.server, "https://chat.example.org/sub");
        for bad in [
            "http://host/room".to_string(),
            format!("ftp://host/room?public_key={KEY}"),
            "http://host/room?public_key=abcd".to_string(),
            format!("http://host?public_key={KEY}"),
            format!("http:///room?public_key={KEY}"),
            format!("http://host/ro%20om?public_key={KEY}"),
            format!("http://host/room?pubkey={KEY}"),
        ] {
            assert!(matches!(parse_join_url(&bad), Err(CommunityError::BadJoinUrl { .. })), "{bad}");
        }
    }

    #[test]
    fn state_remembers_rooms_and_resolves_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = CommunityState::load(dir.path()).unwrap();
        let a = parse_join_url(&format!("http://a:1/lobby?public_key={KEY}")).unwrap();
        let b = parse_join_url(&format!("http://b:2/lobby?public_key={KEY}")).unwrap();
        let c = parse_join_url(&format!("http://b:2/other?public_key={KEY}")).unwrap();
        let ra = s.join(&a);
        s.join(&b);
        s.join(&c);
        s.set_seqno(&ra, 42);
        s.save().unwrap();
        let t = CommunityState::load(dir.path()).unwrap();
        assert!(matches!(t.room("lobby"), Err(CommunityError::Ambiguous(_))));
        assert_eq!(t.room("http://a:1/lobby").unwrap().seqno, 42);
        assert_eq!(t.room("other").unwrap().server, "http://b:2");
        assert!(matches!(t.room("nope"), Err(CommunityError::NotJoined(_))));
        assert!(t.server(None).is_err());
        assert_eq!(t.server(Some("http://b:2")).unwrap().0, "http://b:2");
        assert!(matches!(t.server(Some("http://c:3")), Err(CommunityError::UnknownServer(_))));
        // Joining again keeps the seqno.
        let mut t = t;
        assert_eq!(t.join(&a).seqno, 42);
        std::fs::write(dir.path().join(COMMUNITY_STATE_FILE), b"{bad").unwrap();
        assert!(matches!(CommunityState::load(dir.path()), Err(CommunityError::State { .. })));
    }

    #[test]
    fn poll_lines_verify_or_say_so() {
        let server = Identity::from_seed(&[7u8; 32]).unwrap().x25519_public();
        let id = Identity::from_seed(&[8u8; 32]).unwrap();
        let kp = crate::formats::blinding::BlindedKeypair::blind15(&id, &server).unwrap();
        let data = build_post("hey", Some("Bo"), &[], 1).unwrap();
        let sig = kp.sign(&data).unwrap();
        let m = json!({"id": 1, "seqno": 3, "session_id": kp.id().to_string(), "posted": 1.5,
            "data": B64.encode(&data), "signature": B64.encode(sig), "reactions": {}});
        let line = decode_message(&m);
        assert_eq!(line["verified"], true);
        assert_eq!(line["text"], "hey");
        assert_eq!(line["name"], "Bo");
        let mut forged = m.clone();
        forged["signature"] = json!(B64.encode([0u8; 64]));
        let line = decode_message(&forged);
        assert_eq!(line["verified"], false);
        assert_eq!(line["text"], "hey");
        let deleted = decode_message(
            &json!({"id": 1, "seqno": 4, "session_id": kp.id().to_string(), "deleted": true, "data": null}),
        );
        assert_eq!(deleted["deleted"], true);
        assert_eq!(deleted["verified"], Value::Null);
    }
}
