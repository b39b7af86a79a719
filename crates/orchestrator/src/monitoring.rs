//! Writes the monitoring stack's configuration into the devnet folder before the plan runs:
//! `data/prometheus/{prometheus.yml,alerts.yml}` and `data/alertmanager/alertmanager.yml`, from
//! the devnet's config (chains and their block times, the ports of the services to scrape —
//! the full profile's op-geth, op-node, op-batcher and op-proposer of each L2 included — the
//! alert thresholds). Regenerated at every `up`, so a change of block time moves the thresholds.

use opdev_profiles::full;
use opdev_spec::{DevnetConfig, Profile};
use opdev_telemetry::config::{MonitoringConfig, Program, RollupTarget, Thresholds};

use crate::{
    Error,
    home::{DevnetDir, write_private},
};

/// Where the runbooks are, as alert annotations link them.
pub const RUNBOOKS: &str = "docs/runbooks";

/// The monitoring settings of `config`.
pub fn settings(config: &DevnetConfig) -> MonitoringConfig {
    let local = |service: &str| format!("127.0.0.1:{}", config.service_port(service));
    let mut cfg = MonitoringConfig::new(&config.name, local("exporter"), local("alertmanager"));
    for chain in config.chains() {
        cfg = cfg.with_chain(&chain.service, chain.chain_id, chain.block_time);
    }
    if config.indexer {
        cfg = cfg.with_target("opdev-indexer", local("indexer"));
    }
    if config.faucet {
        cfg = cfg.with_target("opdev-faucet", local("faucet"));
    }
    if opdev_profiles::bridge::enabled(config) {
        cfg = cfg.with_relayer(
            local(opdev_profiles::bridge::RELAYER),
            config.deposit_confirmations,
            opdev_spec::config::PROPOSAL_INTERVAL,
        );
    }
    if config.profile == Profile::Full {
        for l2 in &config.l2 {
            let name = l2.service.as_str();
            let port = |role: &str| format!("127.0.0.1:{}", config.rollup_port(name, role));
            cfg = cfg.with_rollup(
                RollupTarget::new(name, l2.chain_id, config.l1.block_time)
                    .with_program(Program::OpGeth, name, port("geth-metrics"))
                    .with_program(
                        Program::OpNode,
                        full::service_name(name, full::NODE),
                        port("node-metrics"),
                    )
                    .with_program(
                        Program::OpBatcher,
                        full::service_name(name, full::BATCHER),
                        port("batcher-metrics"),
                    )
                    .with_program(
                        Program::OpProposer,
                        full::service_name(name, full::PROPOSER),
                        port("proposer-metrics"),
                    ),
            );
        }
    }
    if let Some(url) = &config.alert_webhook {
        cfg = cfg.with_user_webhook(url);
    }
    let mut thresholds = Thresholds {
        indexer_lag_blocks: config.indexer_lag_alert,
        ..Thresholds::default()
    };
    if let Some(secs) = config.alert_after {
        let after = std::time::Duration::from_secs(secs);
        thresholds.rpc_down_for = after;
        thresholds.indexer_lag_for = after;
        thresholds.target_down_for = after;
        thresholds.disk_for = after;
        thresholds.deposit_lag_for = after;
    }
    cfg.runbook_base = RUNBOOKS.into();
    cfg.with_thresholds(thresholds)
}

/// Writes the files; nothing when monitoring is off.
pub fn write(devnet: &DevnetDir, config: &DevnetConfig) -> Result<(), Error> {
    if !config.monitoring {
        return Ok(());
    }
    let cfg = settings(config);
    let prometheus = devnet.data_dir().join("prometheus");
    let alertmanager = devnet.data_dir().join("alertmanager");
    for dir in [&prometheus, &alertmanager] {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(dir, e))?;
        // A folder made by an older opdev may still be 0755.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(dir, e))?;
    }
    write_private(
        &prometheus.join("prometheus.yml"),
        opdev_telemetry::config::prometheus_yml(&cfg).as_bytes(),
    )?;
    write_private(
        &prometheus.join(&cfg.rules_file),
        opdev_telemetry::rules::alert_rules_yml(&cfg).as_bytes(),
    )?;
    write_private(
        &alertmanager.join("alertmanager.yml"),
        opdev_telemetry::config::alertmanager_yml(&cfg).as_bytes(),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use opdev_spec::{DevnetConfig, Profile, Settings, config::ROLLUP_PORT_ROLES};
    use opdev_telemetry::config::Program;

    #[test]
    fn the_relayer_is_scraped_and_watched_only_with_the_lite_bridge() {
        let config = DevnetConfig::new(&Settings {
            deposit_confirmations: Some(3),
            alert_after: Some(7),
            ..Default::default()
        })
        .unwrap();
        let cfg = super::settings(&config);
        let relayer = cfg.relayer.as_ref().expect("the bridge is on by default");
        assert_eq!(relayer.address, "127.0.0.1:4004");
        assert_eq!(relayer.deposit_confirmations, 3);
        assert_eq!(cfg.thresholds.deposit_lag_for.as_secs(), 7);

        let config = DevnetConfig::new(&Settings {
            bridge: Some(false),
            ..Default::default()
        })
        .unwrap();
        assert!(super::settings(&config).relayer.is_none());
        assert!(super::settings(&config).rollups.is_empty());
    }

    #[test]
    fn a_full_devnet_scrapes_each_l2s_op_stack_programs_and_no_relayer() {
        let config = DevnetConfig::new(&Settings {
            profile: Some(Profile::Full),
            l2: Some(2),
            l1_block_time: Some(2),
            ..Default::default()
        })
        .unwrap();
        let cfg = super::settings(&config);
        assert!(cfg.relayer.is_none(), "op-node derives the deposits");
        let l2s: Vec<_> = cfg
            .rollups
            .iter()
            .map(|r| (r.chain.as_str(), r.chain_id, r.l1_block_time))
            .collect();
        assert_eq!(l2s, [("l2-1", 901, 2), ("l2-2", 902, 2)]);
        let l2_2 = &cfg.rollups[1];
        for (program, service, role) in [
            (Program::OpGeth, "l2-2", "geth-metrics"),
            (Program::OpNode, "l2-2-node", "node-metrics"),
            (Program::OpBatcher, "l2-2-batcher", "batcher-metrics"),
            (Program::OpProposer, "l2-2-proposer", "proposer-metrics"),
        ] {
            let target = l2_2.program(program).unwrap();
            assert_eq!(target.service, service);
            assert_eq!(
                target.address,
                format!("127.0.0.1:{}", config.rollup_port("l2-2", role))
            );
            assert!(ROLLUP_PORT_ROLES.contains(&role), "{role}");
        }
        let mut ports: Vec<_> = cfg
            .rollups
            .iter()
            .flat_map(|r| &r.programs)
            .map(|p| p.address.as_str())
            .collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 8, "one metrics port per program and L2");
        let rules = opdev_telemetry::rules::alert_rules(&cfg);
        let names: Vec<_> = rules
            .groups
            .iter()
            .flat_map(|g| &g.rules)
            .map(|r| r.alert.as_str())
            .collect();
        assert_eq!(names.iter().filter(|n| **n == "SafeHeadStalled").count(), 2);
        assert_eq!(
            names
                .iter()
                .filter(|n| **n == "BatcherNotSubmitting")
                .count(),
            2
        );
        assert!(!names.contains(&"DepositsStalled"));
    }

    /// The metrics the rules and dashboards query from op-node, op-batcher and op-proposer are
    /// ones the programs in opdev's cache document (`<program> doc metrics --format json`), with
    /// that type and those labels. Without built programs (no Go, no full devnet yet) the test
    /// says so and returns.
    #[test]
    #[allow(clippy::disallowed_macros, reason = "a skipped test says why")]
    fn the_op_stack_metrics_the_rules_use_are_ones_the_programs_export() {
        use opdev_telemetry::metrics::{self, Kind, Owner};

        let Ok(cache) = crate::tools::cache_dir() else {
            eprintln!("skipped: no cache folder");
            return;
        };
        let module = crate::opstack_go::GoModule::in_cache(&cache);
        for (owner, program) in [
            (Owner::OpNode, "op-node"),
            (Owner::OpBatcher, "op-batcher"),
            (Owner::OpProposer, "op-proposer"),
        ] {
            let bin = module.bin(program);
            if !bin.is_file() {
                eprintln!(
                    "skipped {program}: not built in {} (`opdev up --profile full` builds it)",
                    module.dir().display()
                );
                continue;
            }
            let out = std::process::Command::new(&bin)
                .args(["doc", "metrics", "--format", "json"])
                .output()
                .unwrap();
            assert!(out.status.success(), "{program} doc metrics: {out:?}");
            let documented: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
            let listed: Vec<_> = metrics::all().filter(|m| m.owner == owner).collect();
            assert!(!listed.is_empty(), "{program}: nothing listed");
            for m in listed {
                let doc = documented
                    .iter()
                    .find(|d| d["name"] == m.name)
                    .unwrap_or_else(|| panic!("{program} does not export {}", m.name));
                let kind = match m.kind {
                    Kind::Gauge => "gauge",
                    Kind::Counter => "counter",
                    Kind::Histogram => "histogram",
                    _ => "other",
                };
                assert_eq!(doc["type"], kind, "{}", m.name);
                let labels: Vec<&str> = doc["labels"]
                    .as_array()
                    .map(|l| l.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                assert_eq!(labels, m.labels, "{}", m.name);
            }
        }
    }
}
