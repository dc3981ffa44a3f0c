//! Recovery phrases: a seed ⇄ words.
//!
//! Two formats, always named in output so they are never confused:
//! - [`Format::Session`] (the default): the phrase the Session apps show — the Electrum-v1 /
//!   Monero "original" 1626-word English list, 3 words per 4 bytes, plus a checksum word
//!   (spec identity.md §2). 16 bytes ⇄ 12 (+1) words, 32 bytes ⇄ 24 (+1) words. See [`session`].
//! - [`Format::Bip39`]: the standard BIP-39 English phrase of the same entropy (12 words for
//!   16 bytes, 24 for 32), for users who keep seeds in BIP-39 tools. See [`bip39`].
//!
//! [`decode`] tells the two apart where the phrase is unambiguous (see its documentation).
//! [`parse_seed_text`] reads the seed inputs of `keygen --seed -` and `mnemonic encode`.

pub mod bip39;
pub mod session;

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::formats::identity::{SEED16_LEN, SEED32_LEN};
use crate::formats::limits::{
    MNEMONIC_MAX_PHRASE_BYTES, MNEMONIC_MAX_SUGGESTION_WORD_CHARS, MNEMONIC_SUGGESTIONS, SEED_INPUT_MAX_BYTES,
};

/// Which kind of phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The Session app's recovery phrase (1626-word list, checksum word).
    Session,
    /// BIP-39 (2048-word English list, checksum bits).
    Bip39,
}

impl Format {
    /// The name used in JSON output and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Session => "session",
            Format::Bip39 => "bip39",
        }
    }

    /// Parses `session` or `bip39` (case-insensitive).
    pub fn parse(s: &str) -> Result<Self, MnemonicError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "session" => Ok(Format::Session),
            "bip39" | "bip-39" => Ok(Format::Bip39),
            _ => Err(MnemonicError::UnknownFormat(s.to_string())),
        }
    }

    fn list_name(self) -> &'static str {
        match self {
            Format::Session => "Session (1626-word)",
            Format::Bip39 => "BIP-39 English",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a seed could not be encoded or a phrase could not be decoded. One variant per rule.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum MnemonicError {
    /// The seed to encode is neither 16 nor 32 bytes.
    #[error("seed must be 16 or 32 bytes (32 or 64 hex characters), got {0} bytes")]
    SeedLength(usize),
    /// The phrase has no words.
    #[error("the phrase is empty")]
    Empty,
    /// The phrase is over `MNEMONIC_MAX_PHRASE_BYTES`.
    #[error("the phrase is longer than {MNEMONIC_MAX_PHRASE_BYTES} bytes")]
    TooLong,
    /// The `--format` name is neither `session` nor `bip39`.
    #[error("unknown phrase format '{0}' (expected 'session' or 'bip39')")]
    UnknownFormat(String),
    /// A Session phrase has a word count other than 12, 13, 24 or 25.
    #[error("a Session recovery phrase has 12, 13, 24 or 25 words, got {0}")]
    SessionWordCount(usize),
    /// A BIP-39 phrase has a word count other than 12 or 24.
    #[error("a BIP-39 phrase of a snkit seed has 12 or 24 words, got {0}")]
    Bip39WordCount(usize),
    /// With the format auto-detected, the word count fits neither format.
    #[error("got {0} words: a Session phrase has 12, 13, 24 or 25 words and a BIP-39 phrase 12 or 24 words")]
    WordCount(usize),
    /// A word is not in its format's word list.
    #[error("word {position} '{word}' is not in the {} word list{}", .format.list_name(), closest(.suggestions))]
    UnknownWord {
        /// The word's position in the phrase, from 1.
        position: usize,
        /// The word as given.
        word: String,
        /// The format whose list was searched.
        format: Format,
        /// The closest words of that list.
        suggestions: Vec<&'static str>,
    },
    /// The Session checksum word does not match the other words.
    #[error("checksum word {position} '{given}' does not match the phrase; expected '{expected}'")]
    Checksum {
        /// The checksum word's position, from 1.
        position: usize,
        /// The checksum word given.
        given: String,
        /// The checksum word the other words give.
        expected: &'static str,
    },
    /// A group of three words encodes a value over 32 bits.
    #[error("words {first}-{last} ('{words}') do not encode a valid value (they overflow 32 bits)")]
    InvalidValue {
        /// The group's first word position, from 1.
        first: usize,
        /// The group's last word position.
        last: usize,
        /// The group's words.
        words: String,
    },
    /// The BIP-39 checksum bits do not match the entropy.
    #[error("the BIP-39 checksum does not match: a word is wrong or words are out of order")]
    Bip39Checksum,
    /// Auto-detection found the phrase valid in both formats; `--format` must choose.
    #[error("the phrase is valid both as a Session phrase and as a BIP-39 phrase")]
    Ambiguous,
}

fn closest(suggestions: &[&str]) -> String {
    if suggestions.is_empty() { String::new() } else { format!(" (closest: {})", suggestions.join(", ")) }
}

/// A decoded phrase: the seed, which format it was, and whether a checksum verified it.
pub struct Decoded {
    /// The decoded seed (16 or 32 bytes; a secret).
    pub seed: Zeroizing<Vec<u8>>,
    /// The format the phrase was read as.
    pub format: Format,
    /// `false` for a 12- or 24-word Session phrase (no checksum word): a typo cannot be detected.
    pub checksum_verified: bool,
}

impl fmt::Debug for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoded")
            .field("format", &self.format)
            .field("checksum_verified", &self.checksum_verified)
            .finish_non_exhaustive()
    }
}

/// Encodes a 16- or 32-byte seed as a phrase of the given format.
pub fn encode(seed: &[u8], format: Format) -> Result<Zeroizing<String>, MnemonicError> {
    match format {
        Format::Session => session::encode(seed),
        Format::Bip39 => bip39::encode(seed),
    }
}

/// Decodes a phrase (words separated by any whitespace, any case).
///
/// With `format` given, only that format is tried. Without it:
/// - 13 or 25 words are a Session phrase (BIP-39 has no such lengths);
/// - 12 or 24 words are BIP-39 when every word is a BIP-39 word and the BIP-39 checksum holds,
///   otherwise a Session phrase without its checksum word. If the phrase is also made only of
///   exact Session words (both readings valid), it is [`MnemonicError::Ambiguous`]: pass a format.
///   If neither reading works, the error is the one of the list that knows more of the words.
pub fn decode(phrase: &str, format: Option<Format>) -> Result<Decoded, MnemonicError> {
    if phrase.len() > MNEMONIC_MAX_PHRASE_BYTES {
        return Err(MnemonicError::TooLong);
    }
    let words: Vec<&str> = phrase.split_whitespace().collect();
    if words.is_empty() {
        return Err(MnemonicError::Empty);
    }
    match format {
        Some(Format::Session) => session::decode_words(&words),
        Some(Format::Bip39) => bip39::decode_words(&words),
        None => match words.len() {
            13 | 25 => session::decode_words(&words),
            12 | 24 => detect(&words),
            n => Err(MnemonicError::WordCount(n)),
        },
    }
}

fn detect(words: &[&str]) -> Result<Decoded, MnemonicError> {
    let as_bip39 = bip39::decode_words(words);
    let all_session_words = words.iter().all(|w| session::is_exact_word(w));
    match as_bip39 {
        Ok(decoded) if all_session_words && session::decode_words(words).is_ok() => {
            drop(decoded);
            Err(MnemonicError::Ambiguous)
        }
        Ok(decoded) => Ok(decoded),
        Err(bip39_err) => match session::decode_words(words) {
            Ok(decoded) => Ok(decoded),
            Err(session_err) => {
                let bip39_known = words.iter().filter(|w| bip39::is_word(w)).count();
                let session_known = words.iter().filter(|w| session::is_exact_word(w)).count();
                Err(if bip39_known > session_known { bip39_err } else { session_err })
            }
        },
    }
}

/// How a typed word is compared: Unicode NFC, then lower case (libsession case-folds and
/// NFC-normalises; the English list is ASCII, so this only matters for odd input).
pub(crate) fn normalize_word(word: &str) -> String {
    word.nfc().collect::<String>().to_lowercase()
}

/// The words of `list` closest to `word` by edit distance (to the whole word or, when the list is
/// prefix-based, to its prefix), best first, ties in list order.
pub(crate) fn suggestions(word: &str, list: &[&'static str], prefix_len: Option<usize>) -> Vec<&'static str> {
    let word = normalize_word(word);
    if word.chars().count() > MNEMONIC_MAX_SUGGESTION_WORD_CHARS {
        return Vec::new();
    }
    let mut scored: Vec<(usize, usize, &'static str)> = list
        .iter()
        .enumerate()
        .map(|(i, candidate)| {
            let mut d = strsim::levenshtein(&word, candidate);
            if let Some(n) = prefix_len {
                let prefix: String = candidate.chars().take(n).collect();
                d = d.min(strsim::levenshtein(&word, &prefix));
            }
            (d, i, *candidate)
        })
        .collect();
    scored.sort_unstable();
    scored.into_iter().take(MNEMONIC_SUGGESTIONS).map(|(_, _, w)| w).collect()
}

/// Why a seed input (`keygen --seed -`, `mnemonic encode`) was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SeedInputError {
    /// The input is empty.
    #[error("empty input: expected a hex seed or JSON with a \"seed\" field")]
    Empty,
    /// The input starts like JSON but does not parse.
    #[error("malformed JSON input: {0}")]
    Json(String),
    /// The JSON input has no `seed` field.
    #[error("input JSON has no \"seed\" field")]
    NoSeedField,
    /// The JSON input's `seed` is not a string.
    #[error("input field \"seed\" is not a string")]
    SeedNotString,
    /// The seed is not hex.
    #[error("seed is not hex: {0}")]
    NotHex(String),
    /// The hex seed is neither 32 nor 64 characters.
    #[error("seed must be 16 or 32 bytes (32 or 64 hex characters), got {0} hex characters")]
    Length(usize),
    /// The input is over `SEED_INPUT_MAX_BYTES`.
    #[error("seed input is longer than {SEED_INPUT_MAX_BYTES} bytes")]
    TooLong,
}

/// Reads a seed given as bare hex (32 or 64 hex characters, surrounding whitespace ignored) or
/// as a JSON object with a `"seed"` field (what `keygen` and `mnemonic decode` print).
pub fn parse_seed_text(text: &str) -> Result<Zeroizing<Vec<u8>>, SeedInputError> {
    if text.len() > SEED_INPUT_MAX_BYTES {
        return Err(SeedInputError::TooLong);
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(SeedInputError::Empty);
    }
    if text.starts_with('{') {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| SeedInputError::Json(e.to_string()))?;
        let seed = value.get("seed").ok_or(SeedInputError::NoSeedField)?;
        let seed = Zeroizing::new(seed.as_str().ok_or(SeedInputError::SeedNotString)?.to_string());
        return parse_seed_hex(&seed);
    }
    parse_seed_hex(text)
}

/// Parses a bare hex seed of 16 or 32 bytes.
pub fn parse_seed_hex(hex_seed: &str) -> Result<Zeroizing<Vec<u8>>, SeedInputError> {
    let hex_seed = hex_seed.trim();
    if hex_seed.is_empty() {
        return Err(SeedInputError::Empty);
    }
    let bytes = Zeroizing::new(hex::decode(hex_seed).map_err(|e| SeedInputError::NotHex(e.to_string()))?);
    match bytes.len() {
        SEED16_LEN | SEED32_LEN => Ok(bytes),
        _ => Err(SeedInputError::Length(hex_seed.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "000102030405060708090a0b0c0d0e0f";
    const PHRASE: &str =
        "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed";

    #[test]
    fn test_decode_detects_session_13_words() {
        let d = decode(PHRASE, None).unwrap();
        assert_eq!(d.format, Format::Session);
        assert!(d.checksum_verified);
        assert_eq!(hex::encode(&*d.seed), SEED);
    }

    #[test]
    fn test_decode_detects_session_12_words_without_checksum() {
        let twelve: Vec<&str> = PHRASE.split(' ').take(12).collect();
        let d = decode(&twelve.join(" "), None).unwrap();
        assert_eq!(d.format, Format::Session);
        assert!(!d.checksum_verified);
        assert_eq!(hex::encode(&*d.seed), SEED);
    }

    #[test]
    fn test_decode_detects_bip39() {
        let phrase = encode(&hex::decode(SEED).unwrap(), Format::Bip39).unwrap();
        let d = decode(&phrase, None).unwrap();
        assert_eq!(d.format, Format::Bip39);
        assert!(d.checksum_verified);
        assert_eq!(hex::encode(&*d.seed), SEED);
    }

    #[test]
    fn test_forced_format_is_the_only_one_tried() {
        let phrase = encode(&hex::decode(SEED).unwrap(), Format::Bip39).unwrap();
        assert!(matches!(
            decode(&phrase, Some(Format::Session)),
            Err(MnemonicError::UnknownWord { format: Format::Session, .. })
        ));
        assert!(matches!(decode(PHRASE, Some(Format::Bip39)), Err(MnemonicError::Bip39WordCount(13))));
    }

    #[test]
    fn test_wrong_word_counts() {
        assert_eq!(decode("", None).unwrap_err(), MnemonicError::Empty);
        assert_eq!(decode("  \n\t ", None).unwrap_err(), MnemonicError::Empty);
        assert_eq!(decode("abbey abbey", None).unwrap_err(), MnemonicError::WordCount(2));
        assert_eq!(decode(&"abbey ".repeat(15), None).unwrap_err(), MnemonicError::WordCount(15));
        assert_eq!(
            decode(&"abbey ".repeat(14), Some(Format::Session)).unwrap_err(),
            MnemonicError::SessionWordCount(14)
        );
        assert_eq!(
            decode(&"x".repeat(MNEMONIC_MAX_PHRASE_BYTES + 1), None).unwrap_err(),
            MnemonicError::TooLong
        );
    }

    #[test]
    fn test_twelve_unknown_words_report_the_closer_list() {
        // Mostly BIP-39 words with a broken checksum: the BIP-39 error wins.
        let bip =
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon";
        assert_eq!(decode(bip, None).unwrap_err(), MnemonicError::Bip39Checksum);
        // Session words with a typo: the Session error wins and names the word.
        let session = "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted qqqqq";
        match decode(session, None).unwrap_err() {
            MnemonicError::UnknownWord { position, word, format, .. } => {
                assert_eq!((position, word.as_str(), format), (12, "qqqqq", Format::Session));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn test_error_messages_name_the_rule() {
        let e = MnemonicError::UnknownWord {
            position: 3,
            word: "abbay".into(),
            format: Format::Session,
            suggestions: vec!["abbey", "abyss"],
        };
        assert_eq!(
            e.to_string(),
            "word 3 'abbay' is not in the Session (1626-word) word list (closest: abbey, abyss)"
        );
        let e = MnemonicError::Checksum { position: 13, given: "zoom".into(), expected: "abbey" };
        assert_eq!(e.to_string(), "checksum word 13 'zoom' does not match the phrase; expected 'abbey'");
    }

    #[test]
    fn test_debug_never_shows_the_seed() {
        let d = decode(PHRASE, None).unwrap();
        let shown = format!("{d:?}");
        assert!(!shown.contains("000102") && !shown.contains("[0, 1, 2"), "{shown}");
    }

    #[test]
    fn test_format_parse_and_names() {
        assert_eq!(Format::parse("Session").unwrap(), Format::Session);
        assert_eq!(Format::parse("bip39").unwrap(), Format::Bip39);
        assert!(Format::parse("electrum").is_err());
        assert_eq!(serde_json::to_string(&Format::Bip39).unwrap(), "\"bip39\"");
    }

    #[test]
    fn test_parse_seed_text() {
        assert_eq!(hex::encode(&*parse_seed_text(SEED).unwrap()), SEED);
        assert_eq!(hex::encode(&*parse_seed_text(&format!(" {SEED}\n")).unwrap()), SEED);
        assert_eq!(hex::encode(&*parse_seed_text(&format!("{{\"seed\":\"{SEED}\"}}")).unwrap()), SEED);
        let long = "00".repeat(32);
        assert_eq!(parse_seed_text(&long).unwrap().len(), 32);
        assert_eq!(parse_seed_text("").unwrap_err(), SeedInputError::Empty);
        assert_eq!(parse_seed_text("{\"x\":1}").unwrap_err(), SeedInputError::NoSeedField);
        assert_eq!(parse_seed_text("{\"seed\":1}").unwrap_err(), SeedInputError::SeedNotString);
        assert!(matches!(parse_seed_text("{\"seed\""), Err(SeedInputError::Json(_))));
        assert!(matches!(parse_seed_text("zz"), Err(SeedInputError::NotHex(_))));
        assert_eq!(parse_seed_text("0011").unwrap_err(), SeedInputError::Length(4));
    }

    #[test]
    fn test_suggestions_rank_by_edit_distance() {
        let list = session::word_list();
        assert_eq!(suggestions("abbay", list, Some(3))[0], "abbey");
        assert_eq!(suggestions("ZOMBIEE", list, Some(3))[0], "zombie");
        assert!(suggestions(&"q".repeat(1000), list, Some(3)).is_empty());
    }
}
