//! A small client of the faucet's HTTP API for the CLI (`opdev faucet ADDRESS`, `opdev faucet
//! history`): [`claim`], [`history`], [`info`] (or a [`FaucetClient`] that keeps its connections),
//! and [`wait_for_receipt`] to wait on the chain for the transfer a claim sent. It uses the
//! `reqwest` client alloy already carries.

use std::time::{Duration, Instant};

use alloy::{
    primitives::{Address, B256},
    providers::{Provider, RootProvider},
    rpc::types::TransactionReceipt,
    transports::http::reqwest,
};
use serde::Deserialize;

pub use crate::{claim::ClaimResponse, http::Info, store::ClaimRecord};

/// Deadline of one request to the faucet.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Interval between receipt polls.
const RECEIPT_POLL: Duration = Duration::from_millis(100);

/// Why a faucet request did not give an answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not usable.
    #[error("read URL {url:?}: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// No answer (refused, timed out, broken).
    #[error("reach {url}: {reason}")]
    Request {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The faucet refused or failed the request.
    #[error("{message} (HTTP {status}, {code})")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The faucet's error code (`rate_limited`, `invalid_address`, …).
        code: String,
        /// The faucet's message.
        message: String,
        /// Seconds to wait, for `rate_limited`.
        retry_after: Option<u64>,
    },
    /// The answer was not what the API promises.
    #[error("read the answer of {url}: {reason}")]
    Decode {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The node did not answer the receipt query.
    #[error("read the receipt of {tx_hash}: {reason}")]
    Rpc {
        /// The transaction.
        tx_hash: B256,
        /// What went wrong.
        reason: String,
    },
    /// The transaction was not mined in time.
    #[error("wait for {tx_hash}: not mined within {} s", .timeout.as_secs())]
    Timeout {
        /// The transaction.
        tx_hash: B256,
        /// How long it was waited for.
        timeout: Duration,
    },
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
    retry_after: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct HistoryBody {
    claims: Vec<ClaimRecord>,
}

/// One client for the process: building one loads the system's TLS roots, which costs
/// milliseconds of CPU each (200 claims at once spent seconds on it). Idle connections are
/// dropped before the server's own 10 s idle limit, so a request never lands on a connection the
/// server is closing.
fn http() -> Result<reqwest::Client, ClientError> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| ClientError::Request {
            url: String::new(),
            reason: e.to_string(),
        })?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

fn endpoint(base_url: &str, path: &str) -> Result<reqwest::Url, ClientError> {
    let url = format!("{}{path}", base_url.trim_end_matches('/'));
    url.parse().map_err(|e| ClientError::Url {
        url: url.clone(),
        reason: format!("{e}"),
    })
}

async fn answer<T: serde::de::DeserializeOwned>(
    url: &reqwest::Url,
    request: reqwest::RequestBuilder,
) -> Result<T, ClientError> {
    let response = request.send().await.map_err(|e| ClientError::Request {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| ClientError::Request {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    if !status.is_success() {
        return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => ClientError::Refused {
                status: status.as_u16(),
                code: body.error,
                message: body.message,
                retry_after: body.retry_after,
            },
            Err(_) => ClientError::Refused {
                status: status.as_u16(),
                code: "http_error".into(),
                message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                retry_after: None,
            },
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
        url: url.to_string(),
        reason: e.to_string(),
    })
}

/// A faucet client that reuses its connections (for many requests to one faucet).
#[derive(Debug, Clone)]
pub struct FaucetClient {
    http: reqwest::Client,
    base_url: String,
}

impl FaucetClient {
    /// A client of the faucet at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        Ok(Self {
            http: http()?,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Claims the faucet's amount for `address` on `chain_id`; returns once the transfer is sent.
    pub async fn claim(
        &self,
        address: Address,
        chain_id: u64,
    ) -> Result<ClaimResponse, ClientError> {
        let url = endpoint(&self.base_url, "/api/claim")?;
        let body = serde_json::json!({ "address": address.to_string(), "chain_id": chain_id });
        answer(&url, self.http.post(url.clone()).json(&body)).await
    }

    /// The latest distributions (newest first, at most `limit`, default 50), of one address or
    /// all.
    pub async fn history(
        &self,
        address: Option<Address>,
        limit: Option<u32>,
    ) -> Result<Vec<ClaimRecord>, ClientError> {
        let mut url = endpoint(&self.base_url, "/api/history")?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(a) = address {
                query.append_pair("address", &a.to_string());
            }
            if let Some(n) = limit {
                query.append_pair("limit", &n.to_string());
            }
        }
        let body: HistoryBody = answer(&url, self.http.get(url.clone())).await?;
        Ok(body.claims)
    }

    /// The faucet's address, amounts, limits and balances.
    pub async fn info(&self) -> Result<Info, ClientError> {
        let url = endpoint(&self.base_url, "/api/info")?;
        answer(&url, self.http.get(url.clone())).await
    }
}

/// Claims the faucet's amount for `address` on `chain_id`; returns once the transfer is sent.
pub async fn claim(
    base_url: &str,
    address: Address,
    chain_id: u64,
) -> Result<ClaimResponse, ClientError> {
    FaucetClient::new(base_url)?.claim(address, chain_id).await
}

/// The latest distributions (newest first, at most `limit`, default 50), of one address or all.
pub async fn history(
    base_url: &str,
    address: Option<Address>,
    limit: Option<u32>,
) -> Result<Vec<ClaimRecord>, ClientError> {
    FaucetClient::new(base_url)?.history(address, limit).await
}

/// The faucet's address, amounts, limits and balances.
pub async fn info(base_url: &str) -> Result<Info, ClientError> {
    FaucetClient::new(base_url)?.info().await
}

/// Waits until `tx_hash` is mined on the chain at `rpc_url` and returns its receipt.
pub async fn wait_for_receipt(
    rpc_url: &str,
    tx_hash: B256,
    timeout: Duration,
) -> Result<TransactionReceipt, ClientError> {
    let url: reqwest::Url = rpc_url.parse().map_err(|e| ClientError::Url {
        url: rpc_url.into(),
        reason: format!("{e}"),
    })?;
    let provider: RootProvider = RootProvider::new(alloy::rpc::client::RpcClient::new(
        alloy::transports::http::Http::with_client(http()?, url),
        false,
    ));
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let poll = tokio::time::timeout(left, provider.get_transaction_receipt(tx_hash)).await;
        match poll {
            Ok(Ok(Some(receipt))) => return Ok(receipt),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                return Err(ClientError::Rpc {
                    tx_hash,
                    reason: e.to_string(),
                });
            }
            Err(_) => return Err(ClientError::Timeout { tx_hash, timeout }),
        }
        if Instant::now() + RECEIPT_POLL > deadline {
            return Err(ClientError::Timeout { tx_hash, timeout });
        }
        tokio::time::sleep(RECEIPT_POLL).await;
    }
}
