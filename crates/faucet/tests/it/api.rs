//! The rest of the API: info, history, metrics, the HTML form, and the start-up log line.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use alloy::primitives::utils::parse_ether;
use opdev_faucet::{Outcome, client};

use crate::common::{CHAIN_ID, Env, Faucet, http, limits, random_address, send};

/// A tracing writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_history_metrics_and_the_html_form() {
    let env = Env::start().await;
    let config = env.config(limits((1, 3600), (100, 60)));

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let faucet = {
        let _guard = tracing::subscriber::set_default(subscriber);
        Faucet::start(config).await
    };
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains(&format!("listening on 127.0.0.1:{}", faucet.addr().port())),
        "{log}"
    );
    let key = alloy::hex::encode(env.signer.to_bytes());
    assert!(!log.contains(&key), "the key is never logged");
    let url = faucet.url();

    // Info.
    let info = client::info(&url).await.unwrap();
    assert_eq!(info.address, env.signer.address());
    assert_eq!(info.chains.len(), 1);
    assert_eq!(info.chains[0].chain_id, CHAIN_ID);
    assert_eq!(info.chains[0].amount_eth, "1");
    assert_eq!(info.chains[0].balance_eth.as_deref(), Some("1000"));
    assert_eq!(
        (info.limits.address.claims, info.limits.address.window_secs),
        (1, 3600)
    );
    assert_eq!(
        (info.limits.ip.claims, info.limits.ip.window_secs),
        (100, 60)
    );

    // The page and its form.
    let page = send(http().get(&url)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text
            .contains("<form method=\"post\" action=\"/claim\">")
    );
    assert!(
        page.text
            .contains(&format!("<option value=\"{CHAIN_ID}\">"))
    );
    let address = random_address();
    let form = send(
        http()
            .post(format!("{url}/claim"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("address={address}&chain_id={CHAIN_ID}")),
    )
    .await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(form.text.contains("Sent"), "{}", form.text);
    let again = send(
        http()
            .post(format!("{url}/claim"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("address={address}&chain_id={CHAIN_ID}")),
    )
    .await;
    assert_eq!(again.status, 429);
    assert!(again.headers.contains_key("retry-after"));
    assert!(again.text.contains("Not sent"), "{}", again.text);
    let bad = send(
        http()
            .post(format!("{url}/claim"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("address=%3Cscript%3E&chain_id=901"),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(!bad.text.contains("<script>"), "escaped: {}", bad.text);

    // History through the client.
    let second = random_address();
    let sent = client::claim(&url, second, CHAIN_ID).await.unwrap();
    let all = client::history(&url, None, None).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].address, second, "newest first");
    assert_eq!(all[0].tx_hash, Some(sent.tx_hash));
    assert_eq!(all[0].amount, parse_ether("1").unwrap().to_string());
    assert_eq!(all[0].outcome, Outcome::Sent);
    assert_eq!(all[1].address, address);
    let limited = client::history(&url, None, Some(1)).await.unwrap();
    assert_eq!(limited.len(), 1);
    let mine = client::history(&url, Some(address), None).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].address, address);

    // Metrics.
    let metrics = send(http().get(format!("{url}/metrics"))).await;
    assert_eq!(metrics.status, 200);
    let text = metrics.text;
    assert!(
        text.contains(r#"faucet_claims_total{chain_id="901",outcome="sent"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"faucet_claims_total{chain_id="901",outcome="rate_limited"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"faucet_claims_total{chain_id="901",outcome="invalid"} 1"#),
        "{text}"
    );
    let balance = env.balance(env.signer.address()).await;
    assert!(
        text.contains(&format!(
            "faucet_balance_wei{{chain_id=\"901\"}} {}",
            f64::from(balance)
        )),
        "{text}"
    );
    assert!(
        text.contains("faucet_claim_duration_seconds_count 4"),
        "{text}"
    );
    faucet.stop().await;
}
