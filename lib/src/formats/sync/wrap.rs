//! The frame every snkit message (`send` without `--format session`) travels in
//! (spec sync.md §5.4):
//!
//! | part | bytes |
//! |---|---|
//! | magic | [`SYNC_WRAP_MAGIC`]: ASCII `snkit-sync` then 0x01 |
//! | length | u16 big-endian: the sealed presence's length |
//! | sealed presence | `SYNC_PRESENCE_SEALED_BYTES` |
//! | body | the bytes the user sent (say a `ratchet encrypt` line); empty for a handshake |
//!
//! `retrieve` strips the frame and prints the body, so `retrieve | ratchet decrypt` is unchanged;
//! unframed data (older sends, other tools) is printed as it is.

/// The frame's first bytes.
pub const SYNC_WRAP_MAGIC: &[u8] = b"snkit-sync\x01";

/// A framed message, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed<'a> {
    /// The sealed presence (not yet opened).
    pub presence: &'a [u8],
    /// The message body.
    pub body: &'a [u8],
}

/// Frames `body` with a sealed presence.
pub fn frame(presence: &[u8], body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(presence.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(SYNC_WRAP_MAGIC.len() + 2 + presence.len() + body.len());
    out.extend_from_slice(SYNC_WRAP_MAGIC);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&presence[..usize::from(len).min(presence.len())]);
    out.extend_from_slice(body);
    out
}

/// The frame of `data`, or `None` when `data` is not framed (printed as it is).
pub fn unframe(data: &[u8]) -> Option<Framed<'_>> {
    let rest = data.strip_prefix(SYNC_WRAP_MAGIC)?;
    let (len, rest) = rest.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    if rest.len() < len {
        return None;
    }
    let (presence, body) = rest.split_at(len);
    Some(Framed { presence, body })
}

/// The bytes a reader gets: the body of a framed message, else the data itself.
pub fn body_of(data: &[u8]) -> &[u8] {
    unframe(data).map_or(data, |f| f.body)
}

/// The frame's size around a body.
pub const fn overhead(presence_len: usize) -> usize {
    SYNC_WRAP_MAGIC.len() + 2 + presence_len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_frame_round_trips() {
        let f = frame(&[5; 640], b"{\"v\":1}");
        assert_eq!(f.len(), overhead(640) + 7);
        let u = unframe(&f).unwrap();
        assert_eq!(u.presence, &[5; 640][..]);
        assert_eq!(u.body, b"{\"v\":1}");
        assert_eq!(body_of(&f), b"{\"v\":1}");
        // A handshake has an empty body.
        assert_eq!(unframe(&frame(&[1; 4], b"")).unwrap().body, b"");
    }

    #[test]
    fn test_unframed_and_truncated_data_pass_through() {
        assert_eq!(unframe(b"hello"), None);
        assert_eq!(body_of(b"hello"), b"hello");
        let mut short = frame(&[5; 640], b"");
        short.truncate(100);
        assert_eq!(unframe(&short), None);
        assert_eq!(body_of(&short), &short[..]);
    }

    proptest::proptest! {
        #[test]
        fn prop_frame_round_trips(p in proptest::collection::vec(proptest::num::u8::ANY, 0..700),
                                  b in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let f = frame(&p, &b);
            let u = unframe(&f).unwrap();
            proptest::prop_assert_eq!(u.presence, &p[..]);
            proptest::prop_assert_eq!(u.body, &b[..]);
        }
    }
}
