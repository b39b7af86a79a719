//! Prometheus metrics (text format through `prometheus-client`): per chain the indexed head, the
//! chain head and the lag, reorgs and their depth, rows written by table, and the latency of RPC
//! calls and database commits.

use std::{sync::Arc, time::Duration};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChainLabel {
    chain: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TableLabel {
    chain: String,
    table: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabel {
    chain: String,
    method: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

fn depth_histogram() -> Histogram {
    Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0])
}

struct Inner {
    registry: Registry,
    indexed_head: Family<ChainLabel, Gauge>,
    chain_head: Family<ChainLabel, Gauge>,
    lag: Family<ChainLabel, Gauge>,
    reorgs: Family<ChainLabel, Counter>,
    reorg_depth: Family<ChainLabel, Histogram, fn() -> Histogram>,
    rows: Family<TableLabel, Counter>,
    rpc_latency: Family<MethodLabel, Histogram, fn() -> Histogram>,
    db_latency: Family<ChainLabel, Histogram, fn() -> Histogram>,
}

/// The indexer's metrics; clones share them.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A new registry with every metric registered under the `opdev_indexer` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("opdev_indexer");
        let indexed_head = Family::<ChainLabel, Gauge>::default();
        let chain_head = Family::<ChainLabel, Gauge>::default();
        let lag = Family::<ChainLabel, Gauge>::default();
        let reorgs = Family::<ChainLabel, Counter>::default();
        let reorg_depth: Family<ChainLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(depth_histogram);
        let rows = Family::<TableLabel, Counter>::default();
        let rpc_latency: Family<MethodLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        let db_latency: Family<ChainLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "indexed_head",
            "Number of the last block written to the database",
            indexed_head.clone(),
        );
        registry.register(
            "chain_head",
            "Number of the chain's head as last seen",
            chain_head.clone(),
        );
        registry.register("lag_blocks", "Chain head minus indexed head", lag.clone());
        registry.register("reorgs", "Reorgs handled", reorgs.clone());
        registry.register(
            "reorg_depth_blocks",
            "Blocks removed by each reorg",
            reorg_depth.clone(),
        );
        registry.register("rows_written", "Rows written, by table", rows.clone());
        registry.register(
            "rpc_latency_seconds",
            "Latency of JSON-RPC requests (a batch counts as one)",
            rpc_latency.clone(),
        );
        registry.register(
            "db_commit_latency_seconds",
            "Latency of database transactions that write blocks or rewind",
            db_latency.clone(),
        );
        Self(Arc::new(Inner {
            registry,
            indexed_head,
            chain_head,
            lag,
            reorgs,
            reorg_depth,
            rows,
            rpc_latency,
            db_latency,
        }))
    }

    fn chain(chain: &str) -> ChainLabel {
        ChainLabel {
            chain: chain.into(),
        }
    }

    /// Records the heads of `chain` (and the lag between them).
    pub fn set_heads(&self, chain: &str, indexed: Option<u64>, head: Option<u64>) {
        let l = Self::chain(chain);
        if let Some(i) = indexed {
            self.0.indexed_head.get_or_create(&l).set(i as i64);
        }
        if let Some(h) = head {
            self.0.chain_head.get_or_create(&l).set(h as i64);
        }
        if let (Some(i), Some(h)) = (indexed, head) {
            self.0.lag.get_or_create(&l).set(h.saturating_sub(i) as i64);
        }
    }

    /// Records a reorg of `depth` blocks.
    pub fn reorg(&self, chain: &str, depth: u64) {
        let l = Self::chain(chain);
        self.0.reorgs.get_or_create(&l).inc();
        self.0.reorg_depth.get_or_create(&l).observe(depth as f64);
    }

    /// Records `n` rows written to `table`.
    pub fn rows(&self, chain: &str, table: &str, n: u64) {
        self.0
            .rows
            .get_or_create(&TableLabel {
                chain: chain.into(),
                table: table.into(),
            })
            .inc_by(n);
    }

    /// Records the latency of one RPC request.
    pub fn observe_rpc(&self, chain: &str, method: &str, took: Duration) {
        self.0
            .rpc_latency
            .get_or_create(&MethodLabel {
                chain: chain.into(),
                method: method.into(),
            })
            .observe(took.as_secs_f64());
    }

    /// Records the latency of one database transaction.
    pub fn observe_db(&self, chain: &str, took: Duration) {
        self.0
            .db_latency
            .get_or_create(&Self::chain(chain))
            .observe(took.as_secs_f64());
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.0.registry);
        out
    }
}
