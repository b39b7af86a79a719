//! The test harness: a PostgreSQL server, an anvil chain (id 901, automine), a funded random
//! faucet key, and helpers to start/stop the faucet and talk to it and to the chain.

use std::{net::SocketAddr, time::Duration};

use alloy::{
    primitives::{Address, U256, utils::parse_ether},
    providers::{Provider, RootProvider},
    signers::local::PrivateKeySigner,
    transports::http::reqwest,
};
use opdev_faucet::{ChainConfig, Config, Limit, Limits, Running};
use opdev_test_utils::{TestAnvil, TestPostgres};
use tokio_util::sync::CancellationToken;

/// The chain id the tests' anvil reports.
pub(crate) const CHAIN_ID: u64 = 901;

/// Real PostgreSQL + anvil and the faucet's key.
pub(crate) struct Env {
    pub(crate) pg: TestPostgres,
    pub(crate) anvil: TestAnvil,
    pub(crate) signer: PrivateKeySigner,
    /// Built once: each client loads the system's TLS roots.
    provider: RootProvider,
}

pub(crate) fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "opdev_faucet=debug".into()),
        )
        .with_test_writer()
        .try_init();
}

impl Env {
    /// Starts PostgreSQL and anvil side by side and funds a fresh faucet key with 1000 ETH.
    pub(crate) async fn start() -> Self {
        init_tracing();
        let (pg, anvil) = tokio::task::spawn_blocking(|| {
            std::thread::scope(|s| {
                let pg = s.spawn(TestPostgres::start);
                let anvil = TestAnvil::start(&["--chain-id", "901"]);
                (pg.join().expect("postgres starts"), anvil)
            })
        })
        .await
        .expect("start PostgreSQL and anvil");
        let provider = RootProvider::new_http(anvil.url().parse().unwrap());
        let env = Self {
            pg,
            anvil,
            signer: PrivateKeySigner::random(),
            provider,
        };
        env.set_balance(env.signer.address(), parse_ether("1000").unwrap())
            .await;
        env
    }

    pub(crate) fn provider(&self) -> RootProvider {
        self.provider.clone()
    }

    pub(crate) async fn set_balance(&self, address: Address, wei: U256) {
        let _: serde_json::Value = self
            .provider()
            .raw_request("anvil_setBalance".into(), (address, wei))
            .await
            .expect("anvil_setBalance");
    }

    pub(crate) async fn balance(&self, address: Address) -> U256 {
        self.provider().get_balance(address).await.expect("balance")
    }

    /// Transactions sent from the faucet's key (pending ones included).
    pub(crate) async fn faucet_nonce(&self) -> u64 {
        // Pending: a claim answers once its transfer is sent, maybe before it is mined.
        self.provider()
            .get_transaction_count(self.signer.address())
            .pending()
            .await
            .expect("nonce")
    }

    /// A config for this env: 1 ETH per claim, the given limits.
    pub(crate) fn config(&self, limits: Limits) -> Config {
        Config::new(
            vec![ChainConfig {
                name: "l2-1".into(),
                chain_id: CHAIN_ID,
                rpc_url: self.anvil.url(),
                amount: parse_ether("1").unwrap(),
            }],
            self.pg.url(),
            self.signer.clone(),
        )
        .with_limits(limits)
    }
}

/// Limits with the given claims and windows (seconds).
pub(crate) fn limits(address: (u32, u64), ip: (u32, u64)) -> Limits {
    Limits {
        address: Limit {
            claims: address.0,
            window: Duration::from_secs(address.1),
        },
        ip: Limit {
            claims: ip.0,
            window: Duration::from_secs(ip.1),
        },
    }
}

/// A faucet running in-process.
pub(crate) struct Faucet {
    pub(crate) running: Running,
    pub(crate) stop: CancellationToken,
}

impl Faucet {
    pub(crate) async fn start(config: Config) -> Self {
        let stop = CancellationToken::new();
        let running = opdev_faucet::start(config, stop.clone())
            .await
            .expect("faucet starts");
        Self { running, stop }
    }

    pub(crate) fn url(&self) -> String {
        self.running.url()
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.running.local_addr
    }

    /// Stops it and waits until it has stopped (bounded).
    pub(crate) async fn stop(self) {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.running.wait())
            .await
            .expect("faucet stops within 10 s")
            .expect("faucet stops cleanly");
    }
}

/// An HTTP answer: status, headers and parsed JSON (Null when the body is not JSON).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) json: serde_json::Value,
    pub(crate) text: String,
}

pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub(crate) async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("faucet answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    Answer {
        status,
        headers,
        json,
        text,
    }
}

/// `POST /api/claim` with a JSON body and optional X-Forwarded-For.
pub(crate) async fn post_claim(
    base: &str,
    body: serde_json::Value,
    forwarded_for: Option<&str>,
) -> Answer {
    let mut request = http().post(format!("{base}/api/claim")).json(&body);
    if let Some(ip) = forwarded_for {
        request = request.header("x-forwarded-for", ip);
    }
    send(request).await
}

pub(crate) fn claim_body(address: Address) -> serde_json::Value {
    serde_json::json!({ "address": address.to_string(), "chain_id": CHAIN_ID })
}

pub(crate) fn random_address() -> Address {
    PrivateKeySigner::random().address()
}
