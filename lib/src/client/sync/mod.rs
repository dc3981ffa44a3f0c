//! The client side of synchronous routing (docs/sync.md): what `send --sync` and
//! `retrieve --listen` do, and the files they share under `STATE/<session id>.sync/`:
//!
//! - `self.json` (0600): this account's listener, `{node, listen_pk, expires, pid, heartbeat}`;
//!   `send` attaches an online presence only while it is fresh (the pid alive, the heartbeat
//!   younger than `SYNC_HEARTBEAT_STALE_MS`).
//! - `peers/<session id>.json`: each contact's last presence and our verdict on it (offline
//!   after a failed deliver, until a new presence comes).
//! - `inbox.ndjson`: the journal of sync lines printed, appended and fsynced before their ack.
//!
//! - [`deliver`]: one `sync_deliver` and the sender's state machine (`send --sync`).
//! - [`listen`]: the listener loop (`retrieve --listen`).

pub mod deliver;
pub mod listen;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::formats::identity::SessionId;
use crate::formats::keys::decode_hex32;
use crate::formats::limits::{SYNC_HEARTBEAT_STALE_MS, SYNC_PRESENCE_REPLY_MIN_INTERVAL_MS};
use crate::formats::sync::presence::Presence;

/// The directory of one account's sync files.
pub fn sync_dir(state_dir: &Path, me: &SessionId) -> PathBuf {
    state_dir.join(format!("{me}.sync"))
}

/// `self.json`: the running listener of this account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SelfRecord {
    /// The listening node's Ed25519 key, hex.
    pub node: String,
    /// The listening key, hex.
    pub listen_pk: String,
    /// When the presence it gives expires, ms.
    pub expires: u64,
    /// The listener's process id.
    pub pid: u32,
    /// When the listener last wrote this file, ms.
    pub heartbeat: u64,
}

impl SelfRecord {
    fn path(dir: &Path) -> PathBuf {
        dir.join("self.json")
    }

    /// Reads `self.json` (None when missing or unreadable).
    pub fn load(dir: &Path) -> Option<Self> {
        serde_json::from_slice(&std::fs::read(Self::path(dir)).ok()?).ok()
    }

    /// Writes it atomically (0600).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        crate::net::fs::create_private_dir(dir)?;
        let text = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        crate::net::fs::write_atomic(&Self::path(dir), &text)
    }

    /// Removes it (a clean stop).
    pub fn remove(dir: &Path) {
        let _ = std::fs::remove_file(Self::path(dir));
    }

    /// The online presence it gives, when the listener is alive and its heartbeat fresh.
    pub fn presence(&self, now_ms: u64) -> Option<Presence> {
        let fresh = pid_alive(self.pid) && now_ms.saturating_sub(self.heartbeat) < SYNC_HEARTBEAT_STALE_MS;
        if !fresh || self.expires <= now_ms {
            return None;
        }
        Some(Presence {
            online: true,
            node: Some(decode_hex32(&self.node).ok()?),
            listen_pk: Some(decode_hex32(&self.listen_pk).ok()?),
            expires: Some(self.expires),
            ts: now_ms,
        })
    }
}

/// Whether `pid` is a live (not zombie) process.
fn pid_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z") | Some("X") | None)
}

/// `peers/<session id>.json`: a contact's last presence and what our delivers made of it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PeerRecord {
    /// The contact.
    pub session_id: String,
    /// Its presence said it was online.
    pub online: bool,
    /// Its listening node (Ed25519 hex).
    #[serde(default)]
    pub node: Option<String>,
    /// Its listening key (hex).
    #[serde(default)]
    pub listen_pk: Option<String>,
    /// When its presence expires, ms.
    #[serde(default)]
    pub expires: Option<u64>,
    /// When its presence was made, ms.
    #[serde(default)]
    pub ts: u64,
    /// Our verdict: a deliver failed since that presence (async until a new one comes).
    #[serde(default)]
    pub offline: bool,
    /// Consecutive failed delivers.
    #[serde(default)]
    pub fails: u32,
    /// When a deliver to it was last acked, ms.
    #[serde(default)]
    pub last_ok: Option<u64>,
    /// When we last sent it a presence-only handshake, ms.
    #[serde(default)]
    pub last_handshake: Option<u64>,
    /// The listening key of the presence that handshake answered (hex).
    #[serde(default)]
    pub last_handshake_key: Option<String>,
}

impl PeerRecord {
    fn path(dir: &Path, peer: &str) -> PathBuf {
        dir.join("peers").join(format!("{peer}.json"))
    }

    /// Reads a peer's record (a default one when there is none).
    pub fn load(dir: &Path, peer: &SessionId) -> Self {
        let peer = peer.to_string();
        std::fs::read(Self::path(dir, &peer))
            .ok()
            .and_then(|b| serde_json::from_slice::<Self>(&b).ok())
            .unwrap_or_else(|| Self { session_id: peer, ..Self::default() })
    }

    /// Every peer's record.
    pub fn load_all(dir: &Path) -> Vec<Self> {
        let Ok(entries) = std::fs::read_dir(dir.join("peers")) else { return Vec::new() };
        let mut all: Vec<Self> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
            .collect();
        all.sort_by(|a: &Self, b: &Self| a.session_id.cmp(&b.session_id));
        all
    }

    /// Writes it atomically.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        crate::net::fs::create_private_dir(&dir.join("peers"))?;
        let text = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        crate::net::fs::write_atomic(&Self::path(dir, &self.session_id), &text)
    }

    /// Loads `peer`'s record, lets `change` edit it and saves it, all under the record's lock:
    /// the listener's threads and any number of `send` processes update one record without
    /// losing each other's verdicts.
    pub fn update<T>(
        dir: &Path,
        peer: &SessionId,
        change: impl FnOnce(&mut Self) -> T,
    ) -> std::io::Result<T> {
        crate::net::fs::create_private_dir(&dir.join("peers"))?;
        let lock = dir.join("peers").join(format!("{peer}.lock"));
        crate::net::fs::with_lock(&lock, || {
            let mut rec = Self::load(dir, peer);
            let out = change(&mut rec);
            rec.save(dir).map(|()| out)
        })?
    }

    /// After [`PeerRecord::take_presence`] said `changed`: whether to answer with a handshake
    /// now (and if so, records it). The rate limit is per presence: the same presence is
    /// answered at most once per `SYNC_PRESENCE_REPLY_MIN_INTERVAL_MS` (no ping-pong), but a
    /// presence with another listening key (the peer failed over) at once, or two peers that
    /// failed over together would each keep the other marked offline for the whole interval.
    pub fn handshake_due(&mut self, now_ms: u64) -> bool {
        let other_key = self.listen_pk != self.last_handshake_key;
        let interval_passed = self
            .last_handshake
            .is_none_or(|t| now_ms.saturating_sub(t) >= SYNC_PRESENCE_REPLY_MIN_INTERVAL_MS);
        let due = other_key || interval_passed;
        if due {
            self.last_handshake = Some(now_ms);
            self.last_handshake_key = self.listen_pk.clone();
        }
        due
    }

    /// Whether a deliver should be tried: an online, unexpired presence with no failure since.
    pub fn is_fresh(&self, now_ms: u64) -> bool {
        self.online
            && !self.offline
            && self.node.is_some()
            && self.listen_pk.is_some()
            && self.expires.is_some_and(|e| e > now_ms)
    }

    /// The listening node and key of a fresh presence.
    pub fn target(&self, now_ms: u64) -> Option<([u8; 32], [u8; 32])> {
        if !self.is_fresh(now_ms) {
            return None;
        }
        Some((decode_hex32(self.node.as_deref()?).ok()?, decode_hex32(self.listen_pk.as_deref()?).ok()?))
    }

    /// Takes a presence the peer sent (older ones than what we hold are ignored). Returns
    /// whether it is new or changed in a way that calls for a handshake: another node or key,
    /// or an online presence after our offline verdict.
    pub fn take_presence(&mut self, p: &Presence) -> bool {
        if p.ts < self.ts {
            return false;
        }
        let node = p.node.map(hex::encode);
        let key = p.listen_pk.map(hex::encode);
        let changed =
            p.online && (node != self.node || key != self.listen_pk || !self.online || self.offline);
        self.online = p.online;
        self.node = node;
        self.listen_pk = key;
        self.expires = p.expires;
        self.ts = p.ts;
        if p.online {
            self.offline = false;
            self.fails = 0;
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn online(ts: u64, node: u8) -> Presence {
        Presence {
            online: true,
            node: Some([node; 32]),
            listen_pk: Some([2; 32]),
            expires: Some(ts + 1000),
            ts,
        }
    }

    #[test]
    fn test_concurrent_updates_of_one_peer_record_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let peer = SessionId::parse(&format!("05{}", "ab".repeat(32))).unwrap();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..25 {
                        PeerRecord::update(dir.path(), &peer, |r| r.fails += 1).unwrap();
                    }
                });
            }
        });
        assert_eq!(PeerRecord::load(dir.path(), &peer).fails, 200);
        // The lock file is not a record.
        assert_eq!(PeerRecord::load_all(dir.path()).len(), 1);
    }

    #[test]
    fn test_handshakes_are_limited_per_presence() {
        let mut r = PeerRecord { session_id: "05ab".into(), ..PeerRecord::default() };
        assert!(r.take_presence(&online(10, 1)));
        assert!(r.handshake_due(10));
        // Our verdict went offline and the same presence came again: not before the interval.
        r.offline = true;
        assert!(r.take_presence(&online(20, 1)));
        assert!(!r.handshake_due(20));
        assert!(r.handshake_due(10 + SYNC_PRESENCE_REPLY_MIN_INTERVAL_MS));
        // A failover: another listening key is answered at once.
        let mut moved = online(30, 4);
        moved.listen_pk = Some([9; 32]);
        assert!(r.take_presence(&moved));
        assert!(r.handshake_due(11 + SYNC_PRESENCE_REPLY_MIN_INTERVAL_MS));
    }

    #[test]
    fn test_peer_presence_rules() {
        let mut r = PeerRecord { session_id: "05ab".into(), ..PeerRecord::default() };
        assert!(r.take_presence(&online(10, 1)));
        assert!(r.is_fresh(11));
        // The same presence again (a later message): no handshake.
        assert!(!r.take_presence(&online(20, 1)));
        // An older one is ignored.
        assert!(!r.take_presence(&online(5, 9)));
        assert_eq!(r.node, Some(hex::encode([1u8; 32])));
        // After a failed deliver the peer stays offline until a new presence comes.
        r.offline = true;
        assert!(!r.is_fresh(21));
        assert!(r.take_presence(&online(30, 1)));
        assert!(r.is_fresh(31));
        // Another node (a failover): a handshake.
        assert!(r.take_presence(&online(40, 3)));
        // Offline presence: not fresh, no handshake.
        assert!(!r.take_presence(&Presence::offline(50)));
        assert!(!r.is_fresh(51));
    }

    #[test]
    fn test_self_record_of_a_dead_listener_gives_no_presence() {
        let me = SelfRecord {
            node: hex::encode([1u8; 32]),
            listen_pk: hex::encode([2u8; 32]),
            expires: u64::MAX,
            pid: std::process::id(),
            heartbeat: 1_000,
        };
        assert!(me.presence(1_000).is_some());
        assert!(me.presence(1_000 + SYNC_HEARTBEAT_STALE_MS).is_none());
        let dead = SelfRecord { pid: u32::MAX, ..me };
        assert!(dead.presence(1_000).is_none());
    }
}
