//! Registry files and URLs (docs/registry.md): the I/O of the document whose format, replay and
//! hash chain are `formats::registry`. The loader of [`super::nodes`] reads registries as node
//! lists; a node polls its registry with [`Registry::fetch_async`].

use std::path::Path;
use std::time::Duration;

use super::http::{HttpReply, describe, read_body_async};
use super::nodes::{answer_text, http_get, read_bounded};
use crate::formats::limits::{NODE_LIST_HTTP_TIMEOUT_MS, NODE_LIST_MAX_BYTES};
use crate::formats::nodelist::NodeListError;
use crate::formats::registry::{Registry, RegistryError};

/// Registry files and URLs (docs/registry.md): the I/O of the format in `formats::registry`.
impl Registry {
    /// Reads a registry file (`-` = stdin).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, RegistryError> {
        let path = path.as_ref().to_string_lossy().into_owned();
        let text = read_bounded(&path).map_err(|e| match e {
            NodeListError::Io { path, reason } => RegistryError::Io { path, reason },
            NodeListError::TooLarge { path, limit } => {
                RegistryError::Io { path, reason: format!("larger than {limit} bytes") }
            }
            other => RegistryError::Io { path: path.clone(), reason: other.to_string() },
        })?;
        Self::parse_str(&text)
    }

    /// Reads the registry from an `http://` URL (GET, with a timeout) or a file path.
    pub fn fetch(source: &str) -> Result<Self, RegistryError> {
        if source.starts_with("http://") || source.starts_with("https://") {
            let text = http_get(source).map_err(RegistryError::Fetch)?;
            Self::parse_str(&text)
        } else {
            Self::load(source)
        }
    }

    /// [`Self::fetch`] for a daemon: the URL read with its async `client`, a file in a blocking
    /// task.
    pub async fn fetch_async(client: &reqwest::Client, source: &str) -> Result<Self, RegistryError> {
        if !(source.starts_with("http://") || source.starts_with("https://")) {
            let source = source.to_string();
            return tokio::task::spawn_blocking(move || Self::load(&source)).await.map_err(|e| {
                RegistryError::Io { path: String::new(), reason: format!("reading task failed: {e}") }
            })?;
        }
        let fetch_error = |e: NodeListError| RegistryError::Fetch(e);
        let unreachable =
            |reason: String| fetch_error(NodeListError::Unreachable { url: source.to_string(), reason });
        let resp = client
            .get(source)
            .timeout(Duration::from_millis(NODE_LIST_HTTP_TIMEOUT_MS))
            .send()
            .await
            .map_err(|e| unreachable(describe(&e)))?;
        let status = resp.status().as_u16();
        let body = read_body_async(resp, NODE_LIST_MAX_BYTES).await;
        let text = answer_text(source, body.map(|body| HttpReply { status, body })).map_err(fetch_error)?;
        Self::parse_str(&text)
    }

    /// Writes the registry document atomically (temp file, fsync, rename; mode 0600).
    pub fn save_atomic(&self, path: impl AsRef<Path>) -> Result<(), RegistryError> {
        let path = path.as_ref();
        let mut text = serde_json::to_string_pretty(&self.to_json())
            .map_err(|e| RegistryError::Write { path: path.display().to_string(), reason: e.to_string() })?;
        text.push('\n');
        super::fs::write_atomic(path, text.as_bytes())
            .map_err(|e| RegistryError::Write { path: path.display().to_string(), reason: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_save_atomic_load_and_fetch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.json");
        let mut r = Registry::new();
        for i in 1..=8u8 {
            r.join([i; 32], [i ^ 0x40; 32], "127.0.0.1", 40000 + u16::from(i)).unwrap();
        }
        r.save_atomic(&path).unwrap();
        assert_eq!(Registry::load(&path).unwrap(), r);
        assert_eq!(Registry::fetch(path.to_str().unwrap()).unwrap(), r);
    }

    #[test]
    fn test_unreachable_registry_url_is_a_network_error() {
        let err = Registry::fetch("http://127.0.0.1:1/registry.json").unwrap_err();
        assert!(err.is_network(), "{err}");
    }
}
