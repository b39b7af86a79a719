//! The full profile end to end on real programs: anvil as the L1 with the Bedrock contracts, and
//! per L2 op-geth, op-node, op-batcher and op-proposer built from the optimism Go module. One
//! long scenario, as a user lives it: ready with safe heads advancing → smoke → a deposit made on
//! the L1 portal appears on the L2 through derivation (and in the explorer as a deposit) → the
//! faucet pays on the L2 → viem's OP Stack actions deposit, withdraw, prove and finalize →
//! kill -9 of op-node, op-geth, op-batcher, op-proposer and the L1 → the safe head advances again
//! and no safe L2 block is lost → `down`/`up` → heads at least where they were, the Counter
//! intact, the safe head advancing → purge (when the test's home is dropped).

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, Bytes, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol,
    sol_types::SolCall,
};
use serde_json::Value;

use crate::{
    bridge::explorer_tx,
    relay::{KEYS, step, viem},
    support::{Env, alive, eventually},
};

sol! {
    interface IPortal {
        function depositTransaction(address _to, uint256 _value, uint64 _gasLimit, bool _isCreation, bytes _data) external payable;
    }
    interface ICounter {
        function number() external view returns (uint256);
    }
}

/// Each L2's rollup status from `status --json`.
fn rollup(env: &Env) -> Vec<Value> {
    env.status()["rollup"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The safe head of every L2.
fn safe_heads(env: &Env) -> Vec<u64> {
    rollup(env)
        .iter()
        .map(|r| r["safe"].as_u64().unwrap_or(0))
        .collect()
}

/// Waits until every L2's safe head has passed `past` (one entry per L2).
async fn safe_heads_pass(env: &Env, past: &[u64], secs: u64, what: &str) {
    let passed = eventually(secs, async || {
        let now = safe_heads(env);
        now.len() == past.len() && now.iter().zip(past).all(|(n, p)| n > p)
    })
    .await;
    assert!(
        passed,
        "{what}: the safe heads did not pass {past:?} within {secs} s: {:#}",
        env.status()["rollup"]
    );
}

/// Kills `service` with SIGKILL and waits until the supervisor has it ready again.
async fn kill_and_wait(env: &Env, service: &str) {
    let before = env.service(service);
    let (old, restarts) = (
        before["pid"].as_u64().unwrap(),
        before["restarts"].as_u64().unwrap(),
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(old as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let back = eventually(120, async || {
        let s = env.service(service);
        s["state"] == "ready"
            && s["restarts"].as_u64() > Some(restarts)
            && s["pid"].as_u64() != Some(old)
    })
    .await;
    assert!(
        back,
        "{service} was not restarted: {}",
        env.service(service)
    );
    assert!(!alive(old));
}

async fn block_hash(rpc: &str, number: u64) -> Option<alloy::primitives::B256> {
    ProviderBuilder::new()
        .connect_http(rpc.parse().unwrap())
        .get_block_by_number(number.into())
        .await
        .unwrap()
        .map(|b| b.header.hash)
}

/// `number()` of the Counter at `counter` on the chain at `rpc`.
async fn counter_number(rpc: &str, counter: Address) -> U256 {
    let provider = ProviderBuilder::new().connect_http(rpc.parse().unwrap());
    let answer = provider
        .call(
            TransactionRequest::default()
                .with_to(counter)
                .with_input(ICounter::numberCall {}.abi_encode()),
        )
        .await
        .unwrap();
    ICounter::numberCall::abi_decode_returns(&answer).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_devnet_derives_bridges_survives_kills_and_resumes() {
    let env = Env::new("full");
    env.ok(&[
        "up",
        "-q",
        "--profile",
        "full",
        "--l2",
        "2",
        "--ports",
        "auto",
        "--finalization-period",
        "3",
    ]);
    let status = env.status();
    assert_eq!(status["profile"], "full");
    for service in status["services"].as_array().unwrap() {
        assert!(
            service["ready"] == true,
            "{} is not ready: {service}",
            service["name"]
        );
    }
    let first = safe_heads(&env);
    assert_eq!(first.len(), 2, "{status}");
    assert!(
        first.iter().all(|s| *s > 0),
        "ready means safe heads above genesis: {first:?}"
    );

    // Smoke: a Counter deployed and incremented on every chain.
    let smoke = env.json(&["smoke"]);
    assert_eq!(smoke["ok"], true, "{smoke}");
    let counter: Address = smoke["chains"][1]["report"]["counter"]
        .as_str()
        .expect("smoke names its contract")
        .parse()
        .unwrap();

    let endpoints = &status["endpoints"];
    let l1 = endpoints["l1"]["rpc"].as_str().unwrap().to_owned();
    let l1_id = endpoints["l1"]["chain_id"].as_u64().unwrap();
    let l2s: Vec<String> = endpoints["l2"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rpc"].as_str().unwrap().to_owned())
        .collect();
    let l2_id = endpoints["l2"][0]["chain_id"].as_u64().unwrap();

    // A deposit made on the second L2's portal with a plain L1 transaction: op-node derives it.
    let portal: Address = endpoints["l2"][1]["l1_contracts"]["OptimismPortal"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let to = Address::repeat_byte(0x5a);
    let value = U256::from(1_234_567_890_000_000u64);
    let signer: PrivateKeySigner = KEYS[3].parse().unwrap();
    let wallet = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(l1.parse().unwrap());
    let input = IPortal::depositTransactionCall {
        _to: to,
        _value: value,
        _gasLimit: 100_000,
        _isCreation: false,
        _data: Bytes::new(),
    }
    .abi_encode();
    let receipt = wallet
        .send_transaction(
            TransactionRequest::default()
                .with_to(portal)
                .with_value(value)
                .with_input(input),
        )
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status(), "the portal took the deposit");
    let l2b = ProviderBuilder::new().connect_http(l2s[1].parse().unwrap());
    let arrived = eventually(60, async || {
        l2b.get_balance(to).await.unwrap_or_default() == value
    })
    .await;
    assert!(arrived, "the deposit was not derived onto l2-2 within 60 s");

    // The faucet pays on an op-geth L2 (its account is funded in the L2's genesis).
    let faucet = status["faucet"]["url"].as_str().unwrap().to_owned();
    let claimer = Address::repeat_byte(0x6b);
    let claim = alloy::transports::http::reqwest::Client::new()
        .post(format!("{faucet}/api/claim"))
        .json(&serde_json::json!({ "address": claimer.to_string(), "chain_id": l2_id }))
        .send()
        .await
        .unwrap();
    assert!(
        claim.status().is_success(),
        "faucet claim: {} {}",
        claim.status(),
        claim.text().await.unwrap_or_default()
    );
    let l2a = ProviderBuilder::new().connect_http(l2s[0].parse().unwrap());
    assert!(
        eventually(30, async || l2a
            .get_balance(claimer)
            .await
            .unwrap_or_default()
            > U256::ZERO)
        .await,
        "the faucet's transfer did not land on l2-1"
    );

    // viem's OP Stack actions: deposit, withdraw, prove against op-proposer's game, finalize.
    let lines = viem(&status, KEYS[2], &[]);
    assert_eq!(step(&lines, "deposit")["gained"], "1000000000000000000");
    assert_eq!(step(&lines, "prove")["status"], "waiting-to-finalize");
    assert_eq!(step(&lines, "finalize")["status"], "finalized");
    assert_eq!(step(&lines, "received")["received"], "500000000000000000");

    // The explorer shows viem's deposit on l2-1 as a user deposit made by its L1 transaction.
    let explorer = status["explorer"]["url"].as_str().unwrap().to_owned();
    let deposit = step(&lines, "deposit");
    let (l1_tx, l2_tx) = (
        deposit["l1"].as_str().unwrap().to_owned(),
        deposit["l2"].as_str().unwrap().to_owned(),
    );
    let on_l2 = explorer_tx(&explorer, l2_id, &l2_tx, |v| {
        v["bridge"]["deposit_origin"].is_object()
    })
    .await;
    assert_eq!(on_l2["bridge"]["deposit_kind"], "user", "{on_l2}");
    assert_eq!(on_l2["bridge"]["deposit_origin"]["chain_id"], l1_id);
    assert_eq!(on_l2["bridge"]["deposit_origin"]["tx_hash"], l1_tx);

    // Kills: each program of l2-1, then the L1. After each the safe heads advance again, and
    // the block the L2 had as safe before is still the same block.
    for service in ["l2-1-node", "l2-1", "l2-1-batcher", "l2-1-proposer", "l1"] {
        let safe = safe_heads(&env);
        let hash = block_hash(&l2s[0], safe[0]).await;
        kill_and_wait(&env, service).await;
        safe_heads_pass(&env, &safe, 90, &format!("after kill -9 of {service}")).await;
        assert_eq!(
            block_hash(&l2s[0], safe[0]).await,
            hash,
            "l2-1's safe block {} changed after kill -9 of {service}",
            safe[0]
        );
    }
    // The batchers follow the L1's restarts (op-batcher does not notice batches an L1 back
    // from its saved state forgot): l2-2's, never killed itself, was started a second time.
    let log = std::fs::read_to_string(env.devnet_dir().join("logs/l2-2-batcher.log")).unwrap();
    assert!(
        log.contains("(start #2)"),
        "l2-2-batcher was not restarted after the L1"
    );
    // op-proposer still proposes after the L1 came back from its saved state.
    let proposed = eventually(60, async || {
        rollup(&env).iter().all(|r| {
            r["proposer"]["last_l1_tx"]["age_secs"]
                .as_u64()
                .is_some_and(|a| a < 10)
        })
    })
    .await;
    assert!(proposed, "no recent proposal: {:#}", env.status()["rollup"]);

    // Per-service operations: logs, restart, and deploy of a program of one's own (a copy of
    // op-proposer) which the supervisor runs from then on.
    let logs = crate::support::text(&env.ok(&["logs", "l2-1-node", "--tail", "5"]));
    assert!(logs.contains("lvl="), "op-node's log: {logs}");
    env.ok(&["restart", "l2-1-batcher"]);
    assert_eq!(env.service("l2-1-batcher")["state"], "ready");
    let built = env.service("l2-1-proposer")["binary"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = env.home.path().join("my-op-proposer");
    std::fs::copy(&built, &own).unwrap();
    env.ok(&["deploy", "l2-1-proposer", "--binary", own.to_str().unwrap()]);
    let deployed = env.service("l2-1-proposer");
    assert_eq!(deployed["binary"], own.to_str().unwrap(), "{deployed}");
    assert_eq!(deployed["state"], "ready");

    // down/up: heads at least where they were, the Counter intact, the safe head advancing.
    let before: Vec<u64> = rollup(&env)
        .iter()
        .map(|r| r["unsafe"].as_u64().unwrap())
        .collect();
    let safe_before = safe_heads(&env);
    let number_before = counter_number(&l2s[0], counter).await;
    env.ok(&["down"]);
    assert!(
        env.status()["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["pid"].is_null())
    );
    env.ok(&["up", "-q"]);
    let after = rollup(&env);
    for (i, r) in after.iter().enumerate() {
        assert!(
            r["unsafe"].as_u64().unwrap() >= before[i],
            "{} went back: {before:?} → {r}",
            r["l2"]
        );
    }
    safe_heads_pass(&env, &safe_before, 60, "after down/up").await;
    let number_after = counter_number(&l2s[0], counter).await;
    assert_eq!(number_after, number_before);
    assert!(number_after >= U256::from(1));
    assert_eq!(
        l2b.get_balance(to).await.unwrap(),
        value,
        "the deposit is still there"
    );
}
