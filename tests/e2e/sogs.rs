//! The community server against a real `sogs` process on a free loopback port: the routes of
//! sogs.md §2 with their refusals (400/401/403/404/425/429), the `05`→`15` carry-over, the
//! administration flags, the REST API, the web page, a restart after `kill -9` that loses nothing
//! acknowledged, SIGTERM, and a barrage of mangled requests that never gets a 5xx.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use snkit::client::sogs::SogsClient;
use snkit::identity::Identity;
use snkit::session_protocol::{Content, PaddingStyle, pad};
use snkit::sogs_formats::Signer;

use crate::common::{Daemon, eventually, http};

/// A running `sogs serve`, SIGKILLed when dropped (its log at the level `SOGS_LOG` names).
struct Server {
    daemon: Daemon,
    pk: [u8; 32],
}

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Self {
        let daemon = Daemon::start(env!("CARGO_BIN_EXE_sogs"), dir, "SOGS_LOG", extra);
        let pk = daemon.pubkey();
        Self { daemon, pk }
    }

    fn client(&self, id: &Identity) -> SogsClient {
        SogsClient::new(&self.url, self.pk, Some(id)).unwrap()
    }

    fn anon(&self) -> SogsClient {
        SogsClient::new(&self.url, self.pk, None).unwrap()
    }
}

impl std::ops::Deref for Server {
    type Target = Daemon;
    fn deref(&self) -> &Daemon {
        &self.daemon
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Daemon {
        &mut self.daemon
    }
}

/// `sogs --dir DIR ARGS…`: its exit code and stdout JSON.
fn admin(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sogs")).arg("--dir").arg(dir).args(args).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn ok_admin(dir: &Path, args: &[&str]) -> Value {
    let (code, v, err) = admin(dir, args);
    assert_eq!(code, 0, "sogs {args:?}: {err}");
    v
}

fn body(r: &snkit::http::HttpReply) -> Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&r.body).into_owned()))
}

/// A message as the apps post it: a padded `Content` with the text, signed by the blinded key.
fn post_body(c: &SogsClient, text: &str) -> (Value, Vec<u8>) {
    let data = pad(&Content::text(text, 1_700_000_000_000).encode(), PaddingStyle::Libsession).unwrap();
    let sig = c.signer().unwrap().sign(&data).unwrap();
    (json!({"data": B64.encode(&data), "signature": B64.encode(sig)}), data)
}

fn post(c: &SogsClient, room: &str, text: &str) -> (u16, Value) {
    let (b, _) = post_body(c, text);
    let r = c.json("POST", &format!("/room/{room}/message"), &b).unwrap();
    (r.status, body(&r))
}

fn text_of(msg: &Value) -> String {
    let data = B64.decode(msg["data"].as_str().unwrap()).unwrap();
    let content = Content::decode(snkit::session_protocol::unpad(&data)).unwrap();
    content.text_body().unwrap().to_string()
}

/// A server with a room `lobby` and `owner` as its admin (through the 05 carry-over).
fn setup() -> (tempfile::TempDir, Server, Identity) {
    let dir = tempfile::tempdir().unwrap();
    let owner = Identity::generate();
    ok_admin(dir.path(), &["--add-room", "lobby", "--name", "Lobby", "--description", "Say hi"]);
    let sid = owner.session_id().to_string();
    ok_admin(dir.path(), &["--rooms", "lobby", "--add-moderators", &sid, "--admin", "--visible"]);
    let s = Server::start(dir.path(), &[]);
    (dir, s, owner)
}

fn raw_headers(
    s: &Server,
    id: &Identity,
    method: &str,
    path: &str,
    nonce: [u8; 16],
    ts: i64,
) -> Vec<(&'static str, String)> {
    Signer::blinded(id, &s.pk).unwrap().headers(&s.pk, &nonce, ts, method, path, None, b"").unwrap()
}

fn send(s: &Server, method: &str, path: &str, headers: &[(&str, String)]) -> u16 {
    let mut r = http().request(method.parse().unwrap(), format!("{}{path}", s.url));
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    r.send().unwrap().status().as_u16()
}

fn now() -> i64 {
    (snkit::time::now_ms() / 1000) as i64
}

#[test]
fn ready_line_key_capabilities_and_the_admin_carry_over() {
    let (dir, s, owner) = setup();
    assert_eq!(s.ready["pubkey_ed25519"].as_str().unwrap().len(), 64);
    let key = std::fs::metadata(dir.path().join("key.json")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&key.permissions()) & 0o777, 0o600);
    let caps = s.anon().get("/capabilities").unwrap();
    assert_eq!(body(&caps), json!({"capabilities": ["sogs", "reactions", "blind"]}));
    let r = s.anon().get("/capabilities?required=sogs,nope").unwrap();
    assert_eq!(r.status, 412);
    assert_eq!(body(&r)["missing"], json!(["nope"]));
    // The owner was named by 05 ID; their first blinded request makes them the room's admin.
    let c = s.client(&owner);
    let info = body(&c.get("/room/lobby").unwrap());
    assert_eq!(info["admin"], json!(true), "{info}");
    assert_eq!(info["moderator"], json!(true));
    assert_eq!(info["admins"], json!([c.pubkey_hex().unwrap()]));
    assert_eq!(info["name"], "Lobby");
    assert_eq!(info["description"], "Say hi");
    // An admin may rename the room; info_updates moves.
    let before = info["info_updates"].as_i64().unwrap();
    let r = c.json("PUT", "/room/lobby", &json!({"name": "The Lobby"})).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let info = body(&s.anon().get("/room/LOBBY").unwrap());
    assert_eq!(info["name"], "The Lobby");
    assert!(info["info_updates"].as_i64().unwrap() > before);
    // pollInfo: details only when the counter moved.
    let n = info["info_updates"].as_i64().unwrap();
    assert!(body(&c.get(&format!("/room/lobby/pollInfo/{n}")).unwrap()).get("details").is_none());
    assert!(body(&c.get("/room/lobby/pollInfo/0").unwrap()).get("details").is_some());
}

#[test]
fn signature_refusals_in_the_spec_order() {
    let (_dir, s, owner) = setup();
    let path = "/room/lobby/messages/recent";
    let hs = raw_headers(&s, &owner, "GET", path, [1; 16], now());
    // Missing one header: 400.
    assert_eq!(send(&s, "GET", path, &hs[..3]), 400);
    // Good, then the same nonce again: 425.
    assert_eq!(send(&s, "GET", path, &hs), 200);
    assert_eq!(send(&s, "GET", path, &hs), 425);
    // A skewed timestamp: 425.
    assert_eq!(send(&s, "GET", path, &raw_headers(&s, &owner, "GET", path, [2; 16], now() - 2 * 86400)), 425);
    // A signature over another path: 401; its nonce is used up even so.
    let wrong = raw_headers(&s, &owner, "GET", "/rooms", [3; 16], now());
    assert_eq!(send(&s, "GET", path, &wrong), 401);
    assert_eq!(send(&s, "GET", "/rooms", &wrong), 425, "the nonce was stored before the signature check");
    // A refused request uses up its nonce too: it cannot be replayed once it would succeed.
    let refused = raw_headers(&s, &owner, "DELETE", "/room/lobby/message/999", [6; 16], now());
    assert_eq!(send(&s, "DELETE", "/room/lobby/message/999", &refused), 404);
    assert_eq!(send(&s, "DELETE", "/room/lobby/message/999", &refused), 425);
    // An unblinded key on a blinding server: 400.
    let unblinded = Signer::Unblinded(Box::new(Identity::generate()));
    let hs = unblinded.headers(&s.pk, &[4; 16], now(), "GET", path, None, b"").unwrap();
    assert_eq!(send(&s, "GET", path, &hs), 400);
    // Unknown room: 404; unknown route: 404.
    assert_eq!(s.client(&owner).get("/room/nope/messages/recent").unwrap().status, 404);
    assert_eq!(s.anon().get("/no/such/route").unwrap().status, 404);
    // Anonymous posts: 401.
    assert_eq!(s.anon().json("POST", "/room/lobby/message", &json!({})).unwrap().status, 401);
}

#[test]
fn unblinded_keys_are_accepted_with_allow_unblinded() {
    let dir = tempfile::tempdir().unwrap();
    ok_admin(dir.path(), &["--add-room", "r"]);
    let s = Server::start(dir.path(), &["--allow-unblinded"]);
    assert_eq!(body(&s.anon().get("/capabilities").unwrap()), json!({"capabilities": ["sogs", "reactions"]}));
    let id = Identity::generate();
    let c = SogsClient::with_signer(
        &s.url,
        s.pk,
        Some(Signer::Unblinded(Box::new(Identity::from_seed(id.seed()).unwrap()))),
    );
    let data = b"hello".to_vec();
    let sig = id.sign(&data);
    let r = c
        .json("POST", "/room/r/message", &json!({"data": B64.encode(&data), "signature": B64.encode(sig)}))
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(body(&r)["session_id"], json!(id.session_id().to_string()));
}

#[test]
fn posts_edits_deletions_reactions_and_the_since_poll() {
    let (_dir, s, owner) = setup();
    let alice = Identity::generate();
    let a = s.client(&alice);
    let (st, m1) = post(&a, "lobby", "first");
    assert_eq!(st, 201, "{m1}");
    assert_eq!(m1["session_id"], json!(a.pubkey_hex().unwrap()));
    let (b2, data2) = post_body(&a, "second");
    let r = a.json("POST", "/room/lobby/message", &b2).unwrap();
    assert_eq!(r.status, 201);
    let m2 = body(&r);
    // Re-padded on output to the posted bytes, which the signature covers.
    assert_eq!(B64.decode(m2["data"].as_str().unwrap()).unwrap(), data2);
    let (id1, id2) = (m1["id"].as_i64().unwrap(), m2["id"].as_i64().unwrap());
    let one = body(&a.get(&format!("/room/lobby/message/{id1}")).unwrap());
    assert_eq!(text_of(&one), "first");
    assert_eq!(one["whisper"], json!(false));
    // recent: newest first; before.
    let recent = body(&s.anon().get("/room/lobby/messages/recent").unwrap());
    assert_eq!(
        recent.as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect::<Vec<_>>(),
        [id2, id1]
    );
    let before = body(&s.anon().get(&format!("/room/lobby/messages/before/{id2}")).unwrap());
    assert_eq!(before.as_array().unwrap().len(), 1);
    let seq0 = m2["seqno"].as_i64().unwrap();
    // Edit by the author; someone else may not.
    let (e, _) = post_body(&a, "first, edited");
    assert_eq!(a.json("PUT", &format!("/room/lobby/message/{id1}"), &e).unwrap().status, 200);
    let bob = s.client(&Identity::generate());
    let (e2, _) = post_body(&bob, "hijack");
    assert_eq!(bob.json("PUT", &format!("/room/lobby/message/{id1}"), &e2).unwrap().status, 403);
    // Reactions: added, then added: false the second time.
    let r = bob.request("PUT", &format!("/room/lobby/reaction/{id2}/%F0%9F%8D%86"), b"", "", &[]).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(body(&r)["added"], json!(true));
    let r = bob.request("PUT", &format!("/room/lobby/reaction/{id2}/%F0%9F%8D%86"), b"", "", &[]).unwrap();
    assert_eq!(body(&r)["added"], json!(false));
    let r =
        bob.request("PUT", &format!("/room/lobby/reaction/{id2}/{}", "x".repeat(13)), b"", "", &[]).unwrap();
    assert_eq!(r.status, 400);
    let reactors = body(&a.get(&format!("/room/lobby/reactors/{id2}/%F0%9F%8D%86")).unwrap());
    assert_eq!(reactors[0][0], json!(bob.pubkey_hex().unwrap()));
    // The poll: the edit comes; the reaction-only change only with t=r.
    let since = body(&a.get(&format!("/room/lobby/messages/since/{seq0}")).unwrap());
    let since = since.as_array().unwrap();
    assert_eq!(since.len(), 1, "{since:?}");
    assert_eq!(text_of(&since[0]), "first, edited");
    assert!(since[0]["edited"].is_number());
    let with_r = body(&a.get(&format!("/room/lobby/messages/since/{seq0}?t=r")).unwrap());
    let with_r = with_r.as_array().unwrap();
    assert_eq!(with_r.len(), 2, "{with_r:?}");
    let reaction_update = with_r.iter().find(|m| m["id"] == json!(id2)).unwrap();
    assert_eq!(reaction_update["reactions"]["🍆"]["count"], json!(1));
    assert!(reaction_update.get("data").is_none());
    // Deletion: by the author; then 404; the poll shows data null, deleted true.
    assert_eq!(a.request("DELETE", &format!("/room/lobby/message/{id2}"), b"", "", &[]).unwrap().status, 200);
    assert_eq!(a.request("DELETE", &format!("/room/lobby/message/{id2}"), b"", "", &[]).unwrap().status, 404);
    let all = body(&a.get("/room/lobby/messages/since/0").unwrap());
    let del = all.as_array().unwrap().iter().find(|m| m["id"] == json!(id2)).unwrap();
    assert_eq!(del["data"], Value::Null);
    assert_eq!(del["deleted"], json!(true));
    assert_eq!(a.get(&format!("/room/lobby/message/{id2}")).unwrap().status, 404);
    // Pins need an admin.
    assert_eq!(a.request("POST", &format!("/room/lobby/pin/{id1}"), b"", "", &[]).unwrap().status, 403);
    let o = s.client(&owner);
    assert_eq!(o.request("POST", &format!("/room/lobby/pin/{id1}"), b"", "", &[]).unwrap().status, 200);
    let info = body(&a.get("/room/lobby").unwrap());
    assert_eq!(info["pinned_messages"][0]["id"], json!(id1));
    let r = body(&o.request("POST", "/room/lobby/unpin/all", b"", "", &[]).unwrap());
    assert_eq!(r["unpinned"], json!(1));
    // Whispers: only moderators send them; only the recipient (and mods) see them.
    let carol = s.client(&Identity::generate());
    let (mut w, _) = post_body(&o, "psst");
    w["whisper_to"] = json!(carol.pubkey_hex().unwrap());
    let r = o.json("POST", "/room/lobby/message", &w).unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let wid = body(&r)["id"].as_i64().unwrap();
    assert_eq!(carol.get(&format!("/room/lobby/message/{wid}")).unwrap().status, 200);
    assert_eq!(bob.get(&format!("/room/lobby/message/{wid}")).unwrap().status, 404);
    let (mut w2, _) = post_body(&a, "fake whisper");
    w2["whisper_mods"] = json!(true);
    assert_eq!(a.json("POST", "/room/lobby/message", &w2).unwrap().status, 403);
}

#[test]
fn rate_limit_is_five_posts_per_sixteen_seconds_and_admins_are_exempt() {
    let (_dir, s, owner) = setup();
    let a = s.client(&Identity::generate());
    for i in 0..5 {
        assert_eq!(post(&a, "lobby", &format!("m{i}")).0, 201);
    }
    assert_eq!(post(&a, "lobby", "one too many").0, 429);
    let o = s.client(&owner);
    for i in 0..7 {
        assert_eq!(post(&o, "lobby", &format!("admin {i}")).0, 201);
    }
}

#[test]
fn bans_moderators_permissions_and_delete_all() {
    let (_dir, s, owner) = setup();
    let o = s.client(&owner);
    let mallory_id = Identity::generate();
    let m = s.client(&mallory_id);
    let msid = m.pubkey_hex().unwrap();
    assert_eq!(post(&m, "lobby", "spam 1").0, 201);
    assert_eq!(post(&m, "lobby", "spam 2").0, 201);
    // Not a moderator: 403.
    let r = m
        .json("POST", &format!("/user/{}/ban", o.pubkey_hex().unwrap()), &json!({"rooms": ["lobby"]}))
        .unwrap();
    assert_eq!(r.status, 403);
    // A moderator bans from the room: 403 on posts and reads, 404 on the room, gone from /rooms.
    let r = o.json("POST", &format!("/user/{msid}/ban"), &json!({"rooms": ["lobby"]})).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(post(&m, "lobby", "spam 3").0, 403);
    assert_eq!(m.get("/room/lobby/messages/recent").unwrap().status, 403);
    assert_eq!(m.get("/room/lobby").unwrap().status, 404);
    assert_eq!(body(&m.get("/rooms").unwrap()), json!([]));
    // The only ban listing: permissions.
    let perms = body(&o.get("/room/lobby/permissions").unwrap());
    assert_eq!(perms[&msid]["banned"], json!(true), "{perms}");
    // Posts are kept; delete-all removes them.
    let r = body(&o.request("DELETE", &format!("/room/lobby/all/{msid}"), b"", "", &[]).unwrap());
    assert_eq!(r["deleted"], json!(2));
    assert_eq!(body(&s.anon().get("/room/lobby/messages/recent").unwrap()), json!([]));
    // Unban.
    assert_eq!(
        o.json("POST", &format!("/user/{msid}/unban"), &json!({"rooms": ["lobby"]})).unwrap().status,
        200
    );
    assert_eq!(post(&m, "lobby", "sorry").0, 201);
    // A timed ban lifts itself (the clean-up runs every 10 s; expiry is also checked on read).
    assert_eq!(
        o.json("POST", &format!("/user/{msid}/ban"), &json!({"rooms": ["lobby"], "timeout": 1}))
            .unwrap()
            .status,
        200
    );
    assert_eq!(m.get("/room/lobby/messages/recent").unwrap().status, 403);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(m.get("/room/lobby/messages/recent").unwrap().status, 200);
    // Per-user permissions: no write.
    let r = o.json("POST", &format!("/room/lobby/permissions/{msid}"), &json!({"write": false})).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(post(&m, "lobby", "muted").0, 403);
    assert_eq!(body(&m.get("/room/lobby").unwrap())["write"], json!(false));
    // A scheduled change gives it back.
    let r = o
        .json("POST", &format!("/room/lobby/futurePermissions/{msid}"), &json!({"in": 0, "write": true}))
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(body(&o.get("/room/lobby/futurePermissions").unwrap()).as_array().unwrap().len(), 1);
    assert!(
        eventually(Duration::from_secs(25), || body(&m.get("/room/lobby").unwrap())["write"] == json!(true))
    );
    // Appointing a moderator needs an admin; a hidden one is shown only to moderators.
    let mod_id = Identity::generate();
    let md = s.client(&mod_id);
    let mdsid = md.pubkey_hex().unwrap();
    assert_eq!(
        m.json("POST", &format!("/user/{mdsid}/moderator"), &json!({"rooms": ["lobby"], "moderator": true}))
            .unwrap()
            .status,
        403
    );
    let r = o
        .json(
            "POST",
            &format!("/user/{mdsid}/moderator"),
            &json!({"rooms": ["lobby"], "moderator": true, "visible": false}),
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(body(&r)["info_updates"]["lobby"].is_number());
    assert_eq!(body(&o.get("/room/lobby").unwrap())["hidden_moderators"], json!([mdsid]));
    assert!(body(&m.get("/room/lobby").unwrap()).get("hidden_moderators").is_none());
    // A moderator cannot ban an admin, nor themselves.
    assert_eq!(
        md.json("POST", &format!("/user/{}/ban", o.pubkey_hex().unwrap()), &json!({"rooms": ["lobby"]}))
            .unwrap()
            .status,
        403
    );
    assert_eq!(
        md.json("POST", &format!("/user/{mdsid}/ban"), &json!({"rooms": ["lobby"]})).unwrap().status,
        403
    );
    // Moderators delete others' posts and clear reactions.
    let (_, msg) = post(&m, "lobby", "rude");
    let id = msg["id"].as_i64().unwrap();
    assert_eq!(md.request("DELETE", &format!("/room/lobby/message/{id}"), b"", "", &[]).unwrap().status, 200);
    // Bad moderation bodies: 400; unknown room: 404.
    assert_eq!(o.json("POST", &format!("/user/{msid}/ban"), &json!({})).unwrap().status, 400);
    assert_eq!(
        o.json("POST", &format!("/user/{msid}/ban"), &json!({"rooms": ["nope"]})).unwrap().status,
        404
    );
}

#[test]
fn a_global_ban_is_403_before_the_signature_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let root = Identity::generate();
    ok_admin(dir.path(), &["--add-room", "r"]);
    ok_admin(dir.path(), &["--rooms", "+", "--add-moderators", &root.session_id().to_string(), "--admin"]);
    let listed = ok_admin(dir.path(), &["-M"]);
    assert_eq!(listed["global_moderators"][0]["admin"], json!(true));
    let s = Server::start(dir.path(), &[]);
    let o = s.client(&root);
    let victim = Identity::generate();
    let v = s.client(&victim);
    let vsid = v.pubkey_hex().unwrap();
    assert_eq!(v.get("/rooms").unwrap().status, 200);
    let r = o.json("POST", &format!("/user/{vsid}/ban"), &json!({"global": true})).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(v.get("/rooms").unwrap().status, 403);
    // Even with a bad signature: the ban is checked first.
    let mut hs = raw_headers(&s, &victim, "GET", "/rooms", [9; 16], now());
    hs[3].1 = B64.encode([0u8; 64]);
    assert_eq!(send(&s, "GET", "/rooms", &hs), 403);
    assert_eq!(o.json("POST", &format!("/user/{vsid}/unban"), &json!({"global": true})).unwrap().status, 200);
    assert_eq!(v.get("/rooms").unwrap().status, 200);
}

#[test]
fn room_files_upload_download_and_claims() {
    let (_dir, s, owner) = setup();
    let a = s.client(&Identity::generate());
    let bytes = b"\x00\x01binary attachment\xff".to_vec();
    let r = a
        .request(
            "POST",
            "/room/lobby/file",
            &bytes,
            "application/octet-stream",
            &[(
                "Content-Disposition",
                "attachment; filename=\"x\"; filename*=UTF-8''%F0%9F%8D%86.bin".to_string(),
            )],
        )
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let id = body(&r)["id"].as_i64().unwrap();
    let got = http().get(format!("{}/room/lobby/file/{id}", s.url)).send().unwrap();
    assert_eq!(got.status(), 200);
    let cd = got.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(cd.contains("filename*=UTF-8''%F0%9F%8D%86.bin"), "{cd}");
    assert_eq!(got.bytes().unwrap().to_vec(), bytes);
    assert_eq!(http().get(format!("{}/room/lobby/file/{}", s.url, id + 100)).send().unwrap().status(), 404);
    assert_eq!(
        a.request("POST", "/room/lobby/file", b"", "application/octet-stream", &[]).unwrap().status,
        400
    );
    // A post claims it; a room image too.
    let (mut b, _) = post_body(&a, "with a file");
    b["files"] = json!([id]);
    assert_eq!(a.json("POST", "/room/lobby/message", &b).unwrap().status, 201);
    let o = s.client(&owner);
    let r = o.request("POST", "/room/lobby/file", b"png", "application/octet-stream", &[]).unwrap();
    let img = body(&r)["id"].as_i64().unwrap();
    assert_eq!(o.json("PUT", "/room/lobby", &json!({"image": img})).unwrap().status, 200);
    assert_eq!(body(&s.anon().get("/room/lobby").unwrap())["image_id"], json!(img));
}

#[test]
fn blinded_dms_inbox_outbox_and_304() {
    let (_dir, s, _owner) = setup();
    let a = s.client(&Identity::generate());
    let b = s.client(&Identity::generate());
    let bsid = b.pubkey_hex().unwrap();
    // Unknown recipient: 404 (b has never made a request).
    let r = a.json("POST", &format!("/inbox/{bsid}"), &json!({"message": B64.encode(b"hi")})).unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(body(&b.get("/inbox").unwrap()), json!([]));
    let r = a.json("POST", &format!("/inbox/{bsid}"), &json!({"message": B64.encode(b"hi")})).unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let sent = body(&r);
    assert_eq!(sent["recipient"], json!(bsid));
    assert!(sent.get("message").is_none());
    let inbox = body(&b.get("/inbox").unwrap());
    assert_eq!(inbox[0]["message"], json!(B64.encode(b"hi")));
    assert_eq!(inbox[0]["sender"], json!(a.pubkey_hex().unwrap()));
    let last = inbox[0]["id"].as_i64().unwrap();
    assert_eq!(b.get(&format!("/inbox/since/{last}")).unwrap().status, 304);
    assert_eq!(body(&a.get("/outbox").unwrap()).as_array().unwrap().len(), 1);
    assert_eq!(a.json("POST", &format!("/inbox/{bsid}"), &json!({})).unwrap().status, 400);
    assert_eq!(s.anon().get("/inbox").unwrap().status, 401);
    assert_eq!(body(&b.request("DELETE", "/inbox", b"", "", &[]).unwrap())["deleted"], json!(1));
}

#[test]
fn batch_and_sequence() {
    let (_dir, s, _owner) = setup();
    let a = s.client(&Identity::generate());
    let (pb, _) = post_body(&a, "batched");
    let reqs = json!([
        {"method": "GET", "path": "/capabilities"},
        {"method": "POST", "path": "/room/lobby/message", "json": pb},
        {"method": "GET", "path": "/room/nope"},
        {"method": "GET", "path": "/room/lobby/messages/recent?limit=1"},
    ]);
    let r = a.json("POST", "/batch", &reqs).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let out = body(&r);
    let codes: Vec<i64> = out.as_array().unwrap().iter().map(|x| x["code"].as_i64().unwrap()).collect();
    assert_eq!(codes, [200, 201, 404, 200]);
    assert_eq!(out[3]["body"].as_array().unwrap().len(), 1);
    assert_eq!(out[0]["headers"]["content-type"], json!("application/json"));
    let r = a.json("POST", "/sequence", &reqs).unwrap();
    let codes: Vec<i64> = body(&r).as_array().unwrap().iter().map(|x| x["code"].as_i64().unwrap()).collect();
    assert_eq!(codes, [200, 201, 404], "stops after the first non-2xx, included");
    assert_eq!(a.json("POST", "/batch", &json!({"not": "a list"})).unwrap().status, 400);
}

#[test]
fn the_admin_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let v =
        ok_admin(d, &["--add-room", "bitcoin", "--name", "Bitcoin Chat", "--description", "Talk about BTC!"]);
    assert_eq!(v["name"], "Bitcoin Chat");
    let (code, _, err) = admin(d, &["--add-room", "bitcoin"]);
    assert_eq!(code, 1, "{err}");
    let (code, _, _) = admin(d, &["--add-room", "bad token"]);
    assert_eq!(code, 2);
    let sid = Identity::generate().session_id().to_string();
    ok_admin(d, &["--rooms", "+", "--add-moderators", &sid, "--admin", "--visible"]);
    assert_eq!(ok_admin(d, &["-M"])["global_moderators"][0]["session_id"], json!(sid));
    ok_admin(d, &["--rooms", "*", "--add-moderators", &sid]);
    assert_eq!(ok_admin(d, &["-L"])["rooms"][0]["moderators"], json!([sid]));
    ok_admin(d, &["--rooms", "bitcoin", "--delete-moderators", &sid]);
    ok_admin(d, &["--rooms", "bitcoin", "--remove-perms", "w"]);
    assert_eq!(ok_admin(d, &["--list-rooms"])["rooms"][0]["default_write"], json!(false));
    ok_admin(d, &["--rooms", "bitcoin", "--add-perms", "w", "--users", &sid]);
    ok_admin(d, &["--rooms", "bitcoin", "--clear-perms", "rwua", "--users", &sid]);
    let (code, _, _) = admin(d, &["--rooms", "bitcoin", "--add-perms", "xyz"]);
    assert_eq!(code, 2);
    let (code, _, _) = admin(d, &["--rooms", "bitcoin", "--add-moderators", "05nothex"]);
    assert_eq!(code, 2);
    let (code, _, _) = admin(d, &[]);
    assert_eq!(code, 2);
    // SOGS_DIR is the default directory.
    let out = Command::new(env!("CARGO_BIN_EXE_sogs")).arg("-L").env("SOGS_DIR", d).output().unwrap();
    assert!(out.status.success());
    assert_eq!(ok_admin(d, &["--delete-room", "bitcoin"])["deleted"], "bitcoin");
    assert_eq!(ok_admin(d, &["-L"])["rooms"], json!([]));
    // Safe while the server runs: a room added now is served at once.
    let s = Server::start(d, &[]);
    ok_admin(d, &["--add-room", "live"]);
    assert_eq!(s.anon().get("/room/live").unwrap().status, 200);
}

#[test]
fn the_rest_api_with_bearer_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let tok = ok_admin(dir.path(), &["--add-token", "ci"])["token"].as_str().unwrap().to_string();
    let s = Server::start(dir.path(), &[]);
    let h = http();
    let call = |m: &str, path: &str, token: &str, b: Option<Value>| {
        let mut r = h
            .request(m.parse().unwrap(), format!("{}{path}", s.url))
            .header("Authorization", format!("Bearer {token}"));
        if let Some(b) = b {
            r = r.header("Content-Type", "application/json").body(b.to_string());
        }
        let r = r.send().unwrap();
        let st = r.status().as_u16();
        (st, serde_json::from_slice::<Value>(&r.bytes().unwrap()).unwrap_or(Value::Null))
    };
    assert_eq!(call("GET", "/room/x", "wrong", None).0, 401);
    assert_eq!(call("GET", "/room/x", "", None).0, 401);
    let (st, room) =
        call("POST", "/room", &tok, Some(json!({"token": "news", "name": "News", "description": "d"})));
    assert_eq!(st, 201, "{room}");
    assert_eq!(room["name"], "News");
    assert_eq!(call("POST", "/room", &tok, Some(json!({"token": "news"}))).0, 409);
    assert_eq!(call("PUT", "/room/news", &tok, Some(json!({"name": "World News"}))).1["name"], "World News");
    let (st, msg) = call("POST", "/room/news/message", &tok, Some(json!({"content": "hello <world>"})));
    assert_eq!(st, 201, "{msg}");
    assert_eq!(msg["content"], "hello <world>");
    // Signed by the server's own key.
    let ed: [u8; 32] = hex::decode(s.ready["pubkey_ed25519"].as_str().unwrap()).unwrap().try_into().unwrap();
    let data = B64.decode(msg["data"].as_str().unwrap()).unwrap();
    let sig: [u8; 64] = B64.decode(msg["signature"].as_str().unwrap()).unwrap().try_into().unwrap();
    assert!(snkit::sogs_formats::verify(&ed, &data, &sig));
    // The apps read it too.
    assert_eq!(text_of(&body(&s.anon().get("/room/news/messages/recent").unwrap())[0]), "hello <world>");
    let (_, list) = call("GET", "/room/news/messages?since=0", &tok, None);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let sid = Identity::generate().session_id().to_string();
    assert_eq!(call("POST", "/room/news/ban", &tok, Some(json!({"session_id": sid}))).0, 200);
    assert_eq!(call("GET", "/room/news/bans", &tok, None).1.as_array().unwrap().len(), 1);
    assert_eq!(call("DELETE", &format!("/room/news/ban/{sid}"), &tok, None).0, 200);
    assert_eq!(call("GET", "/room/news/bans", &tok, None).1, json!([]));
    // Multipart upload, then download.
    let boundary = "XyZ";
    let mp = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nfile body\r\n--{boundary}--\r\n"
    );
    let r = h
        .post(format!("{}/room/news/upload", s.url))
        .header("Authorization", format!("Bearer {tok}"))
        .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
        .body(mp)
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = serde_json::from_slice::<Value>(&r.bytes().unwrap()).unwrap()["id"].as_i64().unwrap();
    let got = h
        .get(format!("{}/file/{id}", s.url))
        .header("Authorization", format!("Bearer {tok}"))
        .send()
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.text().unwrap(), "file body");
    let mid = msg["id"].as_i64().unwrap();
    assert_eq!(call("DELETE", &format!("/room/news/message/{mid}"), &tok, None).0, 200);
    assert_eq!(call("DELETE", "/room/news", &tok, None).0, 200);
    assert_eq!(call("GET", "/room/news", &tok, None).0, 404);
    // A revoked token is refused.
    ok_admin(dir.path(), &["--revoke-token", "ci"]);
    assert_eq!(call("GET", "/room/news", &tok, None).0, 401);
}

#[test]
fn the_web_pages_list_rooms_and_show_the_join_url_qr_and_escaped_text() {
    let (_dir, s, _owner) = setup();
    let a = s.client(&Identity::generate());
    assert_eq!(post(&a, "lobby", "<script>alert(1)</script> & hi").0, 201);
    let index = http().get(format!("{}/", s.url)).send().unwrap().text().unwrap();
    assert!(index.contains("href=\"/r/lobby/\""), "{index}");
    let page = http().get(format!("{}/r/lobby/", s.url)).send().unwrap();
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = page.text().unwrap();
    let join = format!("{}/lobby?public_key={}", s.url, hex::encode(s.pk));
    assert!(page.contains(&join), "join URL missing");
    assert!(page.contains("<svg"), "QR code missing");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; hi"));
    assert!(!page.contains("<script>alert"));
    assert_eq!(http().get(format!("{}/r/nope/", s.url)).send().unwrap().status(), 404);
}

#[test]
fn a_restart_after_kill_9_loses_nothing_acknowledged() {
    let (dir, mut s, owner) = setup();
    let o = s.client(&owner);
    let mut ids = Vec::new();
    for i in 0..20 {
        let (st, m) = post(&o, "lobby", &format!("durable {i}"));
        assert_eq!(st, 201);
        ids.push(m["id"].as_i64().unwrap());
    }
    s.kill9();
    let s2 = Server::start(dir.path(), &[]);
    assert_eq!(s2.pk, s.pk, "same key after restart");
    let got = body(&s2.anon().get("/room/lobby/messages/since/0?limit=256").unwrap());
    let got: Vec<i64> = got.as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(got, ids);
}

#[test]
fn sigterm_stops_it_cleanly() {
    let (_dir, mut s, _owner) = setup();
    let pid = rustix::process::Pid::from_raw(s.child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let mut status = None;
    assert!(eventually(Duration::from_secs(10), || {
        status = s.child.try_wait().unwrap();
        status.is_some()
    }));
    assert!(status.unwrap().success(), "{status:?}");
}

fn raw(addr: &str, bytes: &[u8]) -> Option<u16> {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = tcp.write_all(bytes);
    let _ = tcp.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    text.strip_prefix("HTTP/1.1 ").and_then(|rest| rest.get(..3)).and_then(|c| c.parse().ok())
}

#[test]
fn a_barrage_of_mangled_requests_never_gets_a_5xx() {
    let (_dir, s, owner) = setup();
    let addr = s.addr();
    let o = s.client(&owner);
    let (_, m) = post(&o, "lobby", "target");
    let id = m["id"].as_i64().unwrap();
    let good = raw_headers(&s, &owner, "GET", "/rooms", [5; 16], now());
    let hdr = |i: usize, v: &str| {
        let mut h = good.clone();
        h[i].1 = v.to_string();
        h.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect::<String>()
    };
    let mut cases: Vec<Vec<u8>> = vec![
        b"GARBAGE\r\n\r\n".to_vec(),
        b"GET /room/%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /room/lobby/messages/since/-1 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /room/lobby/messages/since/99999999999999999999999 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /room/lobby/messages/recent?limit=abc HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /room/lobby/messages/recent?limit=-5 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        format!("GET /room/lobby/message/{id}/../../x HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes(),
        b"POST /batch HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n[1,2]".to_vec(),
        b"POST /sequence HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n[]".to_vec(),
        b"POST /batch HTTP/1.1\r\nHost: x\r\nContent-Length: 45\r\n\r\n[{\"method\":\"GET\",\"path\":\"/batch\",\"b64\":7}]".to_vec(),
        b"PUT /room/lobby HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nnull".to_vec(),
        b"POST /room/lobby/message HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{{{".to_vec(),
        b"POST /room HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"POST /room/x/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc\r\nContent-Type: multipart/form-data\r\nContent-Length: 3\r\n\r\nabc".to_vec(),
        b"POST /inbox/15zz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
        format!("GET /rooms HTTP/1.1\r\nHost: x\r\n{}\r\n", hdr(0, "15")).into_bytes(),
        format!("GET /rooms HTTP/1.1\r\nHost: x\r\n{}\r\n", hdr(0, &format!("15{}", "00".repeat(32)))).into_bytes(),
        format!("GET /rooms HTTP/1.1\r\nHost: x\r\n{}\r\n", hdr(0, &format!("99{}", "ab".repeat(32)))).into_bytes(),
        format!("GET /rooms HTTP/1.1\r\nHost: x\r\n{}\r\n", hdr(1, "!!!!")).into_bytes(),
        format!("GET /rooms HTTP/1.1\r\nHost: x\r\n{}\r\n", hdr(2, "99999999999999999999999999")).into_bytes(),
        format!("GET /rooms HTTP/1.1\r\nHost: x\r\n{}\r\n", hdr(2, "-9223372036854775808")).into_bytes(),
        format!("GET /rooms HTTP/1.1\r\nHost: x\r\n{}\r\n", hdr(3, "AAAA")).into_bytes(),
        format!("GET /room/lobby/reaction/{id}/{} HTTP/1.1\r\nHost: x\r\n\r\n", "%F0".repeat(40)).into_bytes(),
        format!("GET /r/{}/ HTTP/1.1\r\nHost: x\r\n\r\n", "A".repeat(10_000)).into_bytes(),
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec(),
    ];
    let mut seed = 0x1234_5678_u64;
    while cases.len() < 200 {
        let n = cases.len();
        let mut junk = Vec::new();
        for _ in 0..(1 + n * 7 % 300) {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            junk.push((seed >> 33) as u8);
        }
        let paths = ["/room/lobby/message", "/batch", "/user/15ab/ban", "/room/lobby/file", "/inbox/15ab"];
        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            paths[n % paths.len()],
            junk.len()
        )
        .into_bytes();
        head.append(&mut junk);
        cases.push(head);
    }
    for (i, case) in cases.iter().enumerate() {
        if let Some(code) = raw(&addr, case) {
            assert!(
                code < 500,
                "case {i} got {code}: {:?}",
                String::from_utf8_lossy(&case[..case.len().min(160)])
            );
        }
    }
    assert_eq!(s.anon().get(&format!("/room/lobby/message/{id}")).unwrap().status, 200, "still serving");
}
