//! The devnet's services end to end: PostgreSQL run by opdev (unprivileged when root) or given
//! with --postgres-url, the indexer following every chain, the faucet through `opdev faucet`.

use alloy::providers::{Provider, ProviderBuilder};

use crate::support::{Env, eventually, stderr, text};

#[tokio::test]
async fn faucet_command_funds_an_address_and_the_limit_holds() {
    let env = Env::new("drip");
    env.ok(&["up", "-q", "--ports", "auto", "--no-indexer"]);
    let who = "0xabCdEf0000000000000000000000000000C0FfEe";
    let out = env.json(&["faucet", who]);
    assert!(out["block"].as_u64().is_some(), "not mined: {out}");
    assert_eq!(out["chain_id"], 901, "the first L2 is the default chain");
    let l2 = env.rpcs()[1].1.clone();
    let provider = ProviderBuilder::new().connect_http(l2.parse().unwrap());
    let balance = provider.get_balance(who.parse().unwrap()).await.unwrap();
    assert_eq!(balance.to_string(), out["amount"].as_str().unwrap());

    // A second claim inside the window is refused with exit code 10; another chain is its own.
    let again = env.run(&["faucet", who]);
    assert_eq!(again.status.code(), Some(10), "{}", text(&again));
    assert!(stderr(&again).contains("limit"), "{}", text(&again));
    env.ok(&["faucet", who, "--chain", "l1"]);

    let bad = env.run(&["faucet", "0xABCDEF0000000000000000000000000000C0FFEe"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(stderr(&bad).contains("checksum"));
    let unknown = env.run(&["faucet", who, "--chain", "777"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));

    let history = env.json(&["faucet", "history", "--address", who]);
    let claims = history["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 2, "{history}");
    assert!(claims.iter().all(|c| c["tx_hash"].is_string()));
    // Addresses are EIP-55, as docs/faucet.md says.
    let checksummed: alloy::primitives::Address = who.parse().unwrap();
    assert!(
        claims
            .iter()
            .all(|c| c["address"] == checksummed.to_checksum(None)),
        "{history}"
    );
    // --limit is 1 to 1000, refused before asking the faucet.
    for limit in ["0", "1001"] {
        let out = env.run(&["faucet", "history", "--limit", limit]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(stderr(&out).contains("hint:"), "{}", text(&out));
    }
}

#[tokio::test]
async fn external_postgres_url_is_used_instead_of_running_one() {
    let pg = opdev_test_utils::TestPostgres::start();
    let env = Env::new("extdb");
    env.ok(&[
        "up",
        "-q",
        "--ports",
        "auto",
        "--no-faucet",
        "--postgres-url",
        &pg.url(),
    ]);
    let status = env.status();
    assert!(
        status["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["name"] != "postgres")
    );
    assert_eq!(status["database"]["external"], true);
    let indexed = eventually(20, async || {
        env.status()["indexer"]["chains"]
            .as_array()
            .is_some_and(|c| {
                c.iter()
                    .all(|c| c["indexed_head"].as_u64().unwrap_or(0) > 0)
            })
    })
    .await;
    assert!(indexed, "{}", env.status()["indexer"]);
    // The rows are in the server we gave.
    let (client, conn) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let row = client
        .query_one("SELECT count(*) FROM blocks", &[])
        .await
        .unwrap();
    assert!(row.get::<_, i64>(0) > 0);
}

#[test]
fn bad_postgres_url_is_refused() {
    let env = Env::new("baddb");
    let out = env.run(&["up", "--postgres-url", "mysql://nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("postgres_url"));
}
