//! `rpc`: any storage RPC request, signed for an identity, sent to its swarm; prints the reply
//! with every member's signature checked.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use serde_json::Value;
use snkit::cli::{self, CliError, NetworkArgs};
use snkit::client::rpc::{self, Route, RpcSigner};
use snkit::identity::Identity;
use snkit::keys::{Pubkey, decode_hex32};
use snkit::onion::EncType;
use snkit::rpc::group_subaccount::{GROUP_AUTH_BYTES, GroupMemberKey};
use snkit::rpc::{Access, SubaccountGrant};

/// Sign and send any storage RPC request; print the reply with each member's signature checked.
#[derive(Parser, Debug)]
#[command(
    name = "rpc",
    version,
    long_about = "Sign and send any storage RPC request to a member of the account's swarm.\n\n\
        METHOD is a storage RPC method (store, retrieve, delete, delete_all, delete_before, expire, \
        expire_all, get_expiries, revoke_subaccount, unrevoke_subaccount, batch, sequence, ifelse, \
        get_swarm, info, oxend_request). --params gives the method's own fields as JSON; what the \
        account adds is filled in: pubkey, pubkey_ed25519, a timestamp of now (store, retrieve, \
        delete_all, get_expiries, (un)revoke_subaccount; delete_before's before), the subaccount \
        fields, and the signature over the exact string the node checks (each subrequest of a \
        batch, sequence or ifelse is signed on its own). A field you give is kept as given, so \
        \"signature\" sends a signature of your own.\n\n\
        The request goes through a fresh 3-hop onion path (--direct: a plain HTTP(S) POST) to a \
        random member of the account's swarm (--target: that node); a 421 is retried once on the \
        swarm it names. The reply is printed as JSON, each entry of its \"swarm\" (also inside \
        batch results) with \"verified\": true|false, its member's signature checked against the \
        string that member signs.\n\n\
        Subaccounts: --subaccount-key FILE signs with that identity's key, under the owner's grant: \
        --subaccount TOKEN --subaccount-sig SIG (given by the owner; --account names the account), \
        or --subaccount-flags rwd with the owner's own --identity (the grant is made on the spot: \
        r read, w write, d delete, a any prefix). A Session group member: --identity MEMBER.json \
        --account 03GROUP --group-auth HEX (the admin's auth data), signing as the apps do.\n\n\
        Exit 0 on a 200, 1 when the node refuses (its status and text on stderr) or cannot be \
        reached, 2 for bad params (the node's own 400 text).",
    after_help = "EXAMPLE:\n  rpc delete_all --identity alice.json --nodes /tmp/tn/nodes.json\n  \
        rpc expire --identity alice.json --params '{\"messages\":[\"HASH\"],\"expiry\":1767225600000}'\n  \
        rpc get_expiries --identity alice.json --params '{\"messages\":[\"HASH\"]}' --direct\n  \
        rpc retrieve --identity alice.json --subaccount-key bob.json --subaccount-flags r --params '{\"namespace\":2}'\n  \
        echo '{\"requests\":[{\"method\":\"info\",\"params\":{}}]}' | rpc batch --identity alice.json --params -\n\n\
        Node list: --nodes SOURCE or --node URL, else $SNKIT_NODES, else .testnet/nodes.json (README \"Node lists\")."
)]
struct Args {
    /// The storage RPC method.
    method: String,
    /// The account's owner (written by `keygen -o`); signs unless a subaccount key does.
    #[arg(long, value_name = "ID.json")]
    identity: Option<PathBuf>,
    /// Act as the 03 (group) account whose Ed25519 key is --identity's.
    #[arg(long, requires = "identity")]
    group: bool,
    /// The method's params: inline JSON, - for stdin, or a file (default {}).
    #[arg(long, value_name = "JSON|-|FILE")]
    params: Option<String>,
    #[command(flatten)]
    network: NetworkArgs,
    /// A plain HTTP(S) POST to the node instead of an onion path.
    #[arg(long)]
    direct: bool,
    /// Ask this node (Ed25519 hex, from the node list) instead of a random swarm member.
    #[arg(long, value_name = "ED25519")]
    target: Option<String>,
    /// A subaccount's identity: it signs the requests, under the owner's grant.
    #[arg(long, value_name = "ID.json")]
    subaccount_key: Option<PathBuf>,
    /// The owner's grant: the 36-byte token (hex or base64).
    #[arg(long, value_name = "TOKEN", requires = "subaccount_key", requires = "subaccount_sig")]
    subaccount: Option<String>,
    /// The owner's signature over the token (base64 or hex).
    #[arg(long, value_name = "SIG", requires = "subaccount")]
    subaccount_sig: Option<String>,
    /// Make the grant now with --identity (the owner): r read, w write, d delete, a any prefix.
    #[arg(
        long,
        value_name = "FLAGS",
        requires = "subaccount_key",
        requires = "identity",
        conflicts_with = "subaccount"
    )]
    subaccount_flags: Option<String>,
    /// The account a subaccount acts on (66 hex), when --identity is not the owner's.
    #[arg(long, value_name = "PUBKEY")]
    account: Option<String>,
    /// The account's Ed25519 key (64 hex; 05 accounts), sent as pubkey_ed25519.
    #[arg(long, value_name = "HEX", requires = "account")]
    account_ed25519: Option<String>,
    /// Act as a member of the Session group --account (03…) with the admin's 100-byte auth data
    /// (200 hex, libsession's swarm_make_subaccount), signing with --identity's blinded key.
    #[arg(
        long,
        value_name = "HEX",
        requires = "identity",
        requires = "account",
        conflicts_with = "subaccount_key"
    )]
    group_auth: Option<String>,
    /// Onion layer encryption: xchacha20 (default) or aes-gcm.
    #[arg(long, value_name = "ENC", default_value = "xchacha20")]
    enc: String,
}

fn main() -> ExitCode {
    cli::run("rpc", run)
}

fn load(path: &Path) -> Result<Identity, CliError> {
    Identity::load(path).map_err(|e| CliError::usage(format!("cannot use identity {}: {e}", path.display())))
}

fn signer(args: &Args) -> Result<Option<RpcSigner>, CliError> {
    let owner = args.identity.as_deref().map(load).transpose()?;
    if let (Some(auth), Some(member), Some(account)) = (&args.group_auth, &owner, &args.account) {
        let group = Pubkey::parse(account).map_err(|e| CliError::usage(format!("--account: {e}")))?;
        let auth: [u8; GROUP_AUTH_BYTES] = hex::decode(auth)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| CliError::usage("--group-auth: expected 200 hex digits (100 bytes)"))?;
        let key =
            GroupMemberKey::new(member, &auth).map_err(|e| CliError::usage(format!("--group-auth: {e}")))?;
        return Ok(Some(RpcSigner::group_member(group, key)));
    }
    let Some(key_path) = &args.subaccount_key else {
        return Ok(owner.map(|id| if args.group { RpcSigner::group(id) } else { RpcSigner::owner(id) }));
    };
    let key = load(key_path)?;
    let (account, account_ed) = match (&args.account, &owner) {
        (Some(a), _) => {
            let pk = Pubkey::parse(a).map_err(|e| CliError::usage(format!("--account: {e}")))?;
            let ed = args
                .account_ed25519
                .as_deref()
                .map(decode_hex32)
                .transpose()
                .map_err(|e| CliError::usage(format!("--account-ed25519: {e}")))?;
            (pk, ed)
        }
        (None, Some(id)) if args.group => (Pubkey::new(snkit::keys::GROUP_TYPE, id.ed25519_public()), None),
        (None, Some(id)) => (Pubkey::from(id.session_id()), Some(id.ed25519_public())),
        (None, None) => {
            return Err(CliError::usage("a subaccount needs the account: --account PUBKEY or --identity"));
        }
    };
    let grant = match (&args.subaccount, &args.subaccount_sig, &args.subaccount_flags, &owner) {
        (Some(t), Some(s), _, _) => SubaccountGrant::from_text(t, s).ok_or_else(|| {
            CliError::usage("--subaccount TOKEN (72 hex or 48 base64), --subaccount-sig SIG (128 hex or base64): malformed")
        })?,
        (None, _, Some(f), Some(id)) => {
            let flags = Access::from_letters(f)
                .ok_or_else(|| CliError::usage(format!("--subaccount-flags {f}: use r, w, d and a")))?;
            SubaccountGrant::issue(&account, flags, &key.ed25519_public(), |m| id.sign(m))
        }
        _ => {
            return Err(CliError::usage(
                "--subaccount-key needs a grant: --subaccount TOKEN --subaccount-sig SIG, or --subaccount-flags with the owner's --identity",
            ));
        }
    };
    Ok(Some(RpcSigner::subaccount(account, account_ed, key, grant)))
}

fn run(args: Args) -> Result<(), CliError> {
    let enc = EncType::parse(&args.enc).map_err(|e| CliError::usage(format!("--enc: {e}")))?;
    let signer = signer(&args)?;
    let params: Value = match args.params.as_deref() {
        None => Value::Object(Default::default()),
        Some(text) if text.trim_start().starts_with('{') => {
            serde_json::from_str(text).map_err(|e| CliError::usage(format!("--params: not JSON: {e}")))?
        }
        Some(src) => {
            let bytes = cli::read_input(Some(src))?;
            serde_json::from_slice(&bytes)
                .map_err(|e| CliError::usage(format!("--params {src}: not JSON: {e}")))?
        }
    };
    let source = if args.params.as_deref() == Some("-") {
        args.network.source_without_stdin("--params - cannot")?
    } else {
        args.network.source()?
    };
    let prepared = rpc::prepare(&args.method, params, signer.as_ref(), snkit::time::now_ms())?;
    let mut net = args.network.open(&source)?;
    net.set_enc(enc);
    let route = if args.direct { Route::Direct } else { Route::Onion };
    let outcome = rpc::call(&net, &args.method, &prepared, route, args.target.as_deref())?;
    cli::emit(&outcome.reply)
}
