//! The test environment: PostgreSQL, two anvil chains filled with known transactions, the
//! indexer and the explorer in-process, and small HTTP helpers.

use std::time::{Duration, Instant};

use alloy::{primitives::keccak256, rpc::client::RpcClient};
use opdev_indexer::{Config as IndexerConfig, Indexer, ServeArgs as IndexerArgs};
use opdev_test_utils::{TestAnvil, TestPostgres};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// Dev accounts of anvil's test mnemonic (unlocked in anvil).
pub(crate) const DEV0: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
pub(crate) const DEV1: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
pub(crate) const DEV2: &str = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
pub(crate) const DEV3: &str = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";
pub(crate) const DEV4: &str = "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65";
/// Transfers DEV3 sends to DEV4 (more than one page of history).
pub(crate) const DEV3_TRANSFERS: usize = 30;
/// The L1 and the L2 chain ids.
pub(crate) const L1: u64 = 900;
pub(crate) const L2: u64 = 901;

/// What was put on the L2.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    pub(crate) counter: String,
    pub(crate) deploy_tx: String,
    pub(crate) increment_tx: String,
    pub(crate) increment_block: u64,
    pub(crate) transfer_tx: String,
    pub(crate) deposit_tx: String,
    pub(crate) deposit_source: String,
    pub(crate) deposit_mint: u64,
    pub(crate) l1_transfer_tx: String,
}

/// Everything running.
pub(crate) struct Env {
    pub(crate) pg: TestPostgres,
    pub(crate) l1: TestAnvil,
    pub(crate) l2: TestAnvil,
    pub(crate) stop: CancellationToken,
    /// Stops the indexer alone (a child of `stop`).
    pub(crate) indexer_stop: CancellationToken,
    pub(crate) indexer: Option<Indexer>,
    pub(crate) base: String,
    pub(crate) facts: Facts,
    pub(crate) http: reqwest::Client,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub(crate) async fn call(url: &str, method: &'static str, params: Value) -> Value {
    RpcClient::new_http(url.parse().expect("url"))
        .request::<_, Value>(method, params.clone())
        .await
        .unwrap_or_else(|e| panic!("{method} {params}: {e}"))
}

pub(crate) async fn head(url: &str) -> u64 {
    let h = call(url, "eth_blockNumber", json!([])).await;
    u64::from_str_radix(h.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

pub(crate) async fn send(url: &str, tx: Value) -> String {
    let hash = call(url, "eth_sendTransaction", json!([tx])).await;
    hash.as_str().unwrap().to_owned()
}

pub(crate) async fn receipt(url: &str, hash: &str) -> Value {
    for _ in 0..200 {
        let r = call(url, "eth_getTransactionReceipt", json!([hash])).await;
        if !r.is_null() {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no receipt for {hash}");
}

/// An OP deposit (type 0x7e) from a non-dev account minting `mint` wei to `to`; returns the
/// transaction hash and the source hash.
async fn deposit(url: &str, to: &str, mint: u64) -> (String, String) {
    let source = keccak256(b"opdev explorer test deposit");
    let raw = opdev_test_utils::op_deposit_raw(source.0, to.parse().unwrap(), mint);
    let hash = call(
        url,
        "eth_sendRawTransaction",
        json!([format!("0x{}", alloy::hex::encode(raw))]),
    )
    .await;
    (hash.as_str().unwrap().to_owned(), format!("{source:x}"))
}

/// Fills the chains: on the L2 a Counter deployment, an `increment`, a transfer, an OP deposit
/// and DEV3's transfers (several per block); on the L1 a transfer.
async fn build(l1: &str, l2: &str) -> Facts {
    let code = format!("0x{}", opdev_chain::smoke::COUNTER_BYTECODE_HEX.trim());
    let deploy_tx = send(l2, json!({"from": DEV0, "data": code, "gas": "0x100000"})).await;
    let counter = receipt(l2, &deploy_tx).await["contractAddress"]
        .as_str()
        .unwrap()
        .to_lowercase();
    let inc = format!("0x{}", alloy::hex::encode(&keccak256("increment()")[..4]));
    let increment_tx = send(
        l2,
        json!({"from": DEV1, "to": counter, "data": inc, "gas": "0x30000"}),
    )
    .await;
    let r = receipt(l2, &increment_tx).await;
    let increment_block = u64::from_str_radix(
        r["blockNumber"].as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap();
    let transfer_tx = send(l2, json!({"from": DEV0, "to": DEV2, "value": "0x3039"})).await;
    receipt(l2, &transfer_tx).await;
    let deposit_mint = 1_000_000_000_000_000_000;
    let (deposit_tx, deposit_source) = deposit(l2, DEV2, deposit_mint).await;
    receipt(l2, &deposit_tx).await;
    call(l2, "evm_setAutomine", json!([false])).await;
    let mut last = String::new();
    for i in 0..DEV3_TRANSFERS {
        last = send(
            l2,
            json!({"from": DEV3, "to": DEV4, "value": format!("{:#x}", i + 1)}),
        )
        .await;
        if i % 10 == 9 {
            call(l2, "evm_mine", json!([])).await;
        }
    }
    call(l2, "evm_setAutomine", json!([true])).await;
    receipt(l2, &last).await;
    let l1_transfer_tx = send(l1, json!({"from": DEV0, "to": DEV1, "value": "0x1"})).await;
    receipt(l1, &l1_transfer_tx).await;
    Facts {
        counter,
        deploy_tx,
        increment_tx,
        increment_block,
        transfer_tx,
        deposit_tx,
        deposit_source,
        deposit_mint,
        l1_transfer_tx,
    }
}

/// Waits until the indexer has indexed both chains up to their current heads.
pub(crate) async fn wait_indexed(env: &Env) {
    let heads = [head(&env.l1.url()).await, head(&env.l2.url()).await];
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let h = env.indexer.as_ref().unwrap().health();
        let done = heads
            .iter()
            .zip(&h.chains)
            .all(|(want, c)| c.indexed_head >= Some(*want));
        if done {
            return;
        }
        assert!(Instant::now() < until, "indexer did not catch up: {h:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts everything, fills the chains and waits until they are indexed.
pub(crate) async fn start() -> Env {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();
    let pg = TestPostgres::start();
    let l1 = TestAnvil::start(&["--chain-id", "900"]);
    let l2 = TestAnvil::start(&["--chain-id", "901", "--network", "optimism"]);
    let facts = build(&l1.url(), &l2.url()).await;
    let stop = CancellationToken::new();
    let indexer_stop = stop.child_token();
    let chains = vec![
        format!("l1={L1}={}", l1.url()),
        format!("l2={L2}={}", l2.url()),
    ];
    let indexer = opdev_indexer::start(
        IndexerConfig::try_from(IndexerArgs {
            chains: chains.clone(),
            listen: "127.0.0.1:0".into(),
            database_url: pg.url(),
            reorg_limit: 64,
            batch_size: 50,
            concurrency: 4,
            poll_interval_ms: 50,
        })
        .unwrap(),
        indexer_stop.clone(),
    )
    .await
    .unwrap();
    let explorer = opdev_explorer::start(
        opdev_explorer::Config::try_from(opdev_explorer::ServeArgs {
            chains,
            listen: "127.0.0.1:0".into(),
            database_url: pg.url(),
            db_pool: 8,
        })
        .unwrap(),
        stop.clone(),
    )
    .await
    .unwrap();
    let env = Env {
        pg,
        l1,
        l2,
        stop,
        indexer_stop,
        indexer: Some(indexer),
        base: format!("http://{}", explorer.local_addr()),
        facts,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap(),
    };
    wait_indexed(&env).await;
    env
}

impl Env {
    /// GET `path`: status and body.
    pub(crate) async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    /// GET `path` expecting 200 HTML.
    pub(crate) async fn page(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        assert!(body.starts_with("<!doctype html>"), "GET {path}: {body}");
        body
    }

    /// GET `path` expecting 200 JSON.
    pub(crate) async fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// GET `path`: the status and the `Location` header.
    pub(crate) async fn redirect(&self, path: &str) -> (u16, Option<String>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let loc = r
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        (r.status().as_u16(), loc)
    }
}
