//! `snode`: the service node daemon.
#![expect(
    rustdoc::invalid_html_tags,
    reason = "the flags' docs are clap help text: `<x>` there is a placeholder, not HTML"
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError};
use snkit::snode::{self, NodeConfig};

/// A service node: the storage RPC over HTTP, durable storage, replication within its swarm.
#[derive(Parser, Debug)]
#[command(
    name = "snode",
    version,
    about = "A service node: the storage RPC over HTTP, durable storage (SQLite), replication within its swarm",
    long_about = "A service node: serves the storage JSON-RPC at POST /storage_rpc/v1 and onion requests at \
                  POST /onion_req/v2, stores messages durably in SQLite under --data, replicates them to \
                  the other members of its swarm and hands records on when swarms change. The node key file \
                  (<data>/key.json, mode 0600) is created on first start. SIGTERM or SIGINT stop it cleanly.",
    after_help = "EXAMPLE:\n  snode --data /var/lib/snode --listen 127.0.0.1:22021 --registry http://127.0.0.1:8080/registry.json\n  \
                  curl -s -d '{\"method\":\"info\",\"params\":{}}' http://127.0.0.1:22021/storage_rpc/v1"
)]
struct Args {
    /// Data directory (key file, database); created if missing.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Address to listen on; port 0 picks a free port (written to <data>/listen.addr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:22021")]
    listen: SocketAddr,
    /// Registry: an http:// URL or a file path.
    #[arg(long, value_name = "URL|FILE")]
    registry: String,
    /// Log level or filter (error, warn, info, debug, trace; or a tracing filter).
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    log: String,
    /// Serve HTTPS with a self-signed certificate (made at start), as live service nodes do, and
    /// talk HTTPS to the peers (every node of the network must say --tls).
    #[arg(long)]
    tls: bool,
    /// Record every accepted request, with the peer address of its connection, as one JSON line
    /// in <data>/peers.ndjson (docs/faults.md).
    #[arg(long)]
    peer_log: bool,
}

fn main() -> ExitCode {
    cli::run("snode", run)
}

fn run(args: Args) -> Result<(), CliError> {
    let runtime = cli::daemon_runtime(&args.log)?;
    let mut config = NodeConfig {
        tls: args.tls,
        peer_log: args.peer_log,
        ..NodeConfig::new(args.data, args.listen, args.registry)
    };
    // SNKIT_NO_CKPT (set when measuring the store): SQLite's default auto-checkpoint on the
    // writer instead of the large backstop, i.e. checkpoints back on the commit path.
    if std::env::var_os("SNKIT_NO_CKPT").is_some() {
        config.store.wal_autocheckpoint_pages = snkit::limits::SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES;
    }
    runtime.block_on(snode::run(config, snkit::server::shutdown_signal())).map_err(CliError::failed)
}
