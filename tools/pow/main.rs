//! `pow` (not yet implemented).

use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError};

/// pow (not yet implemented).
#[derive(Parser, Debug)]
#[command(name = "pow", version)]
struct Args {}

fn main() -> ExitCode {
    cli::run("pow", |_args: Args| Err(CliError::failed("not implemented yet")))
}
