//! The few JSON-RPC calls that apply OP Stack data to a running chain: anvil's `anvil_setCode`,
//! `anvil_setStorageAt`, `anvil_setBalance` and `evm_mine`, and the standard calls around them,
//! each bounded in time and failing with the method and URL named.

use std::time::Duration;

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::json_rpc::{RpcRecv, RpcSend},
    rpc::types::{Block, EIP1186AccountProofResponse, Filter, Log, TransactionReceipt},
    signers::local::PrivateKeySigner,
};

use crate::Error;

/// Deadline of one call.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A chain reached over HTTP JSON-RPC, optionally with a key that signs what it sends.
#[derive(Clone)]
pub struct Chain {
    url: String,
    provider: DynProvider,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain").field("url", &self.url).finish()
    }
}

impl Chain {
    /// The chain at `url`; with `signer`, transactions sent through it are signed by that key.
    pub fn connect(url: &str, signer: Option<PrivateKeySigner>) -> Result<Self, Error> {
        // On the process's shared HTTP client: building one costs ~50 ms of CPU (the TLS setup).
        let client = opdev_chain::http::rpc_client(url).map_err(|e| Error::Rpc {
            what: "open a JSON-RPC client".into(),
            url: url.into(),
            reason: e.to_string(),
        })?;
        let provider = match signer {
            Some(signer) => ProviderBuilder::new()
                .wallet(EthereumWallet::from(signer))
                .connect_client(client)
                .erased(),
            None => ProviderBuilder::new().connect_client(client).erased(),
        };
        Ok(Self {
            url: url.into(),
            provider,
        })
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The underlying provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    async fn bounded<T, E: std::fmt::Display>(
        &self,
        what: &str,
        fut: impl std::future::IntoFuture<Output = Result<T, E>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(CALL_TIMEOUT, fut.into_future()).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Error::Rpc {
                what: what.into(),
                url: self.url.clone(),
                reason: e.to_string(),
            }),
            Err(_) => Err(Error::Rpc {
                what: what.into(),
                url: self.url.clone(),
                reason: format!("no answer within {} s", CALL_TIMEOUT.as_secs()),
            }),
        }
    }

    /// A raw JSON-RPC request.
    pub async fn request<P: RpcSend, R: RpcRecv>(
        &self,
        method: &'static str,
        params: P,
    ) -> Result<R, Error> {
        self.bounded(method, self.provider.raw_request(method.into(), params))
            .await
    }

    /// `eth_chainId`.
    pub async fn chain_id(&self) -> Result<u64, Error> {
        self.bounded("eth_chainId", self.provider.get_chain_id())
            .await
    }

    /// `eth_blockNumber`.
    pub async fn block_number(&self) -> Result<u64, Error> {
        self.bounded("eth_blockNumber", self.provider.get_block_number())
            .await
    }

    /// The block `number` (without transactions), `None` past the head.
    pub async fn block(&self, number: u64) -> Result<Option<Block>, Error> {
        self.bounded(
            "eth_getBlockByNumber",
            self.provider.get_block_by_number(number.into()),
        )
        .await
    }

    /// The newest block.
    pub async fn latest_block(&self) -> Result<Block, Error> {
        self.bounded(
            "eth_getBlockByNumber",
            self.provider
                .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest),
        )
        .await?
        .ok_or_else(|| Error::Rpc {
            what: "eth_getBlockByNumber(latest)".into(),
            url: self.url.clone(),
            reason: "no block".into(),
        })
    }

    /// `eth_getCode` at the latest block.
    pub async fn code(&self, address: Address) -> Result<Bytes, Error> {
        self.bounded("eth_getCode", self.provider.get_code_at(address))
            .await
    }

    /// `eth_getBalance`.
    pub async fn balance(&self, address: Address) -> Result<U256, Error> {
        self.bounded("eth_getBalance", self.provider.get_balance(address))
            .await
    }

    /// The pending nonce of `address`.
    pub async fn nonce(&self, address: Address) -> Result<u64, Error> {
        self.bounded(
            "eth_getTransactionCount",
            self.provider.get_transaction_count(address).pending(),
        )
        .await
    }

    /// The nonce of `address` at the latest block (its mined transactions).
    pub async fn mined_nonce(&self, address: Address) -> Result<u64, Error> {
        self.bounded(
            "eth_getTransactionCount",
            self.provider.get_transaction_count(address).latest(),
        )
        .await
    }

    /// `eth_getStorageAt` at the latest block.
    pub async fn storage(&self, address: Address, slot: B256) -> Result<B256, Error> {
        let value = self
            .bounded(
                "eth_getStorageAt",
                self.provider.get_storage_at(address, slot.into()),
            )
            .await?;
        Ok(value.into())
    }

    /// `eth_call` of `input` on `to` at the latest block.
    pub async fn call(&self, to: Address, input: Bytes) -> Result<Bytes, Error> {
        let request = alloy::rpc::types::TransactionRequest::default()
            .to(to)
            .input(input.into());
        self.bounded("eth_call", self.provider.call(request)).await
    }

    /// The runtime code that `creation` (constructor arguments included) would deploy, computed
    /// with `eth_call` and no recipient: immutables come out filled in.
    pub async fn runtime_code(&self, creation: Bytes) -> Result<Bytes, Error> {
        let request = alloy::rpc::types::TransactionRequest::default()
            .into_create()
            .input(creation.into());
        self.bounded("eth_call (create)", self.provider.call(request))
            .await
    }

    /// `anvil_setCode`.
    pub async fn set_code(&self, address: Address, code: &Bytes) -> Result<(), Error> {
        self.request::<_, serde_json::Value>("anvil_setCode", (address, code.clone()))
            .await
            .map(drop)
    }

    /// `anvil_setStorageAt`.
    pub async fn set_storage(
        &self,
        address: Address,
        slot: B256,
        value: B256,
    ) -> Result<(), Error> {
        self.request::<_, serde_json::Value>("anvil_setStorageAt", (address, slot, value))
            .await
            .map(drop)
    }

    /// `anvil_setBalance`.
    pub async fn set_balance(&self, address: Address, wei: U256) -> Result<(), Error> {
        self.request::<_, serde_json::Value>("anvil_setBalance", (address, wei))
            .await
            .map(drop)
    }

    /// `evm_mine`: one block now.
    pub async fn mine(&self) -> Result<(), Error> {
        self.request::<_, serde_json::Value>("evm_mine", ())
            .await
            .map(drop)
    }

    /// `eth_sendRawTransaction`.
    pub async fn send_raw(&self, raw: &Bytes) -> Result<B256, Error> {
        self.request("eth_sendRawTransaction", (raw.clone(),)).await
    }

    /// Whether the chain knows the transaction `hash`, mined or pending.
    pub async fn has_transaction(&self, hash: B256) -> Result<bool, Error> {
        let tx: Option<serde_json::Value> =
            self.request("eth_getTransactionByHash", (hash,)).await?;
        Ok(tx.is_some_and(|t| !t.is_null()))
    }

    /// Whether the transaction `hash` is mined, read from its receipt as plain JSON (an OP L2's
    /// deposit receipts have fields Ethereum's receipt type does not take).
    pub async fn is_mined(&self, hash: B256) -> Result<bool, Error> {
        let receipt: Option<serde_json::Value> =
            self.request("eth_getTransactionReceipt", (hash,)).await?;
        Ok(receipt.is_some_and(|r| !r.is_null()))
    }

    /// `eth_getTransactionReceipt` on a chain with Ethereum's transaction types (the L1).
    pub async fn receipt(&self, hash: B256) -> Result<Option<TransactionReceipt>, Error> {
        self.bounded(
            "eth_getTransactionReceipt",
            self.provider.get_transaction_receipt(hash),
        )
        .await
    }

    /// `eth_getLogs`.
    pub async fn logs(&self, filter: &Filter) -> Result<Vec<Log>, Error> {
        self.bounded("eth_getLogs", self.provider.get_logs(filter))
            .await
    }

    /// `eth_getProof` of `address` (and `slots`) at block `number`.
    pub async fn proof(
        &self,
        address: Address,
        slots: Vec<B256>,
        number: u64,
    ) -> Result<EIP1186AccountProofResponse, Error> {
        self.bounded(
            "eth_getProof",
            self.provider
                .get_proof(address, slots)
                .block_id(number.into()),
        )
        .await
    }
}
