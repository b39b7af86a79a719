//! Every metric name the alert rules and dashboards use, kept in one place. The exporter's own
//! metrics are defined here and registered by [`crate::exporter`]; the indexer's, faucet's,
//! relayer's and supervisor's are the names those services expose (the contract between them and the rules;
//! when one of them renames a metric, this list and the test that reads it say what to change).
//! The full profile's OP Stack programs (op-node, op-batcher, op-proposer v1.7.7) export theirs
//! under `op_<program>_default_*`; the orchestrator's tests compare this list with what the
//! programs document (`<program> doc metrics`). A test checks that every dashboard expression names only metrics listed here,
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
    /// `opdev serve relayer` (the lite bridge; labels `chain` = the L2, `chain_id`).
    Relayer,
    /// The devnet's supervisor.
    Supervisor,
    /// op-node of a full-profile L2 (Prometheus adds [`ROLLUP_LABELS`]).
    OpNode,
    /// op-batcher of a full-profile L2 (Prometheus adds [`ROLLUP_LABELS`]).
    OpBatcher,
    /// op-proposer of a full-profile L2 (Prometheus adds [`ROLLUP_LABELS`]).
    OpProposer,
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
    /// Buckets, sum and count: queried as `<name>_bucket`, `<name>_sum`, `<name>_count`.
    Histogram,
}

/// One metric: its full name as Prometheus stores it, its labels and meaning.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// Name as queried in PromQL (counters include `_total`).
    pub name: &'static str,
    /// Type.
    pub kind: Kind,
    /// Labels besides `job` and `instance` (for the OP Stack programs, the labels the program
    /// exports; Prometheus adds [`ROLLUP_LABELS`]).
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

/// Labels Prometheus adds to every series of a full-profile L2's OP Stack programs (see
/// [`crate::config::prometheus_yml`]): the L2's service name, its chain id, the program's service.
pub const ROLLUP_LABELS: &[&str] = &["chain", "chain_id", "service"];

const REFS: &[&str] = &["layer", "type"];

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
pub const INDEXER_INDEXED_HEAD: &str = "opdev_indexer_indexed_head";
/// Indexer: the chain head it last saw.
pub const INDEXER_CHAIN_HEAD: &str = "opdev_indexer_chain_head";
/// Indexer: rows written, by table (`blocks`, `transactions`, `logs`).
pub const INDEXER_ROWS_WRITTEN: &str = "opdev_indexer_rows_written_total";
/// Indexer: reorgs handled.
pub const INDEXER_REORGS: &str = "opdev_indexer_reorgs_total";
/// Indexer: blocks removed by each reorg (histogram).
pub const INDEXER_REORG_DEPTH: &str = "opdev_indexer_reorg_depth_blocks";
/// Indexer: JSON-RPC latency (histogram).
pub const INDEXER_RPC_LATENCY: &str = "opdev_indexer_rpc_latency_seconds";
/// Indexer: database commit latency (histogram).
pub const INDEXER_DB_LATENCY: &str = "opdev_indexer_db_commit_latency_seconds";
/// Faucet: claims by chain id and outcome.
pub const FAUCET_CLAIMS: &str = "faucet_claims_total";
/// Faucet: the faucet account's balance per chain id, in wei.
pub const FAUCET_BALANCE: &str = "faucet_balance_wei";
/// Faucet: time to answer a claim (histogram).
pub const FAUCET_CLAIM_DURATION: &str = "faucet_claim_duration_seconds";
/// Relayer: deposits sent to the L2.
pub const RELAYER_DEPOSITS_RELAYED: &str = "opdev_relayer_deposits_relayed_total";
/// Relayer: deposits sent again after the L2 lost them.
pub const RELAYER_DEPOSITS_RESENT: &str = "opdev_relayer_deposits_resent_total";
/// Relayer: L1 block of the newest deposit read from the portal.
pub const RELAYER_DEPOSIT_SEEN_BLOCK: &str = "opdev_relayer_deposit_seen_l1_block";
/// Relayer: L1 block of the newest deposit on the L2.
pub const RELAYER_DEPOSIT_RELAYED_BLOCK: &str = "opdev_relayer_deposit_relayed_l1_block";
/// Relayer: L1 head minus the last L1 block the deposit relay has read.
pub const RELAYER_DEPOSIT_LAG: &str = "opdev_relayer_deposit_lag_blocks";
/// Relayer: Unix time of the last deposit relayed.
pub const RELAYER_LAST_DEPOSIT: &str = "opdev_relayer_last_deposit_timestamp_seconds";
/// Relayer: L1-info deposits sent.
pub const RELAYER_L1_INFO_UPDATES: &str = "opdev_relayer_l1_info_updates_total";
/// Relayer: outputs proposed (dispute games created).
pub const RELAYER_OUTPUTS_PROPOSED: &str = "opdev_relayer_outputs_proposed_total";
/// Relayer: L2 block of the newest proposal.
pub const RELAYER_OUTPUT_BLOCK: &str = "opdev_relayer_output_l2_block";
/// Relayer: L2 head minus the last proposed block.
pub const RELAYER_PROPOSER_LAG: &str = "opdev_relayer_proposer_lag_blocks";
/// Relayer: proposals that failed.
pub const RELAYER_PROPOSAL_ERRORS: &str = "opdev_relayer_proposal_errors_total";
/// Relayer: Unix time of the last output proposed.
pub const RELAYER_LAST_OUTPUT: &str = "opdev_relayer_last_output_timestamp_seconds";
/// op-node: block numbers of its references; `layer="l2"` with `type` `l2_unsafe`, `l2_safe`,
/// `l2_finalized` are the L2's heads.
pub const OP_NODE_REFS: &str = "op_node_default_refs_number";
/// op-node: derivation errors.
pub const OP_NODE_DERIVATION_ERRORS: &str = "op_node_default_derivation_errors_total";
/// op-node: derivation pipeline resets.
pub const OP_NODE_PIPELINE_RESETS: &str = "op_node_default_pipeline_resets_total";
/// op-batcher: batch transactions sent to the L1 (every successful send, fee bumps included).
pub const OP_BATCHER_PUBLISHED: &str = "op_batcher_default_txmgr_publish_total";
/// op-batcher: batch transactions included in the L1, by receipt `status`.
pub const OP_BATCHER_CONFIRMED: &str = "op_batcher_default_txmgr_confirm_total";
/// op-batcher: batch transactions waiting for their receipt.
pub const OP_BATCHER_PENDING: &str = "op_batcher_default_txmgr_pending_txs";
/// op-proposer: proposal transactions included in the L1 (each creates a dispute game), by
/// receipt `status`.
pub const OP_PROPOSER_CONFIRMED: &str = "op_proposer_default_txmgr_confirm_total";
/// op-proposer: block numbers of its references; `layer="l2",type="proposed"` is the L2 block of
/// the newest proposal.
pub const OP_PROPOSER_REFS: &str = "op_proposer_default_refs_number";
/// Supervisor: restarts of a service.
pub const SERVICE_RESTARTS: &str = "opdev_service_restarts_total";
/// Supervisor: `1` when a service is running and ready.
pub const SERVICE_UP: &str = "opdev_service_up";
/// Prometheus: `1` when the last scrape of a target succeeded.
pub const UP: &str = "up";

/// The exporter's metrics (see [`crate::exporter`]).
pub const EXPORTER: &[Metric] = &[
    m(
        SERVICE_RESTARTS,
        Kind::Counter,
        &["service"],
        Owner::Supervisor,
        "restarts of a service by the supervisor (from its state.json)",
    ),
    m(
        SERVICE_UP,
        Kind::Gauge,
        &["service"],
        Owner::Supervisor,
        "1 when the service runs and is ready (from the supervisor's state.json)",
    ),
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

/// Metrics other services expose (read from crates/indexer/src/metrics.rs,
/// crates/faucet/src/metrics.rs and crates/relayer/src/metrics.rs, and from the OP Stack programs'
/// `doc metrics` and `/metrics`) or are expected to expose (the supervisor's): the names the rules
/// and dashboards query.
pub const EXPECTED: &[Metric] = &[
    m(
        INDEXER_LAG,
        Kind::Gauge,
        &["chain"],
        Owner::Indexer,
        "chain head minus indexed head",
    ),
    m(
        INDEXER_INDEXED_HEAD,
        Kind::Gauge,
        &["chain"],
        Owner::Indexer,
        "number of the last block written to the database",
    ),
    m(
        INDEXER_CHAIN_HEAD,
        Kind::Gauge,
        &["chain"],
        Owner::Indexer,
        "number of the chain's head as last seen",
    ),
    m(
        INDEXER_ROWS_WRITTEN,
        Kind::Counter,
        &["chain", "table"],
        Owner::Indexer,
        "rows written, by table",
    ),
    m(
        INDEXER_REORGS,
        Kind::Counter,
        &["chain"],
        Owner::Indexer,
        "reorgs handled",
    ),
    m(
        INDEXER_REORG_DEPTH,
        Kind::Histogram,
        &["chain"],
        Owner::Indexer,
        "blocks removed by each reorg",
    ),
    m(
        INDEXER_RPC_LATENCY,
        Kind::Histogram,
        &["chain", "method"],
        Owner::Indexer,
        "latency of JSON-RPC requests",
    ),
    m(
        INDEXER_DB_LATENCY,
        Kind::Histogram,
        &["chain"],
        Owner::Indexer,
        "latency of database transactions",
    ),
    m(
        FAUCET_CLAIMS,
        Kind::Counter,
        &["chain_id", "outcome"],
        Owner::Faucet,
        "claims answered, by chain id and outcome",
    ),
    m(
        FAUCET_BALANCE,
        Kind::Gauge,
        &["chain_id"],
        Owner::Faucet,
        "the faucet's balance per chain, in wei",
    ),
    m(
        FAUCET_CLAIM_DURATION,
        Kind::Histogram,
        &[],
        Owner::Faucet,
        "time to answer a claim",
    ),
    m(
        RELAYER_DEPOSITS_RELAYED,
        Kind::Counter,
        CHAIN,
        Owner::Relayer,
        "deposits sent to the L2",
    ),
    m(
        RELAYER_DEPOSITS_RESENT,
        Kind::Counter,
        CHAIN,
        Owner::Relayer,
        "deposits sent again after the L2 lost them (restarted from an older state)",
    ),
    m(
        RELAYER_DEPOSIT_SEEN_BLOCK,
        Kind::Gauge,
        CHAIN,
        Owner::Relayer,
        "L1 block of the newest deposit read from the OptimismPortal",
    ),
    m(
        RELAYER_DEPOSIT_RELAYED_BLOCK,
        Kind::Gauge,
        CHAIN,
        Owner::Relayer,
        "L1 block of the newest deposit on the L2",
    ),
    m(
        RELAYER_DEPOSIT_LAG,
        Kind::Gauge,
        CHAIN,
        Owner::Relayer,
        "L1 head minus the last L1 block the deposit relay has read",
    ),
    m(
        RELAYER_LAST_DEPOSIT,
        Kind::Gauge,
        CHAIN,
        Owner::Relayer,
        "Unix time of the last deposit relayed",
    ),
    m(
        RELAYER_L1_INFO_UPDATES,
        Kind::Counter,
        CHAIN,
        Owner::Relayer,
        "L1-info deposits sent to the L2",
    ),
    m(
        RELAYER_OUTPUTS_PROPOSED,
        Kind::Counter,
        CHAIN,
        Owner::Relayer,
        "outputs proposed (dispute games created on the L1)",
    ),
    m(
        RELAYER_OUTPUT_BLOCK,
        Kind::Gauge,
        CHAIN,
        Owner::Relayer,
        "L2 block of the newest output proposed",
    ),
    m(
        RELAYER_PROPOSER_LAG,
        Kind::Gauge,
        CHAIN,
        Owner::Relayer,
        "L2 head minus the last block proposed, as of the proposer's last look",
    ),
    m(
        RELAYER_PROPOSAL_ERRORS,
        Kind::Counter,
        CHAIN,
        Owner::Relayer,
        "output proposals that failed",
    ),
    m(
        RELAYER_LAST_OUTPUT,
        Kind::Gauge,
        CHAIN,
        Owner::Relayer,
        "Unix time of the last output proposed",
    ),
    m(
        OP_NODE_REFS,
        Kind::Gauge,
        REFS,
        Owner::OpNode,
        "block numbers of op-node's L1 and L2 references (layer l2: types l2_unsafe, l2_safe, l2_finalized…)",
    ),
    m(
        OP_NODE_DERIVATION_ERRORS,
        Kind::Counter,
        &[],
        Owner::OpNode,
        "derivation errors",
    ),
    m(
        OP_NODE_PIPELINE_RESETS,
        Kind::Counter,
        &[],
        Owner::OpNode,
        "derivation pipeline resets",
    ),
    m(
        OP_BATCHER_PUBLISHED,
        Kind::Counter,
        &[],
        Owner::OpBatcher,
        "batch transactions sent to the L1 (exported at 0 from the start)",
    ),
    m(
        OP_BATCHER_CONFIRMED,
        Kind::Counter,
        &["status"],
        Owner::OpBatcher,
        "batch transactions included in the L1, by receipt status (success, failed)",
    ),
    m(
        OP_BATCHER_PENDING,
        Kind::Gauge,
        &[],
        Owner::OpBatcher,
        "batch transactions waiting for their receipt",
    ),
    m(
        OP_PROPOSER_CONFIRMED,
        Kind::Counter,
        &["status"],
        Owner::OpProposer,
        "proposal transactions included in the L1 (each creates a dispute game), by receipt status",
    ),
    m(
        OP_PROPOSER_REFS,
        Kind::Gauge,
        REFS,
        Owner::OpProposer,
        "block numbers of op-proposer's references (layer l2, type proposed: the newest proposal)",
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
    all().any(|m| match m.kind {
        Kind::Histogram => ["_bucket", "_sum", "_count"]
            .iter()
            .any(|suffix| name.strip_suffix(suffix) == Some(m.name)),
        _ => m.name == name,
    }) || matches!(
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
