//! `testnet` (not yet implemented).

use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError};

/// testnet (not yet implemented).
#[derive(Parser, Debug)]
#[command(name = "testnet", version)]
struct Args {}

fn main() -> ExitCode {
    cli::run("testnet", |_args: Args| Err(CliError::failed("not implemented yet")))
}
