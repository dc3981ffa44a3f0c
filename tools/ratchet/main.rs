//! `ratchet`: X3DH + Double Ratchet end-to-end encryption between Session IDs: prekey bundles,
//! friend requests, encrypt, decrypt. All logic is in `snkit::ratchet`.
// The flags' docs are clap help text: `<x>` there is a placeholder, not HTML. `allow`, not
// `expect`: no flag of this command has such a placeholder today, so an expectation would be
// unfulfilled; the allow keeps the next one from breaking `cargo doc`.
#![allow(rustdoc::invalid_html_tags)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args as ClapArgs, Parser, Subcommand};
use rand::rngs::OsRng;
use snkit::attachments::pointer::AttachmentPointer;
use snkit::cli::{self, CliError};
use snkit::client::files;
use snkit::client::ratchet::{Account, Record, state};
use snkit::identity::{Identity, SessionId};
use snkit::limits::{DEFAULT_BUNDLE_OPKS, MAX_PLAINTEXT_BYTES};
use snkit::ratchet::{Bundle, Incoming, Payload, RatchetError};
use zeroize::Zeroizing;

/// X3DH + Double Ratchet: prekey bundles, friend requests, encrypt, decrypt.
#[derive(Parser, Debug)]
#[command(
    name = "ratchet",
    version,
    long_about = "X3DH + Double Ratchet end-to-end encryption between Session IDs.\n\n\
        Each identity keeps its prekeys and one session per peer in a state directory (--state, \
        default $XDG_DATA_HOME/snkit/ratchet/<session_id>), updated atomically under a lock. \
        Every message is one JSON line, ready for `send`; `decrypt` reads those lines, bare or as \
        `retrieve` prints them ({\"data\": base64, ...}).",
    after_help = "EXAMPLE (a whole conversation; with the network, pipe through send/retrieve):\n  \
        keygen -o alice.json; keygen -o bob.json\n  \
        BOB=$(jq -r .session_id bob.json); ALICE=$(jq -r .session_id alice.json)\n  \
        echo 'Hi Bob, it is Alice' | ratchet request --identity alice.json --to $BOB --name Alice > req\n  \
        ratchet decrypt --identity bob.json < req          # {\"type\":\"friend_request\",\"from\":...}\n  \
        ratchet accept --identity bob.json < req > acc     # Bob's first message\n  \
        ratchet decrypt --identity alice.json < acc        # {\"type\":\"message\",\"from\":...,\"text\":\"\",\"new_session\":true}\n  \
        echo 'hello' | ratchet encrypt --identity alice.json --to $BOB | ratchet decrypt --identity bob.json\n\n\
        EXIT: 0 ok, 1 verification failed (duplicate, tampered, too far ahead, wrong recipient, ...), 2 bad input."
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(ClapArgs, Debug)]
struct Common {
    /// The identity file (as `keygen -o` writes it)
    #[arg(long, value_name = "ID.json")]
    identity: PathBuf,

    /// The state directory [default: $XDG_DATA_HOME/snkit/ratchet/<session_id>]
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a prekey bundle: a new signed prekey when due (weekly), N fresh one-time prekeys
    #[command(
        after_help = "EXAMPLE:\n  ratchet bundle --identity alice.json --opks 5 > alice-bundle.json\n\n\
        OUTPUT: {\"session_id\", \"ed25519_pk\", \"spk\": {\"id\", \"pub\", \"sig\"}, \"opks\": [{\"id\", \"pub\"}]}"
    )]
    Bundle {
        #[command(flatten)]
        common: Common,
        /// Number of fresh one-time prekeys to make and publish
        #[arg(long, value_name = "N", default_value_t = DEFAULT_BUNDLE_OPKS)]
        opks: usize,
    },
    /// Print a friend request to SESSION_ID; the introduction is read from stdin
    #[command(
        after_help = "EXAMPLE:\n  echo 'Hi Bob, it is Alice' | ratchet request --identity alice.json --to $BOB --name Alice | send --to $BOB\n  \
        (ratchet bundle --identity alice.json --opks 1; echo 'Hi') | ratchet request --identity alice.json --to $BOB --name Alice --bundle -\n\n\
        Without --bundle, a fresh bundle with one one-time prekey is made. With --bundle -, the first line of stdin is the \
        bundle and the rest the introduction.\n\n\
        OUTPUT: one line {\"v\":1,\"type\":\"friend_request\",\"to\",\"sealed\"} (the sender is inside the seal)"
    )]
    Request {
        #[command(flatten)]
        common: Common,
        /// The recipient's Session ID
        #[arg(long, value_name = "SESSION_ID")]
        to: String,
        /// Our own bundle to enclose (from `ratchet bundle`); `-` = first line of stdin
        #[arg(long, value_name = "FILE|-")]
        bundle: Option<String>,
        /// Our display name
        #[arg(long, value_name = "NAME")]
        name: String,
    },
    /// Accept a friend request (FILE or stdin): verify it, start the session, print our first message
    #[command(
        after_help = "EXAMPLE:\n  retrieve --identity bob.json | grep -m1 . | ratchet accept --identity bob.json | send --to $ALICE\n  \
        ratchet accept --identity bob.json --text 'Hi Alice!' < req\n\n\
        The input is the request line, bare or as `retrieve` prints it. OUTPUT: one wire message line."
    )]
    Accept {
        #[command(flatten)]
        common: Common,
        /// The friend request [default: stdin]
        #[arg(value_name = "FILE")]
        input: Option<String>,
        /// Text of our first message
        #[arg(long, value_name = "TEXT", default_value = "")]
        text: String,
        /// Start over even if a session with the sender exists
        #[arg(long)]
        force: bool,
    },
    /// Encrypt stdin (one message; one trailing newline dropped) to SESSION_ID: one wire message line
    #[command(
        after_help = "EXAMPLE:\n  echo 'see you at 8' | ratchet encrypt --identity alice.json --to $BOB | send --to $BOB\n\n\
        OUTPUT: {\"v\":1,\"from\",\"to\",\"header\",\"ct\"[,\"x3dh\"]} on one line"
    )]
    Encrypt {
        #[command(flatten)]
        common: Common,
        /// The peer's Session ID (a session must exist: request/accept first)
        #[arg(long, value_name = "SESSION_ID")]
        to: String,
        /// An attachment pointer file (what `upload` prints) to send in the message (repeatable):
        /// the plaintext becomes {"text", "attachments"}, which `decrypt` prints as they are
        #[arg(long, value_name = "POINTER")]
        attach: Vec<PathBuf>,
    },
    /// Decrypt NDJSON messages (FILE or stdin): one output line per input line, in order
    #[command(
        after_help = "EXAMPLE:\n  retrieve --identity bob.json | ratchet decrypt --identity bob.json\n\n\
        Input lines: wire messages or friend requests, bare or as `retrieve` prints them (an object whose \"data\" is \
        the base64 of the message line; its \"hash\" and \"timestamp\" are passed on as \"hash\" and \"stored_at\").\n\n\
        OUTPUT, one line per input line:\n  \
        {\"type\":\"message\",\"from\",\"text\"}         (\"data\" in base64 if not UTF-8; \"new_session\":true for a first message;\n  \
        \"redelivered\":true if a killed earlier run decrypted it but may not have printed it)\n  \
        {\"type\":\"friend_request\",\"from\",\"name\",\"text\",\"timestamp\"}   (accept it with `ratchet accept`)\n  \
        {\"type\":\"session_message\",\"from\",\"text\",\"timestamp\"}  (a 1-1 message in the live Session apps' format,\n  \
        signature checked; what `send --format session` and the apps store)\n  \
        {\"type\":\"error\",\"line\",\"error\",\"message\"}  (a line that could not be decrypted; nothing is skipped silently)\n\
        Any error line makes the exit status 1 (2 if every failure was bad input), with one stderr line naming it."
    )]
    Decrypt {
        #[command(flatten)]
        common: Common,
        /// NDJSON input [default: stdin]
        #[arg(value_name = "FILE")]
        input: Option<String>,
    },
}

fn main() -> ExitCode {
    cli::run("ratchet", run)
}

fn run(args: Args) -> Result<(), CliError> {
    match args.command {
        Command::Bundle { common, opks } => {
            let identity = load_identity(&common.identity)?;
            let mut account = open(&identity, &common)?;
            cli::emit(&account.publish_bundle(opks, now(), &mut OsRng)?)
        }
        Command::Request { common, to, bundle, name } => {
            let identity = load_identity(&common.identity)?;
            let to = parse_sid(&to)?;
            let input = Zeroizing::new(cli::read_input(None)?);
            let (bundle, intro) = match bundle.as_deref() {
                Some("-") => {
                    let (first, rest) = split_first_line(&input);
                    (Some(parse_bundle(first)?), rest)
                }
                Some(path) => (Some(parse_bundle(&cli::read_input(Some(path))?)?), input.as_slice()),
                None => (None, input.as_slice()),
            };
            let intro =
                std::str::from_utf8(intro).map_err(|_| CliError::usage("introduction is not UTF-8"))?;
            let mut account = open(&identity, &common)?;
            let req = account.request(&to, &name, intro.trim_end(), bundle.as_ref(), now(), &mut OsRng)?;
            cli::emit(&req)
        }
        Command::Accept { common, input, text, force } => {
            let identity = load_identity(&common.identity)?;
            let incoming = Incoming::from_json(&cli::read_json(input.as_deref())?)?;
            let Payload::Request(req) = &incoming.payload else {
                return Err(CliError::usage("input is a message, not a friend request (decrypt it instead)"));
            };
            let mut account = open(&identity, &common)?;
            let (_, msg) = account.accept(req, text.as_bytes(), force, &mut OsRng)?;
            cli::emit(&msg)
        }
        Command::Encrypt { common, to, attach } => {
            let identity = load_identity(&common.identity)?;
            let to = parse_sid(&to)?;
            let plaintext =
                if attach.is_empty() { read_plaintext()? } else { attachment_plaintext(&attach)? };
            let mut account = open(&identity, &common)?;
            cli::emit(&account.encrypt(&to, &plaintext)?)
        }
        Command::Decrypt { common, input } => {
            let identity = load_identity(&common.identity)?;
            let mut account = open(&identity, &common)?;
            decrypt_stream(&mut account, input.as_deref())
        }
    }
}

/// Decrypts every line in order; a failed line becomes an error record, and the command ends
/// with exit 1 (2 if every failure was bad input) and one stderr line naming the first failure.
fn decrypt_stream(account: &mut Account<'_>, input: Option<&str>) -> Result<(), CliError> {
    let mut failures = 0usize;
    let mut total = 0usize;
    let mut first: Option<(usize, RatchetError)> = None;
    let mut all_bad_input = true;
    account.at_least_once(&mut OsRng);
    let streamed = cli::for_each_json_line(input, |line, value| {
        total += 1;
        // A line that is not JSON is one error record, like any other undecryptable line.
        let incoming = value
            .map_err(|e| RatchetError::Malformed(format!("input line ({e})")))
            .and_then(|v| Incoming::from_json(&v));
        let result = match &incoming {
            Ok(inc) => account.receive(inc, &mut OsRng).map(|received| Record::received(&received, inc)),
            Err(err) => Err(err.clone()),
        };
        let record = result.unwrap_or_else(|err| {
            let record = Record::failed(line, &err, incoming.as_ref().ok());
            failures += 1;
            all_bad_input &= err.is_bad_input();
            if first.is_none() {
                first = Some((line, err));
            }
            record
        });
        cli::emit(&record)
    });
    // Every record was printed (or the stream broke): forget the keys kept for redelivery.
    if streamed.is_ok() {
        account.acknowledge()?;
    }
    streamed?;
    match first {
        None => Ok(()),
        Some((line, err)) => {
            let message = if failures == 1 {
                format!("line {line}: {err}")
            } else {
                format!("{failures} of {total} lines could not be decrypted; first: line {line}: {err}")
            };
            Err(if all_bad_input { CliError::usage(message) } else { CliError::failed(message) })
        }
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn load_identity(path: &Path) -> Result<Identity, CliError> {
    Identity::load(path)
        .map_err(|e| CliError::usage(e).hint("--identity takes the JSON file `keygen -o` writes"))
}

fn parse_sid(s: &str) -> Result<SessionId, CliError> {
    SessionId::parse(s).map_err(|e| CliError::usage(format!("--to: {e}")))
}

fn open<'a>(identity: &'a Identity, common: &Common) -> Result<Account<'a>, CliError> {
    let dir = match &common.state {
        Some(d) => d.clone(),
        None => state::default_dir(&identity.session_id())
            .ok_or_else(|| CliError::usage("no --state given and neither XDG_DATA_HOME nor HOME is set"))?,
    };
    Ok(Account::open(identity, &dir)?)
}

fn parse_bundle(bytes: &[u8]) -> Result<Bundle, CliError> {
    let text = std::str::from_utf8(bytes).map_err(|_| CliError::usage("bundle is not UTF-8"))?;
    Ok(Bundle::from_json(&cli::parse_json(text.trim())?)?)
}

fn split_first_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|b| *b == b'\n') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}

/// The text on stdin (may be empty or a terminal) and the `--attach` pointers as snkit's
/// message with files.
fn attachment_plaintext(paths: &[PathBuf]) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let mut pointers = Vec::new();
    for path in paths {
        let v = cli::read_json(path.to_str())?;
        let p: AttachmentPointer = serde_json::from_value(v).map_err(|e| {
            CliError::usage(format!("--attach {}: not an attachment pointer: {e}", path.display()))
        })?;
        p.scheme().map_err(|e| CliError::usage(format!("--attach {}: {e}", path.display())))?;
        pointers.push(p);
    }
    let text = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        Zeroizing::new(Vec::new())
    } else {
        read_plaintext()?
    };
    let text =
        std::str::from_utf8(&text).map_err(|_| CliError::usage("with --attach, stdin must be UTF-8 text"))?;
    let body =
        files::attachment_message((!text.is_empty()).then_some(text), &pointers).map_err(CliError::from)?;
    Ok(Zeroizing::new(body))
}

/// Stdin as one message, one trailing newline (`echo`'s) dropped.
fn read_plaintext() -> Result<Zeroizing<Vec<u8>>, CliError> {
    let mut buf = Zeroizing::new(cli::read_input(None)?);
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    if buf.len() > MAX_PLAINTEXT_BYTES {
        return Err(
            RatchetError::TooLong { what: "plaintext", len: buf.len(), max: MAX_PLAINTEXT_BYTES }.into()
        );
    }
    Ok(buf)
}
