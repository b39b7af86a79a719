//! The standing adversarial suite, for the tests of every service (feature `probe`): bounded
//! loops of malformed and hostile requests sent over raw TCP — so nothing a client library would
//! refuse to send is left out — with the checks every service must pass: never a 5xx, every error
//! in the one format (JSON `{"error","message"}` or an HTML page), no unescaped markup, and every
//! connection closed in bounded time. Each service's test adds its own checks (an unchanged
//! ledger, a bounded `/metrics`).

use std::{net::SocketAddr, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Strings a hostile client puts anywhere it can: markup, SQL, traversal, control characters,
/// header injection, template and lookup strings, odd Unicode, huge and odd numbers.
pub const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "' OR '1'='1' --",
    "'; DROP TABLE blocks; --",
    "1; DELETE FROM transactions",
    "0x' UNION SELECT 1 --",
    "../../../../etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "..\\..\\..\\windows\\win.ini",
    "%00",
    "\u{0000}",
    "\r\nSet-Cookie: pwned=1",
    "${jndi:ldap://127.0.0.1/x}",
    "{{7*7}}",
    "\u{202e}gnp.exe",
    "😀",
    "-1",
    "-0",
    "1e400",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "0x",
    "0xZZ",
    "NaN",
    "",
];

/// An answer read off the socket.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// The status, when a status line came back.
    pub status: Option<u16>,
    /// The `Content-Type` header (lowercase), or empty.
    pub content_type: String,
    /// The body (lossy UTF-8).
    pub body: String,
}

/// Writes `bytes` on a new connection and reads until the server closes it (within 20 s).
pub async fn raw(addr: SocketAddr, bytes: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    let _ = stream.write_all(bytes).await;
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "connection still open 20 s after {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
            ),
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.get(9..12).and_then(|s| s.parse().ok());
    let content_type = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_lowercase())
        .unwrap_or_default();
    Answer {
        status,
        content_type,
        body: body.to_owned(),
    }
}

/// One request with `Connection: close`.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut bytes =
        format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        bytes.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        bytes.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    bytes.push_str("\r\n");
    let mut bytes = bytes.into_bytes();
    bytes.extend_from_slice(body);
    raw(addr, &bytes).await
}

/// Percent-encodes everything but ASCII letters and digits.
pub fn enc(s: &str) -> String {
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

/// The checks every answer must pass: no 5xx; a 4xx as `{"error","message"}` JSON or an HTML
/// page; no unescaped markup in HTML.
pub fn assert_harmless(what: &str, answer: &Answer) {
    let Some(status) = answer.status else {
        // Closed without an answer (a protocol error hyper refuses outright): harmless.
        return;
    };
    assert!(status < 500, "{what}: {status} {}", answer.body);
    if answer.content_type.starts_with("text/html") {
        for markup in ["<script>alert", "<img src=x"] {
            assert!(
                !answer.body.contains(markup),
                "{what}: unescaped markup: {}",
                answer.body
            );
        }
    }
    if status >= 400 && !answer.body.is_empty() {
        if answer.content_type.starts_with("application/json") {
            let v: serde_json::Value = serde_json::from_str(&answer.body)
                .unwrap_or_else(|e| panic!("{what}: {e}: {}", answer.body));
            assert!(
                v["error"].is_string() && v["message"].is_string(),
                "{what}: {}",
                answer.body
            );
        } else {
            assert!(
                answer.content_type.starts_with("text/html"),
                "{what}: {status} as {:?}: {}",
                answer.content_type,
                answer.body
            );
        }
    }
}

/// Runs the suite against the service at `addr`. `routes` are its routes, with `{}` where a path
/// segment comes from the client (e.g. `/api/chains/{}`); `body_routes` the ones that take a
/// body (method, path, content type). Returns the number of requests sent.
pub async fn run(addr: SocketAddr, routes: &[&str], body_routes: &[(&str, &str, &str)]) -> usize {
    let mut sent = 0;
    let mut check = |what: String, answer: Answer| {
        assert_harmless(&what, &answer);
        sent += 1;
    };
    // Hostile strings in every client-chosen path segment and in the query string.
    for route in routes {
        for h in HOSTILE {
            for target in [
                route.replace("{}", &enc(h)),
                format!(
                    "{}?q={}&page={}&limit={}",
                    route.replace("{}", "1"),
                    enc(h),
                    enc(h),
                    enc(h)
                ),
                format!("{}?{}", route.replace("{}", "1"), enc(h)),
            ] {
                let answer = request(addr, "GET", &target, &[], b"").await;
                check(format!("GET {target}"), answer);
            }
        }
    }
    // Every method on every route; traversal and odd paths.
    let mut paths: Vec<String> = routes.iter().map(|r| r.replace("{}", "1")).collect();
    paths.extend(
        [
            "/../../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/api/../metrics",
            "/api/%2e%2e/%2e%2e/",
            "//metrics",
            "/metrics/",
            "/METRICS",
            "/.env",
            "/.git/config",
            "/static/..%5c..%5cwin.ini",
            "/nope/<script>alert(1)</script>",
            "/?<script>alert(1)</script>",
            "*",
            "http://evil.example/",
        ]
        .map(String::from),
    );
    for path in &paths {
        for method in [
            "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "FOO",
        ] {
            let answer = request(addr, method, path, &[], b"").await;
            check(format!("{method} {path}"), answer);
        }
    }
    // Bodies, types and encodings where a body is taken (and a body where none is).
    let mut bodies: Vec<Vec<u8>> = vec![
        b"null".to_vec(),
        b"[]".to_vec(),
        b"{".to_vec(),
        b"{\"a\":}".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        vec![0xc3, 0x28],
        b"\xef\xbb\xbf{}".to_vec(),
        format!("{}{}", "[".repeat(500), "]".repeat(500)).into_bytes(),
        format!("{{\"alerts\": [{{\"status\": {}}}]}}", "9".repeat(400)).into_bytes(),
        b"{\"alerts\": \"not a list\", \"status\": 1e400}".to_vec(),
        vec![b'x'; 70_000],
    ];
    bodies.extend(HOSTILE.iter().map(|h| h.as_bytes().to_vec()));
    let mut targets: Vec<(String, String, String)> = body_routes
        .iter()
        .map(|(m, p, ct)| ((*m).to_owned(), (*p).to_owned(), (*ct).to_owned()))
        .collect();
    if let Some(first) = routes.first() {
        targets.push((
            "GET".into(),
            first.replace("{}", "1"),
            "application/json".into(),
        ));
    }
    for (method, path, ct) in &targets {
        for content_type in [
            ct.as_str(),
            "text/plain",
            "application/json; charset=utf-16",
            "multipart/form-data; boundary=x",
        ] {
            for body in &bodies {
                let headers = [("Content-Type", content_type), ("Content-Encoding", "gzip")];
                let answer = request(addr, method, path, &headers[..1], body).await;
                check(
                    format!(
                        "{method} {path} ({content_type}) body {:?}",
                        String::from_utf8_lossy(&body[..body.len().min(40)])
                    ),
                    answer,
                );
            }
            let headers = [("Content-Type", content_type), ("Content-Encoding", "gzip")];
            let answer = request(addr, method, path, &headers, b"\x1f\x8b\x08\x00garbage").await;
            check(format!("{method} {path} gzip"), answer);
        }
    }
    // Hostile headers.
    let long = "a".repeat(16 * 1024);
    for (k, v) in [
        ("Host", "<script>alert(1)</script>"),
        ("X-Forwarded-For", "' OR 1=1 --, 999.999.999.999, ::ffff:zz"),
        ("Accept", "*/*; q=NaN"),
        ("Cookie", long.as_str()),
        ("Range", "bytes=0-18446744073709551616"),
        ("Expect", "100-continue"),
    ] {
        let answer = request(addr, "GET", &paths[0], &[(k, v)], b"").await;
        check(format!("GET {} with {k}", paths[0]), answer);
    }
    // Raw protocol errors.
    let big_head = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(600_000));
    let many_headers: String = (0..300).map(|i| format!("X-{i}: {i}\r\n")).collect();
    let raw_cases: Vec<Vec<u8>> = vec![
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec(),
        b"GET / HTTP/2.0\r\n\r\n".to_vec(),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        b"GET /\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        b"\r\n\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcde".to_vec(),
        b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nab\r\n0\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: \x00\x01\r\n\r\n".to_vec(),
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        format!("GET / HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n").into_bytes(),
        big_head.into_bytes(),
    ];
    // Some of these leave the server waiting for the rest of a head (up to its 10 s limit): all
    // at once, so the suite takes that wait once.
    let answers = futures::future::join_all(raw_cases.iter().map(|bytes| raw(addr, bytes))).await;
    for (bytes, answer) in raw_cases.iter().zip(answers) {
        check(
            format!(
                "raw {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
            ),
            answer,
        );
    }
    sent
}
