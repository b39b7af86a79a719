//! Integration tests of opdev-telemetry against the real programs: promtool and amtool check and
//! unit-test the generated files, the exporter probes real anvil chains, and a real Prometheus and
//! Alertmanager fire and resolve alerts end to end.

mod adversarial;
mod dashboards;
mod docs;
mod e2e;
mod exporter;
mod promtool;

use std::{
    future::Future,
    path::Path,
    time::{Duration, Instant},
};

/// Writes `text` to `dir/name` and returns the path.
pub(crate) fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Polls `f` every 200 ms until it returns `Some`, for at most `timeout`; panics naming `what`
/// and the `context` (e.g. a log) otherwise.
pub(crate) async fn wait_for<T, Fut>(
    what: &str,
    timeout: Duration,
    context: impl Fn() -> String,
    mut f: impl FnMut() -> Fut,
) -> T
where
    Fut: Future<Output = Option<T>>,
{
    let until = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if Instant::now() > until {
            panic!("{what}: not within {timeout:?}\n{}", context());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// GET `url` and parse JSON; `None` on any error (the server may not be up yet).
pub(crate) async fn get_json(url: &str) -> Option<serde_json::Value> {
    let resp = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    resp.json().await.ok()
}

/// GET `url` as text.
pub(crate) async fn get_text(url: &str) -> Option<String> {
    let resp = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    resp.text().await.ok()
}

/// Sends a JSON-RPC call to anvil.
pub(crate) async fn rpc(url: &str, method: &str, params: serde_json::Value) -> serde_json::Value {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
