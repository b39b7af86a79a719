//! `opdev completions SHELL`: a completion script generated from the command-line definition
//! itself (clap_complete), so it always matches the flags of this binary.

use clap::CommandFactory;
use opdev_orchestrator::Error;

use super::Ctx;
use crate::cli::{Cli, CompletionsArgs};

pub(crate) fn run(ctx: &Ctx<'_>, args: &CompletionsArgs) -> Result<(), Error> {
    ctx.printer.data(script(args.shell).trim_end());
    Ok(())
}

/// The completion script of `shell`.
pub(crate) fn script(shell: clap_complete::Shell) -> String {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "opdev", &mut out);
    String::from_utf8(out).expect("completion scripts are UTF-8")
}
