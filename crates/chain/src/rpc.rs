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

    /// op-node's `optimism_syncStatus`: the rollup's heads (`unsafe_l2`, `safe_l2`,
    /// `finalized_l2`, `head_l1`…), each an object with a `number`.
    pub async fn sync_status(&self) -> Result<serde_json::Value, ChainError> {
        self.call(
            "optimism_syncStatus",
            self.provider
                .raw_request::<_, serde_json::Value>("optimism_syncStatus".into(), ()),
        )
        .await
    }

    /// The unsafe and safe L2 heads op-node reports, `None` while it has not read its engine's
    /// heads yet (everything is 0 then, also on a restart of a chain that has blocks).
    pub async fn rollup_heads(&self) -> Result<Option<(u64, u64)>, ChainError> {
        let status = self.sync_status().await?;
        let number = |key: &str| {
            status[key]["number"]
                .as_u64()
                .ok_or_else(|| ChainError::Rpc {
                    url: self.url.clone(),
                    method: "optimism_syncStatus",
                    reason: format!("no {key}.number in {status}"),
                })
        };
        let (unsafe_head, safe) = (number("unsafe_l2")?, number("safe_l2")?);
        Ok((unsafe_head > 0).then_some((unsafe_head, safe)))
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
