//! Session group members' subaccounts, as libsession makes them (`groups/keys.cpp`
//! `swarm_make_subaccount`, `swarm_subaccount_sign`): how a member of an `03` group reads and
//! writes the group's swarm without the group's key.
//!
//! The admin gives each member 100 bytes of auth data: `03 ‖ flags ‖ 0 ‖ 0 ‖ k ‖ sig`, where
//! `k = reduce(BLAKE2b-512(key = M, 05 ‖ X ‖ 03 ‖ C))` blinds the member's key (X its X25519
//! key, C the group's Ed25519 key, `M = BLAKE2b-256(key = "SessionGroupSubaccountMask", group
//! seed)`), and `sig` is the group's signature over the token `03 ‖ flags ‖ 0 ‖ 0 ‖ kT`, with
//! `T = |S|` the member's Ed25519 point with sign bit 0 (the XEd25519 inversion of X). The member
//! signs requests with the scalar `k·t` (`t = ±s`, negated when its real key has sign bit 1):
//! an Ed25519 signature under `kT` with libsession's own nonce
//! `r = reduce(BLAKE2b-512(key = "SubaccountSig", BLAKE2b-256(key = "SubaccountSeed", seed) ‖ kT ‖ M))`.
//! A node checks it as plain Ed25519 (`SubaccountToken` / `verify_request`).

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use super::subaccount::{Access, SubaccountGrant, SubaccountToken};
use crate::formats::blinding::{
    BlindingError, account_scalar, blind_point, keyed_blake2b_256, keyed_blake2b_512, session_id_point,
};
use crate::formats::identity::{Identity, SessionId};
use crate::formats::keys::GROUP_TYPE;

/// The length of a member's auth data (`swarm_make_subaccount`).
pub const GROUP_AUTH_BYTES: usize = 100;
/// The key of the group seed hash that keys the blinding factor.
const MASK_KEY: &[u8] = b"SessionGroupSubaccountMask";
/// The key of the hash of the member's seed in the signing nonce.
const NONCE_SEED_KEY: &[u8] = b"SubaccountSeed";
/// The key of the signing nonce hash.
const NONCE_KEY: &[u8] = b"SubaccountSig";

/// The blinding factor `k` of member `member` in the group whose key is `group`.
fn blind_factor(group: &Identity, member: &SessionId) -> Result<Scalar, BlindingError> {
    let seed = Zeroizing::new(group.signing_key().to_bytes());
    let mask = keyed_blake2b_256(MASK_KEY, &[seed.as_ref()])?;
    let wide = keyed_blake2b_512(
        mask.as_ref(),
        &[&[0x05], &member.x25519(), &[GROUP_TYPE], &group.ed25519_public()],
    )?;
    Ok(Scalar::from_bytes_mod_order_wide(&wide))
}

/// The admin's side: the auth data for `member` (read always; `flags` may add write and
/// delete), signed with the group's key `group` (an identity made from the group's seed).
pub fn make_group_subaccount(
    group: &Identity,
    member: &SessionId,
    flags: Access,
) -> Result<[u8; GROUP_AUTH_BYTES], BlindingError> {
    let k = blind_factor(group, member)?;
    let k_t = blind_point(&session_id_point(member)?, &k)?;
    let flags = Access::READ.with(flags);
    let token = SubaccountToken::new(GROUP_TYPE, flags, &k_t.compress().to_bytes());
    let mut out = [0u8; GROUP_AUTH_BYTES];
    out[..4].copy_from_slice(&token.as_bytes()[..4]);
    out[4..36].copy_from_slice(k.as_bytes());
    out[36..].copy_from_slice(&group.sign(token.as_bytes()));
    Ok(out)
}

/// A member's signing key for its group's swarm: from its own identity and the admin's auth
/// data. Secrets are zeroized on drop and never shown by `Debug`.
pub struct GroupMemberKey {
    grant: SubaccountGrant,
    secret: Zeroizing<Scalar>,
    nonce_seed: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for GroupMemberKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupMemberKey").field("token", &self.grant.token.to_hex()).finish_non_exhaustive()
    }
}

impl GroupMemberKey {
    /// The key of `member` with the admin's `auth` data.
    pub fn new(member: &Identity, auth: &[u8; GROUP_AUTH_BYTES]) -> Result<Self, BlindingError> {
        let mut kb = [0u8; 32];
        kb.copy_from_slice(&auth[4..36]);
        let k = Scalar::from_bytes_mod_order(kb);
        let mut a = member.ed25519_public();
        let negative = a[31] & 0x80 != 0;
        a[31] &= 0x7f;
        let t_point: EdwardsPoint =
            CompressedEdwardsY(a).decompress().ok_or(BlindingError::SessionIdNotOnCurve)?;
        let k_t = blind_point(&t_point, &k)?;
        let s = account_scalar(member);
        let t = Zeroizing::new(if negative { -*s } else { *s });
        let secret = Zeroizing::new(k * *t);
        let mut token = [0u8; 36];
        token[..4].copy_from_slice(&auth[..4]);
        token[4..].copy_from_slice(&k_t.compress().to_bytes());
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&auth[36..]);
        let seed = Zeroizing::new(member.signing_key().to_bytes());
        let nonce_seed = keyed_blake2b_256(NONCE_SEED_KEY, &[seed.as_ref()])?;
        Ok(Self { grant: SubaccountGrant { token: SubaccountToken(token), signature }, secret, nonce_seed })
    }

    /// The token and the admin's signature over it, as requests send them.
    pub fn grant(&self) -> &SubaccountGrant {
        &self.grant
    }

    /// The signature over `msg` under the token's key `kT`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        let k_t = self.grant.token.pubkey();
        // Infallible: the key is a fixed 13 bytes, well under BLAKE2b's 64.
        let wide = keyed_blake2b_512(NONCE_KEY, &[self.nonce_seed.as_ref(), &k_t, msg])
            .unwrap_or_else(|_| Zeroizing::new([0u8; 64]));
        let r = Zeroizing::new(Scalar::from_bytes_mod_order_wide(&wide));
        let big_r = EdwardsPoint::mul_base(&r).compress().to_bytes();
        let mut h = Sha512::new();
        h.update(big_r);
        h.update(k_t);
        h.update(msg);
        let challenge = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        let s = *r + challenge * *self.secret;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&big_r);
        sig[32..].copy_from_slice(s.as_bytes());
        sig
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use crate::formats::keys::Pubkey;
    use crate::formats::rpc::subaccount::Subaccount;
    use crate::formats::rpc::verify_request;

    /// libsession `test_group_keys.cpp` "Group Keys - swarm authentication".
    #[test]
    fn test_libsession_swarm_authentication_vector() {
        let group =
            Identity::from_seed_hex("0123456789abcdeffedcba98765432100123456789abcdeffedcba9876543210")
                .unwrap();
        assert_eq!(
            hex::encode(group.ed25519_public()),
            "c50cb3ae956947a8de19135b5be2685ff348afc63fc34a837aca12bc5c1f5625"
        );
        let member =
            Identity::from_seed_hex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
                .unwrap();
        assert_eq!(
            member.session_id().to_string(),
            "05c5ba413c336f2fe1fb9a2c525f8a86a412a1db128a7841b4e0e217fa9eb7fd5e"
        );
        let auth = make_group_subaccount(&group, &member.session_id(), Access::WRITE).unwrap();
        let key = GroupMemberKey::new(&member, &auth).unwrap();
        let msg = b"retrieve9991693340111000";
        let sig = key.sign(msg);
        assert_eq!(key.grant().token.to_base64(), "AwMAAIWvMR2nJXCFnK5+hNahNecWqMC39/TVVLjaR3imNug5");
        assert_eq!(
            STANDARD.encode(key.grant().signature),
            "6brvv/2jfciBAJeRKMGSepNJLullyrVVHijyVDE+8GC5Oc89UNxjNrq1kVV1P+pkUIRDOew24gSLFgLZfdl+BQ=="
        );
        assert_eq!(
            STANDARD.encode(sig),
            "c3PJ4g29v5RivKm8Tdg49vGU2/6kVd0yONnpz5U5zePMYptqW3iYQ0TYf2rEzv3qqkPhS5p67M5GAccHoBHGDQ=="
        );
        // And a node accepts it: the token signed by the group, the request by kT.
        let gpk = Pubkey::new(GROUP_TYPE, group.ed25519_public());
        let sub = Subaccount { token: key.grant().token, signature: key.grant().signature, revoked: false };
        assert!(verify_request(&gpk, None, Some(&sub), Access::READ.with(Access::WRITE), &sig, msg));
        assert!(!verify_request(&gpk, None, Some(&sub), Access::DELETE, &sig, msg));
    }
}
