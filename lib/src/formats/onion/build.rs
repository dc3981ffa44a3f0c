//! The client side: wrapping a request in one layer per hop, and reading the reply.
//!
//! For hops h1..hn (n = 3 in practice) and a fresh ephemeral X25519 key e_i per layer:
//! - hop n's plaintext is `frame(rpc_body, control)`, control = `{"headers":{},"body":null}` for a
//!   snode (onion.md: what session-desktop sends);
//! - hop i's plaintext (i < n) is `frame(ct_{i+1}, {"destination": ed25519(h_{i+1}),
//!   "ephemeral_key": e_{i+1}, "enc_type"})`;
//! - ct_i = Enc(key(e_i, h_i), plaintext_i), and the guard body is
//!   `frame(ct_1, {"ephemeral_key": e_1, "enc_type"})`.
//!
//! The client keeps key(e_n, h_n): the final node encrypts its reply with it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_core::{CryptoRng, RngCore};
use serde_json::{Value, json};
use x25519_dalek::{PublicKey, StaticSecret};

use super::channel::LayerKey;
use super::frame::encode_frame;
use super::{EncType, OnionError, ReplyKey};
use crate::formats::keys::{Ed25519Pk, X25519Pk};
use crate::formats::limits::{ONION_MAX_BODY, ONION_MAX_PATH_LEN, ONION_MAX_REPLY};

/// The public keys of one hop: its Ed25519 key names it (the `destination` of the layer before),
/// its X25519 key encrypts its layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HopKeys {
    /// The hop's Ed25519 key (how the previous hop addresses it).
    pub ed25519: Ed25519Pk,
    /// The hop's X25519 key (what its layer is encrypted to).
    pub x25519: X25519Pk,
}

/// A built onion request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnionRequest {
    /// The POST body for hop 1's `/onion_req/v2`.
    pub guard_body: Vec<u8>,
    /// The ephemeral public key of each layer, hop 1 first (public; for debugging and tests).
    pub ephemeral_keys: Vec<[u8; 32]>,
}

/// The control JSON of a final layer addressed to a snode's storage RPC.
pub fn snode_control() -> Value {
    json!({"headers": {}, "body": null})
}

/// Wraps `rpc_body` (the storage RPC JSON `{"method","params"}`) for `hops`, final control
/// [`snode_control`], with fresh OS randomness.
pub fn build(
    hops: &[HopKeys],
    rpc_body: &[u8],
    enc: EncType,
) -> Result<(OnionRequest, ReplyKey), OnionError> {
    build_to(hops, rpc_body, &snode_control(), enc)
}

/// Like [`build`] with a chosen final control JSON (it must hold `"headers"` — the last hop runs
/// the request — or `"host"` — the last hop relays the plaintext to an HTTP server).
pub fn build_to(
    hops: &[HopKeys],
    payload: &[u8],
    control: &Value,
    enc: EncType,
) -> Result<(OnionRequest, ReplyKey), OnionError> {
    build_with_rng(&mut rand::rngs::OsRng, hops, payload, control, enc)
}

/// [`build_to`] with an injected RNG (ephemeral keys and nonces).
pub fn build_with_rng<R: RngCore + CryptoRng>(
    rng: &mut R,
    hops: &[HopKeys],
    payload: &[u8],
    control: &Value,
    enc: EncType,
) -> Result<(OnionRequest, ReplyKey), OnionError> {
    if hops.is_empty() || hops.len() > ONION_MAX_PATH_LEN {
        return Err(OnionError::PathLength { got: hops.len(), max: ONION_MAX_PATH_LEN });
    }
    let is_final = control.as_object().is_some_and(|o| o.contains_key("headers") || o.contains_key("host"));
    if !is_final {
        return Err(OnionError::BadField {
            field: "control",
            reason: "the final layer's JSON must be an object with \"headers\" or \"host\"".into(),
        });
    }
    let mut plaintext = encode_frame(payload, control);
    let mut reply: Option<ReplyKey> = None;
    let mut ephemeral_keys = vec![[0u8; 32]; hops.len()];
    for i in (0..hops.len()).rev() {
        let eph = StaticSecret::random_from_rng(&mut *rng);
        let eph_pk = PublicKey::from(&eph).to_bytes();
        ephemeral_keys[i] = eph_pk;
        let key = LayerKey::for_client(enc, &eph, hops[i].x25519.as_bytes());
        let ct = key.encrypt(rng, &plaintext);
        if reply.is_none() {
            reply = Some(key);
        }
        let routing = if i > 0 {
            json!({
                "destination": hops[i].ed25519.to_hex(),
                "ephemeral_key": hex::encode(eph_pk),
                "enc_type": enc.as_str(),
            })
        } else {
            json!({"ephemeral_key": hex::encode(eph_pk), "enc_type": enc.as_str()})
        };
        plaintext = encode_frame(&ct, &routing);
        if plaintext.len() > ONION_MAX_BODY {
            return Err(OnionError::BodyTooLarge(plaintext.len()));
        }
    }
    let reply = reply.ok_or(OnionError::PathLength { got: 0, max: ONION_MAX_PATH_LEN })?;
    Ok((OnionRequest { guard_body: plaintext, ephemeral_keys }, reply))
}

/// One layer for one node, as a body to POST to its `/onion_req/v2`:
/// `frame(Enc(key(e, node), plaintext), {"ephemeral_key": e, "enc_type"})` with a fresh ephemeral
/// key e. `plaintext` should itself be a frame (tests and debuggers use this to hand-craft layers).
pub fn wrap_layer(node_x25519: &[u8; 32], plaintext: &[u8], enc: EncType) -> Vec<u8> {
    let mut rng = rand::rngs::OsRng;
    let eph = StaticSecret::random_from_rng(rng);
    let eph_pk = PublicKey::from(&eph).to_bytes();
    let ct = LayerKey::for_client(enc, &eph, node_x25519).encrypt(&mut rng, plaintext);
    encode_frame(&ct, &json!({"ephemeral_key": hex::encode(eph_pk), "enc_type": enc.as_str()}))
}

/// Reads the final node's answer: base64 text (or, with `"base64": false`, raw bytes) of the
/// encrypted `{"status": code, "body": ...}` (`status_code` is accepted for `status`).
pub fn decrypt_reply(key: &ReplyKey, reply: &[u8]) -> Result<(u16, Value), OnionError> {
    if reply.len() > ONION_MAX_REPLY {
        return Err(OnionError::ReplyTooLarge(reply.len()));
    }
    let trimmed = reply.trim_ascii();
    let ciphertext = match STANDARD.decode(trimmed) {
        Ok(ct) => ct,
        Err(e) if trimmed.len() < key.overhead() => return Err(OnionError::BadReply(e.to_string())),
        // Raw ciphertext is used as it came: its bytes may well look like whitespace.
        Err(_) => reply.to_vec(),
    };
    let plaintext = key.decrypt(&ciphertext)?;
    let v: Value = serde_json::from_slice(&plaintext).map_err(|e| OnionError::BadReplyJson(e.to_string()))?;
    let status = v
        .get("status")
        .or_else(|| v.get("status_code"))
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(|| OnionError::BadReplyJson("no numeric \"status\"".into()))?;
    Ok((status, v.get("body").cloned().unwrap_or(Value::Null)))
}

impl From<&crate::formats::nodelist::NodeInfo> for HopKeys {
    fn from(n: &crate::formats::nodelist::NodeInfo) -> Self {
        Self { ed25519: n.pubkey_ed25519.into(), x25519: n.pubkey_x25519.into() }
    }
}
