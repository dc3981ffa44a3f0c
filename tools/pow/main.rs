//! `pow`: solve or verify the proof-of-work nonce of an envelope (spec pow.md §4).

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::{Parser, Subcommand};
use indicatif::{HumanCount, ProgressBar, ProgressState, ProgressStyle};
use serde_json::json;
use snkit::cli::{self, CliError};
use snkit::envelope::{Envelope, encode_nonce};
use snkit::limits::POW_MAX_THREADS;
use snkit::pow::{self, PowError};

/// Solve or verify the proof-of-work nonce of an envelope.
#[derive(Parser, Debug)]
#[command(
    name = "pow",
    version,
    about = "Solve or verify the proof-of-work nonce of an envelope",
    long_about = "Solve or verify the proof-of-work nonce of an envelope {\"pubkey\", \"timestamp\", \"ttl\", \"data\"}, \
exactly as the live network's v1 storage server did: h = SHA-512(nonce || SHA-512(timestamp ttl pubkey data)), \
valid when its first 8 bytes are below (2^64-1) / (difficulty * (L + ttl_s*L/65535)). Difficulty 0 means off.",
    after_help = "EXAMPLE:\n  echo '{\"pubkey\":\"05...66 hex\",\"timestamp\":1554859211,\"ttl\":345600,\"data\":\"aGVsbG8=\"}' \\\n    \
| pow solve --difficulty 100 | pow verify --difficulty 100\n  \
{\"valid\":true,\"difficulty\":100,\"target\":\"...\",\"value\":\"...\",\"hash\":\"...\"}\n\n\
EXIT: 0 ok (verify: valid), 1 invalid proof of work, 2 bad input or impossible difficulty."
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Find the smallest nonce (counting up from zero) and print the envelope with "nonce" added.
    #[command(after_help = "EXAMPLE:\n  pow solve --difficulty 100 envelope.json > solved.json")]
    Solve {
        /// The network's difficulty (the registry's pow_difficulty); 0 = off (nonce 0).
        #[arg(long, short)]
        difficulty: u64,
        /// Solver threads (default: every core).
        #[arg(long, short)]
        threads: Option<usize>,
        /// Envelope JSON file ('-' or none: stdin).
        file: Option<String>,
    },
    /// Check an envelope's nonce: prints {"valid":...} and exits 0 if valid, 1 if not.
    #[command(after_help = "EXAMPLE:\n  pow verify --difficulty 100 solved.json && echo ok")]
    Verify {
        /// The difficulty to check against; 0 = off (always valid).
        #[arg(long, short)]
        difficulty: u64,
        /// Envelope JSON file ('-' or none: stdin).
        file: Option<String>,
    },
}

fn main() -> ExitCode {
    cli::run("pow", run)
}

fn run(args: Args) -> Result<(), CliError> {
    match args.command {
        Command::Solve { difficulty, threads, file } => solve(difficulty, threads, file.as_deref()),
        Command::Verify { difficulty, file } => verify(difficulty, file.as_deref()),
    }
}

fn read_envelope(file: Option<&str>) -> Result<Envelope, CliError> {
    let value = cli::read_json(file)?;
    Envelope::from_json(&value).map_err(CliError::usage)
}

fn solve(difficulty: u64, threads: Option<usize>, file: Option<&str>) -> Result<(), CliError> {
    let threads = match threads {
        Some(t) if t == 0 || t > POW_MAX_THREADS => {
            return Err(CliError::usage(format!(
                "--threads must be between 1 and {POW_MAX_THREADS}, got {t}"
            )));
        }
        Some(t) => t,
        None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    let env = read_envelope(file)?;
    let target = pow::envelope_target(&env, difficulty)?;

    let bar = cli::stderr_is_tty().then(|| progress_bar(target, threads));
    let last = AtomicU64::new(0);
    let progress = |trials: u64| {
        if let Some(bar) = &bar {
            // Several threads report; keep the bar monotonic.
            let prev = last.fetch_max(trials, Ordering::Relaxed);
            if trials > prev {
                bar.set_position(trials);
            }
        }
    };
    let nonce = pow::solve(&env, difficulty, threads, &progress)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let solved = Envelope { nonce: Some(encode_nonce(&nonce)), ..env };
    cli::emit(&solved.to_json())
}

fn progress_bar(target: u64, threads: usize) -> ProgressBar {
    let expected = if target == u64::MAX { 1 } else { u64::MAX / target.max(1) };
    let bar = ProgressBar::new_spinner();
    let style = ProgressStyle::with_template("{spinner} {human_pos} trials, {rate} ({msg}) {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{} trials/s", HumanCount(state.per_sec() as u64));
        });
    bar.set_style(style);
    bar.set_message(format!("~{} expected, {threads} threads", HumanCount(expected)));
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

fn verify(difficulty: u64, file: Option<&str>) -> Result<(), CliError> {
    let env = read_envelope(file)?;
    let e = match pow::evaluate(&env, difficulty) {
        Ok(e) => e,
        Err(err @ PowError::MissingNonce(_)) => {
            cli::emit(&json!({"valid": false, "difficulty": difficulty, "reason": err.to_string()}))?;
            return Err(CliError::from(err));
        }
        Err(err) => return Err(CliError::from(err)),
    };
    cli::emit(&json!({
        "valid": e.valid,
        "difficulty": difficulty,
        "target": format!("{:016x}", e.target),
        "value": format!("{:016x}", e.value),
        "hash": e.hash,
    }))?;
    if e.valid {
        Ok(())
    } else {
        Err(CliError::from(PowError::InsufficientWork { value: e.value, target: e.target }))
    }
}
