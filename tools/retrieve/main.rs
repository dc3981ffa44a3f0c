//! `retrieve` (not yet implemented).

use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError};

/// retrieve (not yet implemented).
#[derive(Parser, Debug)]
#[command(name = "retrieve", version)]
struct Args {}

fn main() -> ExitCode {
    cli::run("retrieve", |_args: Args| Err(CliError::failed("not implemented yet")))
}
