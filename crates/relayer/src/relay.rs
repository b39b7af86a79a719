//! `opdev serve relayer`: one loop per L2 that relays its deposits and L1-info updates, and one
//! proposer loop for all L2s (they share the proposer's key, so its nonces stay in order). Every
//! loop survives its chains going away: an RPC error is logged and retried on the next tick.
//! `GET /metrics` and `GET /health` are served on `--listen` (see [`crate::metrics`]).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, bail};
use opdev_opstack::{Record, anvil::Chain};
use tokio_util::sync::CancellationToken;

use crate::{
    deposits::DepositRelay, http, l1info::L1InfoFeed, metrics::Metrics, proposer::Proposer,
};

/// `opdev serve relayer` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// A chain, as NAME=CHAIN_ID=RPC_URL: the L1 first, then every L2 in order.
    #[arg(long = "chain", value_name = "NAME=ID=URL", required = true)]
    pub chains: Vec<String>,
    /// Address of the /metrics and /health HTTP server.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// The bridge record written by `opdev serve bridge-deploy`.
    #[arg(long, value_name = "FILE")]
    pub bridge: PathBuf,
    /// Folder for the relayer's checkpoints.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// L1 blocks on top of a deposit's block before it is relayed (0: as soon as it is mined).
    #[arg(long, default_value_t = 0)]
    pub deposit_confirmations: u64,
    /// Seconds during which a relayed deposit is checked again on its L2 (an L2 killed hard
    /// loses its newest blocks; what it lost in that window is relayed again).
    #[arg(long, default_value_t = 120)]
    pub recheck_window: u64,
    /// Seconds between two output proposals of the same L2.
    #[arg(long, default_value_t = opdev_spec::config::PROPOSAL_INTERVAL)]
    pub proposal_interval: u64,
    /// How often to look at the chains, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub poll_interval_ms: u64,
    /// Private key of the proposer.
    #[arg(long, env = "PROPOSER_PRIVATE_KEY", hide_env_values = true)]
    pub proposer_key: String,
}

/// Runs the relayer until `stop` is cancelled.
pub async fn serve(args: ServeArgs, stop: CancellationToken) -> anyhow::Result<()> {
    let endpoints = opdev_spec::endpoint::parse_all(&args.chains)?;
    let [l1_endpoint, l2_endpoints @ ..] = endpoints.as_slice() else {
        bail!("--chain: the L1 and at least one L2 are needed");
    };
    let listen: SocketAddr = args
        .listen
        .parse()
        .with_context(|| format!("bad --listen {:?}: expected IP:PORT", args.listen))?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("bind {listen}"))?;
    let addr = listener
        .local_addr()
        .with_context(|| format!("bind {listen}"))?;
    tracing::info!("listening on {addr}");
    let metrics = Metrics::new(l2_endpoints.iter().map(|e| (e.name.as_str(), e.chain_id)));
    let record = Record::read(&args.bridge)?;
    let proposer_key: PrivateKeySigner = args
        .proposer_key
        .parse()
        .context("PROPOSER_PRIVATE_KEY is not a private key")?;
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("create {}", args.data.display()))?;
    let l1 = Chain::connect(&l1_endpoint.rpc_url, None)?;
    let poll = Duration::from_millis(args.poll_interval_ms.max(10));

    let mut tasks = tokio::task::JoinSet::new();
    let mut proposals = Vec::new();
    for endpoint in l2_endpoints {
        let Some(contracts) = record.chain(&endpoint.name) else {
            bail!(
                "{} is not in the bridge record {}; run `opdev up --fresh`",
                endpoint.name,
                args.bridge.display()
            );
        };
        let l2 = Chain::connect(&endpoint.rpc_url, None)?;
        let chain_metrics = metrics.chain(&endpoint.name).unwrap_or_default();
        let mut relay = DepositRelay::open(
            &args.data,
            &endpoint.name,
            l1.clone(),
            l2.clone(),
            contracts.get("OptimismPortal"),
            args.deposit_confirmations,
            Duration::from_secs(args.recheck_window),
        )?
        .with_metrics(chain_metrics.clone());
        let mut feed = L1InfoFeed::new(
            l1.clone(),
            l2.clone(),
            opdev_opstack::l1::batcher_hash(record.deployment.settings.batcher),
        )
        .with_metrics(chain_metrics.clone());
        let stop = stop.clone();
        let name = endpoint.name.clone();
        let l1 = l1.clone();
        tasks.spawn(async move {
            let mut ticker = tokio::time::interval(poll);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stop.is_cancelled() {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = ticker.tick() => {}
                }
                if let Err(e) = feed.tick().await {
                    tracing::warn!(chain = %name, error = %e, "L1-info update");
                }
                if let Err(e) = relay.tick().await {
                    tracing::warn!(chain = %name, error = %e, "deposit relay");
                }
                // Read apart from the tick, so a relay stuck on its L2 shows a growing lag.
                if let Ok(head) = l1.block_number().await {
                    chain_metrics.deposit_progress(head, relay.checkpoint().next_block);
                }
            }
            relay.save()
        });
        proposals.push((
            endpoint.name.clone(),
            l2,
            contracts.get("DisputeGameFactory"),
        ));
    }
    let mut proposer = Proposer::new(
        l1.clone(),
        proposer_key,
        record.deployment.game_type,
        proposals,
        Duration::from_secs(args.proposal_interval.max(1)),
    )
    .with_metrics(&metrics);
    let stop_proposer = stop.clone();
    tasks.spawn(async move {
        let mut ticker = tokio::time::interval(poll.max(Duration::from_millis(250)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !stop_proposer.is_cancelled() {
            tokio::select! {
                _ = stop_proposer.cancelled() => break,
                _ = ticker.tick() => {}
            }
            proposer.tick().await;
        }
        Ok(())
    });
    let app = http::router(http::AppState {
        metrics,
        l2s: l2_endpoints
            .iter()
            .map(|e| http::L2 {
                chain: e.name.clone(),
                chain_id: e.chain_id,
            })
            .collect(),
    });
    let stop_http = stop.clone();
    tasks.spawn(async move {
        opdev_http::serve(listener, app, stop_http).await;
        Ok(())
    });
    tracing::info!(l2s = l2_endpoints.len(), "relayer running");
    while let Some(result) = tasks.join_next().await {
        result.context("relayer task panicked")??;
    }
    Ok(())
}
