//! Every limit of the toolkit, named, in one place. Each constant says where its value comes
//! from (a spec section or a measured choice). Sections are kept apart so that each area's
//! constants stay together.

// ---- identity and mnemonic -------------------------------------------------------------------

/// Longest recovery phrase `mnemonic decode` reads (25 words need ~250 bytes; this leaves room for
/// generous whitespace and refuses junk before any word lookup).
pub const MNEMONIC_MAX_PHRASE_BYTES: usize = 4096;
/// How many closest valid words an "unknown word" error suggests.
pub const MNEMONIC_SUGGESTIONS: usize = 3;
/// Words longer than this get no suggestions (edit distance against the whole list is skipped).
pub const MNEMONIC_MAX_SUGGESTION_WORD_CHARS: usize = 32;
/// Largest seed input `keygen --seed -`/`--seed-file` and `mnemonic encode` read (a JSON object
/// from `keygen` or `mnemonic decode` is a few hundred bytes).
pub const SEED_INPUT_MAX_BYTES: usize = 64 * 1024;

// ---- swarms and registry ---------------------------------------------------------------------

/// Smallest size a swarm may have once the network has at least this many nodes (swarms.md, Nmin;
/// oxen-core MIN_SWARM_SIZE).
pub const SWARM_MIN_SIZE: usize = 5;
/// Size of a newly formed swarm and the floor a donor keeps when a starving swarm steals from it
/// (swarms.md, Ntarget; oxen-core IDEAL_SWARM_SIZE = NEW_SWARM_SIZE).
pub const SWARM_TARGET_SIZE: usize = 7;
/// Largest size a swarm may have while the network can still form a new swarm (swarms.md, Nmax;
/// defined but unused by oxen-core, enforced by snkit).
pub const SWARM_MAX_SIZE: usize = 10;
/// Percentile of swarm sizes a joining node is placed under (oxen-core FILL_SWARM_LOWER_PERCENTILE).
pub const SWARM_FILL_PERCENTILE: usize = 25;
/// Percentile used when the nodes of a dissolved swarm are placed again: the smallest swarms
/// (oxen-core DECOMMISSIONED_REDISTRIBUTION_LOWER_PERCENTILE).
pub const SWARM_REDISTRIBUTE_PERCENTILE: usize = 0;
/// Largest node list or registry file read from disk, stdin or HTTP (a 10,000-node list is ~3 MB).
pub const NODE_LIST_MAX_BYTES: u64 = 32 * 1024 * 1024;
/// Most events a registry may hold (joins and leaves); each replays through the assignment engine.
pub const REGISTRY_MAX_EVENTS: usize = 1_000_000;
/// Timeout of one HTTP request for a node list, a registry or a `get_swarm` (connect + reply).
pub const NODE_LIST_HTTP_TIMEOUT_MS: u64 = 10_000;

// ---- storage RPC and node --------------------------------------------------------------------

// store + rpc (owner: store). Values marked "live" are the Session network's (storage-rpc.md).

/// Largest HTTP/RPC request body a node accepts (live: 10 MiB).
pub const RPC_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Largest decoded message `data` (live: 76,800 bytes).
pub const MAX_MESSAGE_BYTES: usize = 76_800;
/// Largest base64 `data` string in JSON (live: 76,800 / 3 * 4 = 102,400 characters).
pub const MAX_MESSAGE_BASE64_CHARS: usize = MAX_MESSAGE_BYTES / 3 * 4;
/// Shortest TTL a store may ask for, in ms (live: 10 s).
pub const TTL_MIN_MS: u64 = 10_000;
/// Longest TTL in public-inbox namespaces (divisible by 10), in ms (live: 14 days).
pub const TTL_MAX_PUBLIC_MS: u64 = 14 * 24 * 3600 * 1000;
/// Longest TTL in every other namespace, in ms (live since HF19.3: 30 days).
pub const TTL_MAX_PRIVATE_MS: u64 = 30 * 24 * 3600 * 1000;
/// How far in the future a store `timestamp`, or in the past its `expiry`, may be (live: 10 s).
pub const STORE_CLOCK_TOLERANCE_MS: u64 = 10_000;
/// Window around now for a request signature's timestamp (live: ±60 s).
pub const SIGNATURE_CLOCK_TOLERANCE_MS: u64 = 60_000;
/// Window for requests forwarded within a swarm (live: ±70 s).
pub const SIGNATURE_CLOCK_TOLERANCE_FORWARDED_MS: u64 = 70_000;
/// Timestamps below this are taken to be seconds, not ms, and refused (live: 1,000,000 s).
pub const MIN_TIMESTAMP_MS: u64 = 1_000_000_000;
/// Bytes a retrieve reply may carry (live RETRIEVE_MAX_SIZE: 10 MiB less base64 and framing).
pub const RETRIEVE_MAX_SIZE: u64 = 7_800_000;
/// Without max_count/max_size a retrieve gets 1/RETRIEVE_DEFAULT_SIZE_DIVISOR of the maximum (live: 5).
pub const RETRIEVE_DEFAULT_SIZE_DIVISOR: u64 = 5;
/// Bytes counted per retrieved message on top of its hash and base64 data (snkit: JSON framing).
pub const RETRIEVE_PER_MESSAGE_OVERHEAD: u64 = 100;
/// Most messages one retrieve returns, whatever max_count says (snkit safety bound; the size
/// bound is the live one and usually binds first).
pub const RETRIEVE_MAX_COUNT: usize = 10_000;
/// Most subrequests in one `batch` / `sequence` (live `BATCH_REQUEST_MAX`).
pub const BATCH_REQUEST_MAX: usize = 20;
/// Most hashes in one `delete` request (snkit bound; the body cap allows ~200,000).
pub const DELETE_MAX_HASHES: usize = 10_000;
/// Length of a message hash: unpadded base64 of 32 bytes.
pub const MESSAGE_HASH_CHARS: usize = 43;
/// Longest hash the store accepts (it stores what replication hands it; rpc checks 43).
pub const STORE_HASH_MAX_CHARS: usize = 64;
/// Longest proof-of-work nonce string accepted in a store (base64 of 8 bytes is 12).
pub const MAX_NONCE_CHARS: usize = 24;
/// Jobs waiting for the store's writer thread before async callers get "busy" (blocking
/// callers wait).
pub const STORE_WRITE_QUEUE: usize = 8_192;
/// Most jobs the writer commits in one transaction (group commit).
pub const STORE_GROUP_COMMIT_MAX: usize = 1_024;
/// Longest the writer waits for the rest of a batch under load, in µs (measured: see
/// docs/storage.md).
pub const STORE_GROUP_COMMIT_WAIT_US: u64 = 1_000;
/// Most messages in one `insert_many` (all-or-nothing) call.
pub const STORE_INSERT_MANY_MAX: usize = 10_000;
/// How often the store's checkpoint thread folds the WAL into the database, in ms.
pub const STORE_CHECKPOINT_INTERVAL_MS: u64 = 200;
/// WAL pages after which the writer checkpoints itself (backstop if the checkpoint thread lags;
/// 10,000 pages of 4 KiB = 40 MiB).
pub const STORE_WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;
/// SQLite's own default auto-checkpoint (pages): what `snode` uses under `SNKIT_NO_CKPT`, to
/// measure the store with the checkpoints back on the commit path.
pub const SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES: i64 = 1_000;
/// Read-only SQLite connections kept for retrieves.
pub const STORE_READ_POOL: usize = 4;
/// Rows deleted per writer job when expiring, so inserts interleave with a large sweep.
pub const STORE_EXPIRE_CHUNK: usize = 5_000;
/// How long a connection waits on a SQLite lock before failing, in ms.
pub const STORE_BUSY_TIMEOUT_MS: u64 = 10_000;

// ---- node: snode, replication, testnet ------------------------------------------------------

/// Clock window for node-to-node request signatures (storage-rpc.md: ±70 s within the swarm).
pub const NODE_AUTH_CLOCK_WINDOW_MS: u64 = 70_000;
/// How long the entry node waits for a swarm peer to store a replicated message
/// (storage-rpc.md §3 Replication: 5 s).
pub const NODE_REPLICATION_TIMEOUT_MS: u64 = 5_000;
/// How long a replication batch may take to reach a slow peer (the client's reply does not wait
/// that long, but the message still gets there).
pub const NODE_REPLICATION_DELIVERY_TIMEOUT_MS: u64 = 30_000;
/// Most messages in one replication or bulk-push batch (all-or-nothing per batch).
pub const NODE_PUSH_BATCH_MAX_MESSAGES: usize = 256;
/// Most bytes of message data in one bulk-push batch.
pub const NODE_PUSH_BATCH_MAX_BYTES: usize = 4 * 1024 * 1024;
/// Idle HTTP connections kept per peer for the signed requests (pushes, syncs, forwarded
/// requests; replication has its own link, see `NODE_LINK_*`).
pub const NODE_REPLICATION_INFLIGHT_PER_PEER: usize = 1;
/// Interval at which messages a peer failed to take (timeout, unreachable, 5xx) are pushed to it
/// again, so a transient overload does not leave a replica missing until the next swarm change.
pub const NODE_REPLICATION_RETRY_MS: u64 = 2_000;
/// Most messages kept for redelivery to one peer (the oldest are dropped first, with a warning:
/// a peer gone that long catches up by its own sync when it rejoins).
pub const NODE_REPLICATION_RETRY_MAX_MESSAGES: usize = 20_000;
/// Largest frame on a peer link (docs/node-protocol.md, "Peer links"): a full batch
/// ([`NODE_PUSH_BATCH_MAX_BYTES`] plus the one message that crossed it) and its headers.
pub const NODE_LINK_FRAME_MAX_BYTES: usize = NODE_PUSH_BATCH_MAX_BYTES + RPC_MAX_BODY_BYTES + 64 * 1024;
/// Largest handshake message on a peer link (they are 97, 96 and 64 bytes): what an
/// unauthenticated connection can make a node read.
pub const NODE_LINK_HANDSHAKE_MAX_BYTES: usize = 256;
/// Longest answer head to a link's upgrade request.
pub const NODE_LINK_UPGRADE_HEAD_MAX_BYTES: usize = 4_096;
/// How long opening a link (TCP, TLS, upgrade, handshake) may take, either side.
pub const NODE_LINK_HANDSHAKE_TIMEOUT_MS: u64 = 5_000;
/// Batches in flight on one link, unanswered (more queue up and form the next batch).
pub const NODE_LINK_INFLIGHT_BATCHES: usize = 4;
/// Batches one link's receiver works on at once; it reads no further frames meanwhile, so a
/// busy receiver slows its sender through TCP instead of buffering without bound.
pub const NODE_LINK_RECEIVER_INFLIGHT: usize = 8;
/// Messages queued for one peer, not yet sent: a client store waits for room (back-pressure),
/// within its replication timeout.
pub const NODE_LINK_QUEUE_MESSAGES: usize = 4_096;
/// First wait before a failed link is dialled again; doubled after each failure.
pub const NODE_LINK_BACKOFF_MIN_MS: u64 = 100;
/// Longest wait between two attempts to open a link (a restarted peer is back within it).
pub const NODE_LINK_BACKOFF_MAX_MS: u64 = 500;
/// How many times a forwarded request (delete_all, expire, …) a swarm peer missed is sent again,
/// [`NODE_REPLICATION_RETRY_MS`] apart (an hour), before it is given up.
pub const NODE_FORWARD_REDELIVERY_ATTEMPTS: u32 = 1_800;
/// Default interval between two registry polls.
pub const NODE_REGISTRY_POLL_MS: u64 = 500;
/// Interval of the expiry sweeper (messages are gone within this long after their expiry).
pub const NODE_SWEEP_INTERVAL_MS: u64 = 1_000;
/// Most pubkeys whose records one handoff round reads and pushes.
pub const NODE_HANDOFF_ROUND_PUBKEYS: usize = 512;
/// Message bytes after which a handoff round stops reading more pubkeys (bounds the memory of
/// handing on a large store; one pubkey's records are always read whole).
pub const NODE_HANDOFF_ROUND_BYTES: usize = 16 * 1024 * 1024;
/// Interval at which records that are not this node's are handed on again after a failure.
pub const NODE_RECONCILE_RETRY_MS: u64 = 2_000;
/// Swarm peers a node asks for a full sync when it starts in its swarm (a restart): what it
/// missed while down also comes back by its peers' redelivery, so asking every peer only made
/// the swarm push each record several times over while the load ran. Two, so that one peer
/// that was down too does not leave a gap. A node that moved to another swarm asks them all.
pub const NODE_START_SYNC_PEERS: usize = 2;
/// Onion relay timeout (onion.md: 30 s).
pub const NODE_ONION_RELAY_TIMEOUT_MS: u64 = 30_000;
/// How long `snode --tls` waits for a client's TLS handshake before dropping the connection.
pub const NODE_TLS_HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
/// How long `snode --tls` lets open connections finish at shutdown.
pub const NODE_TLS_DRAIN_MS: u64 = 2_000;
/// Timeout of a final hop's request to an HTTP server (onion.md "Relay to an HTTP server": 25 s).
pub const NODE_ONION_HOST_TIMEOUT_MS: u64 = 25_000;
/// Highest hop number an onion request may reach before it is refused (onion.md: above 15 → 400).
pub const NODE_ONION_MAX_HOP: u64 = 15;
/// Time `testnet` waits for its nodes to be healthy and agree on the swarm map.
pub const TESTNET_READY_TIMEOUT_MS: u64 = 60_000;
/// Time `testnet` waits for a node to exit after SIGTERM before it sends SIGKILL.
pub const TESTNET_STOP_TIMEOUT_MS: u64 = 10_000;
/// Timeout of one `GET /health` of `testnet`'s readiness polls (a node on loopback answers in ms;
/// a slow one is polled again).
pub const TESTNET_HEALTH_TIMEOUT_MS: u64 = 2_000;
/// Most nodes one `testnet up`/`add` starts.
pub const TESTNET_MAX_NODES: usize = 500;

// ---- proof of work ---------------------------------------------------------------------------

/// Largest decoded message data in an envelope (storage-rpc.md "store": 76,800 bytes).
pub const ENVELOPE_MAX_DATA_BYTES: usize = 76_800;
/// Largest base64 form of the envelope data (storage-rpc.md: 102,400 characters).
pub const ENVELOPE_MAX_DATA_B64_LEN: usize = 102_400;
/// Length of the proof-of-work nonce (pow.md §4: 8 bytes).
pub const POW_NONCE_LEN: usize = 8;
/// Length of the nonce in base64 (pow.md §4: 12 characters).
pub const POW_NONCE_B64_LEN: usize = 12;
/// How many trials a solver thread runs between progress reports and cancellation checks
/// (a measured choice: about a millisecond of work, so Ctrl-C and progress feel immediate).
pub const POW_TRIALS_PER_BATCH: u64 = 4096;
/// Most solver threads `pow solve --threads` accepts (a sanity bound, not a tuning).
pub const POW_MAX_THREADS: usize = 1024;
/// Most expected trials (2^64 / target) `pow solve` takes on: 2^36 is about two hours on this
/// project's 2-core machine (~4.4 M trials/s per core, docs/pow.md). Beyond it a difficulty is
/// refused up front as infeasible rather than left to spin for days.
pub const POW_MAX_EXPECTED_TRIALS: u64 = 1 << 36;
/// Most expected trials `send` spends on a difficulty the network asks for: 2^30 is about two
/// minutes on 2 cores, ~1,700× the work of the live network's old difficulty 100 on a 1 KB,
/// 4-day message. A node asking for more is refused, so a hostile node cannot make `send` hang.
pub const POW_SEND_MAX_EXPECTED_TRIALS: u64 = 1 << 30;

// ---- onion requests --------------------------------------------------------------------------

/// Largest onion request body a node accepts on /onion_req/v2, and a server on /oxen/v4/lsrpc
/// (libsession `onionreq/parser.hpp` DEFAULT_MAX_SIZE, 10 MiB: a file server upload of the
/// apps' largest blob, 10,223,616 bytes, wrapped in three layers and the v4 layer, fits).
pub const ONION_MAX_BODY: usize = 10 * 1024 * 1024;
/// Largest JSON part of one onion frame (snkit's choice: the routing JSON is ~200 bytes; a final
/// layer's control JSON may carry headers).
pub const ONION_MAX_JSON: usize = 16 * 1024;
/// Highest hop number a node relays (onion.md "Snode to snode": above 15 → 400).
pub const ONION_MAX_HOP_NO: u64 = 15;
/// Largest reply body the final node encrypts, and a client decrypts (snkit's choice: a retrieve
/// reply of the most messages at the most bytes, base64, fits).
pub const ONION_MAX_REPLY: usize = 16 * 1024 * 1024;
/// Largest answer a node passes back down the path from the next hop or an HTTP server: the
/// base64 of the largest encrypted reply, with room for framing. A longer answer is cut off and
/// reported as a 502, so a hostile peer cannot make a relay buffer without bound.
pub const ONION_MAX_RELAYED_REPLY: usize = ONION_MAX_REPLY / 3 * 4 + 64 * 1024;
/// How long a node remembers a layer's ephemeral key to refuse a replay (snkit's choice: longer
/// than any client retry; the storage RPC's own ±60 s clock window covers the final request).
pub const ONION_REPLAY_WINDOW_SECS: u64 = 10 * 60;
/// Most ephemeral keys a node remembers at once (about 5 MB); the oldest are forgotten first.
pub const ONION_REPLAY_CAPACITY: usize = 100_000;
/// Hops in a client's onion path (onion.md: 3 hops).
pub const ONION_PATH_LEN: usize = 3;
/// Most hops `onion::build` wraps (the hop limit bounds any longer path anyway).
pub const ONION_MAX_PATH_LEN: usize = 15;

// ---- client (send / retrieve) ----------------------------------------------------------------

/// Largest message a client sends: the store RPC's 76,800 decoded bytes (storage-rpc.md "store").
pub const CLIENT_MAX_MESSAGE_BYTES: usize = 76_800;
/// Default TTL of a sent message: one day (the live apps use 14 days for DMs; a day keeps test
/// networks small). Any value in the public-inbox range below is accepted.
pub const CLIENT_DEFAULT_TTL_MS: u64 = 24 * 60 * 60 * 1000;
/// Shortest TTL a public inbox accepts (storage-rpc.md "Limits": 10 s).
pub const CLIENT_MIN_TTL_MS: u64 = 10 * 1000;
/// Longest TTL a public inbox accepts (storage-rpc.md "Limits": 14 days).
pub const CLIENT_MAX_TTL_MS: u64 = 14 * 24 * 60 * 60 * 1000;
/// How many distinct swarm members a message is stored on directly (the seed design: 3).
pub const CLIENT_STORE_COPIES: usize = 3;
/// How many swarm members a retrieve asks (the seed design: 3).
pub const CLIENT_RETRIEVE_NODES: usize = 3;
/// Onion path length: guard, middle, exit; the target snode comes after them.
pub const CLIENT_PATH_HOPS: usize = 3;
/// Fresh paths tried for one target before the target itself counts as failed.
pub const CLIENT_PATH_ATTEMPTS: usize = 3;
/// How many times a 421 (wrong swarm) answer may redirect one operation.
pub const CLIENT_MAX_REDIRECTS: usize = 2;
/// TCP connect timeout of every client HTTP call (loopback or LAN: a live node answers in ms).
pub const CLIENT_CONNECT_TIMEOUT_MS: u64 = 3_000;
/// Read/write timeout of every client HTTP call, and the overall cap of one call. An onion
/// request crosses four nodes, each allowed a few seconds by the node's own relay timeout.
pub const CLIENT_REQUEST_TIMEOUT_MS: u64 = 15_000;
/// Largest HTTP reply body a client reads (the RPC's 10 MiB body cap, storage-rpc.md §3).
pub const CLIENT_MAX_REPLY_BYTES: u64 = 10 * 1024 * 1024;
/// Idle keep-alive connections a client keeps per node (a `send` reuses its guards' connections).
pub const CLIENT_POOL_IDLE_PER_HOST: usize = 16;
/// Pages of one node's retrieve answer read in one poll (each page is bounded by the node).
pub const CLIENT_RETRIEVE_MAX_PAGES: usize = 50;
/// `retrieve --follow` polling interval.
pub const CLIENT_FOLLOW_INTERVAL_MS: u64 = 1_000;
/// Hashes of already printed messages remembered per identity (on top of expiry pruning), so a
/// node that forgot a last hash cannot make `retrieve` print a message twice.
pub const CLIENT_SEEN_HASHES_MAX: usize = 20_000;
/// Bootstrap node lists larger than this are refused (a node list is a few hundred entries).
pub const CLIENT_MAX_NODES: usize = 10_000;

// ---- ratchet ---------------------------------------------------------------------------------

/// Most message keys one chain may be advanced by a single message (spec ratchet.md, "Limits").
pub const MAX_SKIP: u32 = 2000;
/// Most skipped message keys stored per session; the oldest is evicted first (ratchet.md).
pub const MAX_SKIPPED_KEYS: usize = 2000;
/// Most old receiving chains kept besides the current one (ratchet.md).
pub const MAX_OLD_RECEIVING_CHAINS: usize = 5;
/// Most records of forgotten keys (evicted skipped keys, dropped chains) kept per session, so
/// that a late message gets "evicted key" rather than a misleading error (snkit's choice).
pub const MAX_FORGOTTEN_RECORDS: usize = 256;
/// Most unacknowledged runs whose last message key a session keeps for redelivery after a
/// kill (at-least-once delivery of `ratchet decrypt`; docs/ratchet.md).
pub const MAX_UNACKED_RUNS: usize = 8;
/// Age after which `ratchet bundle` makes a new signed prekey: 7 days (snkit's choice, as Signal).
pub const SPK_ROTATION_SECS: u64 = 7 * 24 * 3600;
/// Previous signed prekeys kept for late first messages (snkit's choice).
pub const MAX_OLD_SPKS: usize = 3;
/// Most one-time prekeys kept in a state directory; the oldest are discarded first.
pub const MAX_STORED_OPKS: usize = 1000;
/// Most one-time prekeys `ratchet bundle --opks N` makes at once.
pub const MAX_OPKS_PER_BUNDLE: usize = 100;
/// One-time prekeys `ratchet bundle` makes when `--opks` is not given.
pub const DEFAULT_BUNDLE_OPKS: usize = 10;
/// One-time prekeys a friend request's own bundle carries when no bundle is named.
pub const REQUEST_BUNDLE_OPKS: usize = 1;
/// Longest display name in a friend request, in bytes.
pub const MAX_REQUEST_NAME_BYTES: usize = 100;
/// Longest introduction text in a friend request, in bytes.
pub const MAX_REQUEST_TEXT_BYTES: usize = 2000;
/// Longest plaintext `ratchet encrypt` takes: well within a stored message after base64+JSON.
pub const MAX_PLAINTEXT_BYTES: usize = 48 * 1024;
/// Longest wire message or friend request line the ratchet parses.
pub const MAX_WIRE_BYTES: usize = 256 * 1024;

// ---- session protocol (1-1 messages of the live apps) ---------------------------------------

/// Largest wrapped 1-1 message (the `WebSocketMessage` bytes) built or read, and the largest
/// protobuf decoded: the decoded `data` of a store request (storage-rpc.md "store": 76,800 bytes).
pub const SESSION_MAX_MESSAGE_BYTES: usize = 76_800;
/// Largest 1-1 ciphertext sealed or opened (it travels inside the message above).
pub const SESSION_MAX_CIPHERTEXT_BYTES: usize = SESSION_MAX_MESSAGE_BYTES;
/// What sealing adds to the signed plaintext (session-protocol.md §4: eph_pk 32 + tag 16 + Ed25519
/// key 32 + signature 64 = 144 bytes); a shorter ciphertext is refused.
pub const SESSION_CIPHERTEXT_OVERHEAD: usize = 144;
/// Largest padded `Content` signed and sealed.
pub const SESSION_MAX_PLAINTEXT_BYTES: usize = SESSION_MAX_CIPHERTEXT_BYTES - SESSION_CIPHERTEXT_OVERHEAD;
/// Largest `Content` padded (snkit's choice: padded either way, sealed and wrapped, it still fits
/// a store request).
pub const SESSION_MAX_CONTENT_BYTES: usize = 76_000;

// ---- attachments (attachments.md) -----------------------------------------------------------

/// Plaintext bytes per secretstream message of the 'S' format (libsession ENCRYPT_CHUNK_SIZE).
pub const ATTACHMENT_CHUNK_BYTES: usize = 32_768;
/// What each secretstream message adds: a 1-byte tag and a 16-byte MAC (libsodium ABYTES).
pub const ATTACHMENT_CHUNK_OVERHEAD: usize = 17;
/// Size of every 'S' message but the last (32,785 bytes).
pub const ATTACHMENT_ENCRYPTED_CHUNK_BYTES: usize = ATTACHMENT_CHUNK_BYTES + ATTACHMENT_CHUNK_OVERHEAD;
/// The secretstream header that follows the 'S' byte (libsodium HEADERBYTES).
pub const ATTACHMENT_HEADER_BYTES: usize = 24;
/// The 'S' format's key, the 32 bytes `AttachmentPointer.key` carries (libsodium KEYBYTES).
pub const ATTACHMENT_KEY_BYTES: usize = 32;
/// Bytes of the uploader's Ed25519 seed that enter the deterministic key (a 64-byte libsodium
/// secret key works too: only its first 32 bytes are used).
pub const ATTACHMENT_SEED_BYTES: usize = 32;
/// Below this raw size the padding factor stays at 131,072 / 32 = 4,096 bytes (attachments.md §1).
pub const ATTACHMENT_PADDING_FLOOR_BYTES: u64 = 131_072;
/// The padding factor is bit_floor(raw) >> 5, i.e. 1/32 of the largest power of two below it.
pub const ATTACHMENT_PADDING_FACTOR_SHIFT: u32 = 5;
/// Largest plaintext the 'S' format encrypts without the explicit "large" flag: it encrypts to
/// 10,223,616 bytes, the same as a 10,000,000-byte file (libsession MAX_REGULAR_SIZE).
pub const ATTACHMENT_MAX_REGULAR_BYTES: u64 = 10_218_286;
/// Smallest padded size of a legacy (AES-CBC) attachment: every file under 541 bytes is padded to it.
pub const LEGACY_MIN_PADDED_BYTES: u64 = 541;
/// Each legacy padded size is the next power of 1.05 (Signal's padding buckets).
pub const LEGACY_PADDING_BASE: f64 = 1.05;
/// iOS caps the legacy padded size at 10,000,000 bytes (a larger file stays unpadded).
pub const LEGACY_MAX_PADDED_BYTES: u64 = 10_000_000;
/// AES-256 key of a legacy attachment (first half of `AttachmentPointer.key`).
pub const LEGACY_AES_KEY_BYTES: usize = 32;
/// HMAC-SHA256 key of a legacy attachment (second half of `AttachmentPointer.key`).
pub const LEGACY_MAC_KEY_BYTES: usize = 32;
/// The legacy `AttachmentPointer.key`: AES key ‖ HMAC key.
pub const LEGACY_KEY_BYTES: usize = LEGACY_AES_KEY_BYTES + LEGACY_MAC_KEY_BYTES;
/// The CBC IV that opens a legacy blob.
pub const LEGACY_IV_BYTES: usize = 16;
/// AES block size: the CBC ciphertext is a whole number of these.
pub const LEGACY_BLOCK_BYTES: usize = 16;
/// The HMAC-SHA256 that closes a legacy blob.
pub const LEGACY_MAC_BYTES: usize = 32;
/// `AttachmentPointer.digest`: SHA-256 of the whole legacy blob.
pub const LEGACY_DIGEST_BYTES: usize = 32;
/// Shortest legacy blob: IV, one CBC block (PKCS7 always adds one), MAC.
pub const LEGACY_MIN_BLOB_BYTES: u64 = (LEGACY_IV_BYTES + LEGACY_BLOCK_BYTES + LEGACY_MAC_BYTES) as u64;
/// Profile key of an old (AES-256-GCM) profile picture.
pub const PROFILE_KEY_BYTES: usize = 32;
/// Random nonce that opens an AES-GCM profile picture.
pub const PROFILE_NONCE_BYTES: usize = 12;
/// GCM tag that closes it.
pub const PROFILE_TAG_BYTES: usize = 16;
/// A GCM profile blob under 29 bytes (nonce + tag + at least one byte) is refused (attachments.md §3).
pub const PROFILE_MIN_BLOB_BYTES: usize = PROFILE_NONCE_BYTES + PROFILE_TAG_BYTES + 1;
/// Largest GCM profile picture encrypted or decrypted, in memory since GCM cannot stream (snkit's
/// choice: the apps' upload cap, 10,000,000 bytes of ciphertext).
pub const PROFILE_MAX_BLOB_BYTES: usize = 10_000_000;

// ---- the file server (attachments.md §5, docs/fileserver.md) -----------------------------

/// Largest upload the file server keeps; one byte more is 413. The encrypted size of a
/// 10,000,000-byte file in the 'S' format (the apps' cap), and the QUIC file server's default
/// `--max-size`; the Python server's 6,000,000 would refuse uploads the apps make.
pub const FILESERVER_MAX_FILE_BYTES: u64 = 10_223_616;
/// Lifetime of an upload without `X-FS-TTL`, and what extend grants without one: 14 days
/// (attachments.md, the QUIC server's default; the older Python config said 3 weeks).
pub const FILESERVER_DEFAULT_TTL_S: u64 = 14 * 24 * 60 * 60;
/// Largest `X-FS-TTL` accepted (a larger one is 400, not clamped). The live value is not public;
/// the QUIC server's `--ttl` is both its default and its maximum, so the same 14 days.
pub const FILESERVER_MAX_TTL_S: u64 = FILESERVER_DEFAULT_TTL_S;
/// How often the cleaner removes expired files (the Python server's timer: 5 s). Expiry itself
/// is checked at read time, so this only bounds how long expired bytes stay on disk.
pub const FILESERVER_CLEAN_INTERVAL_MS: u64 = 5_000;
/// Compat ids are random integers below 2^53: old clients parse the id as a double.
pub const FILESERVER_COMPAT_ID_BITS: u32 = 53;
/// Fresh compat ids tried before an upload gives up with 507 (the Python server's 25).
pub const FILESERVER_COMPAT_ID_ATTEMPTS: usize = 25;
/// Bytes of BLAKE2b output a hash id is made of (33 bytes = 44 base64 characters, no padding).
pub const FILESERVER_HASH_ID_BYTES: usize = 33;
/// Length of a hash id; extend refuses anything shorter (a numeric compat id may be reissued).
pub const FILESERVER_HASH_ID_CHARS: usize = 44;
/// An upload whose body sends nothing for this long is dropped (its temporary file removed), so
/// a stalled client cannot hold a temporary file and a connection forever.
pub const FILESERVER_UPLOAD_IDLE_TIMEOUT_MS: u64 = 30_000;
/// Bytes read from disk per chunk of a streamed download.
pub const FILESERVER_READ_CHUNK_BYTES: usize = 64 * 1024;

// ---- reachability testing (formats/reachability.rs, docs/faults.md) ---------------------------

/// Nodes that test each node in each period (fewer when the network has fewer other active nodes).
pub const REACH_TESTERS_PER_NODE: usize = 3;
/// Distinct testers that must agree before a period counts as down (or up) for a node: a single
/// lying tester can never reach it.
pub const REACH_QUORUM: usize = 2;
/// Consecutive decided periods, all down, after which the registry decommissions a node.
pub const REACH_DECOMMISSION_PERIODS: usize = 2;
/// Consecutive decided periods, all up, after which a decommissioned node is recommissioned.
pub const REACH_RECOMMISSION_PERIODS: usize = 2;
/// Periods a node may stay decommissioned without one period up before it is deregistered.
pub const REACH_DEREGISTER_PERIODS: u64 = 30;
/// How many periods back a report may be (older ones are refused: the verdict was taken).
pub const REACH_REPORT_MAX_AGE_PERIODS: u64 = 2;
/// How far behind the registry's height a tester's view may be when it reports.
pub const REACH_HEIGHT_SLACK: u64 = 32;
/// The shortest test period a registry accepts (a faster one would flood it with reports).
pub const REACH_MIN_PERIOD_MS: u64 = 200;
/// How long a tester waits for a test's reply before counting the node unreachable.
pub const REACH_TEST_TIMEOUT_MS: u64 = 2_000;
/// Periods of verdicts the registry keeps per node.
pub const REACH_HISTORY_PERIODS: usize = 16;

// ---- command-line plumbing -------------------------------------------------------------------

/// Longest line an NDJSON or text stream on a command's input may hold (a `retrieve` record of the
/// largest message is ~140 KB). A longer line is reported for that line alone, without buffering.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

// ---- synchronous routing (docs/sync.md, spec sync.md §5.8) -----------------------------------

/// Longest a `sync_listen` is held at the listening node before it answers empty (the 2019
/// server's long-poll timeout; below the 30 s per-hop relay timeout).
pub const SYNC_LISTEN_HOLD_MAX_MS: u64 = 20_000;
/// The listener's own timeout on one `sync_listen` (above the hold, at most the relay timeout;
/// `CLIENT_REQUEST_TIMEOUT_MS` is too short for a held call).
pub const SYNC_LISTEN_CLIENT_TIMEOUT_MS: u64 = 25_000;
/// A subscription with no held or recent listen for this long is erased (about two holds).
pub const SYNC_LISTEN_IDLE_EXPIRY_MS: u64 = 45_000;
/// A deliver to a subscription with no held listen waits at most this long for one before it
/// answers 404 `not_listening` (fast fallback instead of waiting out the ack timeout).
pub const SYNC_LISTEN_GAP_GRACE_MS: u64 = 3_000;
/// How long a sender waits for the recipient's ack by default (the apps' 5 s active poll: later
/// than that, the async route is no slower).
pub const SYNC_ACK_TIMEOUT_MS: u64 = 5_000;
/// The shortest `wait_ms` a deliver may ask for (it must allow an ack).
pub const SYNC_MIN_WAIT_MS: u64 = 100;
/// Largest `data` of a deliver: the largest message a swarm stores, so the fallback always fits.
pub const SYNC_MAX_DATA_BYTES: usize = MAX_MESSAGE_BYTES;
/// Size of a sealed presence, online or not (one size so a node cannot tell them apart). The
/// spec's 384 cannot hold its own JSON fields (five keys in hex are 324 characters alone), so
/// snkit uses 640: 32 ephemeral key + 16 tag + 64 signature + 528 bytes of padded JSON.
pub const SYNC_PRESENCE_SEALED_BYTES: usize = 640;
/// Items queued per subscription.
pub const SYNC_QUEUE_MAX_ITEMS: usize = 128;
/// Bytes queued per subscription.
pub const SYNC_QUEUE_MAX_BYTES: usize = 2 * 1024 * 1024;
/// Delivers per second a subscription accepts (a human chat rate; Tor's intro bucket is 25/200).
pub const SYNC_DELIVER_RATE_PER_SEC: u64 = 20;
/// The burst of that token bucket.
pub const SYNC_DELIVER_BURST: u64 = 50;
/// `sync_listen` calls per second per key (blocks busy-looping with `hold_ms` = 0).
pub const SYNC_LISTEN_MAX_CALLS_PER_SEC: u64 = 10;
/// Acks one `sync_listen` may carry (at least the queue size).
pub const SYNC_MAX_ACKS_PER_LISTEN: usize = 256;
/// Subscriptions one node holds (the storage server's `RateLimiter::MAX_CLIENTS`).
pub const NODE_SYNC_MAX_SUBSCRIPTIONS: usize = 10_000;
/// Bytes of queued items one node holds over all subscriptions (503 `node_full` above it).
pub const NODE_SYNC_MAX_BUFFERED_BYTES: usize = 128 * 1024 * 1024;
/// Held listens plus waiting delivers one node holds (each also holds one relay per hop).
pub const NODE_SYNC_MAX_HELD_REQUESTS: usize = 20_000;
/// How often the node sweeps idle subscriptions and ended items.
pub const NODE_SYNC_SWEEP_MS: u64 = 1_000;
/// How often `retrieve --listen` polls the swarm beside its held listen (the fallback stays fast).
pub const SYNC_ASYNC_POLL_MS: u64 = CLIENT_FOLLOW_INTERVAL_MS;
/// How long a presence is valid (`expires`); failures mark a peer offline sooner.
pub const SYNC_PRESENCE_TTL_MS: u64 = 600_000;
/// Least time between two presence-only handshakes to one peer (2019: 1-2 min pings).
pub const SYNC_PRESENCE_REPLY_MIN_INTERVAL_MS: u64 = 60_000;
/// When `send` treats its own listener as dead (its heartbeat older than two holds).
pub const SYNC_HEARTBEAT_STALE_MS: u64 = 2 * SYNC_LISTEN_HOLD_MAX_MS;
/// How often the listener rewrites its heartbeat in `self.json`.
pub const SYNC_HEARTBEAT_MS: u64 = 5_000;
/// Bound on the `sync_unlisten` of a clean shutdown.
pub const SYNC_UNLISTEN_TIMEOUT_MS: u64 = 1_000;
/// Consecutive failures that mark a peer offline.
pub const SYNC_PRESENCE_FAILS_OFFLINE: u32 = 1;
/// Bytes of the sync-inbox journal (the sync lines printed, appended and fsynced before their
/// ack); over this it is cut to its newer half.
pub const SYNC_JOURNAL_MAX_BYTES: u64 = 4 * 1024 * 1024;
/// Pause of the listen loop after a refused listen (429, 5xx) before it asks again.
pub const SYNC_LISTEN_RETRY_MS: u64 = 500;
/// Data bytes one `sync_listen` reply hands out (at least one item): the reply stays far below
/// the relays' reply cap however full the queue is; the rest comes on the next listen.
pub const SYNC_LISTEN_REPLY_MAX_BYTES: usize = 1024 * 1024;
/// Margin between a hold and the timeouts around it (one onion round trip with room to spare).
pub const SYNC_TIMEOUT_MARGIN_MS: u64 = 2_000;

const _: () = assert!(SYNC_LISTEN_HOLD_MAX_MS + SYNC_TIMEOUT_MARGIN_MS <= SYNC_LISTEN_CLIENT_TIMEOUT_MS);
const _: () = assert!(SYNC_LISTEN_CLIENT_TIMEOUT_MS <= NODE_ONION_RELAY_TIMEOUT_MS);
const _: () = assert!(SYNC_ACK_TIMEOUT_MS + SYNC_TIMEOUT_MARGIN_MS < CLIENT_REQUEST_TIMEOUT_MS);
const _: () = assert!(SYNC_LISTEN_IDLE_EXPIRY_MS > SYNC_LISTEN_HOLD_MAX_MS);
const _: () = assert!(SYNC_MAX_DATA_BYTES == MAX_MESSAGE_BYTES);
const _: () = assert!(SYNC_MAX_ACKS_PER_LISTEN >= SYNC_QUEUE_MAX_ITEMS);

// ---- end -------------------------------------------------------------------------------------
