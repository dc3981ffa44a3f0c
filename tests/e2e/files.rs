//! `upload`, `download`, `fileinfo`, `extend` and files in messages, against a real `fileserver`
//! (directly, and through onion v4 requests relayed by real `snode`s), plus the bounded memory
//! of `attach` on a 1 GiB file.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{Testnet, bin, cmd, http};
use crate::fileserver::Server;

fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let out = cmd("keygen").arg("-o").arg(&path).output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    (path, v["session_id"].as_str().unwrap().to_string())
}

fn sha_file(p: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(p).unwrap()))
}

fn random_file(path: &Path, n: usize) {
    std::fs::write(path, (0..n).map(|_| rand::random::<u8>()).collect::<Vec<_>>()).unwrap();
}

/// Runs a command in `dir`; on success returns its stdout lines as JSON.
fn ok(dir: &Path, name: &str, args: &[&str]) -> Vec<Value> {
    let out = cmd(name).current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "{name} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name} printed {l:?}: {e}")))
        .collect()
}

/// Runs a command in `dir` (stdin: `input`) that must fail with `code` and one stderr line
/// (plus at most a hint); returns the error line.
fn fails(dir: &Path, name: &str, args: &[&str], input: &[u8], code: i32) -> String {
    let out = cmd(name).current_dir(dir).args(args).write_stdin(input.to_vec()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "{name} {args:?}: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        (1..=2).contains(&lines.len()) && lines[0].starts_with(&format!("{name}: error: ")),
        "{name} {args:?} stderr: {err:?}"
    );
    assert!(lines.len() == 1 || lines[1].starts_with("hint: "), "{err:?}");
    assert!(out.stdout.is_empty(), "{name} {args:?} printed {:?}", String::from_utf8_lossy(&out.stdout));
    lines[0].to_string()
}

/// Names in `dir`, hidden ones (temporary files) included.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn direct_round_trips_info_extend_and_dir_downloads() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let s = Server::start(&d.join("fs"), &[]);
    let key = s.ready["pubkey"].as_str().unwrap().to_string();
    let srv = ["--direct", "--fileserver", s.url.as_str(), "--fileserver-key", key.as_str()];
    let (alice, _) = keygen(d, "alice.json");
    random_file(&d.join("photo.jpg"), 70_000);
    random_file(&d.join("doc.pdf"), 1234);

    let mut args = vec!["photo.jpg", "--identity", alice.to_str().unwrap()];
    args.extend(srv);
    let p = ok(d, "upload", &args).remove(0);
    assert!(p["url"].as_str().unwrap().starts_with(&format!("{}/file/", s.url)), "{p}");
    assert!(p["url"].as_str().unwrap().ends_with(&format!("#d&p={key}")), "{p}");
    assert_eq!(p["size"], 70_000);
    assert_eq!(p["content_type"], "image/jpeg");
    assert_eq!(p["file_name"], "photo.jpg");
    assert_eq!(p["key"].as_str().unwrap().len(), 64);
    assert!(p.get("digest").is_none());
    assert!(p["expires"].as_i64().unwrap() > (snkit::time::now_ms() / 1000) as i64 + 13 * 86_400);
    // The server holds only ciphertext: the blob is not the file.
    let id =
        p["url"].as_str().unwrap().split("/file/").nth(1).unwrap().split('#').next().unwrap().to_string();
    let blob = http().get(format!("{}/file/{id}", s.url)).send().unwrap().bytes().unwrap();
    assert_eq!(blob[0], b'S');
    assert_ne!(&blob[..], &std::fs::read(d.join("photo.jpg")).unwrap()[..]);
    std::fs::write(d.join("p.json"), p.to_string()).unwrap();

    // The same file again: the same blob, the same id (deterministic key, hash ids).
    assert_eq!(ok(d, "upload", &args)[0]["url"], p["url"]);

    let mut dl = vec!["p.json", "-o", "got.jpg"];
    dl.extend(srv);
    let got = ok(d, "download", &dl).remove(0);
    assert_eq!(got["scheme"], "stream");
    assert_eq!(got["sha256"], sha_file(&d.join("photo.jpg")));
    assert_eq!(sha_file(&d.join("got.jpg")), sha_file(&d.join("photo.jpg")));

    // Legacy: random keys, a digest; both pointers as NDJSON into a new --dir.
    let mut la = vec!["doc.pdf", "--scheme", "legacy"];
    la.extend(srv);
    let lp = ok(d, "upload", &la).remove(0);
    assert_eq!(lp["digest"].as_str().unwrap().len(), 64);
    assert!(!lp["url"].as_str().unwrap().contains("#d"));
    std::fs::write(d.join("both.ndjson"), format!("{p}\n{lp}\n")).unwrap();
    let mut dd = vec!["both.ndjson", "--dir", "inbox"];
    dd.extend(srv);
    let out = ok(d, "download", &dd);
    assert_eq!(out.len(), 2);
    assert_eq!(out[1]["scheme"], "legacy");
    assert_eq!(names(&d.join("inbox")), ["doc.pdf", "photo.jpg"]);
    assert_eq!(sha_file(&d.join("inbox/doc.pdf")), sha_file(&d.join("doc.pdf")));
    // Again: the files exist (exit 2, nothing changed); --force replaces them.
    fails(d, "download", &dd, b"", 2);
    dd.push("--force");
    assert_eq!(ok(d, "download", &dd).len(), 2);
    assert_eq!(names(&d.join("inbox")), ["doc.pdf", "photo.jpg"]);

    // fileinfo and extend (never shortens), by pointer file, URL and bare id.
    let mut fi = vec!["p.json"];
    fi.extend(srv);
    let info = ok(d, "fileinfo", &fi).remove(0);
    assert_eq!(info["id"], id.as_str());
    assert_eq!(info["size"], blob.len());
    let url = p["url"].as_str().unwrap();
    let mut ex = vec![url, "--ttl", "60"];
    ex.extend(srv);
    let after = ok(d, "extend", &ex).remove(0);
    assert_eq!(after["expires"], info["expires"], "a shorter TTL must not shorten the expiry");
    let mut ex2 = vec![id.as_str(), "--ttl", "1209600"];
    ex2.extend(srv);
    assert!(ok(d, "extend", &ex2)[0]["expires"].as_f64() >= info["expires"].as_f64());
}

#[test]
fn bad_inputs_exit_2_failures_exit_1_and_leave_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let s = Server::start(&d.join("fs"), &[]);
    let key = s.ready["pubkey"].as_str().unwrap().to_string();
    let srv = ["--direct", "--fileserver", s.url.as_str(), "--fileserver-key", key.as_str()];
    let (alice, _) = keygen(d, "alice.json");
    let alice = alice.to_str().unwrap();
    random_file(&d.join("f.bin"), 5000);
    let with = |a: &[&str]| -> Vec<String> { a.iter().chain(srv.iter()).map(|s| s.to_string()).collect() };
    let run_fails = |name: &str, args: &[String], input: &[u8], code: i32| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(d, name, &a, input, code)
    };

    // upload
    run_fails("upload", &with(&["missing.bin", "--identity", alice]), b"", 2);
    run_fails("upload", &with(&["fs", "--identity", alice]), b"", 2);
    let e = run_fails("upload", &with(&["f.bin"]), b"", 2);
    assert!(e.contains("--identity"), "{e}");
    run_fails("upload", &with(&["f.bin", "--scheme", "legacy", "--identity", "x.json"]), b"", 2);
    let bad_key =
        ["f.bin", "--scheme", "legacy", "--direct", "--fileserver", s.url.as_str(), "--fileserver-key", "zz"];
    fails(d, "upload", &bad_key, b"", 2);
    let e = fails(d, "upload", &["f.bin", "--scheme", "legacy", "--direct"], b"", 2);
    assert!(e.contains("no file server"), "{e}");
    run_fails("upload", &with(&["f.bin", "--scheme", "legacy", "--ttl", "-5"]), b"", 2);
    // A TTL the server refuses (over 14 days): 400 from the server, exit 1.
    let e = run_fails("upload", &with(&["f.bin", "--scheme", "legacy", "--ttl", "99999999"]), b"", 1);
    assert!(e.contains("400"), "{e}");
    // Over the apps' limit: refused before any request.
    let big = std::fs::File::create(d.join("big.bin")).unwrap();
    big.set_len(10_218_287).unwrap();
    let e = run_fails("upload", &with(&["big.bin", "--identity", alice]), b"", 2);
    assert!(e.contains("10218286") || e.contains("large") || e.contains("larger"), "{e}");
    // No server listening: exit 1.
    let dead = [
        "f.bin",
        "--scheme",
        "legacy",
        "--direct",
        "--fileserver",
        "http://127.0.0.1:9",
        "--fileserver-key",
        key.as_str(),
    ];
    fails(d, "upload", &dead, b"", 1);

    // download
    let args = with(&["f.bin", "--identity", alice]);
    let good = ok(d, "upload", &args.iter().map(String::as_str).collect::<Vec<_>>()).remove(0);
    run_fails("download", &with(&["-", "-o", "x"]), b"not json", 2);
    run_fails("download", &with(&["-", "-o", "x"]), b"", 2);
    run_fails("download", &with(&["-", "-o", "x"]), br#"{"url": 5}"#, 2);
    let mut no_scheme = good.clone();
    no_scheme["url"] = Value::from(good["url"].as_str().unwrap().split('#').next().unwrap());
    let e = run_fails("download", &with(&["-", "-o", "x"]), no_scheme.to_string().as_bytes(), 2);
    assert!(e.contains("digest"), "{e}");
    let two = format!("{good}\n{good}\n");
    run_fails("download", &with(&["-", "-o", "x"]), two.as_bytes(), 2);
    run_fails("download", &with(&["-", "--dir", "f.bin"]), good.to_string().as_bytes(), 2);
    // Unknown id: 404, exit 1.
    let mut gone = good.clone();
    gone["url"] = Value::from(good["url"].as_str().unwrap().replacen("/file/", "/file/AAAA", 1));
    let e = run_fails("download", &with(&["-", "-o", "x"]), gone.to_string().as_bytes(), 1);
    assert!(e.contains("404"), "{e}");
    // A wrong key, and a wrong size: the blob does not verify, exit 1, nothing written.
    let mut wrong = good.clone();
    wrong["key"] = Value::from("11".repeat(32));
    let e = run_fails("download", &with(&["-", "-o", "x"]), wrong.to_string().as_bytes(), 1);
    assert!(e.contains("verify"), "{e}");
    let mut size = good.clone();
    size["size"] = Value::from(4999);
    run_fails("download", &with(&["-", "-o", "x"]), size.to_string().as_bytes(), 1);
    assert!(!d.join("x").exists());
    assert!(names(d).iter().all(|n| !n.starts_with('.')), "temporary files left: {:?}", names(d));

    // fileinfo / extend
    run_fails("fileinfo", &with(&["../etc"]), b"", 2);
    fails(d, "fileinfo", &["AAAA", "--direct"], b"", 2);
    run_fails("fileinfo", &with(&["http://nowhere"]), b"", 2);
    let e = run_fails("fileinfo", &with(&["AAAA"]), b"", 1);
    assert!(e.contains("404"), "{e}");
    run_fails("fileinfo", &with(&["-"]), b"{}", 2);
    run_fails("extend", &with(&["http://x/nofile"]), b"", 2);
    run_fails("extend", &with(&["12345", "--ttl", "60"]), b"", 1);
    run_fails("extend", &with(&["AAAA", "--ttl", "abc"]), b"", 2);
}

/// A file server reached only through onion v4 requests, relayed by the nodes of a 12-node
/// testnet: A uploads over a 3-hop path, sends the pointer in a Session message, B retrieves,
/// decrypts, downloads (also over onion paths) and gets the same bytes.
#[test]
fn attachment_through_the_network() {
    let tn = Testnet::up_fileserver(12);
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let nodes = tn.nodes_json();
    let nodes = nodes.to_str().unwrap();
    let (alice, _) = keygen(d, "alice.json");
    let (bob, bob_sid) = keygen(d, "bob.json");
    random_file(&d.join("photo.jpg"), 1_500_000);

    let p =
        ok(d, "upload", &["photo.jpg", "--identity", alice.to_str().unwrap(), "--nodes", nodes]).remove(0);
    let fs: Value =
        serde_json::from_slice(&std::fs::read(tn.dir().join("fileserver.json")).unwrap()).unwrap();
    assert!(p["url"].as_str().unwrap().starts_with(fs["url"].as_str().unwrap()), "{p} vs {fs}");
    std::fs::write(d.join("p.json"), p.to_string()).unwrap();
    let sent = cmd("send")
        .current_dir(d)
        .args(["--format", "session", "--attach", "p.json", "--identity", alice.to_str().unwrap()])
        .args(["--to", bob_sid.as_str(), "--nodes", nodes])
        .write_stdin("a photo\n")
        .output()
        .unwrap();
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));

    let retrieved =
        cmd("retrieve").args(["--identity", bob.to_str().unwrap(), "--nodes", nodes]).output().unwrap();
    assert!(retrieved.status.success(), "{}", String::from_utf8_lossy(&retrieved.stderr));
    let decrypted = cmd("ratchet")
        .current_dir(d)
        .args(["decrypt", "--identity", bob.to_str().unwrap(), "--state", "bob-state"])
        .write_stdin(retrieved.stdout)
        .output()
        .unwrap();
    assert!(decrypted.status.success(), "{}", String::from_utf8_lossy(&decrypted.stderr));
    let records: Vec<Value> = String::from_utf8(decrypted.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["type"], "session_message");
    assert_eq!(records[0]["text"], "a photo");
    let atts = records[0]["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0]["key"], p["key"]);
    // `jq -c '.attachments[]' | download --dir inbox/`, with the onion path.
    let ndjson: String = atts.iter().map(|a| format!("{a}\n")).collect();
    let out = cmd("download")
        .current_dir(d)
        .args(["--dir", "inbox/", "--nodes", nodes])
        .write_stdin(ndjson)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sha_file(&d.join("inbox/photo.jpg")), sha_file(&d.join("photo.jpg")));

    // fileinfo and extend over onion paths; an unknown id's 404 travels inside the v4 reply.
    let info = ok(d, "fileinfo", &["p.json", "--nodes", nodes]).remove(0);
    assert_eq!(info["size"].as_u64(), Some(1_507_328));
    assert!(ok(d, "extend", &["p.json", "--nodes", nodes, "--ttl", "600"])[0]["expires"].is_f64());
    let unknown = p["url"].as_str().unwrap().replacen("/file/", "/file/AAAA", 1);
    let e = fails(d, "fileinfo", &[unknown.as_str(), "--nodes", nodes], b"", 1);
    assert!(e.contains("404"), "{e}");
    // Straight to the server: undecryptable v4 bodies get a plain 400.
    let r = http()
        .post(format!("{}/oxen/v4/lsrpc", fs["url"].as_str().unwrap()))
        .body(vec![1u8; 64])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    tn.down_leaving_nothing_running();
}

/// Peak resident memory of a running child, polled from /proc (VmHWM only grows); the last
/// value read before it exits.
fn run_measuring_hwm(mut c: Command) -> (std::process::Output, u64, Duration) {
    let start = Instant::now();
    let mut child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let mut hwm_kib = 0u64;
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).unwrap();
        v
    });
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:"))
        {
            hwm_kib = hwm_kib.max(line.split_whitespace().nth(1).unwrap().parse().unwrap());
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let stdout = reader.join().unwrap();
    let mut out = child.wait_with_output().unwrap();
    out.stdout = stdout;
    (out, hwm_kib, start.elapsed())
}

/// `attach encrypt` and `decrypt` of a 1 GiB (sparse) file stay under 32 MiB of peak RSS: one
/// chunk in memory whatever the size.
#[test]
fn attach_of_one_gib_keeps_peak_rss_under_32_mib() {
    const GIB: u64 = 1 << 30;
    const LIMIT_KIB: u64 = 32 * 1024;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (alice, _) = keygen(d, "alice.json");
    std::fs::File::create(d.join("big")).unwrap().set_len(GIB).unwrap();

    let mut enc = Command::new(bin("attach"));
    enc.current_dir(d).args(["encrypt", "big", "--allow-large", "-o", "big.enc", "--identity"]).arg(&alice);
    let (out, hwm, took) = run_measuring_hwm(enc);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["size"].as_u64(), Some(GIB));
    eprintln!("attach encrypt 1 GiB: peak RSS {hwm} KiB, {took:?}");
    assert!(hwm > 0 && hwm < LIMIT_KIB, "encrypt peak RSS {hwm} KiB");

    let mut dec = Command::new(bin("attach"));
    dec.current_dir(d)
        .args(["decrypt", "big.enc", "-o", "big.out", "--key"])
        .arg(summary["key"].as_str().unwrap());
    let (out, hwm, took) = run_measuring_hwm(dec);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["size"].as_u64(), Some(GIB));
    eprintln!("attach decrypt 1 GiB: peak RSS {hwm} KiB, {took:?}");
    assert!(hwm > 0 && hwm < LIMIT_KIB, "decrypt peak RSS {hwm} KiB");
}

/// A barrage of mangled v4 onion requests at a real file server: each gets a plain 400 (does not
/// decrypt) or an encrypted code (400 `Invalid v4 onion request`, or the inner route's own
/// status), never a crash, a hang or a 5xx; the server still serves afterwards.
#[test]
fn mangled_v4_requests_are_refused_and_change_nothing() {
    use snkit::onion::EncType;
    use snkit::onion::v4::{self, V4Request};
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("fs"), &[]);
    let pk = snkit::keys::X25519Pk::from_hex(s.ready["pubkey"].as_str().unwrap()).unwrap();
    let url = format!("{}/oxen/v4/lsrpc", s.url);
    let post = |body: Vec<u8>| {
        let r = http().post(&url).body(body).send().unwrap();
        (r.status().as_u16(), r.bytes().unwrap().to_vec())
    };
    let get =
        |endpoint: &str| V4Request { method: "GET".into(), endpoint: endpoint.into(), ..Default::default() };

    // Outer frames that do not decrypt: plain 400.
    let good = v4::seal_request(pk.as_bytes(), &get("/file/x"), EncType::XChaCha20).unwrap();
    let body = good.direct_body();
    let mut outer: Vec<Vec<u8>> = vec![vec![], vec![1, 2, 3], vec![0xff; 4], b"{}".to_vec(), vec![0u8; 5000]];
    outer.push(body[..body.len() - 3].to_vec());
    for i in [0usize, 3, 4, 10, 30] {
        let mut b = body.clone();
        b[i] ^= 0x40;
        outer.push(b);
    }
    let other = v4::seal_request(&[9u8; 32], &get("/file/x"), EncType::AesGcm).unwrap();
    outer.push(other.direct_body());
    for b in outer {
        let (status, _) = post(b);
        assert_eq!(status, 400);
    }

    // Well encrypted, bad inside: code 400 "Invalid v4 onion request" in the sealed reply.
    for (enc, plain) in [
        (EncType::XChaCha20, b"not bencode".to_vec()),
        (EncType::AesGcm, b"le".to_vec()),
        (EncType::XChaCha20, br#"l2:{}e"#.to_vec()),
        (EncType::XChaCha20, br#"l34:{"method":"GET","endpoint":"file"}e"#.to_vec()),
        (EncType::AesGcm, br#"l35:{"method":"G T","endpoint":"/file"}e"#.to_vec()),
    ] {
        let eph = x25519_dalek::StaticSecret::random_from_rng(rand::rngs::OsRng);
        let key = snkit::onion::LayerKey::for_client(enc, &eph, pk.as_bytes());
        let ct = key.encrypt(&mut rand::rngs::OsRng, &plain);
        let eph_pk = x25519_dalek::PublicKey::from(&eph).to_bytes();
        let frame = snkit::onion::encode_frame(
            &ct,
            &serde_json::json!({"ephemeral_key": hex::encode(eph_pk), "enc_type": enc.as_str()}),
        );
        let (status, reply) = post(frame);
        assert_eq!(status, 200);
        let r = v4::open_reply(&key, &reply).unwrap();
        assert_eq!((r.code, r.body.as_slice()), (400, &b"Invalid v4 onion request"[..]), "{plain:?}");
    }

    // The inner routes' own refusals travel inside: 404, 413 (empty upload), 400 (bad TTL).
    let cases = [
        (get("/file/AAAA"), 404),
        (get("/nowhere"), 404),
        (
            V4Request {
                method: "POST".into(),
                endpoint: "/file".into(),
                headers: vec![],
                body: Some(vec![]),
            },
            413,
        ),
        (
            V4Request {
                method: "POST".into(),
                endpoint: "/file".into(),
                headers: vec![("X-FS-TTL".into(), "nope".into())],
                body: Some(vec![1; 10]),
            },
            400,
        ),
    ];
    for (req, code) in cases {
        let sealed = v4::seal_request(pk.as_bytes(), &req, EncType::XChaCha20).unwrap();
        let (status, reply) = post(sealed.direct_body());
        assert_eq!(status, 200);
        let r = v4::open_reply(&sealed.reply_key, &reply).unwrap();
        assert_eq!(r.code, code, "{req:?}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap()["status_code"], code);
    }
    // The server still answers a good upload, and a download through v4.
    let up = V4Request {
        method: "POST".into(),
        endpoint: "/file".into(),
        headers: vec![],
        body: Some(vec![5; 100]),
    };
    let sealed = v4::seal_request(pk.as_bytes(), &up, EncType::AesGcm).unwrap();
    let r = v4::open_reply(&sealed.reply_key, &post(sealed.direct_body()).1).unwrap();
    assert_eq!(r.code, 200);
    let id = serde_json::from_slice::<Value>(&r.body).unwrap()["id"].as_str().unwrap().to_string();
    let sealed = v4::seal_request(pk.as_bytes(), &get(&format!("/file/{id}")), EncType::XChaCha20).unwrap();
    let r = v4::open_reply(&sealed.reply_key, &post(sealed.direct_body()).1).unwrap();
    assert_eq!((r.code, r.body.as_slice()), (200, &[5u8; 100][..]));
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert!(r.header("expires").unwrap().ends_with(" GMT"));
}
