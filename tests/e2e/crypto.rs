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
    assert!(err.is_empty(), "no progress output when stderr is not a terminal: {err:?}");
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
fn pow_infeasible_difficulty_exits_2_instead_of_spinning() {
    // A target of a few units: possible in principle, ~10^17 trials in practice.
    let (code, out, err) = run_pow(&["solve", "-d", "20000000000000"], &vector(None).to_string());
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert_one_error_line("pow", &err);
    assert!(err.contains("infeasible"), "{err}");
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

// ---- onion requests over a real testnet ---------------------------------------------------------

mod network {
    use super::*;
    use crate::common::{Testnet, now_ms, post_raw};
    use snkit::onion::{self, EncType};

    /// The first `n` nodes of the testnet's node list as a path file, with each one's key file.
    fn path_of(tn: &Testnet, n: usize) -> (PathBuf, Vec<PathBuf>, Vec<String>) {
        let nodes: Vec<Value> = tn.nodes().into_iter().take(n).collect();
        assert_eq!(nodes.len(), n);
        let path = tn.dir().join("onion-path.json");
        std::fs::write(&path, Value::from(nodes.clone()).to_string()).unwrap();
        let state = tn.state();
        let mut keys = Vec::new();
        let mut eds = Vec::new();
        for node in &nodes {
            let ed = node["pubkey_ed25519"].as_str().unwrap().to_string();
            let i = tn.index_of(&ed).unwrap();
            keys.push(PathBuf::from(state["nodes"][i]["data_dir"].as_str().unwrap()).join("key.json"));
            eds.push(ed);
        }
        (path, keys, eds)
    }

    fn store_request() -> String {
        json!({"method": "store", "params": {
            "pubkey": format!("05{}", "ab".repeat(32)),
            "timestamp": now_ms(),
            "ttl": 3_600_000,
            "data": base64_encode(b"through the onion"),
        }})
        .to_string()
    }

    fn wrap_path(path: &Path, request: &str) -> Value {
        let (code, out, err) = run_onion(&["--path", p(path)], request);
        assert_eq!(code, 0, "{err}");
        json_out(&out)
    }

    /// Sends a guard body to the guard; returns the status and the body text.
    fn send(url: &str, body: &[u8]) -> (u16, String) {
        let (status, v) = post_raw(url, "/onion_req/v2", body);
        let text = match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        (status, text)
    }

    #[test]
    fn onion_request_through_three_hops_reaches_its_target_and_the_reply_decrypts() {
        let tn = Testnet::up(4);
        // Guard, two relays, and the target that runs the store.
        let (path, keys, eds) = path_of(&tn, 4);
        let request = store_request();
        let w = wrap_path(&path, &request);
        let guard = w["guard"].as_str().unwrap();
        let body = base64_decode(w["body"].as_str().unwrap());

        // What each hop decrypts (with the node's own key file): only its own layer.
        let mut layer = w.to_string();
        for (i, key) in keys.iter().enumerate() {
            let (code, out, err) = run_onion(&["--peel", "--key", p(key)], &layer);
            assert_eq!(code, 0, "hop {i}: {err}");
            let seen = json_out(&out);
            if i < 3 {
                assert!(
                    !out.contains(&base64_encode(b"through the onion")),
                    "hop {i} saw the request: {out}"
                );
            }
            for (j, ed) in eds.iter().enumerate() {
                // A hop learns the next hop's key only, never the ones further on or before it.
                assert_eq!(out.contains(ed.as_str()), j == i + 1, "hop {i} and the key of hop {j}: {out}");
            }
            if i < 3 {
                assert_eq!(seen["hop"], "relay");
                assert_eq!(seen["destination"], eds[i + 1]);
            } else {
                assert_eq!(seen["hop"], "final");
                assert_eq!(seen["request"], serde_json::from_str::<Value>(&request).unwrap());
            }
            layer = out;
        }

        let (status, reply) = send(guard, &body);
        assert_eq!(status, 200, "{reply}");
        let (code, out, err) =
            run_onion(&["--open-reply", "--reply-key", w["reply_key"].as_str().unwrap()], &reply);
        assert_eq!(code, 0, "{err}");
        let opened = json_out(&out);
        assert_eq!(opened["status"], 200, "{opened}");
        // The store ran on the target: its own signed entry is in the reply's swarm map.
        let body: Value = match &opened["body"] {
            Value::String(s) => serde_json::from_str(s).unwrap(),
            v => v.clone(),
        };
        assert!(body["swarm"][&eds[3]]["hash"].is_string(), "{body}");
    }

    /// Re-wraps hop 2's layer (taken from `guard_body` with hop 1's key, then changed by `mangle`)
    /// in a fresh layer for hop 1, as a client with a broken inner layer would send it.
    fn rewrap_for_hop1(key_file: &Path, guard_body: &[u8], mangle: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
        let key_json: Value = serde_json::from_str(&std::fs::read_to_string(key_file).unwrap()).unwrap();
        let (sk, pk) = onion::node_secret_from_key_json(&key_json).unwrap();
        let opened = onion::open(&sk, &pk, guard_body).unwrap();
        let inner = onion::decode_frame(&opened.plaintext).unwrap();
        let mut ct2 = inner.payload.to_vec();
        mangle(&mut ct2);
        let plaintext = onion::encode_frame(&ct2, &Value::Object(inner.json));
        onion::wrap_layer(&pk, &plaintext, EncType::XChaCha20)
    }

    #[test]
    fn tampered_truncated_and_replayed_layers_are_rejected_at_the_hop_that_sees_them() {
        let tn = Testnet::up(4);
        let (path, keys, _) = path_of(&tn, 4);
        let urls: Vec<String> = tn
            .nodes()
            .iter()
            .take(4)
            .map(|n| tn.url(tn.index_of(n["pubkey_ed25519"].as_str().unwrap()).unwrap()))
            .collect();

        // Hop 1's own layer tampered or truncated: hop 1 refuses it, plainly.
        let w = wrap_path(&path, &store_request());
        let body = base64_decode(w["body"].as_str().unwrap());
        let mut tampered = body.clone();
        tampered[20] ^= 0x01;
        assert_eq!(send(&urls[0], &tampered), (400, "Invalid ciphertext".to_string()));
        assert_eq!(send(&urls[0], &body[..body.len() - 30]).0, 400);
        assert_eq!(send(&urls[0], b"garbage").0, 400);

        // Hop 2's layer tampered (or truncated) inside a valid layer for hop 1: hop 1 decrypts
        // and relays it (its replay guard now knows the layer), hop 2 refuses it.
        for mangle in
            [(|ct: &mut Vec<u8>| ct[30] ^= 0x80) as fn(&mut Vec<u8>), |ct| ct.truncate(ct.len() / 2)]
        {
            let bad = rewrap_for_hop1(&keys[0], &body, mangle);
            assert_eq!(send(&urls[0], &bad), (400, "Invalid ciphertext".to_string()));
            let (status, text) = send(&urls[0], &bad);
            assert_eq!(status, 400);
            assert!(text.contains("replay"), "hop 1 had accepted that layer before: {text}");
        }

        // A hop number past the limit (a client may start from a fake one): refused, and the
        // refused layer is not remembered, so the real request still goes through below.
        for hop_no in [15, 16] {
            let frame = onion::decode_frame(&body).unwrap();
            let mut routing = Value::Object(frame.json.clone());
            routing["hop_no"] = json!(hop_no);
            let (status, text) = send(&urls[0], &onion::encode_frame(frame.payload, &routing));
            assert_eq!(status, 400);
            assert!(text.contains("above the limit 15"), "{text}");
        }

        // The real request goes through once; replaying it is refused by the guard, and
        // replaying hop 2's layer (as hop 1 relayed it) is refused by hop 2.
        let (status, _) = send(&urls[0], &body);
        assert_eq!(status, 200);
        let (status, text) = send(&urls[0], &body);
        assert_eq!(status, 400);
        assert!(text.contains("replay"), "{text}");
        let (code, hop1, err) = run_onion(&["--peel", "--key", p(&keys[0])], &w.to_string());
        assert_eq!(code, 0, "{err}");
        let next = base64_decode(json_out(&hop1)["next_body"].as_str().unwrap());
        let (status, text) = send(&urls[1], &next);
        assert_eq!(status, 400);
        assert!(text.contains("replay"), "{text}");
        // Hop 3's layer, replayed straight at hop 3.
        let (_, hop2, _) = run_onion(&["--peel", "--key", p(&keys[1])], &hop1);
        let next = base64_decode(json_out(&hop2)["next_body"].as_str().unwrap());
        let (status, text) = send(&urls[2], &next);
        assert_eq!(status, 400);
        assert!(text.contains("replay"), "{text}");
        // And the target's own (final) layer, replayed straight at the target.
        let (_, hop3, _) = run_onion(&["--peel", "--key", p(&keys[2])], &hop2);
        let last = base64_decode(json_out(&hop3)["next_body"].as_str().unwrap());
        let (status, text) = send(&urls[3], &last);
        assert_eq!(status, 400);
        assert!(text.contains("replay"), "{text}");
    }

    #[test]
    fn a_relay_to_an_unknown_node_is_a_plain_502_from_the_hop_that_cannot_find_it() {
        let tn = Testnet::up(4);
        let mut nodes: Vec<Value> = tn.nodes().into_iter().take(3).collect();
        // Hop 2 is a node the registry does not know (fresh keys): hop 1 cannot relay to it.
        let stranger = snkit::identity::Identity::generate();
        let mut fake = nodes[1].clone();
        fake["pubkey_ed25519"] = json!(hex::encode(stranger.ed25519_public()));
        fake["pubkey_x25519"] = json!(hex::encode(stranger.x25519_public()));
        nodes.insert(1, fake);
        let path = tn.dir().join("stranger-path.json");
        std::fs::write(&path, Value::from(nodes).to_string()).unwrap();
        let w = wrap_path(&path, &store_request());
        let (status, text) = send(w["guard"].as_str().unwrap(), &base64_decode(w["body"].as_str().unwrap()));
        assert_eq!(status, 502, "{text}");
        assert!(text.starts_with("Next node not found: "), "{text}");
        assert!(text.contains(&hex::encode(stranger.ed25519_public())), "{text}");
    }

    /// Sends `request` through the 4-node path and opens the reply: (status, body as JSON).
    fn through_onion(tn: &Testnet, path: &Path, request: &str) -> (u64, Value) {
        let w = wrap_path(path, request);
        let (status, reply) = send(w["guard"].as_str().unwrap(), &base64_decode(w["body"].as_str().unwrap()));
        assert_eq!(status, 200, "{reply} (logs in {})", tn.dir().display());
        let (code, out, err) =
            run_onion(&["--open-reply", "--reply-key", w["reply_key"].as_str().unwrap()], &reply);
        assert_eq!(code, 0, "{err}");
        let opened = json_out(&out);
        let body = match &opened["body"] {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
            v => v.clone(),
        };
        (opened["status"].as_u64().unwrap(), body)
    }

    #[test]
    fn pow_solved_envelope_is_stored_through_an_onion_and_an_unsolved_one_gets_432() {
        let tn = Testnet::up_with_pow(4, 10);
        let (path, _, eds) = path_of(&tn, 4);
        let envelope = json!({
            "pubkey": format!("05{}", "cd".repeat(32)),
            "timestamp": now_ms(),
            "ttl": 3_600_000,
            "data": base64_encode(b"worked for"),
        });
        let (status, body) =
            through_onion(&tn, &path, &json!({"method": "store", "params": envelope}).to_string());
        assert_eq!(status, 432, "{body}");
        assert_eq!(body["difficulty"], 10, "{body}");

        let (code, solved, err) = run_pow(&["solve", "-d", "10"], &envelope.to_string());
        assert_eq!(code, 0, "{err}");
        let solved = json_out(&solved);
        let (status, body) =
            through_onion(&tn, &path, &json!({"method": "store", "params": solved}).to_string());
        assert_eq!(status, 200, "{body}");
        assert!(body["swarm"][&eds[3]]["hash"].is_string(), "{body}");
    }
}
