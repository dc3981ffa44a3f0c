//! Background processes of a testnet: start detached (own process group, output to a log
//! file), check liveness, signal. A pid is only signalled if its command line still names the
//! testnet path it was started with (pids get reused).

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use super::TestnetError;

/// Starts `cmd` in its own process group with stdin closed and stdout/stderr appended to `log`.
pub(crate) fn spawn_detached(mut cmd: Command, log: &Path) -> Result<u32, TestnetError> {
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| TestnetError::io(log.display(), e))?;
    let err = out.try_clone().map_err(|e| TestnetError::io(log.display(), e))?;
    cmd.stdin(Stdio::null()).stdout(Stdio::from(out)).stderr(Stdio::from(err)).process_group(0);
    let child =
        cmd.spawn().map_err(|e| TestnetError::io(format!("cannot start {:?}", cmd.get_program()), e))?;
    // Not waited for: the process outlives this command (init reaps it).
    Ok(child.id())
}

/// Whether `pid` is a live (not zombie) process whose command line contains `marker`.
pub(crate) fn is_alive(pid: u32, marker: &str) -> bool {
    if pid == 0 {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // Field 3 (after the parenthesised command name) is the state.
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
    if matches!(state, Some("Z") | Some("X") | None) {
        return false;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    // Arguments are NUL-terminated: match a whole argument, not a prefix of another.
    let cmdline = String::from_utf8_lossy(&cmdline);
    marker.is_empty() || cmdline.contains(&format!("{marker}\0"))
}

fn send(pid: u32, sig: Signal) {
    if let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = kill_process(p, sig);
    }
}

/// SIGTERM, if the process is still ours.
pub(crate) fn signal_term(pid: u32, marker: &str) {
    if is_alive(pid, marker) {
        send(pid, Signal::TERM);
    }
}

/// SIGKILL and wait until it is gone.
pub(crate) fn kill_now(pid: u32, marker: &str) {
    if is_alive(pid, marker) {
        send(pid, Signal::KILL);
    }
    wait_gone(pid, marker, Duration::from_secs(5));
}

/// SIGTERM, wait up to `grace`, then SIGKILL.
pub(crate) fn terminate(pid: u32, marker: &str, grace: Duration) {
    signal_term(pid, marker);
    if !wait_gone(pid, marker, grace) {
        kill_now(pid, marker);
    }
}

fn wait_gone(pid: u32, marker: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while is_alive(pid, marker) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}
