//! The network flags of every command that talks to the nodes (`send`, `retrieve`, `swarm-of`),
//! declared once and flattened into each command, so that all of them accept the same sources
//! (README "Node lists"; the loader is `crate::net::nodes`).

use clap::Args;

use super::CliError;
use crate::client::{self, Network, NodeSource};
use crate::net::nodes::{DEFAULT_NODES_PATH, NODES_ENV, base_url};

/// Where the node list comes from. Without --nodes or --node: $SNKIT_NODES (any SOURCE), else
/// .testnet/nodes.json if it exists.
#[derive(Args, Debug, Clone, Default)]
pub struct NetworkArgs {
    /// The node list: a FILE (testnet's nodes.json, a get_service_nodes result, or a registry), a
    /// dash for stdin, http(s)://IP:PORT to ask a node (get_service_nodes), https://HOST/json_rpc
    /// to ask a seed (get_n_service_nodes), or any other http(s) URL of a node list or registry.
    #[arg(long, value_name = "SOURCE", conflicts_with = "node")]
    pub nodes: Option<String>,
    /// A node to bootstrap from (http://IP:PORT, https://IP:PORT), or a seed's JSON-RPC endpoint
    /// (https://HOST/json_rpc, as the Session apps do); the same as --nodes URL.
    #[arg(long, value_name = "URL")]
    pub node: Option<String>,
    /// Talk HTTPS to the nodes, as live service nodes serve (implied by an https:// node or seed,
    /// or a node list that says "tls": true); their self-signed certificates are accepted, the
    /// onion layers being encrypted to the nodes' keys.
    #[arg(long)]
    pub tls: bool,
    /// Build a fresh onion path for every request and keep none (by default the paths are kept in
    /// --path-dir and reused by the next command, as the apps keep theirs).
    #[arg(long)]
    pub fresh_path: bool,
    /// Where the kept onion paths live (paths.json) [default: $XDG_DATA_HOME/snkit/paths, else
    /// ~/.local/share/snkit/paths].
    #[arg(long, value_name = "DIR", conflicts_with = "fresh_path")]
    pub path_dir: Option<std::path::PathBuf>,
}

impl NetworkArgs {
    /// The source the flags name, else `$SNKIT_NODES`, else the `.testnet` default.
    pub fn source(&self) -> Result<NodeSource, CliError> {
        if let Some(url) = &self.node {
            return Ok(NodeSource::parse(&base_url(url)));
        }
        if let Some(source) = &self.nodes {
            return Ok(NodeSource::parse(source));
        }
        NodeSource::from_env_or_default().ok_or_else(|| {
            CliError::usage("no node list: pass --nodes FILE or --node URL").hint(format!(
                "or set {NODES_ENV}, or run 'testnet up' here (it writes {DEFAULT_NODES_PATH})"
            ))
        })
    }

    /// [`Self::source`], refusing stdin when the command reads something else from it (`what`).
    pub fn source_without_stdin(&self, what: &str) -> Result<NodeSource, CliError> {
        match self.source()? {
            NodeSource::Stdin => Err(CliError::usage(format!("--nodes - reads stdin, so {what}"))),
            source => Ok(source),
        }
    }

    /// The network of `source`, in HTTPS when `--tls` says so.
    pub fn open(&self, source: &NodeSource) -> Result<Network, CliError> {
        let mut net = client::open_network(source).map_err(CliError::from)?;
        if self.tls {
            net.set_https(true);
        }
        if !self.fresh_path {
            net.keep_paths(&self.path_dir.clone().unwrap_or_else(client::state::default_paths_dir));
        }
        Ok(net)
    }
}
