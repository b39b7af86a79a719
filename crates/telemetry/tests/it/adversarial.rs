//! The exporter against the standing adversarial suite (`opdev_http::probe`): hostile paths,
//! methods, bodies, headers and raw protocol errors get a 4xx in the one error format, never a
//! 5xx; `/metrics` stays bounded (an alert's status from a request is never a label value of its
//! own); and nothing a hostile body carries reaches the alert log.

use opdev_telemetry::exporter::{Exporter, ServeArgs};
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_4xx_and_metrics_stay_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("alerts.log");
    let mut args = ServeArgs::new(Vec::new());
    args.alert_log = Some(log.clone());
    let exporter = Exporter::bind(args).await.unwrap();
    let addr = exporter.local_addr();
    let stop = CancellationToken::new();
    let task = tokio::spawn(exporter.run(stop.clone()));
    let metrics = async || {
        opdev_http::probe::request(addr, "GET", "/metrics", &[], b"")
            .await
            .body
    };
    let before = metrics().await;

    let sent = opdev_http::probe::run(
        addr,
        &["/metrics", "/health", "/alerts"],
        &[("POST", "/alerts", "application/json")],
    )
    .await;
    assert!(sent > 500, "{sent} requests");
    assert!(
        !log.exists() || std::fs::read_to_string(&log).unwrap().is_empty(),
        "a hostile body reached the alert log"
    );

    // Alerts with made-up statuses: counted, but as `other`, one series for all.
    for i in 0..200 {
        let payload = json!({
            "receiver": "x",
            "status": "firing",
            "alerts": [{ "status": format!("made-up-{i}"), "labels": {}, "annotations": {},
                         "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                         "fingerprint": "f" }],
        })
        .to_string();
        let answer = opdev_http::probe::request(
            addr,
            "POST",
            "/alerts",
            &[("Content-Type", "application/json")],
            payload.as_bytes(),
        )
        .await;
        assert_eq!(answer.status, Some(200), "{}", answer.body);
    }
    let after = metrics().await;
    assert!(
        after.contains(r#"opdev_alerts_received_total{status="other"} 200"#),
        "{after}"
    );
    assert!(!after.contains("made-up"), "{after}");
    assert!(
        after.len() < before.len() + 500,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
    stop.cancel();
    task.await.unwrap().unwrap();
}
