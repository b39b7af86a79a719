//! Faults: PostgreSQL stopped and restarted while the indexer works, and the node unreachable
//! for a while (anvil stopped and started again on its saved state). The indexer retries with
//! backoff, loses no block, and ends in parity.

use std::time::Duration;

use opdev_test_utils::{TestAnvil, TestPostgres};
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_a_postgres_restart() {
    let mut pg = TestPostgres::start();
    let l2 = TestAnvil::start(&["--chain-id", "901", "--network", "optimism"]);
    build_chain(&l2.url(), 10, 500, true).await;
    let (indexer, stop) = start(args(&pg.url(), &[("l2", 901, &l2.url())], 64)).await;
    caught_up(&indexer, 0, &l2.url(), Duration::from_secs(20)).await;

    pg.stop();
    // Blocks made while the database is down.
    mine(&l2.url(), 300).await;
    for _ in 0..3 {
        send_mined(&l2.url(), json!({"from": DEV0, "to": DEV1, "value": "0x3"})).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let status = indexer.health().chains[0].clone();
    assert!(
        status.error.is_some(),
        "the outage shows in /health: {status:?}"
    );
    pg.restart();
    caught_up(&indexer, 0, &l2.url(), Duration::from_secs(20)).await;
    parity(&pg.url(), &l2.url(), 901, Duration::ZERO).await;
    assert!(indexer.health().chains[0].error.is_none());
    stop.cancel();
    indexer.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_the_node_going_away() {
    let pg = TestPostgres::start();
    let state = tempfile_path();
    let mut l2 = TestAnvil::start(&[
        "--chain-id",
        "901",
        "--network",
        "optimism",
        "--state",
        &state,
    ]);
    build_chain(&l2.url(), 10, 300, true).await;
    let (indexer, stop) = start(args(&pg.url(), &[("l2", 901, &l2.url())], 64)).await;
    caught_up(&indexer, 0, &l2.url(), Duration::from_secs(20)).await;
    let before = head(&l2.url()).await;

    l2.stop();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let status = indexer.health().chains[0].clone();
    assert!(status.error.is_some(), "{status:?}");
    assert_eq!(status.indexed_head, Some(before));
    l2.start_again();
    assert_eq!(head(&l2.url()).await, before, "the chain was kept");
    mine(&l2.url(), 200).await;
    send_mined(&l2.url(), json!({"from": DEV0, "to": DEV1, "value": "0x3"})).await;
    caught_up(&indexer, 0, &l2.url(), Duration::from_secs(20)).await;
    parity(&pg.url(), &l2.url(), 901, Duration::ZERO).await;
    assert!(indexer.health().chains[0].error.is_none());
    stop.cancel();
    indexer.wait().await;
    let _ = std::fs::remove_file(&state);
}

fn tempfile_path() -> String {
    std::env::temp_dir()
        .join(format!(
            "opdev-indexer-state-{}-{}.json",
            std::process::id(),
            opdev_test_utils::free_port()
        ))
        .to_string_lossy()
        .into_owned()
}
