//! `keygen` (not yet implemented).

use std::process::ExitCode;

use clap::Parser;
use snkit::cli::{self, CliError};

/// keygen (not yet implemented).
#[derive(Parser, Debug)]
#[command(name = "keygen", version)]
struct Args {}

fn main() -> ExitCode {
    cli::run("keygen", |_args: Args| Err(CliError::failed("not implemented yet")))
}
