//! The field parsers every method shares: request params as the live network reads them
//! (`parse_field` semantics: null counts as absent; 400 with the field's name otherwise).

use serde_json::{Map, Value};

use super::RpcError;
use super::sig::{NamespaceSel, decode_signature};
use crate::formats::keys::{ACCOUNT_TYPE, Ed25519Pk, KeyHexError, Pubkey, decode_hex32};
use crate::formats::limits::{MESSAGE_HASH_CHARS, MIN_TIMESTAMP_MS};

pub(super) type Params = Map<String, Value>;

pub(super) fn get<'a>(p: &'a Params, name: &str) -> Option<&'a Value> {
    p.get(name).filter(|v| !v.is_null())
}

pub(super) fn bad_value(name: &str, expected: &str) -> RpcError {
    RpcError::invalid_request(format!("Invalid value given for '{name}': expected {expected}"))
}

pub(super) fn missing(name: &str) -> RpcError {
    RpcError::invalid_request(format!("Required field '{name}' missing"))
}

pub(super) fn opt_str<'a>(p: &'a Params, name: &str) -> Result<Option<&'a str>, RpcError> {
    match get(p, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_value(name, "string")),
    }
}

pub(super) fn opt_bool(p: &Params, name: &str) -> Result<Option<bool>, RpcError> {
    match get(p, name) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad_value(name, "boolean")),
    }
}

pub(super) fn opt_i64(p: &Params, name: &str) -> Result<Option<i64>, RpcError> {
    match get(p, name) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| bad_value(name, "integer")),
    }
}

/// A non-negative integer, which (for backwards compatibility) may also be a decimal string.
pub(super) fn opt_u64_or_string(p: &Params, name: &str) -> Result<Option<u64>, RpcError> {
    match get(p, name) {
        None => Ok(None),
        Some(Value::String(s)) => s.parse::<u64>().map(Some).map_err(|_| {
            let shown: String = s.chars().take(40).collect();
            RpcError::invalid_request(format!("Invalid value given for '{name}': \"{shown}\""))
        }),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| bad_value(name, "positive integer")),
    }
}

/// A millisecond timestamp: refuses values that look like seconds (live behaviour).
pub(super) fn check_ms(name: &str, ts: u64) -> Result<u64, RpcError> {
    if ts < MIN_TIMESTAMP_MS {
        return Err(RpcError::invalid_request(format!(
            "Invalid timestamp for '{name}': timestamp must be in milliseconds"
        )));
    }
    Ok(ts)
}

pub(super) fn opt_timestamp(p: &Params, name: &str, allow_string: bool) -> Result<Option<u64>, RpcError> {
    let v = if allow_string {
        opt_u64_or_string(p, name)?
    } else {
        match get(p, name) {
            None => None,
            Some(v) => {
                Some(v.as_u64().ok_or_else(|| bad_value(name, "integer timestamp (in milliseconds)"))?)
            }
        }
    };
    v.map(|t| check_ms(name, t)).transpose()
}

pub(super) fn opt_namespace(p: &Params) -> Result<Option<i16>, RpcError> {
    match get(p, "namespace") {
        None => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) => i16::try_from(n).map(Some).map_err(|_| {
                RpcError::invalid_request("Invalid value given for 'namespace': value out of range")
            }),
            None => Err(bad_value("namespace", "16-bit integer")),
        },
    }
}

/// `pubkey`, or its alias `pubKey` when `alias` (exactly one of them).
pub(super) fn pubkey_field(p: &Params, alias: bool) -> Result<Pubkey, RpcError> {
    pubkey_field_text(p, alias).map(|(pk, _)| pk)
}

/// [`pubkey_field`] and the text as sent.
pub(super) fn pubkey_field_text(p: &Params, alias: bool) -> Result<(Pubkey, &str), RpcError> {
    let a = opt_str(p, "pubkey")?;
    let b = if alias { opt_str(p, "pubKey")? } else { None };
    let s = match (a, b) {
        (Some(_), Some(_)) => {
            return Err(RpcError::invalid_request("Cannot specify both 'pubkey' and 'pubKey'"));
        }
        (Some(s), None) | (None, Some(s)) => s,
        (None, None) => return Err(missing("pubkey")),
    };
    let pk = Pubkey::parse(s)
        .map_err(|_| RpcError::invalid_request("Pubkey must be 66 hex digits (33 bytes) long"))?;
    Ok((pk, s))
}

pub(super) fn opt_ed25519(p: &Params, pubkey: &Pubkey) -> Result<Option<Ed25519Pk>, RpcError> {
    let Some(s) = opt_str(p, "pubkey_ed25519")? else { return Ok(None) };
    if pubkey.type_byte() != ACCOUNT_TYPE {
        return Err(RpcError::invalid_request("pubkey_ed25519 is only permitted for 05[...] pubkeys"));
    }
    match decode_hex32(s) {
        Ok(key) => Ok(Some(Ed25519Pk::from_bytes(key))),
        Err(KeyHexError::Length(_)) => {
            Err(RpcError::invalid_request("Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey"))
        }
        Err(KeyHexError::NotHex) => {
            Err(RpcError::invalid_request("invalid pubkey_ed25519: value is not hex"))
        }
    }
}

pub(super) fn opt_signature(p: &Params) -> Result<Option<[u8; 64]>, RpcError> {
    opt_str(p, "signature")?.map(decode_signature).transpose()
}

pub(super) fn is_hash(h: &str) -> bool {
    h.len() == MESSAGE_HASH_CHARS
        && h.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'-' || c == b'_')
}

pub(super) fn within(now_ms: u64, ts: u64, tolerance: u64) -> bool {
    ts.abs_diff(now_ms) <= tolerance
}

/// `namespace` as delete_all / delete_before / expire_all take it: an int16 or `"all"`
/// (default 0).
pub(super) fn namespace_or_all(p: &Params) -> Result<NamespaceSel, RpcError> {
    match get(p, "namespace") {
        None => Ok(NamespaceSel::One(0)),
        Some(Value::String(s)) if s == "all" => Ok(NamespaceSel::All),
        Some(v) => match v.as_i64() {
            Some(n) => i16::try_from(n).map(NamespaceSel::One).map_err(|_| {
                RpcError::invalid_request("Invalid value given for 'namespace': value out of range")
            }),
            None => Err(bad_value("namespace", "integer or \"all\"")),
        },
    }
}

/// A required millisecond timestamp (the `TP` type: unsigned integer, not seconds).
pub(super) fn req_timestamp(p: &Params, name: &str) -> Result<u64, RpcError> {
    opt_timestamp(p, name, false)?.ok_or_else(|| missing(name))
}

/// A required signature (`Required field 'signature' missing`).
pub(super) fn req_signature(p: &Params) -> Result<[u8; 64], RpcError> {
    opt_signature(p)?.ok_or_else(|| missing("signature"))
}

/// A required list of strings, which may also be sent as one string (the live parser allows
/// either), of at most `max` entries.
pub(super) fn string_list(p: &Params, name: &str, max: usize) -> Result<Vec<String>, RpcError> {
    list(p, name, max, "string array", |v| v.as_str().map(|s| Ok(s.to_string())))
}

/// A required list of millisecond timestamps, which may also be sent as one (at most `max`).
pub(super) fn timestamp_list(p: &Params, name: &str, max: usize) -> Result<Vec<u64>, RpcError> {
    list(p, name, max, "timestamp array", |v| v.as_u64().map(|t| check_ms(name, t)))
}

/// A required list, or one bare item in its place, of at most `max` entries; `item` reads one
/// entry (`None`: the wrong type, refused as not a `what`).
fn list<T>(
    p: &Params,
    name: &str,
    max: usize,
    what: &str,
    item: impl Fn(&Value) -> Option<Result<T, RpcError>>,
) -> Result<Vec<T>, RpcError> {
    let items: Vec<&Value> = match get(p, name) {
        None => return Err(missing(name)),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) if item(v).is_some() => vec![v],
        Some(_) => return Err(bad_value(name, what)),
    };
    if items.len() > max {
        return Err(RpcError::invalid_request(format!(
            "{name} has {} entries; the limit is {max}",
            items.len()
        )));
    }
    items.into_iter().map(|v| item(v).unwrap_or_else(|| Err(bad_value(name, what)))).collect()
}
