//! L1-info deposits: whenever the L1 has a new head, each L2 receives the deposit that writes
//! that block's number, timestamp, base fee and hash (and the SystemConfig's fee scalars and
//! batcher hash) into its L1Block predeploy — the `setL1BlockValuesEcotone` call the OP Stack
//! makes at the start of every L2 block — so contracts reading `L1Block.number()` see the L1.

use alloy::primitives::{B256, U256};
use opdev_opstack::{
    anvil::Chain,
    deposit::{self, L1Info},
    l1,
};

use crate::metrics::ChainMetrics;

/// Keeps one L2's L1Block in step with the L1 head.
#[derive(Debug)]
pub struct L1InfoFeed {
    l1: Chain,
    l2: Chain,
    batcher_hash: B256,
    last: Option<B256>,
    /// The L1-info deposit sent last, until it is mined (one pending deposit per sender).
    in_flight: Option<B256>,
    metrics: ChainMetrics,
}

impl L1InfoFeed {
    /// The feed of `l2`, whose SystemConfig names `batcher_hash`.
    pub fn new(l1: Chain, l2: Chain, batcher_hash: B256) -> Self {
        Self {
            l1,
            l2,
            batcher_hash,
            last: None,
            in_flight: None,
            metrics: ChainMetrics::default(),
        }
    }

    /// Counts the updates it sends into `metrics`.
    pub fn with_metrics(mut self, metrics: ChainMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Sends the L1-info deposit of the L1 head if it is new.
    pub async fn tick(&mut self) -> anyhow::Result<()> {
        if let Some(hash) = self.in_flight {
            if !self.l2.is_mined(hash).await? && self.l2.has_transaction(hash).await? {
                return Ok(());
            }
            self.in_flight = None;
        }
        let head = self.l1.latest_block().await?;
        if self.last == Some(head.header.hash) {
            return Ok(());
        }
        let info = L1Info {
            number: head.header.number,
            timestamp: head.header.timestamp,
            base_fee: U256::from(head.header.base_fee_per_gas.unwrap_or_default()),
            blob_base_fee: U256::from(1),
            hash: head.header.hash,
            sequence_number: 0,
            base_fee_scalar: l1::BASE_FEE_SCALAR,
            blob_base_fee_scalar: l1::BLOB_BASE_FEE_SCALAR,
            batcher_hash: self.batcher_hash,
        };
        let tx = info.deposit();
        if !self.l2.has_transaction(tx.tx_hash()).await? {
            self.l2.send_raw(&deposit::raw(&tx)).await?;
            self.in_flight = Some(tx.tx_hash());
            self.metrics.l1_info_sent();
        }
        self.last = Some(head.header.hash);
        Ok(())
    }
}
