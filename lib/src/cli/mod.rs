//! The plumbing every snkit command shares: argument parsing with one-line errors, reading
//! JSON (or NDJSON) from a file or stdin, writing JSON lines that survive a closed pipe, and the
//! mapping of failures to exit codes.
//!
//! Conventions (README "Conventions"):
//! - input comes from a file argument or stdin (`-` means stdin);
//! - output is one JSON object, or one object per line for streams, flushed per line;
//! - errors are one line on stderr (`<cmd>: error: ...`), optionally followed by one
//!   `hint: ...` line; exit 0 ok, 1 operation failed, 2 usage or bad input;
//! - a closed stdout (`cmd | head -c1`) ends the command quietly with exit 0.

mod daemon;
mod errors;
mod files;
mod network;

pub use daemon::daemon_runtime;
pub use files::{FileServerArgs, file_target, via};
pub use network::NetworkArgs;

use std::fmt;
use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::process::ExitCode;
use std::sync::OnceLock;

use clap::{CommandFactory, Parser};
use serde::Serialize;

/// Environment variable that makes any command print its shell completion script and exit
/// (used by `make completions`; kept out of `--help` on purpose).
pub const COMPLETIONS_ENV: &str = "SNKIT_GENERATE_COMPLETIONS";

/// Environment variable that makes any command print its man page (roff) and exit (`make man`).
pub const MAN_ENV: &str = "SNKIT_GENERATE_MAN";

/// Upper bound on what a command reads from one input; larger input is refused, not truncated.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// How a command ended, as an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The operation itself failed: network, verification, a refused request.
    Failed = 1,
    /// The invocation or its input was wrong.
    Usage = 2,
}

/// A command's failure: the one line it prints, an optional hint, and the exit code.
#[derive(Debug)]
pub struct CliError {
    /// The exit code the command ends with.
    pub exit: Exit,
    /// The one-line error message.
    pub message: String,
    /// A second line saying what to do about it, when there is one.
    pub hint: Option<String>,
    /// Stdout was closed by the reader: end quietly.
    quiet: bool,
}

impl CliError {
    /// Bad usage or bad input (exit 2).
    pub fn usage(message: impl fmt::Display) -> Self {
        Self { exit: Exit::Usage, message: one_line(&message.to_string()), hint: None, quiet: false }
    }

    /// The operation failed (exit 1).
    pub fn failed(message: impl fmt::Display) -> Self {
        Self { exit: Exit::Failed, message: one_line(&message.to_string()), hint: None, quiet: false }
    }

    /// Adds a second `hint:` line.
    #[must_use]
    pub fn hint(mut self, hint: impl fmt::Display) -> Self {
        self.hint = Some(one_line(&hint.to_string()));
        self
    }

    /// Maps an output error: a closed pipe is a quiet end, anything else a failure.
    pub fn from_output(err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::BrokenPipe {
            Self { exit: Exit::Failed, message: String::new(), hint: None, quiet: true }
        } else {
            Self::failed(format_args!("cannot write output: {err}"))
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Folds any multi-line text into one line, so an error is always exactly one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

static COMMAND_NAME: OnceLock<String> = OnceLock::new();
static HELP_TEXT: OnceLock<String> = OnceLock::new();

/// The name the running command reports itself with.
pub fn command_name() -> &'static str {
    COMMAND_NAME.get().map(String::as_str).unwrap_or("snkit")
}

/// Runs a command: parses `C` from argv, calls `body`, prints any error as one line, and
/// returns the exit code. Every `tools/*/main.rs` is `fn main() -> ExitCode { cli::run(name, body) }`.
pub fn run<C, F>(name: &str, body: F) -> ExitCode
where
    C: Parser + CommandFactory,
    F: FnOnce(C) -> Result<(), CliError>,
{
    let _ = COMMAND_NAME.set(name.to_string());
    install_panic_hook();
    let mut cmd = C::command();
    let _ = HELP_TEXT.set(cmd.render_help().to_string());

    if let Ok(shell) = std::env::var(COMPLETIONS_ENV) {
        return print_completions(&mut cmd, name, &shell);
    }
    if std::env::var_os(MAN_ENV).is_some() {
        let rendered = clap_mangen::Man::new(cmd).render(&mut io::stdout());
        return rendered.map_or_else(|e| report(&CliError::from_output(e)), |()| ExitCode::SUCCESS);
    }

    let args = match C::try_parse() {
        Ok(args) => args,
        Err(err) => return report_clap_error(name, &err),
    };
    match body(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

/// Prints `err` as `<cmd>: error: ...` (and a hint line) and returns its exit code.
pub fn report(err: &CliError) -> ExitCode {
    if err.quiet {
        return ExitCode::SUCCESS;
    }
    let name = command_name();
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "{name}: error: {}", err.message);
    if let Some(hint) = &err.hint {
        let _ = writeln!(stderr, "hint: {hint}");
    }
    ExitCode::from(err.exit as u8)
}

fn report_clap_error(name: &str, err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            ExitCode::from(Exit::Usage as u8)
        }
        _ => {
            // clap renders a multi-line message; keep its first line (the rule that failed).
            let rendered = err.render().to_string();
            let first = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ")
                .to_string();
            report(&CliError::usage(first).hint(format!("see '{name} --help'")))
        }
    }
}

fn print_completions(cmd: &mut clap::Command, name: &str, shell: &str) -> ExitCode {
    use clap_complete::Shell;
    let shell = match shell {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        other => {
            return report(&CliError::usage(format!(
                "{COMPLETIONS_ENV}={other}: unknown shell (bash, zsh, fish)"
            )));
        }
    };
    clap_complete::generate(shell, cmd, name, &mut io::stdout());
    ExitCode::SUCCESS
}

fn install_panic_hook() {
    // A panic is a bug; still, the user sees one line and no backtrace.
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("{}: error: internal error{location} (please report this)", command_name());
    }));
}

/// Reads all of one input: `None` or `-` is stdin, anything else a file path.
///
/// With stdin an attended terminal and nothing piped in, prints the command's help and ends
/// with a usage error instead of blocking.
pub fn read_input(path: Option<&str>) -> Result<Vec<u8>, CliError> {
    let mut buf = Vec::new();
    match path {
        None | Some("-") => {
            let stdin = io::stdin();
            if stdin.is_terminal() {
                return Err(no_input_error());
            }
            stdin
                .lock()
                .take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut buf)
                .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
        }
        Some(p) => {
            let file =
                std::fs::File::open(p).map_err(|e| CliError::usage(format!("cannot read {p}: {e}")))?;
            file.take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut buf)
                .map_err(|e| CliError::usage(format!("cannot read {p}: {e}")))?;
        }
    }
    if buf.len() as u64 > MAX_INPUT_BYTES {
        return Err(CliError::usage(format!("input is larger than {MAX_INPUT_BYTES} bytes")));
    }
    Ok(buf)
}

/// The error for "no input on a terminal": prints the help first so the user sees what to pipe.
fn no_input_error() -> CliError {
    if let Some(help) = HELP_TEXT.get() {
        let _ = writeln!(io::stderr(), "{help}");
    }
    CliError::usage("no input: pipe JSON into stdin or name a file")
}

/// Reads one input as UTF-8 text, trimmed; empty input is a usage error.
pub fn read_text(path: Option<&str>) -> Result<String, CliError> {
    let bytes = read_input(path)?;
    let text = String::from_utf8(bytes).map_err(|_| CliError::usage("input is not valid UTF-8"))?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CliError::usage("empty input"));
    }
    Ok(trimmed.to_string())
}

/// Parses one JSON value from text, with a one-line error naming where it broke.
pub fn parse_json(text: &str) -> Result<serde_json::Value, CliError> {
    serde_json::from_str(text).map_err(|e| CliError::usage(format!("malformed JSON input: {e}")))
}

/// Reads one JSON value from a file or stdin.
pub fn read_json(path: Option<&str>) -> Result<serde_json::Value, CliError> {
    parse_json(&read_text(path)?)
}

pub use crate::formats::limits::MAX_LINE_BYTES;

/// Why one line of an NDJSON stream could not be read as JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The line is over `MAX_LINE_BYTES`.
    #[error("line is longer than {MAX_LINE_BYTES} bytes")]
    TooLong,
    /// The line is not UTF-8.
    #[error("line is not UTF-8")]
    NotUtf8,
    /// The line does not parse as JSON.
    #[error("malformed JSON: {0}")]
    Json(String),
}

/// Streams NDJSON: calls `each` for every non-empty line of the input with its 1-based number and
/// the parsed value, or why that one line is not JSON. The stream goes on after a bad line; the
/// callback decides whether it ends it (by returning an error).
pub fn for_each_json_line<F>(path: Option<&str>, mut each: F) -> Result<(), CliError>
where
    F: FnMut(usize, Result<serde_json::Value, LineError>) -> Result<(), CliError>,
{
    for_each_line(path, |number, line| {
        each(
            number,
            line.and_then(|text| serde_json::from_str(text).map_err(|e| LineError::Json(e.to_string()))),
        )
    })
}

/// Streams lines: calls `each` for every non-blank line of the input (`None`/`-` = stdin, else a
/// file) with its 1-based number and its text, trimmed, or why that one line cannot be read as
/// text (too long: it is skipped without being buffered; not UTF-8).
pub fn for_each_line<F>(path: Option<&str>, mut each: F) -> Result<(), CliError>
where
    F: FnMut(usize, Result<&str, LineError>) -> Result<(), CliError>,
{
    let mut reader: Box<dyn BufRead> = match path {
        None | Some("-") => {
            let stdin = io::stdin();
            if stdin.is_terminal() {
                return Err(no_input_error());
            }
            Box::new(io::BufReader::new(stdin))
        }
        Some(p) => Box::new(io::BufReader::new(
            std::fs::File::open(p).map_err(|e| CliError::usage(format!("cannot read {p}: {e}")))?,
        )),
    };
    let mut buf = Vec::new();
    for number in 1.. {
        buf.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| CliError::usage(format!("cannot read input line {number}: {e}")))?;
        if read == 0 {
            break;
        }
        if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
            skip_rest_of_line(&mut reader)
                .map_err(|e| CliError::usage(format!("cannot read input line {number}: {e}")))?;
            each(number, Err(LineError::TooLong))?;
            continue;
        }
        match std::str::from_utf8(&buf) {
            Err(_) => each(number, Err(LineError::NotUtf8))?,
            Ok(text) if text.trim().is_empty() => {}
            Ok(text) => each(number, Ok(text.trim()))?,
        }
    }
    Ok(())
}

/// Discards input up to and including the next newline, in bounded reads.
fn skip_rest_of_line(reader: &mut dyn BufRead) -> io::Result<()> {
    loop {
        let (done, used) = {
            let chunk = reader.fill_buf()?;
            if chunk.is_empty() {
                return Ok(());
            }
            match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (true, i + 1),
                None => (false, chunk.len()),
            }
        };
        reader.consume(used);
        if done {
            return Ok(());
        }
    }
}

/// Writes one JSON value as one line on stdout and flushes it (NDJSON-safe).
pub fn emit<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    serde_json::to_writer(&mut out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => CliError::from_output(io::Error::from(kind)),
        None => CliError::failed(format!("cannot encode output: {e}")),
    })?;
    out.write_all(b"\n").map_err(CliError::from_output)?;
    out.flush().map_err(CliError::from_output)
}

/// Whether stdout is a terminal (human tables, colours) rather than a pipe (JSON).
pub fn stdout_is_tty() -> bool {
    io::stdout().is_terminal()
}

/// Whether stderr is a terminal (progress bars only then).
pub fn stderr_is_tty() -> bool {
    io::stderr().is_terminal()
}

/// Fetches a required string field of a JSON object, with a usage error naming the field.
pub fn str_field<'a>(value: &'a serde_json::Value, field: &str) -> Result<&'a str, CliError> {
    value
        .get(field)
        .ok_or_else(|| CliError::usage(format!("input has no \"{field}\" field")))?
        .as_str()
        .ok_or_else(|| CliError::usage(format!("input field \"{field}\" is not a string")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_over_the_limit_is_reported_alone_and_the_stream_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.ndjson");
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\n\n{\"a\":1}\n\xff\nnot json\n  \n[2]");
        std::fs::write(&path, input).unwrap();
        let mut seen = Vec::new();
        for_each_json_line(path.to_str(), |n, v| {
            seen.push((n, v));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.len(), 5, "{seen:?}");
        assert_eq!(seen[0], (1, Err(LineError::TooLong)));
        assert_eq!(seen[1], (3, Ok(serde_json::json!({"a": 1}))));
        assert_eq!(seen[2], (4, Err(LineError::NotUtf8)));
        assert!(matches!(seen[3], (5, Err(LineError::Json(_)))));
        assert_eq!(seen[4], (7, Ok(serde_json::json!([2]))));
    }

    #[test]
    fn errors_are_one_line() {
        let e = CliError::usage("bad\ninput\n  here");
        assert_eq!(e.message, "bad input here");
        assert_eq!(e.exit, Exit::Usage);
    }

    #[test]
    fn broken_pipe_is_quiet() {
        let e = CliError::from_output(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(e.quiet);
    }
}
