//! `info`: the node's version and clock. No params; any node answers.

use serde_json::{Value, json};

use crate::formats::rpc::reply::{SERVER_VERSION, with_t_hf};

// ---- reply (node) ------------------------------------------------------------------------

/// `info` reply: `{"version": [2, x, y], "timestamp": ms, "t", "hf"}`.
pub fn info_reply(now_ms: u64) -> Value {
    with_t_hf(json!({ "version": SERVER_VERSION, "timestamp": now_ms }), now_ms)
}
