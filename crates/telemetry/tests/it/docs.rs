//! Every alert has its runbook, and the monitoring page names every alert and every metric.

use opdev_telemetry::{Alert, metrics};

fn doc(path: &str) -> String {
    let full = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/").to_owned() + path;
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

#[test]
fn every_alert_has_a_runbook_and_is_documented() {
    let monitoring = doc("monitoring.md");
    for alert in Alert::ALL {
        let runbook = doc(&format!("runbooks/{alert}.md"));
        assert!(runbook.starts_with(&format!("# {alert}\n")), "{alert}");
        for section in ["## What it means", "## How to confirm", "## How to fix"] {
            assert!(runbook.contains(section), "{alert}: {section}");
        }
        assert!(
            monitoring.contains(&format!("[{alert}](runbooks/{alert}.md)")),
            "{alert}"
        );
    }
    for m in metrics::all() {
        assert!(
            monitoring.contains(&format!("`{}`", m.name))
                || monitoring.contains(&format!("`{}{{", m.name)),
            "{} in monitoring.md",
            m.name
        );
    }
}
