//! The live values the explorer asks a chain's node for over JSON-RPC: the head, and an
//! account's balance, nonce and code (one batched request). Every call has a short timeout; a
//! node that does not answer makes those values "unavailable", never a failed page. Account
//! values are kept for [`ACCOUNT_TTL`], so many readers of one address cost the node one
//! request; that is well under a block time, and pages about transactions never wait on it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::primitives::U256;
use serde::Serialize;
use serde_json::{Value, json};

/// How long a node has to answer.
const TIMEOUT: Duration = Duration::from_secs(2);
/// How long an account's live values are reused.
pub const ACCOUNT_TTL: Duration = Duration::from_millis(500);
/// Accounts remembered at most; the cache starts over past this.
const ACCOUNT_CACHE_MAX: usize = 10_000;

type AccountCache = HashMap<(String, String), (Instant, Account)>;

/// A node failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The HTTP request failed.
    #[error("node request: {0}")]
    Http(#[from] reqwest::Error),
    /// The answer is not what JSON-RPC promises.
    #[error("node answered {0}")]
    Answer(String),
}

/// Live account values.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    /// Balance in wei (decimal).
    pub balance: String,
    /// Nonce (transactions sent).
    pub nonce: u64,
    /// Whether code is deployed at the address.
    pub is_contract: bool,
    /// Size of that code in bytes.
    pub code_size: usize,
}

/// The JSON-RPC client shared by every request.
#[derive(Debug, Clone)]
pub struct Node {
    client: reqwest::Client,
    accounts: Arc<Mutex<AccountCache>>,
}

fn quantity(v: &Value) -> Result<U256, NodeError> {
    let s = v
        .as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .ok_or_else(|| NodeError::Answer(format!("{v} for a quantity")))?;
    U256::from_str_radix(s, 16).map_err(|_| NodeError::Answer(format!("{v} for a quantity")))
}

impl Node {
    /// Builds the client.
    pub fn new() -> Result<Self, NodeError> {
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .connect_timeout(TIMEOUT)
                .no_proxy()
                .build()?,
            accounts: Arc::default(),
        })
    }

    async fn batch(&self, url: &str, calls: &[(&str, Value)]) -> Result<Vec<Value>, NodeError> {
        let body: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(id, (method, params))| {
                json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
            })
            .collect();
        let answer: Value = self
            .client
            .post(url)
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let mut results = vec![Value::Null; calls.len()];
        let items = answer
            .as_array()
            .ok_or_else(|| NodeError::Answer(answer.to_string()))?;
        for item in items {
            let id = item["id"].as_u64().map(|i| i as usize);
            match (id, item.get("result")) {
                (Some(id), Some(result)) if id < results.len() => results[id] = result.clone(),
                _ => return Err(NodeError::Answer(item.to_string())),
            }
        }
        Ok(results)
    }

    /// The node's head block number.
    pub async fn head(&self, url: &str) -> Result<u64, NodeError> {
        let r = self.batch(url, &[("eth_blockNumber", json!([]))]).await?;
        u64::try_from(quantity(&r[0])?).map_err(|_| NodeError::Answer(r[0].to_string()))
    }

    /// Balance, nonce and code of `address` (`0x` + 40 hex) at the latest block, at most
    /// [`ACCOUNT_TTL`] old.
    pub async fn account(&self, url: &str, address: &str) -> Result<Account, NodeError> {
        let key = (url.to_owned(), address.to_ascii_lowercase());
        if let Some((at, account)) = self.accounts.lock().expect("cache lock").get(&key)
            && at.elapsed() < ACCOUNT_TTL
        {
            return Ok(account.clone());
        }
        let account = self.fetch_account(url, address).await?;
        let mut cache = self.accounts.lock().expect("cache lock");
        if cache.len() >= ACCOUNT_CACHE_MAX {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), account.clone()));
        Ok(account)
    }

    async fn fetch_account(&self, url: &str, address: &str) -> Result<Account, NodeError> {
        let r = self
            .batch(
                url,
                &[
                    ("eth_getBalance", json!([address, "latest"])),
                    ("eth_getTransactionCount", json!([address, "latest"])),
                    ("eth_getCode", json!([address, "latest"])),
                ],
            )
            .await?;
        let code = r[2]
            .as_str()
            .and_then(|s| s.strip_prefix("0x"))
            .ok_or_else(|| NodeError::Answer(r[2].to_string()))?;
        Ok(Account {
            balance: quantity(&r[0])?.to_string(),
            nonce: u64::try_from(quantity(&r[1])?)
                .map_err(|_| NodeError::Answer(r[1].to_string()))?,
            is_contract: !code.is_empty(),
            code_size: code.len() / 2,
        })
    }
}
