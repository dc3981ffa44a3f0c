//! The node side: removing one layer, and answering.
//!
//! A node receives `frame(ciphertext, {"ephemeral_key", "enc_type"?, "hop_no"?})`, derives the
//! layer key from its X25519 secret and the ephemeral key, decrypts, and reads the plaintext as
//! another frame whose JSON says what happens next (onion.md "Each hop"):
//! - `"headers"` present: this node is the destination ([`Layer::Final`]);
//! - `"host"` present: relay the whole plaintext to an HTTP server ([`Layer::Host`]);
//! - otherwise: relay to the snode named by `destination` ([`Layer::Relay`]), as the framed body
//!   `frame(inner ciphertext, {"ephemeral_key", "enc_type"?, "hop_no": hop_no + 1})`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_core::{CryptoRng, RngCore};
use serde_json::{Map, Value, json};
use x25519_dalek::StaticSecret;

use super::channel::LayerKey;
use super::frame::{decode_frame, encode_frame};
use super::{EncType, OnionError, ReplayGuard, ReplyKey};
use crate::formats::keys::decode_hex32;
use crate::formats::limits::ONION_MAX_HOP_NO;

/// Default port of an HTTP relay target (onion.md: 443).
const HOST_DEFAULT_PORT: u16 = 443;
/// Default protocol of an HTTP relay target (onion.md: https).
const HOST_DEFAULT_PROTOCOL: &str = "https";
/// Default method of an HTTP relay target.
const HOST_DEFAULT_METHOD: &str = "POST";

/// What a node does with a peeled layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// This node is the destination: run `rpc_body` (the storage RPC JSON) and answer with
    /// [`encrypt_reply`]`(&reply, status, body)` as the HTTP 200 body.
    Final {
        /// The storage RPC request, JSON.
        rpc_body: Vec<u8>,
        /// The layer's JSON part (what the client asked of this hop).
        control: Value,
        /// The key that seals the answer.
        reply: ReplyKey,
        /// The layer's ephemeral key.
        ephemeral_key: [u8; 32],
        /// This node's hop number.
        hop_no: u64,
    },
    /// POST `next_body` to the `/onion_req/v2` of the node whose Ed25519 key is
    /// `destination_ed25519`, and pass its status and body back unchanged. `hop_no` is the hop
    /// number written into `next_body` (this node's + 1).
    Relay {
        /// The next node's Ed25519 key.
        destination_ed25519: [u8; 32],
        /// The next hop's onion request.
        next_body: Vec<u8>,
        /// The hop number of the next node.
        hop_no: u64,
        /// The layer's ephemeral key.
        ephemeral_key: [u8; 32],
    },
    /// POST `plaintext` (the whole decrypted layer, JSON included) to `target` as
    /// `application/octet-stream` and pass the server's status and body back unchanged.
    Host {
        /// Where to relay the request.
        target: HostTarget,
        /// The whole decrypted layer.
        plaintext: Vec<u8>,
        /// The layer's ephemeral key.
        ephemeral_key: [u8; 32],
        /// This node's hop number.
        hop_no: u64,
    },
}

impl Layer {
    /// The ephemeral key of the layer this node decrypted (what [`ReplayGuard`] remembers).
    pub fn ephemeral_key(&self) -> &[u8; 32] {
        match self {
            Layer::Final { ephemeral_key, .. }
            | Layer::Relay { ephemeral_key, .. }
            | Layer::Host { ephemeral_key, .. } => ephemeral_key,
        }
    }
}

/// An HTTP server a final hop relays to (onion.md "Relay to an HTTP server").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTarget {
    /// The server's host name or IP address.
    pub host: String,
    /// The server's port.
    pub port: u16,
    /// `http` or `https`.
    pub protocol: String,
    /// The path: starts with `/loki/` or `/oxen/`, ends with `/lsrpc`, no `?`.
    pub target: String,
    /// The HTTP method to relay with (`POST` unless the layer says otherwise).
    pub method: String,
}

impl HostTarget {
    /// Reads and checks the relay fields of a layer's JSON.
    pub fn from_json(json: &Map<String, Value>) -> Result<Self, OnionError> {
        let host = str_field(json, "host")?.ok_or(OnionError::MissingField("host"))?;
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
            return Err(OnionError::BadField { field: "host", reason: "not a host name".into() });
        }
        let target = str_field(json, "target")?.ok_or(OnionError::MissingField("target"))?;
        if !Self::target_allowed(target) {
            return Err(OnionError::BadHostTarget(target.chars().take(80).collect()));
        }
        let protocol = str_field(json, "protocol")?.unwrap_or(HOST_DEFAULT_PROTOCOL);
        if protocol != "http" && protocol != "https" {
            return Err(OnionError::BadHostProtocol(protocol.chars().take(20).collect()));
        }
        let port = match json.get("port") {
            None | Some(Value::Null) => HOST_DEFAULT_PORT,
            Some(v) => {
                v.as_u64().and_then(|p| u16::try_from(p).ok()).filter(|p| *p != 0).ok_or_else(|| {
                    OnionError::BadField { field: "port", reason: "not a port number".into() }
                })?
            }
        };
        let method = str_field(json, "method")?.unwrap_or(HOST_DEFAULT_METHOD);
        Ok(Self {
            host: host.to_string(),
            port,
            protocol: protocol.to_string(),
            target: target.to_string(),
            method: method.to_string(),
        })
    }

    /// onion.md: the target must start with `/loki/` or `/oxen/`, end with `/lsrpc`, no `?`.
    pub fn target_allowed(target: &str) -> bool {
        (target.starts_with("/loki/") || target.starts_with("/oxen/"))
            && target.ends_with("/lsrpc")
            && !target.contains('?')
    }

    /// `protocol://host:port/target`.
    pub fn url(&self) -> String {
        format!("{}://{}:{}{}", self.protocol, self.host, self.port, self.target)
    }
}

/// One opened layer: the plaintext and what the outer JSON said (before interpretation).
#[derive(Debug, Clone, PartialEq)]
pub struct PeeledLayer {
    /// The decrypted layer.
    pub plaintext: Vec<u8>,
    /// The key it was decrypted with (it also seals the reply).
    pub key: LayerKey,
    /// The layer's ephemeral X25519 key, as sent.
    pub ephemeral_key: [u8; 32],
    /// The layer's hop number (0 at the guard).
    pub hop_no: u64,
}

/// Decodes the outer frame and decrypts it with the node's X25519 keys.
pub fn open(
    node_secret: &StaticSecret,
    node_public: &[u8; 32],
    body: &[u8],
) -> Result<PeeledLayer, OnionError> {
    let frame = decode_frame(body)?;
    let (ephemeral_key, enc) = routing_keys(&frame.json)?;
    let hop_no = match frame.json.get("hop_no") {
        None | Some(Value::Null) => 0,
        Some(v) => v.as_u64().ok_or_else(|| OnionError::BadField {
            field: "hop_no",
            reason: "not a non-negative integer".into(),
        })?,
    };
    if hop_no > ONION_MAX_HOP_NO {
        return Err(OnionError::HopLimit(hop_no));
    }
    let key = LayerKey::for_node(enc, node_secret, node_public, &ephemeral_key);
    let plaintext = key.decrypt(frame.payload)?;
    Ok(PeeledLayer { plaintext, key, ephemeral_key, hop_no })
}

/// Peels one layer (see the module doc).
pub fn peel(node_secret: &StaticSecret, node_public: &[u8; 32], body: &[u8]) -> Result<Layer, OnionError> {
    let PeeledLayer { plaintext, key, ephemeral_key, hop_no } = open(node_secret, node_public, body)?;
    let inner = decode_frame(&plaintext)?;
    if inner.json.contains_key("headers") {
        return Ok(Layer::Final {
            rpc_body: inner.payload.to_vec(),
            control: Value::Object(inner.json),
            reply: key,
            ephemeral_key,
            hop_no,
        });
    }
    if inner.json.contains_key("host") {
        let target = HostTarget::from_json(&inner.json)?;
        return Ok(Layer::Host { target, plaintext, ephemeral_key, hop_no });
    }
    let destination =
        str_field(&inner.json, "destination")?.ok_or(OnionError::MissingField("destination"))?;
    let destination_ed25519 = decode_hex32(destination).map_err(|_| OnionError::BadDestination)?;
    let (next_eph, next_enc) = routing_keys(&inner.json)?;
    let next_hop = hop_no + 1;
    if next_hop > ONION_MAX_HOP_NO {
        return Err(OnionError::HopLimit(next_hop));
    }
    let mut routing = json!({"ephemeral_key": hex::encode(next_eph), "hop_no": next_hop});
    if inner.json.contains_key("enc_type") {
        routing["enc_type"] = Value::from(next_enc.as_str());
    }
    let next_body = encode_frame(inner.payload, &routing);
    Ok(Layer::Relay { destination_ed25519, next_body, hop_no: next_hop, ephemeral_key })
}

/// [`peel`], then refuses the layer if `guard` has seen its ephemeral key (recorded only once
/// the layer decrypted).
pub fn peel_guarded(
    guard: &ReplayGuard,
    node_secret: &StaticSecret,
    node_public: &[u8; 32],
    body: &[u8],
) -> Result<Layer, OnionError> {
    let layer = peel(node_secret, node_public, body)?;
    if !guard.check_and_insert(layer.ephemeral_key()) {
        return Err(OnionError::Replayed(hex::encode(layer.ephemeral_key())));
    }
    Ok(layer)
}

/// The final node's answer: `{"status": status, "body": body}` encrypted with the layer key,
/// base64 (the HTTP 200 body, text).
pub fn encrypt_reply(key: &ReplyKey, status: u16, body: &Value) -> Vec<u8> {
    encrypt_reply_with_rng(&mut rand::rngs::OsRng, key, status, body)
}

/// [`encrypt_reply`] with an injected RNG.
pub fn encrypt_reply_with_rng<R: RngCore + CryptoRng>(
    rng: &mut R,
    key: &ReplyKey,
    status: u16,
    body: &Value,
) -> Vec<u8> {
    let plain = json!({"status": status, "body": body}).to_string();
    STANDARD.encode(key.encrypt(rng, plain.as_bytes())).into_bytes()
}

/// `ephemeral_key` (required, 64 hex) and `enc_type` (optional, aes-gcm by default) of a JSON.
fn routing_keys(json: &Map<String, Value>) -> Result<([u8; 32], EncType), OnionError> {
    let eph = str_field(json, "ephemeral_key")?.ok_or(OnionError::MissingField("ephemeral_key"))?;
    let eph = decode_hex32(eph).map_err(|_| OnionError::BadEphemeralKey)?;
    let enc = match str_field(json, "enc_type")? {
        None => EncType::WIRE_DEFAULT,
        Some(s) => EncType::parse(s)?,
    };
    Ok((eph, enc))
}

/// An optional string field; present but not a string is an error.
fn str_field<'a>(json: &'a Map<String, Value>, field: &'static str) -> Result<Option<&'a str>, OnionError> {
    match json.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(OnionError::BadField { field, reason: "not a string".into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::build::{build, build_with_rng, decrypt_reply, snode_control};
    use super::super::{HopKeys, ReplayGuard};
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_core::RngCore;
    use x25519_dalek::PublicKey;

    fn h32(s: &str) -> [u8; 32] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    // libsession-util tests/test_onionreq.cpp, "Onion request parser" (onion.md case 2).
    const A: &str = "8167e97672005c669a48858c69895f395ca235219ac3f7a4210022b1f910e652";
    const SK_A: &str = "d2ee09e1a557a077d385fcb69a11ffb6909ecdcc8348def3e0e4172c8a1431c1";
    const B: &str = "8388de69bc0d4b6196133233ad9a46ba0473474bc67718aad96a3a33c257f726";
    const SK_B: &str = "2f4d1c0d28e137777ec0a316e9f4f763e3e66662a6c51994c6315c9ef34b6deb";
    const FRAME_GCM: &str = concat!(
        "270000009525d587d188c92a966eef0e7162bef99a6171a124575b998072a8ee7eb265e0b6f0930ed96504",
        "7b22656e635f74797065223a20226165732d67636d222c2022657068656d6572616c5f6b6579223a202238",
        "31363765393736373230303563363639613438383538633639383935663339356361323335323139616333",
        "6637613432313030323262316639313065363532227d"
    );
    const FRAME_XCHACHA: &str = concat!(
        "33000000e440bc244ddcafd947b86fc5a964aa58de54a6d75cc0f0f3840db14b6c1176a8e2e0a04d5fbdf9",
        "8f23adee1edc8362ab99b10b7b22656e635f74797065223a2022786368616368613230222c202265706865",
        "6d6572616c5f6b6579223a2022383136376539373637323030356336363961343838353863363938393566",
        "33393563613233353231396163336637613432313030323262316639313065363532227d"
    );

    fn node() -> (StaticSecret, [u8; 32]) {
        let b = StaticSecret::from(h32(SK_B));
        assert_eq!(PublicKey::from(&b).to_bytes(), h32(B));
        (b, h32(B))
    }

    #[test]
    fn case2_frames_decrypt_and_replies_round_trip() {
        let (b, pk_b) = node();
        let a = StaticSecret::from(h32(SK_A));
        assert_eq!(PublicKey::from(&a).to_bytes(), h32(A));
        for (frame, enc, n, reply_len) in [
            (FRAME_GCM, EncType::AesGcm, 39, 12 + 13 + 16),
            (FRAME_XCHACHA, EncType::XChaCha20, 51, 24 + 13 + 16),
        ] {
            let body = hex::decode(frame).unwrap();
            assert_eq!(u32::from_le_bytes(body[..4].try_into().unwrap()), n);
            let opened = open(&b, &pk_b, &body).unwrap();
            assert_eq!(opened.plaintext, b"Hello world");
            assert_eq!(opened.ephemeral_key, h32(A));
            assert_eq!(opened.key.enc_type(), enc);
            // The reply, and the client reading it with its own secret.
            let reply = opened.key.encrypt(&mut rand::rngs::OsRng, b"Goodbye world");
            assert_eq!(reply.len(), reply_len);
            let client = LayerKey::for_client(enc, &a, &pk_b);
            assert_eq!(client.decrypt(&reply).unwrap(), b"Goodbye world");
            // The plaintext is not a frame, so peel refuses it as a bad layer.
            assert!(matches!(peel(&b, &pk_b, &body), Err(OnionError::TruncatedFrame(_))));
            // Tampering with any ciphertext byte fails; so does a truncated body.
            for i in 4..4 + n as usize {
                let mut bad = body.clone();
                bad[i] ^= 0x80;
                assert_eq!(open(&b, &pk_b, &bad), Err(OnionError::DecryptionFailed));
            }
            assert!(open(&b, &pk_b, &body[..20]).is_err());
        }
    }

    /// Three hops with known keys; returns (secret, public x25519, ed25519) per hop.
    fn hops(rng: &mut rand::rngs::StdRng) -> Vec<(StaticSecret, HopKeys)> {
        (0..3)
            .map(|_| {
                let sk = StaticSecret::random_from_rng(&mut *rng);
                let mut ed = [0u8; 32];
                rng.fill_bytes(&mut ed);
                let keys = HopKeys { ed25519: ed.into(), x25519: PublicKey::from(&sk).to_bytes().into() };
                (sk, keys)
            })
            .collect()
    }

    /// Peels through every hop; returns the final layer's rpc body, control and reply key.
    fn walk(path: &[(StaticSecret, HopKeys)], mut body: Vec<u8>) -> (Vec<u8>, Value, ReplyKey) {
        for (i, (sk, keys)) in path.iter().enumerate() {
            match peel(sk, keys.x25519.as_bytes(), &body).unwrap() {
                Layer::Relay { destination_ed25519, next_body, hop_no, .. } => {
                    assert_eq!(destination_ed25519, *path[i + 1].1.ed25519.as_bytes());
                    assert_eq!(hop_no, i as u64 + 1);
                    body = next_body;
                }
                Layer::Final { rpc_body, control, reply, hop_no, .. } => {
                    assert_eq!(i, path.len() - 1);
                    assert_eq!(hop_no, i as u64);
                    return (rpc_body, control, reply);
                }
                Layer::Host { .. } => panic!("unexpected host layer"),
            }
        }
        panic!("no final layer")
    }

    #[test]
    fn three_hops_reach_the_target_and_the_reply_decrypts() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let path = hops(&mut rng);
        let keys: Vec<HopKeys> = path.iter().map(|p| p.1).collect();
        for enc in [EncType::XChaCha20, EncType::AesGcm] {
            let rpc = br#"{"method":"info","params":{}}"#;
            let (req, reply_key) = build(&keys, rpc, enc).unwrap();
            assert_eq!(req.ephemeral_keys.len(), 3);
            let (rpc_body, control, node_reply) = walk(&path, req.guard_body);
            assert_eq!(rpc_body, rpc);
            assert_eq!(control, snode_control());
            assert_eq!(node_reply, reply_key);
            let answer = encrypt_reply(&node_reply, 200, &json!({"hf": [19, 3]}));
            assert_eq!(decrypt_reply(&reply_key, &answer).unwrap(), (200, json!({"hf": [19, 3]})));
        }
    }

    #[test]
    fn each_hop_sees_only_its_own_layer() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(8);
        let path = hops(&mut rng);
        let keys: Vec<HopKeys> = path.iter().map(|p| p.1).collect();
        let secret = b"the final request, only hop 3 sees this";
        let (req, _) = build(&keys, secret, EncType::XChaCha20).unwrap();
        // No hop but the last can read the request; a hop's key cannot open another's layer.
        let opened1 = open(&path[0].0, keys[0].x25519.as_bytes(), &req.guard_body).unwrap();
        assert!(!opened1.plaintext.windows(secret.len()).any(|w| w == secret));
        assert!(open(&path[1].0, keys[1].x25519.as_bytes(), &req.guard_body).is_err());
        let Layer::Relay { next_body, .. } =
            peel(&path[0].0, keys[0].x25519.as_bytes(), &req.guard_body).unwrap()
        else {
            panic!("hop 1 must relay")
        };
        let text = String::from_utf8_lossy(&opened1.plaintext);
        assert!(text.contains(&keys[1].ed25519.to_hex()));
        assert!(!text.contains(&keys[2].ed25519.to_hex()));
        assert!(open(&path[2].0, keys[2].x25519.as_bytes(), &next_body).is_err());
    }

    #[test]
    fn replayed_layer_is_refused_by_the_guard() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let path = hops(&mut rng);
        let keys: Vec<HopKeys> = path.iter().map(|p| p.1).collect();
        let (req, _) = build(&keys, b"{}", EncType::AesGcm).unwrap();
        let guard = ReplayGuard::new();
        assert!(peel_guarded(&guard, &path[0].0, keys[0].x25519.as_bytes(), &req.guard_body).is_ok());
        assert!(matches!(
            peel_guarded(&guard, &path[0].0, keys[0].x25519.as_bytes(), &req.guard_body),
            Err(OnionError::Replayed(_))
        ));
        // Garbage is refused before it is remembered.
        assert!(peel_guarded(&guard, &path[0].0, keys[0].x25519.as_bytes(), b"\x00\x00\x00\x00{}").is_err());
        assert_eq!(guard.len(), 1);
    }

    #[test]
    fn hop_limit_is_enforced() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(10);
        let path = hops(&mut rng);
        let keys: Vec<HopKeys> = path.iter().map(|p| p.1).collect();
        let (req, _) = build(&keys, b"{}", EncType::XChaCha20).unwrap();
        let frame = decode_frame(&req.guard_body).unwrap();
        let mut j = Value::Object(frame.json.clone());
        j["hop_no"] = json!(ONION_MAX_HOP_NO + 1);
        let body = encode_frame(frame.payload, &j);
        assert_eq!(
            peel(&path[0].0, keys[0].x25519.as_bytes(), &body),
            Err(OnionError::HopLimit(ONION_MAX_HOP_NO + 1))
        );
        j["hop_no"] = json!(ONION_MAX_HOP_NO);
        let body = encode_frame(frame.payload, &j);
        assert_eq!(
            peel(&path[0].0, keys[0].x25519.as_bytes(), &body),
            Err(OnionError::HopLimit(ONION_MAX_HOP_NO + 1))
        );
        j["hop_no"] = json!(-1);
        let body = encode_frame(frame.payload, &j);
        assert!(matches!(
            peel(&path[0].0, keys[0].x25519.as_bytes(), &body),
            Err(OnionError::BadField { .. })
        ));
    }

    #[test]
    fn bad_routing_json_is_typed() {
        let (b, pk) = node();
        let mk = |j: Value| encode_frame(b"x", &j);
        assert_eq!(peel(&b, &pk, &mk(json!({}))), Err(OnionError::MissingField("ephemeral_key")));
        assert_eq!(peel(&b, &pk, &mk(json!({"ephemeral_key": "zz"}))), Err(OnionError::BadEphemeralKey));
        assert!(matches!(
            peel(&b, &pk, &mk(json!({"ephemeral_key": A, "enc_type": "cbc"}))),
            Err(OnionError::UnsupportedEncType(_))
        ));
        assert!(matches!(
            peel(&b, &pk, &mk(json!({"ephemeral_key": A, "enc_type": 5}))),
            Err(OnionError::BadField { .. })
        ));
        assert!(matches!(
            peel(&b, &pk, &mk(json!({"ephemeral_key": A}))),
            Err(OnionError::CiphertextTooShort { .. })
        ));
    }

    #[test]
    fn host_targets_follow_the_rules() {
        for ok in ["/loki/v3/lsrpc", "/loki/oxen/v4/lsrpc", "/oxen/v3/lsrpc"] {
            assert!(HostTarget::target_allowed(ok), "{ok}");
        }
        for bad in ["/loki/v3", "/loki/v3/lsrpc?foo=bar", "/v3/lsrpc", "loki/v3/lsrpc"] {
            assert!(!HostTarget::target_allowed(bad), "{bad}");
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let path = hops(&mut rng);
        let keys: Vec<HopKeys> = path.iter().map(|p| p.1).collect();
        let control =
            json!({"host": "example.org", "target": "/oxen/v4/lsrpc", "port": 8080, "protocol": "http"});
        let (req, _) = build_with_rng(&mut rng, &keys[..1], b"payload", &control, EncType::AesGcm).unwrap();
        match peel(&path[0].0, keys[0].x25519.as_bytes(), &req.guard_body).unwrap() {
            Layer::Host { target, plaintext, .. } => {
                assert_eq!(target.url(), "http://example.org:8080/oxen/v4/lsrpc");
                assert_eq!(decode_frame(&plaintext).unwrap().payload, b"payload");
            }
            other => panic!("expected host, got {other:?}"),
        }
        let bad = json!({"host": "example.org", "target": "/loki/v3/lsrpc?x"});
        let (req, _) = build_with_rng(&mut rng, &keys[..1], b"p", &bad, EncType::AesGcm).unwrap();
        assert!(matches!(
            peel(&path[0].0, keys[0].x25519.as_bytes(), &req.guard_body),
            Err(OnionError::BadHostTarget(_))
        ));
    }

    #[test]
    fn reply_errors_are_typed() {
        let key = LayerKey::from_bytes(EncType::XChaCha20, [3; 32]);
        let other = LayerKey::from_bytes(EncType::XChaCha20, [4; 32]);
        let r = encrypt_reply(&key, 421, &json!("wrong swarm"));
        assert_eq!(decrypt_reply(&other, &r), Err(OnionError::DecryptionFailed));
        assert!(matches!(decrypt_reply(&key, b"!!"), Err(OnionError::BadReply(_))));
        let raw = key.encrypt(&mut rand::rngs::OsRng, b"not json");
        assert!(matches!(decrypt_reply(&key, &raw), Err(OnionError::BadReplyJson(_))));
        let raw = key.encrypt(&mut rand::rngs::OsRng, br#"{"status_code":200,"body":"ok"}"#);
        assert_eq!(decrypt_reply(&key, &raw), Ok((200, json!("ok"))));
        // Raw replies whose first or last byte looks like whitespace are not trimmed.
        for _ in 0..200 {
            let raw = key.encrypt(&mut rand::rngs::OsRng, br#"{"status":200,"body":null}"#);
            assert_eq!(decrypt_reply(&key, &raw), Ok((200, Value::Null)));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn build_peel_reply_round_trip(seed in any::<u64>(), rpc in proptest::collection::vec(any::<u8>(), 0..600),
                                       status in 100u16..600, body in ".{0,64}", gcm in any::<bool>()) {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let path = hops(&mut rng);
            let keys: Vec<HopKeys> = path.iter().map(|p| p.1).collect();
            let enc = if gcm { EncType::AesGcm } else { EncType::XChaCha20 };
            let (req, reply_key) = build_with_rng(&mut rng, &keys, &rpc, &snode_control(), enc).unwrap();
            let (rpc_body, _, node_reply) = walk(&path, req.guard_body);
            prop_assert_eq!(rpc_body, rpc);
            let answer = encrypt_reply_with_rng(&mut rng, &node_reply, status, &json!(body));
            prop_assert_eq!(decrypt_reply(&reply_key, &answer).unwrap(), (status, json!(body)));
        }

        #[test]
        fn peel_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let (b, pk) = node();
            let _ = peel(&b, &pk, &bytes);
        }
    }
}
