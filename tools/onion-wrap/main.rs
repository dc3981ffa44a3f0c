//! `onion-wrap` (not yet implemented).

use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError};

/// onion-wrap (not yet implemented).
#[derive(Parser, Debug)]
#[command(name = "onion-wrap", version)]
struct Args {}

fn main() -> ExitCode {
    cli::run("onion-wrap", |_args: Args| Err(CliError::failed("not implemented yet")))
}
