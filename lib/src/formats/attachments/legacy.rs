//! The legacy attachment format: Signal-style AES-256-CBC + HMAC-SHA256, written by the apps
//! 2020–2025 and still to be read (attachments.md §2).
//!
//! `key = aes(32) ‖ mac(32)` (the 64 bytes of `AttachmentPointer.key`), a random 16-byte IV;
//! the file is zero-padded to a size bucket (`max(541, ⌊1.05^⌈ln n / ln 1.05⌉⌋)`), then
//! `blob = IV ‖ AES-256-CBC/PKCS7(padded) ‖ HMAC-SHA256(mac, IV ‖ ct)`, `digest = SHA-256(blob)`
//! and `size = n` travel in the pointer.
//!
//! A reader checks, in this order: the HMAC (constant time), the digest, then decrypts and cuts
//! the plaintext to `size`. Nothing is written before the HMAC and the digest both matched,
//! which takes a first pass over the blob: decryption takes a `Read + Seek`.

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};

use aes::Aes256;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{at_end, read_full};
use crate::formats::limits::{
    LEGACY_AES_KEY_BYTES, LEGACY_BLOCK_BYTES, LEGACY_DIGEST_BYTES, LEGACY_IV_BYTES, LEGACY_KEY_BYTES,
    LEGACY_MAC_BYTES, LEGACY_MAC_KEY_BYTES, LEGACY_MAX_PADDED_BYTES, LEGACY_MIN_BLOB_BYTES,
    LEGACY_MIN_PADDED_BYTES, LEGACY_PADDING_BASE,
};

type HmacSha256 = Hmac<Sha256>;

/// Bytes processed at a time: a whole number of AES blocks.
const BUFFER_BYTES: usize = 32 * 1024;
const BLOCK: u64 = LEGACY_BLOCK_BYTES as u64;
const IV: u64 = LEGACY_IV_BYTES as u64;
const MAC: u64 = LEGACY_MAC_BYTES as u64;

/// Why a legacy attachment could not be encrypted or decrypted; each names the rule that failed.
#[derive(Debug, thiserror::Error)]
pub enum LegacyError {
    /// A legacy key is not `LEGACY_KEY_BYTES` (AES key and HMAC key).
    #[error("legacy attachment key must be {LEGACY_KEY_BYTES} bytes (AES key ‖ HMAC key), got {0}")]
    KeyLength(usize),
    /// A legacy digest is not `LEGACY_DIGEST_BYTES`.
    #[error("legacy attachment digest must be {LEGACY_DIGEST_BYTES} bytes (SHA-256), got {0}")]
    DigestLength(usize),
    /// The blob is shorter than `LEGACY_MIN_BLOB_BYTES`.
    #[error("blob is {0} bytes, shorter than IV + one AES block + HMAC ({LEGACY_MIN_BLOB_BYTES} bytes)")]
    TooShort(u64),
    /// The blob's length is not IV plus whole AES blocks plus HMAC.
    #[error("blob is {0} bytes: not IV + whole AES blocks + HMAC")]
    BadLength(u64),
    /// The HMAC does not verify under the key.
    #[error("invalid key or corrupted data (the HMAC does not match)")]
    Mac,
    /// The blob's SHA-256 is not the digest the pointer carries.
    #[error("digest mismatch: this blob is not the file the message points at")]
    Digest,
    /// The PKCS#7 padding is malformed after decryption.
    #[error("bad PKCS7 padding after decryption")]
    Pkcs7,
    /// The pointer's size is over the plaintext's length.
    #[error("the pointer's size {size} is larger than the {plaintext} bytes the blob holds")]
    SizeTooLarge {
        /// The pointer's size.
        size: u64,
        /// The plaintext's length in bytes.
        plaintext: u64,
    },
    /// The input's second read differed from its first.
    #[error("the input changed while it was being read")]
    InputChanged,
    /// A crypto primitive refused its input, which valid inputs never cause.
    #[error("the {0} primitive refused its input (a bug in snkit)")]
    Primitive(&'static str),
    /// Reading the input failed.
    #[error("cannot read the input: {0}")]
    Read(#[source] io::Error),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Write(#[source] io::Error),
}

impl LegacyError {
    /// Whether the blob, key or digest is at fault (as opposed to the caller's reader or writer).
    pub fn is_bad_data(&self) -> bool {
        !matches!(self, Self::Read(_) | Self::Write(_))
    }
}

/// AES key ‖ HMAC key (zeroized on drop, never printed by `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct LegacyKey(Zeroizing<[u8; LEGACY_KEY_BYTES]>);

impl LegacyKey {
    /// The key from its `LEGACY_KEY_BYTES` raw bytes; any other length is refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LegacyError> {
        let key: [u8; LEGACY_KEY_BYTES] =
            bytes.try_into().map_err(|_| LegacyError::KeyLength(bytes.len()))?;
        Ok(Self(Zeroizing::new(key)))
    }

    /// The 64 bytes of `AttachmentPointer.key`.
    pub fn as_bytes(&self) -> &[u8; LEGACY_KEY_BYTES] {
        &self.0
    }

    fn aes(&self) -> &[u8] {
        &self.0[..LEGACY_AES_KEY_BYTES]
    }

    fn mac(&self) -> Result<HmacSha256, LegacyError> {
        // HMAC takes a key of any length; the error exists only for the type.
        <HmacSha256 as Mac>::new_from_slice(&self.0[LEGACY_AES_KEY_BYTES..])
            .map_err(|_| LegacyError::Primitive("HMAC"))
    }
}

impl fmt::Debug for LegacyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LegacyKey(..)")
    }
}

/// What encryption produced besides the blob: the pointer's `key`, `digest` and `size`.
#[derive(Debug)]
pub struct LegacyEncrypted {
    /// The random key the file was encrypted with.
    pub key: LegacyKey,
    /// The SHA-256 of the encrypted blob, for the pointer.
    pub digest: [u8; LEGACY_DIGEST_BYTES],
    /// The file's size (`AttachmentPointer.size`).
    pub plaintext_len: u64,
    /// The blob's size, [`encrypted_size`]`(plaintext_len)`.
    pub encrypted_len: u64,
}

/// The zero-padded size of an `n`-byte file: `max(541, ⌊1.05^⌈ln n / ln 1.05⌉⌋)` in IEEE
/// doubles as the apps compute it (`n = 0` gives 541: ln 0 = −∞, 1.05^−∞ = 0), capped at
/// 10,000,000 as iOS does, and never below `n`.
pub fn padded_size(n: u64) -> u64 {
    let exponent = ((n as f64).ln() / LEGACY_PADDING_BASE.ln()).ceil();
    let bucket = LEGACY_PADDING_BASE.powf(exponent).floor() as u64;
    bucket.clamp(LEGACY_MIN_PADDED_BYTES, LEGACY_MAX_PADDED_BYTES).max(n)
}

/// The blob size of an `n`-byte file: IV, the padded file plus 1..16 bytes of PKCS7, HMAC.
pub fn encrypted_size(n: u64) -> u64 {
    IV + cbc_len(padded_size(n)) + MAC
}

/// PKCS7 always adds 1..=16 bytes, so the CBC ciphertext is the next whole block after `padded`.
fn cbc_len(padded: u64) -> u64 {
    (padded / BLOCK + 1) * BLOCK
}

/// Encrypts all of `input` (from its start) into `out` with keys and IV drawn from `rng`, in
/// this order: AES key, HMAC key, IV.
pub fn encrypt<R, W, G>(input: &mut R, out: &mut W, rng: &mut G) -> Result<LegacyEncrypted, LegacyError>
where
    R: Read + Seek + ?Sized,
    W: Write + ?Sized,
    G: RngCore + CryptoRng + ?Sized,
{
    let mut key = Zeroizing::new([0u8; LEGACY_KEY_BYTES]);
    rng.fill_bytes(&mut key[..LEGACY_AES_KEY_BYTES]);
    rng.fill_bytes(&mut key[LEGACY_AES_KEY_BYTES..LEGACY_AES_KEY_BYTES + LEGACY_MAC_KEY_BYTES]);
    let mut iv = [0u8; LEGACY_IV_BYTES];
    rng.fill_bytes(&mut iv);
    let key = LegacyKey::from_bytes(key.as_ref())?;

    let n = input.seek(SeekFrom::End(0)).map_err(LegacyError::Read)?;
    input.seek(SeekFrom::Start(0)).map_err(LegacyError::Read)?;
    let padded = padded_size(n);
    let ct_len = cbc_len(padded);
    let pkcs7 = (ct_len - padded) as u8;

    let mut cipher = cbc::Encryptor::<Aes256>::new_from_slices(key.aes(), &iv)
        .map_err(|_| LegacyError::Primitive("AES-256-CBC"))?;
    let mut mac = key.mac()?;
    let mut digest = Sha256::new();
    let mut emit = |bytes: &[u8], mac: &mut HmacSha256| -> Result<(), LegacyError> {
        mac.update(bytes);
        digest.update(bytes);
        out.write_all(bytes).map_err(LegacyError::Write)
    };
    emit(&iv, &mut mac)?;

    let mut buf = Zeroizing::new(vec![0u8; BUFFER_BYTES]);
    let mut pos = 0u64; // position in the padded, PKCS7-padded plaintext
    while pos < ct_len {
        let len = (ct_len - pos).min(BUFFER_BYTES as u64) as usize;
        let piece = &mut buf[..len];
        let file_here = n.saturating_sub(pos).min(len as u64) as usize;
        if read_full(input, &mut piece[..file_here]).map_err(LegacyError::Read)? != file_here {
            return Err(LegacyError::InputChanged);
        }
        let zeros_end = padded.saturating_sub(pos).min(len as u64) as usize;
        piece[file_here..zeros_end.max(file_here)].fill(0);
        piece[zeros_end.max(file_here)..].fill(pkcs7);
        for block in piece.chunks_exact_mut(LEGACY_BLOCK_BYTES) {
            cipher.encrypt_block_mut(block.into());
        }
        emit(piece, &mut mac)?;
        pos += len as u64;
    }
    if !at_end(input).map_err(LegacyError::Read)? {
        return Err(LegacyError::InputChanged);
    }
    let tag = mac.finalize().into_bytes();
    out.write_all(&tag).map_err(LegacyError::Write)?;
    digest.update(tag);
    Ok(LegacyEncrypted {
        key,
        digest: digest.finalize().into(),
        plaintext_len: n,
        encrypted_len: IV + ct_len + MAC,
    })
}

/// Decrypts a legacy blob into `out`, checking the HMAC and the `digest` before any byte is
/// written, and returns `size`, the number of bytes written.
pub fn decrypt<R: Read + Seek + ?Sized, W: Write + ?Sized>(
    key: &LegacyKey,
    digest: &[u8],
    size: u64,
    input: &mut R,
    out: &mut W,
) -> Result<u64, LegacyError> {
    let digest: [u8; LEGACY_DIGEST_BYTES] =
        digest.try_into().map_err(|_| LegacyError::DigestLength(digest.len()))?;
    let len = input.seek(SeekFrom::End(0)).map_err(LegacyError::Read)?;
    if len < LEGACY_MIN_BLOB_BYTES {
        return Err(LegacyError::TooShort(len));
    }
    let ct_len = len - IV - MAC;
    if !ct_len.is_multiple_of(BLOCK) {
        return Err(LegacyError::BadLength(len));
    }

    // Pass 1: the HMAC, then the digest, over the bytes as they are.
    input.seek(SeekFrom::Start(0)).map_err(LegacyError::Read)?;
    let mut buf = Zeroizing::new(vec![0u8; BUFFER_BYTES]);
    let mut mac = key.mac()?;
    let mut sha = Sha256::new();
    let mut left = len - MAC;
    while left > 0 {
        let piece = &mut buf[..left.min(BUFFER_BYTES as u64) as usize];
        if read_full(input, piece).map_err(LegacyError::Read)? != piece.len() {
            return Err(LegacyError::InputChanged);
        }
        mac.update(piece);
        sha.update(&*piece);
        left -= piece.len() as u64;
    }
    let mut tag = [0u8; LEGACY_MAC_BYTES];
    if read_full(input, &mut tag).map_err(LegacyError::Read)? != tag.len() {
        return Err(LegacyError::InputChanged);
    }
    mac.verify_slice(&tag).map_err(|_| LegacyError::Mac)?;
    sha.update(tag);
    // The digest is a hash of public ciphertext: a plain comparison leaks nothing secret.
    if <[u8; LEGACY_DIGEST_BYTES]>::from(sha.finalize()) != digest {
        return Err(LegacyError::Digest);
    }
    // PKCS7 leaves at least one byte of the last block, so a size beyond that cannot be right.
    if size > ct_len - 1 {
        return Err(LegacyError::SizeTooLarge { size, plaintext: ct_len - 1 });
    }

    // Pass 2: decrypt, re-authenticating what is read (a file edited between the passes is
    // refused), writing only the first `size` bytes; the last block is checked for PKCS7.
    input.seek(SeekFrom::Start(0)).map_err(LegacyError::Read)?;
    let mut iv = [0u8; LEGACY_IV_BYTES];
    if read_full(input, &mut iv).map_err(LegacyError::Read)? != iv.len() {
        return Err(LegacyError::InputChanged);
    }
    let mut cipher = cbc::Decryptor::<Aes256>::new_from_slices(key.aes(), &iv)
        .map_err(|_| LegacyError::Primitive("AES-256-CBC"))?;
    let mut recheck = key.mac()?;
    recheck.update(&iv);
    let mut pos = 0u64; // position in the CBC plaintext
    let mut last_block = Zeroizing::new([0u8; LEGACY_BLOCK_BYTES]);
    while pos < ct_len {
        let len = (ct_len - pos).min(BUFFER_BYTES as u64) as usize;
        let piece = &mut buf[..len];
        if read_full(input, piece).map_err(LegacyError::Read)? != len {
            return Err(LegacyError::InputChanged);
        }
        recheck.update(piece);
        for block in piece.chunks_exact_mut(LEGACY_BLOCK_BYTES) {
            cipher.decrypt_block_mut(block.into());
        }
        let keep = size.saturating_sub(pos).min(len as u64) as usize;
        out.write_all(&piece[..keep]).map_err(LegacyError::Write)?;
        pos += len as u64;
        if pos == ct_len {
            last_block.copy_from_slice(&piece[len - LEGACY_BLOCK_BYTES..]);
        }
    }
    recheck.verify_slice(&tag).map_err(|_| LegacyError::InputChanged)?;
    let pad = last_block[LEGACY_BLOCK_BYTES - 1];
    if pad == 0
        || pad as usize > LEGACY_BLOCK_BYTES
        || last_block[LEGACY_BLOCK_BYTES - pad as usize..].iter().any(|&b| b != pad)
    {
        return Err(LegacyError::Pkcs7);
    }
    let plaintext = ct_len - pad as u64;
    if size > plaintext {
        return Err(LegacyError::SizeTooLarge { size, plaintext });
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Cursor;

    /// An RNG that hands out a scripted byte sequence (tests only: it is not random).
    struct Scripted(Vec<u8>);
    impl rand::RngCore for Scripted {
        fn next_u32(&mut self) -> u32 {
            unimplemented!()
        }
        fn next_u64(&mut self) -> u64 {
            unimplemented!()
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            let rest = self.0.split_off(dest.len());
            dest.copy_from_slice(&self.0);
            self.0 = rest;
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl rand::CryptoRng for Scripted {}

    fn vector_rng() -> Scripted {
        Scripted([vec![0x11; 32], vec![0x22; 32], vec![0x33; 16]].concat())
    }

    fn enc(data: &[u8]) -> (Vec<u8>, LegacyEncrypted) {
        let mut out = Vec::new();
        let e = encrypt(&mut Cursor::new(data), &mut out, &mut rand::rngs::OsRng).unwrap();
        (out, e)
    }

    fn dec(key: &LegacyKey, digest: &[u8], size: u64, blob: &[u8]) -> Result<Vec<u8>, LegacyError> {
        let mut out = Vec::new();
        decrypt(key, digest, size, &mut Cursor::new(blob), &mut out).map(|n| {
            assert_eq!(n as usize, out.len());
            out
        })
    }

    #[test]
    fn the_spec_vector() {
        let data = b"legacy attachment payload";
        let mut blob = Vec::new();
        let e = encrypt(&mut Cursor::new(&data[..]), &mut blob, &mut vector_rng()).unwrap();
        assert_eq!(padded_size(25), 541);
        assert_eq!(blob.len(), 592);
        assert_eq!(e.encrypted_len, 592);
        assert_eq!(&blob[..16], &[0x33; 16]);
        assert_eq!(hex::encode(e.digest), "ee65e6417b452d017a4d8e2ce984883c1f7dc8d920d7551f0e2d2af7606bd9a9");
        assert_eq!(e.key.as_bytes()[..32], [0x11; 32]);
        assert_eq!(e.key.as_bytes()[32..], [0x22; 32]);
        assert_eq!(dec(&e.key, &e.digest, 25, &blob).unwrap(), data);
    }

    #[test]
    fn padded_sizes_match_the_apps() {
        let table: &[(u64, u64)] = &[
            (0, 541),
            (1, 541),
            (541, 541),
            (542, 568),
            (569, 596),
            (1234, 1240),
            (12_345, 12_903),
            (64_562, 67_789),
            (67_790, 71_178),
            (1_234_567, 1_266_246),
            (9_360_077, 9_828_080),
        ];
        for &(n, p) in table {
            assert_eq!(padded_size(n), p, "n = {n}");
        }
        // iOS's cap, and never below the file.
        assert_eq!(padded_size(9_999_999), LEGACY_MAX_PADDED_BYTES);
        assert_eq!(padded_size(12_000_000), 12_000_000);
    }

    #[test]
    fn round_trips_and_sizes() {
        for n in [0usize, 1, 15, 16, 541, 542, 32 * 1024 - 1, 32 * 1024, 100_000] {
            let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let (blob, e) = enc(&data);
            assert_eq!(blob.len() as u64, encrypted_size(n as u64), "n = {n}");
            assert_eq!(e.plaintext_len, n as u64);
            assert_eq!(dec(&e.key, &e.digest, n as u64, &blob).unwrap(), data, "n = {n}");
        }
    }

    #[test]
    fn flipped_truncated_extended_wrong_key_wrong_digest_are_refused() {
        let data = vec![7u8; 3000];
        let (blob, e) = enc(&data);
        let (k, d, n) = (&e.key, &e.digest[..], data.len() as u64);
        for i in (0..blob.len()).step_by(97).chain([blob.len() - 1]) {
            let mut bad = blob.clone();
            bad[i] ^= 0x80;
            assert!(matches!(dec(k, d, n, &bad), Err(LegacyError::Mac)), "byte {i}");
        }
        assert!(matches!(dec(k, d, n, &blob[..blob.len() - 16]), Err(LegacyError::Mac)));
        assert!(matches!(dec(k, d, n, &blob[..blob.len() - 1]), Err(LegacyError::BadLength(_))));
        assert!(matches!(dec(k, d, n, &blob[..40]), Err(LegacyError::TooShort(40))));
        let mut longer = blob.clone();
        longer.extend_from_slice(&[0u8; 16]);
        assert!(matches!(dec(k, d, n, &longer), Err(LegacyError::Mac)));
        let mut other = k.as_bytes().to_vec();
        other[40] ^= 1;
        let err = dec(&LegacyKey::from_bytes(&other).unwrap(), d, n, &blob).unwrap_err();
        assert!(err.to_string().starts_with("invalid key or corrupted data"), "{err}");
        let mut wrong_digest = e.digest;
        wrong_digest[0] ^= 1;
        assert!(matches!(dec(k, &wrong_digest, n, &blob), Err(LegacyError::Digest)));
        assert!(matches!(dec(k, &d[..31], n, &blob), Err(LegacyError::DigestLength(31))));
        assert!(matches!(dec(k, d, 1_000_000, &blob), Err(LegacyError::SizeTooLarge { .. })));
        assert!(matches!(LegacyKey::from_bytes(&[0u8; 32]), Err(LegacyError::KeyLength(32))));
    }

    #[test]
    fn a_wrong_aes_key_with_the_right_mac_key_is_a_pkcs7_or_garbage_result() {
        // The HMAC key authenticates; only the AES half differs: the plaintext is garbage and
        // usually its PKCS7 is wrong. The reader never claims such a file is the original.
        let data = vec![1u8; 100];
        let (blob, e) = enc(&data);
        let mut other = e.key.as_bytes().to_vec();
        other[0] ^= 1;
        let out = dec(&LegacyKey::from_bytes(&other).unwrap(), &e.digest, 100, &blob);
        assert!(!matches!(out, Ok(ref p) if p == &data));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Sizes around each padding step round-trip and keep their bucket.
        #[test]
        fn round_trip_near_each_step(step in prop::sample::select(vec![541u64, 568, 596, 1240, 12_903, 67_789]),
                                     delta in -20i64..20, salt in any::<u8>()) {
            let n = (step as i64 + delta).max(0) as usize;
            let data: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(13) ^ salt).collect();
            let (blob, e) = enc(&data);
            prop_assert!(padded_size(n as u64) >= n as u64);
            prop_assert_eq!(blob.len() as u64, encrypted_size(n as u64));
            prop_assert_eq!(dec(&e.key, &e.digest, n as u64, &blob).unwrap(), data);
        }

        #[test]
        fn padded_size_is_monotonic(n in 0u64..20_000_000) {
            prop_assert!(padded_size(n + 1) >= padded_size(n));
            prop_assert!(padded_size(n) >= n);
        }
    }
}
