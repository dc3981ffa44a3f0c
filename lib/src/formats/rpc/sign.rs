//! The client's view of any signed request: the exact string a parsed request signs (the one
//! the node verifies, from each method's file), and the string each swarm member's reply
//! signature covers, so that a client can check every member of a recursive reply.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;

use super::Request;
use super::message::is_public_inbox;
use super::methods::delete::delete_signature_message;
use super::methods::delete_all::delete_all_signature_message;
use super::methods::revoke_subaccount::revoke_signature_message;
use super::methods::revoked_subaccounts::revoked_subaccounts_sig_message;
use super::{
    delete_all_sig_message, delete_before_sig_message, delete_sig_message, expire_all_sig_message,
    expire_sig_message, get_expiries_sig_message, retrieve_sig_message, revoke_sig_message,
    store_sig_message,
};
use crate::formats::keys::decode_hex32;

impl Request {
    /// The bytes this request's `signature` covers, or None for a method that takes no
    /// signature (info, get_swarm, oxend_request, and the meta-requests, whose subrequests sign
    /// on their own) or a store into a public inbox (where none is checked).
    pub fn signed_message(&self) -> Option<Vec<u8>> {
        Some(match self {
            Request::Store(p) if is_public_inbox(p.namespace) => return None,
            Request::Store(p) => store_sig_message(p.namespace, p.sig_timestamp_ms),
            Request::Retrieve(p) => retrieve_sig_message(p.namespace, p.timestamp_ms?),
            Request::Delete(p) => delete_sig_message(&p.messages),
            Request::DeleteAll(p) => delete_all_sig_message(p.namespace, p.timestamp),
            Request::DeleteBefore(p) => delete_before_sig_message(p.namespace, p.before),
            Request::Expire(p) => expire_sig_message(p.mode, &p.expiry, &p.messages),
            Request::ExpireAll(p) => expire_all_sig_message(p.namespace, p.expiry),
            Request::GetExpiries(p) => get_expiries_sig_message(p.timestamp, &p.messages),
            Request::RevokeSubaccount(p) => revoke_sig_message(p.kind, p.timestamp, &p.tokens),
            Request::RevokedSubaccounts(p) => revoked_subaccounts_sig_message(p.timestamp),
            _ => return None,
        })
    }

    /// What a swarm member signed in its `entry` of this request's recursive reply (None: the
    /// method's replies carry no member signature, or the entry lacks what the string needs).
    pub fn member_signed_message(&self, entry: &Value) -> Option<Vec<u8>> {
        let strings = |v: &Value| -> Option<Vec<String>> {
            v.as_array()?.iter().map(|h| h.as_str().map(str::to_owned)).collect()
        };
        // A `deleted` / `updated` field: a list, or for "all" an object of lists (the signed
        // string sorts them all together, so the namespace does not matter here).
        let hashes = |v: &Value| -> Option<Vec<(i16, String)>> {
            match v {
                Value::Object(by_ns) => {
                    let mut all = Vec::new();
                    for list in by_ns.values() {
                        all.extend(strings(list)?.into_iter().map(|h| (0, h)));
                    }
                    Some(all)
                }
                other => Some(strings(other)?.into_iter().map(|h| (0, h)).collect()),
            }
        };
        Some(match self {
            Request::Store(_) => entry.get("hash")?.as_str()?.as_bytes().to_vec(),
            Request::Delete(p) => {
                delete_signature_message(&p.pubkey, &p.messages, &strings(&entry["deleted"])?)
            }
            Request::DeleteAll(p) => {
                delete_all_signature_message(&p.pubkey, p.timestamp, &hashes(&entry["deleted"])?)
            }
            Request::DeleteBefore(p) => {
                delete_all_signature_message(&p.pubkey, p.before, &hashes(&entry["deleted"])?)
            }
            Request::ExpireAll(p) => {
                delete_all_signature_message(&p.pubkey, p.expiry, &hashes(&entry["updated"])?)
            }
            Request::RevokeSubaccount(p) => revoke_signature_message(&p.pubkey, p.timestamp, &p.tokens),
            Request::Expire(p) => {
                let mut m = p.pubkey.to_hex();
                match &entry["expiry"] {
                    Value::Array(es) => {
                        for e in es {
                            m.push_str(&e.as_u64()?.to_string());
                        }
                    }
                    e => m.push_str(&e.as_u64()?.to_string()),
                }
                let mut updated = strings(&entry["updated"])?;
                updated.sort();
                for h in p.messages.iter().chain(&updated) {
                    m.push_str(h);
                }
                if let Some(Value::Object(unchanged)) = entry.get("unchanged") {
                    // Signed in ascii hash order, whatever order the JSON object has.
                    let sorted: std::collections::BTreeMap<&String, &Value> = unchanged.iter().collect();
                    for (h, e) in sorted {
                        m.push_str(h);
                        m.push_str(&e.as_u64()?.to_string());
                    }
                }
                m.into_bytes()
            }
            _ => return None,
        })
    }
}

/// Checks one member's `entry` of a recursive reply to `req`: its `signature` (base64) by the
/// member's Ed25519 key (hex, the entry's key in `"swarm"`) over
/// [`Request::member_signed_message`]. False for a failed entry or any malformed part.
pub fn verify_member_entry(req: &Request, member_ed25519_hex: &str, entry: &Value) -> bool {
    let Some(msg) = req.member_signed_message(entry) else { return false };
    let Ok(key) = decode_hex32(member_ed25519_hex) else { return false };
    let Some(Ok(Ok(sig))) =
        entry.get("signature").and_then(Value::as_str).map(|s| STANDARD.decode(s).map(<[u8; 64]>::try_from))
    else {
        return false;
    };
    let Ok(vk) = VerifyingKey::from_bytes(&key) else { return false };
    vk.verify_strict(&msg, &Signature::from_bytes(&sig)).is_ok()
}
