//! `opdev`: one command for a local OP Stack devnet. This binary is thin: it parses the command
//! line ([`cli`]), runs one command ([`commands`]) and prints through one printer ([`output`]).
//! The same binary is also each devnet's supervisor (`opdev supervise`, started by `up`).

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::{
    Parser,
    error::{ContextKind, ContextValue, ErrorKind},
};
use opdev_orchestrator::Error;
use tracing_subscriber::EnvFilter;

use crate::{
    cli::Cli,
    output::{ColorChoice, Printer},
};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return parse_error(e),
    };
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

/// A command line clap refused: `--help` and `--version` print as clap makes them; anything else
/// is one line of cause and a hint, like every other error of opdev, with exit code 2.
fn parse_error(e: clap::Error) -> ExitCode {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let json = std::env::args_os().any(|a| a == "--json");
    let err = usage_error(&e);
    Printer::new(json, false, ColorChoice::Auto).error(&err);
    ExitCode::from(err.exit_code() as u8)
}

/// clap's error as an [`Error::Usage`]: its first paragraph on one line, and a hint naming the
/// command's `--help`.
fn usage_error(e: &clap::Error) -> Error {
    let rendered = e.render().to_string();
    let message = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let message = message
        .strip_prefix("error: ")
        .unwrap_or(&message)
        .to_owned();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = command_path(&args);
    let suggestion = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    let help = format!("`{command} --help` lists what it takes");
    let hint = match e.kind() {
        ErrorKind::InvalidSubcommand => match suggestion(ContextKind::SuggestedSubcommand) {
            Some(s) => format!("did you mean `opdev {s}`? `opdev --help` lists the commands"),
            None => "`opdev --help` lists the commands".to_owned(),
        },
        ErrorKind::UnknownArgument => match suggestion(ContextKind::SuggestedArg) {
            Some(s) => format!("did you mean `{s}`? {help}"),
            None => match suggestion(ContextKind::InvalidArg) {
                // `--block-time -1`: clap reads the negative number as a flag.
                Some(arg) if arg.parse::<f64>().is_ok() => {
                    match args
                        .iter()
                        .position(|a| *a == arg)
                        .and_then(|i| i.checked_sub(1))
                    {
                        Some(i) if args[i].starts_with('-') => {
                            format!("{} does not take a negative number; {help}", args[i])
                        }
                        _ => help,
                    }
                }
                _ => help,
            },
        },
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            match suggestion(ContextKind::InvalidArg) {
                Some(arg) => {
                    let arg = arg.split_whitespace().next().unwrap_or(&arg).to_owned();
                    format!("see `{command} --help` for the values {arg} takes")
                }
                None => help,
            }
        }
        _ => help,
    };
    Error::usage(message, hint)
}

/// The command the arguments name, as far as they name one: `opdev`, `opdev up`,
/// `opdev faucet history`…
fn command_path(args: &[String]) -> String {
    use clap::CommandFactory;
    let mut command = Cli::command();
    let mut path = vec!["opdev".to_owned()];
    for arg in args {
        let Some(sub) = command
            .get_subcommands()
            .find(|c| c.get_name() == arg || c.get_all_aliases().any(|a| a == arg))
            .cloned()
        else {
            continue;
        };
        path.push(sub.get_name().to_owned());
        command = sub;
    }
    path.join(" ")
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
