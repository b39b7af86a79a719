//! The bridge on a transaction page. An L2 deposit links to the L1 transaction whose
//! `TransactionDeposited` log made it; an L1 transaction lists the L2 deposits its logs made; an
//! L2 transaction that started withdrawals (`MessagePassed` logs of the L2ToL1MessagePasser)
//! shows each one's state and the L1 transactions that proved and finalized it.
//!
//! Links come from the indexer's tables (`logs.deposit_source`, and the portal's
//! `WithdrawalProven` / `WithdrawalFinalized` logs on the L1). A withdrawal's state
//! (`waiting-to-prove` … `finalized`, as `opdev bridge status` and viem name them) is asked of the
//! nodes: the L1 is the chain named `l1`, and the L2's contracts on it are found from the L2's
//! messenger (cached once found). A node that does not answer leaves the state out with the
//! reason; it never fails the page.

use std::{collections::HashMap, str::FromStr, sync::Arc};

use opdev_opstack::{
    anvil::Chain,
    output, predeploys,
    primitives::{B256, hex},
    withdraw::{self, BridgeContracts, Initiated},
};
use serde::Serialize;
use tokio::sync::Mutex;

use crate::{
    AppState, ChainSpec,
    db::{DepositMade, DepositOrigin, Log, Tx},
    error::AppError,
};

/// The name of the chain that is the L2s' L1.
pub const L1_NAME: &str = "l1";

/// The nodes, and the contracts found for each L2.
#[derive(Debug, Default)]
pub struct Bridges {
    nodes: HashMap<u64, Chain>,
    found: Mutex<HashMap<u64, BridgeContracts>>,
}

impl Bridges {
    /// A client for each chain (none opens a connection yet).
    pub fn new(chains: &[ChainSpec]) -> Self {
        let nodes = chains
            .iter()
            .filter_map(|c| Some((c.chain_id, Chain::connect(&c.rpc_url, None).ok()?)))
            .collect();
        Self {
            nodes,
            found: Mutex::default(),
        }
    }

    async fn contracts(&self, l1: &Chain, l2_id: u64) -> Result<BridgeContracts, String> {
        if let Some(c) = self.found.lock().await.get(&l2_id) {
            return Ok(*c);
        }
        let l2 = self.nodes.get(&l2_id).ok_or("no node for the L2")?;
        let c = withdraw::discover(l1, l2)
            .await
            .map_err(|e| format!("no bridge found from this L2's messenger: {e}"))?;
        self.found.lock().await.insert(l2_id, c);
        Ok(c)
    }
}

/// What kind of deposit an L2 deposit transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DepositKind {
    /// Made by a `TransactionDeposited` log on the L1.
    User,
    /// Sent by the depositor account: the L1 attributes of each L1 block, or the setup of the
    /// predeploys; no L1 transaction behind it.
    System,
}

/// An L1 transaction of the bridge.
#[derive(Debug, Clone, Serialize)]
pub struct L1Tx {
    /// The L1's chain id.
    pub chain_id: u64,
    /// The transaction.
    pub tx_hash: String,
    /// Its block.
    pub block_number: i64,
}

/// A withdrawal an L2 transaction started.
#[derive(Debug, Clone, Serialize)]
pub struct WithdrawalView {
    /// Position of its `MessagePassed` log in the block.
    pub log_index: i32,
    /// The withdrawal hash.
    pub hash: String,
    /// Who sent it on the L2.
    pub sender: String,
    /// Whom it calls on the L1.
    pub target: String,
    /// Wei it carries.
    pub value: String,
    /// `waiting-to-prove`, `ready-to-prove`, `waiting-to-finalize`, `ready-to-finalize` or
    /// `finalized`; `None` when the nodes could not tell (see `state_error`).
    pub state: Option<String>,
    /// Why the state is unknown.
    pub state_error: Option<String>,
    /// The L1 transactions that proved it.
    pub proven: Vec<L1Tx>,
    /// The L1 transaction that finalized it.
    pub finalized: Option<L1Tx>,
    /// Whether the L1 call it made when finalized succeeded.
    pub finalized_success: Option<bool>,
}

/// The bridge part of a transaction page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BridgeView {
    /// For an L2 deposit: which kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deposit_kind: Option<DepositKind>,
    /// For a user deposit: the L1 log that made it, when indexed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deposit_origin: Option<DepositOrigin>,
    /// For an L1 transaction: the deposits its logs made.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deposits: Vec<DepositMade>,
    /// For an L2 transaction: the withdrawals it started.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withdrawals: Vec<WithdrawalView>,
}

impl BridgeView {
    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.deposit_kind.is_none() && self.deposits.is_empty() && self.withdrawals.is_empty()
    }
}

fn b256(s: &str) -> Option<B256> {
    B256::from_str(s).ok()
}

/// The bridge part of transaction `tx` of `chain`, whose logs are `logs`.
pub async fn load(
    state: &AppState,
    chain: &ChainSpec,
    tx: &Tx,
    logs: &[Log],
) -> Result<BridgeView, AppError> {
    let mut view = BridgeView::default();
    let cid = chain.chain_id as i64;
    if let Some(d) = &tx.deposit {
        let from_depositor = tx
            .summary
            .from
            .eq_ignore_ascii_case(&predeploys::DEPOSITOR_ACCOUNT.to_string());
        view.deposit_kind = Some(if from_depositor {
            DepositKind::System
        } else {
            DepositKind::User
        });
        if !from_depositor && let Some(source) = d.source_hash.as_deref().and_then(b256) {
            view.deposit_origin = state.db.deposit_origin(source.as_slice()).await?;
        }
    }
    if let Some(h) = b256(&tx.summary.hash) {
        view.deposits = state
            .db
            .deposits_made(cid, tx.summary.block_number, h.as_slice())
            .await?;
    }
    let passer = predeploys::L2_TO_L1_MESSAGE_PASSER.to_string();
    let topic = output::message_passed_topic().to_string();
    for log in logs {
        if !log.address.eq_ignore_ascii_case(&passer) || log.topics.first() != Some(&topic) {
            continue;
        }
        let topics: Option<Vec<B256>> = log.topics.iter().map(|t| b256(t)).collect();
        let (Some(topics), Ok(data)) = (topics, hex::decode(&log.data)) else {
            continue;
        };
        let Ok(withdrawal) = output::decode_withdrawal(&topics, &data) else {
            continue;
        };
        let initiated = Initiated {
            l2_tx: b256(&tx.summary.hash).unwrap_or_default(),
            l2_block: tx.summary.block_number.max(0) as u64,
            withdrawal,
        };
        view.withdrawals
            .push(withdrawal_view(state, chain, log.log_index, &initiated).await?);
    }
    Ok(view)
}

async fn withdrawal_view(
    state: &AppState,
    l2: &ChainSpec,
    log_index: i32,
    w: &Initiated,
) -> Result<WithdrawalView, AppError> {
    let hash = w.hash();
    let mut view = WithdrawalView {
        log_index,
        hash: hash.to_string(),
        sender: w.withdrawal.sender.to_checksum(None),
        target: w.withdrawal.target.to_checksum(None),
        value: w.withdrawal.value.to_string(),
        state: None,
        state_error: None,
        proven: Vec::new(),
        finalized: None,
        finalized_success: None,
    };
    let Some(l1) = state.chains.iter().find(|c| c.name == L1_NAME) else {
        view.state_error = Some(format!("the explorer shows no chain named {L1_NAME}"));
        return Ok(view);
    };
    let bridges = &state.bridges;
    let Some(l1_node) = bridges.nodes.get(&l1.chain_id) else {
        view.state_error = Some("no node for the L1".into());
        return Ok(view);
    };
    let contracts = match bridges.contracts(l1_node, l2.chain_id).await {
        Ok(c) => c,
        Err(e) => {
            view.state_error = Some(e);
            return Ok(view);
        }
    };
    let l1_tx = |e: &crate::db::EventAt| L1Tx {
        chain_id: l1.chain_id,
        tx_hash: e.tx_hash.clone(),
        block_number: e.block_number,
    };
    let l1_id = l1.chain_id as i64;
    let portal = contracts.portal.as_slice();
    view.proven = state
        .db
        .events_about(
            l1_id,
            portal,
            withdraw::proven_topic().as_slice(),
            hash.as_slice(),
        )
        .await?
        .iter()
        .map(l1_tx)
        .collect();
    if let Some(e) = state
        .db
        .events_about(
            l1_id,
            portal,
            withdraw::finalized_topic().as_slice(),
            hash.as_slice(),
        )
        .await?
        .first()
    {
        view.finalized = Some(l1_tx(e));
        // `success` is the one word of the event's data.
        view.finalized_success = e.data.get(31).map(|b| *b == 1);
    }
    match withdraw::state(
        l1_node,
        contracts.portal,
        contracts.factory,
        contracts.game_type,
        w,
        None,
    )
    .await
    {
        Ok((s, _)) => view.state = Some(s.as_str().to_owned()),
        Err(e) => view.state_error = Some(e.to_string()),
    }
    Ok(view)
}

/// Shared by the handlers.
pub type Shared = Arc<Bridges>;
