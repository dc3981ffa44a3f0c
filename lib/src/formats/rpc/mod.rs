//! The storage JSON-RPC of a service node, exactly as the live Session network serves it
//! (spec storage-rpc.md): request parsing into typed params, validation with the live statuses,
//! message hashes, request signatures, reply builders for the node, and (in [`client`]) the
//! request builders and reply parsers for clients.
//!
//! This is a pure layer: no sockets, no HTTP, no database. The daemon reads a body, calls
//! [`parse_request`], validates with the current time (`StoreParams::validate(now_ms)` …), runs
//! the operation on its [`crate::snode::store::Store`], and answers with a reply builder's JSON (or an
//! [`RpcError`]'s status and body).

pub mod client;
mod error;
mod hash;
pub mod message;
mod params;
mod reply;
mod sig;

pub use error::{ReplyBody, RpcError, status};
pub use hash::{legacy_message_hash_v22, message_hash};
pub use params::{
    DeleteParams, GetSwarmParams, OxendRequestParams, Request, RetrieveParams, RetrieveQuery, StoreParams,
    is_noauth_retrieve_namespace, is_public_inbox, parse_request, parse_request_value,
    resolve_retrieve_limits,
};
pub use reply::{
    HARDFORK, SERVER_VERSION, StoreMemberFailure, SwarmMember, base32z, delete_member_ok,
    delete_signature_message, get_swarm_reply, info_reply, oxend_reply, retrieve_reply, signer,
    store_member_failed, store_member_ok, swarm_reply, with_t_hf, wrong_swarm,
};
pub use sig::{
    decode_signature, delete_sig_message, namespace_part, retrieve_sig_message, store_sig_message,
    verify_signature,
};

#[cfg(test)]
mod tests;
