//! `download`: fetch the files attachment pointers name, verify and decrypt them (logic:
//! `snkit::client::files`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use snkit::attachments::pointer::AttachmentPointer;
use snkit::cli::{self, CliError, FileServerArgs};
use snkit::client::files;

/// Download, verify and decrypt the files attachment pointers name.
#[derive(Parser, Debug)]
#[command(
    name = "download",
    version,
    long_about = "Download the file an attachment pointer names ({\"url\", \"key\", \"size\", \"digest\"?, \
        \"file_name\"?}, as 'upload' prints it and 'ratchet decrypt' shows it under \"attachments\"), \
        verify and decrypt it. The scheme comes from the URL, as the apps choose it: a '#d' fragment \
        is the stream format, else a digest means the legacy one. The server's key comes from the \
        URL's 'p=' fragment, else --fileserver-key (or the testnet's) for that server, else the live \
        default server's.\n\n\
        POINTER is a file, or '-' (the default) for stdin: one JSON object, or NDJSON with one \
        pointer per line. Each file is written under a temporary name and takes its name (-o OUT, or \
        its pointer's file_name inside --dir D, default '.', made if missing) only once every byte authenticated and \
        the size matched; a failure leaves nothing. Prints one JSON line per file: \
        {\"url\", \"scheme\", \"size\", \"sha256\", \"out\"}.\n\n\
        Exit: 0 all downloaded, 1 a download or a verification failed (the rest are not tried), \
        2 bad input.",
    after_help = "EXAMPLE:\n  download pointer.json -o photo.jpg\n  \
        retrieve --identity bob.json | ratchet decrypt --identity bob.json | jq -c '.attachments[]?' | download --dir inbox/\n  \
        download pointer.json --direct -o photo.jpg   # no onion path"
)]
struct Args {
    /// The pointer(s): a file, or '-' for stdin.
    #[arg(default_value = "-")]
    pointer: String,
    /// Where the file goes (one pointer only).
    #[arg(short = 'o', long = "output", value_name = "OUT", conflicts_with = "dir")]
    output: Option<PathBuf>,
    /// The directory files go into, under their pointers' file names (default: the current one).
    #[arg(long, value_name = "D")]
    dir: Option<PathBuf>,
    /// Replace files that exist.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    server: FileServerArgs,
}

fn main() -> ExitCode {
    cli::run("download", run)
}

fn run(args: Args) -> Result<(), CliError> {
    let input = cli::read_input(Some(&args.pointer))?;
    let mut pointers = Vec::new();
    for (i, value) in
        serde_json::Deserializer::from_slice(&input).into_iter::<serde_json::Value>().enumerate()
    {
        let value = value.map_err(|e| CliError::usage(format!("pointer {}: not JSON: {e}", i + 1)))?;
        let p: AttachmentPointer = serde_json::from_value(value)
            .map_err(|e| CliError::usage(format!("pointer {}: not an attachment pointer: {e}", i + 1)))?;
        pointers.push(p);
    }
    if pointers.is_empty() {
        return Err(CliError::usage("no pointer in the input")
            .hint("pipe 'upload' output, or a message's \"attachments\""));
    }
    if args.output.is_some() && pointers.len() > 1 {
        return Err(CliError::usage(format!("-o names one file, the input has {} pointers", pointers.len()))
            .hint("use --dir D instead"));
    }
    for p in &pointers {
        p.scheme().map_err(|e| CliError::usage(format!("pointer {}: {e}", p.url)))?;
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    if args.output.is_none() && !dir.is_dir() {
        if dir.exists() {
            return Err(CliError::usage(format!("--dir {}: not a directory", dir.display())));
        }
        snkit::fs::create_private_dir(&dir)
            .map_err(|e| CliError::usage(format!("--dir {}: cannot create it: {e}", dir.display())))?;
    }
    let known = args.server.server()?;
    let stdin = (args.pointer == "-").then_some("the pointers are read from it");
    let net = args.server.network(stdin)?;
    let via = cli::via(net.as_ref());
    for p in &pointers {
        let dest = match &args.output {
            Some(o) => o.clone(),
            None => {
                let id = p.download_url().map(|u| u.file_id().to_string()).unwrap_or_default();
                dir.join(files::safe_file_name(p, &id))
            }
        };
        let done = files::download(&via, p, known.as_ref(), &dest, args.force).map_err(CliError::from)?;
        cli::emit(&done)?;
    }
    Ok(())
}
