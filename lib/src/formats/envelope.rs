//! The envelope a client stores in a recipient's swarm: recipient pubkey, timestamp, TTL, the
//! base64 message data and (when the network asks for proof of work) the nonce (spec pow.md §4,
//! storage-rpc.md "store").
//!
//! JSON form (field names fixed by the team's contract):
//! `{"pubkey": hex66, "timestamp": ms, "ttl": ms, "data": base64, "nonce"?: base64 of 8 bytes}`.
//! `timestamp` and `ttl` are JSON integers (a canonical decimal string is accepted on input, as the
//! live network allows); they are written back as integers.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::formats::keys::{PUBKEY_HEX_LEN, Pubkey};
use crate::formats::limits::{
    ENVELOPE_MAX_DATA_B64_LEN, ENVELOPE_MAX_DATA_BYTES, POW_NONCE_B64_LEN, POW_NONCE_LEN,
};

/// Why an envelope was refused. One variant per rule.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The envelope is not the expected JSON object.
    #[error("envelope is not valid JSON of the form {{pubkey, timestamp, ttl, data, nonce?}}: {0}")]
    Json(String),
    /// The pubkey is not 66 hex characters.
    #[error("pubkey must be 66 hex characters (type byte + 32-byte key), got {0} characters")]
    PubkeyLength(usize),
    /// The pubkey is not hex.
    #[error("pubkey is not hex")]
    PubkeyNotHex,
    /// The TTL is 0.
    #[error("ttl must be greater than 0 ms")]
    ZeroTtl,
    /// The data is empty.
    #[error("data is empty")]
    EmptyData,
    /// The base64 data is over `ENVELOPE_MAX_DATA_B64_LEN` characters.
    #[error("data is {0} base64 characters; the limit is {ENVELOPE_MAX_DATA_B64_LEN}")]
    DataTooLong(usize),
    /// The data is not standard padded base64.
    #[error("data is not standard padded base64: {0}")]
    DataNotBase64(String),
    /// The decoded data is over `ENVELOPE_MAX_DATA_BYTES`.
    #[error("data decodes to {0} bytes; the limit is {ENVELOPE_MAX_DATA_BYTES}")]
    DataTooLarge(usize),
    /// The nonce is not `POW_NONCE_B64_LEN` base64 characters.
    #[error("nonce must be {POW_NONCE_B64_LEN} base64 characters ({POW_NONCE_LEN} bytes), got {0:?}")]
    NonceEncoding(String),
}

/// A message envelope, as `pow` reads and writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Recipient pubkey, 66 hex characters (type byte + key).
    pub pubkey: String,
    /// Creation time, ms since the Unix epoch.
    #[serde(deserialize_with = "de_u64")]
    pub timestamp: u64,
    /// Time to live, ms.
    #[serde(deserialize_with = "de_u64")]
    pub ttl: u64,
    /// The message, standard base64 with padding.
    pub data: String,
    /// The proof-of-work nonce: base64 of 8 bytes (12 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

impl Envelope {
    /// Parses and validates an envelope from JSON.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, EnvelopeError> {
        let env: Envelope = Envelope::deserialize(value).map_err(|e| EnvelopeError::Json(e.to_string()))?;
        env.validate()?;
        Ok(env)
    }

    /// Parses and validates an envelope from JSON text.
    pub fn parse(text: &str) -> Result<Self, EnvelopeError> {
        let env: Envelope = serde_json::from_str(text).map_err(|e| EnvelopeError::Json(e.to_string()))?;
        env.validate()?;
        Ok(env)
    }

    /// The JSON form.
    pub fn to_json(&self) -> serde_json::Value {
        // Serializing plain strings and integers cannot fail.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Checks every field rule: pubkey 66 hex, ttl > 0, data base64 within the storage limit,
    /// nonce (if any) 12 base64 characters of 8 bytes.
    pub fn validate(&self) -> Result<(), EnvelopeError> {
        self.recipient()?;
        if self.ttl == 0 {
            return Err(EnvelopeError::ZeroTtl);
        }
        self.data_bytes()?;
        if self.nonce.is_some() {
            self.nonce_bytes()?;
        }
        Ok(())
    }

    /// The recipient pubkey, parsed.
    pub fn recipient(&self) -> Result<Pubkey, EnvelopeError> {
        if self.pubkey.len() != PUBKEY_HEX_LEN {
            return Err(EnvelopeError::PubkeyLength(self.pubkey.len()));
        }
        Pubkey::parse(&self.pubkey).map_err(|_| EnvelopeError::PubkeyNotHex)
    }

    /// The decoded message data.
    pub fn data_bytes(&self) -> Result<Vec<u8>, EnvelopeError> {
        if self.data.is_empty() {
            return Err(EnvelopeError::EmptyData);
        }
        if self.data.len() > ENVELOPE_MAX_DATA_B64_LEN {
            return Err(EnvelopeError::DataTooLong(self.data.len()));
        }
        let bytes = STANDARD.decode(&self.data).map_err(|e| EnvelopeError::DataNotBase64(e.to_string()))?;
        if bytes.len() > ENVELOPE_MAX_DATA_BYTES {
            return Err(EnvelopeError::DataTooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// The nonce as 8 bytes (big-endian counter), if present. Trailing bits in the last base64
    /// character are tolerated, as the live server's decoder did.
    pub fn nonce_bytes(&self) -> Result<Option<[u8; POW_NONCE_LEN]>, EnvelopeError> {
        match &self.nonce {
            None => Ok(None),
            Some(n) => decode_nonce(n).map(Some),
        }
    }

    /// The proof-of-work payload: `dec(timestamp) ‖ dec(ttl) ‖ pubkey ‖ data` (pow.md §4).
    pub fn pow_payload(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(40 + self.pubkey.len() + self.data.len());
        p.extend_from_slice(self.timestamp.to_string().as_bytes());
        p.extend_from_slice(self.ttl.to_string().as_bytes());
        p.extend_from_slice(self.pubkey.as_bytes());
        p.extend_from_slice(self.data.as_bytes());
        p
    }
}

/// Decodes a nonce string: 12 base64 characters → 8 bytes.
pub fn decode_nonce(s: &str) -> Result<[u8; POW_NONCE_LEN], EnvelopeError> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let bad = || EnvelopeError::NonceEncoding(s.chars().take(24).collect());
    if s.len() != POW_NONCE_B64_LEN {
        return Err(bad());
    }
    let raw = LENIENT.decode(s).map_err(|_| bad())?;
    raw.try_into().map_err(|_| bad())
}

/// Encodes a nonce as base64 (12 characters).
pub fn encode_nonce(nonce: &[u8; POW_NONCE_LEN]) -> String {
    STANDARD.encode(nonce)
}

/// Accepts a JSON integer or a canonical decimal string (no sign, no leading zeros).
fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct U64Visitor;
    impl Visitor<'_> for U64Visitor {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a non-negative integer (ms)")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("{v} is negative")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            let canonical =
                !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && (v == "0" || !v.starts_with('0'));
            if !canonical {
                return Err(E::custom(format!("{v:?} is not a canonical decimal integer")));
            }
            v.parse().map_err(|_| E::custom(format!("{v:?} does not fit in 64 bits")))
        }
    }
    d.deserialize_any(U64Visitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PK: &str = "054368520005786b249bcd461d28f75e560ea794014eeb17fcf6003f37d876783e";

    fn env() -> Envelope {
        Envelope { pubkey: PK.into(), timestamp: 1, ttl: 2, data: "aGk=".into(), nonce: None }
    }

    #[test]
    fn parses_numbers_and_canonical_strings() {
        let e = Envelope::parse(&format!(
            r#"{{"pubkey":"{PK}","timestamp":"1554859211","ttl":345600,"data":"aGk="}}"#
        ))
        .unwrap();
        assert_eq!(e.timestamp, 1554859211);
        assert_eq!(e.ttl, 345600);
        assert!(
            Envelope::parse(&format!(r#"{{"pubkey":"{PK}","timestamp":"01","ttl":1,"data":"aGk="}}"#))
                .is_err()
        );
        assert!(
            Envelope::parse(&format!(r#"{{"pubkey":"{PK}","timestamp":-1,"ttl":1,"data":"aGk="}}"#)).is_err()
        );
    }

    #[test]
    fn rejects_bad_pubkey() {
        let mut e = env();
        e.pubkey = PK[..64].into();
        assert_eq!(e.validate(), Err(EnvelopeError::PubkeyLength(64)));
        e.pubkey = format!("{}zz", &PK[..64]);
        assert_eq!(e.validate(), Err(EnvelopeError::PubkeyNotHex));
    }

    #[test]
    fn rejects_bad_data() {
        let mut e = env();
        e.data = "aGk".into();
        assert!(matches!(e.validate(), Err(EnvelopeError::DataNotBase64(_))));
        e.data = String::new();
        assert_eq!(e.validate(), Err(EnvelopeError::EmptyData));
        e.data = STANDARD.encode(vec![0u8; ENVELOPE_MAX_DATA_BYTES]);
        assert_eq!(e.validate(), Ok(()));
        e.data = STANDARD.encode(vec![0u8; ENVELOPE_MAX_DATA_BYTES + 1]);
        assert!(matches!(e.validate(), Err(EnvelopeError::DataTooLong(_))));
    }

    #[test]
    fn rejects_zero_ttl_and_unknown_fields() {
        let mut e = env();
        e.ttl = 0;
        assert_eq!(e.validate(), Err(EnvelopeError::ZeroTtl));
        assert!(matches!(
            Envelope::parse(&format!(r#"{{"pubkey":"{PK}","timestamp":1,"ttl":1,"data":"aGk=","x":1}}"#)),
            Err(EnvelopeError::Json(_))
        ));
    }

    #[test]
    fn nonce_encoding() {
        assert_eq!(decode_nonce("AAAAAAAaFio="), Ok([0, 0, 0, 0, 0, 0x1a, 0x16, 0x2a]));
        // The live server's decoder ignored trailing bits; so do we.
        assert!(decode_nonce("AAAAAAABBCF=").is_ok());
        assert!(decode_nonce("AAAAAAAaFio").is_err());
        assert!(decode_nonce("AAAAAAAaFi==").is_err());
        assert!(decode_nonce("AAAAAAAaF!o=").is_err());
        assert_eq!(encode_nonce(&[0, 0, 0, 0, 0, 0x1a, 0x16, 0x2a]), "AAAAAAAaFio=");
    }

    proptest! {
        #[test]
        fn json_round_trip(ts in any::<u64>(), ttl in 1u64.., data in proptest::collection::vec(any::<u8>(), 1..200),
                           nonce in proptest::option::of(any::<[u8; 8]>())) {
            let e = Envelope { pubkey: PK.into(), timestamp: ts, ttl, data: STANDARD.encode(&data),
                               nonce: nonce.map(|n| encode_nonce(&n)) };
            let back = Envelope::from_json(&e.to_json()).unwrap();
            prop_assert_eq!(&back, &e);
            prop_assert_eq!(back.data_bytes().unwrap(), data);
            prop_assert_eq!(back.nonce_bytes().unwrap(), nonce);
        }
    }
}
