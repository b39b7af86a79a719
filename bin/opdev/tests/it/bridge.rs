//! `opdev bridge deposit|withdraw|status` against a real lite devnet (anvil L1 and L2, the
//! Bedrock contracts, opdev's relayer and proposer): balances are read over RPC on both sides,
//! states from `bridge status`, and the failures end with their documented exit codes.

use std::process::Output;

use alloy::{
    primitives::{Address, B256, U256, address},
    providers::{Provider, ProviderBuilder},
};
use serde_json::Value;

use crate::support::{Env, text};

const DEV0: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

/// A devnet with the bridge and nothing else, withdrawals final 2 s after proving.
fn up(env: &Env, extra: &[&str]) {
    let mut args = vec![
        "up",
        "-q",
        "--ports",
        "auto",
        "--no-indexer",
        "--no-faucet",
        "--no-monitoring",
        "--finalization-period",
        "2",
    ];
    args.extend_from_slice(extra);
    env.ok(&args);
}

/// Thousandths of an ether, in wei.
fn milli(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64.pow(15))
}

fn rpc(env: &Env, which: &str) -> String {
    env.rpcs()
        .into_iter()
        .find(|(name, _)| name == which)
        .unwrap()
        .1
}

async fn balance(rpc: &str, who: Address) -> U256 {
    ProviderBuilder::new()
        .connect_http(rpc.parse().unwrap())
        .get_balance(who)
        .await
        .unwrap()
}

/// A receipt as JSON (deposit receipts of an OP L2 do not fit Ethereum's receipt type).
async fn receipt(rpc: &str, tx: &str) -> Value {
    let tx: B256 = tx.parse().unwrap();
    ProviderBuilder::new()
        .connect_http(rpc.parse().unwrap())
        .raw_request::<_, Value>("eth_getTransactionReceipt".into(), (tx,))
        .await
        .unwrap()
}

/// What the sender of `tx` paid for gas.
async fn fee(rpc: &str, tx: &str) -> U256 {
    let r = receipt(rpc, tx).await;
    assert_eq!(r["status"], "0x1", "{tx} failed: {r}");
    let word = |k: &str| {
        U256::from_str_radix(r[k].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    };
    word("gasUsed") * word("effectiveGasPrice")
}

fn fails(out: &Output, code: i32, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(code), "{}", text(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].starts_with("error: "), "{}", text(out));
    assert!(
        lines.iter().any(|l| l.trim_start().starts_with("hint: ")),
        "{}",
        text(out)
    );
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} missing: {}", text(out));
    }
}

fn entry<'a>(status: &'a Value, list: &str, key: &str, tx: &str) -> &'a Value {
    status[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e[key] == tx)
        .unwrap_or_else(|| panic!("{tx} not in {list}: {status}"))
}

#[tokio::test]
async fn deposit_and_withdraw_move_eth_both_ways_and_status_follows() {
    let env = Env::new("bridge-flow");
    up(&env, &[]);
    let l1 = rpc(&env, "l1");
    let l2 = rpc(&env, "l2-1");

    // Deposit 1.5 ETH from dev account 0 to itself: the L2 balance grows by exactly that (a
    // deposit pays no L2 gas).
    let l2_before = balance(&l2, DEV0).await;
    let dep = env.json(&["bridge", "deposit", "1.5"]);
    assert_eq!(dep["state"], "relayed", "{dep}");
    assert_eq!(dep["amount_wei"], milli(1500).to_string());
    let l2_tx = dep["l2_tx"].as_str().unwrap();
    let l1_tx = dep["l1_tx"].as_str().unwrap();
    assert_eq!(receipt(&l2, l2_tx).await["status"], "0x1");
    assert_eq!(receipt(&l1, l1_tx).await["status"], "0x1");
    assert_eq!(balance(&l2, DEV0).await - l2_before, milli(1500));

    // Withdraw 0.5 ETH to a fresh address: it ends with exactly 0.5 ETH on the L1; the L2
    // balance drops by 0.5 ETH and the initiating transaction's gas.
    let fresh = Address::repeat_byte(0x5a);
    assert_eq!(balance(&l1, fresh).await, U256::ZERO);
    let l2_before = balance(&l2, DEV0).await;
    let out = env.ok(&["bridge", "withdraw", "0.5", "--to", &fresh.to_string()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for step in ["initiated", "output", "proved", "finalized"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(step) && l.contains("0x")),
            "no {step} line with a hash: {}",
            text(&out)
        );
    }
    assert_eq!(balance(&l1, fresh).await, milli(500));
    let status = env.json(&["bridge", "status"]);
    let w = status["withdrawals"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{status}");
    assert_eq!(w[0]["state"], "finalized");
    assert_eq!(w[0]["to"], fresh.to_checksum(None));
    let initiate = w[0]["l2_tx"].as_str().unwrap();
    assert_eq!(
        l2_before - balance(&l2, DEV0).await,
        milli(500) + fee(&l2, initiate).await
    );
    assert!(stdout.contains(initiate));
    let d = entry(&status, "deposits", "l1_tx", l1_tx);
    assert_eq!(
        (d["state"].as_str(), d["l2_tx"].as_str()),
        (Some("relayed"), Some(l2_tx))
    );

    // One transaction: the L1 deposit, its L2 transaction, the withdrawal.
    for tx in [l1_tx, l2_tx] {
        let one = env.json(&["bridge", "status", tx]);
        assert_eq!(one["deposits"].as_array().unwrap().len(), 1, "{one}");
        assert_eq!(one["deposits"][0]["l2_tx"], l2_tx);
        assert!(one["withdrawals"].as_array().unwrap().is_empty());
    }
    let one = env.json(&["bridge", "status", initiate]);
    assert_eq!(one["withdrawals"][0]["state"], "finalized");
    let table = env.ok(&["bridge", "status"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.contains(initiate) && l.trim_end().ends_with("finalized")),
        "{table}"
    );

    // Inputs that are wrong say so with exit 2; a key without ETH gets exit 10.
    for bad in ["-1", "abc", "0", "0.0000000000000000001", "1.2.3"] {
        fails(&env.run(&["bridge", "deposit", bad]), 2, &["amount"]);
        fails(&env.run(&["bridge", "withdraw", bad]), 2, &["amount"]);
    }
    fails(
        &env.run(&["bridge", "deposit", "1", "--chain", "l2-9"]),
        2,
        &["no L2 \"l2-9\"", "l2-1 (901)"],
    );
    fails(
        &env.run(&["bridge", "withdraw", "1", "--chain", "l1"]),
        2,
        &["no L2 \"l1\""],
    );
    fails(
        &env.run(&["bridge", "deposit", "1", "--to", "0x12"]),
        2,
        &["not a valid address"],
    );
    fails(
        &env.run(&["bridge", "deposit", "1", "--from-key", "0x12"]),
        2,
        &["--from-key"],
    );
    let broke = format!("0x{}", "11".repeat(32));
    fails(
        &env.run(&["bridge", "deposit", "1", "--from-key", &broke]),
        10,
        &["0 ETH on the L1"],
    );
    fails(
        &env.run(&["bridge", "withdraw", "1", "--from-key", &broke]),
        10,
        &["0 ETH on l2-1"],
    );
    fails(
        &env.run(&["bridge", "deposit", "100000"]),
        10,
        &["not enough for 100000 ETH"],
    );
    fails(
        &env.run(&["bridge", "status", &format!("0x{}", "22".repeat(32))]),
        2,
        &["no deposit or withdrawal"],
    );
    fails(
        &env.run(&["bridge", "withdraw", "--tx", l2_tx]),
        2,
        &["initiated no withdrawal"],
    );
    fails(
        &env.run(&["bridge", "status", "0x1234"]),
        2,
        &["not a transaction hash"],
    );

    // A stopped devnet: exit 5.
    env.ok(&["down", "-q"]);
    fails(&env.run(&["bridge", "deposit", "1"]), 5, &["not running"]);
}

#[tokio::test]
async fn a_withdrawal_initiated_before_down_is_proven_and_finalized_after_up() {
    let env = Env::new("bridge-resume");
    up(&env, &[]);
    let l1 = rpc(&env, "l1");

    let started = env.json(&["bridge", "withdraw", "0.25", "--no-wait"]);
    assert!(
        started["prove"].is_null() && started["finalize"].is_null(),
        "{started}"
    );
    let initiate = started["initiate"]["l2_tx"].as_str().unwrap().to_owned();
    let state = &env.json(&["bridge", "status", &initiate])["withdrawals"][0]["state"];
    assert!(
        state == "waiting-to-prove" || state == "ready-to-prove",
        "{state}"
    );

    env.ok(&["down", "-q"]);
    env.ok(&["up", "-q"]);
    // Push the withdrawal's block out of the L2's state history (anvil keeps a bounded number
    // of past states): proving must not need that block's state.
    let l2 = rpc(&env, "l2-1");
    let provider = ProviderBuilder::new().connect_http(l2.parse().unwrap());
    let block = started["initiate"]["l2_block"].as_u64().unwrap();
    let mut mined = 0;
    loop {
        let old_state = provider
            .get_proof(
                opdev_opstack::predeploys::L2_TO_L1_MESSAGE_PASSER,
                Vec::new(),
            )
            .block_id(block.into())
            .await;
        if old_state.is_err() {
            break;
        }
        assert!(
            mined < 5_000,
            "the L2 still proves block {block} after {mined} more"
        );
        let _: Value = provider
            .raw_request("anvil_mine".into(), (U256::from(500),))
            .await
            .unwrap();
        mined += 500;
    }
    let l1_before = balance(&l1, DEV0).await;
    let done = env.json(&["bridge", "withdraw", "--tx", &initiate]);
    assert_eq!(done["state"], "finalized", "{done}");
    assert_eq!(done["withdrawal_hash"], started["withdrawal_hash"]);
    let prove = done["prove"]["l1_tx"].as_str().unwrap();
    let finalize = done["finalize"]["l1_tx"].as_str().unwrap();
    // Dev account 0 paid for both L1 transactions and received the amount.
    let gas = fee(&l1, prove).await + fee(&l1, finalize).await;
    assert_eq!(balance(&l1, DEV0).await + gas - l1_before, milli(250));
    assert_eq!(done["l1_received_wei"], (milli(250)).to_string());
    let status = env.json(&["bridge", "status", &initiate]);
    assert_eq!(status["withdrawals"][0]["state"], "finalized");

    // Finishing it again proves and pays nothing more.
    let again = env.json(&["bridge", "withdraw", "--tx", &initiate]);
    assert_eq!(again["state"], "finalized");
    assert!(
        again["prove"].is_null() && again["finalize"].is_null(),
        "{again}"
    );
}

#[tokio::test]
async fn a_devnet_without_bridge_or_without_devnet_is_named() {
    let env = Env::new("bridge-none");
    fails(&env.run(&["bridge", "status"]), 3, &["does not exist"]);
    up(&env, &["--no-bridge"]);
    for args in [
        &["bridge", "deposit", "1"][..],
        &["bridge", "withdraw", "1"],
        &["bridge", "status"],
    ] {
        fails(&env.run(args), 2, &["has no bridge", "--bridge true"]);
    }
}

/// GET `url`: the status and the body.
pub(crate) async fn get(url: &str) -> (u16, String) {
    let r = alloy::transports::http::reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The explorer's JSON of transaction `tx` of chain `chain`, once `ready` holds of it (the
/// indexer follows the chains a block or so behind).
pub(crate) async fn explorer_tx(
    explorer: &str,
    chain: u64,
    tx: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let url = format!("{explorer}/api/chains/{chain}/tx/{tx}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (code, body) = get(&url).await;
        if code == 200 {
            let v: Value = serde_json::from_str(&body).unwrap();
            if ready(&v) {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "{url}: {v}");
        } else {
            assert!(
                code == 404 && std::time::Instant::now() < deadline,
                "{url}: {code} {body}"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn the_explorer_links_deposits_and_withdrawals_to_their_l1_transactions() {
    let env = Env::new("bridge-explorer");
    env.ok(&[
        "up",
        "-q",
        "--ports",
        "auto",
        "--no-faucet",
        "--no-monitoring",
        "--finalization-period",
        "2",
    ]);
    let status = env.status();
    let explorer = status["explorer"]["url"]
        .as_str()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let l1_id = status["endpoints"]["l1"]["chain_id"].as_u64().unwrap();
    let l2_id = status["endpoints"]["l2"][0]["chain_id"].as_u64().unwrap();

    // A deposit: the L2 transaction names the L1 one, the L1 one names the L2 one, on the page
    // as links.
    let dep = env.json(&["bridge", "deposit", "0.25"]);
    let (l1_tx, l2_tx) = (
        dep["l1_tx"].as_str().unwrap(),
        dep["l2_tx"].as_str().unwrap(),
    );
    let on_l2 = explorer_tx(&explorer, l2_id, l2_tx, |v| {
        v["bridge"]["deposit_origin"].is_object()
    })
    .await;
    assert_eq!(on_l2["bridge"]["deposit_kind"], "user", "{on_l2}");
    let origin = &on_l2["bridge"]["deposit_origin"];
    assert_eq!(
        (origin["chain_id"].as_u64(), origin["tx_hash"].as_str()),
        (Some(l1_id), Some(l1_tx)),
        "{on_l2}"
    );
    let on_l1 = explorer_tx(&explorer, l1_id, l1_tx, |v| {
        v["bridge"]["deposits"][0]["l2_tx_hash"].is_string()
    })
    .await;
    let made = &on_l1["bridge"]["deposits"][0];
    assert_eq!(
        (made["l2_chain_id"].as_u64(), made["l2_tx_hash"].as_str()),
        (Some(l2_id), Some(l2_tx)),
        "{on_l1}"
    );
    let (_, page) = get(&format!("{explorer}/chains/{l2_id}/tx/{l2_tx}")).await;
    assert!(
        page.contains(&format!("href=\"/chains/{l1_id}/tx/{l1_tx}\"")),
        "{page}"
    );
    let (_, page) = get(&format!("{explorer}/chains/{l1_id}/tx/{l1_tx}")).await;
    assert!(
        page.contains(&format!("href=\"/chains/{l2_id}/tx/{l2_tx}\"")),
        "{page}"
    );
    // A deposit of the depositor account (the L1 attributes, the predeploys' setup) is a
    // system deposit with no L1 transaction.
    let depositor = opdev_opstack::predeploys::DEPOSITOR_ACCOUNT
        .to_string()
        .to_lowercase();
    let deposit_block = on_l2["transaction"]["block_number"].as_i64().unwrap();
    let mut system = None;
    for n in (0..=deposit_block).rev() {
        let (_, body) = get(&format!("{explorer}/api/chains/{l2_id}/blocks/{n}")).await;
        let block: Value = serde_json::from_str(&body).unwrap();
        system = block["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["from"] == depositor.as_str())
            .map(|t| t["hash"].as_str().unwrap().to_owned());
        if system.is_some() {
            break;
        }
    }
    let system = system.expect("a deposit of the depositor account");
    let system = explorer_tx(&explorer, l2_id, &system, |_| true).await;
    assert_eq!(system["bridge"]["deposit_kind"], "system", "{system}");
    assert!(system["bridge"]["deposit_origin"].is_null(), "{system}");

    // A withdrawal: its state as it moves, and the L1 transactions that proved and finalized it.
    let started = env.json(&["bridge", "withdraw", "0.1", "--no-wait"]);
    let initiate = started["initiate"]["l2_tx"].as_str().unwrap().to_owned();
    let hash = started["withdrawal_hash"].as_str().unwrap().to_owned();
    let before = explorer_tx(&explorer, l2_id, &initiate, |v| {
        v["bridge"]["withdrawals"].is_array()
    })
    .await;
    let w = &before["bridge"]["withdrawals"][0];
    assert_eq!(w["hash"], hash.as_str(), "{before}");
    assert!(
        w["state"] == "waiting-to-prove" || w["state"] == "ready-to-prove",
        "{before}"
    );
    assert_eq!(w["proven"].as_array().map(Vec::len), Some(0), "{before}");
    let done = env.json(&["bridge", "withdraw", "--tx", &initiate]);
    let prove = done["prove"]["l1_tx"].as_str().unwrap();
    let finalize = done["finalize"]["l1_tx"].as_str().unwrap();
    let after = explorer_tx(&explorer, l2_id, &initiate, |v| {
        v["bridge"]["withdrawals"][0]["finalized"].is_object()
    })
    .await;
    let w = &after["bridge"]["withdrawals"][0];
    assert_eq!(w["state"], "finalized", "{after}");
    assert_eq!(w["proven"][0]["tx_hash"], prove, "{after}");
    assert_eq!(w["finalized"]["tx_hash"], finalize, "{after}");
    assert_eq!(w["finalized_success"], true, "{after}");
    let (_, page) = get(&format!("{explorer}/chains/{l2_id}/tx/{initiate}")).await;
    for needle in [
        "<strong class=\"withdrawal-state\">finalized</strong>".to_owned(),
        format!("href=\"/chains/{l1_id}/tx/{prove}\""),
        format!("href=\"/chains/{l1_id}/tx/{finalize}\""),
    ] {
        assert!(page.contains(&needle), "{needle} missing: {page}");
    }
}
