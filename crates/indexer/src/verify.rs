//! Parity check: reads a whole chain over JSON-RPC (as plain JSON, independently of the
//! indexer's decoding) and compares it with what the database holds for that chain: every
//! block, transaction (with its receipt's status, gas used and created contract) and log must
//! be there with the same values, nothing else may be, and the checkpoint must be the head.
//! Used by the tests and the benchmark; the chain must not move while it runs.

use std::collections::BTreeMap;

use alloy::{
    primitives::U256,
    rpc::client::{BatchRequest, RpcClient, Waiter},
    transports::http::reqwest,
};
use serde_json::Value;
use tokio_postgres::Client;

/// Why the check failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The node could not be read.
    #[error("read the chain: {0}")]
    Rpc(String),
    /// The database could not be read.
    #[error("read the database: {0}")]
    Db(#[from] tokio_postgres::Error),
    /// The database differs from the chain.
    #[error("{table}: {detail}")]
    Mismatch {
        /// The table.
        table: &'static str,
        /// The first difference.
        detail: String,
    },
}

/// What was compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Blocks (the head + 1).
    pub blocks: usize,
    /// Transactions.
    pub transactions: usize,
    /// Logs.
    pub logs: usize,
}

fn s(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(x) => x.trim_start_matches("0x").to_lowercase(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

fn num(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(x) => x
            .parse::<U256>()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| format!("bad number {x}")),
        _ => String::new(),
    }
}

fn first_difference<T: Ord + std::fmt::Debug>(
    table: &'static str,
    chain: &[T],
    db: &[T],
) -> Result<(), VerifyError> {
    if chain == db {
        return Ok(());
    }
    let detail = match chain.iter().zip(db).find(|(a, b)| a != b) {
        Some((a, b)) => format!("chain has {a:?}, database has {b:?}"),
        None => format!(
            "chain has {} rows, database has {} (first extra: {:?})",
            chain.len(),
            db.len(),
            if chain.len() > db.len() {
                chain.get(db.len())
            } else {
                db.get(chain.len())
            }
        ),
    };
    Err(VerifyError::Mismatch { table, detail })
}

type BlockRow = (i64, String, String, i64);
type TxRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);
type LogRow = (i64, i64, String, String, String, String);

/// Compares chain `chain_id` at `rpc_url` with the database behind `db`.
pub async fn parity(db: &Client, rpc_url: &str, chain_id: u64) -> Result<Counts, VerifyError> {
    let rpc_err = |e: &dyn std::fmt::Display| VerifyError::Rpc(e.to_string());
    let url: reqwest::Url = rpc_url.parse().map_err(|e| rpc_err(&e))?;
    let client = RpcClient::new_http(url);
    let head: alloy::primitives::U64 = client
        .request_noparams("eth_blockNumber")
        .await
        .map_err(|e| rpc_err(&e))?;
    let head = head.to::<u64>();

    let mut blocks: Vec<BlockRow> = Vec::new();
    let mut txs: Vec<TxRow> = Vec::new();
    let mut logs: Vec<LogRow> = Vec::new();
    let mut head_hash = String::new();
    let mut from = 0;
    while from <= head {
        let to = (from + 99).min(head);
        let mut batch = BatchRequest::new(&client);
        let mut waiters: Vec<(Waiter<Value>, Waiter<Value>)> = Vec::new();
        for n in from..=to {
            let tag = format!("{n:#x}");
            let b = batch
                .add_call("eth_getBlockByNumber", &(tag.clone(), true))
                .map_err(|e| rpc_err(&e))?;
            let r = batch
                .add_call("eth_getBlockReceipts", &(tag,))
                .map_err(|e| rpc_err(&e))?;
            waiters.push((b, r));
        }
        batch.send().await.map_err(|e| rpc_err(&e))?;
        for (b, r) in waiters {
            let b = b.await.map_err(|e| rpc_err(&e))?;
            let r = r.await.map_err(|e| rpc_err(&e))?;
            let number = i64::from_str_radix(&s(&b, "number"), 16).unwrap_or(-1);
            let empty = Vec::new();
            let btxs = b["transactions"].as_array().unwrap_or(&empty);
            let receipts = r.as_array().unwrap_or(&empty);
            blocks.push((
                number,
                s(&b, "hash"),
                s(&b, "parentHash"),
                btxs.len() as i64,
            ));
            head_hash = s(&b, "hash");
            let by_hash: BTreeMap<String, &Value> = receipts
                .iter()
                .map(|r| (s(r, "transactionHash"), r))
                .collect();
            let mut log_index = 0;
            for (i, t) in btxs.iter().enumerate() {
                let hash = s(t, "hash");
                let receipt = by_hash.get(&hash).copied().unwrap_or(&Value::Null);
                txs.push((
                    number,
                    i as i64,
                    hash.clone(),
                    s(t, "from"),
                    s(t, "to"),
                    num(t, "value"),
                    num(receipt, "status"),
                    s(receipt, "contractAddress"),
                    num(receipt, "gasUsed"),
                ));
                for l in receipt["logs"].as_array().unwrap_or(&empty) {
                    let topics: Vec<String> = l["topics"]
                        .as_array()
                        .unwrap_or(&empty)
                        .iter()
                        .map(|t| {
                            t.as_str()
                                .unwrap_or("")
                                .trim_start_matches("0x")
                                .to_lowercase()
                        })
                        .collect();
                    logs.push((
                        number,
                        log_index,
                        hash.clone(),
                        s(l, "address"),
                        topics.join(","),
                        s(l, "data"),
                    ));
                    log_index += 1;
                }
            }
        }
        from = to + 1;
    }

    let cid = chain_id as i64;
    let db_blocks: Vec<BlockRow> = db
        .query(
            "SELECT number, encode(hash, 'hex'), encode(parent_hash, 'hex'), tx_count::bigint \
             FROM blocks WHERE chain_id = $1 ORDER BY number",
            &[&cid],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    first_difference("blocks", &blocks, &db_blocks)?;
    let db_txs: Vec<TxRow> = db
        .query(
            "SELECT block_number, tx_index::bigint, encode(hash, 'hex'), encode(from_address, 'hex'), \
             COALESCE(encode(to_address, 'hex'), ''), value::text, COALESCE(status::text, ''), \
             COALESCE(encode(contract_address, 'hex'), ''), gas_used::text \
             FROM transactions WHERE chain_id = $1 ORDER BY block_number, tx_index",
            &[&cid],
        )
        .await?
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
                r.get(7),
                r.get(8),
            )
        })
        .collect();
    first_difference("transactions", &txs, &db_txs)?;
    let db_logs: Vec<LogRow> = db
        .query(
            "SELECT block_number, log_index::bigint, encode(tx_hash, 'hex'), encode(address, 'hex'), \
             concat_ws(',', encode(topic0, 'hex'), encode(topic1, 'hex'), encode(topic2, 'hex'), \
             encode(topic3, 'hex')), encode(data, 'hex') \
             FROM logs WHERE chain_id = $1 ORDER BY block_number, log_index",
            &[&cid],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect();
    first_difference("logs", &logs, &db_logs)?;
    let checkpoint: Option<(i64, String)> = db
        .query_opt(
            "SELECT number, encode(hash, 'hex') FROM checkpoints WHERE chain_id = $1",
            &[&cid],
        )
        .await?
        .map(|r| (r.get(0), r.get(1)));
    first_difference(
        "checkpoints",
        &[Some((head as i64, head_hash))],
        &[checkpoint],
    )?;
    Ok(Counts {
        blocks: blocks.len(),
        transactions: txs.len(),
        logs: logs.len(),
    })
}

/// [`parity`] over a new connection to `database_url`.
pub async fn parity_at(
    database_url: &str,
    rpc_url: &str,
    chain_id: u64,
) -> Result<Counts, VerifyError> {
    let (client, connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(connection);
    let result = parity(&client, rpc_url, chain_id).await;
    drop(client);
    let _ = driver.await;
    result
}
