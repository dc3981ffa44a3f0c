//! `testnet up --hosts`: a testnet of real hosts. Each node, the registry and each client gets
//! its own Linux network namespace with one private address on a bridge made for this testnet
//! (a veth pair per host), so every connection carries a real, distinct peer address.
//!
//! - A testnet takes a *slot* s (0 ≤ s < [`HOSTS_SLOTS`]): subnet `10.(16+s).0.0/16`, bridge
//!   `sk<s>-br`, namespaces and host-side veth ends `sk<s>-<host>`. The first free slot from a hash
//!   of the testnet's directory is taken; creating the bridge is the claim (it fails when another
//!   testnet holds the slot), so two testnets never share names or addresses.
//! - Addresses: the registry `.0.1`, clients `c1..cN` `.0.(10+k)`, node i
//!   `.(1 + i/200).(1 + i%200)`.
//! - The root namespace holds the bridge (no address) and the host-side veth ends, nothing else.
//!   The `testnet` command itself talks to the nodes from the registry's namespace (its polls
//!   come from the registry's address), and starts each process inside its host's namespace.
//! - `partition A B…` adds `unreachable` routes between the cut hosts and every other host, in
//!   both directions (a connection attempt fails at once with "no route to host", as when a
//!   router reports the link down); `heal` removes them. Only `ip` (iproute2) is needed.
//!
//! Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN); without it a clear usage error.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::TestnetError;

/// How many host testnets can exist at once on one machine (one /16 of 10/8 each).
pub const HOSTS_SLOTS: u16 = 239;
/// The second octet of slot 0's subnet (10.16.0.0/16); 10.0–10.15 are left to other users.
const FIRST_OCTET: u16 = 16;
/// Most clients a host testnet can have.
pub const HOSTS_MAX_CLIENTS: usize = 100;
/// Nodes per /24 of the subnet (node addresses stay readable: node 0 = .1.1, node 200 = .2.1).
const NODES_PER_OCTET: usize = 200;
/// Prefix length of a host testnet's subnet.
const PREFIX_LEN: u8 = 16;
/// Where `ip netns` keeps its named namespaces.
const NETNS_DIR: &str = "/run/netns";

/// One host of a host testnet: its namespace, address and the veth end on the bridge.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Host {
    /// The name `testnet exec` and `partition` take: `registry`, `c1`…, or `n<i>` for node i.
    pub name: String,
    /// The network namespace (`ip netns` name).
    pub netns: String,
    /// Its one address (without the prefix length).
    pub addr: String,
    /// The veth end in the root namespace, a port of the bridge.
    pub veth: String,
}

/// The network of a host testnet, as `testnet.json` records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostNet {
    /// The testnet's slot (names and subnet).
    pub slot: u16,
    /// `10.x.0.0/16`.
    pub subnet: String,
    /// The bridge in the root namespace.
    pub bridge: String,
    /// The registry's host (the `testnet` command's own polls come from here too).
    pub registry: Host,
    /// The client hosts, `c1..cN`.
    pub clients: Vec<Host>,
    /// The node hosts, by node index.
    pub nodes: Vec<Host>,
    /// Names of the hosts `testnet partition` cut off (empty when healed).
    #[serde(default)]
    pub cut: Vec<String>,
}

/// Refuses (exit 2) when not root: namespaces and links need CAP_NET_ADMIN/CAP_SYS_ADMIN.
pub fn require_root(what: &str) -> Result<(), TestnetError> {
    if !rustix::process::geteuid().is_root() {
        return Err(TestnetError::Usage(format!(
            "{what} needs root (it makes network namespaces, a bridge and veth links); run it as \
             root, or use a loopback testnet (without --hosts)"
        )));
    }
    Ok(())
}

fn prefix(slot: u16) -> String {
    format!("sk{slot}-")
}

fn octet(slot: u16) -> u16 {
    FIRST_OCTET + slot
}

/// Runs `ip ARGS` (in the root namespace); its stderr names what failed.
fn ip(args: &[&str]) -> Result<(), TestnetError> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| TestnetError::io("cannot run ip (install iproute2)", e))?;
    if out.status.success() {
        return Ok(());
    }
    Err(TestnetError::Failed(format!(
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// `ip -n NETNS -batch -` with `lines` on stdin: many changes in one namespace, one process.
fn ip_batch(netns: &str, lines: &[String]) -> Result<(), TestnetError> {
    use std::io::Write;
    if lines.is_empty() {
        return Ok(());
    }
    let mut child = Command::new("ip")
        .args(["-n", netns, "-force", "-batch", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| TestnetError::io("cannot run ip (install iproute2)", e))?;
    if let Some(mut stdin) = child.stdin.take() {
        let text = lines.join("\n") + "\n";
        stdin.write_all(text.as_bytes()).map_err(|e| TestnetError::io("ip -batch", e))?;
    }
    let out = child.wait_with_output().map_err(|e| TestnetError::io("ip -batch", e))?;
    if out.status.success() {
        return Ok(());
    }
    Err(TestnetError::Failed(format!(
        "ip -n {netns} -batch: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

fn host(slot: u16, name: &str, addr: String) -> Host {
    Host {
        name: name.to_string(),
        netns: format!("{}{name}", prefix(slot)),
        addr,
        veth: format!("{}{name}", prefix(slot)),
    }
}

/// The host of node `i`.
fn node_host(slot: u16, i: usize) -> Host {
    let (hi, lo) = (1 + i / NODES_PER_OCTET, 1 + i % NODES_PER_OCTET);
    host(slot, &format!("n{i}"), format!("10.{}.{hi}.{lo}", octet(slot)))
}

/// Makes the namespace, veth pair and address of `h`, attached to `bridge`.
fn add_host(h: &Host, bridge: &str) -> Result<(), TestnetError> {
    ip(&["netns", "add", &h.netns])?;
    ip(&["link", "add", &h.veth, "type", "veth", "peer", "name", "eth0", "netns", &h.netns])?;
    ip(&["link", "set", &h.veth, "master", bridge, "up"])?;
    ip_batch(
        &h.netns,
        &[
            format!("addr add {}/{PREFIX_LEN} dev eth0", h.addr),
            "link set eth0 up".to_string(),
            "link set lo up".to_string(),
        ],
    )
}

/// A stable starting slot for `dir`, so a testnet usually gets the same subnet each time.
fn preferred_slot(dir: &Path) -> u16 {
    // FNV-1a: spreads directories over the slots; nothing depends on it being hard to invert.
    let h = dir
        .display()
        .to_string()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (h % u64::from(HOSTS_SLOTS)) as u16
}

/// Claims a slot and makes the bridge, the registry's and the clients' hosts. On failure every
/// link and namespace made so far is removed.
pub fn create(dir: &Path, clients: usize) -> Result<HostNet, TestnetError> {
    require_root("testnet up --hosts")?;
    if clients > HOSTS_MAX_CLIENTS {
        return Err(TestnetError::Usage(format!("--clients must be 0 to {HOSTS_MAX_CLIENTS}")));
    }
    let start = preferred_slot(dir);
    let mut claimed = None;
    for k in 0..HOSTS_SLOTS {
        let slot = (start + k) % HOSTS_SLOTS;
        let bridge = format!("{}br", prefix(slot));
        // Adding the bridge is the claim: it fails when another testnet holds this slot.
        if ip(&["link", "add", "name", &bridge, "type", "bridge"]).is_ok() {
            claimed = Some((slot, bridge));
            break;
        }
    }
    let Some((slot, bridge)) = claimed else {
        return Err(TestnetError::Failed(format!(
            "no free host-testnet slot (all {HOSTS_SLOTS} taken; 'testnet down' old ones)"
        )));
    };
    let net = HostNet {
        slot,
        subnet: format!("10.{}.0.0/{PREFIX_LEN}", octet(slot)),
        bridge: bridge.clone(),
        registry: host(slot, "registry", format!("10.{}.0.1", octet(slot))),
        clients: (1..=clients)
            .map(|k| host(slot, &format!("c{k}"), format!("10.{}.0.{}", octet(slot), 9 + k)))
            .collect(),
        nodes: Vec::new(),
        cut: Vec::new(),
    };
    let made = (|| {
        ip(&["link", "set", &bridge, "up"])?;
        add_host(&net.registry, &bridge)?;
        for c in &net.clients {
            add_host(c, &bridge)?;
        }
        Ok(())
    })();
    if let Err(e) = made {
        destroy(slot);
        return Err(e);
    }
    Ok(net)
}

impl HostNet {
    /// Makes the hosts of nodes `first..first + count` and records them.
    pub fn add_nodes(&mut self, first: usize, count: usize) -> Result<(), TestnetError> {
        for i in first..first + count {
            let h = node_host(self.slot, i);
            add_host(&h, &self.bridge)?;
            if self.nodes.len() == i {
                self.nodes.push(h);
            }
        }
        Ok(())
    }

    /// Every host: registry, clients, nodes.
    pub fn all(&self) -> impl Iterator<Item = &Host> {
        std::iter::once(&self.registry).chain(&self.clients).chain(&self.nodes)
    }

    /// A host by name (`registry`, `c1`, `n3`), or a node by index (`3`).
    pub fn find(&self, name: &str) -> Option<&Host> {
        let name = name.trim();
        if let Ok(i) = name.parse::<usize>() {
            return self.nodes.get(i);
        }
        self.all().find(|h| h.name == name)
    }

    /// Cuts `names` off from every other host: `unreachable` routes both ways.
    pub fn partition(&mut self, names: &[String]) -> Result<(), TestnetError> {
        let mut cut: Vec<Host> = Vec::new();
        for n in names {
            let h =
                self.find(n).ok_or_else(|| TestnetError::Usage(format!("no host '{n}' in this testnet")))?;
            if !cut.contains(h) {
                cut.push(h.clone());
            }
        }
        if cut.is_empty() {
            return Err(TestnetError::Usage("partition needs at least one host".into()));
        }
        let rest: Vec<Host> = self.all().filter(|h| !cut.contains(h)).cloned().collect();
        let route = |to: &Host| format!("route replace unreachable {}/32", to.addr);
        for h in &cut {
            ip_batch(&h.netns, &rest.iter().map(route).collect::<Vec<_>>())?;
        }
        for h in &rest {
            ip_batch(&h.netns, &cut.iter().map(route).collect::<Vec<_>>())?;
        }
        for h in cut {
            if !self.cut.contains(&h.name) {
                self.cut.push(h.name);
            }
        }
        Ok(())
    }

    /// Removes every route `partition` added.
    pub fn heal(&mut self) -> Result<(), TestnetError> {
        for h in self.all() {
            ip(&["-n", &h.netns, "route", "flush", "type", "unreachable"])?;
        }
        self.cut.clear();
        Ok(())
    }
}

/// Removes every namespace and link of `slot` (also ones a failed `up` left half-made). The
/// processes in them must be gone already: a namespace outlives its name while one runs inside.
pub fn destroy(slot: u16) -> Vec<String> {
    let p = prefix(slot);
    let mut removed = Vec::new();
    if let Ok(entries) = std::fs::read_dir(NETNS_DIR) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            // Deleting the namespace deletes its eth0, and with it the veth pair.
            if name.starts_with(&p) && ip(&["netns", "del", &name]).is_ok() {
                removed.push(name);
            }
        }
    }
    // Host-side veth ends whose namespace was already gone, then the bridge.
    if let Ok(entries) = std::fs::read_dir("/sys/class/net") {
        let mut links: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with(&p))
            .collect();
        links.sort_by_key(|n| n.ends_with("br"));
        for l in links {
            if ip(&["link", "del", &l]).is_ok() {
                removed.push(l);
            }
        }
    }
    removed
}

fn netns_path(netns: &str) -> PathBuf {
    Path::new(NETNS_DIR).join(netns)
}

/// Runs `f` with the calling thread moved into `netns`, then moves it back. Sockets made and
/// processes and threads started inside `f` stay in `netns`.
pub fn in_netns<T>(netns: &str, f: impl FnOnce() -> T) -> Result<T, TestnetError> {
    use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};
    use std::os::fd::AsFd;
    let here =
        File::open("/proc/thread-self/ns/net").map_err(|e| TestnetError::io("this thread's namespace", e))?;
    let path = netns_path(netns);
    let there =
        File::open(&path).map_err(|e| TestnetError::io(format!("namespace {}", path.display()), e))?;
    move_into_link_name_space(there.as_fd(), Some(LinkNameSpaceType::Network))
        .map_err(|e| TestnetError::io(format!("cannot enter namespace {netns}"), e))?;
    let out = f();
    move_into_link_name_space(here.as_fd(), Some(LinkNameSpaceType::Network))
        .map_err(|e| TestnetError::io("cannot return to the root namespace", e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(slot: u16, nodes: usize) -> HostNet {
        HostNet {
            slot,
            subnet: format!("10.{}.0.0/16", octet(slot)),
            bridge: format!("{}br", prefix(slot)),
            registry: host(slot, "registry", format!("10.{}.0.1", octet(slot))),
            clients: vec![host(slot, "c1", format!("10.{}.0.10", octet(slot)))],
            nodes: (0..nodes).map(|i| node_host(slot, i)).collect(),
            cut: Vec::new(),
        }
    }

    #[test]
    fn node_addresses_are_distinct_inside_the_slot_subnet_and_names_fit_an_interface() {
        let slot = HOSTS_SLOTS - 1;
        let n = net(slot, crate::formats::limits::TESTNET_MAX_NODES);
        let addrs: std::collections::BTreeSet<&str> = n.all().map(|h| h.addr.as_str()).collect();
        assert_eq!(addrs.len(), n.all().count(), "one address per host");
        assert_eq!(n.nodes[0].addr, format!("10.{}.1.1", octet(slot)));
        assert_eq!(n.nodes[200].addr, format!("10.{}.2.1", octet(slot)));
        for h in n.all() {
            assert!(h.addr.starts_with(&format!("10.{}.", octet(slot))), "{} in the subnet", h.addr);
            assert!(!h.addr.ends_with(".0") && !h.addr.ends_with(".255"), "{} is a host address", h.addr);
            // IFNAMSIZ: 15 characters and the terminating NUL.
            assert!(h.veth.len() <= 15, "{} fits an interface name", h.veth);
        }
        assert!(n.bridge.len() <= 15);
        assert!(octet(slot) <= 254, "every slot is a 10.x/16 with x ≤ 254");
    }

    #[test]
    fn hosts_are_found_by_name_or_node_index() {
        let n = net(3, 4);
        assert_eq!(n.find("2").map(|h| h.name.as_str()), Some("n2"));
        assert_eq!(n.find("n3").map(|h| h.addr.as_str()), Some("10.19.1.4"));
        assert_eq!(n.find("c1").map(|h| h.netns.as_str()), Some("sk3-c1"));
        assert_eq!(n.find("registry").map(|h| h.addr.as_str()), Some("10.19.0.1"));
        assert!(n.find("9").is_none() && n.find("c2").is_none());
    }

    #[test]
    fn the_preferred_slot_is_stable_and_in_range() {
        let a = preferred_slot(Path::new("/tmp/a"));
        assert_eq!(a, preferred_slot(Path::new("/tmp/a")));
        assert!(a < HOSTS_SLOTS);
        let spread: std::collections::BTreeSet<u16> =
            (0..50).map(|i| preferred_slot(Path::new(&format!("/tmp/t{i}")))).collect();
        assert!(spread.len() > 30, "directories spread over the slots: {spread:?}");
    }
}
