//! Peer links (docs/node-protocol.md, "Peer links") against a real node: a barrage of bad input
//! on its link endpoint — no upgrade, garbage and oversized handshake frames, an unregistered
//! key, the wrong node, a registered node's key without its secret, mangled frames and malformed
//! batches from an authenticated peer — never crashes the node and never stores anything a peer
//! did not authenticate; a well-formed batch over a real link is stored and answered with the
//! member's own signature over the hash; and the swarm keeps replicating over its links.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use snkit::keys::Pubkey;
use snkit::snode::NodeKeys;
use snkit::snode::link::{self, Answer, Session};
use snkit::snode::store::StoredMessage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

const NS: i16 = -10;

fn host_of(url: &str) -> String {
    url.trim_start_matches("http://").trim_end_matches('/').to_string()
}

/// A fresh connection to `host` upgraded to a link (nothing sent on it yet).
async fn upgraded(host: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(host).await.expect("connect");
    link::upgrade(&mut tcp, host).await.expect("the node answers the upgrade with 101");
    tcp
}

/// Whether the node closes `tcp` (EOF or reset) within a few seconds, reading past whatever it
/// may still send.
async fn closed_by_node(tcp: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    let wait = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.unwrap_or(false)
}

fn message(pubkey: &str, data: &[u8]) -> StoredMessage {
    let pubkey = Pubkey::parse(pubkey).unwrap();
    let hash = snkit::rpc::message_hash(&pubkey, NS, data);
    let now = now_ms();
    StoredMessage {
        pubkey,
        namespace: NS,
        hash,
        timestamp_ms: now,
        expiry_ms: now + 3_600_000,
        data: data.to_vec(),
    }
}

async fn send(tcp: &mut TcpStream, s: &mut Session, payload: &[u8]) {
    link::send_sealed(tcp, &mut s.send, payload).await.unwrap();
    tcp.flush().await.unwrap();
}

async fn answer(tcp: &mut TcpStream, s: &mut Session) -> (u64, Answer) {
    let frame = tokio::time::timeout(Duration::from_secs(10), link::recv_sealed(tcp, &mut s.recv))
        .await
        .expect("an answer in time")
        .expect("a frame that opens");
    link::decode_answer(&frame).expect("a well-formed answer")
}

fn healthy(url: &str) -> bool {
    http().get(format!("{url}/snode/v1/health")).send().is_ok_and(|r| r.status().is_success())
}

#[test]
fn link_endpoint_survives_a_barrage_and_stores_only_what_an_authenticated_peer_sends() {
    let tn = Testnet::up(2);
    let nodes = tn.nodes();
    assert_eq!(nodes[0]["swarm_id"], nodes[1]["swarm_id"], "two nodes make one swarm");
    let (url, host) = (tn.url(0), host_of(&tn.url(0)));
    let target: [u8; 32] = hex::decode(tn.ed25519(0)).unwrap().try_into().unwrap();
    let peer_dir = tn.state()["nodes"][1]["data_dir"].as_str().unwrap().to_string();
    let peer_keys = NodeKeys::load(&std::path::Path::new(&peer_dir).join("key.json")).expect("node 1's keys");
    let pk = format!("05{}", hex::encode(rand::random::<[u8; 32]>()));
    let stored = || retrieve_hashes(&url, &pk, NS).expect("retrieve from node 0");

    // Without the upgrade the endpoint is a plain 400.
    let plain = http().get(format!("{url}{}", link::PATH_LINK)).send().unwrap();
    assert_eq!(plain.status().as_u16(), 400);

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (want, refused) = rt.block_on(async {
        // Garbage where the hello should be, a hello of the wrong size, an oversized length.
        for bytes in [
            rand::random::<[u8; 32]>().to_vec(),
            [&[0u8, 0, 0, 10][..], &[7u8; 10]].concat(),
            vec![0xff; 4],
            [&[0u8, 0, 0, 97][..], &[9u8; 97]].concat(),
        ] {
            let mut tcp = upgraded(&host).await;
            tcp.write_all(&bytes).await.unwrap();
            assert!(closed_by_node(&mut tcp).await, "garbage hello {:?}… is refused", &bytes[..4]);
        }

        // A well-formed handshake from a key the registry does not hold.
        let mut tcp = upgraded(&host).await;
        let stranger = link::initiate(&mut tcp, &NodeKeys::generate(), &target).await;
        assert!(stranger.is_err(), "an unregistered node gets no link");

        // A registered node dialling for another node's key (as if the address changed hands).
        let mut tcp = upgraded(&host).await;
        let wrong = link::initiate(&mut tcp, &peer_keys, &peer_keys.ed25519_public()).await;
        assert!(wrong.is_err(), "a link meant for another node is refused");

        // A registered node's key without its secret: the final signature is forged, and a
        // batch sent after it is never read.
        let mut tcp = upgraded(&host).await;
        let eph = rand::random::<[u8; 32]>();
        let hello = [&[1u8][..], &peer_keys.ed25519_public(), &eph, &target].concat();
        link::write_frame(&mut tcp, &hello).await.unwrap();
        let reply = link::read_frame(&mut tcp, 1024).await.expect("the node answers a registered hello");
        assert_eq!(reply.len(), 96);
        link::write_frame(&mut tcp, &[0x42; 64]).await.unwrap();
        let forged = message(&pk, b"forged after a bad handshake signature");
        let _ = link::write_frame(&mut tcp, &link::encode_replicate(1, &[&forged])).await;
        assert!(closed_by_node(&mut tcp).await, "a forged handshake signature ends the link");

        // An authenticated peer whose frame was altered on the way: the link ends, nothing stored.
        let mut tcp = upgraded(&host).await;
        let mut session = link::initiate(&mut tcp, &peer_keys, &target).await.expect("node 1 authenticates");
        let mangled = message(&pk, b"altered in flight");
        let mut sealed = session.send.seal(&link::encode_replicate(1, &[&mangled])).unwrap();
        sealed[20] ^= 0x01;
        link::write_frame(&mut tcp, &sealed).await.unwrap();
        assert!(closed_by_node(&mut tcp).await, "a frame that does not decrypt ends the link");

        // Over a good link: malformed batches are refused by id and the link stays up; then a
        // good batch is stored and answered with node 0's signature over each hash.
        let mut tcp = upgraded(&host).await;
        let mut session = link::initiate(&mut tcp, &peer_keys, &target).await.expect("node 1 authenticates");
        assert_eq!(session.peer, target);
        let good = message(&pk, b"replicated over an authenticated link");
        let mut truncated = link::encode_replicate(5, &[&good]);
        truncated.truncate(truncated.len() - 3);
        let mut count_zero = link::encode_replicate(6, &[&good]);
        count_zero[9..13].copy_from_slice(&0u32.to_be_bytes());
        let mut unknown_kind = link::encode_replicate(7, &[&good]);
        unknown_kind[8] = 0x7f;
        for (id, bad) in
            [(5u64, truncated), (6, count_zero), (7, unknown_kind), (8, 8u64.to_be_bytes().to_vec())]
        {
            send(&mut tcp, &mut session, &bad).await;
            match answer(&mut tcp, &mut session).await {
                (got, Answer::Refused(400, _)) => assert_eq!(got, id),
                other => panic!("malformed batch {id} got {other:?}"),
            }
        }
        let other = message(&pk, b"a second message in the same batch");
        send(&mut tcp, &mut session, &link::encode_replicate(9, &[&good, &other])).await;
        let (id, entries) = match answer(&mut tcp, &mut session).await {
            (id, Answer::Stored(entries)) => (id, entries),
            other => panic!("good batch got {other:?}"),
        };
        assert_eq!((id, entries.len()), (9, 2));
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&target).unwrap();
        for (entry, m) in entries.iter().zip([&good, &other]) {
            assert!(!entry.already);
            assert_eq!(entry.expiry, m.expiry_ms);
            let sig = ed25519_dalek::Signature::from_bytes(&entry.signature);
            vk.verify_strict(m.hash.as_bytes(), &sig).expect("node 0 signed the hash");
        }
        // Sent again: already stored, still signed.
        send(&mut tcp, &mut session, &link::encode_replicate(10, &[&good])).await;
        assert!(matches!(answer(&mut tcp, &mut session).await, (10, Answer::Stored(e)) if e[0].already));

        let want: std::collections::BTreeSet<String> = [good.hash.clone(), other.hash.clone()].into();
        (want, [forged, mangled])
    });
    // (The blocking HTTP client runs outside the async block.)
    assert_eq!(stored(), want, "exactly the authenticated batch was stored, not {refused:?}");

    // The node is still up and its swarm still replicates over its own links.
    assert!(healthy(&url));
    let now = now_ms();
    let (status, body) = rpc(
        &url,
        "store",
        json!({"pubkey": pk, "timestamp": now, "ttl": 600_000,
        "namespace": NS, "data": STANDARD.encode(b"a client store after the barrage")}),
    );
    assert_eq!(status, 200, "{body}");
    let swarm = body["swarm"].as_object().unwrap();
    assert_eq!(swarm.len(), 2);
    assert!(swarm.values().all(|v| v.get("failed").is_none() && v["signature"].is_string()), "{body}");
    assert_eq!(retrieve_hashes(&url, &pk, NS).unwrap().len(), 3, "node 0: the link's batch and the store");
    assert_eq!(retrieve_hashes(&tn.url(1), &pk, NS).unwrap().len(), 1, "node 1: the store, replicated");
}
