//! One HTTP error type for every daemon's handlers: a status and the body the client reads
//! (plain text, or the file server's `{"status_code": N}`), so a handler can `?` its failures
//! instead of building responses by hand.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A failed request as the client sees it: `status` with `body` as `text/plain; charset=utf-8`
/// (or `application/json` for [`HttpError::status_json`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {body}")]
pub struct HttpError {
    status: StatusCode,
    body: String,
    json: bool,
}

impl HttpError {
    /// `status` with a plain-text `body`.
    pub fn new(status: StatusCode, body: impl Into<String>) -> Self {
        Self { status, body: body.into(), json: false }
    }

    /// `status` with the JSON body `{"status_code": N}` the Session file server answers every
    /// application error with (attachments.md §5), as `application/json` exactly.
    pub fn status_json(status: StatusCode) -> Self {
        Self { status, body: format!("{{\"status_code\": {}}}", status.as_u16()), json: true }
    }

    /// 400: the request itself is wrong.
    pub fn bad_request(body: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, body)
    }

    /// 401: the sender could not be authenticated.
    pub fn unauthorized(body: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, body)
    }

    /// 503: the server cannot do it now (a retry may succeed).
    pub fn unavailable(body: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, body)
    }

    /// The status answered.
    pub fn status_code(&self) -> StatusCode {
        self.status
    }

    /// The body answered.
    pub fn body(&self) -> &str {
        &self.body
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if self.json {
            // Exactly `application/json`, no charset: desktop switches on the exact string.
            return (self.status, [(axum::http::header::CONTENT_TYPE, "application/json")], self.body)
                .into_response();
        }
        // A String body is text/plain; charset=utf-8.
        (self.status, self.body).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_response_keeps_status_body_and_text_type() {
        let e = HttpError::unauthorized("unknown sender");
        assert_eq!(e.status_code(), StatusCode::UNAUTHORIZED);
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    }

    #[test]
    fn test_status_json_is_the_file_servers_error_body() {
        let e = HttpError::status_json(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(e.body(), "{\"status_code\": 413}");
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(r.headers()["content-type"], "application/json");
    }
}
