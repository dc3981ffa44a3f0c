//! The part of `Content` (SessionProtos.proto) a text message needs: `dataMessage` (1) with its
//! `body` (1) and `timestamp` (7), and `sigTimestamp` (15), the authenticated send time. Other
//! fields are skipped when reading and not written back. Encoded and decoded by prost (derived
//! here with the `.proto`'s field numbers); decoding is bounded by `proto::decode_bounded`.

use super::error::ProtoError;
use super::proto::decode_bounded;

/// `DataMessage`, text part. The text is wiped when dropped and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, prost::Message, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
#[prost(skip_debug)]
pub struct DataMessage {
    /// `body`: the text.
    #[prost(string, optional, tag = "1")]
    pub body: Option<String>,
    /// `timestamp`, ms since the epoch.
    #[prost(uint64, optional, tag = "7")]
    pub timestamp: Option<u64>,
}

/// `Content`, text part.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Content {
    /// `dataMessage`.
    #[prost(message, optional, tag = "1")]
    pub data_message: Option<DataMessage>,
    /// `sigTimestamp`, ms since the epoch.
    #[prost(uint64, optional, tag = "15")]
    pub sig_timestamp: Option<u64>,
}

impl std::fmt::Debug for DataMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataMessage")
            .field("body_len", &self.body.as_ref().map(String::len))
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

impl Content {
    /// A text message as the apps send it: `dataMessage{body, timestamp}` and `sigTimestamp`,
    /// both times the send time in ms (the Envelope timestamp must be the same).
    pub fn text(body: &str, timestamp_ms: u64) -> Self {
        Self {
            data_message: Some(DataMessage { body: Some(body.to_owned()), timestamp: Some(timestamp_ms) }),
            sig_timestamp: Some(timestamp_ms),
        }
    }

    /// The text of the `dataMessage`, if there is one.
    pub fn text_body(&self) -> Option<&str> {
        self.data_message.as_ref().and_then(|d| d.body.as_deref())
    }

    /// The protobuf bytes (fields in number order, as protobuf serializers write them).
    pub fn encode(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(self)
    }

    /// Reads a `Content` (unpadded), keeping the fields above and skipping the rest.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        decode_bounded(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::super::proto::raw::{put_bytes, put_uint};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_bytes() {
        // Content{dataMessage{body="hi", timestamp=1}, sigTimestamp=1}, byte by byte.
        let c = Content::text("hi", 1);
        assert_eq!(c.encode(), [0x0a, 0x06, 0x0a, 0x02, b'h', b'i', 0x38, 0x01, 0x78, 0x01]);
        assert_eq!(Content::decode(&c.encode()).unwrap(), c);
        assert_eq!(c.text_body(), Some("hi"));
    }

    #[test]
    fn unknown_fields_are_skipped_and_messages_merge() {
        let mut bytes = Vec::new();
        // receiptMessage (5) and expirationTimer (13), which this module does not keep.
        put_bytes(&mut bytes, 5, &[0x08, 0x01]);
        put_uint(&mut bytes, 13, 3600);
        // dataMessage in two parts: body, then timestamp with an unknown flags (4) field.
        put_bytes(
            &mut bytes,
            1,
            &prost::Message::encode_to_vec(&DataMessage { body: Some("a".into()), timestamp: None }),
        );
        let mut second = prost::Message::encode_to_vec(&DataMessage { body: None, timestamp: Some(9) });
        put_uint(&mut second, 4, 2);
        put_bytes(&mut bytes, 1, &second);
        let c = Content::decode(&bytes).unwrap();
        assert_eq!(c.data_message, Some(DataMessage { body: Some("a".into()), timestamp: Some(9) }));
        assert_eq!(c.sig_timestamp, None);
    }

    #[test]
    fn field_rules() {
        // Wire-format errors are prost's (a varint where dataMessage wants bytes, a length past
        // the end, a truncated key, a body that is not UTF-8).
        for bad in [
            &[0x08, 0x01][..],
            &[0x0a, 0x05, 0x0a, 0x00],
            &[0x0a, 0x02, 0x0a, 0x00, 0x78],
            &[0x0a, 0x03, 0x0a, 0x01, 0xff],
        ] {
            assert!(matches!(Content::decode(bad), Err(ProtoError::Decode(_))), "{bad:?}");
        }
        assert_eq!(Content::decode(&[]).unwrap(), Content::default());
        assert_eq!(
            Content::decode(&vec![0u8; crate::formats::limits::SESSION_MAX_MESSAGE_BYTES + 1]),
            Err(ProtoError::TooLarge(76_801))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn text_round_trip(body in ".{0,200}", ts in any::<u64>()) {
            let c = Content::text(&body, ts);
            prop_assert_eq!(Content::decode(&c.encode()).unwrap(), c);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Content::decode(&bytes);
        }
    }
}
