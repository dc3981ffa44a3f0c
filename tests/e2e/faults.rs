//! Faults (issue 17): what a node does when the world around it breaks. Tests that need root
//! (a tmpfs mount) skip with a message elsewhere; CI runs as root.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::common::{Testnet, eventually, now_ms, retrieve_hashes, rpc};

/// A public inbox namespace: retrieves need no signature.
const NS: i16 = -10;
/// Each filler store carries this much data, so the disk fills in a few dozen stores.
const FILLER_BYTES: usize = 40_000;
/// The tmpfs the node's data directory lives on: room for the store and a little more.
const TMPFS_SIZE: &str = "2m";

/// A tmpfs mounted over a directory, unmounted (lazily: the node may still hold it) on drop.
struct Tmpfs {
    at: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` at `at`, moving what `at` holds onto it; None without the right
    /// to mount.
    fn over(at: &Path, size: &str) -> Option<Self> {
        let saved = tempfile::tempdir().ok()?;
        for entry in std::fs::read_dir(at).ok()?.flatten() {
            std::fs::copy(entry.path(), saved.path().join(entry.file_name())).ok()?;
        }
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        for entry in std::fs::read_dir(saved.path()).ok()?.flatten() {
            std::fs::copy(entry.path(), at.join(entry.file_name())).ok()?;
        }
        Some(Self { at: at.to_path_buf() })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
    }
}

/// Fills the file system holding `dir` to the last byte with `dir/filler`.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).expect("create filler");
    let block = vec![0xAAu8; 4096];
    while f.write_all(&block).is_ok() {}
    // The last partial block: one byte at a time until nothing fits.
    while f.write_all(&[0u8]).is_ok() {}
    let _ = f.sync_all();
}

fn store(url: &str, pk: &str, n: usize) -> (u16, serde_json::Value) {
    let mut data = format!("message {n} ").into_bytes();
    data.resize(FILLER_BYTES, b'x');
    let params = json!({"pubkey": pk, "timestamp": now_ms(), "ttl": 3_600_000, "data": STANDARD.encode(&data), "namespace": NS});
    rpc(url, "store", params)
}

/// The hashes the node holds for `pk`, or its refusal status.
fn hashes(url: &str, pk: &str) -> Result<BTreeSet<String>, u16> {
    retrieve_hashes(url, pk, NS)
}

/// A store is acknowledged when the reply is 200 and names its hash (one member here).
fn acked(status: u16, reply: &serde_json::Value) -> Option<String> {
    (status == 200).then(|| reply["hash"].as_str().map(str::to_string)).flatten()
}

#[test]
fn a_full_disk_refuses_stores_with_a_5xx_keeps_serving_reads_and_stores_again_once_freed() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: mounting a small tmpfs for the node's data needs root (CI runs as root)");
        return;
    }
    let tn = Testnet::up(1);
    let url = tn.url(0);
    let data_dir = tn.dir().join("nodes").join("0");
    tn.kill(0);
    let Some(_mount) = Tmpfs::over(&data_dir, TMPFS_SIZE) else {
        eprintln!("skipped: mount -t tmpfs was refused here (no CAP_SYS_ADMIN)");
        return;
    };
    tn.start(0);
    let pk = format!("05{}", hex::encode(rand::random::<[u8; 32]>()));

    // Some stores while there is room.
    let mut kept = BTreeSet::new();
    for n in 0..3 {
        let (status, reply) = store(&url, &pk, n);
        kept.insert(acked(status, &reply).unwrap_or_else(|| panic!("store {n} with room: {status} {reply}")));
    }

    // Fill the disk. Stores may still fit into space SQLite already holds; keep storing until one
    // is refused, and every one that was acknowledged must stay.
    fill(&data_dir);
    let mut refused = None;
    for n in 3..200 {
        let (status, reply) = store(&url, &pk, n);
        match acked(status, &reply) {
            Some(hash) => {
                kept.insert(hash);
            }
            None => {
                refused = Some((status, reply));
                break;
            }
        }
    }
    let (status, reply) = refused.expect("a store on a full disk was refused");
    assert!((500..600).contains(&status), "a full disk answers a 5xx, got {status} {reply}");
    // The live reply format still names the hash it would have had; what acknowledges a store is
    // a member's signature over it, and no member gives one.
    let members = reply["swarm"].as_object().cloned().unwrap_or_default();
    assert!(!members.is_empty(), "the refusal reports the members' results: {reply}");
    assert!(
        members.values().all(|m| m["failed"] == true && m.get("signature").is_none()),
        "no member acknowledged the refused store: {reply}"
    );

    // Reads go on, with everything acknowledged.
    assert_eq!(hashes(&url, &pk), Ok(kept.clone()), "reads on a full disk");
    let (status, _) = rpc(&url, "info", json!({}));
    assert_eq!(status, 200, "the node still answers info on a full disk");

    // Space freed: stores succeed again (the first one may race SQLite noticing).
    std::fs::remove_file(data_dir.join("filler")).expect("remove filler");
    let again = eventually(Duration::from_secs(10), || {
        let (status, reply) = store(&url, &pk, 1000);
        acked(status, &reply).map(|h| kept.insert(h)).is_some()
    });
    assert!(again, "stores succeed again once space is freed");

    // Nothing acknowledged is lost across a crash and restart.
    tn.kill(0);
    tn.start(0);
    assert_eq!(hashes(&url, &pk), Ok(kept), "after a restart");
}

/// The reachability-testing period of the heal test: long enough that a loaded CI machine answers
/// every test in time (a test may take three quarters of it).
const REACH_PERIOD_MS: u64 = 2000;
/// How long the registry may take to decommission a dead node and the swarms to settle.
const HEAL_WITHIN: Duration = Duration::from_secs(90);

/// The standing `testnet status` reports for node `i`.
fn standing(tn: &Testnet, i: usize) -> String {
    tn.status()["nodes"][i]["standing"].as_str().unwrap_or_default().to_string()
}

#[test]
fn two_killed_members_of_a_swarm_are_decommissioned_by_their_testers_and_the_swarm_heals() {
    let tn = Testnet::up_with_reach(12, REACH_PERIOD_MS);
    let list = || snkit::nodelist::NodeList::load(tn.nodes_json().to_str().unwrap()).expect("nodes.json");

    // Acknowledged messages for accounts all over the network.
    let mut acked_msgs = Vec::new();
    for n in 0..24 {
        let pk = format!("05{}", hex::encode(rand::random::<[u8; 32]>()));
        let pubkey = snkit::keys::Pubkey::parse(&pk).unwrap();
        let (_, members) = list().swarm_of(&pubkey).expect("a swarm");
        let entry = tn.index_of(&hex::encode(members[0].pubkey_ed25519)).unwrap();
        let (status, reply) = store(&tn.url(entry), &pk, n);
        let hash = acked(status, &reply).unwrap_or_else(|| panic!("store {n}: {status} {reply}"));
        acked_msgs.push((pk, hash));
    }

    // Kill two members of one swarm; no testnet command tells the registry.
    let (_, victim_swarm) = list().swarm_of(&snkit::keys::Pubkey::parse(&acked_msgs[0].0).unwrap()).unwrap();
    let victims: Vec<usize> =
        victim_swarm.iter().take(2).map(|n| tn.index_of(&hex::encode(n.pubkey_ed25519)).unwrap()).collect();
    for &v in &victims {
        tn.kill(v);
    }
    let decommissioned =
        eventually(HEAL_WITHIN, || victims.iter().all(|&v| standing(&tn, v) == "decommissioned"));
    assert!(decommissioned, "the killed nodes {victims:?} were not decommissioned: {}", tn.status());
    let status = tn.status();
    for (i, node) in status["nodes"].as_array().unwrap().iter().enumerate() {
        if !victims.contains(&i) {
            assert_eq!(node["standing"], "active", "a live node stays active: {node}");
        }
    }
    // `status` asks the registry server for the tallies with a short timeout: on a loaded machine
    // one call may come back without them.
    let shown = eventually(Duration::from_secs(30), || {
        tn.status()["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["tests"].as_array().is_some_and(|t| !t.is_empty()))
    });
    assert!(shown, "status shows every node's test results: {}", tn.status());
    let victim_keys: BTreeSet<String> = victims.iter().map(|&v| tn.ed25519(v)).collect();
    for n in list().iter() {
        if victim_keys.contains(&hex::encode(n.pubkey_ed25519)) {
            assert_eq!(n.swarm_id, u64::MAX, "a decommissioned node is in swarm 2^64-1");
        }
    }

    // Every acknowledged message ends up on every member of its account's swarm as it is now.
    let healed = eventually(HEAL_WITHIN, || {
        acked_msgs.iter().all(|(pk, hash)| {
            let (_, members) = list().swarm_of(&snkit::keys::Pubkey::parse(pk).unwrap()).unwrap();
            members.iter().all(|m| {
                let i = tn.index_of(&hex::encode(m.pubkey_ed25519)).unwrap();
                hashes(&tn.url(i), pk).is_ok_and(|h| h.contains(hash))
            })
        })
    });
    if !healed {
        let missing: Vec<String> = acked_msgs
            .iter()
            .flat_map(|(pk, hash)| {
                let (id, members) = list().swarm_of(&snkit::keys::Pubkey::parse(pk).unwrap()).unwrap();
                members
                    .iter()
                    .filter_map(|m| {
                        let i = tn.index_of(&hex::encode(m.pubkey_ed25519)).unwrap();
                        let got = hashes(&tn.url(i), pk);
                        (!got.as_ref().is_ok_and(|h| h.contains(hash)))
                            .then(|| format!("{hash} of {pk} (swarm {id:016x}) on node {i}: {got:?}"))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        panic!("acknowledged messages missing after the heal: {missing:#?}\nstatus: {}", tn.status());
    }

    // A victim that comes back passes its tests and is recommissioned.
    tn.start(victims[0]);
    assert!(
        eventually(HEAL_WITHIN, || standing(&tn, victims[0]) == "active"),
        "a restarted node is recommissioned: {}",
        tn.status()
    );
}
