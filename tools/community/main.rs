//! `community`: a client of community servers (join, post, poll, moderate, files, blinded DMs).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use snkit::cli::{self, CliError, NetworkArgs};
use snkit::client::community::{
    self, AttachedFile, CommunityState, Conn, DEFAULT_POLL_INTERVAL_MS, JoinedRoom, Route, SignAs,
    parse_join_url, path_segment,
};
use snkit::identity::Identity;

/// A client of community (open group) servers, as the Session apps use them.
#[derive(Parser, Debug)]
#[command(
    name = "community",
    version,
    long_about = "A client of community (open group) servers: join rooms by their join URL, post \
        and read messages exactly as the Session apps do (a padded Content protobuf signed by the \
        identity's blinded key), moderate, upload and download room files, and send and read \
        blinded DMs.\n\n\
        Joined rooms and the last poll position live in a state directory (--state, default \
        $XDG_DATA_HOME/snkit/community). ROOM is a joined room's token, or SERVER/TOKEN when the \
        token is joined on several servers. Every request is signed with the X-SOGS-* headers of \
        --identity's blinded (15…) key, or anonymous without --identity.\n\n\
        Requests travel as the apps send them: v4 onion requests through 3 service nodes of the \
        node list (--nodes, or the testnet's), the last relaying to the server's /oxen/v4/lsrpc, \
        so the server sees a node's address and the nodes see no content. --direct talks plain \
        HTTP(S) straight to the server.\n\n\
        Output is one JSON object, or NDJSON for poll. Exit 0 ok, 1 when the server refuses or \
        cannot be reached, 2 for bad input.",
    after_help = "EXAMPLES:\n  sogs --add-room lobby --name Lobby; sogs serve --listen 127.0.0.1:8080 &\n  \
        community --direct join 'http://127.0.0.1:8080/lobby?public_key=…'\n  \
        echo 'hello room' | community --direct post lobby --identity alice.json --name Alice\n  \
        community --direct poll lobby --identity bob.json          # NDJSON, verified lines\n  \
        community --direct react lobby 1 👍 --identity bob.json\n  \
        echo 'psst' | community --direct dm send 15… --identity bob.json\n  \
        community --direct dm poll --identity alice.json\n  \
        community poll lobby --identity bob.json --nodes .testnet/nodes.json   # through 3 nodes"
)]
struct Args {
    /// Where joined rooms and poll positions are kept.
    #[arg(long, global = true, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Plain HTTP(S) straight to the server instead of onion requests through the nodes.
    #[arg(long, global = true)]
    direct: bool,
    /// Sign as the identity's own `00` + Ed25519 key instead of its blinded key (only servers
    /// that allow unblinded keys accept it; blinded DMs need the blinded key).
    #[arg(long, global = true, conflicts_with = "blind25")]
    unblinded: bool,
    /// Sign as the identity's 25-blinded key (`25…`) instead of the 15-blinded one: the server
    /// then knows us by it, and DMs to `25…` IDs need it.
    #[arg(long, global = true)]
    blind25: bool,
    #[command(flatten)]
    network: NetworkArgs,
    #[command(subcommand)]
    cmd: Cmd,
}

/// The identity flag of the commands that sign.
#[derive(clap::Args, Debug)]
struct Who {
    /// The identity file (written by `keygen -o`); requests are signed with its blinded key.
    #[arg(long, value_name = "ID.json")]
    identity: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Join a room by its join URL ({base}/{room}?public_key={hex}); prints {server, room, pubkey, info}.
    Join {
        /// The join URL.
        url: String,
        #[command(flatten)]
        who: Who,
    },
    /// The rooms of SERVER (GET /rooms), or, without it, the rooms joined here.
    Rooms {
        /// A joined server's base URL.
        server: Option<String>,
        #[command(flatten)]
        who: Who,
    },
    /// A joined room's details (GET /room/{token}).
    Info {
        /// The room.
        room: String,
        #[command(flatten)]
        who: Who,
    },
    /// Post the text on stdin to ROOM, as the apps post it.
    Post {
        /// The room.
        room: String,
        #[command(flatten)]
        who: Who,
        /// The display name sent with the message.
        #[arg(long)]
        name: Option<String>,
        /// Whisper to this user only (15… or 05…).
        #[arg(long, value_name = "SID")]
        whisper_to: Option<String>,
        /// Whisper to the room's moderators.
        #[arg(long)]
        whisper_mods: bool,
        /// Attach a file (uploaded to the room first); may be repeated. Stdin may then be empty.
        #[arg(long, value_name = "PATH")]
        file: Vec<PathBuf>,
    },
    /// Replace the text of one's own message ID with the text on stdin.
    Edit {
        /// The room.
        room: String,
        /// The message id.
        id: i64,
        #[command(flatten)]
        who: Who,
        /// The display name sent with the message.
        #[arg(long)]
        name: Option<String>,
    },
    /// New, edited and deleted messages since the last poll, one JSON line each.
    Poll {
        /// The room.
        room: String,
        #[command(flatten)]
        who: Who,
        /// Keep polling.
        #[arg(long)]
        follow: bool,
        /// The pause between polls with --follow, in ms.
        #[arg(long, value_name = "MS", default_value_t = DEFAULT_POLL_INTERVAL_MS)]
        interval: u64,
        /// Start from this seqno instead of the saved one (0: the whole room).
        #[arg(long, value_name = "SEQNO")]
        since: Option<i64>,
    },
    /// Ban a user from ROOM (or everywhere with --global).
    Ban {
        /// The room.
        room: String,
        /// The user (15… or 05…).
        sid: String,
        #[command(flatten)]
        who: Who,
        /// Ban from every room of the server.
        #[arg(long)]
        global: bool,
        /// Lift the ban after this many seconds.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<f64>,
    },
    /// Lift a user's ban.
    Unban {
        /// The room.
        room: String,
        /// The user.
        sid: String,
        #[command(flatten)]
        who: Who,
        /// The global ban.
        #[arg(long)]
        global: bool,
    },
    /// Make a user a moderator (or admin) of ROOM, or remove them with --remove.
    Mod {
        /// The room.
        room: String,
        /// The user.
        sid: String,
        #[command(flatten)]
        who: Who,
        /// An admin rather than a moderator.
        #[arg(long)]
        admin: bool,
        /// Not listed in the room's moderators.
        #[arg(long)]
        hidden: bool,
        /// Take the rights away.
        #[arg(long)]
        remove: bool,
        /// For every room of the server.
        #[arg(long)]
        global: bool,
    },
    /// Delete a message (one's own, or any as a moderator).
    Delete {
        /// The room.
        room: String,
        /// The message id.
        id: i64,
        #[command(flatten)]
        who: Who,
    },
    /// Delete every message of a user in ROOM (moderator).
    DeleteAll {
        /// The room.
        room: String,
        /// The user.
        sid: String,
        #[command(flatten)]
        who: Who,
    },
    /// Pin (or --unpin) a message (room admin).
    Pin {
        /// The room.
        room: String,
        /// The message id.
        id: i64,
        #[command(flatten)]
        who: Who,
        /// Unpin it instead.
        #[arg(long)]
        unpin: bool,
    },
    /// Add (or --remove) a reaction to a message.
    React {
        /// The room.
        room: String,
        /// The message id.
        id: i64,
        /// The emoji.
        emoji: String,
        #[command(flatten)]
        who: Who,
        /// Remove one's reaction instead.
        #[arg(long)]
        remove: bool,
    },
    /// Upload a file to ROOM; prints {id, url}.
    Upload {
        /// The room.
        room: String,
        /// The file.
        path: PathBuf,
        #[command(flatten)]
        who: Who,
    },
    /// Download a room file to --out (or stdout, raw).
    Download {
        /// The room.
        room: String,
        /// The file id.
        id: u64,
        #[command(flatten)]
        who: Who,
        /// Where to write it (prints {id, size, path}); default stdout.
        #[arg(long, short, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// Blinded DMs with other users of a server.
    Dm {
        #[command(subcommand)]
        cmd: DmCmd,
    },
}

#[derive(Subcommand, Debug)]
enum DmCmd {
    /// Send the text on stdin to a 15… blinded user.
    Send {
        /// The recipient (15…).
        sid: String,
        #[command(flatten)]
        who: Who,
        /// The server (a joined server's URL or room); default: the one joined server.
        #[arg(long, value_name = "URL")]
        server: Option<String>,
    },
    /// New DMs in the inbox, decrypted, one JSON line each (nothing when there are none).
    Poll {
        #[command(flatten)]
        who: Who,
        /// The server (a joined server's URL or room); default: the one joined server.
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// The whole inbox, not just what is new.
        #[arg(long)]
        all: bool,
    },
}

fn main() -> ExitCode {
    cli::run("community", run)
}

/// Loads `--identity`, refusing when the command needs one and none was given.
fn identity(who: &Who, needed: bool) -> Result<Option<Identity>, CliError> {
    match &who.identity {
        Some(p) => Identity::load(p)
            .map(Some)
            .map_err(|e| CliError::usage(format!("cannot use identity {}: {e}", p.display()))),
        None if needed => Err(CliError::usage("this command needs --identity FILE (written by 'keygen -o')")),
        None => Ok(None),
    }
}

struct Ctx {
    state_dir: PathBuf,
    route: Route,
    sign_as: SignAs,
}

impl Ctx {
    fn state(&self) -> Result<CommunityState, CliError> {
        Ok(CommunityState::load(&self.state_dir)?)
    }

    fn conn(&self, server: &str, pk: [u8; 32], id: Option<Identity>) -> Result<Conn, CliError> {
        Ok(Conn::new(server, pk, id, self.route.clone(), self.sign_as)?)
    }

    /// The joined room and a connection to its server.
    fn room(&self, room: &str, who: &Who, needed: bool) -> Result<(JoinedRoom, Conn), CliError> {
        let id = identity(who, needed)?;
        let r = self.state()?.room(room)?;
        let conn = self.conn(&r.server, r.pubkey_bytes()?, id)?;
        Ok((r, conn))
    }
}

/// The text on stdin: UTF-8, one trailing newline dropped.
fn stdin_text(allow_empty: bool) -> Result<String, CliError> {
    let bytes = cli::read_input(None)?;
    let text = String::from_utf8(bytes).map_err(|_| CliError::usage("stdin is not UTF-8 text"))?;
    let text = text.strip_suffix('\n').unwrap_or(&text).to_string();
    if text.is_empty() && !allow_empty {
        return Err(CliError::usage("stdin is empty: pipe the message text into stdin"));
    }
    Ok(text)
}

fn run(args: Args) -> Result<(), CliError> {
    // A local listing needs no network; everything else does.
    let local = matches!(args.cmd, Cmd::Rooms { server: None, .. });
    // By onion v4 through the network's nodes, as the apps do; --direct talks to the server.
    let route = if args.direct || local {
        Route::Direct
    } else {
        let source = args.network.source_without_stdin("the community request")?;
        Route::Onion(std::sync::Arc::new(args.network.open(&source)?))
    };
    let ctx = Ctx {
        state_dir: args.state.clone().unwrap_or_else(community::default_state_dir),
        route,
        sign_as: match (args.unblinded, args.blind25) {
            (true, _) => SignAs::Unblinded,
            (_, true) => SignAs::Blind25,
            _ => SignAs::Blind15,
        },
    };
    match args.cmd {
        Cmd::Join { url, who } => {
            let u = parse_join_url(&url)?;
            let conn = ctx.conn(&u.server, u.pubkey, identity(&who, false)?)?;
            let info = conn.room_info(&u.room)?;
            let mut state = ctx.state()?;
            let r = state.join(&u);
            state.save()?;
            cli::emit(&json!({"server": r.server, "room": r.room, "pubkey": r.pubkey, "info": info}))
        }
        Cmd::Rooms { server: None, .. } => {
            let state = ctx.state()?;
            let rooms: Vec<Value> = state
                .rooms()
                .map(|r| json!({"server": r.server, "room": r.room, "pubkey": r.pubkey, "seqno": r.seqno}))
                .collect();
            cli::emit(&json!({"rooms": rooms}))
        }
        Cmd::Rooms { server: Some(s), who } => {
            let (base, pk) = ctx.state()?.server(Some(&s))?;
            let conn = ctx.conn(&base, pk, identity(&who, false)?)?;
            cli::emit(&json!({"server": base, "rooms": conn.rooms()?}))
        }
        Cmd::Info { room, who } => {
            let (r, conn) = ctx.room(&room, &who, false)?;
            cli::emit(&conn.room_info(&r.room)?)
        }
        Cmd::Post { room, who, name, whisper_to, whisper_mods, file } => {
            let (r, conn) = ctx.room(&room, &who, true)?;
            let text = stdin_text(!file.is_empty())?;
            let mut contents = Vec::new();
            for p in &file {
                let bytes = std::fs::read(p)
                    .map_err(|e| CliError::usage(format!("cannot read --file {}: {e}", p.display())))?;
                contents.push((p, bytes));
            }
            let mut files = Vec::new();
            for (p, bytes) in contents {
                let name =
                    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
                let id = conn.upload(&r.room, &name, &bytes)?;
                files.push(AttachedFile {
                    id,
                    url: Some(conn.file_url(&r.room, id)),
                    name: Some(name),
                    size: u32::try_from(bytes.len()).ok(),
                });
            }
            cli::emit(&conn.post(
                &r.room,
                &text,
                name.as_deref(),
                &files,
                whisper_to.as_deref(),
                whisper_mods,
            )?)
        }
        Cmd::Edit { room, id, who, name } => {
            let (r, conn) = ctx.room(&room, &who, true)?;
            let text = stdin_text(false)?;
            cli::emit(&conn.edit(&r.room, id, &text, name.as_deref())?)
        }
        Cmd::Poll { room, who, follow, interval, since } => poll(&ctx, &room, &who, follow, interval, since),
        Cmd::Ban { room, sid, who, global, timeout } => {
            let (r, conn) = ctx.room(&room, &who, true)?;
            let mut body = if global { json!({"global": true}) } else { json!({"rooms": [r.room]}) };
            if let Some(t) = timeout {
                body["timeout"] = json!(t);
            }
            let v = conn.json("POST", &format!("/user/{}/ban", path_segment(&sid)), Some(&body))?;
            cli::emit(&json!({"banned": sid, "reply": v}))
        }
        Cmd::Unban { room, sid, who, global } => {
            let (r, conn) = ctx.room(&room, &who, true)?;
            let body = if global { json!({"global": true}) } else { json!({"rooms": [r.room]}) };
            let v = conn.json("POST", &format!("/user/{}/unban", path_segment(&sid)), Some(&body))?;
            cli::emit(&json!({"unbanned": sid, "reply": v}))
        }
        Cmd::Mod { room, sid, who, admin, hidden, remove, global } => {
            let (r, conn) = ctx.room(&room, &who, true)?;
            let mut body = if global { json!({"global": true}) } else { json!({"rooms": [r.room]}) };
            if remove {
                body["moderator"] = json!(false);
                body["admin"] = json!(false);
            } else if admin {
                body["admin"] = json!(true);
            } else {
                body["moderator"] = json!(true);
            }
            if !remove {
                body["visible"] = json!(!hidden);
            }
            let v = conn.json("POST", &format!("/user/{}/moderator", path_segment(&sid)), Some(&body))?;
            cli::emit(&v)
        }
        Cmd::Delete { room, id, who } => {
            let (r, conn) = ctx.room(&room, &who, true)?;
            conn.json("DELETE", &format!("/room/{}/message/{id}", path_segment(&r.room)), None)?;
            cli::emit(&json!({"deleted": id}))
        }
        Cmd::DeleteAll { room, sid, who } => {
            let (r, conn) = ctx.room(&room, &who, true)?;
            cli::emit(&conn.json(
                "DELETE",
                &format!("/room/{}/all/{}", path_segment(&r.room), path_segment(&sid)),
                None,
            )?)
        }
        Cmd::Pin { room, id, who, unpin } => {
            let (r, conn) = ctx.room(&room, &who, true)?;
            let verb = if unpin { "unpin" } else { "pin" };
            cli::emit(&conn.json("POST", &format!("/room/{}/{verb}/{id}", path_segment(&r.room)), None)?)
        }
        Cmd::React { room, id, emoji, who, remove } => {
            let (r, conn) = ctx.room(&room, &who, true)?;
            if emoji.is_empty() {
                return Err(CliError::usage("the emoji is empty"));
            }
            let method = if remove { "DELETE" } else { "PUT" };
            cli::emit(&conn.json(
                method,
                &format!("/room/{}/reaction/{id}/{}", path_segment(&r.room), path_segment(&emoji)),
                None,
            )?)
        }
        Cmd::Upload { room, path, who } => {
            let (r, conn) = ctx.room(&room, &who, true)?;
            let bytes = std::fs::read(&path)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
            let name =
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
            let id = conn.upload(&r.room, &name, &bytes)?;
            cli::emit(&json!({"id": id, "url": conn.file_url(&r.room, id), "size": bytes.len()}))
        }
        Cmd::Download { room, id, who, out } => {
            let (r, conn) = ctx.room(&room, &who, false)?;
            let bytes = conn.download(&r.room, id)?;
            match out {
                Some(p) => {
                    std::fs::write(&p, &bytes)
                        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", p.display())))?;
                    cli::emit(&json!({"id": id, "size": bytes.len(), "path": p}))
                }
                None => {
                    use std::io::Write;
                    let mut stdout = std::io::stdout().lock();
                    stdout.write_all(&bytes).and_then(|()| stdout.flush()).map_err(CliError::from_output)
                }
            }
        }
        Cmd::Dm { cmd: DmCmd::Send { sid, who, server } } => {
            let id = identity(&who, true)?;
            let (base, pk) = ctx.state()?.server(server.as_deref())?;
            let conn = ctx.conn(&base, pk, id)?;
            let text = stdin_text(false)?;
            cli::emit(&conn.dm_send(sid.trim(), &text)?)
        }
        Cmd::Dm { cmd: DmCmd::Poll { who, server, all } } => {
            let id = identity(&who, true)?;
            let (base, pk) = ctx.state()?.server(server.as_deref())?;
            let conn = ctx.conn(&base, pk, id)?;
            let own = conn.own_id().unwrap_or_default();
            let since = if all { None } else { ctx.state()?.dm_since(&base, &own) };
            let lines = conn.dm_poll(since)?;
            let mut last = since;
            for line in &lines {
                cli::emit(line)?;
                last = last.max(line["id"].as_i64());
            }
            if let Some(l) = last {
                let mut state = ctx.state()?;
                state.set_dm_since(&base, &own, l);
                state.save()?;
            }
            Ok(())
        }
    }
}

/// `poll`: prints the updates after the saved seqno, then saves the last one printed.
fn poll(
    ctx: &Ctx,
    room: &str,
    who: &Who,
    follow: bool,
    interval: u64,
    since: Option<i64>,
) -> Result<(), CliError> {
    let (r, conn) = ctx.room(room, who, false)?;
    let mut seqno = since.unwrap_or(r.seqno);
    loop {
        let lines = conn.poll_once(&r.room, seqno)?;
        let full = lines.len() >= community::POLL_LIMIT;
        let mut next = seqno;
        for line in &lines {
            cli::emit(line)?;
            next = next.max(line["seqno"].as_i64().unwrap_or(next));
        }
        if next != seqno {
            // Saved only now that the lines are out: a crash before this prints them again.
            let mut state = ctx.state()?;
            state.set_seqno(&r, next);
            state.save()?;
            seqno = next;
        }
        if full {
            continue;
        }
        if !follow {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(interval));
    }
}
