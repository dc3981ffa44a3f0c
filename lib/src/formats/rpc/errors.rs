//! Every status and error text the live storage server sends for the methods snode serves
//! (research: `oxenss/rpc/request_handler.cpp`, `client_rpc_endpoints.cpp`, pinned by its
//! `network-tests`), in one table, so that a client author can see them at a glance; each
//! entry is triggered through snode's own code by a unit test (`tests.rs`,
//! `every_live_error_text_is_sent`). `{}` marks a part filled in from the request.

/// One live error: which method sends it, the HTTP status and the exact body text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveError {
    /// The method (or `"*"` for every method that has the field).
    pub method: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// The body text (plain text on HTTPS; a string `body` inside a batch result).
    pub text: &'static str,
}

const fn e(method: &'static str, status: u16, text: &'static str) -> LiveError {
    LiveError { method, status, text }
}

/// The live error texts snode sends, exactly.
pub const LIVE_ERRORS: &[LiveError] = &[
    // 400: parse errors, "invalid request: " + what.
    e("*", 400, "invalid request: Required field '{}' missing"),
    e("*", 400, "invalid request: Invalid value given for '{}': expected {}"),
    e("*", 400, "invalid request: Invalid timestamp for '{}': timestamp must be in milliseconds"),
    e("*", 400, "invalid request: Invalid value given for 'namespace': value out of range"),
    e("delete_all", 400, "invalid request: Invalid value given for 'namespace': expected integer or \"all\""),
    e("*", 400, "invalid request: Pubkey must be 66 hex digits (33 bytes) long"),
    e("*", 400, "invalid request: pubkey_ed25519 is only permitted for 05[...] pubkeys"),
    e("*", 400, "invalid request: Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey"),
    e("*", 400, "invalid request: invalid pubkey_ed25519: value is not hex"),
    e("*", 400, "invalid request: invalid signature: expected base64 encoded Ed25519 signature"),
    e("store", 400, "invalid request: Cannot specify both 'pubkey' and 'pubKey'"),
    e("store", 400, "invalid request: Cannot specify both 'expiry' and 'ttl'"),
    e("store", 400, "invalid request: Invalid 'data' value: not base64 encoded"),
    e("retrieve", 400, "invalid request: Cannot specify both 'last_hash' and 'lastHash'"),
    e("retrieve", 400, "invalid request: Invalid last_hash: expected base64 (43 chars)"),
    e("delete", 400, "invalid request: messages does not contain any message hashes"),
    e("delete", 400, "invalid request: invalid message hash: {}"),
    e("expire", 400, "invalid request: 'expiry' does not contain any expiration timestamps"),
    e("expire", 400, "invalid request: cannot specify both 'shorten' and 'extend'"),
    e("expire", 400, "invalid request: 'expiry' must be a single expiry, or the same length as 'messages'"),
    e("batch", 400, "invalid request: Invalid batch request: no valid \"requests\" field"),
    e("batch", 400, "invalid request: Invalid batch request: subrequest limit exceeded"),
    e("batch", 400, "invalid request: Invalid batch request: requests must be objects"),
    e("batch", 400, "invalid request: Invalid batch request: subrequests must have method/params keys"),
    e("batch", 400, "invalid request: Invalid batch subrequest: invalid method \"{}\""),
    e("batch", 400, "invalid request: Invalid batch subrequest: subrequests may not contain meta-requests"),
    e("ifelse", 400, "invalid request: Invalid ifelse request: no valid \"if\" field"),
    e("ifelse", 400, "invalid request: Invalid ifelse request: must specify at least one \"if\" condition"),
    e("ifelse", 400, "invalid request: Invalid ifelse request: at least one of \"then\"/\"else\" required"),
    e("ifelse", 400, "invalid request: Invalid ifelse request: {} must be an object"),
    e("ifelse", 400, "invalid request: Invalid ifelse request: {} must have method/params keys"),
    e("ifelse", 400, "invalid request: Invalid ifelse request method \"{}\""),
    e("*", 400, "invalid request: invalid subaccount: subaccount_sig is required when using subaccount"),
    e("*", 400, "invalid request: invalid subaccount: expected base64 or hex-encoded subaccount token"),
    e("*", 400, "invalid request: invalid subaccount signature: expected base64 encoded Ed25519 signature"),
    e(
        "revoke_subaccount",
        400,
        "invalid request: invalid revoke: expected base64 or hex-encoded subaccount tag",
    ),
    e(
        "revoke_subaccount",
        400,
        "invalid request: invalid revoke: cannot revoke more than 50 subaccounts at once",
    ),
    e(
        "unrevoke_subaccount",
        400,
        "invalid request: invalid unrevoke: expected base64 or hex-encoded subaccount tag",
    ),
    e(
        "expire",
        400,
        "expire: shorten parameter cannot be used with this subaccount token (missing delete access)",
    ),
    // 401: signatures (and, as live, two timestamp checks).
    e("store", 401, "store: signature required to store to namespace {}"),
    e("store", 401, "store signature verification failed"),
    e("retrieve", 401, "retrieve: request signature required"),
    e("retrieve", 401, "retrieve signature verification failed"),
    e("delete", 401, "delete_msgs signature verification failed"),
    e("delete_all", 401, "delete_all signature verification failed"),
    e("delete_before", 401, "delete_before timestamp too far in the future"),
    e("delete_before", 401, "delete_before signature verification failed"),
    e("expire", 401, "expire: timestamp should be >= current time"),
    e("expire", 401, "expire: signature verification failed"),
    e("expire_all", 401, "expire_all signature verification failed"),
    e("get_expiries", 401, "get_expiries signature verification failed"),
    e("revoke_subaccount", 401, "revoke_subaccount signature verification failed"),
    e("unrevoke_subaccount", 401, "unrevoke_subaccount signature verification failed"),
    e("revoked_subaccounts", 401, "revoked_subaccounts signature verification failed"),
    // 403: TTL.
    e("store", 403, "Provided expiry/TTL is not valid."),
    // 406: clocks.
    e("store", 406, "Timestamp error: check your clock"),
    e("store", 406, "store signature timestamp too far from current time"),
    e("retrieve", 406, "retrieve timestamp too far from current time"),
    e("delete_all", 406, "delete_all timestamp too far from current time"),
    e("expire_all", 406, "expire_all timestamp should be >= current time"),
    e("get_expiries", 406, "get_expiries timestamp too far from current time"),
    e("revoke_subaccount", 406, "revoke_subaccount timestamp too far from current time"),
    e("unrevoke_subaccount", 406, "unrevoke_subaccount timestamp too far from current time"),
    e("revoked_subaccounts", 406, "revoked_subaccounts timestamp too far from current time"),
];

/// Whether `text` is what `pattern` (with `{}` holes) describes.
pub fn matches_pattern(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split("{}").collect();
    let Some((first, rest)) = parts.split_first() else { return false };
    let Some(mut tail) = text.strip_prefix(first) else { return false };
    for (i, part) in rest.iter().enumerate() {
        if i + 1 == rest.len() {
            return tail.ends_with(part) && (tail.len() > part.len() || part.is_empty() && !tail.is_empty());
        }
        match tail.find(part) {
            Some(at) if at > 0 => tail = &tail[at + part.len()..],
            _ => return false,
        }
    }
    tail.is_empty()
}
