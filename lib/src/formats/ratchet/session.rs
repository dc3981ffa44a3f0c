//! One Double Ratchet session with one peer (spec ratchet.md, "Double Ratchet"): the root key,
//! our sending chain, the peer's receiving chains (current first, then at most
//! [`MAX_OLD_RECEIVING_CHAINS`] old ones), the skipped message keys (at most
//! [`MAX_SKIPPED_KEYS`], oldest evicted) and a memory of what was forgotten so that late
//! messages get a precise error.
//!
//! Decryption never mutates the session before the AEAD verifies: it computes a `Plan` (the
//! keys and the changes), opens the message with the planned key, and only then applies the plan.

use std::collections::VecDeque;
use std::fmt;

use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::encoding::hex_bytes;
use super::error::RatchetError;
use super::keys::{ChainKey, MessageKey, RatchetKeyPair, RemoteRatchetKey, RootKey};
use super::wire::{Header, WireMessage};
use super::x3dh::{AD_LEN, X3dhHeader, associated_data};
use crate::formats::identity::SessionId;
use crate::formats::limits::{
    MAX_FORGOTTEN_RECORDS, MAX_OLD_RECEIVING_CHAINS, MAX_SKIP, MAX_SKIPPED_KEYS, MAX_UNACKED_RUNS,
};

/// Version of the session file format.
const SESSION_FORMAT: u32 = 1;

/// Our sending chain: our ratchet key pair and the chain key it produced.
#[derive(Serialize, Deserialize)]
struct SendingChain {
    ratchet: RatchetKeyPair,
    chain: ChainKey,
}

/// A receiving chain: the peer's ratchet public key and the chain key derived with it.
#[derive(Serialize, Deserialize)]
struct ReceivingChain {
    ratchet: RemoteRatchetKey,
    chain: ChainKey,
}

/// A message key kept for a message that has not arrived yet.
#[derive(Clone, Serialize, Deserialize)]
struct SkippedKey {
    ratchet: RemoteRatchetKey,
    key: MessageKey,
}

/// Indices `from..to` of the chain `ratchet` whose keys are gone for good (evicted skipped
/// keys; `to == u32::MAX` for a dropped chain's never-derived keys).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Forgotten {
    ratchet: RemoteRatchetKey,
    from: u32,
    to: u32,
}

/// A Double Ratchet session.
#[derive(Serialize, Deserialize)]
pub struct Session {
    format: u32,
    /// Our identity key (= our Session ID's X25519 key).
    #[serde(with = "hex_bytes")]
    local_ik: [u8; 32],
    /// The peer's identity key (= their Session ID's X25519 key).
    #[serde(with = "hex_bytes")]
    remote_ik: [u8; 32],
    /// Whether we were the X3DH initiator (AD puts the initiator's key first).
    initiator: bool,
    root: RootKey,
    sending: SendingChain,
    /// Length of our previous sending chain.
    pn: u32,
    receiving: Vec<ReceivingChain>,
    skipped: VecDeque<SkippedKey>,
    forgotten: VecDeque<Forgotten>,
    /// The X3DH header our messages carry until the peer first replies (initiator only).
    pending_x3dh: Option<X3dhHeader>,
    /// The X3DH header this session was made from (responder only): later messages that carry
    /// exactly this header belong to it.
    #[serde(default)]
    remote_x3dh: Option<X3dhHeader>,
    /// At-least-once delivery: per run that has not acknowledged its output, the key of the
    /// last message it decrypted (see [`Session::decrypt_unacked`]), oldest first.
    #[serde(default)]
    unacked: VecDeque<Unacked>,
}

/// The key of a decrypted message whose output may not have reached the reader, with the run
/// (one process) that decrypted it.
#[derive(Clone, Serialize, Deserialize)]
struct Unacked {
    ratchet: RemoteRatchetKey,
    key: MessageKey,
    run: u64,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("local", &SessionId::from_x25519(self.local_ik).to_string())
            .field("peer", &SessionId::from_x25519(self.remote_ik).to_string())
            .field("sending_ratchet", &hex::encode(self.sending.ratchet.public()))
            .field("sending_index", &self.sending.chain.index())
            .field("receiving_chains", &self.receiving.len())
            .field("skipped_keys", &self.skipped.len())
            .finish_non_exhaustive()
    }
}

/// What a decryption would change, computed before the AEAD is checked.
struct Plan {
    ratchet: RemoteRatchetKey,
    key: MessageKey,
    /// The message is the unacknowledged one of an earlier run: decrypt it again.
    redelivered: bool,
    take_skipped: Option<usize>,
    store: Vec<SkippedKey>,
    update: Update,
}

enum Update {
    None,
    Chain { idx: usize, chain: ChainKey },
    Step(Box<Step>),
}

struct Step {
    root: RootKey,
    receiving: ReceivingChain,
    sending: SendingChain,
    pn: u32,
    /// The current receiving chain advanced to the peer's `pn` (its tail became skipped keys).
    old_advanced: Option<ChainKey>,
}

fn check_skip(from: u32, to: u32) -> Result<(), RatchetError> {
    let skip = u64::from(to).saturating_sub(u64::from(from));
    if skip > u64::from(MAX_SKIP) {
        return Err(RatchetError::TooFarAhead { index: to, skip, max: MAX_SKIP });
    }
    Ok(())
}

/// Advances `chain` to index `until`, keeping the keys passed over.
fn skip_to(
    chain: &ChainKey,
    ratchet: RemoteRatchetKey,
    until: u32,
    store: &mut Vec<SkippedKey>,
) -> Result<ChainKey, RatchetError> {
    let mut c = chain.clone();
    while c.index() < until {
        store.push(SkippedKey { ratchet, key: c.message_key() });
        c = c.next()?;
    }
    Ok(c)
}

impl Session {
    /// The X3DH initiator's session (Signal spec §3.3, Alice): a first DH ratchet step against
    /// the responder's signed prekey; the X3DH chain key becomes the receiving chain of that
    /// prekey (the responder may send first on it).
    pub fn initiate(
        local_ik: [u8; 32],
        remote_ik: [u8; 32],
        root: RootKey,
        chain: ChainKey,
        remote_spk: [u8; 32],
        x3dh: X3dhHeader,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, RatchetError> {
        let ratchet = RatchetKeyPair::generate(rng);
        let (root, send) = root.step(&*ratchet.dh(&remote_spk)?);
        Ok(Self {
            format: SESSION_FORMAT,
            local_ik,
            remote_ik,
            initiator: true,
            root,
            sending: SendingChain { ratchet, chain: send },
            pn: 0,
            receiving: vec![ReceivingChain { ratchet: RemoteRatchetKey::new(remote_spk), chain }],
            skipped: VecDeque::new(),
            forgotten: VecDeque::new(),
            pending_x3dh: Some(x3dh),
            remote_x3dh: None,
            unacked: VecDeque::new(),
        })
    }

    /// The X3DH responder's session (Bob): the signed prekey is the first ratchet key and the
    /// X3DH chain key the first sending chain (libsignal's choice).
    pub fn respond(
        local_ik: [u8; 32],
        remote_ik: [u8; 32],
        root: RootKey,
        chain: ChainKey,
        spk: RatchetKeyPair,
        x3dh: X3dhHeader,
    ) -> Self {
        Self {
            format: SESSION_FORMAT,
            local_ik,
            remote_ik,
            initiator: false,
            root,
            sending: SendingChain { ratchet: spk, chain },
            pn: 0,
            receiving: Vec::new(),
            skipped: VecDeque::new(),
            forgotten: VecDeque::new(),
            pending_x3dh: None,
            remote_x3dh: Some(x3dh),
            unacked: VecDeque::new(),
        }
    }

    /// Our Session ID.
    pub fn local(&self) -> SessionId {
        SessionId::from_x25519(self.local_ik)
    }

    /// The peer's Session ID.
    pub fn peer(&self) -> SessionId {
        SessionId::from_x25519(self.remote_ik)
    }

    /// The X3DH header this (responder) session was made from.
    pub fn remote_x3dh(&self) -> Option<&X3dhHeader> {
        self.remote_x3dh.as_ref()
    }

    /// Whether our messages still carry the X3DH header (the peer has not replied yet).
    pub fn awaiting_reply(&self) -> bool {
        self.pending_x3dh.is_some()
    }

    /// Number of skipped message keys stored.
    pub fn skipped_keys(&self) -> usize {
        self.skipped.len()
    }

    fn ad(&self) -> [u8; AD_LEN] {
        if self.initiator {
            associated_data(&self.local_ik, &self.remote_ik)
        } else {
            associated_data(&self.remote_ik, &self.local_ik)
        }
    }

    /// Encrypts one message on the sending chain.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<WireMessage, RatchetError> {
        let next = self.sending.chain.next()?;
        let key = self.sending.chain.message_key();
        let header = Header {
            ratchet: RemoteRatchetKey::new(*self.sending.ratchet.public()),
            pn: self.pn,
            n: self.sending.chain.index(),
        };
        let ct = key.expand().seal(&self.ad(), &header.to_bytes(), plaintext);
        self.sending.chain = next;
        Ok(WireMessage { from: self.local(), to: self.peer(), header, ct, x3dh: self.pending_x3dh })
    }

    /// Decrypts one message. On any error the session is exactly as it was.
    pub fn decrypt(
        &mut self,
        msg: &WireMessage,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Zeroizing<Vec<u8>>, RatchetError> {
        self.decrypt_inner(msg, None, rng).map(|(p, _)| p)
    }

    /// Decrypts one message for at-least-once delivery by the run `run` (a random id of one
    /// process): the message's key is kept until [`Session::acknowledge`], so that if the
    /// process dies after committing but before its output was read, the next run decrypts the
    /// same message again (returned with `true`: "redelivered"). Within one run, a second copy
    /// is a duplicate as usual.
    pub fn decrypt_unacked(
        &mut self,
        msg: &WireMessage,
        run: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(Zeroizing<Vec<u8>>, bool), RatchetError> {
        self.decrypt_inner(msg, Some(run), rng)
    }

    /// Forgets the key kept for redelivery (the output was delivered). Returns whether there
    /// was one (i.e. whether the session changed).
    pub fn acknowledge(&mut self) -> bool {
        let had = !self.unacked.is_empty();
        self.unacked.clear();
        had
    }

    fn decrypt_inner(
        &mut self,
        msg: &WireMessage,
        run: Option<u64>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(Zeroizing<Vec<u8>>, bool), RatchetError> {
        if msg.to != self.local() {
            return Err(RatchetError::WrongRecipient {
                to: msg.to.to_string(),
                us: self.local().to_string(),
            });
        }
        if msg.from != self.peer() {
            return Err(RatchetError::SenderMismatch(format!(
                "the message is from {}, this session is with {}",
                msg.from,
                self.peer()
            )));
        }
        let plan = self.plan(&msg.header, run, rng)?;
        let plaintext = plan.key.expand().open(&self.ad(), &msg.header.to_bytes(), &msg.ct)?;
        let redelivered = plan.redelivered;
        self.apply(plan, run);
        Ok((plaintext, redelivered))
    }

    fn lost(&self, ratchet: &RemoteRatchetKey, index: u32) -> RatchetError {
        if self.forgotten.iter().any(|f| f.ratchet == *ratchet && f.from <= index && index < f.to) {
            RatchetError::EvictedKey { index, max: MAX_SKIPPED_KEYS }
        } else {
            RatchetError::DuplicateMessage { index }
        }
    }

    fn plan(
        &self,
        header: &Header,
        run: Option<u64>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Plan, RatchetError> {
        let (ratchet, n) = (header.ratchet, header.n);
        if let Some(u) = self
            .unacked
            .iter()
            .find(|u| u.ratchet == ratchet && u.key.index() == n && run.is_some_and(|r| r != u.run))
        {
            return Ok(Plan {
                ratchet,
                key: u.key.clone(),
                redelivered: true,
                take_skipped: None,
                store: Vec::new(),
                update: Update::None,
            });
        }
        if let Some(pos) = self.skipped.iter().position(|s| s.ratchet == ratchet && s.key.index() == n) {
            let key = self.skipped[pos].key.clone();
            return Ok(Plan {
                ratchet,
                key,
                redelivered: false,
                take_skipped: Some(pos),
                store: Vec::new(),
                update: Update::None,
            });
        }
        if let Some(idx) = self.receiving.iter().position(|c| c.ratchet == ratchet) {
            let chain = &self.receiving[idx].chain;
            if n < chain.index() {
                return Err(self.lost(&ratchet, n));
            }
            check_skip(chain.index(), n)?;
            let mut store = Vec::new();
            let at = skip_to(chain, ratchet, n, &mut store)?;
            let next = at.next()?;
            return Ok(Plan {
                ratchet,
                key: at.message_key(),
                redelivered: false,
                take_skipped: None,
                store,
                update: Update::Chain { idx, chain: next },
            });
        }
        if self.forgotten.iter().any(|f| f.ratchet == ratchet) {
            return Err(self.lost(&ratchet, n));
        }
        // A new ratchet key from the peer: a DH ratchet step.
        check_skip(0, n)?;
        let mut store = Vec::new();
        let old_advanced = match self.receiving.first() {
            Some(cur) if header.pn > cur.chain.index() => {
                check_skip(cur.chain.index(), header.pn)?;
                Some(skip_to(&cur.chain, cur.ratchet, header.pn, &mut store)?)
            }
            _ => None,
        };
        let (root, recv) = self.root.step(&*self.sending.ratchet.dh(ratchet.as_bytes())?);
        let ours = RatchetKeyPair::generate(rng);
        let (root, send) = root.step(&*ours.dh(ratchet.as_bytes())?);
        let at = skip_to(&recv, ratchet, n, &mut store)?;
        let next = at.next()?;
        Ok(Plan {
            ratchet,
            key: at.message_key(),
            redelivered: false,
            take_skipped: None,
            store,
            update: Update::Step(Box::new(Step {
                root,
                receiving: ReceivingChain { ratchet, chain: next },
                sending: SendingChain { ratchet: ours, chain: send },
                pn: self.sending.chain.index(),
                old_advanced,
            })),
        })
    }

    fn apply(&mut self, plan: Plan, run: Option<u64>) {
        if let Some(run) = run {
            // Our run's previous message was printed before this one was read: only the last
            // one can be unread. A redelivered message moves from its old run to ours.
            self.unacked.retain(|u| {
                u.run != run && !(u.ratchet == plan.ratchet && u.key.index() == plan.key.index())
            });
            self.unacked.push_back(Unacked { ratchet: plan.ratchet, key: plan.key.clone(), run });
            while self.unacked.len() > MAX_UNACKED_RUNS {
                self.unacked.pop_front();
            }
        }
        if let Some(pos) = plan.take_skipped {
            self.skipped.remove(pos);
        }
        match plan.update {
            Update::None => {}
            Update::Chain { idx, chain } => {
                if let Some(c) = self.receiving.get_mut(idx) {
                    c.chain = chain;
                }
            }
            Update::Step(step) => {
                let Step { root, receiving, sending, pn, old_advanced } = *step;
                if let (Some(adv), Some(cur)) = (old_advanced, self.receiving.first_mut()) {
                    cur.chain = adv;
                }
                self.receiving.insert(0, receiving);
                while self.receiving.len() > 1 + MAX_OLD_RECEIVING_CHAINS {
                    if let Some(old) = self.receiving.pop() {
                        self.remember(Forgotten {
                            ratchet: old.ratchet,
                            from: old.chain.index(),
                            to: u32::MAX,
                        });
                    }
                }
                self.root = root;
                self.sending = sending;
                self.pn = pn;
            }
        }
        for key in plan.store {
            if self.skipped.len() >= MAX_SKIPPED_KEYS
                && let Some(old) = self.skipped.pop_front()
            {
                self.forget_key(old.ratchet, old.key.index());
            }
            self.skipped.push_back(key);
        }
        self.pending_x3dh = None;
    }

    fn forget_key(&mut self, ratchet: RemoteRatchetKey, index: u32) {
        if let Some(f) = self.forgotten.iter_mut().rev().find(|f| f.ratchet == ratchet && f.to == index) {
            f.to = index.saturating_add(1);
            return;
        }
        self.remember(Forgotten { ratchet, from: index, to: index.saturating_add(1) });
    }

    fn remember(&mut self, f: Forgotten) {
        self.forgotten.push_back(f);
        while self.forgotten.len() > MAX_FORGOTTEN_RECORDS {
            self.forgotten.pop_front();
        }
    }

    /// The session file's bytes (JSON; zeroized when dropped).
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, RatchetError> {
        serde_json::to_vec(self)
            .map(Zeroizing::new)
            .map_err(|e| RatchetError::CorruptState(format!("cannot encode session: {e}")))
    }

    /// Reads a session file, checking its invariants.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RatchetError> {
        let s: Session = serde_json::from_slice(bytes)
            .map_err(|e| RatchetError::CorruptState(format!("session file does not parse: {e}")))?;
        if s.format != SESSION_FORMAT {
            return Err(RatchetError::CorruptState(format!("unknown session format {}", s.format)));
        }
        if !s.sending.ratchet.is_consistent() {
            return Err(RatchetError::CorruptState("sending ratchet key does not match its secret".into()));
        }
        if s.receiving.len() > 1 + MAX_OLD_RECEIVING_CHAINS
            || s.skipped.len() > MAX_SKIPPED_KEYS
            || s.forgotten.len() > MAX_FORGOTTEN_RECORDS
            || s.unacked.len() > MAX_UNACKED_RUNS
        {
            return Err(RatchetError::CorruptState(
                "session holds more chains or keys than the limits".into(),
            ));
        }
        Ok(s)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::formats::ratchet::x3dh::{initiator_secret, responder_secret};
    use rand::rngs::OsRng;
    use rand::{Rng, SeedableRng};
    use x25519_dalek::{PublicKey, StaticSecret};

    fn public(secret: &[u8; 32]) -> [u8; 32] {
        PublicKey::from(&StaticSecret::from(*secret)).to_bytes()
    }

    /// A pair of sessions: (initiator A, responder B), B made from A's first message.
    pub(crate) fn pair_with_seed(seed: u64) -> (Session, Session) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let ik_a: [u8; 32] = rng.r#gen();
        let ik_b: [u8; 32] = rng.r#gen();
        let spk_b: [u8; 32] = rng.r#gen();
        let ek_a: [u8; 32] = rng.r#gen();
        let (root, ck) = initiator_secret(&ik_a, &ek_a, &public(&ik_b), &public(&spk_b), None).unwrap();
        let header = X3dhHeader { ik: public(&ik_a), ek: public(&ek_a), spk_id: 1, opk_id: None };
        let a = Session::initiate(public(&ik_a), public(&ik_b), root, ck, public(&spk_b), header, &mut OsRng)
            .unwrap();
        let (root, ck) = responder_secret(&ik_b, &spk_b, None, &public(&ik_a), &public(&ek_a)).unwrap();
        let b = Session::respond(
            public(&ik_b),
            public(&ik_a),
            root,
            ck,
            RatchetKeyPair::from_secret(spk_b),
            header,
        );
        (a, b)
    }

    fn pair() -> (Session, Session) {
        pair_with_seed(7)
    }

    fn snapshot(s: &Session) -> Vec<u8> {
        s.to_bytes().unwrap().to_vec()
    }

    fn dec(s: &mut Session, m: &WireMessage) -> Result<Vec<u8>, RatchetError> {
        s.decrypt(m, &mut OsRng).map(|p| p.to_vec())
    }

    #[test]
    fn test_basic_exchange_both_directions() {
        let (mut a, mut b) = pair();
        let m = a.encrypt(b"hi bob").unwrap();
        assert!(m.x3dh.is_some());
        assert_eq!(dec(&mut b, &m).unwrap(), b"hi bob");
        let r = b.encrypt(b"hi alice").unwrap();
        assert!(r.x3dh.is_none());
        assert_eq!(dec(&mut a, &r).unwrap(), b"hi alice");
        assert!(!a.awaiting_reply());
        let m2 = a.encrypt(b"again").unwrap();
        assert!(m2.x3dh.is_none());
        assert_eq!(dec(&mut b, &m2).unwrap(), b"again");
    }

    #[test]
    fn test_responder_may_send_first_on_x3dh_chain() {
        let (mut a, mut b) = pair();
        let r = b.encrypt(b"first").unwrap();
        assert_eq!(dec(&mut a, &r).unwrap(), b"first");
    }

    #[test]
    fn test_duplicate_message_error_returned() {
        let (mut a, mut b) = pair();
        let m = a.encrypt(b"x").unwrap();
        dec(&mut b, &m).unwrap();
        let before = snapshot(&b);
        assert_eq!(dec(&mut b, &m).unwrap_err(), RatchetError::DuplicateMessage { index: 0 });
        assert_eq!(snapshot(&b), before);
    }

    #[test]
    fn test_out_of_order_within_max_skip() {
        let (mut a, mut b) = pair();
        let msgs: Vec<_> = (0..50).map(|i| a.encrypt(format!("m{i}").as_bytes()).unwrap()).collect();
        for i in (0..50).rev() {
            assert_eq!(dec(&mut b, &msgs[i]).unwrap(), format!("m{i}").as_bytes());
        }
        assert_eq!(b.skipped_keys(), 0);
    }

    #[test]
    fn test_chain_jump_over_limit() {
        let (mut a, mut b) = pair();
        let msgs: Vec<_> = (0..=MAX_SKIP + 1).map(|_| a.encrypt(b"x").unwrap()).collect();
        let before = snapshot(&b);
        let last = &msgs[(MAX_SKIP + 1) as usize];
        assert!(matches!(dec(&mut b, last).unwrap_err(), RatchetError::TooFarAhead { .. }));
        assert_eq!(snapshot(&b), before);
        // Exactly MAX_SKIP keys skipped is allowed.
        assert!(dec(&mut b, &msgs[MAX_SKIP as usize]).is_ok());
        assert_eq!(b.skipped_keys(), MAX_SKIP as usize);
    }

    #[test]
    fn test_skipped_key_eviction() {
        let (mut a, mut b) = pair();
        let first = a.encrypt(b"first").unwrap();
        let mut second_chain = Vec::new();
        // Fill the skipped store on one chain, then start another chain that skips more.
        let msgs: Vec<_> = (0..MAX_SKIP).map(|_| a.encrypt(b"x").unwrap()).collect();
        dec(&mut b, &msgs[(MAX_SKIP - 1) as usize]).unwrap();
        assert_eq!(b.skipped_keys(), MAX_SKIPPED_KEYS);
        let r = b.encrypt(b"reply").unwrap();
        dec(&mut a, &r).unwrap();
        for _ in 0..10 {
            second_chain.push(a.encrypt(b"y").unwrap());
        }
        dec(&mut b, &second_chain[9]).unwrap();
        assert_eq!(b.skipped_keys(), MAX_SKIPPED_KEYS);
        let before = snapshot(&b);
        assert_eq!(
            dec(&mut b, &first).unwrap_err(),
            RatchetError::EvictedKey { index: 0, max: MAX_SKIPPED_KEYS }
        );
        assert_eq!(snapshot(&b), before);
        // Later keys of the first chain are still there.
        assert_eq!(dec(&mut b, &msgs[100]).unwrap(), b"x");
        assert_eq!(dec(&mut b, &second_chain[0]).unwrap(), b"y");
    }

    #[test]
    fn test_old_chains_beyond_limit_are_forgotten() {
        let (mut a, mut b) = pair();
        let mut late = Vec::new();
        for round in 0..(MAX_OLD_RECEIVING_CHAINS + 2) {
            let m = a.encrypt(b"on time").unwrap();
            late.push(a.encrypt(b"late").unwrap());
            dec(&mut b, &m).unwrap();
            let _ = round;
            let r = b.encrypt(b"r").unwrap();
            dec(&mut a, &r).unwrap();
        }
        // The chain of round 0 was dropped with its skipped key still stored: still decrypts.
        assert_eq!(dec(&mut b, &late[0]).unwrap(), b"late");
        // A message of a dropped chain: its key skipped at the step still decrypts; a
        // duplicate of a dropped chain is "duplicate", not a bad tag.
        let (mut a2, mut b2) = pair_with_seed(9);
        let m0 = a2.encrypt(b"0").unwrap();
        let m1 = a2.encrypt(b"1").unwrap();
        dec(&mut b2, &m0).unwrap();
        for _ in 0..(MAX_OLD_RECEIVING_CHAINS + 1) {
            let r = b2.encrypt(b"r").unwrap();
            dec(&mut a2, &r).unwrap();
            let m = a2.encrypt(b"n").unwrap();
            dec(&mut b2, &m).unwrap();
        }
        assert_eq!(dec(&mut b2, &m1).unwrap(), b"1");
        assert_eq!(dec(&mut b2, &m0).unwrap_err(), RatchetError::DuplicateMessage { index: 0 });
    }

    fn tamper_cases(m: &WireMessage) -> Vec<(&'static str, WireMessage)> {
        let mut out = Vec::new();
        let mut t = m.clone();
        t.ct[0] ^= 1;
        out.push(("ct first byte", t));
        let mut t = m.clone();
        let last = t.ct.len() - 1;
        t.ct[last] ^= 0x80;
        out.push(("ct tag", t));
        let mut t = m.clone();
        let mut k = *t.header.ratchet.as_bytes();
        k[5] ^= 4;
        t.header.ratchet = RemoteRatchetKey::new(k);
        out.push(("header ratchet key", t));
        let mut t = m.clone();
        t.header.pn ^= 1;
        out.push(("header pn", t));
        let mut t = m.clone();
        t.header.n ^= 1;
        out.push(("header n", t));
        let mut t = m.clone();
        t.header.n ^= 1 << 30;
        out.push(("header n high bit", t));
        out
    }

    #[test]
    fn test_tamper_of_each_field_leaves_state_unchanged() {
        let (mut a, mut b) = pair();
        let m = a.encrypt(b"first").unwrap();
        dec(&mut b, &m).unwrap();
        let r = b.encrypt(b"r").unwrap();
        dec(&mut a, &r).unwrap();
        let m = a.encrypt(b"target").unwrap();
        for (what, t) in tamper_cases(&m) {
            let before = snapshot(&b);
            let err = dec(&mut b, &t).unwrap_err();
            assert!(
                matches!(
                    err,
                    RatchetError::BadTag
                        | RatchetError::TooFarAhead { .. }
                        | RatchetError::DuplicateMessage { .. }
                ),
                "{what}: {err}"
            );
            assert_eq!(snapshot(&b), before, "{what}");
        }
        let mut t = m.clone();
        t.to = SessionId::from_x25519([9; 32]);
        assert!(matches!(dec(&mut b, &t).unwrap_err(), RatchetError::WrongRecipient { .. }));
        let mut t = m.clone();
        t.from = SessionId::from_x25519([9; 32]);
        assert!(matches!(dec(&mut b, &t).unwrap_err(), RatchetError::SenderMismatch(_)));
        assert_eq!(dec(&mut b, &m).unwrap(), b"target");
    }

    /// Random interleaving, loss and reordering (within MAX_SKIP): every delivered message
    /// decrypts exactly once, duplicates are refused.
    #[test]
    fn test_thousand_messages_random_interleaving_loss_reordering() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1000);
        let (mut a, mut b) = pair();
        // Deliver A's first message so both sides have the session (as a friend request does).
        let m = a.encrypt(b"hello").unwrap();
        dec(&mut b, &m).unwrap();
        let mut to_b: Vec<(usize, WireMessage)> = Vec::new();
        let mut to_a: Vec<(usize, WireMessage)> = Vec::new();
        let mut delivered = std::collections::HashSet::new();
        let mut lost = 0;
        for i in 0..1000usize {
            let from_a = rng.gen_bool(0.5);
            let text = format!("msg {i}");
            let (sender, queue) = if from_a { (&mut a, &mut to_b) } else { (&mut b, &mut to_a) };
            let m = sender.encrypt(text.as_bytes()).unwrap();
            if rng.gen_bool(0.05) {
                lost += 1;
            } else {
                let at = rng.gen_range(0..=queue.len());
                queue.insert(at, (i, m));
            }
            // Deliver some queued messages, in the queue's (shuffled) order.
            for (queue, receiver) in [(&mut to_b, &mut b), (&mut to_a, &mut a)] {
                while !queue.is_empty() && rng.gen_bool(0.4) {
                    let (j, m) = queue.remove(0);
                    let pt = dec(receiver, &m).unwrap();
                    assert_eq!(pt, format!("msg {j}").as_bytes());
                    assert!(delivered.insert(j));
                    if rng.gen_bool(0.05) {
                        assert!(matches!(
                            dec(receiver, &m).unwrap_err(),
                            RatchetError::DuplicateMessage { .. }
                        ));
                    }
                }
            }
        }
        for (queue, receiver) in [(&mut to_b, &mut b), (&mut to_a, &mut a)] {
            for (j, m) in queue.drain(..) {
                assert_eq!(dec(receiver, &m).unwrap(), format!("msg {j}").as_bytes());
                assert!(delivered.insert(j));
            }
        }
        assert_eq!(delivered.len() + lost, 1000);
    }

    #[test]
    fn test_unacknowledged_message_is_redelivered_to_the_next_run_only() {
        let (mut a, mut b) = pair();
        let m0 = a.encrypt(b"zero").unwrap();
        let m1 = a.encrypt(b"one").unwrap();
        // Run 1 decrypts m0 and dies before acknowledging.
        assert!(!b.decrypt_unacked(&m0, 1, &mut OsRng).unwrap().1);
        // Within run 1 a second copy is a duplicate.
        assert!(matches!(b.decrypt_unacked(&m0, 1, &mut OsRng), Err(RatchetError::DuplicateMessage { .. })));
        // Run 2 gets it again, flagged; then a copy within run 2 is a duplicate.
        let (p, again) = b.decrypt_unacked(&m0, 2, &mut OsRng).unwrap();
        assert_eq!((p.as_slice(), again), (&b"zero"[..], true));
        assert!(matches!(b.decrypt_unacked(&m0, 2, &mut OsRng), Err(RatchetError::DuplicateMessage { .. })));
        assert!(b.decrypt_unacked(&m1, 2, &mut OsRng).is_ok());
        assert!(b.acknowledge());
        assert!(!b.acknowledge());
        assert!(matches!(b.decrypt_unacked(&m1, 3, &mut OsRng), Err(RatchetError::DuplicateMessage { .. })));
        assert!(matches!(dec(&mut b, &m0), Err(RatchetError::DuplicateMessage { .. })));
    }

    #[test]
    fn test_state_round_trip_and_debug() {
        let (mut a, mut b) = pair();
        let m = a.encrypt(b"x").unwrap();
        let _ = a.encrypt(b"y").unwrap();
        let m3 = a.encrypt(b"z").unwrap();
        dec(&mut b, &m3).unwrap();
        let bytes = snapshot(&b);
        let mut back = Session::from_bytes(&bytes).unwrap();
        assert_eq!(snapshot(&back), bytes);
        assert_eq!(dec(&mut back, &m).unwrap(), b"x");
        let shown = format!("{back:?}");
        assert!(shown.contains("skipped_keys"));
        assert!(!shown.contains("secret"));
        assert!(matches!(Session::from_bytes(b"{}"), Err(RatchetError::CorruptState(_))));
        assert!(matches!(Session::from_bytes(&bytes[..bytes.len() / 2]), Err(RatchetError::CorruptState(_))));
    }

    #[test]
    fn test_random_garbage_never_panics() {
        let (_a, mut b) = pair();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for i in 0..200 {
            let m = WireMessage {
                from: b.peer(),
                to: b.local(),
                header: Header {
                    ratchet: RemoteRatchetKey::new(rng.r#gen()),
                    pn: rng.r#gen(),
                    n: if i % 50 == 0 { rng.gen_range(0..3000) } else { rng.gen_range(0..40) },
                },
                ct: (0..rng.gen_range(0..64)).map(|_| rng.r#gen()).collect(),
                x3dh: None,
            };
            assert!(dec(&mut b, &m).is_err());
        }
    }
}
