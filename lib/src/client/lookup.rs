//! `swarm-of`'s logic: which swarm, and which nodes, hold a pubkey, from a node list (computed
//! locally with swarms.md §1) or by asking one node (`get_swarm`).

use serde_json::{Value, json};

use crate::formats::keys::{Pubkey, PubkeyError};
use crate::formats::nodelist::{NodeInfo, NodeList, NodeListError};
use crate::formats::registry::RegistryError;
use crate::formats::swarm::{swarm_for, swarm_id_hex};
use crate::net::nodes::{self, LoadError};

/// Why a lookup failed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// A line is neither a Session ID nor a 64-hex pubkey.
    #[error("'{input}' is not a Session ID or pubkey: {reason}")]
    BadId {
        /// The line as given.
        input: String,
        /// Why the pubkey decoder refused it.
        reason: PubkeyError,
    },
    /// A JSON line has neither a `session_id` nor a `pubkey` string.
    #[error("input line is JSON but has no \"session_id\" or \"pubkey\" string")]
    NoIdField,
    /// The node list has no node in any swarm.
    #[error("the node list has no node in a swarm")]
    EmptyList,
    /// The asked node answered `get_swarm` without a swarm for the pubkey.
    #[error("{url} knows no swarm for {pubkey}")]
    NoSwarmAtNode {
        /// The node asked.
        url: String,
        /// The pubkey, hex.
        pubkey: String,
    },
    /// The node list could not be loaded.
    #[error(transparent)]
    Node(#[from] NodeListError),
    /// The registry could not be loaded.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl From<LoadError> for LookupError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::List(e) => Self::Node(e),
            LoadError::Registry(e) => Self::Registry(e),
        }
    }
}

impl LookupError {
    /// Whether the failure is the network's or a node's (exit 1), not the input's (exit 2).
    pub fn is_network(&self) -> bool {
        match self {
            Self::NoSwarmAtNode { .. } => true,
            Self::Node(e) => e.is_network(),
            Self::Registry(e) => e.is_network(),
            _ => false,
        }
    }
}

/// Parses one input: a pubkey in hex (66 characters, or 64 with type 05 assumed), or a JSON
/// object with a `"session_id"` or `"pubkey"` string (what `keygen` prints).
pub fn parse_id(input: &str) -> Result<Pubkey, LookupError> {
    let input = input.trim();
    let text = if input.starts_with('{') {
        let v: Value = serde_json::from_str(input).map_err(|_| LookupError::NoIdField)?;
        let id = v.get("session_id").or_else(|| v.get("pubkey")).and_then(Value::as_str);
        id.ok_or(LookupError::NoIdField)?.to_string()
    } else {
        input.to_string()
    };
    Pubkey::parse(&text).map_err(|reason| LookupError::BadId { input: shorten(&text), reason })
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(80).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Where swarms come from.
#[derive(Debug, Clone)]
pub enum SwarmSource {
    /// A node list (and its valid swarm ids, sorted once): the mapping is computed locally.
    List {
        /// The nodes.
        list: NodeList,
        /// Their swarm ids, sorted.
        ids: Vec<u64>,
    },
    /// A node's URL: it is asked with `get_swarm`.
    Node(String),
}

impl SwarmSource {
    /// A node-list source; refuses a list with no node in any swarm.
    pub fn from_list(list: NodeList) -> Result<Self, LookupError> {
        let ids = list.swarm_ids();
        if ids.is_empty() {
            return Err(LookupError::EmptyList);
        }
        Ok(Self::List { list, ids })
    }

    /// The swarm of `pk` and its nodes.
    pub fn lookup(&self, pk: &Pubkey) -> Result<Lookup, LookupError> {
        match self {
            Self::List { list, ids } => {
                let swarm_id = swarm_for(ids, pk).ok_or(LookupError::EmptyList)?;
                Ok(Lookup { pubkey: *pk, swarm_id, nodes: list.members(swarm_id) })
            }
            Self::Node(url) => {
                let reply = nodes::get_swarm(url, pk)?;
                if reply.nodes.is_empty() {
                    return Err(LookupError::NoSwarmAtNode { url: url.clone(), pubkey: pk.to_hex() });
                }
                Ok(Lookup { pubkey: *pk, swarm_id: reply.swarm_id, nodes: reply.nodes })
            }
        }
    }
}

/// The answer for one pubkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The pubkey looked up.
    pub pubkey: Pubkey,
    /// Its swarm's id.
    pub swarm_id: u64,
    /// Its swarm's members.
    pub nodes: Vec<NodeInfo>,
}

impl Lookup {
    /// `{"pubkey": hex66, "swarm_id": "<16 hex>", "nodes": [node-list objects]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "pubkey": self.pubkey.to_hex(),
            "swarm_id": swarm_id_hex(self.swarm_id),
            "nodes": self.nodes.iter().map(NodeInfo::to_json).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8";

    #[test]
    fn test_parse_id_accepts_hex_and_json_lines() {
        let pk = Pubkey::parse(ID).unwrap();
        assert_eq!(parse_id(ID).unwrap(), pk);
        assert_eq!(parse_id(&format!("  {ID}\n")).unwrap(), pk);
        assert_eq!(parse_id(&ID[2..]).unwrap(), pk);
        assert_eq!(parse_id(&format!(r#"{{"session_id":"{ID}","seed":"00"}}"#)).unwrap(), pk);
        assert_eq!(parse_id(&format!(r#"{{"pubkey":"{ID}"}}"#)).unwrap(), pk);
    }

    #[test]
    fn test_parse_id_rejects_bad_input() {
        assert!(matches!(parse_id("05abc"), Err(LookupError::BadId { reason: PubkeyError::Length(5), .. })));
        assert!(matches!(
            parse_id(&"zz".repeat(33)),
            Err(LookupError::BadId { reason: PubkeyError::NotHex, .. })
        ));
        assert_eq!(parse_id(r#"{"id":"05"}"#), Err(LookupError::NoIdField));
        assert_eq!(parse_id(r#"{"session_id":5}"#), Err(LookupError::NoIdField));
        assert_eq!(parse_id("{"), Err(LookupError::NoIdField));
    }

    #[test]
    fn test_empty_list_is_refused() {
        assert!(matches!(SwarmSource::from_list(NodeList::default()), Err(LookupError::EmptyList)));
    }
}
