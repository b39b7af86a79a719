//! Every page and its JSON twin over real indexed data, checking the same facts in both.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{
    self, DEV0, DEV1, DEV2, DEV3, DEV3_TRANSFERS, DEV4, L1, L2, call, head, receipt, send,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_shows_every_chain_head_and_the_latest_blocks_and_transactions() {
    let env = support::start().await;
    let l2_head = head(&env.l2.url()).await;
    let v = env.json(&format!("/api/chains/{L2}")).await;
    assert_eq!(v["chain_id"], L2);
    let chains = v["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 2);
    assert_eq!(chains[0]["name"], "l1");
    assert_eq!(chains[1]["name"], "l2");
    assert_eq!(chains[1]["indexed_head"], l2_head);
    assert!(chains[1]["node_head"].as_u64().unwrap() >= l2_head);
    assert!(chains[1]["lag"].as_i64().unwrap() >= 0);
    assert_eq!(v["latest_blocks"][0]["number"], l2_head);
    let latest: Vec<&str> = v["latest_transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["hash"].as_str().unwrap())
        .collect();
    assert_eq!(latest.len(), 15);
    // The newest are DEV3's transfers, newest first.
    assert_eq!(v["latest_transactions"][0]["from"], DEV3);

    let html = env.page(&format!("/chains/{L2}")).await;
    assert!(html.contains(&format!("href=\"/chains/{L2}/blocks/{l2_head}\"")));
    assert!(html.contains(&format!("href=\"/chains/{L2}/tx/{}\"", latest[0])));
    assert!(html.contains(&format!("<td class=\"indexed-head\">{l2_head}</td>")));
    assert!(html.contains(&format!("href=\"/chains/{L1}\"")));
    // `/` is the first chain's home; `/api/chains` the heads alone.
    let root = env.page("/").await;
    assert!(root.contains(&format!(
        "href=\"/chains/{L1}/tx/{}\"",
        env.facts.l1_transfer_tx
    )));
    let heads = env.json("/api/chains").await;
    assert_eq!(heads.as_array().unwrap().len(), 2);
    assert_eq!(heads[0]["chain_id"], L1);
    let (status, css) = env.get("/style.css").await;
    assert_eq!(status, 200);
    assert!(css.contains("body{"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_page_by_number_and_hash_shows_header_and_transactions() {
    let env = support::start().await;
    let f = &env.facts;
    let n = f.increment_block;
    let node = call(
        &env.l2.url(),
        "eth_getBlockByNumber",
        json!([format!("{n:#x}"), false]),
    )
    .await;
    let hash = node["hash"].as_str().unwrap();
    let v = env.json(&format!("/api/chains/{L2}/blocks/{n}")).await;
    assert_eq!(v["block"]["number"], n);
    assert_eq!(v["block"]["hash"], hash);
    assert_eq!(v["block"]["parent_hash"], node["parentHash"]);
    assert_eq!(v["block"]["tx_count"], 1);
    assert_eq!(v["transactions"][0]["hash"], f.increment_tx.as_str());
    assert_eq!(v["truncated"], false);
    let by_hash = env.json(&format!("/api/chains/{L2}/blocks/{hash}")).await;
    assert_eq!(by_hash["block"], v["block"]);

    for path in [
        format!("/chains/{L2}/blocks/{n}"),
        format!("/chains/{L2}/blocks/{hash}"),
    ] {
        let html = env.page(&path).await;
        assert!(html.contains(&format!("<h1>Block {n}</h1>")), "{path}");
        assert!(html.contains(hash));
        assert!(html.contains(&format!("href=\"/chains/{L2}/tx/{}\"", f.increment_tx)));
        assert!(html.contains(&format!("href=\"/chains/{L2}/address/{DEV1}\"")));
    }
    // A block of ten transactions lists all ten in order.
    let last = head(&env.l2.url()).await;
    let v = env.json(&format!("/api/chains/{L2}/blocks/{last}")).await;
    let idx: Vec<i64> = v["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tx_index"].as_i64().unwrap())
        .collect();
    assert_eq!(idx, (0..10).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_pages_decode_events_and_show_creations_and_deposits() {
    let env = support::start().await;
    let f = &env.facts;
    // The increment: success, fee, input, the Incremented event decoded.
    let v = env
        .json(&format!("/api/chains/{L2}/tx/{}", f.increment_tx))
        .await;
    let t = &v["transaction"];
    assert_eq!(t["status"], 1);
    assert_eq!(t["from"], DEV1);
    assert_eq!(t["to"], f.counter.as_str());
    assert_eq!(t["input"], "0xd09de08a");
    assert_eq!(t["block_number"], f.increment_block);
    let r = receipt(&env.l2.url(), &f.increment_tx).await;
    let gas_used =
        u128::from_str_radix(r["gasUsed"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    assert_eq!(t["gas_used"], gas_used.to_string());
    assert!(t["fee"].as_str().unwrap().parse::<u128>().unwrap() >= gas_used);
    let log = &v["logs"][0];
    assert_eq!(log["address"], f.counter.as_str());
    assert_eq!(log["event"]["name"], "Incremented");
    assert_eq!(log["event"]["params"][0]["name"], "by");
    assert_eq!(log["event"]["params"][0]["value"], DEV1);
    assert_eq!(log["event"]["params"][1]["name"], "newValue");
    assert_eq!(log["event"]["params"][1]["value"], "1");
    let html = env
        .page(&format!("/chains/{L2}/tx/{}", f.increment_tx))
        .await;
    assert!(html.contains("<span class=\"ok\">success</span>"));
    assert!(html.contains("<strong class=\"event\">Incremented</strong>"));
    assert!(html.contains(&format!("href=\"/chains/{L2}/address/{DEV1}\"")));
    assert!(html.contains(&format!(
        "href=\"/chains/{L2}/blocks/{}\"",
        f.increment_block
    )));
    assert!(html.contains("0xd09de08a"));

    // The deployment: no `to`, the created contract linked.
    let v = env
        .json(&format!("/api/chains/{L2}/tx/{}", f.deploy_tx))
        .await;
    assert!(v["transaction"]["to"].is_null());
    assert_eq!(v["transaction"]["contract_address"], f.counter.as_str());
    let html = env.page(&format!("/chains/{L2}/tx/{}", f.deploy_tx)).await;
    assert!(html.contains(&format!(
        "contract created: <a class=\"mono\" href=\"/chains/{L2}/address/{}\"",
        f.counter
    )));

    // A plain transfer: value in wei and ETH.
    let v = env
        .json(&format!("/api/chains/{L2}/tx/{}", f.transfer_tx))
        .await;
    assert_eq!(v["transaction"]["value"], "12345");
    assert_eq!(v["transaction"]["to"], DEV2);
    assert!(v["transaction"]["deposit"].is_null());
    let html = env
        .page(&format!("/chains/{L2}/tx/{}", f.transfer_tx))
        .await;
    assert!(html.contains("0.000000000000012345 ETH"));

    // The deposit: type 0x7e, source hash, mint, no fee.
    let v = env
        .json(&format!("/api/chains/{L2}/tx/{}", f.deposit_tx))
        .await;
    let t = &v["transaction"];
    assert_eq!(t["type"], 126);
    assert_eq!(
        t["deposit"]["source_hash"],
        format!("0x{}", f.deposit_source)
    );
    assert_eq!(t["deposit"]["mint"], f.deposit_mint.to_string());
    assert_eq!(t["deposit"]["is_system_tx"], false);
    assert_eq!(t["fee"], "0");
    let html = env.page(&format!("/chains/{L2}/tx/{}", f.deposit_tx)).await;
    assert!(html.contains("<h1>Deposit transaction"));
    assert!(html.contains(&format!(
        "<span class=\"mono\" id=\"source-hash\">0x{}</span>",
        f.deposit_source
    )));
    assert!(html.contains("1 ETH"));

    // The L1 transaction is on the L1's page, not the L2's.
    env.json(&format!("/api/chains/{L1}/tx/{}", f.l1_transfer_tx))
        .await;
    let (status, _) = env
        .get(&format!("/api/chains/{L2}/tx/{}", f.l1_transfer_tx))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_page_shows_live_values_and_paginated_history() {
    let env = support::start().await;
    let f = &env.facts;
    let url = env.l2.url();
    // DEV0: live balance and nonce equal the node's; sent the deployment and the transfer.
    let v = env.json(&format!("/api/chains/{L2}/address/{DEV0}")).await;
    let balance = call(&url, "eth_getBalance", json!([DEV0, "latest"])).await;
    let balance = alloy::primitives::U256::from_str_radix(
        balance.as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap();
    assert_eq!(v["account"]["balance"], balance.to_string());
    assert_eq!(v["account"]["nonce"], 2);
    assert_eq!(v["account"]["is_contract"], false);
    let hashes: Vec<&str> = v["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["hash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes, [f.transfer_tx.as_str(), f.deploy_tx.as_str()]);
    assert!(v["next_page"].is_null());
    // DEV2 only received: the transfer and the deposit, newest first.
    let v = env.json(&format!("/api/chains/{L2}/address/{DEV2}")).await;
    let hashes: Vec<&str> = v["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["hash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes, [f.deposit_tx.as_str(), f.transfer_tx.as_str()]);
    // The Counter: a contract; its history holds its creation and the increment.
    let v = env
        .json(&format!("/api/chains/{L2}/address/{}", f.counter))
        .await;
    assert_eq!(v["account"]["is_contract"], true);
    assert!(v["account"]["code_size"].as_u64().unwrap() > 0);
    let hashes: Vec<&str> = v["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["hash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes, [f.increment_tx.as_str(), f.deploy_tx.as_str()]);
    let html = env
        .page(&format!(
            "/chains/{L2}/address/{}",
            f.counter.to_uppercase().replace("0X", "0x")
        ))
        .await;
    assert!(html.contains("contract ("));
    assert!(html.contains(&format!("href=\"/chains/{L2}/tx/{}\"", f.increment_tx)));

    // DEV3: 30 transfers → 25 on page 1, 5 on page 2, page 3 is past the end.
    let p1 = env.json(&format!("/api/chains/{L2}/address/{DEV3}")).await;
    assert_eq!(p1["transactions"].as_array().unwrap().len(), 25);
    assert_eq!(p1["next_page"], 2);
    assert_eq!(p1["transactions"][0]["value"], DEV3_TRANSFERS.to_string());
    let p2 = env
        .json(&format!("/api/chains/{L2}/address/{DEV3}?page=2"))
        .await;
    assert_eq!(
        p2["transactions"].as_array().unwrap().len(),
        DEV3_TRANSFERS - 25
    );
    assert!(p2["next_page"].is_null());
    assert_eq!(p2["transactions"][4]["value"], "1");
    let html = env.page(&format!("/chains/{L2}/address/{DEV3}")).await;
    assert!(html.contains(&format!("href=\"/chains/{L2}/address/{DEV3}?page=2\"")));
    assert_eq!(
        html.matches(&format!("href=\"/chains/{L2}/address/{DEV4}\""))
            .count(),
        25
    );
    let html = env
        .page(&format!("/chains/{L2}/address/{DEV3}?page=2"))
        .await;
    assert!(html.contains(&format!("href=\"/chains/{L2}/address/{DEV3}?page=1\"")));
    for path in [
        format!("/api/chains/{L2}/address/{DEV3}?page=3"),
        format!("/chains/{L2}/address/{DEV3}?page=3"),
    ] {
        assert_eq!(env.get(&path).await.0, 404, "{path}");
    }
    // An address never seen: live values, empty history.
    let fresh = "0x00000000000000000000000000000000000000aa";
    let v = env.json(&format!("/api/chains/{L2}/address/{fresh}")).await;
    assert_eq!(v["account"]["balance"], "0");
    assert_eq!(v["transactions"], json!([]));
    assert!(
        env.page(&format!("/chains/{L2}/address/{fresh}"))
            .await
            .contains("No transactions.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_leads_to_the_right_page_or_says_nothing_was_found() {
    let env = support::start().await;
    let f = &env.facts;
    let n = f.increment_block;
    let block = env.json(&format!("/api/chains/{L2}/blocks/{n}")).await;
    let bhash = block["block"]["hash"].as_str().unwrap().to_owned();
    let cases = [
        (
            format!("q={n}&chain={L2}"),
            format!("/chains/{L2}/blocks/{n}"),
            "block",
        ),
        (
            format!("q=+{bhash}+"),
            format!("/chains/{L2}/blocks/{bhash}"),
            "block",
        ),
        (
            format!("q={}", f.increment_tx.to_uppercase().replace("0X", "0x")),
            format!("/chains/{L2}/tx/{}", f.increment_tx),
            "transaction",
        ),
        (
            format!("q={}", f.l1_transfer_tx),
            format!("/chains/{L1}/tx/{}", f.l1_transfer_tx),
            "transaction",
        ),
        (
            format!("q={DEV1}&chain={L2}"),
            format!("/chains/{L2}/address/{DEV1}"),
            "address",
        ),
        (
            format!("q={DEV1}"),
            format!("/chains/{L1}/address/{DEV1}"),
            "address",
        ),
    ];
    for (q, url, kind) in &cases {
        let (status, loc) = env.redirect(&format!("/search?{q}")).await;
        assert_eq!((status, loc.as_deref()), (303, Some(url.as_str())), "{q}");
        let v = env.json(&format!("/api/search?{q}")).await;
        assert_eq!(v["url"], url.as_str(), "{q}");
        assert_eq!(v["api"], format!("/api{url}"), "{q}");
        assert_eq!(v["kind"], *kind, "{q}");
        // Where it leads exists.
        env.page(url).await;
    }
    let unknown = format!("0x{}", "ab".repeat(32));
    for q in [unknown.as_str(), "999999", "hello"] {
        let (status, body) = env.get(&format!("/search?q={q}&chain={L2}")).await;
        assert_eq!(status, 404, "{q}");
        assert!(body.contains("nothing found for"), "{q}: {body}");
        let (status, body) = env.get(&format!("/api/search?q={q}&chain={L2}")).await;
        assert_eq!(status, 404, "{q}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"], "not_found");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_shows_up_within_two_seconds_of_being_indexed() {
    let env = support::start().await;
    let url = env.l2.url();
    for i in 0..3u64 {
        let hash = send(
            &url,
            json!({"from": DEV4, "to": DEV0, "value": format!("{:#x}", 7 + i)}),
        )
        .await;
        receipt(&url, &hash).await;
        support::wait_indexed(&env).await;
        let indexed = Instant::now();
        loop {
            let (status, _) = env.get(&format!("/api/chains/{L2}/tx/{hash}")).await;
            if status == 200 {
                break;
            }
            assert!(
                indexed.elapsed() < Duration::from_secs(2),
                "{hash} not shown 2 s after indexing"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let home = env.json(&format!("/api/chains/{L2}")).await;
        assert_eq!(home["latest_transactions"][0]["hash"], hash.as_str());
        assert!(indexed.elapsed() < Duration::from_secs(2));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_follows_the_database_and_pages_say_503_without_it() {
    let mut env = support::start().await;
    assert_eq!(env.get("/health").await.0, 200);
    // Stop the indexer first, so it does not keep the server busy with reconnections.
    env.indexer_stop.cancel();
    env.indexer.take().unwrap().wait().await;
    env.pg.stop();
    let (status, _) = env.get("/health").await;
    assert_eq!(status, 503);
    for path in [
        format!("/chains/{L2}"),
        format!("/api/chains/{L2}"),
        format!("/api/chains/{L2}/tx/{}", env.facts.increment_tx),
    ] {
        assert_eq!(env.get(&path).await.0, 503, "{path}");
    }
}
