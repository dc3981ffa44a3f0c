//! The X-SOGS-* request signature (sogs.md §1), checked in the spec's order: parse (400) →
//! timestamp (425) → globally banned (403, before the signature) → nonce (425, stored before
//! the signature is checked, and kept even when it fails) → signature (401) → last-active time.

use rusqlite::{Connection, params};

use crate::formats::identity::ed25519_pk_to_x25519;
use crate::formats::sogs::{
    HEADER_NONCE, HEADER_PUBKEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignerKind, decode_path,
    parse_auth_headers, signed_message, timestamp_fresh, verify,
};

use super::Ctx;
use super::api::{ApiError, Req};
use super::db::now;
use super::model::{self, User};

/// The authenticated user of a request, `None` for an anonymous one.
///
/// Runs inside the caller's transaction `db`; on a refusal the caller commits it anyway, so the
/// nonce (and the user row) stay stored.
pub(crate) fn authenticate(ctx: &Ctx, db: &Connection, req: &Req) -> Result<Option<User>, ApiError> {
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
    let now_s = now();
    if !timestamp_fresh(a.timestamp, now_s as i64) {
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
    let user = model::get_or_create_user(db, &session_id)?;
    if user.banned {
        return Err(ApiError::new(403, "Banned"));
    }
    let fresh = db.execute(
        "INSERT OR IGNORE INTO nonces (nonce, at) VALUES (?, ?)",
        params![a.nonce.as_slice(), now_s],
    )?;
    if fresh == 0 {
        return Err(ApiError::new(425, "Invalid authentication: X-SOGS-Nonce cannot be reused"));
    }
    let msg = signed_message(
        &ctx.server_pk,
        &a.nonce,
        &a.timestamp_str,
        &req.method,
        &decode_path(&req.path),
        req.query.as_deref(),
        &req.body,
    );
    if !verify(&a.key, &msg, &a.signature) {
        // The nonce stays used (the caller commits): a failed attempt cannot be retried with it.
        return Err(ApiError::new(401, "Invalid authentication: X-SOGS-Signature verification failed"));
    }
    db.execute("UPDATE users SET last_active = ? WHERE id = ?", params![now_s, user.id])?;
    Ok(Some(user))
}
