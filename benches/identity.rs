//! Benchmarks: identity — in-process key derivation rate, the recovery phrase codec, and the wall
//! time of one whole `keygen` process (target: under 2 ms, like `wg genkey`).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use snkit::identity::Identity;
use snkit::mnemonic::{self, Format};

/// How long each in-process loop runs.
const LOOP_TIME: Duration = Duration::from_millis(1500);
/// `keygen` processes spawned for the wall-time figures (after a few warm-up runs).
const PROCESS_RUNS: usize = 300;
const WARMUP_RUNS: usize = 10;

pub fn run() {
    identities_per_second();
    phrase_codec();
    keygen_process();
}

/// Runs `f` repeatedly for about `LOOP_TIME`; returns operations per second.
fn rate(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < LOOP_TIME {
        for _ in 0..64 {
            f();
        }
        n += 64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn identities_per_second() {
    let r = rate(|| {
        std::hint::black_box(Identity::generate().session_id());
    });
    println!(
        "identity.generate: {r:.0} identities/s (in-process: 16 random bytes → Ed25519 → X25519 → Session ID)"
    );
}

fn phrase_codec() {
    let seed = [7u8; 16];
    let phrase = mnemonic::encode(&seed, Format::Session).unwrap_or_default();
    let enc = rate(|| {
        std::hint::black_box(mnemonic::encode(std::hint::black_box(&seed), Format::Session).ok());
    });
    let dec = rate(|| {
        std::hint::black_box(mnemonic::decode(std::hint::black_box(&phrase), None).ok());
    });
    println!("mnemonic.encode: {enc:.0} phrases/s (13-word Session phrase)");
    println!("mnemonic.decode: {dec:.0} phrases/s (13 words, format detected)");
}

/// The `keygen` binary built with this bench (cargo bench builds every binary of the package
/// in the bench profile); falls back to target/release/keygen.
fn keygen_binary() -> PathBuf {
    let built = PathBuf::from(env!("CARGO_BIN_EXE_keygen"));
    if built.exists() {
        built
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/keygen")
    }
}

fn keygen_process() {
    let bin = keygen_binary();
    let spawn = |bin: &PathBuf| -> Option<Duration> {
        let start = Instant::now();
        let out = Command::new(bin).stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
        let elapsed = start.elapsed();
        out.status.success().then_some(elapsed)
    };
    for _ in 0..WARMUP_RUNS {
        if spawn(&bin).is_none() {
            println!("keygen.process: unavailable ({} did not run)", bin.display());
            return;
        }
    }
    let mut times: Vec<Duration> = (0..PROCESS_RUNS).filter_map(|_| spawn(&bin)).collect();
    if times.is_empty() {
        println!("keygen.process: unavailable");
        return;
    }
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mean = times.iter().map(|d| ms(*d)).sum::<f64>() / times.len() as f64;
    let p50 = ms(times[times.len() / 2]);
    let p99 = ms(times[(times.len() * 99 / 100).min(times.len() - 1)]);
    println!(
        "keygen.process.mean: {mean:.3} ms (target: < 2 ms; {} runs of {}, spawn to exit)",
        times.len(),
        bin.display()
    );
    println!("keygen.process.p50: {p50:.3} ms (target: < 2 ms)");
    println!("keygen.process.p99: {p99:.3} ms");
    // The same spawn cost for a process that does nothing, to show keygen's own share.
    let baseline: Vec<Duration> =
        (0..PROCESS_RUNS / 3).filter_map(|_| spawn(&PathBuf::from("/bin/true"))).collect();
    if !baseline.is_empty() {
        let mut b = baseline;
        b.sort_unstable();
        println!("spawn.baseline.p50: {:.3} ms (/bin/true, for comparison)", ms(b[b.len() / 2]));
    }
}
