//! The chain side: batched JSON-RPC over HTTP. A block range is fetched as one JSON-RPC batch
//! request holding `eth_getBlockByNumber(n, true)` and `eth_getBlockReceipts(n)` for every block
//! (falling back to `eth_getTransactionReceipt` per transaction on a node without
//! `eth_getBlockReceipts`). Responses are decoded into the small structs below rather than a
//! network's typed transactions, so an OP deposit transaction (type `0x7e`) or any other type
//! decodes like the rest: fields a type does not have are simply absent.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, Bytes, U64, U256},
    rpc::client::{BatchRequest, RpcClient, Waiter},
    transports::{RpcError as JsonRpcError, http::reqwest},
};
use serde::Deserialize;

use crate::metrics::Metrics;

/// Deadline of one HTTP request (a whole batch).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// JSON-RPC error code of a method the node does not have.
const METHOD_NOT_FOUND: i64 = -32601;

/// Why a call to the node failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The URL is not a valid HTTP URL.
    #[error("parse RPC URL {url:?}: {reason}")]
    Url {
        /// The URL given.
        url: String,
        /// Why it is not valid.
        reason: String,
    },
    /// The request did not get an answer (node down, timeout, bad response).
    #[error("call {method} on {url}: {reason}")]
    Call {
        /// The method (or `batch`).
        method: String,
        /// The node.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The node answered, but not with what a consistent chain would give (a block missing
    /// below the head, receipts not matching the block): the chain moved while it was read.
    #[error("inconsistent answer from {url}: {reason}")]
    Inconsistent {
        /// The node.
        url: String,
        /// What did not match.
        reason: String,
    },
}

/// A block as returned by `eth_getBlockByNumber(n, true)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    /// Number.
    pub number: U64,
    /// Hash.
    pub hash: B256,
    /// Parent hash.
    pub parent_hash: B256,
    /// Unix timestamp, seconds.
    pub timestamp: U64,
    /// Fee recipient.
    pub miner: Address,
    /// Gas used.
    pub gas_used: U256,
    /// Gas limit.
    pub gas_limit: U256,
    /// EIP-1559 base fee (absent before London).
    #[serde(default)]
    pub base_fee_per_gas: Option<U256>,
    /// Extra data.
    #[serde(default)]
    pub extra_data: Bytes,
    /// Transactions, in order.
    #[serde(default)]
    pub transactions: Vec<Transaction>,
}

/// A transaction of any type, as found in a block.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    /// Hash.
    pub hash: B256,
    /// Type (0 legacy, 1, 2, 3, 4, 0x7e OP deposit).
    #[serde(default, rename = "type")]
    pub tx_type: Option<U64>,
    /// Sender.
    pub from: Address,
    /// Recipient; absent for a contract creation.
    #[serde(default)]
    pub to: Option<Address>,
    /// Value, wei.
    #[serde(default)]
    pub value: U256,
    /// Gas limit.
    pub gas: U256,
    /// Gas price (legacy), or the effective price some nodes report.
    #[serde(default)]
    pub gas_price: Option<U256>,
    /// EIP-1559 fee cap.
    #[serde(default)]
    pub max_fee_per_gas: Option<U256>,
    /// EIP-1559 tip cap.
    #[serde(default)]
    pub max_priority_fee_per_gas: Option<U256>,
    /// Sender nonce.
    #[serde(default)]
    pub nonce: Option<U64>,
    /// Call data.
    #[serde(default)]
    pub input: Bytes,
    /// OP deposit: source hash.
    #[serde(default)]
    pub source_hash: Option<B256>,
    /// OP deposit: ETH minted on L2.
    #[serde(default)]
    pub mint: Option<U256>,
    /// OP deposit: system transaction flag.
    #[serde(default)]
    pub is_system_tx: Option<bool>,
}

/// A receipt of any transaction type.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// Its transaction.
    pub transaction_hash: B256,
    /// Gas used by this transaction.
    pub gas_used: U256,
    /// Gas used in the block up to and including this transaction.
    pub cumulative_gas_used: U256,
    /// Price paid per gas.
    #[serde(default)]
    pub effective_gas_price: Option<U256>,
    /// 1 success, 0 failure (absent before Byzantium).
    #[serde(default)]
    pub status: Option<U64>,
    /// The contract created, if any.
    #[serde(default)]
    pub contract_address: Option<Address>,
    /// Logs, in order.
    #[serde(default)]
    pub logs: Vec<Log>,
    /// OP deposit: the nonce of the deposit (Canyon).
    #[serde(default)]
    pub deposit_nonce: Option<U64>,
    /// OP: L1 data fee.
    #[serde(default)]
    pub l1_fee: Option<U256>,
    /// OP: L1 gas used for the data.
    #[serde(default)]
    pub l1_gas_used: Option<U256>,
    /// OP: L1 gas price.
    #[serde(default)]
    pub l1_gas_price: Option<U256>,
}

/// A log of a receipt.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Log {
    /// Emitting contract.
    pub address: Address,
    /// Topics (0 to 4).
    #[serde(default)]
    pub topics: Vec<B256>,
    /// Data.
    #[serde(default)]
    pub data: Bytes,
}

/// A block with its transactions and their receipts (in the same order).
#[derive(Debug, Clone)]
pub struct FullBlock {
    /// The block.
    pub block: Block,
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
}

impl FullBlock {
    /// The block number.
    pub fn number(&self) -> u64 {
        self.block.number.to::<u64>()
    }
}

/// A block header reduced to what reorg detection needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Number.
    pub number: U64,
    /// Hash.
    pub hash: B256,
    /// Parent hash.
    pub parent_hash: B256,
}

/// A JSON-RPC endpoint, cheap to clone.
#[derive(Debug, Clone)]
pub struct Rpc {
    client: RpcClient,
    url: Arc<str>,
    block_receipts: Arc<AtomicBool>,
    metrics: Option<(Metrics, Arc<str>)>,
}

impl Rpc {
    /// A client of the HTTP JSON-RPC endpoint `url`.
    pub fn new(url: &str) -> Result<Self, RpcError> {
        let bad = |reason: String| RpcError::Url {
            url: url.into(),
            reason,
        };
        let parsed: reqwest::Url = url.parse().map_err(|e| bad(format!("{e}")))?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            client: RpcClient::new_http_with_client(http, parsed),
            url: url.into(),
            block_receipts: Arc::new(AtomicBool::new(true)),
            metrics: None,
        })
    }

    /// The same endpoint, recording latencies under `chain` in `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics, chain: &str) -> Self {
        self.metrics = Some((metrics, chain.into()));
        self
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn call_error(&self, method: &str, e: impl std::fmt::Display) -> RpcError {
        RpcError::Call {
            method: method.into(),
            url: self.url.to_string(),
            reason: e.to_string(),
        }
    }

    fn inconsistent(&self, reason: String) -> RpcError {
        RpcError::Inconsistent {
            url: self.url.to_string(),
            reason,
        }
    }

    fn observe(&self, method: &str, started: Instant) {
        if let Some((metrics, chain)) = &self.metrics {
            metrics.observe_rpc(chain, method, started.elapsed());
        }
    }

    /// `eth_chainId`.
    pub async fn chain_id(&self) -> Result<u64, RpcError> {
        let started = Instant::now();
        let id: U64 = self
            .client
            .request_noparams("eth_chainId")
            .await
            .map_err(|e| self.call_error("eth_chainId", e))?;
        self.observe("eth_chainId", started);
        Ok(id.to())
    }

    /// `eth_blockNumber`, and in the same batch the header at `at` (if given; `None` when the
    /// chain has no block there).
    pub async fn head_and_header(
        &self,
        at: Option<u64>,
    ) -> Result<(u64, Option<Header>), RpcError> {
        let started = Instant::now();
        let mut batch = BatchRequest::new(&self.client);
        let head: Waiter<U64> = batch
            .add_call("eth_blockNumber", &())
            .map_err(|e| self.call_error("eth_blockNumber", e))?;
        let header: Option<Waiter<Option<Header>>> = match at {
            Some(n) => Some(
                batch
                    .add_call("eth_getBlockByNumber", &(U64::from(n), false))
                    .map_err(|e| self.call_error("eth_getBlockByNumber", e))?,
            ),
            None => None,
        };
        batch
            .send()
            .await
            .map_err(|e| self.call_error("batch", e))?;
        let head = head
            .await
            .map_err(|e| self.call_error("eth_blockNumber", e))?;
        let header = match header {
            Some(w) => w
                .await
                .map_err(|e| self.call_error("eth_getBlockByNumber", e))?,
            None => None,
        };
        self.observe("head", started);
        Ok((head.to(), header))
    }

    /// The headers of blocks `from..=to` (`None` where the chain has no block).
    pub async fn headers(&self, from: u64, to: u64) -> Result<Vec<Option<Header>>, RpcError> {
        let started = Instant::now();
        let mut batch = BatchRequest::new(&self.client);
        let waiters = (from..=to)
            .map(|n| batch.add_call("eth_getBlockByNumber", &(U64::from(n), false)))
            .collect::<Result<Vec<Waiter<Option<Header>>>, _>>()
            .map_err(|e| self.call_error("eth_getBlockByNumber", e))?;
        batch
            .send()
            .await
            .map_err(|e| self.call_error("batch", e))?;
        let mut out = Vec::with_capacity(waiters.len());
        for w in waiters {
            out.push(
                w.await
                    .map_err(|e| self.call_error("eth_getBlockByNumber", e))?,
            );
        }
        self.observe("headers", started);
        Ok(out)
    }

    /// Blocks `from..=to` with their transactions and receipts, in one batch request (two when
    /// the node lacks `eth_getBlockReceipts`). Every block must exist, and each block's receipts
    /// must match its transactions; else [`RpcError::Inconsistent`].
    pub async fn blocks(&self, from: u64, to: u64) -> Result<Vec<FullBlock>, RpcError> {
        let started = Instant::now();
        let by_block = self.block_receipts.load(Ordering::Relaxed);
        let mut batch = BatchRequest::new(&self.client);
        let mut waiters = Vec::with_capacity((to - from + 1) as usize);
        for n in from..=to {
            let block: Waiter<Option<Block>> = batch
                .add_call("eth_getBlockByNumber", &(U64::from(n), true))
                .map_err(|e| self.call_error("eth_getBlockByNumber", e))?;
            let receipts: Option<Waiter<Option<Vec<Receipt>>>> = if by_block {
                Some(
                    batch
                        .add_call("eth_getBlockReceipts", &(U64::from(n),))
                        .map_err(|e| self.call_error("eth_getBlockReceipts", e))?,
                )
            } else {
                None
            };
            waiters.push((n, block, receipts));
        }
        batch
            .send()
            .await
            .map_err(|e| self.call_error("batch", e))?;
        let mut blocks = Vec::with_capacity(waiters.len());
        let mut missing_receipts = false;
        for (n, block, receipts) in waiters {
            let block = block
                .await
                .map_err(|e| self.call_error("eth_getBlockByNumber", e))?
                .ok_or_else(|| self.inconsistent(format!("block {n} is missing")))?;
            if block.number.to::<u64>() != n {
                return Err(self.inconsistent(format!("asked for block {n}, got {}", block.number)));
            }
            let receipts = match receipts {
                Some(w) => match w.await {
                    Ok(Some(r)) => r,
                    Ok(None) => return Err(self.inconsistent(format!("block {n} has no receipts"))),
                    Err(JsonRpcError::ErrorResp(p)) if p.code == METHOD_NOT_FOUND => {
                        missing_receipts = true;
                        Vec::new()
                    }
                    Err(e) => return Err(self.call_error("eth_getBlockReceipts", e)),
                },
                None => Vec::new(),
            };
            blocks.push(FullBlock { block, receipts });
        }
        if missing_receipts && by_block {
            tracing::info!(url = %self.url, "the node has no eth_getBlockReceipts; fetching receipts one by one");
            self.block_receipts.store(false, Ordering::Relaxed);
        }
        if !self.block_receipts.load(Ordering::Relaxed) {
            self.fill_receipts(&mut blocks).await?;
        }
        for b in &blocks {
            self.check_receipts(b)?;
        }
        self.observe("blocks", started);
        Ok(blocks)
    }

    async fn fill_receipts(&self, blocks: &mut [FullBlock]) -> Result<(), RpcError> {
        let mut batch = BatchRequest::new(&self.client);
        let mut waiters = Vec::new();
        for (i, b) in blocks.iter().enumerate() {
            for tx in &b.block.transactions {
                let w: Waiter<Option<Receipt>> = batch
                    .add_call("eth_getTransactionReceipt", &(tx.hash,))
                    .map_err(|e| self.call_error("eth_getTransactionReceipt", e))?;
                waiters.push((i, tx.hash, w));
            }
        }
        if waiters.is_empty() {
            return Ok(());
        }
        batch
            .send()
            .await
            .map_err(|e| self.call_error("batch", e))?;
        for (i, hash, w) in waiters {
            let r = w
                .await
                .map_err(|e| self.call_error("eth_getTransactionReceipt", e))?
                .ok_or_else(|| self.inconsistent(format!("no receipt for {hash}")))?;
            blocks[i].receipts.push(r);
        }
        Ok(())
    }

    fn check_receipts(&self, b: &FullBlock) -> Result<(), RpcError> {
        let txs = &b.block.transactions;
        if txs.len() != b.receipts.len()
            || txs
                .iter()
                .zip(&b.receipts)
                .any(|(t, r)| t.hash != r.transaction_hash)
        {
            return Err(self.inconsistent(format!(
                "the receipts of block {} do not match its {} transactions",
                b.block.number,
                txs.len()
            )));
        }
        Ok(())
    }
}
