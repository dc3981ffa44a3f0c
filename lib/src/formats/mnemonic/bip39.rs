//! BIP-39 (English) phrases of snkit seeds, via the `bip39` crate: 16 bytes ⇄ 12 words,
//! 32 bytes ⇄ 24 words. This is an extra for users who keep seeds in BIP-39 tools; it is NOT the
//! phrase the Session apps show (see [`super::session`]). Only the entropy ⇄ words mapping is used:
//! no passphrase, no PBKDF2 seed.

use ::bip39::{Language, Mnemonic};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use super::{Decoded, Format, MnemonicError, suggestions};
use crate::formats::identity::{SEED16_LEN, SEED32_LEN};

const LANGUAGE: Language = Language::English;

/// The 2048 words of the BIP-39 English list.
pub(crate) fn word_list() -> &'static [&'static str] {
    LANGUAGE.word_list()
}

/// Whether `word` is a BIP-39 English word (any case).
pub(crate) fn is_word(word: &str) -> bool {
    LANGUAGE.find_word(&normalize(word)).is_some()
}

/// BIP-39 compares NFKD-normalised, lower-case words.
fn normalize(word: &str) -> String {
    word.nfkd().collect::<String>().to_lowercase()
}

/// The BIP-39 phrase of a 16-byte (12 words) or 32-byte (24 words) seed.
pub fn encode(seed: &[u8]) -> Result<Zeroizing<String>, MnemonicError> {
    match seed.len() {
        SEED16_LEN | SEED32_LEN => {
            let mnemonic = Mnemonic::from_entropy_in(LANGUAGE, seed)
                .map_err(|_| MnemonicError::SeedLength(seed.len()))?;
            Ok(Zeroizing::new(mnemonic.to_string()))
        }
        n => Err(MnemonicError::SeedLength(n)),
    }
}

/// Decodes a phrase given as text.
pub fn decode(phrase: &str) -> Result<Decoded, MnemonicError> {
    super::decode(phrase, Some(Format::Bip39))
}

/// Decodes 12 or 24 BIP-39 words (checksum verified).
pub(crate) fn decode_words(words: &[&str]) -> Result<Decoded, MnemonicError> {
    match words.len() {
        12 | 24 => {}
        0 => return Err(MnemonicError::Empty),
        n => return Err(MnemonicError::Bip39WordCount(n)),
    }
    let mut normalized = Zeroizing::new(Vec::with_capacity(words.len()));
    for (i, w) in words.iter().enumerate() {
        let n = normalize(w);
        if LANGUAGE.find_word(&n).is_none() {
            return Err(MnemonicError::UnknownWord {
                position: i + 1,
                word: (*w).to_string(),
                format: Format::Bip39,
                suggestions: suggestions(w, word_list(), None),
            });
        }
        normalized.push(n);
    }
    let joined = Zeroizing::new(normalized.join(" "));
    let mnemonic = Mnemonic::parse_in_normalized(LANGUAGE, &joined).map_err(|e| match e {
        ::bip39::Error::InvalidChecksum => MnemonicError::Bip39Checksum,
        ::bip39::Error::BadWordCount(n) => MnemonicError::Bip39WordCount(n),
        ::bip39::Error::UnknownWord(i) => MnemonicError::UnknownWord {
            position: i + 1,
            word: words.get(i).map(|w| (*w).to_string()).unwrap_or_default(),
            format: Format::Bip39,
            suggestions: Vec::new(),
        },
        _ => MnemonicError::Bip39WordCount(words.len()),
    })?;
    let (entropy, len) = mnemonic.to_entropy_array();
    let entropy = Zeroizing::new(entropy);
    let seed = Zeroizing::new(entropy[..len].to_vec());
    Ok(Decoded { seed, format: Format::Bip39, checksum_verified: true })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The official BIP-39 English reference vectors (trezor/python-mnemonic `vectors.json`):
    /// entropy, mnemonic, and the PBKDF2 seed with passphrase "TREZOR". All the 128- and 256-bit
    /// ones (the lengths of snkit seeds).
    const VECTORS: &[(&str, &str, &str)] = &[
        (
            "00000000000000000000000000000000",
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
            "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04",
        ),
        (
            "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
            "2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c1069be3a3a5bd381ee6260e8d9739fce1f607",
        ),
        (
            "80808080808080808080808080808080",
            "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
            "d71de856f81a8acc65e6fc851a38d4d7ec216fd0796d0a6827a3ad6ed5511a30fa280f12eb2e47ed2ac03b5c462a0358d18d69fe4f985ec81778c1b370b652a8",
        ),
        (
            "ffffffffffffffffffffffffffffffff",
            "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
            "ac27495480225222079d7be181583751e86f571027b0497b5b5d11218e0a8a13332572917f0f8e5a589620c6f15b11c61dee327651a14c34e18231052e48c069",
        ),
        (
            "0000000000000000000000000000000000000000000000000000000000000000",
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
             abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art",
            "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8",
        ),
        (
            "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
            "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth \
             useful legal winner thank year wave sausage worth title",
            "bc09fca1804f7e69da93c2f2028eb238c227f2e9dda30cd63699232578480a4021b146ad717fbb7e451ce9eb835f43620bf5c514db0f8add49f5d121449d3e87",
        ),
        (
            "8080808080808080808080808080808080808080808080808080808080808080",
            "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor \
             acoustic avoid letter advice cage absurd amount doctor acoustic bless",
            "c0c519bd0e91a2ed54357d9d1ebef6f5af218a153624cf4f2da911a0ed8f7a09e2ef61af0aca007096df430022f7a2b6fb91661a9589097069720d015e4e982f",
        ),
        (
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
            "dd48c104698c30cfe2b6142103248622fb7bb0ff692eebb00089b32d22484e1613912f0a5b694407be899ffd31ed3992c456cdf60f5d4564b8ba3f05a69890ad",
        ),
        (
            "9e885d952ad362caeb4efe34a8e91bd2",
            "ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic",
            "274ddc525802f7c828d8ef7ddbcdc5304e87ac3535913611fbbfa986d0c9e5476c91689f9c8a54fd55bd38606aa6a8595ad213d4c9c9f9aca3fb217069a41028",
        ),
        (
            "68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c",
            "hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy \
             gospel tennis maple dilemma loan word shrug inflict delay length",
            "64c87cde7e12ecf6704ab95bb1408bef047c22db4cc7491c4271d170a1b213d20b385bc1588d9c7b38f1b39d415665b8a9030c9ec653d75e65f847d8fc1fc440",
        ),
        (
            "c0ba5a8e914111210f2bd131f3d5e08d",
            "scheme spot photo card baby mountain device kick cradle pact join borrow",
            "ea725895aaae8d4c1cf682c1bfd2d358d52ed9f0f0591131b559e2724bb234fca05aa9c02c57407e04ee9dc3b454aa63fbff483a8b11de949624b9f1831a9612",
        ),
        (
            "9f6a2878b2520799a44ef18bc7df394e7061a224d2c33cd015b157d746869863",
            "panda eyebrow bullet gorilla call smoke muffin taste mesh discover soft ostrich alcohol speed \
             nation flash devote level hobby quick inner drive ghost inside",
            "72be8e052fc4919d2adf28d5306b5474b0069df35b02303de8c1729c9538dbb6fc2d731d5f832193cd9fb6aeecbc469594a70e3dd50811b5067f3b88b28c3e8d",
        ),
        (
            "23db8160a31d3e0dca3688ed941adbf3",
            "cat swing flag economy stadium alone churn speed unique patch report train",
            "deb5f45449e615feff5640f2e49f933ff51895de3b4381832b3139941c57b59205a42480c52175b6efcffaa58a2503887c1e8b363a707256bdd2b587b46541f5",
        ),
        (
            "066dca1a2bb7e8a1db2832148ce9933eea0f3ac9548d793112d9a95c9407efad",
            "all hour make first leader extend hole alien behind guard gospel lava path output census museum \
             junior mass reopen famous sing advance salt reform",
            "26e975ec644423f4a4c4f4215ef09b4bd7ef924e85d1d17c4cf3f136c2863cf6df0a475045652c57eb5fb41513ca2a2d67722b77e954b4b3fc11f7590449191d",
        ),
        (
            "f30f8c1da665478f49b001d94c5fc452",
            "vessel ladder alter error federal sibling chat ability sun glass valve picture",
            "2aaa9242daafcee6aa9d7269f17d4efe271e1b9a529178d7dc139cd18747090bf9d60295d0ce74309a78852a9caadf0af48aae1c6253839624076224374bc63f",
        ),
        (
            "f585c11aec520db57dd353c69554b21a89b20fb0650966fa0a9d6f74fd989d8f",
            "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen \
             patrol group space point ten exist slush involve unfold",
            "01f5bced59dec48e362f2c45b5de68b9fd6c92c6634f44d6d40aab69056506f0e35524a518034ddc1192e1dacd32c1ed3eaa3c3b131c88ed8e7e54c49a5d0998",
        ),
    ];

    fn one_space(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn test_bip39_reference_vectors() {
        let (mut n128, mut n256) = (0, 0);
        for (entropy, phrase, trezor_seed) in VECTORS {
            let phrase = one_space(phrase);
            let seed = hex::decode(entropy).unwrap();
            match seed.len() {
                16 => n128 += 1,
                32 => n256 += 1,
                n => panic!("unexpected length {n}"),
            }
            assert_eq!(*encode(&seed).unwrap(), phrase, "entropy {entropy}");
            let d = decode(&phrase).unwrap();
            assert_eq!(d.format, Format::Bip39);
            assert_eq!(hex::encode(&*d.seed), *entropy);
            // The crate's seed derivation agrees too (not used by snkit; pins the vectors).
            let m = Mnemonic::parse_in_normalized(LANGUAGE, &phrase).unwrap();
            assert_eq!(hex::encode(m.to_seed_normalized("TREZOR")), *trezor_seed);
        }
        assert_eq!((n128, n256), (8, 8));
    }

    #[test]
    fn test_bip39_other_lengths_are_refused() {
        // 192-bit reference vector: valid BIP-39, but not a snkit seed length.
        let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                      abandon abandon abandon abandon abandon abandon agent";
        assert_eq!(decode(phrase).unwrap_err(), MnemonicError::Bip39WordCount(18));
        assert_eq!(encode(&[0u8; 24]).unwrap_err(), MnemonicError::SeedLength(24));
    }

    #[test]
    fn test_bip39_errors() {
        let bad_sum =
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon";
        assert_eq!(decode(bad_sum).unwrap_err(), MnemonicError::Bip39Checksum);
        match decode(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abuot",
        )
        .unwrap_err()
        {
            MnemonicError::UnknownWord { position, word, format, suggestions } => {
                assert_eq!((position, word.as_str(), format), (12, "abuot", Format::Bip39));
                assert!(suggestions.contains(&"about"), "{suggestions:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
        // Case-insensitive.
        assert!(decode("ZOO zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo Wrong").is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn prop_round_trip_16(seed in proptest::array::uniform16(any::<u8>())) {
            let phrase = encode(&seed).unwrap();
            prop_assert_eq!(phrase.split(' ').count(), 12);
            prop_assert_eq!(&decode(&phrase).unwrap().seed[..], &seed[..]);
            // Auto-detection finds BIP-39 (a Session reading would need only exact shared words).
            let auto = super::super::decode(&phrase, None);
            if let Ok(d) = auto {
                prop_assert_eq!(d.format, Format::Bip39);
                prop_assert_eq!(&d.seed[..], &seed[..]);
            }
        }

        #[test]
        fn prop_round_trip_32(seed in proptest::array::uniform32(any::<u8>())) {
            let phrase = encode(&seed).unwrap();
            prop_assert_eq!(phrase.split(' ').count(), 24);
            prop_assert_eq!(&decode(&phrase).unwrap().seed[..], &seed[..]);
        }
    }
}
