//! The server against real slow clients over raw TCP sockets (an idle connection, a head or a
//! body cut off mid-way, an idle keep-alive connection), and the one error format.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::StatusCode,
    routing::{get, post},
};
use opdev_http::{BODY_TIMEOUT, HEADER_TIMEOUT, PageFn};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_util::sync::CancellationToken;

async fn echo(body: Body) -> (StatusCode, String) {
    match opdev_http::read_body(body, 1024, 4096).await {
        Ok(b) => (StatusCode::OK, String::from_utf8_lossy(&b).into_owned()),
        Err(e) => (e.status(), e.to_string()),
    }
}

async fn start(page: Option<PageFn>) -> (SocketAddr, CancellationToken) {
    let router = Router::new()
        .route("/", get(|| async { "home" }))
        .route("/api/echo", post(echo))
        .route(
            "/api/json",
            post(|axum::Json(v): axum::Json<serde_json::Value>| async move { v.to_string() }),
        );
    let router = opdev_http::harden(router, page);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(opdev_http::serve(listener, router, stop.clone()));
    (addr, stop)
}

/// Reads until the server closes the connection (or 30 s pass); returns what it sent and when
/// it closed.
async fn until_closed(stream: &mut TcpStream, since: Instant) -> (String, Duration) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Duration::from_secs(30);
    loop {
        match tokio::time::timeout(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("still open after {deadline:?}"),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), since.elapsed())
}

fn around(took: Duration, limit: Duration) -> bool {
    took >= limit - Duration::from_secs(1) && took <= limit + Duration::from_secs(3)
}

#[tokio::test]
async fn slow_and_idle_clients_are_cut_off_in_time() {
    let (addr, stop) = start(None).await;

    let idle = async {
        let t = Instant::now();
        let mut s = TcpStream::connect(addr).await.unwrap();
        let (got, took) = until_closed(&mut s, t).await;
        assert!(got.is_empty(), "{got}");
        assert!(
            around(took, HEADER_TIMEOUT),
            "idle connection closed after {took:?}"
        );
    };
    let half_head = async {
        let t = Instant::now();
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        // A byte every second does not keep it open.
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if s.write_all(b"a").await.is_err() {
                break;
            }
        }
        let (got, took) = until_closed(&mut s, t).await;
        assert!(!got.contains("200 OK"), "{got}");
        assert!(
            around(took, HEADER_TIMEOUT),
            "half a head: closed after {took:?}"
        );
    };
    let half_body = async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(
            b"POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789",
        )
        .await
        .unwrap();
        let t = Instant::now();
        let (got, took) = until_closed(&mut s, t).await;
        assert!(got.starts_with("HTTP/1.1 408"), "{got}");
        assert!(got.contains("\"error\":\"request_timeout\""), "{got}");
        assert!(
            around(took, BODY_TIMEOUT),
            "half a body: answered after {took:?}"
        );
    };
    let keep_alive = async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = s.read(&mut buf).await.unwrap();
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("home"), "{answer}");
        let t = Instant::now();
        let (got, took) = until_closed(&mut s, t).await;
        assert!(got.is_empty(), "{got}");
        assert!(
            around(took, HEADER_TIMEOUT),
            "idle keep-alive closed after {took:?}"
        );
    };
    let served_meanwhile = async {
        // Meanwhile, normal clients are served at once.
        tokio::time::sleep(Duration::from_secs(2)).await;
        for _ in 0..20 {
            let t = Instant::now();
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let (got, _) = until_closed(&mut s, t).await;
            assert!(got.starts_with("HTTP/1.1 200"), "{got}");
            assert!(t.elapsed() < Duration::from_secs(1));
        }
    };
    tokio::join!(idle, half_head, half_body, keep_alive, served_meanwhile);
    stop.cancel();
}

async fn raw(addr: SocketAddr, request: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let (got, _) = until_closed(&mut s, Instant::now()).await;
    let status = got
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {got:?}"));
    let (head, body) = got.split_once("\r\n\r\n").unwrap_or((&got, ""));
    (status, head.to_lowercase(), body.to_owned())
}

#[tokio::test]
async fn every_error_has_the_one_format() {
    let page: PageFn =
        std::sync::Arc::new(|status, message| format!("<p>{status}: {}</p>", message.len()));
    let (with_pages, stop1) = start(Some(page)).await;
    let (json_only, stop2) = start(None).await;
    let close = "Connection: close\r\n";
    for (addr, html) in [(with_pages, true), (json_only, false)] {
        // 404 on an HTML route: a page (or JSON on a service without pages).
        let (status, head, body) = raw(
            addr,
            &format!("GET /nope HTTP/1.1\r\nHost: x\r\n{close}\r\n"),
        )
        .await;
        assert_eq!(status, 404);
        if html {
            assert!(head.contains("content-type: text/html"), "{head}");
            assert!(body.starts_with("<p>404 Not Found"), "{body}");
        } else {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["error"], "not_found");
            assert!(v["message"].as_str().unwrap().contains("/nope"));
        }
        let cases = [
            ("GET /api/nope HTTP/1.1\r\n", "", 404, "not_found"),
            ("GET /api/echo HTTP/1.1\r\n", "", 405, "method_not_allowed"),
            (
                "DELETE /api/echo HTTP/1.1\r\n",
                "",
                405,
                "method_not_allowed",
            ),
            (
                "POST /api/json HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n",
                "{}",
                415,
                "unsupported_media_type",
            ),
            (
                "POST /api/json HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 3\r\n",
                "{x}",
                400,
                "bad_request",
            ),
            (
                "POST /api/json HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n",
                "[]",
                200,
                "",
            ),
            (
                "POST /api/echo HTTP/1.1\r\nContent-Length: 2000\r\n",
                &"x".repeat(2000),
                413,
                "body_too_large",
            ),
        ];
        for (start_line, body, want, code) in cases {
            let request = format!("{start_line}Host: x\r\n{close}\r\n{body}");
            let (status, head, answer) = raw(addr, &request).await;
            assert_eq!(status, want, "{start_line}: {answer}");
            if want == 200 {
                continue;
            }
            assert!(head.contains("content-type: application/json"), "{head}");
            let v: serde_json::Value = serde_json::from_str(&answer)
                .unwrap_or_else(|e| panic!("{start_line}: {e}: {answer}"));
            assert_eq!(v["error"], code, "{start_line}: {answer}");
            assert!(
                v["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{answer}"
            );
            if want == 405 {
                assert!(head.contains("allow: post"), "{head}");
            }
        }
        // Raw protocol errors: the connection is refused with a 4xx or closed, never a 5xx.
        for garbage in [
            &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"[..],
            b"GET / HTTP/9.9\r\n\r\n",
            b"GET /\r\n\r\n",
            b"GARBAGE\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ] {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(garbage).await.unwrap();
            let (got, took) = until_closed(&mut s, Instant::now()).await;
            let shown = String::from_utf8_lossy(garbage);
            assert!(took < HEADER_TIMEOUT + Duration::from_secs(3), "{shown:?}");
            if let Some(status) = got.get(9..12) {
                assert!(
                    status.starts_with('4') || status == "200",
                    "{shown:?}: {got}"
                );
            }
        }
        // A huge head is refused (431, or the connection is reset while it is still being
        // sent) rather than buffered without end.
        let mut s = TcpStream::connect(addr).await.unwrap();
        let big = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(1 << 20)
        );
        let _ = s.write_all(big.as_bytes()).await;
        let (got, _) = until_closed(&mut s, Instant::now()).await;
        if let Some(status) = got.get(9..12) {
            assert_eq!(status, "431", "{got}");
        }
    }
    stop1.cancel();
    stop2.cancel();
}
