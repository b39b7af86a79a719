//! Output proposals: every `interval`, for each L2 whose head moved, the proposer computes the
//! output root of the L2's newest block (state root, L2ToL1MessagePasser storage root from
//! `eth_getProof`, block hash) and creates a dispute game for it on the L1's DisputeGameFactory.
//! opdev's game resolves at once, so a withdrawal in any block up to that one can be proven
//! against it right away and finalized after the portal's proof maturity delay. Because a fresh
//! game always stands at a recent block, proving never needs the state of an old block: a
//! withdrawal made hours ago, or before a `down`/`up`, is proven against the newest game.

use std::time::{Duration, Instant};

use alloy::{
    eips::eip2718::Encodable2718,
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Address, B256, U256},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolValue},
};
use opdev_opstack::{anvil::Chain, l1::IDisputeGameFactory, output::OutputRootProof, predeploys};

use crate::metrics::{ChainMetrics, Metrics};

/// Gas of one `DisputeGameFactory.create`.
const CREATE_GAS: u64 = 800_000;

/// One L2 the proposer serves.
#[derive(Debug)]
struct Target {
    name: String,
    l2: Chain,
    factory: Address,
    last_block: Option<u64>,
    last_at: Option<Instant>,
    metrics: ChainMetrics,
}

/// The proposer of every L2 of a devnet.
#[derive(Debug)]
pub struct Proposer {
    l1: Chain,
    key: PrivateKeySigner,
    game_type: u32,
    interval: Duration,
    targets: Vec<Target>,
}

impl Proposer {
    /// A proposer signing with `key` for the L2s `(name, chain, factory)`.
    pub fn new(
        l1: Chain,
        key: PrivateKeySigner,
        game_type: u32,
        targets: Vec<(String, Chain, Address)>,
        interval: Duration,
    ) -> Self {
        Self {
            l1,
            key,
            game_type,
            interval,
            targets: targets
                .into_iter()
                .map(|(name, l2, factory)| Target {
                    name,
                    l2,
                    factory,
                    last_block: None,
                    last_at: None,
                    metrics: ChainMetrics::default(),
                })
                .collect(),
        }
    }

    /// Counts each L2's proposals into its series of `metrics`.
    pub fn with_metrics(mut self, metrics: &Metrics) -> Self {
        for t in &mut self.targets {
            t.metrics = metrics.chain(&t.name).unwrap_or_default();
        }
        self
    }

    /// Proposes for every L2 that is due.
    pub async fn tick(&mut self) {
        for i in 0..self.targets.len() {
            let due = self.targets[i]
                .last_at
                .is_none_or(|at| at.elapsed() >= self.interval);
            if !due {
                continue;
            }
            match self.propose(i).await {
                Ok(Some((block, root))) => {
                    let t = &mut self.targets[i];
                    tracing::info!(chain = %t.name, l2_block = block, %root, "output proposed");
                    t.metrics.output_proposed(block);
                    t.last_block = Some(block);
                    t.last_at = Some(Instant::now());
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(chain = %self.targets[i].name, error = %e, "output proposal");
                    self.targets[i].metrics.proposal_error();
                }
            }
        }
    }

    async fn propose(&self, i: usize) -> anyhow::Result<Option<(u64, B256)>> {
        let t = &self.targets[i];
        let head = t.l2.latest_block().await?;
        let number = head.header.number;
        t.metrics.proposer_saw(number, t.last_block);
        if t.last_block.is_some_and(|last| number <= last) {
            return Ok(None);
        }
        let proof =
            t.l2.proof(predeploys::L2_TO_L1_MESSAGE_PASSER, Vec::new(), number)
                .await?;
        let root =
            OutputRootProof::v0(head.header.state_root, proof.storage_hash, head.header.hash)
                .root();
        let input = IDisputeGameFactory::createCall {
            _gameType: self.game_type,
            _rootClaim: root,
            _extraData: U256::from(number).abi_encode().into(),
        }
        .abi_encode();
        let chain_id = self.l1.chain_id().await?;
        let nonce = self.l1.nonce(self.key.address()).await?;
        let base_fee = self
            .l1
            .latest_block()
            .await?
            .header
            .base_fee_per_gas
            .unwrap_or(1_000_000_000);
        let request = TransactionRequest::default()
            .with_from(self.key.address())
            .with_to(t.factory)
            .with_chain_id(chain_id)
            .with_nonce(nonce)
            .with_gas_limit(CREATE_GAS)
            .with_max_fee_per_gas(u128::from(base_fee) * 4 + 10_000_000_000)
            .with_max_priority_fee_per_gas(1)
            .with_input(input);
        let envelope = request
            .build(&EthereumWallet::from(self.key.clone()))
            .await?;
        self.l1.send_raw(&envelope.encoded_2718().into()).await?;
        Ok(Some((number, root)))
    }
}
