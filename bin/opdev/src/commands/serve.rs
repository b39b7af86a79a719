//! `opdev serve <service>`: run one of opdev's own services in the foreground until SIGTERM or
//! SIGINT. `up` starts these as services of the devnet; the Docker runtime runs the same binary.

use opdev_orchestrator::Error;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::cli::{FundArgs, ServeCommand};

pub(crate) async fn run(service: ServeCommand) -> Result<(), Error> {
    let stop = CancellationToken::new();
    let on_signal = stop.clone();
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| Error::io(std::path::Path::new("signal"), e))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| Error::io(std::path::Path::new("signal"), e))?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        on_signal.cancel();
    });
    let (name, result) = match service {
        ServeCommand::Fund(args) => ("fund", fund(args).await),
        ServeCommand::Indexer(args) => ("indexer", opdev_indexer::serve(args, stop).await),
        ServeCommand::Faucet(args) => ("faucet", opdev_faucet::serve(args, stop).await),
        ServeCommand::Explorer(args) => ("explorer", opdev_explorer::serve(args, stop).await),
        ServeCommand::Relayer(args) => ("relayer", opdev_relayer::relay::serve(args, stop).await),
        ServeCommand::BridgeDeploy(args) => {
            ("bridge-deploy", opdev_relayer::deploy::run(args).await)
        }
        ServeCommand::Pause => {
            stop.cancelled().await;
            ("pause", Ok(()))
        }
        ServeCommand::Exporter(args) => (
            "exporter",
            opdev_telemetry::serve(args, stop)
                .await
                .map_err(anyhow::Error::from),
        ),
    };
    result.map_err(|e| Error::Service {
        service: name.into(),
        reason: format!("{e:#}"),
    })
}

/// Tops the account up on every chain, in parallel.
async fn fund(args: FundArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    use opdev_chain::primitives::{Address, U256};
    let address: Address = args.address.parse().context("--address")?;
    let target = U256::from(args.eth) * U256::from(10u64).pow(U256::from(18u64));
    let chains: Vec<(String, String)> = opdev_spec::endpoint::parse_all(&args.chains)?
        .into_iter()
        .map(|c| (c.name, c.rpc_url))
        .collect();
    let results = futures::future::join_all(chains.iter().map(|(name, url)| async move {
        (name, opdev_chain::fund::top_up(url, address, target).await)
    }))
    .await;
    for (name, result) in results {
        let changed = result.with_context(|| format!("fund {address} on {name}"))?;
        tracing::info!(chain = %name, %address, eth = args.eth, changed, "funded");
    }
    Ok(())
}
