//! Byte encodings shared by the ratchet's JSON forms: `Encode(PK)` of the spec, and serde
//! helpers that write fixed-size keys as hex.

/// The type byte `Encode(PK)` puts before an X25519 key (as libsignal's DJB type).
const DJB_TYPE: u8 = 0x05;

/// `Encode(PK) = 0x05 || pk` (33 bytes), as in libsignal (spec ratchet.md, "Keys").
pub(crate) fn encode_pk(pk: &[u8; 32]) -> [u8; 33] {
    let mut out = [0u8; 33];
    out[0] = DJB_TYPE;
    out[1..].copy_from_slice(pk);
    out
}

/// Parses exactly `N` bytes of hex.
pub(crate) fn hex_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// serde: a `[u8; N]` as lowercase hex.
pub(crate) mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub(crate) fn serialize<S: Serializer, const N: usize>(bytes: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(hex::encode(bytes));
        s.serialize_str(&text)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        super::hex_array(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("expected {} hex characters", 2 * N)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_prefixes_the_djb_type() {
        let e = encode_pk(&[7u8; 32]);
        assert_eq!(e[0], 0x05);
        assert_eq!(&e[1..], &[7u8; 32]);
    }

    #[test]
    fn hex_array_needs_the_exact_length() {
        assert_eq!(hex_array::<2>("abcd"), Some([0xab, 0xcd]));
        assert_eq!(hex_array::<2>("abc"), None);
        assert_eq!(hex_array::<2>("abcdef"), None);
        assert_eq!(hex_array::<2>("zzzz"), None);
    }
}
