//! Subaccounts: an account owner's signed note letting another Ed25519 key act on the account
//! (live `oxenss/common/subaccount_token.h`, `crypto/subaccount.cpp`; storage-rpc.md
//! "Subaccount token").
//!
//! The 36-byte token is `prefix ‖ flags ‖ 0 ‖ 0 ‖ subaccount Ed25519 pubkey`: the prefix is the
//! account's network byte (05, 03, …), the flags are [`Access`] bits. A request using one sends
//! `subaccount` (the token, base64 or hex) and `subaccount_sig` (the owner's signature over the
//! 36 bytes), and is itself signed by the subaccount's key. The node checks, in the live order:
//! not revoked (its own table, filled by `revoke_subaccount`), the prefix (or `AnyPrefix`), the
//! flags the method needs, the owner's signature over the token, then the request signature
//! under the token's key. Every failure is the method's usual 401.
//!
//! Session's group tokens (libsession `groups/keys.cpp`) carry a blinded key `kT` and are signed
//! with the scalar `k·t`; such signatures verify as plain Ed25519 under `kT`, so the node needs
//! nothing but standard Ed25519 (the live server does no XEd25519 either).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde_json::{Value, json};

use super::RpcError;
use super::fields::{Params, get, opt_str};
use super::sig::decode_signature;
use crate::formats::keys::Pubkey;

/// The length of a subaccount token (live `SUBACCOUNT_TOKEN_LENGTH`).
pub const SUBACCOUNT_TOKEN_BYTES: usize = 36;
/// Base64 characters of a token (36 bytes need no padding).
const TOKEN_BASE64_CHARS: usize = 48;
/// Hex characters of a token.
const TOKEN_HEX_CHARS: usize = 72;
/// Where the subaccount's pubkey starts in a token (after prefix, flags, 2 reserved bytes).
const TOKEN_PUBKEY_AT: usize = 4;
/// Most tokens one `revoke_subaccount` may name, and most revocations a node keeps per account
/// (the oldest lapse; live `MAX_SUBACCOUNT_TOKENS`).
pub const MAX_SUBACCOUNT_TOKENS: usize = 50;

/// What a token allows: its flag byte (live `subaccount_access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Access(pub u8);

impl Access {
    /// Nothing (what revoke / unrevoke would need: they take no subaccount at all).
    pub const NONE: Access = Access(0);
    /// retrieve, get_expiries.
    pub const READ: Access = Access(0x01);
    /// store, and expire (extend only, without [`Access::DELETE`]).
    pub const WRITE: Access = Access(0x02);
    /// delete, delete_all, delete_before, expire_all, shortening expiries.
    pub const DELETE: Access = Access(0x04);
    /// The token works for the same key under any network prefix.
    pub const ANY_PREFIX: Access = Access(0x08);

    /// Both sets of flags.
    pub const fn with(self, other: Access) -> Access {
        Access(self.0 | other.0)
    }

    /// Whether every flag of `required` is set.
    pub const fn allows(self, required: Access) -> bool {
        self.0 & required.0 == required.0
    }

    /// Reads flags written as letters: `r` read, `w` write, `d` delete, `a` any prefix (e.g.
    /// `"rwd"`); None on any other letter.
    pub fn from_letters(s: &str) -> Option<Access> {
        s.chars().try_fold(Access::NONE, |acc, c| {
            let f = match c {
                'r' => Access::READ,
                'w' => Access::WRITE,
                'd' => Access::DELETE,
                'a' => Access::ANY_PREFIX,
                _ => return None,
            };
            Some(acc.with(f))
        })
    }
}

/// A 36-byte subaccount token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubaccountToken(pub [u8; SUBACCOUNT_TOKEN_BYTES]);

impl SubaccountToken {
    /// A token for `subaccount_pk` on accounts of network `prefix`, allowing `flags`.
    pub fn new(prefix: u8, flags: Access, subaccount_pk: &[u8; 32]) -> Self {
        let mut t = [0u8; SUBACCOUNT_TOKEN_BYTES];
        t[0] = prefix;
        t[1] = flags.0;
        t[TOKEN_PUBKEY_AT..].copy_from_slice(subaccount_pk);
        Self(t)
    }

    /// The network prefix byte.
    pub fn prefix(&self) -> u8 {
        self.0[0]
    }

    /// The flags.
    pub fn flags(&self) -> Access {
        Access(self.0[1])
    }

    /// The subaccount's Ed25519 pubkey, which signs the requests.
    pub fn pubkey(&self) -> [u8; 32] {
        let mut k = [0u8; 32];
        k.copy_from_slice(&self.0[TOKEN_PUBKEY_AT..]);
        k
    }

    /// The 36 bytes.
    pub fn as_bytes(&self) -> &[u8; SUBACCOUNT_TOKEN_BYTES] {
        &self.0
    }

    /// A token from its 36 raw bytes.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        b.try_into().ok().map(Self)
    }

    /// A token as JSON sends it: 48 base64 characters or 72 hex digits; None otherwise.
    pub fn from_text(s: &str) -> Option<Self> {
        let raw = match s.len() {
            TOKEN_BASE64_CHARS => STANDARD_NO_PAD.decode(s).ok()?,
            TOKEN_HEX_CHARS => hex::decode(s).ok()?,
            _ => return None,
        };
        Self::from_slice(&raw)
    }

    /// Base64 (48 characters), as the clients send it.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Lowercase hex (72 digits).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Whether the token may act on an account of network `prefix`.
    pub fn prefix_allowed(&self, prefix: u8) -> bool {
        self.prefix() == prefix || self.flags().allows(Access::ANY_PREFIX)
    }
}

/// A request's subaccount: the token, the owner's signature over it, and whether the node
/// found it revoked (set by the node from its revocation table before validation; a revoked
/// token fails verification like a bad signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subaccount {
    /// The token.
    pub token: SubaccountToken,
    /// `subaccount_sig`: the account owner's signature over the token's 36 bytes.
    pub signature: [u8; 64],
    /// The node's revocation table holds this token for the account.
    pub revoked: bool,
}

/// `subaccount` and `subaccount_sig` (live `load_subaccount`): a missing or empty `subaccount`
/// is none; a token without its signature, or either malformed, is 400.
pub(super) fn opt_subaccount(p: &Params) -> Result<Option<Subaccount>, RpcError> {
    let Some(text) = opt_str(p, "subaccount")?.filter(|s| !s.is_empty()) else { return Ok(None) };
    if get(p, "subaccount_sig").is_none() {
        return Err(RpcError::invalid_request(
            "invalid subaccount: subaccount_sig is required when using subaccount",
        ));
    }
    let token = SubaccountToken::from_text(text).ok_or_else(|| {
        RpcError::invalid_request("invalid subaccount: expected base64 or hex-encoded subaccount token")
    })?;
    let bad_sig = || {
        RpcError::invalid_request("invalid subaccount signature: expected base64 encoded Ed25519 signature")
    };
    let sig_text = opt_str(p, "subaccount_sig").map_err(|_| bad_sig())?.ok_or_else(bad_sig)?;
    let signature = decode_signature(sig_text).map_err(|_| bad_sig())?;
    Ok(Some(Subaccount { token, signature, revoked: false }))
}

/// A list of tokens (`revoke` / `unrevoke`): one token or an array, each 48 base64 or 72 hex
/// characters (live texts name the field: `invalid revoke: …`).
pub(super) fn token_list(p: &Params, name: &str) -> Result<Vec<SubaccountToken>, RpcError> {
    let bad = || {
        RpcError::invalid_request(format!("invalid {name}: expected base64 or hex-encoded subaccount tag"))
    };
    let items: Vec<&Value> = match get(p, name) {
        None => return Err(super::fields::missing(name)),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
    };
    items.into_iter().map(|v| v.as_str().and_then(SubaccountToken::from_text).ok_or_else(bad)).collect()
}

// ---- client -------------------------------------------------------------------------------

/// What a client sends to use a subaccount: the token and the owner's signature over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubaccountGrant {
    /// The token.
    pub token: SubaccountToken,
    /// The owner's signature over the token.
    pub signature: [u8; 64],
}

impl SubaccountGrant {
    /// A grant made by the owner of `account`, whose key signs with `owner_sign`, for
    /// `subaccount_pk` with `flags`.
    pub fn issue(
        account: &Pubkey,
        flags: Access,
        subaccount_pk: &[u8; 32],
        owner_sign: impl Fn(&[u8]) -> [u8; 64],
    ) -> Self {
        let token = SubaccountToken::new(account.type_byte(), flags, subaccount_pk);
        let signature = owner_sign(token.as_bytes());
        Self { token, signature }
    }

    /// A grant as text: the token (72 hex or 48 base64) and the owner's signature (128 hex or
    /// base64); None when either is malformed.
    pub fn from_text(token: &str, signature: &str) -> Option<Self> {
        let token = SubaccountToken::from_text(token)?;
        let signature = match hex::decode(signature) {
            Ok(raw) if raw.len() == 64 => raw.try_into().ok()?,
            _ => decode_signature(signature).ok()?,
        };
        Some(Self { token, signature })
    }

    /// Adds `subaccount` and `subaccount_sig` to request params (an object).
    pub fn add_to(&self, params: &mut Value) {
        params["subaccount"] = json!(self.token.to_base64());
        params["subaccount_sig"] = json!(STANDARD.encode(self.signature));
    }
}
