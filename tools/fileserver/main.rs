//! `fileserver`: a Session-compatible file server (attachments.md §5, docs/fileserver.md).
#![allow(rustdoc::invalid_html_tags)] // the flags' docs are clap help text: `<x>` there is a placeholder, not HTML

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use snkit::cli::{self, CliError};
use snkit::fileserver::{self, FileServerConfig};

/// A file server: end-to-end encrypted attachments as opaque blobs until they expire.
#[derive(Parser, Debug)]
#[command(
    name = "fileserver",
    version,
    about = "A Session-compatible file server: stores encrypted attachments under unguessable ids until they expire",
    long_about = "A Session-compatible file server (the session-file-server HTTP API): POST /file stores a raw body \
                  (optional X-FS-TTL: seconds) and answers {\"id\",\"expires\"}; GET /file/ID returns the bytes \
                  with an Expires header; GET /file/ID/info and POST /file/ID/extend answer \
                  {\"size\",\"uploaded\",\"expires\"}. Errors are {\"status_code\": N}. An upload is answered \
                  200 only once its bytes are fsynced, renamed into place and indexed. The server sees only \
                  ciphertext: the key travels inside the end-to-end-encrypted message.",
    after_help = "EXAMPLES:\n  \
                  fileserver serve --dir /var/lib/fileserver --listen 127.0.0.1:8088\n  \
                  {\"url\":\"http://127.0.0.1:8088\",\"pubkey\":\"…64 hex…\",\"pubkey_ed25519\":\"…64 hex…\"}\n  \
                  curl -s --data-binary @photo.enc http://127.0.0.1:8088/file\n  \
                  curl -s -o photo.enc http://127.0.0.1:8088/file/$ID"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve until SIGTERM or SIGINT; prints {"url","pubkey","pubkey_ed25519"} once listening.
    #[command(
        after_help = "EXAMPLE:\n  fileserver serve --dir fs-data --listen 127.0.0.1:0 | head -1 | jq -r .url"
    )]
    Serve {
        /// Data directory (key file <dir>/key.json made on first start, index, files); created if missing.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Address to listen on; port 0 picks a free port (the printed url tells which).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Serve HTTPS with a self-signed certificate made at start.
        #[arg(long)]
        tls: bool,
        /// Random integer ids below 2^53 (what older apps parse as a double) instead of hash ids.
        #[arg(long)]
        compat_ids: bool,
        /// Log level or filter (error, warn, info, debug, trace; or a tracing filter), on stderr.
        #[arg(long, value_name = "LEVEL", default_value = "info")]
        log: String,
    },
}

fn main() -> ExitCode {
    cli::run("fileserver", run)
}

fn run(args: Args) -> Result<(), CliError> {
    let Command::Serve { dir, listen, tls, compat_ids, log } = args.command;
    let runtime = cli::daemon_runtime(&log)?;
    let config = FileServerConfig { dir, listen, tls, compat_ids };
    let mut printed = Ok(());
    let served = runtime.block_on(fileserver::run(
        config,
        |ready| printed = cli::emit(ready),
        snkit::server::shutdown_signal(),
    ));
    served.map_err(CliError::failed)?;
    printed
}
