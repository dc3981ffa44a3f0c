//! One identity's ratchet, over its state directory: what each `ratchet` subcommand does.
//! Every operation verifies first and writes the state only after success, before its result
//! is returned (so a printed message's key is never reused, and a failure changes no file).

use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use super::state::StateDir;
use crate::formats::identity::{Identity, SessionId};
use crate::formats::limits::{MAX_PLAINTEXT_BYTES, REQUEST_BUNDLE_OPKS};
use crate::formats::ratchet::error::RatchetError;
use crate::formats::ratchet::keys::RatchetKeyPair;
use crate::formats::ratchet::prekeys::{Bundle, PrekeyStore};
use crate::formats::ratchet::request::{FriendRequest, SealedRequest};
use crate::formats::ratchet::session::Session;
use crate::formats::ratchet::wire::{Incoming, Payload, WireMessage};
use crate::formats::ratchet::x3dh::{X3dhHeader, initiator_secret, responder_secret};

/// An identity with its locked state directory.
#[derive(Debug)]
pub struct Account<'a> {
    identity: &'a Identity,
    state: StateDir,
    /// Set by [`Account::at_least_once`]: this run's id.
    run: Option<u64>,
    /// Sessions this run decrypted on, to acknowledge.
    touched: std::collections::BTreeSet<SessionId>,
}

/// A decrypted message and whether it started the session.
#[derive(Debug)]
pub struct Decrypted {
    /// Who sent it.
    pub from: SessionId,
    /// The decrypted bytes.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// This message came with an X3DH header and created (or replaced) the session.
    pub new_session: bool,
    /// An earlier run decrypted this message but died before acknowledging its output.
    pub redelivered: bool,
}

/// What one input line of `decrypt` turned out to be.
#[derive(Debug)]
pub enum Received {
    /// A decrypted message.
    Message(Decrypted),
    /// A verified friend request (nothing is stored until it is accepted).
    Request(Box<FriendRequest>),
    /// A live-app 1-1 message, opened and its signature checked (no ratchet state involved).
    SessionMessage(Box<crate::formats::session_protocol::ReceivedMessage>),
}

/// One output line of `decrypt`, fields in a fixed order: `{"type": "message", "from", "text"}`
/// (or `"data"`, base64, for a plaintext that is not UTF-8; `"new_session": true` when the
/// message started the session; `"redelivered": true` when a killed earlier run had already
/// decrypted it but may not have printed it), `{"type": "friend_request", "from", "name", "text",
/// "timestamp"}`, or `{"type": "error", "line", "error", "message"}`; plus the `hash` and the
/// `timestamp` (as `stored_at`) of a retrieved line.
#[derive(Debug, Default, serde::Serialize)]
pub struct Record {
    /// The record's `type`: `message`, `friend_request`, `session_message` or `error`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The input line the record answers, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The sender's Session ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The display name a friend request carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The message's text, when it is a Session text message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The files the message points at (attachment pointers, as `download` reads them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<crate::formats::attachments::pointer::AttachmentPointer>>,
    /// The message's bytes in base64, when they are not text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The sender's timestamp of the message, ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// `true` when this message started the session.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub new_session: bool,
    /// `true` when an earlier run decrypted this message already.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub redelivered: bool,
    /// For an error record: the error's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// For an error record: the error's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The retrieved line's `hash`, passed through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<serde_json::Value>,
    /// The retrieved line's `timestamp`, passed through as `stored_at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_at: Option<serde_json::Value>,
}

impl Record {
    /// The record of a handled line.
    pub fn received(received: &Received, incoming: &Incoming) -> Self {
        use base64::Engine;
        let mut r = match received {
            Received::Message(d) => {
                let with_files = crate::client::files::read_attachment_message(&d.plaintext);
                let (text, data, attachments) = match (with_files, std::str::from_utf8(&d.plaintext)) {
                    (Some((text, files)), _) => (text, None, Some(files)),
                    (None, Ok(t)) => (Some(t.to_string()), None, None),
                    (None, Err(_)) => (
                        None,
                        Some(base64::engine::general_purpose::STANDARD.encode(d.plaintext.as_slice())),
                        None,
                    ),
                };
                Record {
                    kind: "message",
                    from: Some(d.from.to_string()),
                    text,
                    data,
                    attachments,
                    new_session: d.new_session,
                    redelivered: d.redelivered,
                    ..Record::default()
                }
            }
            Received::Request(q) => Record {
                kind: "friend_request",
                from: Some(q.from.to_string()),
                name: Some(q.name.clone()),
                text: Some(q.text.clone()),
                timestamp: Some(q.timestamp),
                ..Record::default()
            },
            Received::SessionMessage(m) => {
                let files = m.content.attachments();
                Record {
                    kind: "session_message",
                    from: Some(m.sender.to_string()),
                    text: m.text().ok().map(str::to_string),
                    // A receipt, typing indicator, call or other control message has no text: say
                    // so rather than print a message that looks empty (files alone are content).
                    message: m
                        .text()
                        .err()
                        .filter(|_| files.is_empty())
                        .map(|e| format!("not a text message: {e}")),
                    attachments: (!files.is_empty()).then_some(files),
                    // The authenticated send time when the sender set it, else the Envelope's.
                    timestamp: Some(m.content.sig_timestamp.unwrap_or(m.timestamp_ms)),
                    ..Record::default()
                }
            }
        };
        r.hash = incoming.hash.clone();
        r.stored_at = incoming.timestamp.clone();
        r
    }

    /// The record of a line that could not be handled (`line` is 1-based).
    pub fn failed(line: usize, err: &RatchetError, incoming: Option<&Incoming>) -> Self {
        Record {
            kind: "error",
            line: Some(line),
            error: Some(err.code()),
            message: Some(err.to_string()),
            hash: incoming.and_then(|i| i.hash.clone()),
            stored_at: incoming.and_then(|i| i.timestamp.clone()),
            ..Record::default()
        }
    }
}

impl<'a> Account<'a> {
    /// Handles one input line of `decrypt`: decrypts a wire message, or opens a friend request.
    pub fn receive(
        &mut self,
        incoming: &Incoming,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Received, RatchetError> {
        match &incoming.payload {
            Payload::Message(m) => self.decrypt(m, rng).map(Received::Message),
            Payload::Request(r) => self.open_request(r).map(|q| Received::Request(Box::new(q))),
            Payload::SessionMessage(data) => {
                crate::formats::session_protocol::read_message(self.identity, data)
                    .map(|m| Received::SessionMessage(Box::new(m)))
                    .map_err(RatchetError::from)
            }
        }
    }

    /// Opens (and locks) the state directory of `identity`.
    pub fn open(identity: &'a Identity, dir: &std::path::Path) -> Result<Self, RatchetError> {
        Ok(Self { identity, state: StateDir::open(dir)?, run: None, touched: Default::default() })
    }

    /// At-least-once delivery for a stream of decryptions: each session keeps the key of the
    /// last message this run decrypted until [`Account::acknowledge`], so a run killed between
    /// committing a message and printing it is followed by one that decrypts it again
    /// (`redelivered`). Without it, such a message is reported as a duplicate (at most once).
    pub fn at_least_once(&mut self, rng: &mut impl CryptoRngCore) {
        self.run = Some(rng.next_u64());
    }

    /// Declares every output of this run delivered: forgets the keys kept for redelivery.
    pub fn acknowledge(&mut self) -> Result<(), RatchetError> {
        for peer in std::mem::take(&mut self.touched) {
            if let Some(mut session) = self.session(&peer)?
                && session.acknowledge()
            {
                self.state.save_session(&session)?;
            }
        }
        Ok(())
    }

    fn session_decrypt(
        &mut self,
        session: &mut Session,
        msg: &WireMessage,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(Zeroizing<Vec<u8>>, bool), RatchetError> {
        match self.run {
            Some(run) => {
                let out = session.decrypt_unacked(msg, run, rng)?;
                self.touched.insert(session.peer());
                Ok(out)
            }
            None => session.decrypt(msg, rng).map(|p| (p, false)),
        }
    }

    /// The state directory this account reads and writes.
    pub fn state(&self) -> &StateDir {
        &self.state
    }

    fn us(&self) -> SessionId {
        self.identity.session_id()
    }

    fn prekeys(&self) -> Result<PrekeyStore, RatchetError> {
        self.state.load_prekeys(&self.us())
    }

    /// The session with `peer`, if any.
    pub fn session(&self, peer: &SessionId) -> Result<Option<Session>, RatchetError> {
        self.state.load_session(&self.us(), peer)
    }

    /// Publishes a bundle: a new signed prekey when due, `opks` fresh one-time prekeys.
    pub fn publish_bundle(
        &mut self,
        opks: usize,
        now: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Bundle, RatchetError> {
        let mut store = self.prekeys()?;
        let bundle = store.publish(self.identity, opks, now, rng)?;
        self.state.save_prekeys(&store)?;
        Ok(bundle)
    }

    /// A friend request to `to` carrying `bundle` (which must be ours and still held), or a
    /// fresh bundle with [`REQUEST_BUNDLE_OPKS`] one-time prekeys.
    pub fn request(
        &mut self,
        to: &SessionId,
        name: &str,
        text: &str,
        bundle: Option<&Bundle>,
        now: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<SealedRequest, RatchetError> {
        let bundle = match bundle {
            Some(b) => {
                let verified = b.verify()?;
                if verified.session_id != self.us() || !self.prekeys()?.holds(&verified) {
                    return Err(RatchetError::SenderMismatch(
                        "the bundle is not one of this identity's current bundles (run 'ratchet bundle' with this --identity and --state)"
                            .into(),
                    ));
                }
                b.clone()
            }
            None => self.publish_bundle(REQUEST_BUNDLE_OPKS, now, rng)?,
        };
        SealedRequest::create(self.identity, to, name, text, &bundle, now, rng)
    }

    /// Opens and verifies a friend request addressed to us (changes nothing).
    pub fn open_request(&self, req: &SealedRequest) -> Result<FriendRequest, RatchetError> {
        req.open(self.identity)
    }

    /// Accepts a friend request: X3DH as initiator with the enclosed bundle (its first one-time
    /// prekey, if any), a new session, and our first message carrying `text`.
    pub fn accept(
        &mut self,
        req: &SealedRequest,
        text: &[u8],
        force: bool,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(FriendRequest, WireMessage), RatchetError> {
        let opened = self.open_request(req)?;
        let peer = opened.from;
        if !force && self.session(&peer)?.is_some() {
            return Err(RatchetError::SessionExists { peer: peer.to_string() });
        }
        let b = &opened.verified;
        let ek = RatchetKeyPair::generate(rng);
        let opk = b.opks.first().copied();
        let ik = Zeroizing::new(self.identity.x25519_secret().to_bytes());
        let (root, chain) =
            initiator_secret(&ik, ek.secret(), &peer.x25519(), &b.spk, opk.as_ref().map(|o| &o.1))?;
        let header = X3dhHeader {
            ik: self.identity.x25519_public(),
            ek: *ek.public(),
            spk_id: b.spk_id,
            opk_id: opk.map(|o| o.0),
        };
        let mut session =
            Session::initiate(self.identity.x25519_public(), peer.x25519(), root, chain, b.spk, header, rng)?;
        let msg = session.encrypt(text)?;
        self.state.save_session(&session)?;
        Ok((opened, msg))
    }

    /// Encrypts one message to `to` on the existing session.
    pub fn encrypt(&mut self, to: &SessionId, plaintext: &[u8]) -> Result<WireMessage, RatchetError> {
        if plaintext.len() > MAX_PLAINTEXT_BYTES {
            return Err(RatchetError::TooLong {
                what: "plaintext",
                len: plaintext.len(),
                max: MAX_PLAINTEXT_BYTES,
            });
        }
        let mut session =
            self.session(to)?.ok_or_else(|| RatchetError::NoSession { peer: to.to_string() })?;
        let msg = session.encrypt(plaintext)?;
        self.state.save_session(&session)?;
        Ok(msg)
    }

    /// Decrypts one wire message; a message with an X3DH header that names a new ephemeral key
    /// creates the session (as responder) once it decrypts, and its one-time prekey is deleted.
    pub fn decrypt(
        &mut self,
        msg: &WireMessage,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Decrypted, RatchetError> {
        let us = self.us();
        if msg.to != us {
            return Err(RatchetError::WrongRecipient { to: msg.to.to_string(), us: us.to_string() });
        }
        let existing = self.session(&msg.from)?;
        let Some(x) = msg.x3dh else {
            let mut session =
                existing.ok_or_else(|| RatchetError::NoSession { peer: msg.from.to_string() })?;
            let (plaintext, redelivered) = self.session_decrypt(&mut session, msg, rng)?;
            self.state.save_session(&session)?;
            return Ok(Decrypted { from: msg.from, plaintext, new_session: false, redelivered });
        };
        if x.ik != msg.from.x25519() {
            return Err(RatchetError::SenderMismatch(format!(
                "the X3DH identity key is not the key of the sender {}",
                msg.from
            )));
        }
        if let Some(mut session) = existing.filter(|s| s.remote_x3dh() == Some(&x)) {
            // A later message of the session this very X3DH header already made (any change to
            // the header, even of a prekey id, makes it a new handshake attempt, which fails).
            let (plaintext, redelivered) = self.session_decrypt(&mut session, msg, rng)?;
            self.state.save_session(&session)?;
            self.delete_one_time(x.opk_id)?;
            return Ok(Decrypted { from: msg.from, plaintext, new_session: false, redelivered });
        }
        let store = self.prekeys()?;
        let spk = store.signed(x.spk_id)?.clone();
        let opk = match x.opk_id {
            Some(id) => Some(store.one_time(id)?.clone()),
            None => None,
        };
        let ik = Zeroizing::new(self.identity.x25519_secret().to_bytes());
        let (root, chain) =
            responder_secret(&ik, spk.secret(), opk.as_ref().map(|o| o.secret()), &x.ik, &x.ek)?;
        let mut session = Session::respond(self.identity.x25519_public(), x.ik, root, chain, spk, x);
        let (plaintext, _) = self.session_decrypt(&mut session, msg, rng)?;
        // The session first, then the prekey: a kill in between leaves the one-time prekey,
        // which the next message of this session deletes (above); never a lost session.
        self.state.save_session(&session)?;
        self.delete_one_time(x.opk_id)?;
        Ok(Decrypted { from: msg.from, plaintext, new_session: true, redelivered: false })
    }

    fn delete_one_time(&mut self, id: Option<u32>) -> Result<(), RatchetError> {
        if let Some(id) = id {
            let mut store = self.prekeys()?;
            if store.remove_one_time(id) {
                self.state.save_prekeys(&store)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    struct Side {
        id: Identity,
        dir: tempfile::TempDir,
    }

    fn side(seed: u8) -> Side {
        Side { id: Identity::from_seed(&[seed; 16]).unwrap(), dir: tempfile::tempdir().unwrap() }
    }

    fn acct(s: &Side) -> Account<'_> {
        Account::open(&s.id, s.dir.path()).unwrap()
    }

    fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for sub in [dir.to_path_buf(), dir.join("sessions")] {
            for e in std::fs::read_dir(&sub).unwrap().flatten() {
                if e.path().is_file() {
                    out.push((e.path().display().to_string(), std::fs::read(e.path()).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    /// Alice requests, Bob accepts, Alice decrypts the acceptance, and they talk.
    fn handshake(alice: &Side, bob: &Side) -> WireMessage {
        let req = acct(alice).request(&bob.id.session_id(), "Alice", "hi", None, 0, &mut OsRng).unwrap();
        let (opened, acceptance) = acct(bob).accept(&req, b"welcome", false, &mut OsRng).unwrap();
        assert_eq!(opened.from, alice.id.session_id());
        assert_eq!(opened.text, "hi");
        acceptance
    }

    #[test]
    fn test_request_accept_conversation() {
        let (alice, bob) = (side(1), side(2));
        let acceptance = handshake(&alice, &bob);
        let d = acct(&alice).decrypt(&acceptance, &mut OsRng).unwrap();
        assert!(d.new_session);
        assert_eq!(d.plaintext.as_slice(), b"welcome");
        let m = acct(&alice).encrypt(&bob.id.session_id(), b"thanks").unwrap();
        assert!(m.x3dh.is_none());
        assert_eq!(acct(&bob).decrypt(&m, &mut OsRng).unwrap().plaintext.as_slice(), b"thanks");
        let m = acct(&bob).encrypt(&alice.id.session_id(), b"second").unwrap();
        assert!(m.x3dh.is_none(), "Bob got a reply: no more X3DH header");
        assert_eq!(acct(&alice).decrypt(&m, &mut OsRng).unwrap().plaintext.as_slice(), b"second");
    }

    #[test]
    fn test_used_one_time_prekey() {
        let (alice, bob) = (side(3), side(4));
        let req = acct(&alice).request(&bob.id.session_id(), "Alice", "hi", None, 0, &mut OsRng).unwrap();
        let (_, first) = acct(&bob).accept(&req, b"one", false, &mut OsRng).unwrap();
        acct(&alice).decrypt(&first, &mut OsRng).unwrap();
        // Bob accepts the same request again: a new X3DH with the same (now used) one-time prekey.
        assert!(matches!(
            acct(&bob).accept(&req, b"two", false, &mut OsRng).unwrap_err(),
            RatchetError::SessionExists { .. }
        ));
        let (_, again) = acct(&bob).accept(&req, b"two", true, &mut OsRng).unwrap();
        let before = snapshot(alice.dir.path());
        let err = acct(&alice).decrypt(&again, &mut OsRng).unwrap_err();
        assert!(matches!(err, RatchetError::UsedPrekey { .. }), "{err}");
        assert_eq!(snapshot(alice.dir.path()), before);
    }

    #[test]
    fn test_later_prekey_messages_use_the_same_session() {
        let (alice, bob) = (side(5), side(6));
        let acceptance = handshake(&alice, &bob);
        let second = acct(&bob).encrypt(&alice.id.session_id(), b"more").unwrap();
        assert!(second.x3dh.is_some());
        assert_eq!(acct(&alice).decrypt(&second, &mut OsRng).unwrap().plaintext.as_slice(), b"more");
        assert_eq!(acct(&alice).decrypt(&acceptance, &mut OsRng).unwrap().plaintext.as_slice(), b"welcome");
        let before = snapshot(alice.dir.path());
        assert!(matches!(
            acct(&alice).decrypt(&acceptance, &mut OsRng).unwrap_err(),
            RatchetError::DuplicateMessage { .. }
        ));
        assert_eq!(snapshot(alice.dir.path()), before);
    }

    #[test]
    fn test_wrong_identity_and_no_session() {
        let (alice, bob, carol) = (side(7), side(8), side(9));
        let acceptance = handshake(&alice, &bob);
        assert!(matches!(
            acct(&carol).decrypt(&acceptance, &mut OsRng).unwrap_err(),
            RatchetError::WrongRecipient { .. }
        ));
        assert!(matches!(
            acct(&carol).encrypt(&alice.id.session_id(), b"x").unwrap_err(),
            RatchetError::NoSession { .. }
        ));
        // Alice's state used with Carol's identity is refused.
        acct(&alice).decrypt(&acceptance, &mut OsRng).unwrap();
        let wrong = Account::open(&carol.id, alice.dir.path()).unwrap();
        assert!(matches!(wrong.prekeys().unwrap_err(), RatchetError::StateOwner { .. }));
    }

    #[test]
    fn test_request_with_a_foreign_bundle_is_refused() {
        let (alice, bob) = (side(10), side(11));
        let bobs = acct(&bob).publish_bundle(1, 0, &mut OsRng).unwrap();
        let err =
            acct(&alice).request(&bob.id.session_id(), "A", "t", Some(&bobs), 0, &mut OsRng).unwrap_err();
        assert!(matches!(err, RatchetError::SenderMismatch(_)));
        let mine = acct(&alice).publish_bundle(2, 0, &mut OsRng).unwrap();
        assert!(acct(&alice).request(&bob.id.session_id(), "A", "t", Some(&mine), 0, &mut OsRng).is_ok());
    }
}
