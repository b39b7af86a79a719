//! The standing adversarial suite of the faucet: bounded loops of malformed and hostile requests
//! (bodies, types, encodings, path traversal, injection strings, huge numbers, raw protocol
//! errors) against a real faucet on real anvil and PostgreSQL. Every answer is a 4xx (or a 2xx
//! for a harmless read), never a 5xx; HTML answers carry no unescaped markup; `/metrics` stays
//! bounded; and nothing is paid or recorded.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::{io::AsyncReadExt, net::TcpStream};

use crate::common::{CHAIN_ID, Env, Faucet, http, limits, random_address, send};

/// Strings a hostile client puts anywhere it can.
const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "' OR '1'='1' --",
    "'; DROP TABLE faucet_claims; --",
    "0x' UNION SELECT 1 --",
    "../../../../etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "%00",
    "\u{0000}",
    "\r\nSet-Cookie: pwned=1",
    "${jndi:ldap://127.0.0.1/x}",
    "{{7*7}}",
    "\u{202e}gnp.exe",
    "😀😀😀",
    "\u{feff}0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x",
    "0X00000000000000000000000000000000000000001",
    "-0",
    "1e400",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "NaN",
    "",
];

/// Values of the wrong type (or out of range) for `address` and `chain_id`.
fn wrong_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e300),
        json!(u64::MAX),
        json!([]),
        json!({}),
        json!(["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"]),
        json!({"$ne": null}),
        json!("0".repeat(900)),
    ]
}

/// Raw bodies that are not the claim JSON.
fn raw_bodies() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"address\"".to_vec(),
        b"{".to_vec(),
        b"{\"address\":}".to_vec(),
        b"{\"address\": \"0x1\", \"address\": \"0x2\"}".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        vec![0xc3, 0x28, 0x7b, 0x7d],
        b"\xef\xbb\xbf{}".to_vec(),
        format!("{}{}", "[".repeat(400), "]".repeat(400)).into_bytes(),
        format!("{{\"address\": \"{}\"}}", "a".repeat(2000)).into_bytes(),
        vec![b'x'; 70_000],
    ];
    bodies.extend(HOSTILE.iter().map(|h| h.as_bytes().to_vec()));
    bodies
}

fn assert_harmless(what: &str, status: u16, content_type: &str, body: &str) {
    assert!(
        (400..500).contains(&status) || (200..300).contains(&status),
        "{what}: {status} {body}"
    );
    assert!(status < 500, "{what}: {status} {body}");
    if content_type.starts_with("text/html") {
        for markup in ["<script>alert", "<img src=x"] {
            assert!(!body.contains(markup), "{what}: unescaped markup: {body}");
        }
    }
    if status >= 400 {
        if content_type.starts_with("application/json") {
            let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(
                v["error"].is_string() && v["message"].is_string(),
                "{what}: {body}"
            );
        } else {
            assert!(
                content_type.starts_with("text/html"),
                "{what}: {status} with {content_type:?}: {body}"
            );
        }
    }
}

async fn check(what: String, request: alloy::transports::http::reqwest::RequestBuilder) -> u16 {
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.text().await.unwrap_or_default();
    assert_harmless(&what, status, &content_type, &body);
    status
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_4xx_and_change_nothing() {
    let env = Env::start().await;
    let faucet = Faucet::start(env.config(limits((1, 3600), (1000, 3600)))).await;
    let url = faucet.url();
    let metrics_before = send(http().get(format!("{url}/metrics"))).await.text.len();
    let started = Instant::now();
    let client = http();
    let mut sent = 0usize;

    // An idle connection is closed while the rest goes on.
    let addr = faucet.addr();
    let idle = tokio::spawn(async move {
        let t = Instant::now();
        let mut s = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf)).await;
        assert!(
            matches!(n, Ok(Ok(0)) | Ok(Err(_))),
            "idle connection: {n:?}"
        );
        t.elapsed()
    });

    // Bodies and encodings on both claim routes.
    for body in raw_bodies() {
        for (path, ct) in [
            ("/api/claim", "application/json"),
            ("/api/claim", "application/json; charset=utf-16"),
            ("/api/claim", "text/plain"),
            ("/claim", "application/x-www-form-urlencoded"),
            ("/claim", "multipart/form-data; boundary=x"),
        ] {
            let what = format!(
                "POST {path} ({ct}) {:?}",
                String::from_utf8_lossy(&body[..body.len().min(40)])
            );
            let request = client
                .post(format!("{url}{path}"))
                .header("content-type", ct)
                .body(body.clone());
            if body.len() > 64 * 1024 {
                // The faucet drains at most 64 KiB of an oversized body, answers (413, or 415 for a wrong type) and closes:
                // a client still writing the rest may see the connection closed instead of the
                // answer (seen once under load). Both refuse the request.
                if let Ok(response) = request.send().await {
                    let status = response.status().as_u16();
                    assert!((400..500).contains(&status), "{what}: {status}");
                }
            } else {
                check(what, request).await;
            }
            sent += 1;
        }
    }
    // Wrong types and hostile strings in every field of the claim.
    let address = random_address().to_string();
    let mut claims: Vec<Value> = Vec::new();
    for v in wrong_values() {
        claims.push(json!({ "address": v, "chain_id": CHAIN_ID }));
        // (A null chain id is a claim on the first chain, as documented.)
        if !v.is_null() {
            claims.push(json!({ "address": address, "chain_id": v }));
        }
    }
    for h in HOSTILE {
        claims.push(json!({ "address": h, "chain_id": CHAIN_ID }));
        claims.push(json!({ "address": address, "chain_id": h }));
        // An extra field is ignored; chain 1 is not served, so this one is refused too.
        claims.push(json!({ "address": address, "chain_id": 1, *h: h }));
    }
    for claim in claims {
        let status = check(
            format!("POST /api/claim {claim}"),
            client.post(format!("{url}/api/claim")).json(&claim),
        )
        .await;
        assert!(status >= 400, "{claim}: {status}");
        sent += 1;
    }
    // Hostile strings in the form and in every query parameter.
    for h in HOSTILE {
        for form in [
            vec![("address", *h), ("chain_id", "901")],
            vec![("address", address.as_str()), ("chain_id", *h)],
        ] {
            check(
                format!("POST /claim {form:?}"),
                client
                    .post(format!("{url}/claim"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(serde_urlencoded::to_string(&form).unwrap()),
            )
            .await;
            sent += 1;
        }
        for query in [
            format!("address={}", enc(h)),
            format!("chain_id={}", enc(h)),
            format!("limit={}", enc(h)),
            enc(h),
        ] {
            check(
                format!("GET /api/history?{query}"),
                client.get(format!("{url}/api/history?{query}")),
            )
            .await;
            sent += 1;
        }
    }
    // Traversal and odd paths and methods.
    for path in [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/api/../metrics",
        "/api/%2e%2e/claim",
        "//api//claim",
        "/api/claim/",
        "/api/claim%00",
        "/API/CLAIM",
        "/metrics/../../",
        "/static/..%5c..%5cwin.ini",
        "/index.html",
        "/.env",
        "/?<script>alert(1)</script>",
        "/nope/<script>alert(1)</script>",
    ] {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            check(
                format!("{method} {path}"),
                client.request(method.parse().unwrap(), format!("{url}{path}")),
            )
            .await;
            sent += 1;
        }
    }
    // Raw protocol errors.
    let big_head = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(600_000));
    let raw_cases: Vec<Vec<u8>> = vec![
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec(),
        b"GET / HTTP/2.0\r\n\r\n".to_vec(),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        b"GET /\r\n\r\n".to_vec(),
        b"\r\n\r\n\r\n".to_vec(),
        b"POST /api/claim HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}".to_vec(),
        b"POST /api/claim HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n".to_vec(),
        b"POST /api/claim HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n{}".to_vec(),
        b"POST /api/claim HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: \x00\x01\r\n\r\n".to_vec(),
        big_head.into_bytes(),
    ];
    for bytes in &raw_cases {
        if let Some(status) = opdev_http::probe::raw(faucet.addr(), bytes).await.status {
            assert!(
                status < 500,
                "{:?}: {status}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
            );
        }
        sent += 1;
    }

    // The suite every service runs (opdev_http::probe), on every route.
    sent += opdev_http::probe::run(
        faucet.addr(),
        &[
            "/",
            "/claim",
            "/api/claim",
            "/api/info",
            "/api/history",
            "/metrics",
            "/healthz",
        ],
        &[
            ("POST", "/api/claim", "application/json"),
            ("POST", "/claim", "application/x-www-form-urlencoded"),
        ],
    )
    .await;

    // Nothing was paid or recorded, and /metrics stayed small.
    assert_eq!(env.faucet_nonce().await, 0, "something was sent");
    let history = send(http().get(format!("{url}/api/history?limit=1000"))).await;
    assert_eq!(history.json["claims"], json!([]), "{}", history.text);
    let metrics_after = send(http().get(format!("{url}/metrics"))).await.text;
    assert!(
        metrics_after.len() < metrics_before + 1000,
        "/metrics grew from {metrics_before} to {} bytes: {metrics_after}",
        metrics_after.len()
    );
    let idle_for = idle.await.unwrap();
    assert!(
        idle_for < Duration::from_secs(13),
        "idle connection held {idle_for:?}"
    );
    tracing::info!(requests = sent, took = ?started.elapsed(), "adversarial suite");
}
