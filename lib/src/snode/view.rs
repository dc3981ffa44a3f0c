//! The node's view of the network: the registry's node list with computed swarms, this node's
//! swarm and peers, and the network parameters. Rebuilt whenever the registry changes; readers
//! take a cheap snapshot (`Arc<SwarmView>`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use blake2::{Blake2b, Digest, digest::consts::U32};
use tokio::sync::watch;

use crate::formats::keys::Pubkey;
use crate::formats::nodelist::{NodeInfo, NodeList};
use crate::formats::registry::Registry;
use crate::formats::swarm;

/// One consistent picture of the network, computed from one registry state.
#[derive(Debug, Clone, Default)]
pub(crate) struct SwarmView {
    /// BLAKE2b-256 (hex) of the node list and parameters: equal views have equal digests.
    pub digest: String,
    /// Every active node, with its computed swarm id.
    pub nodes: Vec<NodeInfo>,
    /// Valid swarms, by id, with their members.
    pub swarms: BTreeMap<u64, Vec<NodeInfo>>,
    /// The valid swarm ids, sorted.
    pub swarm_ids: Vec<u64>,
    by_ed: HashMap<[u8; 32], usize>,
    /// This node's swarm, when it is registered and in one.
    pub my_swarm: Option<u64>,
    /// The network's proof-of-work difficulty (0 = off).
    pub pow_difficulty: u64,
    /// The registry's height (its event count): snkit's stand-in for the chain height that
    /// `ifelse` conditions read; 0 for a view built from a bare node list.
    pub height: u64,
    /// The node list in its JSON form (what `get_service_nodes` answers).
    list_json: serde_json::Value,
    /// The registry the view was built from (None for a bare node list): reachability testing
    /// computes its assignments from it.
    pub registry: Option<Arc<Registry>>,
}

impl SwarmView {
    /// Builds the view `me` has of `registry`.
    pub(crate) fn from_registry(registry: &Registry, me: &[u8; 32]) -> Self {
        let mut view = Self::from_nodes(registry.node_list(), registry.pow_difficulty(), me);
        view.list_json = registry.nodes_json();
        view.height = registry.height() as u64;
        view.registry = Some(Arc::new(registry.clone()));
        view
    }

    /// Builds a view from a node list.
    pub(crate) fn from_nodes(list: NodeList, pow_difficulty: u64, me: &[u8; 32]) -> Self {
        let nodes: Vec<NodeInfo> = list.iter().cloned().collect();
        let mut swarms: BTreeMap<u64, Vec<NodeInfo>> = BTreeMap::new();
        let mut by_ed = HashMap::new();
        let mut hasher = Blake2b::<U32>::new();
        hasher.update(pow_difficulty.to_le_bytes());
        for (i, n) in nodes.iter().enumerate() {
            by_ed.insert(n.pubkey_ed25519, i);
            hasher.update(n.pubkey_ed25519);
            hasher.update(n.pubkey_x25519);
            hasher.update(n.public_ip.as_bytes());
            hasher.update(n.storage_port.to_le_bytes());
            hasher.update(n.swarm_id.to_le_bytes());
            if n.swarm_id != swarm::INVALID_SWARM_ID {
                swarms.entry(n.swarm_id).or_default().push(n.clone());
            }
        }
        let swarm_ids: Vec<u64> = swarms.keys().copied().collect();
        let my_swarm = by_ed.get(me).map(|&i| nodes[i].swarm_id).filter(|&id| id != swarm::INVALID_SWARM_ID);
        Self {
            digest: hex::encode(hasher.finalize()),
            nodes,
            swarms,
            swarm_ids,
            by_ed,
            my_swarm,
            pow_difficulty,
            height: 0,
            registry: None,
            list_json: {
                let mut v = list.to_json();
                v["pow_difficulty"] = serde_json::json!(pow_difficulty);
                v
            },
        }
    }

    /// The swarm responsible for `pk`, if any swarm exists.
    pub(crate) fn swarm_for(&self, pk: &Pubkey) -> Option<u64> {
        swarm::swarm_for(&self.swarm_ids, pk)
    }

    /// Whether `pk` belongs to this node's swarm.
    pub(crate) fn is_mine(&self, pk: &Pubkey) -> bool {
        self.my_swarm.is_some() && self.swarm_for(pk) == self.my_swarm
    }

    /// Members of swarm `id` (empty if there is no such swarm).
    pub(crate) fn members(&self, id: u64) -> &[NodeInfo] {
        self.swarms.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The other members of this node's swarm.
    pub(crate) fn peers(&self, me: &[u8; 32]) -> Vec<NodeInfo> {
        match self.my_swarm {
            Some(id) => self.members(id).iter().filter(|n| &n.pubkey_ed25519 != me).cloned().collect(),
            None => Vec::new(),
        }
    }

    /// The node list JSON `{"service_node_states": [...], "pow_difficulty": N, ...}`.
    pub(crate) fn node_list_json(&self) -> serde_json::Value {
        if self.list_json.is_null() {
            serde_json::json!({"service_node_states": [], "pow_difficulty": 0})
        } else {
            self.list_json.clone()
        }
    }

    /// A registered node by its Ed25519 key.
    pub(crate) fn node(&self, ed: &[u8; 32]) -> Option<&NodeInfo> {
        self.by_ed.get(ed).map(|&i| &self.nodes[i])
    }
}

/// The shared, updatable view: the poller writes, everyone else reads snapshots.
#[derive(Debug, Clone)]
pub(crate) struct ViewHandle {
    tx: Arc<watch::Sender<Arc<SwarmView>>>,
}

impl ViewHandle {
    pub(crate) fn new(initial: SwarmView) -> Self {
        let (tx, _rx) = watch::channel(Arc::new(initial));
        Self { tx: Arc::new(tx) }
    }

    /// The current view.
    pub(crate) fn current(&self) -> Arc<SwarmView> {
        self.tx.borrow().clone()
    }

    /// Replaces the view if its digest changed; returns whether it did.
    pub(crate) fn update(&self, view: SwarmView) -> bool {
        let changed = self.tx.borrow().digest != view.digest;
        if changed {
            self.tx.send_replace(Arc::new(view));
        }
        changed
    }

    /// A receiver notified on every change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Arc<SwarmView>> {
        self.tx.subscribe()
    }
}
