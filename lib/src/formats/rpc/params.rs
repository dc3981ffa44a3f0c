//! Request bodies → typed params (400 on anything malformed), and the validation rules that
//! need the clock or a signature (401/403/406), as the live network applies them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::sig::{
    decode_signature, delete_sig_message, retrieve_sig_message, store_sig_message, verify_signature,
};
use super::{RpcError, message_hash};
use crate::formats::envelope::Envelope;
use crate::formats::keys::{ACCOUNT_TYPE, Pubkey};
use crate::formats::limits::{
    DELETE_MAX_HASHES, MAX_MESSAGE_BASE64_CHARS, MAX_MESSAGE_BYTES, MAX_NONCE_CHARS, MESSAGE_HASH_CHARS,
    MIN_TIMESTAMP_MS, RETRIEVE_DEFAULT_SIZE_DIVISOR, RETRIEVE_MAX_COUNT, RETRIEVE_MAX_SIZE,
    RPC_MAX_BODY_BYTES, SIGNATURE_CLOCK_TOLERANCE_MS, STORE_CLOCK_TOLERANCE_MS, TTL_MAX_PRIVATE_MS,
    TTL_MAX_PUBLIC_MS, TTL_MIN_MS,
};
use crate::formats::rpc::message::{StoredMessage, is_public_outbox};

/// A parsed storage RPC request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Store(StoreParams),
    Retrieve(RetrieveParams),
    Delete(DeleteParams),
    /// `get_swarm` or its alias `get_snodes_for_pubkey`.
    GetSwarm(GetSwarmParams),
    Info,
    OxendRequest(OxendRequestParams),
}

impl Request {
    /// The method name as the live network spells it.
    pub fn method(&self) -> &'static str {
        match self {
            Request::Store(_) => "store",
            Request::Retrieve(_) => "retrieve",
            Request::Delete(_) => "delete",
            Request::GetSwarm(_) => "get_swarm",
            Request::Info => "info",
            Request::OxendRequest(_) => "oxend_request",
        }
    }

    /// The pubkey whose swarm must serve this request (None for info / oxend_request /
    /// get_swarm, which any node answers).
    pub fn swarm_pubkey(&self) -> Option<&Pubkey> {
        match self {
            Request::Store(p) => Some(&p.pubkey),
            Request::Retrieve(p) => Some(&p.pubkey),
            Request::Delete(p) => Some(&p.pubkey),
            _ => None,
        }
    }
}

/// Parses a `POST /storage_rpc/v1` body: `{"method": "...", "params": {...}}` (`jsonrpc` and `id`
/// ignored), at most [`RPC_MAX_BODY_BYTES`].
pub fn parse_request(body: &[u8]) -> Result<Request, RpcError> {
    if body.len() > RPC_MAX_BODY_BYTES {
        return Err(RpcError::invalid_request(format!(
            "body is {} bytes; the limit is {RPC_MAX_BODY_BYTES}",
            body.len()
        )));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| RpcError::invalid_request(format!("body is not valid JSON: {e}")))?;
    parse_request_value(v)
}

/// [`parse_request`] for an already-parsed JSON value (e.g. the final hop of an onion request).
pub fn parse_request_value(v: Value) -> Result<Request, RpcError> {
    let Value::Object(mut obj) = v else {
        return Err(RpcError::invalid_request("expected a JSON object with method and params"));
    };
    let method = match obj.get("method") {
        Some(Value::String(m)) => m.clone(),
        Some(_) => return Err(RpcError::invalid_request("'method' must be a string")),
        None => return Err(RpcError::invalid_request("missing 'method'")),
    };
    let params = match obj.remove("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(RpcError::invalid_request("'params' must be a JSON object")),
    };
    Ok(match method.as_str() {
        "store" => Request::Store(StoreParams::parse(&params)?),
        "retrieve" => Request::Retrieve(RetrieveParams::parse(&params)?),
        "delete" => Request::Delete(DeleteParams::parse(&params)?),
        "get_swarm" | "get_snodes_for_pubkey" => Request::GetSwarm(GetSwarmParams::parse(&params)?),
        "info" => Request::Info,
        "oxend_request" => Request::OxendRequest(OxendRequestParams::parse(&params)?),
        other => {
            let shown: String = other.chars().take(64).collect();
            return Err(RpcError::invalid_request(format!("unknown method '{shown}'")));
        }
    })
}

// ---- field helpers (live parse_field semantics: null counts as absent) ------------------------

type Params = Map<String, Value>;

fn get<'a>(p: &'a Params, name: &str) -> Option<&'a Value> {
    p.get(name).filter(|v| !v.is_null())
}

fn bad_value(name: &str, expected: &str) -> RpcError {
    RpcError::invalid_request(format!("Invalid value given for '{name}': expected {expected}"))
}

fn missing(name: &str) -> RpcError {
    RpcError::invalid_request(format!("Required field '{name}' missing"))
}

fn opt_str<'a>(p: &'a Params, name: &str) -> Result<Option<&'a str>, RpcError> {
    match get(p, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_value(name, "string")),
    }
}

fn opt_bool(p: &Params, name: &str) -> Result<Option<bool>, RpcError> {
    match get(p, name) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad_value(name, "boolean")),
    }
}

fn opt_i64(p: &Params, name: &str) -> Result<Option<i64>, RpcError> {
    match get(p, name) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| bad_value(name, "integer")),
    }
}

/// A non-negative integer, which (for backwards compatibility) may also be a decimal string.
fn opt_u64_or_string(p: &Params, name: &str) -> Result<Option<u64>, RpcError> {
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
fn check_ms(name: &str, ts: u64) -> Result<u64, RpcError> {
    if ts < MIN_TIMESTAMP_MS {
        return Err(RpcError::invalid_request(format!(
            "Invalid timestamp for '{name}': timestamp must be in milliseconds"
        )));
    }
    Ok(ts)
}

fn opt_timestamp(p: &Params, name: &str, allow_string: bool) -> Result<Option<u64>, RpcError> {
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

fn opt_namespace(p: &Params) -> Result<Option<i16>, RpcError> {
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
fn pubkey_field(p: &Params, alias: bool) -> Result<Pubkey, RpcError> {
    pubkey_field_text(p, alias).map(|(pk, _)| pk)
}

/// [`pubkey_field`] and the text as sent.
fn pubkey_field_text(p: &Params, alias: bool) -> Result<(Pubkey, &str), RpcError> {
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

fn opt_ed25519(p: &Params, pubkey: &Pubkey) -> Result<Option<[u8; 32]>, RpcError> {
    let Some(s) = opt_str(p, "pubkey_ed25519")? else { return Ok(None) };
    if pubkey.type_byte() != ACCOUNT_TYPE {
        return Err(RpcError::invalid_request("pubkey_ed25519 is only permitted for 05[...] pubkeys"));
    }
    if s.len() != 64 {
        return Err(RpcError::invalid_request(
            "Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey",
        ));
    }
    let raw =
        hex::decode(s).map_err(|_| RpcError::invalid_request("invalid pubkey_ed25519: value is not hex"))?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&raw);
    Ok(Some(out))
}

fn opt_signature(p: &Params) -> Result<Option<[u8; 64]>, RpcError> {
    opt_str(p, "signature")?.map(decode_signature).transpose()
}

fn is_hash(h: &str) -> bool {
    h.len() == MESSAGE_HASH_CHARS
        && h.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'-' || c == b'_')
}

fn within(now_ms: u64, ts: u64, tolerance: u64) -> bool {
    ts.abs_diff(now_ms) <= tolerance
}

/// Namespaces divisible by 10 are public inboxes: anyone may store without a signature.
pub fn is_public_inbox(namespace: i16) -> bool {
    namespace % 10 == 0
}

/// Namespaces readable without a signature: -10 (legacy closed groups) and public outboxes.
pub fn is_noauth_retrieve_namespace(namespace: i16) -> bool {
    namespace == -10 || is_public_outbox(namespace)
}

// ---- store -------------------------------------------------------------------------------------

/// `store` params.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreParams {
    pub pubkey: Pubkey,
    /// `pubkey` exactly as sent (the proof of work covers this text).
    pub pubkey_text: String,
    pub namespace: i16,
    pub timestamp_ms: u64,
    /// `expiry`, or `timestamp + ttl` when the request gave `ttl`.
    pub expiry_ms: u64,
    /// Whether the request gave `ttl` (true) or `expiry` (false).
    pub gave_ttl: bool,
    /// The decoded `data`.
    pub data: Vec<u8>,
    /// `data` as sent (base64), for the proof of work, which covers the base64 text.
    pub data_base64: String,
    pub signature: Option<[u8; 64]>,
    /// `sig_timestamp`, defaulting to `timestamp`.
    pub sig_timestamp_ms: u64,
    pub pubkey_ed25519: Option<[u8; 32]>,
    /// snkit's proof-of-work nonce (base64), checked by the node with `snkit::pow`.
    pub nonce: Option<String>,
}

impl StoreParams {
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
            if !verify_signature(&self.pubkey, self.pubkey_ed25519.as_ref(), sig, &msg) {
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

// ---- retrieve ----------------------------------------------------------------------------------

/// `retrieve` params.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrieveParams {
    pub pubkey: Pubkey,
    pub namespace: i16,
    /// `last_hash` / `lastHash`; "" is absent.
    pub last_hash: Option<String>,
    pub max_count: Option<i64>,
    pub max_size: Option<i64>,
    pub timestamp_ms: Option<u64>,
    pub signature: Option<[u8; 64]>,
    pub pubkey_ed25519: Option<[u8; 32]>,
}

/// A validated retrieve, with the live limits resolved: what to ask the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveQuery {
    pub pubkey: Pubkey,
    pub namespace: i16,
    pub last_hash: Option<String>,
    pub max_count: usize,
    pub max_size: u64,
}

/// The live limit rules: 0 counts as unset; neither set → 1/5 of the maximum size; a negative
/// size -n → maximum / n; larger than the maximum → the maximum. (A negative `max_count` is
/// unset too.) Returns (max_count, max_size) in the store's terms.
pub fn resolve_retrieve_limits(max_count: Option<i64>, max_size: Option<i64>) -> (usize, u64) {
    let count = max_count.filter(|&c| c > 0);
    let mut size = max_size.filter(|&s| s != 0);
    if count.is_none() && size.is_none() {
        size = Some(-(RETRIEVE_DEFAULT_SIZE_DIVISOR as i64));
    }
    let size = match size {
        Some(s) if s < 0 => RETRIEVE_MAX_SIZE / s.unsigned_abs(),
        Some(s) => (s as u64).min(RETRIEVE_MAX_SIZE),
        None => RETRIEVE_MAX_SIZE,
    };
    let count = count.map(|c| usize::try_from(c).unwrap_or(usize::MAX).min(RETRIEVE_MAX_COUNT));
    (count.unwrap_or(RETRIEVE_MAX_COUNT), size)
}

impl RetrieveParams {
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let pubkey = pubkey_field(p, true)?;
        let namespace = opt_namespace(p)?.unwrap_or(0);
        let a = opt_str(p, "last_hash")?;
        let b = opt_str(p, "lastHash")?;
        let last = match (a, b) {
            (Some(_), Some(_)) => {
                return Err(RpcError::invalid_request("Cannot specify both 'last_hash' and 'lastHash'"));
            }
            (x, y) => x.or(y).filter(|h| !h.is_empty()),
        };
        if let Some(h) = last
            && !is_hash(h)
        {
            return Err(RpcError::invalid_request("Invalid last_hash: expected base64 (43 chars)"));
        }
        Ok(Self {
            pubkey,
            namespace,
            last_hash: last.map(str::to_owned),
            max_count: opt_i64(p, "max_count")?,
            max_size: opt_i64(p, "max_size")?,
            timestamp_ms: opt_timestamp(p, "timestamp", false)?,
            signature: opt_signature(p)?,
            pubkey_ed25519: opt_ed25519(p, &pubkey)?,
        })
    }

    /// A signature is required except in -10 and public outboxes (401 when missing); a given
    /// signature is always checked: timestamp within ±60 s (406), then the signature (401).
    pub fn validate(&self, now_ms: u64) -> Result<RetrieveQuery, RpcError> {
        match &self.signature {
            None if !is_noauth_retrieve_namespace(self.namespace) => {
                return Err(RpcError::unauthorized("retrieve: request signature required"));
            }
            None => {}
            Some(sig) => {
                let ts = self.timestamp_ms.ok_or_else(|| missing("timestamp"))?;
                if !within(now_ms, ts, SIGNATURE_CLOCK_TOLERANCE_MS) {
                    return Err(RpcError::clock("retrieve timestamp too far from current time"));
                }
                let msg = retrieve_sig_message(self.namespace, ts);
                if !verify_signature(&self.pubkey, self.pubkey_ed25519.as_ref(), sig, &msg) {
                    return Err(RpcError::unauthorized("retrieve signature verification failed"));
                }
            }
        }
        let (max_count, max_size) = resolve_retrieve_limits(self.max_count, self.max_size);
        Ok(RetrieveQuery {
            pubkey: self.pubkey,
            namespace: self.namespace,
            last_hash: self.last_hash.clone(),
            max_count,
            max_size,
        })
    }
}

// ---- delete ------------------------------------------------------------------------------------

/// `delete` params.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteParams {
    pub pubkey: Pubkey,
    pub messages: Vec<String>,
    pub signature: Option<[u8; 64]>,
    pub pubkey_ed25519: Option<[u8; 32]>,
    /// `required: true` → 404 when nothing was deleted.
    pub required: bool,
}

impl DeleteParams {
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let pubkey = pubkey_field(p, false)?;
        let messages = match get(p, "messages") {
            None => return Err(missing("messages")),
            Some(Value::Array(a)) => a,
            Some(_) => return Err(bad_value("messages", "string array")),
        };
        if messages.is_empty() {
            return Err(RpcError::invalid_request("messages does not contain any message hashes"));
        }
        if messages.len() > DELETE_MAX_HASHES {
            return Err(RpcError::invalid_request(format!(
                "messages has {} hashes; the limit is {DELETE_MAX_HASHES}",
                messages.len()
            )));
        }
        let mut hashes = Vec::with_capacity(messages.len());
        for m in messages {
            let Value::String(h) = m else { return Err(bad_value("messages", "string array")) };
            if !is_hash(h) {
                let shown: String = h.chars().take(64).collect();
                return Err(RpcError::invalid_request(format!("invalid message hash: {shown}")));
            }
            hashes.push(h.clone());
        }
        Ok(Self {
            pubkey,
            messages: hashes,
            signature: opt_signature(p)?,
            pubkey_ed25519: opt_ed25519(p, &pubkey)?,
            required: opt_bool(p, "required")?.unwrap_or(false),
        })
    }

    /// The signature over `"delete" ‖ hash…` is required (401 missing or bad).
    pub fn validate(&self) -> Result<(), RpcError> {
        let sig =
            self.signature.as_ref().ok_or_else(|| RpcError::unauthorized("delete: signature required"))?;
        if !verify_signature(
            &self.pubkey,
            self.pubkey_ed25519.as_ref(),
            sig,
            &delete_sig_message(&self.messages),
        ) {
            return Err(RpcError::unauthorized("delete signature verification failed"));
        }
        Ok(())
    }

    /// After the store deleted `deleted`: 404 when `required` and nothing was deleted.
    pub fn check_deleted(&self, deleted: &[String]) -> Result<(), RpcError> {
        if self.required && deleted.is_empty() {
            return Err(RpcError::not_found("no messages deleted"));
        }
        Ok(())
    }
}

// ---- get_swarm, oxend_request ---------------------------------------------------------------

/// `get_swarm` / `get_snodes_for_pubkey` params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetSwarmParams {
    pub pubkey: Pubkey,
}

impl GetSwarmParams {
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        Ok(Self { pubkey: pubkey_field(p, true)? })
    }
}

/// `oxend_request` params: snkit serves only `get_service_nodes` (the node list).
#[derive(Debug, Clone, PartialEq)]
pub struct OxendRequestParams {
    pub endpoint: String,
    pub params: Option<Value>,
}

impl OxendRequestParams {
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let endpoint = opt_str(p, "endpoint")?.ok_or_else(|| missing("endpoint"))?;
        if endpoint != "get_service_nodes" {
            let shown: String = endpoint.chars().take(64).collect();
            return Err(RpcError::invalid_request(format!("Invalid oxend endpoint '{shown}'")));
        }
        Ok(Self { endpoint: endpoint.to_owned(), params: get(p, "params").cloned() })
    }
}
