//! Deposits, exactly once. Each tick reads the portal's `TransactionDeposited` logs of the L1
//! blocks past the checkpoint that have the required confirmations, in L1 order, turns each into
//! its deposit transaction (whose hash is deterministic) and sends it unless the L2 already has
//! it, mined or pending. The checkpoint (next L1 block to read, and the deposits relayed in the
//! last `recheck_window`) is written after every tick that moved it, so a relayer killed at any
//! point re-reads at most what it had not recorded and sends none twice. Deposits relayed within
//! the window are checked again on every tick: an L2 anvil killed hard comes back without its
//! newest blocks, and what it lost is sent again.
//!
//! An L1 reorg shallower than the confirmations changes nothing relayed. A deeper one is
//! detected (the hash of the last block read changed): the relayer logs it and reads the new
//! blocks from the fork point; deposits of the dropped blocks stay on the L2.

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy::{
    primitives::{Address, B256, Bytes},
    rpc::types::Filter,
};
use anyhow::Context;
use opdev_opstack::{anvil::Chain, deposit};
use serde::{Deserialize, Serialize};

use crate::metrics::ChainMetrics;

/// L1 blocks read per `eth_getLogs`.
const LOG_RANGE: u64 = 500;

/// What survives a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The next L1 block to read.
    pub next_block: u64,
    /// Hash of the last L1 block read, to notice a reorg below the checkpoint.
    #[serde(default)]
    pub last_hash: Option<B256>,
    /// Deposits relayed recently, still checked on the L2.
    #[serde(default)]
    pub recent: Vec<Relayed>,
    /// Every deposit relayed so far.
    #[serde(default)]
    pub relayed_total: u64,
}

/// One relayed deposit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relayed {
    /// L2 transaction hash.
    pub l2_hash: B256,
    /// The L1 transaction that made it.
    pub l1_tx: B256,
    /// The raw deposit transaction, to send again.
    pub raw: Bytes,
    /// When it was first relayed (Unix seconds).
    pub at: u64,
}

/// The deposit relay of one L2.
#[derive(Debug)]
pub struct DepositRelay {
    path: PathBuf,
    l1: Chain,
    l2: Chain,
    portal: Address,
    confirmations: u64,
    window: Duration,
    checkpoint: Checkpoint,
    dirty: bool,
    /// Deposits sent and not yet mined, by sender.
    in_flight: Vec<(Address, B256)>,
    metrics: ChainMetrics,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl DepositRelay {
    /// The relay of the L2 `name`, resuming from its checkpoint in `dir`.
    pub fn open(
        dir: &Path,
        name: &str,
        l1: Chain,
        l2: Chain,
        portal: Address,
        confirmations: u64,
        window: Duration,
    ) -> anyhow::Result<Self> {
        let path = dir.join(format!("deposits-{name}.json"));
        let checkpoint = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("read checkpoint {}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Checkpoint::default(),
            Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
        };
        Ok(Self {
            path,
            l1,
            l2,
            portal,
            confirmations,
            window,
            checkpoint,
            dirty: false,
            in_flight: Vec::new(),
            metrics: ChainMetrics::default(),
        })
    }

    /// Counts what it relays into `metrics`.
    pub fn with_metrics(mut self, metrics: ChainMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The current checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Writes the checkpoint if it changed (atomically: a temporary file renamed over it).
    pub fn save(&mut self) -> anyhow::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let tmp = self.path.with_extension("json.tmp");
        let text = serde_json::to_vec(&self.checkpoint)?;
        std::fs::write(&tmp, text).with_context(|| format!("write {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path)
            .with_context(|| format!("write {}", self.path.display()))?;
        self.dirty = false;
        Ok(())
    }

    /// One round: re-send lost deposits, relay new ones, save.
    pub async fn tick(&mut self) -> anyhow::Result<()> {
        self.recheck().await?;
        self.relay_new().await?;
        self.save()
    }

    async fn recheck(&mut self) -> anyhow::Result<()> {
        let horizon = now().saturating_sub(self.window.as_secs());
        let before = self.checkpoint.recent.len();
        self.checkpoint.recent.retain(|r| r.at >= horizon);
        if self.checkpoint.recent.len() != before {
            self.dirty = true;
        }
        for relayed in &self.checkpoint.recent {
            if !self.l2.has_transaction(relayed.l2_hash).await? {
                tracing::warn!(
                    l2_tx = %relayed.l2_hash,
                    l1_tx = %relayed.l1_tx,
                    "deposit missing on the L2 (restarted from an older state?); relaying it again"
                );
                self.l2.send_raw(&relayed.raw).await?;
                self.metrics.deposit_resent();
            }
        }
        Ok(())
    }

    async fn relay_new(&mut self) -> anyhow::Result<()> {
        // anvil's pool holds one pending transaction per sender, deposits included: a deposit
        // whose sender has one in flight waits for the next tick, and so does every deposit
        // after it (L1 order is kept).
        let mut still = Vec::new();
        for (from, hash) in std::mem::take(&mut self.in_flight) {
            if !self.l2.is_mined(hash).await? {
                still.push((from, hash));
            }
        }
        self.in_flight = still;
        let head = self.l1.block_number().await?;
        let Some(safe) = head.checked_sub(self.confirmations) else {
            return Ok(());
        };
        self.check_reorg(safe).await?;
        while self.checkpoint.next_block <= safe {
            let from = self.checkpoint.next_block;
            let to = (from + LOG_RANGE - 1).min(safe);
            let filter = Filter::new()
                .address(self.portal)
                .event_signature(deposit::deposit_topic())
                .from_block(from)
                .to_block(to);
            let mut logs = self.l1.logs(&filter).await?;
            logs.sort_by_key(|l| (l.block_number, l.log_index));
            for log in logs {
                if log.removed {
                    continue;
                }
                let (Some(block), Some(hash), Some(index)) =
                    (log.block_number, log.block_hash, log.log_index)
                else {
                    continue;
                };
                let d = deposit::decode_user_deposit(
                    log.topics(),
                    &log.data().data,
                    block,
                    hash,
                    index,
                    log.transaction_hash.unwrap_or_default(),
                )?;
                let l2_hash = d.l2_hash();
                self.metrics.deposit_seen(block);
                if self.l2.has_transaction(l2_hash).await? {
                    self.metrics.deposit_on_l2(block);
                    continue;
                }
                if self
                    .in_flight
                    .iter()
                    .any(|(sender, _)| *sender == d.tx.from)
                {
                    // Read this block again next tick; what was sent from it is skipped then.
                    self.move_to(block).await?;
                    return Ok(());
                }
                self.l2.send_raw(&d.raw()).await?;
                self.in_flight.push((d.tx.from, l2_hash));
                tracing::info!(l1_tx = %d.l1_tx, %l2_hash, l1_block = block, "deposit relayed");
                self.metrics.deposit_relayed(block);
                self.checkpoint.relayed_total += 1;
                self.checkpoint.recent.push(Relayed {
                    l2_hash,
                    l1_tx: d.l1_tx,
                    raw: d.raw(),
                    at: now(),
                });
                self.dirty = true;
            }
            self.move_to(to + 1).await?;
            // Record progress as it is made: a kill between two ranges re-reads only one.
            self.save()?;
        }
        Ok(())
    }

    /// Sets the next L1 block to read, remembering the hash of the one before it.
    async fn move_to(&mut self, next: u64) -> anyhow::Result<()> {
        if next == self.checkpoint.next_block {
            return Ok(());
        }
        self.checkpoint.last_hash = match next.checked_sub(1) {
            Some(last) => self.l1.block(last).await?.map(|b| b.header.hash),
            None => None,
        };
        self.checkpoint.next_block = next;
        self.dirty = true;
        Ok(())
    }

    /// When the last block read is no longer on the L1's chain, steps the checkpoint back to
    /// the fork point.
    async fn check_reorg(&mut self, safe: u64) -> anyhow::Result<()> {
        let (Some(last_hash), Some(last)) = (
            self.checkpoint.last_hash,
            self.checkpoint.next_block.checked_sub(1),
        ) else {
            return Ok(());
        };
        if last > safe {
            // The L1 is shorter than what was read (rolled back, or restarted from an older
            // state): read again from its head.
            tracing::warn!(
                last_read = last,
                safe,
                "L1 is behind the relayer's checkpoint"
            );
            self.checkpoint.next_block = safe + 1;
            self.checkpoint.last_hash = self.l1.block(safe).await?.map(|b| b.header.hash);
            self.dirty = true;
            return Ok(());
        }
        let current = self.l1.block(last).await?.map(|b| b.header.hash);
        if current == Some(last_hash) {
            return Ok(());
        }
        // Old hashes are not kept: step back by the deepest reorg anvil makes cheaply and let
        // the check on the L2 drop what was relayed already.
        let back = last.saturating_sub(64);
        tracing::warn!(
            block = last,
            "L1 reorg below the confirmation depth: reading again from block {back}"
        );
        self.checkpoint.next_block = back;
        self.checkpoint.last_hash = None;
        self.dirty = true;
        Ok(())
    }
}
