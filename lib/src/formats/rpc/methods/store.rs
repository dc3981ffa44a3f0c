//! `store`: put a message in a mailbox. Its params (a public inbox needs no signature, other
//! namespaces the owner's), the string the owner signs, the client's request builder, the
//! member's signed answer and the client's parser of the swarm-wide reply.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Value, json};

use crate::formats::envelope::Envelope;
use crate::formats::identity::Identity;
use crate::formats::keys::{Ed25519Pk, Pubkey, decode_hex32};
use crate::formats::limits::{
    MAX_MESSAGE_BASE64_CHARS, MAX_MESSAGE_BYTES, MAX_NONCE_CHARS, SIGNATURE_CLOCK_TOLERANCE_MS,
    STORE_CLOCK_TOLERANCE_MS, TTL_MAX_PRIVATE_MS, TTL_MAX_PUBLIC_MS, TTL_MIN_MS,
};
use crate::formats::rpc::client::{ReplyError, obj, str_field, u64_field};
use crate::formats::rpc::fields::{
    Params, missing, opt_ed25519, opt_namespace, opt_signature, opt_str, opt_timestamp, opt_u64_or_string,
    pubkey_field_text, within,
};
use crate::formats::rpc::message::{StoredMessage, is_public_inbox, is_public_outbox};
use crate::formats::rpc::sig::{namespace_part, verify_request};
use crate::formats::rpc::subaccount::{Access, Subaccount, opt_subaccount};
use crate::formats::rpc::{RpcError, message_hash};

// ---- params (node) -----------------------------------------------------------------------

/// `store` params.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreParams {
    /// The account to store for.
    pub pubkey: Pubkey,
    /// `pubkey` exactly as sent (the proof of work covers this text).
    pub pubkey_text: String,
    /// The namespace to store in.
    pub namespace: i16,
    /// `timestamp`: when the sender says it stored the message, ms since the epoch.
    pub timestamp_ms: u64,
    /// `expiry`, or `timestamp + ttl` when the request gave `ttl`.
    pub expiry_ms: u64,
    /// Whether the request gave `ttl` (true) or `expiry` (false).
    pub gave_ttl: bool,
    /// The decoded `data`.
    pub data: Vec<u8>,
    /// `data` as sent (base64), for the proof of work, which covers the base64 text.
    pub data_base64: String,
    /// The signature over the store, by the account's key (a public inbox needs none).
    pub signature: Option<[u8; 64]>,
    /// `sig_timestamp`, defaulting to `timestamp`.
    pub sig_timestamp_ms: u64,
    /// For a 03-prefixed account: the Ed25519 key that signed.
    pub pubkey_ed25519: Option<Ed25519Pk>,
    /// snkit's proof-of-work nonce (base64), checked by the node with `snkit::pow`.
    pub nonce: Option<String>,
    /// The subaccount the request is signed by, if any (its token and the owner's note).
    pub subaccount: Option<Subaccount>,
}

impl StoreParams {
    /// Parses the params of a `store` (types only; `validate` checks the rules).
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let timestamp_ms = opt_u64_or_string(p, "timestamp")?.ok_or_else(|| missing("timestamp"))?;
        let ttl = opt_u64_or_string(p, "ttl")?;
        let expiry = opt_timestamp(p, "expiry", true)?;
        let (expiry_ms, gave_ttl) = match (expiry, ttl) {
            (Some(_), Some(_)) => {
                return Err(RpcError::invalid_request("Cannot specify both 'expiry' and 'ttl'"));
            }
            (None, None) => return Err(missing("expiry' or 'ttl")),
            (Some(e), None) => (e, false),
            (None, Some(t)) => (timestamp_ms.saturating_add(t), true),
        };
        let (pubkey, pubkey_text) = pubkey_field_text(p, true)?;
        let namespace = opt_namespace(p)?.unwrap_or(0);
        let signature = opt_signature(p)?;
        let pubkey_ed25519 = opt_ed25519(p, &pubkey)?;
        // As live: the subaccount fields are only read on a signed store.
        let subaccount = if signature.is_some() { opt_subaccount(p)? } else { None };
        let sig_timestamp_ms = opt_timestamp(p, "sig_timestamp", false)?.unwrap_or(timestamp_ms);
        let data_base64 = opt_str(p, "data")?.ok_or_else(|| missing("data"))?;
        if data_base64.len() > MAX_MESSAGE_BASE64_CHARS {
            return Err(RpcError::invalid_request(format!(
                "Message body exceeds maximum allowed length of {MAX_MESSAGE_BYTES} bytes"
            )));
        }
        let data = STANDARD
            .decode(data_base64)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(data_base64))
            .map_err(|_| RpcError::invalid_request("Invalid 'data' value: not base64 encoded"))?;
        if data.len() > MAX_MESSAGE_BYTES {
            return Err(RpcError::invalid_request(format!(
                "Message body exceeds maximum allowed length of {MAX_MESSAGE_BYTES} bytes"
            )));
        }
        let nonce = opt_str(p, "nonce")?.map(str::to_owned);
        if nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE_CHARS) {
            return Err(RpcError::invalid_request(format!(
                "'nonce' is longer than {MAX_NONCE_CHARS} characters"
            )));
        }
        Ok(Self {
            pubkey,
            pubkey_text: pubkey_text.to_owned(),
            namespace,
            timestamp_ms,
            expiry_ms,
            gave_ttl,
            data,
            data_base64: data_base64.to_owned(),
            signature,
            sig_timestamp_ms,
            pubkey_ed25519,
            nonce,
            subaccount,
        })
    }

    /// The envelope the client's proof of work covers (for `snkit::pow::verify`): the pubkey
    /// and data text as sent, timestamp, and ttl (`expiry - timestamp` when `expiry` was sent).
    pub fn to_envelope(&self) -> Envelope {
        Envelope {
            pubkey: self.pubkey_text.clone(),
            timestamp: self.timestamp_ms,
            ttl: self.ttl_ms(),
            data: self.data_base64.clone(),
            nonce: self.nonce.clone(),
        }
    }

    /// expiry - timestamp (saturating at 0).
    pub fn ttl_ms(&self) -> u64 {
        self.expiry_ms.saturating_sub(self.timestamp_ms)
    }

    /// The live rules, in the live order: TTL (403), clock (406), then for namespaces not
    /// divisible by 10 the signature (401 missing, 406 timestamp, 401 bad). Returns the message
    /// to store, with its hash. (Wrong swarm and proof of work are the node's checks.)
    pub fn validate(&self, now_ms: u64) -> Result<StoredMessage, RpcError> {
        let public = is_public_inbox(self.namespace);
        let max_ttl = if public { TTL_MAX_PUBLIC_MS } else { TTL_MAX_PRIVATE_MS };
        if self.expiry_ms < self.timestamp_ms || !(TTL_MIN_MS..=max_ttl).contains(&self.ttl_ms()) {
            return Err(RpcError::bad_ttl());
        }
        if self.timestamp_ms > now_ms.saturating_add(STORE_CLOCK_TOLERANCE_MS)
            || self.expiry_ms < now_ms.saturating_sub(STORE_CLOCK_TOLERANCE_MS)
        {
            return Err(RpcError::clock("Timestamp error: check your clock"));
        }
        if !public {
            let Some(sig) = &self.signature else {
                return Err(RpcError::unauthorized(format!(
                    "store: signature required to store to namespace {}",
                    self.namespace
                )));
            };
            if !within(now_ms, self.sig_timestamp_ms, SIGNATURE_CLOCK_TOLERANCE_MS) {
                return Err(RpcError::clock("store signature timestamp too far from current time"));
            }
            let msg = store_sig_message(self.namespace, self.sig_timestamp_ms);
            // Writing a public outbox replaces its one message: a subaccount needs delete too.
            let access = if is_public_outbox(self.namespace) {
                Access::WRITE.with(Access::DELETE)
            } else {
                Access::WRITE
            };
            if !verify_request(
                &self.pubkey,
                self.pubkey_ed25519.as_ref(),
                self.subaccount.as_ref(),
                access,
                sig,
                &msg,
            ) {
                return Err(RpcError::unauthorized("store signature verification failed"));
            }
        }
        Ok(StoredMessage {
            pubkey: self.pubkey,
            namespace: self.namespace,
            hash: message_hash(&self.pubkey, self.namespace, &self.data),
            timestamp_ms: self.timestamp_ms,
            expiry_ms: self.expiry_ms,
            data: self.data.clone(),
        })
    }
}

// ---- signed string -----------------------------------------------------------------------

/// `"store" ‖ dec(ns) ‖ dec(sig_timestamp)` (ns part empty for 0).
pub fn store_sig_message(namespace: i16, sig_timestamp_ms: u64) -> Vec<u8> {
    format!("store{}{}", namespace_part(namespace), sig_timestamp_ms).into_bytes()
}

// ---- request (client) --------------------------------------------------------------------

/// `store` params from an envelope, for a public inbox (namespace divisible by 10, e.g. 0): no
/// signature. The envelope's strings go out exactly as they are, so that the node recomputes
/// the same proof of work.
pub fn store_params(env: &Envelope, namespace: i16) -> Value {
    let mut p = json!({
        "pubkey": env.pubkey,
        "timestamp": env.timestamp,
        "ttl": env.ttl,
        "data": env.data,
    });
    if namespace != 0 {
        p["namespace"] = json!(namespace);
    }
    if let Some(n) = &env.nonce {
        p["nonce"] = json!(n);
    }
    p
}

/// `store` params signed by the owner of the mailbox (namespaces not divisible by 10 need
/// this): signature over `"store" ‖ dec(ns) ‖ dec(timestamp)`, with `pubkey_ed25519`.
pub fn signed_store_params(id: &Identity, env: &Envelope, namespace: i16) -> Value {
    let mut p = store_params(env, namespace);
    let sig = id.sign(&store_sig_message(namespace, env.timestamp));
    p["signature"] = json!(STANDARD.encode(sig));
    p["pubkey_ed25519"] = json!(hex::encode(id.ed25519_public()));
    p
}

// ---- reply (node) ------------------------------------------------------------------------

/// One swarm member's successful store: `{"hash", "signature", "expiry", "already"?}`, signed
/// with the member's Ed25519 key over the hash string. `sign` is the node's Ed25519 signer
/// (e.g. `|m| keys.sign(m)`, or `reply::signer` for a `SigningKey`).
pub fn store_member_ok(sign: impl Fn(&[u8]) -> [u8; 64], hash: &str, expiry_ms: u64, already: bool) -> Value {
    let sig = sign(hash.as_bytes());
    let mut v = json!({ "hash": hash, "signature": STANDARD.encode(sig), "expiry": expiry_ms });
    if already {
        v["already"] = json!(true);
    }
    v
}

// ---- reply (client) ----------------------------------------------------------------------

/// One swarm member's answer to a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberStore {
    /// The member stored the message.
    Stored {
        /// The message hash the member stored under.
        hash: String,
        /// base64 of the member's Ed25519 signature over `hash`.
        signature: String,
        /// When the member will drop it, ms since the epoch.
        expiry_ms: u64,
        /// `true` when the member had it already.
        already: bool,
    },
    /// The member refused or failed.
    Failed {
        /// What the member reported: "timeout", "code 406: …", "bad_peer_response", …
        reason: String,
    },
}

/// A parsed store reply: each member's result, keyed by its Ed25519 key (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreReply {
    /// The top-level `hash` (compat field), if present.
    pub hash: Option<String>,
    /// Each member's result, keyed by its Ed25519 key, hex.
    pub members: Vec<(String, MemberStore)>,
    /// The top-level `t` (the answering node's clock, ms), if present.
    pub t: Option<u64>,
}

impl StoreReply {
    /// Members that stored the message.
    pub fn stored(&self) -> usize {
        self.members.iter().filter(|(_, r)| matches!(r, MemberStore::Stored { .. })).count()
    }
}

impl MemberStore {
    /// Checks a stored member's signature over the hash with its Ed25519 key (hex).
    pub fn verify(&self, member_ed25519_hex: &str) -> bool {
        let MemberStore::Stored { hash, signature, .. } = self else { return false };
        let Ok(key) = decode_hex32(member_ed25519_hex) else { return false };
        let Ok(vk) = VerifyingKey::from_bytes(&key) else { return false };
        let Ok(Ok(sig)) = STANDARD.decode(signature).map(<[u8; 64]>::try_from) else { return false };
        vk.verify_strict(hash.as_bytes(), &Signature::from_bytes(&sig)).is_ok()
    }
}

fn failure_reason(o: &serde_json::Map<String, Value>) -> String {
    if o.get("timeout").is_some() {
        "timeout".into()
    } else if let Some(code) = o.get("code") {
        let reason = o.get("reason").and_then(Value::as_str).unwrap_or("");
        format!("code {code}: {reason}")
    } else if o.get("bad_peer_response").is_some() {
        "bad_peer_response".into()
    } else if o.get("query_failure").is_some() {
        "query_failure".into()
    } else if let Some(r) = o.get("reason").and_then(Value::as_str) {
        r.to_owned()
    } else {
        "failed".into()
    }
}

/// Parses `{"swarm": {ed25519_hex: {...}}, "hash", "t"}` (a store reply's body, 200 or 500).
pub fn parse_store_reply(v: &Value) -> Result<StoreReply, ReplyError> {
    let m = obj(v)?;
    let swarm = m.get("swarm").ok_or(ReplyError::Missing("swarm"))?;
    let swarm = swarm.as_object().ok_or(ReplyError::WrongType("swarm"))?;
    let mut members = Vec::with_capacity(swarm.len());
    for (key, r) in swarm {
        let o = obj(r)?;
        let result = if o.get("failed").and_then(Value::as_bool) == Some(true) {
            MemberStore::Failed { reason: failure_reason(o) }
        } else {
            MemberStore::Stored {
                hash: str_field(o, "hash")?.to_owned(),
                signature: str_field(o, "signature")?.to_owned(),
                expiry_ms: u64_field(o, "expiry")?,
                already: o.get("already").and_then(Value::as_bool).unwrap_or(false),
            }
        };
        members.push((key.clone(), result));
    }
    Ok(StoreReply {
        hash: m.get("hash").and_then(Value::as_str).map(str::to_owned),
        members,
        t: m.get("t").and_then(Value::as_u64),
    })
}
