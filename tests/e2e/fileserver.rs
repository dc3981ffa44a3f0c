//! The file server against a real `fileserver` process on a free loopback port: the routes,
//! statuses and JSON of attachments.md §5, expiry, dedupe, refusals that leave nothing on disk,
//! `kill -9` right after a 200 and in the middle of an upload, and a barrage of mangled requests.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{Daemon, eventually, http, rss_kib};

/// The server's size cap (formats/limits.rs FILESERVER_MAX_FILE_BYTES).
const MAX: usize = 10_223_616;

/// A running `fileserver serve`, SIGKILLed when dropped. Its log goes to the test's stderr at
/// the level `FS_LOG` names (default warn).
pub(crate) struct Server(Daemon);

impl Server {
    pub(crate) fn start(dir: &Path, extra: &[&str]) -> Self {
        Self(Daemon::start(env!("CARGO_BIN_EXE_fileserver"), dir, "FS_LOG", extra))
    }
}

impl std::ops::Deref for Server {
    type Target = Daemon;
    fn deref(&self) -> &Daemon {
        &self.0
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Daemon {
        &mut self.0
    }
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn random_bytes(n: usize) -> Vec<u8> {
    (0..n).map(|_| rand::random::<u8>()).collect()
}

/// POST /file; returns status, content-type and body (JSON or a string).
fn upload(url: &str, body: &[u8], ttl: Option<&str>) -> (u16, String, Value) {
    let mut req = http().post(format!("{url}/file")).body(body.to_vec());
    if let Some(t) = ttl {
        req = req.header("X-FS-TTL", t);
    }
    let r = req.send().unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let text = r.text().unwrap();
    (status, ct, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn get(url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = http().get(url).send().unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().unwrap().to_vec())
}

fn json_of(url: &str, method: &str, ttl: Option<&str>) -> (u16, Value) {
    let mut req = if method == "POST" { http().post(url) } else { http().get(url) };
    if let Some(t) = ttl {
        req = req.header("X-FS-TTL", t);
    }
    let r = req.send().unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn rows(dir: &Path) -> i64 {
    let db = rusqlite::Connection::open_with_flags(
        dir.join("index.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    db.query_row("SELECT count(*) FROM files", [], |r| r.get(0)).unwrap()
}

#[test]
fn round_trip_info_extend_and_the_ready_line() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    assert_eq!(s.ready["pubkey"].as_str().unwrap().len(), 64);
    assert_eq!(s.ready["pubkey_ed25519"].as_str().unwrap().len(), 64);
    let key = std::fs::metadata(dir.path().join("key.json")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&key.permissions()) & 0o777, 0o600);

    let body = random_bytes(300_001);
    let (status, ct, v) = upload(&s.url, &body, None);
    assert_eq!((status, ct.as_str()), (200, "application/json"), "{v}");
    let obj = v.as_object().unwrap();
    assert_eq!(obj.keys().collect::<Vec<_>>(), ["expires", "id"], "exactly id and expires: {v}");
    let id = v["id"].as_str().unwrap();
    assert_eq!(id.len(), 44);
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let expires = v["expires"].as_f64().unwrap();
    let now = crate::common::now_ms() as f64 / 1000.0;
    assert!((expires - (now + 14.0 * 86_400.0)).abs() < 60.0, "default TTL 14 days: {expires} vs {now}");

    let (status, headers, got) = get(&format!("{}/file/{id}", s.url));
    assert_eq!(status, 200);
    assert_eq!(sha(&got), sha(&body));
    assert_eq!(headers["content-type"], "application/octet-stream");
    let exp = headers["expires"].to_str().unwrap();
    assert!(exp.ends_with(" GMT") && exp.len() == 29, "RFC 1123: {exp}");

    let (status, info) = json_of(&format!("{}/file/{id}/info", s.url), "GET", None);
    assert_eq!(status, 200);
    assert_eq!(info["size"], 300_001);
    assert!(info["uploaded"].as_f64().unwrap() <= info["expires"].as_f64().unwrap());
    assert_eq!(info["expires"].as_f64().unwrap(), expires);

    // Extend never shortens; a shorter TTL leaves the expiry where it was.
    let (status, short) = json_of(&format!("{}/file/{id}/extend", s.url), "POST", Some("60"));
    assert_eq!(status, 200, "{short}");
    assert_eq!(short["expires"].as_f64().unwrap(), expires);
    assert_eq!(short["size"], 300_001);
    assert_eq!(short["uploaded"], info["uploaded"], "extend keeps the upload time");
    std::thread::sleep(Duration::from_millis(20));
    let (status, long) = json_of(&format!("{}/file/{id}/extend", s.url), "POST", None);
    assert_eq!(status, 200);
    assert!(long["expires"].as_f64().unwrap() > expires, "{long}");
}

#[test]
fn ttl_one_second_is_gone_after_two_and_cleaned_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let (status, _, v) = upload(&s.url, b"short-lived", Some("1"));
    assert_eq!(status, 200, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(get(&format!("{}/file/{id}", s.url)).0, 404);
    let (status, body) = json_of(&format!("{}/file/{id}/info", s.url), "GET", None);
    assert_eq!((status, body), (404, serde_json::json!({"status_code": 404})));
    assert!(
        eventually(Duration::from_secs(10), || entries(&dir.path().join("files")).is_empty()),
        "the cleaner removes the expired file"
    );
    assert!(eventually(Duration::from_secs(5), || rows(dir.path()) == 0));
}

#[test]
fn the_same_bytes_twice_keep_one_file_and_the_later_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let body = random_bytes(5000);
    let (_, _, a) = upload(&s.url, &body, Some("1000"));
    let (_, _, b) = upload(&s.url, &body, Some("10"));
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["expires"], b["expires"], "a shorter re-upload does not shorten");
    let (_, _, c) = upload(&s.url, &body, Some("5000"));
    assert_eq!(a["id"], c["id"]);
    assert!(c["expires"].as_f64().unwrap() > a["expires"].as_f64().unwrap());
    assert_eq!(entries(&dir.path().join("files")).len(), 1);
    assert_eq!(rows(dir.path()), 1);
    let (_, _, other) = upload(&s.url, &random_bytes(5000), None);
    assert_ne!(other["id"], a["id"]);
}

#[test]
fn refusals_answer_json_statuses_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let e413 = serde_json::json!({"status_code": 413});
    let (status, ct, v) = upload(&s.url, b"", None);
    assert_eq!((status, ct.as_str(), &v), (413, "application/json", &e413));
    // Size is judged before the TTL, as the live server does.
    assert_eq!(upload(&s.url, b"", Some("abc")).0, 413);
    // Over the cap: refused the moment it is known, so read the answer on a raw connection (an
    // HTTP client still sending the body would see the closed connection first). A declared
    // length over the cap is refused before a byte of the body is sent...
    let head = format!("POST /file HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", MAX + 1);
    let reply = raw_reply(&s.addr(), head.as_bytes(), &[]);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.ends_with("{\"status_code\": 413}"), "{reply}");
    // ...and a chunked body the moment its running size passes the cap.
    let mut chunks = Vec::new();
    let piece = vec![7u8; 1 << 20];
    let mut sent = 0;
    while sent <= MAX {
        let n = piece.len().min(MAX + 1 - sent);
        chunks.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        chunks.extend_from_slice(&piece[..n]);
        chunks.extend_from_slice(b"\r\n");
        sent += n;
    }
    let head = "POST /file HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    let reply = raw_reply(&s.addr(), head.as_bytes(), &chunks);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    // Exactly the cap is accepted.
    let (status, _, v) = upload(&s.url, &vec![8u8; MAX], None);
    assert_eq!(status, 200, "{v}");
    let cap_id = v["id"].as_str().unwrap().to_string();
    for bad in ["abc", "-1", "30.5", "1e3", "", "1209601"] {
        let (status, _, v) = upload(&s.url, b"some bytes", Some(bad));
        assert_eq!((status, v), (400, serde_json::json!({"status_code": 400})), "X-FS-TTL {bad:?}");
    }
    assert_eq!(upload(&s.url, b"ttl zero", Some("0")).0, 200, "0 is a valid TTL");
    let (status, v) = json_of(&format!("{}/file/{cap_id}/extend", s.url), "POST", Some("x"));
    assert_eq!((status, v), (400, serde_json::json!({"status_code": 400})));
    for id in ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "12345", "..", "%2e%2e", "a.b"] {
        assert_eq!(get(&format!("{}/file/{id}", s.url)).0, 404, "{id}");
        assert_eq!(json_of(&format!("{}/file/{id}/info", s.url), "GET", None).0, 404, "{id}");
        assert_eq!(json_of(&format!("{}/file/{id}/extend", s.url), "POST", None).0, 404, "{id}");
    }
    assert!(entries(&dir.path().join("tmp")).is_empty());
    // The cap-sized file and the TTL-0 file; nothing of the refused ones.
    assert_eq!(entries(&dir.path().join("files")).len(), 2);
    assert_eq!(rows(dir.path()), 2);
}

#[test]
fn compat_ids_are_integers_below_2_pow_53_and_cannot_be_extended() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &["--compat-ids"]);
    let (status, _, a) = upload(&s.url, b"same", None);
    assert_eq!(status, 200);
    let (_, _, b) = upload(&s.url, b"same", None);
    let id: u64 = a["id"].as_str().unwrap().parse().unwrap();
    assert!(id < 1u64 << 53);
    assert_ne!(a["id"], b["id"], "no dedupe in compat mode");
    let (status, _, got) = get(&format!("{}/file/{id}", s.url));
    assert_eq!((status, got.as_slice()), (200, &b"same"[..]));
    assert_eq!(json_of(&format!("{}/file/{id}/info", s.url), "GET", None).0, 200);
    assert_eq!(json_of(&format!("{}/file/{id}/extend", s.url), "POST", None).0, 404);
}

#[test]
fn kill_9_right_after_a_200_keeps_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(dir.path(), &[]);
    let body = random_bytes(1_000_003);
    let (status, _, v) = upload(&s.url, &body, None);
    assert_eq!(status, 200);
    s.kill9();
    let s = Server::start(dir.path(), &[]);
    let (status, _, got) = get(&format!("{}/file/{}", s.url, v["id"].as_str().unwrap()));
    assert_eq!(status, 200);
    assert_eq!(sha(&got), sha(&body));
}

#[test]
fn kill_9_mid_upload_leaves_no_row_and_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(dir.path(), &[]);
    let mut tcp = TcpStream::connect(s.addr()).unwrap();
    let total = 1_000_000;
    write!(tcp, "POST /file HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n").unwrap();
    tcp.write_all(&random_bytes(total / 2)).unwrap();
    tcp.flush().unwrap();
    let tmp = dir.path().join("tmp");
    assert!(
        eventually(Duration::from_secs(10), || entries(&tmp)
            .iter()
            .any(|p| std::fs::metadata(p).map(|m| m.len() > 0).unwrap_or(false))),
        "the half body is streaming into a temporary file"
    );
    s.kill9();
    assert!(!entries(&tmp).is_empty(), "the crash left the temporary file behind");
    drop(tcp);
    let s = Server::start(dir.path(), &[]);
    assert!(entries(&tmp).is_empty(), "start-up removed it");
    assert!(entries(&dir.path().join("files")).is_empty());
    assert_eq!(rows(dir.path()), 0);
    assert_eq!(upload(&s.url, b"still serving", None).0, 200);
}

/// Sends `head` then `body` (without closing the sending side) and returns the reply as text.
fn raw_reply(addr: &str, head: &[u8], body: &[u8]) -> String {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(head).unwrap();
    let _ = tcp.write_all(body);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = tcp.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends raw bytes on a fresh connection; returns the status of the reply, if one came.
fn raw(addr: &str, bytes: &[u8]) -> Option<u16> {
    let mut tcp = TcpStream::connect(addr).unwrap();
    // Generous: an fsync on a disk shared with busy builds can take seconds.
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
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let addr = s.addr();
    let (_, _, good) = upload(&s.url, b"a real file", None);
    let id = good["id"].as_str().unwrap().to_string();
    let mut cases: Vec<Vec<u8>> = vec![
        b"GARBAGE\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        b"GET /file/ HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /file/../key.json HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /file/%2e%2e%2fkey.json HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /file/%00 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /file/%ff%fe/info HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"DELETE /file HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /file/x/extend HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"POST /file HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nxyz".to_vec(),
        b"POST /file HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\nxyz".to_vec(),
        b"POST /file HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nshort".to_vec(),
        b"POST /file HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbad\r\n".to_vec(),
        b"POST /file HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            .to_vec(),
        b"POST /file HTTP/1.1\r\nHost: x\r\nX-FS-TTL: \xff\xfe\r\nContent-Length: 3\r\n\r\nabc".to_vec(),
        b"POST /file HTTP/1.1\r\nHost: x\r\nX-FS-TTL: 1\r\nX-FS-TTL: 2\r\nContent-Length: 3\r\n\r\nabc".to_vec(),
        format!("POST /file/{id}/extend HTTP/1.1\r\nHost: x\r\nX-FS-TTL: 99999999999999999999\r\n\r\n").into_bytes(),
        format!("GET /file/{id}?x=%zz HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes(),
        format!("GET /file/{}{} HTTP/1.1\r\nHost: x\r\n\r\n", id, "A".repeat(10_000)).into_bytes(),
        format!("GET /file/{id} HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(100_000)).into_bytes(),
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec(),
    ];
    while cases.len() < 200 {
        let n = cases.len();
        let mut junk = random_bytes(1 + n * 7 % 500);
        if n.is_multiple_of(3) {
            let mut head =
                format!("POST /file HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", junk.len() + n % 5)
                    .into_bytes();
            head.append(&mut junk);
            junk = head;
        } else if n % 3 == 1 {
            let mut head =
                format!("GET /file/{} HTTP/1.1\r\n", String::from_utf8_lossy(&junk[..junk.len().min(20)]))
                    .into_bytes();
            head.extend_from_slice(b"\r\n");
            junk = head;
        }
        cases.push(junk);
    }
    for (i, case) in cases.iter().enumerate() {
        if let Some(code) = raw(&addr, case) {
            assert!(
                code < 500,
                "case {i} got {code}: {:?}",
                String::from_utf8_lossy(&case[..case.len().min(120)])
            );
        }
    }
    let (status, _, got) = get(&format!("{}/file/{id}", s.url));
    assert_eq!((status, got.as_slice()), (200, &b"a real file"[..]), "still serving");
    // A broken-off upload's temporary file goes when its handler sees the connection end.
    assert!(eventually(Duration::from_secs(30), || entries(&dir.path().join("tmp")).is_empty()));
}

#[test]
fn sigterm_stops_it_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(dir.path(), &[]);
    assert_eq!(upload(&s.url, b"x", None).0, 200);
    let pid = rustix::process::Pid::from_raw(s.child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let mut status = None;
    assert!(eventually(Duration::from_secs(10), || {
        status = s.child.try_wait().unwrap();
        status.is_some()
    }));
    assert!(status.unwrap().success(), "{status:?}");
}

#[test]
fn a_cap_sized_upload_and_download_stream_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    // Warm up the connection handling, the runtime's threads and the blocking pool first.
    let (_, _, warm) = upload(&s.url, &random_bytes(200_000), None);
    let _ = get(&format!("{}/file/{}", s.url, warm["id"].as_str().unwrap()));
    let before = rss_kib(s.child.id());
    let body = random_bytes(MAX);
    let (status, _, v) = upload(&s.url, &body, None);
    assert_eq!(status, 200, "{v}");
    let (status, _, got) = get(&format!("{}/file/{}", s.url, v["id"].as_str().unwrap()));
    assert_eq!(status, 200);
    assert_eq!(sha(&got), sha(&body));
    let after = rss_kib(s.child.id());
    let grew = after.saturating_sub(before);
    eprintln!("fileserver RSS: {before} KiB before, {after} KiB after a {MAX}-byte upload and download");
    assert!(grew < 4 * 1024, "RSS grew by {grew} KiB");
}
