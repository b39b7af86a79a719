//! The HTTP client opdev's probes share, the JSON-RPC providers made on it, and a small HTTP GET
//! for opdev's own services' JSON endpoints (the indexer's `/health`, the faucet's `/api/info`),
//! bounded in time.

use std::{sync::OnceLock, time::Duration};

use alloy::{
    providers::RootProvider,
    rpc::client::RpcClient,
    transports::http::{Http, reqwest},
};

use crate::ChainError;

/// The one HTTP client of the process for probes and short calls. Building a client loads the
/// system's TLS roots (about 50 ms of CPU on the 2-core test machine), too much for readiness
/// probes made every 40 ms; so it is built once. Connections are not kept between requests:
/// loopback connects cost microseconds, and a kept connection could outlive the runtime that
/// opened it.
pub fn client() -> Result<reqwest::Client, ChainError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c.clone());
    }
    let built = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| ChainError::Rpc {
            url: String::new(),
            method: "build an HTTP client",
            reason: e.to_string(),
        })?;
    Ok(CLIENT.get_or_init(|| built).clone())
}

/// The JSON-RPC client of the endpoint at `url`, on the shared [`client`].
pub fn rpc_client(url: &str) -> Result<RpcClient, ChainError> {
    let parsed: reqwest::Url = url.parse().map_err(|e| ChainError::Url {
        url: url.into(),
        reason: format!("{e}"),
    })?;
    let local = parsed
        .host_str()
        .is_some_and(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]");
    Ok(RpcClient::new(Http::with_client(client()?, parsed), local))
}

/// A provider of the endpoint at `url`, on the shared [`client`].
pub fn provider(url: &str) -> Result<RootProvider, ChainError> {
    Ok(RootProvider::new(rpc_client(url)?))
}

/// GETs `url` and parses the JSON body; an error for a non-2xx status or a timeout.
pub async fn get_json(url: &str, timeout: Duration) -> Result<serde_json::Value, ChainError> {
    let err = |reason: String| ChainError::Rpc {
        url: url.into(),
        method: "GET",
        reason,
    };
    let response = client()?
        .get(url)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| err(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(err(format!("status {status}")));
    }
    response.json().await.map_err(|e| err(e.to_string()))
}
