//! The generated files pass Prometheus's and Alertmanager's own checkers, and every alert passes
//! its `promtool test rules` unit tests (firing and non-firing cases), with the default
//! thresholds and with the short ones the end-to-end test uses.

use std::{process::Command, time::Duration};

use opdev_telemetry::{
    Alert, MonitoringConfig, Thresholds, Timing, config,
    rules::{alert_rules_yml, rule_tests_yml},
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
        ..Thresholds::default()
    })
}

fn unit_test(cfg: &MonitoringConfig) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "alerts.yml", &alert_rules_yml(cfg));
    let tests = rule_tests_yml(cfg, "alerts.yml");
    write(dir.path(), "alerts.test.yml", &tests);
    // Every alert has at least one case that fires and one that does not.
    let doc: serde_json::Value = serde_json::from_str(tests.split_once('\n').unwrap().1).unwrap();
    for alert in Alert::ALL {
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
fn prometheus_yml_passes_promtool_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = devnet();
    write(dir.path(), "alerts.yml", &alert_rules_yml(&cfg));
    write(dir.path(), "prometheus.yml", &config::prometheus_yml(&cfg));
    let out = run(
        "promtool",
        &["check", "config", "prometheus.yml"],
        dir.path(),
    );
    assert!(out.contains("SUCCESS"), "{out}");
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
