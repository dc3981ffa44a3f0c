//! The proof-of-work nonce of an envelope, exactly as pow.md §4 fixes it:
//!
//! - payload = `dec(timestamp) ‖ dec(ttl_ms) ‖ pubkey_hex66 ‖ data_base64` (ASCII);
//! - h = SHA-512(nonce ‖ SHA-512(payload)), nonce = 8 bytes;
//! - valid when the first 8 bytes of h, big-endian, are **strictly less** than
//!   target = (2^64−1) / (difficulty·(L + ttl_s·L/65535)), L = len(payload)+8, ttl_s = ttl_ms/1000,
//!   every division an integer division (computed here in u128, so nothing overflows);
//! - difficulty 0 means "off": every envelope passes.
//!
//! The solver counts the nonce up from zero as a big-endian integer, split over threads that
//! stride (thread t tries t, t+T, t+2T, ...), and returns the *smallest* valid nonce, so its
//! answer does not depend on the thread count. The hot loop runs one SHA-512 compression per
//! trial: `nonce ‖ SHA-512(payload)` is 72 bytes, which pads to exactly one 128-byte block, so the
//! block is built once and only its first 8 bytes change.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha512};

use crate::formats::envelope::{Envelope, EnvelopeError};
use crate::formats::limits::{POW_MAX_EXPECTED_TRIALS, POW_MAX_THREADS, POW_NONCE_LEN, POW_TRIALS_PER_BATCH};

/// Why a proof of work was refused, or could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PowError {
    /// The envelope is invalid.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The envelope has no nonce though the difficulty is not 0.
    #[error("envelope has no \"nonce\" but the difficulty is {0}")]
    MissingNonce(u64),
    /// The hash prefix is not below the target.
    #[error("insufficient proof of work: hash prefix {value:#018x} is not below the target {target:#018x}")]
    InsufficientWork {
        /// The hash's first 8 bytes, big-endian.
        value: u64,
        /// The target for this difficulty and envelope.
        target: u64,
    },
    /// The target is 0 for this difficulty and payload, so no nonce meets it.
    #[error(
        "difficulty {difficulty} is impossible for a {payload_len}-byte payload with this TTL: \
         the target is 0, no nonce can be below it"
    )]
    ImpossibleTarget {
        /// The difficulty.
        difficulty: u64,
        /// The payload's length in bytes.
        payload_len: usize,
    },
    /// The expected number of trials is over `POW_MAX_EXPECTED_TRIALS`.
    #[error(
        "difficulty {difficulty} is infeasible: about {expected_trials} trials expected, more than \
         the limit of {limit}"
    )]
    Infeasible {
        /// The difficulty.
        difficulty: u64,
        /// Trials expected at this difficulty.
        expected_trials: u64,
        /// The limit.
        limit: u64,
    },
    /// The thread count is outside 1..=`POW_MAX_THREADS`.
    #[error("thread count must be between 1 and {POW_MAX_THREADS}, got {0}")]
    Threads(usize),
    /// The caller cancelled the solving.
    #[error("solving was cancelled after {0} trials")]
    Cancelled(u64),
    /// No nonce of the 64-bit space meets the target.
    #[error("no nonce in the whole 64-bit space meets the target")]
    Exhausted,
}

/// The outcome of checking an envelope's nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The first 8 bytes of h, big-endian (0 when the difficulty is 0 and no nonce was given).
    pub value: u64,
    /// The target the value had to be below (`u64::MAX` when the difficulty is 0).
    pub target: u64,
    /// hex(h), 128 characters: the v1 message hash (pow.md §4). Empty without a nonce.
    pub hash: String,
    /// Whether `value < target` (always true at difficulty 0).
    pub valid: bool,
}

/// Length of L's constant part: the nonce (pow.md: L = len(payload) + 8).
const NONCE_LEN_U128: u128 = POW_NONCE_LEN as u128;
/// The 65535 of pow.md's `ttl_s·L/65535`.
const TTL_DIVISOR: u128 = 65_535;

/// SHA-512's initial hash value (FIPS 180-4 §5.3.5). Pinned against `Sha512::digest` by
/// `one_block_hash_matches_sha512` below.
const SHA512_IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// The target for a payload of `payload_len` bytes, a TTL in ms and a difficulty (pow.md §4).
/// Difficulty 0 has no target (every nonce passes) and is reported as `u64::MAX`.
pub fn target(payload_len: usize, ttl_ms: u64, difficulty: u64) -> Result<u64, PowError> {
    if difficulty == 0 {
        return Ok(u64::MAX);
    }
    let impossible = || PowError::ImpossibleTarget { difficulty, payload_len };
    let l = payload_len as u128 + NONCE_LEN_U128;
    let ttl_s = u128::from(ttl_ms / 1000);
    let inner = ttl_s.checked_mul(l).ok_or_else(impossible)? / TTL_DIVISOR;
    let denominator = u128::from(difficulty)
        .checked_mul(l.checked_add(inner).ok_or_else(impossible)?)
        .ok_or_else(impossible)?;
    let t = u128::from(u64::MAX) / denominator;
    if t == 0 {
        return Err(impossible());
    }
    // t ≤ u64::MAX because denominator ≥ 1.
    u64::try_from(t).map_err(|_| impossible())
}

/// The mean number of trials a solver needs to get below `target`: 2^64 / target.
pub fn expected_trials(target: u64) -> u64 {
    let t = u128::from(target.max(1));
    u64::try_from((1u128 << 64) / t).unwrap_or(u64::MAX)
}

/// Refuses a difficulty whose expected work on this envelope exceeds `limit` trials.
pub fn check_feasible(env: &Envelope, difficulty: u64, limit: u64) -> Result<(), PowError> {
    if difficulty == 0 {
        return Ok(());
    }
    let expected = expected_trials(envelope_target(env, difficulty)?);
    if expected > limit {
        return Err(PowError::Infeasible { difficulty, expected_trials: expected, limit });
    }
    Ok(())
}

/// The target of an envelope at a difficulty.
pub fn envelope_target(env: &Envelope, difficulty: u64) -> Result<u64, PowError> {
    target(env.pow_payload().len(), env.ttl, difficulty)
}

/// h = SHA-512(nonce ‖ SHA-512(payload)) for an envelope and a nonce.
pub fn hash(env: &Envelope, nonce: &[u8; POW_NONCE_LEN]) -> [u8; 64] {
    let inner = Sha512::digest(env.pow_payload());
    let mut h = Sha512::new();
    h.update(nonce);
    h.update(inner);
    h.finalize().into()
}

/// Checks the envelope's nonce at a difficulty and reports value, target and hash.
/// Errors only on malformed input (bad envelope, missing nonce, impossible difficulty).
pub fn evaluate(env: &Envelope, difficulty: u64) -> Result<Evaluation, PowError> {
    env.validate()?;
    let nonce = env.nonce_bytes()?;
    let Some(nonce) = nonce else {
        if difficulty == 0 {
            return Ok(Evaluation { value: 0, target: u64::MAX, hash: String::new(), valid: true });
        }
        return Err(PowError::MissingNonce(difficulty));
    };
    let h = hash(env, &nonce);
    let value = u64::from_be_bytes(first8(&h));
    let target = envelope_target(env, difficulty)?;
    Ok(Evaluation { value, target, hash: hex::encode(h), valid: difficulty == 0 || value < target })
}

/// Verifies the envelope's proof of work (difficulty 0 always passes).
pub fn verify(env: &Envelope, difficulty: u64) -> Result<(), PowError> {
    let e = evaluate(env, difficulty)?;
    if e.valid { Ok(()) } else { Err(PowError::InsufficientWork { value: e.value, target: e.target }) }
}

/// Finds the smallest nonce (counting up from zero, big-endian) that meets the difficulty, on
/// `threads` threads. `progress` is called now and then with the total trials so far.
pub fn solve(
    env: &Envelope,
    difficulty: u64,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<[u8; POW_NONCE_LEN], PowError> {
    solve_with_cancel(env, difficulty, threads, progress, &AtomicBool::new(false))
}

/// [`solve`], stopping with [`PowError::Cancelled`] once `cancel` is set.
pub fn solve_with_cancel(
    env: &Envelope,
    difficulty: u64,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
) -> Result<[u8; POW_NONCE_LEN], PowError> {
    env.validate()?;
    if threads == 0 || threads > POW_MAX_THREADS {
        return Err(PowError::Threads(threads));
    }
    if difficulty == 0 {
        return Ok([0; POW_NONCE_LEN]);
    }
    check_feasible(env, difficulty, POW_MAX_EXPECTED_TRIALS)?;
    let target = envelope_target(env, difficulty)?;
    let solver = Solver::new(&env.pow_payload(), target);
    let nonce = solver.search(threads, progress, cancel)?;
    Ok(nonce.to_be_bytes())
}

/// The search over nonces for one payload: the prepared block and the target.
#[derive(Debug, Clone)]
pub struct Solver {
    /// `nonce(8) ‖ SHA-512(payload)(64) ‖ 0x80 ‖ zeros ‖ bit length 576 (u128 BE)`.
    block: [u8; 128],
    target: u64,
}

impl Solver {
    /// Prepares the search: hashes the payload once and builds the padded block.
    pub fn new(payload: &[u8], target: u64) -> Self {
        let inner = Sha512::digest(payload);
        let mut block = [0u8; 128];
        block[POW_NONCE_LEN..POW_NONCE_LEN + 64].copy_from_slice(&inner);
        block[POW_NONCE_LEN + 64] = 0x80;
        let bits = ((POW_NONCE_LEN + 64) * 8) as u128;
        block[112..].copy_from_slice(&bits.to_be_bytes());
        Self { block, target }
    }

    /// The first 8 bytes of SHA-512(nonce ‖ SHA-512(payload)), big-endian: one compression.
    #[inline]
    pub fn trial_value(block: &mut GenericArray<u8, sha2::digest::consts::U128>, nonce: u64) -> u64 {
        block[..POW_NONCE_LEN].copy_from_slice(&nonce.to_be_bytes());
        let mut state = SHA512_IV;
        sha2::compress512(&mut state, std::slice::from_ref(block));
        state[0]
    }

    /// Tries `count` nonces `start, start+stride, ...` below `limit`; returns the first valid one.
    /// This is the hot loop (also used by the benchmark).
    pub fn run_batch(&self, start: u64, stride: u64, count: u64, limit: u64) -> Option<u64> {
        let mut block = GenericArray::clone_from_slice(&self.block);
        let mut nonce = start;
        for _ in 0..count {
            if nonce >= limit {
                return None;
            }
            if Self::trial_value(&mut block, nonce) < self.target {
                return Some(nonce);
            }
            nonce = nonce.checked_add(stride)?;
        }
        None
    }

    /// Searches all nonces from 0 on `threads` threads; returns the smallest valid one.
    pub fn search(
        &self,
        threads: usize,
        progress: &(dyn Fn(u64) + Sync),
        cancel: &AtomicBool,
    ) -> Result<u64, PowError> {
        let best = AtomicU64::new(u64::MAX);
        let trials = AtomicU64::new(0);
        let exhausted = AtomicU64::new(0);
        let stride = threads as u64;
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (best, trials, exhausted) = (&best, &trials, &exhausted);
                scope.spawn(move || {
                    let mut next = Some(t as u64);
                    while let Some(start) = next {
                        let limit = best.load(Ordering::Relaxed);
                        if start >= limit || cancel.load(Ordering::Relaxed) {
                            return;
                        }
                        if let Some(found) = self.run_batch(start, stride, POW_TRIALS_PER_BATCH, limit) {
                            best.fetch_min(found, Ordering::Relaxed);
                            return;
                        }
                        let done =
                            trials.fetch_add(POW_TRIALS_PER_BATCH, Ordering::Relaxed) + POW_TRIALS_PER_BATCH;
                        progress(done);
                        next = start.checked_add(stride * POW_TRIALS_PER_BATCH);
                    }
                    exhausted.fetch_add(1, Ordering::Relaxed);
                });
            }
        });
        let found = best.load(Ordering::Relaxed);
        if found != u64::MAX {
            return Ok(found);
        }
        if cancel.load(Ordering::Relaxed) {
            return Err(PowError::Cancelled(trials.load(Ordering::Relaxed)));
        }
        Err(PowError::Exhausted)
    }
}

fn first8(h: &[u8; 64]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&h[..8]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::envelope::encode_nonce;

    #[test]
    fn expected_trials_is_two_to_the_64_over_the_target() {
        assert_eq!(expected_trials(u64::MAX), 1);
        assert_eq!(expected_trials(1 << 32), 1 << 32);
        assert_eq!(expected_trials(1), u64::MAX);
        assert_eq!(expected_trials(0), u64::MAX);
    }

    #[test]
    fn infeasible_difficulty_is_refused_before_solving() {
        let env =
            Envelope { pubkey: PK.into(), timestamp: 1, ttl: 86_400_000, data: "aGk=".into(), nonce: None };
        let err = solve(&env, 1 << 40, 1, &|_| {}).err();
        assert!(matches!(err, Some(PowError::Infeasible { .. })), "{err:?}");
        assert_eq!(check_feasible(&env, 0, 1), Ok(()));
        assert!(check_feasible(&env, 10, 1 << 30).is_ok());
    }

    /// oxen-storage-server v1.0.1 `unit_test/pow.cpp` (valid at difficulty 10).
    const PK: &str = "054368520005786b249bcd461d28f75e560ea794014eeb17fcf6003f37d876783e";
    const DATA: &str = concat!(
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

    fn server_vector() -> Envelope {
        Envelope {
            pubkey: PK.into(),
            timestamp: 1_554_859_211,
            ttl: 345_600,
            data: DATA.into(),
            nonce: Some("AAAAAAAaFio=".into()),
        }
    }

    #[test]
    fn server_vector_is_valid_at_difficulty_10() {
        let env = server_vector();
        assert_eq!(DATA.len(), 604);
        assert_eq!(env.pow_payload().len(), 686);
        assert_eq!(envelope_target(&env, 10), Ok(0x9670fa5800967));
        let e = evaluate(&env, 10).unwrap();
        assert_eq!(e.value, 0x000000edaab70fbd);
        assert!(e.valid);
        assert_eq!(e.hash.len(), 128);
        assert!(e.hash.starts_with("000000edaab70fbd"));
        assert_eq!(verify(&env, 10), Ok(()));
    }

    #[test]
    fn server_vector_wrong_nonce_fails() {
        let env = Envelope { nonce: Some("AAAAAAABBCF=".into()), ..server_vector() };
        assert!(matches!(verify(&env, 10), Err(PowError::InsufficientWork { .. })));
    }

    #[test]
    fn server_vector_wrong_timestamp_fails() {
        let env = Envelope { timestamp: 1_549_252_653, ..server_vector() };
        assert!(matches!(verify(&env, 10), Err(PowError::InsufficientWork { .. })));
    }

    #[test]
    fn server_vector_wrong_ttl_fails() {
        let env = Envelope { ttl: 345_601, ..server_vector() };
        assert!(matches!(verify(&env, 10), Err(PowError::InsufficientWork { .. })));
    }

    #[test]
    fn client_calc_target_vectors() {
        // libloki calcTarget(ttl_s = 86400, payloadLen, 10): its payloadLen is our payload length
        // (it adds the 8 nonce bytes itself, as we do), its ttl is already in seconds.
        assert_eq!(
            target(625, 86_400_000, 10).unwrap().to_be_bytes(),
            [0x00, 0x04, 0x77, 0xa4, 0x23, 0xe0, 0xde, 0x40]
        );
        assert_eq!(
            target(6597, 86_400_000, 10).unwrap().to_be_bytes(),
            [0x00, 0x00, 0x6d, 0x91, 0xae, 0x92, 0x7c, 0x03]
        );
        // Sub-second TTL parts are dropped by the integer division.
        assert_eq!(target(625, 86_400_999, 10), target(625, 86_400_000, 10));
    }

    #[test]
    fn difficulty_zero_always_passes() {
        let env = Envelope { nonce: None, ..server_vector() };
        assert_eq!(verify(&env, 0), Ok(()));
        let env = Envelope { nonce: Some("AAAAAAABBCF=".into()), ..server_vector() };
        assert_eq!(verify(&env, 0), Ok(()));
        assert_eq!(solve(&env, 0, 1, &|_| {}), Ok([0; 8]));
    }

    #[test]
    fn missing_nonce_and_bad_nonce_are_typed() {
        let env = Envelope { nonce: None, ..server_vector() };
        assert_eq!(verify(&env, 10), Err(PowError::MissingNonce(10)));
        let env = Envelope { nonce: Some("AAAA".into()), ..server_vector() };
        assert!(matches!(verify(&env, 10), Err(PowError::Envelope(EnvelopeError::NonceEncoding(_)))));
    }

    #[test]
    fn impossible_difficulty_is_an_error_not_an_overflow() {
        assert!(matches!(target(686, 345_600, u64::MAX), Err(PowError::ImpossibleTarget { .. })));
        assert!(matches!(target(usize::MAX, u64::MAX, u64::MAX), Err(PowError::ImpossibleTarget { .. })));
        // The largest difficulty that still leaves target 1.
        let l = 686u128 + 8;
        let denom_unit = l + (345 * l) / 65_535;
        let d = (u128::from(u64::MAX) / denom_unit) as u64;
        assert_eq!(target(686, 345_600, d), Ok(1));
        assert!(matches!(target(686, 345_600, d + 1), Err(PowError::ImpossibleTarget { .. })));
    }

    #[test]
    fn one_block_hash_matches_sha512() {
        let env = server_vector();
        let solver = Solver::new(&env.pow_payload(), 0);
        let mut block = GenericArray::clone_from_slice(&solver.block);
        for nonce in [0u64, 1, 0x1a162a, u64::MAX] {
            let h = hash(&env, &nonce.to_be_bytes());
            assert_eq!(Solver::trial_value(&mut block, nonce), u64::from_be_bytes(first8(&h)));
        }
    }

    #[test]
    fn solve_finds_the_smallest_nonce_whatever_the_thread_count() {
        let env = Envelope { nonce: None, ..server_vector() };
        let one = solve(&env, 10, 1, &|_| {}).unwrap();
        let three = solve(&env, 10, 3, &|_| {}).unwrap();
        assert_eq!(one, three);
        let solved = Envelope { nonce: Some(encode_nonce(&one)), ..env.clone() };
        assert_eq!(verify(&solved, 10), Ok(()));
        // Nothing below it passes.
        let target = envelope_target(&env, 10).unwrap();
        let solver = Solver::new(&env.pow_payload(), target);
        let n = u64::from_be_bytes(one);
        assert_eq!(solver.run_batch(0, 1, n, n), None);
    }

    #[test]
    fn solve_reports_progress_and_cancels() {
        let env = Envelope { nonce: None, ..server_vector() };
        let cancel = AtomicBool::new(true);
        assert!(matches!(
            solve_with_cancel(&env, 1_000_000, 2, &|_| {}, &cancel),
            Err(PowError::Cancelled(_))
        ));
        let seen = AtomicU64::new(0);
        let nonce = solve(&env, 100, 2, &|n| {
            seen.fetch_max(n, Ordering::Relaxed);
        })
        .unwrap();
        // Every thread reports after each full batch it finished below the answer.
        if u64::from_be_bytes(nonce) >= 2 * POW_TRIALS_PER_BATCH {
            assert!(seen.load(Ordering::Relaxed) >= POW_TRIALS_PER_BATCH);
        }
        assert_eq!(solve(&env, 10, 0, &|_| {}), Err(PowError::Threads(0)));
    }
}
