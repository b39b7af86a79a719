//! A faucet killed (SIGKILL) in the middle of a burst of claims, against a real anvil and a real
//! PostgreSQL: when it starts again it settles what the crash left pending, so nobody who got
//! nothing stays locked out, and every transfer that reached the chain is recorded as sent with
//! its hash.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use alloy::{
    primitives::{Address, U256, utils::parse_ether},
    providers::{Provider, RootProvider},
    signers::local::PrivateKeySigner,
};
use opdev_test_utils::{TestAnvil, TestPostgres, free_port};

struct FaucetProcess {
    child: Child,
    url: String,
}

impl FaucetProcess {
    async fn start(key: &str, anvil: &str, database: &str, port: u16) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_opdev"))
            .args(["serve", "faucet", "--chain"])
            .arg(format!("l2-1=901={anvil}"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--address-claims", "1", "--ip-claims", "100000"])
            .env("FAUCET_PRIVATE_KEY", key)
            .env("DATABASE_URL", database)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("opdev serve faucet starts");
        // Owned at once, so Drop reaps it whatever happens next.
        let faucet = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest_client();
        for _ in 0..200 {
            if http
                .get(format!("{}/healthz", faucet.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return faucet;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the faucet did not answer within 10 s");
    }

    fn kill(&mut self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        let _ = self.child.wait();
    }
}

impl Drop for FaucetProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn reqwest_client() -> alloy::transports::http::reqwest::Client {
    alloy::transports::http::reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn claim(url: &str, address: Address) -> Option<u16> {
    let body = serde_json::json!({ "address": address.to_string(), "chain_id": 901 });
    reqwest_client()
        .post(format!("{url}/api/claim"))
        .json(&body)
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faucet_killed_mid_burst_settles_what_it_left_pending() {
    let (pg, anvil) = tokio::task::spawn_blocking(|| {
        (
            TestPostgres::start(),
            TestAnvil::start(&["--chain-id", "901"]),
        )
    })
    .await
    .unwrap();
    let provider: RootProvider = RootProvider::new_http(anvil.url().parse().unwrap());
    let signer = PrivateKeySigner::random();
    let _: serde_json::Value = provider
        .raw_request(
            "anvil_setBalance".into(),
            (signer.address(), parse_ether("1000").unwrap()),
        )
        .await
        .unwrap();
    let key = alloy::hex::encode_prefixed(signer.to_bytes());
    let port = free_port();
    let mut faucet = FaucetProcess::start(&key, &anvil.url(), &pg.url(), port).await;

    // A burst; the faucet is killed as soon as the first transfers have gone out. The database
    // connection that watches for them is open before the burst starts, and the burst is long
    // enough (200 claims) that a loaded machine still kills it midway.
    let (db, conn) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let addresses: Vec<Address> = (0..200)
        .map(|_| PrivateKeySigner::random().address())
        .collect();
    let url = faucet.url.clone();
    let burst = futures::future::join_all(addresses.iter().map(|a| claim(&url, *a)));
    let killer = async {
        for _ in 0..20_000 {
            let sent: i64 = db
                .query_one(
                    "SELECT count(*) FROM faucet_claims WHERE tx_hash IS NOT NULL",
                    &[],
                )
                .await
                .map(|r| r.get(0))
                .unwrap_or(0);
            if sent >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::task::block_in_place(|| faucet.kill());
    };
    let (answers, ()) = tokio::join!(burst, killer);
    let unanswered = answers.iter().filter(|a| a.is_none()).count();
    assert!(
        unanswered > 0,
        "the faucet was killed before the burst ended"
    );
    let pending_at_kill: i64 = db
        .query_one(
            "SELECT count(*) FROM faucet_claims WHERE outcome = 'pending'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(pending_at_kill > 0, "the crash left claims pending");

    // It starts again: everything pending is settled before the first claim is taken.
    let faucet = FaucetProcess::start(&key, &anvil.url(), &pg.url(), port).await;
    let rows = db
        .query(
            "SELECT address, outcome, tx_hash FROM faucet_claims ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r.get::<_, String>(1) != "pending"));
    let mut paid = 0;
    for address in &addresses {
        let text = address.to_string();
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| r.get::<_, String>(0) == text)
            .collect();
        let sent: Vec<_> = mine
            .iter()
            .filter(|r| r.get::<_, String>(1) == "sent")
            .collect();
        let balance = provider.get_balance(*address).await.unwrap();
        if balance > U256::ZERO {
            // Paid: exactly one sent row, with the hash of the transfer to it.
            paid += 1;
            assert_eq!(balance, parse_ether("1").unwrap(), "{address}");
            assert_eq!(sent.len(), 1, "{address} was paid: its record is kept");
            let hash: String = sent[0].get(2);
            let tx = provider
                .get_transaction_by_hash(hash.parse().unwrap())
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{hash} is on the chain"));
            assert_eq!(alloy::consensus::Transaction::to(&tx), Some(*address));
            assert_eq!(claim(&faucet.url, *address).await, Some(429), "{address}");
        } else {
            // Not paid: nothing counts, so the address may claim now.
            assert!(sent.is_empty(), "{address} got nothing but has a sent row");
            assert_eq!(claim(&faucet.url, *address).await, Some(200), "{address}");
        }
    }
    assert!(paid >= 3, "{paid} transfers went out before the kill");
    assert!(paid < addresses.len(), "some claims were cut off");
}
