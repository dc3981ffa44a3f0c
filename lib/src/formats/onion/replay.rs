//! Replay protection for a node: every layer has its own ephemeral key (clients make a fresh one
//! per layer), so a node that remembers the ephemeral keys of the layers it decrypted refuses a
//! replayed layer. Keys are remembered for [`ONION_REPLAY_WINDOW_SECS`], at most
//! [`ONION_REPLAY_CAPACITY`] of them (the oldest are forgotten first). Record a key only after
//! its layer decrypted, so garbage cannot fill the memory ([`super::peel_guarded`] does that).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::formats::limits::{ONION_REPLAY_CAPACITY, ONION_REPLAY_WINDOW_SECS};

/// The ephemeral keys a node has seen recently. `Send + Sync`; share it in an `Arc`.
#[derive(Debug)]
pub struct ReplayGuard {
    window: Duration,
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    seen: HashSet<[u8; 32]>,
    order: VecDeque<([u8; 32], Instant)>,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplayGuard {
    /// A guard with the default window and capacity.
    pub fn new() -> Self {
        Self::with_limits(Duration::from_secs(ONION_REPLAY_WINDOW_SECS), ONION_REPLAY_CAPACITY)
    }

    /// A guard with a chosen window and capacity (capacity at least 1).
    pub fn with_limits(window: Duration, capacity: usize) -> Self {
        Self { window, capacity: capacity.max(1), state: Mutex::new(State::default()) }
    }

    /// Records `ephemeral_key`; returns `true` if it is new (go on), `false` if it was seen within
    /// the window (a replay: refuse it).
    pub fn check_and_insert(&self, ephemeral_key: &[u8; 32]) -> bool {
        self.check_and_insert_at(ephemeral_key, Instant::now())
    }

    /// [`Self::check_and_insert`] at a given time (for tests).
    pub fn check_and_insert_at(&self, ephemeral_key: &[u8; 32], now: Instant) -> bool {
        let mut st = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while let Some((key, at)) = st.order.front().copied() {
            if now.saturating_duration_since(at) >= self.window || st.order.len() >= self.capacity {
                st.order.pop_front();
                st.seen.remove(&key);
            } else {
                break;
            }
        }
        if st.seen.contains(ephemeral_key) {
            return false;
        }
        st.seen.insert(*ephemeral_key);
        st.order.push_back((*ephemeral_key, now));
        true
    }

    /// How many keys are remembered now.
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.order.len()).unwrap_or(0)
    }

    /// `true` when no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_refused_the_second_time() {
        let g = ReplayGuard::new();
        assert!(g.check_and_insert(&[1; 32]));
        assert!(!g.check_and_insert(&[1; 32]));
        assert!(g.check_and_insert(&[2; 32]));
        assert_eq!(g.len(), 2);
    }

    #[test]
    fn keys_are_forgotten_after_the_window() {
        let g = ReplayGuard::with_limits(Duration::from_secs(10), 100);
        let t0 = Instant::now();
        assert!(g.check_and_insert_at(&[1; 32], t0));
        assert!(!g.check_and_insert_at(&[1; 32], t0 + Duration::from_secs(9)));
        assert!(g.check_and_insert_at(&[1; 32], t0 + Duration::from_secs(10)));
    }

    #[test]
    fn memory_is_bounded_oldest_first() {
        let g = ReplayGuard::with_limits(Duration::from_secs(600), 3);
        let t = Instant::now();
        for k in 0..5u8 {
            assert!(g.check_and_insert_at(&[k; 32], t));
        }
        assert_eq!(g.len(), 3);
        assert!(!g.check_and_insert_at(&[4; 32], t));
        assert!(g.check_and_insert_at(&[0; 32], t));
    }
}
