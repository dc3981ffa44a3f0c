//! Every library error's command-line form, decided here once: one line, exit 2 when the
//! input was at fault, 1 when the operation failed, and a hint where one helps.

use super::CliError;
use crate::client::ClientError;
use crate::client::files::FilesError;
use crate::client::lookup::LookupError;
use crate::client::rpc::RpcCallError;
use crate::formats::mnemonic::MnemonicError;
use crate::formats::onion::OnionError;
use crate::formats::pow::PowError;
use crate::formats::ratchet::RatchetError;
use crate::net::NetError;
use crate::sogs::admin::AdminError;
use crate::testnet::TestnetError;

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

/// An `rpc` call: bad params exit 2; a refusal (the node's status and text), an unreachable
/// node or a missing swarm exit 1.
impl From<RpcCallError> for CliError {
    fn from(e: RpcCallError) -> Self {
        match &e {
            RpcCallError::BadParams(_) => {
                CliError::usage(&e).hint("see 'rpc --help' for each method's params")
            }
            RpcCallError::NoNode(_) => CliError::failed(&e).hint("is the account's swarm in the node list?"),
            _ => CliError::failed(&e),
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

/// `mnemonic decode`: a phrase that does not decode is bad input, with a hint for the usual slips.
impl From<MnemonicError> for CliError {
    fn from(err: MnemonicError) -> Self {
        let hint = match &err {
            MnemonicError::Checksum { .. } => Some("a word is mistyped, or two words are swapped"),
            MnemonicError::Bip39Checksum => Some("a word is mistyped, or two words are swapped"),
            MnemonicError::Ambiguous => Some("pass --format session or --format bip39"),
            MnemonicError::InvalidValue { .. } => Some("one of these three words is wrong"),
            _ => None,
        };
        let e = Self::usage(&err);
        match hint {
            Some(h) => e.hint(h),
            None => e,
        }
    }
}

/// `onion-wrap`: every onion failure is the input's (a body, a key or a path that does not fit).
impl From<OnionError> for CliError {
    fn from(e: OnionError) -> Self {
        let hint = matches!(e, OnionError::DecryptionFailed).then_some(
            "the body was tampered with, or the key is not the key of the node (or reply) it is for",
        );
        let err = Self::usage(e);
        match hint {
            Some(h) => err.hint(h),
            None => err,
        }
    }
}

/// `pow`: an impossible target or bad envelope is the input's; work that falls short, or a solve
/// that ended without a nonce, is a failed operation.
impl From<PowError> for CliError {
    fn from(e: PowError) -> Self {
        match e {
            PowError::ImpossibleTarget { .. } | PowError::Infeasible { .. } => {
                Self::usage(&e).hint("lower --difficulty, or shorten the data or the TTL")
            }
            PowError::InsufficientWork { .. } | PowError::MissingNonce(_) => Self::failed(e),
            PowError::Cancelled(_) | PowError::Exhausted => Self::failed(e),
            PowError::Envelope(_) | PowError::Threads(_) => Self::usage(e),
        }
    }
}

/// `testnet`: its usage errors exit 2, everything else (a node that does not start, I/O) 1.
impl From<TestnetError> for CliError {
    fn from(e: TestnetError) -> Self {
        match e {
            TestnetError::Usage(m) => Self::usage(m),
            other => Self::failed(other),
        }
    }
}

/// The command-line form of a file error: exit 2 for bad input, 1 for the server or the network
/// and for a file that does not verify.
impl From<FilesError> for CliError {
    fn from(err: FilesError) -> Self {
        let hint = match &err {
            FilesError::Unreachable { .. } => {
                Some("is the file server running? are the nodes? (or try --direct)")
            }
            FilesError::Refused { code: 404, .. } => {
                Some("a file lives until its expiry (14 days by default)")
            }
            FilesError::TooLarge { .. } => {
                Some("a file server takes the apps' limit: 10,218,286 bytes of file")
            }
            _ => None,
        };
        let base = if err.is_usage() { CliError::usage(&err) } else { CliError::failed(&err) };
        match hint {
            Some(h) => base.hint(h),
            None => base,
        }
    }
}

/// `sogs` administration: bad input (a room token, a Session ID, permission letters) exits 2;
/// what cannot be done (an existing room, a missing token) and database failures exit 1.
impl From<AdminError> for CliError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Usage(m) => Self::usage(m),
            AdminError::Failed(m) => Self::failed(m),
            other => Self::failed(other),
        }
    }
}

/// `community`: the caller's input (a join URL, a room not joined, bad text) exits 2; the
/// server's refusals and the network exit 1.
impl From<crate::client::community::CommunityError> for CliError {
    fn from(e: crate::client::community::CommunityError) -> Self {
        if e.is_usage() { Self::usage(e) } else { Self::failed(e) }
    }
}
