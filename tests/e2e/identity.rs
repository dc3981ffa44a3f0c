//! End-to-end tests: identity — `keygen` and `mnemonic` as built binaries, their pipelines, bad
//! input for each, and the committed shell completions of every command.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

/// Spec identity.md §1/§2 vectors: seed, 13-word phrase, Ed25519 pk, Session ID.
const VECTORS: &[(&str, &str, &str, &str)] = &[
    (
        "000102030405060708090a0b0c0d0e0f",
        "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed",
        "65adc5bfb14b5363f1b50e63a431f6fe08ff5d4e8d362c1e3d4c56c9d044bfb0",
        "05ca03b8e369aeeb69fd260c2957d37b232db17a60db7a39bca9f0c0a6be135c1a",
    ),
    (
        "0123456789abcdef0123456789abcdef",
        "vexed enjoy pigment films adept voted vexed enjoy pigment films adept voted adept",
        "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7",
        "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72",
    ),
    (
        "00112233445566778899aabbccddeeff",
        "python costume hamburger heels amnesty lukewarm antics value picked roped sowed southern amnesty",
        "5ea34e72bb044654a6a23675690ef5ffaaf1656b02f93fb76655f9cbdbe89876",
        "05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74",
    ),
];

const ZERO_SEED_ID: &str = "055bf55c73b82ebe22be80f3430667af570fae2556a6415e6b30d4065300aa947d";

fn keygen() -> Command {
    cargo_bin_cmd!("keygen")
}

fn mnemonic() -> Command {
    cargo_bin_cmd!("mnemonic")
}

fn run(mut cmd: Command, args: &[&str], stdin: &str) -> Output {
    cmd.args(args).write_stdin(stdin.as_bytes().to_vec()).output().unwrap()
}

/// Runs a command that must succeed, returning its stdout as one JSON object.
fn json_ok(cmd: Command, args: &[&str], stdin: &str) -> Value {
    let out = run(cmd, args, stdin);
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "one JSON line: {text}");
    serde_json::from_str(&text).unwrap()
}

/// A refused input: exit 2, exactly one `<cmd>: error:` line (plus an optional `hint:` line), no
/// panic, nothing on stdout.
fn assert_bad_input(name: &str, out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name} {what}: exit code; stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
        "{name} {what}: one error line (+ hint), got: {stderr:?}"
    );
    assert!(lines[0].starts_with(&format!("{name}: error: ")), "{name} {what}: {stderr:?}");
    assert!(!stderr.contains("panicked") && !stderr.contains("BACKTRACE"), "{name} {what}: {stderr}");
    assert!(out.stdout.is_empty(), "{name} {what}: no output on error");
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn keygen_prints_a_fresh_identity() {
    let id = json_ok(keygen(), &[], "");
    assert_eq!(keys(&id), ["ed25519_pk", "seed", "session_id", "x25519_pk"]);
    let sid = id["session_id"].as_str().unwrap();
    let seed = id["seed"].as_str().unwrap();
    assert_eq!(sid.len(), 66);
    assert!(sid.starts_with("05") && sid.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(&sid[2..], id["x25519_pk"].as_str().unwrap());
    assert_eq!(id["ed25519_pk"].as_str().unwrap().len(), 64);
    assert_eq!(seed.len(), 32, "16-byte seeds, as the apps make them");
    // Two runs never give the same seed; the seed re-derives the same identity.
    assert_ne!(json_ok(keygen(), &[], "")["seed"], id["seed"]);
    assert_eq!(json_ok(keygen(), &["--seed", seed], ""), id);
}

#[test]
fn keygen_seed_reproduces_spec_vectors() {
    for (seed, _, ed, sid) in VECTORS {
        let id = json_ok(keygen(), &["--seed", seed], "");
        assert_eq!(id["ed25519_pk"], *ed);
        assert_eq!(id["session_id"], *sid);
        assert_eq!(id["seed"], *seed);
    }
    let zero = json_ok(keygen(), &["--seed", &"00".repeat(16)], "");
    assert_eq!(zero["session_id"], ZERO_SEED_ID);
    // A 32-byte seed is the Ed25519 seed as it is (spec §3 seed1).
    let id = json_ok(
        keygen(),
        &["--seed", "fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122"],
        "",
    );
    assert_eq!(id["ed25519_pk"], "f4ef873908f6a5377ba3853f0e2fa326eed9e741edf9f7d0311a3ecc66a57b32");
    assert_eq!(id["session_id"], "05fe94b7ad4b7f1cc1bb92671f1f0d243f226e115b33770465e82b503fc3e96e1f");
    // Upper-case hex is accepted; output stays lower case.
    let upper = json_ok(keygen(), &["--seed", &VECTORS[0].0.to_uppercase()], "");
    assert_eq!(upper["session_id"], VECTORS[0].3);
}

#[test]
fn keygen_community_prints_the_spec_blinded_ids() {
    // identity.md §3: seed1 on server S.
    let seed1 = "fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122";
    let server = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    let id = json_ok(keygen(), &["--seed", seed1, "--community", server], "");
    assert_eq!(id["blinded15"], "15b74ed205f1f931e1bb1291183778a9456b835937d923b0f2e248aa3a44c07844");
    assert_eq!(id["blinded25"], "253b991dcbba44cfdb45d5b38880d95cff723309e3ece6fd01415ad5fa1dccc7ac");
    assert_eq!(id["session_id"], "05fe94b7ad4b7f1cc1bb92671f1f0d243f226e115b33770465e82b503fc3e96e1f");
    for bad in ["zz", "abcd", &format!("{server}00")] {
        let out = run(keygen(), &["--seed", seed1, "--community", bad], "");
        assert_eq!(out.status.code(), Some(2), "--community {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("keygen: error: --community"), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn keygen_reads_the_seed_from_stdin_and_files() {
    let (seed, _, _, sid) = VECTORS[1];
    assert_eq!(json_ok(keygen(), &["--seed", "-"], &format!("{seed}\n"))["session_id"], sid);
    let json = format!("{{\"seed\":\"{seed}\",\"format\":\"session\"}}");
    assert_eq!(json_ok(keygen(), &["--seed", "-"], &json)["session_id"], sid);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seed.txt");
    std::fs::write(&file, seed).unwrap();
    assert_eq!(json_ok(keygen(), &["--seed-file", file.to_str().unwrap()], "")["session_id"], sid);
}

#[test]
fn keygen_output_file_is_0600_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alice.json");
    let p = path.to_str().unwrap();
    let (seed, _, ed, sid) = VECTORS[0];
    let public = json_ok(keygen(), &["--seed", seed, "-o", p], "");
    assert_eq!(keys(&public), ["ed25519_pk", "session_id", "x25519_pk"], "stdout has no seed");
    assert_eq!(public["session_id"], sid);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["seed"], seed);
    assert_eq!(saved["ed25519_pk"], ed);
    // The file feeds back into keygen and mnemonic.
    assert_eq!(json_ok(keygen(), &["--seed-file", p], "")["session_id"], sid);
    assert_eq!(json_ok(mnemonic(), &["encode", p], "")["mnemonic"], VECTORS[0].1);

    // A second -o to the same path is refused (exit 1) and leaves the file as it was.
    let before = std::fs::read(&path).unwrap();
    let out = run(keygen(), &["-o", p], "");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("keygen: error: ") && stderr.contains("already exists"), "{stderr}");
    assert!(stderr.lines().count() <= 2);
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn mnemonic_encode_gives_spec_phrases() {
    for (seed, phrase, _, _) in VECTORS {
        let out = json_ok(mnemonic(), &["encode"], seed);
        assert_eq!(out["mnemonic"], *phrase);
        assert_eq!(out["format"], "session");
        // keygen's output is accepted as it is.
        let id = json_ok(keygen(), &["--seed", seed], "");
        assert_eq!(json_ok(mnemonic(), &["encode", "-"], &id.to_string())["mnemonic"], *phrase);
    }
    let abbey = json_ok(mnemonic(), &["encode"], &"00".repeat(16));
    assert_eq!(abbey["mnemonic"], ["abbey"; 13].join(" "));
    let long = json_ok(mnemonic(), &["encode"], &(0u8..32).map(|b| format!("{b:02x}")).collect::<String>());
    assert_eq!(long["mnemonic"].as_str().unwrap().split(' ').count(), 25);
}

#[test]
fn pipeline_mnemonic_decode_into_keygen_restores_spec_ids() {
    for (seed, phrase, ed, sid) in VECTORS {
        // mnemonic decode | keygen --seed -
        let decoded = run(mnemonic(), &["decode"], phrase);
        assert!(decoded.status.success());
        assert!(decoded.stderr.is_empty(), "13 words: no warning");
        let id = json_ok(keygen(), &["--seed", "-"], &String::from_utf8(decoded.stdout).unwrap());
        assert_eq!(id["seed"], *seed);
        assert_eq!(id["ed25519_pk"], *ed);
        assert_eq!(id["session_id"], *sid);
    }
    let decoded = json_ok(mnemonic(), &["decode"], &["abbey"; 13].join(" "));
    assert_eq!(json_ok(keygen(), &["--seed", "-"], &decoded.to_string())["session_id"], ZERO_SEED_ID);
}

#[test]
fn pipeline_keygen_encode_decode_round_trip_both_formats() {
    let id = json_ok(keygen(), &[], "");
    for format in ["session", "bip39"] {
        let phrase = json_ok(mnemonic(), &["encode", "--format", format], &id.to_string());
        assert_eq!(phrase["format"], format);
        let words = phrase["mnemonic"].as_str().unwrap().split(' ').count();
        assert_eq!(words, if format == "session" { 13 } else { 12 });
        // The JSON goes through as it is (it names its format) ...
        let back = json_ok(mnemonic(), &["decode"], &phrase.to_string());
        assert_eq!(back["seed"], id["seed"]);
        assert_eq!(back["format"], format);
        // ... and so do the bare words, detected.
        let back = json_ok(mnemonic(), &["decode"], phrase["mnemonic"].as_str().unwrap());
        assert_eq!(back["seed"], id["seed"]);
        assert_eq!(json_ok(keygen(), &["--seed", "-"], &back.to_string())["session_id"], id["session_id"]);
    }
}

#[test]
fn pipeline_32_byte_seed_round_trips_both_formats() {
    let seed = "fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122";
    let id = json_ok(keygen(), &["--seed", seed], "");
    for (format, words) in [("session", 25), ("bip39", 24)] {
        let phrase = json_ok(mnemonic(), &["encode", "--format", format], &id.to_string());
        assert_eq!(phrase["mnemonic"].as_str().unwrap().split(' ').count(), words);
        let back = json_ok(mnemonic(), &["decode"], phrase["mnemonic"].as_str().unwrap());
        assert_eq!((&back["seed"], back["format"].as_str().unwrap()), (&id["seed"], format));
        let again = json_ok(keygen(), &["--seed", "-"], &back.to_string());
        assert_eq!(again["session_id"], "05fe94b7ad4b7f1cc1bb92671f1f0d243f226e115b33770465e82b503fc3e96e1f");
    }
}

#[test]
fn mnemonic_decode_accepts_case_whitespace_prefixes() {
    let (seed, _, _, _) = VECTORS[0];
    let messy =
        "  AMAZE\tbuffet\n cake   ENTRANCE symptoms tiger lamb maze nestle python dusted faxed Faxed\n";
    assert_eq!(json_ok(mnemonic(), &["decode"], messy)["seed"], seed);
    let prefixes = "ama buf cak ent sym tig lam maz nes pyt dus fax fax";
    assert_eq!(json_ok(mnemonic(), &["decode", "--format", "session"], prefixes)["seed"], seed);
    let bip39 =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    let out = json_ok(mnemonic(), &["decode", "--format", "bip39"], bip39);
    assert_eq!(
        (out["seed"].as_str().unwrap(), out["format"].as_str().unwrap()),
        (&*"00".repeat(16), "bip39")
    );
}

#[test]
fn mnemonic_decode_twelve_session_words_warns() {
    let (seed, phrase, _, _) = VECTORS[0];
    let twelve: Vec<&str> = phrase.split(' ').take(12).collect();
    let out = run(mnemonic(), &["decode"], &twelve.join(" "));
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("mnemonic: warning: "), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["seed"], seed);
    assert_eq!(v["format"], "session");
}

#[test]
fn mnemonic_errors_name_the_word() {
    let out = run(
        mnemonic(),
        &["decode"],
        "amaze buffet cake entrance symptoms tiger lamb maze nestle pyhton dusted faxed faxed",
    );
    assert_bad_input("mnemonic", &out, "unknown word");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("word 10 'pyhton'") && stderr.contains("python"), "{stderr}");

    let out = run(
        mnemonic(),
        &["decode"],
        "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed zoom",
    );
    assert_bad_input("mnemonic", &out, "wrong checksum");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("'zoom'") && stderr.contains("expected 'faxed'"), "{stderr}");
}

#[test]
fn swapped_inputs_get_a_hint() {
    let out = run(keygen(), &["--seed", "-"], VECTORS[0].1);
    assert_bad_input("keygen", &out, "phrase instead of seed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("hint: a recovery phrase?"));
    let out = run(mnemonic(), &["decode"], VECTORS[0].0);
    assert_bad_input("mnemonic", &out, "seed instead of phrase");
    assert!(String::from_utf8_lossy(&out.stderr).contains("mnemonic encode"));
}

#[test]
fn closed_stdout_is_a_quiet_exit() {
    use assert_cmd::cargo::cargo_bin;
    let keygen_bin = cargo_bin!("keygen");
    let mnemonic_bin = cargo_bin!("mnemonic");
    for (bin, args, stdin) in [
        (keygen_bin, vec![], ""),
        (keygen_bin, vec!["--seed", VECTORS[0].0], ""),
        (mnemonic_bin, vec!["encode"], VECTORS[0].0),
        (mnemonic_bin, vec!["decode"], VECTORS[0].1),
    ] {
        // `cmd | head -c0`: the reading end is gone before the command writes.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut child = std::process::Command::new(bin)
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {:?}", out.status);
        assert!(out.stderr.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn keygen_bad_input_is_one_line_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let cases: &[(&[&str], &str, &str)] = &[
        (&["--seed", "zz00"], "", "non-hex"),
        (&["--seed", "000102030405060708090a0b0c0d0e"], "", "15 bytes"),
        (&["--seed", "00"], "", "1 byte"),
        (&["--seed", &"00".repeat(24)], "", "24 bytes"),
        (&["--seed", ""], "", "empty --seed"),
        (&["--seed", "-"], "", "empty stdin"),
        (&["--seed", "-"], "   \n", "blank stdin"),
        (&["--seed", "-"], "{\"seed\":", "malformed JSON"),
        (&["--seed", "-"], "{\"seeds\":\"00\"}", "JSON without seed"),
        (&["--seed", "-"], "{\"seed\":16}", "seed not a string"),
        (&["--seed", "-"], "{\"seed\":\"0g0102030405060708090a0b0c0d0e0f\"}", "JSON non-hex"),
        (&["--seed", "-"], "amaze buffet cake", "words instead of a seed"),
        (&["--seed-file", missing.to_str().unwrap()], "", "missing file"),
        (&["--seed", "00", "--seed-file", "x"], "", "conflicting flags"),
        (&["--frobnicate"], "", "unknown flag"),
    ];
    for (args, stdin, what) in cases {
        assert_bad_input("keygen", &run(keygen(), args, stdin), what);
    }
}

#[test]
fn mnemonic_bad_input_is_one_line_exit_2() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["encode"], "", "encode empty"),
        (&["encode"], "{\"seed\":\"00", "encode malformed JSON"),
        (&["encode"], "{\"mnemonic\":\"abbey\"}", "encode JSON without seed"),
        (&["encode"], "xyz", "encode non-hex"),
        (&["encode"], "0001020304050607", "encode 8 bytes"),
        (&["encode", "--format", "bip39"], &"00".repeat(20), "encode bip39 20 bytes"),
        (&["encode", "--format", "electrum"], "00", "encode unknown format"),
        (&["decode"], "", "decode empty"),
        (&["decode"], " \t\n", "decode blank"),
        (&["decode"], "{\"mnemonic\": [", "decode malformed JSON"),
        (&["decode"], "{\"seed\":\"00\"}", "decode JSON without mnemonic"),
        (&["decode"], "{\"mnemonic\":\"abbey\",\"format\":\"electrum\"}", "decode JSON unknown format"),
        (&["decode"], "abbey abbey abbey", "decode 3 words"),
        (&["decode"], &["abbey"; 14].join(" "), "decode 14 words"),
        (&["decode"], &["abbey"; 26].join(" "), "decode 26 words"),
        (&["decode", "--format", "bip39"], &["abbey"; 13].join(" "), "decode 13 words as bip39"),
        (&["decode"], &["qqqq"; 13].join(" "), "decode unknown words"),
        (&["decode"], &["ab"; 13].join(" "), "decode too-short words"),
        (
            &["decode"],
            "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed zoom",
            "decode wrong checksum",
        ),
        (
            &["decode"],
            "abbey abbey zoom abbey abbey abbey abbey abbey abbey abbey abbey abbey abbey",
            "decode invalid value",
        ),
        (
            &["decode"],
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon",
            "decode bip39 wrong checksum",
        ),
        (&["decode"], &"x".repeat(5000), "decode huge word"),
        (&["decode"], "\u{0}\u{1}\u{2}", "decode control characters"),
        (&["frobnicate"], "", "unknown subcommand"),
    ];
    for (args, stdin, what) in cases {
        assert_bad_input("mnemonic", &run(mnemonic(), args, stdin), what);
    }
    // Non-UTF-8 input.
    let out = mnemonic().arg("decode").write_stdin(vec![0xff, 0xfe, 0x80]).output().unwrap();
    assert_bad_input("mnemonic", &out, "decode invalid UTF-8");
}

#[test]
fn every_help_has_a_worked_example() {
    for (cmd, args) in [
        (keygen(), vec!["--help"]),
        (mnemonic(), vec!["--help"]),
        (mnemonic(), vec!["encode", "--help"]),
        (mnemonic(), vec!["decode", "--help"]),
    ] {
        let out = run(cmd, &args, "");
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("EXAMPLES:"), "{args:?}: {help}");
    }
}

// ---- completions: the committed files are what the commands generate ----

const TOOLS: [&str; 11] = [
    "keygen",
    "mnemonic",
    "swarm-of",
    "pow",
    "onion-wrap",
    "send",
    "retrieve",
    "ratchet",
    "snode",
    "testnet",
    "attach",
];

fn tool(name: &str) -> Command {
    match name {
        "keygen" => cargo_bin_cmd!("keygen"),
        "mnemonic" => cargo_bin_cmd!("mnemonic"),
        "swarm-of" => cargo_bin_cmd!("swarm-of"),
        "pow" => cargo_bin_cmd!("pow"),
        "onion-wrap" => cargo_bin_cmd!("onion-wrap"),
        "send" => cargo_bin_cmd!("send"),
        "retrieve" => cargo_bin_cmd!("retrieve"),
        "ratchet" => cargo_bin_cmd!("ratchet"),
        "snode" => cargo_bin_cmd!("snode"),
        "testnet" => cargo_bin_cmd!("testnet"),
        "attach" => cargo_bin_cmd!("attach"),
        other => panic!("unknown tool {other}"),
    }
}

#[test]
fn committed_completions_match_the_commands() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let mut stale = Vec::new();
    for name in TOOLS {
        for (shell, file) in [
            ("bash", format!("bash/{name}")),
            ("zsh", format!("zsh/_{name}")),
            ("fish", format!("fish/{name}.fish")),
        ] {
            let out = tool(name).env("SNKIT_GENERATE_COMPLETIONS", shell).output().unwrap();
            assert!(out.status.success(), "{name} {shell}: {}", String::from_utf8_lossy(&out.stderr));
            assert!(!out.stdout.is_empty(), "{name} {shell}: empty completion script");
            let committed = std::fs::read(root.join(&file)).unwrap_or_default();
            if committed != out.stdout {
                stale.push(file);
            }
        }
    }
    assert!(stale.is_empty(), "stale completions (run `make completions` and commit): {stale:?}");
}
