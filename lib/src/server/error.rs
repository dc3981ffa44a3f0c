//! One HTTP error type for every daemon's handlers: a status and the plain-text body the client
//! reads, so a handler can `?` its failures instead of building responses by hand.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A failed request as the client sees it: `status` with `body` as `text/plain; charset=utf-8`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {body}")]
pub struct HttpError {
    status: StatusCode,
    body: String,
}

impl HttpError {
    /// An error answering `status` with `body`.
    pub fn new(status: StatusCode, body: impl Into<String>) -> Self {
        Self { status, body: body.into() }
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

    /// The status it answers with.
    pub fn status_code(&self) -> StatusCode {
        self.status
    }

    /// The plain-text body it answers with.
    pub fn body(&self) -> &str {
        &self.body
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
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
}
