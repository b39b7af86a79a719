//! A small HTTP GET for opdev's own services' JSON endpoints (the indexer's `/health`, the
//! faucet's `/api/info`), bounded in time.

use std::time::Duration;

use alloy::transports::http::reqwest;

use crate::ChainError;

/// GETs `url` and parses the JSON body; an error for a non-2xx status or a timeout.
pub async fn get_json(url: &str, timeout: Duration) -> Result<serde_json::Value, ChainError> {
    let err = |reason: String| ChainError::Rpc {
        url: url.into(),
        method: "GET",
        reason,
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| err(e.to_string()))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| err(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(err(format!("status {status}")));
    }
    response.json().await.map_err(|e| err(e.to_string()))
}
