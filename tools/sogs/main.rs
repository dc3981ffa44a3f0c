//! `sogs`: a Session community server (spec sogs.md, docs/sogs.md): `sogs serve` runs it; the
//! top-level flags administer the database of `--dir` (default `$SOGS_DIR`), also while it runs.
#![allow(rustdoc::invalid_html_tags)] // the flags' docs are clap help text: `<x>` there is a placeholder, not HTML

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Parser, Subcommand};
use snkit::cli::{self, CliError};
use snkit::sogs::admin::{Admin, PermChange};
use snkit::sogs::{self, SogsConfig};

/// A community (open group) server the Session apps can use, and its administration.
#[derive(Parser, Debug)]
#[command(
    name = "sogs",
    version,
    about = "A Session community server (SOGS): rooms, messages, moderation, files, blinded DMs; and its administration",
    long_about = "A Session community server speaking the API of session-pysogs: every request signed with \
                  X-SOGS-* headers (blinded 15… keys by default), rooms, the since/{seqno} poll, posts, edits, \
                  deletions, reactions, pins, room files, bans, moderators, permissions, blinded DMs, batch and \
                  sequence; a Bearer-token REST API for automation and a web page per room with its join URL \
                  and QR code. `sogs serve` runs it; the other flags act on the database of --dir (default \
                  $SOGS_DIR) directly, safely while the server runs, and print one JSON object.",
    after_help = "EXAMPLES:\n  \
                  export SOGS_DIR=/var/lib/sogs\n  \
                  sogs serve --listen 0.0.0.0:8080 --base-url http://sogs.example.org:8080 &\n  \
                  sogs --add-room bitcoin --name \"Bitcoin Chat\" --description \"Talk about BTC!\"\n  \
                  sogs --rooms + --add-moderators 05…your Session ID… --admin --visible\n  \
                  sogs --rooms bitcoin --add-perms rw --users 15…\n  \
                  sogs -L\n  \
                  sogs --add-token ci     # {\"name\":\"ci\",\"token\":\"…\"}: Authorization: Bearer …",
    args_conflicts_with_subcommands = true,
    group(ArgGroup::new("action").args([
        "add_room", "delete_room", "add_moderators", "delete_moderators", "add_perms", "remove_perms",
        "clear_perms", "list_rooms", "list_global_mods", "add_token", "revoke_token",
    ]))
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Data directory of the server (key file, database).
    #[arg(long, value_name = "DIR", env = "SOGS_DIR", global = true)]
    dir: Option<PathBuf>,
    /// Create a room with this token ([A-Za-z0-9_-], up to 64).
    #[arg(long, value_name = "TOKEN")]
    add_room: Option<String>,
    /// The new room's display name (with --add-room; default: the token).
    #[arg(long, value_name = "NAME", requires = "add_room")]
    name: Option<String>,
    /// The new room's description (with --add-room).
    #[arg(long, value_name = "TEXT", requires = "add_room")]
    description: Option<String>,
    /// Delete a room and everything in it.
    #[arg(long, value_name = "TOKEN")]
    delete_room: Option<String>,
    /// Rooms the moderator or permission flags apply to: tokens, '*' for every room, '+' for global.
    #[arg(long, value_name = "TOKEN", num_args = 1..)]
    rooms: Vec<String>,
    /// Make these Session IDs (05…) or blinded IDs (15…) moderators of --rooms.
    #[arg(long, value_name = "SID", num_args = 1.., requires = "rooms")]
    add_moderators: Vec<String>,
    /// Remove these moderators from --rooms.
    #[arg(long, value_name = "SID", num_args = 1.., requires = "rooms")]
    delete_moderators: Vec<String>,
    /// With --add-moderators: admins, not just moderators.
    #[arg(long, requires = "add_moderators")]
    admin: bool,
    /// With --add-moderators: shown to everyone (default in rooms).
    #[arg(long, conflicts_with = "hidden", requires = "add_moderators")]
    visible: bool,
    /// With --add-moderators: shown only to moderators (default for global moderators).
    #[arg(long, requires = "add_moderators")]
    hidden: bool,
    /// Grant permissions (letters r read, w write, u upload, a accessible) in --rooms.
    #[arg(long, value_name = "rwua", requires = "rooms")]
    add_perms: Option<String>,
    /// Deny permissions in --rooms.
    #[arg(long, value_name = "rwua", requires = "rooms")]
    remove_perms: Option<String>,
    /// Back to the room's default (with --users) or the built-in default (without).
    #[arg(long, value_name = "rwua", requires = "rooms")]
    clear_perms: Option<String>,
    /// Users the permission flags apply to; without it they change the rooms' defaults.
    #[arg(long, value_name = "SID", num_args = 1..)]
    users: Vec<String>,
    /// List the rooms.
    #[arg(short = 'L', long)]
    list_rooms: bool,
    /// List the global moderators and admins.
    #[arg(short = 'M', long)]
    list_global_mods: bool,
    /// Make a REST API token with this name; prints it once (only its hash is kept).
    #[arg(long, value_name = "NAME")]
    add_token: Option<String>,
    /// Revoke the REST API token with this name.
    #[arg(long, value_name = "NAME")]
    revoke_token: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve until SIGTERM or SIGINT; prints {"url","pubkey","pubkey_ed25519"} once listening.
    #[command(
        after_help = "EXAMPLE:\n  sogs serve --dir sogs-data --listen 127.0.0.1:0 | head -1 | jq -r .url"
    )]
    Serve {
        /// Address to listen on; port 0 picks a free port (the printed url tells which).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// The public URL (join URLs and the web page name it); default: the listening URL.
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Serve HTTPS with a self-signed certificate made at start.
        #[arg(long)]
        tls: bool,
        /// Accept unblinded (00…) keys too (by default only blinded 15… keys: capability `blind`).
        #[arg(long)]
        allow_unblinded: bool,
        /// Log level or filter (error, warn, info, debug, trace; or a tracing filter), on stderr.
        #[arg(long, value_name = "LEVEL", default_value = "info")]
        log: String,
    },
}

fn main() -> ExitCode {
    cli::run("sogs", run)
}

fn run(args: Args) -> Result<(), CliError> {
    let dir = args
        .dir
        .clone()
        .ok_or_else(|| CliError::usage("no data directory: give --dir DIR or set SOGS_DIR"))?;
    if let Some(Command::Serve { listen, base_url, tls, allow_unblinded, log }) = args.command {
        let runtime = cli::daemon_runtime(&log)?;
        let config = SogsConfig { dir, listen, base_url, tls, allow_unblinded };
        let mut printed = Ok(());
        let served = runtime.block_on(sogs::run(
            config,
            |ready| printed = cli::emit(ready),
            snkit::server::shutdown_signal(),
        ));
        served.map_err(CliError::failed)?;
        return printed;
    }
    let mut admin = Admin::open(&dir)?;
    let visible = if args.visible {
        Some(true)
    } else if args.hidden {
        Some(false)
    } else {
        None
    };
    let out = if let Some(token) = &args.add_room {
        admin.add_room(token, args.name.as_deref(), args.description.as_deref())
    } else if let Some(token) = &args.delete_room {
        admin.delete_room(token)
    } else if !args.add_moderators.is_empty() {
        admin.add_moderators(&args.rooms, &args.add_moderators, args.admin, visible)
    } else if !args.delete_moderators.is_empty() {
        admin.delete_moderators(&args.rooms, &args.delete_moderators)
    } else if let Some(p) = &args.add_perms {
        admin.perms(&args.rooms, &args.users, p, PermChange::Add)
    } else if let Some(p) = &args.remove_perms {
        admin.perms(&args.rooms, &args.users, p, PermChange::Remove)
    } else if let Some(p) = &args.clear_perms {
        admin.perms(&args.rooms, &args.users, p, PermChange::Clear)
    } else if args.list_rooms {
        admin.list_rooms()
    } else if args.list_global_mods {
        admin.list_global_mods()
    } else if let Some(name) = &args.add_token {
        admin.add_token(name)
    } else if let Some(name) = &args.revoke_token {
        admin.revoke_token(name)
    } else {
        return Err(CliError::usage(
            "nothing to do: `sogs serve`, or an administration flag (--add-room, --add-moderators, -L, … see --help)",
        ));
    };
    cli::emit(&out?)
}
