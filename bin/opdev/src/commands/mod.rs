//! One module per command. Each takes the shared [`Ctx`] and returns the orchestrator's error
//! type, whose exit code and hint `main` prints.

use std::path::PathBuf;

use opdev_orchestrator::{DevnetDir, Error, Home};
use opdev_spec::{DevnetConfig, Settings};

use crate::{
    cli::{Cli, Command, known_env},
    output::Printer,
};

mod alerts;
mod bridge;
mod completions;
mod deploy;
mod down;
mod env;
mod faucet;
mod list;
mod logs;
mod purge;
mod restart;
mod rollup;
mod serve;
mod smoke;
mod status;
mod supervise;
mod up;

/// What every command needs.
pub(crate) struct Ctx<'a> {
    pub(crate) printer: &'a Printer,
    pub(crate) home: Home,
    /// Settings from opdev.toml with the global `--name` applied.
    pub(crate) file_settings: Settings,
}

impl Ctx<'_> {
    /// The devnet the command acts on.
    pub(crate) fn devnet(&self) -> Result<DevnetDir, Error> {
        Ok(self.home.devnet(&self.file_settings.devnet_name()?))
    }

    /// The devnet's saved config; an error naming the devnet when it does not exist.
    pub(crate) fn existing(&self) -> Result<(DevnetDir, DevnetConfig), Error> {
        let devnet = self.devnet()?;
        let config = devnet.load_config()?;
        Ok((devnet, config))
    }
}

/// Runs the command `cli` names.
pub(crate) async fn run(cli: Cli, printer: &Printer) -> Result<(), Error> {
    check_env()?;
    let home = Home::from_env()?;
    let mut file_settings = match config_file(cli.global.config.clone())? {
        Some(path) => Settings::from_file(&path)?,
        None => Settings::default(),
    };
    if let Some(name) = cli.global.name.clone() {
        file_settings.name = Some(name);
    }
    let ctx = Ctx {
        printer,
        home,
        file_settings,
    };
    match cli.command {
        Command::Up(args) => up::run(&ctx, args).await,
        Command::Down => down::run(&ctx).await,
        Command::Status => status::run(&ctx).await,
        Command::Logs(args) => logs::run(&ctx, args).await,
        Command::Restart(args) => restart::run(&ctx, args).await,
        Command::Deploy(args) => deploy::run(&ctx, args).await,
        Command::Smoke => smoke::run(&ctx).await,
        Command::Faucet(args) => faucet::run(&ctx, args).await,
        Command::Alerts => alerts::run(&ctx).await,
        Command::Bridge(args) => bridge::run(&ctx, args).await,
        Command::List => list::run(&ctx).await,
        Command::Env(args) => env::run(&ctx, args).await,
        Command::Completions(args) => completions::run(&ctx, &args),
        Command::Purge(args) => purge::run(&ctx, args).await,
        Command::Serve(service) => serve::run(service).await,
        Command::Supervise => supervise::run(&ctx).await,
    }
}

/// `--config`, else `./opdev.toml` when present.
fn config_file(given: Option<PathBuf>) -> Result<Option<PathBuf>, Error> {
    match given {
        Some(path) if path.is_file() => Ok(Some(path)),
        Some(path) => Err(Error::usage(
            format!("config file {} does not exist", path.display()),
            "give the path of an opdev.toml, or leave --config out",
        )),
        None => Ok(Some(PathBuf::from("opdev.toml")).filter(|p| p.is_file())),
    }
}

/// Rejects `OPDEV_*` variables opdev does not know: a typo there would silently do nothing.
fn check_env() -> Result<(), Error> {
    let known = known_env();
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("OPDEV_") && !known.iter().any(|k| *k == key) {
            return Err(Error::usage(
                format!("unknown environment variable {key}"),
                format!("opdev reads {}", known.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Unknown service names are usage errors that list the known ones.
pub(crate) fn check_services(
    config: &DevnetConfig,
    devnet: &DevnetDir,
    names: &[String],
    extra: &[&str],
) -> Result<(), Error> {
    let known: Vec<String> = match opdev_orchestrator::daemon::load_services(devnet) {
        Ok(specs) => specs.into_iter().map(|s| s.name).collect(),
        Err(_) => config.chains().map(|c| c.service.clone()).collect(),
    };
    for name in names {
        if !known.contains(name) && !extra.contains(&name.as_str()) {
            let mut all = known.clone();
            all.extend(extra.iter().map(|s| (*s).to_owned()));
            return Err(Error::usage(
                format!("devnet '{}' has no service '{name}'", config.name),
                format!("its services are: {}", all.join(", ")),
            ));
        }
    }
    Ok(())
}
