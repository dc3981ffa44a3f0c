//! One file per storage RPC method, each holding everything of that method: its params (parse
//! and validation), the string the client signs and the node verifies, the client's request
//! builder, the node's reply (and its signature over it) and the client's reply parser. What
//! methods share lives beside this folder (`fields`, `sig`, `reply`, `message`, `hash`, `error`);
//! the name → method dispatch is `request::parse_request_value`.

pub(crate) mod active_nodes_bin;
pub(crate) mod batch;
pub(crate) mod delete;
pub(crate) mod delete_all;
pub(crate) mod delete_before;
pub(crate) mod expire;
pub(crate) mod expire_all;
pub(crate) mod get_expiries;
pub(crate) mod get_swarm;
pub(crate) mod ifelse;
pub(crate) mod info;
pub(crate) mod oxend_request;
pub(crate) mod retrieve;
pub(crate) mod revoke_subaccount;
pub(crate) mod revoked_subaccounts;
pub(crate) mod store;

pub use batch::{BatchParams, SubRequest};
pub use delete::DeleteParams;
pub use delete_all::DeleteAllParams;
pub use delete_before::DeleteBeforeParams;
pub use expire::{ExpireMode, ExpireOutcome, ExpireParams};
pub use expire_all::ExpireAllParams;
pub use get_expiries::GetExpiriesParams;
pub use get_swarm::GetSwarmParams;
pub use ifelse::{IfElseParams, NodeVersion};
pub use oxend_request::OxendRequestParams;
pub use retrieve::{RetrieveParams, RetrieveQuery};
pub use revoke_subaccount::{RevokeKind, RevokeSubaccountParams};
pub use revoked_subaccounts::RevokedSubaccountsParams;
pub use store::StoreParams;
