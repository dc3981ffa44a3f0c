//! `ifelse`: one of two subrequests, chosen by a condition on the node's hard fork, storage
//! server version and chain height, so a client can use a new method only where a node has it.
//! Always answered 200 `{"hf", "v", "height", "condition"[, "result": {"code", "body"}]}`;
//! `result` is left out when the chosen branch is absent. A branch may be any method, another
//! `ifelse`, `batch` or `sequence` included.

use serde_json::{Value, json};

use super::batch::SubRequest;
use crate::formats::rpc::RpcError;
use crate::formats::rpc::fields::{Params, get};
use crate::formats::rpc::request::parse_request_value;

fn bad(why: &str) -> RpcError {
    RpcError::invalid_request(format!("Invalid ifelse request: {why}"))
}

/// What the node is: the versions an `ifelse` condition is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeVersion {
    /// The hard fork (`[major, minor]`).
    pub hf: [u64; 2],
    /// The storage server version (`[major, minor, patch]`).
    pub v: [u64; 3],
    /// The chain height (snkit: the registry's event count, its stand-in for the chain).
    pub height: u64,
}

/// The `if` object: every bound given must hold (they are ANDed). Versions compare as integer
/// arrays, lexicographically, as the live server does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Condition {
    /// `hf_at_least`: the node's hard fork is this or later.
    pub hf_at_least: Option<[u64; 2]>,
    /// `hf_before`: the node's hard fork is earlier than this.
    pub hf_before: Option<[u64; 2]>,
    /// `v_at_least`: the node's version is this or later.
    pub v_at_least: Option<[u64; 3]>,
    /// `v_before`: the node's version is earlier than this.
    pub v_before: Option<[u64; 3]>,
    /// `height_at_least`: the chain is at least this high.
    pub height_at_least: Option<u64>,
    /// `height_before`: the chain is lower than this.
    pub height_before: Option<u64>,
}

impl Condition {
    /// Whether the condition holds on `node`.
    pub fn holds(&self, node: &NodeVersion) -> bool {
        self.hf_at_least.is_none_or(|hf| node.hf >= hf)
            && self.hf_before.is_none_or(|hf| node.hf < hf)
            && self.v_at_least.is_none_or(|v| node.v >= v)
            && self.v_before.is_none_or(|v| node.v < v)
            && self.height_at_least.is_none_or(|h| node.height >= h)
            && self.height_before.is_none_or(|h| node.height < h)
    }

    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A version bound: an integer array, padded with zeros or cut to `N` entries (the live server
/// also takes a bare integer for the hard fork). An empty array counts as absent.
fn version<const N: usize>(
    cond: &serde_json::Map<String, Value>,
    key: &str,
    bare_int: bool,
) -> Result<Option<[u64; N]>, RpcError> {
    let items: Vec<u64> = match cond.get(key) {
        None => return Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_u64().ok_or_else(|| bad(&format!("\"{key}\" must be an array of integers"))))
            .collect::<Result<_, _>>()?,
        Some(v) if bare_int && v.is_u64() => vec![v.as_u64().unwrap_or(0)],
        Some(_) => return Err(bad(&format!("\"{key}\" must be an array of integers"))),
    };
    if items.is_empty() {
        return Ok(None);
    }
    let mut out = [0u64; N];
    for (slot, x) in out.iter_mut().zip(items) {
        *slot = x;
    }
    Ok(Some(out))
}

fn height(cond: &serde_json::Map<String, Value>, key: &str) -> Result<Option<u64>, RpcError> {
    match cond.get(key) {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| bad(&format!("\"{key}\" must be an integer"))),
    }
}

/// One branch: `{"method", "params"}`, any method.
fn branch(p: &Params, key: &str) -> Result<Option<SubRequest>, RpcError> {
    let Some(v) = get(p, key) else { return Ok(None) };
    let Value::Object(obj) = v else { return Err(bad(&format!("{key} must be an object"))) };
    let (Some(Value::String(method)), Some(params @ Value::Object(_))) =
        (obj.get("method"), obj.get("params"))
    else {
        return Err(bad(&format!("{key} must have method/params keys")));
    };
    let v = json!({ "method": method, "params": params });
    let body = serde_json::to_vec(&v).map_err(|e| RpcError::internal(e.to_string()))?;
    // The live server names the branch's key, not its method, when the method is unknown.
    let request = parse_request_value(v).map_err(|e| {
        if e.message.starts_with("invalid request: unknown method") {
            RpcError::invalid_request(format!("Invalid ifelse request method \"{key}\""))
        } else {
            e
        }
    })?;
    Ok(Some(SubRequest { request, body }))
}

/// `ifelse` params.
#[derive(Debug, Clone, PartialEq)]
pub struct IfElseParams {
    /// The condition (`if`).
    pub condition: Condition,
    /// What runs when it holds (`then`).
    pub then: Option<Box<SubRequest>>,
    /// What runs when it does not (`else`).
    pub otherwise: Option<Box<SubRequest>>,
}

impl IfElseParams {
    /// Reads `{"if": {...}, "then": {...}, "else": {...}}` (400 with the live texts), in the
    /// live JSON order: `if`, then `then`, then `else`.
    pub fn parse(p: &Params) -> Result<Self, RpcError> {
        let Some(Value::Object(cond)) = get(p, "if") else { return Err(bad("no valid \"if\" field")) };
        let condition = Condition {
            hf_at_least: version::<2>(cond, "hf_at_least", true)?,
            hf_before: version::<2>(cond, "hf_before", true)?,
            v_at_least: version::<3>(cond, "v_at_least", false)?,
            v_before: version::<3>(cond, "v_before", false)?,
            height_at_least: height(cond, "height_at_least")?,
            height_before: height(cond, "height_before")?,
        };
        if condition.is_empty() {
            return Err(bad("must specify at least one \"if\" condition"));
        }
        let then = branch(p, "then")?.map(Box::new);
        let otherwise = branch(p, "else")?.map(Box::new);
        if then.is_none() && otherwise.is_none() {
            return Err(bad("at least one of \"then\"/\"else\" required"));
        }
        Ok(Self { condition, then, otherwise })
    }

    /// The branch to run on `node` (None: the chosen branch is absent), and whether the
    /// condition held.
    pub fn choose(self, node: &NodeVersion) -> (bool, Option<SubRequest>) {
        let held = self.condition.holds(node);
        let chosen = if held { self.then } else { self.otherwise };
        (held, chosen.map(|b| *b))
    }
}

/// The reply: the node's versions, whether the condition held, and the branch's result if one ran.
pub fn ifelse_reply(node: &NodeVersion, condition: bool, result: Option<Value>) -> Value {
    let mut v = json!({ "hf": node.hf, "v": node.v, "height": node.height, "condition": condition });
    if let (Some(r), Value::Object(m)) = (result, &mut v) {
        m.insert("result".into(), r);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Params {
        match v {
            Value::Object(m) => m,
            _ => Params::new(),
        }
    }

    const NODE: NodeVersion = NodeVersion { hf: [19, 3], v: [2, 11, 0], height: 40 };

    #[test]
    fn conditions_are_anded_and_compare_lexicographically() {
        let c =
            |v: Value| IfElseParams::parse(&params(json!({"if": v, "then": {"method":"info","params":{}}})));
        assert!(c(json!({"hf_at_least": [19, 3]})).unwrap().condition.holds(&NODE));
        assert!(c(json!({"hf_at_least": 19})).unwrap().condition.holds(&NODE), "a bare hard fork");
        assert!(!c(json!({"hf_before": [19]})).unwrap().condition.holds(&NODE), "[19] pads to [19,0]");
        assert!(c(json!({"v_at_least": [2, 10, 9], "v_before": [2, 12]})).unwrap().condition.holds(&NODE));
        assert!(!c(json!({"v_at_least": [2, 11, 1]})).unwrap().condition.holds(&NODE));
        assert!(!c(json!({"hf_at_least": [19], "height_at_least": 41})).unwrap().condition.holds(&NODE));
        assert!(c(json!({"height_before": 41})).unwrap().condition.holds(&NODE));
    }

    #[test]
    fn refusals_use_the_live_texts() {
        let msg = |v: Value| IfElseParams::parse(&params(v)).unwrap_err().message;
        let info = json!({"method":"info","params":{}});
        assert_eq!(
            msg(json!({"then": info})),
            "invalid request: Invalid ifelse request: no valid \"if\" field"
        );
        assert_eq!(
            msg(json!({"if": {"v_at_least": []}, "then": info})),
            "invalid request: Invalid ifelse request: must specify at least one \"if\" condition"
        );
        assert_eq!(
            msg(json!({"if": {"hf_at_least": [19]}})),
            "invalid request: Invalid ifelse request: at least one of \"then\"/\"else\" required"
        );
        assert_eq!(
            msg(json!({"if": {"hf_at_least": [19]}, "then": 5})),
            "invalid request: Invalid ifelse request: then must be an object"
        );
        assert_eq!(
            msg(json!({"if": {"hf_at_least": [19]}, "else": {"method": "info"}})),
            "invalid request: Invalid ifelse request: else must have method/params keys"
        );
        assert_eq!(
            msg(json!({"if": {"hf_at_least": [19]}, "then": {"method":"nope","params":{}}})),
            "invalid request: Invalid ifelse request method \"then\""
        );
    }

    #[test]
    fn the_chosen_branch_and_the_reply() {
        let p = IfElseParams::parse(&params(json!({
            "if": {"hf_at_least": [99]},
            "then": {"method":"info","params":{}},
            "else": {"method":"ifelse","params":{"if":{"height_at_least":1},"then":{"method":"info","params":{}}}},
        })))
        .unwrap();
        let (held, chosen) = p.choose(&NODE);
        assert!(!held);
        assert_eq!(chosen.map(|s| s.request.method()), Some("ifelse"), "branches may nest");
        assert_eq!(
            ifelse_reply(&NODE, false, None),
            json!({"hf":[19,3],"v":[2,11,0],"height":40,"condition":false}),
            "no result when the chosen branch is absent"
        );
        assert_eq!(ifelse_reply(&NODE, true, Some(json!({"code":200,"body":{}})))["result"]["code"], 200);
    }
}
