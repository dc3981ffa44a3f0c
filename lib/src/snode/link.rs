//! Peer links: one persistent, authenticated connection per swarm peer, over which replicated
//! client stores stream as length-prefixed, encrypted batches with request ids
//! (docs/node-protocol.md, "Peer links").
//!
//! A link starts as an HTTP/1.1 upgrade on the node's one port (`GET /snode/v1/link`,
//! `Upgrade: snode-link/1`, inside TLS on a `--tls` network), so no second port has to be
//! announced in the registry. Then, on the raw stream:
//!
//! 1. initiator → responder: `version ‖ ed_i ‖ eph_i ‖ ed_r` (its registered Ed25519 key, a
//!    fresh X25519 key, and the Ed25519 key of the node it means to reach);
//! 2. responder → initiator: `eph_r ‖ sig_r`, sig_r = Ed25519(ed_r, "snode-link-v1 responder" ‖ th);
//! 3. initiator → responder: `sig_i` = Ed25519(ed_i, "snode-link-v1 initiator" ‖ th);
//!
//! where th = BLAKE2b-256("snode-link-v1" ‖ version ‖ ed_i ‖ eph_i ‖ ed_r ‖ eph_r). Each side
//! checks the other's signature with the key the registry holds for it (the responder refuses
//! an initiator that is not registered), so both signatures cover both fresh ephemeral keys: an
//! old handshake cannot be replayed. The two directions get their own ChaCha20-Poly1305 key,
//! HKDF-SHA256(salt = th, ikm = X25519(eph_i, eph_r)), and every later frame is
//! `u32 length ‖ AEAD(counter nonce, payload)`: a frame that was altered, dropped, reordered or
//! injected does not decrypt and ends the link. Only the composition is ours; every primitive
//! is a reviewed crate (ed25519-dalek, x25519-dalek, hkdf, chacha20poly1305, blake2).

use std::future::Future;

use blake2::{Blake2b, Digest, digest::consts::U32};
use chacha20poly1305::aead::Aead;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use ed25519_dalek::{Signature, VerifyingKey};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::keys::NodeKeys;
use crate::formats::keys::Pubkey;
use crate::formats::limits::{
    NODE_LINK_FRAME_MAX_BYTES, NODE_LINK_HANDSHAKE_MAX_BYTES, NODE_LINK_UPGRADE_HEAD_MAX_BYTES,
    NODE_PUSH_BATCH_MAX_MESSAGES, RPC_MAX_BODY_BYTES,
};
use crate::formats::rpc::message::StoredMessage;

/// Path of the upgrade request that opens a link.
pub const PATH_LINK: &str = "/snode/v1/link";
/// The `Upgrade` token of a link (its version is the handshake's).
pub const UPGRADE_TOKEN: &str = "snode-link/1";
/// The handshake version byte.
const VERSION: u8 = 1;
const DOMAIN: &[u8] = b"snode-link-v1";
/// Request kind: a batch of replicated client stores.
const KIND_REPLICATE: u8 = 1;
/// Reply status of a batch stored (the others are HTTP statuses with a reason).
pub const STATUS_OK: u16 = 200;
/// Bytes of one message's fixed fields on the wire: type byte, key, namespace, timestamp,
/// expiry, data length.
const MESSAGE_HEAD_BYTES: usize = 1 + 32 + 2 + 8 + 8 + 4;

/// Why a link could not be opened, or ended.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The connection failed or closed.
    #[error("link i/o: {0}")]
    Io(#[from] std::io::Error),
    /// TLS to the peer could not be set up.
    #[error("the link's TLS could not be set up: {0}")]
    Tls(String),
    /// The peer did not answer the upgrade with 101 (its status line).
    #[error("upgrade to a link refused: {0}")]
    Upgrade(String),
    #[error(
        "handshake message of {0} bytes is over the {NODE_LINK_HANDSHAKE_MAX_BYTES}-byte limit or malformed"
    )]
    /// A handshake message of the wrong size (its size).
    Handshake(usize),
    /// The hello names a version this node does not speak.
    #[error("unsupported link version {0}")]
    Version(u8),
    /// The hello was meant for another node's key.
    #[error("the link was meant for node {0}, not this one")]
    NotMe(String),
    /// The initiator's key is not a registered node's.
    #[error("{0} is not a registered node")]
    Unknown(String),
    /// A handshake signature does not verify with the registered key.
    #[error("bad handshake signature")]
    Signature,
    /// The peer's ephemeral key gives no shared secret.
    #[error("the peer's ephemeral key is of low order")]
    WeakKey,
    /// A frame's length is over [`NODE_LINK_FRAME_MAX_BYTES`] (or a handshake message's over
    /// [`NODE_LINK_HANDSHAKE_MAX_BYTES`]).
    #[error("frame of {0} bytes is over the {NODE_LINK_FRAME_MAX_BYTES}-byte limit")]
    TooLarge(usize),
    /// A frame does not open with the link's key and counter.
    #[error("a frame does not decrypt: altered, reordered or injected")]
    Decrypt,
    /// A payload that does not parse (what part).
    #[error("malformed frame: {0}")]
    Malformed(&'static str),
    /// 2⁶⁴ frames in one direction.
    #[error("the link's nonce counter is exhausted")]
    Exhausted,
}

/// A link's byte stream: TCP, TLS over TCP, or an upgraded HTTP connection.
pub trait LinkIo: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> LinkIo for T {}

/// One direction's AEAD and its frame counter (the nonce: a frame is accepted once, in order).
pub struct Cipher {
    aead: ChaCha20Poly1305,
    counter: u64,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher").field("counter", &self.counter).finish_non_exhaustive()
    }
}

impl Cipher {
    fn new(key: &[u8; 32]) -> Self {
        Self { aead: ChaCha20Poly1305::new(key.into()), counter: 0 }
    }

    fn next_nonce(&mut self) -> Result<chacha20poly1305::Nonce, LinkError> {
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&self.counter.to_be_bytes());
        self.counter = self.counter.checked_add(1).ok_or(LinkError::Exhausted)?;
        Ok(nonce.into())
    }

    /// Encrypts the next frame's payload.
    pub fn seal(&mut self, plain: &[u8]) -> Result<Vec<u8>, LinkError> {
        let nonce = self.next_nonce()?;
        self.aead.encrypt(&nonce, plain).map_err(|_| LinkError::Decrypt)
    }

    /// Decrypts the next frame; fails on anything but the next frame the peer sealed.
    pub fn open(&mut self, sealed: &[u8]) -> Result<Vec<u8>, LinkError> {
        let nonce = self.next_nonce()?;
        self.aead.decrypt(&nonce, sealed).map_err(|_| LinkError::Decrypt)
    }
}

/// The two ciphers of an authenticated link and the peer's Ed25519 key.
#[derive(Debug)]
pub struct Session {
    /// The peer's registered Ed25519 key (checked by the handshake).
    pub peer: [u8; 32],
    /// Seals what this side sends.
    pub send: Cipher,
    /// Opens what the peer sends.
    pub recv: Cipher,
}

/// Writes one `u32 length ‖ bytes` frame (not flushed).
pub async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, bytes: &[u8]) -> Result<(), LinkError> {
    let len = u32::try_from(bytes.len()).map_err(|_| LinkError::TooLarge(bytes.len()))?;
    w.write_all(&len.to_be_bytes()).await?;
    w.write_all(bytes).await?;
    Ok(())
}

/// Reads one frame of at most `max` bytes; the length is checked before anything is allocated.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, max: usize) -> Result<Vec<u8>, LinkError> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(LinkError::TooLarge(len));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf).await?;
    Ok(buf)
}

/// Writes a sealed frame (not flushed).
pub async fn send_sealed<W: AsyncWrite + Unpin>(
    w: &mut W,
    cipher: &mut Cipher,
    plain: &[u8],
) -> Result<(), LinkError> {
    let sealed = cipher.seal(plain)?;
    write_frame(w, &sealed).await
}

/// Reads and opens a sealed frame.
pub async fn recv_sealed<R: AsyncRead + Unpin>(r: &mut R, cipher: &mut Cipher) -> Result<Vec<u8>, LinkError> {
    let sealed = read_frame(r, NODE_LINK_FRAME_MAX_BYTES).await?;
    cipher.open(&sealed)
}

fn transcript(ed_i: &[u8; 32], eph_i: &[u8; 32], ed_r: &[u8; 32], eph_r: &[u8; 32]) -> [u8; 32] {
    let mut h = Blake2b::<U32>::new();
    h.update(DOMAIN);
    h.update([VERSION]);
    h.update(ed_i);
    h.update(eph_i);
    h.update(ed_r);
    h.update(eph_r);
    h.finalize().into()
}

fn signed_part(role: &[u8], th: &[u8; 32]) -> Vec<u8> {
    [DOMAIN, role, th].concat()
}

fn verify(ed: &[u8; 32], msg: &[u8], sig: &[u8]) -> Result<(), LinkError> {
    let vk = VerifyingKey::from_bytes(ed).map_err(|_| LinkError::Signature)?;
    let sig = Signature::from_slice(sig).map_err(|_| LinkError::Signature)?;
    vk.verify_strict(msg, &sig).map_err(|_| LinkError::Signature)
}

/// The two directions' keys from the ephemeral agreement, bound to the transcript.
fn session_keys(
    shared: &x25519_dalek::SharedSecret,
    th: &[u8; 32],
) -> Result<([u8; 32], [u8; 32]), LinkError> {
    if !shared.was_contributory() {
        return Err(LinkError::WeakKey);
    }
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(th), shared.as_bytes());
    let (mut i2r, mut r2i) = ([0u8; 32], [0u8; 32]);
    hk.expand(b"snode-link-v1 initiator to responder", &mut i2r).map_err(|_| LinkError::WeakKey)?;
    hk.expand(b"snode-link-v1 responder to initiator", &mut r2i).map_err(|_| LinkError::WeakKey)?;
    Ok((i2r, r2i))
}

fn array32(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes[..32]);
    out
}

/// The initiator's side of the handshake, to the node whose registered key is `peer`.
pub async fn initiate<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    keys: &NodeKeys,
    peer: &[u8; 32],
) -> Result<Session, LinkError> {
    let me = keys.ed25519_public();
    let eph = x25519_dalek::EphemeralSecret::random_from_rng(rand::rngs::OsRng);
    let eph_pub = x25519_dalek::PublicKey::from(&eph).to_bytes();
    let hello = [&[VERSION][..], &me, &eph_pub, peer].concat();
    write_frame(io, &hello).await?;
    io.flush().await?;
    let answer = read_frame(io, NODE_LINK_HANDSHAKE_MAX_BYTES).await?;
    if answer.len() != 32 + 64 {
        return Err(LinkError::Handshake(answer.len()));
    }
    let eph_r = array32(&answer[..32]);
    let th = transcript(&me, &eph_pub, peer, &eph_r);
    verify(peer, &signed_part(b" responder", &th), &answer[32..])?;
    let sig = keys.sign(&signed_part(b" initiator", &th));
    write_frame(io, &sig).await?;
    io.flush().await?;
    let shared = eph.diffie_hellman(&x25519_dalek::PublicKey::from(eph_r));
    let (i2r, r2i) = session_keys(&shared, &th)?;
    Ok(Session { peer: *peer, send: Cipher::new(&i2r), recv: Cipher::new(&r2i) })
}

/// The responder's side: `registered` says whether an initiator's Ed25519 key belongs to a
/// registered node (it may refresh the node's view once). Nothing the initiator sends is acted
/// on before its signature checked out.
pub async fn respond<S, F, Fut>(io: &mut S, keys: &NodeKeys, registered: F) -> Result<Session, LinkError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce([u8; 32]) -> Fut,
    Fut: Future<Output = bool>,
{
    let me = keys.ed25519_public();
    let hello = read_frame(io, NODE_LINK_HANDSHAKE_MAX_BYTES).await?;
    if hello.len() != 1 + 32 * 3 {
        return Err(LinkError::Handshake(hello.len()));
    }
    if hello[0] != VERSION {
        return Err(LinkError::Version(hello[0]));
    }
    let (ed_i, eph_i, wanted) = (array32(&hello[1..33]), array32(&hello[33..65]), array32(&hello[65..97]));
    if wanted != me {
        return Err(LinkError::NotMe(hex::encode(wanted)));
    }
    if VerifyingKey::from_bytes(&ed_i).is_err() || !registered(ed_i).await {
        return Err(LinkError::Unknown(hex::encode(ed_i)));
    }
    let eph = x25519_dalek::EphemeralSecret::random_from_rng(rand::rngs::OsRng);
    let eph_pub = x25519_dalek::PublicKey::from(&eph).to_bytes();
    let th = transcript(&ed_i, &eph_i, &me, &eph_pub);
    let sig = keys.sign(&signed_part(b" responder", &th));
    write_frame(io, &[&eph_pub[..], &sig].concat()).await?;
    io.flush().await?;
    let answer = read_frame(io, NODE_LINK_HANDSHAKE_MAX_BYTES).await?;
    verify(&ed_i, &signed_part(b" initiator", &th), &answer)?;
    let shared = eph.diffie_hellman(&x25519_dalek::PublicKey::from(eph_i));
    let (i2r, r2i) = session_keys(&shared, &th)?;
    Ok(Session { peer: ed_i, send: Cipher::new(&r2i), recv: Cipher::new(&i2r) })
}

/// Sends the upgrade request on a fresh connection to `host` and reads the answer's head; the
/// stream is then the link's. Read a byte at a time (once per link) so that nothing after the
/// head is swallowed.
pub async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S, host: &str) -> Result<(), LinkError> {
    let request = format!(
        "GET {PATH_LINK} HTTP/1.1\r\nHost: {host}\r\nConnection: upgrade\r\nUpgrade: {UPGRADE_TOKEN}\r\n\r\n"
    );
    io.write_all(request.as_bytes()).await?;
    io.flush().await?;
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= NODE_LINK_UPGRADE_HEAD_MAX_BYTES {
            return Err(LinkError::Upgrade("answer head too long".into()));
        }
        head.push(io.read_u8().await?);
    }
    let status_line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line);
    if status_line.split(' ').nth(1) != Some("101") {
        return Err(LinkError::Upgrade(status_line.chars().take(200).collect()));
    }
    Ok(())
}

/// Encodes a batch of replicated stores as request `id`. The hash is not sent: the receiver
/// computes it from what it stores.
pub fn encode_replicate(id: u64, messages: &[&StoredMessage]) -> Vec<u8> {
    let data: usize = messages.iter().map(|m| m.data.len() + MESSAGE_HEAD_BYTES).sum();
    let mut out = Vec::with_capacity(8 + 1 + 4 + data);
    out.extend_from_slice(&id.to_be_bytes());
    out.push(KIND_REPLICATE);
    out.extend_from_slice(&(messages.len() as u32).to_be_bytes());
    for m in messages {
        out.extend_from_slice(&m.pubkey.to_bytes());
        out.extend_from_slice(&m.namespace.to_be_bytes());
        out.extend_from_slice(&m.timestamp_ms.to_be_bytes());
        out.extend_from_slice(&m.expiry_ms.to_be_bytes());
        out.extend_from_slice(&(m.data.len() as u32).to_be_bytes());
        out.extend_from_slice(&m.data);
    }
    out
}

/// A cursor over a frame's payload that never reads past its end.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], LinkError> {
        if self.rest.len() < n {
            return Err(LinkError::Malformed(what));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, LinkError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, LinkError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, LinkError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, LinkError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_be_bytes(a))
    }
}

/// A request's id, readable even when the rest of the request is not (so it can be refused).
pub fn request_id(payload: &[u8]) -> Option<u64> {
    Reader { rest: payload }.u64("request id").ok()
}

/// Decodes a replicate request into its id and the messages to store, each checked as a
/// client's store would be (pubkey type, data size; the hash is computed here).
pub fn decode_replicate(payload: &[u8]) -> Result<(u64, Vec<StoredMessage>), LinkError> {
    let mut r = Reader { rest: payload };
    let id = r.u64("request id")?;
    if r.u8("kind")? != KIND_REPLICATE {
        return Err(LinkError::Malformed("unknown request kind"));
    }
    let count = r.u32("count")? as usize;
    if count == 0 || count > NODE_PUSH_BATCH_MAX_MESSAGES {
        return Err(LinkError::Malformed("message count out of range"));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let pubkey = Pubkey::from_bytes(r.take(33, "pubkey")?).map_err(|_| LinkError::Malformed("pubkey"))?;
        let namespace = r.u16("namespace")? as i16;
        let timestamp_ms = r.u64("timestamp")?;
        let expiry_ms = r.u64("expiry")?;
        let len = r.u32("data length")? as usize;
        if len > RPC_MAX_BODY_BYTES {
            return Err(LinkError::Malformed("data too large"));
        }
        let data = r.take(len, "data")?.to_vec();
        let hash = crate::formats::rpc::message_hash(&pubkey, namespace, &data);
        out.push(StoredMessage { pubkey, namespace, hash, timestamp_ms, expiry_ms, data });
    }
    if !r.rest.is_empty() {
        return Err(LinkError::Malformed("trailing bytes"));
    }
    Ok((id, out))
}

/// One member's result for one message of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The message's expiry as stored (ms since the epoch).
    pub expiry: u64,
    /// The member already held the message.
    pub already: bool,
    /// The member's Ed25519 signature over the message hash.
    pub signature: [u8; 64],
}

/// A batch's answer: its entries in request order, or a status and reason for the whole batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Stored: one entry per message.
    Stored(Vec<Entry>),
    /// Refused as a whole: an HTTP-like status (400, 401, 503) and why.
    Refused(u16, String),
}

/// Encodes the answer to request `id`.
pub fn encode_answer(id: u64, answer: &Answer) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_be_bytes());
    match answer {
        Answer::Stored(entries) => {
            out.reserve(2 + 4 + entries.len() * 73);
            out.extend_from_slice(&STATUS_OK.to_be_bytes());
            out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
            for e in entries {
                out.extend_from_slice(&e.expiry.to_be_bytes());
                out.push(u8::from(e.already));
                out.extend_from_slice(&e.signature);
            }
        }
        Answer::Refused(status, reason) => {
            // A refusal's status is never 200 on the wire (that would read as a stored batch).
            let status = if *status == STATUS_OK { 500 } else { *status };
            let reason: String = reason.chars().take(200).collect();
            out.extend_from_slice(&status.to_be_bytes());
            out.extend_from_slice(&(reason.len() as u32).to_be_bytes());
            out.extend_from_slice(reason.as_bytes());
        }
    }
    out
}

/// Decodes an answer: its request id and content.
pub fn decode_answer(payload: &[u8]) -> Result<(u64, Answer), LinkError> {
    let mut r = Reader { rest: payload };
    let id = r.u64("request id")?;
    let status = r.u16("status")?;
    let count = r.u32("count")? as usize;
    let answer = if status == STATUS_OK {
        if count > NODE_PUSH_BATCH_MAX_MESSAGES {
            return Err(LinkError::Malformed("entry count out of range"));
        }
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            let expiry = r.u64("expiry")?;
            let already = r.u8("already")? != 0;
            let mut signature = [0u8; 64];
            signature.copy_from_slice(r.take(64, "signature")?);
            entries.push(Entry { expiry, already, signature });
        }
        Answer::Stored(entries)
    } else {
        let reason = r.take(count, "reason")?;
        Answer::Refused(status, String::from_utf8_lossy(reason).into_owned())
    };
    if !r.rest.is_empty() {
        return Err(LinkError::Malformed("trailing bytes"));
    }
    Ok((id, answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(i: u8) -> StoredMessage {
        let pubkey = Pubkey::new(5, [i; 32]);
        let data = vec![i; 100 + i as usize];
        let hash = crate::formats::rpc::message_hash(&pubkey, -10, &data);
        StoredMessage {
            pubkey,
            namespace: -10,
            hash,
            timestamp_ms: 1_700_000_000_000,
            expiry_ms: 1_700_003_600_000,
            data,
        }
    }

    async fn pair(
        a: NodeKeys,
        b: NodeKeys,
        dial: [u8; 32],
        registered: bool,
    ) -> (Result<Session, LinkError>, Result<Session, LinkError>) {
        let (mut x, mut y) = tokio::io::duplex(4096);
        // Each side owns its end: one that gives up closes it, and the other sees the close.
        let responder = async move { respond(&mut y, &b, |_| async move { registered }).await };
        let initiator = async move { initiate(&mut x, &a, &dial).await };
        tokio::join!(initiator, responder)
    }

    #[tokio::test]
    async fn test_handshake_authenticates_both_sides_and_frames_round_trip() {
        let (a, b) = (NodeKeys::from_seed(&[1; 32]), NodeKeys::from_seed(&[2; 32]));
        let (a_pub, b_pub) = (a.ed25519_public(), b.ed25519_public());
        let (i, r) = pair(a, b, b_pub, true).await;
        let (mut i, mut r) = (i.unwrap_or_else(|e| panic!("{e}")), r.unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(i.peer, b_pub);
        assert_eq!(r.peer, a_pub, "the responder learns who the initiator is");
        for n in 0..3u8 {
            let sealed = i.send.seal(&[n; 10]).unwrap_or_default();
            assert_eq!(r.recv.open(&sealed).ok(), Some(vec![n; 10]));
            let back = r.send.seal(&[n; 5]).unwrap_or_default();
            assert_eq!(i.recv.open(&back).ok(), Some(vec![n; 5]));
        }
        // A replayed or reordered frame does not open (the counter moved on).
        let first = i.send.seal(b"one").unwrap_or_default();
        let second = i.send.seal(b"two").unwrap_or_default();
        assert!(matches!(r.recv.open(&second), Err(LinkError::Decrypt)));
        let _ = first;
    }

    #[tokio::test]
    async fn test_handshake_refuses_unregistered_wrong_node_and_impostor() {
        let (a, b) = (NodeKeys::from_seed(&[1; 32]), NodeKeys::from_seed(&[2; 32]));
        let b_pub = b.ed25519_public();
        let (_, r) = pair(NodeKeys::from_seed(&[1; 32]), NodeKeys::from_seed(&[2; 32]), b_pub, false).await;
        assert!(matches!(r, Err(LinkError::Unknown(_))), "unregistered initiator: {r:?}");
        let (_, r) = pair(NodeKeys::from_seed(&[1; 32]), NodeKeys::from_seed(&[2; 32]), [9; 32], true).await;
        assert!(matches!(r, Err(LinkError::NotMe(_))), "dialled another node: {r:?}");
        // The initiator expects b's key but c answers: c's signature does not verify as b's.
        let c = NodeKeys::from_seed(&[3; 32]);
        let (mut x, mut y) = tokio::io::duplex(4096);
        let c_pub = c.ed25519_public();
        let (i, _) = tokio::join!(initiate(&mut x, &a, &b_pub), async {
            // c pretends to be b: it accepts the hello for b's key and signs with its own.
            let hello = read_frame(&mut y, 1024).await;
            let eph = [7u8; 32];
            let th = transcript(&a.ed25519_public(), &[0; 32], &b_pub, &eph);
            let sig = c.sign(&signed_part(b" responder", &th));
            let _ = write_frame(&mut y, &[&eph[..], &sig].concat()).await;
            let _ = y.flush().await;
            (hello.is_ok(), c_pub)
        });
        assert!(matches!(i, Err(LinkError::Signature)), "impostor: {i:?}");
    }

    #[test]
    fn test_batches_and_answers_round_trip_and_hash_is_recomputed() {
        let (m1, m2) = (msg(1), msg(2));
        let wire = encode_replicate(42, &[&m1, &m2]);
        let (id, got) = decode_replicate(&wire).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(id, 42);
        assert_eq!(got, vec![m1.clone(), m2.clone()]);
        // Every truncation is refused, none panics.
        for cut in 0..wire.len() {
            assert!(decode_replicate(&wire[..cut]).is_err(), "cut at {cut}");
        }
        let entries = vec![Entry { expiry: 5, already: true, signature: [3; 64] }];
        let answer = encode_answer(7, &Answer::Stored(entries.clone()));
        assert_eq!(decode_answer(&answer).ok(), Some((7, Answer::Stored(entries))));
        let refused = encode_answer(8, &Answer::Refused(401, "who are you".into()));
        assert_eq!(decode_answer(&refused).ok(), Some((8, Answer::Refused(401, "who are you".into()))));
        for cut in 0..answer.len() {
            assert!(decode_answer(&answer[..cut]).is_err(), "cut at {cut}");
        }
    }
}
