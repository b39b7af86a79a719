//! The devnet's monitoring settings and the files generated from them: `prometheus.yml` (scrape
//! every opdev service, the lite bridge's relayer when the devnet has one, the OP Stack programs
//! of each L2 of a full-profile devnet, evaluate the rules, send alerts to Alertmanager),
//! `alertmanager.yml` (every
//! alert to the exporter's `/alerts` log, and to the user's webhook when one is set) and Grafana's
//! datasource provisioning file. Every function here is pure: settings in, file text out.
//!
//! Files are JSON documents under a `#` comment line; JSON is YAML, so Prometheus, Alertmanager
//! and Grafana read them unchanged.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

/// One chain the devnet runs, as monitoring sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainTarget {
    /// Service name, e.g. `l1`, `l2-1` (the `chain` label of the exporter's metrics).
    pub name: String,
    /// Chain id (the `chain_id` label).
    pub chain_id: u64,
    /// Seconds between blocks; `0` mines a block per transaction (no `HeadStalled` rule).
    pub block_time: u64,
}

/// An opdev service Prometheus scrapes at `http://<address>/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScrapeTarget {
    /// Prometheus job name, e.g. `opdev-indexer` (the `job` label).
    pub job: String,
    /// `host:port`.
    pub address: String,
}

/// The lite bridge's relayer (`opdev serve relayer`), scraped as job [`RELAYER_JOB`]; its
/// settings shape the `DepositsStalled` and `OutputsStalled` rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayerTarget {
    /// `host:port` of its `/metrics`.
    pub address: String,
    /// L1 confirmations it waits for before relaying a deposit (part of its normal lag).
    pub deposit_confirmations: u64,
    /// Seconds between two output proposals of one L2.
    pub proposal_interval: u64,
}

/// An OP Stack program of a full-profile L2. Prometheus scrapes each program type as one job
/// ([`Program::job`]), one target per L2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Program {
    /// op-geth, the L2's execution client.
    OpGeth,
    /// op-node: sequencer and derivation (the unsafe, safe and finalized L2 heads).
    OpNode,
    /// op-batcher: posts the L2's blocks to the L1 as batch transactions.
    OpBatcher,
    /// op-proposer: proposes the L2's outputs as dispute games on the L1.
    OpProposer,
}

impl Program {
    /// Every program, in the order of the scrape jobs.
    pub const ALL: [Program; 4] = [
        Program::OpGeth,
        Program::OpNode,
        Program::OpBatcher,
        Program::OpProposer,
    ];

    /// The Prometheus job of this program type (`op-geth`, `op-node`, `op-batcher`,
    /// `op-proposer`).
    pub fn job(self) -> &'static str {
        match self {
            Program::OpGeth => "op-geth",
            Program::OpNode => "op-node",
            Program::OpBatcher => "op-batcher",
            Program::OpProposer => "op-proposer",
        }
    }

    /// The path of its metrics: op-geth serves them as go-ethereum does, the others at
    /// `/metrics`.
    pub fn metrics_path(self) -> &'static str {
        match self {
            Program::OpGeth => "/debug/metrics/prometheus",
            _ => "/metrics",
        }
    }
}

/// One program of a full-profile L2 that Prometheus scrapes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramTarget {
    /// Which program.
    pub program: Program,
    /// The devnet's service running it, e.g. `l2-1-node` (the `service` label, the name
    /// `opdev logs` takes).
    pub service: String,
    /// `host:port` of its metrics server.
    pub address: String,
}

/// A full-profile L2 (op-geth, op-node, op-batcher, op-proposer). Its programs' series carry the
/// labels `chain` (the L2's service name), `chain_id` and `service`; its settings shape the
/// `SafeHeadStalled` and `BatcherNotSubmitting` rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollupTarget {
    /// The L2's service name, e.g. `l2-1` (the `chain` label, as in the exporter's metrics).
    pub chain: String,
    /// Its chain id (the `chain_id` label).
    pub chain_id: u64,
    /// Seconds between two blocks of its L1: batches are posted and derived at that pace.
    pub l1_block_time: u64,
    /// Its programs to scrape.
    pub programs: Vec<ProgramTarget>,
}

impl RollupTarget {
    /// An L2 with no program to scrape yet.
    pub fn new(chain: impl Into<String>, chain_id: u64, l1_block_time: u64) -> Self {
        Self {
            chain: chain.into(),
            chain_id,
            l1_block_time,
            programs: Vec::new(),
        }
    }

    /// Scrapes `program`, run by the devnet's service `service`, at `address` (`host:port`).
    pub fn with_program(
        mut self,
        program: Program,
        service: impl Into<String>,
        address: impl Into<String>,
    ) -> Self {
        self.programs.push(ProgramTarget {
            program,
            service: service.into(),
            address: address.into(),
        });
        self
    }

    /// The scrape target of `program`, when this L2 has one.
    pub fn program(&self, program: Program) -> Option<&ProgramTarget> {
        self.programs.iter().find(|p| p.program == program)
    }
}

/// Alert thresholds. Durations become the rules' `for:` clauses and windows; tests shorten them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// `RpcDown`: how long a chain's RPC must be unreachable.
    #[serde(with = "secs")]
    pub rpc_down_for: Duration,
    /// `HeadStalled`: block times without a new block.
    pub head_stalled_blocks: u64,
    /// `HeadStalled`: how long the stall must last beyond that before firing.
    #[serde(with = "secs")]
    pub head_stalled_for: Duration,
    /// `IndexerLagging`: blocks behind the head.
    pub indexer_lag_blocks: u64,
    /// `IndexerLagging`: how long the lag must last.
    #[serde(with = "secs")]
    pub indexer_lag_for: Duration,
    /// `DiskFillingUp`: free fraction of the filesystem under which it fires.
    pub disk_free_ratio: f64,
    /// `DiskFillingUp`: free bytes under which it fires.
    pub disk_free_bytes: u64,
    /// `DiskFillingUp`: how long the disk must be that full.
    #[serde(with = "secs")]
    pub disk_for: Duration,
    /// `ServiceRestarting`: window in which any restart fires the alert.
    #[serde(with = "secs")]
    pub restart_window: Duration,
    /// `ServiceRestarting`: `for:` clause.
    #[serde(with = "secs")]
    pub restart_for: Duration,
    /// `TargetDown`: how long a scrape target must fail.
    #[serde(with = "secs")]
    pub target_down_for: Duration,
    /// `DepositsStalled`: L1 blocks of deposit-relay lag beyond the relayer's confirmations.
    pub deposit_lag_blocks: u64,
    /// `DepositsStalled`: how long the lag must last.
    #[serde(with = "secs")]
    pub deposit_lag_for: Duration,
    /// `OutputsStalled`: proposal intervals without a proposal (while the L2 has new blocks).
    pub outputs_stalled_intervals: u64,
    /// `OutputsStalled`: `for:` clause.
    #[serde(with = "secs")]
    pub outputs_stalled_for: Duration,
    /// `SafeHeadStalled`: L1 block times without a new safe L2 head (while the unsafe head is
    /// ahead of it).
    pub safe_head_stalled_blocks: u64,
    /// `SafeHeadStalled`: `for:` clause.
    #[serde(with = "secs")]
    pub safe_head_stalled_for: Duration,
    /// `BatcherNotSubmitting`: L1 block times without a batch transaction sent (while the L2
    /// has blocks to batch).
    pub batcher_idle_blocks: u64,
    /// `BatcherNotSubmitting`: `for:` clause.
    #[serde(with = "secs")]
    pub batcher_idle_for: Duration,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            rpc_down_for: Duration::from_secs(30),
            head_stalled_blocks: 5,
            head_stalled_for: Duration::ZERO,
            indexer_lag_blocks: 10,
            indexer_lag_for: Duration::from_secs(60),
            disk_free_ratio: 0.10,
            disk_free_bytes: 1 << 30,
            disk_for: Duration::from_secs(60),
            restart_window: Duration::from_secs(300),
            restart_for: Duration::ZERO,
            target_down_for: Duration::from_secs(30),
            deposit_lag_blocks: 5,
            deposit_lag_for: Duration::from_secs(60),
            outputs_stalled_intervals: 5,
            outputs_stalled_for: Duration::ZERO,
            safe_head_stalled_blocks: 10,
            safe_head_stalled_for: Duration::ZERO,
            batcher_idle_blocks: 10,
            batcher_idle_for: Duration::ZERO,
        }
    }
}

/// How often Prometheus scrapes and evaluates, and how Alertmanager batches notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Timing {
    /// Scrape interval (also the scrape timeout). Short, because blocks come every second.
    #[serde(with = "secs")]
    pub scrape_interval: Duration,
    /// Rule evaluation interval.
    #[serde(with = "secs")]
    pub evaluation_interval: Duration,
    /// Alertmanager: wait before the first notification of a new group.
    #[serde(with = "secs")]
    pub group_wait: Duration,
    /// Alertmanager: wait before notifying about changes in a group (also resolutions).
    #[serde(with = "secs")]
    pub group_interval: Duration,
    /// Alertmanager: resend a still-firing alert after this long.
    #[serde(with = "secs")]
    pub repeat_interval: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            scrape_interval: Duration::from_secs(2),
            evaluation_interval: Duration::from_secs(2),
            group_wait: Duration::from_secs(5),
            group_interval: Duration::from_secs(10),
            repeat_interval: Duration::from_secs(4 * 3600),
        }
    }
}

impl Timing {
    /// Intervals for tests: everything in about a second.
    pub fn fast() -> Self {
        Self {
            scrape_interval: Duration::from_secs(1),
            evaluation_interval: Duration::from_secs(1),
            group_wait: Duration::from_secs(1),
            group_interval: Duration::from_secs(1),
            repeat_interval: Duration::from_secs(3600),
        }
    }
}

/// Default base of the `runbook_url` annotations (the runbooks live in `docs/runbooks/`).
pub const DEFAULT_RUNBOOK_BASE: &str =
    concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/runbooks");

/// Job name of the exporter in `prometheus.yml`.
pub const EXPORTER_JOB: &str = "opdev-exporter";
/// Job name of the relayer in `prometheus.yml`.
pub const RELAYER_JOB: &str = "opdev-relayer";

/// Everything needed to generate a devnet's monitoring configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitoringConfig {
    /// Devnet name (the `devnet` label of every alert).
    pub devnet: String,
    /// The chains.
    pub chains: Vec<ChainTarget>,
    /// `host:port` of `opdev serve exporter` (scraped as job [`EXPORTER_JOB`], and the target of
    /// Alertmanager's default webhook `http://<exporter>/alerts`).
    pub exporter: String,
    /// Other opdev services to scrape (indexer, faucet, explorer, supervisor).
    pub scrape_targets: Vec<ScrapeTarget>,
    /// The lite bridge's relayer, when the devnet has one (scraped as [`RELAYER_JOB`], and the
    /// bridge's alert rules).
    #[serde(default)]
    pub relayer: Option<RelayerTarget>,
    /// The L2s of a full-profile devnet, whose OP Stack programs are scraped (one job per
    /// program type) and watched by the rollup's alert rules.
    #[serde(default)]
    pub rollups: Vec<RollupTarget>,
    /// `host:port` of Alertmanager.
    pub alertmanager: String,
    /// Path of the rules file as `prometheus.yml` names it (relative paths are relative to
    /// `prometheus.yml`'s folder).
    pub rules_file: String,
    /// A user's webhook URL that receives every notification too.
    pub user_webhook: Option<String>,
    /// Base URL of the runbooks; each alert links `<base>/<AlertName>.md`.
    pub runbook_base: String,
    /// Alert thresholds.
    pub thresholds: Thresholds,
    /// Intervals.
    pub timing: Timing,
}

impl MonitoringConfig {
    /// Settings with default thresholds and intervals, no chains and no other scrape targets.
    pub fn new(
        devnet: impl Into<String>,
        exporter: impl Into<String>,
        alertmanager: impl Into<String>,
    ) -> Self {
        Self {
            devnet: devnet.into(),
            chains: Vec::new(),
            exporter: exporter.into(),
            scrape_targets: Vec::new(),
            relayer: None,
            rollups: Vec::new(),
            alertmanager: alertmanager.into(),
            rules_file: "alerts.yml".into(),
            user_webhook: None,
            runbook_base: DEFAULT_RUNBOOK_BASE.into(),
            thresholds: Thresholds::default(),
            timing: Timing::default(),
        }
    }

    /// Adds a chain.
    pub fn with_chain(mut self, name: impl Into<String>, chain_id: u64, block_time: u64) -> Self {
        self.chains.push(ChainTarget {
            name: name.into(),
            chain_id,
            block_time,
        });
        self
    }

    /// Adds a scrape target.
    pub fn with_target(mut self, job: impl Into<String>, address: impl Into<String>) -> Self {
        self.scrape_targets.push(ScrapeTarget {
            job: job.into(),
            address: address.into(),
        });
        self
    }

    /// Scrapes the lite bridge's relayer at `address` and adds the bridge's rules.
    pub fn with_relayer(
        mut self,
        address: impl Into<String>,
        deposit_confirmations: u64,
        proposal_interval: u64,
    ) -> Self {
        self.relayer = Some(RelayerTarget {
            address: address.into(),
            deposit_confirmations,
            proposal_interval,
        });
        self
    }

    /// Scrapes a full-profile L2's OP Stack programs and adds its rollup rules.
    pub fn with_rollup(mut self, rollup: RollupTarget) -> Self {
        self.rollups.push(rollup);
        self
    }

    /// Sends every notification to `url` too.
    pub fn with_user_webhook(mut self, url: impl Into<String>) -> Self {
        self.user_webhook = Some(url.into());
        self
    }

    /// Uses these thresholds.
    pub fn with_thresholds(mut self, thresholds: Thresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// Uses these intervals.
    pub fn with_timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// Names the rules file in `prometheus.yml`.
    pub fn with_rules_file(mut self, path: impl Into<String>) -> Self {
        self.rules_file = path.into();
        self
    }

    /// The exporter's alert webhook URL.
    pub fn exporter_webhook_url(&self) -> String {
        format!("http://{}/alerts", self.exporter)
    }
}

/// A Prometheus duration (`0s`, `1500ms`, `30s`, `5m`, `4h`).
pub fn prom_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        "0s".into()
    } else if !ms.is_multiple_of(1000) {
        format!("{ms}ms")
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else {
        format!("{}s", ms / 1000)
    }
}

fn document(what: &str, value: &serde_json::Value) -> String {
    let body = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into());
    format!("# {what}, generated by opdev (JSON is YAML). Changes are overwritten.\n{body}\n")
}

/// `prometheus.yml`: the exporter, every scrape target, the relayer, the rollup's programs (one
/// job per program type, one target per L2 labelled `chain`, `chain_id` and `service`), the
/// rules file, Alertmanager.
pub fn prometheus_yml(cfg: &MonitoringConfig) -> String {
    let interval = prom_duration(cfg.timing.scrape_interval);
    let mut scrape = vec![json!({
        "job_name": EXPORTER_JOB,
        "static_configs": [{ "targets": [cfg.exporter] }],
    })];
    for t in &cfg.scrape_targets {
        scrape.push(json!({
            "job_name": t.job,
            "static_configs": [{ "targets": [t.address] }],
        }));
    }
    if let Some(relayer) = &cfg.relayer {
        scrape.push(json!({
            "job_name": RELAYER_JOB,
            "static_configs": [{ "targets": [relayer.address] }],
        }));
    }
    for program in Program::ALL {
        let targets: Vec<_> = cfg
            .rollups
            .iter()
            .filter_map(|l2| {
                let target = l2.program(program)?;
                Some(json!({
                    "targets": [target.address],
                    "labels": {
                        "chain": l2.chain,
                        "chain_id": l2.chain_id.to_string(),
                        "service": target.service,
                    },
                }))
            })
            .collect();
        if !targets.is_empty() {
            scrape.push(json!({
                "job_name": program.job(),
                "metrics_path": program.metrics_path(),
                "static_configs": targets,
            }));
        }
    }
    let doc = json!({
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "evaluation_interval": prom_duration(cfg.timing.evaluation_interval),
        },
        "rule_files": [cfg.rules_file],
        "alerting": {
            "alertmanagers": [{ "static_configs": [{ "targets": [cfg.alertmanager] }] }],
        },
        "scrape_configs": scrape,
    });
    document(&format!("Prometheus of devnet '{}'", cfg.devnet), &doc)
}

/// Receiver name of the exporter's alert log.
pub const EXPORTER_RECEIVER: &str = "opdev-alert-log";
/// Receiver name of the user's webhook.
pub const USER_RECEIVER: &str = "user-webhook";

/// `alertmanager.yml`: every alert to the exporter's `/alerts` (the devnet's alert log, resolved
/// notifications included) and, when set, to the user's webhook as well.
pub fn alertmanager_yml(cfg: &MonitoringConfig) -> String {
    let webhook = |url: &str| json!({ "url": url, "send_resolved": true, "max_alerts": 0 });
    let mut receivers = vec![json!({
        "name": EXPORTER_RECEIVER,
        "webhook_configs": [webhook(&cfg.exporter_webhook_url())],
    })];
    // Child routes with no matchers match everything; `continue` lets the next one match too.
    let mut routes = vec![json!({ "receiver": EXPORTER_RECEIVER, "continue": true })];
    if let Some(url) = &cfg.user_webhook {
        receivers.push(json!({ "name": USER_RECEIVER, "webhook_configs": [webhook(url)] }));
        routes.push(json!({ "receiver": USER_RECEIVER, "continue": true }));
    }
    let doc = json!({
        "route": {
            "receiver": EXPORTER_RECEIVER,
            "group_by": ["alertname", "devnet", "chain", "service", "job"],
            "group_wait": prom_duration(cfg.timing.group_wait),
            "group_interval": prom_duration(cfg.timing.group_interval),
            "repeat_interval": prom_duration(cfg.timing.repeat_interval),
            "routes": routes,
        },
        "receivers": receivers,
    });
    document(&format!("Alertmanager of devnet '{}'", cfg.devnet), &doc)
}

/// Grafana datasource UID the dashboards refer to.
pub const GRAFANA_DATASOURCE_UID: &str = "opdev-prometheus";

/// Grafana's `provisioning/datasources/opdev.yml`: the devnet's Prometheus at `prometheus_url`
/// (e.g. `http://127.0.0.1:9090`), with the UID the dashboards use.
pub fn grafana_datasource_yml(prometheus_url: &str) -> String {
    let doc = json!({
        "apiVersion": 1,
        "datasources": [{
            "name": "opdev Prometheus",
            "uid": GRAFANA_DATASOURCE_UID,
            "type": "prometheus",
            "access": "proxy",
            "url": prometheus_url,
            "isDefault": true,
            "editable": false,
        }],
    });
    document("Grafana datasource", &doc)
}

/// Grafana's `provisioning/dashboards/opdev.yml`: load the dashboards from `dir` (where the lead
/// writes [`crate::dashboards::DASHBOARDS`]).
pub fn grafana_dashboards_yml(dir: &str) -> String {
    let doc = json!({
        "apiVersion": 1,
        "providers": [{
            "name": "opdev",
            "type": "file",
            "disableDeletion": true,
            "options": { "path": dir },
        }],
    });
    document("Grafana dashboards provider", &doc)
}

mod secs {
    //! Durations as (fractional) seconds in saved settings.
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> MonitoringConfig {
        MonitoringConfig::new("dev", "127.0.0.1:9100", "127.0.0.1:9093")
            .with_chain("l1", 900, 1)
            .with_target("opdev-indexer", "127.0.0.1:9101")
    }

    fn parse(text: &str) -> serde_json::Value {
        let body = text.split_once('\n').unwrap().1;
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn durations_use_the_largest_whole_unit() {
        assert_eq!(prom_duration(Duration::ZERO), "0s");
        assert_eq!(prom_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(prom_duration(Duration::from_secs(30)), "30s");
        assert_eq!(prom_duration(Duration::from_secs(300)), "5m");
        assert_eq!(prom_duration(Duration::from_secs(90)), "90s");
        assert_eq!(prom_duration(Duration::from_secs(7200)), "2h");
    }

    #[test]
    fn prometheus_scrapes_the_exporter_and_every_target() {
        let doc = parse(&prometheus_yml(&cfg()));
        assert_eq!(doc["global"]["scrape_interval"], "2s");
        assert_eq!(doc["rule_files"][0], "alerts.yml");
        let jobs: Vec<_> = doc["scrape_configs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| {
                (
                    j["job_name"].as_str().unwrap(),
                    j["static_configs"][0]["targets"][0].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            jobs,
            [
                ("opdev-exporter", "127.0.0.1:9100"),
                ("opdev-indexer", "127.0.0.1:9101")
            ]
        );
        assert_eq!(
            doc["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0],
            "127.0.0.1:9093"
        );
    }

    #[test]
    fn prometheus_scrapes_the_relayer_only_when_there_is_a_bridge() {
        let jobs = |cfg: &MonitoringConfig| -> Vec<(String, String)> {
            parse(&prometheus_yml(cfg))["scrape_configs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| {
                    (
                        j["job_name"].as_str().unwrap().to_owned(),
                        j["static_configs"][0]["targets"][0]
                            .as_str()
                            .unwrap()
                            .to_owned(),
                    )
                })
                .collect()
        };
        assert!(!jobs(&cfg()).iter().any(|(j, _)| j == RELAYER_JOB));
        let with = cfg().with_relayer("127.0.0.1:4004", 0, 4);
        assert_eq!(
            jobs(&with).last().unwrap(),
            &(RELAYER_JOB.to_owned(), "127.0.0.1:4004".to_owned())
        );
    }

    fn rollup(chain: &str, chain_id: u64, base: u16) -> RollupTarget {
        let at = |k: u16| format!("127.0.0.1:{}", base + k);
        RollupTarget::new(chain, chain_id, 1)
            .with_program(Program::OpGeth, chain, at(1))
            .with_program(Program::OpNode, format!("{chain}-node"), at(3))
            .with_program(Program::OpBatcher, format!("{chain}-batcher"), at(5))
            .with_program(Program::OpProposer, format!("{chain}-proposer"), at(7))
    }

    #[test]
    fn prometheus_scrapes_each_rollup_program_type_as_one_job_labelled_per_l2() {
        let full = cfg()
            .with_rollup(rollup("l2-1", 901, 7300))
            .with_rollup(rollup("l2-2", 902, 7310));
        let doc = parse(&prometheus_yml(&full));
        let scrape = doc["scrape_configs"].as_array().unwrap();
        let jobs: Vec<_> = scrape
            .iter()
            .map(|j| j["job_name"].as_str().unwrap())
            .collect();
        assert_eq!(
            jobs,
            [
                EXPORTER_JOB,
                "opdev-indexer",
                "op-geth",
                "op-node",
                "op-batcher",
                "op-proposer"
            ]
        );
        let job = |name: &str| scrape.iter().find(|j| j["job_name"] == name).unwrap();
        assert_eq!(job("op-geth")["metrics_path"], "/debug/metrics/prometheus");
        assert_eq!(job("op-node")["metrics_path"], "/metrics");
        assert_eq!(
            job("op-node")["static_configs"],
            json!([
                {
                    "targets": ["127.0.0.1:7303"],
                    "labels": {"chain": "l2-1", "chain_id": "901", "service": "l2-1-node"},
                },
                {
                    "targets": ["127.0.0.1:7313"],
                    "labels": {"chain": "l2-2", "chain_id": "902", "service": "l2-2-node"},
                },
            ])
        );
        assert_eq!(
            job("op-geth")["static_configs"][1]["labels"]["service"],
            "l2-2"
        );
        // No relayer in the full profile, and no rollup job without rollups.
        assert!(!jobs.contains(&RELAYER_JOB));
        let lite = parse(&prometheus_yml(&cfg().with_relayer("127.0.0.1:4004", 0, 4)));
        assert!(
            lite["scrape_configs"]
                .as_array()
                .unwrap()
                .iter()
                .all(|j| !j["job_name"].as_str().unwrap().starts_with("op-"))
        );
    }

    #[test]
    fn alertmanager_logs_to_the_exporter_and_optionally_a_user_webhook() {
        let doc = parse(&alertmanager_yml(&cfg()));
        assert_eq!(doc["receivers"].as_array().unwrap().len(), 1);
        assert_eq!(
            doc["receivers"][0]["webhook_configs"][0]["url"],
            "http://127.0.0.1:9100/alerts"
        );
        assert_eq!(
            doc["receivers"][0]["webhook_configs"][0]["send_resolved"],
            true
        );

        let doc = parse(&alertmanager_yml(
            &cfg().with_user_webhook("http://127.0.0.1:7000/hook"),
        ));
        let receivers: Vec<_> = doc["route"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["receiver"].as_str().unwrap(),
                    r["continue"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            receivers,
            [(EXPORTER_RECEIVER, true), (USER_RECEIVER, true)]
        );
        assert_eq!(
            doc["receivers"][1]["webhook_configs"][0]["url"],
            "http://127.0.0.1:7000/hook"
        );
    }

    #[test]
    fn settings_round_trip_through_json() {
        let c = cfg()
            .with_timing(Timing::fast())
            .with_relayer("127.0.0.1:4004", 2, 4)
            .with_rollup(rollup("l2-1", 901, 7300));
        let back: MonitoringConfig =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn settings_saved_before_the_rollup_fields_still_load() {
        let mut saved = serde_json::to_value(cfg()).unwrap();
        saved.as_object_mut().unwrap().remove("rollups");
        for key in [
            "safe_head_stalled_blocks",
            "safe_head_stalled_for",
            "batcher_idle_blocks",
            "batcher_idle_for",
        ] {
            saved["thresholds"].as_object_mut().unwrap().remove(key);
        }
        let back: MonitoringConfig = serde_json::from_value(saved).unwrap();
        assert_eq!(back, cfg());
    }
}
