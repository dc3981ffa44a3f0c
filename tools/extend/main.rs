//! `extend`: ask a file server to keep a file longer (logic: `snkit::client::files`).

use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError, FileServerArgs};
use snkit::client::files;

/// Ask a file server to keep a file longer (its expiry is never shortened).
#[derive(Parser, Debug)]
#[command(
    name = "extend",
    version,
    long_about = "Ask a file server to keep a file longer (POST /file/ID/extend, X-FS-TTL): its \
        expiry becomes the later of the current one and now + TTL, so it is never shortened. Only \
        hash ids (44 characters) can be extended: a numeric id may already name another file. FILE \
        is a download URL, a bare file id, or '-' / a path to a pointer JSON. Prints {\"id\", \
        \"size\", \"uploaded\", \"expires\"}. Exit 1 for an unknown or expired file (404), 2 bad input.",
    after_help = "EXAMPLE:\n  upload photo.jpg --identity alice.json > p.json\n  extend p.json --ttl 1209600\n  \
        extend \"$(jq -r .url p.json)\" --direct"
)]
struct Args {
    /// The file: a download URL, a file id, or a pointer ('-': stdin).
    file: String,
    /// The lifetime to extend to, in seconds from now (the server's default otherwise).
    #[arg(long, value_name = "S")]
    ttl: Option<u64>,
    #[command(flatten)]
    server: FileServerArgs,
}

fn main() -> ExitCode {
    cli::run("extend", run)
}

fn run(args: Args) -> Result<(), CliError> {
    let known = args.server.server()?;
    let (text, from_stdin) = cli::file_target(&args.file)?;
    let (server, id) = files::target_of(&text, known.as_ref()).map_err(CliError::from)?;
    let net = args.server.network(from_stdin.then_some("the pointer is read from it"))?;
    let mut info = files::extend(&cli::via(net.as_ref()), &server, &id, args.ttl).map_err(CliError::from)?;
    info["id"] = serde_json::Value::from(id);
    cli::emit(&info)
}
