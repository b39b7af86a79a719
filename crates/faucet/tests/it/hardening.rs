//! What the adversarial probe found, each checked against a real faucet: made-up chain ids do not
//! grow `/metrics`, every loopback address is one client, answers match the docs (EIP-55
//! addresses, 400 for a form with a missing field, JSON/HTML bodies on 404 and 405, `limit`
//! out of range refused), the zero address is refused, and claims a crash left pending are
//! settled at start.

use std::net::{IpAddr, Ipv4Addr};

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, U256, utils::parse_ether},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
};
use opdev_faucet::{Outcome, client};
use serde_json::json;

use crate::common::{
    CHAIN_ID, Env, Faucet, claim_body, http, limits, post_claim, random_address, send,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_chains_do_not_grow_the_metrics() {
    let env = Env::start().await;
    let faucet = Faucet::start(env.config(limits((1, 3600), (1000, 3600)))).await;
    let url = faucet.url();
    let metrics = || async { send(http().get(format!("{url}/metrics"))).await.text };
    let address = random_address();
    let before = metrics().await;
    let mut middle = String::new();
    for i in 0..300u64 {
        if i == 150 {
            middle = metrics().await;
        }
        let chain_id = 1_000_000 + i * 7919;
        let answer = post_claim(
            &url,
            json!({ "address": address.to_string(), "chain_id": chain_id }),
            None,
        )
        .await;
        assert_eq!(answer.status, 400, "{}", answer.text);
        assert_eq!(answer.json["error"], "unknown_chain");
    }
    let after = metrics().await;
    assert!(
        after.contains(r#"faucet_claims_total{chain_id="unknown",outcome="invalid"} 300"#),
        "{after}"
    );
    // (Looked for as a label value: a float such as the duration sum 0.008064451000000002
    // can hold the digits too.)
    assert!(
        !after.contains(r#"chain_id="1000"#),
        "a client's chain id became a label: {after}"
    );
    // The only growth is the one `unknown` series and longer numbers: 150 more made-up chains
    // add a few digits, not 150 series.
    assert!(
        after.len() < before.len() + 500,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
    assert!(
        after.len() < middle.len() + 50,
        "150 more unknown chains grew /metrics from {} to {} bytes",
        middle.len(),
        after.len()
    );
    faucet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_loopback_address_is_one_client() {
    let env = Env::start().await;
    let faucet = Faucet::start(env.config(limits((1, 3600), (2, 3600)))).await;
    let url = faucet.url();
    let from = |ip: [u8; 4]| {
        alloy::transports::http::reqwest::Client::builder()
            .local_address(IpAddr::V4(Ipv4Addr::from(ip)))
            .build()
            .unwrap()
    };
    for ip in [[127, 0, 0, 1], [127, 0, 0, 2]] {
        let answer = send(
            from(ip)
                .post(format!("{url}/api/claim"))
                .json(&claim_body(random_address())),
        )
        .await;
        assert_eq!(answer.status, 200, "{ip:?}: {}", answer.text);
    }
    // The limit (2) is reached by 127.0.0.1 and 127.0.0.2 together: 127.0.0.3 is refused too.
    for ip in [[127, 0, 0, 3], [127, 0, 0, 1], [127, 1, 2, 3]] {
        let answer = send(
            from(ip)
                .post(format!("{url}/api/claim"))
                .json(&claim_body(random_address())),
        )
        .await;
        assert_eq!(answer.status, 429, "{ip:?}: {}", answer.text);
        assert!(
            answer.json["message"]
                .as_str()
                .unwrap()
                .contains("127.0.0.1"),
            "{}",
            answer.text
        );
    }
    let history = client::history(&url, None, None).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(
        history
            .iter()
            .all(|r| r.client_ip == IpAddr::V4(Ipv4Addr::LOCALHOST))
    );
    assert_eq!(env.faucet_nonce().await, 2);
    faucet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_match_the_docs() {
    let env = Env::start().await;
    let faucet = Faucet::start(env.config(limits((1, 3600), (1000, 3600)))).await;
    let url = faucet.url();
    let address = random_address();
    let answer = post_claim(&url, claim_body(address), None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);

    // EIP-55 in /api/history and /api/info, as docs/faucet.md says.
    let history = send(http().get(format!("{url}/api/history"))).await;
    assert_eq!(
        history.json["claims"][0]["address"],
        address.to_checksum(None),
        "{}",
        history.text
    );
    let info = send(http().get(format!("{url}/api/info"))).await;
    assert_eq!(info.json["address"], env.signer.address().to_checksum(None));

    // limit: 1 to 1000, anything else refused.
    for limit in ["0", "1001", "-1", "abc", "99999999999999999999"] {
        let a = send(http().get(format!("{url}/api/history?limit={limit}"))).await;
        assert_eq!(a.status, 400, "limit={limit}: {}", a.text);
        assert_eq!(a.json["error"], "bad_query", "limit={limit}");
    }
    for (limit, n) in [("1", 1), ("1000", 1)] {
        let a = send(http().get(format!("{url}/api/history?limit={limit}"))).await;
        assert_eq!(a.json["claims"].as_array().unwrap().len(), n);
    }

    // The form answers a missing field with 400, as the JSON API does.
    for body in [
        "address=",
        "chain_id=901",
        "",
        "address=0x12&chain_id=901&chain_id=902",
    ] {
        let form = send(
            http()
                .post(format!("{url}/claim"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await;
        assert_eq!(form.status, 400, "{body:?}: {}", form.text);
        assert!(form.text.starts_with("<!doctype html>"), "{}", form.text);
    }
    let api = post_claim(&url, json!({ "chain_id": CHAIN_ID }), None).await;
    assert_eq!(api.status, 400);
    let wrong_type = send(http().post(format!("{url}/claim")).body("address=x")).await;
    assert_eq!(wrong_type.status, 415, "{}", wrong_type.text);
    assert!(wrong_type.text.starts_with("<!doctype html>"));

    // 404 and 405: JSON under /api, a page elsewhere.
    for (method, path, status) in [
        ("GET", "/api/nope", 404),
        ("GET", "/api/claim", 405),
        ("PUT", "/api/history", 405),
        ("DELETE", "/metrics", 405),
    ] {
        let a = send(http().request(method.parse().unwrap(), format!("{url}{path}"))).await;
        assert_eq!(a.status, status, "{method} {path}");
        assert_eq!(
            a.json["error"],
            if status == 404 {
                "not_found"
            } else {
                "method_not_allowed"
            },
            "{method} {path}: {}",
            a.text
        );
        assert!(a.json["message"].is_string());
    }
    for (method, path, status) in [
        ("GET", "/nope", 404),
        ("GET", "/claim", 405),
        ("POST", "/", 405),
    ] {
        let a = send(http().request(method.parse().unwrap(), format!("{url}{path}"))).await;
        assert_eq!(a.status, status, "{method} {path}");
        assert!(
            a.text.starts_with("<!doctype html>"),
            "{method} {path}: {}",
            a.text
        );
    }
    faucet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_zero_address_is_refused() {
    let env = Env::start().await;
    let faucet = Faucet::start(env.config(limits((1, 3600), (1000, 3600)))).await;
    let url = faucet.url();
    for zero in [
        "0x0000000000000000000000000000000000000000".to_owned(),
        Address::ZERO.to_checksum(None),
    ] {
        let a = post_claim(&url, json!({ "address": zero, "chain_id": CHAIN_ID }), None).await;
        assert_eq!(a.status, 400, "{}", a.text);
        assert_eq!(a.json["error"], "invalid_address");
        assert!(a.json["message"].as_str().unwrap().contains("zero address"));
        let form = send(
            http()
                .post(format!("{url}/claim"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    serde_urlencoded::to_string([("address", zero.as_str()), ("chain_id", "901")])
                        .unwrap(),
                ),
        )
        .await;
        assert_eq!(form.status, 400, "{}", form.text);
    }
    assert_eq!(env.balance(Address::ZERO).await, U256::ZERO);
    assert_eq!(env.faucet_nonce().await, 0);
    assert!(client::history(&url, None, None).await.unwrap().is_empty());
    faucet.stop().await;
}

/// Rows as a crash leaves them, written straight into the table; the faucet settles them when it
/// starts: no transfer → released, a transfer the node knows → sent, one it does not → released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_a_crash_left_pending_are_settled_at_start() {
    let env = Env::start().await;
    let config = env.config(limits((1, 3600), (1000, 3600)));
    // Create the table.
    Faucet::start(config.clone()).await.stop().await;

    // A transfer the faucet's key really sent (as a crashed faucet would have) …
    let paid = random_address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(env.signer.clone()))
        .connect_http(env.anvil.url().parse().unwrap());
    let tx = TransactionRequest::default()
        .with_to(paid)
        .with_value(parse_ether("1").unwrap());
    let sent = provider.send_transaction(tx).await.unwrap();
    let sent_hash = *sent.tx_hash();
    sent.get_receipt().await.unwrap();
    // … one it signed but never sent, and one it never got to.
    let (unsent, untouched) = (random_address(), random_address());
    let (db, connection) = tokio_postgres::connect(&env.pg.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let insert =
        "INSERT INTO faucet_claims (chain_id, address, client_ip, amount, tx_hash, nonce, outcome)
                  VALUES ($1, $2, '127.0.0.1', 1000000000000000000, $3, $4, 'pending')";
    let chain = CHAIN_ID as i64;
    for (address, hash, nonce) in [
        (paid, Some(sent_hash), Some(0i64)),
        (unsent, Some(B256::repeat_byte(0xab)), Some(1)),
        (untouched, None, None),
    ] {
        db.execute(
            insert,
            &[
                &chain,
                &address.to_string(),
                &hash.map(|h| h.to_string()),
                &nonce,
            ],
        )
        .await
        .unwrap();
    }

    let faucet = Faucet::start(config).await;
    let url = faucet.url();
    let record = |address: Address| {
        let url = url.clone();
        async move { client::history(&url, Some(address), None).await.unwrap()[0].clone() }
    };
    let paid_row = record(paid).await;
    assert_eq!(paid_row.outcome, Outcome::Sent);
    assert_eq!(paid_row.tx_hash, Some(sent_hash));
    assert_eq!(paid_row.nonce, Some(0));
    for address in [unsent, untouched] {
        let row = record(address).await;
        assert_eq!(row.outcome, Outcome::Failed, "{address}");
        assert!(row.tx_hash.is_none());
        assert!(
            row.error
                .as_deref()
                .unwrap()
                .starts_with("released at start")
        );
    }
    // Released rows do not count: both may claim; the paid one's claim still counts.
    for address in [unsent, untouched] {
        let a = post_claim(&url, claim_body(address), None).await;
        assert_eq!(a.status, 200, "{address}: {}", a.text);
    }
    let a = post_claim(&url, claim_body(paid), None).await;
    assert_eq!(a.status, 429, "{}", a.text);
    let pending: i64 = db
        .query_one(
            "SELECT count(*) FROM faucet_claims WHERE outcome = 'pending'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(pending, 0);
    faucet.stop().await;
}
