//! The Grafana dashboards parse, every panel has targets, and every metric a panel queries is one
//! the exporter registers or one listed in `opdev_telemetry::metrics`.

use opdev_telemetry::{config, dashboards, exporter, metrics};

#[test]
fn every_dashboard_parses_and_queries_known_metrics_only() {
    let registered = exporter::registered_metric_names();
    let files: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/dashboards"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        files.len(),
        dashboards::DASHBOARDS.len(),
        "every file is embedded"
    );
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            dashboards::DASHBOARDS
                .iter()
                .any(|(n, t)| *n == name && *t == text),
            "{name} is embedded"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(doc["uid"].is_string() && doc["title"].is_string(), "{name}");
        let panels = doc["panels"].as_array().unwrap();
        assert!(!panels.is_empty(), "{name}: no panels");
        for panel in panels {
            let title = panel["title"].as_str().unwrap_or("?");
            assert_eq!(
                panel["datasource"]["uid"],
                config::GRAFANA_DATASOURCE_UID,
                "{name}/{title}"
            );
            let targets = panel["targets"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            assert!(!targets.is_empty(), "{name}/{title}: no targets");
            for t in targets {
                let expr = t["expr"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}/{title}: no expr"));
                let names = dashboards::metric_names(expr);
                assert!(!names.is_empty(), "{name}/{title}: {expr} names no metric");
                for m in names {
                    assert!(
                        registered.contains(&m) || metrics::is_known(&m),
                        "{name}/{title}: {m} in {expr} is not a known metric"
                    );
                }
            }
        }
    }
}

#[test]
fn the_rules_query_known_metrics_only() {
    use opdev_telemetry::{Program, RollupTarget};
    let mut l2 = RollupTarget::new("l2-1", 901, 1);
    for (k, program) in Program::ALL.into_iter().enumerate() {
        l2 = l2.with_program(
            program,
            format!("l2-1-{k}"),
            format!("127.0.0.1:{}", 10 + k),
        );
    }
    let cfg = opdev_telemetry::MonitoringConfig::new("d", "127.0.0.1:1", "127.0.0.1:2")
        .with_chain("l1", 900, 1)
        .with_relayer("127.0.0.1:3", 0, 4)
        .with_rollup(l2);
    let rules = opdev_telemetry::rules::alert_rules(&cfg);
    for rule in rules.groups.iter().flat_map(|g| &g.rules) {
        for m in dashboards::metric_names(&rule.expr) {
            assert!(
                metrics::is_known(&m),
                "{}: {m} is not a known metric",
                rule.alert
            );
        }
    }
}

#[test]
fn the_datasource_file_names_the_dashboards_uid() {
    let text = config::grafana_datasource_yml("http://127.0.0.1:9090");
    let doc: serde_json::Value = serde_json::from_str(text.split_once('\n').unwrap().1).unwrap();
    assert_eq!(doc["datasources"][0]["uid"], config::GRAFANA_DATASOURCE_UID);
    assert_eq!(doc["datasources"][0]["url"], "http://127.0.0.1:9090");
}
