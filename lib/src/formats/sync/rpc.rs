//! The node RPCs of synchronous routing (spec sync.md §5.2), snkit's own methods of the storage
//! JSON-RPC, reached as the last hop of an onion request: their params, the strings the
//! listener signs, the client's request builders and the reply formats.
//!
//! Signed strings, fields joined by NUL bytes:
//! - `sync_listen`: `snkit-sync-listen-v1`, listen_pk hex, dec(timestamp), dec(cursor),
//!   dec(hold_ms), the acks as `seq:proof` pairs joined by commas;
//! - `sync_unlisten`: `snkit-sync-unlisten-v1`, listen_pk hex, dec(timestamp).
//!
//! `sync_deliver` is not signed and carries no proof of work: the capability is `listen_pk`,
//! which only travels sealed to contacts.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{Map, Value, json};

use super::ack::AckLock;
use crate::formats::keys::decode_hex32;
use crate::formats::limits::{
    SIGNATURE_CLOCK_TOLERANCE_MS, SYNC_ACK_TIMEOUT_MS, SYNC_LISTEN_HOLD_MAX_MS, SYNC_MAX_ACKS_PER_LISTEN,
    SYNC_MAX_DATA_BYTES, SYNC_MIN_WAIT_MS,
};
use crate::formats::rpc::RpcError;

/// Method names.
pub const METHOD_LISTEN: &str = "sync_listen";
/// See [`METHOD_LISTEN`].
pub const METHOD_DELIVER: &str = "sync_deliver";
/// See [`METHOD_LISTEN`].
pub const METHOD_UNLISTEN: &str = "sync_unlisten";

/// Context of the listen signature.
const LISTEN_CONTEXT: &str = "snkit-sync-listen-v1";
/// Context of the unlisten signature.
const UNLISTEN_CONTEXT: &str = "snkit-sync-unlisten-v1";

/// `status` strings of a deliver's reply.
pub mod outcome {
    /// 200: the recipient acked; `proof` follows.
    pub const ACKED: &str = "acked";
    /// 202: no ack within `wait_ms`.
    pub const TIMEOUT: &str = "timeout";
    /// 404: no such subscription.
    pub const UNKNOWN: &str = "unknown";
    /// 404: no listen held, and none ended within the grace.
    pub const NOT_LISTENING: &str = "not_listening";
    /// 404: the subscription went while the deliver waited.
    pub const GONE: &str = "gone";
    /// 429: the subscription's token bucket is empty.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// 429: the subscription's queue is full.
    pub const QUEUE_FULL: &str = "queue_full";
    /// 429: the node holds its maximum of subscriptions.
    pub const TOO_MANY_SUBSCRIPTIONS: &str = "too_many_subscriptions";
    /// 429: listen calls too frequent.
    pub const LISTEN_RATE: &str = "listen_rate_limited";
    /// 503: the node's buffers or held requests are full.
    pub const NODE_FULL: &str = "node_full";
    /// 413: data over `SYNC_MAX_DATA_BYTES`.
    pub const TOO_LARGE: &str = "too_large";
}

/// One of the three sync requests, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncRequest {
    /// `sync_listen`.
    Listen(ListenParams),
    /// `sync_deliver`.
    Deliver(DeliverParams),
    /// `sync_unlisten`.
    Unlisten(UnlistenParams),
}

/// An ack carried by a listen: the item's seq and the proof that opens its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The item's seq.
    pub seq: u64,
    /// The proof (the ack secret).
    pub proof: [u8; 32],
}

/// `sync_listen` params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenParams {
    /// The listening session's key.
    pub listen_pk: [u8; 32],
    /// Signing time, ms.
    pub timestamp: u64,
    /// Signature by `listen_sk`.
    pub signature: [u8; 64],
    /// The highest seq the listener holds durably.
    pub cursor: u64,
    /// Acks of items printed and saved.
    pub acks: Vec<Ack>,
    /// How long to hold when nothing is queued.
    pub hold_ms: u64,
    /// The delivers per second this listener accepts (optional, like Tor proposal 305's
    /// intro-point limits; the node caps it at its own maximum). Not signed: only L reads it,
    /// inside the onion.
    pub rate: Option<u64>,
    /// The burst of that bucket (optional, capped likewise).
    pub burst: Option<u64>,
}

/// `sync_deliver` params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverParams {
    /// The recipient's listening key (from its presence).
    pub listen_pk: [u8; 32],
    /// The message bytes, exactly what the fallback stores.
    pub data: Vec<u8>,
    /// The hash lock.
    pub lock: AckLock,
    /// The envelope timestamp the fallback store would use, ms.
    pub timestamp: u64,
    /// The expiry the fallback store would use, ms.
    pub expiry: u64,
    /// How long the node keeps the item waiting for its ack.
    pub wait_ms: u64,
}

/// `sync_unlisten` params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlistenParams {
    /// The listening key.
    pub listen_pk: [u8; 32],
    /// Signing time, ms.
    pub timestamp: u64,
    /// Signature by `listen_sk`.
    pub signature: [u8; 64],
}

type Params = Map<String, Value>;

fn field<'a>(p: &'a Params, name: &str) -> Result<&'a Value, RpcError> {
    p.get(name)
        .filter(|v| !v.is_null())
        .ok_or_else(|| RpcError::invalid_request(format!("Required field '{name}' missing")))
}

fn bad(name: &str, expected: &str) -> RpcError {
    RpcError::invalid_request(format!("Invalid value given for '{name}': expected {expected}"))
}

fn u64_of(p: &Params, name: &str) -> Result<u64, RpcError> {
    field(p, name)?.as_u64().ok_or_else(|| bad(name, "non-negative integer"))
}

/// An optional integer ≥ 1 (a bucket of 0 would refuse every deliver: that is `sync_unlisten`).
fn positive_opt(p: &Params, name: &str) -> Result<Option<u64>, RpcError> {
    match p.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().filter(|n| *n >= 1).map(Some).ok_or_else(|| bad(name, "integer ≥ 1")),
    }
}

fn hex32_of(p: &Params, name: &str) -> Result<[u8; 32], RpcError> {
    field(p, name)?.as_str().and_then(|s| decode_hex32(s).ok()).ok_or_else(|| bad(name, "64 hex characters"))
}

fn sig_of(p: &Params) -> Result<[u8; 64], RpcError> {
    let s = field(p, "signature")?.as_str().ok_or_else(|| bad("signature", "base64 string"))?;
    let bytes = B64.decode(s).map_err(|_| bad("signature", "base64 of 64 bytes"))?;
    bytes.try_into().map_err(|_| bad("signature", "base64 of 64 bytes"))
}

/// Parses a request body if it names a sync method: `None` for any other method (the storage
/// RPC's parser takes it), `Some(Err)` for a sync request that is malformed (400) or too large
/// (413).
pub fn parse(body: &[u8]) -> Option<Result<SyncRequest, RpcError>> {
    // Cheap pre-check: every other method's body is parsed once only, by the storage parser.
    let text = std::str::from_utf8(body).ok()?;
    if !text.contains("\"sync_") {
        return None;
    }
    let v: Value = serde_json::from_str(text).ok()?;
    let method = v.get("method")?.as_str()?;
    if ![METHOD_LISTEN, METHOD_DELIVER, METHOD_UNLISTEN].contains(&method) {
        return None;
    }
    let empty = Map::new();
    let params = match v.get("params") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return Some(Err(RpcError::invalid_request("'params' must be a JSON object"))),
    };
    Some(match method {
        METHOD_LISTEN => ListenParams::parse(params).map(SyncRequest::Listen),
        METHOD_DELIVER => DeliverParams::parse(params).map(SyncRequest::Deliver),
        _ => UnlistenParams::parse(params).map(SyncRequest::Unlisten),
    })
}

/// The string a listen signs.
pub fn listen_signed_string(
    listen_pk: &[u8; 32],
    timestamp: u64,
    cursor: u64,
    hold_ms: u64,
    acks: &[Ack],
) -> Vec<u8> {
    let acks: Vec<String> = acks.iter().map(|a| format!("{}:{}", a.seq, hex::encode(a.proof))).collect();
    [
        LISTEN_CONTEXT,
        &hex::encode(listen_pk),
        &timestamp.to_string(),
        &cursor.to_string(),
        &hold_ms.to_string(),
        &acks.join(","),
    ]
    .join("\0")
    .into_bytes()
}

/// The string an unlisten signs.
pub fn unlisten_signed_string(listen_pk: &[u8; 32], timestamp: u64) -> Vec<u8> {
    [UNLISTEN_CONTEXT, &hex::encode(listen_pk), &timestamp.to_string()].join("\0").into_bytes()
}

fn verify(listen_pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> Result<(), RpcError> {
    VerifyingKey::from_bytes(listen_pk)
        .and_then(|vk| vk.verify_strict(msg, &Signature::from_bytes(sig)))
        .map_err(|_| RpcError::unauthorized("sync: signature by listen_pk does not verify"))
}

fn check_clock(timestamp: u64, now_ms: u64) -> Result<(), RpcError> {
    if timestamp.abs_diff(now_ms) > SIGNATURE_CLOCK_TOLERANCE_MS {
        return Err(RpcError::clock(format!(
            "sync: timestamp {timestamp} is more than {SIGNATURE_CLOCK_TOLERANCE_MS} ms from the node's clock {now_ms}"
        )));
    }
    Ok(())
}

impl ListenParams {
    /// Parses the params (400 on anything malformed, or too many acks, or a hold too long).
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let acks_v = match p.get("acks") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(_) => return Err(bad("acks", "array")),
        };
        if acks_v.len() > SYNC_MAX_ACKS_PER_LISTEN {
            return Err(RpcError::invalid_request(format!(
                "sync_listen carries {} acks; at most {SYNC_MAX_ACKS_PER_LISTEN}",
                acks_v.len()
            )));
        }
        let mut acks = Vec::with_capacity(acks_v.len());
        for a in &acks_v {
            let Value::Object(o) = a else { return Err(bad("acks", "objects {seq, proof}")) };
            acks.push(Ack { seq: u64_of(o, "seq")?, proof: hex32_of(o, "proof")? });
        }
        let hold_ms = match p.get("hold_ms") {
            None | Some(Value::Null) => SYNC_LISTEN_HOLD_MAX_MS,
            Some(v) => v.as_u64().ok_or_else(|| bad("hold_ms", "non-negative integer"))?,
        };
        if hold_ms > SYNC_LISTEN_HOLD_MAX_MS {
            return Err(RpcError::invalid_request(format!(
                "hold_ms {hold_ms} is over the maximum {SYNC_LISTEN_HOLD_MAX_MS}"
            )));
        }
        Ok(Self {
            listen_pk: hex32_of(p, "listen_pk")?,
            timestamp: u64_of(p, "timestamp")?,
            signature: sig_of(p)?,
            cursor: match p.get("cursor") {
                None | Some(Value::Null) => 0,
                Some(v) => v.as_u64().ok_or_else(|| bad("cursor", "non-negative integer"))?,
            },
            acks,
            hold_ms,
            rate: positive_opt(p, "rate")?,
            burst: positive_opt(p, "burst")?,
        })
    }

    /// Checks the signature (401), then the clock (406).
    pub fn verify(&self, now_ms: u64) -> Result<(), RpcError> {
        let msg =
            listen_signed_string(&self.listen_pk, self.timestamp, self.cursor, self.hold_ms, &self.acks);
        verify(&self.listen_pk, &msg, &self.signature)?;
        check_clock(self.timestamp, now_ms)
    }
}

impl DeliverParams {
    /// Parses the params: 413 for data over `SYNC_MAX_DATA_BYTES`, 400 for anything else wrong.
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let data_s = field(p, "data")?.as_str().ok_or_else(|| bad("data", "base64 string"))?;
        // Judge the size before decoding: an oversize body costs no allocation beyond the text.
        if data_s.len() / 4 * 3 > SYNC_MAX_DATA_BYTES + 3 {
            return Err(too_large(data_s.len() / 4 * 3));
        }
        let data = B64.decode(data_s).map_err(|_| bad("data", "base64"))?;
        if data.len() > SYNC_MAX_DATA_BYTES {
            return Err(too_large(data.len()));
        }
        if data.is_empty() {
            return Err(bad("data", "at least one byte"));
        }
        let wait_ms = match p.get("wait_ms") {
            None | Some(Value::Null) => SYNC_ACK_TIMEOUT_MS,
            Some(v) => v.as_u64().ok_or_else(|| bad("wait_ms", "non-negative integer"))?,
        };
        if !(SYNC_MIN_WAIT_MS..=SYNC_ACK_TIMEOUT_MS).contains(&wait_ms) {
            return Err(RpcError::invalid_request(format!(
                "wait_ms {wait_ms} is outside {SYNC_MIN_WAIT_MS}..={SYNC_ACK_TIMEOUT_MS}"
            )));
        }
        let timestamp = u64_of(p, "timestamp")?;
        let expiry = u64_of(p, "expiry")?;
        if expiry <= timestamp {
            return Err(RpcError::invalid_request("expiry must be after timestamp"));
        }
        Ok(Self {
            listen_pk: hex32_of(p, "listen_pk")?,
            data,
            lock: AckLock { eph: hex32_of(p, "ack_eph")?, check: hex32_of(p, "ack_check")? },
            timestamp,
            expiry,
            wait_ms,
        })
    }
}

fn too_large(len: usize) -> RpcError {
    let mut e = RpcError::new(
        crate::formats::rpc::status::PAYLOAD_TOO_LARGE,
        format!("sync_deliver data is {len} bytes; the limit is {SYNC_MAX_DATA_BYTES}"),
    );
    e.json = Some(json!({"status": outcome::TOO_LARGE, "max": SYNC_MAX_DATA_BYTES}));
    e
}

impl UnlistenParams {
    /// Parses the params (400).
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        Ok(Self {
            listen_pk: hex32_of(p, "listen_pk")?,
            timestamp: u64_of(p, "timestamp")?,
            signature: sig_of(p)?,
        })
    }

    /// Checks the signature (401), then the clock (406).
    pub fn verify(&self, now_ms: u64) -> Result<(), RpcError> {
        verify(&self.listen_pk, &unlisten_signed_string(&self.listen_pk, self.timestamp), &self.signature)?;
        check_clock(self.timestamp, now_ms)
    }
}

// ---- client builders -----------------------------------------------------------------------

/// The params of a signed `sync_listen`.
pub fn listen_params(sk: &SigningKey, cursor: u64, acks: &[Ack], hold_ms: u64, now_ms: u64) -> Value {
    let pk = sk.verifying_key().to_bytes();
    let sig = sk.sign(&listen_signed_string(&pk, now_ms, cursor, hold_ms, acks));
    let acks: Vec<Value> =
        acks.iter().map(|a| json!({"seq": a.seq, "proof": hex::encode(a.proof)})).collect();
    json!({"listen_pk": hex::encode(pk), "timestamp": now_ms, "signature": B64.encode(sig.to_bytes()),
        "cursor": cursor, "acks": acks, "hold_ms": hold_ms})
}

/// Adds a listener's own deliver bucket (`rate`, `burst`) to [`listen_params`]: fields outside
/// the signed string, as sync.md §5.2 lists them.
pub fn with_deliver_limits(mut params: Value, rate: Option<u64>, burst: Option<u64>) -> Value {
    if let Some(r) = rate {
        params["rate"] = json!(r);
    }
    if let Some(b) = burst {
        params["burst"] = json!(b);
    }
    params
}

/// The params of a signed `sync_unlisten`.
pub fn unlisten_params(sk: &SigningKey, now_ms: u64) -> Value {
    let pk = sk.verifying_key().to_bytes();
    let sig = sk.sign(&unlisten_signed_string(&pk, now_ms));
    json!({"listen_pk": hex::encode(pk), "timestamp": now_ms, "signature": B64.encode(sig.to_bytes())})
}

/// The params of a `sync_deliver`.
pub fn deliver_params(
    listen_pk: &[u8; 32],
    data: &[u8],
    lock: &AckLock,
    timestamp: u64,
    expiry: u64,
    wait_ms: u64,
) -> Value {
    json!({"listen_pk": hex::encode(listen_pk), "data": B64.encode(data), "ack_eph": hex::encode(lock.eph),
        "ack_check": hex::encode(lock.check), "timestamp": timestamp, "expiry": expiry, "wait_ms": wait_ms})
}

// ---- items and replies ---------------------------------------------------------------------

/// One item a listen hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its seq in the subscription (from 1, increasing).
    pub seq: u64,
    /// The bytes as the sender delivered them.
    pub data: Vec<u8>,
    /// The hash lock.
    pub lock: AckLock,
    /// The sender's timestamp, ms.
    pub timestamp: u64,
    /// The fallback copy's expiry, ms.
    pub expiry: u64,
}

impl Item {
    /// The JSON of an item in a listen reply.
    pub fn to_json(&self) -> Value {
        json!({"seq": self.seq, "data": B64.encode(&self.data), "ack_eph": hex::encode(self.lock.eph),
            "ack_check": hex::encode(self.lock.check), "timestamp": self.timestamp, "expiry": self.expiry})
    }

    fn from_json(v: &Value) -> Result<Self, String> {
        let Value::Object(o) = v else { return Err("item is not an object".into()) };
        let e = |e: RpcError| e.message;
        let data = o.get("data").and_then(Value::as_str).ok_or("item has no data")?;
        Ok(Self {
            seq: u64_of(o, "seq").map_err(e)?,
            data: B64.decode(data).map_err(|_| "item data is not base64")?,
            lock: AckLock {
                eph: hex32_of(o, "ack_eph").map_err(e)?,
                check: hex32_of(o, "ack_check").map_err(e)?,
            },
            timestamp: u64_of(o, "timestamp").map_err(e)?,
            expiry: u64_of(o, "expiry").map_err(e)?,
        })
    }
}

/// A listen's 200 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenReply {
    /// The items with seq above the cursor, in seq order.
    pub items: Vec<Item>,
    /// The subscription's highest seq so far.
    pub cursor: u64,
    /// Whether the subscription was made by this call (a node restart or an expiry shows so).
    pub new: bool,
    /// When the subscription expires without another listen, ms.
    pub expires: u64,
    /// The subscription's deliver bucket in force (what a listen's `rate`/`burst` were capped
    /// to), when the reply says.
    pub bucket: Option<DeliverBucket>,
}

/// A subscription's deliver bucket: delivers per second and burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverBucket {
    /// Delivers per second.
    pub rate: u64,
    /// Largest burst.
    pub burst: u64,
}

/// The JSON of a listen reply (`rate`/`burst` given with a `bucket`).
pub fn listen_reply(
    items: &[Item],
    cursor: u64,
    new: bool,
    expires: u64,
    now_ms: u64,
    bucket: Option<DeliverBucket>,
) -> Value {
    let items: Vec<Value> = items.iter().map(Item::to_json).collect();
    let mut v = json!({"items": items, "cursor": cursor, "new": new, "expires": expires, "t": now_ms});
    if let Some(b) = bucket {
        v["rate"] = json!(b.rate);
        v["burst"] = json!(b.burst);
    }
    v
}

/// Parses a listen's 200 reply.
pub fn parse_listen_reply(v: &Value) -> Result<ListenReply, String> {
    let items = v.get("items").and_then(Value::as_array).ok_or("listen reply has no items")?;
    Ok(ListenReply {
        items: items.iter().map(Item::from_json).collect::<Result<_, _>>()?,
        cursor: v.get("cursor").and_then(Value::as_u64).ok_or("listen reply has no cursor")?,
        new: v.get("new").and_then(Value::as_bool).unwrap_or(false),
        expires: v.get("expires").and_then(Value::as_u64).unwrap_or(0),
        bucket: match (v.get("rate").and_then(Value::as_u64), v.get("burst").and_then(Value::as_u64)) {
            (Some(rate), Some(burst)) => Some(DeliverBucket { rate, burst }),
            _ => None,
        },
    })
}

/// A deliver reply's body: `{"status"}`, with `proof` for an ack.
pub fn deliver_reply(status: &str, proof: Option<&[u8; 32]>) -> Value {
    match proof {
        Some(p) => json!({"status": status, "proof": hex::encode(p)}),
        None => json!({"status": status}),
    }
}

/// The `status` and `proof` of a deliver reply.
pub fn parse_deliver_reply(v: &Value) -> (Option<String>, Option<[u8; 32]>) {
    let status = v.get("status").and_then(Value::as_str).map(str::to_string);
    let proof = v.get("proof").and_then(Value::as_str).and_then(|s| decode_hex32(s).ok());
    (status, proof)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(method: &str, params: Value) -> Vec<u8> {
        json!({"method": method, "params": params}).to_string().into_bytes()
    }

    fn sk() -> SigningKey {
        SigningKey::from_bytes(&[3; 32])
    }

    #[test]
    fn test_other_methods_are_not_taken() {
        assert!(parse(&body("store", json!({"pubkey": "05"}))).is_none());
        assert!(parse(b"not json").is_none());
        assert!(parse(&body("sync_nothing", json!({}))).is_none());
    }

    #[test]
    fn test_listen_signs_and_verifies() {
        let acks = [Ack { seq: 4, proof: [9; 32] }];
        let p = listen_params(&sk(), 3, &acks, 1000, 1_700_000_000_000);
        let Some(Ok(SyncRequest::Listen(l))) = parse(&body(METHOD_LISTEN, p.clone())) else { panic!() };
        assert_eq!((l.cursor, l.hold_ms, l.acks.as_slice()), (3, 1000, &acks[..]));
        assert!(l.verify(1_700_000_000_000).is_ok());
        // Stale: 406.
        assert_eq!(l.verify(1_700_000_000_000 + SIGNATURE_CLOCK_TOLERANCE_MS + 1).unwrap_err().status, 406);
        // A changed field breaks the signature: 401.
        let mut q = p.clone();
        q["cursor"] = json!(2);
        let Some(Ok(SyncRequest::Listen(l))) = parse(&body(METHOD_LISTEN, q)) else { panic!() };
        assert_eq!(l.verify(1_700_000_000_000).unwrap_err().status, 401);
    }

    #[test]
    fn test_listen_string_is_as_documented() {
        let s = listen_signed_string(
            &[0xab; 32],
            5,
            6,
            7,
            &[Ack { seq: 1, proof: [0; 32] }, Ack { seq: 2, proof: [1; 32] }],
        );
        let want = format!(
            "snkit-sync-listen-v1\0{}\x005\x006\x007\x001:{},2:{}",
            "ab".repeat(32),
            "00".repeat(32),
            "01".repeat(32)
        );
        assert_eq!(s, want.into_bytes());
        assert_eq!(
            unlisten_signed_string(&[0xab; 32], 9),
            format!("snkit-sync-unlisten-v1\0{}\x009", "ab".repeat(32)).into_bytes()
        );
    }

    #[test]
    fn test_unlisten_verifies() {
        let p = unlisten_params(&sk(), 10_000_000);
        let Some(Ok(SyncRequest::Unlisten(u))) = parse(&body(METHOD_UNLISTEN, p)) else { panic!() };
        assert!(u.verify(10_000_000).is_ok());
        let other = SigningKey::from_bytes(&[4; 32]);
        let mut forged = unlisten_params(&other, 10_000_000);
        forged["listen_pk"] = json!(hex::encode(sk().verifying_key().to_bytes()));
        let Some(Ok(SyncRequest::Unlisten(u))) = parse(&body(METHOD_UNLISTEN, forged)) else { panic!() };
        assert_eq!(u.verify(10_000_000).unwrap_err().status, 401);
    }

    #[test]
    fn test_deliver_limits() {
        let lock = AckLock { eph: [1; 32], check: [2; 32] };
        let ok = deliver_params(&[5; 32], b"hi", &lock, 1, 2, 500);
        assert!(matches!(parse(&body(METHOD_DELIVER, ok)), Some(Ok(SyncRequest::Deliver(_)))));
        let big = vec![0u8; SYNC_MAX_DATA_BYTES + 1];
        let e = parse(&body(METHOD_DELIVER, deliver_params(&[5; 32], &big, &lock, 1, 2, 500)))
            .unwrap()
            .unwrap_err();
        assert_eq!(e.status, 413);
        let max = vec![0u8; SYNC_MAX_DATA_BYTES];
        assert!(
            parse(&body(METHOD_DELIVER, deliver_params(&[5; 32], &max, &lock, 1, 2, 500))).unwrap().is_ok()
        );
        for wait in [SYNC_MIN_WAIT_MS - 1, SYNC_ACK_TIMEOUT_MS + 1] {
            let e = parse(&body(METHOD_DELIVER, deliver_params(&[5; 32], b"x", &lock, 1, 2, wait)))
                .unwrap()
                .unwrap_err();
            assert_eq!(e.status, 400);
        }
        let e = parse(&body(METHOD_DELIVER, json!({"listen_pk": "zz"}))).unwrap().unwrap_err();
        assert_eq!(e.status, 400);
    }

    #[test]
    fn test_listen_reply_round_trips() {
        let item = Item {
            seq: 1,
            data: b"abc".to_vec(),
            lock: AckLock { eph: [1; 32], check: [2; 32] },
            timestamp: 3,
            expiry: 4,
        };
        let v = listen_reply(
            std::slice::from_ref(&item),
            1,
            true,
            9,
            0,
            Some(DeliverBucket { rate: 2, burst: 3 }),
        );
        let r = parse_listen_reply(&v).unwrap();
        assert_eq!(r.items, vec![item]);
        assert!(r.new);
        assert_eq!(r.bucket, Some(DeliverBucket { rate: 2, burst: 3 }));
        assert_eq!(
            parse_deliver_reply(&deliver_reply("acked", Some(&[7; 32]))),
            (Some("acked".into()), Some([7; 32]))
        );
    }
}
