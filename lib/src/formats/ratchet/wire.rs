//! The wire message of spec ratchet.md, one JSON object per line:
//! `{"v": 1, "from", "to", "header": hex, "ct": base64, "x3dh": {"ik", "ek", "spk_id", "opk_id"}}`
//! (`x3dh` only until the responder has replied), and the reading of `decrypt`'s input lines:
//! a bare wire message or friend request, or a line as `retrieve` prints it (an object whose
//! `"data"` is the base64 of the stored bytes, which are such a line).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::RatchetError;
use super::keys::RemoteRatchetKey;
use super::request::SealedRequest;
use super::x3dh::X3dhHeader;
use crate::formats::identity::SessionId;
use crate::formats::keys::decode_hex32;
use crate::formats::limits::MAX_WIRE_BYTES;

/// The only wire version.
const WIRE_VERSION: u64 = 1;
/// Header length: ratchet public key (32) ‖ pn (u32 BE) ‖ n (u32 BE).
const HEADER_LEN: usize = 40;

/// The Double Ratchet header of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The sender's current ratchet public key.
    pub ratchet: RemoteRatchetKey,
    /// Length of the sender's previous sending chain.
    pub pn: u32,
    /// Index of this message in the sending chain.
    pub n: u32,
}

impl Header {
    /// The header's fixed-size wire form.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..32].copy_from_slice(self.ratchet.as_bytes());
        out[32..36].copy_from_slice(&self.pn.to_be_bytes());
        out[36..].copy_from_slice(&self.n.to_be_bytes());
        out
    }

    /// Parses a header from its wire form.
    pub fn from_bytes(raw: &[u8]) -> Result<Self, RatchetError> {
        if raw.len() != HEADER_LEN {
            return Err(RatchetError::malformed(format!(
                "wire message: header must be {HEADER_LEN} bytes, got {}",
                raw.len()
            )));
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&raw[..32]);
        let pn = u32::from_be_bytes([raw[32], raw[33], raw[34], raw[35]]);
        let n = u32::from_be_bytes([raw[36], raw[37], raw[38], raw[39]]);
        Ok(Self { ratchet: RemoteRatchetKey::new(key), pn, n })
    }
}

/// One encrypted message between two Session IDs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireMessage {
    /// The sender.
    pub from: SessionId,
    /// The recipient.
    pub to: SessionId,
    /// The Double Ratchet header.
    pub header: Header,
    /// The ciphertext.
    pub ct: Vec<u8>,
    /// The X3DH header of a session's first messages.
    pub x3dh: Option<X3dhHeader>,
}

#[derive(Serialize, Deserialize)]
struct WireJson {
    v: u64,
    from: String,
    to: String,
    header: String,
    ct: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x3dh: Option<X3dhJson>,
}

#[derive(Serialize, Deserialize)]
struct X3dhJson {
    ik: String,
    ek: String,
    spk_id: u32,
    opk_id: Option<u32>,
}

fn session_id(field: &str, s: &str) -> Result<SessionId, RatchetError> {
    SessionId::parse(s).map_err(|e| RatchetError::malformed(format!("wire message: \"{field}\": {e}")))
}

fn key_hex(field: &str, s: &str) -> Result<[u8; 32], RatchetError> {
    decode_hex32(s)
        .map_err(|_| RatchetError::malformed(format!("wire message: \"{field}\" must be 64 hex characters")))
}

impl WireMessage {
    /// The JSON object, fields in the spec's order.
    /// The JSON object.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.json()).unwrap_or(Value::Null)
    }

    fn json(&self) -> impl Serialize {
        WireJson {
            v: WIRE_VERSION,
            from: self.from.to_string(),
            to: self.to.to_string(),
            header: hex::encode(self.header.to_bytes()),
            ct: B64.encode(&self.ct),
            x3dh: self.x3dh.map(|x| X3dhJson {
                ik: hex::encode(x.ik),
                ek: hex::encode(x.ek),
                spk_id: x.spk_id,
                opk_id: x.opk_id,
            }),
        }
    }

    /// The line `encrypt` prints and `send` stores (no trailing newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(&self.json()).unwrap_or_default()
    }

    /// Parses a ratchet message from its JSON line.
    pub fn from_json(value: &Value) -> Result<Self, RatchetError> {
        if let Some(v) = value.get("v").and_then(Value::as_u64)
            && v != WIRE_VERSION
        {
            return Err(RatchetError::UnsupportedVersion(v));
        }
        let json: WireJson = serde_json::from_value(value.clone())
            .map_err(|e| RatchetError::malformed(format!("wire message: {e}")))?;
        let header_raw = hex::decode(&json.header)
            .map_err(|_| RatchetError::malformed("wire message: \"header\" is not hex"))?;
        let ct = B64
            .decode(&json.ct)
            .map_err(|_| RatchetError::malformed("wire message: \"ct\" is not base64"))?;
        let x3dh = match json.x3dh {
            None => None,
            Some(x) => Some(X3dhHeader {
                ik: key_hex("x3dh.ik", &x.ik)?,
                ek: key_hex("x3dh.ek", &x.ek)?,
                spk_id: x.spk_id,
                opk_id: x.opk_id,
            }),
        };
        Ok(Self {
            from: session_id("from", &json.from)?,
            to: session_id("to", &json.to)?,
            header: Header::from_bytes(&header_raw)?,
            ct,
            x3dh,
        })
    }
}

/// What one input line of `decrypt` (or `accept`) holds.
#[derive(Debug)]
pub enum Payload {
    /// A Double Ratchet message.
    Message(WireMessage),
    /// A sealed friend request.
    Request(SealedRequest),
    /// A 1-1 message in the live Session apps' format (session-protocol.md §4): the decoded
    /// `data` of a retrieved record, a `WebSocketMessage` protobuf.
    SessionMessage(Vec<u8>),
}

/// One parsed input line, with the `hash` and `timestamp` a `retrieve` line carried (passed
/// through to the output so that scripts can match them).
#[derive(Debug)]
pub struct Incoming {
    /// What the line carries.
    pub payload: Payload,
    /// The retrieved line's `hash`, passed through.
    pub hash: Option<Value>,
    /// The retrieved line's `timestamp`, passed through.
    pub timestamp: Option<Value>,
}

impl Incoming {
    /// Reads a bare wire message or friend request, or a `retrieve` record (`"data"` = base64
    /// of such a line).
    pub fn from_json(value: &Value) -> Result<Self, RatchetError> {
        let obj =
            value.as_object().ok_or_else(|| RatchetError::malformed("input line: not a JSON object"))?;
        if let Some(data) = obj.get("data") {
            let data = data
                .as_str()
                .ok_or_else(|| RatchetError::malformed("input line: \"data\" is not a string"))?;
            if data.len() > MAX_WIRE_BYTES * 4 / 3 + 4 {
                return Err(RatchetError::TooLong {
                    what: "message data",
                    len: data.len(),
                    max: MAX_WIRE_BYTES,
                });
            }
            let bytes = B64
                .decode(data.trim())
                .map_err(|_| RatchetError::malformed("input line: \"data\" is not base64"))?;
            let inner =
                std::str::from_utf8(&bytes).ok().and_then(|t| serde_json::from_str::<Value>(t.trim()).ok());
            let payload = match inner {
                Some(inner) => Self::payload(&inner)?,
                // Not JSON: the apps' protobuf wrapping, or nothing this side can read.
                None if crate::formats::session_protocol::unwrap_from_swarm(&bytes).is_ok() => {
                    Payload::SessionMessage(bytes)
                }
                None => {
                    return Err(RatchetError::malformed(
                        "message data: neither a ratchet message (JSON) nor a Session app message (protobuf)",
                    ));
                }
            };
            return Ok(Self {
                payload,
                hash: obj.get("hash").cloned(),
                timestamp: obj.get("timestamp").cloned(),
            });
        }
        Ok(Self { payload: Self::payload(value)?, hash: None, timestamp: None })
    }

    fn payload(value: &Value) -> Result<Payload, RatchetError> {
        if value.get("sealed").is_some() {
            Ok(Payload::Request(SealedRequest::from_json(value)?))
        } else if value.get("header").is_some() {
            Ok(Payload::Message(WireMessage::from_json(value)?))
        } else {
            Err(RatchetError::malformed(
                "input line: neither a wire message (\"header\") nor a friend request (\"sealed\") nor a retrieved record (\"data\")",
            ))
        }
    }
}

/// Serializes as the JSON line (fields in the spec's order).
impl Serialize for WireMessage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sid(b: u8) -> SessionId {
        SessionId::from_x25519([b; 32])
    }

    proptest! {
        /// Untrusted input lines never panic: any string, as a bare line or as retrieved data.
        #[test]
        fn arbitrary_lines_never_panic(text in ".{0,300}", bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                let _ = Incoming::from_json(&v);
            }
            let _ = Incoming::from_json(&serde_json::json!({"data": B64.encode(&bytes)}));
            let _ = Incoming::from_json(&serde_json::json!({"v": 1, "from": text, "to": text, "header": hex::encode(&bytes), "ct": ""}));
            let _ = Header::from_bytes(&bytes);
        }

        #[test]
        fn header_round_trip(key in any::<[u8; 32]>(), pn in any::<u32>(), n in any::<u32>()) {
            let h = Header { ratchet: RemoteRatchetKey::new(key), pn, n };
            prop_assert_eq!(Header::from_bytes(&h.to_bytes()).unwrap(), h);
        }

        #[test]
        fn wire_round_trip(ct in proptest::collection::vec(any::<u8>(), 0..200), n in any::<u32>(),
                           x in proptest::option::of((any::<[u8; 32]>(), any::<u32>(), proptest::option::of(any::<u32>())))) {
            let m = WireMessage {
                from: sid(1), to: sid(2),
                header: Header { ratchet: RemoteRatchetKey::new([3; 32]), pn: 7, n },
                ct,
                x3dh: x.map(|(ek, spk_id, opk_id)| X3dhHeader { ik: [1; 32], ek, spk_id, opk_id }),
            };
            let line = m.to_line();
            let back = WireMessage::from_json(&serde_json::from_str(&line).unwrap()).unwrap();
            prop_assert_eq!(back, m);
        }
    }

    #[test]
    fn wire_fields_in_spec_order_and_retrieve_form() {
        let m = WireMessage {
            from: sid(1),
            to: sid(2),
            header: Header { ratchet: RemoteRatchetKey::new([3; 32]), pn: 1, n: 2 },
            ct: vec![1, 2, 3],
            x3dh: Some(X3dhHeader { ik: [1; 32], ek: [4; 32], spk_id: 5, opk_id: None }),
        };
        let line = m.to_line();
        assert!(line.starts_with("{\"v\":1,\"from\":\"05"));
        assert!(line.contains("\"opk_id\":null"));
        let retrieved =
            serde_json::json!({"hash": "h", "timestamp": 5, "data": B64.encode(format!("{line}\n"))});
        let inc = Incoming::from_json(&retrieved).unwrap();
        assert!(matches!(inc.payload, Payload::Message(ref back) if *back == m));
        assert_eq!(inc.hash, Some(serde_json::json!("h")));
    }

    #[test]
    fn retrieved_live_app_messages_are_recognised() {
        let alice = crate::formats::identity::Identity::from_seed(&[1; 16]).unwrap();
        let data = crate::formats::session_protocol::build_text_message(
            &alice,
            &sid(7),
            "hi",
            1,
            crate::formats::session_protocol::PaddingStyle::Libsession,
        )
        .unwrap();
        let line = serde_json::json!({"hash": "h", "timestamp": 1, "data": B64.encode(&data)});
        let inc = Incoming::from_json(&line).unwrap();
        assert!(matches!(inc.payload, Payload::SessionMessage(ref d) if *d == data));
        // Bytes that are neither JSON nor the apps' protobuf are refused as malformed.
        let junk = serde_json::json!({"data": B64.encode([0xff, 0x00, 0x13, 0x37])});
        assert!(Incoming::from_json(&junk).unwrap_err().is_bad_input());
    }

    #[test]
    fn bad_lines_are_malformed() {
        for bad in [
            serde_json::json!([1]),
            serde_json::json!({"x": 1}),
            serde_json::json!({"data": "!!"}),
            serde_json::json!({"v": 1, "from": "05", "to": "05", "header": "", "ct": ""}),
        ] {
            assert!(Incoming::from_json(&bad).unwrap_err().is_bad_input(), "{bad}");
        }
        assert_eq!(
            WireMessage::from_json(&serde_json::json!({"v": 2})).unwrap_err(),
            RatchetError::UnsupportedVersion(2)
        );
    }
}
