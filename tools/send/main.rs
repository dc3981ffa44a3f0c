//! `send`: store a message in the recipient's swarm through onion paths.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use snkit::attachments::pointer::AttachmentPointer;
use snkit::cli::{self, CliError, NetworkArgs};
use snkit::client::state::default_state_dir;
use snkit::client::sync::deliver::{self as sync_send, SyncMode, SyncSendOptions};
use snkit::client::{self, SendOptions};
use snkit::identity::{Identity, SessionId};
use snkit::keys::Pubkey;
use snkit::limits::{CLIENT_DEFAULT_TTL_MS, SYNC_ACK_TIMEOUT_MS, SYNC_MIN_WAIT_MS};
use snkit::onion::EncType;
use snkit::session_protocol::{self, PaddingStyle};

/// Store a message (stdin) in the recipient's swarm through 3-hop onion paths.
#[derive(Parser, Debug)]
#[command(
    name = "send",
    version,
    long_about = "Store a message in the recipient's swarm through 3-hop onion paths.\n\n\
        Reads the message from stdin: raw bytes, or one JSON line such as 'ratchet encrypt' prints \
        (a single JSON value is stored as its text without the trailing newline; anything else \
        byte for byte; at most 76,800 bytes). Finds the recipient's swarm from the node list, \
        builds the envelope (namespace 0), solves its proof of work at the network's difficulty, \
        and stores it on 3 distinct members of the swarm, each through its own fresh onion path.\n\n\
        With --format session, stdin is a text that is sent as the live Session apps send a 1-1 \
        message (a padded Content protobuf, signed for the recipient, sealed to their X25519 key, \
        wrapped in Envelope + WebSocketMessage): a Session app reads it, and so does \
        'retrieve | ratchet decrypt'.\n\n\
        A raw message travels in snkit's frame with the sender's sealed presence (docs/sync.md). \
        With --sync auto (the default), when the recipient's presence is fresh (it runs \
        'retrieve --listen'), the message goes through an onion request straight to its listening \
        node, without proof of work and without being stored, and counts as sent once the \
        recipient's ack opens the hash lock; on any failure (404, timeout, 429, a bad proof, a dead \
        path) the same bytes are stored in the swarm.\n\n\
        Prints {\"hash\", \"via\": \"sync\", \"node\", \"ack_ms\"} after an ack, else \
        {\"hash\", \"stored\": [node ed25519 hex...], \"failed\": [{\"node\", \"reason\"}], \"via\": \"async\", \
        \"sync\": {\"reason\"}}. Exit 0 when the recipient acked or at least one node stored the \
        message, 1 otherwise, 2 for bad input.",
    after_help = "EXAMPLE:\n  testnet up --nodes 12 --dir /tmp/tn\n  keygen -o alice.json; keygen -o bob.json\n  \
        echo 'hello bob' | send --identity alice.json --to $(jq -r .session_id bob.json) --nodes /tmp/tn/nodes.json\n  \
        ratchet encrypt --identity alice.json --to $BOB < msg.txt | send --identity alice.json --to $BOB --node http://127.0.0.1:40001\n  \
        echo 'hi from snkit' | send --format session --identity alice.json --to $BOB --nodes /tmp/tn/nodes.json   # the apps' format\n  \
        echo 'hi' | send --identity alice.json --to $BOB --sync auto --ack-timeout 1000   # sync when Bob listens\n  \
        upload photo.jpg --identity alice.json > p.json; echo 'a photo' | send --format session --attach p.json --identity alice.json --to $BOB\n\n\
        Node list: --nodes SOURCE or --node URL, else $SNKIT_NODES, else .testnet/nodes.json (README \"Node lists\")."
)]
struct Args {
    /// The sender's identity file (written by `keygen -o`).
    #[arg(long, value_name = "ID.json")]
    identity: PathBuf,
    /// The recipient's Session ID (66 hex characters, starting with 05).
    #[arg(long, value_name = "SESSION_ID")]
    to: String,
    /// How long the swarm keeps the message, in milliseconds (10 s to 14 days).
    #[arg(long, value_name = "MS", default_value_t = CLIENT_DEFAULT_TTL_MS)]
    ttl: u64,
    #[command(flatten)]
    network: NetworkArgs,
    /// Onion layer encryption: xchacha20 (default) or aes-gcm.
    #[arg(long, value_name = "ENC", default_value = "xchacha20")]
    enc: String,
    /// What stdin holds: `raw` (stored as it is) or `session`, a text message that is sent in the
    /// live Session apps' 1-1 format (signed, sealed to the recipient, wrapped in an Envelope).
    #[arg(long, value_name = "FORMAT", default_value = "raw", value_parser = ["raw", "session"])]
    format: String,
    /// An attachment pointer file (what `upload` prints) to send in the message (repeatable;
    /// --format session: DataMessage.attachments, as the apps send files; stdin then may be empty).
    #[arg(long, value_name = "POINTER")]
    attach: Vec<PathBuf>,
    /// Synchronous delivery (docs/sync.md): `auto` delivers to the recipient's listening node
    /// when its presence is fresh and stores the same bytes in the swarm otherwise; `off` always
    /// stores; `only` never stores (tests).
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = ["auto", "off", "only"])]
    sync: String,
    /// How long the listening node waits for the recipient's ack, ms (100 to 5000).
    #[arg(long, value_name = "MS", default_value_t = SYNC_ACK_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(SYNC_MIN_WAIT_MS..=SYNC_ACK_TIMEOUT_MS))]
    ack_timeout: u64,
    /// Attach an offline presence (same size) even when our listener runs.
    #[arg(long)]
    no_presence: bool,
    /// The state directory `retrieve` uses (our listener's `self.json` and the peers'
    /// presences; default: $XDG_DATA_HOME/snkit/retrieve).
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
}

/// The pointers of `--attach` files, checked (each must say how to decrypt its file).
fn read_pointers(paths: &[PathBuf]) -> Result<Vec<AttachmentPointer>, CliError> {
    paths
        .iter()
        .map(|path| {
            if path.as_os_str() == "-" {
                return Err(CliError::usage("--attach -: stdin is the message; name a pointer file"));
            }
            let v = cli::read_json(path.to_str())?;
            let p: AttachmentPointer = serde_json::from_value(v).map_err(|e| {
                CliError::usage(format!("--attach {}: not an attachment pointer: {e}", path.display()))
            })?;
            p.scheme().map_err(|e| CliError::usage(format!("--attach {}: {e}", path.display())))?;
            Ok(p)
        })
        .collect()
}

/// The text on stdin (one trailing newline dropped) and the attachments as a live-app 1-1 message.
fn session_message(
    sender: &Identity,
    to: &SessionId,
    input: &[u8],
    attachments: &[AttachmentPointer],
) -> Result<Vec<u8>, CliError> {
    let text = std::str::from_utf8(input)
        .map_err(|_| CliError::usage("--format session: stdin is not UTF-8 text"))?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() && attachments.is_empty() {
        return Err(CliError::usage("--format session: stdin is empty; nothing to send"));
    }
    let body = (!text.is_empty()).then_some(text);
    session_protocol::build_message(
        sender,
        to,
        body,
        attachments,
        snkit::time::now_ms(),
        PaddingStyle::Libsession,
    )
    .map_err(|e| CliError::usage(format!("--format session: {e}")))
}

/// Stdin, or nothing when it is a terminal (a message of files alone needs no text).
fn read_optional_stdin() -> Result<Vec<u8>, CliError> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Ok(Vec::new());
    }
    cli::read_input(None)
}

fn main() -> ExitCode {
    cli::run("send", run)
}

fn run(args: Args) -> Result<(), CliError> {
    let sender = Identity::load(&args.identity)
        .map_err(|e| CliError::usage(format!("cannot use identity {}: {e}", args.identity.display())))?;
    let to = SessionId::parse(args.to.trim()).map_err(|e| CliError::usage(format!("--to: {e}")))?;
    let enc = EncType::parse(&args.enc).map_err(|e| CliError::usage(format!("--enc: {e}")))?;
    let opts = SendOptions { ttl_ms: args.ttl, ..SendOptions::default() };
    // The message is stdin, so the node list cannot be.
    let attachments = read_pointers(&args.attach)?;
    if !attachments.is_empty() && args.format != "session" {
        // A raw message is stored as it is: the file keys would reach the swarm in the clear.
        return Err(CliError::usage(
            "--attach needs --format session: a raw message is not end-to-end encrypted",
        )
        .hint("or put the files inside a ratchet message: 'ratchet encrypt --attach POINTER'"));
    }
    let source = args.network.source_without_stdin("the message cannot be read from it")?;
    let input = if attachments.is_empty() { cli::read_input(None)? } else { read_optional_stdin()? };
    let data = match args.format.as_str() {
        "session" => session_message(&sender, &to, &input, &attachments)?,
        _ => client::prepare_message(&input).map_err(CliError::from)?,
    };
    // Refuse a bad TTL before touching the network.
    client::check_ttl(opts.ttl_ms).map_err(CliError::from)?;
    let mut net = args.network.open(&source)?;
    net.set_enc(enc);
    if args.format == "session" {
        // The live apps' format: never framed, never delivered synchronously (interop).
        let report = client::send(&net, &Pubkey::from(to), &data, &opts).map_err(CliError::from)?;
        return cli::emit(&report);
    }
    let sync = SyncSendOptions {
        mode: SyncMode::parse(&args.sync).unwrap_or(SyncMode::Auto),
        ack_timeout_ms: args.ack_timeout,
        presence: !args.no_presence,
    };
    let state_dir = args.state.clone().unwrap_or_else(default_state_dir);
    let report = sync_send::send_message(&net, &sender, &to, &data, &state_dir, &opts, &sync)
        .map_err(CliError::from)?;
    cli::emit(&report)
}
