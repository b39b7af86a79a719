//! Every metric name the alert rules and dashboards use, kept in one place. The exporter's own
//! metrics are defined here and registered by [`crate::exporter`]; the indexer's, faucet's and
//! supervisor's are the names those services are expected to expose (the contract between them
//! and the rules). A test checks that every dashboard expression names only metrics listed here,
//! and another that the exporter's registry matches [`EXPORTER`].

/// Who exposes a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Owner {
    /// `opdev serve exporter` (this crate).
    Exporter,
    /// `opdev serve indexer`.
    Indexer,
    /// `opdev serve faucet`.
    Faucet,
    /// The devnet's supervisor.
    Supervisor,
    /// Prometheus itself (per scrape target).
    Prometheus,
}

/// The Prometheus type of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A monotonically increasing count (name ends in `_total`).
    Counter,
}

/// One metric: its full name as Prometheus stores it, its labels and meaning.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// Name as queried in PromQL (counters include `_total`).
    pub name: &'static str,
    /// Type.
    pub kind: Kind,
    /// Labels besides `job` and `instance`.
    pub labels: &'static [&'static str],
    /// Who exposes it.
    pub owner: Owner,
    /// What it measures.
    pub help: &'static str,
}

const fn m(
    name: &'static str,
    kind: Kind,
    labels: &'static [&'static str],
    owner: Owner,
    help: &'static str,
) -> Metric {
    Metric {
        name,
        kind,
        labels,
        owner,
        help,
    }
}

const CHAIN: &[&str] = &["chain", "chain_id"];

/// `1` when the chain's JSON-RPC answered the last probe, else `0`.
pub const CHAIN_UP: &str = "opdev_chain_up";
/// Number of the latest block.
pub const CHAIN_HEAD_BLOCK: &str = "opdev_chain_head_block";
/// Seconds between now and the latest block's timestamp.
pub const CHAIN_HEAD_AGE: &str = "opdev_chain_head_age_seconds";
/// Seconds since the exporter last saw the head number change.
pub const CHAIN_HEAD_UNCHANGED: &str = "opdev_chain_head_unchanged_seconds";
/// Chain id the node reports.
pub const CHAIN_ID: &str = "opdev_chain_id";
/// Peer count (`net_peerCount`) where the node answers it.
pub const CHAIN_PEERS: &str = "opdev_chain_peers";
/// Duration of the last successful probe.
pub const CHAIN_PROBE_DURATION: &str = "opdev_chain_probe_duration_seconds";
/// Failed probes.
pub const CHAIN_PROBE_FAILURES: &str = "opdev_chain_probe_failures_total";
/// Bytes used by the devnet folder.
pub const DISK_USED: &str = "opdev_disk_used_bytes";
/// Bytes free (for unprivileged users) on the devnet folder's filesystem.
pub const DISK_FREE: &str = "opdev_disk_free_bytes";
/// Size of the devnet folder's filesystem.
pub const DISK_TOTAL: &str = "opdev_disk_total_bytes";
/// Alert notifications received on `POST /alerts`.
pub const ALERTS_RECEIVED: &str = "opdev_alerts_received_total";

/// Indexer: blocks between the chain's head and the last indexed block.
pub const INDEXER_LAG: &str = "opdev_indexer_lag_blocks";
/// Indexer: the last indexed block number.
pub const INDEXER_INDEXED_BLOCK: &str = "opdev_indexer_indexed_block";
/// Indexer: the chain head it last saw.
pub const INDEXER_CHAIN_HEAD: &str = "opdev_indexer_chain_head_block";
/// Indexer: blocks written.
pub const INDEXER_BLOCKS_INDEXED: &str = "opdev_indexer_blocks_indexed_total";
/// Faucet: claims by outcome.
pub const FAUCET_CLAIMS: &str = "opdev_faucet_claims_total";
/// Faucet: the faucet account's balance, in ETH.
pub const FAUCET_BALANCE: &str = "opdev_faucet_balance_eth";
/// Supervisor: restarts of a service.
pub const SERVICE_RESTARTS: &str = "opdev_service_restarts_total";
/// Supervisor: `1` when a service is running and ready.
pub const SERVICE_UP: &str = "opdev_service_up";
/// Prometheus: `1` when the last scrape of a target succeeded.
pub const UP: &str = "up";

/// The exporter's metrics (see [`crate::exporter`]).
pub const EXPORTER: &[Metric] = &[
    m(
        CHAIN_UP,
        Kind::Gauge,
        CHAIN,
        Owner::Exporter,
        "1 when the chain's JSON-RPC answered the last probe, else 0",
    ),
    m(
        CHAIN_HEAD_BLOCK,
        Kind::Gauge,
        CHAIN,
        Owner::Exporter,
        "number of the latest block",
    ),
    m(
        CHAIN_HEAD_AGE,
        Kind::Gauge,
        CHAIN,
        Owner::Exporter,
        "seconds between now and the latest block's timestamp (negative after time travel)",
    ),
    m(
        CHAIN_HEAD_UNCHANGED,
        Kind::Gauge,
        CHAIN,
        Owner::Exporter,
        "seconds since the exporter last saw the head number change",
    ),
    m(
        CHAIN_ID,
        Kind::Gauge,
        CHAIN,
        Owner::Exporter,
        "chain id the node reports (eth_chainId)",
    ),
    m(
        CHAIN_PEERS,
        Kind::Gauge,
        CHAIN,
        Owner::Exporter,
        "peer count (net_peerCount), absent when the node does not answer it",
    ),
    m(
        CHAIN_PROBE_DURATION,
        Kind::Gauge,
        CHAIN,
        Owner::Exporter,
        "duration of the last successful probe",
    ),
    m(
        CHAIN_PROBE_FAILURES,
        Kind::Counter,
        CHAIN,
        Owner::Exporter,
        "probes that failed or timed out",
    ),
    m(
        DISK_USED,
        Kind::Gauge,
        &["path"],
        Owner::Exporter,
        "bytes used by the devnet folder",
    ),
    m(
        DISK_FREE,
        Kind::Gauge,
        &["path"],
        Owner::Exporter,
        "bytes available to unprivileged users on the folder's filesystem",
    ),
    m(
        DISK_TOTAL,
        Kind::Gauge,
        &["path"],
        Owner::Exporter,
        "size of the folder's filesystem",
    ),
    m(
        ALERTS_RECEIVED,
        Kind::Counter,
        &["status"],
        Owner::Exporter,
        "alert notifications received from Alertmanager",
    ),
];

/// Metrics other services are expected to expose: the names the rules and dashboards query.
pub const EXPECTED: &[Metric] = &[
    m(
        INDEXER_LAG,
        Kind::Gauge,
        CHAIN,
        Owner::Indexer,
        "chain head minus last indexed block",
    ),
    m(
        INDEXER_INDEXED_BLOCK,
        Kind::Gauge,
        CHAIN,
        Owner::Indexer,
        "last indexed block number",
    ),
    m(
        INDEXER_CHAIN_HEAD,
        Kind::Gauge,
        CHAIN,
        Owner::Indexer,
        "chain head the indexer last saw",
    ),
    m(
        INDEXER_BLOCKS_INDEXED,
        Kind::Counter,
        CHAIN,
        Owner::Indexer,
        "blocks written to PostgreSQL",
    ),
    m(
        FAUCET_CLAIMS,
        Kind::Counter,
        &["chain", "outcome"],
        Owner::Faucet,
        "claims by outcome (e.g. sent, rate_limited, failed)",
    ),
    m(
        FAUCET_BALANCE,
        Kind::Gauge,
        &["chain"],
        Owner::Faucet,
        "faucet account balance in ETH",
    ),
    m(
        SERVICE_RESTARTS,
        Kind::Counter,
        &["service"],
        Owner::Supervisor,
        "restarts of a service by the supervisor",
    ),
    m(
        SERVICE_UP,
        Kind::Gauge,
        &["service"],
        Owner::Supervisor,
        "1 when the service runs and is ready",
    ),
    m(
        UP,
        Kind::Gauge,
        &[],
        Owner::Prometheus,
        "1 when the last scrape of the target succeeded",
    ),
];

/// Every known metric: [`EXPORTER`] then [`EXPECTED`].
pub fn all() -> impl Iterator<Item = &'static Metric> {
    EXPORTER.iter().chain(EXPECTED)
}

/// Whether `name` is a metric the rules and dashboards may query. Prometheus's per-target
/// `scrape_*` series count as known.
pub fn is_known(name: &str) -> bool {
    all().any(|m| m.name == name)
        || matches!(
            name,
            "scrape_duration_seconds" | "scrape_samples_scraped" | "scrape_series_added"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_counters_end_in_total() {
        let mut seen = std::collections::HashSet::new();
        for m in all() {
            assert!(seen.insert(m.name), "{} listed twice", m.name);
            assert_eq!(
                m.kind == Kind::Counter,
                m.name.ends_with("_total"),
                "{}",
                m.name
            );
        }
    }
}
