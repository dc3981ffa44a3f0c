//! `send` (not yet implemented).

use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError};

/// send (not yet implemented).
#[derive(Parser, Debug)]
#[command(name = "send", version)]
struct Args {}

fn main() -> ExitCode {
    cli::run("send", |_args: Args| Err(CliError::failed("not implemented yet")))
}
