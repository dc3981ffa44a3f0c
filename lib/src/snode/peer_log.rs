//! `snode --peer-log`: one NDJSON line per request the node accepted, in
//! `<data>/peers.ndjson`, with the peer address of the connection it came on. On a testnet of
//! hosts (`testnet up --hosts`) every process has its own address, so these lines show who
//! talked to whom: the onion test checks from them that each hop saw only the hop before it.
//!
//! A line: `{"ts_ms" (arrival), "peer": "ip:port", "method", "route", "status"}`, plus `"hop_no"` for
//! `/onion_req/v2` (the hop number the request arrived with: 0 at the guard, 1 at the second
//! hop, …; the outer frame carries it in clear). Written without fsync (a record for tests and
//! operators, not state); the file stops growing at [`PEER_LOG_MAX_BYTES`].

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

/// The file in the data directory.
pub const PEER_LOG_FILE: &str = "peers.ndjson";
/// Size at which the log stops growing (a node under load must not fill its disk with it).
pub const PEER_LOG_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The open log.
#[derive(Debug)]
pub(crate) struct PeerLog {
    file: Mutex<(File, u64)>,
}

/// The hop number an onion request arrived with, left on its response for the log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OnionHop(pub(crate) u64);

impl PeerLog {
    /// Opens (appends to) `<data_dir>/peers.ndjson`.
    pub(crate) fn open(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join(PEER_LOG_FILE);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let size = file.metadata()?.len();
        Ok(Self { file: Mutex::new((file, size)) })
    }

    fn write(&self, line: &str) {
        let mut guard = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (file, size) = &mut *guard;
        if *size + line.len() as u64 > PEER_LOG_MAX_BYTES {
            return;
        }
        // One write per line (O_APPEND): a reader never sees half a line from two writers.
        if file.write_all(line.as_bytes()).is_ok() {
            *size += line.len() as u64;
        }
    }
}

/// The middleware: runs the request, then writes its line.
pub(crate) async fn record(State(log): State<std::sync::Arc<PeerLog>>, req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.to_string());
    let (method, route) = (req.method().to_string(), req.uri().path().to_string());
    // When the request arrived (a relay's own onward request then comes after it).
    let ts_ms = crate::formats::time::now_ms();
    let resp = next.run(req).await;
    let mut line = json!({
        "ts_ms": ts_ms,
        "peer": peer,
        "method": method,
        "route": route,
        "status": resp.status().as_u16(),
    });
    if let Some(OnionHop(n)) = resp.extensions().get::<OnionHop>() {
        line["hop_no"] = json!(n);
    }
    log.write(&format!("{line}\n"));
    resp
}
