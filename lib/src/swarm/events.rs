//! What a node must do when the swarm map changes (spec swarms.md §2 "SS reaction", the live
//! storage server's `derive_swarm_events`): a pure diff of two node lists from one node's view.

use crate::nodelist::{NodeInfo, NodeList};
use crate::swarm::INVALID_SWARM_ID;

/// The changes that concern the node `me` between an old and a new node list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwarmEvents {
    /// The node's swarm in the new list (`INVALID_SWARM_ID` if it is in none).
    pub our_swarm_id: u64,
    /// The members of that swarm, the node included, in list order.
    pub our_swarm_members: Vec<NodeInfo>,
    /// The node's old swarm no longer exists: it must push all its records to the swarms now
    /// responsible for them.
    pub dissolved: bool,
    /// The node moved to another swarm while its old swarm lives on (its old records belong to
    /// that swarm, which still has them; the node drops what is no longer its swarm's).
    pub moved: bool,
    /// Nodes that joined the node's (unchanged) swarm: each must be sent all of its records.
    pub new_members: Vec<NodeInfo>,
    /// Swarms that did not exist before (seen from a node that stayed in its swarm): each must be
    /// sent the records that now map to it.
    pub new_swarms: Vec<u64>,
}

/// Diffs `old` → `new` from the view of the node with Ed25519 key `me`.
pub fn derive_swarm_events(old: &NodeList, new: &NodeList, me: &[u8; 32]) -> SwarmEvents {
    let swarm_of = |list: &NodeList| list.find(me).map_or(INVALID_SWARM_ID, |n| n.swarm_id);
    let (before, now) = (swarm_of(old), swarm_of(new));
    let mut events = SwarmEvents { our_swarm_id: now, ..SwarmEvents::default() };
    if now == INVALID_SWARM_ID {
        return events;
    }
    events.our_swarm_members = new.members(now);
    if before == INVALID_SWARM_ID {
        // Just started in a swarm: its members push to it as a new member.
        return events;
    }
    if before != now {
        let old_swarm_alive = new.swarm_ids().binary_search(&before).is_ok();
        events.dissolved = !old_swarm_alive;
        events.moved = old_swarm_alive;
        return events;
    }
    let old_peers = old.members(now);
    events.new_members = events
        .our_swarm_members
        .iter()
        .filter(|n| {
            &n.pubkey_ed25519 != me && !old_peers.iter().any(|o| o.pubkey_ed25519 == n.pubkey_ed25519)
        })
        .cloned()
        .collect();
    let old_ids = old.swarm_ids();
    events.new_swarms = new.swarm_ids().into_iter().filter(|id| old_ids.binary_search(id).is_err()).collect();
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn ed(i: u8) -> [u8; 32] {
        [i; 32]
    }

    fn registry(n: u8) -> Registry {
        let mut r = Registry::new();
        for i in 1..=n {
            r.join(ed(i), [i ^ 0xff; 32], "127.0.0.1", 20000 + u16::from(i)).unwrap();
        }
        r
    }

    #[test]
    fn test_first_swarm_is_not_an_event() {
        let new = registry(3).node_list();
        let e = derive_swarm_events(&NodeList::default(), &new, &ed(1));
        assert_eq!(e.our_swarm_id, 0);
        assert_eq!(e.our_swarm_members.len(), 3);
        assert!(!e.dissolved && !e.moved && e.new_members.is_empty() && e.new_swarms.is_empty());
        let absent = derive_swarm_events(&NodeList::default(), &new, &ed(99));
        assert_eq!(absent.our_swarm_id, INVALID_SWARM_ID);
    }

    #[test]
    fn test_new_member_and_new_swarm() {
        let mut r = registry(4);
        let old = r.node_list();
        r.join(ed(5), [0x55; 32], "127.0.0.1", 20005).unwrap();
        let e = derive_swarm_events(&old, &r.node_list(), &ed(1));
        assert_eq!(e.new_members.len(), 1);
        assert_eq!(e.new_members[0].pubkey_ed25519, ed(5));

        // Growing from 11 to 12 nodes splits the swarm: those who stay see a new swarm, those
        // who move see that they moved (their old swarm lives on).
        let mut r = registry(11);
        let old = r.node_list();
        r.join(ed(12), [0x12; 32], "127.0.0.1", 20012).unwrap();
        let new = r.node_list();
        let (mut stayed, mut moved) = (0, 0);
        for i in 1..=11 {
            let e = derive_swarm_events(&old, &new, &ed(i));
            if e.moved {
                moved += 1;
                assert!(e.new_swarms.is_empty());
            } else {
                stayed += 1;
                assert_eq!(e.new_swarms, vec![crate::swarm::MAX_ID / 2]);
            }
        }
        assert_eq!((stayed, moved), (5, 6));
    }

    #[test]
    fn test_dissolved_swarm() {
        let mut r = registry(21); // 7 + 7 + 7
        let victim_swarm = r.swarm_map().ids()[0];
        let members = r.swarm_map().swarms()[&victim_swarm].clone();
        let old = r.node_list();
        for m in &members[..3] {
            r.leave(m).unwrap();
        }
        assert!(!r.swarm_map().swarms().contains_key(&victim_swarm));
        let e = derive_swarm_events(&old, &r.node_list(), &members[4]);
        assert!(e.dissolved && !e.moved);
        assert_ne!(e.our_swarm_id, victim_swarm);
    }
}
