//! The error every RPC rule produces: an HTTP status of the live network and a message (or, for
//! 421 and 432, a JSON body).

use serde_json::{Value, json};

/// The statuses the storage RPC answers with (storage-rpc.md "HTTP status codes").
pub mod status {
    /// Success.
    pub const OK: u16 = 200;
    /// Accepted without a result (a `sync_deliver` whose ack did not come in time).
    pub const ACCEPTED: u16 = 202;
    /// Bad JSON or params: "invalid request: …".
    pub const BAD_REQUEST: u16 = 400;
    /// Bad or missing signature.
    pub const UNAUTHORIZED: u16 = 401;
    /// TTL out of range.
    pub const FORBIDDEN: u16 = 403;
    /// `delete` with `required: true` found nothing.
    pub const NOT_FOUND: u16 = 404;
    /// Clock out of sync (timestamps).
    pub const NOT_ACCEPTABLE: u16 = 406;
    /// Too large (a `sync_deliver` over `SYNC_MAX_DATA_BYTES`).
    pub const PAYLOAD_TOO_LARGE: u16 = 413;
    /// Over a rate or a cap (the sync methods).
    pub const TOO_MANY_REQUESTS: u16 = 429;
    /// Wrong swarm; the body is the right swarm's `get_swarm` JSON.
    pub const MISDIRECTED_REQUEST: u16 = 421;
    /// Invalid proof of work; the body is `{"difficulty": N}`.
    pub const INVALID_POW: u16 = 432;
    /// The node failed internally.
    pub const INTERNAL_SERVER_ERROR: u16 = 500;
    /// A relay could not reach the next hop.
    pub const BAD_GATEWAY: u16 = 502;
    /// The node is not ready (no swarm yet) or its store is busy.
    pub const SERVICE_UNAVAILABLE: u16 = 503;
    /// A request to another node timed out.
    pub const GATEWAY_TIMEOUT: u16 = 504;
}

/// A reply body: JSON, or plain text (the live network answers most errors as text).
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyBody {
    /// A JSON body.
    Json(Value),
    /// A plain-text body.
    Text(String),
    /// A binary body (`active_nodes_bin`), sent as `application/octet-stream`.
    Binary(Vec<u8>),
}

impl ReplyBody {
    /// The body as a JSON value where one is needed (a batch result, an onion reply, a
    /// forwarded answer): JSON as is, text as a string, binary as a base64 string.
    pub fn into_json(self) -> Value {
        match self {
            ReplyBody::Json(v) => v,
            ReplyBody::Text(t) => Value::String(t),
            ReplyBody::Binary(b) => {
                use base64::Engine;
                Value::String(base64::engine::general_purpose::STANDARD.encode(b))
            }
        }
    }
}

/// A refused or failed request: the status to answer with and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct RpcError {
    /// The HTTP status to answer with.
    pub status: u16,
    /// Why, as the plain-text body.
    pub message: String,
    /// A JSON body to send instead of `message` (421, 432).
    pub json: Option<Value>,
}

impl RpcError {
    /// An error with this status and message.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), json: None }
    }

    /// 400 "invalid request: …" (bad JSON, missing or malformed params).
    pub fn invalid_request(why: impl std::fmt::Display) -> Self {
        Self::new(status::BAD_REQUEST, format!("invalid request: {why}"))
    }

    /// 401: bad or missing signature.
    pub fn unauthorized(why: impl Into<String>) -> Self {
        Self::new(status::UNAUTHORIZED, why)
    }

    /// 403: the TTL (expiry - timestamp) is outside what the namespace allows.
    pub fn bad_ttl() -> Self {
        Self::new(status::FORBIDDEN, "Provided expiry/TTL is not valid.")
    }

    /// 406: a timestamp too far from the node's clock.
    pub fn clock(why: impl Into<String>) -> Self {
        Self::new(status::NOT_ACCEPTABLE, why)
    }

    /// 404: `delete` with `required: true` deleted nothing.
    pub fn not_found(why: impl Into<String>) -> Self {
        Self::new(status::NOT_FOUND, why)
    }

    /// 421 with the right swarm's `get_swarm` JSON (+ t/hf) as the body; see
    /// [`crate::formats::rpc::wrong_swarm`].
    pub fn misdirected(body: Value) -> Self {
        Self { status: status::MISDIRECTED_REQUEST, message: "wrong swarm".into(), json: Some(body) }
    }

    /// 432: the store's proof of work does not meet `difficulty`; body `{"difficulty": N}`.
    pub fn invalid_pow(difficulty: u64) -> Self {
        Self {
            status: status::INVALID_POW,
            message: format!("invalid proof of work: difficulty {difficulty} required"),
            json: Some(json!({ "difficulty": difficulty })),
        }
    }

    /// 500: the node failed (database error, …).
    pub fn internal(why: impl Into<String>) -> Self {
        Self::new(status::INTERNAL_SERVER_ERROR, why)
    }

    /// 502: e.g. "Next node not found: `<ed25519>`".
    pub fn bad_gateway(why: impl Into<String>) -> Self {
        Self::new(status::BAD_GATEWAY, why)
    }

    /// 503: the node is not ready (no swarm yet, store busy).
    pub fn unavailable(why: impl Into<String>) -> Self {
        Self::new(status::SERVICE_UNAVAILABLE, why)
    }

    /// 504: a request to another node timed out.
    pub fn timeout(why: impl Into<String>) -> Self {
        Self::new(status::GATEWAY_TIMEOUT, why)
    }

    /// What to send: the JSON body if there is one, else the message as text.
    pub fn body(&self) -> ReplyBody {
        match &self.json {
            Some(v) => ReplyBody::Json(v.clone()),
            None => ReplyBody::Text(self.message.clone()),
        }
    }
}
