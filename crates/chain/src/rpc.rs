//! JSON-RPC probes with deadlines: chain id and head number. Every call is bounded in time, so a
//! hung node shows up as a timeout, never as a hang of opdev.

use std::{future::Future, time::Duration};

use alloy::providers::{Provider, RootProvider};

use crate::ChainError;

/// Deadline of one probe call.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A JSON-RPC endpoint to probe.
#[derive(Debug, Clone)]
pub struct Probe {
    url: String,
    provider: RootProvider,
}

impl Probe {
    /// A probe of the HTTP JSON-RPC endpoint at `url`.
    pub fn new(url: &str) -> Result<Self, ChainError> {
        Ok(Self {
            url: url.into(),
            provider: crate::http::provider(url)?,
        })
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `eth_chainId`.
    pub async fn chain_id(&self) -> Result<u64, ChainError> {
        self.call("eth_chainId", self.provider.get_chain_id()).await
    }

    /// `eth_blockNumber`.
    pub async fn block_number(&self) -> Result<u64, ChainError> {
        self.call("eth_blockNumber", self.provider.get_block_number())
            .await
    }

    async fn call<T, E: std::fmt::Display>(
        &self,
        method: &'static str,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, ChainError> {
        match tokio::time::timeout(PROBE_TIMEOUT, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(ChainError::Rpc {
                url: self.url.clone(),
                method,
                reason: e.to_string(),
            }),
            Err(_) => Err(ChainError::Timeout {
                url: self.url.clone(),
                method,
                secs: PROBE_TIMEOUT.as_secs(),
            }),
        }
    }
}
