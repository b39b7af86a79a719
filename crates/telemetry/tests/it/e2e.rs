//! End to end with the real programs: an anvil chain, the exporter in-process, Prometheus with
//! the generated config and rules, Alertmanager with the generated config. Stopping the chain
//! fires `RpcDown` (in Prometheus, in Alertmanager, in the exporter's alert log) and starting it
//! again resolves it; stopping mining fires `HeadStalled` and resuming resolves it. Everything
//! listens on 127.0.0.1; every wait is bounded.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use opdev_telemetry::{
    AlertRecord, ChainEndpoint, Exporter, MonitoringConfig, ServeArgs, config, rules,
};
use opdev_test_utils::{TestAnvil, free_port};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::{get_json, promtool::short, rpc, wait_for, write};

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(program: &str, args: &[String], log: &Path) -> Proc {
    let out = std::fs::File::create(log).unwrap();
    Proc(
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("{program} starts: {e}")),
    )
}

struct Stack {
    dir: tempfile::TempDir,
    prometheus: String,
    alertmanager: String,
    alert_log: PathBuf,
    stop: CancellationToken,
    _procs: Vec<Proc>,
}

impl Stack {
    async fn start(anvil: &TestAnvil) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let alert_log = dir.path().join("alerts.jsonl");
        let mut args = ServeArgs::new(vec![
            format!("l1=900={}", anvil.url())
                .parse::<ChainEndpoint>()
                .unwrap(),
        ]);
        args.disk_path = Some(dir.path().to_path_buf());
        args.alert_log = Some(alert_log.clone());
        let exporter = Exporter::bind(args).await.unwrap();
        let exporter_addr = exporter.local_addr().to_string();
        let stop = CancellationToken::new();
        tokio::spawn(exporter.run(stop.clone()));

        let (prom_port, am_port) = (free_port(), free_port());
        let am_addr = format!("127.0.0.1:{am_port}");
        let cfg = short(MonitoringConfig::new("e2e", exporter_addr, am_addr.clone()))
            .with_chain("l1", 900, 1);
        let d = dir.path();
        write(d, "prometheus.yml", &config::prometheus_yml(&cfg));
        write(d, "alerts.yml", &rules::alert_rules_yml(&cfg));
        write(d, "alertmanager.yml", &config::alertmanager_yml(&cfg));
        let p = |name: &str| d.join(name).display().to_string();
        let alertmanager = spawn(
            "prometheus-alertmanager",
            &[
                format!("--config.file={}", p("alertmanager.yml")),
                format!("--storage.path={}", p("am-data")),
                format!("--web.listen-address={am_addr}"),
                "--cluster.listen-address=".into(),
            ],
            &d.join("alertmanager.log"),
        );
        let prometheus = spawn(
            "prometheus",
            &[
                format!("--config.file={}", p("prometheus.yml")),
                format!("--storage.tsdb.path={}", p("prom-data")),
                format!("--web.listen-address=127.0.0.1:{prom_port}"),
                "--rules.alert.resend-delay=1s".into(),
            ],
            &d.join("prometheus.log"),
        );
        let stack = Self {
            prometheus: format!("http://127.0.0.1:{prom_port}"),
            alertmanager: format!("http://{am_addr}"),
            alert_log,
            stop,
            _procs: vec![prometheus, alertmanager],
            dir,
        };
        for base in [&stack.prometheus, &stack.alertmanager] {
            let url = format!("{base}/-/ready");
            wait_for(
                &format!("{url} answers"),
                Duration::from_secs(20),
                || stack.logs(),
                || async {
                    let r = reqwest::get(&url).await.ok()?;
                    r.status().is_success().then_some(())
                },
            )
            .await;
        }
        // Prometheus has scraped the exporter and sees the chain up.
        stack
            .wait("Prometheus sees l1 up", |s| async move {
                let v = get_json(&format!(
                    "{}/api/v1/query?query=opdev_chain_up",
                    s.prometheus
                ))
                .await?;
                (v["data"]["result"][0]["value"][1] == "1").then_some(())
            })
            .await;
        stack
    }

    fn logs(&self) -> String {
        ["prometheus.log", "alertmanager.log", "alerts.jsonl"]
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
                let tail: Vec<_> = text
                    .lines()
                    .rev()
                    .take(15)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                format!("--- {f}\n{}", tail.join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn wait<'a, T, F, Fut>(&'a self, what: &str, f: F) -> T
    where
        F: Fn(&'a Self) -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        wait_for(what, Duration::from_secs(30), || self.logs(), || f(self)).await
    }

    /// State of `alert` in Prometheus (`pending`, `firing`), `None` when inactive.
    async fn prometheus_state(&self, alert: &str) -> Option<String> {
        let v = get_json(&format!("{}/api/v1/alerts", self.prometheus)).await?;
        v["data"]["alerts"]
            .as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == alert)
            .map(|a| a["state"].as_str().unwrap_or_default().to_owned())
    }

    /// Whether Alertmanager holds `alert` as active.
    async fn alertmanager_active(&self, alert: &str) -> Option<bool> {
        let v: Value = get_json(&format!(
            "{}/api/v2/alerts?active=true&silenced=false&inhibited=false",
            self.alertmanager
        ))
        .await?;
        Some(
            v.as_array()?
                .iter()
                .any(|a| a["labels"]["alertname"] == alert && a["status"]["state"] == "active"),
        )
    }

    fn logged(&self, alert: &str, status: &str) -> Option<AlertRecord> {
        std::fs::read_to_string(&self.alert_log)
            .ok()?
            .lines()
            .filter_map(|l| serde_json::from_str::<AlertRecord>(l).ok())
            .find(|r| {
                r.labels.get("alertname").map(String::as_str) == Some(alert) && r.status == status
            })
    }

    /// Waits until `alert` fires in Prometheus, is active in Alertmanager and is in the log.
    async fn expect_firing(&self, alert: &str) -> AlertRecord {
        self.wait(&format!("{alert} fires in Prometheus"), |s| async move {
            (s.prometheus_state(alert).await? == "firing").then_some(())
        })
        .await;
        self.wait(
            &format!("{alert} is active in Alertmanager"),
            |s| async move { s.alertmanager_active(alert).await?.then_some(()) },
        )
        .await;
        self.wait(&format!("{alert} reaches the alert log"), |s| async move {
            s.logged(alert, "firing")
        })
        .await
    }

    /// Waits until `alert` is gone from Prometheus and Alertmanager and logged as resolved.
    async fn expect_resolved(&self, alert: &str) -> AlertRecord {
        self.wait(
            &format!("{alert} is inactive in Prometheus"),
            |s| async move {
                let v = get_json(&format!("{}/api/v1/alerts", s.prometheus)).await?;
                let alerts = v["data"]["alerts"].as_array()?;
                (!alerts.iter().any(|a| a["labels"]["alertname"] == alert)).then_some(())
            },
        )
        .await;
        self.wait(
            &format!("{alert} is resolved in the alert log"),
            |s| async move { s.logged(alert, "resolved") },
        )
        .await
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_down_fires_and_resolves_end_to_end() {
    let mut anvil = TestAnvil::start(&["--chain-id", "900", "--block-time", "1"]);
    let stack = Stack::start(&anvil).await;
    assert_eq!(stack.prometheus_state("RpcDown").await, None);

    anvil.stop();
    let fired = stack.expect_firing("RpcDown").await;
    assert_eq!(fired.labels["chain"], "l1");
    assert_eq!(fired.labels["chain_id"], "900");
    assert_eq!(fired.labels["devnet"], "e2e");
    assert_eq!(fired.labels["severity"], "critical");
    assert_eq!(fired.receiver, config::EXPORTER_RECEIVER);
    assert_eq!(fired.annotations["summary"], "RPC of l1 is down");
    assert!(fired.annotations["runbook_url"].ends_with("docs/runbooks/RpcDown.md"));
    // A stopped chain is RpcDown, not HeadStalled.
    assert_eq!(stack.logged("HeadStalled", "firing"), None);

    anvil.start_again();
    let resolved = stack.expect_resolved("RpcDown").await;
    assert_eq!(resolved.labels["chain"], "l1");
    assert_ne!(resolved.ends_at, "0001-01-01T00:00:00Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_stalled_fires_and_resolves_end_to_end() {
    let anvil = TestAnvil::start(&["--chain-id", "900", "--block-time", "1"]);
    let stack = Stack::start(&anvil).await;

    let answer = rpc(&anvil.url(), "evm_setIntervalMining", json!([0])).await;
    assert!(answer.get("error").is_none(), "{answer}");
    let fired = stack.expect_firing("HeadStalled").await;
    assert_eq!(fired.labels["chain"], "l1");
    assert_eq!(fired.labels["severity"], "critical");
    assert!(
        fired.annotations["description"].contains("more than 5 s"),
        "{:?}",
        fired.annotations
    );
    assert_eq!(stack.logged("RpcDown", "firing"), None);

    let answer = rpc(&anvil.url(), "evm_setIntervalMining", json!([1])).await;
    assert!(answer.get("error").is_none(), "{answer}");
    stack.expect_resolved("HeadStalled").await;
}
