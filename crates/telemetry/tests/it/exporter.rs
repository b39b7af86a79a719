//! The exporter against real anvil chains: metrics while a chain runs and after it stops, disk
//! metrics of a folder, the alert log, and the start-up log line.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use opdev_telemetry::{AlertRecord, ChainEndpoint, Exporter, ServeArgs};
use opdev_test_utils::TestAnvil;
use tokio_util::sync::CancellationToken;
use tracing::instrument::WithSubscriber;

use crate::{get_text, wait_for};

/// The value of the sample `series` (name and labels exactly as exposed) in `text`.
pub(crate) fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .split(' ')
            .next()?
            .parse()
            .ok()
    })
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporter_reports_chains_disk_and_logs_alerts() {
    let mut l1 = TestAnvil::start(&["--chain-id", "900", "--block-time", "1"]);
    let l2 = TestAnvil::start(&[
        "--chain-id",
        "901",
        "--block-time",
        "1",
        "--network",
        "optimism",
    ]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("state.json"), vec![7u8; 200_000]).unwrap();
    // In a folder that does not exist yet: the exporter creates it.
    let log = dir.path().join("logs/alerts.log");
    let mut args = ServeArgs::new(vec![
        format!("l1=900={}", l1.url())
            .parse::<ChainEndpoint>()
            .unwrap(),
        // Configured with the wrong chain id: the reported one is exported as is.
        format!("l2-1=999={}", l2.url()).parse().unwrap(),
    ]);
    args.disk_path = Some(dir.path().to_path_buf());
    args.alert_log = Some(log.clone());
    let exporter = Exporter::bind(args).await.unwrap();
    let addr = exporter.local_addr();
    assert!(addr.ip().is_loopback());

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let stop = CancellationToken::new();
    let task = tokio::spawn(exporter.run(stop.clone()).with_subscriber(subscriber));

    let url = format!("http://{addr}/metrics");
    let l1_up = r#"opdev_chain_up{chain="l1",chain_id="900"}"#;
    let l1_head = r#"opdev_chain_head_block{chain="l1",chain_id="900"}"#;
    let first = wait_for(
        "l1 is up with a head",
        Duration::from_secs(10),
        String::new,
        || async {
            let text = get_text(&url).await?;
            (sample(&text, l1_up)? == 1.0).then_some(())?;
            sample(&text, l1_head)
        },
    )
    .await;
    // The head advances, its age is small, anvil has no peer count, the disk is measured.
    let text = wait_for(
        "the l1 head advances",
        Duration::from_secs(10),
        String::new,
        || async {
            let text = get_text(&url).await?;
            (sample(&text, l1_head)? > first).then_some(text)
        },
    )
    .await;
    let age = sample(
        &text,
        r#"opdev_chain_head_age_seconds{chain="l1",chain_id="900"}"#,
    )
    .unwrap();
    assert!((-1.0..5.0).contains(&age), "head age {age}");
    assert!(
        sample(
            &text,
            r#"opdev_chain_head_unchanged_seconds{chain="l1",chain_id="900"}"#
        )
        .unwrap()
            < 3.0
    );
    assert_eq!(
        sample(&text, r#"opdev_chain_id{chain="l1",chain_id="900"}"#),
        Some(900.0)
    );
    assert_eq!(
        sample(&text, r#"opdev_chain_id{chain="l2-1",chain_id="999"}"#),
        Some(901.0)
    );
    assert!(
        !text.contains("opdev_chain_peers{"),
        "anvil has no net_peerCount:\n{text}"
    );
    let path = dir.path().display().to_string();
    let used = sample(&text, &format!(r#"opdev_disk_used_bytes{{path="{path}"}}"#)).unwrap();
    let free = sample(&text, &format!(r#"opdev_disk_free_bytes{{path="{path}"}}"#)).unwrap();
    let total = sample(
        &text,
        &format!(r#"opdev_disk_total_bytes{{path="{path}"}}"#),
    )
    .unwrap();
    assert!(used >= 200_000.0, "used {used}");
    assert!(0.0 < free && free <= total, "free {free} total {total}");

    // l1 stops: up 0, its head is no longer exported, failures count; l2 is unaffected.
    l1.stop();
    let text = wait_for(
        "l1 is down",
        Duration::from_secs(10),
        String::new,
        || async {
            let text = get_text(&url).await?;
            (sample(&text, l1_up)? == 0.0).then_some(text)
        },
    )
    .await;
    assert_eq!(sample(&text, l1_head), None, "{text}");
    assert!(
        sample(
            &text,
            r#"opdev_chain_probe_failures_total{chain="l1",chain_id="900"}"#
        )
        .unwrap()
            >= 1.0
    );
    assert_eq!(
        sample(&text, r#"opdev_chain_up{chain="l2-1",chain_id="999"}"#),
        Some(1.0)
    );

    // An Alertmanager notification becomes one JSON line per alert.
    let payload = serde_json::json!({
        "version": "4", "groupKey": "{}:{alertname=\"RpcDown\"}", "truncatedAlerts": 0,
        "status": "firing", "receiver": "opdev-alert-log",
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093",
        "alerts": [
            {"status": "firing", "labels": {"alertname": "RpcDown", "chain": "l1"},
             "annotations": {"summary": "RPC of l1 is down"},
             "startsAt": "2024-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
             "generatorURL": "http://x", "fingerprint": "abc"},
            {"status": "resolved", "labels": {"alertname": "HeadStalled", "chain": "l2-1"},
             "annotations": {}, "startsAt": "2024-01-01T00:00:00Z", "endsAt": "2024-01-01T00:01:00Z",
             "generatorURL": "http://x", "fingerprint": "def"}
        ]
    });
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/alerts"))
        .json(&payload)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let lines: Vec<AlertRecord> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].labels["alertname"], "RpcDown");
    assert_eq!(lines[0].status, "firing");
    assert_eq!(lines[0].annotations["summary"], "RPC of l1 is down");
    assert_eq!(lines[0].receiver, "opdev-alert-log");
    assert_eq!(lines[1].status, "resolved");
    assert_eq!(lines[1].ends_at, "2024-01-01T00:01:00Z");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let text = get_text(&url).await.unwrap();
    assert_eq!(
        sample(&text, r#"opdev_alerts_received_total{status="firing"}"#),
        Some(1.0)
    );

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the exporter stops")
        .unwrap()
        .unwrap();
    let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains(&format!("listening on {addr}")), "{logged}");
    assert!(addr.to_string().starts_with("127.0.0.1:"));
}

#[tokio::test]
async fn exporter_refuses_a_busy_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut args = ServeArgs::new(vec![]);
    args.listen = taken.local_addr().unwrap().to_string();
    let err = Exporter::bind(args).await.unwrap_err();
    assert!(err.to_string().starts_with("listen on 127.0.0.1:"), "{err}");
}
