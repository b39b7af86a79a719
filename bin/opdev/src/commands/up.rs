//! `opdev up`: resolve, prepare, launch the supervisor, follow its progress, print the summary.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use opdev_chain::accounts::{self, DEV_ACCOUNTS};
use opdev_orchestrator::{
    DevnetDir, Error, daemon,
    lifecycle::{self, UpOptions},
    plan::Plan,
    protocol::{Event, SupervisorState},
};
use opdev_spec::{DevnetConfig, config::DEFAULT_MNEMONIC};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{Ctx, status::endpoints_json};
use crate::{cli::UpArgs, output::Printer};

pub(crate) async fn run(ctx: &Ctx<'_>, args: UpArgs) -> Result<(), Error> {
    let settings = ctx.file_settings.clone().overlay(args.settings());
    let opdev = std::env::current_exe()
        .map_err(|e| Error::io(std::path::Path::new("current executable"), e))?;
    let mut opts = UpOptions {
        settings,
        fresh: args.fresh,
        opdev: opdev.clone(),
        fork_heads: Default::default(),
    };
    let printer = ctx.printer;
    if args.plan {
        let (plan, config) = lifecycle::plan_only(&ctx.home, &opts)?;
        print_plan(printer, &plan, &config);
        return Ok(());
    }
    let t0 = Instant::now();
    lifecycle::check_runtime(lifecycle::runtime_of(&ctx.home, &opts)).await?;
    opts.fork_heads = lifecycle::check_forks(&ctx.home, &opts).await?;
    let mut prepared = lifecycle::prepare(&ctx.home, &opts, |note| printer.progress(note))?;
    lifecycle::prepare_images(&mut prepared, |note| printer.progress(note)).await?;
    printer.progress(format!(
        "{} devnet '{}' ({} profile, {} runtime, {} L2)",
        if prepared.created {
            "creating"
        } else {
            "starting"
        },
        prepared.config.name,
        prepared.config.profile,
        prepared.config.runtime,
        prepared.config.l2.len(),
    ));
    if args.foreground {
        return foreground(printer, prepared, t0).await;
    }
    let devnet = prepared.devnet.clone();
    let launched = lifecycle::launch(prepared, &opdev, |event| progress(printer, event))?;
    summary(
        printer,
        &devnet,
        &launched.config,
        &launched.state,
        &launched.timings,
        t0.elapsed(),
    );
    Ok(())
}

/// Runs the supervisor in this process until Ctrl-C or `opdev down`.
async fn foreground(
    printer: &Printer,
    prepared: lifecycle::Prepared,
    t0: Instant,
) -> Result<(), Error> {
    let devnet = prepared.devnet.clone();
    let config = prepared.config.clone();
    let created = prepared.created;
    let mut timings = prepared.timings.clone();
    let held = Mutex::new(Some(prepared));
    let result = daemon::run(
        devnet.clone(),
        |event| {
            progress(printer, &event);
            match event {
                Event::StepDone { step, millis } => {
                    timings.push((step, Duration::from_millis(millis)))
                }
                Event::Ready { state } => {
                    summary(printer, &devnet, &config, &state, &timings, t0.elapsed());
                    printer.line(
                        "running in the foreground: Ctrl-C stops the devnet (state is saved)",
                    );
                    if let Some(p) = held.lock().expect("lock").take() {
                        p.release();
                    }
                }
                _ => {}
            }
        },
        CancellationToken::new(),
    )
    .await;
    if let Err(err) = result {
        if !created {
            return Err(err.for_devnet(devnet.name()));
        }
        let _ = std::fs::remove_dir_all(devnet.root());
        return Err(err.after_removal(devnet.name()));
    }
    printer.line(format!(
        "devnet '{}' stopped; its state is saved",
        devnet.name()
    ));
    Ok(())
}

fn progress(printer: &Printer, event: &Event) {
    match event {
        Event::StepStarted { step } => printer.progress(format!("  {step} …")),
        Event::StepDone { step, millis } => {
            printer.progress(format!("  {step} done in {:.2} s", *millis as f64 / 1000.0));
        }
        _ => {}
    }
}

fn summary(
    printer: &Printer,
    devnet: &DevnetDir,
    config: &DevnetConfig,
    state: &SupervisorState,
    timings: &[(String, Duration)],
    total: Duration,
) {
    let accounts = accounts::derive(&config.mnemonic, DEV_ACCOUNTS).unwrap_or_default();
    if printer.is_json() {
        let timings: serde_json::Map<String, serde_json::Value> = timings
            .iter()
            .map(|(s, d)| (s.clone(), json!(d.as_millis() as u64)))
            .collect();
        printer.json(&json!({
            "name": config.name,
            "profile": config.profile.to_string(),
            "runtime": config.runtime.to_string(),
            "data_dir": devnet.root(),
            "supervisor_pid": state.pid,
            "endpoints": endpoints_json(config, devnet.root(), None),
            "services": service_urls(config).into_iter().collect::<serde_json::Map<_, _>>(),
            "accounts": accounts,
            "timings_ms": timings,
            "total_ms": total.as_millis() as u64,
        }));
        return;
    }
    printer.line(format!(
        "{} devnet '{}' is ready in {:.2} s ({} profile, {} runtime)",
        printer.green("✓"),
        config.name,
        total.as_secs_f64(),
        config.profile,
        config.runtime
    ));
    printer.line("");
    let rows: Vec<Vec<String>> = config
        .chains()
        .map(|c| {
            let blocks = if c.block_time == 0 {
                "per tx".to_owned()
            } else {
                format!("{} s", c.block_time)
            };
            vec![
                c.service.clone(),
                c.chain_id.to_string(),
                c.rpc_url(),
                c.ws_url(),
                blocks,
            ]
        })
        .collect();
    printer.table(&["chain", "id", "rpc", "ws", "blocks"], &rows);
    printer.line("");
    let source = if config.mnemonic == DEFAULT_MNEMONIC {
        "anvil's test mnemonic"
    } else {
        "your mnemonic"
    };
    printer.line(format!(
        "accounts ({source}), each with 10000 ETH on every chain:"
    ));
    for a in &accounts {
        printer.line(format!(
            "  ({}) {} {}",
            a.index,
            a.address,
            printer.dim(&a.private_key)
        ));
    }
    printer.line("");
    for (name, url) in service_urls(config) {
        printer.line(format!("{name:<13} {}", url.as_str().unwrap_or_default()));
    }
    if let Some(line) = super::bridge::summary_line(config, devnet.root()) {
        printer.line(line);
    }
    printer.line(format!("data:  {}", devnet.root().display()));
    let steps: Vec<String> = timings
        .iter()
        .map(|(s, d)| format!("{s} {} ms", d.as_millis()))
        .collect();
    printer.line(format!("steps: {}", printer.dim(&steps.join(" · "))));
    printer.line(format!(
        "supervisor pid {} keeps it running: `opdev status`, `opdev logs`, `opdev smoke`, `opdev down`",
        state.pid
    ));
}

fn print_plan(printer: &Printer, plan: &Plan, config: &DevnetConfig) {
    if printer.is_json() {
        printer.json(&json!({ "config": config, "plan": plan }));
        return;
    }
    printer.line(format!(
        "plan for devnet '{}' ({} profile, {} runtime); nothing started",
        plan.devnet, config.profile, config.runtime
    ));
    printer.line("");
    printer.line(printer.bold("services"));
    for spec in &plan.services {
        let ports: Vec<String> = spec
            .ports
            .iter()
            .map(|(n, p)| format!("{n}=127.0.0.1:{p}"))
            .collect();
        let deps = if spec.depends_on.is_empty() {
            "none".to_owned()
        } else {
            spec.depends_on.join(", ")
        };
        printer.line(format!(
            "  {}  [{}]  after: {deps}",
            printer.bold(&spec.name),
            ports.join(" ")
        ));
        let args: Vec<String> = spec
            .args
            .iter()
            .map(|a| {
                if a.split(' ').count() > 3 {
                    "<mnemonic>".to_owned()
                } else {
                    a.clone()
                }
            })
            .collect();
        printer.line(format!(
            "    run:   {} {}",
            spec.artifact.binary.display(),
            args.join(" ")
        ));
        if config.runtime == opdev_spec::RuntimeKind::Docker {
            printer.line(match &spec.artifact.image {
                Some(image) => format!("    image: {image}"),
                None => format!(
                    "    image: built from {} and its libraries",
                    spec.artifact.binary.display()
                ),
            });
        }
        let ready: Vec<String> = spec.ready.iter().map(ToString::to_string).collect();
        printer.line(format!(
            "    ready: {} (within {} s)",
            ready.join("; "),
            spec.ready_timeout.as_secs()
        ));
        printer.line(format!(
            "    restart: {:?}, stop: {} then SIGKILL after {} s",
            spec.restart,
            match spec.stop_signal {
                opdev_spec::StopSignal::Term => "SIGTERM",
                opdev_spec::StopSignal::Int => "SIGINT",
            },
            spec.stop_grace.as_secs()
        ));
    }
    printer.line("");
    printer.line(printer.bold("steps"));
    for step in &plan.steps {
        let after = if step.after.is_empty() {
            String::new()
        } else {
            format!("  (after {})", step.after.join(", "))
        };
        printer.line(format!(
            "  {:<14} {}{}",
            step.id,
            step.what,
            printer.dim(&after)
        ));
    }
}

/// The URLs of the devnet's own services, for the summary.
fn service_urls(config: &DevnetConfig) -> Vec<(String, serde_json::Value)> {
    let url = |service: &str| json!(format!("http://127.0.0.1:{}", config.service_port(service)));
    let mut out = Vec::new();
    if config.indexer {
        out.push(("explorer".to_owned(), url("explorer")));
        out.push(("indexer".to_owned(), url("indexer")));
    }
    if config.faucet {
        out.push(("faucet".to_owned(), url("faucet")));
    }
    if config.monitoring {
        out.push(("prometheus".to_owned(), url("prometheus")));
        out.push(("alertmanager".to_owned(), url("alertmanager")));
    }
    if config.runs_postgres() {
        out.push((
            "postgres".to_owned(),
            json!(format!(
                "127.0.0.1:{} (opdev status shows the URL)",
                config.service_port("postgres")
            )),
        ));
    }
    out
}
