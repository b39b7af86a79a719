//! `opdev`: one command for a local OP Stack devnet. This binary is thin: it parses the command
//! line ([`cli`]), runs one command ([`commands`]) and prints through one printer ([`output`]).
//! The same binary is also each devnet's supervisor (`opdev supervise`, started by `up`).

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::{cli::Cli, output::Printer};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(cli.global.json, cli.global.quiet, cli.global.color);
    let supervising = matches!(
        cli.command,
        cli::Command::Supervise | cli::Command::Serve(_)
    );
    let foreground = matches!(&cli.command, cli::Command::Up(up) if up.foreground);
    init_tracing(cli.global.verbose, supervising || foreground);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match runtime.block_on(commands::run(cli, &printer)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            printer.error(&err);
            ExitCode::from(err.exit_code() as u8)
        }
    }
}

/// Diagnostics go to stderr: warnings by default, more with -v, or OPDEV_LOG's filter. The
/// supervisor (whose stderr is `logs/supervisor.log`) and `up --foreground` log at info.
fn init_tracing(verbose: u8, info_default: bool) {
    let default = match (verbose, info_default) {
        (0, false) => "warn",
        (0, true) | (1, _) => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("OPDEV_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .init();
}
