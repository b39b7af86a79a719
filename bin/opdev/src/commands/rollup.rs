//! The rollup part of `opdev status` on full-profile devnets: each L2's unsafe, safe and
//! finalized heads as its op-node reports them (`optimism_syncStatus`), and the last L1
//! transaction of its batcher and of its proposer.

use alloy::{
    consensus::Transaction as _, eips::BlockNumberOrTag, network::TransactionResponse as _,
    primitives::Address, providers::Provider,
};
use opdev_chain::rpc::Probe;
use opdev_profiles::{RollupAccounts, full};
use opdev_spec::{DevnetConfig, Profile};
use serde_json::{Value, json};

/// How many L1 blocks back the last batcher and proposer transactions are looked for.
const SCAN_BLOCKS: u64 = 120;

/// One entry per L2 of a full devnet (empty for lite devnets or when nothing answers).
pub(crate) async fn status(config: &DevnetConfig, accounts: &[RollupAccounts]) -> Vec<Value> {
    if config.profile != Profile::Full {
        return Vec::new();
    }
    let operators: Vec<(Address, Address)> = accounts
        .iter()
        .map(|a| {
            (
                a.batcher.parse().unwrap_or_default(),
                a.proposer.parse().unwrap_or_default(),
            )
        })
        .collect();
    let last = last_transactions(&config.l1.rpc_url(), &operators).await;
    let heads = futures::future::join_all(config.l2.iter().map(|chain| async move {
        let url = format!(
            "http://127.0.0.1:{}",
            config.rollup_port(&chain.service, "node")
        );
        let status = Probe::new(&url).ok()?.sync_status().await.ok()?;
        Some((url, status))
    }))
    .await;
    config
        .l2
        .iter()
        .zip(heads)
        .enumerate()
        .map(|(i, (chain, status))| {
            let number = |key: &str| status.as_ref().and_then(|(_, s)| s[key]["number"].as_u64());
            let (batcher, proposer) = last.get(i).cloned().unwrap_or_default();
            json!({
                "l2": chain.service,
                "node": full::service_name(&chain.service, full::NODE),
                "node_rpc": status.as_ref().map(|(url, _)| url.clone()),
                "unsafe": number("unsafe_l2"),
                "safe": number("safe_l2"),
                "finalized": number("finalized_l2"),
                "l1_derived": number("current_l1"),
                "batcher": {
                    "address": accounts.get(i).map(|a| a.batcher.clone()),
                    "last_l1_tx": batcher,
                },
                "proposer": {
                    "address": accounts.get(i).map(|a| a.proposer.clone()),
                    "last_l1_tx": proposer,
                },
            })
        })
        .collect()
}

/// For each (batcher, proposer), the newest L1 transaction each sent within the last
/// [`SCAN_BLOCKS`] blocks: `{hash, block, age_secs}`, or null.
async fn last_transactions(l1_url: &str, operators: &[(Address, Address)]) -> Vec<(Value, Value)> {
    let mut found = vec![(Value::Null, Value::Null); operators.len()];
    let Ok(provider) = opdev_chain::http::provider(l1_url) else {
        return found;
    };
    let Ok(head) = provider.get_block_number().await else {
        return found;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let oldest = head.saturating_sub(SCAN_BLOCKS);
    let mut top = head;
    // Newest first, 16 blocks at a time, until every sender is found.
    while top >= oldest {
        let bottom = top.saturating_sub(15).max(oldest);
        let blocks = futures::future::join_all((bottom..=top).rev().map(|n| {
            let provider = &provider;
            async move {
                provider
                    .get_block_by_number(BlockNumberOrTag::Number(n))
                    .full()
                    .await
                    .ok()
                    .flatten()
            }
        }))
        .await;
        for block in blocks.into_iter().flatten() {
            let age = now.saturating_sub(block.header.timestamp);
            for tx in block.transactions.txns() {
                let from = tx.from();
                let entry = || {
                    json!({
                        "hash": tx.tx_hash(),
                        "block": block.header.number,
                        "to": tx.to(),
                        "age_secs": age,
                    })
                };
                for (i, (batcher, proposer)) in operators.iter().enumerate() {
                    if from == *batcher && found[i].0.is_null() {
                        found[i].0 = entry();
                    }
                    if from == *proposer && found[i].1.is_null() {
                        found[i].1 = entry();
                    }
                }
            }
        }
        if found.iter().all(|(b, p)| !b.is_null() && !p.is_null()) || bottom == 0 {
            break;
        }
        top = bottom - 1;
    }
    found
}

/// One line of the text table for an L1 transaction: `#block (Ns ago)`, or `none in the last
/// N blocks`.
pub(crate) fn describe_tx(tx: &Value) -> String {
    if tx.is_null() {
        return format!("none in {SCAN_BLOCKS} L1 blocks");
    }
    format!("L1 #{} ({}s ago)", tx["block"], tx["age_secs"])
}
