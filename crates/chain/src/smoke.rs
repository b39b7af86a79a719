//! The smoke check of a devnet, per chain: deploy the Counter contract (`contracts/Counter.sol`,
//! compiled to `contracts/Counter.bin`), call `increment`, wait for both receipts, read `number`
//! back over RPC and compare. Deployment and call are sent back to back with consecutive nonces,
//! so the check costs one block on each chain.

use std::time::Duration;

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    sol,
    sol_types::SolCall,
};
use serde::Serialize;

use crate::{ChainError, accounts};

sol! {
    /// The smoke-check contract's interface (see contracts/Counter.sol).
    #[sol(rpc)]
    contract Counter {
        function number() external view returns (uint256);
        function increment() external;
        function setNumber(uint256 newNumber) external;
        event Incremented(address indexed by, uint256 newValue);
    }
}

/// Creation bytecode of Counter, built by `contracts/build.sh`.
pub const COUNTER_BYTECODE_HEX: &str = include_str!("../../../contracts/Counter.bin");

/// Gas for `increment`, sent before the contract exists so it cannot be estimated.
const INCREMENT_GAS: u64 = 100_000;
/// Gas for the deployment.
const DEPLOY_GAS: u64 = 500_000;

/// What the smoke check did on one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmokeReport {
    /// Chain id.
    pub chain_id: u64,
    /// The Counter deployed.
    pub counter: Address,
    /// Deployment transaction.
    pub deploy_tx: B256,
    /// `increment` transaction.
    pub increment_tx: B256,
    /// Block of the `increment`.
    pub block: u64,
    /// `number()` read back after the increment.
    pub value: U256,
}

/// Runs the smoke check against `rpc_url`, from dev account 0 of `mnemonic`, expecting the node to
/// report `chain_id`. Fails unless `number()` reads 1 after one `increment` of a fresh Counter.
pub async fn run(
    rpc_url: &str,
    chain_id: u64,
    mnemonic: &str,
    timeout: Duration,
) -> Result<SmokeReport, ChainError> {
    let smoke = |reason: String| ChainError::Smoke { chain_id, reason };
    let signer = accounts::signer(mnemonic, 0)?;
    let from = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_client(crate::http::rpc_client(rpc_url)?);

    let work = async {
        let reported = provider
            .get_chain_id()
            .await
            .map_err(|e| smoke(format!("eth_chainId: {e}")))?;
        if reported != chain_id {
            return Err(smoke(format!("node reports chain id {reported}")));
        }
        let nonce = provider
            .get_transaction_count(from)
            .pending()
            .await
            .map_err(|e| smoke(format!("nonce of {from}: {e}")))?;
        let counter = from.create(nonce);
        let code: Bytes = alloy::hex::decode(COUNTER_BYTECODE_HEX.trim())
            .map_err(|e| smoke(format!("Counter bytecode is not hex: {e}")))?
            .into();
        let deploy = TransactionRequest::default()
            .with_from(from)
            .with_deploy_code(code)
            .with_nonce(nonce)
            .with_gas_limit(DEPLOY_GAS);
        let increment = TransactionRequest::default()
            .with_from(from)
            .with_to(counter)
            .with_input(Counter::incrementCall {}.abi_encode())
            .with_nonce(nonce + 1)
            .with_gas_limit(INCREMENT_GAS);
        let deploy = provider
            .send_transaction(deploy)
            .await
            .map_err(|e| smoke(format!("send deployment: {e}")))?;
        let increment = provider
            .send_transaction(increment)
            .await
            .map_err(|e| smoke(format!("send increment: {e}")))?;
        let deploy_receipt = deploy
            .get_receipt()
            .await
            .map_err(|e| smoke(format!("deployment receipt: {e}")))?;
        let increment_receipt = increment
            .get_receipt()
            .await
            .map_err(|e| smoke(format!("increment receipt: {e}")))?;
        if !deploy_receipt.status() || deploy_receipt.contract_address != Some(counter) {
            return Err(smoke(format!(
                "deployment {} failed or created {:?} instead of {counter}",
                deploy_receipt.transaction_hash, deploy_receipt.contract_address
            )));
        }
        if !increment_receipt.status() {
            return Err(smoke(format!(
                "increment {} reverted",
                increment_receipt.transaction_hash
            )));
        }
        let value = Counter::new(counter, &provider)
            .number()
            .call()
            .await
            .map_err(|e| smoke(format!("read number(): {e}")))?;
        if value != U256::from(1) {
            return Err(smoke(format!(
                "number() of {counter} is {value} after one increment, expected 1"
            )));
        }
        Ok(SmokeReport {
            chain_id,
            counter,
            deploy_tx: deploy_receipt.transaction_hash,
            increment_tx: increment_receipt.transaction_hash,
            block: increment_receipt.block_number.unwrap_or_default(),
            value,
        })
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| smoke(format!("no result within {} s", timeout.as_secs())))?
}

/// Reads `number()` of the Counter at `counter`.
pub async fn counter_value(rpc_url: &str, counter: Address) -> Result<U256, ChainError> {
    let provider = crate::http::provider(rpc_url)?;
    Counter::new(counter, provider)
        .number()
        .call()
        .await
        .map_err(|e| ChainError::Rpc {
            url: rpc_url.into(),
            method: "eth_call",
            reason: e.to_string(),
        })
}
