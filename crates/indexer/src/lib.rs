//! The indexer: copies every block, transaction (with its receipt) and log of each chain of a
//! devnet into PostgreSQL, restart-safe and reorg-safe, and serves `/metrics` and `/health`.
//!
//! One task per chain ([`chain`]) fetches blocks over batched JSON-RPC ([`rpc`]) and writes them
//! with their checkpoint in one transaction per batch ([`store`]) into the tables of
//! [`schema`] (documented in `docs/schema.md`). [`start`] binds the HTTP server ([`http`]) and
//! spawns the chain tasks; [`serve`] is `opdev serve indexer`. [`verify`] compares a chain with
//! what the database holds, for tests and benchmarks.

pub mod chain;
mod http;
pub mod metrics;
pub mod rpc;
pub mod schema;
pub mod status;
pub mod store;
pub mod verify;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use chain::IndexError;
pub use status::{ChainState, ChainStatus, Health};

use crate::{metrics::Metrics, rpc::Rpc, status::StatusCell};

/// `opdev serve indexer` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// A chain to index, as NAME=CHAIN_ID=RPC_URL (repeat for each chain).
    #[arg(long = "chain", value_name = "NAME=ID=URL", required = true)]
    pub chains: Vec<String>,
    /// Address of the /metrics and /health HTTP server.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// PostgreSQL URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Deepest reorg handled; a deeper one stops that chain's indexer with an error.
    #[arg(long, default_value_t = 64)]
    pub reorg_limit: u64,
    /// Blocks per JSON-RPC batch request (and per database transaction).
    #[arg(long, default_value_t = 50)]
    pub batch_size: usize,
    /// Batches in flight during backfill.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// How often to poll the chain head when caught up, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub poll_interval_ms: u64,
}

/// Bad configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A `--chain` value is not NAME=CHAIN_ID=RPC_URL, or repeats a name or chain id (the
    /// message says which).
    #[error(transparent)]
    Chain(#[from] opdev_spec::endpoint::EndpointError),
    /// The listen address does not parse.
    #[error("bad --listen {0:?}: expected IP:PORT")]
    Listen(String),
    /// A setting is out of range.
    #[error("{0}")]
    Range(&'static str),
    /// An RPC URL is not valid.
    #[error(transparent)]
    Rpc(#[from] rpc::RpcError),
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

/// A chain to index: `NAME=CHAIN_ID=RPC_URL` (the one parser of `opdev_spec`).
pub use opdev_spec::ChainEndpoint as ChainSpec;

/// Settings shared by every chain's indexer.
#[derive(Debug, Clone)]
pub struct Settings {
    /// PostgreSQL URL.
    pub database_url: String,
    /// Deepest reorg handled.
    pub reorg_limit: u64,
    /// Blocks per batch.
    pub batch_size: usize,
    /// Batches in flight.
    pub concurrency: usize,
    /// Head polling interval.
    pub poll_interval: Duration,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Chains to index.
    pub chains: Vec<ChainSpec>,
    /// HTTP listen address.
    pub listen: SocketAddr,
    /// Shared settings.
    pub settings: Settings,
}

impl TryFrom<ServeArgs> for Config {
    type Error = ConfigError;

    fn try_from(args: ServeArgs) -> Result<Self, Self::Error> {
        let chains = opdev_spec::endpoint::parse_all(&args.chains)?;
        if args.batch_size == 0 || args.batch_size > 10_000 {
            return Err(ConfigError::Range("--batch-size must be 1..=10000"));
        }
        if args.concurrency == 0 || args.concurrency > 64 {
            return Err(ConfigError::Range("--concurrency must be 1..=64"));
        }
        Ok(Self {
            chains,
            listen: args
                .listen
                .parse()
                .map_err(|_| ConfigError::Listen(args.listen.clone()))?,
            settings: Settings {
                database_url: args.database_url,
                reorg_limit: args.reorg_limit,
                batch_size: args.batch_size,
                concurrency: args.concurrency,
                poll_interval: Duration::from_millis(args.poll_interval_ms.max(1)),
            },
        })
    }
}

/// A running indexer: its HTTP address, its status, and its tasks.
#[derive(Debug)]
pub struct Indexer {
    addr: SocketAddr,
    chains: Vec<StatusCell>,
    metrics: Metrics,
    tasks: JoinSet<()>,
}

impl Indexer {
    /// The address the HTTP server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `/health` document now.
    pub fn health(&self) -> Health {
        Health {
            chains: self.chains.iter().map(StatusCell::get).collect(),
        }
    }

    /// The `/metrics` text now.
    pub fn metrics_text(&self) -> String {
        self.metrics.encode()
    }

    /// Waits until every task has ended (after `stop` is cancelled).
    pub async fn wait(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Binds the HTTP server, then spawns one indexer task per chain and the server; everything
/// stops when `stop` is cancelled. A chain that hits a fatal error stops alone.
pub async fn start(config: Config, stop: CancellationToken) -> Result<Indexer, ConfigError> {
    let metrics = Metrics::new();
    let settings = Arc::new(config.settings);
    let mut rpcs = Vec::new();
    for c in &config.chains {
        rpcs.push(Rpc::new(&c.rpc_url)?);
    }
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
    let chains: Vec<StatusCell> = config
        .chains
        .iter()
        .map(|c| StatusCell::new(&c.name, c.chain_id))
        .collect();
    let mut tasks = JoinSet::new();
    for ((spec, rpc), status) in config.chains.into_iter().zip(rpcs).zip(&chains) {
        let indexer =
            chain::ChainIndexer::new(spec, settings.clone(), rpc, metrics.clone(), status.clone());
        let stop = stop.clone();
        tasks.spawn(async move {
            // A fatal error is logged and shown in /health; the other chains go on.
            let _ = indexer.run(stop).await;
        });
    }
    let app = http::router(http::AppState {
        metrics: metrics.clone(),
        chains: chains.clone(),
    });
    let http_stop = stop.clone();
    tasks.spawn(opdev_http::serve(listener, app, http_stop));
    Ok(Indexer {
        addr,
        chains,
        metrics,
        tasks,
    })
}

/// Runs the indexer until `stop` is cancelled (`opdev serve indexer`).
pub async fn serve(args: ServeArgs, stop: CancellationToken) -> anyhow::Result<()> {
    let config = Config::try_from(args)?;
    let indexer = start(config, stop).await?;
    indexer.wait().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_spec_parses_and_keeps_equals_in_the_url() {
        let c: ChainSpec = "l2=901=http://127.0.0.1:9545/?a=b".parse().unwrap();
        assert_eq!(c.name, "l2");
        assert_eq!(c.chain_id, 901);
        assert_eq!(c.rpc_url, "http://127.0.0.1:9545/?a=b");
        assert!("l2=x=http://a".parse::<ChainSpec>().is_err());
        assert!("l2=901".parse::<ChainSpec>().is_err());
    }
}
