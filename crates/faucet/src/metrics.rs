//! The faucet's Prometheus metrics, served as text at `GET /metrics`:
//! `faucet_claims_total{chain_id, outcome}`, `faucet_balance_wei{chain_id}` and
//! `faucet_claim_duration_seconds` (a histogram of the time to answer a claim).

use std::sync::atomic::AtomicU64;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

/// What became of a claim, as counted in `faucet_claims_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// Transfer sent.
    Sent,
    /// Refused by a rate limit.
    RateLimited,
    /// Bad input.
    Invalid,
    /// The faucet's balance is too low.
    InsufficientFunds,
    /// The node did not answer or refused the transfer.
    NodeError,
    /// The database did not answer.
    DatabaseError,
}

impl ClaimOutcome {
    /// Its label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::RateLimited => "rate_limited",
            Self::Invalid => "invalid",
            Self::InsufficientFunds => "insufficient_funds",
            Self::NodeError => "node_error",
            Self::DatabaseError => "database_error",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClaimLabels {
    chain_id: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChainLabels {
    chain_id: String,
}

/// The registry and its metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    claims: Family<ClaimLabels, Counter>,
    balance: Family<ChainLabels, Gauge<f64, AtomicU64>>,
    latency: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let claims = Family::<ClaimLabels, Counter>::default();
        registry.register(
            "faucet_claims",
            "Claims answered, by chain and outcome",
            claims.clone(),
        );
        let balance = Family::<ChainLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "faucet_balance_wei",
            "The faucet's balance per chain, in wei (last reading)",
            balance.clone(),
        );
        let latency = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        registry.register(
            "faucet_claim_duration_seconds",
            "Time to answer a claim",
            latency.clone(),
        );
        Self {
            registry,
            claims,
            balance,
            latency,
        }
    }

    /// Counts one claim and its latency. `chain_id` is `None` when the request named no
    /// usable chain.
    pub fn claim(&self, chain_id: Option<u64>, outcome: ClaimOutcome, seconds: f64) {
        let chain_id = chain_id.map_or_else(|| "unknown".to_owned(), |c| c.to_string());
        self.claims
            .get_or_create(&ClaimLabels {
                chain_id,
                outcome: outcome.as_str(),
            })
            .inc();
        self.latency.observe(seconds);
    }

    /// Sets the balance of one chain (wei, as a float).
    pub fn balance(&self, chain_id: u64, wei: f64) {
        self.balance
            .get_or_create(&ChainLabels {
                chain_id: chain_id.to_string(),
            })
            .set(wei);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric() {
        let m = Metrics::new();
        m.claim(Some(901), ClaimOutcome::Sent, 0.01);
        m.claim(None, ClaimOutcome::Invalid, 0.001);
        m.balance(901, 1e18);
        let text = m.render();
        assert!(text.contains(r#"faucet_claims_total{chain_id="901",outcome="sent"} 1"#));
        assert!(text.contains(r#"faucet_claims_total{chain_id="unknown",outcome="invalid"} 1"#));
        assert!(text.contains(r#"faucet_balance_wei{chain_id="901"} 1000000000000000000"#));
        assert!(text.contains("faucet_claim_duration_seconds_count 2"));
    }
}
