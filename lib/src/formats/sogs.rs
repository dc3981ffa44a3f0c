//! The pure formats of a community server (SOGS, spec sogs.md): the `X-SOGS-*` request
//! signature (the signed bytes, parsing the four headers), Session's message padding, the join
//! URL, room tokens and `Content-Disposition` file names. No I/O: the server (`crate::sogs`) and
//! the client helper (`crate::client::sogs`) both build on this.
//!
//! Signed bytes (sogs.md §1): server X25519 pk (32) ‖ nonce (16) ‖ timestamp ASCII ‖ METHOD ‖
//! URL-decoded path ‖ (`?` + query as sent, if any) ‖ (BLAKE2b-512(body), if non-empty).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use blake2::{Blake2b512, Digest};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};

use crate::formats::blinding::{BlindedKeypair, BlindingError};
use crate::formats::identity::Identity;

/// Request header naming the signer.
pub const HEADER_PUBKEY: &str = "x-sogs-pubkey";
/// Request header with the 16-byte nonce.
pub const HEADER_NONCE: &str = "x-sogs-nonce";
/// Request header with the unix-seconds timestamp.
pub const HEADER_TIMESTAMP: &str = "x-sogs-timestamp";
/// Request header with the 64-byte signature.
pub const HEADER_SIGNATURE: &str = "x-sogs-signature";
/// Bytes of a request nonce.
pub const NONCE_BYTES: usize = 16;
/// Bytes of a request or message signature.
pub const SIGNATURE_BYTES: usize = 64;
/// How far a request timestamp may be from the server's clock (±24 h, sogs.md §1).
pub const TIMESTAMP_SKEW_S: i64 = 24 * 60 * 60;
/// Longest room token accepted (pysogs keeps tokens short; 64 is generous for a URL segment).
pub const MAX_ROOM_TOKEN_CHARS: usize = 64;
/// Session padding marker: the byte that ends the content before the zero fill.
pub const PADDING_MARKER: u8 = 0x80;

/// Why the X-SOGS-* headers were refused before any key or signature check (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthParseError {
    /// One to three of the four headers were given.
    #[error("Invalid authentication headers: missing {0}/4 required X-SOGS-* headers")]
    Missing(usize),
    /// The pubkey is not 66 hex digits with a known prefix.
    #[error("Invalid authentication: X-SOGS-Pubkey is not a valid 66-hex digit id")]
    Pubkey,
    /// The pubkey is an unblinded `00` key but the server requires blinded keys.
    #[error("Invalid authentication: this server requires the use of blinded ids")]
    Unblinded,
    /// The key bytes are not a usable Ed25519 point (or a small-order one).
    #[error("Invalid authentication: X-SOGS-Pubkey is not a valid Ed25519 pubkey")]
    BadPoint,
    /// The nonce is not 16 bytes of base64 or hex.
    #[error("Invalid authentication: X-SOGS-Nonce must be 16 bytes (encoded as base64 or hex)")]
    Nonce,
    /// The signature is not 64 bytes of base64 or hex.
    #[error("Invalid authentication: X-SOGS-Signature is not base64[88] or hex[128]")]
    Signature,
    /// The timestamp is not an integer.
    #[error("Invalid authentication: X-SOGS-Timestamp is not a valid timestamp")]
    Timestamp,
}

/// Which kind of key signed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerKind {
    /// `00` + the account's own Ed25519 key.
    Unblinded,
    /// `15` + a blinded Ed25519 key.
    Blinded15,
    /// `25` + a blinded Ed25519 key.
    Blinded25,
}

/// The four headers, parsed (not yet verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeaders {
    /// The signer's kind.
    pub kind: SignerKind,
    /// The 32-byte Ed25519 key after the prefix.
    pub key: [u8; 32],
    /// The pubkey header as given, lower-cased (`00…`, `15…`, `25…`).
    pub pubkey_hex: String,
    /// The decoded nonce.
    pub nonce: [u8; NONCE_BYTES],
    /// The timestamp as sent (it is signed as ASCII).
    pub timestamp_str: String,
    /// The timestamp's value.
    pub timestamp: i64,
    /// The decoded signature.
    pub signature: [u8; SIGNATURE_BYTES],
}

/// Decodes `s` as hex (2·n characters) or base64 (padded or not) of exactly `n` bytes.
pub fn decode_hex_or_b64(s: &str, n: usize) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.len() == 2 * n
        && let Ok(v) = hex::decode(s)
    {
        return Some(v);
    }
    let v = STANDARD.decode(s).or_else(|_| STANDARD_NO_PAD.decode(s)).ok()?;
    (v.len() == n).then_some(v)
}

/// Decodes standard base64 (padded or not), as message bodies are sent.
pub fn decode_b64(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).or_else(|_| STANDARD_NO_PAD.decode(s)).ok()
}

/// Standard padded base64.
pub fn encode_b64(b: &[u8]) -> String {
    STANDARD.encode(b)
}

/// Parses the four headers (`None` each when absent or empty). `Ok(None)`: all absent
/// (anonymous). `allow_unblinded`: whether a `00` key is accepted.
pub fn parse_auth_headers(
    pubkey: Option<&str>,
    nonce: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    allow_unblinded: bool,
) -> Result<Option<AuthHeaders>, AuthParseError> {
    let given = [pubkey, nonce, timestamp, signature];
    let missing = given.iter().filter(|h| h.is_none_or(str::is_empty)).count();
    if missing == 4 {
        return Ok(None);
    }
    let (Some(pk), Some(nonce), Some(ts), Some(sig)) = (pubkey, nonce, timestamp, signature) else {
        return Err(AuthParseError::Missing(missing));
    };
    if missing > 0 {
        return Err(AuthParseError::Missing(missing));
    }
    let pk = pk.trim().to_ascii_lowercase();
    if pk.len() != 66 {
        return Err(AuthParseError::Pubkey);
    }
    let raw = hex::decode(&pk).map_err(|_| AuthParseError::Pubkey)?;
    let kind = match raw[0] {
        0x00 => SignerKind::Unblinded,
        0x15 => SignerKind::Blinded15,
        0x25 => SignerKind::Blinded25,
        _ => return Err(AuthParseError::Pubkey),
    };
    if kind == SignerKind::Unblinded && !allow_unblinded {
        return Err(AuthParseError::Unblinded);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&raw[1..]);
    if !valid_point(&key) {
        return Err(AuthParseError::BadPoint);
    }
    let nonce = decode_hex_or_b64(nonce, NONCE_BYTES).ok_or(AuthParseError::Nonce)?;
    let signature = decode_hex_or_b64(sig, SIGNATURE_BYTES).ok_or(AuthParseError::Signature)?;
    let timestamp_str = ts.trim().to_string();
    let timestamp: i64 = timestamp_str.parse().map_err(|_| AuthParseError::Timestamp)?;
    let mut n = [0u8; NONCE_BYTES];
    n.copy_from_slice(&nonce);
    let mut s = [0u8; SIGNATURE_BYTES];
    s.copy_from_slice(&signature);
    Ok(Some(AuthHeaders { kind, key, pubkey_hex: pk, nonce: n, timestamp_str, timestamp, signature: s }))
}

/// Whether `key` is an Ed25519 point that is not of small order (a small-order key would let
/// anyone forge signatures for it).
pub fn valid_point(key: &[u8; 32]) -> bool {
    decompressed(key).is_some_and(|vk| !vk.is_weak())
}

/// Keys whose decompressed point is remembered (a server sees the same users again and again).
pub const KEY_CACHE_ENTRIES: usize = 4096;

/// The key as a point: decompressing it (a field square root) is about a third of a verification,
/// and every signed request needs it twice (the point check, then the signature), so points are
/// remembered, at most [`KEY_CACHE_ENTRIES`] (the cache starts over when full). `None`: not a point.
fn decompressed(key: &[u8; 32]) -> Option<VerifyingKey> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock, PoisonError};
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], Option<VerifyingKey>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().unwrap_or_else(PoisonError::into_inner).get(key) {
        return *hit;
    }
    let point = VerifyingKey::from_bytes(key).ok();
    let mut c = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if c.len() >= KEY_CACHE_ENTRIES {
        c.clear();
    }
    c.insert(*key, point);
    point
}

/// Whether `ts` is within [`TIMESTAMP_SKEW_S`] of `now` (both unix seconds).
pub fn timestamp_fresh(ts: i64, now: i64) -> bool {
    (now - TIMESTAMP_SKEW_S..=now + TIMESTAMP_SKEW_S).contains(&ts)
}

/// URL-decodes a request path (`%xx` escapes; `+` stays `+`), as the signature covers it.
pub fn decode_path(path: &str) -> String {
    percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned()
}

/// The bytes a request signature covers. `path` is already URL-decoded; `query` is the raw query
/// after `?` (`None` or empty: no `?` at all).
pub fn signed_message(
    server_pk: &[u8; 32],
    nonce: &[u8; NONCE_BYTES],
    timestamp: &str,
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(32 + NONCE_BYTES + timestamp.len() + method.len() + path.len() + 80);
    m.extend_from_slice(server_pk);
    m.extend_from_slice(nonce);
    m.extend_from_slice(timestamp.as_bytes());
    m.extend_from_slice(method.as_bytes());
    m.extend_from_slice(path.as_bytes());
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        m.push(b'?');
        m.extend_from_slice(q.as_bytes());
    }
    if !body.is_empty() {
        m.extend_from_slice(&Blake2b512::digest(body));
    }
    m
}

/// Verifies `sig` over `msg` against the Ed25519 key `key` (blinded or not: blinded signatures
/// are ordinary Ed25519 ones against the blinded key).
pub fn verify(key: &[u8; 32], msg: &[u8], sig: &[u8; SIGNATURE_BYTES]) -> bool {
    let Some(vk) = decompressed(key) else { return false };
    vk.verify(msg, &Signature::from_bytes(sig)).is_ok()
}

/// How a client signs its requests to one server.
#[derive(Debug)]
pub enum Signer {
    /// Blinded15 (the default of the apps).
    Blinded(Box<BlindedKeypair>),
    /// `00` + the account's Ed25519 key (only for servers that allow it).
    Unblinded(Box<Identity>),
}

impl Signer {
    /// The blinded15 signer of `identity` on the server `server_pk`.
    pub fn blinded(identity: &Identity, server_pk: &[u8; 32]) -> Result<Self, BlindingError> {
        Ok(Self::Blinded(Box::new(BlindedKeypair::blind15(identity, server_pk)?)))
    }

    /// The blinded25 signer of `identity` on the server `server_pk` (the newer blinding, whose ID
    /// is unambiguous and cannot be turned back into the Session ID by flipping a sign).
    pub fn blinded25(identity: &Identity, server_pk: &[u8; 32]) -> Result<Self, BlindingError> {
        Ok(Self::Blinded(Box::new(BlindedKeypair::blind25(identity, server_pk)?)))
    }

    /// The `X-SOGS-Pubkey` value: `15…`, `25…` or `00…`.
    pub fn pubkey_hex(&self) -> String {
        match self {
            Self::Blinded(k) => k.id().to_string(),
            Self::Unblinded(id) => format!("00{}", hex::encode(id.ed25519_public())),
        }
    }

    /// Signs `msg` with the signer's key.
    pub fn sign(&self, msg: &[u8]) -> Result<[u8; 64], BlindingError> {
        match self {
            Self::Blinded(k) => k.sign(msg),
            Self::Unblinded(id) => Ok(id.sign(msg)),
        }
    }

    /// The four X-SOGS-* headers (name, value) for one request. `path` is the path as sent (it
    /// is URL-decoded here for signing), `query` the raw query without `?`.
    #[allow(clippy::too_many_arguments)]
    pub fn headers(
        &self,
        server_pk: &[u8; 32],
        nonce: &[u8; NONCE_BYTES],
        timestamp: i64,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<Vec<(&'static str, String)>, BlindingError> {
        let ts = timestamp.to_string();
        let msg = signed_message(server_pk, nonce, &ts, method, &decode_path(path), query, body);
        let sig = self.sign(&msg)?;
        Ok(vec![
            (HEADER_PUBKEY, self.pubkey_hex()),
            (HEADER_NONCE, encode_b64(nonce)),
            (HEADER_TIMESTAMP, ts),
            (HEADER_SIGNATURE, encode_b64(&sig)),
        ])
    }
}

/// Session's padding to a known length: `data ‖ 0x80 ‖ zeros` up to `len` (no-op when
/// `len ≤ data.len()`). The server re-pads a stored message to the length it was posted with,
/// because the signature covers the padded bytes.
pub fn pad(data: &[u8], len: usize) -> Vec<u8> {
    let mut out = data.to_vec();
    if len > data.len() {
        out.push(PADDING_MARKER);
        out.resize(len, 0);
    }
    out
}

/// Strips Session's padding (the one rule, shared with direct messages).
pub use crate::formats::session_protocol::unpad;

/// Whether `t` is a room token: 1–[`MAX_ROOM_TOKEN_CHARS`] of `[A-Za-z0-9_-]`.
pub fn valid_room_token(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= MAX_ROOM_TOKEN_CHARS
        && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The join URL of a room: `{base}/{token}?public_key={hex}`.
pub fn join_url(base_url: &str, token: &str, server_pk: &[u8; 32]) -> String {
    format!("{}/{token}?public_key={}", base_url.trim_end_matches('/'), hex::encode(server_pk))
}

/// The file name of a `Content-Disposition` header: `filename*=UTF-8''…` (RFC 5987, preferred)
/// or `filename="…"` / `filename=…`. `None` when neither is there.
pub fn disposition_filename(value: &str) -> Option<String> {
    let mut plain = None;
    for part in value.split(';').map(str::trim) {
        let Some((k, v)) = part.split_once('=') else { continue };
        let k = k.trim().to_ascii_lowercase();
        let v = v.trim();
        if k == "filename*" {
            // charset'lang'percent-encoded
            let mut pieces = v.splitn(3, '\'');
            let charset = pieces.next().unwrap_or_default();
            let _lang = pieces.next();
            if let Some(enc) = pieces.next()
                && charset.eq_ignore_ascii_case("utf-8")
            {
                return Some(percent_encoding::percent_decode_str(enc).decode_utf8_lossy().into_owned());
            }
        } else if k == "filename" {
            plain = Some(v.trim_matches('"').to_string());
        }
    }
    plain
}

/// A `Content-Disposition: attachment` value for `name`: an ASCII `filename=` fallback and, when
/// the name is not plain ASCII, the RFC 5987 `filename*`.
pub fn disposition_header(name: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'.').remove(b'-').remove(b'_').remove(b'~');
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' { c } else { '_' }).collect();
    if ascii == name {
        format!("attachment; filename=\"{name}\"")
    } else {
        let enc = percent_encoding::utf8_percent_encode(name, KEEP);
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{enc}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    const S: [u8; 32] = [0xab; 32];
    const N: [u8; 16] = [7; 16];

    #[test]
    fn signed_bytes_without_body_or_query_are_the_plain_concatenation() {
        let m = signed_message(&S, &N, "1642079887", "GET", "/capabilities", None, b"");
        let mut want = S.to_vec();
        want.extend_from_slice(&N);
        want.extend_from_slice(b"1642079887GET/capabilities");
        assert_eq!(m, want);
        // An empty query adds no `?`.
        assert_eq!(signed_message(&S, &N, "1642079887", "GET", "/capabilities", Some(""), b""), want);
    }

    #[test]
    fn signed_bytes_with_query_and_body_add_the_query_and_the_body_hash() {
        let m = signed_message(&S, &N, "1", "POST", "/room/a/message", Some("x=1&y=2"), b"{\"a\":1}");
        let mut want = S.to_vec();
        want.extend_from_slice(&N);
        want.extend_from_slice(b"1POST/room/a/message?x=1&y=2");
        want.extend_from_slice(&Blake2b512::digest(b"{\"a\":1}"));
        assert_eq!(m, want);
        assert_eq!(m.len(), 32 + 16 + 28 + 64);
    }

    #[test]
    fn the_signed_path_is_url_decoded() {
        assert_eq!(decode_path("/room/a/reaction/1/%F0%9F%8D%86"), "/room/a/reaction/1/🍆");
        assert_eq!(decode_path("/a+b%20c"), "/a+b c");
    }

    #[test]
    fn blinded_signed_headers_verify_against_the_15_key() {
        let id = Identity::from_seed(&h("fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122"))
            .unwrap();
        let server: [u8; 32] =
            h("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789").try_into().unwrap();
        let signer = Signer::blinded(&id, &server).unwrap();
        assert_eq!(signer.pubkey_hex(), "15b74ed205f1f931e1bb1291183778a9456b835937d923b0f2e248aa3a44c07844");
        let hs = signer.headers(&server, &N, 1_700_000_000, "GET", "/room/x%20y", Some("a=1"), b"").unwrap();
        let get = |n: &str| hs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        let a = parse_auth_headers(
            get(HEADER_PUBKEY),
            get(HEADER_NONCE),
            get(HEADER_TIMESTAMP),
            get(HEADER_SIGNATURE),
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(a.kind, SignerKind::Blinded15);
        let m = signed_message(&server, &a.nonce, &a.timestamp_str, "GET", "/room/x y", Some("a=1"), b"");
        assert!(verify(&a.key, &m, &a.signature));
        assert!(!verify(&a.key, b"other", &a.signature));
        // The spec vector of blinded signing itself.
        let sig = signer.sign(b"hello").unwrap();
        assert_eq!(
            hex::encode(sig),
            "1a5ade20b43af0e16b3e591d6f86303938d7557c0ac54469dd4f5aea759f82d2\
             2cafa42587251756e133acdddd8cbec2f707a9ce09a49f2193f46a91502c5006"
        );
    }

    #[test]
    fn header_parsing_refuses_partial_sets_bad_keys_and_bad_encodings() {
        let pk = "15b74ed205f1f931e1bb1291183778a9456b835937d923b0f2e248aa3a44c07844";
        let nonce = encode_b64(&N);
        let sig = encode_b64(&[1u8; 64]);
        assert_eq!(parse_auth_headers(None, None, None, None, false), Ok(None));
        assert_eq!(
            parse_auth_headers(Some(pk), None, Some("1"), None, false),
            Err(AuthParseError::Missing(2))
        );
        let ed = format!("00{}", &pk[2..]);
        assert_eq!(
            parse_auth_headers(Some(&ed), Some(&nonce), Some("1"), Some(&sig), false),
            Err(AuthParseError::Unblinded)
        );
        assert!(parse_auth_headers(Some(&ed), Some(&nonce), Some("1"), Some(&sig), true).is_ok());
        assert_eq!(
            parse_auth_headers(Some("05ab"), Some(&nonce), Some("1"), Some(&sig), false),
            Err(AuthParseError::Pubkey)
        );
        // The identity point is small-order.
        let small = format!(
            "15{}",
            hex::encode({
                let mut b = [0u8; 32];
                b[0] = 1;
                b
            })
        );
        assert_eq!(
            parse_auth_headers(Some(&small), Some(&nonce), Some("1"), Some(&sig), false),
            Err(AuthParseError::BadPoint)
        );
        assert_eq!(
            parse_auth_headers(Some(pk), Some("abc"), Some("1"), Some(&sig), false),
            Err(AuthParseError::Nonce)
        );
        assert_eq!(
            parse_auth_headers(Some(pk), Some(&hex::encode(N)), Some("x"), Some(&sig), false),
            Err(AuthParseError::Timestamp)
        );
        assert_eq!(
            parse_auth_headers(Some(pk), Some(&nonce), Some("1"), Some("zz"), false),
            Err(AuthParseError::Signature)
        );
    }

    #[test]
    fn timestamps_within_a_day_are_fresh() {
        assert!(timestamp_fresh(1000 + TIMESTAMP_SKEW_S, 1000));
        assert!(!timestamp_fresh(1001 + TIMESTAMP_SKEW_S, 1000));
        assert!(!timestamp_fresh(999 - TIMESTAMP_SKEW_S, 1000));
    }

    #[test]
    fn padding_round_trips_and_unpadded_data_is_kept() {
        let p = pad(b"hello", 16);
        assert_eq!(p.len(), 16);
        assert_eq!(p[5], 0x80);
        assert_eq!(unpad(&p), b"hello");
        assert_eq!(unpad(b"plain"), b"plain");
        assert_eq!(unpad(b"a\x80"), b"a");
        assert_eq!(unpad(b"a\x00\x00"), b"a\x00\x00");
        assert_eq!(pad(b"abc", 2), b"abc");
    }

    #[test]
    fn room_tokens_and_the_join_url() {
        assert!(valid_room_token("bitcoin_2-x"));
        assert!(!valid_room_token("a b"));
        assert!(!valid_room_token(""));
        assert_eq!(
            join_url("http://h:1/", "bitcoin", &[0x11; 32]),
            format!("http://h:1/bitcoin?public_key={}", "11".repeat(32))
        );
    }

    #[test]
    fn content_disposition_names_both_ways() {
        assert_eq!(disposition_filename("attachment; filename=\"a.png\"").as_deref(), Some("a.png"));
        assert_eq!(
            disposition_filename("attachment; filename=\"x\"; filename*=UTF-8''%F0%9F%8D%86.txt").as_deref(),
            Some("🍆.txt")
        );
        assert_eq!(disposition_filename("inline"), None);
        assert_eq!(disposition_header("a.png"), "attachment; filename=\"a.png\"");
        assert_eq!(
            disposition_header("é.txt"),
            "attachment; filename=\"_.txt\"; filename*=UTF-8''%C3%A9.txt"
        );
    }

    #[test]
    fn hex_or_base64_decoding_takes_both() {
        assert_eq!(decode_hex_or_b64(&hex::encode(N), 16).unwrap(), N);
        assert_eq!(decode_hex_or_b64(&encode_b64(&N), 16).unwrap(), N);
        assert_eq!(decode_hex_or_b64(STANDARD_NO_PAD.encode(N).as_str(), 16).unwrap(), N);
        assert!(decode_hex_or_b64("AAAA", 16).is_none());
    }
}
