//! One chain's indexer: a task that owns its RPC client and database connection and runs
//! backfill, follow and reorg handling in one loop.
//!
//! Each turn asks the node for its head and, in the same batch, for the block at the checkpoint.
//! If that block's hash is not the stored one, the chain reorganised: the indexer compares the
//! stored hashes of the last `reorg_limit + 1` blocks with the chain's, rewinds the database to
//! the highest block they share, and goes on from there; finding none stops this chain with
//! [`IndexError::ReorgTooDeep`]. Otherwise the blocks above the checkpoint are fetched in
//! batches, several batches in flight, and committed strictly in order, each commit checking
//! that its first block is a child of the checkpoint (and each block of the next) before it
//! writes. Transient errors (node down, database restarted) are retried with exponential
//! backoff; nothing is committed out of order, so nothing is lost.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures::StreamExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    ChainSpec, Settings,
    metrics::Metrics,
    rpc::{FullBlock, Rpc, RpcError},
    status::{ChainState, StatusCell},
    store::{self, BlockRef, Store, StoreError},
};

/// Why one chain's indexer could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// A node call failed (retried).
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// A database operation failed (retried on a new connection).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The node serves another chain than the one configured (fatal).
    #[error("{url} serves chain {found}, not chain {expected}")]
    ChainIdMismatch {
        /// The node.
        url: String,
        /// The chain id configured.
        expected: u64,
        /// The chain id the node reports.
        found: u64,
    },
    /// The chain replaced more blocks than the reorg limit allows (fatal: the indexer stops
    /// rather than guess).
    #[error(
        "reorg deeper than the limit of {limit} blocks: none of blocks {lowest}..={checkpoint} \
         stored is on the chain any more (raise --reorg-limit, or drop this chain's rows)"
    )]
    ReorgTooDeep {
        /// The reorg limit.
        limit: u64,
        /// The lowest block compared.
        lowest: u64,
        /// The checkpoint when the reorg was found.
        checkpoint: u64,
    },
    /// A fetch task failed unexpectedly (retried).
    #[error("fetch task failed: {0}")]
    Task(String),
}

impl IndexError {
    /// Whether retrying cannot help.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Self::ChainIdMismatch { .. } | Self::ReorgTooDeep { .. }
        )
    }
}

/// A spawned task aborted when dropped, so an abandoned pipeline does not keep fetching.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// Exponential backoff: 200 ms doubling to 5 s.
struct Backoff {
    next: Duration,
    attempt: u32,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(200);
    const MAX: Duration = Duration::from_secs(5);

    fn new() -> Self {
        Self {
            next: Self::FIRST,
            attempt: 0,
        }
    }

    fn reset(&mut self) {
        *self = Self::new();
    }

    fn step(&mut self) -> Duration {
        let d = self.next;
        self.attempt += 1;
        self.next = (self.next * 2).min(Self::MAX);
        d
    }
}

pub(crate) struct ChainIndexer {
    spec: ChainSpec,
    settings: Arc<Settings>,
    rpc: Rpc,
    metrics: Metrics,
    status: StatusCell,
    store: Option<Store>,
    chain_id_checked: bool,
    backoff: Backoff,
}

impl ChainIndexer {
    pub(crate) fn new(
        spec: ChainSpec,
        settings: Arc<Settings>,
        rpc: Rpc,
        metrics: Metrics,
        status: StatusCell,
    ) -> Self {
        let rpc = rpc.with_metrics(metrics.clone(), &spec.name);
        Self {
            spec,
            settings,
            rpc,
            metrics,
            status,
            store: None,
            chain_id_checked: false,
            backoff: Backoff::new(),
        }
    }

    /// Indexes until `stop` is cancelled or a fatal error, which it returns.
    pub(crate) async fn run(mut self, stop: CancellationToken) -> Result<(), IndexError> {
        let chain = self.spec.name.clone();
        loop {
            let err = tokio::select! {
                e = self.index() => e,
                () = stop.cancelled() => return Ok(()),
            };
            if err.is_fatal() {
                tracing::error!(%chain, chain_id = self.spec.chain_id, error = %err, "indexer stopped");
                self.status.update(|s| {
                    s.state = ChainState::Stopped;
                    s.error = Some(err.to_string());
                });
                return Err(err);
            }
            if matches!(err, IndexError::Store(_)) {
                self.store = None;
            }
            let wait = self.backoff.step();
            tracing::warn!(
                %chain,
                attempt = self.backoff.attempt,
                retry_in_ms = wait.as_millis() as u64,
                error = %err,
                "indexer error; retrying"
            );
            self.status.update(|s| s.error = Some(err.to_string()));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stop.cancelled() => return Ok(()),
            }
        }
    }

    /// Clears the error after a success.
    fn healthy(&mut self) {
        if self.backoff.attempt > 0 {
            tracing::info!(chain = %self.spec.name, "indexer recovered");
            self.backoff.reset();
            self.status.update(|s| s.error = None);
        }
    }

    fn set_indexed(&self, cp: Option<BlockRef>) {
        let n = cp.map(|c| c.0);
        self.status.update(|s| s.indexed_head = n);
        self.metrics.set_heads(&self.spec.name, n, None);
    }

    /// Runs until an error.
    async fn index(&mut self) -> IndexError {
        match self.index_inner().await {
            Err(e) => e,
            Ok(never) => match never {},
        }
    }

    async fn index_inner(&mut self) -> Result<std::convert::Infallible, IndexError> {
        let chain_id = self.spec.chain_id;
        if !self.chain_id_checked {
            let found = self.rpc.chain_id().await?;
            if found != chain_id {
                return Err(IndexError::ChainIdMismatch {
                    url: self.rpc.url().into(),
                    expected: chain_id,
                    found,
                });
            }
            self.chain_id_checked = true;
        }
        if self.store.is_none() {
            let store = store::connect(&self.settings.database_url).await?;
            store.register_chain(chain_id, &self.spec.name).await?;
            tracing::info!(chain = %self.spec.name, chain_id, "connected to PostgreSQL");
            self.store = Some(store);
        }
        let mut cp = self.store_ref().checkpoint(chain_id).await?;
        self.set_indexed(cp);
        tracing::info!(chain = %self.spec.name, chain_id, checkpoint = ?cp.map(|c| c.0), "indexing");
        loop {
            let (head, header) = self.rpc.head_and_header(cp.map(|c| c.0)).await?;
            self.healthy();
            self.status.update(|s| s.chain_head = Some(head));
            self.metrics
                .set_heads(&self.spec.name, cp.map(|c| c.0), Some(head));
            if let Some(at) = cp
                && header.map(|h| h.hash) != Some(at.1)
            {
                cp = self.reorg(at).await?;
                self.set_indexed(cp);
                continue;
            }
            let next = cp.map_or(0, |c| c.0 + 1);
            if head < next {
                self.status.update(|s| s.state = ChainState::Following);
                tokio::time::sleep(self.settings.poll_interval).await;
                continue;
            }
            let state = if head - next >= self.settings.batch_size as u64 {
                ChainState::Backfilling
            } else {
                ChainState::Following
            };
            self.status.update(|s| s.state = state);
            let (new_cp, complete) = self.fetch_and_commit(next, head, cp).await?;
            cp = new_cp;
            if !complete {
                // The chain moved under the fetch; the next turn checks the checkpoint.
                tokio::time::sleep(self.settings.poll_interval).await;
            }
        }
    }

    fn store_ref(&self) -> &Store {
        self.store.as_ref().expect("connected above")
    }

    /// Fetches `next..=head` (at most a bounded window of it) with several batches in flight
    /// and commits them in order. Returns the new checkpoint, and false when a batch did not
    /// link to the one before (the chain changed meanwhile).
    async fn fetch_and_commit(
        &mut self,
        next: u64,
        head: u64,
        mut cp: Option<BlockRef>,
    ) -> Result<(Option<BlockRef>, bool), IndexError> {
        let batch = self.settings.batch_size.max(1) as u64;
        let window = batch * self.settings.concurrency.max(1) as u64 * 16;
        let end = head.min(next + window - 1);
        let chunks = (next..=end)
            .step_by(batch as usize)
            .map(move |a| (a, (a + batch - 1).min(end)));
        let rpc = self.rpc.clone();
        let mut fetched = futures::stream::iter(chunks)
            .map(|(a, b)| {
                let rpc = rpc.clone();
                AbortOnDrop(tokio::spawn(async move { rpc.blocks(a, b).await }))
            })
            .buffered(self.settings.concurrency.max(1));
        let chain_id = self.spec.chain_id;
        while let Some(result) = fetched.next().await {
            let blocks = result.map_err(|e| IndexError::Task(e.to_string()))??;
            if !links(cp, &blocks) {
                tracing::debug!(chain = %self.spec.name, "fetched blocks do not link to the checkpoint");
                return Ok((cp, false));
            }
            let store = self.store.as_mut().expect("connected");
            let (rows, took) = store.commit(chain_id, cp, &blocks).await?;
            let chain = &self.spec.name;
            self.metrics.observe_db(chain, took);
            self.metrics.rows(chain, "blocks", rows.blocks);
            self.metrics.rows(chain, "transactions", rows.transactions);
            self.metrics.rows(chain, "logs", rows.logs);
            let last = blocks.last().expect("a batch is never empty");
            cp = Some((last.number(), last.block.hash));
            self.set_indexed(cp);
            tracing::debug!(chain = %chain, to = last.number(), blocks = rows.blocks, txs = rows.transactions, "committed");
        }
        Ok((cp, true))
    }

    /// Handles a reorg found at checkpoint `at`; returns the new checkpoint.
    async fn reorg(&mut self, at: BlockRef) -> Result<Option<BlockRef>, IndexError> {
        let limit = self.settings.reorg_limit;
        let lowest = at.0.saturating_sub(limit);
        let stored = self
            .store_ref()
            .hashes(self.spec.chain_id, lowest, at.0)
            .await?;
        let onchain = self.rpc.headers(lowest, at.0).await?;
        let ancestor = stored
            .iter()
            .rev()
            .find(|(n, h)| {
                onchain
                    .get((n - lowest) as usize)
                    .copied()
                    .flatten()
                    .is_some_and(|c| c.hash == *h)
            })
            .copied();
        let depth = match ancestor {
            Some((n, _)) => at.0 - n,
            // Not even the genesis block is shared: everything goes.
            None if lowest == 0 => at.0 + 1,
            None => u64::MAX,
        };
        if depth > limit {
            return Err(IndexError::ReorgTooDeep {
                limit,
                lowest,
                checkpoint: at.0,
            });
        }
        let store = self.store.as_mut().expect("connected");
        let took = store.rewind(self.spec.chain_id, Some(at), ancestor).await?;
        self.metrics.observe_db(&self.spec.name, took);
        self.metrics.reorg(&self.spec.name, depth);
        tracing::warn!(
            chain = %self.spec.name,
            depth,
            from = at.0,
            common_ancestor = ?ancestor.map(|a| a.0),
            "reorg: rewound to the common ancestor"
        );
        Ok(ancestor)
    }
}

/// Whether `blocks` are consecutive and the first is a child of `parent`.
fn links(parent: Option<BlockRef>, blocks: &[FullBlock]) -> bool {
    let mut parent = parent;
    for b in blocks {
        if let Some((n, h)) = parent
            && (b.number() != n + 1 || b.block.parent_hash != h)
        {
            return false;
        }
        parent = Some((b.number(), b.block.hash));
    }
    true
}
