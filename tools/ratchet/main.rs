//! `ratchet` (not yet implemented).

use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError};

/// ratchet (not yet implemented).
#[derive(Parser, Debug)]
#[command(name = "ratchet", version)]
struct Args {}

fn main() -> ExitCode {
    cli::run("ratchet", |_args: Args| Err(CliError::failed("not implemented yet")))
}
