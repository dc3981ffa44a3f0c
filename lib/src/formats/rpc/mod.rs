//! The storage JSON-RPC of a service node, exactly as the live Session network serves it
//! (spec storage-rpc.md): request parsing into typed params, validation with the live statuses,
//! message hashes, request signatures, reply builders for the node, and (in [`client`]) the
//! request builders and reply parsers for clients.
//!
//! One file per method under `methods/` (params, signed string, request builder, replies); the
//! dispatch of a method name is [`parse_request_value`]. Everything is re-exported here, so that
//! callers name `rpc::X` (node side) and `rpc::client::X` (client side) whatever file it is in.
//!
//! This is a pure layer: no sockets, no HTTP, no database. The daemon reads a body, calls
//! [`parse_request`], validates with the current time (`StoreParams::validate(now_ms)` …), runs
//! the operation on its store, and answers with a reply builder's JSON (or an [`RpcError`]'s
//! status and body).

pub mod client;
mod error;
pub mod errors;
mod fields;
pub mod group_subaccount;
mod hash;
pub mod message;
mod methods;
mod reply;
mod request;
mod sig;
mod sign;
pub mod subaccount;

pub use error::{ReplyBody, RpcError, status};
pub use hash::{legacy_message_hash_v22, message_hash};
pub use message::{is_noauth_retrieve_namespace, is_public_inbox, is_unrevocable_namespace};
pub use methods::active_nodes_bin::{ACTIVE_NODE_BYTES, active_nodes_bin};
pub use methods::batch::{batch_reply, batch_result, sequence_stops};
pub use methods::delete::{delete_member_ok, delete_sig_message, delete_signature_message};
pub use methods::delete_all::{
    delete_all_member_ok, delete_all_sig_message, delete_all_signature_message, hashes_by_namespace,
};
pub use methods::delete_before::delete_before_sig_message;
pub use methods::expire::{expire_member_ok, expire_sig_message};
pub use methods::expire_all::{expire_all_member_ok, expire_all_sig_message};
pub use methods::get_expiries::{get_expiries_reply, get_expiries_sig_message};
pub use methods::get_swarm::{SwarmMember, base32z, get_swarm_reply, wrong_swarm};
pub use methods::ifelse::ifelse_reply;
pub use methods::info::info_reply;
pub use methods::oxend_request::oxend_reply;
pub use methods::retrieve::{resolve_retrieve_limits, retrieve_reply, retrieve_sig_message};
pub use methods::revoke_subaccount::{revoke_member_ok, revoke_sig_message, revoke_signature_message};
pub use methods::revoked_subaccounts::{revoked_subaccounts_reply, revoked_subaccounts_sig_message};
pub use methods::store::{store_member_ok, store_sig_message};
pub use methods::{
    BatchParams, DeleteAllParams, DeleteBeforeParams, DeleteParams, ExpireAllParams, ExpireMode,
    ExpireOutcome, ExpireParams, GetExpiriesParams, GetSwarmParams, IfElseParams, NodeVersion,
    OxendRequestParams, RetrieveParams, RetrieveQuery, RevokeKind, RevokeSubaccountParams,
    RevokedSubaccountsParams, StoreParams, SubRequest,
};
pub use reply::{
    HARDFORK, SERVER_VERSION, StoreMemberFailure, signer, store_member_failed, swarm_reply, with_t_hf,
};
pub use request::{Request, parse_request, parse_request_value};
pub use sig::{NamespaceSel, decode_signature, namespace_part, verify_request, verify_signature};
pub use sign::verify_member_entry;
pub use subaccount::{Access, Subaccount, SubaccountGrant, SubaccountToken};

#[cfg(test)]
mod subaccount_tests;
#[cfg(test)]
mod tests;
