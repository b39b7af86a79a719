//! What each chain's indexer is doing, shared between the indexer tasks (writers) and the HTTP
//! server (reader): the `/health` document.

use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

/// The state of one chain's indexer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainState {
    /// Catching up with the chain (or not yet connected).
    Backfilling,
    /// Within a batch of the head, polling for new blocks.
    Following,
    /// Stopped on an error it will not retry (see `error`).
    Stopped,
}

/// One chain's entry of `/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainStatus {
    /// Chain name.
    pub name: String,
    /// Chain id.
    pub chain_id: u64,
    /// Last block written to the database.
    pub indexed_head: Option<u64>,
    /// The chain's head as last seen.
    pub chain_head: Option<u64>,
    /// `chain_head - indexed_head`.
    pub lag: Option<u64>,
    /// What the indexer is doing.
    pub state: ChainState,
    /// The last error: why it stopped, or the transient error it is retrying.
    pub error: Option<String>,
}

/// The `/health` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// One entry per chain, in the order given.
    pub chains: Vec<ChainStatus>,
}

impl Health {
    /// Whether at least one chain is still indexing (HTTP 200), else 503.
    pub fn is_up(&self) -> bool {
        self.chains.iter().any(|c| c.state != ChainState::Stopped)
    }
}

/// A chain's status cell, cheap to clone.
#[derive(Debug, Clone)]
pub struct StatusCell(Arc<Mutex<ChainStatus>>);

impl StatusCell {
    /// A backfilling chain with nothing known yet.
    pub fn new(name: &str, chain_id: u64) -> Self {
        Self(Arc::new(Mutex::new(ChainStatus {
            name: name.into(),
            chain_id,
            indexed_head: None,
            chain_head: None,
            lag: None,
            state: ChainState::Backfilling,
            error: None,
        })))
    }

    /// A copy of the status.
    pub fn get(&self) -> ChainStatus {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Changes the status with `f`, keeping `lag` consistent with the heads.
    pub fn update(&self, f: impl FnOnce(&mut ChainStatus)) {
        let mut s = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut s);
        s.lag = match (s.indexed_head, s.chain_head) {
            (Some(i), Some(h)) => Some(h.saturating_sub(i)),
            (None, Some(h)) => Some(h + 1),
            _ => None,
        };
    }
}
