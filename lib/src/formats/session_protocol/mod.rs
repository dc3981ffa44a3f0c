//! The live Session network's 1-1 message format (spec session-protocol.md §4), so that snkit
//! can talk to the real apps: a `Content` protobuf, padded, signed for its recipient, sealed to
//! the recipient's X25519 key and wrapped in `Envelope` (here [`SessionEnvelope`]) + `WebSocketMessage` for the swarm.
//!
//! One module per job:
//! - [`padding`]: Signal's transport padding (libsession's and desktop's lengths);
//! - [`seal`]: encryption for a recipient (random or libsession's deterministic ephemeral) and
//!   decryption;
//! - [`wrap`]: `SessionEnvelope` and `WebSocketMessage`, the swarm wrapping;
//! - [`content`]: the text part of `Content`;
//! - `proto`: the bounded entry to prost they share;
//! - [`error`]: the error enums.
//!
//! [`build_text_message`] and [`read_message`] do all the steps at once.

pub mod content;
pub mod error;
pub mod padding;
mod proto;
pub mod seal;
pub mod wrap;

pub use content::{AttachmentPointerProto, Content, DataMessage};
pub use error::{ProtoError, SessionProtocolError};
pub use padding::{PaddingStyle, pad, padded_len, unpad};
pub use seal::{OpenedBox, decrypt_incoming, encrypt_for_recipient, encrypt_for_recipient_deterministic};
pub use wrap::{SessionEnvelope, WebSocketMessage, WebSocketRequest, unwrap_from_swarm, wrap_for_swarm};

use crate::formats::identity::{Identity, SessionId};

/// A 1-1 message read from the swarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The sender's Session ID, from the key that signed the message.
    pub sender: SessionId,
    /// The sender's Ed25519 key.
    pub sender_ed25519: [u8; 32],
    /// The Envelope timestamp (ms; not authenticated: compare `content.sig_timestamp`).
    pub timestamp_ms: u64,
    /// The decrypted, unpadded `Content` (its text part).
    pub content: Content,
}

impl ReceivedMessage {
    /// The text of the message.
    pub fn text(&self) -> Result<&str, SessionProtocolError> {
        let data = self.content.data_message.as_ref().ok_or(SessionProtocolError::NoDataMessage)?;
        data.body.as_deref().ok_or(SessionProtocolError::NoText)
    }
}

/// A text message from `sender` to `recipient`, as the apps build it: `Content::text` padded in
/// `style`, encrypted with a random ephemeral key and wrapped for the swarm. The result,
/// base64-encoded, is the `data` of a store request.
pub fn build_text_message(
    sender: &Identity,
    recipient: &SessionId,
    body: &str,
    timestamp_ms: u64,
    style: PaddingStyle,
) -> Result<Vec<u8>, SessionProtocolError> {
    build_message(sender, recipient, Some(body), &[], timestamp_ms, style)
}

/// [`build_text_message`] with attachments (`DataMessage.attachments`) and an optional text, as
/// the apps send a message with files.
pub fn build_message(
    sender: &Identity,
    recipient: &SessionId,
    body: Option<&str>,
    attachments: &[crate::formats::attachments::pointer::AttachmentPointer],
    timestamp_ms: u64,
    style: PaddingStyle,
) -> Result<Vec<u8>, SessionProtocolError> {
    let padded = pad(&Content::with_attachments(body, attachments, timestamp_ms).encode(), style)?;
    let ciphertext = encrypt_for_recipient(sender, recipient, &padded)?;
    wrap_for_swarm(&ciphertext, timestamp_ms)
}

/// Reads a 1-1 message from the swarm (the decoded `data`): unwraps, decrypts with `own` keys,
/// checks the signature, unpads and parses the `Content`.
pub fn read_message(own: &Identity, data: &[u8]) -> Result<ReceivedMessage, SessionProtocolError> {
    let envelope = unwrap_from_swarm(data)?;
    let ciphertext = envelope.content.as_deref().ok_or(SessionProtocolError::NoContent)?;
    let opened = decrypt_incoming(own, ciphertext)?;
    let content = Content::decode(unpad(&opened.plaintext))?;
    Ok(ReceivedMessage {
        sender: opened.sender,
        sender_ed25519: opened.sender_ed25519,
        timestamp_ms: envelope.timestamp,
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::limits::{SESSION_MAX_CONTENT_BYTES, SESSION_MAX_MESSAGE_BYTES};
    use proptest::prelude::*;

    fn alice() -> Identity {
        Identity::from_seed_hex("0123456789abcdef0123456789abcdef").unwrap()
    }

    fn bob() -> Identity {
        Identity::from_seed_hex("00112233445566778899aabbccddeeff").unwrap()
    }

    #[test]
    fn text_message_end_to_end() {
        for style in [PaddingStyle::Libsession, PaddingStyle::Desktop] {
            let data = build_text_message(&alice(), &bob().session_id(), "hi Bob", 1_700_000_000_000, style)
                .unwrap();
            let got = read_message(&bob(), &data).unwrap();
            assert_eq!(got.sender, alice().session_id());
            assert_eq!(got.sender_ed25519, alice().ed25519_public());
            assert_eq!(got.timestamp_ms, 1_700_000_000_000);
            assert_eq!(got.content.sig_timestamp, Some(1_700_000_000_000));
            assert_eq!(got.text(), Ok("hi Bob"));
            // The ciphertext carries the padded content: 144 + 159 or 160.
            let env = unwrap_from_swarm(&data).unwrap();
            let want =
                144 + padded_len(Content::text("hi Bob", 1_700_000_000_000).encode().len(), style).unwrap();
            assert_eq!(env.content.map(|c| c.len()), Some(want));
            assert_eq!(read_message(&alice(), &data), Err(SessionProtocolError::OpenFailed));
        }
    }

    #[test]
    fn the_deterministic_vector_reads_as_unpadded_text_bytes() {
        // The 149-byte vector's plaintext "hello" has no padding marker: unpad keeps it whole.
        let ct = encrypt_for_recipient_deterministic(&alice(), &bob().session_id(), b"hello").unwrap();
        let opened = decrypt_incoming(&bob(), &ct).unwrap();
        assert_eq!(unpad(&opened.plaintext), b"hello");
    }

    #[test]
    fn the_largest_content_fits_a_store() {
        // A body whose Content is as long as padding allows, padded the longer (libsession) way.
        let overhead = Content::text("", u64::MAX).encode().len() + 4;
        let body = "x".repeat(SESSION_MAX_CONTENT_BYTES - overhead);
        let content = Content::text(&body, u64::MAX).encode();
        assert!(content.len() <= SESSION_MAX_CONTENT_BYTES);
        let data =
            build_text_message(&alice(), &bob().session_id(), &body, u64::MAX, PaddingStyle::Libsession)
                .unwrap();
        assert!(data.len() <= SESSION_MAX_MESSAGE_BYTES);
        assert_eq!(read_message(&bob(), &data).unwrap().text(), Ok(body.as_str()));
        let too_long = "x".repeat(SESSION_MAX_CONTENT_BYTES);
        assert!(matches!(
            build_text_message(&alice(), &bob().session_id(), &too_long, 1, PaddingStyle::Libsession),
            Err(SessionProtocolError::ContentTooLong(_))
        ));
    }

    #[test]
    fn non_text_content_is_reported() {
        let padded =
            pad(&Content { sig_timestamp: Some(1), ..Content::default() }.encode(), PaddingStyle::Desktop)
                .unwrap();
        let data = wrap_for_swarm(&encrypt_for_recipient(&alice(), &bob().session_id(), &padded).unwrap(), 1)
            .unwrap();
        let got = read_message(&bob(), &data).unwrap();
        assert_eq!(got.text(), Err(SessionProtocolError::NoDataMessage));
        let padded = pad(
            &Content { data_message: Some(DataMessage::default()), sig_timestamp: Some(1) }.encode(),
            PaddingStyle::Desktop,
        )
        .unwrap();
        let data = wrap_for_swarm(&encrypt_for_recipient(&alice(), &bob().session_id(), &padded).unwrap(), 1)
            .unwrap();
        assert_eq!(read_message(&bob(), &data).unwrap().text(), Err(SessionProtocolError::NoText));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn read_message_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            prop_assert!(read_message(&bob(), &bytes).is_err());
            let _ = decrypt_incoming(&bob(), &bytes);
        }
    }
}
