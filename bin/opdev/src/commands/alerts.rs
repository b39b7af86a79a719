//! `opdev alerts`: the devnet's alerts as Prometheus evaluates them (firing and pending), each
//! with its runbook.

use opdev_orchestrator::{Error, client};
use opdev_spec::DevnetConfig;
use serde_json::{Value, json};

use super::Ctx;

/// The alerts Prometheus reports for the devnet (firing and pending), or `None` when monitoring
/// is off or Prometheus does not answer.
pub(crate) async fn fetch(config: &DevnetConfig) -> Option<Vec<Value>> {
    if !config.monitoring {
        return None;
    }
    let url = format!(
        "http://127.0.0.1:{}/api/v1/alerts",
        config.service_port("prometheus")
    );
    let body = opdev_chain::http::get_json(&url, std::time::Duration::from_secs(2))
        .await
        .ok()?;
    let alerts = body["data"]["alerts"].as_array()?;
    Some(
        alerts
            .iter()
            .map(|a| {
                let labels = &a["labels"];
                json!({
                    "alert": labels["alertname"],
                    "state": a["state"],
                    "severity": labels["severity"],
                    "target": labels.get("chain").or_else(|| labels.get("service")).or_else(|| labels.get("job")),
                    "summary": a["annotations"]["summary"],
                    "runbook": a["annotations"]["runbook_url"],
                    "since": a["activeAt"],
                })
            })
            .collect(),
    )
}

/// One line per alert, for `status` and `alerts`.
pub(crate) fn describe(alert: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let target = text(&alert["target"]);
    let target = if target.is_empty() {
        String::new()
    } else {
        format!(" ({target})")
    };
    format!(
        "{} {}{target}: {} — runbook: {}",
        text(&alert["state"]),
        text(&alert["alert"]),
        text(&alert["summary"]),
        text(&alert["runbook"])
    )
}

pub(crate) async fn run(ctx: &Ctx<'_>) -> Result<(), Error> {
    let (devnet, config) = ctx.existing()?;
    if !config.monitoring {
        return Err(Error::usage(
            format!("devnet '{}' runs no monitoring", config.name),
            "start it with monitoring: `opdev up --monitoring true`",
        ));
    }
    if !client::is_running(&devnet)? {
        return Err(Error::NotRunning(devnet.name().into()));
    }
    let alerts = fetch(&config).await.ok_or_else(|| Error::Supervisor {
        name: config.name.clone(),
        reason: "Prometheus does not answer".into(),
    })?;
    let printer = ctx.printer;
    printer.json(&json!({ "alerts": alerts }));
    if alerts.is_empty() {
        printer.line("no alerts");
    }
    for alert in &alerts {
        printer.line(describe(alert));
    }
    Ok(())
}
