//! Reorgs injected with `anvil_reorg` while the indexer follows the head: depths 1, 5 and 20 are
//! handled (parity after each), a reorg past `--reorg-limit` stops that chain with a clear error
//! while another chain goes on.

use std::time::{Duration, Instant};

use opdev_indexer::ChainState;
use opdev_test_utils::{TestAnvil, TestPostgres};
use serde_json::json;

use crate::support::*;

async fn reorg(url: &str, depth: u64, counter: &str) {
    let txs = json!([
        [{"from": DEV0, "to": DEV2, "value": format!("{:#x}", 7 + depth)}, 0],
        [{"from": DEV1, "to": counter, "data": increment_data(), "gas": "0x30000"}, depth / 2],
    ]);
    call(url, "anvil_reorg", json!([depth, txs])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorgs_within_the_limit_are_rewound_and_reindexed() {
    let pg = TestPostgres::start();
    let l2 = TestAnvil::start(&["--chain-id", "901", "--network", "optimism"]);
    let l1 = TestAnvil::start(&["--chain-id", "900"]);
    let built = build_chain(&l2.url(), 20, 60, true).await;
    mine(&l1.url(), 5).await;
    let (indexer, stop) = start(args(
        &pg.url(),
        &[("l2", 901, &l2.url()), ("l1", 900, &l1.url())],
        30,
    ))
    .await;
    caught_up(&indexer, 0, &l2.url(), Duration::from_secs(20)).await;
    parity(&pg.url(), &l2.url(), 901, Duration::ZERO).await;

    let mut depth_sum = 0;
    for (i, depth) in [1u64, 5, 20].into_iter().enumerate() {
        let before = head(&l2.url()).await;
        reorg(&l2.url(), depth, &built.counters[0]).await;
        assert_eq!(
            head(&l2.url()).await,
            before,
            "anvil_reorg keeps the height"
        );
        // The new branch grows by a block, which the indexer must link to the new branch.
        send_mined(&l2.url(), json!({"from": DEV2, "to": DEV1, "value": "0x9"})).await;
        let until = Instant::now() + Duration::from_secs(10);
        let text = loop {
            let (_, text) = http_get(&indexer, "/metrics").await;
            if metric(&text, "opdev_indexer_reorgs_total{chain=\"l2\"}") as usize == i + 1 {
                break text;
            }
            assert!(Instant::now() < until, "reorg {depth} not seen: {text}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        depth_sum += depth;
        assert_eq!(
            metric(&text, "opdev_indexer_reorg_depth_blocks_sum{chain=\"l2\"}") as u64,
            depth_sum
        );
        caught_up(&indexer, 0, &l2.url(), Duration::from_secs(10)).await;
        parity(&pg.url(), &l2.url(), 901, Duration::from_secs(5)).await;
    }
    assert!(indexer.health().chains.iter().all(|c| c.error.is_none()));
    stop.cancel();
    indexer.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_deeper_than_the_limit_stops_that_chain_with_a_clear_error() {
    let pg = TestPostgres::start();
    let l2 = TestAnvil::start(&["--chain-id", "901", "--network", "optimism"]);
    let l1 = TestAnvil::start(&["--chain-id", "900"]);
    let built = build_chain(&l2.url(), 10, 30, true).await;
    mine(&l1.url(), 5).await;
    let (indexer, stop) = start(args(
        &pg.url(),
        &[("l2", 901, &l2.url()), ("l1", 900, &l1.url())],
        8,
    ))
    .await;
    caught_up(&indexer, 0, &l2.url(), Duration::from_secs(20)).await;
    let indexed = head(&l2.url()).await;
    reorg(&l2.url(), 12, &built.counters[0]).await;
    let until = Instant::now() + Duration::from_secs(10);
    let status = loop {
        let s = indexer.health().chains[0].clone();
        if s.state == ChainState::Stopped {
            break s;
        }
        assert!(Instant::now() < until, "not stopped: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let error = status.error.unwrap();
    assert!(
        error.contains("reorg deeper than the limit of 8 blocks"),
        "{error}"
    );
    // Nothing was rewound: the data stays as indexed, for a human to look at.
    assert_eq!(status.indexed_head, Some(indexed));
    // The other chain goes on.
    send_mined(&l1.url(), json!({"from": DEV0, "to": DEV1, "value": "0x1"})).await;
    caught_up(&indexer, 1, &l1.url(), Duration::from_secs(5)).await;
    parity(&pg.url(), &l1.url(), 900, Duration::ZERO).await;
    let (code, _) = http_get(&indexer, "/health").await;
    assert_eq!(code, 200, "one chain still indexes");
    stop.cancel();
    indexer.wait().await;
}
