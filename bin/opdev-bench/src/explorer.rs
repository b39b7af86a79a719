//! `opdev-bench explorer`: latency of the explorer's pages under concurrent clients. A real
//! anvil chain (OP mode) gets Counter increments and transfers in its first blocks and empty
//! blocks after them (≥10,000 blocks in all), the real indexer indexes it into a fresh
//! PostgreSQL server, and the explorer serves it in-process. `clients` tasks then send a bounded
//! number of requests to each page (home, block, transaction, address) over 127.0.0.1; the floor
//! is the same number of requests to `/health` (HTTP + one `SELECT 1` through the same pool),
//! measured in the same run before and after the pages.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use opdev_test_utils::{TestAnvil, TestPostgres};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::chain::{deploy_counter, fill, quantity, rpc};

/// Blocks that carry transactions (the rest are empty).
const BUSY_BLOCKS: u64 = 2_000;
/// Transactions per busy block.
const TXS_PER_BLOCK: u64 = 3;

/// Fills the chain; returns the head, the Counter's address and the senders.
async fn build(url: &str, blocks: u64) -> Result<(u64, String, Vec<String>)> {
    let (senders, counter) = deploy_counter(url).await?;
    let senders: Vec<String> = senders.iter().map(|s| s.to_lowercase()).collect();
    let counter = counter.to_lowercase();
    let mut nonces = [0u64; 9];
    fill(
        url,
        &senders,
        &counter,
        &mut nonces,
        BUSY_BLOCKS,
        TXS_PER_BLOCK,
        |t| t == 2,
    )
    .await?;
    let head = quantity(&rpc(url, "eth_blockNumber", json!([])).await?)?;
    if head + 1 < blocks {
        rpc(
            url,
            "anvil_mine",
            json!([format!("{:#x}", blocks - head - 1)]),
        )
        .await?;
    }
    let head = quantity(&rpc(url, "eth_blockNumber", json!([])).await?)?;
    Ok((head, counter, senders[..9].to_vec()))
}

/// Sends `requests` GETs of `paths` (round robin) from `clients` tasks; returns every latency.
async fn load(
    http: &reqwest::Client,
    base: &str,
    paths: &[String],
    clients: usize,
    requests: usize,
) -> Result<Vec<Duration>> {
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let n = requests / clients + usize::from(c < requests % clients);
        let (http, base, paths) = (http.clone(), base.to_owned(), paths.to_vec());
        tasks.spawn(async move {
            let mut lat = Vec::with_capacity(n);
            for i in 0..n {
                let path = &paths[(c * 7919 + i) % paths.len()];
                let t0 = Instant::now();
                let r = http.get(format!("{base}{path}")).send().await?;
                let status = r.status();
                let _ = r.bytes().await?;
                lat.push(t0.elapsed());
                ensure!(status.is_success(), "GET {path}: {status}");
            }
            anyhow::Ok(lat)
        });
    }
    let mut all = Vec::with_capacity(requests);
    while let Some(r) = tasks.join_next().await {
        all.extend(r??);
    }
    Ok(all)
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let i = ((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1;
    samples[i].as_secs_f64() * 1000.0
}

/// Runs the benchmark.
pub(crate) fn run(clients: usize, requests: usize, blocks: u64, json: bool) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let pg = TestPostgres::start();
    let anvil = TestAnvil::start(&[
        "--chain-id",
        "901",
        "--network",
        "optimism",
        "--gas-limit",
        "1000000000",
    ]);
    let url = anvil.url();
    runtime.block_on(async {
        let t0 = Instant::now();
        let (head, counter, senders) = build(&url, blocks).await?;
        eprintln!(
            "built {} blocks in {:.1} s",
            head + 1,
            t0.elapsed().as_secs_f64()
        );
        let stop = CancellationToken::new();
        let chains = vec![format!("l2=901={url}")];
        let indexer = opdev_indexer::start(
            opdev_indexer::Config::try_from(opdev_indexer::ServeArgs {
                chains: chains.clone(),
                listen: "127.0.0.1:0".into(),
                database_url: pg.url(),
                reorg_limit: 64,
                batch_size: 50,
                concurrency: 4,
                poll_interval_ms: 100,
            })?,
            stop.clone(),
        )
        .await?;
        let t0 = Instant::now();
        while indexer.health().chains[0].indexed_head != Some(head) {
            ensure!(
                t0.elapsed() < Duration::from_secs(600),
                "indexing timed out"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!("indexed in {:.1} s", t0.elapsed().as_secs_f64());
        let explorer = opdev_explorer::start(
            opdev_explorer::Config::try_from(opdev_explorer::ServeArgs {
                chains,
                listen: "127.0.0.1:0".into(),
                database_url: pg.url(),
                db_pool: 16,
            })?,
            stop.clone(),
        )
        .await?;
        let base = format!("http://{}", explorer.local_addr());

        // Targets: 200 transactions and 200 blocks spread over the chain, every sender, the
        // Counter (the longest history).
        let (db, conn) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        let rows = db
            .query(
                "SELECT '0x' || encode(hash, 'hex') FROM transactions WHERE chain_id = 901 \
                 ORDER BY md5(hash::text) LIMIT 200",
                &[],
            )
            .await?;
        let txs: Vec<String> = rows
            .iter()
            .map(|r| format!("/chains/901/tx/{}", r.get::<_, String>(0)))
            .collect();
        let counted: i64 = db
            .query_one(
                "SELECT count(*) FROM transactions WHERE chain_id = 901",
                &[],
            )
            .await?
            .get(0);
        let block_paths: Vec<String> = (0..200u64)
            .map(|i| format!("/chains/901/blocks/{}", (i * 7_919) % (head + 1)))
            .collect();
        let mut addresses: Vec<String> = senders
            .iter()
            .map(|a| format!("/chains/901/address/{a}"))
            .collect();
        addresses.push(format!("/chains/901/address/{counter}"));
        let pages: Vec<(&str, Vec<String>)> = vec![
            ("home", vec!["/chains/901".to_owned()]),
            ("block", block_paths),
            ("transaction", txs),
            ("address", addresses),
        ];
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(clients)
            .build()?;
        let health = vec!["/health".to_owned()];
        // Warm-up: connections, prepared statements, caches.
        load(&http, &base, &health, clients, clients * 4).await?;
        for (_, paths) in &pages {
            load(&http, &base, paths, clients, clients * 2).await?;
        }
        let mut floor = load(&http, &base, &health, clients, requests).await?;
        let mut results = Vec::new();
        for (name, paths) in &pages {
            let lat = load(&http, &base, paths, clients, requests).await?;
            results.push((*name, lat));
        }
        floor.extend(load(&http, &base, &health, clients, requests).await?);
        let (f50, f99) = (percentile(&mut floor, 0.5), percentile(&mut floor, 0.99));

        println!(
            "opdev explorer page latency: {} blocks, {counted} transactions, {clients} clients, \
             {requests} requests a page, {} cores",
            head + 1,
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        );
        println!(
            "{:<12} {:>9} {:>9} | {:>9} {:>9}",
            "page", "p50 ms", "p99 ms", "p50/floor", "p99/floor"
        );
        let mut rows = Vec::new();
        for (name, mut lat) in results {
            let (p50, p99) = (percentile(&mut lat, 0.5), percentile(&mut lat, 0.99));
            println!(
                "{name:<12} {p50:>9.2} {p99:>9.2} | {:>9.2} {:>9.2}",
                p50 / f50,
                p99 / f99
            );
            rows.push(json!({"page": name, "p50_ms": p50, "p99_ms": p99,
                "p50_ratio": p50 / f50, "p99_ratio": p99 / f99}));
        }
        println!(
            "{:<12} {f50:>9.2} {f99:>9.2} | (floor: GET /health, {} requests)",
            "floor",
            floor.len()
        );
        if json {
            let doc = json!({"blocks": head + 1, "transactions": counted, "clients": clients,
                "requests": requests, "floor_p50_ms": f50, "floor_p99_ms": f99, "pages": rows});
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        stop.cancel();
        explorer.wait().await;
        indexer.wait().await;
        anyhow::Ok(())
    })?;
    drop(anvil);
    drop(pg);
    Ok(())
}
