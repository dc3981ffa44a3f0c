//! The wrapping of a 1-1 ciphertext for the swarm (spec session-protocol.md §4, "Wrapping for the
//! swarm"): `Envelope{type=SESSION_MESSAGE, sourceDevice=1, timestamp, content}` as the body of a
//! `WebSocketMessage{type=REQUEST, request}`. The bytes, base64-encoded, are the `data` of a store.
//! The messages are prost derives with the `.proto`s' field numbers.

use super::error::{ProtoError, SessionProtocolError};
use super::proto::decode_bounded;
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

/// `Envelope` (SessionProtos.proto) as it is on the wire: every field optional, so that a
/// missing required field is seen, and the `uint32` fields read as `uint64` (the same varint on
/// the wire), so that a value that does not fit 32 bits is refused rather than truncated.
#[derive(Clone, PartialEq, prost::Message)]
struct EnvelopeWire {
    #[prost(uint64, optional, tag = "1")]
    kind: Option<u64>,
    /// A string in the `.proto`; read as bytes so that bad UTF-8 is named as this field's.
    #[prost(bytes = "vec", optional, tag = "2")]
    source: Option<Vec<u8>>,
    #[prost(uint64, optional, tag = "5")]
    timestamp: Option<u64>,
    #[prost(uint64, optional, tag = "7")]
    source_device: Option<u64>,
    #[prost(bytes = "vec", optional, tag = "8")]
    content: Option<Vec<u8>>,
    #[prost(uint64, optional, tag = "10")]
    server_timestamp: Option<u64>,
    #[prost(bytes = "vec", optional, tag = "11")]
    pro_sig: Option<Vec<u8>>,
}

/// `Envelope` (SessionProtos.proto). `type` and `timestamp` are required.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionEnvelope {
    /// `type`: [`ENVELOPE_SESSION_MESSAGE`] for a 1-1 message.
    pub kind: u32,
    /// `source`: the sender's Session ID (absent when sealed).
    pub source: Option<String>,
    /// ms since the Unix epoch.
    pub timestamp: u64,
    /// `sourceDevice`.
    pub source_device: Option<u32>,
    /// The ciphertext.
    pub content: Option<Vec<u8>>,
    /// `serverTimestamp`, ms since the epoch.
    pub server_timestamp: Option<u64>,
    /// `proSig`: the Session Pro signature, kept as bytes.
    pub pro_sig: Option<Vec<u8>>,
}

fn envelope_u32(v: u64, field: &'static str) -> Result<u32, ProtoError> {
    u32::try_from(v).map_err(|_| ProtoError::ValueOutOfRange { message: "Envelope", field })
}

impl SessionEnvelope {
    /// The protobuf bytes, fields in number order.
    pub fn encode(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(&EnvelopeWire {
            kind: Some(u64::from(self.kind)),
            source: self.source.as_ref().map(|s| s.as_bytes().to_vec()),
            timestamp: Some(self.timestamp),
            source_device: self.source_device.map(u64::from),
            content: self.content.clone(),
            server_timestamp: self.server_timestamp,
            pro_sig: self.pro_sig.clone(),
        })
    }

    /// Reads an `Envelope`; unknown fields are skipped.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        let w: EnvelopeWire = decode_bounded(bytes)?;
        // Field rules in field order, then the required fields (as a proto2 reader reports them).
        let kind = w.kind.map(|k| envelope_u32(k, "type")).transpose()?;
        let source = w
            .source
            .map(String::from_utf8)
            .transpose()
            .map_err(|_| ProtoError::NotUtf8 { message: "Envelope", field: "source" })?;
        let source_device = w.source_device.map(|d| envelope_u32(d, "sourceDevice")).transpose()?;
        let kind = kind.ok_or(ProtoError::MissingField { message: "Envelope", field: "type" })?;
        let timestamp =
            w.timestamp.ok_or(ProtoError::MissingField { message: "Envelope", field: "timestamp" })?;
        Ok(Self {
            kind,
            source,
            timestamp,
            source_device,
            content: w.content,
            server_timestamp: w.server_timestamp,
            pro_sig: w.pro_sig,
        })
    }
}

/// `WebSocketRequestMessage` (WebSocketResources.proto); `headers` (5) are skipped.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct WebSocketRequest {
    /// `verb`: `PUT` for an incoming message.
    #[prost(string, optional, tag = "1")]
    pub verb: Option<String>,
    /// `path`: `/api/v1/message`.
    #[prost(string, optional, tag = "2")]
    pub path: Option<String>,
    /// `body`: the serialized Envelope.
    #[prost(bytes = "vec", optional, tag = "3")]
    pub body: Option<Vec<u8>>,
    /// `requestId`.
    #[prost(uint64, optional, tag = "4")]
    pub request_id: Option<u64>,
}

/// `WebSocketMessage` (WebSocketResources.proto); a `response` (3) is skipped.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct WebSocketMessage {
    /// `type`: [`WEBSOCKET_REQUEST`] for a stored message.
    #[prost(uint32, optional, tag = "1")]
    pub kind: Option<u32>,
    /// `request`: the request of a REQUEST message.
    #[prost(message, optional, tag = "2")]
    pub request: Option<WebSocketRequest>,
}

impl WebSocketMessage {
    /// The protobuf bytes, fields in number order.
    pub fn encode(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(self)
    }

    /// Reads a `WebSocketMessage`; unknown fields are skipped.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        decode_bounded(bytes)
    }
}

/// Wraps a 1-1 ciphertext for the swarm: `WebSocketMessage{REQUEST, {PUT, /api/v1/message,
/// Envelope{SESSION_MESSAGE, timestamp, sourceDevice=1, content}, requestId=0}}`.
pub fn wrap_for_swarm(ciphertext: &[u8], timestamp_ms: u64) -> Result<Vec<u8>, SessionProtocolError> {
    if ciphertext.len() > SESSION_MAX_CIPHERTEXT_BYTES {
        return Err(SessionProtocolError::CiphertextTooLong(ciphertext.len()));
    }
    let envelope = SessionEnvelope {
        kind: ENVELOPE_SESSION_MESSAGE,
        timestamp: timestamp_ms,
        source_device: Some(SOURCE_DEVICE),
        content: Some(ciphertext.to_vec()),
        ..SessionEnvelope::default()
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
pub fn unwrap_from_swarm(data: &[u8]) -> Result<SessionEnvelope, SessionProtocolError> {
    let message = WebSocketMessage::decode(data)?;
    let kind = message.kind.unwrap_or(0);
    if kind != WEBSOCKET_REQUEST {
        return Err(SessionProtocolError::WebSocketType(kind));
    }
    let request = message.request.ok_or(SessionProtocolError::NoRequest)?;
    let body = request.body.ok_or(SessionProtocolError::NoBody)?;
    let envelope = SessionEnvelope::decode(&body)?;
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
    use super::super::proto::raw::{put_bytes, put_uint};
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
        let env = SessionEnvelope {
            kind: ENVELOPE_SESSION_MESSAGE,
            timestamp: 1_700_000_000_000,
            source_device: Some(1),
            content: Some(vec![1, 2, 3]),
            server_timestamp: Some(1_700_000_000_123),
            pro_sig: Some(vec![7; 64]),
            ..SessionEnvelope::default()
        };
        let mut req = prost::Message::encode_to_vec(&WebSocketRequest {
            body: Some(env.encode()),
            ..WebSocketRequest::default()
        });
        put_bytes(&mut req, 5, b"X-Header: 1");
        let mut msg = Vec::new();
        put_uint(&mut msg, 1, 1);
        put_bytes(&mut msg, 2, &req);
        assert_eq!(unwrap_from_swarm(&msg).unwrap(), env);
    }

    #[test]
    fn message_rules() {
        let env =
            SessionEnvelope { kind: 6, timestamp: 5, content: Some(vec![1]), ..SessionEnvelope::default() };
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
        let group = SessionEnvelope { kind: 7, ..env.clone() };
        assert_eq!(
            unwrap_from_swarm(&wrap(Some(1), Some(group.encode()))),
            Err(SessionProtocolError::EnvelopeType(7))
        );
        let empty = SessionEnvelope { content: None, ..env.clone() };
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
            SessionEnvelope::decode(&big_type),
            Err(ProtoError::ValueOutOfRange { message: "Envelope", field: "type" })
        );
        // Mistyped fields and garbage: prost's wire rules.
        assert!(matches!(SessionEnvelope::decode(&[0x2a, 0x00]), Err(ProtoError::Decode(_))));
        assert!(matches!(
            unwrap_from_swarm(b"\xff"),
            Err(SessionProtocolError::Proto(ProtoError::Decode(_)))
        ));
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
            let _ = SessionEnvelope::decode(&bytes);
            let _ = WebSocketMessage::decode(&bytes);
        }
    }
}
