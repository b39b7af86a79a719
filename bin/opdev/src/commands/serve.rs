//! `opdev serve <service>`: run one of opdev's own services in the foreground until SIGTERM or
//! SIGINT. `up` starts these as services of the devnet; the Docker runtime runs the same binary.

use opdev_orchestrator::Error;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::cli::ServeCommand;

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
        ServeCommand::Indexer(args) => ("indexer", opdev_indexer::serve(args, stop).await),
        ServeCommand::Faucet(args) => ("faucet", opdev_faucet::serve(args, stop).await),
    };
    result.map_err(|e| Error::Service {
        service: name.into(),
        reason: format!("{e:#}"),
    })
}
