//! The faucet: rate-limited test ETH on every chain of a devnet, served over HTTP on 127.0.0.1
//! by `opdev serve faucet`. Claims are reserved, counted and recorded in PostgreSQL (so limits
//! survive restarts), sent through a per-chain nonce manager (so simultaneous claims each get
//! their own nonce), and measured in Prometheus metrics. [`client`] is what the CLI calls.
//!
//! Start it in-process with [`start`] (binds, migrates, returns the bound address) or run it to
//! completion with [`serve`]. The API is described in `docs/faucet.md`.

pub mod claim;
pub mod client;
pub mod config;
pub mod http;
pub mod metrics;
pub mod nonce;
mod page;
pub mod reconcile;
pub mod store;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub use crate::{
    claim::{ClaimError, ClaimResponse},
    config::{ChainConfig, Config, ConfigError, Limit, Limits, ServeArgs},
    store::{ClaimRecord, Outcome, StoreError},
};

/// How long the faucet waits at start for PostgreSQL to accept the migration.
const DATABASE_WAIT: Duration = Duration::from_secs(15);

/// Why the faucet did not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FaucetError {
    /// Bad settings.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database is unusable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A chain's RPC URL is unusable.
    #[error(transparent)]
    Chain(#[from] nonce::SendError),
    /// The listen address could not be bound.
    #[error("bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("serve HTTP: {0}")]
    Serve(std::io::Error),
}

/// A faucet running in the background.
#[derive(Debug)]
pub struct Running {
    /// The address the HTTP server is bound to.
    pub local_addr: SocketAddr,
    task: JoinHandle<Result<(), FaucetError>>,
}

impl Running {
    /// `http://<local_addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Waits until the server has stopped (after its stop token is cancelled).
    pub async fn wait(self) -> Result<(), FaucetError> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(FaucetError::Serve(std::io::Error::other(e))),
        }
    }
}

/// Runs `opdev serve faucet` until `stop` is cancelled. The key comes from `FAUCET_PRIVATE_KEY`.
pub async fn serve(args: ServeArgs, stop: CancellationToken) -> anyhow::Result<()> {
    let config = Config::from_args(&args)?;
    start(config, stop).await?.wait().await?;
    Ok(())
}

/// Migrates the database, binds `config.listen`, logs `listening on ADDR` and serves in a
/// background task until `stop` is cancelled.
pub async fn start(config: Config, stop: CancellationToken) -> Result<Running, FaucetError> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| FaucetError::Bind {
            addr: config.listen,
            source,
        })?;
    serve_with(config, listener, stop).await
}

/// Like [`start`], on a listener the caller bound.
pub async fn serve_with(
    config: Config,
    listener: TcpListener,
    stop: CancellationToken,
) -> Result<Running, FaucetError> {
    let store = store::Store::new(&config.database_url, config.pool_size)?;
    migrate(&store, &stop).await?;
    let faucet = Arc::new(claim::Faucet::new(config, store)?);
    // What a crash left pending is settled before the first claim is taken.
    let (_, unsettled) = faucet.reconcile().await?;
    if !unsettled.is_empty() {
        let (faucet, stop) = (faucet.clone(), stop.clone());
        tokio::spawn(async move { faucet.reconcile_later(unsettled, stop).await });
    }
    let local_addr = listener.local_addr().map_err(FaucetError::Serve)?;
    let chains: Vec<String> = faucet
        .chains
        .iter()
        .map(|c| format!("{}={}", c.config.name, c.config.chain_id))
        .collect();
    tracing::info!(
        faucet = %faucet.config.signer.address(),
        chains = %chains.join(","),
        "listening on {local_addr}"
    );
    let app = http::router(faucet);
    let task = tokio::spawn(async move {
        opdev_http::serve(listener, app, stop).await;
        tracing::info!("faucet stopped");
        Ok(())
    });
    Ok(Running { local_addr, task })
}

/// Runs the migration, retrying while PostgreSQL is still starting (bounded).
async fn migrate(store: &store::Store, stop: &CancellationToken) -> Result<(), FaucetError> {
    let deadline = tokio::time::Instant::now() + DATABASE_WAIT;
    loop {
        match store.migrate().await {
            Ok(()) => return Ok(()),
            Err(e) if tokio::time::Instant::now() < deadline && !stop.is_cancelled() => {
                tracing::debug!(error = %e, "database not ready, retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
