//! Benchmarks: pow. The solver's trials/s on one thread and on every thread, next to the
//! machine's raw SHA-512 one-block rate (a trial is one SHA-512 compression: the hashed input
//! `nonce ‖ SHA-512(payload)` is 72 bytes, one padded block), which is the ceiling.
//!
//! Lines: `name: value unit (target: ...)`.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha512};
use snkit::pow::Solver;

/// How long each measurement runs.
const MEASURE: Duration = Duration::from_secs(2);
/// A 686-byte payload, the size of pow.md's server vector.
const PAYLOAD_LEN: usize = 686;

pub fn run() {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let digest_rate = sha512_digest_rate();
    let compress_rate = sha512_compress_rate();
    println!(
        "pow_sha512_64B_digest: {digest_rate:.0} hashes/s (raw one-block SHA-512 of 64-byte inputs, 1 thread)"
    );
    println!("pow_sha512_compress: {compress_rate:.0} blocks/s (bare compression function, 1 thread)");

    let one = solver_rate(1);
    println!(
        "pow_trials_1_thread: {one:.0} trials/s = {:.0}% of the SHA-512 one-block rate (target: >= 90%)",
        100.0 * one / digest_rate
    );
    for threads in 2..=cores.max(2) {
        let rate = solver_rate(threads);
        println!(
            "pow_trials_{threads}_threads: {rate:.0} trials/s = {:.2}x one thread on {cores} cores \
             (target: linear, {:.0}% per core of the SHA-512 rate)",
            rate / one,
            100.0 * rate / threads.min(cores) as f64 / digest_rate
        );
    }
}

/// SHA-512 of a 64-byte input in a tight loop: one block with padding, plus finalisation.
fn sha512_digest_rate() -> f64 {
    let mut input = [0u8; 64];
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < MEASURE {
        for _ in 0..4096 {
            input[..8].copy_from_slice(&n.to_be_bytes());
            let h = Sha512::digest(black_box(&input));
            black_box(&h);
            n += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// The bare compression function on one 128-byte block.
fn sha512_compress_rate() -> f64 {
    let mut block = sha2::digest::generic_array::GenericArray::default();
    let mut state = [0u64; 8];
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < MEASURE {
        for _ in 0..4096 {
            block[..8].copy_from_slice(&n.to_be_bytes());
            sha2::compress512(&mut state, std::slice::from_ref(black_box(&block)));
            n += 1;
        }
    }
    black_box(state);
    n as f64 / start.elapsed().as_secs_f64()
}

/// The real solver (threads striding, progress, cancellation) against an unreachable target,
/// stopped after MEASURE; trials counted by its progress callback.
fn solver_rate(threads: usize) -> f64 {
    let solver = Solver::new(&[b'a'; PAYLOAD_LEN], 1);
    let trials = AtomicU64::new(0);
    let cancel = AtomicBool::new(false);
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(MEASURE);
            cancel.store(true, Ordering::Relaxed);
        });
        let _ = solver.search(
            threads,
            &|n| {
                trials.fetch_max(n, Ordering::Relaxed);
            },
            &cancel,
        );
    });
    trials.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}
