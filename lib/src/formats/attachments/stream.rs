//! The 'S' attachment format, what every Session app writes today (attachments.md §1).
//!
//! `blob = 'S' ‖ header(24) ‖ secretstream messages`. The plaintext stream is `k−1` zero bytes,
//! `0x01`, then the file, cut into 32,768-byte pieces; each is pushed with tag MESSAGE, the last
//! with FINAL, and each grows by 17 bytes. The key and the header are not random but
//! BLAKE2b-56 keyed with one domain byte over `seed[0..32] ‖ plaintext`, so that the same file
//! uploaded twice by the same account gives the same blob (the server can dedupe it); as a
//! consequence encryption reads the plaintext twice (once to hash, once to encrypt) and takes a
//! `Read + Seek`.
//!
//! The padding `k` is chosen so the blob is exactly `raw` rounded up to a multiple of `f`, where
//! `raw = n + 1 + 24 + 1 + 17·⌈n/32768⌉` and `f = bit_floor(max(raw, 131072)) / 32`: one file
//! size leaks only its bucket. Padding that spills into another message pays that message's 17
//! bytes out of the padding, so the size stays exact.
//!
//! Both directions hold one message's buffers in memory whatever the file's size, and decryption
//! writes plaintext only from messages that authenticated. A caller writing to a file must still
//! discard it when `decrypt` fails: the stream may end early or be cut after good messages.
//!
//! The secretstream primitive is dryoc's libsodium-compatible one; libsodium cannot push from a
//! chosen header, but `init_pull(header, key)` builds exactly the state `init_push` would have,
//! after which push works (libsession does the same).

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};

use blake2::Blake2bMac;
use blake2::digest::consts::U56;
use blake2::digest::{FixedOutput, KeyInit, Update};
use dryoc::classic::crypto_secretstream_xchacha20poly1305::{
    Header, Key, State, crypto_secretstream_xchacha20poly1305_init_pull as init_pull,
    crypto_secretstream_xchacha20poly1305_pull as pull, crypto_secretstream_xchacha20poly1305_push as push,
};
use dryoc::constants::{
    CRYPTO_SECRETSTREAM_XCHACHA20POLY1305_TAG_FINAL as TAG_FINAL,
    CRYPTO_SECRETSTREAM_XCHACHA20POLY1305_TAG_MESSAGE as TAG_MESSAGE,
};
use zeroize::Zeroizing;

use super::{at_end, read_full};
use crate::formats::limits::{
    ATTACHMENT_CHUNK_BYTES, ATTACHMENT_CHUNK_OVERHEAD, ATTACHMENT_ENCRYPTED_CHUNK_BYTES,
    ATTACHMENT_HEADER_BYTES, ATTACHMENT_KEY_BYTES, ATTACHMENT_MAX_REGULAR_BYTES,
    ATTACHMENT_PADDING_FACTOR_SHIFT, ATTACHMENT_PADDING_FLOOR_BYTES, ATTACHMENT_SEED_BYTES,
};

/// The first byte of every blob in this format.
pub const STREAM_PREFIX: u8 = b'S';

/// Bytes before the first message: the prefix and the header.
const PREAMBLE_BYTES: usize = 1 + ATTACHMENT_HEADER_BYTES;
/// BLAKE2b output: header ‖ key.
const DERIVED_BYTES: usize = ATTACHMENT_HEADER_BYTES + ATTACHMENT_KEY_BYTES;
/// The `0x01` that ends the padding.
const PADDING_MARKER: u8 = 0x01;
/// Chunk sizes as u64, for size arithmetic on files larger than memory.
const CHUNK: u64 = ATTACHMENT_CHUNK_BYTES as u64;
const OVERHEAD: u64 = ATTACHMENT_CHUNK_OVERHEAD as u64;
const ENCRYPTED_CHUNK: u64 = ATTACHMENT_ENCRYPTED_CHUNK_BYTES as u64;
const PREAMBLE: u64 = PREAMBLE_BYTES as u64;

/// Why a file could not be encrypted or a blob decrypted; each names the rule that failed.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The uploader seed has neither 32 nor 64 bytes.
    #[error("the uploader seed must be 32 bytes (or a 64-byte secret key), got {0} bytes")]
    SeedLength(usize),
    /// An attachment key is not `ATTACHMENT_KEY_BYTES` long.
    #[error("attachment key must be {ATTACHMENT_KEY_BYTES} bytes, got {0}")]
    KeyLength(usize),
    /// The file is over `ATTACHMENT_MAX_REGULAR_BYTES` and the large policy was not chosen.
    #[error(
        "file is {size} bytes, over the regular limit of {ATTACHMENT_MAX_REGULAR_BYTES} bytes (larger needs the explicit large policy)"
    )]
    TooLarge {
        /// The file's size in bytes.
        size: u64,
    },
    /// The input's second read (encryption) differed from the first (key derivation).
    #[error(
        "the input changed while it was being encrypted (read twice: to derive the key, then to encrypt)"
    )]
    InputChanged,
    /// No padding makes the encrypted size come out exact for this file size.
    #[error("no padding gives an exact encrypted size for a {0}-byte file")]
    NoExactPadding(u64),
    /// A crypto primitive refused its input, which valid inputs never cause.
    #[error("the {0} primitive refused its input (a bug in snkit)")]
    Primitive(&'static str),
    /// The blob has no bytes at all.
    #[error("blob is empty")]
    Empty,
    /// The blob's first byte is not the stream format's `S`.
    #[error("first byte is 0x{0:02x}, not 0x53 ('S'): not an attachment in the stream format")]
    BadPrefix(u8),
    /// The blob ends inside the stream header.
    #[error("blob ends inside the {ATTACHMENT_HEADER_BYTES}-byte header ({0} bytes after the 'S')")]
    TruncatedHeader(usize),
    /// A message of the stream is shorter than its tag and MAC.
    #[error(
        "message {index} is {len} bytes, shorter than its {ATTACHMENT_CHUNK_OVERHEAD}-byte tag and MAC: truncated"
    )]
    TruncatedMessage {
        /// The message's position in the stream.
        index: u64,
        /// Its length in bytes.
        len: usize,
    },
    /// A message of the stream does not authenticate under the key.
    #[error("invalid key or corrupted data (message {index} does not authenticate)")]
    Authentication {
        /// The message's position in the stream.
        index: u64,
    },
    /// A message carries a tag other than MESSAGE or FINAL.
    #[error("message {index} has tag 0x{tag:02x}; only MESSAGE (0x00) and FINAL (0x03) are written")]
    UnexpectedTag {
        /// The message's position in the stream.
        index: u64,
        /// The tag byte it carries.
        tag: u8,
    },
    /// A byte other than 0x00 stands in the padding before its terminating 0x01.
    #[error("bad padding: a 0x{0:02x} byte before the 0x01 that ends the padding")]
    BadPadding(u8),
    /// The stream ended before the padding's terminating 0x01.
    #[error("bad padding: the stream ended before the 0x01 that ends the padding")]
    UnterminatedPadding,
    /// The stream has no FINAL message: it was truncated.
    #[error("the stream ends without its FINAL message: truncated")]
    MissingFinal,
    /// Bytes follow the FINAL message.
    #[error("data after the FINAL message")]
    DataAfterFinal,
    /// Reading the input failed.
    #[error("cannot read the input: {0}")]
    Read(#[source] io::Error),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Write(#[source] io::Error),
}

impl StreamError {
    /// Whether the blob or the key is at fault (as opposed to the caller's reader or writer).
    pub fn is_bad_data(&self) -> bool {
        !matches!(self, Self::Read(_) | Self::Write(_))
    }
}

/// Which purpose a deterministic key is derived for; the same file gets different keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// A message attachment (key byte `0x00`).
    Attachment,
    /// A profile picture (key byte `0x01`).
    ProfilePicture,
}

impl Domain {
    /// The one-byte BLAKE2b key of this domain.
    pub fn key_byte(self) -> u8 {
        match self {
            Self::Attachment => 0x00,
            Self::ProfilePicture => 0x01,
        }
    }
}

/// Whether a file over the regular limit may be encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizePolicy {
    /// Up to [`ATTACHMENT_MAX_REGULAR_BYTES`], what the apps accept.
    Regular,
    /// Any size: the caller asked explicitly.
    AllowLarge,
}

/// The 32-byte key of one 'S' attachment (zeroized on drop, never printed by `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct StreamKey(Zeroizing<Key>);

impl StreamKey {
    /// The key from its `ATTACHMENT_KEY_BYTES` raw bytes; any other length is refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StreamError> {
        let key: Key = bytes.try_into().map_err(|_| StreamError::KeyLength(bytes.len()))?;
        Ok(Self(Zeroizing::new(key)))
    }

    /// The raw key bytes (a secret: not for logs).
    pub fn as_bytes(&self) -> &[u8; ATTACHMENT_KEY_BYTES] {
        &self.0
    }
}

impl fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StreamKey(..)")
    }
}

/// What encryption produced besides the blob.
#[derive(Debug)]
pub struct Encrypted {
    /// `AttachmentPointer.key`.
    pub key: StreamKey,
    /// The file's size (`AttachmentPointer.size`).
    pub plaintext_len: u64,
    /// The blob's size, always [`encrypted_size`]`(plaintext_len)`.
    pub encrypted_len: u64,
}

/// The blob size of an `n`-byte file, exactly as libsession computes it (attachments.md §1).
pub fn encrypted_size(n: u64) -> u64 {
    let raw = raw_size(n);
    let factor = bit_floor(raw.max(ATTACHMENT_PADDING_FLOOR_BYTES)) >> ATTACHMENT_PADDING_FACTOR_SHIFT;
    raw.div_ceil(factor) * factor
}

/// The unpadded size: prefix, header, file, one marker byte, one tag+MAC per file chunk.
fn raw_size(n: u64) -> u64 {
    n + PREAMBLE + 1 + n.div_ceil(CHUNK) * OVERHEAD
}

fn bit_floor(x: u64) -> u64 {
    if x == 0 { 0 } else { 1 << (63 - x.leading_zeros()) }
}

/// How many padding bytes (the zeros and the `0x01`) make an `n`-byte file's blob exactly
/// [`encrypted_size`]`(n)`. With `m = n + padding` plaintext-stream bytes the blob is
/// `25 + m + 17·⌈m/32768⌉`; inverting that: messages `c = ⌈(size−25)/32785⌉`, `m = size−25−17c`.
pub fn padding_len(n: u64) -> Result<u64, StreamError> {
    let target = encrypted_size(n) - PREAMBLE;
    let messages = target.div_ceil(ENCRYPTED_CHUNK);
    let stream = target - messages * OVERHEAD;
    // Some sizes are no blob's (a 1..17-byte spill would open a message with no room for its
    // MAC); the padding rule never lands on one (pinned by a test over every size), but a wrong
    // size must not be written.
    if stream.div_ceil(CHUNK) != messages || stream <= n {
        return Err(StreamError::NoExactPadding(n));
    }
    Ok(stream - n)
}

/// BLAKE2b(out 56, key = domain byte) over `seed[0..32] ‖ plaintext`, and how many plaintext
/// bytes it read.
fn derive<R: Read + ?Sized>(
    seed: &[u8; ATTACHMENT_SEED_BYTES],
    domain: Domain,
    input: &mut R,
    buf: &mut [u8],
) -> Result<(Zeroizing<[u8; DERIVED_BYTES]>, u64), StreamError> {
    let mut mac = new_hasher(domain)?;
    mac.update(seed);
    let mut total = 0u64;
    loop {
        let n = read_full(input, buf).map_err(StreamError::Read)?;
        if n == 0 {
            break;
        }
        mac.update(&buf[..n]);
        total += n as u64;
    }
    Ok((finish_hasher(mac), total))
}

fn new_hasher(domain: Domain) -> Result<Blake2bMac<U56>, StreamError> {
    // A one-byte key is always a valid BLAKE2b key; the error path exists only for the type.
    <Blake2bMac<U56> as KeyInit>::new_from_slice(&[domain.key_byte()])
        .map_err(|_| StreamError::Primitive("BLAKE2b"))
}

fn finish_hasher(mac: Blake2bMac<U56>) -> Zeroizing<[u8; DERIVED_BYTES]> {
    let mut out = Zeroizing::new([0u8; DERIVED_BYTES]);
    out.copy_from_slice(&mac.finalize_fixed());
    out
}

/// The 32 seed bytes the key derivation uses: a 32-byte Ed25519 seed, or the first half of a
/// 64-byte libsodium secret key.
fn seed32(seed: &[u8]) -> Result<Zeroizing<[u8; ATTACHMENT_SEED_BYTES]>, StreamError> {
    if seed.len() != ATTACHMENT_SEED_BYTES && seed.len() != 2 * ATTACHMENT_SEED_BYTES {
        return Err(StreamError::SeedLength(seed.len()));
    }
    let mut out = Zeroizing::new([0u8; ATTACHMENT_SEED_BYTES]);
    out.copy_from_slice(&seed[..ATTACHMENT_SEED_BYTES]);
    Ok(out)
}

/// Encrypts the whole of `input` (from its start) into `out`, deterministically for `seed` and
/// `domain`. Reads the input twice; fails with [`StreamError::InputChanged`] if the second read
/// differs from the first, so the key always matches the blob.
pub fn encrypt<R: Read + Seek + ?Sized, W: Write + ?Sized>(
    seed: &[u8],
    domain: Domain,
    policy: SizePolicy,
    input: &mut R,
    out: &mut W,
) -> Result<Encrypted, StreamError> {
    let seed = seed32(seed)?;
    let mut plain = Zeroizing::new(vec![0u8; ATTACHMENT_CHUNK_BYTES]);
    let mut sealed = vec![0u8; ATTACHMENT_ENCRYPTED_CHUNK_BYTES];

    input.seek(SeekFrom::Start(0)).map_err(StreamError::Read)?;
    let (derived, n) = derive(&seed, domain, input, &mut plain)?;
    if n > ATTACHMENT_MAX_REGULAR_BYTES && policy == SizePolicy::Regular {
        return Err(StreamError::TooLarge { size: n });
    }
    let padding = padding_len(n)?;
    input.seek(SeekFrom::Start(0)).map_err(StreamError::Read)?;

    let mut header: Header = [0u8; ATTACHMENT_HEADER_BYTES];
    header.copy_from_slice(&derived[..ATTACHMENT_HEADER_BYTES]);
    let key = StreamKey::from_bytes(&derived[ATTACHMENT_HEADER_BYTES..])?;
    let mut state = State::new();
    init_pull(&mut state, &header, key.as_bytes());

    out.write_all(&[STREAM_PREFIX]).map_err(StreamError::Write)?;
    out.write_all(&header).map_err(StreamError::Write)?;

    // The second read is hashed again: a file edited between the passes must not be sent under
    // a key derived from other content.
    let mut recheck = new_hasher(domain)?;
    recheck.update(seed.as_ref());
    let stream_len = n + padding;
    let mut pos = 0u64; // position in the plaintext stream (padding, then file)
    let mut written = PREAMBLE;
    while pos < stream_len {
        let len = (stream_len - pos).min(CHUNK) as usize;
        let piece = &mut plain[..len];
        // Padding first: zeros, then the marker as the padding's last byte.
        let pad_here = padding.saturating_sub(pos).min(len as u64) as usize;
        piece[..pad_here].fill(0);
        if pad_here > 0 && pos + pad_here as u64 == padding {
            piece[pad_here - 1] = PADDING_MARKER;
        }
        let file_part = &mut piece[pad_here..];
        if read_full(input, file_part).map_err(StreamError::Read)? != file_part.len() {
            return Err(StreamError::InputChanged);
        }
        recheck.update(file_part);
        pos += len as u64;
        let tag = if pos == stream_len { TAG_FINAL } else { TAG_MESSAGE };
        let ct = &mut sealed[..len + ATTACHMENT_CHUNK_OVERHEAD];
        push(&mut state, ct, &plain[..len], None, tag)
            .map_err(|_| StreamError::Primitive("secretstream push"))?;
        out.write_all(ct).map_err(StreamError::Write)?;
        written += ct.len() as u64;
    }
    if !at_end(input).map_err(StreamError::Read)? || finish_hasher(recheck) != derived {
        return Err(StreamError::InputChanged);
    }
    Ok(Encrypted { key, plaintext_len: n, encrypted_len: written })
}

/// Decrypts a blob from `input` into `out` and returns the file's size. Only plaintext of
/// messages that authenticated is written; on an error the output may hold a prefix of the file
/// and must be discarded.
pub fn decrypt<R: Read + ?Sized, W: Write + ?Sized>(
    key: &StreamKey,
    input: &mut R,
    out: &mut W,
) -> Result<u64, StreamError> {
    let mut preamble = [0u8; PREAMBLE_BYTES];
    let got = read_full(input, &mut preamble).map_err(StreamError::Read)?;
    match got {
        0 => return Err(StreamError::Empty),
        _ if preamble[0] != STREAM_PREFIX => return Err(StreamError::BadPrefix(preamble[0])),
        n if n < PREAMBLE_BYTES => return Err(StreamError::TruncatedHeader(n - 1)),
        _ => {}
    }
    let mut header: Header = [0u8; ATTACHMENT_HEADER_BYTES];
    header.copy_from_slice(&preamble[1..]);
    let mut state = State::new();
    init_pull(&mut state, &header, key.as_bytes());

    let mut sealed = vec![0u8; ATTACHMENT_ENCRYPTED_CHUNK_BYTES];
    let mut plain = Zeroizing::new(vec![0u8; ATTACHMENT_CHUNK_BYTES]);
    let mut in_padding = true;
    let mut total = 0u64;
    for index in 0u64.. {
        let len = read_full(input, &mut sealed).map_err(StreamError::Read)?;
        if len == 0 {
            return Err(StreamError::MissingFinal);
        }
        if len < ATTACHMENT_CHUNK_OVERHEAD {
            return Err(StreamError::TruncatedMessage { index, len });
        }
        let mut tag = 0u8;
        // dryoc decrypts into `plain` before it compares the MAC: on failure `plain` holds
        // unauthenticated bytes, which are never written and are overwritten or zeroized.
        let mlen = pull(&mut state, &mut plain[..], &mut tag, &sealed[..len], None)
            .map_err(|_| StreamError::Authentication { index })?;
        if tag != TAG_MESSAGE && tag != TAG_FINAL {
            return Err(StreamError::UnexpectedTag { index, tag });
        }
        let mut data = &plain[..mlen];
        if in_padding {
            match data.iter().position(|&b| b != 0) {
                None => data = &[],
                Some(i) if data[i] == PADDING_MARKER => {
                    in_padding = false;
                    data = &data[i + 1..];
                }
                Some(i) => return Err(StreamError::BadPadding(data[i])),
            }
        }
        out.write_all(data).map_err(StreamError::Write)?;
        total += data.len() as u64;

        if tag == TAG_FINAL {
            if in_padding {
                return Err(StreamError::UnterminatedPadding);
            }
            if len == ATTACHMENT_ENCRYPTED_CHUNK_BYTES && !at_end(input).map_err(StreamError::Read)? {
                return Err(StreamError::DataAfterFinal);
            }
            // A short final message was the end of the input already (read_full stops only there).
            return Ok(total);
        }
        if len < ATTACHMENT_ENCRYPTED_CHUNK_BYTES {
            // A short message is the input's end; without FINAL the stream was cut.
            return Err(StreamError::MissingFinal);
        }
    }
    Err(StreamError::MissingFinal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};
    use std::io::Cursor;

    const VECTOR_PLAINTEXT: &[u8] = b"cross client vector";

    fn vector_seed() -> Vec<u8> {
        (0u8..32).collect()
    }

    fn enc(seed: &[u8], domain: Domain, data: &[u8]) -> (Vec<u8>, Encrypted) {
        let mut out = Vec::new();
        let e = encrypt(seed, domain, SizePolicy::AllowLarge, &mut Cursor::new(data), &mut out).unwrap();
        (out, e)
    }

    fn dec(key: &StreamKey, blob: &[u8]) -> Result<Vec<u8>, StreamError> {
        let mut out = Vec::new();
        decrypt(key, &mut Cursor::new(blob), &mut out).map(|n| {
            assert_eq!(n as usize, out.len());
            out
        })
    }

    fn file(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 + 7) as u8).collect()
    }

    #[test]
    fn cross_client_vector_attachment() {
        let (blob, e) = enc(&vector_seed(), Domain::Attachment, VECTOR_PLAINTEXT);
        assert_eq!(
            hex::encode(e.key.as_bytes()),
            "2227f0271670f5a6873d65501c3e3362b34aab5da0aec3b986accb7aa5a1643a"
        );
        assert_eq!(blob.len(), 4096);
        assert_eq!(e.encrypted_len, 4096);
        assert_eq!(
            hex::encode(Sha256::digest(&blob)),
            "bbc8f2c708e6e3e97ca67bd52e00ff081e6294461bb62d635a9b4048d8ec78c0"
        );
        assert_eq!(dec(&e.key, &blob).unwrap(), VECTOR_PLAINTEXT);
    }

    #[test]
    fn cross_client_vector_profile_picture() {
        let (blob, e) = enc(&vector_seed(), Domain::ProfilePicture, VECTOR_PLAINTEXT);
        assert_eq!(
            hex::encode(e.key.as_bytes()),
            "09edaf4b7b48b405c1c01f0c3347fc68e65adea0d9696d24e80411a0cced90cb"
        );
        assert_eq!(blob.len(), 4096);
        assert_eq!(
            hex::encode(Sha256::digest(&blob)),
            "e02d1ee8ee6289b8297c8799c43bd4c2250ac95a346abf0f5b93e191e57d1503"
        );
    }

    #[test]
    fn a_64_byte_secret_key_gives_the_same_blob_as_its_seed() {
        let mut sk = vector_seed();
        sk.extend_from_slice(&[0xee; 32]);
        let (a, _) = enc(&vector_seed(), Domain::Attachment, VECTOR_PLAINTEXT);
        let (b, _) = enc(&sk, Domain::Attachment, VECTOR_PLAINTEXT);
        assert_eq!(a, b);
        assert!(matches!(
            encrypt(
                &[0u8; 16],
                Domain::Attachment,
                SizePolicy::Regular,
                &mut Cursor::new(b"x"),
                &mut Vec::new()
            ),
            Err(StreamError::SeedLength(16))
        ));
    }

    #[test]
    fn encrypted_size_matches_libsessions_table() {
        let table: &[(u64, u64)] = &[
            (0, 4096),
            (1, 4096),
            (4053, 4096),
            (4054, 8192),
            (8149, 8192),
            (8150, 12288),
            (33_333, 36_864),
            (261_982, 262_144),
            (261_983, 270_336),
            (1_000_000, 1_015_808),
            (10_000_000, 10_223_616),
            (10_218_286, 10_223_616),
            (10_218_287, 10_485_760),
        ];
        for &(n, size) in table {
            assert_eq!(encrypted_size(n), size, "n = {n}");
        }
    }

    #[test]
    fn the_regular_limit_is_the_last_size_of_the_10mb_bucket() {
        assert_eq!(encrypted_size(ATTACHMENT_MAX_REGULAR_BYTES), encrypted_size(10_000_000));
        assert!(encrypted_size(ATTACHMENT_MAX_REGULAR_BYTES + 1) > encrypted_size(10_000_000));
    }

    #[test]
    fn every_size_has_an_exact_padding() {
        // Every size up to past the regular limit (step 1 where the padding spills across message
        // boundaries matters most, near the start; then a stride that is coprime with 32768).
        let sizes = (0..300_000u64).chain((300_000..11_000_000).step_by(997));
        for n in sizes {
            let p = padding_len(n).unwrap();
            assert!(p >= 1);
            let m = n + p;
            assert_eq!(PREAMBLE + m + m.div_ceil(CHUNK) * OVERHEAD, encrypted_size(n), "n = {n}");
        }
    }

    #[test]
    fn too_large_needs_the_flag() {
        let data = vec![0u8; ATTACHMENT_MAX_REGULAR_BYTES as usize + 1];
        let seed = vector_seed();
        let err =
            encrypt(&seed, Domain::Attachment, SizePolicy::Regular, &mut Cursor::new(&data), &mut Vec::new())
                .unwrap_err();
        assert!(matches!(err, StreamError::TooLarge { size } if size == ATTACHMENT_MAX_REGULAR_BYTES + 1));
        let (blob, e) = enc(&seed, Domain::Attachment, &data);
        assert_eq!(blob.len() as u64, encrypted_size(data.len() as u64));
        assert_eq!(dec(&e.key, &blob).unwrap(), data);
    }

    #[test]
    fn round_trips_across_message_boundaries() {
        let seed = vector_seed();
        // Around one chunk, two chunks, and a size whose padding spans whole messages.
        for n in [0, 1, 32_767, 32_768, 32_769, 65_536, 65_537, 140_000, 1_000_000] {
            let data = file(n);
            let (blob, e) = enc(&seed, Domain::Attachment, &data);
            assert_eq!(blob.len() as u64, encrypted_size(n as u64), "n = {n}");
            assert_eq!(e.plaintext_len, n as u64);
            assert_eq!(dec(&e.key, &blob).unwrap(), data, "n = {n}");
        }
    }

    #[test]
    fn deterministic_per_seed_and_domain() {
        let data = file(5000);
        let (a, _) = enc(&vector_seed(), Domain::Attachment, &data);
        let (b, _) = enc(&vector_seed(), Domain::Attachment, &data);
        let (c, _) = enc(&[9u8; 32], Domain::Attachment, &data);
        let (d, _) = enc(&vector_seed(), Domain::ProfilePicture, &data);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let (blob, e) = enc(&vector_seed(), Domain::Attachment, VECTOR_PLAINTEXT);
        for i in (0..blob.len()).step_by(7).chain([blob.len() - 1]) {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            let err = dec(&e.key, &bad).unwrap_err();
            if i == 0 {
                assert!(matches!(err, StreamError::BadPrefix(0x52)), "{err}");
            } else {
                assert!(matches!(err, StreamError::Authentication { index: 0 }), "byte {i}: {err}");
            }
        }
    }

    #[test]
    fn wrong_key_is_invalid_key_or_corrupted_data() {
        let (blob, _) = enc(&vector_seed(), Domain::Attachment, VECTOR_PLAINTEXT);
        let wrong = StreamKey::from_bytes(&[7u8; 32]).unwrap();
        let err = dec(&wrong, &blob).unwrap_err();
        assert!(err.to_string().starts_with("invalid key or corrupted data"), "{err}");
        assert!(matches!(StreamKey::from_bytes(&[0u8; 31]), Err(StreamError::KeyLength(31))));
    }

    #[test]
    fn truncated_and_extended_blobs_are_refused() {
        let data = file(70_000); // three messages
        let (blob, e) = enc(&vector_seed(), Domain::Attachment, &data);
        let k = &e.key;
        assert!(matches!(dec(k, &[]), Err(StreamError::Empty)));
        assert!(matches!(dec(k, &blob[..10]), Err(StreamError::TruncatedHeader(9))));
        assert!(matches!(dec(k, &blob[..PREAMBLE_BYTES]), Err(StreamError::MissingFinal)));
        assert!(matches!(
            dec(k, &blob[..PREAMBLE_BYTES + 5]),
            Err(StreamError::TruncatedMessage { index: 0, len: 5 })
        ));
        // Cut at a message boundary: every message authenticates, FINAL is missing.
        let one = PREAMBLE_BYTES + ATTACHMENT_ENCRYPTED_CHUNK_BYTES;
        assert!(matches!(dec(k, &blob[..one]), Err(StreamError::MissingFinal)));
        assert!(matches!(dec(k, &blob[..2 * one - PREAMBLE_BYTES]), Err(StreamError::MissingFinal)));
        // Cut inside the last message.
        assert!(matches!(dec(k, &blob[..blob.len() - 1]), Err(StreamError::Authentication { index: 2 })));
        // A byte more: the short last message no longer authenticates.
        let mut longer = blob.clone();
        longer.push(0);
        assert!(matches!(dec(k, &longer), Err(StreamError::Authentication { index: 2 })));
        // Messages reordered.
        let mut swapped = blob.clone();
        let (a, b) = (PREAMBLE_BYTES, PREAMBLE_BYTES + ATTACHMENT_ENCRYPTED_CHUNK_BYTES);
        let first = blob[a..b].to_vec();
        swapped[a..b].copy_from_slice(&blob[b..b + ATTACHMENT_ENCRYPTED_CHUNK_BYTES]);
        swapped[b..b + ATTACHMENT_ENCRYPTED_CHUNK_BYTES].copy_from_slice(&first);
        assert!(matches!(dec(k, &swapped), Err(StreamError::Authentication { index: 0 })));
    }

    /// Builds a blob by hand from a chosen plaintext stream and tags, to reach the rules a
    /// correct writer never breaks.
    fn forge(key: &StreamKey, pieces: &[(&[u8], u8)]) -> Vec<u8> {
        let header: Header = [5u8; ATTACHMENT_HEADER_BYTES];
        let mut state = State::new();
        init_pull(&mut state, &header, key.as_bytes());
        let mut blob = vec![STREAM_PREFIX];
        blob.extend_from_slice(&header);
        for (piece, tag) in pieces {
            let mut ct = vec![0u8; piece.len() + ATTACHMENT_CHUNK_OVERHEAD];
            push(&mut state, &mut ct, piece, None, *tag).unwrap();
            blob.extend_from_slice(&ct);
        }
        blob
    }

    #[test]
    fn forged_streams_break_the_named_rule() {
        let key = StreamKey::from_bytes(&[3u8; 32]).unwrap();
        let full_pad = vec![0u8; ATTACHMENT_CHUNK_BYTES];
        let good: &[u8] = b"\0\0\x01hello";
        assert_eq!(dec(&key, &forge(&key, &[(good, TAG_FINAL)])).unwrap(), b"hello");
        // Padding spanning a whole message, then the marker in the next one.
        assert_eq!(
            dec(&key, &forge(&key, &[(&full_pad, TAG_MESSAGE), (b"\x01hi", TAG_FINAL)])).unwrap(),
            b"hi"
        );
        assert!(matches!(
            dec(&key, &forge(&key, &[(b"\0\x02x", TAG_FINAL)])),
            Err(StreamError::BadPadding(2))
        ));
        assert!(matches!(
            dec(&key, &forge(&key, &[(b"\0\0", TAG_FINAL)])),
            Err(StreamError::UnterminatedPadding)
        ));
        assert!(matches!(dec(&key, &forge(&key, &[(good, TAG_MESSAGE)])), Err(StreamError::MissingFinal)));
        assert!(matches!(
            dec(&key, &forge(&key, &[(good, 0x01)])),
            Err(StreamError::UnexpectedTag { index: 0, tag: 1 })
        ));
        // A full FINAL message followed by more data.
        let mut full_final = vec![0u8; ATTACHMENT_CHUNK_BYTES];
        full_final[0] = 1;
        let mut after = forge(&key, &[(&full_final, TAG_FINAL)]);
        assert_eq!(dec(&key, &after).unwrap().len(), ATTACHMENT_CHUNK_BYTES - 1);
        after.extend_from_slice(&[0u8; 40]);
        assert!(matches!(dec(&key, &after), Err(StreamError::DataAfterFinal)));
        // A short message that is not the last: the reader takes the next one as part of it.
        let short_first = forge(&key, &[(b"\x01ab", TAG_MESSAGE), (b"cd", TAG_FINAL)]);
        assert!(matches!(dec(&key, &short_first), Err(StreamError::Authentication { index: 0 })));
    }

    #[test]
    fn input_changed_between_the_passes_is_refused() {
        /// A reader whose content differs after the first seek back to the start.
        struct Shifty {
            seeks: u32,
            inner: Cursor<Vec<u8>>,
        }
        impl Read for Shifty {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.inner.read(buf)
            }
        }
        impl Seek for Shifty {
            fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
                self.seeks += 1;
                if self.seeks == 2 {
                    self.inner.get_mut()[0] ^= 1;
                }
                self.inner.seek(to)
            }
        }
        let mut r = Shifty { seeks: 0, inner: Cursor::new(file(100)) };
        let err = encrypt(&vector_seed(), Domain::Attachment, SizePolicy::Regular, &mut r, &mut Vec::new());
        assert!(matches!(err, Err(StreamError::InputChanged)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Sizes near each padding step (the 4096 buckets and the message boundaries).
        #[test]
        fn round_trip_near_each_step(step in prop::sample::select(vec![4053u64, 8149, 12_245, 32_768, 65_536, 98_304, 126_881]),
                                     delta in -40i64..40, salt in any::<u8>()) {
            let n = (step as i64 + delta).max(0) as usize;
            let data: Vec<u8> = file(n).into_iter().map(|b| b ^ salt).collect();
            let (blob, e) = enc(&vector_seed(), Domain::Attachment, &data);
            prop_assert_eq!(blob.len() as u64, encrypted_size(n as u64));
            prop_assert_eq!(blob.len() as u64 % 4096, 0);
            prop_assert_eq!(dec(&e.key, &blob).unwrap(), data);
        }

        #[test]
        fn size_is_monotonic_and_at_least_raw(n in 0u64..50_000_000) {
            let s = encrypted_size(n);
            prop_assert!(s >= raw_size(n));
            prop_assert!(encrypted_size(n + 1) >= s);
            prop_assert!(padding_len(n).is_ok());
        }
    }
}
