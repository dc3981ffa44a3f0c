//! X3DH: the first shared secret from an identity key, a signed prekey and (optionally) a
//! one-time prekey (spec ratchet.md, "X3DH"). Pure functions of the keys given.

use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::encoding::{encode_pk, hex_bytes};
use super::error::RatchetError;
use super::keys::{ChainKey, RootKey, dh, split_64};

/// HKDF info string of the X3DH secret (libsignal).
const X3DH_INFO: &[u8] = b"WhisperText";
/// The 32 0xFF bytes put before the DH outputs (X3DH's F for X25519).
const X3DH_PAD: [u8; 32] = [0xFF; 32];
/// Length of `AD = Encode(IK_A) || Encode(IK_B)`.
pub(crate) const AD_LEN: usize = 66;

/// What the initiator's messages carry until the responder first replies: IK_A, EK_A and the
/// ids of the responder's prekeys it used (the `x3dh` object of the wire message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct X3dhHeader {
    /// The initiator's identity key (X25519).
    #[serde(with = "hex_bytes")]
    pub ik: [u8; 32],
    /// The initiator's ephemeral key.
    #[serde(with = "hex_bytes")]
    pub ek: [u8; 32],
    /// The id of the signed prekey used.
    pub spk_id: u32,
    /// The id of the one-time prekey used, if one was.
    pub opk_id: Option<u32>,
}

/// SK = HKDF-SHA256(salt = 32 zero bytes, IKM = 0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4],
/// info "WhisperText", 64 bytes) → root key (first 32) and chain key (last 32).
pub fn derive(dhs: &[&[u8; 32]]) -> (RootKey, ChainKey) {
    let mut ikm = Zeroizing::new(Vec::with_capacity(32 * (dhs.len() + 1)));
    ikm.extend_from_slice(&X3DH_PAD);
    for d in dhs {
        ikm.extend_from_slice(&d[..]);
    }
    let mut okm = Zeroizing::new([0u8; 64]);
    let hk = Hkdf::<Sha256>::new(Some(&[0u8; 32]), &ikm);
    // 64 bytes is far below HKDF-SHA256's limit.
    let _ = hk.expand(X3DH_INFO, okm.as_mut());
    let (root, chain) = split_64(&okm);
    (RootKey::new(root), ChainKey::new(chain, 0))
}

/// The initiator's side: DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A, SPK_B),
/// DH4 = DH(EK_A, OPK_B). Secrets are the initiator's, publics the responder's.
pub fn initiator_secret(
    ik_a: &[u8; 32],
    ek_a: &[u8; 32],
    ik_b: &[u8; 32],
    spk_b: &[u8; 32],
    opk_b: Option<&[u8; 32]>,
) -> Result<(RootKey, ChainKey), RatchetError> {
    let dh1 = dh(ik_a, spk_b)?;
    let dh2 = dh(ek_a, ik_b)?;
    let dh3 = dh(ek_a, spk_b)?;
    match opk_b {
        Some(opk) => {
            let dh4 = dh(ek_a, opk)?;
            Ok(derive(&[&dh1, &dh2, &dh3, &dh4]))
        }
        None => Ok(derive(&[&dh1, &dh2, &dh3])),
    }
}

/// The responder's side of the same agreement: secrets are the responder's, publics the
/// initiator's (from the X3DH header).
pub fn responder_secret(
    ik_b: &[u8; 32],
    spk_b: &[u8; 32],
    opk_b: Option<&[u8; 32]>,
    ik_a: &[u8; 32],
    ek_a: &[u8; 32],
) -> Result<(RootKey, ChainKey), RatchetError> {
    let dh1 = dh(spk_b, ik_a)?;
    let dh2 = dh(ik_b, ek_a)?;
    let dh3 = dh(spk_b, ek_a)?;
    match opk_b {
        Some(opk) => {
            let dh4 = dh(opk, ek_a)?;
            Ok(derive(&[&dh1, &dh2, &dh3, &dh4]))
        }
        None => Ok(derive(&[&dh1, &dh2, &dh3])),
    }
}

/// AD = Encode(IK_A) ‖ Encode(IK_B), initiator first.
pub(crate) fn associated_data(ik_initiator: &[u8; 32], ik_responder: &[u8; 32]) -> [u8; AD_LEN] {
    let mut ad = [0u8; AD_LEN];
    ad[..33].copy_from_slice(&encode_pk(ik_initiator));
    ad[33..].copy_from_slice(&encode_pk(ik_responder));
    ad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::ratchet::encoding::hex_array;
    use x25519_dalek::{PublicKey, StaticSecret};

    fn public(secret: &[u8; 32]) -> [u8; 32] {
        PublicKey::from(&StaticSecret::from(*secret)).to_bytes()
    }

    const IK_A: &str = "9040f0d4e09cf38f6dc7c13779c908c015a1da4fa78737a080eb0a6f4f5f8f58";
    const EK_A: &str = "10ae7c64d1e61cd596b76a0db5012673391cae66edbfcf073b4da80516a47449";
    const IK_B: &str = "4875cc69ddf8ea0719ec947d61081135868d5fd801f02c0225e516df2156605e";
    const SPK_B: &str = "583900131fb727998b7803fe6ac22cc591f342e4e42a8c8d5d78194209b8d253";
    const CK: &str = "ab9be50e5cb22a925446ab90ee5670545f4fd32902459ec274b6ad0ae5d6031a";

    /// The spec's X3DH known answer (no OPK), from both sides.
    #[test]
    fn test_x3dh_chain_key_known_answer() {
        let (ik_a, ek_a, ik_b, spk_b) = (
            hex_array(IK_A).unwrap(),
            hex_array(EK_A).unwrap(),
            hex_array(IK_B).unwrap(),
            hex_array(SPK_B).unwrap(),
        );
        let (root_a, ck_a) = initiator_secret(&ik_a, &ek_a, &public(&ik_b), &public(&spk_b), None).unwrap();
        assert_eq!(hex::encode(ck_a.bytes()), CK);
        let (root_b, ck_b) = responder_secret(&ik_b, &spk_b, None, &public(&ik_a), &public(&ek_a)).unwrap();
        assert_eq!(ck_a, ck_b);
        assert_eq!(root_a.bytes(), root_b.bytes());
    }

    #[test]
    fn test_x3dh_with_one_time_prekey_agrees_and_differs() {
        let [ik_a, ek_a, ik_b, spk_b, opk_b] = [1u8, 2, 3, 4, 5].map(|i| [i; 32]);
        let (_, with) =
            initiator_secret(&ik_a, &ek_a, &public(&ik_b), &public(&spk_b), Some(&public(&opk_b))).unwrap();
        let (_, back) =
            responder_secret(&ik_b, &spk_b, Some(&opk_b), &public(&ik_a), &public(&ek_a)).unwrap();
        let (_, without) = initiator_secret(&ik_a, &ek_a, &public(&ik_b), &public(&spk_b), None).unwrap();
        assert_eq!(with, back);
        assert_ne!(with, without);
    }

    #[test]
    fn test_x3dh_rejects_zero_dh() {
        let k = [7u8; 32];
        assert_eq!(
            initiator_secret(&k, &k, &[0u8; 32], &public(&k), None).unwrap_err(),
            RatchetError::ZeroDh
        );
    }
}
