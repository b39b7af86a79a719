//! `opdev smoke`: the definition of done of a devnet, as a command — on every chain at once,
//! deploy the Counter, call `increment`, read it back.

use std::time::Duration;

use opdev_chain::smoke;
use opdev_orchestrator::{Error, client};
use serde_json::json;

use super::Ctx;

pub(crate) async fn run(ctx: &Ctx<'_>) -> Result<(), Error> {
    let (devnet, config) = ctx.existing()?;
    if !client::is_running(&devnet)? {
        return Err(Error::NotRunning(devnet.name().into()));
    }
    let checks = config.chains().map(|c| {
        let timeout = Duration::from_secs(30 + 3 * c.block_time);
        let mnemonic = config.mnemonic.clone();
        async move {
            (
                c,
                smoke::run(&c.rpc_url(), c.chain_id, &mnemonic, timeout).await,
            )
        }
    });
    let results = futures::future::join_all(checks).await;
    let printer = ctx.printer;
    let mut failure = None;
    let mut values = Vec::new();
    for (chain, result) in results {
        match result {
            Ok(report) => {
                printer.line(format!(
                    "{} {:<5} chain {:<5} Counter {}  number() = {} after increment",
                    printer.green("✓"),
                    chain.service,
                    chain.chain_id,
                    report.counter,
                    report.value
                ));
                printer.line(printer.dim(&format!(
                    "    deploy tx {}  increment tx {} (block {})",
                    report.deploy_tx, report.increment_tx, report.block
                )));
                values.push(json!({ "service": chain.service, "ok": true, "report": report }));
            }
            Err(e) => {
                printer.line(format!(
                    "{} {:<5} chain {:<5} {e}",
                    printer.red("✗"),
                    chain.service,
                    chain.chain_id
                ));
                values
                    .push(json!({ "service": chain.service, "ok": false, "error": e.to_string() }));
                failure.get_or_insert(e);
            }
        }
    }
    printer.json(&json!({ "name": config.name, "ok": failure.is_none(), "chains": values }));
    match failure {
        None => Ok(()),
        Some(e) => Err(e.into()),
    }
}
