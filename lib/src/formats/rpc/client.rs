//! The client side of the storage RPC: what every reply parser shares, and (re-exported here, so
//! that `rpc::client::X` stays the client's one path) each method's request builder and reply
//! parser from `methods/`. The `get_swarm` reply (also a 421's body) has one parser,
//! [`crate::formats::nodelist::parse_get_swarm_reply`].

use serde_json::Value;

pub use super::methods::delete::delete_params;
pub use super::methods::delete_all::{delete_all_params, namespace_json};
pub use super::methods::delete_before::delete_before_params;
pub use super::methods::expire::expire_params;
pub use super::methods::expire_all::expire_all_params;
pub use super::methods::get_expiries::get_expiries_params;
pub use super::methods::get_swarm::get_swarm_params;
pub use super::methods::retrieve::{RetrieveReply, RetrievedMessage, parse_retrieve_reply, retrieve_params};
pub use super::methods::revoke_subaccount::revoke_params;
pub use super::methods::store::{
    MemberStore, StoreReply, parse_store_reply, signed_store_params, store_params,
};
pub use super::request::request;

/// Why a reply could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// The reply is not a JSON object.
    #[error("reply is not a JSON object")]
    NotObject,
    /// A required field is absent.
    #[error("reply has no '{0}' field")]
    Missing(&'static str),
    /// A field has the wrong JSON type.
    #[error("reply field '{0}' has the wrong type")]
    WrongType(&'static str),
    /// A message's data is not base64.
    #[error("reply message data is not base64")]
    BadData,
}

pub(super) fn obj(v: &Value) -> Result<&serde_json::Map<String, Value>, ReplyError> {
    v.as_object().ok_or(ReplyError::NotObject)
}

pub(super) fn u64_field(m: &serde_json::Map<String, Value>, name: &'static str) -> Result<u64, ReplyError> {
    m.get(name).ok_or(ReplyError::Missing(name))?.as_u64().ok_or(ReplyError::WrongType(name))
}

pub(super) fn str_field<'a>(
    m: &'a serde_json::Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, ReplyError> {
    m.get(name).ok_or(ReplyError::Missing(name))?.as_str().ok_or(ReplyError::WrongType(name))
}
