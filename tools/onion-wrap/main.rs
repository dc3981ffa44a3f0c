//! `onion-wrap`: build an onion request for a path of nodes, peel one layer as a node would, or
//! open the final node's reply (spec onion.md §5; docs/onion.md).

use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::{ArgGroup, Parser};
use serde_json::{Value, json};
use snkit::cli::{self, CliError};
use snkit::onion::{self, EncType, Layer, LayerKey};

const AFTER_HELP: &str = "\
EXAMPLES:
  # wrap a storage RPC for a path (guard first, destination last), send it with curl, read the reply:
  onion-wrap --path path.json request.json > w.json
  jq -r .body w.json | base64 -d \\
    | curl -s --data-binary @- \"$(jq -r .guard w.json)/onion_req/v2\" \\
    | onion-wrap --open-reply --reply-key \"$(jq -r .reply_key w.json)\"
  {\"status\":200,\"body\":{...}}

  # what a final node would answer (and reading it back):
  echo '{\"status\":200,\"body\":\"ok\"}' | onion-wrap --seal-reply --reply-key K | onion-wrap --open-reply --reply-key K

  # what each hop sees (each --peel reads the previous output's \"body\"/\"next_body\"):
  onion-wrap --path path.json request.json | onion-wrap --peel --key n1/key.json \\
    | onion-wrap --peel --key n2/key.json | onion-wrap --peel --key n3/key.json

PATH: a JSON array of nodes in node-list form {pubkey_ed25519, pubkey_x25519, public_ip, storage_port}
(or {\"service_node_states\": [...]}), hop 1 first; the last node runs the request.
KEY: the node's key file (snode <data>/key.json with \"ed25519_seed\") or a keygen identity (\"seed\").
OUTPUT (wrap): {\"guard\", \"destination\", \"body\" (base64 POST body), \"reply_key\", \"enc_type\", \"ephemeral_keys\"}.
EXIT: 0 ok, 2 bad input (bad path or key, garbage, tampered or truncated onion, wrong key).";

/// Build, peel or answer onion requests.
#[derive(Parser, Debug)]
#[command(
    name = "onion-wrap",
    version,
    about = "Build an onion request for a path of nodes, peel one layer as a node would, or open a reply",
    after_help = AFTER_HELP,
    group(ArgGroup::new("mode").required(true).args(["path", "peel", "open_reply", "seal_reply"]))
)]
struct Args {
    /// Wrap the request (INPUT) for this path of nodes (file, or '-' for stdin).
    #[arg(long, value_name = "FILE|-")]
    path: Option<String>,
    /// Layer encryption when wrapping, or of the reply key with --open-reply.
    #[arg(long, default_value = "xchacha20", value_parser = parse_enc)]
    enc: EncType,
    /// Peel one layer of the onion body (INPUT) with a node's key, and print what that node sees.
    #[arg(long, requires = "key")]
    peel: bool,
    /// The node's key file for --peel.
    #[arg(long, value_name = "FILE")]
    key: Option<String>,
    /// Decrypt the final node's reply (INPUT) with the reply key printed when wrapping.
    #[arg(long, requires = "reply_key")]
    open_reply: bool,
    /// Encrypt a reply {"status", "body"} (INPUT) as the final node would answer it.
    #[arg(long, requires = "reply_key")]
    seal_reply: bool,
    /// The reply key (64 hex) for --open-reply and --seal-reply.
    #[arg(long, value_name = "HEX")]
    reply_key: Option<String>,
    /// The request JSON (wrap), onion body (peel) or reply (open-reply); '-' or none: stdin.
    input: Option<String>,
}

fn parse_enc(s: &str) -> Result<EncType, String> {
    EncType::parse(s).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    cli::run("onion-wrap", run)
}

fn run(args: Args) -> Result<(), CliError> {
    if let Some(path) = &args.path {
        wrap(path, args.input.as_deref(), args.enc)
    } else if args.peel {
        let key = args.key.as_deref().ok_or_else(|| CliError::usage("--peel needs --key FILE"))?;
        peel(key, args.input.as_deref())
    } else {
        let hex_key =
            args.reply_key.as_deref().ok_or_else(|| CliError::usage("this mode needs --reply-key"))?;
        let key = reply_key(hex_key, args.enc)?;
        if args.seal_reply {
            seal_reply(&key, args.input.as_deref())
        } else {
            open_reply(&key, args.input.as_deref())
        }
    }
}

fn is_stdin(p: Option<&str>) -> bool {
    matches!(p, None | Some("-"))
}

fn wrap(path_file: &str, input: Option<&str>, enc: EncType) -> Result<(), CliError> {
    if is_stdin(Some(path_file)) && is_stdin(input) {
        return Err(CliError::usage("--path - and the request cannot both come from stdin")
            .hint("name the request file: onion-wrap --path - request.json"));
    }
    let path_json = cli::read_json(Some(path_file))?;
    let path = onion::parse_path(&path_json).map_err(|e| CliError::usage(format!("{path_file}: {e}")))?;
    let request = cli::read_json(input)?;
    if !request.is_object() {
        return Err(CliError::usage(
            "the request must be a JSON object, e.g. {\"method\":\"info\",\"params\":{}}",
        ));
    }
    let hops: Vec<_> = path.iter().map(|n| n.keys).collect();
    let (req, reply) = onion::build(&hops, request.to_string().as_bytes(), enc)?;
    let last = path.last().map(|n| hex::encode(n.keys.ed25519)).unwrap_or_default();
    cli::emit(&json!({
        "guard": path[0].url,
        "destination": last,
        "body": STANDARD.encode(&req.guard_body),
        "reply_key": hex::encode(reply.to_bytes()),
        "enc_type": enc.as_str(),
        "ephemeral_keys": req.ephemeral_keys.iter().map(hex::encode).collect::<Vec<_>>(),
    }))
}

fn peel(key_file: &str, input: Option<&str>) -> Result<(), CliError> {
    let key_json = cli::read_json(Some(key_file))?;
    let (secret, public) = onion::node_secret_from_key_json(&key_json)
        .map_err(|e| CliError::usage(format!("{key_file}: {e}")))?;
    let body = onion::body_from_input(&cli::read_input(input)?);
    let layer = onion::peel(&secret, &public, &body)?;
    let out = match layer {
        Layer::Relay { destination_ed25519, next_body, hop_no, ephemeral_key } => json!({
            "hop": "relay",
            "hop_no": hop_no.saturating_sub(1),
            "ephemeral_key": hex::encode(ephemeral_key),
            "destination": hex::encode(destination_ed25519),
            "next_body": STANDARD.encode(next_body),
        }),
        Layer::Final { rpc_body, control, reply, ephemeral_key, hop_no } => {
            let request = serde_json::from_slice::<Value>(&rpc_body)
                .unwrap_or_else(|_| json!({"base64": STANDARD.encode(&rpc_body)}));
            json!({
                "hop": "final",
                "hop_no": hop_no,
                "ephemeral_key": hex::encode(ephemeral_key),
                "enc_type": reply.enc_type().as_str(),
                "control": control,
                "request": request,
                "reply_key": hex::encode(reply.to_bytes()),
            })
        }
        Layer::Host { target, plaintext, ephemeral_key, hop_no } => json!({
            "hop": "host",
            "hop_no": hop_no,
            "ephemeral_key": hex::encode(ephemeral_key),
            "url": target.url(),
            "method": target.method,
            "plaintext": STANDARD.encode(plaintext),
        }),
    };
    cli::emit(&out)
}

fn reply_key(hex_key: &str, enc: EncType) -> Result<LayerKey, CliError> {
    let key = snkit::keys::decode_hex32(hex_key.trim()).map_err(|_| {
        CliError::usage("--reply-key must be 64 hex characters (\"reply_key\" of the wrap output)")
    })?;
    Ok(LayerKey::from_bytes(enc, key))
}

fn open_reply(key: &LayerKey, input: Option<&str>) -> Result<(), CliError> {
    let reply = cli::read_input(input)?;
    let (status, body) = onion::decrypt_reply(key, &reply)?;
    cli::emit(&json!({"status": status, "body": body}))
}

fn seal_reply(key: &LayerKey, input: Option<&str>) -> Result<(), CliError> {
    let reply = cli::read_json(input)?;
    let status = reply
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(|| CliError::usage("the reply must be {\"status\": <HTTP code>, \"body\": ...}"))?;
    let body = reply.get("body").cloned().unwrap_or(Value::Null);
    let sealed = onion::encrypt_reply(key, status, &body);
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, &sealed).map_err(CliError::from_output)?;
    std::io::Write::write_all(&mut out, b"\n").map_err(CliError::from_output)
}
