//! The bounded entry to prost, shared by the messages of session-protocol.md §4: every decode
//! refuses input larger than [`SESSION_MAX_MESSAGE_BYTES`] before prost reads a byte of it, and
//! reports prost's wire errors as [`ProtoError::Decode`]. The messages themselves are prost
//! derives with the field numbers of Session's `SessionProtos.proto` and
//! `WebSocketResources.proto` (in `content` and `wrap`); there is no build script and no protoc.

use super::error::ProtoError;
use crate::formats::limits::SESSION_MAX_MESSAGE_BYTES;

/// Decodes one `M`, refused when `bytes` is larger than any message this module reads.
pub(super) fn decode_bounded<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, ProtoError> {
    if bytes.len() > SESSION_MAX_MESSAGE_BYTES {
        return Err(ProtoError::TooLarge(bytes.len()));
    }
    M::decode(bytes).map_err(ProtoError::Decode)
}

/// Raw protobuf fields, for tests that build messages with fields this crate does not model.
#[cfg(test)]
pub(super) mod raw {
    /// A varint field (uint32, uint64, enum, bool).
    pub(crate) fn put_uint(out: &mut Vec<u8>, field: u32, v: u64) {
        prost::encoding::uint64::encode(field, &v, out);
    }

    /// A length-delimited field (bytes, string, embedded message).
    pub(crate) fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
        prost::encoding::bytes::encode(field, &bytes.to_vec(), out);
    }
}

#[cfg(test)]
mod tests {
    use super::raw::put_uint;
    use super::*;

    #[test]
    fn input_is_bounded_before_decoding() {
        #[derive(Clone, PartialEq, prost::Message)]
        struct One {
            #[prost(uint64, optional, tag = "1")]
            v: Option<u64>,
        }
        assert_eq!(
            decode_bounded::<One>(&vec![0u8; SESSION_MAX_MESSAGE_BYTES + 1]).unwrap_err(),
            ProtoError::TooLarge(76_801)
        );
        // The canonical example of the protobuf docs: field 1 = 150.
        let mut out = Vec::new();
        put_uint(&mut out, 1, 150);
        assert_eq!(out, [0x08, 0x96, 0x01]);
        assert_eq!(decode_bounded::<One>(&out).unwrap(), One { v: Some(150) });
        assert!(matches!(decode_bounded::<One>(&[0x08]), Err(ProtoError::Decode(_))));
        assert_eq!(decode_bounded::<One>(&[]).unwrap(), One { v: None });
    }
}
