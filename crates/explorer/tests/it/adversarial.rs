//! The explorer and the indexer's HTTP server against the standing adversarial suite
//! (`opdev_http::probe`): hostile path segments and query strings in every route, every method,
//! traversal, bodies, headers and raw protocol errors get a 4xx — a page or
//! `{"error","message"}` — never a 5xx, with no unescaped markup; the indexer's `/metrics` stays
//! bounded and the indexed data is unchanged.

use std::net::SocketAddr;

use crate::support::{self, L2};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_4xx_and_change_nothing() {
    let env = support::start().await;
    let explorer: SocketAddr = env.base.trim_start_matches("http://").parse().unwrap();
    let before = env.json(&format!("/api/chains/{L2}")).await;
    let sent = opdev_http::probe::run(
        explorer,
        &[
            "/",
            "/chains/{}",
            "/chains/901/blocks/{}",
            "/chains/901/tx/{}",
            "/chains/901/address/{}",
            "/search",
            "/api/chains",
            "/api/chains/{}",
            "/api/chains/901/blocks/{}",
            "/api/chains/901/tx/{}",
            "/api/chains/901/address/{}",
            "/api/search",
            "/health",
            "/style.css",
        ],
        &[],
    )
    .await;
    assert!(sent > 1000, "{sent} requests");
    let after = env.json(&format!("/api/chains/{L2}")).await;
    assert_eq!(before["latest_blocks"], after["latest_blocks"]);

    // The indexer's server (same suite; its /metrics bounded).
    let indexer = env.indexer.as_ref().unwrap().local_addr();
    let metrics = async || {
        opdev_http::probe::request(indexer, "GET", "/metrics", &[], b"")
            .await
            .body
    };
    let before = metrics().await;
    let sent = opdev_http::probe::run(indexer, &["/metrics", "/health"], &[]).await;
    assert!(sent > 200, "{sent} requests");
    let after = metrics().await;
    assert!(
        after.len() < before.len() + 200,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}
