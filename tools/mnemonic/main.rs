//! `mnemonic`: seed ⇄ recovery phrase (the Session app's 13 words, or BIP-39).
#![expect(
    rustdoc::invalid_html_tags,
    reason = "the flags' docs are clap help text: `<x>` there is a placeholder, not HTML"
)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use snkit::cli::{self, CliError};
use snkit::mnemonic::{self, Format};
use zeroize::Zeroizing;

/// Seed ⇄ recovery phrase: the Session app's 13 words (default) or BIP-39.
#[derive(Parser, Debug)]
#[command(
    name = "mnemonic",
    version,
    arg_required_else_help = true,
    long_about = "Seed ⇄ recovery phrase.\n\n\
        The default format is the Session app's recovery phrase: 1626-word list, 12 words per \
        16-byte seed plus a checksum word (13 words; 25 for a 32-byte seed). --format bip39 gives \
        the standard BIP-39 English phrase of the same bytes instead (12 or 24 words) — a \
        different phrase that the Session app does not accept. Every output names its format.",
    after_help = "EXAMPLES:\n  \
        keygen | mnemonic encode                      # the 13-word phrase of a new identity\n  \
        keygen --seed 000102030405060708090a0b0c0d0e0f | mnemonic encode --format bip39\n  \
        echo 'amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed' \\\n      \
        | mnemonic decode | keygen --seed -          # restore an account\n\n\
        $ echo 000102030405060708090a0b0c0d0e0f | mnemonic encode\n  \
        {\"mnemonic\":\"amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed\",\
        \"format\":\"session\"}"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Seed → phrase
    ///
    /// Reads hex, or JSON with a "seed" field (keygen's output); prints
    /// {"mnemonic": "...", "format": "session"|"bip39"}.
    #[command(after_help = "EXAMPLES:\n  \
        keygen | mnemonic encode\n  \
        echo 000102030405060708090a0b0c0d0e0f | mnemonic encode --format bip39\n  \
        mnemonic encode alice.json                    # a keygen -o file")]
    Encode {
        /// Where to read the seed: a file, or `-` for stdin (the default)
        #[arg(value_name = "FILE|-")]
        input: Option<String>,
        /// Phrase format
        #[arg(long, value_enum, default_value_t = FormatArg::Session)]
        format: FormatArg,
    },
    /// Phrase → seed
    ///
    /// Reads the words (any case, any whitespace, Session words by their first 3 letters), or
    /// JSON with a "mnemonic" field; prints {"seed": "<hex>", "format": "session"|"bip39"}.
    #[command(after_help = "Without --format: 13 or 25 words are a Session phrase; 12 or 24 words are \
        BIP-39 when they are BIP-39 words with a valid BIP-39 checksum, else a Session phrase \
        without its checksum word (decoded with a warning). JSON input may name its \"format\".\n\n\
        EXAMPLES:\n  \
        echo 'amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed' \
        | mnemonic decode\n  \
        keygen | mnemonic encode | mnemonic decode    # round trip\n\n\
        $ echo 'ama buf cak ent sym tig lam maz nes pyt dus fax fax' | mnemonic decode\n  \
        {\"seed\":\"000102030405060708090a0b0c0d0e0f\",\"format\":\"session\"}")]
    Decode {
        /// Where to read the phrase: a file, or `-` for stdin (the default)
        #[arg(value_name = "FILE|-")]
        input: Option<String>,
        /// Phrase format (default: detect)
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
    },
}

/// Which kind of phrase (the flag's values; the library's `Format` stays free of clap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    /// The Session app's recovery phrase (1626-word list, checksum word).
    Session,
    /// BIP-39 (2048-word English list, checksum bits).
    Bip39,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Self {
        match arg {
            FormatArg::Session => Format::Session,
            FormatArg::Bip39 => Format::Bip39,
        }
    }
}

#[derive(serde::Serialize)]
struct PhraseOut<'a> {
    mnemonic: &'a str,
    format: Format,
}

#[derive(serde::Serialize)]
struct SeedOut<'a> {
    seed: &'a str,
    format: Format,
}

fn main() -> ExitCode {
    cli::run("mnemonic", run)
}

fn run(args: Args) -> Result<(), CliError> {
    match args.command {
        Command::Encode { input, format } => encode(input.as_deref(), format.into()),
        Command::Decode { input, format } => decode(input.as_deref(), format.map(Format::from)),
    }
}

fn encode(input: Option<&str>, format: Format) -> Result<(), CliError> {
    let text = Zeroizing::new(cli::read_text(input)?);
    let seed = mnemonic::parse_seed_text(&text).map_err(CliError::usage)?;
    let phrase = mnemonic::encode(&seed, format).map_err(CliError::usage)?;
    cli::emit(&PhraseOut { mnemonic: &phrase, format })
}

fn decode(input: Option<&str>, format: Option<Format>) -> Result<(), CliError> {
    let text = Zeroizing::new(cli::read_text(input)?);
    let (phrase, format) = if text.starts_with('{') {
        let value = cli::parse_json(&text)?;
        let phrase = Zeroizing::new(cli::str_field(&value, "mnemonic")?.to_string());
        let format = match (format, value.get("format").and_then(|f| f.as_str())) {
            (Some(f), _) => Some(f),
            (None, Some(name)) => Some(Format::parse(name).map_err(CliError::usage)?),
            (None, None) => None,
        };
        (phrase, format)
    } else {
        (text, format)
    };
    let decoded = mnemonic::decode(&phrase, format).map_err(|e| {
        if mnemonic::parse_seed_hex(&phrase).is_ok() {
            CliError::usage(e).hint("this is a seed, not a phrase: use 'mnemonic encode'")
        } else {
            CliError::from(e)
        }
    })?;
    if !decoded.checksum_verified {
        eprintln!(
            "{}: warning: {}-word Session phrase without its checksum word: a mistyped word cannot be detected",
            cli::command_name(),
            phrase.split_whitespace().count()
        );
    }
    let seed = Zeroizing::new(hex::encode(&*decoded.seed));
    cli::emit(&SeedOut { seed: &seed, format: decoded.format })
}
