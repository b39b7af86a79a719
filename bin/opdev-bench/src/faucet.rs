//! `opdev-bench faucet`: claims per second of the faucet (in-process, real PostgreSQL, real
//! anvil) for distinct addresses, beside the floor measured in the same run: the same number of
//! signed transfers from one key sent straight to the node, one after another in nonce order
//! (what the faucet's per-chain nonce manager must do at best). Every run uses fresh keys, checks
//! that every transfer was accepted and mined, and is bounded.

use std::time::{Duration, Instant};

use alloy::{
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Address, U256, utils::parse_ether},
    providers::{Provider, RootProvider},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use anyhow::{Context, Result, ensure};
use futures::StreamExt;
use opdev_faucet::{ChainConfig, Config, Limit, Limits, client::FaucetClient};
use opdev_test_utils::{TestAnvil, TestPostgres};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const CHAIN_ID: u64 = 901;
/// Claims in flight at once.
const CONCURRENCY: usize = 64;
/// Deadline of one measurement.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the benchmark: `runs` rounds of `claims` claims and `claims` floor transfers.
pub(crate) fn run(runs: usize, claims: usize, block_time: Option<u64>, json: bool) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let pg = TestPostgres::start();
    let block_time_arg = block_time.map(|b| b.to_string());
    let mut anvil_args = vec!["--chain-id", "901"];
    if let Some(b) = &block_time_arg {
        anvil_args.extend(["--block-time", b.as_str()]);
    }
    let anvil = TestAnvil::start(&anvil_args);
    let mining = match block_time {
        Some(b) => format!("{b} s blocks"),
        None => "automine".to_owned(),
    };

    let (mut faucet_rates, mut floor_rates) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let (faucet, floor) = runtime.block_on(async {
            tokio::time::timeout(RUN_TIMEOUT, async {
                // Alternate the order so neither side always meets a warmer node.
                if i % 2 == 0 {
                    let f = faucet_run(&pg.url(), &anvil.url(), claims).await?;
                    let b = floor_run(&anvil.url(), claims).await?;
                    anyhow::Ok((f, b))
                } else {
                    let b = floor_run(&anvil.url(), claims).await?;
                    let f = faucet_run(&pg.url(), &anvil.url(), claims).await?;
                    anyhow::Ok((f, b))
                }
            })
            .await
            .context("a run took over 120 s")?
        })?;
        let (f, b) = (
            claims as f64 / faucet.as_secs_f64(),
            claims as f64 / floor.as_secs_f64(),
        );
        eprintln!(
            "run {}/{runs}: faucet {f:.0} claims/s ({:.3} s), floor {b:.0} tx/s ({:.3} s)",
            i + 1,
            faucet.as_secs_f64(),
            floor.as_secs_f64()
        );
        faucet_rates.push(f);
        floor_rates.push(b);
    }
    let (f_med, f_min, f_max) = stats(&faucet_rates);
    let (b_med, b_min, b_max) = stats(&floor_rates);
    println!(
        "opdev faucet, {runs} runs of {claims} claims for distinct addresses ({CONCURRENCY} in flight), anvil {mining}, PostgreSQL, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "{:<30} {:>9} {:>9} {:>9}",
        "metric", "median/s", "min/s", "max/s"
    );
    println!(
        "{:<30} {f_med:>9.0} {f_min:>9.0} {f_max:>9.0}",
        "faucet claims"
    );
    println!(
        "{:<30} {b_med:>9.0} {b_min:>9.0} {b_max:>9.0}",
        "floor: signed transfers"
    );
    println!("ratio (median faucet / median floor): {:.2}", f_med / b_med);
    if json {
        let out = json!({
            "runs": runs, "claims": claims, "mining": mining, "concurrency": CONCURRENCY,
            "faucet_claims_per_s": { "median": f_med, "min": f_min, "max": f_max },
            "floor_tx_per_s": { "median": b_med, "min": b_min, "max": b_max },
            "ratio": f_med / b_med,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// Median, min and max.
fn stats(samples: &[f64]) -> (f64, f64, f64) {
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    (median, s[0], s[n - 1])
}

fn provider(rpc: &str) -> Result<RootProvider> {
    Ok(RootProvider::new_http(rpc.parse()?))
}

/// A fresh key with 1,000,000 ETH.
async fn funded_key(rpc: &str) -> Result<PrivateKeySigner> {
    let signer = PrivateKeySigner::random();
    let _: serde_json::Value = provider(rpc)?
        .raw_request(
            "anvil_setBalance".into(),
            (signer.address(), parse_ether("1000000")?),
        )
        .await?;
    Ok(signer)
}

/// Waits until `from` has `n` mined transactions.
async fn wait_mined(rpc: &str, from: Address, n: u64) -> Result<()> {
    let provider = provider(rpc)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mined = provider.get_transaction_count(from).await?;
        if mined == n {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "{mined} of {n} transfers from {from} mined after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `claims` claims through a fresh faucet; returns the time until every claim was answered.
async fn faucet_run(database_url: &str, rpc: &str, claims: usize) -> Result<Duration> {
    let signer = funded_key(rpc).await?;
    let from = signer.address();
    let limits = Limits {
        address: Limit {
            claims: 1,
            window: Duration::from_secs(3600),
        },
        ip: Limit {
            claims: u32::MAX,
            window: Duration::from_secs(3600),
        },
    };
    let config = Config::new(
        vec![ChainConfig {
            name: "l2-1".into(),
            chain_id: CHAIN_ID,
            rpc_url: rpc.into(),
            amount: parse_ether("0.001")?,
        }],
        database_url.into(),
        signer,
    )
    .with_limits(limits);
    let stop = CancellationToken::new();
    let running = opdev_faucet::start(config, stop.clone()).await?;
    let client = FaucetClient::new(&running.url())?;
    let addresses: Vec<Address> = (0..claims)
        .map(|_| PrivateKeySigner::random().address())
        .collect();

    let t0 = Instant::now();
    let answers: Vec<_> = futures::stream::iter(&addresses)
        .map(|a| client.claim(*a, CHAIN_ID))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let took = t0.elapsed();

    for answer in answers {
        answer.context("a claim failed")?;
    }
    wait_mined(rpc, from, claims as u64).await?;
    stop.cancel();
    running.wait().await?;
    Ok(took)
}

/// The floor: `n` transfers signed and sent straight to the node, in nonce order, from a fresh
/// key (including reading its nonce and the fees once, as the faucet does).
async fn floor_run(rpc: &str, n: usize) -> Result<Duration> {
    let signer = funded_key(rpc).await?;
    let from = signer.address();
    let wallet = EthereumWallet::from(signer);
    let provider = provider(rpc)?;
    let recipients: Vec<Address> = (0..n)
        .map(|_| PrivateKeySigner::random().address())
        .collect();

    let t0 = Instant::now();
    let nonce = provider.get_transaction_count(from).pending().await?;
    let fees = provider.estimate_eip1559_fees().await?;
    for (i, to) in recipients.iter().enumerate() {
        let tx = TransactionRequest::default()
            .with_from(from)
            .with_to(*to)
            .with_value(U256::from(10u64.pow(15)))
            .with_nonce(nonce + i as u64)
            .with_chain_id(CHAIN_ID)
            .with_gas_limit(21_000)
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas)
            .build(&wallet)
            .await?;
        let _pending = provider
            .send_raw_transaction(&alloy::eips::eip2718::Encodable2718::encoded_2718(&tx))
            .await?;
    }
    let took = t0.elapsed();
    wait_mined(rpc, from, nonce + n as u64).await?;
    Ok(took)
}
