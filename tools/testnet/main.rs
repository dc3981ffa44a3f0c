//! `testnet`: a registry and N service nodes on loopback, in the background.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use snkit::cli::{self, CliError};
use snkit::testnet::{self, Binaries, UpOptions};

/// Runs a registry and N service nodes on loopback ports, in the background.
#[derive(Parser, Debug)]
#[command(
    name = "testnet",
    version,
    about = "Run a registry and N service nodes on loopback, in the background",
    long_about = "Starts a registry server and N snode processes on free loopback ports (detached, logs \
                  under DIR/logs), registers them, waits until every node is healthy and agrees on the \
                  swarm map, and writes DIR/nodes.json (the node list clients bootstrap from). Then add, \
                  stop (deregister + SIGTERM), kill (SIGKILL, stays registered), start and down.",
    after_help = "EXAMPLE:\n  testnet up --nodes 20 --dir .testnet\n  testnet status --dir .testnet\n  \
                  testnet kill 3 --dir .testnet && testnet start 3 --dir .testnet\n  testnet down --dir .testnet\n  \
                  sudo testnet up --hosts --nodes 7 --dir /tmp/hn && sudo testnet exec c1 --dir /tmp/hn -- \
                  swarm-of 05…\n  sudo testnet partition 0 1 2 --dir /tmp/hn && sudo testnet heal --dir /tmp/hn"
)]
struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Start a registry and N nodes; returns when all are ready.
    Up {
        /// Number of nodes.
        #[arg(long, default_value_t = 20)]
        nodes: usize,
        #[arg(long, default_value = testnet::DEFAULT_DIR)]
        dir: PathBuf,
        /// Proof-of-work difficulty of the network (0 = off).
        #[arg(long, default_value_t = 0)]
        pow: u64,
        /// Log level of the nodes.
        #[arg(long, default_value = "info")]
        log: String,
        /// Nodes serve HTTPS with self-signed certificates, as live service nodes do (nodes.json
        /// then says "tls": true, and send/retrieve talk HTTPS to them).
        #[arg(long)]
        tls: bool,
        /// Nodes test each other's reachability every MS milliseconds and the registry
        /// decommissions a node its testers cannot reach (0 = off; docs/faults.md).
        #[arg(long, value_name = "MS", default_value_t = 0)]
        reach_period: u64,
        /// Also start a file server (its {url, pubkey} in DIR/fileserver.json, which upload and
        /// download use by default).
        #[arg(long)]
        fileserver: bool,
        /// Also start a community server (its {url, pubkey} in DIR/sogs.json; administer it with
        /// `sogs --dir DIR/sogs`).
        #[arg(long)]
        sogs: bool,
        /// A testnet of real hosts (Linux, root): each node, the registry and each client in its
        /// own network namespace with its own address on a bridge made for this testnet
        /// (docs/testnet.md). Then `exec`, `partition` and `heal` work.
        #[arg(long)]
        hosts: bool,
        /// With --hosts: how many client hosts, named c1..cN.
        #[arg(long, value_name = "N", default_value_t = 2, requires = "hosts")]
        clients: usize,
    },
    /// Run a command inside a host of a --hosts testnet (client c1.., registry, a node: 3 or
    /// n3); exits with the command's exit code. SNKIT_NODES is set to DIR/nodes.json, and the
    /// toolkit's commands beside testnet come first on PATH.
    Exec {
        /// The host: c1, c2, …, registry, or a node (3 or n3).
        host: String,
        #[arg(long, default_value = testnet::DEFAULT_DIR)]
        dir: PathBuf,
        /// The command and its arguments (after --).
        #[arg(last = true, required = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// Cut hosts of a --hosts testnet off from all the others (both ways) until `heal`.
    Partition {
        /// The hosts to cut off: node indices (3 or n3), clients (c1), registry.
        #[arg(required = true)]
        hosts: Vec<String>,
        #[arg(long, default_value = testnet::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Undo every `partition` of a --hosts testnet.
    Heal {
        #[arg(long, default_value = testnet::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Swarms, and each node's health and message count (JSON; a table on a terminal).
    Status {
        #[arg(long, default_value = testnet::DEFAULT_DIR)]
        dir: PathBuf,
        /// JSON even on a terminal.
        #[arg(long)]
        json: bool,
    },
    /// Add K nodes to the running testnet.
    Add {
        #[arg(long, default_value = testnet::DEFAULT_DIR)]
        dir: PathBuf,
        #[arg(long, default_value_t = 1)]
        count: usize,
    },
    /// Deregister a node (it hands its records on) and stop it with SIGTERM.
    Stop {
        /// Node index or ed25519 prefix.
        node: String,
        #[arg(long, default_value = testnet::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// SIGKILL a node; it stays registered (a crash).
    Kill {
        /// Node index or ed25519 prefix.
        node: String,
        #[arg(long, default_value = testnet::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Restart a stopped or killed node with its data.
    Start {
        /// Node index or ed25519 prefix.
        node: String,
        #[arg(long, default_value = testnet::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Stop everything the testnet started.
    Down {
        #[arg(long, default_value = testnet::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// (internal) serve DIR/registry.json over HTTP.
    #[command(hide = true)]
    RegistryServe {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
}

fn main() -> ExitCode {
    cli::run("testnet", run)
}

fn binaries() -> Result<Binaries, CliError> {
    let me =
        std::env::current_exe().map_err(|e| CliError::failed(format!("cannot find my own path: {e}")))?;
    let snode = match std::env::var_os("SNKIT_SNODE_BIN") {
        Some(p) => PathBuf::from(p),
        None => me.with_file_name("snode"),
    };
    if !snode.exists() {
        return Err(CliError::failed(format!("snode not found at {}", snode.display()))
            .hint("build it (cargo build --bins) or set SNKIT_SNODE_BIN"));
    }
    let fileserver = Some(me.with_file_name("fileserver")).filter(|p| p.exists());
    let sogs = Some(me.with_file_name("sogs")).filter(|p| p.exists());
    Ok(Binaries { snode, testnet: me, fileserver, sogs })
}

fn run(args: Args) -> Result<(), CliError> {
    let out = match args.cmd {
        Cmd::Up { nodes, dir, pow, log, tls, reach_period, fileserver, sogs, hosts, clients } => {
            let opts = UpOptions {
                nodes,
                pow_difficulty: pow,
                log_level: log,
                tls,
                reach_period_ms: reach_period,
                fileserver,
                sogs,
                hosts,
                clients,
            };
            testnet::up(&dir, &binaries()?, &opts)?
        }
        Cmd::Status { dir, json } => {
            let status = testnet::status(&dir)?;
            if cli::stdout_is_tty() && !json {
                print!("{}", testnet::status_table(&status));
                return Ok(());
            }
            status
        }
        Cmd::Add { dir, count } => testnet::add(&dir, &binaries()?, count)?,
        Cmd::Stop { node, dir } => testnet::stop(&dir, &node)?,
        Cmd::Kill { node, dir } => testnet::kill(&dir, &node)?,
        Cmd::Start { node, dir } => testnet::start(&dir, &binaries()?, &node)?,
        Cmd::Down { dir } => testnet::down(&dir)?,
        Cmd::Exec { host, dir, cmd } => {
            let code = testnet::exec(&dir, &host, &cmd)?;
            // The command's own exit code, as `ip netns exec` and `env` pass it on.
            std::process::exit(code);
        }
        Cmd::Partition { hosts, dir } => testnet::partition(&dir, &hosts)?,
        Cmd::Heal { dir } => testnet::heal(&dir)?,
        Cmd::RegistryServe { dir, listen } => {
            let rt = cli::daemon_runtime("info")?;
            testnet::serve::run(&rt, &dir, listen)?;
            return Ok(());
        }
    };
    cli::emit(&out)
}
