//! `retrieve`: fetch an identity's new messages from its swarm, as NDJSON.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use snkit::cli::{self, CliError, NetworkArgs};
use snkit::client::sync::listen::{self, ListenNode, ListenOptions};
use snkit::client::{RetrieveState, Retriever, state::default_state_dir};
use snkit::identity::Identity;
use snkit::limits::CLIENT_FOLLOW_INTERVAL_MS;
use snkit::onion::EncType;

/// Fetch an identity's new messages from its swarm through onion paths (NDJSON).
#[derive(Parser, Debug)]
#[command(
    name = "retrieve",
    version,
    long_about = "Fetch an identity's new messages from its swarm through onion paths.\n\n\
        Asks 3 members of the identity's own swarm (each through its own 3-hop onion path) for the \
        messages after the last hash that node returned, with a signed retrieve request; merges \
        the answers, drops duplicates and anything already printed, and prints one JSON line per \
        new message, oldest first: {\"hash\", \"timestamp\", \"expiration\", \"data\" (base64 of the \
        stored bytes), \"from_node\"}. The last hash per node and the hashes already printed are \
        kept in STATE_DIR/<session id>.json, so a second run prints only new messages.\n\n\
        --follow keeps polling (every second) and prints messages as they arrive.\n\n\
        --delete deletes the printed messages from the swarm (a signed, recursive delete of their \
        hashes) once the state that records them is saved; a failed delete exits 1.\n\n\
        --listen (implies --follow) also holds a listen at a listening node (a random member of \
        the identity's swarm, or --listen-node) so that contacts who have our presence deliver \
        synchronously, and polls the rest of the swarm in parallel; every line says \
        \"via\": \"sync\" or \"async\", a message is printed once whichever way it came, and a \
        sync message is acked only after its line is printed and the state saved. SIGTERM or a \
        closed stdout unlistens and exits 0. --events adds the listener's own events as \
        {\"event\": …} lines; --listen-rate/--listen-burst lower the deliver bucket the node keeps \
        for us. --peers prints the contacts' presences without touching the network \
        (docs/sync.md).",
    after_help = "EXAMPLE:\n  retrieve --identity bob.json --nodes /tmp/tn/nodes.json\n  \
        retrieve --identity bob.json --nodes /tmp/tn/nodes.json | jq -r .data | base64 -d\n  \
        retrieve --identity bob.json --node http://127.0.0.1:40001 --follow | ratchet decrypt --identity bob.json\n  \
        retrieve --identity bob.json --nodes /tmp/tn/nodes.json --delete > inbox.ndjson\n  \
        retrieve --identity bob.json --nodes /tmp/tn/nodes.json --listen | ratchet decrypt --identity bob.json\n  \
        retrieve --identity bob.json --nodes /tmp/tn/nodes.json --listen --events --listen-rate 5 --listen-burst 10\n  \
        retrieve --identity bob.json --peers\n\n\
        Node list: --nodes SOURCE or --node URL, else $SNKIT_NODES, else .testnet/nodes.json (README \"Node lists\")."
)]
struct Args {
    /// The identity whose messages to fetch (written by `keygen -o`).
    #[arg(long, value_name = "ID.json")]
    identity: PathBuf,
    /// Where to keep the last hashes seen (default: $XDG_DATA_HOME/snkit/retrieve).
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    #[command(flatten)]
    network: NetworkArgs,
    /// Keep polling and print messages as they arrive (ends on a closed stdout or a signal).
    #[arg(long)]
    follow: bool,
    /// Delete the printed messages from the swarm once they are saved.
    #[arg(long)]
    delete: bool,
    /// Onion layer encryption: xchacha20 (default) or aes-gcm.
    #[arg(long, value_name = "ENC", default_value = "xchacha20")]
    enc: String,
    /// Also listen for synchronous deliveries at a listening node (implies --follow).
    #[arg(long, conflicts_with = "delete")]
    listen: bool,
    /// Where to listen: `swarm` (a random member of our swarm), `any` node, or a node's
    /// Ed25519 key.
    #[arg(long, value_name = "WHERE", default_value = "swarm", requires = "listen")]
    listen_node: String,
    /// Our own limit on synchronous delivers per second at the listening node (the node caps it
    /// at its maximum, 20).
    #[arg(long, value_name = "N", requires = "listen", value_parser = clap::value_parser!(u64).range(1..))]
    listen_rate: Option<u64>,
    /// The burst of that limit (the node caps it at 50).
    #[arg(long, value_name = "N", requires = "listen", value_parser = clap::value_parser!(u64).range(1..))]
    listen_burst: Option<u64>,
    /// Also print the listener's events among the messages, one `{"event": …}` line each
    /// (listening, subscribed, presence, handshake, failover, listen_refused, unlistened).
    #[arg(long, requires = "listen")]
    events: bool,
    /// Print the contacts' presences (NDJSON) without touching the network.
    #[arg(long, conflicts_with_all = ["listen", "follow", "delete"])]
    peers: bool,
}

fn main() -> ExitCode {
    cli::run("retrieve", run)
}

fn run(args: Args) -> Result<(), CliError> {
    let identity = Identity::load(&args.identity)
        .map_err(|e| CliError::usage(format!("cannot use identity {}: {e}", args.identity.display())))?;
    let enc = EncType::parse(&args.enc).map_err(|e| CliError::usage(format!("--enc: {e}")))?;
    let state_dir = args.state.clone().unwrap_or_else(default_state_dir);
    if args.peers {
        for p in listen::peers(&state_dir, &identity.session_id()) {
            cli::emit(&p)?;
        }
        return Ok(());
    }
    let choice = ListenNode::parse(&args.listen_node).ok_or_else(|| {
        CliError::usage(format!(
            "--listen-node: expected swarm, any or 64 hex characters, not {:?}",
            args.listen_node
        ))
    })?;
    let source = args.network.source()?;
    let state =
        RetrieveState::load(&state_dir, &identity.session_id().to_string()).map_err(CliError::from)?;
    let mut net = args.network.open(&source)?;
    net.set_enc(enc);
    if args.listen {
        let out = Box::new(std::io::stdout());
        let opts = ListenOptions {
            node: choice,
            rate: args.listen_rate,
            burst: args.listen_burst,
            events: args.events,
        };
        return listen::run(net, identity, state, &state_dir, out, opts).map_err(CliError::from);
    }
    let mut retriever = Retriever::new(&identity, state);

    if !args.follow {
        let messages = retriever.poll(&net).map_err(CliError::from)?;
        for m in &messages {
            cli::emit(m)?;
        }
        retriever.save().map_err(CliError::from)?;
        return delete(&args, &retriever, &net, &messages);
    }

    let mut warned = false;
    loop {
        match retriever.poll(&net) {
            Ok(messages) => {
                warned = false;
                for m in &messages {
                    cli::emit(m)?;
                }
                if !messages.is_empty() {
                    retriever.save().map_err(CliError::from)?;
                    delete(&args, &retriever, &net, &messages)?;
                }
            }
            // The swarm may come back: say so once per outage, keep polling.
            Err(e) if e.is_transient() => {
                if !warned {
                    eprintln!("retrieve: warning: {e} (still polling)");
                    warned = true;
                }
            }
            // The state or the request itself is broken: polling again would not help.
            Err(e) => return Err(CliError::from(e)),
        }
        std::thread::sleep(Duration::from_millis(CLIENT_FOLLOW_INTERVAL_MS));
    }
}

/// `--delete`: the printed (and saved) messages deleted from the swarm.
fn delete(
    args: &Args,
    retriever: &Retriever<'_>,
    net: &snkit::client::Network,
    messages: &[snkit::client::Retrieved],
) -> Result<(), CliError> {
    if !args.delete || messages.is_empty() {
        return Ok(());
    }
    let hashes: Vec<String> = messages.iter().map(|m| m.hash.clone()).collect();
    retriever.delete(net, &hashes).map(drop).map_err(CliError::from)
}
