//! The one place a method name becomes a method: the [`Request`] enum and its dispatch
//! ([`parse_request`]), and the client's request body. Adding a method is one file under
//! `methods/`, one variant and one line in the match below.

use serde_json::{Map, Value, json};

use super::RpcError;
use super::methods::{
    BatchParams, DeleteAllParams, DeleteBeforeParams, DeleteParams, ExpireAllParams, ExpireParams,
    GetExpiriesParams, GetSwarmParams, IfElseParams, OxendRequestParams, RetrieveParams, RevokeKind,
    RevokeSubaccountParams, RevokedSubaccountsParams, StoreParams,
};
use super::subaccount::SubaccountToken;
use crate::formats::keys::Pubkey;
use crate::formats::limits::RPC_MAX_BODY_BYTES;

/// A parsed storage RPC request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `store`.
    Store(StoreParams),
    /// `retrieve`.
    Retrieve(RetrieveParams),
    /// `delete`.
    Delete(DeleteParams),
    /// `delete_all`: a namespace's (or every) message of a mailbox.
    DeleteAll(DeleteAllParams),
    /// `delete_before`: messages with a timestamp at most `before`.
    DeleteBefore(DeleteBeforeParams),
    /// `expire`: set some messages' expiry.
    Expire(ExpireParams),
    /// `expire_all`: shorten every message's expiry.
    ExpireAll(ExpireAllParams),
    /// `get_expiries`: some messages' current expiry.
    GetExpiries(GetExpiriesParams),
    /// `revoke_subaccount` / `unrevoke_subaccount`: the owner refuses (or accepts again) tokens.
    RevokeSubaccount(RevokeSubaccountParams),
    /// `revoked_subaccounts`: the tokens the account has revoked.
    RevokedSubaccounts(RevokedSubaccountsParams),
    /// `batch`: every subrequest runs.
    Batch(BatchParams),
    /// `sequence`: subrequests run in order until one fails.
    Sequence(BatchParams),
    /// `ifelse`: one of two subrequests, chosen by the node's versions.
    IfElse(IfElseParams),
    /// `get_swarm` or its alias `get_snodes_for_pubkey`.
    GetSwarm(GetSwarmParams),
    /// `info`.
    Info,
    /// `active_nodes_bin`: every active node, 51 bytes each.
    ActiveNodesBin,
    /// `oxend_request` (the node answers only `get_service_nodes` and its aliases).
    OxendRequest(OxendRequestParams),
}

impl Request {
    /// The method name as the live network spells it.
    pub fn method(&self) -> &'static str {
        match self {
            Request::Store(_) => "store",
            Request::Retrieve(_) => "retrieve",
            Request::Delete(_) => "delete",
            Request::DeleteAll(_) => "delete_all",
            Request::DeleteBefore(_) => "delete_before",
            Request::Expire(_) => "expire",
            Request::ExpireAll(_) => "expire_all",
            Request::GetExpiries(_) => "get_expiries",
            Request::RevokeSubaccount(p) => p.kind.method(),
            Request::RevokedSubaccounts(_) => "revoked_subaccounts",
            Request::ActiveNodesBin => "active_nodes_bin",
            Request::Batch(_) => "batch",
            Request::Sequence(_) => "sequence",
            Request::IfElse(_) => "ifelse",
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
            Request::DeleteAll(p) => Some(&p.pubkey),
            Request::DeleteBefore(p) => Some(&p.pubkey),
            Request::Expire(p) => Some(&p.pubkey),
            Request::ExpireAll(p) => Some(&p.pubkey),
            Request::GetExpiries(p) => Some(&p.pubkey),
            Request::RevokeSubaccount(p) => Some(&p.pubkey),
            _ => None,
        }
    }

    /// The account and subaccount token this request is signed with, if any (the node checks
    /// the token against its revocation table before validating). A retrieve from an
    /// unrevocable namespace (`-(100n+11)`) skips that check, as live.
    pub fn subaccount_token(&self) -> Option<(Pubkey, SubaccountToken)> {
        let (pk, sub) = match self {
            Request::Store(p) => (&p.pubkey, &p.subaccount),
            Request::Retrieve(p) if !super::message::is_unrevocable_namespace(p.namespace) => {
                (&p.pubkey, &p.subaccount)
            }
            Request::Delete(p) => (&p.pubkey, &p.subaccount),
            Request::DeleteAll(p) => (&p.pubkey, &p.subaccount),
            Request::DeleteBefore(p) => (&p.pubkey, &p.subaccount),
            Request::Expire(p) => (&p.pubkey, &p.subaccount),
            Request::ExpireAll(p) => (&p.pubkey, &p.subaccount),
            Request::GetExpiries(p) => (&p.pubkey, &p.subaccount),
            _ => return None,
        };
        sub.as_ref().map(|s| (*pk, s.token))
    }

    /// Marks the request's subaccount as revoked, so that its validation fails (401).
    pub fn mark_subaccount_revoked(&mut self) {
        let sub = match self {
            Request::Store(p) => &mut p.subaccount,
            Request::Retrieve(p) => &mut p.subaccount,
            Request::Delete(p) => &mut p.subaccount,
            Request::DeleteAll(p) => &mut p.subaccount,
            Request::DeleteBefore(p) => &mut p.subaccount,
            Request::Expire(p) => &mut p.subaccount,
            Request::ExpireAll(p) => &mut p.subaccount,
            Request::GetExpiries(p) => &mut p.subaccount,
            _ => return,
        };
        if let Some(s) = sub {
            s.revoked = true;
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
        "delete_all" => Request::DeleteAll(DeleteAllParams::parse(&params)?),
        "delete_before" => Request::DeleteBefore(DeleteBeforeParams::parse(&params)?),
        "expire" => Request::Expire(ExpireParams::parse(&params)?),
        "expire_all" => Request::ExpireAll(ExpireAllParams::parse(&params)?),
        "get_expiries" => Request::GetExpiries(GetExpiriesParams::parse(&params)?),
        "revoke_subaccount" => {
            Request::RevokeSubaccount(RevokeSubaccountParams::parse(&params, RevokeKind::Revoke)?)
        }
        "unrevoke_subaccount" => {
            Request::RevokeSubaccount(RevokeSubaccountParams::parse(&params, RevokeKind::Unrevoke)?)
        }
        "batch" => Request::Batch(BatchParams::parse(&params)?),
        "sequence" => Request::Sequence(BatchParams::parse(&params)?),
        "ifelse" => Request::IfElse(IfElseParams::parse(&params)?),
        "get_swarm" | "get_snodes_for_pubkey" => Request::GetSwarm(GetSwarmParams::parse(&params)?),
        "info" => Request::Info,
        "active_nodes_bin" => Request::ActiveNodesBin,
        "revoked_subaccounts" => Request::RevokedSubaccounts(RevokedSubaccountsParams::parse(&params)?),
        "oxend_request" => Request::OxendRequest(OxendRequestParams::parse(&params)?),
        other => {
            let shown: String = other.chars().take(64).collect();
            return Err(RpcError::invalid_request(format!("unknown method '{shown}'")));
        }
    })
}

/// The methods a subrequest of a batch may name (the live list minus what snode does not
/// serve yet).
const SUBREQUEST_METHODS: &[&str] = &[
    "store",
    "retrieve",
    "delete",
    "delete_all",
    "delete_before",
    "expire",
    "expire_all",
    "get_expiries",
    "revoke_subaccount",
    "unrevoke_subaccount",
    "revoked_subaccounts",
    "get_swarm",
    "get_snodes_for_pubkey",
    "oxend_request",
    "info",
    "active_nodes_bin",
];

/// Whether `method` is one a batch subrequest may name.
pub(crate) fn is_method(method: &str) -> bool {
    SUBREQUEST_METHODS.contains(&method)
}

/// The body of a storage RPC request: `{"method": ..., "params": ...}`.
pub fn request(method: &str, params: Value) -> Value {
    json!({ "method": method, "params": params })
}
