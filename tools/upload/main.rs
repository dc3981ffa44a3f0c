//! `upload`: encrypt a file as the apps do and put it on a file server; prints the attachment
//! pointer a message carries (logic: `snkit::client::files`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use snkit::cli::{self, CliError, FileServerArgs};
use snkit::client::files::{self, UploadScheme};
use snkit::identity::Identity;
use zeroize::Zeroizing;

/// Encrypt a file and upload it to a file server; prints its attachment pointer.
#[derive(Parser, Debug)]
#[command(
    name = "upload",
    version,
    long_about = "Encrypt FILE as the Session apps do (the 'S' stream format, keyed by your identity's \
        seed, so the same file gives the same blob; or --scheme legacy) and upload the ciphertext to a \
        file server (POST /file), through a 3-hop onion path (v4, as the apps do) or --direct.\n\n\
        Prints one JSON line, the attachment pointer to put in a message ('send --attach'): \
        {\"url\", \"key\", \"size\", \"digest\"?, \"content_type\", \"file_name\", \"expires\"}. \
        The key is what protects the file: send the pointer only inside an end-to-end-encrypted \
        message. The server holds ciphertext under an unguessable id until \"expires\" (unix seconds).\n\n\
        The file server: --fileserver URL --fileserver-key HEX, else the testnet's (the \
        fileserver.json 'testnet up --fileserver' writes next to nodes.json).\n\n\
        Exit: 0 uploaded, 1 the server or the network failed, 2 bad input (unreadable file, too \
        large, bad flags).",
    after_help = "EXAMPLE:\n  testnet up --nodes 12 --fileserver --dir .testnet\n  keygen -o alice.json\n  \
        upload photo.jpg --identity alice.json > pointer.json\n  \
        {\"url\":\"http://127.0.0.1:40100/file/3qXf…#d&p=…\",\"key\":\"…\",\"size\":48213,\"content_type\":\"image/jpeg\",\"file_name\":\"photo.jpg\",\"expires\":1760000000}\n  \
        upload doc.pdf --identity alice.json --direct --ttl 3600 --fileserver http://127.0.0.1:8088 --fileserver-key $KEY"
)]
struct Args {
    /// The file to upload.
    file: PathBuf,
    /// Your identity (a `keygen -o` file): its Ed25519 seed keys the stream scheme.
    #[arg(long, value_name = "ID.json")]
    identity: Option<PathBuf>,
    /// How to encrypt: stream (what the apps write today) or legacy (AES-CBC + HMAC, random keys).
    #[arg(long, value_enum, default_value_t = SchemeArg::Stream)]
    scheme: SchemeArg,
    /// How long the server keeps the file, in seconds (X-FS-TTL; the server's default otherwise).
    #[arg(long, value_name = "S")]
    ttl: Option<u64>,
    #[command(flatten)]
    server: FileServerArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemeArg {
    Stream,
    Legacy,
}

fn main() -> ExitCode {
    cli::run("upload", run)
}

fn run(args: Args) -> Result<(), CliError> {
    let scheme = match (args.scheme, &args.identity) {
        (SchemeArg::Stream, Some(path)) => {
            let id = Identity::load(path)
                .map_err(|e| CliError::usage(format!("cannot use identity {}: {e}", path.display())))?;
            UploadScheme::Stream(Zeroizing::new(id.signing_key().to_bytes()))
        }
        (SchemeArg::Stream, None) => {
            return Err(CliError::usage(
                "the stream scheme derives its key from your identity: pass --identity FILE",
            )
            .hint("make one with 'keygen -o me.json', or use --scheme legacy"));
        }
        (SchemeArg::Legacy, Some(_)) => {
            return Err(CliError::usage("--identity applies to --scheme stream only"));
        }
        (SchemeArg::Legacy, None) => UploadScheme::Legacy,
    };
    if !args.file.is_file() {
        return Err(CliError::usage(format!("{} is not a readable file", args.file.display())));
    }
    let server = args.server.require_server()?;
    let net = args.server.network(None)?;
    let via = cli::via(net.as_ref());
    let uploaded = files::upload(&via, &server, &args.file, &scheme, args.ttl).map_err(CliError::from)?;
    cli::emit(&uploaded)
}
