//! The onion framing (onion.md §5): `u32 N (little-endian) ‖ N bytes ‖ UTF-8 JSON object`.
//! Used for the request body a node receives and for the plaintext of every layer.

use serde_json::{Map, Value};

use super::OnionError;
use crate::formats::limits::{ONION_MAX_BODY, ONION_MAX_JSON};

/// Length of the N prefix.
const FRAME_LEN_PREFIX: usize = 4;

/// A decoded frame: the N bytes and the JSON object after them.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame<'a> {
    /// The encrypted part.
    pub payload: &'a [u8],
    /// The JSON part.
    pub json: Map<String, Value>,
}

/// Encodes `payload` and `json` as one frame.
pub fn encode_frame(payload: &[u8], json: &Value) -> Vec<u8> {
    let json_text = json.to_string();
    let mut out = Vec::with_capacity(FRAME_LEN_PREFIX + payload.len() + json_text.len());
    // Payload lengths are bounded far below u32::MAX by ONION_MAX_BODY everywhere they come from.
    out.extend_from_slice(&(payload.len().min(u32::MAX as usize) as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(json_text.as_bytes());
    out
}

/// Decodes a frame, bounding the body and the JSON part and requiring a JSON object.
pub fn decode_frame(bytes: &[u8]) -> Result<Frame<'_>, OnionError> {
    if bytes.len() > ONION_MAX_BODY {
        return Err(OnionError::BodyTooLarge(bytes.len()));
    }
    let Some((prefix, rest)) = bytes.split_first_chunk::<FRAME_LEN_PREFIX>() else {
        return Err(OnionError::TruncatedFrame(format!(
            "{} bytes, less than the {FRAME_LEN_PREFIX}-byte length prefix",
            bytes.len()
        )));
    };
    let n = u32::from_le_bytes(*prefix) as usize;
    if n > rest.len() {
        return Err(OnionError::TruncatedFrame(format!(
            "the prefix announces {n} bytes but only {} follow",
            rest.len()
        )));
    }
    let (payload, json_bytes) = rest.split_at(n);
    if json_bytes.len() > ONION_MAX_JSON {
        return Err(OnionError::JsonTooLarge(json_bytes.len()));
    }
    if json_bytes.is_empty() {
        return Err(OnionError::TruncatedFrame("no JSON part after the payload".into()));
    }
    let json: Map<String, Value> =
        serde_json::from_slice(json_bytes).map_err(|e| OnionError::BadJson(e.to_string()))?;
    Ok(Frame { payload, json })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn frame_layout() {
        let f = encode_frame(b"ciphertext", &json!({"headers": {}}));
        assert_eq!(&f[..4], &[0x0a, 0, 0, 0]);
        assert_eq!(&f[4..14], b"ciphertext");
        assert_eq!(&f[14..], br#"{"headers":{}}"#);
        let d = decode_frame(&f).unwrap();
        assert_eq!(d.payload, b"ciphertext");
        assert!(d.json.contains_key("headers"));
    }

    #[test]
    fn truncated_and_bad_frames_are_refused() {
        assert!(matches!(decode_frame(b""), Err(OnionError::TruncatedFrame(_))));
        assert!(matches!(decode_frame(&[1, 0, 0]), Err(OnionError::TruncatedFrame(_))));
        assert!(matches!(decode_frame(&[9, 0, 0, 0, 1, 2]), Err(OnionError::TruncatedFrame(_))));
        assert!(matches!(decode_frame(&[0xff, 0xff, 0xff, 0xff]), Err(OnionError::TruncatedFrame(_))));
        assert!(matches!(decode_frame(&[1, 0, 0, 0, 7]), Err(OnionError::TruncatedFrame(_))));
        assert!(matches!(decode_frame(b"\x01\x00\x00\x00x{nope"), Err(OnionError::BadJson(_))));
        assert!(matches!(decode_frame(b"\x01\x00\x00\x00x[1]"), Err(OnionError::BadJson(_))));
        let mut big = vec![0u8, 0, 0, 0];
        big.extend(vec![b' '; ONION_MAX_JSON + 1]);
        assert!(matches!(decode_frame(&big), Err(OnionError::JsonTooLarge(_))));
        assert!(matches!(decode_frame(&vec![0u8; ONION_MAX_BODY + 1]), Err(OnionError::BodyTooLarge(_))));
    }

    proptest! {
        #[test]
        fn frame_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..2048),
                            key in "[a-z_]{1,12}", val in any::<i64>(), s in ".{0,40}") {
            let j = json!({ key.clone(): val, "s": s });
            let f = encode_frame(&payload, &j);
            let d = decode_frame(&f).unwrap();
            prop_assert_eq!(d.payload, &payload[..]);
            prop_assert_eq!(Value::Object(d.json), j);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_frame(&bytes);
        }
    }
}
