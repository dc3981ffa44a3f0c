//! The node's reaction to swarm changes (swarms.md §2 "SS reaction", snkit's rules):
//! - a node that joins our swarm is pushed every record of our swarm;
//! - when this node enters a swarm (first start, restart, move) it asks its new peers to push
//!   it their records (so a node that was down catches up); after a move it also pushes them its
//!   own records of the new swarm (a dissolved swarm's records reach the members that stayed);
//! - records whose pubkey belongs to another swarm (our swarm dissolved, a new swarm took part
//!   of the key space, strays from a peer with an older view) are pushed to every member of the
//!   swarm now responsible and deleted here only after all of them acknowledged; on failure the
//!   handoff is retried.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::protocol::PeerMessage;
use super::view::SwarmView;
use super::{HandoffState, NodeContext};
use crate::formats::keys::Pubkey;
use crate::formats::limits::{
    NODE_HANDOFF_ROUND_BYTES, NODE_HANDOFF_ROUND_PUBKEYS, NODE_PUSH_BATCH_MAX_MESSAGES,
    NODE_RECONCILE_RETRY_MS, NODE_START_SYNC_PEERS,
};
use crate::formats::nodelist::NodeInfo;
use crate::snode::store::StoredMessage;

/// What a round reports as still pending when it could not read the store: at least one record
/// may be waiting, and the exact count is unknown.
const UNREADABLE_PENDING: usize = 1;

/// The handoff task: runs at start, on every view change, when strays arrive, and on retry.
pub(crate) async fn run(node: Arc<NodeContext>) {
    let me = node.ed25519();
    let mut rx = node.view.subscribe();
    let mut prev: Option<Arc<SwarmView>> = None;
    loop {
        let view = node.view.current();
        // Replication queues (and what they still owe) only for the peers of this view.
        node.peers.retain_peers(&view.peers(&me));
        if view.my_swarm.is_some() {
            let prev_swarm = prev.as_ref().and_then(|p| p.my_swarm);
            if prev_swarm != view.my_swarm {
                // A move within this run (our swarm dissolved, or was split): what we hold for
                // the new swarm may be on none of its old members, so they get it too.
                let moved = prev.as_ref().is_some_and(|p| p.my_swarm.is_some());
                let mut peers = view.peers(&me);
                if !moved && prev.is_none() {
                    // A (re)start in our swarm: a few peers' full syncs, the rest by redelivery.
                    use rand::seq::SliceRandom;
                    peers.shuffle(&mut rand::thread_rng());
                    peers.truncate(NODE_START_SYNC_PEERS);
                }
                for peer in peers {
                    if moved {
                        tokio::spawn(push_swarm_records(node.clone(), peer.clone(), view.my_swarm));
                    }
                    let node = node.clone();
                    tokio::spawn(async move {
                        if let Err(e) = node.peers.request_sync(&peer).await {
                            tracing::debug!(peer = %hex::encode(peer.pubkey_ed25519), error = %e, "sync request failed");
                        }
                    });
                }
            } else if let Some(p) = &prev {
                let old: HashSet<[u8; 32]> = prev_swarm
                    .map(|s| p.members(s).iter().map(|n| n.pubkey_ed25519).collect())
                    .unwrap_or_default();
                for member in view.peers(&me).into_iter().filter(|n| !old.contains(&n.pubkey_ed25519)) {
                    tracing::info!(member = %hex::encode(member.pubkey_ed25519), "new swarm member: pushing our records");
                    let swarm = view.my_swarm;
                    tokio::spawn(push_swarm_records(node.clone(), member, swarm));
                }
            }
        }
        let pending = reconcile(&node, &view).await;
        node.set_handoff_state(HandoffState { view_digest: view.digest.clone(), pending });
        let retry = pending > 0;
        prev = Some(view);

        let retry_sleep = async {
            if retry {
                tokio::time::sleep(Duration::from_millis(NODE_RECONCILE_RETRY_MS)).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            changed = rx.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = node.handoff_kick.notified() => {
                // Let the registry poller catch up first: the sender may know a newer map.
                node.refresh.notify_one();
                tokio::time::sleep(node.config.poll_interval * 2).await;
            }
            _ = retry_sleep => {}
        }
    }
}

/// Pushes every record this node holds for `swarm` to `target` (a new member, or a node that
/// asked to sync). Records are read in insertion order, in batches.
pub(crate) async fn push_swarm_records(node: Arc<NodeContext>, target: NodeInfo, swarm: Option<u64>) {
    let Some(swarm) = swarm else { return };
    let mut cursor = None;
    let mut total = 0usize;
    loop {
        let store = node.store.clone();
        let page =
            tokio::task::spawn_blocking(move || store.scan(cursor, NODE_PUSH_BATCH_MAX_MESSAGES * 4)).await;
        let (msgs, next) = match page {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read records to push");
                return;
            }
            Err(_) => return,
        };
        let view = node.view.current();
        let wires: Vec<PeerMessage> = msgs
            .iter()
            .filter(|m| view.swarm_for(&m.pubkey) == Some(swarm))
            .map(PeerMessage::from_stored)
            .collect();
        if !wires.is_empty() {
            match node.peers.push(&target, &wires).await {
                Ok(n) => total += n,
                Err(e) => {
                    tracing::warn!(target = %hex::encode(target.pubkey_ed25519), error = %e, "push to swarm member failed");
                    return;
                }
            }
        }
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    if total > 0 {
        tracing::info!(target = %hex::encode(target.pubkey_ed25519), records = total, "pushed swarm records");
    }
}

/// Hands on every record whose pubkey is not this node's swarm's; returns how many records
/// are still waiting (their new owners did not all acknowledge). A store that cannot be read
/// counts as [`UNREADABLE_PENDING`], so the round is retried and nobody takes it for done.
pub(crate) async fn reconcile(node: &Arc<NodeContext>, view: &Arc<SwarmView>) -> usize {
    if view.swarm_ids.is_empty() {
        return 0;
    }
    let store = node.store.clone();
    let pubkeys = match tokio::task::spawn_blocking(move || store.all_pubkeys()).await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot list stored pubkeys; will retry");
            return UNREADABLE_PENDING;
        }
        Err(_) => return UNREADABLE_PENDING,
    };
    let mut foreign: BTreeMap<u64, Vec<Pubkey>> = BTreeMap::new();
    for pk in pubkeys {
        if view.is_mine(&pk) {
            continue;
        }
        if let Some(owner) = view.swarm_for(&pk) {
            foreign.entry(owner).or_default().push(pk);
        }
    }
    let mut pending = 0;
    for (owner, pks) in foreign {
        let mut rest: &[Pubkey] = &pks;
        while !rest.is_empty() {
            let (still_here, used) = hand_off(node, view, owner, rest).await;
            pending += still_here;
            rest = rest.get(used.max(1)..).unwrap_or_default();
        }
    }
    pending
}

/// Pushes the records of the first pubkeys of `pks` to every member of swarm `owner`, and
/// deletes them here once all acknowledged. One round reads pubkeys until it holds
/// [`NODE_HANDOFF_ROUND_BYTES`] of data or [`NODE_HANDOFF_ROUND_PUBKEYS`] pubkeys, so memory stays
/// bounded however large the store. Returns (records still here, pubkeys this round covered).
async fn hand_off(node: &Arc<NodeContext>, view: &SwarmView, owner: u64, pks: &[Pubkey]) -> (usize, usize) {
    let store = node.store.clone();
    let list: Vec<Pubkey> = pks.iter().take(NODE_HANDOFF_ROUND_PUBKEYS).copied().collect();
    let read = tokio::task::spawn_blocking(move || {
        let (mut all, mut bytes, mut used) = (Vec::new(), 0usize, 0usize);
        for pk in &list {
            let msgs = store.messages_for(pk)?;
            bytes += msgs.iter().map(|m| m.data.len()).sum::<usize>();
            all.extend(msgs);
            used += 1;
            if bytes >= NODE_HANDOFF_ROUND_BYTES {
                break;
            }
        }
        Ok::<_, crate::snode::store::StoreError>((all, used))
    })
    .await;
    let (msgs, used): (Vec<StoredMessage>, usize) = match read {
        Ok(Ok(r)) => r,
        // Unreadable now: leave the rest for the next reconcile (and say something is pending).
        _ => return (UNREADABLE_PENDING, pks.len()),
    };
    if msgs.is_empty() {
        return (0, used);
    }
    let members: Vec<NodeInfo> = view.members(owner).to_vec();
    let wires: Arc<Vec<PeerMessage>> = Arc::new(msgs.iter().map(PeerMessage::from_stored).collect());
    let pushes = members.iter().map(|m| {
        let peers = node.peers.clone();
        let member = m.clone();
        let wires = wires.clone();
        async move { peers.push(&member, &wires).await }
    });
    let results = futures_util::future::join_all(pushes).await;
    let failed: Vec<String> =
        results.iter().filter_map(|r| r.as_ref().err().map(|e| e.to_string())).collect();
    if !failed.is_empty() {
        tracing::warn!(swarm = %format!("{owner:016x}"), records = msgs.len(), failures = failed.len(), first = %failed[0], "handoff incomplete; will retry");
        return (msgs.len(), used);
    }
    let mut by_pk: BTreeMap<Pubkey, Vec<String>> = BTreeMap::new();
    for m in &msgs {
        by_pk.entry(m.pubkey).or_default().push(m.hash.clone());
    }
    let mut deleted = 0;
    for (pk, hashes) in by_pk {
        match node.store.delete_async(&pk, &hashes).await {
            Ok(d) => deleted += d.len(),
            Err(e) => tracing::warn!(error = %e, "cannot drop handed-off records"),
        }
    }
    tracing::info!(swarm = %format!("{owner:016x}"), records = deleted, "handed records to their swarm");
    (0, used)
}
