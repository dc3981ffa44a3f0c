//! `snode` (not yet implemented).

use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError};

/// snode (not yet implemented).
#[derive(Parser, Debug)]
#[command(name = "snode", version)]
struct Args {}

fn main() -> ExitCode {
    cli::run("snode", |_args: Args| Err(CliError::failed("not implemented yet")))
}
