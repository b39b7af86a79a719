//! Funding an account on a dev chain: anvil's `anvil_setBalance` cheat method tops an account up
//! to a balance when it holds less. Used for the faucet's account at every `up`.

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
};

use crate::ChainError;

/// Sets `address`'s balance on the chain at `rpc_url` to `target` when it holds less. Returns
/// whether it changed the balance.
pub async fn top_up(rpc_url: &str, address: Address, target: U256) -> Result<bool, ChainError> {
    let rpc = |method: &'static str, e: String| ChainError::Rpc {
        url: rpc_url.into(),
        method,
        reason: e,
    };
    let provider = crate::http::provider(rpc_url)?;
    let balance = provider
        .get_balance(address)
        .await
        .map_err(|e| rpc("eth_getBalance", e.to_string()))?;
    if balance >= target {
        return Ok(false);
    }
    provider
        .raw_request::<_, serde_json::Value>("anvil_setBalance".into(), (address, target))
        .await
        .map_err(|e| rpc("anvil_setBalance", e.to_string()))?;
    Ok(true)
}
