//! A small client for a community server (sogs.md §1): every request signed with the X-SOGS-*
//! headers (blinded by default), sent with the one HTTP stack of [`crate::net::http`]. The e2e
//! tests use it, and so will the `community` command.

use rand::RngCore;
use serde_json::Value;

use crate::formats::blinding::BlindingError;
use crate::formats::identity::Identity;
use crate::formats::sogs::{NONCE_BYTES, Signer};
use crate::net::http::{HttpReply, Transport, TransportError};

/// Why a signed request could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SogsClientError {
    /// The blinded key could not be derived or used.
    #[error(transparent)]
    Blinding(#[from] BlindingError),
    /// No HTTP answer.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// A client of one server, signing as one identity (or anonymous).
#[derive(Debug)]
pub struct SogsClient {
    transport: Transport,
    base: String,
    server_pk: [u8; 32],
    signer: Option<Signer>,
}

impl SogsClient {
    /// A client of the server at `base` (e.g. `http://host:port`) with X25519 key `server_pk`,
    /// signing as `identity`'s blinded15 key, or anonymous with `None`.
    pub fn new(base: &str, server_pk: [u8; 32], identity: Option<&Identity>) -> Result<Self, BlindingError> {
        let signer = identity.map(|id| Signer::blinded(id, &server_pk)).transpose()?;
        Ok(Self::with_signer(base, server_pk, signer))
    }

    /// A client with an explicit signer (e.g. [`Signer::Unblinded`]).
    pub fn with_signer(base: &str, server_pk: [u8; 32], signer: Option<Signer>) -> Self {
        Self { transport: Transport::new(), base: base.trim_end_matches('/').to_string(), server_pk, signer }
    }

    /// The signer's `X-SOGS-Pubkey` (`15…`), if signing.
    pub fn pubkey_hex(&self) -> Option<String> {
        self.signer.as_ref().map(Signer::pubkey_hex)
    }

    /// The signing key (for signing message bodies), if any.
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }

    /// The X-SOGS-* headers for one request (empty when anonymous), at the current time with a
    /// fresh random nonce.
    pub fn auth_headers(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> Result<Vec<(&'static str, String)>, BlindingError> {
        let Some(signer) = &self.signer else { return Ok(Vec::new()) };
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let now = i64::try_from(crate::formats::time::now_ms() / 1000).unwrap_or(i64::MAX);
        signer.headers(&self.server_pk, &nonce, now, method, path, query, body)
    }

    /// Sends `method path_and_query` with `body` (typed `content_type`), signed.
    pub fn request(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        content_type: &str,
        extra: &[(&str, String)],
    ) -> Result<HttpReply, SogsClientError> {
        let mut headers: Vec<(String, String)> = self
            .auth_headers(method, path_and_query, body)?
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let url = format!("{}{path_and_query}", self.base);
        let body = (!body.is_empty()).then(|| {
            headers.push(("Content-Type".to_string(), content_type.to_string()));
            body.to_vec()
        });
        Ok(self.transport.request(method, &url, &headers, body)?)
    }

    /// A signed GET.
    pub fn get(&self, path_and_query: &str) -> Result<HttpReply, SogsClientError> {
        self.request("GET", path_and_query, b"", "", &[])
    }

    /// A signed request with a JSON body.
    pub fn json(
        &self,
        method: &str,
        path_and_query: &str,
        body: &Value,
    ) -> Result<HttpReply, SogsClientError> {
        self.request(method, path_and_query, body.to_string().as_bytes(), "application/json", &[])
    }
}
