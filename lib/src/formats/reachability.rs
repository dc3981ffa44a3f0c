//! Reachability testing (docs/faults.md): which nodes test which in each period, the signed
//! test reply and report, and the registry's rules for decommissioning, recommissioning and
//! deregistering a node.
//!
//! Time is cut into periods of the registry's `reach_period_ms`. In period `p`, the testers of a
//! node X are the [`REACH_TESTERS_PER_NODE`] active nodes (in a swarm, not X) whose
//! `BLAKE2b-256(domain ‖ head ‖ p ‖ X ‖ candidate)` is smallest, where `head` is the registry's
//! hash chain at the height the tester reports against. Nobody chooses whom they test, and anyone
//! holding the history can check that a report's tester was assigned. Each tester sends X a signed
//! request, X answers with a signature over (X, tester, p), and the tester reports the outcome,
//! signed, to the registry.
//!
//! A period is *down* for X when at least [`REACH_QUORUM`] distinct assigned testers reported it
//! unreachable and they outnumber those that reached it; *up* symmetrically; otherwise
//! undecided. The registry decommissions X after [`REACH_DECOMMISSION_PERIODS`] decided periods in
//! a row that are all down, recommissions it after [`REACH_RECOMMISSION_PERIODS`] all up, and
//! deregisters it once it stayed decommissioned [`REACH_DEREGISTER_PERIODS`] periods without an
//! up one. One lying tester is one vote: it can neither reach a quorum alone nor outvote two
//! honest testers.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use blake2::{Blake2b, Digest, digest::consts::U32};
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Value, json};

use crate::formats::keys::decode_hex32;
use crate::formats::limits::{
    REACH_DECOMMISSION_PERIODS, REACH_DEREGISTER_PERIODS, REACH_HEIGHT_SLACK, REACH_HISTORY_PERIODS,
    REACH_QUORUM, REACH_RECOMMISSION_PERIODS, REACH_REPORT_MAX_AGE_PERIODS, REACH_TESTERS_PER_NODE,
};
use crate::formats::registry::Registry;

const DOMAIN_ASSIGN: &[u8] = b"snkit-reach-assign-v1";
const DOMAIN_REPLY: &[u8] = b"snkit-reach-reply-v1";
const DOMAIN_REPORT: &[u8] = b"snkit-reach-report-v1";

/// A node's Ed25519 key.
pub type NodeKey = [u8; 32];

/// Why a test reply or a report was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReachError {
    /// A field is missing or has the wrong shape.
    #[error("reachability {what}: {reason}")]
    Malformed {
        /// Reply or report.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The signature does not verify under the signer's key.
    #[error("reachability {0} signature does not verify")]
    Signature(&'static str),
    /// The tester is not one of the testee's assigned testers in that period.
    #[error("{tester} is not assigned to test {testee} in period {period}")]
    NotAssigned {
        /// Tester (hex).
        tester: String,
        /// Testee (hex).
        testee: String,
        /// The period.
        period: u64,
    },
    /// The report's period is in the future or its verdict was already taken.
    #[error("period {period} is not open for reports (now {now})")]
    Period {
        /// The report's period.
        period: u64,
        /// The registry's current period.
        now: u64,
    },
    /// The report's registry height is ahead of the registry or too far behind it.
    #[error("registry height {height} is not within {REACH_HEIGHT_SLACK} of the registry's {current}")]
    Height {
        /// The report's height.
        height: u64,
        /// The registry's height.
        current: u64,
    },
    /// Testing is off in this registry.
    #[error("reachability testing is off in this registry (reach_period_ms = 0)")]
    Off,
}

/// The period a moment (ms since the epoch) falls in.
pub fn period_at(now_ms: u64, period_ms: u64) -> u64 {
    now_ms.checked_div(period_ms).unwrap_or(0)
}

fn rank(head: &[u8; 32], period: u64, testee: &NodeKey, candidate: &NodeKey) -> [u8; 32] {
    let mut h = Blake2b::<U32>::new();
    h.update(DOMAIN_ASSIGN);
    h.update(head);
    h.update(period.to_be_bytes());
    h.update(testee);
    h.update(candidate);
    h.finalize().into()
}

/// The testers of `testee` in `period` under `registry` (module doc), best-ranked first.
pub fn testers_of(registry: &Registry, testee: &NodeKey, period: u64) -> Vec<NodeKey> {
    let head = registry.head();
    let mut ranked: Vec<([u8; 32], NodeKey)> = registry
        .registered()
        .filter(|r| r.pubkey_ed25519 != *testee && !registry.is_decommissioned(&r.pubkey_ed25519))
        .map(|r| (rank(&head, period, testee, &r.pubkey_ed25519), r.pubkey_ed25519))
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().take(REACH_TESTERS_PER_NODE).map(|(_, k)| k).collect()
}

/// The nodes `tester` must test in `period` (every registered node, decommissioned ones too, that
/// has it among its testers). Empty for a decommissioned tester: it does not vote.
pub fn testees_of(registry: &Registry, tester: &NodeKey, period: u64) -> Vec<NodeKey> {
    if registry.is_decommissioned(tester) {
        return Vec::new();
    }
    registry
        .registered()
        .map(|r| r.pubkey_ed25519)
        .filter(|x| x != tester && testers_of(registry, x, period).contains(tester))
        .collect()
}

/// The bytes a tested node signs in its reply: domain ‖ testee ‖ tester ‖ period (u64 BE).
pub fn reply_bytes(testee: &NodeKey, tester: &NodeKey, period: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(DOMAIN_REPLY.len() + 72);
    b.extend_from_slice(DOMAIN_REPLY);
    b.extend_from_slice(testee);
    b.extend_from_slice(tester);
    b.extend_from_slice(&period.to_be_bytes());
    b
}

/// The JSON reply of a tested node: `{"pubkey_ed25519", "tester", "period", "signature"}`.
pub fn reply_json(testee: &NodeKey, tester: &NodeKey, period: u64, signature: &[u8; 64]) -> Value {
    json!({
        "pubkey_ed25519": hex::encode(testee),
        "tester": hex::encode(tester),
        "period": period,
        "signature": STANDARD.encode(signature),
    })
}

fn malformed(what: &'static str, reason: impl Into<String>) -> ReachError {
    ReachError::Malformed { what, reason: reason.into() }
}

fn key_field(v: &Value, field: &str, what: &'static str) -> Result<NodeKey, ReachError> {
    let s = v[field].as_str().ok_or_else(|| malformed(what, format!("\"{field}\" is not a string")))?;
    decode_hex32(s).map_err(|_| malformed(what, format!("\"{field}\" must be 64 hex characters")))
}

fn sig_field(v: &Value, what: &'static str) -> Result<[u8; 64], ReachError> {
    let s = v["signature"].as_str().ok_or_else(|| malformed(what, "\"signature\" is not a string"))?;
    let raw = STANDARD.decode(s).map_err(|_| malformed(what, "\"signature\" is not base64"))?;
    raw.try_into().map_err(|_| malformed(what, "\"signature\" must be 64 bytes"))
}

fn verify(signer: &NodeKey, msg: &[u8], sig: &[u8; 64], what: &'static str) -> Result<(), ReachError> {
    let vk = VerifyingKey::from_bytes(signer).map_err(|_| ReachError::Signature(what))?;
    vk.verify_strict(msg, &Signature::from_bytes(sig)).map_err(|_| ReachError::Signature(what))
}

/// Checks a tested node's reply: it names `testee`, `tester` and `period` and is signed by
/// `testee`.
pub fn check_reply(reply: &Value, testee: &NodeKey, tester: &NodeKey, period: u64) -> Result<(), ReachError> {
    const WHAT: &str = "reply";
    if key_field(reply, "pubkey_ed25519", WHAT)? != *testee || key_field(reply, "tester", WHAT)? != *tester {
        return Err(malformed(WHAT, "names other nodes"));
    }
    if reply["period"].as_u64() != Some(period) {
        return Err(malformed(WHAT, format!("is not for period {period}")));
    }
    verify(testee, &reply_bytes(testee, tester, period), &sig_field(reply, WHAT)?, WHAT)
}

/// One tester's signed outcome of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Who tested.
    pub tester: NodeKey,
    /// Who was tested.
    pub testee: NodeKey,
    /// The period of the test.
    pub period: u64,
    /// The registry height whose head assigned the test.
    pub height: u64,
    /// Whether the testee answered with a valid signed reply.
    pub reachable: bool,
    /// The tester's Ed25519 signature over [`Report::signed_bytes`].
    pub signature: [u8; 64],
}

impl Report {
    /// domain ‖ tester ‖ testee ‖ period (u64 BE) ‖ height (u64 BE) ‖ reachable (1 byte).
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(DOMAIN_REPORT.len() + 81);
        b.extend_from_slice(DOMAIN_REPORT);
        b.extend_from_slice(&self.tester);
        b.extend_from_slice(&self.testee);
        b.extend_from_slice(&self.period.to_be_bytes());
        b.extend_from_slice(&self.height.to_be_bytes());
        b.push(u8::from(self.reachable));
        b
    }

    /// `{"tester", "testee", "period", "height", "reachable", "signature"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "tester": hex::encode(self.tester),
            "testee": hex::encode(self.testee),
            "period": self.period,
            "height": self.height,
            "reachable": self.reachable,
            "signature": STANDARD.encode(self.signature),
        })
    }

    /// Parses a report and checks its signature (not yet its assignment: [`Ledger::record`]).
    pub fn from_json(v: &Value) -> Result<Self, ReachError> {
        const WHAT: &str = "report";
        let num = |f: &str| {
            v[f].as_u64().ok_or_else(|| malformed(WHAT, format!("\"{f}\" is not an unsigned integer")))
        };
        let report = Self {
            tester: key_field(v, "tester", WHAT)?,
            testee: key_field(v, "testee", WHAT)?,
            period: num("period")?,
            height: num("height")?,
            reachable: v["reachable"]
                .as_bool()
                .ok_or_else(|| malformed(WHAT, "\"reachable\" is not a boolean"))?,
            signature: sig_field(v, WHAT)?,
        };
        verify(&report.tester, &report.signed_bytes(), &report.signature, WHAT)?;
        Ok(report)
    }
}

/// What one period says of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A quorum of testers reached it, more than failed to.
    Up,
    /// A quorum of testers could not reach it, more than reached it.
    Down,
    /// Too few reports, or a tie.
    Undecided,
}

/// The reports of one period about one node: the testers that reached it and those that did not
/// (a tester's later report replaces its earlier one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    up: BTreeSet<NodeKey>,
    down: BTreeSet<NodeKey>,
}

impl Tally {
    /// Records one tester's outcome.
    pub fn add(&mut self, tester: NodeKey, reachable: bool) {
        if reachable {
            self.down.remove(&tester);
            self.up.insert(tester);
        } else {
            self.up.remove(&tester);
            self.down.insert(tester);
        }
    }

    /// The period's verdict (module doc).
    pub fn verdict(&self) -> Verdict {
        let (up, down) = (self.up.len(), self.down.len());
        if down >= REACH_QUORUM && down > up {
            Verdict::Down
        } else if up >= REACH_QUORUM && up > down {
            Verdict::Up
        } else {
            Verdict::Undecided
        }
    }

    /// (testers that reached the node, testers that did not).
    pub fn counts(&self) -> (usize, usize) {
        (self.up.len(), self.down.len())
    }
}

/// A change the registry makes to a node's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Out of its swarm (swarm id 2^64−1), still registered.
    Decommission(NodeKey),
    /// Back into a swarm.
    Recommission(NodeKey),
    /// Out of the registry.
    Deregister(NodeKey),
}

/// The registry's record of reports: per node, per period, a [`Tally`]; and the period in which
/// each node's standing last changed, before which no verdict counts again.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    tallies: BTreeMap<NodeKey, BTreeMap<u64, Tally>>,
    changed_at: BTreeMap<NodeKey, u64>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks `report` against `registry` at the current period `now` and records it. The
    /// assignment is checked against the registry as it was at the report's height.
    pub fn record(&mut self, registry: &Registry, report: &Report, now: u64) -> Result<(), ReachError> {
        if registry.reach_period_ms() == 0 {
            return Err(ReachError::Off);
        }
        if report.period > now || now - report.period > REACH_REPORT_MAX_AGE_PERIODS {
            return Err(ReachError::Period { period: report.period, now });
        }
        let current = registry.height() as u64;
        if report.height > current || current - report.height > REACH_HEIGHT_SLACK {
            return Err(ReachError::Height { height: report.height, current });
        }
        let then = registry.at_height(report.height as usize);
        if !testers_of(&then, &report.testee, report.period).contains(&report.tester) {
            return Err(ReachError::NotAssigned {
                tester: hex::encode(report.tester),
                testee: hex::encode(report.testee),
                period: report.period,
            });
        }
        let periods = self.tallies.entry(report.testee).or_default();
        periods.entry(report.period).or_default().add(report.tester, report.reachable);
        while periods.len() > REACH_HISTORY_PERIODS {
            periods.pop_first();
        }
        Ok(())
    }

    /// The tallies of `node`, oldest period first.
    pub fn tallies(&self, node: &NodeKey) -> impl Iterator<Item = (u64, &Tally)> {
        self.tallies.get(node).into_iter().flatten().map(|(p, t)| (*p, t))
    }

    /// What the registry must do now that every period before `now` is closed: at most one
    /// action per registered node, in key order. Call [`Ledger::applied`] for each action taken.
    pub fn decide(&self, registry: &Registry, now: u64) -> Vec<Action> {
        let mut actions = Vec::new();
        for record in registry.registered() {
            let node = record.pubkey_ed25519;
            let since = self.changed_at.get(&node).copied();
            // Closed periods after the node's last change, newest first, decided ones only.
            let decided: Vec<Verdict> = self
                .tallies(&node)
                .filter(|(p, _)| *p < now && since.is_none_or(|s| *p >= s))
                .map(|(_, t)| t.verdict())
                .filter(|v| *v != Verdict::Undecided)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let last_all = |n: usize, v: Verdict| decided.len() >= n && decided[..n].iter().all(|d| *d == v);
            if registry.is_decommissioned(&node) {
                if last_all(REACH_RECOMMISSION_PERIODS, Verdict::Up) {
                    actions.push(Action::Recommission(node));
                } else if since.is_some_and(|s| now.saturating_sub(s) > REACH_DEREGISTER_PERIODS)
                    && !decided.contains(&Verdict::Up)
                {
                    actions.push(Action::Deregister(node));
                }
            } else if last_all(REACH_DECOMMISSION_PERIODS, Verdict::Down) {
                actions.push(Action::Decommission(node));
            }
        }
        actions
    }

    /// Notes that `action` was applied in period `now`: only verdicts of `now` and later count
    /// for that node from here on (the closed periods before it were what decided it).
    pub fn applied(&mut self, action: Action, now: u64) {
        match action {
            Action::Decommission(k) | Action::Recommission(k) => {
                self.changed_at.insert(k, now);
            }
            Action::Deregister(k) => {
                self.changed_at.remove(&k);
                self.tallies.remove(&k);
            }
        }
    }

    /// Marks a decommissioned node found in a loaded registry (a restarted registry server): its
    /// deregistration clock starts now.
    pub fn adopt(&mut self, node: NodeKey, now: u64) {
        self.changed_at.entry(node).or_insert(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn key(i: u8) -> SigningKey {
        SigningKey::from_bytes(&[i; 32])
    }

    /// A registry of `n` nodes (keys 1..=n) with testing on.
    fn registry(n: u8) -> Registry {
        let mut r = Registry::new();
        r.set_reach_period_ms(1000);
        for i in 1..=n {
            let ed = key(i).verifying_key().to_bytes();
            r.join(ed, [i; 32], &format!("127.0.0.{i}"), 20000 + u16::from(i)).unwrap();
        }
        r
    }

    fn report(r: &Registry, tester: u8, testee: &NodeKey, period: u64, reachable: bool) -> Report {
        let sk = key(tester);
        let mut rep = Report {
            tester: sk.verifying_key().to_bytes(),
            testee: *testee,
            period,
            height: r.height() as u64,
            reachable,
            signature: [0; 64],
        };
        rep.signature = sk.sign(&rep.signed_bytes()).to_bytes();
        rep
    }

    fn index_of(k: &NodeKey) -> u8 {
        (1..=255u8).find(|i| key(*i).verifying_key().to_bytes() == *k).unwrap()
    }

    /// Every assigned tester of `testee` in `period` reports; `liar` (if one of them) reports the
    /// opposite of the truth.
    fn run_period(
        l: &mut Ledger,
        r: &Registry,
        testee: &NodeKey,
        period: u64,
        alive: bool,
        liar: Option<u8>,
    ) {
        for t in testers_of(r, testee, period) {
            let i = index_of(&t);
            let says = if Some(i) == liar { !alive } else { alive };
            l.record(r, &report(r, i, testee, period, says), period).unwrap();
        }
    }

    #[test]
    fn assignment_is_deterministic_distinct_and_excludes_the_testee_and_decommissioned_nodes() {
        let mut r = registry(12);
        let x = key(5).verifying_key().to_bytes();
        let t = testers_of(&r, &x, 7);
        assert_eq!(t.len(), REACH_TESTERS_PER_NODE);
        assert_eq!(t, testers_of(&r.clone(), &x, 7), "same inputs, same testers");
        assert!(!t.contains(&x));
        assert_eq!(t.iter().collect::<BTreeSet<_>>().len(), t.len());
        assert!((8..40).any(|p| testers_of(&r, &x, p) != t), "periods rotate the testers");
        // The inverse view agrees.
        for tester in &t {
            assert!(testees_of(&r, tester, 7).contains(&x));
        }
        r.decommission(&t[0]).unwrap();
        assert!(!testers_of(&r, &x, 7).contains(&t[0]), "a decommissioned node does not test");
        assert!(testees_of(&r, &t[0], 7).is_empty());
        assert!(r.registered().count() == 12 && testers_of(&r, &t[0], 7).len() == 3, "but is tested");
    }

    #[test]
    fn reports_verify_round_trip_and_refuse_tampering_and_unassigned_testers() {
        let r = registry(6);
        let x = key(1).verifying_key().to_bytes();
        let t = index_of(&testers_of(&r, &x, 3)[0]);
        let rep = report(&r, t, &x, 3, false);
        assert_eq!(Report::from_json(&rep.to_json()), Ok(rep.clone()));
        let mut flipped = rep.to_json();
        flipped["reachable"] = json!(true);
        assert_eq!(Report::from_json(&flipped), Err(ReachError::Signature("report")));
        let mut l = Ledger::new();
        assert!(l.record(&r, &rep, 3).is_ok());
        assert!(matches!(
            l.record(&r, &rep, 3 + REACH_REPORT_MAX_AGE_PERIODS + 1),
            Err(ReachError::Period { .. })
        ));
        assert!(matches!(l.record(&r, &rep, 2), Err(ReachError::Period { .. })), "a future period");
        let outsider =
            (2..=6).find(|i| !testers_of(&r, &x, 3).contains(&key(*i).verifying_key().to_bytes())).unwrap();
        assert!(matches!(
            l.record(&r, &report(&r, outsider, &x, 3, false), 3),
            Err(ReachError::NotAssigned { .. })
        ));
    }

    #[test]
    fn a_reply_verifies_only_for_its_testee_tester_and_period() {
        let (x, t) = (key(1), key(2));
        let (xk, tk) = (x.verifying_key().to_bytes(), t.verifying_key().to_bytes());
        let sig = x.sign(&reply_bytes(&xk, &tk, 9)).to_bytes();
        let reply = reply_json(&xk, &tk, 9, &sig);
        assert_eq!(check_reply(&reply, &xk, &tk, 9), Ok(()));
        assert!(check_reply(&reply, &xk, &tk, 10).is_err());
        assert!(check_reply(&reply, &tk, &xk, 9).is_err());
        let forged = reply_json(&xk, &tk, 9, &t.sign(&reply_bytes(&xk, &tk, 9)).to_bytes());
        assert_eq!(check_reply(&forged, &xk, &tk, 9), Err(ReachError::Signature("reply")));
    }

    #[test]
    fn a_dead_node_is_decommissioned_after_the_named_periods_then_recommissioned_then_deregistered() {
        let mut r = registry(12);
        let x = key(4).verifying_key().to_bytes();
        let mut l = Ledger::new();
        for p in 0..REACH_DECOMMISSION_PERIODS as u64 {
            assert!(l.decide(&r, p).is_empty(), "not before {REACH_DECOMMISSION_PERIODS} periods");
            run_period(&mut l, &r, &x, p, false, None);
        }
        let now = REACH_DECOMMISSION_PERIODS as u64;
        assert_eq!(l.decide(&r, now), vec![Action::Decommission(x)]);
        r.decommission(&x).unwrap();
        l.applied(Action::Decommission(x), now);
        assert!(l.decide(&r, now).is_empty(), "the down periods that decided it do not count again");
        // It comes back.
        for p in now..now + REACH_RECOMMISSION_PERIODS as u64 {
            run_period(&mut l, &r, &x, p, true, None);
        }
        let now = now + REACH_RECOMMISSION_PERIODS as u64;
        assert_eq!(l.decide(&r, now), vec![Action::Recommission(x)]);
        r.recommission(&x).unwrap();
        l.applied(Action::Recommission(x), now);
        // Down again for good: decommissioned, and later deregistered.
        let mut p = now;
        while l.decide(&r, p).is_empty() {
            run_period(&mut l, &r, &x, p, false, None);
            p += 1;
        }
        assert_eq!(l.decide(&r, p), vec![Action::Decommission(x)]);
        r.decommission(&x).unwrap();
        l.applied(Action::Decommission(x), p);
        let start = p;
        while l.decide(&r, p).is_empty() {
            run_period(&mut l, &r, &x, p, false, None);
            p += 1;
            assert!(p - start <= REACH_DEREGISTER_PERIODS + 1, "deregistered in time");
        }
        assert_eq!(l.decide(&r, p), vec![Action::Deregister(x)]);
        assert_eq!(p - start, REACH_DEREGISTER_PERIODS + 1);
    }

    #[test]
    fn one_lying_tester_can_neither_decommission_a_healthy_node_nor_keep_a_dead_one() {
        let r = registry(12);
        for target in 1..=12u8 {
            let x = key(target).verifying_key().to_bytes();
            for liar in (1..=12u8).filter(|l| *l != target) {
                // Healthy node, the liar says it is down every time it tests it.
                let mut l = Ledger::new();
                for p in 0..20 {
                    run_period(&mut l, &r, &x, p, true, Some(liar));
                    assert!(l.decide(&r, p + 1).is_empty(), "liar {liar} decommissioned healthy {target}");
                }
                // Dead node, the liar says it answers.
                let mut l = Ledger::new();
                let mut p = 0;
                while l.decide(&r, p).is_empty() {
                    run_period(&mut l, &r, &x, p, false, Some(liar));
                    p += 1;
                    assert!(p < 20, "liar {liar} kept dead {target} in");
                }
            }
        }
    }

    #[test]
    fn a_lone_report_or_a_tie_decides_nothing() {
        let mut t = Tally::default();
        t.add([1; 32], false);
        assert_eq!(t.verdict(), Verdict::Undecided);
        t.add([2; 32], true);
        assert_eq!(t.verdict(), Verdict::Undecided);
        t.add([3; 32], false);
        assert_eq!(t.verdict(), Verdict::Down);
        t.add([3; 32], true);
        assert_eq!((t.counts(), t.verdict()), ((2, 1), Verdict::Up), "a later report replaces the earlier");
    }
}
