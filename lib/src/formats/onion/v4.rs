//! Onion requests to a server, v4 (sogs.md §3, onion.md "v4"): what a file server or a community
//! server receives on `POST /oxen/v4/lsrpc` and answers, and the client's side of it.
//!
//! - The outer body, as the last snode relays it, is the onion frame `u32le N ‖ N bytes ‖ JSON`
//!   ([`super::frame`]); the JSON holds the snode's relay fields (`host`, `target`, ...) and the
//!   two the server reads: `ephemeral_key` and `enc_type` (aes-gcm when absent). The N bytes are
//!   encrypted to the server's X25519 key exactly as a layer is to a node ([`LayerKey`]).
//! - The request plaintext is a bencoded list of one or two byte strings:
//!   `l <len>:{"method","endpoint","headers"} [<len>:body] e` ([`encode_request`]).
//! - The reply plaintext is always two strings, `l <len>:{"code","headers"} <len>:body e`
//!   ([`encode_response`]), header names lower-case and without `content-length`; it is
//!   encrypted with the same key and a fresh nonce and sent as raw bytes (no base64, unlike v3
//!   and snode replies).
//!
//! Checked against session-pysogs `handle_v4_onionreq_plaintext`, session-file-server
//! `onion_req.py` and libsession-util `onionreq/` (builder `_generate_payload`, response parser):
//! the same layout byte for byte. Two deliberate differences from pysogs' parser: a request with
//! one stray byte after the metadata string is refused (pysogs reads it as "no body"), and header
//! values must be strings or numbers.

use rand_core::{CryptoRng, RngCore};
use serde_json::{Map, Value, json};
use x25519_dalek::{PublicKey, StaticSecret};

use super::channel::LayerKey;
use super::frame::encode_frame;
use super::peel::{HostTarget, open};
use super::{EncType, OnionError};
use crate::formats::limits::{ONION_MAX_BODY, ONION_MAX_JSON, ONION_MAX_REPLY};

/// The path a server's v4 onion endpoint lives at.
pub const V4_TARGET: &str = "/oxen/v4/lsrpc";
/// The text pysogs and the file server answer (code 400) when the inner request cannot be parsed.
pub const V4_INVALID_REQUEST: &str = "Invalid v4 onion request";
/// The content type of [`V4_INVALID_REQUEST`].
pub const V4_TEXT_PLAIN: &str = "text/plain; charset=utf-8";
/// Most decimal digits of one bencoded length (10 digits cover every length below 10 GB, far
/// above [`ONION_MAX_REPLY`]).
const BENCODE_MAX_LEN_DIGITS: usize = 10;

/// Why a v4 request or reply could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum V4Error {
    /// The outer frame or its encryption was refused (see [`OnionError`]).
    #[error(transparent)]
    Onion(#[from] OnionError),
    /// The plaintext is not a bencoded list (`l` … `e`).
    #[error("v4 plaintext is not a bencoded list (must start with 'l' and end with 'e')")]
    NotAList,
    /// A list item is not a well-formed bencoded byte string.
    #[error("v4 plaintext: bad bencoded string: {0}")]
    BadString(&'static str),
    /// The list has more parts than its format allows.
    #[error("v4 plaintext has more than 2 parts")]
    TooManyParts,
    /// The list is empty (the metadata is required).
    #[error("v4 plaintext has no metadata part")]
    NoMetadata,
    /// The metadata is not the JSON object it must be.
    #[error("v4 metadata is not a JSON object: {0}")]
    BadMetadata(String),
    /// A metadata field is missing or has the wrong type.
    #[error("v4 metadata field \"{0}\" is missing or invalid")]
    BadField(&'static str),
    /// The request's endpoint does not start with `/`.
    #[error("v4 endpoint must start with '/'")]
    EndpointNotAbsolute,
    /// The reply plaintext is larger than a client reads.
    #[error("v4 reply is {0} bytes; the limit is {ONION_MAX_REPLY}")]
    ReplyTooLarge(usize),
}

/// One HTTP request carried inside a v4 onion request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct V4Request {
    /// The HTTP method, e.g. `GET`, `POST`.
    pub method: String,
    /// The path and query, starting with `/`, e.g. `/file/abc`.
    pub endpoint: String,
    /// The request headers (names as sent; servers treat them case-insensitively), in order.
    pub headers: Vec<(String, String)>,
    /// The body; `None` sends a one-part list (what GET requests do).
    pub body: Option<Vec<u8>>,
}

/// The server's answer inside a v4 reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct V4Response {
    /// The inner HTTP status (the outer one is 200 whenever the server could decrypt).
    pub code: u16,
    /// Response headers, names lower-case, without `content-length`, in order.
    pub headers: Vec<(String, String)>,
    /// The body (possibly empty).
    pub body: Vec<u8>,
}

impl V4Response {
    /// The value of the header `name` (lower-case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The `400 Invalid v4 onion request` answer of a request that could not be parsed.
    pub fn invalid_request() -> Self {
        Self {
            code: 400,
            headers: vec![("content-type".into(), V4_TEXT_PLAIN.into())],
            body: V4_INVALID_REQUEST.as_bytes().to_vec(),
        }
    }
}

/// Appends `<decimal len>:<bytes>`.
fn push_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(bytes.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(bytes);
}

/// Reads one `<decimal len>:<bytes>` from the front of `input`; returns it and the rest.
fn take_string(input: &[u8]) -> Result<(&[u8], &[u8]), V4Error> {
    let colon = input
        .iter()
        .take(BENCODE_MAX_LEN_DIGITS + 1)
        .position(|b| *b == b':')
        .ok_or(V4Error::BadString("no ':' after the length"))?;
    let digits = &input[..colon];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(V4Error::BadString("the length is not a decimal number"));
    }
    if digits.len() > 1 && digits[0] == b'0' {
        return Err(V4Error::BadString("the length has a leading zero"));
    }
    // At most 10 ASCII digits: always a valid number that fits a u64.
    let len = std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or(V4Error::BadString("the length is not a decimal number"))?;
    let rest = &input[colon + 1..];
    let len = usize::try_from(len)
        .ok()
        .filter(|l| *l <= rest.len())
        .ok_or(V4Error::BadString("the string is longer than the data that follows"))?;
    Ok(rest.split_at(len))
}

/// Splits a bencoded list of byte strings into its items (at most `max_parts`).
fn split_list(bytes: &[u8], max_parts: usize) -> Result<Vec<&[u8]>, V4Error> {
    let inner = bytes.strip_prefix(b"l").and_then(|b| b.strip_suffix(b"e")).ok_or(V4Error::NotAList)?;
    let mut parts = Vec::new();
    let mut rest = inner;
    while !rest.is_empty() {
        if parts.len() == max_parts {
            return Err(V4Error::TooManyParts);
        }
        let (item, after) = take_string(rest)?;
        parts.push(item);
        rest = after;
    }
    if parts.is_empty() {
        return Err(V4Error::NoMetadata);
    }
    Ok(parts)
}

/// A JSON object of headers as `(name, value)` pairs; numbers and booleans are taken as their
/// text (JSON producers differ), anything else is refused.
fn headers_from_json(v: Option<&Value>) -> Result<Vec<(String, String)>, V4Error> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let obj = v.as_object().ok_or(V4Error::BadField("headers"))?;
    obj.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(n) => Ok((k.clone(), n.to_string())),
            Value::Bool(b) => Ok((k.clone(), b.to_string())),
            _ => Err(V4Error::BadField("headers")),
        })
        .collect()
}

/// A JSON object of `headers` in their order (serde_json's map would sort them).
fn headers_to_json(headers: &[(String, String)]) -> String {
    let items: Vec<String> = headers
        .iter()
        .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), Value::from(v.as_str())))
        .collect();
    format!("{{{}}}", items.join(","))
}

/// The request plaintext: `l <len>:<meta JSON> [<len>:<body>] e`, the metadata
/// `{"method","endpoint","headers"}` in that order (as desktop and libsession write it).
pub fn encode_request(req: &V4Request) -> Vec<u8> {
    let meta = format!(
        "{{\"method\":{},\"endpoint\":{},\"headers\":{}}}",
        Value::from(req.method.as_str()),
        Value::from(req.endpoint.as_str()),
        headers_to_json(&req.headers)
    );
    let mut out = Vec::with_capacity(meta.len() + req.body.as_ref().map_or(0, Vec::len) + 32);
    out.push(b'l');
    push_string(&mut out, meta.as_bytes());
    if let Some(body) = &req.body {
        push_string(&mut out, body);
    }
    out.push(b'e');
    out
}

/// Reads a request plaintext (the server's side). `method` and `endpoint` are required, the
/// endpoint must start with `/`; `headers` is optional, as on the live servers.
pub fn decode_request(bytes: &[u8]) -> Result<V4Request, V4Error> {
    let parts = split_list(bytes, 2)?;
    if parts[0].len() > ONION_MAX_JSON {
        return Err(V4Error::BadMetadata(format!("{} bytes, over {ONION_MAX_JSON}", parts[0].len())));
    }
    let meta: Map<String, Value> =
        serde_json::from_slice(parts[0]).map_err(|e| V4Error::BadMetadata(e.to_string()))?;
    let method = meta.get("method").and_then(Value::as_str).ok_or(V4Error::BadField("method"))?;
    let endpoint = meta.get("endpoint").and_then(Value::as_str).ok_or(V4Error::BadField("endpoint"))?;
    if !endpoint.starts_with('/') {
        return Err(V4Error::EndpointNotAbsolute);
    }
    Ok(V4Request {
        method: method.to_string(),
        endpoint: endpoint.to_string(),
        headers: headers_from_json(meta.get("headers"))?,
        body: parts.get(1).map(|b| b.to_vec()),
    })
}

/// The reply plaintext: `l <len>:{"code","headers"} <len>:<body> e` (always two parts). Header
/// names are lower-cased and `content-length` is left out (the body's length says it).
pub fn encode_response(resp: &V4Response) -> Vec<u8> {
    let headers: Vec<(String, String)> = resp
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .filter(|(k, _)| k != "content-length")
        .collect();
    let meta = format!("{{\"code\":{},\"headers\":{}}}", resp.code, headers_to_json(&headers));
    let mut out = Vec::with_capacity(meta.len() + resp.body.len() + 32);
    out.push(b'l');
    push_string(&mut out, meta.as_bytes());
    push_string(&mut out, &resp.body);
    out.push(b'e');
    out
}

/// Reads a reply plaintext (the client's side): the metadata with its numeric `code`, and the
/// body (an absent body part is read as empty, as libsession does).
pub fn decode_response(bytes: &[u8]) -> Result<V4Response, V4Error> {
    if bytes.len() > ONION_MAX_REPLY {
        return Err(V4Error::ReplyTooLarge(bytes.len()));
    }
    let parts = split_list(bytes, 2)?;
    let meta: Map<String, Value> =
        serde_json::from_slice(parts[0]).map_err(|e| V4Error::BadMetadata(e.to_string()))?;
    let code = meta
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .ok_or(V4Error::BadField("code"))?;
    let headers = headers_from_json(meta.get("headers"))?
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    Ok(V4Response { code, headers, body: parts.get(1).map(|b| b.to_vec()).unwrap_or_default() })
}

/// A request encrypted to a server: the ciphertext, the ephemeral key it names, and the key
/// that opens the reply.
#[derive(Debug, Clone)]
pub struct SealedRequest {
    /// `nonce ‖ Enc(plaintext) ‖ tag`.
    pub ciphertext: Vec<u8>,
    /// The ephemeral X25519 public key (the frame's `ephemeral_key`).
    pub ephemeral_key: [u8; 32],
    /// The cipher (the frame's `enc_type`).
    pub enc: EncType,
    /// Opens the server's reply ([`open_reply`]).
    pub reply_key: LayerKey,
}

impl SealedRequest {
    /// The frame JSON a server reads: `{"ephemeral_key", "enc_type"}`.
    pub fn server_json(&self) -> Value {
        json!({"ephemeral_key": hex::encode(self.ephemeral_key), "enc_type": self.enc.as_str()})
    }

    /// The final layer's control JSON for a snode relaying to `target`: the relay fields and the
    /// server's two (libsession `Builder::build`).
    pub fn relay_control(&self, target: &HostTarget) -> Value {
        json!({
            "host": target.host,
            "target": target.target,
            "method": target.method,
            "protocol": target.protocol,
            "port": target.port,
            "ephemeral_key": hex::encode(self.ephemeral_key),
            "enc_type": self.enc.as_str(),
        })
    }

    /// The body to POST straight to a server's [`V4_TARGET`] (no snodes in between).
    pub fn direct_body(&self) -> Vec<u8> {
        encode_frame(&self.ciphertext, &self.server_json())
    }
}

/// Encrypts `req` to the server's X25519 key with a fresh ephemeral key.
pub fn seal_request(
    server_x25519: &[u8; 32],
    req: &V4Request,
    enc: EncType,
) -> Result<SealedRequest, V4Error> {
    seal_request_with_rng(&mut rand::rngs::OsRng, server_x25519, req, enc)
}

/// [`seal_request`] with an injected RNG.
pub fn seal_request_with_rng<R: RngCore + CryptoRng>(
    rng: &mut R,
    server_x25519: &[u8; 32],
    req: &V4Request,
    enc: EncType,
) -> Result<SealedRequest, V4Error> {
    let plaintext = encode_request(req);
    let eph = StaticSecret::random_from_rng(&mut *rng);
    let ephemeral_key = PublicKey::from(&eph).to_bytes();
    let reply_key = LayerKey::for_client(enc, &eph, server_x25519);
    let ciphertext = reply_key.encrypt(rng, &plaintext);
    if ciphertext.len() > ONION_MAX_BODY {
        return Err(OnionError::BodyTooLarge(ciphertext.len()).into());
    }
    Ok(SealedRequest { ciphertext, ephemeral_key, enc, reply_key })
}

/// Decrypts and reads a server's reply (raw bytes, the HTTP 200 body).
pub fn open_reply(key: &LayerKey, reply: &[u8]) -> Result<V4Response, V4Error> {
    if reply.len() > ONION_MAX_REPLY {
        return Err(V4Error::ReplyTooLarge(reply.len()));
    }
    decode_response(&key.decrypt(reply)?)
}

/// The server's side of the outer layer: decodes the frame and decrypts it with the first of
/// `keys` (secret, public) that opens it (a server may hold a current and a legacy key, as the
/// live file server does). Returns the request plaintext and the key that seals the reply.
pub fn open_request(
    keys: &[(StaticSecret, [u8; 32])],
    body: &[u8],
) -> Result<(Vec<u8>, LayerKey), OnionError> {
    for (secret, public) in keys {
        match open(secret, public, body) {
            Ok(layer) => return Ok((layer.plaintext, layer.key)),
            // Only a failed decryption is worth the next key: a frame that does not parse fails
            // the same way under every key.
            Err(OnionError::DecryptionFailed) => {}
            Err(e) => return Err(e),
        }
    }
    Err(OnionError::DecryptionFailed)
}

/// Seals a reply plaintext for the client: `nonce ‖ Enc(encode_response(resp)) ‖ tag`, raw.
pub fn seal_reply(key: &LayerKey, resp: &V4Response) -> Vec<u8> {
    key.encrypt(&mut rand::rngs::OsRng, &encode_response(resp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::onion::frame::decode_frame;
    use proptest::prelude::*;

    fn get(endpoint: &str) -> V4Request {
        V4Request { method: "GET".into(), endpoint: endpoint.into(), headers: vec![], body: None }
    }

    // pysogs' docstring examples, byte for byte.
    #[test]
    fn request_layout_matches_pysogs_examples() {
        let r = V4Request {
            method: "GET".into(),
            endpoint: "/room/some-room".into(),
            headers: vec![("Some-Header".into(), "12345".into())],
            body: None,
        };
        assert_eq!(
            encode_request(&r),
            br#"l79:{"method":"GET","endpoint":"/room/some-room","headers":{"Some-Header":"12345"}}e"#
        );
        let r = V4Request {
            method: "POST".into(),
            endpoint: "/some/thing".into(),
            headers: vec![("Some-Header".into(), "a".into())],
            body: Some(b"post body here".to_vec()),
        };
        let enc = encode_request(&r);
        assert_eq!(
            enc,
            br#"l72:{"method":"POST","endpoint":"/some/thing","headers":{"Some-Header":"a"}}14:post body heree"#
        );
        assert_eq!(decode_request(&enc).unwrap(), r);
    }

    #[test]
    fn response_layout_matches_pysogs_examples() {
        let resp = V4Response {
            code: 200,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Content-Length".into(), "11".into()),
            ],
            body: br#"{"id": 123}"#.to_vec(),
        };
        let enc = encode_response(&resp);
        assert_eq!(enc, br#"l58:{"code":200,"headers":{"content-type":"application/json"}}11:{"id": 123}e"#);
        let back = decode_response(&enc).unwrap();
        assert_eq!(back.code, 200);
        assert_eq!(back.header("Content-Type"), Some("application/json"));
        assert_eq!(back.header("content-length"), None);
        assert_eq!(back.body, br#"{"id": 123}"#);
        // pysogs' own spacing (json.dumps) reads the same; an empty body is "0:".
        let meta = r#"{"code": 404, "headers": {"content-type": "text/plain"}}"#;
        let py = format!("l{}:{meta}0:e", meta.len());
        let r = decode_response(py.as_bytes()).unwrap();
        assert_eq!((r.code, r.body.len()), (404, 0));
        let inv = encode_response(&V4Response::invalid_request());
        assert!(inv.ends_with(b"24:Invalid v4 onion requeste"));
    }

    #[test]
    fn bad_requests_are_refused_with_their_reason() {
        assert_eq!(decode_request(b""), Err(V4Error::NotAList));
        assert_eq!(decode_request(b"d1:ae"), Err(V4Error::NotAList));
        assert_eq!(decode_request(b"le"), Err(V4Error::NoMetadata));
        assert!(matches!(decode_request(b"l5:{}e"), Err(V4Error::BadString(_))));
        assert!(matches!(decode_request(b"l02:{}e"), Err(V4Error::BadString(_))));
        assert!(matches!(decode_request(b"lx:{}e"), Err(V4Error::BadString(_))));
        assert!(matches!(decode_request(b"l99999999999:e"), Err(V4Error::BadString(_))));
        assert!(matches!(decode_request(b"l2:[]e"), Err(V4Error::BadMetadata(_))));
        assert_eq!(decode_request(b"l2:{}e"), Err(V4Error::BadField("method")));
        assert_eq!(decode_request(br#"l16:{"method":"GET"}e"#), Err(V4Error::BadField("endpoint")));
        let rel = br#"l34:{"method":"GET","endpoint":"file"}e"#;
        assert_eq!(decode_request(rel), Err(V4Error::EndpointNotAbsolute));
        let three = br#"l35:{"method":"GET","endpoint":"/file"}1:a1:be"#;
        assert_eq!(decode_request(three), Err(V4Error::TooManyParts));
        let stray = br#"l35:{"method":"GET","endpoint":"/file"}xe"#;
        assert!(matches!(decode_request(stray), Err(V4Error::BadString(_))));
        let hdr = br#"l51:{"method":"GET","endpoint":"/file","headers":[1,2]}e"#;
        assert_eq!(decode_request(hdr), Err(V4Error::BadField("headers")));
        // headers is optional; numbers are taken as text.
        let ok =
            decode_request(br#"l61:{"method":"GET","endpoint":"/file","headers":{"X-FS-TTL":30}}e"#).unwrap();
        assert_eq!(ok.headers, vec![("X-FS-TTL".to_string(), "30".to_string())]);
        assert_eq!(decode_request(br#"l35:{"method":"GET","endpoint":"/file"}e"#).unwrap(), get("/file"));
    }

    #[test]
    fn bad_responses_are_refused() {
        assert!(matches!(decode_response(b"l0:e"), Err(V4Error::BadMetadata(_))));
        assert_eq!(decode_response(br#"l12:{"code":"x"}0:e"#), Err(V4Error::BadField("code")));
        assert_eq!(decode_response(br#"l14:{"code":99999}0:e"#), Err(V4Error::BadField("code")));
        assert_eq!(decode_response(br#"l10:{"code":1}0:0:e"#), Err(V4Error::TooManyParts));
        // libsession reads a one-part reply as an empty body.
        assert_eq!(decode_response(br#"l12:{"code":204}e"#).unwrap().body, b"");
    }

    #[test]
    fn sealed_request_round_trip_both_ciphers() {
        let server = StaticSecret::random_from_rng(rand::rngs::OsRng);
        let server_pk = PublicKey::from(&server).to_bytes();
        let other = StaticSecret::random_from_rng(rand::rngs::OsRng);
        let other_pk = PublicKey::from(&other).to_bytes();
        let keys = vec![(other.clone(), other_pk), (server.clone(), server_pk)];
        for enc in [EncType::AesGcm, EncType::XChaCha20] {
            let req = V4Request {
                method: "POST".into(),
                endpoint: "/file".into(),
                headers: vec![("X-FS-TTL".into(), "60".into())],
                body: Some(vec![7u8; 5000]),
            };
            let sealed = seal_request(&server_pk, &req, enc).unwrap();
            let body = sealed.direct_body();
            let frame = decode_frame(&body).unwrap();
            assert_eq!(frame.json.get("enc_type").and_then(Value::as_str), Some(enc.as_str()));
            // Tried in turn: the second key opens it.
            let (plain, key) = open_request(&keys, &body).unwrap();
            assert_eq!(decode_request(&plain).unwrap(), req);
            let resp = V4Response {
                code: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: br#"{"id":"x","expires":1.5}"#.to_vec(),
            };
            let sealed_reply = seal_reply(&key, &resp);
            assert_eq!(sealed_reply.len(), encode_response(&resp).len() + key.overhead());
            assert_eq!(open_reply(&sealed.reply_key, &sealed_reply).unwrap(), resp);
            // A flipped byte or the wrong server: refused.
            let mut bad = sealed_reply.clone();
            bad[30] ^= 1;
            assert!(open_reply(&sealed.reply_key, &bad).is_err());
            assert_eq!(open_request(&keys[..1], &body).map(|_| ()), Err(OnionError::DecryptionFailed));
        }
    }

    #[test]
    fn relay_control_names_host_and_server_fields() {
        let server_pk = [9u8; 32];
        let sealed = seal_request(&server_pk, &get("/file/x"), EncType::XChaCha20).unwrap();
        let target = HostTarget {
            host: "127.0.0.1".into(),
            port: 8080,
            protocol: "http".into(),
            target: V4_TARGET.into(),
            method: "POST".into(),
        };
        let c = sealed.relay_control(&target);
        let parsed = HostTarget::from_json(c.as_object().unwrap()).unwrap();
        assert_eq!(parsed, target);
        assert_eq!(c["ephemeral_key"], hex::encode(sealed.ephemeral_key));
        assert_eq!(c["enc_type"], "xchacha20");
    }

    proptest! {
        #[test]
        fn request_round_trip(method in "[A-Z]{1,7}", path in "/[a-z0-9/?=&]{0,40}",
                              hv in "[ -~]{0,30}",
                              body in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..600))) {
            let req = V4Request { method, endpoint: path, headers: vec![("x-a".into(), hv)], body };
            prop_assert_eq!(decode_request(&encode_request(&req)).unwrap(), req);
        }

        #[test]
        fn response_round_trip(code in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..600)) {
            let resp = V4Response { code, headers: vec![("expires".into(), "x".into())], body };
            prop_assert_eq!(decode_response(&encode_response(&resp)).unwrap(), resp);
        }

        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_request(&bytes);
            let _ = decode_response(&bytes);
        }
    }
}
