//! `keygen`: make a Session identity, or re-derive one from its seed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use snkit::blinding;
use snkit::cli::{self, CliError};
use snkit::identity::Identity;
use snkit::mnemonic::parse_seed_text;
use zeroize::Zeroizing;

/// Make a Session identity, or re-derive one from its seed.
#[derive(Parser, Debug)]
#[command(
    name = "keygen",
    version,
    long_about = "Make a Session identity, or re-derive one from its seed.\n\n\
        Prints one JSON object: {\"session_id\", \"ed25519_pk\", \"x25519_pk\", \"seed\"} (hex). A new \
        identity has a 16-byte seed, as the Session apps make it; the Ed25519 key comes from the \
        seed followed by 16 zero bytes, the X25519 key from the Ed25519 key, and the Session ID is \
        05 + the X25519 key. A 32-byte seed is used as the Ed25519 seed as it is.",
    after_help = "EXAMPLES:\n  \
        keygen                                        # a new identity\n  \
        keygen -o alice.json                          # into a new 0600 file; prints the public parts\n  \
        keygen --seed 000102030405060708090a0b0c0d0e0f\n  \
        keygen --seed-file alice.json                 # re-derive from a file holding hex or {\"seed\"}\n  \
        keygen --seed-file alice.json --community $SOGS_PK   # + \"blinded15\", \"blinded25\" on that server\n  \
        echo 'amaze buffet ... faxed' | mnemonic decode | keygen --seed -   # restore an account\n\n\
        $ keygen --seed 000102030405060708090a0b0c0d0e0f\n  \
        {\"session_id\":\"05ca03b8e369aeeb69fd260c2957d37b232db17a60db7a39bca9f0c0a6be135c1a\",\
        \"ed25519_pk\":\"65adc5bfb14b5363f1b50e63a431f6fe08ff5d4e8d362c1e3d4c56c9d044bfb0\",\
        \"x25519_pk\":\"ca03b8e369aeeb69fd260c2957d37b232db17a60db7a39bca9f0c0a6be135c1a\",\
        \"seed\":\"000102030405060708090a0b0c0d0e0f\"}"
)]
struct Args {
    /// Re-derive from this seed: 32 or 64 hex characters, or `-` to read hex or JSON with a
    /// "seed" field from stdin (keeps the seed out of argv)
    #[arg(long, value_name = "HEX|-", conflicts_with = "seed_file")]
    seed: Option<String>,

    /// Re-derive from the seed in FILE (hex, or JSON with a "seed" field, e.g. a keygen -o file)
    #[arg(long, value_name = "FILE")]
    seed_file: Option<PathBuf>,

    /// Write the identity, seed included, to FILE: a new file with mode 0600, never overwritten.
    /// Stdout then shows only the public parts {"session_id", "ed25519_pk", "x25519_pk"}
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,

    /// Also print the identity's blinded IDs for the community (SOGS) server with this X25519
    /// public key (64 hex): "blinded15" and "blinded25", as the apps show them there
    #[arg(long, value_name = "SERVER_PK")]
    community: Option<String>,
}

/// The identity's blinded IDs on one community server (identity.md §3).
#[derive(serde::Serialize)]
struct Blinded {
    blinded15: String,
    blinded25: String,
}

fn blinded(identity: &Identity, server: &str) -> Result<Blinded, CliError> {
    let server = blinding::parse_server_pubkey(server.trim())
        .map_err(|e| CliError::usage(format!("--community: {e}")))?;
    let id = |kp: Result<blinding::BlindedKeypair, blinding::BlindingError>| {
        kp.map(|k| k.id().to_string()).map_err(|e| CliError::failed(format!("--community: {e}")))
    };
    Ok(Blinded {
        blinded15: id(blinding::blind15_keypair(identity, &server))?,
        blinded25: id(blinding::blind25_keypair(identity, &server))?,
    })
}

/// One output object: `base`'s fields, then the blinded IDs.
#[derive(serde::Serialize)]
struct WithBlinded<'a, T: serde::Serialize> {
    #[serde(flatten)]
    base: &'a T,
    #[serde(flatten)]
    blinded: &'a Blinded,
}

/// The public parts of an identity, printed when the secret went to a file.
#[derive(serde::Serialize)]
struct Public<'a> {
    session_id: &'a str,
    ed25519_pk: &'a str,
    x25519_pk: &'a str,
}

fn main() -> ExitCode {
    cli::run("keygen", run)
}

fn run(args: Args) -> Result<(), CliError> {
    let identity = match (&args.seed, &args.seed_file) {
        (Some(seed), _) if seed == "-" => from_text(&Zeroizing::new(cli::read_text(Some("-"))?))?,
        (Some(seed), _) => from_text(seed)?,
        (None, Some(path)) => from_text(&Zeroizing::new(cli::read_text(Some(&path.to_string_lossy()))?))?,
        (None, None) => Identity::generate(),
    };
    let blinded = args.community.as_deref().map(|s| blinded(&identity, s)).transpose()?;
    let file = identity.to_file();
    match &args.output {
        None => match &blinded {
            None => cli::emit(&file),
            Some(b) => cli::emit(&WithBlinded { base: &file, blinded: b }),
        },
        Some(path) => {
            let mut json = Zeroizing::new(
                serde_json::to_string_pretty(&file)
                    .map_err(|e| CliError::failed(format!("cannot encode identity: {e}")))?,
            );
            json.push('\n');
            snkit::fs::write_new_secret(path, json.as_bytes()).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    CliError::failed(format!("{} already exists; refusing to overwrite it", path.display()))
                        .hint("choose another file name, or remove the old file first")
                } else {
                    CliError::failed(format!("cannot write {}: {e}", path.display()))
                }
            })?;
            let public = Public {
                session_id: &file.session_id,
                ed25519_pk: &file.ed25519_pk,
                x25519_pk: &file.x25519_pk,
            };
            match &blinded {
                None => cli::emit(&public),
                Some(b) => cli::emit(&WithBlinded { base: &public, blinded: b }),
            }
        }
    }
}

fn from_text(text: &str) -> Result<Identity, CliError> {
    let seed = parse_seed_text(text).map_err(|e| {
        let looks_like_words = text.split_whitespace().count() > 1
            && text.split_whitespace().all(|w| w.chars().all(char::is_alphabetic));
        let err = CliError::usage(e);
        if looks_like_words {
            err.hint("a recovery phrase? restore with: mnemonic decode | keygen --seed -")
        } else {
            err
        }
    })?;
    Identity::from_seed(&seed).map_err(CliError::usage)
}
