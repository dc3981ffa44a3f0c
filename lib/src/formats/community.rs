//! Community (open group) messages as the Session apps post and read them, and the blinded DMs
//! between community users (sogs.md §2; libsession `session_encrypt.cpp`'s blinded-recipient
//! encryption, re-derived here from its description).
//!
//! A community post's `data` is a padded `Content` protobuf whose `dataMessage` holds the text,
//! the send time, the sender's profile (`profile` = 101, `LokiProfile{displayName}`) and the
//! attached room files (`attachments` = 2, `AttachmentPointer{id, contentType, size, fileName,
//! url}` — community files are not encrypted, so no key or digest). Its `signature` is the
//! sender's (blinded) Ed25519 signature over exactly the padded bytes.
//!
//! A blinded DM is `0x00 ‖ XChaCha20-Poly1305(key, nonce, message ‖ A) ‖ nonce`, where `A` is the
//! sender's real Ed25519 key and `key = BLAKE2b-256(s·jB ‖ kA ‖ jB)`, the sender's blinded key
//! `kA` first and the recipient's `jB` second. Both IDs are of one kind. For 15-blinded IDs the
//! factor is the server's alone (`j = k`), so `s = a`, the sender's account scalar, and both
//! sides reach `a·k·b·G`. For 25-blinded IDs each account has its own factor, so `s = k'·a`, the
//! sender's blinded secret, and both sides reach `k'·a·j'·b·G`.

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use curve25519_dalek::Scalar;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::formats::blinding::{
    BlindedId, BlindedKeypair, BlindedKind, BlindingError, blind15_factor, blind25_id,
};
use crate::formats::identity::{Identity, SessionId};
use crate::formats::session_protocol::{PaddingStyle, pad, unpad};

/// The version byte that starts a blinded DM.
pub const BLINDED_DM_VERSION: u8 = 0x00;
/// XChaCha20-Poly1305 nonce length.
pub const DM_NONCE_BYTES: usize = 24;
/// Poly1305 tag length.
pub const DM_TAG_BYTES: usize = 16;
/// The sender's Ed25519 key appended to the plaintext.
const SENDER_KEY_BYTES: usize = 32;

/// Why a community message or DM could not be built or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommunityFormatError {
    /// The message is too long to pad (the protocol's Content limit).
    #[error("the message is too long: {0}")]
    TooLong(String),
    /// The bytes are not a `Content` protobuf.
    #[error("not a Session Content protobuf: {0}")]
    NotContent(String),
    /// A blinding step failed.
    #[error(transparent)]
    Blinding(#[from] BlindingError),
    /// The DM is shorter than version + tag + key + nonce, or has another version.
    #[error("not a blinded DM: {0}")]
    BadDm(&'static str),
    /// The DM does not decrypt with this identity's key (not for us, or tampered with).
    #[error("the DM does not decrypt: not for this identity, or tampered with")]
    DecryptFailed,
    /// The Ed25519 key inside the DM does not blind to the sender's ID.
    #[error("the DM's inner sender key does not match its blinded sender")]
    SenderMismatch,
}

/// `LokiProfile`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Profile {
    /// `displayName`.
    #[prost(string, optional, tag = "1")]
    pub display_name: Option<String>,
    /// `profilePicture` (URL).
    #[prost(string, optional, tag = "2")]
    pub profile_picture: Option<String>,
}

/// `AttachmentPointer`, the fields a community file uses.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct AttachmentPointer {
    /// `id`: the room file id.
    #[prost(fixed64, optional, tag = "1")]
    pub id: Option<u64>,
    /// `contentType`.
    #[prost(string, optional, tag = "2")]
    pub content_type: Option<String>,
    /// `size` in bytes.
    #[prost(uint32, optional, tag = "4")]
    pub size: Option<u32>,
    /// `fileName`.
    #[prost(string, optional, tag = "7")]
    pub file_name: Option<String>,
    /// `url`: `{server}/room/{token}/file/{id}`.
    #[prost(string, optional, tag = "101")]
    pub url: Option<String>,
}

/// `DataMessage`, the parts a community post uses.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct CommunityDataMessage {
    /// `body`: the text.
    #[prost(string, optional, tag = "1")]
    pub body: Option<String>,
    /// `attachments`.
    #[prost(message, repeated, tag = "2")]
    pub attachments: Vec<AttachmentPointer>,
    /// `timestamp` (ms).
    #[prost(uint64, optional, tag = "7")]
    pub timestamp: Option<u64>,
    /// `profile`.
    #[prost(message, optional, tag = "101")]
    pub profile: Option<Profile>,
}

/// `Content` with a community `DataMessage`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct CommunityContent {
    /// `dataMessage`.
    #[prost(message, optional, tag = "1")]
    pub data_message: Option<CommunityDataMessage>,
    /// `sigTimestamp` (ms).
    #[prost(uint64, optional, tag = "15")]
    pub sig_timestamp: Option<u64>,
}

/// A file attached to a post.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttachedFile {
    /// The room file id.
    pub id: u64,
    /// Its URL, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its name, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its size, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
}

/// A decoded post: text, display name, files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecodedPost {
    /// The text (empty when there is none).
    pub text: String,
    /// The sender's display name, if they gave one.
    pub name: Option<String>,
    /// The attached files.
    pub files: Vec<AttachedFile>,
    /// The send time the sender claims (ms).
    pub timestamp: Option<u64>,
}

/// The padded `Content` of a post: `text`, the display name `name`, attached `files`, sent at
/// `timestamp_ms`. Padded as libsession pads (Content ‖ 0x80 ‖ zeros to a multiple of 160).
pub fn build_post(
    text: &str,
    name: Option<&str>,
    files: &[AttachedFile],
    timestamp_ms: u64,
) -> Result<Vec<u8>, CommunityFormatError> {
    let content = CommunityContent {
        data_message: Some(CommunityDataMessage {
            body: (!text.is_empty()).then(|| text.to_string()),
            attachments: files
                .iter()
                .map(|f| AttachmentPointer {
                    id: Some(f.id),
                    content_type: Some("application/octet-stream".into()),
                    size: f.size,
                    file_name: f.name.clone(),
                    url: f.url.clone(),
                })
                .collect(),
            timestamp: Some(timestamp_ms),
            profile: name.map(|n| Profile { display_name: Some(n.to_string()), profile_picture: None }),
        }),
        sig_timestamp: Some(timestamp_ms),
    };
    pad(&prost::Message::encode_to_vec(&content), PaddingStyle::Libsession)
        .map_err(|e| CommunityFormatError::TooLong(e.to_string()))
}

/// Reads a post's (padded) `data` back.
pub fn decode_post(data: &[u8]) -> Result<DecodedPost, CommunityFormatError> {
    let content: CommunityContent = prost::Message::decode(unpad(data))
        .map_err(|e: prost::DecodeError| CommunityFormatError::NotContent(e.to_string()))?;
    let Some(dm) = content.data_message else { return Ok(DecodedPost::default()) };
    Ok(DecodedPost {
        text: dm.body.unwrap_or_default(),
        name: dm.profile.and_then(|p| p.display_name),
        files: dm
            .attachments
            .into_iter()
            .filter_map(|a| Some(AttachedFile { id: a.id?, url: a.url, name: a.file_name, size: a.size }))
            .collect(),
        timestamp: dm.timestamp,
    })
}

/// Whether `sig` over `data` verifies against the sender named by `sender` (sogs.md: `15…`/`25…`
/// blinded keys are Ed25519 keys; `ff…` the server's own Ed25519 key; `05…` an X25519 key, whose
/// Ed25519 form is tried with both signs).
pub fn verify_post(sender: &str, data: &[u8], sig: &[u8; 64]) -> bool {
    let Some(bytes) = hex::decode(sender).ok().filter(|b| b.len() == 33) else { return false };
    let mut key = [0u8; 32];
    key.copy_from_slice(&bytes[1..]);
    match bytes[0] {
        0x15 | 0x25 | 0xff | 0x00 => crate::formats::sogs::verify(&key, data, sig),
        0x05 => [0u8, 1].iter().any(|&sign| {
            MontgomeryPoint(key)
                .to_edwards(sign)
                .is_some_and(|p| crate::formats::sogs::verify(&p.compress().to_bytes(), data, sig))
        }),
        _ => false,
    }
}

/// The shared key of a blinded DM: `BLAKE2b-256(s·X ‖ sender kA ‖ recipient jB)`, `X` being the
/// other side's blinded key and `s` our [`dm_scalar`].
fn dm_key(
    own_scalar: &Scalar,
    other: &[u8; 32],
    sender: &[u8; 32],
    recipient: &[u8; 32],
) -> Result<Zeroizing<[u8; 32]>, CommunityFormatError> {
    let point = CompressedEdwardsY(*other)
        .decompress()
        .ok_or(CommunityFormatError::BadDm("the blinded key is not a point"))?;
    let shared = Zeroizing::new((own_scalar * point).compress().to_bytes());
    let mut h = Blake2b::<U32>::new();
    h.update(shared.as_ref());
    h.update(sender);
    h.update(recipient);
    Ok(Zeroizing::new(h.finalize().into()))
}

/// The account scalar `a` (clamped SHA-512 of the seed, as Ed25519 derives it).
fn account_scalar(identity: &Identity) -> Zeroizing<Scalar> {
    Zeroizing::new(identity.signing_key().to_scalar())
}

/// Our blinded keypair of `kind` on the server, and the scalar our side of a DM's key agreement
/// multiplies by: the account scalar `a` for 15 (one factor for everyone), the blinded secret
/// `k'·a` for 25.
fn dm_scalar(
    own: &Identity,
    server_pk: &[u8; 32],
    kind: BlindedKind,
) -> Result<(BlindedKeypair, Zeroizing<Scalar>), CommunityFormatError> {
    Ok(match kind {
        BlindedKind::Blind15 => (BlindedKeypair::blind15(own, server_pk)?, account_scalar(own)),
        BlindedKind::Blind25 => {
            let kp = BlindedKeypair::blind25(own, server_pk)?;
            let s = Zeroizing::new(*kp.secret_scalar());
            (kp, s)
        }
    })
}

/// Encrypts `message` from `sender` to the 15- or 25-blinded `recipient` on the server
/// `server_pk`; the sender's blinded ID of the same kind is the one the server must know it by.
pub fn encrypt_for_blinded(
    sender: &Identity,
    server_pk: &[u8; 32],
    recipient: &BlindedId,
    message: &[u8],
) -> Result<Vec<u8>, CommunityFormatError> {
    let (own, scalar) = dm_scalar(sender, server_pk, recipient.kind())?;
    let key = dm_key(&scalar, &recipient.key(), &own.public_key(), &recipient.key())?;
    let mut plain = Zeroizing::new(Vec::with_capacity(message.len() + SENDER_KEY_BYTES));
    plain.extend_from_slice(message);
    plain.extend_from_slice(&sender.ed25519_public());
    let mut nonce = [0u8; DM_NONCE_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let cipher = XChaCha20Poly1305::new(key.as_ref().into());
    let ct = cipher
        .encrypt(XNonce::from_slice(&nonce), plain.as_slice())
        .map_err(|_| CommunityFormatError::BadDm("encryption failed"))?;
    let mut out = Vec::with_capacity(1 + ct.len() + DM_NONCE_BYTES);
    out.push(BLINDED_DM_VERSION);
    out.extend_from_slice(&ct);
    out.extend_from_slice(&nonce);
    Ok(out)
}

/// A decrypted blinded DM: the message and the sender's real Session ID.
#[derive(Debug)]
pub struct OpenedDm {
    /// The plaintext (a padded Content, as the apps send it).
    pub message: Zeroizing<Vec<u8>>,
    /// The sender's `05…` Session ID.
    pub sender_session_id: SessionId,
}

/// Decrypts a DM from the 15- or 25-blinded `sender` to `own` (the recipient, by its blinded ID
/// of the same kind) and checks that the Ed25519 key inside blinds to `sender`.
pub fn decrypt_from_blinded(
    own: &Identity,
    server_pk: &[u8; 32],
    sender: &BlindedId,
    data: &[u8],
) -> Result<OpenedDm, CommunityFormatError> {
    if data.len() < 1 + DM_TAG_BYTES + SENDER_KEY_BYTES + DM_NONCE_BYTES {
        return Err(CommunityFormatError::BadDm("too short"));
    }
    if data[0] != BLINDED_DM_VERSION {
        return Err(CommunityFormatError::BadDm("unknown version"));
    }
    let (ct, nonce) = data[1..].split_at(data.len() - 1 - DM_NONCE_BYTES);
    let (own_kp, scalar) = dm_scalar(own, server_pk, sender.kind())?;
    let key = dm_key(&scalar, &sender.key(), &sender.key(), &own_kp.public_key())?;
    let cipher = XChaCha20Poly1305::new(key.as_ref().into());
    let plain = Zeroizing::new(
        cipher.decrypt(XNonce::from_slice(nonce), ct).map_err(|_| CommunityFormatError::DecryptFailed)?,
    );
    let (message, ed) = plain.split_at(plain.len() - SENDER_KEY_BYTES);
    let mut ed_pk = [0u8; 32];
    ed_pk.copy_from_slice(ed);
    let a = CompressedEdwardsY(ed_pk).decompress().ok_or(CommunityFormatError::SenderMismatch)?;
    let x =
        crate::formats::identity::ed25519_pk_to_x25519(&ed_pk).ok_or(CommunityFormatError::SenderMismatch)?;
    let blinds_to_sender = match sender.kind() {
        // Exactly k·A: the real key, not its negation (which a 15 ID cannot tell apart).
        BlindedKind::Blind15 => {
            let blinded: EdwardsPoint = blind15_factor(server_pk) * a;
            blinded.compress().to_bytes() == sender.key()
        }
        BlindedKind::Blind25 => blind25_id(&SessionId::from_x25519(x), server_pk)? == *sender,
    };
    if !blinds_to_sender {
        return Err(CommunityFormatError::SenderMismatch);
    }
    Ok(OpenedDm { message: Zeroizing::new(message.to_vec()), sender_session_id: SessionId::from_x25519(x) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_pk() -> [u8; 32] {
        Identity::from_seed(&[9u8; 32]).unwrap().x25519_public()
    }

    #[test]
    fn post_round_trips_and_is_padded() {
        let files = [AttachedFile {
            id: 7,
            url: Some("http://s/room/r/file/7".into()),
            name: Some("a.txt".into()),
            size: Some(3),
        }];
        let data = build_post("hello", Some("Alice"), &files, 1_700_000_000_000).unwrap();
        assert_eq!(data.len() % 160, 0);
        let post = decode_post(&data).unwrap();
        assert_eq!(post.text, "hello");
        assert_eq!(post.name.as_deref(), Some("Alice"));
        assert_eq!(post.files, files);
        assert_eq!(post.timestamp, Some(1_700_000_000_000));
    }

    #[test]
    fn post_bytes_are_the_apps_fields() {
        // Content{dataMessage{body="hi", timestamp=1, profile{displayName="A"}}, sigTimestamp=1}
        let data = build_post("hi", Some("A"), &[], 1).unwrap();
        let expected =
            [0x0a, 0x0c, 0x0a, 0x02, b'h', b'i', 0x38, 0x01, 0xaa, 0x06, 0x03, 0x0a, 0x01, b'A', 0x78, 0x01];
        assert_eq!(unpad(&data), expected);
    }

    #[test]
    fn garbage_is_not_a_post() {
        assert!(matches!(decode_post(&[0x0a, 0x05, 0x01]), Err(CommunityFormatError::NotContent(_))));
    }

    #[test]
    fn blinded_signature_verifies_and_a_flip_does_not() {
        let id = Identity::from_seed(&[1u8; 32]).unwrap();
        let kp = BlindedKeypair::blind15(&id, &server_pk()).unwrap();
        let data = build_post("x", None, &[], 5).unwrap();
        let sig = kp.sign(&data).unwrap();
        assert!(verify_post(&kp.id().to_string(), &data, &sig));
        let mut bad = data.clone();
        bad[3] ^= 1;
        assert!(!verify_post(&kp.id().to_string(), &bad, &sig));
        assert!(!verify_post("zz", &data, &sig));
    }

    #[test]
    fn unblinded_05_signature_verifies() {
        let id = Identity::from_seed(&[2u8; 32]).unwrap();
        let sig = id.sign(b"abc");
        assert!(verify_post(&id.session_id().to_string(), b"abc", &sig));
    }

    #[test]
    fn dm_between_25_blinded_ids_round_trips_and_checks_the_sender() {
        let spk = server_pk();
        // Seeds whose Ed25519 keys have both signs: blind25 negates k for a negative A.
        let ids: Vec<Identity> = (10u8..30).map(|i| Identity::from_seed(&[i; 32]).unwrap()).collect();
        let neg = ids.iter().find(|i| i.ed25519_public()[31] & 0x80 != 0).expect("a negative A");
        let pos = ids.iter().find(|i| i.ed25519_public()[31] & 0x80 == 0).expect("a positive A");
        for (alice, bob) in [(neg, pos), (pos, neg)] {
            let a25 = BlindedKeypair::blind25(alice, &spk).unwrap().id();
            let b25 = BlindedKeypair::blind25(bob, &spk).unwrap().id();
            assert_eq!(a25, blind25_id(&alice.session_id(), &spk).unwrap());
            let ct = encrypt_for_blinded(alice, &spk, &b25, b"twenty-five").unwrap();
            let opened = decrypt_from_blinded(bob, &spk, &a25, &ct).unwrap();
            assert_eq!(opened.message.as_slice(), b"twenty-five");
            assert_eq!(opened.sender_session_id, alice.session_id());
            // The sender named as its 15 ID: another key agreement, no plaintext.
            let a15 = BlindedKeypair::blind15(alice, &spk).unwrap().id();
            assert!(decrypt_from_blinded(bob, &spk, &a15, &ct).is_err());
            // Another 25 sender: refused.
            let c25 = BlindedKeypair::blind25(&ids[19], &spk).unwrap().id();
            assert!(decrypt_from_blinded(bob, &spk, &c25, &ct).is_err());
        }
    }

    #[test]
    fn dm_round_trip_and_refusals() {
        let spk = server_pk();
        let alice = Identity::from_seed(&[3u8; 32]).unwrap();
        let bob = Identity::from_seed(&[4u8; 32]).unwrap();
        let carol = Identity::from_seed(&[5u8; 32]).unwrap();
        let a15 = BlindedKeypair::blind15(&alice, &spk).unwrap().id();
        let b15 = BlindedKeypair::blind15(&bob, &spk).unwrap().id();
        let ct = encrypt_for_blinded(&alice, &spk, &b15, b"secret").unwrap();
        assert_eq!(ct.len(), 1 + 6 + 32 + DM_TAG_BYTES + DM_NONCE_BYTES);
        let opened = decrypt_from_blinded(&bob, &spk, &a15, &ct).unwrap();
        assert_eq!(opened.message.as_slice(), b"secret");
        assert_eq!(opened.sender_session_id, alice.session_id());
        assert_eq!(
            decrypt_from_blinded(&carol, &spk, &a15, &ct).unwrap_err(),
            CommunityFormatError::DecryptFailed
        );
        let mut bad = ct.clone();
        bad[0] = 1;
        assert!(matches!(decrypt_from_blinded(&bob, &spk, &a15, &bad), Err(CommunityFormatError::BadDm(_))));
        // Claiming another sender: the key agreement no longer matches.
        let c15 = BlindedKeypair::blind15(&carol, &spk).unwrap().id();
        assert!(decrypt_from_blinded(&bob, &spk, &c15, &ct).is_err());
        assert!(matches!(
            decrypt_from_blinded(&bob, &spk, &a15, &ct[..10]),
            Err(CommunityFormatError::BadDm(_))
        ));
    }
}
