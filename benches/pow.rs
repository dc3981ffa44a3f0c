//! Benchmarks: pow. The solver's trials/s on one thread and on every thread, next to the
//! machine's raw SHA-512 one-block rate (a trial is one SHA-512 compression: the hashed input
//! `nonce ‖ SHA-512(payload)` is 72 bytes, one padded block), which is the ceiling.
//!
//! Each figure is the best of a few interleaved rounds, and is given both per wall-clock second
//! and per CPU second (the process's CPU time from /proc/self/stat), so that a machine shared with
//! other jobs still shows the per-core efficiency; thread scaling is wall-clock, with the CPU share
//! the threads actually got next to it.
//!
//! Lines: `name: value unit (target: ...)`.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha512};
use snkit::pow::Solver;

/// How long each measurement runs.
const MEASURE: Duration = Duration::from_millis(1500);
/// Interleaved rounds; the best of each is kept.
const ROUNDS: usize = 3;
/// A 686-byte payload, the size of pow.md's server vector.
const PAYLOAD_LEN: usize = 686;
/// Linux reports process CPU time in USER_HZ ticks, 100 per second.
const USER_HZ: f64 = 100.0;

/// One measurement: work done, wall seconds, CPU seconds.
#[derive(Clone, Copy, Default)]
struct Rate {
    wall: f64,
    cpu: f64,
    cpu_share: f64,
}

impl Rate {
    fn new(count: u64, wall: f64, cpu: f64) -> Self {
        Self { wall: count as f64 / wall, cpu: count as f64 / cpu.max(1.0 / USER_HZ), cpu_share: cpu / wall }
    }

    fn best(self, other: Self) -> Self {
        Self {
            wall: self.wall.max(other.wall),
            cpu: self.cpu.max(other.cpu),
            cpu_share: self.cpu_share.max(other.cpu_share),
        }
    }
}

pub fn run() {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let thread_counts: Vec<usize> = (1..=cores.max(2)).collect();
    let (mut digest, mut compress) = (Rate::default(), Rate::default());
    let mut solver = vec![Rate::default(); thread_counts.len()];
    for _ in 0..ROUNDS {
        digest = digest.best(measure(sha512_digest));
        compress = compress.best(measure(sha512_compress));
        for (i, &t) in thread_counts.iter().enumerate() {
            solver[i] = solver[i].best(measure(|stop| solve(t, stop)));
        }
    }
    println!(
        "pow_sha512_64B_digest: {:.0} hashes/s, {:.0} per CPU-second (raw SHA-512 of 64-byte inputs, 1 thread)",
        digest.wall, digest.cpu
    );
    println!(
        "pow_sha512_compress: {:.0} blocks/s, {:.0} per CPU-second (bare compression, 1 thread)",
        compress.wall, compress.cpu
    );
    let one = solver[0];
    println!(
        "pow_trials_1_thread: {:.0} trials/s, {:.0} per CPU-second = {:.0}% of the SHA-512 one-block rate (target: >= 90%), \
         {:.0}% of the bare compression rate (the hard ceiling: a trial is one compression)",
        one.wall,
        one.cpu,
        100.0 * one.cpu / digest.cpu,
        100.0 * one.cpu / compress.cpu
    );
    for (i, &t) in thread_counts.iter().enumerate().skip(1) {
        let r = solver[i];
        println!(
            "pow_trials_{t}_threads: {:.0} trials/s = {:.2}x one thread, on {:.2} CPUs of {cores} (target: linear); \
             {:.0} per CPU-second = {:.0}% of the one-block rate",
            r.wall,
            r.wall / one.wall,
            r.cpu_share,
            r.cpu,
            100.0 * r.cpu / digest.cpu
        );
    }
}

/// Runs `work` (which counts what it did until `stop` is set) for MEASURE.
fn measure(work: impl FnOnce(&AtomicBool) -> u64 + Send) -> Rate {
    let stop = AtomicBool::new(false);
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let count = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(MEASURE);
            stop.store(true, Ordering::Relaxed);
        });
        work(&stop)
    });
    let wall = start.elapsed().as_secs_f64();
    Rate::new(count, wall, cpu_seconds() - cpu0)
}

/// SHA-512 of a 64-byte input in a tight loop: one block with padding, plus finalisation.
fn sha512_digest(stop: &AtomicBool) -> u64 {
    let mut input = [0u8; 64];
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..4096 {
            input[..8].copy_from_slice(&n.to_be_bytes());
            black_box(Sha512::digest(black_box(&input)));
            n += 1;
        }
    }
    n
}

/// The bare compression function on one 128-byte block.
fn sha512_compress(stop: &AtomicBool) -> u64 {
    let mut block = sha2::digest::generic_array::GenericArray::default();
    let mut state = [0u64; 8];
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..4096 {
            block[..8].copy_from_slice(&n.to_be_bytes());
            sha2::compress512(&mut state, std::slice::from_ref(black_box(&block)));
            n += 1;
        }
    }
    black_box(state);
    n
}

/// The real solver (threads striding, progress, cancellation) against an unreachable target;
/// trials counted by its progress callback.
fn solve(threads: usize, stop: &AtomicBool) -> u64 {
    let solver = Solver::new(&[b'a'; PAYLOAD_LEN], 1);
    let trials = AtomicU64::new(0);
    let _ = solver.search(
        threads,
        &|n| {
            trials.fetch_max(n, Ordering::Relaxed);
        },
        stop,
    );
    trials.load(Ordering::Relaxed)
}

/// This process's CPU time (user + system), from /proc/self/stat; 0 where unavailable.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / USER_HZ
}
