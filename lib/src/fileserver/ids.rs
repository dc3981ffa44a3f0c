//! File ids and the `X-FS-TTL` header, as the Session file server defines them (attachments.md §5,
//! research notes §2.1 and §3).
//!
//! - Hash ids: url-safe base64 (no padding) of BLAKE2b over the whole body with a 33-byte output,
//!   no key and the **salt** `SessionFileSvr\0\0` (the HTTP server's setup; the QUIC server uses
//!   the same bytes as a key, a different id). Computed while the upload streams in.
//! - Compat ids: a random integer below 2^53 as a decimal string.

use base64::Engine;
use blake2::Blake2bVarCore;
use blake2::digest::core_api::{Buffer, UpdateCore, VariableOutputCore};

use crate::formats::limits::{
    FILESERVER_COMPAT_ID_BITS, FILESERVER_HASH_ID_BYTES, FILESERVER_HASH_ID_CHARS, FILESERVER_MAX_TTL_S,
};

/// The BLAKE2b salt of hash ids: 14 ASCII bytes and two NULs, BLAKE2b's full 16-byte salt.
pub(crate) const HASH_ID_SALT: &[u8; 16] = b"SessionFileSvr\0\0";

/// The running hash of an upload, fed chunk by chunk; [`HashId::finish`] gives the id.
///
/// Built on the BLAKE2b core because the crate's keyed/salted wrapper always hashes a key block
/// (even an empty key), which an unkeyed, salted hash must not.
pub(crate) struct HashId {
    core: Blake2bVarCore,
    buffer: Buffer<Blake2bVarCore>,
}

impl std::fmt::Debug for HashId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashId").finish_non_exhaustive()
    }
}

impl HashId {
    /// A fresh hash: output length 33 and the salt in the parameter block, no key, no persona.
    pub(crate) fn new() -> Self {
        Self {
            core: Blake2bVarCore::new_with_params(HASH_ID_SALT, &[], 0, FILESERVER_HASH_ID_BYTES),
            buffer: Buffer::<Blake2bVarCore>::default(),
        }
    }

    /// Feeds the next bytes of the body.
    pub(crate) fn update(&mut self, data: &[u8]) {
        let core = &mut self.core;
        self.buffer.digest_blocks(data, |blocks| core.update_blocks(blocks));
    }

    /// The 44-character id of everything fed.
    pub(crate) fn finish(mut self) -> String {
        let mut out = blake2::digest::Output::<Blake2bVarCore>::default();
        self.core.finalize_variable_core(&mut self.buffer, &mut out);
        // The output length is in the parameter block, so the first 33 bytes are the 33-byte hash.
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&out[..FILESERVER_HASH_ID_BYTES])
    }
}

/// The hash id of `body` in one call.
#[cfg(test)]
pub(crate) fn hash_id(body: &[u8]) -> String {
    let mut h = HashId::new();
    h.update(body);
    h.finish()
}

/// A fresh compat id: uniform in [0, 2^53), as a decimal string.
pub(crate) fn compat_id() -> String {
    let raw: u64 = rand::random();
    (raw & ((1u64 << FILESERVER_COMPAT_ID_BITS) - 1)).to_string()
}

/// Whether `id` can name a stored file: 1 to 44 characters of the url-safe base64 alphabet (which
/// includes the digits of a compat id). Anything else is 404 without a lookup, and never becomes
/// part of a path on disk.
pub(crate) fn is_plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= FILESERVER_HASH_ID_CHARS
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Why an `X-FS-TTL` header is refused (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TtlError {
    #[error("X-FS-TTL must be a whole number of seconds")]
    NotInteger,
    #[error("X-FS-TTL must be between 0 and {FILESERVER_MAX_TTL_S} seconds")]
    OutOfRange,
}

/// Parses an `X-FS-TTL` value as the Python server's `int()` does for ASCII: surrounding
/// whitespace, an optional sign, digits with single `_` between them. 0 is accepted (the file
/// expires at once); a negative value or one above [`FILESERVER_MAX_TTL_S`] is refused, not
/// clamped. (Python's `int()` also takes non-ASCII decimal digits; no client sends them.)
pub(crate) fn parse_ttl(raw: &[u8]) -> Result<u64, TtlError> {
    let text = std::str::from_utf8(raw).map_err(|_| TtlError::NotInteger)?;
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let bytes = digits.as_bytes();
    let well_formed = !bytes.is_empty()
        && bytes.first().is_some_and(u8::is_ascii_digit)
        && bytes.last().is_some_and(u8::is_ascii_digit)
        && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'_')
        && !digits.contains("__");
    if !well_formed {
        return Err(TtlError::NotInteger);
    }
    let mut value: u64 = 0;
    for b in bytes.iter().filter(|b| b.is_ascii_digit()) {
        // Past the maximum the exact value no longer matters: it is out of range either way.
        value = value.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    if negative && value > 0 {
        return Err(TtlError::OutOfRange);
    }
    if value > FILESERVER_MAX_TTL_S {
        return Err(TtlError::OutOfRange);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ids_match_the_python_servers_vectors() {
        assert_eq!(hash_id(b"hello world"), "3qXfYbeRSxXa89I8ApcbKl0_BshkLQ6myd0DsvcrDEy3");
        assert_eq!(hash_id(b"\x00"), "QOGDDKOPy2R915rSPku8oFiqxeRe2iPGzYV5Ir1lg749");
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(hash_id(&all), "m5iyqCETZfwOqA1U88jq5yAVtRqeXOvM7ysIrGX_ijHt");
    }

    #[test]
    fn hash_id_is_the_same_in_any_chunking() {
        let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let whole = hash_id(&body);
        for step in [1usize, 7, 128, 129, 4096, 65_536] {
            let mut h = HashId::new();
            for chunk in body.chunks(step) {
                h.update(chunk);
            }
            assert_eq!(h.finish(), whole, "chunks of {step}");
        }
        assert_eq!(whole.len(), FILESERVER_HASH_ID_CHARS);
    }

    #[test]
    fn compat_ids_stay_below_2_pow_53() {
        for _ in 0..1000 {
            let id: u64 = compat_id().parse().unwrap();
            assert!(id < 1u64 << 53);
        }
    }

    #[test]
    fn ttl_parses_like_python_int() {
        assert_eq!(parse_ttl(b"30"), Ok(30));
        assert_eq!(parse_ttl(b" +1_000 "), Ok(1000));
        assert_eq!(parse_ttl(b"0"), Ok(0));
        assert_eq!(parse_ttl(b"-0"), Ok(0));
        for bad in [&b""[..], b"30.5", b"1e3", b"abc", b"1__0", b"_1", b"1_", b"--1", b"\xff"] {
            assert_eq!(parse_ttl(bad), Err(TtlError::NotInteger), "{bad:?}");
        }
        assert_eq!(parse_ttl(b"-1"), Err(TtlError::OutOfRange));
        assert_eq!(parse_ttl((FILESERVER_MAX_TTL_S + 1).to_string().as_bytes()), Err(TtlError::OutOfRange));
        assert_eq!(parse_ttl(b"99999999999999999999999999"), Err(TtlError::OutOfRange));
        assert_eq!(parse_ttl(FILESERVER_MAX_TTL_S.to_string().as_bytes()), Ok(FILESERVER_MAX_TTL_S));
    }

    #[test]
    fn plausible_ids() {
        assert!(is_plausible_id("3qXfYbeRSxXa89I8ApcbKl0_BshkLQ6myd0DsvcrDEy3"));
        assert!(is_plausible_id("12345"));
        for bad in ["", "..", "a/b", "a.b", "%00", &"a".repeat(45)] {
            assert!(!is_plausible_id(bad), "{bad}");
        }
    }
}
