//! Rate limits: per address and per client IP, each with its own window, refused with 429 and
//! Retry-After, kept in PostgreSQL across a restart of the faucet.

use std::time::Duration;

use opdev_faucet::client::{self, ClientError};

use crate::common::{CHAIN_ID, Env, Faucet, claim_body, limits, post_claim, random_address};

fn retry_after(answer: &crate::common::Answer) -> u64 {
    answer
        .headers
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_claim_inside_the_address_window_is_refused_and_accepted_after_it() {
    let env = Env::start().await;
    let faucet = Faucet::start(env.config(limits((1, 2), (100, 3600)))).await;
    let url = faucet.url();
    let address = random_address();

    let first = post_claim(&url, claim_body(address), None).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let second = post_claim(&url, claim_body(address), None).await;
    assert_eq!(second.status, 429, "{}", second.text);
    assert_eq!(second.json["error"], "rate_limited");
    let wait = retry_after(&second);
    assert!(
        (1..=2).contains(&wait),
        "Retry-After {wait} within the 2 s window"
    );
    assert_eq!(second.json["retry_after"], wait);
    // Another address is not affected.
    let other = post_claim(&url, claim_body(random_address()), None).await;
    assert_eq!(other.status, 200, "{}", other.text);

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let third = post_claim(&url, claim_body(address), None).await;
    assert_eq!(third.status, 200, "after the window: {}", third.text);
    assert_ne!(third.json["tx_hash"], first.json["tx_hash"]);
    assert_eq!(env.faucet_nonce().await, 3);
    faucet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_limit_follows_x_forwarded_for_when_trusted() {
    let env = Env::start().await;
    let config = env
        .config(limits((1, 3600), (2, 3600)))
        .with_trust_forwarded_for(true);
    let faucet = Faucet::start(config).await;
    let url = faucet.url();

    for _ in 0..2 {
        let ok = post_claim(&url, claim_body(random_address()), Some("10.0.0.1")).await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
    let refused = post_claim(&url, claim_body(random_address()), Some("10.0.0.1")).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert!(
        refused.json["message"]
            .as_str()
            .unwrap()
            .contains("10.0.0.1")
    );
    let wait = retry_after(&refused);
    assert!((3000..=3600).contains(&wait), "Retry-After {wait}");
    // Another client (the right-most entry is the one the proxy saw).
    let other = post_claim(
        &url,
        claim_body(random_address()),
        Some("10.0.0.1, 10.0.0.2"),
    )
    .await;
    assert_eq!(other.status, 200, "{}", other.text);

    let history = client::history(&url, None, None).await.unwrap();
    let ips: Vec<String> = history.iter().map(|r| r.client_ip.to_string()).collect();
    assert_eq!(ips, ["10.0.0.2", "10.0.0.1", "10.0.0.1"]);
    faucet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_is_ignored_unless_trusted() {
    let env = Env::start().await;
    let faucet = Faucet::start(env.config(limits((1, 3600), (2, 3600)))).await;
    let url = faucet.url();

    for ip in ["10.0.0.1", "10.0.0.2"] {
        let ok = post_claim(&url, claim_body(random_address()), Some(ip)).await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
    let refused = post_claim(&url, claim_body(random_address()), Some("10.0.0.3")).await;
    assert_eq!(
        refused.status, 429,
        "the header changed nothing: {}",
        refused.text
    );
    assert!(
        refused.json["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1")
    );
    let history = client::history(&url, None, None).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(
        history
            .iter()
            .all(|r| r.client_ip.to_string() == "127.0.0.1")
    );
    faucet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_survive_a_restart_of_the_faucet() {
    let env = Env::start().await;
    let config = env.config(limits((1, 3600), (2, 3600)));
    let address = random_address();

    let faucet = Faucet::start(config.clone()).await;
    let first = client::claim(&faucet.url(), address, CHAIN_ID).await;
    assert!(first.is_ok(), "{first:?}");
    let old_addr = faucet.addr();
    faucet.stop().await;

    let faucet = Faucet::start(config).await;
    assert_ne!(faucet.addr(), old_addr, "a new server");
    match client::claim(&faucet.url(), address, CHAIN_ID).await {
        Err(ClientError::Refused {
            status: 429,
            code,
            retry_after: Some(secs),
            ..
        }) => {
            assert_eq!(code, "rate_limited");
            assert!(secs > 3500, "the window still runs: {secs}");
        }
        other => panic!("expected 429 after restart, got {other:?}"),
    }
    // The IP limit (2) remembers the first claim too: one more, then refused.
    assert!(
        client::claim(&faucet.url(), random_address(), CHAIN_ID)
            .await
            .is_ok()
    );
    assert!(matches!(
        client::claim(&faucet.url(), random_address(), CHAIN_ID).await,
        Err(ClientError::Refused { status: 429, .. })
    ));
    faucet.stop().await;
}
