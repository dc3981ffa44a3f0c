//! The `community` client against a real `sogs` process on a free loopback port: a conversation
//! of three identities (join, post, poll with verified lines, edits, deletions, reactions, files,
//! whispers), moderation (a moderator deletes and bans; the banned user's post is refused), a
//! blinded DM round trip, and bad input for every subcommand (exit 2 or 1, one stderr line).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use snkit::blinding::BlindedKeypair;
use snkit::identity::Identity;

/// A running `sogs serve` with a room `lobby` whose admin is `owner`; SIGKILLed when dropped.
struct Sogs {
    _daemon: crate::common::Daemon,
    url: String,
    pk: [u8; 32],
    pk_hex: String,
    dir: tempfile::TempDir,
}

impl Sogs {
    fn start(owner: &Identity) -> Self {
        Self::start_with(owner, &[])
    }

    fn start_with(owner: &Identity, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let admin = |args: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_sogs"))
                .arg("--dir")
                .arg(dir.path())
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "sogs {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        admin(&["--add-room", "lobby", "--name", "Lobby", "--description", "Say hi"]);
        admin(&["--add-room", "other", "--name", "Other"]);
        admin(&[
            "--rooms",
            "lobby",
            "--add-moderators",
            &owner.session_id().to_string(),
            "--admin",
            "--visible",
        ]);
        let daemon = crate::common::Daemon::start(env!("CARGO_BIN_EXE_sogs"), dir.path(), "SOGS_LOG", extra);
        let pk = daemon.pubkey();
        Self { url: daemon.url.clone(), pk, pk_hex: hex::encode(pk), dir, _daemon: daemon }
    }

    fn join_url(&self, room: &str) -> String {
        format!("{}/{room}?public_key={}", self.url, self.pk_hex)
    }

    fn blinded(&self, id: &Identity) -> String {
        BlindedKeypair::blind15(id, &self.pk).unwrap().id().to_string()
    }
}

/// One user: an identity file and a state directory of their own.
struct User {
    id: Identity,
    file: PathBuf,
    state: PathBuf,
}

impl User {
    fn new(root: &Path, name: &str) -> Self {
        let id = Identity::generate();
        let file = root.join(format!("{name}.json"));
        std::fs::write(&file, serde_json::to_vec(&id.to_file()).unwrap()).unwrap();
        let state = root.join(format!("{name}-state"));
        Self { id, file, state }
    }

    /// `community --direct --state S ARGS --identity F` with `stdin`.
    fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        community(&self.state, args, Some(&self.file), stdin)
    }

    fn ok(&self, args: &[&str], stdin: &[u8]) -> Value {
        let out = self.run(args, stdin);
        assert!(out.status.success(), "community {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    fn lines(&self, args: &[&str]) -> Vec<Value> {
        let out = self.run(args, b"");
        assert!(out.status.success(), "community {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

fn community(state: &Path, args: &[&str], identity: Option<&Path>, stdin: &[u8]) -> Output {
    community_via(None, state, args, identity, stdin)
}

/// `community` with `--direct`, or through onion paths of the node list `nodes`.
fn community_via(
    nodes: Option<&Path>,
    state: &Path,
    args: &[&str],
    identity: Option<&Path>,
    stdin: &[u8],
) -> Output {
    use std::io::Write;
    let mut c = Command::new(env!("CARGO_BIN_EXE_community"));
    match nodes {
        Some(list) => c.arg("--nodes").arg(list),
        None => c.arg("--direct"),
    };
    c.arg("--state").arg(state).args(args);
    if let Some(f) = identity {
        c.arg("--identity").arg(f);
    }
    let mut child = c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // A command that refuses its arguments may exit before reading stdin: a broken pipe here is
    // its answer, not the test's failure.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

/// Exit `code`, one `community: error:` line (plus an optional hint), nothing on stdout.
fn assert_error(out: &Output, code: i32, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{what}: exit code; stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
        "{what}: one error line, got {stderr:?}"
    );
    assert!(lines[0].starts_with("community: error: "), "{what}: {stderr:?}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(out.stdout.is_empty(), "{what}: no output on error");
}

#[test]
fn three_identities_talk_in_a_room() {
    let root = tempfile::tempdir().unwrap();
    let alice = User::new(root.path(), "alice");
    let bob = User::new(root.path(), "bob");
    let carol = User::new(root.path(), "carol");
    let s = Sogs::start(&alice.id);
    for u in [&alice, &bob, &carol] {
        let j = u.ok(&["join", &s.join_url("lobby")], b"");
        assert_eq!(j["server"], s.url.as_str());
        assert_eq!(j["room"], "lobby");
        assert_eq!(j["pubkey"], s.pk_hex.as_str());
        assert_eq!(j["info"]["name"], "Lobby");
    }
    let rooms = alice.ok(&["rooms"], b"");
    assert_eq!(rooms["rooms"][0]["room"], "lobby");
    let listed = alice.ok(&["rooms", &s.url], b"");
    assert_eq!(listed["rooms"].as_array().unwrap().len(), 2);
    assert_eq!(bob.ok(&["info", "lobby"], b"")["description"], "Say hi");

    let p1 = alice.ok(&["post", "lobby", "--name", "Alice"], b"hello everyone\n");
    assert_eq!(p1["sender"], s.blinded(&alice.id).as_str());
    let p2 = bob.ok(&["post", "lobby", "--name", "Bob"], "héllo ✓".as_bytes());
    let attach = root.path().join("notes.txt");
    std::fs::write(&attach, b"file body").unwrap();
    let p3 = carol.ok(&["post", "lobby", "--file", attach.to_str().unwrap()], b"see attached");
    let id1 = p1["id"].as_i64().unwrap().to_string();

    // Carol's first poll: three verified lines with the senders' blinded IDs and names.
    let lines = carol.lines(&["poll", "lobby"]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines.iter().all(|l| l["verified"] == true), "{lines:?}");
    assert_eq!(lines[0]["text"], "hello everyone");
    assert_eq!(lines[0]["name"], "Alice");
    assert_eq!(lines[1]["text"], "héllo ✓");
    assert_eq!(lines[1]["sender"], s.blinded(&bob.id).as_str());
    assert_eq!(lines[2]["files"][0]["name"], "notes.txt");
    let file_id = lines[2]["files"][0]["id"].as_u64().unwrap().to_string();
    let out = root.path().join("got.txt");
    carol.ok(&["download", "lobby", &file_id, "-o", out.to_str().unwrap()], b"");
    assert_eq!(std::fs::read(&out).unwrap(), b"file body");
    // Resumes from the saved seqno: nothing new.
    assert!(carol.lines(&["poll", "lobby"]).is_empty());

    // An edit, a reaction and a deletion all show up in the next poll.
    alice.ok(&["edit", "lobby", &id1, "--name", "Alice"], b"hello, edited");
    bob.ok(&["react", "lobby", &id1, "👍"], b"");
    bob.ok(&["delete", "lobby", &p2["id"].to_string()], b"");
    let lines = carol.lines(&["poll", "lobby"]);
    let edited = lines.iter().find(|l| l["id"] == p1["id"] && l["text"] == "hello, edited").expect("edit");
    assert_eq!(edited["verified"], true);
    assert!(!edited["edited"].is_null());
    let reacted = lines.iter().rev().find(|l| l["id"] == p1["id"]).unwrap();
    assert_eq!(reacted["reactions"]["👍"]["count"], 1, "{lines:?}");
    let gone = lines.iter().find(|l| l["id"] == p2["id"]).expect("deletion");
    assert_eq!(gone["deleted"], true);
    assert!(gone["text"].is_null());
    let _ = p3;

    // A moderator's whisper reaches its target and not the third user; others may not whisper.
    alice.ok(&["post", "lobby", "--whisper-to", &s.blinded(&carol.id)], b"just for carol");
    assert!(
        carol.lines(&["poll", "lobby"]).iter().any(|l| l["text"] == "just for carol" && l["whisper"] == true)
    );
    assert!(!bob.lines(&["poll", "lobby", "--since", "0"]).iter().any(|l| l["text"] == "just for carol"));
    let out = bob.run(&["post", "lobby", "--whisper-to", &s.blinded(&carol.id)], b"psst");
    assert_error(&out, 1, "a non-moderator's whisper");
}

#[test]
fn a_moderator_deletes_and_bans() {
    let root = tempfile::tempdir().unwrap();
    let admin = User::new(root.path(), "admin");
    let spammer = User::new(root.path(), "spammer");
    let s = Sogs::start(&admin.id);
    for u in [&admin, &spammer] {
        u.ok(&["join", &s.join_url("lobby")], b"");
    }
    let spam = spammer.ok(&["post", "lobby"], b"buy now");
    let spam_id = spam["id"].to_string();
    // The spammer is not a moderator: deleting someone else's post or banning is refused (exit 1).
    let mine = admin.ok(&["post", "lobby"], b"welcome");
    let out = spammer.run(&["delete", "lobby", &mine["id"].to_string()], b"");
    assert_error(&out, 1, "non-moderator delete");
    let spam_sid = s.blinded(&spammer.id);
    let out = spammer.run(&["ban", "lobby", &s.blinded(&admin.id)], b"");
    assert_error(&out, 1, "non-moderator ban");

    admin.ok(&["pin", "lobby", &mine["id"].to_string()], b"");
    assert_eq!(admin.ok(&["info", "lobby"], b"")["pinned_messages"][0]["id"], mine["id"]);
    admin.ok(&["delete", "lobby", &spam_id], b"");
    spammer.ok(&["post", "lobby"], b"more spam");
    let all = admin.ok(&["delete-all", "lobby", &spam_sid], b"");
    assert_eq!(all["deleted"], 1, "{all}");
    admin.ok(&["ban", "lobby", &spam_sid], b"");
    let out = spammer.run(&["post", "lobby"], b"again");
    assert_error(&out, 1, "banned post");
    admin.ok(&["unban", "lobby", &spam_sid], b"");
    spammer.ok(&["post", "lobby"], b"sorry");
    // Appointing a moderator lets them delete.
    admin.ok(&["mod", "lobby", &spam_sid], b"");
    let info = spammer.ok(&["info", "lobby"], b"");
    assert_eq!(info["moderator"], true, "{info}");
    admin.ok(&["mod", "lobby", &spam_sid, "--remove"], b"");
    // Upload without posting, and download anonymously.
    let f = root.path().join("x.bin");
    std::fs::write(&f, [0u8, 1, 2, 255]).unwrap();
    let up = admin.ok(&["upload", "lobby", f.to_str().unwrap()], b"");
    let out = community(&admin.state, &["download", "lobby", &up["id"].to_string()], None, b"");
    assert!(out.status.success());
    assert_eq!(out.stdout, [0u8, 1, 2, 255]);
}

#[test]
fn a_blinded_dm_round_trip() {
    let root = tempfile::tempdir().unwrap();
    let alice = User::new(root.path(), "alice");
    let bob = User::new(root.path(), "bob");
    let s = Sogs::start(&alice.id);
    for u in [&alice, &bob] {
        u.ok(&["join", &s.join_url("lobby")], b"");
    }
    // Bob has made a request (the join), so Alice can write to him.
    let sent = alice.ok(&["dm", "send", &s.blinded(&bob.id)], b"hi bob, privately\n");
    assert_eq!(sent["recipient"], s.blinded(&bob.id).as_str());
    let lines = bob.lines(&["dm", "poll"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["text"], "hi bob, privately");
    assert_eq!(lines[0]["decrypted"], true);
    assert_eq!(lines[0]["sender"], s.blinded(&alice.id).as_str());
    assert_eq!(lines[0]["session_id"], alice.id.session_id().to_string().as_str());
    // Nothing new: the server's 304 is an empty stream.
    assert!(bob.lines(&["dm", "poll"]).is_empty());
    bob.ok(&["dm", "send", &s.blinded(&alice.id), "--server", &s.url], b"hi alice");
    let back = alice.lines(&["dm", "poll"]);
    assert_eq!(back[0]["text"], "hi alice");
    assert_eq!(bob.lines(&["dm", "poll", "--all"]).len(), 1);
}

#[test]
fn a_25_blinded_dm_round_trip() {
    let root = tempfile::tempdir().unwrap();
    let alice = User::new(root.path(), "alice");
    let bob = User::new(root.path(), "bob");
    let s = Sogs::start(&alice.id);
    let b25 = |id: &Identity| BlindedKeypair::blind25(id, &s.pk).unwrap().id().to_string();
    for u in [&alice, &bob] {
        u.ok(&["join", &s.join_url("lobby"), "--blind25"], b"");
    }
    let sent = alice.ok(&["dm", "send", &b25(&bob.id), "--blind25"], b"hi bob, as 25\n");
    assert_eq!(sent["recipient"], b25(&bob.id).as_str());
    assert_eq!(sent["sender"], b25(&alice.id).as_str());
    let lines = bob.lines(&["dm", "poll", "--blind25"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["decrypted"], true, "{lines:?}");
    assert_eq!(lines[0]["text"], "hi bob, as 25");
    assert_eq!(lines[0]["sender"], b25(&alice.id).as_str());
    assert_eq!(lines[0]["session_id"], alice.id.session_id().to_string().as_str());
    // Signing as 15 to a 25 ID: refused before anything is sent (both sides must be one kind).
    let out = alice.run(&["dm", "send", &b25(&bob.id)], b"mixed");
    assert_error(&out, 2, "a 15 sender to a 25 recipient");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--blind25"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --blind25 and --unblinded are one choice.
    assert_error(&alice.run(&["dm", "poll", "--blind25", "--unblinded"], b""), 2, "two key choices");
}

#[test]
fn bad_input_for_every_subcommand() {
    let root = tempfile::tempdir().unwrap();
    let alice = User::new(root.path(), "alice");
    let s = Sogs::start(&alice.id);
    let state = root.path().join("st");
    let none = |args: &[&str], stdin: &[u8]| community(&state, args, None, stdin);
    let missing = root.path().join("missing.json");
    let with_missing = |args: &[&str]| community(&state, args, Some(&missing), b"x");
    // Bad join URLs (2), and a room the server does not have (1).
    for url in ["nope", "http://127.0.0.1:1/lobby", "http://h/lobby?public_key=zz", "ftp://h/r?public_key=00"]
    {
        assert_error(&none(&["join", url], b""), 2, url);
    }
    assert_error(&none(&["join", &s.join_url("nosuchroom")], b""), 1, "unknown room on the server");
    // Nothing joined yet: every room command refuses the room (2).
    let cases: Vec<Vec<&str>> =
        vec![vec!["info", "lobby"], vec!["poll", "lobby"], vec!["download", "lobby", "1"]];
    for args in &cases {
        assert_error(&none(args, b""), 2, &format!("{args:?} not joined"));
    }
    alice.ok(&["join", &s.join_url("lobby")], b"");
    // Commands that sign need --identity (2); a missing identity file is 2 too.
    let signing: Vec<Vec<&str>> = vec![
        vec!["post", "lobby"],
        vec!["edit", "lobby", "1"],
        vec!["ban", "lobby", "05aa"],
        vec!["unban", "lobby", "05aa"],
        vec!["mod", "lobby", "05aa"],
        vec!["delete", "lobby", "1"],
        vec!["delete-all", "lobby", "05aa"],
        vec!["pin", "lobby", "1"],
        vec!["react", "lobby", "1", "x"],
        vec!["upload", "lobby", "/dev/null"],
        vec!["dm", "send", "15aa"],
        vec!["dm", "poll"],
    ];
    for args in &signing {
        assert_error(&community(&alice.state, args, None, b"x"), 2, &format!("{args:?} no identity"));
        assert_error(&with_missing(args), 2, &format!("{args:?} missing identity"));
    }
    // Unknown room for a joined user (2); garbage stdin (2); a bad DM recipient (2).
    for args in [vec!["info", "nosuch"], vec!["poll", "nosuch"], vec!["post", "nosuch"]] {
        assert_error(&alice.run(&args, b"x"), 2, &format!("{args:?}"));
    }
    assert_error(&alice.run(&["post", "lobby"], &[0xff, 0xfe, 0x80]), 2, "non-UTF-8 post");
    assert_error(&alice.run(&["post", "lobby"], b""), 2, "empty post");
    assert_error(&alice.run(&["edit", "lobby", "1"], &[0xff]), 2, "non-UTF-8 edit");
    assert_error(&alice.run(&["dm", "send", "not-an-id"], b"hi"), 2, "bad DM recipient");
    assert_error(&alice.run(&["dm", "send", &s.blinded(&alice.id)], &[0xc3]), 2, "non-UTF-8 DM");
    assert_error(&alice.run(&["post", "lobby", "--file", "/nonexistent/x"], b""), 2, "missing --file");
    assert_error(&alice.run(&["upload", "lobby", "/nonexistent/x"], b""), 2, "missing upload");
    assert_error(&alice.run(&["react", "lobby", "999999", "x"], b""), 1, "react to a missing message");
    assert_error(&alice.run(&["download", "lobby", "999999"], b""), 1, "missing file");
    assert_error(&alice.run(&["delete", "lobby", "999999"], b""), 1, "delete a missing message");
    assert_error(&alice.run(&["dm", "poll", "--server", "http://elsewhere:1"], b""), 2, "unknown server");
    assert_error(&alice.run(&["rooms", "http://elsewhere:1"], b""), 2, "unknown server for rooms");
    // Without --direct and with no node list to build onion paths from (2).
    let out = Command::new(env!("CARGO_BIN_EXE_community"))
        .args(["--state"])
        .arg(&alice.state)
        .args(["info", "lobby"])
        .output()
        .unwrap();
    assert_error(&out, 2, "no --direct");
    // Usage errors from clap: a missing argument.
    assert_eq!(none(&["post"], b"").status.code(), Some(2));
    // A corrupt state file (1).
    std::fs::write(alice.state.join("community.json"), b"{garbage").unwrap();
    assert_error(&alice.run(&["info", "lobby"], b""), 1, "corrupt state");
    let _ = s.dir.path();
}

#[test]
fn a_forged_signature_is_a_verified_false_line_and_follow_streams() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;
    use std::io::Read;
    let root = tempfile::tempdir().unwrap();
    let alice = User::new(root.path(), "alice");
    let mallory = User::new(root.path(), "mallory");
    let s = Sogs::start(&alice.id);
    alice.ok(&["join", &s.join_url("lobby")], b"");
    // Mallory posts a proper Content whose signature is not hers (the server checks only its length).
    let client = snkit::client::sogs::SogsClient::new(&s.url, s.pk, Some(&mallory.id)).unwrap();
    let data = snkit::community_formats::build_post("forged", None, &[], 1).unwrap();
    let body = serde_json::json!({"data": B64.encode(&data), "signature": B64.encode([7u8; 64])});
    assert_eq!(client.json("POST", "/room/lobby/message", &body).unwrap().status, 201);
    // `--follow` streams it, then a good post that arrives while it runs.
    let mut child = Command::new(env!("CARGO_BIN_EXE_community"))
        .arg("--direct")
        .arg("--state")
        .arg(&alice.state)
        .args(["poll", "lobby", "--follow", "--interval", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let forged: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(forged["text"], "forged");
    assert_eq!(forged["verified"], false);
    assert_eq!(forged["sender"], s.blinded(&mallory.id).as_str());
    alice.ok(&["post", "lobby"], b"live");
    line.clear();
    out.read_line(&mut line).unwrap();
    let live: Value = serde_json::from_str(&line).unwrap();
    assert_eq!((live["text"].as_str(), live["verified"].as_bool()), (Some("live"), Some(true)));
    // The seqno is saved right after the lines are printed.
    let saved = || {
        let st: Value =
            serde_json::from_slice(&std::fs::read(alice.state.join("community.json")).unwrap()).unwrap();
        st["rooms"].as_object().unwrap().values().any(|r| r["seqno"] == live["seqno"])
    };
    assert!(crate::common::eventually(std::time::Duration::from_secs(10), saved));
    let _ = child.kill();
    let _ = child.wait();
    let mut rest = String::new();
    let _ = out.read_to_string(&mut rest);
    // Both lines were printed and saved: a new poll prints nothing.
    assert!(alice.lines(&["poll", "lobby"]).is_empty());
}

#[test]
fn unblinded_signing_where_the_server_allows_it() {
    let root = tempfile::tempdir().unwrap();
    let alice = User::new(root.path(), "alice");
    let s = Sogs::start_with(&alice.id, &["--allow-unblinded"]);
    alice.ok(&["join", &s.join_url("lobby")], b"");
    let sid = alice.id.session_id().to_string();
    let p = alice.ok(&["--unblinded", "post", "lobby"], b"as myself");
    assert_eq!(p["sender"], sid.as_str());
    let lines = alice.lines(&["poll", "lobby"]);
    assert_eq!(
        (lines[0]["sender"].as_str(), lines[0]["verified"].as_bool()),
        (Some(sid.as_str()), Some(true))
    );
    // A server that requires blinded keys refuses it (1).
    let strict = Sogs::start(&alice.id);
    let bob = User::new(root.path(), "bob");
    bob.ok(&["join", &strict.join_url("lobby")], b"");
    assert_error(&bob.run(&["--unblinded", "post", "lobby"], b"x"), 1, "unblinded on a blinding server");
}

#[test]
fn three_identities_talk_through_onion_paths_over_a_12_node_testnet() {
    let tn = crate::common::Testnet::up(12);
    let root = tempfile::tempdir().unwrap();
    let (alice, bob, carol) =
        (User::new(root.path(), "alice"), User::new(root.path(), "bob"), User::new(root.path(), "carol"));
    let s = Sogs::start(&alice.id);
    let nodes = tn.nodes_json();
    let via = |u: &User, args: &[&str], stdin: &[u8]| {
        let out = community_via(Some(&nodes), &u.state, args, Some(&u.file), stdin);
        assert!(
            out.status.success(),
            "community {args:?} over onion: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for u in [&alice, &bob, &carol] {
        let j: Value = serde_json::from_str(&via(u, &["join", &s.join_url("lobby")], b"")).unwrap();
        assert_eq!(j["info"]["name"], "Lobby");
    }
    via(&alice, &["post", "lobby", "--name", "Alice"], b"over three hops");
    via(&bob, &["post", "lobby", "--name", "Bob"], b"and back");
    let lines: Vec<Value> =
        via(&carol, &["poll", "lobby"], b"").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines.iter().all(|l| l["verified"] == true), "{lines:?}");
    assert_eq!(lines[0]["text"], "over three hops");
    assert_eq!(lines[0]["sender"], s.blinded(&alice.id).as_str());
    assert_eq!(lines[1]["text"], "and back");
    // The server's room list, over onion too.
    let out = community_via(Some(&nodes), &carol.state, &["rooms", &s.url], Some(&carol.file), b"");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A blinded DM through the onion: Bob's reaches Alice.
    via(&bob, &["dm", "send", &s.blinded(&alice.id)], b"psst");
    let dms: Vec<Value> =
        via(&alice, &["dm", "poll"], b"").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(dms.iter().any(|d| d["text"] == "psst"), "{dms:?}");
}

#[test]
fn a_testnet_runs_a_community_server_beside_its_nodes() {
    let tn = crate::common::Testnet::up_with(6, &["--sogs"]);
    let info: Value = serde_json::from_slice(&std::fs::read(tn.dir().join("sogs.json")).unwrap()).unwrap();
    let admin = Command::new(env!("CARGO_BIN_EXE_sogs"))
        .arg("--dir")
        .arg(tn.dir().join("sogs"))
        .args(["--add-room", "lobby", "--name", "Lobby"])
        .output()
        .unwrap();
    assert!(admin.status.success(), "{}", String::from_utf8_lossy(&admin.stderr));
    let root = tempfile::tempdir().unwrap();
    let alice = User::new(root.path(), "alice");
    let join =
        format!("{}/lobby?public_key={}", info["url"].as_str().unwrap(), info["pubkey"].as_str().unwrap());
    let nodes = tn.nodes_json();
    let run = |args: &[&str], stdin: &[u8]| {
        community_via(Some(&nodes), &alice.state, args, Some(&alice.file), stdin)
    };
    assert!(run(&["join", &join], b"").status.success());
    assert!(run(&["post", "lobby"], b"hi from the testnet").status.success());
    let out = run(&["poll", "lobby"], b"");
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (line["text"].as_str(), line["verified"].as_bool()),
        (Some("hi from the testnet"), Some(true))
    );
    tn.down_leaving_nothing_running();
}

/// The first of these browsers found on `PATH` (Debian's `chromium`, which `.ci/run` installs).
fn find_browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// A PNG file as greyscale: (width, height, one byte per pixel).
fn png_grey(path: &Path) -> (usize, usize, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "an 8-bit screenshot");
    let channels = info.color_type.samples();
    let grey = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|px| {
            if channels >= 3 {
                ((u16::from(px[0]) + u16::from(px[1]) + u16::from(px[2])) / 3) as u8
            } else {
                px[0]
            }
        })
        .collect();
    (info.width as usize, info.height as usize, grey)
}

#[test]
fn the_room_page_in_a_real_browser_shows_a_qr_code_of_the_join_url() {
    let Some(browser) = find_browser() else {
        eprintln!("skipped: no chromium on PATH (.ci/run installs Debian's chromium)");
        return;
    };
    let owner = Identity::generate();
    let s = Sogs::start(&owner);
    let root = tempfile::tempdir().unwrap();
    let shot = root.path().join("room.png");
    let mut child = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=900,1400"])
        .arg(format!("--user-data-dir={}", root.path().join("profile").display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("{}/r/lobby/", s.url))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "the browser did not finish its screenshot");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(shot.exists(), "the browser saved a screenshot");
    let (w, h, grey) = png_grey(&shot);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| grey[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the room page");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    assert_eq!(content, s.join_url("lobby"), "the QR code holds the room's join URL");
}
