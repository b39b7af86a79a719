//! The claim path: many simultaneous claims each get their own nonce and are all mined; the
//! nonce manager recovers when someone else used the faucet's key.

use std::{collections::HashSet, time::Duration};

use alloy::{
    consensus::Transaction as _,
    network::{EthereumWallet, TransactionBuilder},
    primitives::{U256, utils::parse_ether},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
};
use opdev_faucet::{Outcome, client};

use crate::common::{CHAIN_ID, Env, Faucet, limits, random_address};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_for_distinct_addresses_all_mine_with_distinct_nonces() {
    const N: usize = 200;
    let env = Env::start().await;
    let before = env.balance(env.signer.address()).await;
    let faucet = Faucet::start(env.config(limits((1, 3600), (10_000, 3600)))).await;
    let url = faucet.url();
    let addresses: Vec<_> = (0..N).map(|_| random_address()).collect();

    let answers =
        futures::future::join_all(addresses.iter().map(|a| client::claim(&url, *a, CHAIN_ID)))
            .await;
    let answers: Vec<_> = answers
        .into_iter()
        .enumerate()
        .map(|(i, a)| a.unwrap_or_else(|e| panic!("claim {i} failed: {e}")))
        .collect();
    let hashes: HashSet<_> = answers.iter().map(|a| a.tx_hash).collect();
    assert_eq!(hashes.len(), N, "every claim has its own transaction");

    let rpc = env.anvil.url();
    let mut nonces = HashSet::new();
    let mut fees = U256::ZERO;
    for answer in &answers {
        assert_eq!(answer.chain_id, CHAIN_ID);
        assert_eq!(answer.amount, parse_ether("1").unwrap().to_string());
        let receipt = client::wait_for_receipt(&rpc, answer.tx_hash, Duration::from_secs(20))
            .await
            .expect("mined");
        assert!(receipt.status(), "transfer {} succeeded", answer.tx_hash);
        assert_eq!(receipt.from, env.signer.address());
        fees += U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
        let tx = env
            .provider()
            .get_transaction_by_hash(answer.tx_hash)
            .await
            .unwrap()
            .expect("transaction known");
        assert!(nonces.insert(tx.inner.nonce()), "nonce used twice");
    }
    let expected: HashSet<u64> = (0..N as u64).collect();
    assert_eq!(nonces, expected, "nonces 0..{N}, each once");
    assert_eq!(env.faucet_nonce().await, N as u64);
    for a in &addresses {
        assert_eq!(env.balance(*a).await, parse_ether("1").unwrap(), "{a}");
    }
    let after = env.balance(env.signer.address()).await;
    assert_eq!(
        before - after,
        parse_ether("1").unwrap() * U256::from(N) + fees
    );

    let history = client::history(&url, None, Some(1000)).await.unwrap();
    assert_eq!(history.len(), N);
    assert!(history.iter().all(|r| r.outcome == Outcome::Sent));
    let recorded: HashSet<_> = history.iter().filter_map(|r| r.tx_hash).collect();
    assert_eq!(recorded, hashes);
    faucet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonce_manager_resyncs_after_the_key_was_used_elsewhere() {
    let env = Env::start().await;
    let faucet = Faucet::start(env.config(limits((1, 3600), (100, 3600)))).await;
    let url = faucet.url();

    let first = client::claim(&url, random_address(), CHAIN_ID)
        .await
        .unwrap();
    // Someone else spends the faucet's next nonce right away (within the faucet's idle resync).
    let other = ProviderBuilder::new()
        .wallet(EthereumWallet::from(env.signer.clone()))
        .connect_http(env.anvil.url().parse().unwrap());
    other
        .send_transaction(
            TransactionRequest::default()
                .with_to(random_address())
                .with_value(U256::from(1))
                .with_nonce(1),
        )
        .await
        .expect("external transfer sent")
        .get_receipt()
        .await
        .unwrap();
    let second = client::claim(&url, random_address(), CHAIN_ID)
        .await
        .expect("claim succeeds after a nonce error");
    let rpc = env.anvil.url();
    for hash in [first.tx_hash, second.tx_hash] {
        let receipt = client::wait_for_receipt(&rpc, hash, Duration::from_secs(20))
            .await
            .unwrap();
        assert!(receipt.status());
    }
    assert_eq!(env.faucet_nonce().await, 3);
    faucet.stop().await;
}
