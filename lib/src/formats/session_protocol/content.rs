//! The part of `Content` (SessionProtos.proto) a text message needs: `dataMessage` (1) with its
//! `body` (1) and `timestamp` (7), and `sigTimestamp` (15), the authenticated send time. Other
//! fields are skipped when reading and not written back.

use super::error::ProtoError;
use super::proto::{Name, Reader, put_bytes, put_uint};

const CONTENT_DATA_MESSAGE: u32 = 1;
const CONTENT_SIG_TIMESTAMP: u32 = 15;
const DATA_BODY: u32 = 1;
const DATA_TIMESTAMP: u32 = 7;

/// `DataMessage`, text part. The text is wiped when dropped and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Default, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct DataMessage {
    pub body: Option<String>,
    pub timestamp: Option<u64>,
}

/// `Content`, text part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Content {
    pub data_message: Option<DataMessage>,
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

impl DataMessage {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(body) = &self.body {
            put_bytes(&mut out, DATA_BODY, body.as_bytes());
        }
        if let Some(ts) = self.timestamp {
            put_uint(&mut out, DATA_TIMESTAMP, ts);
        }
        out
    }

    /// Merges the fields of `bytes` into `self` (protobuf: a repeated embedded message merges).
    fn merge(&mut self, bytes: &[u8]) -> Result<(), ProtoError> {
        let mut r = Reader::new(bytes)?;
        while let Some((number, value)) = r.field()? {
            match number {
                DATA_BODY => self.body = Some(value.string(Name { message: "DataMessage", field: "body" })?),
                DATA_TIMESTAMP => {
                    self.timestamp = Some(value.varint(Name { message: "DataMessage", field: "timestamp" })?)
                }
                _ => {}
            }
        }
        Ok(())
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
        let mut out = Vec::new();
        if let Some(dm) = &self.data_message {
            put_bytes(&mut out, CONTENT_DATA_MESSAGE, &dm.encode());
        }
        if let Some(ts) = self.sig_timestamp {
            put_uint(&mut out, CONTENT_SIG_TIMESTAMP, ts);
        }
        out
    }

    /// Reads a `Content` (unpadded), keeping the fields above and skipping the rest.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        let mut out = Self::default();
        let mut r = Reader::new(bytes)?;
        while let Some((number, value)) = r.field()? {
            match number {
                CONTENT_DATA_MESSAGE => {
                    let raw = value.bytes(Name { message: "Content", field: "dataMessage" })?;
                    out.data_message.get_or_insert_with(DataMessage::default).merge(raw)?;
                }
                CONTENT_SIG_TIMESTAMP => {
                    out.sig_timestamp =
                        Some(value.varint(Name { message: "Content", field: "sigTimestamp" })?)
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
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
        put_bytes(&mut bytes, 1, &DataMessage { body: Some("a".into()), timestamp: None }.encode());
        let mut second = DataMessage { body: None, timestamp: Some(9) }.encode();
        put_uint(&mut second, 4, 2);
        put_bytes(&mut bytes, 1, &second);
        let c = Content::decode(&bytes).unwrap();
        assert_eq!(c.data_message, Some(DataMessage { body: Some("a".into()), timestamp: Some(9) }));
        assert_eq!(c.sig_timestamp, None);
    }

    #[test]
    fn field_rules() {
        assert_eq!(
            Content::decode(&[0x08, 0x01]),
            Err(ProtoError::WrongWireType { message: "Content", field: "dataMessage" })
        );
        assert_eq!(
            Content::decode(&[0x0a, 0x05, 0x0a, 0x00]),
            Err(ProtoError::LengthOutOfBounds { len: 5, left: 2 })
        );
        assert_eq!(Content::decode(&[0x0a, 0x02, 0x0a, 0x00, 0x78]), Err(ProtoError::Truncated));
        assert_eq!(
            Content::decode(&[0x0a, 0x03, 0x0a, 0x01, 0xff]),
            Err(ProtoError::NotUtf8 { message: "DataMessage", field: "body" })
        );
        assert_eq!(Content::decode(&[]).unwrap(), Content::default());
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
