//! Inputs of the `onion-wrap` command: a path of nodes (node-list form) and a node's key file.
//!
//! A path is a JSON array of node objects in the node-list form (`pubkey_ed25519`,
//! `pubkey_x25519`, `public_ip`, `storage_port`; the get_service_nodes names `ip` and
//! `port_https` are accepted too), or an object holding that array under `"path"`,
//! `"service_node_states"` or `"result"."service_node_states"`. Hop 1 (the guard) comes first; the
//! last node is the destination that runs the request.
//!
//! A key file is JSON with the node's 32-byte Ed25519 seed as hex (`"ed25519_seed"`, the snode key
//! file, or `"seed"`, a `keygen` identity); the X25519 secret derives from it as identity.md fixes.

use serde_json::Value;
use x25519_dalek::StaticSecret;

use super::{HopKeys, OnionError};
use crate::formats::identity::Identity;
use crate::formats::keys::decode_hex32;
use crate::formats::limits::ONION_MAX_PATH_LEN;

/// One node of a path: its keys and its base URL (`http://ip:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathNode {
    /// The hop's keys.
    pub keys: HopKeys,
    /// The hop's base URL.
    pub url: String,
}

/// Why a path or a key file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    /// The path file is none of the accepted JSON shapes.
    #[error(
        "path must be a JSON array of nodes (or {{\"path\": [...]}} / {{\"service_node_states\": [...]}})"
    )]
    NotAList,
    /// The path's length is outside 1..=`ONION_MAX_PATH_LEN`.
    #[error("path needs 1 to {ONION_MAX_PATH_LEN} nodes, got {0}")]
    Length(usize),
    /// A node of the path is invalid.
    #[error("path node {index}: {reason}")]
    Node {
        /// The node's position in the path.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A key file has neither an `ed25519_seed` nor a `seed`.
    #[error(
        "key file must be JSON with \"ed25519_seed\" (snode key file) or \"seed\" (keygen identity) as hex"
    )]
    KeyFields,
    /// A key file's seed is invalid.
    #[error("key file seed is invalid: {0}")]
    KeySeed(String),
}

impl From<PathError> for OnionError {
    fn from(e: PathError) -> Self {
        OnionError::BadField { field: "path", reason: e.to_string() }
    }
}

/// Parses a path (see the module doc).
pub fn parse_path(value: &Value) -> Result<Vec<PathNode>, PathError> {
    let list = value
        .as_array()
        .or_else(|| value.get("path").and_then(Value::as_array))
        .or_else(|| value.get("service_node_states").and_then(Value::as_array))
        .or_else(|| value.get("result").and_then(|r| r.get("service_node_states")).and_then(Value::as_array))
        .ok_or(PathError::NotAList)?;
    if list.is_empty() || list.len() > ONION_MAX_PATH_LEN {
        return Err(PathError::Length(list.len()));
    }
    list.iter().enumerate().map(|(i, n)| parse_node(i + 1, n)).collect()
}

fn parse_node(index: usize, node: &Value) -> Result<PathNode, PathError> {
    let err = |reason: String| PathError::Node { index, reason };
    let key = |field: &str| -> Result<[u8; 32], PathError> {
        let s =
            node.get(field).and_then(Value::as_str).ok_or_else(|| err(format!("no \"{field}\" string")))?;
        decode_hex32(s).map_err(|_| err(format!("\"{field}\" must be 64 hex characters")))
    };
    let keys = HopKeys { ed25519: key("pubkey_ed25519")?.into(), x25519: key("pubkey_x25519")?.into() };
    let ip = node
        .get("public_ip")
        .or_else(|| node.get("ip"))
        .and_then(Value::as_str)
        .ok_or_else(|| err("no \"public_ip\" string".into()))?;
    if ip.is_empty() || ip.contains(['/', '?', '#', '@', ' ']) {
        return Err(err(format!("\"public_ip\" {ip:?} is not an address")));
    }
    let port = node
        .get("storage_port")
        .or_else(|| node.get("port_https"))
        .and_then(|p| p.as_u64().or_else(|| p.as_str().and_then(|s| s.parse().ok())))
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
        .ok_or_else(|| err("no valid \"storage_port\" (1-65535)".into()))?;
    let host = if ip.contains(':') { format!("[{ip}]") } else { ip.to_string() };
    Ok(PathNode { keys, url: format!("http://{host}:{port}") })
}

/// Reads an onion body as a script hands it over: a JSON object carrying it as base64 under
/// `"body"` (`onion-wrap`'s output) or `"next_body"` (`onion-wrap --peel`'s output), bare base64
/// text, or the raw bytes.
pub fn body_from_input(input: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    let trimmed = input.trim_ascii();
    if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(trimmed) {
        let b64 = obj.get("body").or_else(|| obj.get("next_body")).and_then(Value::as_str);
        if let Some(Ok(bytes)) = b64.map(|b| STANDARD.decode(b.trim())) {
            return bytes;
        }
    }
    match STANDARD.decode(trimmed) {
        Ok(bytes) => bytes,
        Err(_) => input.to_vec(),
    }
}

/// Reads a node's X25519 secret and public key from its key file JSON.
pub fn node_secret_from_key_json(value: &Value) -> Result<(StaticSecret, [u8; 32]), PathError> {
    let seed = value
        .get("ed25519_seed")
        .or_else(|| value.get("seed"))
        .and_then(Value::as_str)
        .ok_or(PathError::KeyFields)?;
    let id = Identity::from_seed_hex(seed).map_err(|e| PathError::KeySeed(e.to_string()))?;
    Ok((id.x25519_secret().clone(), id.x25519_public()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(port: u64) -> Value {
        json!({"pubkey_ed25519": "11".repeat(32), "pubkey_x25519": "22".repeat(32),
               "public_ip": "127.0.0.1", "storage_port": port})
    }

    #[test]
    fn parses_the_node_list_forms() {
        let p = parse_path(&json!([node(1), node(2), node(3)])).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[2].url, "http://127.0.0.1:3");
        assert_eq!(p[0].keys.ed25519.as_bytes(), &[0x11; 32]);
        assert_eq!(parse_path(&json!({"service_node_states": [node(5)]})).unwrap().len(), 1);
        assert_eq!(parse_path(&json!({"path": [node(5)]})).unwrap().len(), 1);
    }

    #[test]
    fn bad_paths_are_typed() {
        assert_eq!(parse_path(&json!({"x": 1})), Err(PathError::NotAList));
        assert_eq!(parse_path(&json!([])), Err(PathError::Length(0)));
        let mut n = node(1);
        n["pubkey_x25519"] = json!("abc");
        assert!(matches!(parse_path(&json!([n])), Err(PathError::Node { index: 1, .. })));
        assert!(matches!(parse_path(&json!([node(1), node(0)])), Err(PathError::Node { index: 2, .. })));
    }

    #[test]
    fn body_inputs() {
        assert_eq!(body_from_input(b"AQID\n"), vec![1, 2, 3]);
        assert_eq!(body_from_input(br#"{"body":"AQID"}"#), vec![1, 2, 3]);
        assert_eq!(body_from_input(br#"{"next_body":"AQID","hop_no":1}"#), vec![1, 2, 3]);
        assert_eq!(body_from_input(b"\x03\x00\x00\x00abc{}"), b"\x03\x00\x00\x00abc{}".to_vec());
    }

    #[test]
    fn key_files() {
        let seed = "00".repeat(32);
        let (sk, pk) = node_secret_from_key_json(&json!({"ed25519_seed": seed})).unwrap();
        assert_eq!(x25519_dalek::PublicKey::from(&sk).to_bytes(), pk);
        assert!(matches!(node_secret_from_key_json(&json!({})), Err(PathError::KeyFields)));
        assert!(matches!(node_secret_from_key_json(&json!({"seed": "zz"})), Err(PathError::KeySeed(_))));
    }
}
