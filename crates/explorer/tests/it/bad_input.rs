//! Bad input: malformed values, unknown things, out-of-range pages and hostile strings get a
//! 400 or 404 (a page or JSON), never a 500, and change nothing.

use crate::support::{self, DEV0, L2};

/// Strings that would hurt if they reached SQL or HTML unescaped.
const HOSTILE: &[&str] = &[
    "'; DROP TABLE blocks; --",
    "1 OR 1=1",
    "1; DELETE FROM transactions",
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "%00",
    "../../etc/passwd",
];

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unknown_input_is_400_or_404_in_html_and_json() {
    let env = support::start().await;
    let tx = env.facts.increment_tx.clone();
    let zero_hash = format!("0x{}", "00".repeat(32));
    let cases: Vec<(String, u16)> = vec![
        // Chains.
        ("/chains/abc".into(), 400),
        ("/chains/-1".into(), 400),
        ("/chains/99999999999999999999999".into(), 400),
        ("/chains/12345".into(), 404),
        // Blocks.
        (format!("/chains/{L2}/blocks/latest"), 400),
        (format!("/chains/{L2}/blocks/0x12"), 400),
        (format!("/chains/{L2}/blocks/-5"), 400),
        (format!("/chains/{L2}/blocks/99999999999999999999"), 400),
        (format!("/chains/{L2}/blocks/123456789"), 404),
        (format!("/chains/{L2}/blocks/{zero_hash}"), 404),
        // Transactions.
        (format!("/chains/{L2}/tx/0x1234"), 400),
        (format!("/chains/{L2}/tx/{}", &tx[..65]), 400),
        (format!("/chains/{L2}/tx/{}zz", &tx[..64]), 400),
        (format!("/chains/{L2}/tx/{zero_hash}"), 404),
        (format!("/chains/12345/tx/{tx}"), 404),
        // Addresses and pages.
        (format!("/chains/{L2}/address/0x1234"), 400),
        (format!("/chains/{L2}/address/{DEV0}?page=0"), 400),
        (format!("/chains/{L2}/address/{DEV0}?page=-1"), 400),
        (format!("/chains/{L2}/address/{DEV0}?page=abc"), 400),
        (format!("/chains/{L2}/address/{DEV0}?page=1001"), 400),
        (
            format!("/chains/{L2}/address/{DEV0}?page=99999999999999999999999"),
            400,
        ),
        (format!("/chains/{L2}/address/{DEV0}?page=2"), 404),
        (format!("/chains/{L2}/address/{DEV0}?page=%FF%FE"), 400),
        // Search.
        ("/search".into(), 400),
        ("/search?q=".into(), 400),
        (format!("/search?q={}", "1".repeat(300)), 400),
        ("/search?q=1&chain=abc".into(), 400),
        ("/search?q=1&chain=777".into(), 404),
        // Nothing there.
        ("/nope".into(), 404),
        (format!("/chains/{L2}/blocks"), 404),
    ];
    for (path, want) in &cases {
        let (status, body) = env.get(path).await;
        assert_eq!(status, *want, "GET {path}: {body}");
        assert!(body.starts_with("<!doctype html>"), "GET {path}: {body}");
        let api = format!("/api{path}");
        let (status, body) = env.get(&api).await;
        assert_eq!(status, *want, "GET {api}: {body}");
        let v: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {api}: {e}: {body}"));
        let code = if *want == 404 {
            "not_found"
        } else {
            "bad_request"
        };
        assert_eq!(v["error"], code, "GET {api}");
        assert!(v["message"].is_string(), "GET {api}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_stay_harmless() {
    let env = support::start().await;
    let before = env.json(&format!("/api/chains/{L2}")).await;
    for h in HOSTILE {
        let e = enc(h);
        for path in [
            format!("/chains/{e}"),
            format!("/chains/{L2}/blocks/{e}"),
            format!("/chains/{L2}/tx/{e}"),
            format!("/chains/{L2}/address/{e}"),
            format!("/chains/{L2}/address/{DEV0}?page={e}"),
            format!("/search?q={e}"),
            format!("/search?q=1&chain={e}"),
            format!("/search?{e}"),
        ] {
            for p in [path.clone(), format!("/api{path}")] {
                let (status, body) = env.get(&p).await;
                assert!(status == 400 || status == 404, "GET {p}: {status} {body}");
                if p.starts_with("/api/") {
                    // JSON is data, not markup: it must parse and say what went wrong.
                    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                    let code = if status == 404 {
                        "not_found"
                    } else {
                        "bad_request"
                    };
                    assert_eq!(v["error"], code, "GET {p}");
                } else {
                    assert!(!body.contains("<script>alert"), "GET {p}: {body}");
                    assert!(!body.contains("<img src=x"), "GET {p}: {body}");
                }
            }
        }
    }
    // Everything is still there.
    let after = env.json(&format!("/api/chains/{L2}")).await;
    assert_eq!(before["latest_blocks"], after["latest_blocks"]);
    let (client, conn) = tokio_postgres::connect(&env.pg.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM blocks WHERE chain_id = $1",
            &[&(L2 as i64)],
        )
        .await
        .unwrap()
        .get(0);
    assert!(n > 5);
}
