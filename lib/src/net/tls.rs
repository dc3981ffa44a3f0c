//! TLS as the live service nodes speak it: HTTPS on the storage port with a self-signed
//! certificate. A node's identity is its Ed25519/X25519 keys in the node list, not a certificate
//! (the onion layers are encrypted to those keys end to end), so — like the Session apps — a
//! client or peer accepts any certificate, while the TLS handshake itself is still checked
//! (the server must prove it holds the certificate's key). Only the ring provider is used.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, ServerConfig, SignatureScheme};

/// Names the self-signed certificate of a node carries (clients do not check them).
const CERT_NAMES: [&str; 2] = ["localhost", "snode"];

/// Why a TLS configuration could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    /// The self-signed certificate could not be made.
    #[error("cannot make the node's self-signed certificate: {0}")]
    Certificate(#[from] rcgen::Error),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts the server's certificate whatever it is, but verifies the handshake signatures made
/// with its key (see the module doc for why that is the right trust model here).
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The client side: what `send`, `retrieve` and a node's requests to its peers use for
/// `https://` nodes.
pub fn client_config() -> Result<ClientConfig, TlsError> {
    let provider = provider();
    let algorithms = provider.signature_verification_algorithms;
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate { algorithms }))
        .with_no_client_auth())
}

/// [`client_config`], made once per process (testnet's health polls and a node's registry polls
/// build a client each time) and cloned for each client.
pub fn shared_client_config() -> Result<ClientConfig, TlsError> {
    static SHARED: OnceLock<Option<ClientConfig>> = OnceLock::new();
    match SHARED.get_or_init(|| client_config().ok()) {
        Some(config) => Ok(config.clone()),
        // Not cached: make it again to say why it failed.
        None => client_config(),
    }
}

/// The server side of a node: a fresh self-signed certificate (ECDSA P-256), made at start.
pub fn self_signed_server_config() -> Result<ServerConfig, TlsError> {
    let names: Vec<String> = CERT_NAMES.iter().map(|n| n.to_string()).collect();
    let certified = rcgen::generate_simple_self_signed(names)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    Ok(ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_build_with_the_ring_provider() {
        assert!(client_config().is_ok());
        assert!(shared_client_config().is_ok());
        let server = self_signed_server_config().unwrap();
        assert!(server.alpn_protocols.is_empty());
    }
}
