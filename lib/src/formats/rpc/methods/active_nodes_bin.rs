//! `active_nodes_bin` (newest live server): every active node in a compact binary list, 51
//! bytes a node: Ed25519 key (32) ‖ swarm id (u64 BE) ‖ IPv4 (4, BE) ‖ HTTPS port (u16 BE) ‖
//! OMQ/QUIC port (u16 BE) ‖ version (3 bytes, each capped at 255). No params. The node sends it
//! as `application/octet-stream`; inside batch results and onion replies it is base64.

use std::net::Ipv4Addr;

use crate::formats::nodelist::NodeInfo;

/// Bytes per node in the list.
pub const ACTIVE_NODE_BYTES: usize = 51;

/// The list of `nodes` (those in a swarm; a node whose IP is not IPv4 is skipped, having no
/// place in the format), each with `version` and the same port for HTTPS and OMQ (snkit nodes
/// serve everything on one port).
pub fn active_nodes_bin(nodes: &[NodeInfo], version: [u16; 3]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nodes.len() * ACTIVE_NODE_BYTES);
    for n in nodes.iter().filter(|n| n.in_swarm()) {
        let Ok(ip) = n.public_ip.parse::<Ipv4Addr>() else { continue };
        out.extend_from_slice(&n.pubkey_ed25519);
        out.extend_from_slice(&n.swarm_id.to_be_bytes());
        out.extend_from_slice(&ip.octets());
        out.extend_from_slice(&n.storage_port.to_be_bytes());
        out.extend_from_slice(&n.storage_port.to_be_bytes());
        out.extend(version.iter().map(|v| (*v).min(255) as u8));
    }
    out
}
