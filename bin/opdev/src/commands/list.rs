//! `opdev list`: every devnet in `$OPDEV_HOME`.

use opdev_orchestrator::{Error, client};
use serde_json::json;

use super::Ctx;

pub(crate) async fn run(ctx: &Ctx<'_>) -> Result<(), Error> {
    let mut rows = Vec::new();
    let mut values = Vec::new();
    for devnet in ctx.home.devnets()? {
        let running = client::is_running(&devnet)?;
        let Ok(config) = devnet.load_config() else {
            continue;
        };
        let chains: Vec<String> = config
            .chains()
            .map(|c| format!("{}:{}", c.chain_id, c.port))
            .collect();
        values.push(json!({
            "name": config.name,
            "state": if running { "running" } else { "stopped" },
            "running": running,
            "profile": config.profile.to_string(),
            "runtime": config.runtime.to_string(),
            "l1": { "chain_id": config.l1.chain_id, "rpc": config.l1.rpc_url() },
            "l2": config.l2.iter().map(|c| json!({ "chain_id": c.chain_id, "rpc": c.rpc_url() })).collect::<Vec<_>>(),
            "data_dir": devnet.root(),
        }));
        rows.push(vec![
            config.name.clone(),
            if running {
                ctx.printer.green("running")
            } else {
                "stopped".into()
            },
            config.profile.to_string(),
            config.runtime.to_string(),
            chains.join(" "),
        ]);
    }
    let printer = ctx.printer;
    printer.json(&json!(values));
    if rows.is_empty() {
        printer.line(format!(
            "no devnets in {}; `opdev up` creates one",
            ctx.home.root().display()
        ));
    } else {
        printer.table(
            &["name", "state", "profile", "runtime", "chains (id:port)"],
            &rows,
        );
    }
    Ok(())
}
