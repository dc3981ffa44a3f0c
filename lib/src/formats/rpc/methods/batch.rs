//! `batch` and `sequence`: 1–20 subrequests in one request, answered
//! `{"results": [{"code", "body"}]}` in request order (always 200). A batch runs them all; a
//! sequence stops after the first status outside 2xx. Any subrequest that does not parse fails
//! the whole request with its own message; meta-requests may not nest.

use serde_json::{Value, json};

use crate::formats::limits::BATCH_REQUEST_MAX;
use crate::formats::rpc::fields::{Params, get};
use crate::formats::rpc::request::{Request, is_method, parse_request_value};
use crate::formats::rpc::{ReplyBody, RpcError};

/// One parsed subrequest and its body as a request of its own (what a swarm peer is sent when
/// the subrequest is recursive).
#[derive(Debug, Clone, PartialEq)]
pub struct SubRequest {
    /// The parsed subrequest.
    pub request: Request,
    /// `{"method", "params"}` of the subrequest, serialized.
    pub body: Vec<u8>,
}

/// `batch` / `sequence` params.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchParams {
    /// The subrequests, in request order.
    pub requests: Vec<SubRequest>,
}

fn bad(why: &str) -> RpcError {
    RpcError::invalid_request(format!("Invalid batch request: {why}"))
}

impl BatchParams {
    /// Reads `{"requests": [{"method", "params"}, …]}` (400 with the live texts).
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let list = match get(p, "requests") {
            Some(Value::Array(a)) if !a.is_empty() => a,
            _ => return Err(bad("no valid \"requests\" field")),
        };
        if list.len() > BATCH_REQUEST_MAX {
            return Err(bad("subrequest limit exceeded"));
        }
        let mut requests = Vec::with_capacity(list.len());
        for sub in list {
            let Value::Object(obj) = sub else { return Err(bad("requests must be objects")) };
            let (Some(Value::String(method)), Some(params @ Value::Object(_))) =
                (obj.get("method"), obj.get("params"))
            else {
                return Err(bad("subrequests must have method/params keys"));
            };
            if matches!(method.as_str(), "batch" | "sequence" | "ifelse") {
                return Err(RpcError::invalid_request(
                    "Invalid batch subrequest: subrequests may not contain meta-requests",
                ));
            }
            if !is_method(method) {
                let shown: String = method.chars().take(64).collect();
                return Err(RpcError::invalid_request(format!(
                    "Invalid batch subrequest: invalid method \"{shown}\""
                )));
            }
            let v = json!({ "method": method, "params": params });
            let body = serde_json::to_vec(&v).map_err(|e| RpcError::internal(e.to_string()))?;
            requests.push(SubRequest { request: parse_request_value(v)?, body });
        }
        Ok(Self { requests })
    }
}

/// One subrequest's result: `{"code": status, "body": json | text | base64}`.
pub fn batch_result(status: u16, body: ReplyBody) -> Value {
    json!({ "code": status, "body": body.into_json() })
}

/// The reply: `{"results": [...]}` (no `t`/`hf`).
pub fn batch_reply(results: Vec<Value>) -> Value {
    json!({ "results": results })
}

/// Whether a `sequence` stops after a subrequest answered `status` (outside 2xx).
pub fn sequence_stops(status: u16) -> bool {
    !(200..300).contains(&status)
}
