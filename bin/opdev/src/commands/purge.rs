//! `opdev purge`: delete a devnet entirely.

use std::io::IsTerminal;

use opdev_orchestrator::{Error, lifecycle};
use serde_json::json;

use super::Ctx;
use crate::cli::PurgeArgs;

pub(crate) async fn run(ctx: &Ctx<'_>, args: PurgeArgs) -> Result<(), Error> {
    let devnet = ctx.devnet()?;
    if !devnet.root().exists() {
        return Err(Error::NotFound(devnet.name().into()));
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::usage(
                format!(
                    "refusing to delete devnet '{}' without confirmation",
                    devnet.name()
                ),
                "pass --yes to delete it without a question",
            ));
        }
        let question = format!(
            "delete devnet '{}' and all its data in {}? [y/N]",
            devnet.name(),
            devnet.root().display()
        );
        if !matches!(ctx.printer.ask(&question).as_str(), "y" | "Y" | "yes") {
            return Err(Error::usage("purge cancelled", "nothing was deleted"));
        }
    }
    lifecycle::purge(&devnet).await?;
    ctx.printer
        .json(&json!({ "name": devnet.name(), "purged": true }));
    ctx.printer
        .line(format!("devnet '{}' deleted", devnet.name()));
    Ok(())
}
