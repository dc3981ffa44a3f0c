//! The wrapping of a 1-1 ciphertext for the swarm (spec session-protocol.md §4, "Wrapping for the
//! swarm"): `Envelope{type=SESSION_MESSAGE, sourceDevice=1, timestamp, content}` as the body of a
//! `WebSocketMessage{type=REQUEST, request}`. The bytes, base64-encoded, are the `data` of a store.

use super::error::{ProtoError, SessionProtocolError};
use super::proto::{Name, Reader, put_bytes, put_uint};
use crate::formats::limits::{SESSION_MAX_CIPHERTEXT_BYTES, SESSION_MAX_MESSAGE_BYTES};

/// `Envelope.Type.SESSION_MESSAGE`: a 1-1 message.
pub const ENVELOPE_SESSION_MESSAGE: u32 = 6;
/// `Envelope.Type.CLOSED_GROUP_MESSAGE`: a legacy closed group message.
pub const ENVELOPE_CLOSED_GROUP_MESSAGE: u32 = 7;
/// `WebSocketMessage.Type.REQUEST`.
pub const WEBSOCKET_REQUEST: u32 = 1;
/// `WebSocketMessage.Type.RESPONSE`.
pub const WEBSOCKET_RESPONSE: u32 = 2;
/// The verb the apps put in the request (receivers ignore it; libsession leaves it empty).
pub const SWARM_REQUEST_VERB: &str = "PUT";
/// The path the apps put in the request (receivers ignore it; libsession leaves it empty).
pub const SWARM_REQUEST_PATH: &str = "/api/v1/message";
/// The `sourceDevice` of every 1-1 message.
pub const SOURCE_DEVICE: u32 = 1;

mod field {
    pub const ENV_TYPE: u32 = 1;
    pub const ENV_SOURCE: u32 = 2;
    pub const ENV_TIMESTAMP: u32 = 5;
    pub const ENV_SOURCE_DEVICE: u32 = 7;
    pub const ENV_CONTENT: u32 = 8;
    pub const ENV_SERVER_TIMESTAMP: u32 = 10;
    pub const ENV_PRO_SIG: u32 = 11;
    pub const WS_TYPE: u32 = 1;
    pub const WS_REQUEST: u32 = 2;
    pub const REQ_VERB: u32 = 1;
    pub const REQ_PATH: u32 = 2;
    pub const REQ_BODY: u32 = 3;
    pub const REQ_ID: u32 = 4;
}

const fn env(field: &'static str) -> Name {
    Name { message: "Envelope", field }
}

const fn req(field: &'static str) -> Name {
    Name { message: "WebSocketRequestMessage", field }
}

/// `Envelope` (SessionProtos.proto). `type` and `timestamp` are required.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// `type`: [`ENVELOPE_SESSION_MESSAGE`] for a 1-1 message.
    pub kind: u32,
    pub source: Option<String>,
    /// ms since the Unix epoch.
    pub timestamp: u64,
    pub source_device: Option<u32>,
    /// The ciphertext.
    pub content: Option<Vec<u8>>,
    pub server_timestamp: Option<u64>,
    pub pro_sig: Option<Vec<u8>>,
}

impl Envelope {
    /// The protobuf bytes, fields in number order.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_uint(&mut out, field::ENV_TYPE, u64::from(self.kind));
        if let Some(s) = &self.source {
            put_bytes(&mut out, field::ENV_SOURCE, s.as_bytes());
        }
        put_uint(&mut out, field::ENV_TIMESTAMP, self.timestamp);
        if let Some(d) = self.source_device {
            put_uint(&mut out, field::ENV_SOURCE_DEVICE, u64::from(d));
        }
        if let Some(c) = &self.content {
            put_bytes(&mut out, field::ENV_CONTENT, c);
        }
        if let Some(t) = self.server_timestamp {
            put_uint(&mut out, field::ENV_SERVER_TIMESTAMP, t);
        }
        if let Some(p) = &self.pro_sig {
            put_bytes(&mut out, field::ENV_PRO_SIG, p);
        }
        out
    }

    /// Reads an `Envelope`; unknown fields are skipped.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        let mut out = Self::default();
        let (mut kind, mut timestamp) = (None, None);
        let mut r = Reader::new(bytes)?;
        while let Some((number, value)) = r.field()? {
            match number {
                field::ENV_TYPE => kind = Some(value.uint32(env("type"))?),
                field::ENV_SOURCE => out.source = Some(value.string(env("source"))?),
                field::ENV_TIMESTAMP => timestamp = Some(value.varint(env("timestamp"))?),
                field::ENV_SOURCE_DEVICE => out.source_device = Some(value.uint32(env("sourceDevice"))?),
                field::ENV_CONTENT => out.content = Some(value.bytes(env("content"))?.to_vec()),
                field::ENV_SERVER_TIMESTAMP => {
                    out.server_timestamp = Some(value.varint(env("serverTimestamp"))?)
                }
                field::ENV_PRO_SIG => out.pro_sig = Some(value.bytes(env("proSig"))?.to_vec()),
                _ => {}
            }
        }
        out.kind = kind.ok_or(ProtoError::MissingField { message: "Envelope", field: "type" })?;
        out.timestamp =
            timestamp.ok_or(ProtoError::MissingField { message: "Envelope", field: "timestamp" })?;
        Ok(out)
    }
}

/// `WebSocketRequestMessage` (WebSocketResources.proto); `headers` (5) are skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebSocketRequest {
    pub verb: Option<String>,
    pub path: Option<String>,
    pub body: Option<Vec<u8>>,
    pub request_id: Option<u64>,
}

impl WebSocketRequest {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(v) = &self.verb {
            put_bytes(&mut out, field::REQ_VERB, v.as_bytes());
        }
        if let Some(p) = &self.path {
            put_bytes(&mut out, field::REQ_PATH, p.as_bytes());
        }
        if let Some(b) = &self.body {
            put_bytes(&mut out, field::REQ_BODY, b);
        }
        if let Some(id) = self.request_id {
            put_uint(&mut out, field::REQ_ID, id);
        }
        out
    }

    fn merge(&mut self, bytes: &[u8]) -> Result<(), ProtoError> {
        let mut r = Reader::new(bytes)?;
        while let Some((number, value)) = r.field()? {
            match number {
                field::REQ_VERB => self.verb = Some(value.string(req("verb"))?),
                field::REQ_PATH => self.path = Some(value.string(req("path"))?),
                field::REQ_BODY => self.body = Some(value.bytes(req("body"))?.to_vec()),
                field::REQ_ID => self.request_id = Some(value.varint(req("requestId"))?),
                _ => {}
            }
        }
        Ok(())
    }
}

/// `WebSocketMessage` (WebSocketResources.proto); a `response` (3) is skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebSocketMessage {
    /// `type`: [`WEBSOCKET_REQUEST`] for a stored message.
    pub kind: Option<u32>,
    pub request: Option<WebSocketRequest>,
}

impl WebSocketMessage {
    /// The protobuf bytes, fields in number order.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(k) = self.kind {
            put_uint(&mut out, field::WS_TYPE, u64::from(k));
        }
        if let Some(r) = &self.request {
            put_bytes(&mut out, field::WS_REQUEST, &r.encode());
        }
        out
    }

    /// Reads a `WebSocketMessage`; unknown fields are skipped.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        let mut out = Self::default();
        let mut r = Reader::new(bytes)?;
        while let Some((number, value)) = r.field()? {
            match number {
                field::WS_TYPE => {
                    out.kind = Some(value.uint32(Name { message: "WebSocketMessage", field: "type" })?)
                }
                field::WS_REQUEST => {
                    let raw = value.bytes(Name { message: "WebSocketMessage", field: "request" })?;
                    out.request.get_or_insert_with(WebSocketRequest::default).merge(raw)?;
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

/// Wraps a 1-1 ciphertext for the swarm: `WebSocketMessage{REQUEST, {PUT, /api/v1/message,
/// Envelope{SESSION_MESSAGE, timestamp, sourceDevice=1, content}, requestId=0}}`.
pub fn wrap_for_swarm(ciphertext: &[u8], timestamp_ms: u64) -> Result<Vec<u8>, SessionProtocolError> {
    if ciphertext.len() > SESSION_MAX_CIPHERTEXT_BYTES {
        return Err(SessionProtocolError::CiphertextTooLong(ciphertext.len()));
    }
    let envelope = Envelope {
        kind: ENVELOPE_SESSION_MESSAGE,
        timestamp: timestamp_ms,
        source_device: Some(SOURCE_DEVICE),
        content: Some(ciphertext.to_vec()),
        ..Envelope::default()
    };
    let message = WebSocketMessage {
        kind: Some(WEBSOCKET_REQUEST),
        request: Some(WebSocketRequest {
            verb: Some(SWARM_REQUEST_VERB.to_owned()),
            path: Some(SWARM_REQUEST_PATH.to_owned()),
            body: Some(envelope.encode()),
            request_id: Some(0),
        }),
    };
    let out = message.encode();
    if out.len() > SESSION_MAX_MESSAGE_BYTES {
        return Err(SessionProtocolError::WrappedTooLarge(out.len()));
    }
    Ok(out)
}

/// Unwraps a message read from the swarm (the decoded `data`) down to its 1-1 `Envelope`, which
/// has a `content`.
pub fn unwrap_from_swarm(data: &[u8]) -> Result<Envelope, SessionProtocolError> {
    let message = WebSocketMessage::decode(data)?;
    let kind = message.kind.unwrap_or(0);
    if kind != WEBSOCKET_REQUEST {
        return Err(SessionProtocolError::WebSocketType(kind));
    }
    let request = message.request.ok_or(SessionProtocolError::NoRequest)?;
    let body = request.body.ok_or(SessionProtocolError::NoBody)?;
    let envelope = Envelope::decode(&body)?;
    if envelope.kind != ENVELOPE_SESSION_MESSAGE {
        return Err(SessionProtocolError::EnvelopeType(envelope.kind));
    }
    if envelope.content.is_none() {
        return Err(SessionProtocolError::NoContent);
    }
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wrapped_bytes() {
        let w = wrap_for_swarm(&[0xaa, 0xbb], 1).unwrap();
        let mut want = vec![0x08, 0x01, 0x12, 0x24];
        want.extend([0x0a, 0x03]);
        want.extend(b"PUT");
        want.extend([0x12, 0x0f]);
        want.extend(b"/api/v1/message");
        want.extend([0x1a, 0x0a, 0x08, 0x06, 0x28, 0x01, 0x38, 0x01, 0x42, 0x02, 0xaa, 0xbb]);
        want.extend([0x20, 0x00]);
        assert_eq!(w, want);
        let env = unwrap_from_swarm(&w).unwrap();
        assert_eq!(env.kind, ENVELOPE_SESSION_MESSAGE);
        assert_eq!(env.timestamp, 1);
        assert_eq!(env.source_device, Some(1));
        assert_eq!(env.content.as_deref(), Some(&[0xaa, 0xbb][..]));
        assert_eq!(env.source, None);
    }

    #[test]
    fn libsession_style_wrapping_is_read() {
        // Empty verb/path, a proSig decoy, a serverTimestamp and an unknown header: all fine.
        let env = Envelope {
            kind: ENVELOPE_SESSION_MESSAGE,
            timestamp: 1_700_000_000_000,
            source_device: Some(1),
            content: Some(vec![1, 2, 3]),
            server_timestamp: Some(1_700_000_000_123),
            pro_sig: Some(vec![7; 64]),
            ..Envelope::default()
        };
        let mut req = WebSocketRequest { body: Some(env.encode()), ..WebSocketRequest::default() }.encode();
        put_bytes(&mut req, 5, b"X-Header: 1");
        let mut msg = Vec::new();
        put_uint(&mut msg, 1, 1);
        put_bytes(&mut msg, 2, &req);
        assert_eq!(unwrap_from_swarm(&msg).unwrap(), env);
    }

    #[test]
    fn message_rules() {
        let env = Envelope { kind: 6, timestamp: 5, content: Some(vec![1]), ..Envelope::default() };
        let wrap = |kind: Option<u32>, body: Option<Vec<u8>>| {
            WebSocketMessage { kind, request: Some(WebSocketRequest { body, ..WebSocketRequest::default() }) }
                .encode()
        };
        assert_eq!(unwrap_from_swarm(&wrap(Some(1), Some(env.encode()))).unwrap(), env);
        assert_eq!(
            unwrap_from_swarm(&wrap(Some(2), Some(env.encode()))),
            Err(SessionProtocolError::WebSocketType(2))
        );
        assert_eq!(
            unwrap_from_swarm(&wrap(None, Some(env.encode()))),
            Err(SessionProtocolError::WebSocketType(0))
        );
        assert_eq!(unwrap_from_swarm(&[0x08, 0x01]), Err(SessionProtocolError::NoRequest));
        assert_eq!(unwrap_from_swarm(&wrap(Some(1), None)), Err(SessionProtocolError::NoBody));
        let group = Envelope { kind: 7, ..env.clone() };
        assert_eq!(
            unwrap_from_swarm(&wrap(Some(1), Some(group.encode()))),
            Err(SessionProtocolError::EnvelopeType(7))
        );
        let empty = Envelope { content: None, ..env.clone() };
        assert_eq!(
            unwrap_from_swarm(&wrap(Some(1), Some(empty.encode()))),
            Err(SessionProtocolError::NoContent)
        );
        // Required fields.
        assert_eq!(
            unwrap_from_swarm(&wrap(Some(1), Some(vec![0x28, 0x01]))),
            Err(ProtoError::MissingField { message: "Envelope", field: "type" }.into())
        );
        assert_eq!(
            unwrap_from_swarm(&wrap(Some(1), Some(vec![0x08, 0x06]))),
            Err(ProtoError::MissingField { message: "Envelope", field: "timestamp" }.into())
        );
        // Out-of-range and mistyped fields.
        let mut big_type = Vec::new();
        put_uint(&mut big_type, 1, u64::from(u32::MAX) + 1);
        assert_eq!(
            Envelope::decode(&big_type),
            Err(ProtoError::ValueOutOfRange { message: "Envelope", field: "type" })
        );
        assert_eq!(
            Envelope::decode(&[0x2a, 0x00]),
            Err(ProtoError::WrongWireType { message: "Envelope", field: "timestamp" })
        );
        // Garbage.
        assert_eq!(unwrap_from_swarm(b"\xff"), Err(ProtoError::Truncated.into()));
        assert!(unwrap_from_swarm(b"hello world").is_err());
        assert!(unwrap_from_swarm(&[]).is_err());
    }

    #[test]
    fn size_limits() {
        let max = vec![0u8; SESSION_MAX_CIPHERTEXT_BYTES];
        assert!(matches!(wrap_for_swarm(&max, 1), Err(SessionProtocolError::WrappedTooLarge(_))));
        let over = vec![0u8; SESSION_MAX_CIPHERTEXT_BYTES + 1];
        assert_eq!(wrap_for_swarm(&over, 1), Err(SessionProtocolError::CiphertextTooLong(over.len())));
        assert_eq!(
            unwrap_from_swarm(&vec![0u8; SESSION_MAX_MESSAGE_BYTES + 1]),
            Err(ProtoError::TooLarge(SESSION_MAX_MESSAGE_BYTES + 1).into())
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn wrap_unwrap_round_trip(ct in proptest::collection::vec(any::<u8>(), 0..400), ts in any::<u64>()) {
            let w = wrap_for_swarm(&ct, ts).unwrap();
            let env = unwrap_from_swarm(&w).unwrap();
            prop_assert_eq!(env.content.as_deref(), Some(&ct[..]));
            prop_assert_eq!(env.timestamp, ts);
            // Every strict prefix is refused.
            for n in 0..w.len() {
                prop_assert!(unwrap_from_swarm(&w[..n]).is_err(), "prefix {}", n);
            }
        }

        #[test]
        fn garbage_is_refused(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert!(unwrap_from_swarm(&bytes).is_err());
            let _ = Envelope::decode(&bytes);
            let _ = WebSocketMessage::decode(&bytes);
        }
    }
}
