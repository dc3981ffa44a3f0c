//! `fileinfo`: ask a file server about a file (size, upload time, expiry) (logic:
//! `snkit::client::files`).

use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError, FileServerArgs};
use snkit::client::files;

/// Ask a file server about a file: its size, upload time and expiry.
#[derive(Parser, Debug)]
#[command(
    name = "fileinfo",
    version,
    long_about = "Ask a file server about a file (GET /file/ID/info), through a 3-hop onion path or \
        --direct. FILE is a download URL (http://HOST/file/ID#…), a bare file id (on --fileserver, or \
        the testnet's), or '-' / a path to a pointer JSON. Prints {\"id\", \"size\", \"uploaded\", \
        \"expires\"} (unix seconds, as the server answers). Exit 1 for an unknown or expired file (404).",
    after_help = "EXAMPLE:\n  upload photo.jpg --identity alice.json | fileinfo -\n  \
        fileinfo 'http://127.0.0.1:8088/file/3qXfYbeRSxXa89I8ApcbKl0_BshkLQ6myd0DsvcrDEy3#d' --direct"
)]
struct Args {
    /// The file: a download URL, a file id, or a pointer ('-': stdin).
    file: String,
    #[command(flatten)]
    server: FileServerArgs,
}

fn main() -> ExitCode {
    cli::run("fileinfo", run)
}

fn run(args: Args) -> Result<(), CliError> {
    let known = args.server.server()?;
    let (text, from_stdin) = cli::file_target(&args.file)?;
    let (server, id) = files::target_of(&text, known.as_ref()).map_err(CliError::from)?;
    let net = args.server.network(from_stdin.then_some("the pointer is read from it"))?;
    let mut info = files::info(&cli::via(net.as_ref()), &server, &id).map_err(CliError::from)?;
    info["id"] = serde_json::Value::from(id);
    cli::emit(&info)
}
