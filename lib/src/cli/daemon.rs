//! What every daemon command does before it serves: logs through tracing on stderr (colours only
//! on a terminal) and a multi-threaded tokio runtime, so that `snode` and `fileserver` start the
//! same way.

use super::{CliError, stderr_is_tty};

/// Installs the stderr logger at `log` (a level such as `info`, or a tracing filter) and builds
/// the runtime the daemon serves on. A bad `--log` is a usage error.
pub fn daemon_runtime(log: &str) -> Result<tokio::runtime::Runtime, CliError> {
    let filter = tracing_subscriber::EnvFilter::try_new(log)
        .map_err(|e| CliError::usage(format!("--log {log}: {e}")))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(stderr_is_tty())
        .with_writer(std::io::stderr)
        .init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failed(format!("cannot start the runtime: {e}")))
}
