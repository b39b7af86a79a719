//! Deposit latency of the lite bridge: from the moment a deposit's L1 receipt is seen to the
//! moment its L2 transaction is mined, over many deposits made one after another through the
//! OptimismPortal. The floor, measured at the same moments: a plain transfer sent straight to the
//! L2 when the deposit's L1 receipt is seen, until it is mined — the wait for the next L2 block
//! that no relay can beat.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol,
    sol_types::SolCall,
};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

sol! {
    interface IPortal {
        function depositTransaction(address _to, uint256 _value, uint64 _gasLimit, bool _isCreation, bytes _data) external payable;
    }
}

/// Dev accounts 1 (deposits) and 2 (floor transfers) of anvil's test mnemonic.
const DEPOSITOR: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const FLOOR: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
/// How often receipts are polled.
const POLL: Duration = Duration::from_millis(10);

/// Runs `deposits` deposits against a fresh devnet made by `opdev` and prints the figures.
pub(crate) fn run(opdev: &Path, deposits: usize, json_out: bool) -> Result<()> {
    let home = tempfile::tempdir()?;
    super::run_named(
        opdev,
        home.path(),
        "bridge-bench",
        &[
            "up",
            "--ports",
            "auto",
            "--no-indexer",
            "--no-faucet",
            "--no-monitoring",
        ],
    )?;
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(measure(opdev, home.path(), deposits));
    let _ = super::run_named(opdev, home.path(), "bridge-bench", &["purge", "--yes"]);
    let (deposit, floor) = result?;
    let (d50, d95) = percentiles(&deposit);
    let (f50, f95) = percentiles(&floor);
    println!(
        "deposit latency, L1 receipt seen → L2 deposit mined, {} deposits, 1-s blocks",
        deposit.len()
    );
    println!("  {:<10} {:>9} {:>9}", "", "median s", "p95 s");
    println!("  {:<10} {d50:>9.3} {d95:>9.3}", "deposit");
    println!("  {:<10} {f50:>9.3} {f95:>9.3}", "floor");
    println!(
        "  {:<10} {:>9.2} {:>9.2}",
        "ratio",
        d50 / f50.max(1e-9),
        d95 / f95.max(1e-9)
    );
    if json_out {
        println!(
            "{}",
            json!({ "deposits": deposit.len(), "deposit_median_s": d50, "deposit_p95_s": d95,
                    "floor_median_s": f50, "floor_p95_s": f95 })
        );
    }
    Ok(())
}

fn percentiles(samples: &[Duration]) -> (f64, f64) {
    let mut s: Vec<f64> = samples.iter().map(Duration::as_secs_f64).collect();
    s.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| s[((s.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.95))
}

async fn measure(
    opdev: &Path,
    home: &Path,
    deposits: usize,
) -> Result<(Vec<Duration>, Vec<Duration>)> {
    let out = std::process::Command::new(opdev)
        .args(["status", "--json", "--name", "bridge-bench"])
        .env("OPDEV_HOME", home)
        .output()?;
    let status: Value = serde_json::from_slice(&out.stdout).context("status --json")?;
    let l1_url = status["endpoints"]["l1"]["rpc"]
        .as_str()
        .context("l1 rpc")?;
    let l2_url = status["endpoints"]["l2"][0]["rpc"]
        .as_str()
        .context("l2 rpc")?;
    let portal: Address = status["endpoints"]["l2"][0]["l1_contracts"]["OptimismPortal"]
        .as_str()
        .context("portal")?
        .parse()?;
    let depositor: PrivateKeySigner = DEPOSITOR.parse()?;
    let floor_key: PrivateKeySigner = FLOOR.parse()?;
    let me = depositor.address();
    let l1 = ProviderBuilder::new()
        .wallet(EthereumWallet::from(depositor))
        .connect_http(l1_url.parse()?);
    let l2 = ProviderBuilder::new()
        .wallet(EthereumWallet::from(floor_key))
        .connect_http(l2_url.parse()?);
    let mut deposit_times = Vec::with_capacity(deposits);
    let mut floor_times = Vec::with_capacity(deposits);
    for i in 0..deposits {
        let input = IPortal::depositTransactionCall {
            _to: me,
            _value: U256::from(1),
            _gasLimit: 100_000,
            _isCreation: false,
            _data: Bytes::new(),
        }
        .abi_encode();
        let tx = TransactionRequest::default()
            .with_to(portal)
            .with_input(input)
            .with_value(U256::from(1));
        let pending = l1.send_transaction(tx).await?;
        let hash = *pending.tx_hash();
        let receipt = loop {
            if let Some(r) = l1.get_transaction_receipt(hash).await? {
                break r;
            }
            tokio::time::sleep(POLL).await;
        };
        let seen = Instant::now();
        // The floor: a transfer sent straight to the L2 now.
        let floor_tx = l2
            .send_transaction(
                TransactionRequest::default()
                    .with_to(Address::repeat_byte(0xf1))
                    .with_value(U256::from(1)),
            )
            .await?;
        let floor_hash = *floor_tx.tx_hash();
        let log = receipt
            .inner
            .logs()
            .iter()
            .find(|l| l.topics().first() == Some(&opdev_opstack::deposit::deposit_topic()))
            .context("no TransactionDeposited log")?;
        let d = opdev_opstack::deposit::decode_user_deposit(
            log.topics(),
            &log.data().data,
            receipt.block_number.unwrap_or_default(),
            receipt.block_hash.unwrap_or_default(),
            log.log_index.unwrap_or_default(),
            hash,
        )?;
        let l2_hash = d.l2_hash();
        let (mut deposit_at, mut floor_at) = (None, None);
        let until = seen + Duration::from_secs(30);
        while deposit_at.is_none() || floor_at.is_none() {
            if Instant::now() > until {
                bail!("deposit {i} ({l2_hash}) not on the L2 within 30 s");
            }
            if deposit_at.is_none() && mined(&l2, l2_hash).await? {
                deposit_at = Some(seen.elapsed());
            }
            if floor_at.is_none() && mined(&l2, floor_hash).await? {
                floor_at = Some(seen.elapsed());
            }
            tokio::time::sleep(POLL).await;
        }
        deposit_times.push(deposit_at.expect("set"));
        floor_times.push(floor_at.expect("set"));
        eprint!("\r{}/{deposits}", i + 1);
    }
    eprintln!();
    Ok((deposit_times, floor_times))
}

async fn mined(l2: &impl Provider, hash: B256) -> Result<bool> {
    // Plain JSON: deposit receipts have fields Ethereum's receipt type does not take.
    let receipt: Option<Value> = l2
        .raw_request("eth_getTransactionReceipt".into(), (hash,))
        .await?;
    Ok(receipt.is_some_and(|r| !r.is_null()))
}
