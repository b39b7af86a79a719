//! What a crash left `pending`, settled when the faucet starts. A claim's transfer is recorded on
//! its row (hash and nonce) just before it goes to the node, so after a crash each pending row is
//! one of:
//!
//! - no transfer recorded: the faucet stopped before sending → `failed` (released: it no longer
//!   counts against the limits, so a user who got nothing can claim again);
//! - a transfer the node knows (mined or in its pool) → `sent` with its hash and nonce;
//! - a transfer the node does not know → `failed` (it never reached the chain).
//!
//! Rows whose node does not answer stay pending and are tried again every few seconds until the
//! node answers or the faucet stops. Only rows that existed before this faucet started are
//! settled (one faucet process per database is assumed, as for the limits).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::{
    claim::Faucet,
    store::{PendingClaim, StoreError},
};

/// Interval between attempts on rows whose node did not answer.
const RETRY: Duration = Duration::from_secs(2);

/// What one pass settled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// Rows marked `sent` (their transfer is on the chain or in the node's pool).
    pub sent: usize,
    /// Rows released (`failed`).
    pub released: usize,
    /// Rows left pending (node unreachable, or a chain this faucet no longer serves).
    pub left: usize,
}

impl Faucet {
    /// Settles `rows` (see the module docs); returns what it did and the rows to try again.
    pub(crate) async fn settle(
        &self,
        rows: Vec<PendingClaim>,
    ) -> Result<(Settled, Vec<PendingClaim>), StoreError> {
        let mut settled = Settled::default();
        let mut again = Vec::new();
        for row in rows {
            let Some(hash) = row.tx_hash else {
                self.store
                    .mark_failed(
                        row.id,
                        "released at start: the faucet stopped before sending the transfer",
                    )
                    .await?;
                settled.released += 1;
                continue;
            };
            let Ok(chain) = self.chain(Some(row.chain_id)) else {
                // Not served any more: nothing to ask; it no longer matters for the limits here.
                settled.left += 1;
                continue;
            };
            match chain.sender.knows(hash).await {
                Ok(true) => {
                    self.store
                        .mark_sent(row.id, hash, row.nonce.unwrap_or_default())
                        .await?;
                    tracing::info!(claim_id = row.id, chain_id = row.chain_id, tx_hash = %hash, "reconciled a pending claim as sent");
                    settled.sent += 1;
                }
                Ok(false) => {
                    self.store
                        .mark_failed(
                            row.id,
                            "released at start: the transfer never reached the chain",
                        )
                        .await?;
                    tracing::info!(claim_id = row.id, chain_id = row.chain_id, tx_hash = %hash, "released a pending claim whose transfer never reached the chain");
                    settled.released += 1;
                }
                Err(e) => {
                    tracing::warn!(claim_id = row.id, chain_id = row.chain_id, error = %e, "cannot settle a pending claim yet");
                    settled.left += 1;
                    again.push(row);
                }
            }
        }
        Ok((settled, again))
    }

    /// Settles every pending row once; rows whose node did not answer are returned.
    pub(crate) async fn reconcile(&self) -> Result<(Settled, Vec<PendingClaim>), StoreError> {
        let rows = self.store.pending().await?;
        if rows.is_empty() {
            return Ok((Settled::default(), Vec::new()));
        }
        let (settled, again) = self.settle(rows).await?;
        tracing::info!(
            sent = settled.sent,
            released = settled.released,
            left = settled.left,
            "reconciled the claims a previous run left pending"
        );
        Ok((settled, again))
    }

    /// Retries `rows` until they are settled or `stop` is cancelled.
    pub(crate) async fn reconcile_later(
        &self,
        mut rows: Vec<PendingClaim>,
        stop: CancellationToken,
    ) {
        while !rows.is_empty() {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(RETRY) => {}
            }
            // Settling a row twice is harmless, so after a database error all are tried again
            // (never rows read afresh: those would include the claims in progress now).
            match self.settle(rows.clone()).await {
                Ok((_, again)) => rows = again,
                Err(e) => tracing::warn!(error = %e, "reconcile pending claims"),
            }
        }
    }
}
