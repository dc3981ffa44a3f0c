//! Benchmarks: ratchet. In-process (no state files), one thread, measured in that thread's CPU
//! time: messages/s encrypting and decrypting on an existing chain, the cost of a DH ratchet
//! step, and of an X3DH handshake.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use snkit::identity::Identity;
use snkit::ratchet::keys::RatchetKeyPair;
use snkit::ratchet::x3dh::{initiator_secret, responder_secret};
use snkit::ratchet::{PrekeyStore, Session, X3dhHeader};

/// Plaintext size of a "small message".
const SMALL: usize = 64;
/// Messages per throughput measurement.
const CHAIN_MESSAGES: usize = 200_000;
/// DH ratchet steps measured.
const STEPS: usize = 2_000;
/// X3DH handshakes measured.
const HANDSHAKES: usize = 500;

fn public(secret: &[u8; 32]) -> [u8; 32] {
    *RatchetKeyPair::from_secret(*secret).public()
}

/// Two sessions that have exchanged one message each way (both chains exist).
fn pair() -> (Session, Session) {
    let mut rng = OsRng;
    let [ik_a, ik_b, spk_b, ek_a]: [[u8; 32]; 4] = std::array::from_fn(|_| rng.r#gen());
    let header = X3dhHeader { ik: public(&ik_a), ek: public(&ek_a), spk_id: 1, opk_id: None };
    let (root, ck) =
        initiator_secret(&ik_a, &ek_a, &public(&ik_b), &public(&spk_b), None).unwrap_or_else(|e| fail(e));
    let mut a = Session::initiate(public(&ik_a), public(&ik_b), root, ck, public(&spk_b), header, &mut rng)
        .unwrap_or_else(|e| fail(e));
    let (root, ck) =
        responder_secret(&ik_b, &spk_b, None, &public(&ik_a), &public(&ek_a)).unwrap_or_else(|e| fail(e));
    let mut b =
        Session::respond(public(&ik_b), public(&ik_a), root, ck, RatchetKeyPair::from_secret(spk_b), header);
    let m = a.encrypt(b"hi").unwrap_or_else(|e| fail(e));
    b.decrypt(&m, &mut rng).unwrap_or_else(|e| fail(e));
    let r = b.encrypt(b"hi").unwrap_or_else(|e| fail(e));
    a.decrypt(&r, &mut rng).unwrap_or_else(|e| fail(e));
    (a, b)
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("ratchet bench: {e}");
    std::process::exit(1)
}

/// CPU time this thread has run (Linux `/proc/thread-self/schedstat`, first field, ns): the
/// machine is shared, so per-core figures use CPU time rather than wall time.
fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

/// Times `f` in CPU time (wall time where CPU time is unavailable).
fn timed(f: impl FnOnce()) -> Duration {
    let (c0, t0) = (cpu_time(), Instant::now());
    f();
    match (c0, cpu_time()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => t0.elapsed(),
    }
}

fn per_sec(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn micros(n: usize, d: Duration) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

pub fn run() {
    let mut rng = OsRng;
    let mut text = [0u8; SMALL];
    rng.fill_bytes(&mut text);

    // Encrypt and decrypt on an existing chain.
    let (mut a, mut b) = pair();
    let mut msgs = Vec::with_capacity(CHAIN_MESSAGES);
    let enc = timed(|| {
        for _ in 0..CHAIN_MESSAGES {
            msgs.push(a.encrypt(&text).unwrap_or_else(|e| fail(e)));
        }
    });
    let dec = timed(|| {
        for m in &msgs {
            black_box(b.decrypt(m, &mut rng).unwrap_or_else(|e| fail(e)));
        }
    });
    println!(
        "ratchet_encrypt_{SMALL}B: {:.0} msgs/s (target: >= 200000 msgs/s per core)",
        per_sec(CHAIN_MESSAGES, enc)
    );
    println!(
        "ratchet_decrypt_{SMALL}B: {:.0} msgs/s (target: >= 200000 msgs/s per core)",
        per_sec(CHAIN_MESSAGES, dec)
    );

    // DH ratchet steps: every message answers the other side's, so each decrypt makes a step
    // (2 X25519 + 2 KDF_RK + a key pair), then the AEAD of a small message.
    let (mut a, mut b) = pair();
    let steps = timed(|| {
        for i in 0..STEPS {
            let (s, r) = if i % 2 == 0 { (&mut a, &mut b) } else { (&mut b, &mut a) };
            let m = s.encrypt(&text).unwrap_or_else(|e| fail(e));
            black_box(r.decrypt(&m, &mut rng).unwrap_or_else(|e| fail(e)));
        }
    });
    println!(
        "ratchet_dh_step: {:.1} us per step (encrypt + decrypt with a new ratchet key) (target: <= 150 us)",
        micros(STEPS, steps)
    );

    // The primitive that bounds a step: one X25519 agreement.
    let (x, y) = (RatchetKeyPair::generate(&mut rng), RatchetKeyPair::generate(&mut rng));
    let dh = timed(|| {
        for _ in 0..STEPS {
            black_box(x.dh(black_box(y.public())).unwrap_or_else(|e| fail(e)));
        }
    });
    println!(
        "ratchet_x25519: {:.1} us per X25519 agreement (reference: a step makes 2 and a key pair)",
        micros(STEPS, dh)
    );

    // X3DH: Bob's bundle verified by Alice, both sides' secrets, both sessions, the first message.
    let bob = Identity::generate();
    let alice = Identity::generate();
    let mut store = PrekeyStore::new(&bob.session_id());
    let bundle = store.publish(&bob, 0, 0, &mut rng).unwrap_or_else(|e| fail(e));
    let spk_secret: [u8; 32] = rng.r#gen();
    let spk = public(&spk_secret);
    let ik_a = alice.x25519_secret().to_bytes();
    let ik_b = bob.x25519_secret().to_bytes();
    let hs = timed(|| {
        for _ in 0..HANDSHAKES {
            let v = bundle.verify().unwrap_or_else(|e| fail(e));
            black_box(&v);
            let ek_secret: [u8; 32] = rng.r#gen();
            let ek_pub = public(&ek_secret);
            let header = X3dhHeader { ik: alice.x25519_public(), ek: ek_pub, spk_id: 1, opk_id: None };
            let (root, ck) = initiator_secret(&ik_a, &ek_secret, &bob.x25519_public(), &spk, None)
                .unwrap_or_else(|e| fail(e));
            let mut sa = Session::initiate(
                alice.x25519_public(),
                bob.x25519_public(),
                root,
                ck,
                spk,
                header,
                &mut rng,
            )
            .unwrap_or_else(|e| fail(e));
            let m = sa.encrypt(&text).unwrap_or_else(|e| fail(e));
            let (root, ck) = responder_secret(&ik_b, &spk_secret, None, &header.ik, &header.ek)
                .unwrap_or_else(|e| fail(e));
            let mut sb = Session::respond(
                bob.x25519_public(),
                alice.x25519_public(),
                root,
                ck,
                RatchetKeyPair::from_secret(spk_secret),
                header,
            );
            black_box(sb.decrypt(&m, &mut rng).unwrap_or_else(|e| fail(e)));
        }
    });
    println!(
        "ratchet_x3dh_handshake: {:.1} us per handshake (bundle check, both sides, first message) (no target)",
        micros(HANDSHAKES, hs)
    );
}
