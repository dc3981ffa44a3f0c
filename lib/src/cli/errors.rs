//! Every library error's command-line form, decided here once: one line, exit 2 when the
//! input was at fault, 1 when the operation failed, and a hint where one helps.

use super::CliError;
use crate::client::ClientError;
use crate::client::lookup::LookupError;
use crate::formats::ratchet::RatchetError;
use crate::net::NetError;

/// The command-line form of a client error: one line, exit 2 for bad input, 1 for the network,
/// with a hint where one helps.
impl From<ClientError> for CliError {
    fn from(err: ClientError) -> Self {
        let hint = match &err {
            ClientError::Net(NetError::NodeList { .. }) => {
                Some("pass the nodes.json that 'testnet up' wrote, or --node http://IP:PORT")
            }
            ClientError::Net(NetError::Bootstrap { .. }) => {
                Some("is the node running? check the URL, e.g. http://127.0.0.1:PORT")
            }
            ClientError::NoneStored { .. } | ClientError::Unreachable { .. } => {
                Some("are the nodes running? 'testnet status --dir DIR' lists them")
            }
            ClientError::MessageTooLarge { .. } => Some("split the message, or send an attachment reference"),
            _ => None,
        };
        let base = if err.is_usage() { CliError::usage(&err) } else { CliError::failed(&err) };
        match hint {
            Some(h) => base.hint(h),
            None => base,
        }
    }
}

impl From<RatchetError> for CliError {
    fn from(e: RatchetError) -> Self {
        let hint = match &e {
            RatchetError::NoSession { .. } => {
                Some("a session starts with 'ratchet request' on one side and 'ratchet accept' on the other")
            }
            RatchetError::StateOwner { .. } => Some("each identity needs its own --state directory"),
            RatchetError::CorruptState(_) => {
                Some("the state directory was edited or damaged; restore it from a backup")
            }
            _ => None,
        };
        let err = if e.is_bad_input() { Self::usage(&e) } else { Self::failed(&e) };
        match hint {
            Some(h) => err.hint(h),
            None => err,
        }
    }
}

/// `swarm-of`'s lookups: the network's or a node's failure is exit 1, the input's exit 2.
impl From<LookupError> for CliError {
    fn from(e: LookupError) -> Self {
        if e.is_network() { Self::failed(e) } else { Self::usage(e) }
    }
}
