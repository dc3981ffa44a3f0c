//! How a message points at a file (attachments.md §4): the `AttachmentPointer` of
//! `DataMessage.attachments`, and its download URL, whose fragment tells the reader which format
//! the blob is in.
//!
//! URL: `{scheme}://{host}/file/{id}`, then an optional fragment of `&`-separated items: `d`
//! means the 'S' format (`d=` with any value is read as `d` too, leniently), `p=<64 hex>` names a
//! non-default file server X25519 key. Other items are ignored, so a newer writer's additions do
//! not make a file unreadable. The reader picks the scheme: `d` → 'S'; else a key and a digest →
//! legacy; a key with neither is an error.
//!
//! The protobuf encoding is not here; [`AttachmentPointer`] keeps the field numbers in its docs
//! and has the JSON form snkit's commands read and write (bytes as hex).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::formats::keys::{KeyHexError, X25519Pk};
use crate::formats::limits::{ATTACHMENT_KEY_BYTES, LEGACY_DIGEST_BYTES, LEGACY_KEY_BYTES};

/// The fragment item that marks the 'S' format.
const STREAM_ITEM: &str = "d";
/// The fragment item prefix that names the server's X25519 key.
const SERVER_KEY_PREFIX: &str = "p=";
/// The path segment before a file id.
const FILE_PATH: &str = "/file/";

/// Why a pointer or a URL cannot say how to read its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointerError {
    /// The download URL is not `{scheme}://{host}/file/{id}`.
    #[error("download URL {0:?} is not {{scheme}}://{{host}}/file/{{id}}")]
    BadUrl(String),
    /// The URL fragment's `p=` is not a 64-hex X25519 key.
    #[error("download URL fragment item p= is not a 64-hex X25519 key: {0}")]
    BadServerKey(KeyHexError),
    /// The pointer carries no key.
    #[error("the pointer has no key")]
    MissingKey,
    /// The pointer has a key but no way to tell its scheme (no `d` fragment, no digest).
    #[error(
        "the pointer has a key but neither a 'd' URL fragment (stream format) nor a digest (legacy format): cannot tell how to decrypt it"
    )]
    MissingDigest,
    /// The key's length is wrong for its scheme.
    #[error("a {scheme} key is {expected} bytes, this one is {got}")]
    KeyLength {
        /// The pointer's scheme.
        scheme: Scheme,
        /// The key length of that scheme.
        expected: usize,
        /// The key's length.
        got: usize,
    },
    /// The legacy digest is not `LEGACY_DIGEST_BYTES`.
    #[error("a legacy digest is {LEGACY_DIGEST_BYTES} bytes (SHA-256), this one is {0}")]
    DigestLength(usize),
}

/// How an attachment blob is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// The 'S' format ([`super::stream`]).
    Stream,
    /// AES-256-CBC + HMAC-SHA256 ([`super::legacy`]).
    Legacy,
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stream => "stream",
            Self::Legacy => "legacy",
        })
    }
}

/// The reader's rule: the `d` fragment → 'S'; else key and digest → legacy; a key alone (or no
/// key) is an error. Key and digest lengths are checked against the scheme chosen.
pub fn choose_scheme(
    stream_fragment: bool,
    key: Option<&[u8]>,
    digest: Option<&[u8]>,
) -> Result<Scheme, PointerError> {
    let key = key.filter(|k| !k.is_empty()).ok_or(PointerError::MissingKey)?;
    let digest = digest.filter(|d| !d.is_empty());
    let scheme = match (stream_fragment, digest) {
        (true, _) => Scheme::Stream,
        (false, Some(_)) => Scheme::Legacy,
        (false, None) => return Err(PointerError::MissingDigest),
    };
    let expected = match scheme {
        Scheme::Stream => ATTACHMENT_KEY_BYTES,
        Scheme::Legacy => LEGACY_KEY_BYTES,
    };
    if key.len() != expected {
        return Err(PointerError::KeyLength { scheme, expected, got: key.len() });
    }
    if let (Scheme::Legacy, Some(d)) = (scheme, digest)
        && d.len() != LEGACY_DIGEST_BYTES
    {
        return Err(PointerError::DigestLength(d.len()));
    }
    Ok(scheme)
}

/// A download URL split into the file's address and what its fragment says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadUrl {
    /// `{scheme}://{host}/file/{id}`, without the fragment.
    pub base: String,
    /// The fragment has `d`: the blob is in the 'S' format.
    pub stream: bool,
    /// The fragment has `p=`: the file server's X25519 key, when it is not the default server.
    pub server_x25519: Option<X25519Pk>,
}

impl DownloadUrl {
    /// A URL for the file `id` on `server` (`{scheme}://{host}`).
    pub fn new(server: &str, id: &str, stream: bool, server_x25519: Option<X25519Pk>) -> Self {
        Self { base: format!("{}{FILE_PATH}{id}", server.trim_end_matches('/')), stream, server_x25519 }
    }

    /// Parses a download URL, its fragment included.
    pub fn parse(url: &str) -> Result<Self, PointerError> {
        let (base, fragment) = url.split_once('#').unwrap_or((url, ""));
        let bad = || PointerError::BadUrl(url.to_string());
        let (_, rest) = base.split_once("://").ok_or_else(bad)?;
        let (host, path) = rest.split_once('/').ok_or_else(bad)?;
        let id = path.strip_prefix(FILE_PATH.trim_start_matches('/')).unwrap_or("");
        if host.is_empty() || id.is_empty() {
            return Err(bad());
        }
        let mut parsed = Self { base: base.to_string(), stream: false, server_x25519: None };
        for item in fragment.split('&') {
            if item == STREAM_ITEM || item.starts_with("d=") {
                parsed.stream = true;
            } else if let Some(hex) = item.strip_prefix(SERVER_KEY_PREFIX) {
                parsed.server_x25519 = Some(X25519Pk::from_hex(hex).map_err(PointerError::BadServerKey)?);
            }
        }
        Ok(parsed)
    }

    /// The file id: what follows `/file/` (up to a query string or another path segment).
    pub fn file_id(&self) -> &str {
        let after = self.base.split_once(FILE_PATH).map(|(_, id)| id).unwrap_or("");
        after.split(['/', '?']).next().unwrap_or("")
    }
}

impl fmt::Display for DownloadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)?;
        let mut items = Vec::new();
        if self.stream {
            items.push(STREAM_ITEM.to_string());
        }
        if let Some(pk) = &self.server_x25519 {
            items.push(format!("{SERVER_KEY_PREFIX}{}", pk.to_hex()));
        }
        if !items.is_empty() {
            write!(f, "#{}", items.join("&"))?;
        }
        Ok(())
    }
}

/// `AttachmentPointer` (SessionProtos.proto), one entry of `DataMessage.attachments` (field 2).
/// Field numbers in the docs; field 5 (`thumbnail`) is not used by the apps. In JSON, `key` and
/// `digest` are hex; absent optional fields are left out.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AttachmentPointer {
    /// 101 `url`, string: the real reference, with its fragment.
    pub url: String,
    /// 3 `key`, bytes: 32 ('S') or 64 (legacy: AES ‖ HMAC).
    #[serde(with = "hex_bytes")]
    pub key: Vec<u8>,
    /// 4 `size`, uint32: the unpadded file size.
    pub size: u32,
    /// 6 `digest`, bytes: SHA-256 of the blob, legacy only.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_opt")]
    pub digest: Option<Vec<u8>>,
    /// 2 `contentType`, string: a MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// 7 `fileName`, string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// 8 `flags`, uint32: 1 = voice message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<u32>,
    /// 9 `width`, uint32 (pixels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// 10 `height`, uint32 (pixels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// 11 `caption`, string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// 1 `id`, fixed64: deprecated (the numeric file id before `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
}

/// Flag bit of a voice message (`AttachmentPointer.flags`).
pub const FLAG_VOICE_MESSAGE: u32 = 1;

impl AttachmentPointer {
    /// The parsed download URL.
    pub fn download_url(&self) -> Result<DownloadUrl, PointerError> {
        DownloadUrl::parse(&self.url)
    }

    /// How to decrypt the file, by the reader's rule ([`choose_scheme`]).
    pub fn scheme(&self) -> Result<Scheme, PointerError> {
        let url = self.download_url()?;
        choose_scheme(url.stream, Some(&self.key), self.digest.as_deref())
    }
}

/// The key is a secret: `Debug` shows its length only.
impl fmt::Debug for AttachmentPointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentPointer")
            .field("url", &self.url)
            .field("key", &format_args!("<{} bytes>", self.key.len()))
            .field("size", &self.size)
            .field("digest", &self.digest.as_ref().map(hex::encode))
            .field("content_type", &self.content_type)
            .field("file_name", &self.file_name)
            .finish_non_exhaustive()
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text.trim()).map_err(|e| D::Error::custom(format!("not hex: {e}")))
    }
}

mod hex_opt {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_str(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => {
                hex::decode(text.trim()).map(Some).map_err(|e| D::Error::custom(format!("not hex: {e}")))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PK: &str = "da21e1d886c6fbaea313f75298bd64aab03a97ce985b46bb2dad9f2089c8ee59";

    #[test]
    fn url_fragment_items() {
        let u = DownloadUrl::parse("http://filev2.getsession.org/file/12345#d").unwrap();
        assert!(u.stream);
        assert_eq!(u.file_id(), "12345");
        assert_eq!(u.to_string(), "http://filev2.getsession.org/file/12345#d");
        let u = DownloadUrl::parse(&format!("https://fs.example/file/abc_-XYZ#p={PK}&d")).unwrap();
        assert!(u.stream);
        assert_eq!(u.server_x25519.unwrap().to_hex(), PK);
        assert_eq!(u.to_string(), format!("https://fs.example/file/abc_-XYZ#d&p={PK}"));
        // d= leniently, unknown items ignored, no fragment at all.
        assert!(DownloadUrl::parse("http://h/file/1#d=1").unwrap().stream);
        assert!(!DownloadUrl::parse("http://h/file/1#x=2&&").unwrap().stream);
        assert!(!DownloadUrl::parse("http://h/file/1").unwrap().stream);
        assert!(!DownloadUrl::parse("http://h/file/1#dd").unwrap().stream);
        assert!(matches!(DownloadUrl::parse("http://h/file/1#p=zz"), Err(PointerError::BadServerKey(_))));
        for bad in ["", "h/file/1", "http:///file/1", "http://h/files/1", "http://h/file/", "http://h"] {
            assert!(matches!(DownloadUrl::parse(bad), Err(PointerError::BadUrl(_))), "{bad}");
        }
        let built = DownloadUrl::new("http://127.0.0.1:9000/", "77", true, None);
        assert_eq!(built.to_string(), "http://127.0.0.1:9000/file/77#d");
        assert_eq!(DownloadUrl::parse(&built.to_string()).unwrap(), built);
    }

    #[test]
    fn the_reader_picks_the_scheme() {
        let k32 = [1u8; 32];
        let k64 = [1u8; 64];
        let d = [2u8; 32];
        assert_eq!(choose_scheme(true, Some(&k32), None), Ok(Scheme::Stream));
        assert_eq!(choose_scheme(true, Some(&k32), Some(&d)), Ok(Scheme::Stream));
        assert_eq!(choose_scheme(false, Some(&k64), Some(&d)), Ok(Scheme::Legacy));
        assert_eq!(choose_scheme(false, Some(&k64), None), Err(PointerError::MissingDigest));
        assert_eq!(choose_scheme(false, Some(&k32), None), Err(PointerError::MissingDigest));
        assert_eq!(choose_scheme(true, None, None), Err(PointerError::MissingKey));
        assert_eq!(choose_scheme(true, Some(&[]), None), Err(PointerError::MissingKey));
        assert!(matches!(
            choose_scheme(true, Some(&k64), None),
            Err(PointerError::KeyLength { expected: 32, .. })
        ));
        assert!(matches!(
            choose_scheme(false, Some(&k32), Some(&d)),
            Err(PointerError::KeyLength { expected: 64, .. })
        ));
        assert_eq!(choose_scheme(false, Some(&k64), Some(&d[..5])), Err(PointerError::DigestLength(5)));
    }

    #[test]
    fn pointer_json_round_trip_and_secret_free_debug() {
        let p = AttachmentPointer {
            url: "http://h/file/9#d".into(),
            key: vec![0xab; 32],
            size: 19,
            content_type: Some("text/plain".into()),
            file_name: Some("v.txt".into()),
            ..Default::default()
        };
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"url": "http://h/file/9#d", "key": "ab".repeat(32), "size": 19,
                               "content_type": "text/plain", "file_name": "v.txt"})
        );
        let back: AttachmentPointer = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.scheme(), Ok(Scheme::Stream));
        assert!(!format!("{p:?}").contains("abab"));

        let legacy: AttachmentPointer = serde_json::from_str(&format!(
            r#"{{"url":"http://h/file/9","key":"{}","size":5,"digest":"{}","flags":1}}"#,
            "11".repeat(64),
            "22".repeat(32)
        ))
        .unwrap();
        assert_eq!(legacy.scheme(), Ok(Scheme::Legacy));
        assert_eq!(legacy.flags, Some(FLAG_VOICE_MESSAGE));
        assert!(serde_json::from_str::<AttachmentPointer>(r#"{"url":"u","key":"zz","size":1}"#).is_err());
    }
}
