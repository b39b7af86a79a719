//! Backfill of an L1 and an OP-mode L2 chain of more than 2,000 blocks holding transfers,
//! contract deployments, log-emitting calls and (on the L2) deposit transactions; then following
//! new blocks; `/health` and `/metrics`.

use std::time::Duration;

use opdev_test_utils::{TestAnvil, TestPostgres};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfills_l1_and_op_l2_then_follows_with_parity() {
    let pg = TestPostgres::start();
    let l1 = TestAnvil::start(&["--chain-id", "900"]);
    let l2 = TestAnvil::start(&["--chain-id", "901", "--network", "optimism"]);
    let (u1, u2) = (l1.url(), l2.url());
    let (b1, b2) = tokio::join!(
        build_chain(&u1, 40, 1960, false),
        build_chain(&u2, 40, 1960, true)
    );
    assert!(head(&l1.url()).await >= 2000);
    assert!(head(&l2.url()).await >= 2000);

    let (indexer, stop) = start(args(
        &pg.url(),
        &[("l1", 900, &l1.url()), ("l2", 901, &l2.url())],
        64,
    ))
    .await;
    caught_up(&indexer, 0, &l1.url(), Duration::from_secs(30)).await;
    caught_up(&indexer, 1, &l2.url(), Duration::from_secs(30)).await;
    let c1 = parity(&pg.url(), &l1.url(), 900, Duration::ZERO).await;
    let c2 = parity(&pg.url(), &l2.url(), 901, Duration::ZERO).await;
    assert!(c1.blocks > 2000 && c2.blocks > 2000, "{c1:?} {c2:?}");
    // 3 deployments + 3 txs a round; the L2 adds deposits. (At least: anvil, toggling
    // automine, has been seen to include a transaction twice; parity covers the exact content.)
    assert!(c1.transactions >= 3 + 3 * 40, "{c1:?}");
    assert!(c2.transactions >= 3 + 3 * 40 + b2.deposits, "{c2:?}");
    assert!(c1.logs >= b1.increments && c2.logs >= b2.increments);
    let db = db(&pg.url()).await;

    // Decoded columns an explorer relies on.
    let deposits: Vec<(i16, bool, String, Option<bool>)> = db
        .query(
            "SELECT DISTINCT ON (hash) type, source_hash IS NOT NULL, mint::text, is_system_tx \
             FROM transactions WHERE chain_id = 901 AND type = 126",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(deposits.len(), b2.deposits);
    assert!(
        deposits
            .iter()
            .all(|d| d.1 && d.2 == "1000000" && d.3 == Some(false)),
        "{deposits:?}"
    );
    let contracts: Vec<String> = db
        .query(
            "SELECT '0x' || encode(contract_address, 'hex') FROM transactions \
             WHERE chain_id = 900 AND contract_address IS NOT NULL ORDER BY block_number",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expected: Vec<String> = b1.counters.iter().map(|c| c.to_lowercase()).collect();
    assert_eq!(contracts, expected);
    let by_topic: i64 = db
        .query_one(
            "SELECT count(DISTINCT tx_hash) FROM logs WHERE chain_id = 901 AND topic0 = decode($1, 'hex')",
            &[&incremented_topic()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(by_topic as usize, b2.increments);

    // Following: new blocks show up within a block time.
    for _ in 0..5 {
        send_mined(&l2.url(), json!({"from": DEV0, "to": DEV1, "value": "0x5"})).await;
        caught_up(&indexer, 1, &l2.url(), Duration::from_secs(10)).await;
    }
    parity(&pg.url(), &l2.url(), 901, Duration::ZERO).await;

    // /health and /metrics.
    let (code, body) = http_get(&indexer, "/health").await;
    assert_eq!(code, 200);
    let health: Value = serde_json::from_str(&body).unwrap();
    let l2_head = head(&l2.url()).await;
    assert_eq!(health["chains"][1]["name"], "l2");
    assert_eq!(health["chains"][1]["chain_id"], 901);
    assert_eq!(health["chains"][1]["indexed_head"], l2_head);
    assert_eq!(health["chains"][1]["lag"], 0);
    assert_eq!(health["chains"][1]["state"], "following");
    assert!(health["chains"][1]["error"].is_null());
    let (code, text) = http_get(&indexer, "/metrics").await;
    assert_eq!(code, 200);
    assert_eq!(
        metric(&text, "opdev_indexer_indexed_head{chain=\"l2\"}"),
        l2_head as f64
    );
    assert_eq!(
        metric(
            &text,
            "opdev_indexer_rows_written_total{chain=\"l1\",table=\"blocks\"}"
        ),
        c1.blocks as f64
    );
    assert!(text.contains("opdev_indexer_rpc_latency_seconds_bucket"));
    assert!(text.contains("opdev_indexer_db_commit_latency_seconds_count{chain=\"l1\"}"));

    stop.cancel();
    indexer.wait().await;
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let pg = TestPostgres::start();
    let mut a = db(&pg.url()).await;
    let first = opdev_indexer::schema::migrate(&mut a).await.unwrap();
    assert_eq!(
        first,
        (1..=opdev_indexer::schema::latest_version()).collect::<Vec<_>>()
    );
    let again = opdev_indexer::schema::migrate(&mut a).await.unwrap();
    assert!(again.is_empty());
    let version: i32 = a
        .query_one("SELECT max(version) FROM schema_version", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, opdev_indexer::schema::latest_version());
}

/// A database indexed before schema version 2 gets the source hash of every deposit log it
/// holds when the indexer next connects, and nothing else changes.
#[tokio::test]
async fn deposit_logs_indexed_before_version_2_are_linked_at_the_next_start() {
    use opdev_opstack::{deposit, primitives::B256};
    let pg = TestPostgres::start();
    let a = db(&pg.url()).await;
    let (version, v1) = opdev_indexer::schema::MIGRATIONS[0];
    assert_eq!(version, 1);
    a.batch_execute(&format!(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, \
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now()); {v1} \
         INSERT INTO schema_version (version) VALUES (1);"
    ))
    .await
    .unwrap();
    let block_hash = B256::repeat_byte(0xab);
    let word = B256::repeat_byte(1);
    let deposit_topic = deposit::deposit_topic();
    let insert = "INSERT INTO logs (chain_id, block_number, log_index, block_hash, tx_hash, \
         tx_index, address, topic0, topic1, topic2, topic3, data) \
         VALUES (900, 7, $1, $2, $3, 0, $4, $5, $6, $6, $7, '')";
    // Log 3 is a TransactionDeposited; log 4 has its signature but too few topics; log 5 is
    // another event.
    for (index, topic0, topic3) in [
        (3, deposit_topic, Some(word)),
        (4, deposit_topic, None),
        (5, word, Some(word)),
    ] {
        a.execute(
            insert,
            &[
                &index,
                &block_hash.as_slice(),
                &word.as_slice(),
                &[0x42u8; 20].as_slice(),
                &topic0.as_slice(),
                &word.as_slice(),
                &topic3.as_ref().map(|t| t.as_slice()),
            ],
        )
        .await
        .unwrap();
    }

    let _store = opdev_indexer::store::connect(&pg.url()).await.unwrap();
    let rows = a
        .query(
            "SELECT log_index, deposit_source FROM logs ORDER BY log_index",
            &[],
        )
        .await
        .unwrap();
    let sources: Vec<(i32, Option<Vec<u8>>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        sources,
        vec![
            (3, Some(deposit::user_source_hash(block_hash, 3).to_vec())),
            (4, None),
            (5, None),
        ]
    );
}

#[tokio::test]
async fn a_node_of_another_chain_stops_that_chain_only() {
    let pg = TestPostgres::start();
    let l1 = TestAnvil::start(&["--chain-id", "900"]);
    mine(&l1.url(), 3).await;
    let (indexer, stop) = start(args(
        &pg.url(),
        &[("wrong", 999, &l1.url()), ("l1", 900, &l1.url())],
        64,
    ))
    .await;
    caught_up(&indexer, 1, &l1.url(), Duration::from_secs(10)).await;
    let h = indexer.health();
    assert_eq!(h.chains[0].state, opdev_indexer::ChainState::Stopped);
    assert!(
        h.chains[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("serves chain 900, not chain 999")),
        "{h:?}"
    );
    assert!(h.is_up());
    parity(&pg.url(), &l1.url(), 900, Duration::ZERO).await;
    stop.cancel();
    indexer.wait().await;
}
