//! The part of `Content` (SessionProtos.proto) a text message needs: `dataMessage` (1) with its
//! `body` (1), `attachments` (2) and `timestamp` (7), and `sigTimestamp` (15), the authenticated
//! send time. Other fields are skipped when reading and not written back. Encoded and decoded by prost (derived
//! here with the `.proto`'s field numbers); decoding is bounded by `proto::decode_bounded`.

use super::error::ProtoError;
use super::proto::decode_bounded;
use crate::formats::attachments::pointer::AttachmentPointer;

/// `AttachmentPointer` (SessionProtos.proto), as the apps put it into `DataMessage.attachments`.
/// `id` is `required` in the apps' proto: it is always written (the numeric file id of an old
/// upload, else 0); `url` (101) is the real reference. `thumbnail` (5) is not used by the apps.
/// The key is wiped when dropped and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, prost::Message, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
#[prost(skip_debug)]
pub struct AttachmentPointerProto {
    /// `id`, fixed64, required.
    #[prost(fixed64, required, tag = "1")]
    pub id: u64,
    /// `contentType`.
    #[prost(string, optional, tag = "2")]
    pub content_type: Option<String>,
    /// `key`: 32 bytes ('S') or 64 (legacy).
    #[prost(bytes = "vec", optional, tag = "3")]
    pub key: Option<Vec<u8>>,
    /// `size`, unpadded.
    #[prost(uint32, optional, tag = "4")]
    pub size: Option<u32>,
    /// `digest`, legacy only.
    #[prost(bytes = "vec", optional, tag = "6")]
    pub digest: Option<Vec<u8>>,
    /// `fileName`.
    #[prost(string, optional, tag = "7")]
    pub file_name: Option<String>,
    /// `flags` (1 = voice message).
    #[prost(uint32, optional, tag = "8")]
    pub flags: Option<u32>,
    /// `width`.
    #[prost(uint32, optional, tag = "9")]
    pub width: Option<u32>,
    /// `height`.
    #[prost(uint32, optional, tag = "10")]
    pub height: Option<u32>,
    /// `caption`.
    #[prost(string, optional, tag = "11")]
    pub caption: Option<String>,
    /// `url`, with its fragment.
    #[prost(string, optional, tag = "101")]
    pub url: Option<String>,
}

impl std::fmt::Debug for AttachmentPointerProto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentPointerProto")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("key_len", &self.key.as_ref().map(Vec::len))
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl From<&AttachmentPointer> for AttachmentPointerProto {
    fn from(p: &AttachmentPointer) -> Self {
        // The deprecated numeric id: the pointer's own, else a numeric file id in the URL.
        let id = p.id.or_else(|| p.download_url().ok().and_then(|u| u.file_id().parse().ok())).unwrap_or(0);
        Self {
            id,
            content_type: p.content_type.clone(),
            key: Some(p.key.clone()),
            size: Some(p.size),
            digest: p.digest.clone(),
            file_name: p.file_name.clone(),
            flags: p.flags,
            width: p.width,
            height: p.height,
            caption: p.caption.clone(),
            url: Some(p.url.clone()),
        }
    }
}

impl From<&AttachmentPointerProto> for AttachmentPointer {
    fn from(p: &AttachmentPointerProto) -> Self {
        Self {
            url: p.url.clone().unwrap_or_default(),
            key: p.key.clone().unwrap_or_default(),
            size: p.size.unwrap_or(0),
            digest: p.digest.clone().filter(|d| !d.is_empty()),
            content_type: p.content_type.clone(),
            file_name: p.file_name.clone(),
            flags: p.flags,
            width: p.width,
            height: p.height,
            caption: p.caption.clone(),
            id: (p.id != 0).then_some(p.id),
        }
    }
}

/// `DataMessage`, text part. The text is wiped when dropped and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, prost::Message, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
#[prost(skip_debug)]
pub struct DataMessage {
    /// `body`: the text.
    #[prost(string, optional, tag = "1")]
    pub body: Option<String>,
    /// `attachments`: the files the message points at.
    #[prost(message, repeated, tag = "2")]
    pub attachments: Vec<AttachmentPointerProto>,
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
            .field("attachments", &self.attachments.len())
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

impl Content {
    /// A text message as the apps send it: `dataMessage{body, timestamp}` and `sigTimestamp`,
    /// both times the send time in ms (the Envelope timestamp must be the same).
    pub fn text(body: &str, timestamp_ms: u64) -> Self {
        Self::with_attachments(Some(body), &[], timestamp_ms)
    }

    /// A message with a text (optional) and attachments, as the apps send it:
    /// `dataMessage{body?, attachments, timestamp}` and `sigTimestamp`.
    pub fn with_attachments(
        body: Option<&str>,
        attachments: &[AttachmentPointer],
        timestamp_ms: u64,
    ) -> Self {
        Self {
            data_message: Some(DataMessage {
                body: body.map(str::to_owned),
                attachments: attachments.iter().map(AttachmentPointerProto::from).collect(),
                timestamp: Some(timestamp_ms),
            }),
            sig_timestamp: Some(timestamp_ms),
        }
    }

    /// The attachment pointers of the `dataMessage`.
    pub fn attachments(&self) -> Vec<AttachmentPointer> {
        self.data_message
            .as_ref()
            .map(|d| d.attachments.iter().map(AttachmentPointer::from).collect())
            .unwrap_or_default()
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
            &prost::Message::encode_to_vec(&DataMessage {
                body: Some("a".into()),
                attachments: vec![],
                timestamp: None,
            }),
        );
        let mut second = prost::Message::encode_to_vec(&DataMessage {
            body: None,
            attachments: vec![],
            timestamp: Some(9),
        });
        put_uint(&mut second, 4, 2);
        put_bytes(&mut bytes, 1, &second);
        let c = Content::decode(&bytes).unwrap();
        assert_eq!(
            c.data_message,
            Some(DataMessage { body: Some("a".into()), attachments: vec![], timestamp: Some(9) })
        );
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

    #[test]
    fn attachments_bytes_and_round_trip() {
        let p = AttachmentPointer {
            url: "http://h/file/12#d".into(),
            key: vec![7; 32],
            size: 5,
            content_type: Some("image/png".into()),
            file_name: Some("a.png".into()),
            ..Default::default()
        };
        let c = Content::with_attachments(None, std::slice::from_ref(&p), 1);
        let bytes = c.encode();
        // dataMessage{attachments{id(fixed64)=12, contentType, key, size, fileName, url(101)}, timestamp}.
        let mut att = vec![0x09, 12, 0, 0, 0, 0, 0, 0, 0];
        att.extend([0x12, 9]);
        att.extend(b"image/png");
        att.extend([0x1a, 32]);
        att.extend([7u8; 32]);
        att.extend([0x20, 5, 0x3a, 5]);
        att.extend(b"a.png");
        att.extend([0xaa, 0x06, 18]);
        att.extend(b"http://h/file/12#d");
        let mut dm = vec![0x12, att.len() as u8];
        dm.extend(&att);
        dm.extend([0x38, 0x01]);
        let mut want = vec![0x0a, dm.len() as u8];
        want.extend(&dm);
        want.extend([0x78, 0x01]);
        assert_eq!(bytes, want);
        let back = Content::decode(&bytes).unwrap();
        let mut expect = p.clone();
        expect.id = Some(12);
        assert_eq!(back.attachments(), vec![expect]);
        assert_eq!(back.text_body(), None);
        // A hash id: id 0, still written (required in the apps' proto).
        let q = AttachmentPointer {
            url: "http://h/file/3qXf-_#d".into(),
            key: vec![1; 32],
            ..Default::default()
        };
        let enc = Content::with_attachments(Some("x"), &[q], 1).encode();
        assert!(enc.windows(9).any(|w| w == [0x09, 0, 0, 0, 0, 0, 0, 0, 0]));
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
