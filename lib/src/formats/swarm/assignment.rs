//! The swarm assignment engine: which swarm each registered node is in, as a pure function of
//! the registry's join/leave history (spec swarms.md §2 mechanics, snkit's rules; the full
//! algorithm, its seeding and the order of steps are in docs/swarms.md).
//!
//! Each event is applied with its own deterministic RNG ([`SwarmRng`], seeded per event by the
//! registry's hash chain), in this order:
//! 1. the change itself: a joining node is placed in a random swarm among the smallest
//!    (25th percentile of sizes); a leaving node is removed (an emptied swarm disappears);
//! 2. *steal*: each swarm below Nmin (smallest first, then by id) takes random nodes from the
//!    largest swarms, never taking a donor below Ntarget, if the donors can cover its whole deficit;
//! 3. *dissolve*: while more than one swarm exists, the first swarm (by id) still below Nmin is
//!    dissolved and its nodes placed one by one in the smallest swarms;
//! 4. *split*: while some swarm is above Nmax and the nodes above Nmin add up to at least
//!    Ntarget, a new swarm of Ntarget nodes is formed, each drawn at random from the currently
//!    largest swarms (never below Nmin), with id [`get_new_swarm_id`].
//!
//! Swarm members are kept sorted by key and swarms by id, so the map depends only on the set of
//! members, never on insertion order, and every iteration is in a defined order.

use std::collections::BTreeMap;

use crate::formats::limits::{
    SWARM_FILL_PERCENTILE, SWARM_MAX_SIZE, SWARM_MIN_SIZE, SWARM_REDISTRIBUTE_PERCENTILE, SWARM_TARGET_SIZE,
};
use crate::formats::swarm::ids::get_new_swarm_id;
use crate::formats::swarm::rng::SwarmRng;

/// A node's identity in the assignment: its Ed25519 public key.
pub type NodeKey = [u8; 32];

/// A change the engine refuses: the history is inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignError {
    /// A join of a node that is active already.
    #[error("node {} joins but is already active", hex::encode(.0))]
    AlreadyActive(NodeKey),
    /// A leave of a node that is not active.
    #[error("node {} leaves but is not active", hex::encode(.0))]
    NotActive(NodeKey),
}

/// The swarms of the active nodes: swarm id → members (sorted), and node → swarm id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwarmMap {
    swarms: BTreeMap<u64, Vec<NodeKey>>,
    node_swarm: BTreeMap<NodeKey, u64>,
}

impl SwarmMap {
    /// No nodes, no swarms.
    pub fn new() -> Self {
        Self::default()
    }

    /// Swarm id → its members, ascending by id; members ascending by key.
    pub fn swarms(&self) -> &BTreeMap<u64, Vec<NodeKey>> {
        &self.swarms
    }

    /// The valid swarm ids, ascending (what [`crate::formats::swarm::swarm_for`] takes).
    pub fn ids(&self) -> Vec<u64> {
        self.swarms.keys().copied().collect()
    }

    /// The swarm `node` is in, if it is active.
    pub fn swarm_of(&self, node: &NodeKey) -> Option<u64> {
        self.node_swarm.get(node).copied()
    }

    /// Node → swarm id for every active node, ascending by key.
    pub fn assignments(&self) -> &BTreeMap<NodeKey, u64> {
        &self.node_swarm
    }

    /// Number of active nodes.
    pub fn node_count(&self) -> usize {
        self.node_swarm.len()
    }

    /// Whether no node is active.
    pub fn is_empty(&self) -> bool {
        self.node_swarm.is_empty()
    }

    /// Applies the registration of `node`, with the event's RNG seed.
    pub fn join(&mut self, node: NodeKey, seed: u64) -> Result<(), AssignError> {
        if self.node_swarm.contains_key(&node) {
            return Err(AssignError::AlreadyActive(node));
        }
        let mut rng = SwarmRng::new(seed);
        self.place(node, &mut rng, SWARM_FILL_PERCENTILE);
        self.rebalance(&mut rng);
        Ok(())
    }

    /// Applies the departure of `node`, with the event's RNG seed.
    pub fn leave(&mut self, node: &NodeKey, seed: u64) -> Result<(), AssignError> {
        let Some(id) = self.node_swarm.get(node).copied() else {
            return Err(AssignError::NotActive(*node));
        };
        self.remove_member(id, node);
        let mut rng = SwarmRng::new(seed);
        self.rebalance(&mut rng);
        Ok(())
    }

    /// Steps 2-4 of every event: steal, dissolve, split.
    fn rebalance(&mut self, rng: &mut SwarmRng) {
        self.steal(rng);
        self.dissolve(rng);
        self.split(rng);
    }

    fn add_member(&mut self, id: u64, node: NodeKey) {
        let members = self.swarms.entry(id).or_default();
        if let Err(at) = members.binary_search(&node) {
            members.insert(at, node);
        }
        self.node_swarm.insert(node, id);
    }

    /// Removes `node` from swarm `id`; a swarm left empty disappears.
    fn remove_member(&mut self, id: u64, node: &NodeKey) {
        if let Some(members) = self.swarms.get_mut(&id) {
            if let Ok(at) = members.binary_search(node) {
                members.remove(at);
            }
            if members.is_empty() {
                self.swarms.remove(&id);
            }
        }
        self.node_swarm.remove(node);
    }

    fn size(&self, id: u64) -> usize {
        self.swarms.get(&id).map_or(0, Vec::len)
    }

    /// (size, id) of every swarm, ascending: a total order, unlike oxen's unstable sort.
    fn sizes_ascending(&self) -> Vec<(usize, u64)> {
        let mut sizes: Vec<(usize, u64)> = self.swarms.iter().map(|(&id, m)| (m.len(), id)).collect();
        sizes.sort_unstable();
        sizes
    }

    /// Places `node` in a random swarm among those whose size is at most the `percentile`-th
    /// percentile size; with no swarm at all, it founds swarm `get_new_swarm_id([])` = 0.
    fn place(&mut self, node: NodeKey, rng: &mut SwarmRng, percentile: usize) {
        let sizes = self.sizes_ascending();
        if sizes.is_empty() {
            self.add_member(get_new_swarm_id(&[]), node);
            return;
        }
        let pivot = sizes[percentile * (sizes.len() - 1) / 100].0;
        let candidates = sizes.partition_point(|&(size, _)| size <= pivot);
        let (_, id) = sizes[rng.index(candidates)];
        self.add_member(id, node);
    }

    /// Draws one random node from the largest swarms whose size is above `floor`, skipping
    /// `exclude`, and removes it from its swarm. The pool is every member of every swarm of the
    /// largest size, swarms by id, members by key.
    fn draw_from_largest(
        &mut self,
        floor: usize,
        exclude: Option<u64>,
        rng: &mut SwarmRng,
    ) -> Option<NodeKey> {
        let eligible = |id: &u64, m: &Vec<NodeKey>| Some(*id) != exclude && m.len() > floor;
        let largest = self.swarms.iter().filter(|(id, m)| eligible(id, m)).map(|(_, m)| m.len()).max()?;
        let pool: Vec<(u64, NodeKey)> = self
            .swarms
            .iter()
            .filter(|(id, m)| eligible(id, m) && m.len() == largest)
            .flat_map(|(&id, m)| m.iter().map(move |&node| (id, node)))
            .collect();
        let (id, node) = *pool.get(rng.index(pool.len()))?;
        self.remove_member(id, &node);
        Some(node)
    }

    /// Step 2: a swarm below Nmin takes nodes from the largest swarms above Ntarget, when those
    /// can cover its whole deficit (otherwise it is left to dissolve, moving nobody needlessly).
    fn steal(&mut self, rng: &mut SwarmRng) {
        if self.swarms.len() < 2 {
            return;
        }
        let starving: Vec<u64> = self
            .sizes_ascending()
            .into_iter()
            .take_while(|&(size, _)| size < SWARM_MIN_SIZE)
            .map(|(_, id)| id)
            .collect();
        for poor in starving {
            let deficit = SWARM_MIN_SIZE.saturating_sub(self.size(poor));
            let available: usize = self
                .swarms
                .iter()
                .filter(|&(&id, _)| id != poor)
                .map(|(_, m)| m.len().saturating_sub(SWARM_TARGET_SIZE))
                .sum();
            if available < deficit {
                continue;
            }
            for _ in 0..deficit {
                match self.draw_from_largest(SWARM_TARGET_SIZE, Some(poor), rng) {
                    Some(node) => self.add_member(poor, node),
                    None => break,
                }
            }
        }
    }

    /// Step 3: while more than one swarm exists, dissolve the first swarm (by id) below Nmin and
    /// place its nodes (by key) in the smallest swarms.
    fn dissolve(&mut self, rng: &mut SwarmRng) {
        while self.swarms.len() > 1 {
            let Some(id) = self.swarms.iter().find(|(_, m)| m.len() < SWARM_MIN_SIZE).map(|(&id, _)| id)
            else {
                break;
            };
            let members = self.swarms.remove(&id).unwrap_or_default();
            for node in &members {
                self.node_swarm.remove(node);
            }
            for node in members {
                self.place(node, rng, SWARM_REDISTRIBUTE_PERCENTILE);
            }
        }
    }

    /// Nodes above Nmin, summed over all swarms: what a new swarm can be formed from.
    fn excess_above_min(&self) -> usize {
        self.swarms.values().map(|m| m.len().saturating_sub(SWARM_MIN_SIZE)).sum()
    }

    /// Whether a new swarm of Ntarget can be formed without leaving any swarm below Nmin.
    pub fn can_split(&self) -> bool {
        self.excess_above_min() >= SWARM_TARGET_SIZE
    }

    /// Step 4: while some swarm is above Nmax and a new swarm can be formed, form one of Ntarget
    /// nodes drawn one at a time from the largest swarms (never below Nmin).
    fn split(&mut self, rng: &mut SwarmRng) {
        while self.swarms.values().any(|m| m.len() > SWARM_MAX_SIZE) && self.can_split() {
            let mut fresh = Vec::with_capacity(SWARM_TARGET_SIZE);
            while fresh.len() < SWARM_TARGET_SIZE {
                match self.draw_from_largest(SWARM_MIN_SIZE, None, rng) {
                    Some(node) => fresh.push(node),
                    None => break,
                }
            }
            let id = get_new_swarm_id(&self.ids());
            for node in fresh {
                self.add_member(id, node);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::swarm::ids::MAX_ID;
    use crate::formats::swarm::mapping::INVALID_SWARM_ID;

    fn key(i: u64) -> NodeKey {
        // Distinct, well spread keys.
        let mut k = [0u8; 32];
        let mut rng = SwarmRng::new(i ^ 0x5eed);
        for chunk in k.chunks_exact_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        k
    }

    fn sizes(map: &SwarmMap) -> Vec<usize> {
        let mut s: Vec<usize> = map.swarms().values().map(Vec::len).collect();
        s.sort_unstable();
        s
    }

    fn grown(n: u64) -> SwarmMap {
        let mut map = SwarmMap::new();
        for i in 0..n {
            map.join(key(i), i).unwrap();
        }
        map
    }

    /// Existing nodes whose swarm changed between two maps (joining and leaving nodes excluded).
    fn moved(before: &SwarmMap, after: &SwarmMap) -> usize {
        // Both maps are sorted by key: walk them together.
        let mut after_iter = after.assignments().iter().peekable();
        let mut moved = 0;
        for (node, id) in before.assignments() {
            while after_iter.peek().is_some_and(|(k, _)| *k < node) {
                after_iter.next();
            }
            if let Some((k, now)) = after_iter.peek()
                && *k == node
                && *now != id
            {
                moved += 1;
            }
        }
        moved
    }

    /// Every invariant of swarms.md that holds after every event.
    fn check_invariants(map: &SwarmMap, active: &[NodeKey]) {
        // Every active node in exactly one swarm, and nothing else in any swarm.
        assert_eq!(map.node_count(), active.len());
        let total: usize = map.swarms().values().map(Vec::len).sum();
        assert_eq!(total, active.len());
        for node in active {
            let id = map.swarm_of(node).unwrap();
            assert!(map.swarms()[&id].binary_search(node).is_ok());
        }
        for (&id, members) in map.swarms() {
            assert!(!members.is_empty(), "empty swarm {id}");
            assert!(id != INVALID_SWARM_ID && id <= MAX_ID);
            assert!(members.windows(2).all(|w| w[0] < w[1]));
        }
        // With at least Nmin nodes, no swarm below Nmin.
        if active.len() >= SWARM_MIN_SIZE {
            assert!(map.swarms().values().all(|m| m.len() >= SWARM_MIN_SIZE), "{:?}", sizes(map));
        } else {
            assert!(map.swarms().len() <= 1);
        }
        // No swarm above Nmax while a new swarm could be formed, hence none at all once the
        // network has Nmin + Ntarget nodes.
        if map.swarms().values().any(|m| m.len() > SWARM_MAX_SIZE) {
            assert!(!map.can_split(), "oversized swarm while a split is possible: {:?}", sizes(map));
            assert!(active.len() < SWARM_MIN_SIZE + SWARM_TARGET_SIZE, "{:?}", sizes(map));
        }
    }

    #[test]
    fn test_first_node_founds_swarm_zero() {
        let map = grown(1);
        assert_eq!(map.ids(), vec![0]);
        assert_eq!(map.swarm_of(&key(0)), Some(0));
    }

    #[test]
    fn test_one_swarm_until_a_split_is_possible() {
        // 11 nodes cannot form a new swarm of 7 and keep 5: one swarm of 11.
        assert_eq!(sizes(&grown(11)), vec![11]);
        // The 12th node splits it: 5 + 7, the new swarm at MAX_ID / 2.
        let map = grown(12);
        assert_eq!(sizes(&map), vec![5, 7]);
        assert_eq!(map.ids(), vec![0, MAX_ID / 2]);
        assert_eq!(map.swarms()[&(MAX_ID / 2)].len(), SWARM_TARGET_SIZE);
    }

    #[test]
    fn test_join_fills_the_smallest_swarm() {
        let mut map = grown(12); // [5, 7]
        let small = *map.swarms().iter().find(|(_, m)| m.len() == 5).unwrap().0;
        map.join(key(100), 100).unwrap();
        assert_eq!(map.swarm_of(&key(100)), Some(small));
    }

    #[test]
    fn test_saturated_swarms_split_into_a_new_swarm_of_target_size() {
        let mut map = grown(12);
        let mut i = 12;
        while sizes(&map) != vec![10, 10] {
            map.join(key(i), i).unwrap();
            i += 1;
        }
        let before = map.clone();
        map.join(key(i), i).unwrap();
        assert_eq!(sizes(&map), vec![7, 7, 7]);
        assert_eq!(moved(&before, &map), SWARM_TARGET_SIZE);
    }

    #[test]
    fn test_leave_above_min_moves_nobody() {
        let mut map = grown(60);
        let (&id, members) = map.swarms().iter().find(|(_, m)| m.len() > SWARM_MIN_SIZE).unwrap();
        let (id, victim) = (id, members[0]);
        let before = map.clone();
        map.leave(&victim, 1).unwrap();
        assert_eq!(map.swarm_of(&victim), None);
        assert_eq!(moved(&before, &map), 0);
        assert_eq!(map.swarms()[&id].len(), before.swarms()[&id].len() - 1);
    }

    #[test]
    fn test_starving_swarm_steals_one_node_from_the_largest() {
        let mut map = grown(60);
        // Bring one swarm down to Nmin, then one more leave starves it.
        let id = *map.swarms().keys().next().unwrap();
        let mut seed = 1000;
        while map.swarms()[&id].len() > SWARM_MIN_SIZE {
            let victim = map.swarms()[&id][0];
            map.leave(&victim, seed).unwrap();
            seed += 1;
        }
        assert!(sizes(&map).iter().any(|&s| s > SWARM_TARGET_SIZE));
        let before = map.clone();
        let largest = sizes(&before).into_iter().max().unwrap();
        let victim = map.swarms()[&id][0];
        map.leave(&victim, seed).unwrap();
        assert_eq!(map.swarms()[&id].len(), SWARM_MIN_SIZE);
        assert_eq!(moved(&before, &map), 1);
        // The donor was one of the largest and stays at or above Ntarget.
        let donors: Vec<u64> = before
            .swarms()
            .keys()
            .filter(|k| **k != id && map.swarms()[k].len() < before.swarms()[k].len())
            .copied()
            .collect();
        assert_eq!(donors.len(), 1);
        assert_eq!(before.swarms()[&donors[0]].len(), largest);
        assert!(map.swarms()[&donors[0]].len() >= SWARM_TARGET_SIZE);
    }

    #[test]
    fn test_starving_swarm_without_donors_dissolves() {
        // 21 nodes: three swarms of 7; nobody is above Ntarget, so nothing can be stolen.
        let mut map = grown(21);
        assert_eq!(sizes(&map), vec![7, 7, 7]);
        let id = *map.swarms().keys().next().unwrap();
        let mut seed = 500;
        while map.swarms().contains_key(&id) && map.swarms()[&id].len() >= SWARM_MIN_SIZE {
            let victim = map.swarms()[&id][0];
            map.leave(&victim, seed).unwrap();
            seed += 1;
        }
        assert!(!map.swarms().contains_key(&id));
        assert_eq!(map.swarms().len(), 2);
        assert_eq!(map.node_count(), 18);
        assert_eq!(sizes(&map), vec![9, 9]);
    }

    #[test]
    fn test_history_errors() {
        let mut map = grown(3);
        assert_eq!(map.join(key(1), 9), Err(AssignError::AlreadyActive(key(1))));
        assert_eq!(map.leave(&key(77), 9), Err(AssignError::NotActive(key(77))));
        assert_eq!(map, grown(3));
    }

    #[test]
    fn test_last_node_leaving_empties_the_map() {
        let mut map = grown(2);
        map.leave(&key(0), 1).unwrap();
        map.leave(&key(1), 2).unwrap();
        assert!(map.is_empty() && map.swarms().is_empty());
        map.join(key(5), 3).unwrap();
        assert_eq!(map.ids(), vec![0]);
    }

    /// Thousands of random joins and leaves: the network grows to a few hundred nodes, shrinks to
    /// a handful and grows again; every invariant is checked after every event, movement is
    /// bounded, and replaying the same history gives the same map.
    #[test]
    fn test_simulation_invariants_hold_after_every_event() {
        const EVENTS: u64 = 5000;
        let mut driver = SwarmRng::new(2026);
        let mut map = SwarmMap::new();
        let mut active: Vec<NodeKey> = Vec::new();
        let mut history: Vec<(bool, NodeKey, u64)> = Vec::new();
        let (mut splits, mut dissolves, mut steals) = (0, 0, 0);
        let mut next_key = 0u64;
        let mut peak = 0;
        let mut engine_time = std::time::Duration::ZERO;
        for step in 0..EVENTS {
            // Phases: grow to ~600 nodes, shrink to a handful (and stay small a while), grow to
            // ~300 again, all with churn.
            let join_percent = match step {
                0..1500 => 70,
                1500..3600 => 25,
                _ => 60,
            };
            let join = active.is_empty() || driver.below(100) < join_percent;
            let seed = driver.next_u64();
            let before = map.clone();
            if join {
                let node = key(next_key);
                next_key += 1;
                let t = std::time::Instant::now();
                map.join(node, seed).unwrap();
                engine_time += t.elapsed();
                active.push(node);
                history.push((true, node, seed));
                let moved = moved(&before, &map);
                if map.swarms().len() > before.swarms().len() {
                    splits += 1;
                    assert!(moved <= SWARM_TARGET_SIZE, "join moved {moved} nodes");
                } else {
                    assert_eq!(moved, 0, "a join without a split moved nodes");
                }
            } else {
                let node = active.swap_remove(driver.index(active.len()));
                let from = map.swarm_of(&node).unwrap();
                let from_size = map.swarms()[&from].len();
                let t = std::time::Instant::now();
                map.leave(&node, seed).unwrap();
                engine_time += t.elapsed();
                history.push((false, node, seed));
                let moved = moved(&before, &map);
                if from_size > SWARM_MIN_SIZE || before.swarms().len() == 1 {
                    assert_eq!(moved, 0, "a leave from a healthy swarm moved nodes");
                } else if map.swarms().contains_key(&from) {
                    steals += 1;
                    assert!(moved <= 1, "a steal moved {moved} nodes");
                } else {
                    dissolves += 1;
                    assert!(moved < SWARM_MIN_SIZE, "a dissolve moved {moved} nodes");
                }
            }
            check_invariants(&map, &active);
            peak = peak.max(active.len());
        }
        assert!(
            splits > 20 && dissolves > 5 && steals > 5,
            "{splits} splits, {dissolves} dissolves, {steals} steals"
        );
        eprintln!(
            "simulation: {EVENTS} events, peak {peak} nodes, {splits} splits, {steals} steals, \
             {dissolves} dissolves; engine {engine_time:?}"
        );

        // Same history, same map.
        let mut replay = SwarmMap::new();
        for (join, node, seed) in &history {
            if *join { replay.join(*node, *seed).unwrap() } else { replay.leave(node, *seed).unwrap() }
        }
        assert_eq!(replay, map);
    }

    #[test]
    fn test_different_seeds_give_a_valid_but_different_map() {
        let mut a = SwarmMap::new();
        let mut b = SwarmMap::new();
        for i in 0..100 {
            a.join(key(i), i).unwrap();
            b.join(key(i), i + 1_000_000).unwrap();
        }
        assert_ne!(a, b);
        assert_eq!(sizes(&a).len(), sizes(&b).len());
    }
}
