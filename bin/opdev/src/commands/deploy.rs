//! `opdev deploy SERVICE --binary PATH`: run a service from another executable. The choice is
//! saved in the devnet's config, so later `up`s keep it; a running devnet restarts the service
//! at once.

use opdev_orchestrator::{Error, client, tools};

use super::{Ctx, check_services, restart::restart};
use crate::cli::DeployArgs;

pub(crate) async fn run(ctx: &Ctx<'_>, args: DeployArgs) -> Result<(), Error> {
    let (devnet, mut config) = ctx.existing()?;
    check_services(&config, &devnet, std::slice::from_ref(&args.service), &[])?;
    let binary = std::path::absolute(&args.binary).map_err(|e| Error::io(&args.binary, e))?;
    // A full-profile service must get its own program (op-node for l2-1-node…).
    match opdev_profiles::full::tool_of(&config, &args.service) {
        Some(program) => opdev_orchestrator::opstack_go::check_program(program, &binary)?,
        None => tools::check_executable(&format!("binary for {}", args.service), &binary)?,
    }
    config.binaries.insert(args.service.clone(), binary.clone());
    devnet.save_config(&config)?;
    if client::is_running(&devnet)? {
        restart(ctx, &devnet, vec![args.service], Some(binary)).await
    } else {
        ctx.printer.line(format!(
            "{} will run {} from the next `opdev up` (devnet '{}' is stopped)",
            args.service,
            binary.display(),
            devnet.name()
        ));
        Ok(())
    }
}
