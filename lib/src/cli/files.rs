//! The file server flags of `upload`, `download`, `fileinfo` and `extend`, declared once: which
//! server (`--fileserver URL --fileserver-key HEX`, else the testnet's `fileserver.json` next to
//! its `nodes.json`), and how to reach it (onion paths over the node list, as the apps do, or
//! `--direct`).

use std::path::{Path, PathBuf};

use clap::Args;

use super::{CliError, NetworkArgs};
use crate::client::files::{FILESERVER_INFO_FILE, FileServer, Via};
use crate::client::{Network, NodeSource};
use crate::net::nodes::DEFAULT_NODES_PATH;

/// Where the file server is and how requests reach it.
#[derive(Args, Debug, Clone, Default)]
pub struct FileServerArgs {
    /// The file server's URL (http://HOST:PORT). Default: the testnet's, from the fileserver.json
    /// next to its nodes.json.
    #[arg(long, value_name = "URL", requires = "fileserver_key")]
    pub fileserver: Option<String>,
    /// The file server's X25519 key, hex (what `fileserver serve` prints as "pubkey").
    #[arg(long, value_name = "HEX", requires = "fileserver")]
    pub fileserver_key: Option<String>,
    /// Talk to the file server directly (it sees your address) instead of through a 3-hop
    /// onion path.
    #[arg(long)]
    pub direct: bool,
    /// The node list the onion paths are built from.
    #[command(flatten)]
    pub network: NetworkArgs,
}

impl FileServerArgs {
    /// The directory a testnet's files are in: that of the node list file if one is named (or
    /// in `$SNKIT_NODES`), else `.testnet`.
    fn testnet_dir(&self) -> PathBuf {
        let named = self
            .network
            .nodes
            .clone()
            .map(|n| NodeSource::parse(&n))
            .or_else(NodeSource::from_env_or_default);
        match named {
            Some(NodeSource::File(f)) => {
                Path::new(&f).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
            }
            _ => Path::new(DEFAULT_NODES_PATH).parent().map(Path::to_path_buf).unwrap_or_default(),
        }
    }

    /// The server the flags name, else the testnet's; `None` when neither exists.
    pub fn server(&self) -> Result<Option<FileServer>, CliError> {
        if let (Some(url), Some(key)) = (&self.fileserver, &self.fileserver_key) {
            return FileServer::new(url, key).map(Some).map_err(CliError::from);
        }
        FileServer::from_dir(&self.testnet_dir()).transpose().map_err(CliError::from)
    }

    /// [`Self::server`], required.
    pub fn require_server(&self) -> Result<FileServer, CliError> {
        self.server()?.ok_or_else(|| {
            CliError::usage("no file server: pass --fileserver URL --fileserver-key HEX").hint(format!(
                "or run 'testnet up --fileserver' here (it writes {FILESERVER_INFO_FILE} next to nodes.json)"
            ))
        })
    }

    /// The network to send onion requests through (`None` with `--direct`). `stdin_taken` names
    /// what stdin carries when the command reads it, so the node list cannot come from there.
    pub fn network(&self, stdin_taken: Option<&str>) -> Result<Option<Network>, CliError> {
        if self.direct {
            return Ok(None);
        }
        let source = match stdin_taken {
            Some(what) => self.network.source_without_stdin(what),
            None => self.network.source(),
        }
        .map_err(|e| e.hint("or pass --direct to talk to the file server without onion paths"))?;
        self.network.open(&source).map(Some)
    }
}

/// The route of `net`: onion when there is a network, else direct.
pub fn via(net: Option<&Network>) -> Via<'_> {
    match net {
        Some(n) => Via::Onion(n),
        None => Via::direct(),
    }
}

/// What a `fileinfo`/`extend` FILE argument names: a pointer (`-` for stdin, or a path to a JSON
/// file) gives its URL; anything else (a URL, a bare id) is itself. Returns it and whether stdin
/// was read.
pub fn file_target(arg: &str) -> Result<(String, bool), CliError> {
    let is_pointer = arg == "-" || Path::new(arg).is_file();
    if !is_pointer {
        return Ok((arg.to_string(), false));
    }
    let value = super::read_json(Some(arg))?;
    let url = value
        .get("url")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| CliError::usage(format!("{arg}: not an attachment pointer (no \"url\")")))?;
    Ok((url.to_string(), arg == "-"))
}
