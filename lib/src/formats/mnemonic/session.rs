//! The Session recovery phrase (spec identity.md §2): the Electrum-v1 / Monero "original"
//! English list of 1626 words with unique 3-letter prefixes.
//!
//! - Encode, per 4 bytes: v = little-endian u32; a = v mod N, b = (v/N + a) mod N,
//!   c = (v/N² + b) mod N → 3 words. 16 bytes → 12 words, 32 bytes → 24 words.
//! - Checksum word: CRC-32 (IEEE) over the concatenated 3-letter prefixes of the words,
//!   mod the word count, picks the word that is repeated at the end (13 or 25 words).
//! - Decode: words are looked up by their first 3 letters (NFC, lower case), so bare prefixes and
//!   typos after the third letter are accepted; v = a + ((N−a+b) mod N)·N + ((N−b+c) mod N)·N²
//!   must fit in 32 bits. The checksum word is compared by prefix.

use std::sync::OnceLock;

use zeroize::Zeroizing;

use super::{Decoded, Format, MnemonicError, normalize_word, suggestions};
use crate::formats::identity::{SEED16_LEN, SEED32_LEN};

/// Number of words in the list (N).
const WORD_COUNT: usize = 1626;
/// Letters of a word that identify it.
const PREFIX_LEN: usize = 3;
/// Words per 4 bytes of seed.
const WORDS_PER_CHUNK: usize = 3;
/// Bytes per word triple.
const CHUNK_BYTES: usize = 4;

const N: u64 = WORD_COUNT as u64;

/// The English word list, one word per line (a copy of `shared/data/session-mnemonic-english.txt`).
const WORD_LIST_TEXT: &str = include_str!("../../../data/session-mnemonic-english.txt");

/// The 1626 words, in list order.
pub(crate) fn word_list() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| WORD_LIST_TEXT.lines().map(str::trim).filter(|w| !w.is_empty()).collect())
}

fn prefix_of(word: &str) -> &str {
    // The list is ASCII; a prefix is its first PREFIX_LEN bytes.
    word.get(..PREFIX_LEN).unwrap_or(word)
}

/// The index of a typed word: its first 3 letters (after NFC and lower-casing) must be the prefix
/// of a list word. Shorter words are unknown.
fn word_index(word: &str) -> Option<usize> {
    let normalized = normalize_word(word);
    let prefix: String = normalized.chars().take(PREFIX_LEN).collect();
    if prefix.chars().count() < PREFIX_LEN {
        return None;
    }
    // The list is sorted and its prefixes are unique, so the prefixes are sorted too.
    word_list().binary_search_by(|w| prefix_of(w).cmp(prefix.as_str())).ok()
}

/// Whether `word` is spelled exactly as a list word (any case).
pub(crate) fn is_exact_word(word: &str) -> bool {
    let normalized = normalize_word(word);
    word_list().binary_search(&normalized.as_str()).is_ok()
}

fn word(index: usize) -> &'static str {
    word_list()[index % WORD_COUNT]
}

/// Which word is repeated as the checksum: CRC-32 over the concatenated prefixes, mod count.
fn checksum_index(indices: &[usize]) -> usize {
    let mut hasher = crc32fast::Hasher::new();
    for &i in indices {
        hasher.update(prefix_of(word(i)).as_bytes());
    }
    hasher.finalize() as usize % indices.len().max(1)
}

/// Encodes any whole number of 4-byte chunks as words (3 per chunk), with the checksum word
/// appended when `checksum` is set. The public [`encode`] restricts this to seed lengths.
pub fn encode_words(bytes: &[u8], checksum: bool) -> Result<Vec<&'static str>, MnemonicError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(CHUNK_BYTES) {
        return Err(MnemonicError::SeedLength(bytes.len()));
    }
    let mut indices = Zeroizing::new(Vec::with_capacity(bytes.len() / CHUNK_BYTES * WORDS_PER_CHUNK + 1));
    for chunk in bytes.chunks_exact(CHUNK_BYTES) {
        let v = u64::from(u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
        let a = v % N;
        let b = (v / N + a) % N;
        let c = (v / N / N + b) % N;
        indices.extend([a as usize, b as usize, c as usize]);
    }
    if checksum {
        let extra = indices[checksum_index(&indices)];
        indices.push(extra);
    }
    Ok(indices.iter().map(|&i| word(i)).collect())
}

/// The recovery phrase of a 16-byte (13 words) or 32-byte (25 words) seed, as the apps show it.
pub fn encode(seed: &[u8]) -> Result<Zeroizing<String>, MnemonicError> {
    match seed.len() {
        SEED16_LEN | SEED32_LEN => Ok(Zeroizing::new(encode_words(seed, true)?.join(" "))),
        n => Err(MnemonicError::SeedLength(n)),
    }
}

/// Decodes a phrase given as text (any whitespace between words).
pub fn decode(phrase: &str) -> Result<Decoded, MnemonicError> {
    super::decode(phrase, Some(Format::Session))
}

/// Decodes 12 or 24 words (no checksum), or 13 or 25 words (checksum verified).
pub(crate) fn decode_words(words: &[&str]) -> Result<Decoded, MnemonicError> {
    let (seed_words, checksum) = match words.len() {
        12 | 24 => (words.len(), false),
        13 | 25 => (words.len() - 1, true),
        0 => return Err(MnemonicError::Empty),
        n => return Err(MnemonicError::SessionWordCount(n)),
    };
    let seed = decode_indices(words, seed_words, checksum)?;
    Ok(Decoded { seed, format: Format::Session, checksum_verified: checksum })
}

/// Decodes `seed_words` words (a multiple of 3) plus an optional checksum word into bytes. Only
/// the tests decode raw word runs; phrases go through [`decode_words`].
#[cfg(test)]
fn decode_raw(words: &[&str], checksum: bool) -> Result<Zeroizing<Vec<u8>>, MnemonicError> {
    let seed_words = words.len().saturating_sub(usize::from(checksum));
    if seed_words == 0 || !seed_words.is_multiple_of(WORDS_PER_CHUNK) {
        return Err(MnemonicError::SessionWordCount(words.len()));
    }
    decode_indices(words, seed_words, checksum)
}

fn decode_indices(
    words: &[&str],
    seed_words: usize,
    checksum: bool,
) -> Result<Zeroizing<Vec<u8>>, MnemonicError> {
    let mut indices = Zeroizing::new(Vec::with_capacity(words.len()));
    for (i, w) in words.iter().enumerate() {
        match word_index(w) {
            Some(idx) => indices.push(idx),
            None => {
                return Err(MnemonicError::UnknownWord {
                    position: i + 1,
                    word: (*w).to_string(),
                    format: Format::Session,
                    suggestions: suggestions(w, word_list(), Some(PREFIX_LEN)),
                });
            }
        }
    }
    let mut seed = Zeroizing::new(Vec::with_capacity(seed_words / WORDS_PER_CHUNK * CHUNK_BYTES));
    for (t, triple) in indices[..seed_words].chunks_exact(WORDS_PER_CHUNK).enumerate() {
        let (a, b, c) = (triple[0] as u64, triple[1] as u64, triple[2] as u64);
        let v = a + ((N - a + b) % N) * N + ((N - b + c) % N) * N * N;
        let value = u32::try_from(v).ok().filter(|v| u64::from(*v) % N == a);
        match value {
            Some(v) => seed.extend_from_slice(&v.to_le_bytes()),
            None => {
                let first = t * WORDS_PER_CHUNK;
                return Err(MnemonicError::InvalidValue {
                    first: first + 1,
                    last: first + WORDS_PER_CHUNK,
                    words: words[first..first + WORDS_PER_CHUNK].join(" "),
                });
            }
        }
    }
    if checksum {
        let expected = indices[checksum_index(&indices[..seed_words])];
        let given = indices[seed_words];
        if given != expected {
            return Err(MnemonicError::Checksum {
                position: seed_words + 1,
                given: words[seed_words].to_string(),
                expected: word(expected),
            });
        }
    }
    Ok(seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sha2::{Digest, Sha512};

    fn enc(hex_seed: &str) -> String {
        encode(&hex::decode(hex_seed).unwrap()).unwrap().to_string()
    }

    fn dec(phrase: &str) -> String {
        hex::encode(&*decode(phrase).unwrap().seed)
    }

    #[test]
    fn test_word_list_matches_spec() {
        let list = word_list();
        assert_eq!(list.len(), WORD_COUNT);
        assert_eq!(&list[..3], &["abbey", "abducts", "ability"]);
        assert_eq!(&list[WORD_COUNT - 3..], &["zombie", "zones", "zoom"]);
        let mut prefixes: Vec<&str> = list.iter().map(|w| prefix_of(w)).collect();
        prefixes.dedup();
        assert_eq!(prefixes.len(), WORD_COUNT, "3-letter prefixes are unique and sorted");
        assert!(list.windows(2).all(|w| w[0] < w[1]), "list is sorted");
        assert!(list.iter().all(|w| w.len() > PREFIX_LEN && w.is_ascii()));
    }

    #[test]
    fn test_spec_vector_000102() {
        let phrase = "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed";
        assert_eq!(enc("000102030405060708090a0b0c0d0e0f"), phrase);
        assert_eq!(dec(phrase), "000102030405060708090a0b0c0d0e0f");
    }

    #[test]
    fn test_spec_vector_0123() {
        let phrase = "vexed enjoy pigment films adept voted vexed enjoy pigment films adept voted adept";
        assert_eq!(enc("0123456789abcdef0123456789abcdef"), phrase);
        assert_eq!(dec(phrase), "0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn test_spec_vector_0011() {
        let phrase = "python costume hamburger heels amnesty lukewarm antics value picked roped sowed southern amnesty";
        assert_eq!(enc("00112233445566778899aabbccddeeff"), phrase);
        assert_eq!(dec(phrase), "00112233445566778899aabbccddeeff");
    }

    #[test]
    fn test_spec_vector_zeros() {
        let phrase = ["abbey"; 13].join(" ");
        assert_eq!(enc(&"00".repeat(16)), phrase);
        assert_eq!(dec(&phrase), "00".repeat(16));
    }

    #[test]
    fn test_spec_vector_ff() {
        let phrase = "foamy solved soggy foamy solved soggy foamy solved soggy foamy solved soggy solved";
        assert_eq!(enc(&"ff".repeat(16)), phrase);
        assert_eq!(dec(phrase), "ff".repeat(16));
    }

    #[test]
    fn test_spec_vector_25_words() {
        let seed: String = (0u8..32).map(|b| format!("{b:02x}")).collect();
        let phrase = "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed update vague \
                      zinger boxes ornament renting glass gained island nabbing afield calamity boxes";
        assert_eq!(enc(&seed), phrase);
        assert_eq!(dec(phrase), seed);
    }

    #[test]
    fn test_libsession_48_word_vector() {
        let seed = Sha512::digest(b"libsession-util mnemonic test vector");
        let words = encode_words(&seed, false).unwrap();
        let expected = "threaten efficient wives skirting repent ashtray rural ammo reunion yoyo already tucks \
            attire waxing uphill template ghetto anxiety utensils newt safety paper quote pebbles \
            album gnaw puppy tidy foxes menu evenings spying wallets plotting fuselage geometry \
            toilet cylinder swagger eels when tether cowl saga gossip vats bias federal";
        assert_eq!(words.join(" "), expected);
        let back = decode_raw(&words, false).unwrap();
        assert_eq!(&back[..], &seed[..]);
    }

    #[test]
    fn test_object_anxiety_asked_pitfall() {
        // libsession's test comment claims indices 1443, 180, 205; the real ones are 967, 84, 109.
        let words = encode_words(&[1, 2, 3, 4], false).unwrap();
        assert_eq!(words, ["object", "anxiety", "asked"]);
        assert_eq!(word_index("object"), Some(967));
        assert_eq!(word_index("anxiety"), Some(84));
        assert_eq!(word_index("asked"), Some(109));
        assert_eq!(&decode_raw(&words, false).unwrap()[..], &[1, 2, 3, 4]);
    }

    #[test]
    fn test_checksum_word_is_always_a_repeat() {
        for i in 0..50u8 {
            let words = encode_words(&[i; 16], true).unwrap();
            assert_eq!(words.len(), 13);
            assert!(words[..12].contains(&words[12]));
        }
    }

    #[test]
    fn test_case_whitespace_prefixes_and_typos_after_prefix() {
        let seed = "000102030405060708090a0b0c0d0e0f";
        assert_eq!(
            dec(
                "  AMAZE\tBuffet\n\ncake entrance symptoms tiger lamb maze nestle python dusted faxed FAXED \n"
            ),
            seed
        );
        assert_eq!(dec("ama buf cak ent sym tig lam maz nes pyt dus fax fax"), seed);
        assert_eq!(
            dec("amaxyz bufxyz cakxyz entxyz symxyz tigxyz lamxyz mazxyz nesxyz pytxyz dusxyz faxxyz faxq"),
            seed
        );
        // NFC: a composed form of plain ASCII is itself; a full-width letter is not folded.
        assert_eq!(word_index("ＡＭＡＺＥ"), None);
    }

    #[test]
    fn test_twelve_words_decode_without_checksum() {
        let d =
            decode("amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed").unwrap();
        assert!(!d.checksum_verified);
        assert_eq!(hex::encode(&*d.seed), "000102030405060708090a0b0c0d0e0f");
    }

    #[test]
    fn test_wrong_checksum_word_names_given_and_expected() {
        let err =
            decode("amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed zoom")
                .unwrap_err();
        assert_eq!(err, MnemonicError::Checksum { position: 13, given: "zoom".into(), expected: "faxed" });
        // The checksum word compares by prefix, like every word.
        assert!(
            decode("amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxing")
                .is_ok()
        );
    }

    #[test]
    fn test_unknown_word_names_word_position_and_closest() {
        let err =
            decode("amaze buffet cake entrance symptoms tiger lamb maze nestle pyhton dusted faxed faxed")
                .unwrap_err();
        match err {
            MnemonicError::UnknownWord { position, word, format, suggestions } => {
                assert_eq!(position, 10);
                assert_eq!(word, "pyhton");
                assert_eq!(format, Format::Session);
                assert_eq!(suggestions.len(), 3);
                assert_eq!(suggestions[0], "python");
            }
            other => panic!("unexpected {other:?}"),
        }
        // Too short to carry a prefix.
        assert!(matches!(
            decode("am buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed"),
            Err(MnemonicError::UnknownWord { position: 1, .. })
        ));
    }

    #[test]
    fn test_invalid_value_overflow() {
        let err = decode_raw(&["abbey", "abbey", "zoom"], false).unwrap_err();
        assert_eq!(err, MnemonicError::InvalidValue { first: 1, last: 3, words: "abbey abbey zoom".into() });
        let mut phrase = vec!["amaze"; 9];
        phrase.extend(["abbey", "abbey", "zoom"]);
        assert!(matches!(
            decode_words(&phrase),
            Err(MnemonicError::InvalidValue { first: 10, last: 12, .. })
        ));
    }

    #[test]
    fn test_wrong_counts_and_lengths() {
        assert_eq!(decode_words(&["abbey"; 14]).unwrap_err(), MnemonicError::SessionWordCount(14));
        assert_eq!(decode_words(&["abbey"; 11]).unwrap_err(), MnemonicError::SessionWordCount(11));
        assert_eq!(decode_words(&[]).unwrap_err(), MnemonicError::Empty);
        assert_eq!(encode(&[0u8; 15]).unwrap_err(), MnemonicError::SeedLength(15));
        assert_eq!(encode(&[0u8; 24]).unwrap_err(), MnemonicError::SeedLength(24));
        assert_eq!(encode_words(&[0u8; 5], false).unwrap_err(), MnemonicError::SeedLength(5));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn prop_round_trip_16(seed in proptest::array::uniform16(any::<u8>())) {
            let phrase = encode(&seed).unwrap();
            prop_assert_eq!(phrase.split(' ').count(), 13);
            let d = decode(&phrase).unwrap();
            prop_assert!(d.checksum_verified);
            prop_assert_eq!(&d.seed[..], &seed[..]);
            // Without the checksum word, and in upper case by prefixes only.
            let prefixes: Vec<String> = phrase.split(' ').take(12).map(|w| w[..3].to_uppercase()).collect();
            prop_assert_eq!(&decode(&prefixes.join(" ")).unwrap().seed[..], &seed[..]);
        }

        #[test]
        fn prop_round_trip_32(seed in proptest::array::uniform32(any::<u8>())) {
            let phrase = encode(&seed).unwrap();
            prop_assert_eq!(phrase.split(' ').count(), 25);
            prop_assert_eq!(&decode(&phrase).unwrap().seed[..], &seed[..]);
        }

        #[test]
        fn prop_decode_never_panics(text in "\\PC{0,200}") {
            let _ = decode(&text);
            let _ = super::super::decode(&text, None);
        }
    }
}
