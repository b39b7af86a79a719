//! Monitoring end to end on a whole devnet, with short alert delays: an L2's RPC stops answering
//! → RpcDown fires in Prometheus, reaches Alertmanager and the devnet's alert log, and `opdev
//! status` shows it; block production stops → HeadStalled; the indexer stops → IndexerLagging.
//! Each resolves when its cause is gone.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use crate::support::{Env, eventually};

fn signal(pid: u64, sig: Signal) {
    kill(Pid::from_raw(pid as i32), sig).unwrap();
}

fn alert_state(env: &Env, alert: &str, target: &str) -> Option<String> {
    let alerts = env.json(&["alerts"]);
    alerts["alerts"]
        .as_array()?
        .iter()
        .find(|a| a["alert"] == alert && a["target"] == target)
        .and_then(|a| a["state"].as_str().map(String::from))
}

async fn until_firing(env: &Env, alert: &str, target: &str) {
    let fired = eventually(60, async || {
        alert_state(env, alert, target).as_deref() == Some("firing")
    })
    .await;
    assert!(
        fired,
        "{alert} on {target} did not fire: {}",
        env.json(&["alerts"])
    );
}

async fn until_resolved(env: &Env, alert: &str, target: &str) {
    let gone = eventually(60, async || alert_state(env, alert, target).is_none()).await;
    assert!(
        gone,
        "{alert} on {target} did not resolve: {}",
        env.json(&["alerts"])
    );
}

fn alert_log(env: &Env) -> Vec<Value> {
    std::fs::read_to_string(env.devnet_dir().join("logs/alerts.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test]
async fn alerts_fire_reach_alertmanager_and_resolve() {
    let env = Env::new("alerts");
    env.ok(&[
        "up",
        "-q",
        "--ports",
        "auto",
        "--alert-after",
        "2",
        "--indexer-lag-alert",
        "3",
        "--no-faucet",
    ]);
    // A healthy devnet has no alerts about itself (DiskFillingUp is about the machine's disk,
    // which may well be full on a shared test machine).
    let alerts = env.json(&["alerts"]);
    let own: Vec<_> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["alert"] != "DiskFillingUp")
        .collect();
    assert!(own.is_empty(), "alerts on a healthy devnet: {own:?}");

    // RpcDown: the L2's anvil stops answering (SIGSTOP: alive, so no restart).
    let l2 = env.service("l2-1")["pid"].as_u64().unwrap();
    signal(l2, Signal::SIGSTOP);
    until_firing(&env, "RpcDown", "l2-1").await;
    let status = String::from_utf8_lossy(&env.ok(&["status"]).stdout).into_owned();
    assert!(status.contains("RpcDown (l2-1)"), "{status}");
    let delivered = eventually(60, async || {
        alert_log(&env)
            .iter()
            .any(|a| a["labels"]["alertname"] == "RpcDown" && a["status"] == "firing")
    })
    .await;
    assert!(
        delivered,
        "Alertmanager did not deliver RpcDown to the alert log"
    );
    signal(l2, Signal::SIGCONT);
    until_resolved(&env, "RpcDown", "l2-1").await;
    let resolved = eventually(60, async || {
        alert_log(&env)
            .iter()
            .any(|a| a["labels"]["alertname"] == "RpcDown" && a["status"] == "resolved")
    })
    .await;
    assert!(resolved, "the resolution did not reach the alert log");

    // HeadStalled: the L1 stops making blocks.
    let l1 = env.rpcs()[0].1.clone();
    let provider = alloy::providers::ProviderBuilder::new().connect_http(l1.parse().unwrap());
    use alloy::providers::Provider;
    let _: Value = provider
        .raw_request("evm_setIntervalMining".into(), (0,))
        .await
        .unwrap();
    until_firing(&env, "HeadStalled", "l1").await;
    let _: Value = provider
        .raw_request("evm_setIntervalMining".into(), (1,))
        .await
        .unwrap();
    until_resolved(&env, "HeadStalled", "l1").await;

    // IndexerLagging: the indexer stops while the chains go on.
    let indexer = env.service("indexer")["pid"].as_u64().unwrap();
    signal(indexer, Signal::SIGSTOP);
    until_firing(&env, "IndexerLagging", "l2-1").await;
    signal(indexer, Signal::SIGCONT);
    until_resolved(&env, "IndexerLagging", "l2-1").await;
}
