//! `opdev serve exporter`: the devnet's metrics and alert log.
//!
//! One task per chain probes its JSON-RPC every interval (`eth_chainId`, the latest block,
//! `net_peerCount`), each probe bounded by a timeout; a disk task measures the devnet folder and
//! its filesystem. `GET /metrics` serves the registry as OpenMetrics text; `POST /alerts` takes
//! Alertmanager webhook payloads and appends one JSON line per alert ([`AlertRecord`]) to the
//! alert log. While a chain is unreachable only its `up` (0) and failure counter are exported, so
//! no stale head is mistaken for a live one.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicI64, AtomicU64},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    response::IntoResponse,
    routing::{get, post},
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::{Error, metrics as names};

/// `opdev serve exporter` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// A chain to probe, as NAME=CHAIN_ID=RPC_URL (repeat for each chain).
    #[arg(long = "chain", value_name = "NAME=ID=URL")]
    pub chains: Vec<ChainEndpoint>,
    /// Address of the HTTP server (/metrics, /alerts, /health).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: String,
    /// The devnet folder: its disk usage and its filesystem's free and total bytes are exported.
    #[arg(long, value_name = "PATH")]
    pub disk_path: Option<PathBuf>,
    /// The devnet supervisor's state.json: its services' restarts and readiness are exported
    /// as `opdev_service_restarts_total{service}` and `opdev_service_up{service}`.
    #[arg(long, value_name = "PATH")]
    pub state_file: Option<PathBuf>,
    /// File that receives one JSON line per alert notification posted to /alerts.
    #[arg(long, value_name = "PATH")]
    pub alert_log: Option<PathBuf>,
    /// Milliseconds between probes of each chain.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub probe_interval_ms: u64,
    /// Deadline of one probe, in milliseconds.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub probe_timeout_ms: u64,
}

impl ServeArgs {
    /// Arguments for `chains` with defaults for everything else (listen on a free loopback port).
    pub fn new(chains: Vec<ChainEndpoint>) -> Self {
        Self {
            chains,
            listen: "127.0.0.1:0".into(),
            disk_path: None,
            state_file: None,
            alert_log: None,
            probe_interval_ms: 1000,
            probe_timeout_ms: 1000,
        }
    }
}

/// A chain to probe: `NAME=CHAIN_ID=RPC_URL` (the one parser of `--chain` values).
pub use opdev_spec::ChainEndpoint;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChainLabels {
    chain: String,
    chain_id: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PathLabels {
    path: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

type FGauge = Gauge<f64, AtomicU64>;

/// The exporter's metrics (names in [`crate::metrics::EXPORTER`]).
#[derive(Debug)]
struct Metrics {
    registry: Registry,
    up: Family<ChainLabels, Gauge<i64, AtomicI64>>,
    head: Family<ChainLabels, Gauge<i64, AtomicI64>>,
    head_age: Family<ChainLabels, FGauge>,
    unchanged: Family<ChainLabels, FGauge>,
    chain_id: Family<ChainLabels, Gauge<i64, AtomicI64>>,
    peers: Family<ChainLabels, Gauge<i64, AtomicI64>>,
    probe_duration: Family<ChainLabels, FGauge>,
    probe_failures: Family<ChainLabels, Counter>,
    disk_used: Family<PathLabels, Gauge<i64, AtomicI64>>,
    disk_free: Family<PathLabels, Gauge<i64, AtomicI64>>,
    disk_total: Family<PathLabels, Gauge<i64, AtomicI64>>,
    alerts: Family<StatusLabels, Counter>,
    service_restarts: Family<ServiceLabels, Counter>,
    service_up: Family<ServiceLabels, Gauge<i64, AtomicI64>>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: String,
}

fn help(name: &str) -> &'static str {
    names::all().find(|m| m.name == name).map_or("", |m| m.help)
}

impl Metrics {
    fn new() -> Self {
        let mut m = Self {
            registry: Registry::default(),
            up: Family::default(),
            head: Family::default(),
            head_age: Family::default(),
            unchanged: Family::default(),
            chain_id: Family::default(),
            peers: Family::default(),
            probe_duration: Family::default(),
            probe_failures: Family::default(),
            disk_used: Family::default(),
            disk_free: Family::default(),
            disk_total: Family::default(),
            alerts: Family::default(),
            service_restarts: Family::default(),
            service_up: Family::default(),
        };
        // prometheus-client appends `_total` to counters itself.
        let counter = |n: &'static str| n.trim_end_matches("_total");
        let r = &mut m.registry;
        r.register(names::CHAIN_UP, help(names::CHAIN_UP), m.up.clone());
        r.register(
            names::CHAIN_HEAD_BLOCK,
            help(names::CHAIN_HEAD_BLOCK),
            m.head.clone(),
        );
        r.register(
            names::CHAIN_HEAD_AGE,
            help(names::CHAIN_HEAD_AGE),
            m.head_age.clone(),
        );
        r.register(
            names::CHAIN_HEAD_UNCHANGED,
            help(names::CHAIN_HEAD_UNCHANGED),
            m.unchanged.clone(),
        );
        r.register(names::CHAIN_ID, help(names::CHAIN_ID), m.chain_id.clone());
        r.register(
            names::CHAIN_PEERS,
            help(names::CHAIN_PEERS),
            m.peers.clone(),
        );
        r.register(
            names::CHAIN_PROBE_DURATION,
            help(names::CHAIN_PROBE_DURATION),
            m.probe_duration.clone(),
        );
        r.register(
            counter(names::CHAIN_PROBE_FAILURES),
            help(names::CHAIN_PROBE_FAILURES),
            m.probe_failures.clone(),
        );
        r.register(
            names::DISK_USED,
            help(names::DISK_USED),
            m.disk_used.clone(),
        );
        r.register(
            names::DISK_FREE,
            help(names::DISK_FREE),
            m.disk_free.clone(),
        );
        r.register(
            names::DISK_TOTAL,
            help(names::DISK_TOTAL),
            m.disk_total.clone(),
        );
        r.register(
            counter(names::ALERTS_RECEIVED),
            help(names::ALERTS_RECEIVED),
            m.alerts.clone(),
        );
        r.register(
            counter(names::SERVICE_RESTARTS),
            help(names::SERVICE_RESTARTS),
            m.service_restarts.clone(),
        );
        r.register(
            names::SERVICE_UP,
            help(names::SERVICE_UP),
            m.service_up.clone(),
        );
        m
    }

    fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    fn chain_down(&self, l: &ChainLabels) {
        self.up.get_or_create(l).set(0);
        self.probe_failures.get_or_create(l).inc();
        self.head.remove(l);
        self.head_age.remove(l);
        self.unchanged.remove(l);
        self.chain_id.remove(l);
        self.peers.remove(l);
        self.probe_duration.remove(l);
    }
}

/// The names the exporter's registry exposes, as Prometheus stores them (counters with
/// `_total`). Read from the registry itself, for tests that check rules and dashboards.
pub fn registered_metric_names() -> Vec<String> {
    // Families without a series are not encoded: give each one.
    let m = Metrics::new();
    let c = ChainLabels {
        chain: "l1".into(),
        chain_id: "900".into(),
    };
    let p = PathLabels { path: "/".into() };
    m.chain_down(&c);
    for g in [&m.head, &m.chain_id, &m.peers] {
        g.get_or_create(&c).set(1);
    }
    for g in [&m.head_age, &m.unchanged, &m.probe_duration] {
        g.get_or_create(&c).set(1.0);
    }
    for g in [&m.disk_used, &m.disk_free, &m.disk_total] {
        g.get_or_create(&p).set(1);
    }
    m.alerts
        .get_or_create(&StatusLabels {
            status: "firing".into(),
        })
        .inc();
    let s = ServiceLabels {
        service: "l1".into(),
    };
    m.service_restarts.get_or_create(&s).inc();
    m.service_up.get_or_create(&s).set(1);
    let text = m.encode();
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (name, kind) = (it.next()?, it.next()?);
            Some(if kind == "counter" {
                format!("{name}_total")
            } else {
                name.to_owned()
            })
        })
        .collect()
}

/// One alert of an Alertmanager notification, as the alert log stores it (one JSON line each).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Unix time (seconds) the exporter received the notification.
    #[serde(rename = "receivedAt", default)]
    pub received_at: f64,
    /// The Alertmanager receiver that sent it.
    #[serde(default)]
    pub receiver: String,
    /// `firing` or `resolved`.
    pub status: String,
    /// Labels (`alertname`, `severity`, `devnet`, `chain`…).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations (`summary`, `description`, `runbook_url`).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// When the alert started (RFC 3339).
    #[serde(rename = "startsAt", default)]
    pub starts_at: String,
    /// When it ended (RFC 3339; Alertmanager's zero time while firing).
    #[serde(rename = "endsAt", default)]
    pub ends_at: String,
    /// Alertmanager's fingerprint of the alert.
    #[serde(default)]
    pub fingerprint: String,
}

#[derive(Debug, Deserialize)]
struct WebhookPayload {
    #[serde(default)]
    receiver: String,
    #[serde(default)]
    alerts: Vec<WebhookAlert>,
}

#[derive(Debug, Deserialize)]
struct WebhookAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt", default)]
    starts_at: String,
    #[serde(rename = "endsAt", default)]
    ends_at: String,
    #[serde(default)]
    fingerprint: String,
}

struct AppState {
    metrics: Metrics,
    alert_log: Option<PathBuf>,
    write_lock: tokio::sync::Mutex<()>,
}

/// A bound exporter, ready to [`run`](Exporter::run).
pub struct Exporter {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    args: ServeArgs,
    state: Arc<AppState>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Exporter {
    /// Binds the HTTP listener (so the real port is known before anything runs).
    pub async fn bind(args: ServeArgs) -> Result<Self, Error> {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: args.listen.clone(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: args.listen.clone(),
            source,
        })?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(args.probe_timeout_ms.max(1)))
            .no_proxy()
            .build()
            .map_err(Error::Client)?;
        let state = Arc::new(AppState {
            metrics: Metrics::new(),
            alert_log: args.alert_log.clone(),
            write_lock: tokio::sync::Mutex::new(()),
        });
        Ok(Self {
            listener,
            addr,
            args,
            state,
            client,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Probes, measures and serves until `stop` is cancelled.
    pub async fn run(self, stop: CancellationToken) -> Result<(), Error> {
        let interval = Duration::from_millis(self.args.probe_interval_ms.max(10));
        let timeout = Duration::from_millis(self.args.probe_timeout_ms.max(1));
        let mut tasks = tokio::task::JoinSet::new();
        for chain in self.args.chains.clone() {
            tasks.spawn(probe_loop(
                self.client.clone(),
                chain,
                self.state.clone(),
                interval,
                timeout,
                stop.clone(),
            ));
        }
        if let Some(path) = self.args.disk_path.clone() {
            tasks.spawn(disk_loop(path, self.state.clone(), stop.clone()));
        }
        if let Some(path) = self.args.state_file.clone() {
            tasks.spawn(services_loop(
                path,
                self.state.clone(),
                interval,
                stop.clone(),
            ));
        }
        let router = Router::new()
            .route("/metrics", get(metrics_handler))
            .route("/alerts", post(alerts_handler))
            .route("/health", get(|| async { "ok" }))
            .with_state(self.state.clone());
        // Bodies within 10 s, headers within 10 s, one error format (see opdev_http).
        let router = opdev_http::harden(router, None);
        info!(
            chains = self.args.chains.len(),
            "exporter listening on {}", self.addr
        );
        opdev_http::serve(self.listener, router, stop.clone()).await;
        stop.cancel();
        while tasks.join_next().await.is_some() {}
        Ok(())
    }
}

/// Runs `opdev serve exporter` until `stop` is cancelled.
pub async fn serve(args: ServeArgs, stop: CancellationToken) -> Result<(), Error> {
    Exporter::bind(args).await?.run(stop).await
}

async fn metrics_handler(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    opdev_http::openmetrics(state.metrics.encode())
}

async fn alerts_handler(
    State(state): State<Arc<AppState>>,
    Json(payload): Json<WebhookPayload>,
) -> impl IntoResponse {
    let received_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut lines = String::new();
    for a in payload.alerts {
        // The status comes from the request: only Alertmanager's two values become label
        // values, anything else is `other`, so a client cannot grow the metrics.
        let status = match a.status.as_str() {
            "firing" => "firing",
            "resolved" => "resolved",
            _ => "other",
        };
        state
            .metrics
            .alerts
            .get_or_create(&StatusLabels {
                status: status.to_owned(),
            })
            .inc();
        let alertname = a.labels.get("alertname").cloned().unwrap_or_default();
        info!(alert = %alertname, status = %a.status, labels = ?a.labels, "alert notification");
        let record = AlertRecord {
            received_at,
            receiver: payload.receiver.clone(),
            status: a.status,
            labels: a.labels,
            annotations: a.annotations,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            fingerprint: a.fingerprint,
        };
        if let Ok(line) = serde_json::to_string(&record) {
            lines.push_str(&line);
            lines.push('\n');
        }
    }
    let Some(path) = &state.alert_log else {
        return (StatusCode::OK, Json(json!({ "logged": false })));
    };
    let _guard = state.write_lock.lock().await;
    match append(path, lines.as_bytes()).await {
        Ok(()) => (StatusCode::OK, Json(json!({ "logged": true }))),
        Err(e) => {
            error!(path = %path.display(), error = %e, "cannot append to the alert log");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({
                    "error": "internal_error",
                    "message": format!("append to {}: {e}", path.display()),
                })),
            )
        }
    }
}

async fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = tokio::fs::OpenOptions::new();
    options.create(true).append(true).mode(0o600);
    let mut file = match options.open(path).await {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // The folder of the log may not exist yet (e.g. `logs/` of a new devnet).
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            options.open(path).await?
        }
        other => other?,
    };
    file.write_all(bytes).await?;
    file.flush().await
}

/// What one successful probe saw.
#[derive(Debug)]
struct ProbeResult {
    chain_id: u64,
    head: u64,
    timestamp: u64,
    peers: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
enum ProbeError {
    #[error("{method}: {source}")]
    Http {
        method: &'static str,
        source: reqwest::Error,
    },
    #[error("{method}: the node answered with error {error}")]
    Rpc { method: &'static str, error: Value },
    #[error("{method}: unexpected answer {value}")]
    Answer { method: &'static str, value: Value },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

async fn rpc(
    client: &reqwest::Client,
    url: &str,
    method: &'static str,
    params: Value,
) -> Result<Value, ProbeError> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let http = |source| ProbeError::Http { method, source };
    let mut answer: Value = client
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(http)?
        .error_for_status()
        .map_err(http)?
        .json()
        .await
        .map_err(http)?;
    if let Some(error) = answer.get("error") {
        return Err(ProbeError::Rpc {
            method,
            error: error.clone(),
        });
    }
    Ok(answer
        .get_mut("result")
        .map(Value::take)
        .unwrap_or(Value::Null))
}

fn quantity(method: &'static str, v: &Value) -> Result<u64, ProbeError> {
    v.as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .ok_or_else(|| ProbeError::Answer {
            method,
            value: v.clone(),
        })
}

async fn probe(client: &reqwest::Client, url: &str) -> Result<ProbeResult, ProbeError> {
    let (id, block, peers) = tokio::join!(
        rpc(client, url, "eth_chainId", json!([])),
        rpc(
            client,
            url,
            "eth_getBlockByNumber",
            json!(["latest", false])
        ),
        rpc(client, url, "net_peerCount", json!([])),
    );
    let chain_id = quantity("eth_chainId", &id?)?;
    let block = block?;
    let head = quantity("eth_getBlockByNumber", &block["number"])?;
    let timestamp = quantity("eth_getBlockByNumber", &block["timestamp"])?;
    // Nodes without a p2p layer (anvil) answer "method not found": no peer count then.
    let peers = peers.ok().and_then(|p| quantity("net_peerCount", &p).ok());
    Ok(ProbeResult {
        chain_id,
        head,
        timestamp,
        peers,
    })
}

async fn probe_loop(
    client: reqwest::Client,
    chain: ChainEndpoint,
    state: Arc<AppState>,
    interval: Duration,
    timeout: Duration,
    stop: CancellationToken,
) {
    let labels = ChainLabels {
        chain: chain.name.clone(),
        chain_id: chain.chain_id.to_string(),
    };
    let m = &state.metrics;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The head last seen and when it last changed; None while the chain is unreachable.
    let mut last: Option<(u64, Instant)> = None;
    let mut was_up: Option<bool> = None;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let started = Instant::now();
        let result = match tokio::time::timeout(timeout, probe(&client, &chain.rpc_url)).await {
            Ok(r) => r,
            Err(_) => Err(ProbeError::Timeout(timeout)),
        };
        match result {
            Ok(p) => {
                let now = Instant::now();
                let since = match last {
                    Some((head, changed)) if head == p.head => changed,
                    _ => now,
                };
                last = Some((p.head, since));
                let unix_now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                m.up.get_or_create(&labels).set(1);
                m.head.get_or_create(&labels).set(p.head as i64);
                m.head_age
                    .get_or_create(&labels)
                    .set(unix_now - p.timestamp as f64);
                m.unchanged
                    .get_or_create(&labels)
                    .set(now.duration_since(since).as_secs_f64());
                m.chain_id.get_or_create(&labels).set(p.chain_id as i64);
                match p.peers {
                    Some(n) => {
                        m.peers.get_or_create(&labels).set(n as i64);
                    }
                    None => {
                        m.peers.remove(&labels);
                    }
                }
                m.probe_duration
                    .get_or_create(&labels)
                    .set(started.elapsed().as_secs_f64());
                if p.chain_id != chain.chain_id {
                    warn!(chain = %chain.name, expected = chain.chain_id, reported = p.chain_id, "chain id differs from the configured one");
                }
                if was_up != Some(true) {
                    info!(chain = %chain.name, url = %chain.rpc_url, head = p.head, "chain RPC reachable");
                }
                was_up = Some(true);
            }
            Err(e) => {
                last = None;
                m.chain_down(&labels);
                if was_up != Some(false) {
                    warn!(chain = %chain.name, url = %chain.rpc_url, error = %e, "chain RPC unreachable");
                } else {
                    debug!(chain = %chain.name, error = %e, "probe failed");
                }
                was_up = Some(false);
            }
        }
    }
}

/// How often the disk is measured (walking the folder costs more than a probe).
const DISK_INTERVAL: Duration = Duration::from_secs(5);

/// The part of the supervisor's state.json the exporter reads.
#[derive(Debug, Deserialize)]
struct SupervisorState {
    services: Vec<SupervisedService>,
}

#[derive(Debug, Deserialize)]
struct SupervisedService {
    name: String,
    state: String,
    restarts: u64,
}

/// Follows the supervisor's state.json: restarts become a counter (the supervisor's count starts
/// again at 0 when it restarts; the exporter's counter only ever adds), readiness a gauge.
async fn services_loop(
    path: PathBuf,
    state: Arc<AppState>,
    every: Duration,
    stop: CancellationToken,
) {
    let m = &state.metrics;
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Ok(text) = tokio::fs::read_to_string(&path).await else {
            continue;
        };
        let Ok(current) = serde_json::from_str::<SupervisorState>(&text) else {
            continue;
        };
        for service in current.services {
            let labels = ServiceLabels {
                service: service.name.clone(),
            };
            let last = seen.insert(service.name, service.restarts).unwrap_or(0);
            let added = if service.restarts >= last {
                service.restarts - last
            } else {
                service.restarts
            };
            let counter = m.service_restarts.get_or_create(&labels);
            if added > 0 {
                counter.inc_by(added);
            }
            let up = i64::from(matches!(service.state.as_str(), "ready" | "done"));
            m.service_up.get_or_create(&labels).set(up);
        }
    }
}

async fn disk_loop(path: PathBuf, state: Arc<AppState>, stop: CancellationToken) {
    let labels = PathLabels {
        path: path.display().to_string(),
    };
    let m = &state.metrics;
    let mut tick = tokio::time::interval(DISK_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        match nix::sys::statvfs::statvfs(&path) {
            Ok(st) => {
                let frag = st.fragment_size();
                let free = st.blocks_available().saturating_mul(frag);
                let total = st.blocks().saturating_mul(frag);
                m.disk_free.get_or_create(&labels).set(clamp(free));
                m.disk_total.get_or_create(&labels).set(clamp(total));
            }
            Err(e) => {
                warn!(path = %path.display(), error = %e, "statvfs failed");
                m.disk_free.remove(&labels);
                m.disk_total.remove(&labels);
            }
        }
        let walk = path.clone();
        match tokio::task::spawn_blocking(move || folder_usage(&walk)).await {
            Ok(used) => {
                m.disk_used.get_or_create(&labels).set(clamp(used));
            }
            Err(e) => warn!(error = %e, "disk usage task failed"),
        }
    }
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Bytes allocated to `dir` and everything under it, like `du -s` (symlinks not followed; files
/// that vanish during the walk are skipped).
pub fn folder_usage(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        total = total.saturating_add(meta.blocks().saturating_mul(512));
        if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&p)
        {
            stack.extend(entries.flatten().map(|e| e.path()));
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_arguments_parse() {
        let c: ChainEndpoint = "l2-1=901=http://127.0.0.1:9545".parse().unwrap();
        assert_eq!(c.name, "l2-1");
        assert_eq!(c.chain_id, 901);
        assert_eq!(c.rpc_url, "http://127.0.0.1:9545");
        for bad in ["l1", "l1=x=http://a", "=900=http://a", "l1=900=ws://a"] {
            assert!(bad.parse::<ChainEndpoint>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_registry_exposes_exactly_the_documented_metrics() {
        let mut got = registered_metric_names();
        got.sort();
        let mut want: Vec<String> = names::EXPORTER.iter().map(|m| m.name.to_owned()).collect();
        want.sort();
        assert_eq!(got, want);
        for m in names::EXPORTER {
            assert!(!help(m.name).is_empty());
        }
    }

    #[test]
    fn folder_usage_counts_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), vec![1u8; 100_000]).unwrap();
        assert!(folder_usage(dir.path()) >= 100_000);
    }
}
