//! `opdev status`: the supervisor's live view (or the last saved one when stopped) and each
//! chain's head.

use opdev_chain::rpc::Probe;
use std::time::{Duration, SystemTime};

use opdev_orchestrator::{DevnetDir, Error, client, daemon};
use opdev_runtime::{ServiceStatus, State};
use opdev_spec::{DevnetConfig, RuntimeKind};
use serde_json::{Value, json};

use super::Ctx;

pub(crate) async fn run(ctx: &Ctx<'_>) -> Result<(), Error> {
    let (devnet, config) = ctx.existing()?;
    let running = client::is_running(&devnet)?;
    let state = if running {
        Some(client::status(&devnet).await?)
    } else {
        daemon::load_state(&devnet)
    };
    let mut services: Vec<ServiceStatus> = state
        .as_ref()
        .map(|s| s.services.clone())
        .unwrap_or_default();
    if !running {
        for s in &mut services {
            s.state = State::Stopped;
            s.pid = None;
        }
    }
    let heads = if running {
        Some(heads(&config).await)
    } else {
        None
    };
    // Docker: what the daemon says about each service's container.
    let containers = if config.runtime == RuntimeKind::Docker {
        match opdev_runtime::docker::connect().await {
            Ok(docker) => opdev_runtime::docker::list_containers(&docker, devnet.name())
                .await
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let container_of = |name: &str| containers.iter().find(|c| c.service == name);
    let secrets = opdev_orchestrator::secrets::preview(&devnet, &config);
    let state_of = |name: &str| {
        services
            .iter()
            .find(|s| s.name == name)
            .map(|s| state_text(s.state))
    };
    let database = config.needs_database().then(|| {
        json!({
            "url": opdev_profiles::masked_database_url(&config, &secrets),
            "external": config.postgres_url.is_some(),
            "state": if config.runs_postgres() { state_of("postgres") } else { None },
            "credentials": devnet.root().join("secrets"),
        })
    });
    let indexer = if config.indexer {
        let url = format!("http://127.0.0.1:{}", config.service_port("indexer"));
        let health = if running {
            get_json(&format!("{url}/health")).await
        } else {
            None
        };
        Some(
            json!({ "url": url, "state": state_of("indexer"), "chains": health.map(|h| h["chains"].clone()) }),
        )
    } else {
        None
    };
    let explorer = config.indexer.then(|| {
        json!({ "url": format!("http://127.0.0.1:{}", config.service_port("explorer")), "state": state_of("explorer") })
    });
    let faucet = config.faucet.then(|| {
        json!({ "url": format!("http://127.0.0.1:{}", config.service_port("faucet")), "state": state_of("faucet") })
    });
    let monitoring = |service: &str| {
        config.monitoring.then(|| {
            json!({ "url": format!("http://127.0.0.1:{}", config.service_port(service)), "state": state_of(service) })
        })
    };
    let (prometheus, alertmanager) = (monitoring("prometheus"), monitoring("alertmanager"));
    let saved = saved_ages(&devnet, &config);
    let alerts = if running {
        super::alerts::fetch(&config).await
    } else {
        None
    };
    let rollup = if running {
        super::rollup::status(&config, &secrets.rollup).await
    } else {
        Vec::new()
    };
    let printer = ctx.printer;
    if printer.is_json() {
        printer.json(&json!({
            "name": config.name,
            "profile": config.profile.to_string(),
            "runtime": config.runtime.to_string(),
            "running": running,
            "supervisor_pid": state.as_ref().filter(|_| running).map(|s| s.pid),
            "data_dir": devnet.root(),
            "services": services
                .iter()
                .map(|s| {
                    let mut v = service_json(s);
                    if let Some(c) = container_of(&s.name) {
                        v["container"] = json!(c);
                    }
                    v
                })
                .collect::<Vec<_>>(),
            "endpoints": with_saved(endpoints_json(&config, devnet.root(), heads.as_deref()), &saved),
            "bridge": super::bridge::summary_json(&config, devnet.root(), state_of("relayer")),
            "rollup": (config.profile == opdev_spec::Profile::Full).then_some(&rollup),
            "database": database,
            "indexer": indexer,
            "faucet": faucet,
            "explorer": explorer,
            "prometheus": prometheus,
            "alertmanager": alertmanager,
            "alerts": alerts,
        }));
        return Ok(());
    }
    let headline = if running {
        printer.green(&format!(
            "running (supervisor pid {})",
            state.as_ref().map(|s| s.pid).unwrap_or_default()
        ))
    } else {
        "stopped".to_owned()
    };
    printer.line(format!(
        "devnet '{}' ({} profile, {} runtime): {headline}",
        config.name, config.profile, config.runtime
    ));
    printer.line("");
    let docker = config.runtime == RuntimeKind::Docker;
    let rows: Vec<Vec<String>> = services
        .iter()
        .map(|s| {
            let mut row = vec![
                s.name.clone(),
                state_text(s.state).to_owned(),
                s.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
            ];
            if docker {
                row.push(
                    container_of(&s.name)
                        .map(|c| format!("{} {}", c.id, c.state))
                        .unwrap_or_else(|| "-".into()),
                );
            }
            row.extend([
                s.ports
                    .values()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                s.restarts.to_string(),
                s.last_error.clone().unwrap_or_default(),
            ]);
            row
        })
        .collect();
    let mut headers = vec!["service", "state", "pid"];
    if docker {
        headers.push("container");
    }
    headers.extend(["ports", "restarts", "last error"]);
    printer.table(&headers, &rows);
    printer.line("");
    let rows: Vec<Vec<String>> = config
        .chains()
        .enumerate()
        .map(|(i, c)| {
            let head = heads
                .as_ref()
                .and_then(|h| h[i])
                .map(|h| h.to_string())
                .unwrap_or_else(|| "-".into());
            let saved = match saved[i] {
                Some(age) => format!("{} ago", humantime::format_duration(age)),
                // op-geth commits every block to its database as it makes it.
                None if i > 0 && config.profile == opdev_spec::Profile::Full => {
                    "every block".into()
                }
                None => "never".into(),
            };
            vec![
                c.service.clone(),
                c.chain_id.to_string(),
                c.rpc_url(),
                head,
                saved,
            ]
        })
        .collect();
    printer.table(&["chain", "id", "rpc", "head", "state saved"], &rows);
    if !rollup.is_empty() {
        printer.line("");
        let number = |v: &Value| v.as_u64().map_or_else(|| "-".into(), |n| n.to_string());
        let rows: Vec<Vec<String>> = rollup
            .iter()
            .map(|r| {
                vec![
                    r["l2"].as_str().unwrap_or_default().to_owned(),
                    number(&r["unsafe"]),
                    number(&r["safe"]),
                    number(&r["finalized"]),
                    super::rollup::describe_tx(&r["batcher"]["last_l1_tx"]),
                    super::rollup::describe_tx(&r["proposer"]["last_l1_tx"]),
                ]
            })
            .collect();
        printer.table(
            &[
                "rollup",
                "unsafe",
                "safe",
                "finalized",
                "batcher's last tx",
                "proposer's last tx",
            ],
            &rows,
        );
    }
    if let Some(db) = &database {
        printer.line(format!(
            "\ndatabase: {}",
            db["url"].as_str().unwrap_or_default()
        ));
    }
    if let Some(indexer) = &indexer {
        let mut line = format!("indexer:  {}", indexer["url"].as_str().unwrap_or_default());
        if let Some(chains) = indexer["chains"].as_array() {
            let parts: Vec<String> = chains
                .iter()
                .map(|c| {
                    format!(
                        "{} at {} (lag {})",
                        c["name"].as_str().unwrap_or("?"),
                        c["indexed_head"],
                        c["lag"]
                    )
                })
                .collect();
            line.push_str(&format!("  {}", parts.join(", ")));
        }
        printer.line(line);
    }
    if let Some(explorer) = &explorer {
        printer.line(format!(
            "explorer: {}",
            explorer["url"].as_str().unwrap_or_default()
        ));
    }
    if let Some(faucet) = &faucet {
        printer.line(format!(
            "faucet:   {}",
            faucet["url"].as_str().unwrap_or_default()
        ));
    }
    for (name, service) in [
        ("prometheus:", &prometheus),
        ("alertmanager:", &alertmanager),
    ] {
        if let Some(service) = service {
            printer.line(format!(
                "{name:<9} {}",
                service["url"].as_str().unwrap_or_default()
            ));
        }
    }
    if let Some(alerts) = &alerts {
        let firing: Vec<&Value> = alerts.iter().filter(|a| a["state"] == "firing").collect();
        printer.line(format!("alerts:   {} firing", firing.len()));
        for alert in firing {
            printer.line(format!("  {}", super::alerts::describe(alert)));
        }
    }
    printer.line(format!("\ndata: {}", devnet.root().display()));
    Ok(())
}

/// How long ago each chain (L1 first) last saved its state: the age of its state file, to the
/// second; `None` when it has never saved (op-geth writes every block to disk: none).
fn saved_ages(devnet: &DevnetDir, config: &DevnetConfig) -> Vec<Option<Duration>> {
    config
        .chains()
        .map(|c| {
            if config.profile == opdev_spec::Profile::Full && c.service != config.l1.service {
                return None;
            }
            let file = devnet
                .data_dir()
                .join(&c.service)
                .join(opdev_profiles::lite::STATE_FILE);
            let modified = std::fs::metadata(file).and_then(|m| m.modified()).ok()?;
            let age = SystemTime::now()
                .duration_since(modified)
                .unwrap_or_default();
            Some(Duration::from_secs(age.as_secs()))
        })
        .collect()
}

/// `endpoints` with each chain's `state_saved_secs_ago` (null: never saved).
fn with_saved(mut endpoints: Value, saved: &[Option<Duration>]) -> Value {
    endpoints["l1"]["state_saved_secs_ago"] = json!(saved[0].map(|d| d.as_secs()));
    if let Some(l2s) = endpoints["l2"].as_array_mut() {
        for (i, l2) in l2s.iter_mut().enumerate() {
            l2["state_saved_secs_ago"] = json!(saved[i + 1].map(|d| d.as_secs()));
        }
    }
    endpoints
}

fn state_text(state: State) -> &'static str {
    match state {
        State::Starting => "starting",
        State::Ready => "ready",
        State::Restarting => "restarting",
        State::Stopped => "stopped",
        State::Failed => "failed",
        State::Exited => "exited",
        State::Done => "done",
    }
}

fn service_json(s: &ServiceStatus) -> Value {
    json!({
        "name": s.name,
        "state": state_text(s.state),
        "ready": matches!(s.state, State::Ready | State::Done),
        "pid": s.pid,
        "restarts": s.restarts,
        "ports": s.ports,
        "binary": s.binary,
        "last_error": s.last_error,
        "started_at": s.started_at,
        "container_id": s.container,
    })
}

/// Each chain's head, probed concurrently; `None` where the RPC does not answer.
pub(crate) async fn heads(config: &DevnetConfig) -> Vec<Option<u64>> {
    let probes = config.chains().map(|c| async move {
        let probe = Probe::new(&c.rpc_url()).ok()?;
        probe.block_number().await.ok()
    });
    futures::future::join_all(probes).await
}

/// The `endpoints` object of `up --json` and `status --json`; with the bridge's record of the
/// devnet in `root`, the L1 contracts of each L2 (`l1_contracts`) and the L1's own
/// (`contracts`), by contract name, EIP-55 checksummed.
pub(crate) fn endpoints_json(
    config: &DevnetConfig,
    root: &std::path::Path,
    heads: Option<&[Option<u64>]>,
) -> Value {
    let record = super::bridge::record(config, root);
    let chain = |i: usize, c: &opdev_spec::ChainConfig| {
        let mut v = json!({
            "service": c.service,
            "chain_id": c.chain_id,
            "rpc": c.rpc_url(),
            "ws": c.ws_url(),
            "block_time": c.block_time,
        });
        if let Some(heads) = heads {
            v["head"] = json!(heads[i]);
        }
        if let Some(record) = &record {
            if i == 0 {
                v["contracts"] = super::bridge::addresses_json(&record.l1_contracts);
            } else if let Some(chain) = record.chain(&c.service) {
                v["l1_contracts"] = super::bridge::addresses_json(&chain.contracts);
            }
        }
        v
    };
    json!({
        "l1": chain(0, &config.l1),
        "l2": config.l2.iter().enumerate().map(|(i, c)| chain(i + 1, c)).collect::<Vec<_>>(),
    })
}

async fn get_json(url: &str) -> Option<Value> {
    opdev_chain::http::get_json(url, std::time::Duration::from_secs(2))
        .await
        .ok()
}
