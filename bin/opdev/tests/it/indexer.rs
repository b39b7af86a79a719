//! `opdev serve indexer` killed with SIGKILL at random moments of a backfill, five times, then
//! run to the head: the database must match the chain exactly (no duplicate, no missing row).

use std::{
    io::{Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy::rpc::client::RpcClient;
use opdev_test_utils::{TestAnvil, TestPostgres, free_port};
use serde_json::{Value, json};

const DEV0: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const DEV1: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

async fn call(url: &str, method: &'static str, params: Value) -> Value {
    let client = RpcClient::new_http(url.parse().unwrap());
    client
        .request::<_, Value>(method, params)
        .await
        .unwrap_or_else(|e| panic!("{method}: {e}"))
}

async fn head(url: &str) -> u64 {
    let h = call(url, "eth_blockNumber", json!([])).await;
    u64::from_str_radix(h.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// A pseudo-random number in `0..n` (clock nanoseconds; no need for more here).
fn jitter(n: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    (nanos / 1000) % n.max(1)
}

/// The `indexed_head` of the only chain in `/health` on `port`, if the server answers.
fn indexed_head(port: u16) -> Option<u64> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let body = out.split_once("\r\n\r\n")?.1;
    let v: Value = serde_json::from_str(body).ok()?;
    v["chains"][0]["indexed_head"].as_u64()
}

fn spawn_indexer(db: &str, rpc: &str, port: u16, log: &std::path::Path) -> Child {
    let log = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_opdev"))
        .args([
            "serve",
            "indexer",
            "--chain",
            &format!("l2=901={rpc}"),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--batch-size",
            "20",
        ])
        .env("DATABASE_URL", db)
        .env("OPDEV_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("opdev serve indexer starts")
}

/// Waits until the indexer on `port` has indexed at least `target`; panics after `within`.
fn wait_indexed(port: u16, target: u64, within: Duration, child: &mut Child) -> u64 {
    let until = Instant::now() + within;
    loop {
        if let Some(h) = indexed_head(port)
            && h >= target
        {
            return h;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the indexer exited early"
        );
        assert!(Instant::now() < until, "indexer did not reach {target}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn indexer_killed_five_times_during_backfill_resumes_without_duplicates_or_gaps() {
    let pg = TestPostgres::start();
    let l2 = TestAnvil::start(&["--chain-id", "901", "--network", "optimism"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = l2.url();
    // ~4,000 blocks: transfers and contract deployments between runs of empty blocks.
    let code = format!("0x{}", opdev_chain::smoke::COUNTER_BYTECODE_HEX.trim());
    rt.block_on(async {
        for i in 0..40u64 {
            call(
                &url,
                "eth_sendTransaction",
                json!([{"from": DEV0, "to": DEV1, "value": format!("{:#x}", i + 1)}]),
            )
            .await;
            if i % 8 == 0 {
                call(
                    &url,
                    "eth_sendTransaction",
                    json!([{"from": DEV1, "data": code, "gas": "0x100000"}]),
                )
                .await;
            }
            call(&url, "anvil_mine", json!(["0x64"])).await;
        }
    });
    let chain_head = rt.block_on(head(&url));
    assert!(chain_head >= 4000, "{chain_head}");

    let dir = tempfile::tempdir().unwrap();
    let mut last = 0;
    for kill in 0..5u64 {
        let port = free_port();
        let log = dir.path().join(format!("indexer-{kill}.log"));
        let mut child = spawn_indexer(&pg.url(), &url, port, &log);
        // Somewhere in this run's share of the chain, plus a random delay.
        let target = last + 1 + jitter(chain_head / 8);
        let reached = wait_indexed(port, target, Duration::from_secs(20), &mut child);
        std::thread::sleep(Duration::from_millis(jitter(30)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains(&format!("listening on 127.0.0.1:{port}")),
            "{text}"
        );
        assert!(reached < chain_head, "kill {kill} came after the backfill");
        last = reached;
    }

    // Resume to the head and compare.
    let port = free_port();
    let mut child = spawn_indexer(&pg.url(), &url, port, &dir.path().join("final.log"));
    wait_indexed(port, chain_head, Duration::from_secs(30), &mut child);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM ends it cleanly: {status}");
    let counts = rt
        .block_on(opdev_indexer::verify::parity_at(&pg.url(), &url, 901))
        .unwrap_or_else(|e| panic!("parity: {e}"));
    assert_eq!(counts.blocks as u64, chain_head + 1);
    assert_eq!(counts.transactions, 40 + 5);
}
