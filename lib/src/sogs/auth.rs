//! The X-SOGS-* request signature (sogs.md §1), answered in the spec's order: parse (400) →
//! timestamp (425) → globally banned (403, before the signature) → nonce (425, stored before
//! the signature's verdict, and kept even when it fails) → signature (401) → last-active time.
//!
//! Split in two so that the expensive part runs in parallel and the database part is short:
//! [`check`] (parse, timestamp, Ed25519 verification: CPU only, on any thread) and [`admit`] (the
//! user, ban, nonce and the verdict, on the writer in its group transaction).

use rusqlite::{Connection, params};

use crate::formats::identity::ed25519_pk_to_x25519;
use crate::formats::sogs::{
    HEADER_NONCE, HEADER_PUBKEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, NONCE_BYTES, SignerKind, decode_path,
    parse_auth_headers, signed_message, timestamp_fresh, verify,
};

use super::Ctx;
use super::api::{ApiError, Req};
use super::db::{Cached, now};
use super::model::{self, User};

/// A request's signature headers after the checks that need no database: parsed, timestamp
/// fresh, and the signature verified (its verdict kept for later, so that a banned user or a
/// reused nonce is still refused first, as the spec orders it).
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    /// The user's Session ID as the server keys them (`15…`, `25…`, or `05…` for a `00` key).
    session_id: String,
    nonce: [u8; NONCE_BYTES],
    signature_ok: bool,
}

/// The first half of authentication, CPU only (run it off the database and the async runtime:
/// the Ed25519 verification is most of a signed request's cost). `None`: anonymous.
pub(crate) fn check(ctx: &Ctx, req: &Req) -> Result<Option<Checked>, ApiError> {
    let h = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let parsed = parse_auth_headers(
        h(HEADER_PUBKEY),
        h(HEADER_NONCE),
        h(HEADER_TIMESTAMP),
        h(HEADER_SIGNATURE),
        ctx.allow_unblinded,
    )
    .map_err(|e| ApiError::new(400, e.to_string()))?;
    let Some(a) = parsed else { return Ok(None) };
    if !timestamp_fresh(a.timestamp, now() as i64) {
        return Err(ApiError::new(
            425,
            "Invalid authentication: X-SOGS-Timestamp is too far from current time",
        ));
    }
    let session_id = match a.kind {
        SignerKind::Unblinded => {
            let x = ed25519_pk_to_x25519(&a.key).ok_or_else(|| {
                ApiError::new(400, "Invalid authentication: X-SOGS-Pubkey is not a valid Ed25519 pubkey")
            })?;
            format!("05{}", hex::encode(x))
        }
        SignerKind::Blinded15 | SignerKind::Blinded25 => a.pubkey_hex.clone(),
    };
    let msg = signed_message(
        &ctx.server_pk,
        &a.nonce,
        &a.timestamp_str,
        &req.method,
        &decode_path(&req.path),
        req.query.as_deref(),
        &req.body,
    );
    Ok(Some(Checked { session_id, nonce: a.nonce, signature_ok: verify(&a.key, &msg, &a.signature) }))
}

/// The second half, on the writer inside its transaction: the user (made when new), the global
/// ban (403), the nonce (425; stored before the signature's verdict is applied, and kept even when
/// it fails, because the caller keeps a refused request's writes), the signature's verdict (401),
/// and the last-active time.
pub(crate) fn admit(db: &Connection, c: &Checked) -> Result<User, ApiError> {
    let now_s = now();
    let user = model::get_or_create_user(db, &c.session_id)?;
    if user.banned {
        return Err(ApiError::new(403, "Banned"));
    }
    let fresh = db
        .exec("INSERT OR IGNORE INTO nonces (nonce, at) VALUES (?, ?)", params![c.nonce.as_slice(), now_s])?;
    if fresh == 0 {
        return Err(ApiError::new(425, "Invalid authentication: X-SOGS-Nonce cannot be reused"));
    }
    if !c.signature_ok {
        // The nonce stays used (the caller keeps it): a failed attempt cannot be retried with it.
        return Err(ApiError::new(401, "Invalid authentication: X-SOGS-Signature verification failed"));
    }
    db.exec("UPDATE users SET last_active = ? WHERE id = ?", params![now_s, user.id])?;
    Ok(user)
}
