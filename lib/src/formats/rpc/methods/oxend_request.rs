//! `oxend_request`: the oxend call a node forwards; snkit serves only `get_service_nodes`, the
//! node list.

use serde_json::{Value, json};

use crate::formats::rpc::RpcError;
use crate::formats::rpc::fields::{Params, get, missing, opt_str};
use crate::formats::rpc::reply::with_t_hf;

// ---- params (node) -----------------------------------------------------------------------

/// `oxend_request` params: snkit serves only `get_service_nodes` (the node list).
#[derive(Debug, Clone, PartialEq)]
pub struct OxendRequestParams {
    /// The oxend endpoint asked for.
    pub endpoint: String,
    /// Its params, if any.
    pub params: Option<Value>,
}

impl OxendRequestParams {
    /// Parses the params of an `oxend_request`.
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let endpoint = opt_str(p, "endpoint")?.ok_or_else(|| missing("endpoint"))?;
        if endpoint != "get_service_nodes" {
            let shown: String = endpoint.chars().take(64).collect();
            return Err(RpcError::invalid_request(format!("Invalid oxend endpoint '{shown}'")));
        }
        Ok(Self { endpoint: endpoint.to_owned(), params: get(p, "params").cloned() })
    }
}

// ---- reply (node) ------------------------------------------------------------------------

/// `oxend_request` reply: `{"result": <oxend json>, "t", "hf"}` (for get_service_nodes, the
/// node list `{"service_node_states": [...]}`).
pub fn oxend_reply(result: Value, now_ms: u64) -> Value {
    with_t_hf(json!({ "result": result }), now_ms)
}
