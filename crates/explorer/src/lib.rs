//! The block explorer (`opdev serve explorer`): server-rendered HTML pages and their JSON twins
//! over the indexer's PostgreSQL tables (`docs/schema.md`), asking a chain's node only for live
//! values (head, balance, nonce, code).
//!
//! [`db`] holds every SQL query (parameterized, read-only), [`node`] the JSON-RPC calls,
//! [`decode`] the known events, [`bridge`] the links between deposits and withdrawals and
//! their L1 transactions, [`input`] the validation of everything a request carries,
//! [`pages`] one module per page (load a view, render it as HTML), [`api`] the JSON twins and
//! [`http`] the router. Pages are built with `format!` and [`html::esc`] on every dynamic value;
//! `docs/explorer.md` lists the routes.

pub mod api;
pub mod bridge;
pub mod db;
pub mod decode;
pub mod error;
pub mod html;
pub mod http;
pub mod input;
pub mod node;
pub mod pages;

use std::{net::SocketAddr, sync::Arc};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// `opdev serve explorer` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// A chain to show, as NAME=CHAIN_ID=RPC_URL (repeat for each chain; the first is the default).
    #[arg(long = "chain", value_name = "NAME=ID=URL", required = true)]
    pub chains: Vec<String>,
    /// Address of the HTTP server.
    #[arg(long, default_value = "127.0.0.1:4000")]
    pub listen: String,
    /// PostgreSQL URL of the indexer's database.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Database connections in the pool.
    #[arg(long, default_value_t = 16)]
    pub db_pool: usize,
}

/// Bad configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A `--chain` value is not NAME=CHAIN_ID=RPC_URL, or repeats a name or chain id (the
    /// message says which).
    #[error(transparent)]
    Chain(#[from] opdev_spec::endpoint::EndpointError),
    /// No `--chain` at all.
    #[error("no chain to show: give at least one --chain NAME=CHAIN_ID=RPC_URL")]
    NoChain,
    /// The listen address does not parse.
    #[error("bad --listen {0:?}: expected IP:PORT")]
    Listen(String),
    /// The database URL does not parse.
    #[error(transparent)]
    Db(#[from] db::DbError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Node(#[from] node::NodeError),
    /// The listener could not be bound.
    #[error("bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// One chain the explorer shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainSpec {
    /// Name (e.g. `l1`, `l2-1`).
    pub name: String,
    /// Chain id, as the indexer stores it.
    pub chain_id: u64,
    /// HTTP JSON-RPC URL of its node.
    #[serde(skip)]
    pub rpc_url: String,
}

impl From<opdev_spec::ChainEndpoint> for ChainSpec {
    fn from(c: opdev_spec::ChainEndpoint) -> Self {
        Self {
            name: c.name,
            chain_id: c.chain_id,
            rpc_url: c.rpc_url,
        }
    }
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Chains, the default first.
    pub chains: Vec<ChainSpec>,
    /// HTTP listen address.
    pub listen: SocketAddr,
    /// PostgreSQL URL.
    pub database_url: String,
    /// Pool size.
    pub db_pool: usize,
}

impl TryFrom<ServeArgs> for Config {
    type Error = ConfigError;

    fn try_from(args: ServeArgs) -> Result<Self, Self::Error> {
        let chains: Vec<ChainSpec> = opdev_spec::endpoint::parse_all(&args.chains)?
            .into_iter()
            .map(ChainSpec::from)
            .collect();
        Ok(Self {
            chains,
            listen: args
                .listen
                .parse()
                .map_err(|_| ConfigError::Listen(args.listen.clone()))?,
            database_url: args.database_url,
            db_pool: args.db_pool.clamp(1, 128),
        })
    }
}

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The configured chains, the default first.
    pub chains: Arc<Vec<ChainSpec>>,
    /// The database.
    pub db: db::Db,
    /// The nodes' JSON-RPC client.
    pub node: node::Node,
    /// The bridge's contracts and the clients that ask the nodes about withdrawals.
    pub bridges: bridge::Shared,
}

impl AppState {
    /// The chain with this id, if configured.
    pub fn chain(&self, chain_id: u64) -> Option<&ChainSpec> {
        self.chains.iter().find(|c| c.chain_id == chain_id)
    }

    /// The default chain (the first `--chain`).
    pub fn default_chain(&self) -> &ChainSpec {
        &self.chains[0]
    }
}

/// A running explorer.
#[derive(Debug)]
pub struct Explorer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Explorer {
    /// The address the HTTP server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits until the server has stopped (after `stop` is cancelled).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Binds the listener, then serves until `stop` is cancelled.
pub async fn start(config: Config, stop: CancellationToken) -> Result<Explorer, ConfigError> {
    if config.chains.is_empty() {
        return Err(ConfigError::NoChain);
    }
    let state = AppState {
        bridges: Arc::new(bridge::Bridges::new(&config.chains)),
        chains: Arc::new(config.chains),
        db: db::Db::new(&config.database_url, config.db_pool)?,
        node: node::Node::new()?,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ConfigError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ConfigError::Bind {
        addr: config.listen,
        source,
    })?;
    tracing::info!("listening on {addr}");
    let app = http::router(state);
    let task = tokio::spawn(opdev_http::serve(listener, app, stop));
    Ok(Explorer { addr, task })
}

/// Runs the explorer until `stop` is cancelled (`opdev serve explorer`).
pub async fn serve(args: ServeArgs, stop: CancellationToken) -> anyhow::Result<()> {
    let explorer = start(Config::try_from(args)?, stop).await?;
    explorer.wait().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_spec_parses_and_refuses_bad_values() {
        let parse = |s: &str| s.parse::<opdev_spec::ChainEndpoint>().map(ChainSpec::from);
        let c = parse("l2=901=http://127.0.0.1:9545/?a=b").unwrap();
        assert_eq!(
            (c.name.as_str(), c.chain_id, c.rpc_url.as_str()),
            ("l2", 901, "http://127.0.0.1:9545/?a=b")
        );
        for bad in ["l2=x=http://a", "l2=901", "=901=http://a", "l2=901="] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
