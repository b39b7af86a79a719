//! The generated files pass Prometheus's and Alertmanager's own checkers, and every alert passes
//! its `promtool test rules` unit tests (firing and non-firing cases), with the default
//! thresholds and with the short ones the end-to-end test uses, for a lite devnet (relayer) and a
//! full one (op-geth, op-node, op-batcher and op-proposer per L2).

use std::{process::Command, time::Duration};

use opdev_telemetry::{
    Alert, MonitoringConfig, Program, RollupTarget, Thresholds, Timing, config,
    rules::{alert_rules, alert_rules_yml, rule_tests_yml},
};

use crate::write;

fn run(program: &str, args: &[&str], cwd: &std::path::Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
    text
}

fn devnet() -> MonitoringConfig {
    MonitoringConfig::new("opdev", "127.0.0.1:9100", "127.0.0.1:9093")
        .with_chain("l1", 900, 1)
        .with_chain("l2-1", 901, 2)
        .with_chain("l2-2", 902, 0)
        .with_target("opdev-indexer", "127.0.0.1:9101")
        .with_target("opdev-faucet", "127.0.0.1:9102")
        .with_target("opdev-explorer", "127.0.0.1:9103")
        .with_target("opdev-supervisor", "127.0.0.1:9104")
        .with_relayer("127.0.0.1:4004", 0, 4)
}

/// An L2 of a full-profile devnet with its four programs on ports `base + 1…7`.
fn rollup(chain: &str, chain_id: u64, l1_block_time: u64, base: u16) -> RollupTarget {
    let at = |k: u16| format!("127.0.0.1:{}", base + k);
    RollupTarget::new(chain, chain_id, l1_block_time)
        .with_program(Program::OpGeth, chain, at(1))
        .with_program(Program::OpNode, format!("{chain}-node"), at(3))
        .with_program(Program::OpBatcher, format!("{chain}-batcher"), at(5))
        .with_program(Program::OpProposer, format!("{chain}-proposer"), at(7))
}

/// A full-profile devnet: two L2s (1 s and 2 s blocks) over a 1 s L1, no relayer.
fn full() -> MonitoringConfig {
    MonitoringConfig::new("opdev", "127.0.0.1:9100", "127.0.0.1:9093")
        .with_chain("l1", 900, 1)
        .with_chain("l2-1", 901, 1)
        .with_chain("l2-2", 902, 2)
        .with_target("opdev-indexer", "127.0.0.1:9101")
        .with_target("opdev-faucet", "127.0.0.1:9102")
        .with_rollup(rollup("l2-1", 901, 1, 7300))
        .with_rollup(rollup("l2-2", 902, 1, 7310))
}

/// The short thresholds of the end-to-end test.
pub(crate) fn short(cfg: MonitoringConfig) -> MonitoringConfig {
    cfg.with_timing(Timing::fast()).with_thresholds(Thresholds {
        rpc_down_for: Duration::from_secs(2),
        head_stalled_for: Duration::ZERO,
        indexer_lag_for: Duration::from_secs(3),
        disk_for: Duration::from_secs(3),
        restart_window: Duration::from_secs(30),
        target_down_for: Duration::from_secs(2),
        deposit_lag_for: Duration::from_secs(3),
        safe_head_stalled_blocks: 3,
        batcher_idle_blocks: 3,
        ..Thresholds::default()
    })
}

fn unit_test(cfg: &MonitoringConfig) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "alerts.yml", &alert_rules_yml(cfg));
    let tests = rule_tests_yml(cfg, "alerts.yml");
    write(dir.path(), "alerts.test.yml", &tests);
    // Every alert of the file has at least one case that fires and one that does not.
    let doc: serde_json::Value = serde_json::from_str(tests.split_once('\n').unwrap().1).unwrap();
    for alert in alerts_of(cfg) {
        let cases: Vec<_> = doc["tests"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["alert_rule_test"].as_array().unwrap())
            .filter(|c| c["alertname"] == alert.name())
            .collect();
        assert!(
            cases
                .iter()
                .any(|c| !c["exp_alerts"].as_array().unwrap().is_empty()),
            "{alert}: no firing case"
        );
        assert!(
            cases
                .iter()
                .any(|c| c["exp_alerts"].as_array().unwrap().is_empty()),
            "{alert}: no quiet case"
        );
    }
    let out = run(
        "promtool",
        &["test", "rules", "alerts.test.yml"],
        dir.path(),
    );
    assert!(out.contains("SUCCESS"), "{out}");
}

/// The alerts `cfg`'s rules file defines.
fn alerts_of(cfg: &MonitoringConfig) -> Vec<Alert> {
    let rules = alert_rules(cfg);
    Alert::ALL
        .into_iter()
        .filter(|a| {
            rules
                .groups
                .iter()
                .flat_map(|g| &g.rules)
                .any(|r| r.alert == a.name())
        })
        .collect()
}

#[test]
fn a_lite_and_a_full_devnet_together_cover_every_alert() {
    let (lite, full) = (alerts_of(&devnet()), alerts_of(&full()));
    for alert in Alert::ALL {
        assert!(
            lite.contains(&alert) || full.contains(&alert),
            "{alert}: in no devnet's rules"
        );
    }
    for rollup in [Alert::SafeHeadStalled, Alert::BatcherNotSubmitting] {
        assert!(
            !lite.contains(&rollup) && full.contains(&rollup),
            "{rollup}"
        );
    }
    for bridge in [Alert::DepositsStalled, Alert::OutputsStalled] {
        assert!(
            lite.contains(&bridge) && !full.contains(&bridge),
            "{bridge}"
        );
    }
}

#[test]
fn generated_rules_pass_promtool_check_rules() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "alerts.yml", &alert_rules_yml(&devnet()));
    let out = run("promtool", &["check", "rules", "alerts.yml"], dir.path());
    // 1 RpcDown + 2 HeadStalled (l2-2 mines per transaction) + 4 service rules + 2 bridge rules.
    assert!(out.contains("9 rules found"), "{out}");
    // Without a bridge, no bridge rules.
    let mut cfg = devnet();
    cfg.relayer = None;
    write(dir.path(), "alerts.yml", &alert_rules_yml(&cfg));
    let out = run("promtool", &["check", "rules", "alerts.yml"], dir.path());
    assert!(out.contains("7 rules found"), "{out}");
    // Full profile: 1 RpcDown + 3 HeadStalled + 4 service rules + 2 rollup rules per L2.
    write(dir.path(), "alerts.yml", &alert_rules_yml(&full()));
    let out = run("promtool", &["check", "rules", "alerts.yml"], dir.path());
    assert!(out.contains("12 rules found"), "{out}");
}

#[test]
fn every_alert_passes_its_promtool_unit_tests_with_default_thresholds() {
    unit_test(&devnet());
}

#[test]
fn every_alert_passes_its_promtool_unit_tests_with_short_thresholds() {
    unit_test(&short(devnet()));
}

#[test]
fn every_alert_passes_its_promtool_unit_tests_with_custom_thresholds() {
    let mut cfg = devnet();
    cfg.thresholds.indexer_lag_blocks = 100;
    cfg.thresholds.head_stalled_blocks = 3;
    cfg.thresholds.disk_free_ratio = 0.2;
    cfg.thresholds.disk_free_bytes = 5 << 30;
    cfg.thresholds.head_stalled_for = Duration::from_secs(10);
    cfg.thresholds.deposit_lag_blocks = 20;
    cfg.thresholds.deposit_lag_for = Duration::from_secs(5);
    cfg.thresholds.outputs_stalled_intervals = 3;
    cfg.thresholds.outputs_stalled_for = Duration::from_secs(6);
    unit_test(&cfg);
}

#[test]
fn bridge_alerts_pass_their_promtool_unit_tests_with_confirmations_and_a_long_interval() {
    let mut cfg = devnet();
    cfg.relayer = Some(opdev_telemetry::RelayerTarget {
        address: "127.0.0.1:4004".into(),
        deposit_confirmations: 12,
        proposal_interval: 30,
    });
    unit_test(&cfg);
}

#[test]
fn full_devnet_alerts_pass_their_promtool_unit_tests_with_default_thresholds() {
    unit_test(&full());
}

#[test]
fn full_devnet_alerts_pass_their_promtool_unit_tests_with_short_thresholds() {
    unit_test(&short(full()));
}

#[test]
fn full_devnet_alerts_pass_their_promtool_unit_tests_with_custom_thresholds() {
    let mut cfg = full();
    cfg.thresholds.safe_head_stalled_blocks = 4;
    cfg.thresholds.safe_head_stalled_for = Duration::from_secs(6);
    cfg.thresholds.batcher_idle_blocks = 7;
    cfg.thresholds.batcher_idle_for = Duration::from_secs(4);
    unit_test(&cfg);
}

#[test]
fn full_devnet_alerts_pass_their_promtool_unit_tests_with_a_12_second_l1() {
    let cfg = MonitoringConfig::new("opdev", "127.0.0.1:9100", "127.0.0.1:9093")
        .with_chain("l1", 900, 12)
        .with_chain("l2-1", 901, 2)
        .with_rollup(rollup("l2-1", 901, 12, 7300));
    unit_test(&cfg);
}

#[test]
fn prometheus_yml_passes_promtool_check_config() {
    let dir = tempfile::tempdir().unwrap();
    for cfg in [devnet(), full()] {
        write(dir.path(), "alerts.yml", &alert_rules_yml(&cfg));
        write(dir.path(), "prometheus.yml", &config::prometheus_yml(&cfg));
        let out = run(
            "promtool",
            &["check", "config", "prometheus.yml"],
            dir.path(),
        );
        assert!(out.contains("SUCCESS"), "{out}");
    }
}

#[test]
fn alertmanager_yml_passes_amtool_check_config() {
    let dir = tempfile::tempdir().unwrap();
    for (name, cfg) in [
        ("plain.yml", devnet()),
        (
            "user.yml",
            devnet().with_user_webhook("http://127.0.0.1:7000/hook"),
        ),
    ] {
        write(dir.path(), name, &config::alertmanager_yml(&cfg));
        let out = run("amtool", &["check-config", name], dir.path());
        assert!(out.contains("SUCCESS"), "{out}");
    }
}
