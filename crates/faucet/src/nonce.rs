//! Sending transfers on one chain: the faucet's nonce manager. Signing and sending are
//! serialized per chain behind one lock that owns the next nonce and a short-lived fee estimate,
//! so simultaneous claims each get their own consecutive nonce without asking the node every
//! time. The nonce is read from the node (pending count) at the first send and again after any
//! failed send, so a nonce error, a restarted node or a dropped request heals on the next claim.

use std::time::{Duration, Instant};

use alloy::{
    eips::eip2718::Encodable2718,
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Address, B256, U256},
    providers::{Provider, RootProvider},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    transports::{RpcError, TransportErrorKind},
};
use tokio::sync::Mutex;

/// Gas of a plain transfer to an account without code.
const TRANSFER_GAS: u64 = 21_000;
/// How long a fee estimate is reused.
const FEES_TTL: Duration = Duration::from_secs(2);
/// Deadline of one request to the node.
const RPC_TIMEOUT: Duration = Duration::from_secs(10);
/// After this long without a send, the nonce is read from the node again (a restarted node may
/// have lost or replayed transactions in between).
const IDLE_RESYNC: Duration = Duration::from_secs(1);
/// Sends tried per claim (a nonce or fee error is retried after a resync).
const ATTEMPTS: usize = 3;

/// Why a transfer was not sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The node did not answer (refused, timed out, broken connection).
    #[error("reach the node of chain {chain_id}: {reason}")]
    Unreachable {
        /// Chain id.
        chain_id: u64,
        /// What went wrong.
        reason: String,
    },
    /// The faucet cannot pay the amount plus the fee.
    #[error("send on chain {chain_id}: the faucet's balance is too low")]
    InsufficientFunds {
        /// Chain id.
        chain_id: u64,
    },
    /// The node refused the transaction for another reason.
    #[error("send on chain {chain_id}: the node refused the transfer: {reason}")]
    Rejected {
        /// Chain id.
        chain_id: u64,
        /// The node's message.
        reason: String,
    },
    /// The transfer could not be recorded before it was sent, so it was not sent.
    #[error("record the transfer on chain {chain_id} before sending it: {reason}")]
    Record {
        /// Chain id.
        chain_id: u64,
        /// Why.
        reason: String,
    },
    /// The RPC URL is not a URL.
    #[error("read RPC URL {url:?}: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// A transfer the node accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Its hash.
    pub tx_hash: B256,
    /// Its nonce.
    pub nonce: u64,
}

#[derive(Debug, Default)]
struct NonceState {
    /// The next nonce to use; `None` until read from the node (again).
    next: Option<u64>,
    /// (max fee, priority fee) per gas and when they were estimated.
    fees: Option<(u128, u128, Instant)>,
    /// When the last transfer was accepted.
    last_sent: Option<Instant>,
}

/// The faucet's sender on one chain.
#[derive(Debug)]
pub struct ChainSender {
    chain_id: u64,
    provider: RootProvider,
    wallet: EthereumWallet,
    from: Address,
    state: Mutex<NonceState>,
}

enum Failure {
    Nonce,
    Fees,
    Final(SendError),
}

impl ChainSender {
    /// A sender for `chain_id` at `rpc_url`, signing with `signer`.
    pub fn new(chain_id: u64, rpc_url: &str, signer: PrivateKeySigner) -> Result<Self, SendError> {
        let url = rpc_url.parse().map_err(|e| SendError::Url {
            url: rpc_url.into(),
            reason: format!("{e}"),
        })?;
        let from = signer.address();
        Ok(Self {
            chain_id,
            provider: RootProvider::new_http(url),
            wallet: EthereumWallet::from(signer),
            from,
            state: Mutex::new(NonceState::default()),
        })
    }

    /// The faucet's address.
    pub fn address(&self) -> Address {
        self.from
    }

    /// The faucet's balance on this chain.
    pub async fn balance(&self) -> Result<U256, SendError> {
        let from = self.from;
        self.rpc(async { self.provider.get_balance(from).await })
            .await
    }

    /// Gas for a transfer to `to`: 21000 for an account without code, else the node's estimate.
    pub async fn transfer_gas(&self, to: Address, value: U256) -> Result<u64, SendError> {
        let code = self
            .rpc(async { self.provider.get_code_at(to).await })
            .await?;
        if code.is_empty() {
            return Ok(TRANSFER_GAS);
        }
        let request = TransactionRequest::default()
            .with_from(self.from)
            .with_to(to)
            .with_value(value);
        let gas = self
            .rpc(async { self.provider.estimate_gas(request).await })
            .await?;
        Ok(gas + gas / 5)
    }

    /// Whether the node knows the transaction `hash` (mined or waiting in its pool).
    pub async fn knows(&self, hash: B256) -> Result<bool, SendError> {
        let tx = self
            .rpc(async { self.provider.get_transaction_by_hash(hash).await })
            .await?;
        Ok(tx.is_some())
    }

    /// Signs and sends `value` wei to `to` with the next nonce. Holds this chain's lock from the
    /// nonce to the node's answer; after any failure the nonce is read from the node again.
    /// `record` is called with each signed transfer before it goes to the node (write-ahead: a
    /// crash can then never hide a transfer); when it fails, nothing is sent.
    pub async fn send<F, Fut>(
        &self,
        to: Address,
        value: U256,
        gas: u64,
        mut record: F,
    ) -> Result<Sent, SendError>
    where
        F: FnMut(Sent) -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        let mut state = self.state.lock().await;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match self.try_send(&mut state, to, value, gas, &mut record).await {
                Ok(sent) => return Ok(sent),
                Err(failure) => {
                    state.next = None;
                    match failure {
                        Failure::Nonce => {
                            tracing::warn!(chain_id = self.chain_id, "nonce error, resyncing")
                        }
                        Failure::Fees => state.fees = None,
                        Failure::Final(e) => return Err(e),
                    }
                    last = Some(failure);
                }
            }
        }
        let reason = match last {
            Some(Failure::Fees) => "the fee was refused after re-estimating",
            _ => "nonce errors persisted after resyncing",
        };
        Err(SendError::Rejected {
            chain_id: self.chain_id,
            reason: reason.into(),
        })
    }

    async fn try_send<F, Fut>(
        &self,
        state: &mut NonceState,
        to: Address,
        value: U256,
        gas: u64,
        record: &mut F,
    ) -> Result<Sent, Failure>
    where
        F: FnMut(Sent) -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        if state.last_sent.is_some_and(|at| at.elapsed() > IDLE_RESYNC) {
            state.next = None;
        }
        let nonce = match state.next {
            Some(n) => n,
            None => {
                let from = self.from;
                let n = self
                    .rpc(async { self.provider.get_transaction_count(from).pending().await })
                    .await
                    .map_err(Failure::Final)?;
                tracing::debug!(
                    chain_id = self.chain_id,
                    nonce = n,
                    "nonce synced from node"
                );
                state.next = Some(n);
                n
            }
        };
        let (max_fee, priority) = match state.fees {
            Some((max, tip, at)) if at.elapsed() < FEES_TTL => (max, tip),
            _ => {
                let est = self
                    .rpc(async { self.provider.estimate_eip1559_fees().await })
                    .await
                    .map_err(Failure::Final)?;
                state.fees = Some((
                    est.max_fee_per_gas,
                    est.max_priority_fee_per_gas,
                    Instant::now(),
                ));
                (est.max_fee_per_gas, est.max_priority_fee_per_gas)
            }
        };
        let request = TransactionRequest::default()
            .with_from(self.from)
            .with_to(to)
            .with_value(value)
            .with_nonce(nonce)
            .with_chain_id(self.chain_id)
            .with_gas_limit(gas)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(priority);
        let envelope = request
            .build(&self.wallet)
            .await
            .map_err(|e| Failure::Final(self.rejected(format!("sign: {e}"))))?;
        let tx_hash = *envelope.tx_hash();
        let raw = envelope.encoded_2718();
        record(Sent { tx_hash, nonce }).await.map_err(|reason| {
            Failure::Final(SendError::Record {
                chain_id: self.chain_id,
                reason,
            })
        })?;
        let answer = tokio::time::timeout(RPC_TIMEOUT, self.provider.send_raw_transaction(&raw))
            .await
            .map_err(|_| Failure::Final(self.unreachable("no answer within 10 s".into())))?;
        match answer {
            Ok(_) => {
                state.next = Some(nonce + 1);
                state.last_sent = Some(Instant::now());
                Ok(Sent { tx_hash, nonce })
            }
            Err(e) => Err(self.classify(e)),
        }
    }

    fn classify(&self, e: RpcError<TransportErrorKind>) -> Failure {
        let Some(resp) = e.as_error_resp() else {
            return Failure::Final(self.unreachable(e.to_string()));
        };
        let message = resp.message.to_lowercase();
        if message.contains("insufficient funds") {
            Failure::Final(SendError::InsufficientFunds {
                chain_id: self.chain_id,
            })
        } else if message.contains("nonce") {
            Failure::Nonce
        } else if message.contains("fee") || message.contains("underpriced") {
            Failure::Fees
        } else {
            Failure::Final(self.rejected(resp.message.to_string()))
        }
    }

    async fn rpc<T>(
        &self,
        call: impl Future<Output = Result<T, RpcError<TransportErrorKind>>>,
    ) -> Result<T, SendError> {
        match tokio::time::timeout(RPC_TIMEOUT, call).await {
            Err(_) => Err(self.unreachable("no answer within 10 s".into())),
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) if e.as_error_resp().is_some() => Err(self.rejected(e.to_string())),
            Ok(Err(e)) => Err(self.unreachable(e.to_string())),
        }
    }

    fn unreachable(&self, reason: String) -> SendError {
        SendError::Unreachable {
            chain_id: self.chain_id,
            reason,
        }
    }

    fn rejected(&self, reason: String) -> SendError {
        SendError::Rejected {
            chain_id: self.chain_id,
            reason,
        }
    }
}
