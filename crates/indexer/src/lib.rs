//! The indexer: copies every block, transaction, receipt and log of each chain of a devnet into
//! PostgreSQL, restart-safe and reorg-safe. (Under construction.)

use tokio_util::sync::CancellationToken;

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
}

/// Runs the indexer until `stop` is cancelled.
pub async fn serve(_args: ServeArgs, _stop: CancellationToken) -> anyhow::Result<()> {
    anyhow::bail!("the indexer is under construction")
}
