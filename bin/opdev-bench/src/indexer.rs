//! `opdev-bench indexer`: backfill speed of the indexer (in-process, real PostgreSQL, real
//! anvil) in blocks/s and transactions/s, beside the floor measured in the same run: the same
//! blocks and receipts fetched over JSON-RPC with the same batching and concurrency, and thrown
//! away (no database). Two chains: a busy one (≥10,000 blocks, ≥50,000 transactions, most of them
//! Counter calls that emit a log) and an empty one (empty blocks only). Each run indexes into a
//! fresh PostgreSQL server; the first run of each chain ends with a parity check.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use futures::StreamExt;
use opdev_indexer::{ChainState, Config, ServeArgs, rpc::Rpc, verify};
use opdev_test_utils::{TestAnvil, TestPostgres};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::chain::{deploy_counter, fill, quantity, rpc};

/// Deadline of one measurement.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);
/// Blocks per batch and batches in flight (the indexer's defaults).
const BATCH: usize = 50;
const CONCURRENCY: usize = 4;

/// The chain shapes measured.
struct Shape {
    name: &'static str,
    blocks: u64,
    txs_per_block: u64,
}

/// Runs the benchmark.
pub(crate) fn run(
    runs: usize,
    blocks: u64,
    empty_blocks: u64,
    txs_per_block: u64,
    json: bool,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut report = Vec::new();
    for shape in [
        Shape {
            name: "busy",
            blocks,
            txs_per_block,
        },
        Shape {
            name: "empty",
            blocks: empty_blocks,
            txs_per_block: 0,
        },
    ] {
        let anvil = TestAnvil::start(&[
            "--chain-id",
            "901",
            "--network",
            "optimism",
            "--gas-limit",
            "1000000000",
        ]);
        let url = anvil.url();
        let t0 = Instant::now();
        let (head, txs) = runtime.block_on(build(&url, &shape))?;
        eprintln!(
            "{}: built {} blocks, {txs} transactions in {:.1} s",
            shape.name,
            head + 1,
            t0.elapsed().as_secs_f64()
        );
        let (mut indexer, mut floor) = (Vec::new(), Vec::new());
        for i in 0..runs {
            let mut pg = TestPostgres::start();
            let (ix, fl) = runtime.block_on(async {
                tokio::time::timeout(RUN_TIMEOUT, async {
                    // Alternate the order so neither side always meets a warmer node.
                    let fl_first = i % 2 == 1;
                    let mut fl = Duration::ZERO;
                    if fl_first {
                        fl = floor_run(&url, head).await?;
                    }
                    let ix = indexer_run(&pg.url(), &url, head).await?;
                    if !fl_first {
                        fl = floor_run(&url, head).await?;
                    }
                    if i == 0 {
                        let c = verify::parity_at(&pg.url(), &url, 901).await?;
                        ensure!(
                            c.blocks as u64 == head + 1 && c.transactions as u64 == txs,
                            "parity counts {c:?}"
                        );
                    }
                    anyhow::Ok((ix, fl))
                })
                .await
                .context("run timed out")?
            })?;
            pg.stop();
            eprintln!(
                "{} run {}/{runs}: indexer {:.3} s, floor {:.3} s",
                shape.name,
                i + 1,
                ix.as_secs_f64(),
                fl.as_secs_f64()
            );
            indexer.push(ix);
            floor.push(fl);
        }
        report.push((shape.name, head + 1, txs, indexer, floor));
    }

    println!(
        "opdev indexer backfill, {runs} runs, batch {BATCH} x {CONCURRENCY} in flight, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "{:<6} {:>7} {:>7} | {:>11} {:>9} | {:>11} {:>9} | {:>5}",
        "chain", "blocks", "txs", "indexer b/s", "tx/s", "floor b/s", "tx/s", "ratio"
    );
    let mut rows = Vec::new();
    for (name, blocks, txs, indexer, floor) in &report {
        let (ix, _, _) = crate::stats(indexer);
        let (fl, _, _) = crate::stats(floor);
        let (ib, it) = (*blocks as f64 / ix, *txs as f64 / ix);
        let (fb, ft) = (*blocks as f64 / fl, *txs as f64 / fl);
        println!(
            "{name:<6} {blocks:>7} {txs:>7} | {ib:>11.0} {it:>9.0} | {fb:>11.0} {ft:>9.0} | {:>5.2}",
            fl / ix
        );
        rows.push(json!({"chain": name, "blocks": blocks, "transactions": txs,
            "indexer_median_s": ix, "floor_median_s": fl, "indexer_blocks_per_s": ib,
            "indexer_tx_per_s": it, "floor_blocks_per_s": fb, "floor_tx_per_s": ft,
            "ratio": fl / ix}));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(())
}

/// Fills the chain: `blocks` blocks of `txs_per_block` transactions each (Counter `increment`
/// calls that emit a log, and every fifth a transfer), or empty blocks. Returns the head and
/// the number of transactions.
async fn build(url: &str, shape: &Shape) -> Result<(u64, u64)> {
    if shape.txs_per_block == 0 {
        rpc(url, "anvil_mine", json!([format!("{:#x}", shape.blocks)])).await?;
        let head = rpc(url, "eth_blockNumber", json!([])).await?;
        return Ok((quantity(&head)?, 0));
    }
    // One Counter, deployed by the last account.
    let (senders, counter) = deploy_counter(url).await?;
    let mut nonces = vec![0u64; senders.len()];
    for (i, s) in senders.iter().enumerate() {
        let n = rpc(url, "eth_getTransactionCount", json!([s, "pending"])).await?;
        nonces[i] = quantity(&n)?;
    }
    // Each block's transactions go in one batch request, then that block is mined.
    let busy = shape.blocks.saturating_sub(2);
    fill(
        url,
        &senders,
        &counter,
        &mut nonces,
        busy,
        shape.txs_per_block,
        |t| t % 5 == 4,
    )
    .await?;
    let txs = 1 + busy * shape.txs_per_block;
    let head = quantity(&rpc(url, "eth_blockNumber", json!([])).await?)?;
    Ok((head, txs))
}

/// The indexer from an empty database (schema created) until it has indexed `head`.
async fn indexer_run(db: &str, url: &str, head: u64) -> Result<Duration> {
    let stop = CancellationToken::new();
    let args = ServeArgs {
        chains: vec![format!("bench=901={url}")],
        listen: "127.0.0.1:0".into(),
        database_url: db.into(),
        reorg_limit: 64,
        batch_size: BATCH,
        concurrency: CONCURRENCY,
        poll_interval_ms: 100,
    };
    // The schema is created before the clock starts: this measures backfill, not start-up.
    drop(opdev_indexer::store::connect(db).await?);
    let t0 = Instant::now();
    let indexer = opdev_indexer::start(Config::try_from(args)?, stop.clone()).await?;
    loop {
        let s = indexer.health().chains[0].clone();
        ensure!(
            s.state != ChainState::Stopped,
            "indexer stopped: {:?}",
            s.error
        );
        if s.indexed_head == Some(head) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let took = t0.elapsed();
    stop.cancel();
    indexer.wait().await;
    Ok(took)
}

/// The floor: blocks `0..=head` with their receipts fetched with the same batching and
/// concurrency, in order, and dropped.
async fn floor_run(url: &str, head: u64) -> Result<Duration> {
    let rpc = Rpc::new(url)?;
    let t0 = Instant::now();
    let batch = BATCH as u64;
    let mut fetched = futures::stream::iter((0..=head).step_by(BATCH))
        .map(|a| {
            let rpc = rpc.clone();
            tokio::spawn(async move { rpc.blocks(a, (a + batch - 1).min(head)).await })
        })
        .buffered(CONCURRENCY);
    let mut n = 0;
    while let Some(blocks) = fetched.next().await {
        n += blocks??.len() as u64;
    }
    ensure!(n == head + 1, "fetched {n} blocks of {}", head + 1);
    Ok(t0.elapsed())
}
