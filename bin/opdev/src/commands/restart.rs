//! `opdev restart`: restart services of a running devnet and wait until they are ready.

use std::time::Duration;

use opdev_orchestrator::{
    Error, client,
    protocol::{Request, Response},
};
use serde_json::json;

use super::{Ctx, check_services};
use crate::cli::RestartArgs;

pub(crate) async fn run(ctx: &Ctx<'_>, args: RestartArgs) -> Result<(), Error> {
    let (devnet, config) = ctx.existing()?;
    check_services(&config, &devnet, &args.services, &[])?;
    restart(ctx, &devnet, args.services, None).await
}

/// Asks the supervisor to restart `services` (from `binary`, if given) and reports the outcome.
pub(crate) async fn restart(
    ctx: &Ctx<'_>,
    devnet: &opdev_orchestrator::DevnetDir,
    services: Vec<String>,
    binary: Option<std::path::PathBuf>,
) -> Result<(), Error> {
    let request = Request::Restart {
        services: services.clone(),
        binary,
    };
    match client::send(devnet, &request, Duration::from_secs(120)).await? {
        Response::Status(state) => {
            let restarted: Vec<_> = state
                .services
                .iter()
                .filter(|s| services.contains(&s.name))
                .collect();
            ctx.printer.json(&json!({ "restarted": restarted }));
            for s in restarted {
                ctx.printer.line(format!(
                    "{} restarted and ready (pid {}, {})",
                    s.name,
                    s.pid.unwrap_or_default(),
                    s.binary.display()
                ));
            }
            Ok(())
        }
        Response::Error { message, log_tail } => Err(Error::Reported {
            message,
            hint: Some(format!("see `opdev logs --name {}`", devnet.name())),
            code: opdev_orchestrator::ExitCode::NotReady,
            details: log_tail,
        }),
        other => Err(Error::Supervisor {
            name: devnet.name().into(),
            reason: format!("unexpected answer {other:?}"),
        }),
    }
}
