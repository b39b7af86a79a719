//! The relayer's Prometheus metrics, served as OpenMetrics text at `GET /metrics` on `--listen`.
//! Every series carries the labels `chain` (the L2's service name) and `chain_id`, and only the
//! L2s named on the command line get series: the label sets are fixed when the relayer starts.
//!
//! | metric | type | meaning |
//! | --- | --- | --- |
//! | `opdev_relayer_deposits_relayed_total` | counter | deposits sent to the L2 |
//! | `opdev_relayer_deposits_resent_total` | counter | deposits sent again after the L2 lost them |
//! | `opdev_relayer_deposit_seen_l1_block` | gauge | L1 block of the newest deposit read from the portal |
//! | `opdev_relayer_deposit_relayed_l1_block` | gauge | L1 block of the newest deposit on the L2 |
//! | `opdev_relayer_deposit_lag_blocks` | gauge | L1 head minus the last L1 block the relay has read |
//! | `opdev_relayer_last_deposit_timestamp_seconds` | gauge | Unix time of the last deposit relayed |
//! | `opdev_relayer_l1_info_updates_total` | counter | L1-info deposits sent |
//! | `opdev_relayer_outputs_proposed_total` | counter | dispute games created |
//! | `opdev_relayer_output_l2_block` | gauge | L2 block of the newest proposal |
//! | `opdev_relayer_proposer_lag_blocks` | gauge | L2 head minus the last proposed block |
//! | `opdev_relayer_proposal_errors_total` | counter | proposals that failed |
//! | `opdev_relayer_last_output_timestamp_seconds` | gauge | Unix time of the last output proposed |
//!
//! Counters exist from the start (at 0), so `increase()` sees the first event; gauges appear
//! with their first value.

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChainLabels {
    chain: String,
    chain_id: String,
}

#[derive(Default)]
struct Families {
    deposits_relayed: Family<ChainLabels, Counter>,
    deposits_resent: Family<ChainLabels, Counter>,
    deposit_seen_block: Family<ChainLabels, Gauge>,
    deposit_relayed_block: Family<ChainLabels, Gauge>,
    deposit_lag: Family<ChainLabels, Gauge>,
    last_deposit_at: Family<ChainLabels, Gauge>,
    l1_info_updates: Family<ChainLabels, Counter>,
    outputs_proposed: Family<ChainLabels, Counter>,
    output_block: Family<ChainLabels, Gauge>,
    proposer_lag: Family<ChainLabels, Gauge>,
    proposal_errors: Family<ChainLabels, Counter>,
    last_output_at: Family<ChainLabels, Gauge>,
}

impl Families {
    fn register(&self, registry: &mut Registry) {
        let counters = [
            (
                "deposits_relayed",
                "Deposits sent to the L2",
                &self.deposits_relayed,
            ),
            (
                "deposits_resent",
                "Deposits sent again after the L2 lost them (restarted from an older state)",
                &self.deposits_resent,
            ),
            (
                "l1_info_updates",
                "L1-info deposits sent to the L2 (one per new L1 head)",
                &self.l1_info_updates,
            ),
            (
                "outputs_proposed",
                "Outputs proposed: dispute games created on the L1",
                &self.outputs_proposed,
            ),
            (
                "proposal_errors",
                "Output proposals that failed",
                &self.proposal_errors,
            ),
        ];
        for (name, help, family) in counters {
            registry.register(name, help, family.clone());
        }
        let gauges = [
            (
                "deposit_seen_l1_block",
                "L1 block of the newest deposit read from the OptimismPortal",
                &self.deposit_seen_block,
            ),
            (
                "deposit_relayed_l1_block",
                "L1 block of the newest deposit on the L2 (relayed, or found there already)",
                &self.deposit_relayed_block,
            ),
            (
                "deposit_lag_blocks",
                "L1 head minus the last L1 block the deposit relay has read (its checkpoint)",
                &self.deposit_lag,
            ),
            (
                "last_deposit_timestamp_seconds",
                "Unix time of the last deposit relayed",
                &self.last_deposit_at,
            ),
            (
                "output_l2_block",
                "L2 block of the newest output proposed",
                &self.output_block,
            ),
            (
                "proposer_lag_blocks",
                "L2 head minus the last block proposed, as of the proposer's last look",
                &self.proposer_lag,
            ),
            (
                "last_output_timestamp_seconds",
                "Unix time of the last output proposed",
                &self.last_output_at,
            ),
        ];
        for (name, help, family) in gauges {
            registry.register(name, help, family.clone());
        }
    }
}

struct Inner {
    registry: Registry,
    families: Arc<Families>,
    chains: Vec<ChainLabels>,
}

/// The relayer's metrics; clones share them.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Metrics {
    /// A registry under the `opdev_relayer` prefix with series for the L2s `(name, chain_id)`.
    pub fn new<'a>(l2s: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        let mut registry = Registry::with_prefix("opdev_relayer");
        let families = Arc::new(Families::default());
        families.register(&mut registry);
        let chains: Vec<ChainLabels> = l2s
            .into_iter()
            .map(|(name, id)| ChainLabels {
                chain: name.to_owned(),
                chain_id: id.to_string(),
            })
            .collect();
        for labels in &chains {
            for counter in [
                &families.deposits_relayed,
                &families.deposits_resent,
                &families.l1_info_updates,
                &families.outputs_proposed,
                &families.proposal_errors,
            ] {
                let _ = counter.get_or_create(labels);
            }
        }
        Self(Arc::new(Inner {
            registry,
            families,
            chains,
        }))
    }

    /// The handle of the L2 `name`; `None` for a chain the relayer was not started with.
    pub fn chain(&self, name: &str) -> Option<ChainMetrics> {
        let labels = self.0.chains.iter().find(|l| l.chain == name)?.clone();
        Some(ChainMetrics {
            families: self.0.families.clone(),
            labels,
        })
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.0.registry);
        out
    }
}

/// The metrics of one L2. The default handle belongs to no registry: what it counts is not
/// served (for a relay built without [`Metrics`]).
#[derive(Clone)]
pub struct ChainMetrics {
    families: Arc<Families>,
    labels: ChainLabels,
}

impl Default for ChainMetrics {
    fn default() -> Self {
        Self {
            families: Arc::new(Families::default()),
            labels: ChainLabels {
                chain: String::new(),
                chain_id: String::new(),
            },
        }
    }
}

impl std::fmt::Debug for ChainMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ChainMetrics")
            .field(&self.labels.chain)
            .finish()
    }
}

impl ChainMetrics {
    fn counter(&self, family: &Family<ChainLabels, Counter>) {
        family.get_or_create(&self.labels).inc();
    }

    fn gauge(&self, family: &Family<ChainLabels, Gauge>, value: i64) {
        family.get_or_create(&self.labels).set(value);
    }

    /// A deposit of L1 block `l1_block` was read from the portal.
    pub fn deposit_seen(&self, l1_block: u64) {
        self.gauge(&self.families.deposit_seen_block, gauge_value(l1_block));
    }

    /// A deposit of L1 block `l1_block` is on the L2 already (nothing sent).
    pub fn deposit_on_l2(&self, l1_block: u64) {
        self.gauge(&self.families.deposit_relayed_block, gauge_value(l1_block));
    }

    /// A deposit of L1 block `l1_block` was sent to the L2.
    pub fn deposit_relayed(&self, l1_block: u64) {
        self.counter(&self.families.deposits_relayed);
        self.deposit_on_l2(l1_block);
        self.gauge(&self.families.last_deposit_at, unix_now());
    }

    /// A deposit the L2 had lost was sent again.
    pub fn deposit_resent(&self) {
        self.counter(&self.families.deposits_resent);
    }

    /// The L1 head is `head` and the relay reads from `next_block` on.
    pub fn deposit_progress(&self, head: u64, next_block: u64) {
        let last_read = next_block.saturating_sub(1);
        self.gauge(
            &self.families.deposit_lag,
            gauge_value(head.saturating_sub(last_read)),
        );
    }

    /// An L1-info deposit was sent.
    pub fn l1_info_sent(&self) {
        self.counter(&self.families.l1_info_updates);
    }

    /// The proposer saw the L2 head at `head`; it last proposed `last` (`None`: not yet, so every
    /// block counts).
    pub fn proposer_saw(&self, head: u64, last: Option<u64>) {
        let lag = head.saturating_sub(last.unwrap_or(0));
        self.gauge(&self.families.proposer_lag, gauge_value(lag));
    }

    /// An output of L2 block `l2_block` was proposed.
    pub fn output_proposed(&self, l2_block: u64) {
        self.counter(&self.families.outputs_proposed);
        self.gauge(&self.families.output_block, gauge_value(l2_block));
        self.gauge(&self.families.proposer_lag, 0);
        self.gauge(&self.families.last_output_at, unix_now());
    }

    /// A proposal failed.
    pub fn proposal_error(&self) {
        self.counter(&self.families.proposal_errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(text: &'a str, series: &str) -> Option<&'a str> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
    }

    #[test]
    fn counters_start_at_zero_and_gauges_appear_when_set() {
        let m = Metrics::new([("l2-1", 901), ("l2-2", 902)]);
        let text = m.encode();
        let l2_1 = r#"{chain="l2-1",chain_id="901"}"#;
        for counter in [
            "deposits_relayed",
            "deposits_resent",
            "l1_info_updates",
            "outputs_proposed",
            "proposal_errors",
        ] {
            assert_eq!(
                value(&text, &format!("opdev_relayer_{counter}_total{l2_1}")),
                Some("0"),
                "{text}"
            );
        }
        assert!(
            !text.contains("opdev_relayer_deposit_lag_blocks{"),
            "{text}"
        );

        let c = m.chain("l2-1").unwrap();
        c.deposit_seen(40);
        c.deposit_relayed(40);
        c.deposit_progress(45, 43);
        c.l1_info_sent();
        c.proposer_saw(120, Some(100));
        let text = m.encode();
        let v = |name: &str| value(&text, &format!("opdev_relayer_{name}{l2_1}"));
        assert_eq!(v("deposits_relayed_total"), Some("1"));
        assert_eq!(v("deposit_seen_l1_block"), Some("40"));
        assert_eq!(v("deposit_relayed_l1_block"), Some("40"));
        assert_eq!(v("deposit_lag_blocks"), Some("3"));
        assert_eq!(v("l1_info_updates_total"), Some("1"));
        assert_eq!(v("proposer_lag_blocks"), Some("20"));
        assert!(
            v("last_deposit_timestamp_seconds")
                .unwrap()
                .parse::<i64>()
                .unwrap()
                > 1_700_000_000
        );

        c.output_proposed(121);
        c.proposal_error();
        let text = m.encode();
        let v = |name: &str| value(&text, &format!("opdev_relayer_{name}{l2_1}"));
        assert_eq!(v("outputs_proposed_total"), Some("1"));
        assert_eq!(v("output_l2_block"), Some("121"));
        assert_eq!(v("proposer_lag_blocks"), Some("0"));
        assert_eq!(v("proposal_errors_total"), Some("1"));
        // The other L2's series moved not.
        assert_eq!(
            value(
                &text,
                r#"opdev_relayer_deposits_relayed_total{chain="l2-2",chain_id="902"}"#
            ),
            Some("0")
        );
    }

    #[test]
    fn only_the_chains_given_at_start_get_series() {
        let m = Metrics::new([("l2-1", 901)]);
        assert!(m.chain("l2-9").is_none());
        // A detached handle counts into nothing that is served.
        ChainMetrics::default().deposit_relayed(1);
        assert!(!m.encode().contains("chain=\"\""));
    }

    #[test]
    fn lag_counts_from_the_last_block_read() {
        let m = Metrics::new([("l2-1", 901)]);
        let c = m.chain("l2-1").unwrap();
        // Read through the head: no lag.
        c.deposit_progress(10, 11);
        assert!(
            m.encode()
                .contains("opdev_relayer_deposit_lag_blocks{chain=\"l2-1\",chain_id=\"901\"} 0")
        );
        // Nothing read yet on a fresh relayer: the whole chain.
        c.deposit_progress(10, 0);
        assert!(
            m.encode()
                .contains("opdev_relayer_deposit_lag_blocks{chain=\"l2-1\",chain_id=\"901\"} 10")
        );
    }
}
