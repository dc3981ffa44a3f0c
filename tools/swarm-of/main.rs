//! `swarm-of`: which swarm, and which nodes, hold a Session ID's messages.

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError, NetworkArgs};
use snkit::client::NodeSource;
use snkit::client::lookup::{self, LookupError, SwarmSource};

/// Which swarm, and which nodes, hold a Session ID's messages.
#[derive(Parser, Debug)]
#[command(
    name = "swarm-of",
    version,
    about = "Which swarm, and which nodes, hold a Session ID's messages",
    long_about = "Which swarm, and which nodes, hold a Session ID's messages.\n\n\
        Prints {\"pubkey\", \"swarm_id\" (16 hex digits), \"nodes\": [node-list objects]}. The swarm is \
        computed from a node list with the live network's mapping, or asked of one node when the \
        source is a node's URL (get_swarm). Without SESSION_ID, reads IDs from stdin, one per line (hex, or JSON lines with \
        \"session_id\" or \"pubkey\", as keygen prints), and writes one result per line (NDJSON).",
    after_help = "EXAMPLES:\n  \
        swarm-of 053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8 --nodes .testnet/nodes.json\n  \
        keygen | swarm-of --nodes nodes.json | jq -r .swarm_id\n  \
        cat ids.txt | swarm-of --node http://127.0.0.1:38001\n\n\
        Node list: --nodes SOURCE or --node URL, else $SNKIT_NODES, else .testnet/nodes.json (README \"Node lists\").\n\
        Exit: 0 ok, 1 the node could not be reached or answered badly, 2 bad ID or bad node list."
)]
struct Args {
    /// Session ID or pubkey: 66 hex characters (64 assume type 05). Without it, IDs come from stdin.
    #[arg(value_name = "SESSION_ID")]
    session_id: Option<String>,

    #[command(flatten)]
    network: NetworkArgs,
}

fn main() -> ExitCode {
    cli::run("swarm-of", run)
}

fn run(args: Args) -> Result<(), CliError> {
    let ids_from_stdin = matches!(args.session_id.as_deref(), None | Some("-"));
    let source = source(&args, ids_from_stdin)?;
    if !ids_from_stdin {
        let id = args.session_id.as_deref().unwrap_or_default();
        let pk = lookup::parse_id(id).map_err(CliError::from)?;
        return cli::emit(&source.lookup(&pk).map_err(CliError::from)?.to_json());
    }
    if io::stdin().is_terminal() {
        return Err(CliError::usage("no SESSION_ID: give one, or pipe IDs into stdin (one per line)")
            .hint("see 'swarm-of --help'"));
    }
    cli::for_each_line(None, |number, line| {
        let line = line.map_err(|e| CliError::usage(format!("input line {number}: {e}")))?;
        let at_line = |e: LookupError| {
            let mut err = CliError::from(e);
            err.message = format!("input line {number}: {}", err.message);
            err
        };
        let pk = lookup::parse_id(line).map_err(at_line)?;
        cli::emit(&source.lookup(&pk).map_err(at_line)?.to_json())
    })
}

/// The node list (or node) to ask, from the flags and the defaults: a node's URL is asked
/// (get_swarm), any other source is loaded and the swarm computed.
fn source(args: &Args, ids_from_stdin: bool) -> Result<SwarmSource, CliError> {
    let source = if ids_from_stdin {
        args.network.source_without_stdin("the SESSION_ID must be an argument")?
    } else {
        args.network.source()?
    };
    if let NodeSource::Node(url) = &source {
        return Ok(SwarmSource::Node(url.clone()));
    }
    let list = source.load().map_err(|e| CliError::from(LookupError::from(e)))?;
    SwarmSource::from_list(list).map_err(|e| CliError::usage(format!("{}: {e}", source.name())))
}
