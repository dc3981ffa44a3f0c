//! The client side of the storage RPC: what every reply parser shares, the `get_swarm` reply
//! parser, and (re-exported here, so that `rpc::client::X` stays the client's one path) each
//! method's request builder and reply parser from `methods/`.

use serde_json::Value;

use super::methods::get_swarm::SwarmMember;

pub use super::methods::delete::delete_params;
pub use super::methods::get_swarm::get_swarm_params;
pub use super::methods::retrieve::{RetrieveReply, RetrievedMessage, parse_retrieve_reply, retrieve_params};
pub use super::methods::store::{
    MemberStore, StoreReply, parse_store_reply, signed_store_params, store_params,
};
pub use super::request::request;

/// Why a reply could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("reply is not a JSON object")]
    NotObject,
    #[error("reply has no '{0}' field")]
    Missing(&'static str),
    #[error("reply field '{0}' has the wrong type")]
    WrongType(&'static str),
    #[error("reply message data is not base64")]
    BadData,
    #[error("reply swarm id '{0}' is not hex")]
    BadSwarmId(String),
    #[error("reply snode key '{0}' is not 64 hex characters")]
    BadKey(String),
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

/// A parsed get_swarm reply (also the body of a 421).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmReply {
    pub swarm_id: u64,
    pub snodes: Vec<SwarmMember>,
}

fn key32(s: &str) -> Result<[u8; 32], ReplyError> {
    hex::decode(s)
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .ok_or_else(|| ReplyError::BadKey(s.to_owned()))
}

/// Parses `{"snodes": [{pubkey_ed25519, pubkey_x25519, ip, port_https, …}], "swarm": hex}`.
pub fn parse_swarm_reply(v: &Value) -> Result<SwarmReply, ReplyError> {
    let m = obj(v)?;
    let id = str_field(m, "swarm")?;
    let swarm_id = u64::from_str_radix(id, 16).map_err(|_| ReplyError::BadSwarmId(id.to_owned()))?;
    let list = m.get("snodes").ok_or(ReplyError::Missing("snodes"))?;
    let list = list.as_array().ok_or(ReplyError::WrongType("snodes"))?;
    let mut snodes = Vec::with_capacity(list.len());
    for s in list {
        let o = obj(s)?;
        let port = match o.get("port_https").and_then(Value::as_u64) {
            Some(p) => p,
            None => str_field(o, "port")?.parse().map_err(|_| ReplyError::WrongType("port"))?,
        };
        snodes.push(SwarmMember {
            pubkey_ed25519: key32(str_field(o, "pubkey_ed25519")?)?,
            pubkey_x25519: key32(str_field(o, "pubkey_x25519")?)?,
            ip: str_field(o, "ip")?.to_owned(),
            port: u16::try_from(port).map_err(|_| ReplyError::WrongType("port_https"))?,
        });
    }
    Ok(SwarmReply { swarm_id, snodes })
}
