//! Helpers: chain building over raw JSON-RPC (transfers, Counter deployments and calls, OP
//! deposits), an in-process indexer, waiting for it to catch up, and the parity check.

use std::time::{Duration, Instant};

use alloy::{primitives::keccak256, rpc::client::RpcClient};
use opdev_indexer::{ChainState, Config, Indexer, ServeArgs, verify};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// Dev account 0 and 1 of anvil's test mnemonic (unlocked in anvil).
pub(crate) const DEV0: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
pub(crate) const DEV1: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
pub(crate) const DEV2: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

/// A JSON-RPC client of `url`.
pub(crate) fn client(url: &str) -> RpcClient {
    RpcClient::new_http(url.parse().expect("url"))
}

/// Calls `method` and returns the JSON result.
pub(crate) async fn call(url: &str, method: &'static str, params: Value) -> Value {
    client(url)
        .request::<_, Value>(method, params.clone())
        .await
        .unwrap_or_else(|e| panic!("{method} {params}: {e}"))
}

/// The chain's head.
pub(crate) async fn head(url: &str) -> u64 {
    let h = call(url, "eth_blockNumber", json!([])).await;
    u64::from_str_radix(h.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// Mines `n` empty blocks.
pub(crate) async fn mine(url: &str, n: u64) {
    call(url, "anvil_mine", json!([format!("{n:#x}")])).await;
}

/// Sends a transaction from an unlocked dev account; returns its hash.
pub(crate) async fn send(url: &str, tx: Value) -> String {
    call(url, "eth_sendTransaction", json!([tx]))
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

/// Sends `tx` and waits for its receipt: anvil answers a send before it seals the
/// block, so a caller that reads the head right after could miss that block.
pub(crate) async fn send_mined(url: &str, tx: Value) -> String {
    let hash = send(url, tx).await;
    receipt(url, &hash).await;
    hash
}

/// The receipt of `hash` (waits for it: automine makes it immediate).
pub(crate) async fn receipt(url: &str, hash: &str) -> Value {
    for _ in 0..100 {
        let r = call(url, "eth_getTransactionReceipt", json!([hash])).await;
        if !r.is_null() {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no receipt for {hash}");
}

/// Deploys a Counter from dev account 0; returns its address.
pub(crate) async fn deploy_counter(url: &str) -> String {
    let code = format!("0x{}", opdev_chain::smoke::COUNTER_BYTECODE_HEX.trim());
    let hash = send(url, json!({"from": DEV0, "data": code, "gas": "0x100000"})).await;
    let r = receipt(url, &hash).await;
    r["contractAddress"]
        .as_str()
        .expect("a contract")
        .to_owned()
}

/// `increment()` call data.
pub(crate) fn increment_data() -> String {
    format!("0x{}", alloy::hex::encode(&keccak256("increment()")[..4]))
}

/// topic0 of `Incremented(address,uint256)`.
pub(crate) fn incremented_topic() -> String {
    format!("{:x}", keccak256("Incremented(address,uint256)"))
}

/// An OP deposit transaction (type 0x7e) minting `mint` wei to `to`, sent unsigned.
pub(crate) async fn deposit(url: &str, seed: u64, to: &str, mint: u64) -> String {
    let source = keccak256(seed.to_be_bytes());
    let raw = opdev_test_utils::op_deposit_raw(source.0, to.parse().unwrap(), mint);
    call(
        url,
        "eth_sendRawTransaction",
        json!([format!("0x{}", alloy::hex::encode(raw))]),
    )
    .await
    .as_str()
    .unwrap()
    .to_owned()
}

/// What [`build_chain`] put on the chain.
#[derive(Debug, Default)]
pub(crate) struct Built {
    pub(crate) counters: Vec<String>,
    pub(crate) deposits: usize,
    pub(crate) increments: usize,
}

/// Fills a chain with `rounds` rounds of transfers and Counter increments (some blocks with one
/// transaction each, some holding several), three Counter deployments, OP deposits when `op`,
/// and `empty` empty blocks.
pub(crate) async fn build_chain(url: &str, rounds: usize, empty: u64, op: bool) -> Built {
    let mut built = Built::default();
    for _ in 0..3 {
        built.counters.push(deploy_counter(url).await);
    }
    let inc = increment_data();
    for round in 0..rounds {
        let several = round % 2 == 1;
        if several {
            call(url, "evm_setAutomine", json!([false])).await;
        }
        send(
            url,
            json!({"from": DEV0, "to": DEV1, "value": format!("{:#x}", 1000 + round)}),
        )
        .await;
        let counter = &built.counters[round % 3];
        send(
            url,
            json!({"from": DEV1, "to": counter, "data": inc, "gas": "0x30000"}),
        )
        .await;
        built.increments += 1;
        send(url, json!({"from": DEV2, "to": DEV0, "value": "0x1"})).await;
        if op && round % 5 == 0 {
            deposit(url, round as u64, DEV1, 1_000_000).await;
            built.deposits += 1;
        }
        if several {
            call(url, "evm_mine", json!([])).await;
            call(url, "evm_setAutomine", json!([true])).await;
        }
        if round % 10 == 0 {
            mine(url, empty / (rounds as u64 / 10 + 1)).await;
        }
    }
    let h = head(url).await;
    let want = rounds as u64 * 2 + empty;
    if h < want {
        mine(url, want - h).await;
    }
    built
}

/// Indexer arguments for `chains` (name, id, url) and the database `db`.
pub(crate) fn args(db: &str, chains: &[(&str, u64, &str)], reorg_limit: u64) -> ServeArgs {
    ServeArgs {
        chains: chains
            .iter()
            .map(|(n, id, url)| format!("{n}={id}={url}"))
            .collect(),
        listen: "127.0.0.1:0".into(),
        database_url: db.into(),
        reorg_limit,
        batch_size: 50,
        concurrency: 4,
        poll_interval_ms: 100,
    }
}

/// Starts an in-process indexer.
pub(crate) async fn start(args: ServeArgs) -> (Indexer, CancellationToken) {
    let stop = CancellationToken::new();
    let indexer = opdev_indexer::start(Config::try_from(args).unwrap(), stop.clone())
        .await
        .unwrap();
    (indexer, stop)
}

/// Waits until chain `i` of `indexer` has indexed the head of `url` (the chain must be still).
pub(crate) async fn caught_up(indexer: &Indexer, i: usize, url: &str, within: Duration) {
    let until = Instant::now() + within;
    loop {
        let target = head(url).await;
        let s = indexer.health().chains[i].clone();
        if s.indexed_head == Some(target) && s.state == ChainState::Following {
            return;
        }
        assert!(Instant::now() < until, "not caught up with {target}: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A connection to the test database.
pub(crate) async fn db(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

/// The parity check; retried while the indexer may still be settling (after a reorg).
pub(crate) async fn parity(
    db_url: &str,
    rpc_url: &str,
    chain_id: u64,
    within: Duration,
) -> verify::Counts {
    let client = db(db_url).await;
    let until = Instant::now() + within;
    loop {
        match verify::parity(&client, rpc_url, chain_id).await {
            Ok(c) => return c,
            Err(_) if Instant::now() < until => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("parity of chain {chain_id}: {e}"),
        }
    }
}

/// A GET on the indexer's HTTP server: (status, body).
pub(crate) async fn http_get(indexer: &Indexer, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(indexer.local_addr())
        .await
        .unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The value of the metric line starting with `prefix` (summed over matches).
pub(crate) fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
