//! Failures of the chain: an unreachable node (502, recorded as failed, not counted) and a
//! faucet too poor to pay (503).

use std::time::Duration;

use alloy::primitives::utils::parse_ether;
use opdev_faucet::{Outcome, client};

use crate::common::{Env, Faucet, claim_body, limits, post_claim, random_address};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_down_is_502_recorded_failed_and_not_counted() {
    let mut env = Env::start().await;
    let faucet = Faucet::start(env.config(limits((1, 3600), (1, 3600)))).await;
    let url = faucet.url();
    let address = random_address();

    env.anvil.stop();
    let answer = post_claim(&url, claim_body(address), None).await;
    assert_eq!(answer.status, 502, "{}", answer.text);
    assert_eq!(answer.json["error"], "node_unreachable");
    let history = client::history(&url, Some(address), None).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].outcome, Outcome::Failed);
    assert!(history[0].tx_hash.is_none());
    assert!(
        history[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("reach the node"))
    );

    // The node comes back (empty chain): neither the address nor the IP limit counted the failure.
    env.anvil.start_again();
    env.set_balance(env.signer.address(), parse_ether("10").unwrap())
        .await;
    let again = post_claim(&url, claim_body(address), None).await;
    assert_eq!(again.status, 200, "{}", again.text);
    let hash = again.json["tx_hash"].as_str().unwrap().parse().unwrap();
    let receipt = client::wait_for_receipt(&env.anvil.url(), hash, Duration::from_secs(20))
        .await
        .unwrap();
    assert!(receipt.status());
    assert_eq!(env.balance(address).await, parse_ether("1").unwrap());
    faucet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_stopped_while_claims_are_in_flight() {
    let mut env = Env::start().await;
    let faucet = Faucet::start(env.config(limits((1, 3600), (1000, 3600)))).await;
    let url = faucet.url();
    let addresses: Vec<_> = (0..40).map(|_| random_address()).collect();

    let claims = futures::future::join_all(
        addresses
            .iter()
            .map(|a| post_claim(&url, claim_body(*a), None)),
    );
    let stopper = async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        tokio::task::block_in_place(|| env.anvil.stop());
    };
    let (answers, ()) = tokio::join!(claims, stopper);
    for (a, answer) in addresses.iter().zip(&answers) {
        assert!(
            answer.status == 200 || answer.status == 502,
            "{a}: {} {}",
            answer.status,
            answer.text
        );
    }
    let history = client::history(&url, None, Some(1000)).await.unwrap();
    assert_eq!(history.len(), addresses.len());
    for record in &history {
        let answer = &answers[addresses.iter().position(|a| *a == record.address).unwrap()];
        let expected = if answer.status == 200 {
            Outcome::Sent
        } else {
            Outcome::Failed
        };
        assert_eq!(record.outcome, expected, "{}", record.address);
    }
    assert!(
        answers.iter().any(|a| a.status == 502),
        "the node was stopped before the last claim"
    );
    faucet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balance_too_low_is_503() {
    let env = Env::start().await;
    env.set_balance(env.signer.address(), parse_ether("0.5").unwrap())
        .await;
    let faucet = Faucet::start(env.config(limits((1, 3600), (1, 3600)))).await;
    let url = faucet.url();
    let address = random_address();

    let answer = post_claim(&url, claim_body(address), None).await;
    assert_eq!(answer.status, 503, "{}", answer.text);
    assert_eq!(answer.json["error"], "insufficient_funds");
    assert!(
        answer.json["message"]
            .as_str()
            .unwrap()
            .contains("balance is too low")
    );
    assert_eq!(env.faucet_nonce().await, 0);
    let history = client::history(&url, Some(address), None).await.unwrap();
    assert_eq!(history[0].outcome, Outcome::Failed);

    // Refilled, the same address (and client) may claim: the failure did not count.
    env.set_balance(env.signer.address(), parse_ether("5").unwrap())
        .await;
    let again = post_claim(&url, claim_body(address), None).await;
    assert_eq!(again.status, 200, "{}", again.text);
    faucet.stop().await;
}
