//! `mnemonic` (not yet implemented).

use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError};

/// mnemonic (not yet implemented).
#[derive(Parser, Debug)]
#[command(name = "mnemonic", version)]
struct Args {}

fn main() -> ExitCode {
    cli::run("mnemonic", |_args: Args| Err(CliError::failed("not implemented yet")))
}
