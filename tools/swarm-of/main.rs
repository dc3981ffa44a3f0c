//! `swarm-of` (not yet implemented).

use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError};

/// swarm-of (not yet implemented).
#[derive(Parser, Debug)]
#[command(name = "swarm-of", version)]
struct Args {}

fn main() -> ExitCode {
    cli::run("swarm-of", |_args: Args| Err(CliError::failed("not implemented yet")))
}
