//! Bad input is refused with a 4xx and a JSON error, and nothing is sent or recorded.

use alloy::primitives::Address;
use opdev_faucet::client;
use serde_json::json;

use crate::common::{CHAIN_ID, Env, Faucet, http, limits, random_address, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_nothing_is_sent_or_recorded() {
    let env = Env::start().await;
    let faucet = Faucet::start(env.config(limits((1, 3600), (1000, 3600)))).await;
    let url = faucet.url();
    let claim_url = format!("{url}/api/claim");

    let address = random_address();
    let checksummed = address.to_checksum(None);
    // Flip the case of one letter: a mixed-case address with a wrong checksum.
    let i = checksummed[2..]
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| i + 2)
        .expect("a letter");
    let mut wrong = checksummed.clone().into_bytes();
    wrong[i] = if wrong[i].is_ascii_lowercase() {
        wrong[i].to_ascii_uppercase()
    } else {
        wrong[i].to_ascii_lowercase()
    };
    let wrong = String::from_utf8(wrong).unwrap();
    assert!(wrong.parse::<Address>().is_ok() && wrong != checksummed);

    let json_body = |v: serde_json::Value| http().post(&claim_url).json(&v);
    let raw = |ct: Option<&str>, body: String| {
        let r = http().post(&claim_url).body(body);
        match ct {
            Some(ct) => r.header("content-type", ct),
            None => r,
        }
    };
    let good = json!({ "address": checksummed, "chain_id": CHAIN_ID }).to_string();
    let mut padded = json!({ "address": checksummed, "chain_id": CHAIN_ID, "pad": "" });
    padded["pad"] = "x".repeat(1100).into();
    let cases = [
        (
            "wrong checksum",
            json_body(json!({ "address": wrong, "chain_id": CHAIN_ID })),
            400,
            "invalid_address",
        ),
        (
            "short address",
            json_body(json!({ "address": "0x1234", "chain_id": CHAIN_ID })),
            400,
            "invalid_address",
        ),
        (
            "no 0x",
            json_body(json!({ "address": &checksummed[2..], "chain_id": CHAIN_ID })),
            400,
            "invalid_address",
        ),
        (
            "not hex",
            json_body(json!({ "address": format!("0x{}", "z".repeat(40)), "chain_id": CHAIN_ID })),
            400,
            "invalid_address",
        ),
        (
            "unknown chain",
            json_body(json!({ "address": checksummed, "chain_id": 999 })),
            400,
            "unknown_chain",
        ),
        ("body over 1 KiB", json_body(padded), 413, "body_too_large"),
        (
            "text/plain",
            raw(Some("text/plain"), good.clone()),
            415,
            "unsupported_media_type",
        ),
        (
            "form type",
            raw(Some("application/x-www-form-urlencoded"), good.clone()),
            415,
            "unsupported_media_type",
        ),
        (
            "no content type",
            raw(None, good.clone()),
            415,
            "unsupported_media_type",
        ),
        (
            "malformed JSON",
            raw(Some("application/json"), "{\"address\": ".into()),
            400,
            "malformed_json",
        ),
        (
            "address missing",
            json_body(json!({ "chain_id": CHAIN_ID })),
            400,
            "malformed_json",
        ),
        (
            "chain id not a number",
            json_body(json!({ "address": checksummed, "chain_id": "901" })),
            400,
            "malformed_json",
        ),
        (
            "address not a string",
            json_body(json!({ "address": 5, "chain_id": CHAIN_ID })),
            400,
            "malformed_json",
        ),
    ];
    for (what, request, status, code) in cases {
        let answer = send(request).await;
        assert_eq!(answer.status, status, "{what}: {}", answer.text);
        assert_eq!(answer.json["error"], code, "{what}: {}", answer.text);
        assert!(
            answer.json["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}"
        );
    }
    assert_eq!(env.faucet_nonce().await, 0, "nothing was sent");
    assert!(
        client::history(&url, None, None).await.unwrap().is_empty(),
        "nothing recorded"
    );

    // The same address in all lowercase is accepted (no checksum to check).
    let lower = send(json_body(
        json!({ "address": checksummed.to_lowercase(), "chain_id": CHAIN_ID }),
    ))
    .await;
    assert_eq!(lower.status, 200, "{}", lower.text);
    let history = client::history(&url, Some(address), None).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].address, address);
    assert_eq!(env.faucet_nonce().await, 1);

    // History refuses a bad address filter too.
    let bad = send(http().get(format!("{url}/api/history?address=0x12"))).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json["error"], "invalid_address");
    faucet.stop().await;
}
