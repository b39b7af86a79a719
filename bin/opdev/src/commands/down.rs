//! `opdev down`: stop gracefully, state saved.

use std::time::{Duration, Instant};

use opdev_orchestrator::{Error, lifecycle};
use serde_json::json;

use super::Ctx;

pub(crate) async fn run(ctx: &Ctx<'_>) -> Result<(), Error> {
    let (devnet, _) = ctx.existing()?;
    let t0 = Instant::now();
    let was_running = lifecycle::down(&devnet, Duration::from_secs(60)).await?;
    let printer = ctx.printer;
    printer.json(&json!({ "name": devnet.name(), "was_running": was_running, "millis": t0.elapsed().as_millis() as u64 }));
    if was_running {
        printer.line(format!(
            "devnet '{}' stopped in {:.2} s; its state is saved and `opdev up` resumes it",
            devnet.name(),
            t0.elapsed().as_secs_f64()
        ));
    } else {
        printer.line(format!("devnet '{}' was not running", devnet.name()));
    }
    Ok(())
}
