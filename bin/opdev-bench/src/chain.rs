//! Filling a benchmark's anvil chain, shared by the indexer and explorer benchmarks: JSON-RPC
//! calls, the Counter deployment, and blocks of increments and transfers sent in batches.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};

/// One JSON-RPC call.
pub(crate) async fn rpc(url: &str, method: &'static str, params: Value) -> Result<Value> {
    let client = alloy::rpc::client::RpcClient::new_http(url.parse()?);
    Ok(client.request::<_, Value>(method, params).await?)
}

/// A hex quantity as a number.
pub(crate) fn quantity(v: &Value) -> Result<u64> {
    let s = v.as_str().context("a quantity")?;
    Ok(u64::from_str_radix(s.trim_start_matches("0x"), 16)?)
}

/// The 10 dev accounts of anvil's test mnemonic, and a Counter deployed by the last of them.
pub(crate) async fn deploy_counter(url: &str) -> Result<(Vec<String>, String)> {
    let accounts = opdev_chain::accounts::derive(
        "test test test test test test test test test test test junk",
        10,
    )?;
    let senders: Vec<String> = accounts.iter().map(|a| a.address.to_string()).collect();
    let code = format!("0x{}", opdev_chain::smoke::COUNTER_BYTECODE_HEX.trim());
    let hash = rpc(
        url,
        "eth_sendTransaction",
        json!([{"from": senders[9], "data": code, "gas": "0x100000"}]),
    )
    .await?;
    let mut receipt = Value::Null;
    for _ in 0..200 {
        receipt = rpc(url, "eth_getTransactionReceipt", json!([hash])).await?;
        if !receipt.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let counter = receipt["contractAddress"]
        .as_str()
        .context("the Counter was deployed")?
        .to_owned();
    Ok((senders, counter))
}

/// Mines `blocks` blocks of `txs_per_block` transactions each, with automine off: transaction
/// `t` of a block is a transfer between two of the first 9 `senders` when `transfer(t)`, else a
/// Counter `increment` (which emits a log). Senders take turns; `nonces` are theirs and advance.
pub(crate) async fn fill(
    url: &str,
    senders: &[String],
    counter: &str,
    nonces: &mut [u64],
    blocks: u64,
    txs_per_block: u64,
    transfer: impl Fn(u64) -> bool,
) -> Result<()> {
    rpc(url, "evm_setAutomine", json!([false])).await?;
    let client = alloy::rpc::client::RpcClient::new_http(url.parse()?);
    for b in 0..blocks {
        let mut batch = alloy::rpc::client::BatchRequest::new(&client);
        let mut waiters = Vec::new();
        for t in 0..txs_per_block {
            let k = ((b * txs_per_block + t) % 9) as usize;
            let tx = if transfer(t) {
                json!({"from": senders[k], "to": senders[(k + 1) % 9], "value": "0x1",
                       "nonce": format!("{:#x}", nonces[k]), "gas": "0x5208",
                       "maxFeePerGas": "0x77359400", "maxPriorityFeePerGas": "0x1"})
            } else {
                json!({"from": senders[k], "to": counter, "data": "0xd09de08a",
                       "nonce": format!("{:#x}", nonces[k]), "gas": "0x20000",
                       "maxFeePerGas": "0x77359400", "maxPriorityFeePerGas": "0x1"})
            };
            nonces[k] += 1;
            waiters.push(batch.add_call::<_, Value>("eth_sendTransaction", &(tx,))?);
        }
        batch.send().await?;
        for w in waiters {
            w.await?;
        }
        rpc(url, "evm_mine", json!([])).await?;
    }
    rpc(url, "evm_setAutomine", json!([true])).await?;
    Ok(())
}
