//! End-to-end tests: `pow` and `onion-wrap` (spec pow.md, onion.md).

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::{Value, json};

/// The server vector of pow.md (oxen-storage-server v1.0.1 unit_test/pow.cpp).
const VECTOR_PK: &str = "054368520005786b249bcd461d28f75e560ea794014eeb17fcf6003f37d876783e";
const VECTOR_DATA: &str = concat!(
    "CAESvgMKA1BVVBIPL2FwaS92MS9tZXNzYWdlGqIDCGUSQjA1NDM2ODUyMDAwNTc4NmIyNDliY2",
    "Q0NjFkMjhmNzVlNTYwZWE3OTQwMTRlZWIxN2ZjZjYwMDNmMzdkODc2NzgzNDgBKID00qagLULQ",
    "AksmCNIm0urN9g/",
    "z2jBn0iLuaDPrrZnsLeRj9MD4eVDG0qTOD2Hg84LWswV3YAzb2Xku7LyTaitU3lhRAyDZRByjS",
    "Z2nWphSnzrkFaKhfKrHuzzDNDSGZsK9B1xM+lZJ/cR05Nn8fshfbW1CdINfNIiSK1qW2d/",
    "mfe3DI/",
    "CqShvA8D0r7LdbSq0tGH7JUIESu1OqJNePc46kLS0sMQ24YOitPtXSxUxbHrdBalydOqpYNGWG",
    "l4dtzOMr35Z0vCz/u25ROajbcj1D7hf40dyIv9RT/",
    "wwo52CiwtbrFdXc84K0yDKTnPu6QoTKoiVt+hftgKv0o/",
    "ruRN40fLSGl0KD+FqLf4Oqe5u1MaDDoUlLW1tdw6gsPSUxgQPWkJ6qda3t+",
    "IioolNQWidLcKg4WXvSwWRO6bDLNXfyDLd9UwcpHRus5UYnmc9BTjiXHQP8pWc4ciCMAQ==",
);

fn vector(nonce: Option<&str>) -> Value {
    let mut v = json!({"pubkey": VECTOR_PK, "timestamp": 1554859211u64, "ttl": 345600, "data": VECTOR_DATA});
    if let Some(n) = nonce {
        v["nonce"] = json!(n);
    }
    v
}

/// Runs a command with stdin; returns (exit code, stdout, stderr).
fn run(cmd: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut command = match cmd {
        "pow" => cargo_bin_cmd!("pow"),
        "onion-wrap" => cargo_bin_cmd!("onion-wrap"),
        "keygen" => cargo_bin_cmd!("keygen"),
        other => panic!("no command {other}"),
    };
    let out = command.args(args).write_stdin(stdin).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run_pow(args: &[&str], stdin: &str) -> (i32, String, String) {
    run("pow", args, stdin)
}

fn run_onion(args: &[&str], stdin: &str) -> (i32, String, String) {
    run("onion-wrap", args, stdin)
}

/// Asserts the stderr of a failure: one `<cmd>: error:` line, at most one `hint:` line after it.
fn assert_one_error_line(cmd: &str, stderr: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty() && lines.len() <= 2, "stderr: {stderr:?}");
    assert!(lines[0].starts_with(&format!("{cmd}: error: ")), "stderr: {stderr:?}");
    if lines.len() == 2 {
        assert!(lines[1].starts_with("hint: "), "stderr: {stderr:?}");
    }
}

fn json_out(stdout: &str) -> Value {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout:?}"))
}

// ---- pow --------------------------------------------------------------------------------------

#[test]
fn pow_verify_accepts_the_server_vector() {
    let (code, out, err) =
        run_pow(&["verify", "--difficulty", "10"], &vector(Some("AAAAAAAaFio=")).to_string());
    assert_eq!(code, 0, "{err}");
    let v = json_out(&out);
    assert_eq!(v["valid"], true);
    assert_eq!(v["value"], "000000edaab70fbd");
    assert_eq!(v["target"], "0009670fa5800967");
    assert!(v["hash"].as_str().unwrap().starts_with("000000edaab70fbd"));
}

#[test]
fn pow_verify_refuses_the_vectors_negative_cases() {
    let mut cases = vec![vector(Some("AAAAAAABBCF="))];
    let mut ts = vector(Some("AAAAAAAaFio="));
    ts["timestamp"] = json!(1549252653u64);
    cases.push(ts);
    let mut ttl = vector(Some("AAAAAAAaFio="));
    ttl["ttl"] = json!(345601);
    cases.push(ttl);
    for env in cases {
        let (code, out, err) = run_pow(&["verify", "-d", "10"], &env.to_string());
        assert_eq!(code, 1, "{env}");
        assert_eq!(json_out(&out)["valid"], false);
        assert_one_error_line("pow", &err);
    }
}

#[test]
fn pow_solve_then_verify_round_trip_independent_of_threads() {
    let env = vector(None).to_string();
    let (code, one, err) = run_pow(&["solve", "-d", "10", "--threads", "1"], &env);
    assert_eq!(code, 0, "{err}");
    let (code, two, err) = run_pow(&["solve", "-d", "10", "--threads", "2"], &env);
    assert_eq!(code, 0, "{err}");
    let solved = json_out(&one);
    assert_eq!(solved, json_out(&two), "the smallest nonce does not depend on the thread count");
    assert_eq!(solved["data"], VECTOR_DATA);
    assert_eq!(solved["nonce"].as_str().unwrap().len(), 12);
    let (code, out, err) = run_pow(&["verify", "-d", "10"], &one);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json_out(&out)["valid"], true);
}

#[test]
fn pow_difficulty_zero_is_off() {
    let (code, out, _) = run_pow(&["verify", "-d", "0"], &vector(None).to_string());
    assert_eq!(code, 0);
    assert_eq!(json_out(&out)["valid"], true);
    let (code, out, _) = run_pow(&["solve", "-d", "0"], &vector(None).to_string());
    assert_eq!(code, 0);
    assert_eq!(json_out(&out)["nonce"], "AAAAAAAAAAA=");
}

#[test]
fn pow_impossible_difficulty_exits_2() {
    let (code, out, err) = run_pow(&["solve", "-d", "18446744073709551615"], &vector(None).to_string());
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_one_error_line("pow", &err);
    assert!(err.contains("impossible"), "{err}");
}

#[test]
fn pow_bad_input_exits_2_with_one_line() {
    let mut bad_pk = vector(None);
    bad_pk["pubkey"] = json!("05abc");
    let mut bad_data = vector(None);
    bad_data["data"] = json!("not base64!");
    let bad_nonce = vector(Some("AAAA"));
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["solve", "-d", "10"], "{not json".into()),
        (vec!["solve", "-d", "10"], bad_pk.to_string()),
        (vec!["solve", "-d", "10"], bad_data.to_string()),
        (vec!["verify", "-d", "10"], bad_nonce.to_string()),
        (vec!["solve", "-d", "10", "--threads", "0"], vector(None).to_string()),
        (vec!["solve", "-d", "-3"], vector(None).to_string()),
        (vec!["solve"], vector(None).to_string()),
        (vec!["verify", "-d", "10"], json!({"pubkey": VECTOR_PK}).to_string()),
    ];
    for (args, stdin) in cases {
        let (code, _, err) = run_pow(&args, &stdin);
        assert_eq!(code, 2, "{args:?} {stdin}: {err}");
        assert_one_error_line("pow", &err);
    }
}

// ---- onion-wrap -------------------------------------------------------------------------------

/// Three node identities (keygen) written as key files, and the path JSON of them.
struct Hops {
    _dir: tempfile::TempDir,
    keys: Vec<PathBuf>,
    ed25519: Vec<String>,
    path: PathBuf,
}

fn hops(n: usize) -> Hops {
    let dir = tempfile::tempdir().unwrap();
    let mut keys = Vec::new();
    let mut ed25519 = Vec::new();
    let mut nodes = Vec::new();
    for i in 0..n {
        let seed = format!("{:064x}", 0x5eed_0000 + i);
        let (code, out, err) = run("keygen", &["--seed", &seed], "");
        assert_eq!(code, 0, "{err}");
        let id = json_out(&out);
        let key = dir.path().join(format!("key{i}.json"));
        std::fs::write(&key, json!({"ed25519_seed": seed}).to_string()).unwrap();
        keys.push(key);
        ed25519.push(id["ed25519_pk"].as_str().unwrap().to_string());
        nodes.push(json!({"pubkey_ed25519": id["ed25519_pk"], "pubkey_x25519": id["x25519_pk"],
                          "public_ip": "127.0.0.1", "storage_port": 22000 + i}));
    }
    let path = dir.path().join("path.json");
    std::fs::write(&path, Value::from(nodes).to_string()).unwrap();
    Hops { _dir: dir, keys, ed25519, path }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

const REQUEST: &str = r#"{"method":"retrieve","params":{"pubkey":"05secretrecipient"}}"#;

fn wrap(h: &Hops, enc: &str) -> Value {
    let (code, out, err) = run_onion(&["--path", p(&h.path), "--enc", enc], REQUEST);
    assert_eq!(code, 0, "{err}");
    json_out(&out)
}

#[test]
fn onion_three_hops_each_sees_only_its_layer() {
    let h = hops(3);
    for enc in ["xchacha20", "aes-gcm"] {
        let w = wrap(&h, enc);
        assert_eq!(w["guard"], "http://127.0.0.1:22000");
        assert_eq!(w["enc_type"], enc);
        assert_eq!(w["destination"], h.ed25519[2]);
        let (code, hop1, err) = run_onion(&["--peel", "--key", p(&h.keys[0])], &w.to_string());
        assert_eq!(code, 0, "{err}");
        // Hop 1 learns hop 2 and an opaque blob: not hop 3, not the request.
        let v1 = json_out(&hop1);
        assert_eq!(v1["hop"], "relay");
        assert_eq!(v1["destination"], h.ed25519[1]);
        assert!(!hop1.contains(&h.ed25519[2]) && !hop1.contains("secretrecipient"));
        let (code, hop2, err) = run_onion(&["--peel", "--key", p(&h.keys[1])], &hop1);
        assert_eq!(code, 0, "{err}");
        let v2 = json_out(&hop2);
        assert_eq!(v2["destination"], h.ed25519[2]);
        assert_eq!(v2["hop_no"], 1);
        assert!(!hop2.contains(&h.ed25519[0]) && !hop2.contains("secretrecipient"));
        let (code, hop3, err) = run_onion(&["--peel", "--key", p(&h.keys[2])], &hop2);
        assert_eq!(code, 0, "{err}");
        let v3 = json_out(&hop3);
        assert_eq!(v3["hop"], "final");
        assert_eq!(v3["hop_no"], 2);
        assert_eq!(v3["request"], serde_json::from_str::<Value>(REQUEST).unwrap());
        assert_eq!(v3["reply_key"], w["reply_key"]);
        assert!(!hop3.contains(&h.ed25519[0]) && !hop3.contains(&h.ed25519[1]));
        // The reply travels back: sealed by the final hop, opened by the client.
        let key = w["reply_key"].as_str().unwrap();
        let (code, sealed, err) = run_onion(
            &["--seal-reply", "--reply-key", key, "--enc", enc],
            r#"{"status":200,"body":{"messages":[]}}"#,
        );
        assert_eq!(code, 0, "{err}");
        let (code, opened, err) = run_onion(&["--open-reply", "--reply-key", key, "--enc", enc], &sealed);
        assert_eq!(code, 0, "{err}");
        assert_eq!(json_out(&opened), json!({"status": 200, "body": {"messages": []}}));
    }
}

#[test]
fn onion_wrong_key_tampered_truncated_and_garbage_exit_2() {
    let h = hops(3);
    let w = wrap(&h, "xchacha20");
    let body = base64_decode(w["body"].as_str().unwrap());
    // Hop 2's key cannot open hop 1's layer.
    let (code, _, err) = run_onion(&["--peel", "--key", p(&h.keys[1])], &w.to_string());
    assert_eq!(code, 2);
    assert_one_error_line("onion-wrap", &err);
    let mut tampered = body.clone();
    tampered[40] ^= 1;
    let mut truncated = body.clone();
    truncated.truncate(body.len() / 2);
    for bad in [base64_encode(&tampered), base64_encode(&truncated), "garbage".into(), String::new()] {
        let (code, out, err) = run_onion(&["--peel", "--key", p(&h.keys[0])], &bad);
        assert_eq!(code, 2, "{bad}: {out}");
        assert!(out.is_empty());
        assert_one_error_line("onion-wrap", &err);
    }
    // A tampered reply.
    let key = w["reply_key"].as_str().unwrap();
    let (_, sealed, _) = run_onion(&["--seal-reply", "--reply-key", key], r#"{"status":200,"body":"x"}"#);
    let mut raw = base64_decode(sealed.trim());
    raw[30] ^= 4;
    let (code, _, err) = run_onion(&["--open-reply", "--reply-key", key], &base64_encode(&raw));
    assert_eq!(code, 2);
    assert_one_error_line("onion-wrap", &err);
}

#[test]
fn onion_bad_invocations_exit_2() {
    let h = hops(1);
    let dir = tempfile::tempdir().unwrap();
    let bad_path = dir.path().join("bad.json");
    std::fs::write(&bad_path, r#"[{"pubkey_ed25519":"00"}]"#).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![], REQUEST),
        (vec!["--path", p(&bad_path)], REQUEST),
        (vec!["--path", p(&h.path)], "not json"),
        (vec!["--path", p(&h.path)], "[1,2]"),
        (vec!["--path", p(&h.path), "--enc", "rot13"], REQUEST),
        (vec!["--path", p(&h.path), "--enc", "cbc"], REQUEST),
        (vec!["--path", "-"], REQUEST),
        (vec!["--peel"], "x"),
        (vec!["--peel", "--key", p(&h.path)], "x"),
        (vec!["--open-reply", "--reply-key", "abcd"], "x"),
        (vec!["--path", p(&h.path), "--peel", "--key", p(&h.keys[0])], REQUEST),
    ];
    for (args, stdin) in cases {
        let (code, _, err) = run_onion(&args, stdin);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_one_error_line("onion-wrap", &err);
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}
