//! Signal's transport padding of a serialized `Content` (spec session-protocol.md §4, "Padding"):
//! content ‖ 0x80 ‖ 0x00…, to a length that depends on the implementation that pads. Both
//! lengths unpad the same way.

use super::error::SessionProtocolError;
use crate::formats::limits::SESSION_MAX_CONTENT_BYTES;

/// The block the padded length is a multiple of (or one less than, for [`PaddingStyle::Desktop`]).
const PADDING_BLOCK: usize = 160;
/// The byte that ends the content and starts the padding.
const PADDING_MARKER: u8 = 0x80;

/// Which app's padded length to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaddingStyle {
    /// libsession `pad_message`: 160·(⌊(L+1)/160⌋ + 1), the smallest multiple of 160 strictly above
    /// L+1 (L=5 → 160, L=159 → 320).
    #[default]
    Libsession,
    /// Desktop and the Signal-derived iOS code: 160·⌈(L+2)/160⌉ − 1 (L=5 → 159, L=159 → 319).
    Desktop,
}

/// The padded length of `len` content bytes (marker included).
pub fn padded_len(len: usize, style: PaddingStyle) -> Result<usize, SessionProtocolError> {
    if len > SESSION_MAX_CONTENT_BYTES {
        return Err(SessionProtocolError::ContentTooLong(len));
    }
    Ok(match style {
        PaddingStyle::Libsession => PADDING_BLOCK * ((len + 1) / PADDING_BLOCK + 1),
        PaddingStyle::Desktop => PADDING_BLOCK * (len + 2).div_ceil(PADDING_BLOCK) - 1,
    })
}

/// Pads `content`: content ‖ 0x80 ‖ zeros, to [`padded_len`].
pub fn pad(content: &[u8], style: PaddingStyle) -> Result<Vec<u8>, SessionProtocolError> {
    let total = padded_len(content.len(), style)?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(content);
    out.push(PADDING_MARKER);
    out.resize(total, 0);
    Ok(out)
}

/// Removes the padding: scans back over trailing zeros to the 0x80 marker and returns what is
/// before it. Input whose last non-zero byte is not 0x80 (or that has none) is taken as
/// unpadded and returned whole, as the apps do.
pub fn unpad(padded: &[u8]) -> &[u8] {
    match padded.iter().rposition(|&b| b != 0) {
        Some(i) if padded[i] == PADDING_MARKER => &padded[..i],
        _ => padded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spec_lengths() {
        assert_eq!(padded_len(5, PaddingStyle::Libsession).unwrap(), 160);
        assert_eq!(padded_len(5, PaddingStyle::Desktop).unwrap(), 159);
        assert_eq!(padded_len(159, PaddingStyle::Libsession).unwrap(), 320);
        assert_eq!(padded_len(159, PaddingStyle::Desktop).unwrap(), 319);
        assert_eq!(pad(&[7u8; 5], PaddingStyle::Libsession).unwrap().len(), 160);
        assert_eq!(pad(&[7u8; 5], PaddingStyle::Desktop).unwrap().len(), 159);
        assert_eq!(pad(&[7u8; 159], PaddingStyle::Libsession).unwrap().len(), 320);
        assert_eq!(pad(&[7u8; 159], PaddingStyle::Desktop).unwrap().len(), 319);
    }

    #[test]
    fn lengths_at_the_block_edges() {
        use PaddingStyle::{Desktop, Libsession};
        // libsession: a whole extra block when L+1 ≡ 0 (mod 160).
        for (l, want) in [(0, 160), (157, 160), (158, 160), (159, 320), (318, 320), (319, 480)] {
            assert_eq!(padded_len(l, Libsession).unwrap(), want, "libsession L={l}");
        }
        // desktop: 159, 319, …; the marker may be the last byte (L=158 → 159, no zeros).
        for (l, want) in [(0, 159), (157, 159), (158, 159), (159, 319), (317, 319), (318, 319), (319, 479)] {
            assert_eq!(padded_len(l, Desktop).unwrap(), want, "desktop L={l}");
        }
        assert_eq!(pad(&[1u8; 158], Desktop).unwrap().last(), Some(&PADDING_MARKER));
    }

    #[test]
    fn padded_form() {
        let p = pad(b"hello", PaddingStyle::Desktop).unwrap();
        assert_eq!(&p[..5], b"hello");
        assert_eq!(p[5], 0x80);
        assert!(p[6..].iter().all(|&b| b == 0));
    }

    #[test]
    fn unpad_rules() {
        assert_eq!(unpad(b"hi\x80\x00\x00"), b"hi");
        assert_eq!(unpad(b"hi\x80"), b"hi");
        assert_eq!(unpad(b"\x80\x00"), b"");
        assert_eq!(unpad(b"\x80"), b"");
        // Only the last marker counts: content may itself end in 0x80 0x00.
        assert_eq!(unpad(b"a\x80\x00\x80\x00"), b"a\x80\x00");
        // Not padded: the last non-zero byte is not 0x80 → accepted whole, zeros included.
        assert_eq!(unpad(b"hello"), b"hello");
        assert_eq!(unpad(b"ab\x01\x00\x00"), b"ab\x01\x00\x00");
        assert_eq!(unpad(b"\x00\x00\x00"), b"\x00\x00\x00");
        assert_eq!(unpad(b""), b"");
    }

    #[test]
    fn content_limit() {
        let max = vec![1u8; SESSION_MAX_CONTENT_BYTES];
        assert!(pad(&max, PaddingStyle::Libsession).is_ok());
        assert!(pad(&max, PaddingStyle::Desktop).is_ok());
        let over = vec![1u8; SESSION_MAX_CONTENT_BYTES + 1];
        assert_eq!(
            pad(&over, PaddingStyle::Libsession),
            Err(SessionProtocolError::ContentTooLong(SESSION_MAX_CONTENT_BYTES + 1))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn pad_unpad_round_trip(content in proptest::collection::vec(any::<u8>(), 0..700), desktop in any::<bool>()) {
            let style = if desktop { PaddingStyle::Desktop } else { PaddingStyle::Libsession };
            let padded = pad(&content, style).unwrap();
            prop_assert_eq!(padded.len(), padded_len(content.len(), style).unwrap());
            prop_assert!(padded.len() > content.len());
            prop_assert_eq!(unpad(&padded), &content[..]);
            let block_rem = match style { PaddingStyle::Libsession => 0, PaddingStyle::Desktop => PADDING_BLOCK - 1 };
            prop_assert_eq!(padded.len() % PADDING_BLOCK, block_rem);
        }
    }
}
