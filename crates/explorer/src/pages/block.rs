//! The block page: header fields and the block's transactions with links.

use serde::Serialize;

use crate::{
    AppState,
    db::{Block, TxSummary},
    error::AppError,
    html::{self, esc},
    input::{self, BlockId},
};

/// Most transactions listed on a block page.
pub const MAX_TXS: i64 = 1000;

/// The block page's data.
#[derive(Debug, Clone, Serialize)]
pub struct BlockView {
    /// Chain id.
    pub chain_id: u64,
    /// The header.
    pub block: Block,
    /// Its transactions in order (at most [`MAX_TXS`]).
    pub transactions: Vec<TxSummary>,
    /// Whether the list stops before the block's end.
    pub truncated: bool,
}

/// Loads block `block` (number or hash) of chain `id`.
pub async fn load(state: &AppState, id: &str, block: &str) -> Result<BlockView, AppError> {
    let chain = input::chain(state, id)?;
    let cid = chain.chain_id as i64;
    let found = match BlockId::parse(block)? {
        BlockId::Number(n) => state.db.block_by_number(cid, n).await?,
        BlockId::Hash(h) => state.db.block_by_hash(cid, &h).await?,
    };
    let block = found.ok_or_else(|| {
        AppError::NotFound(format!(
            "block {block} is not indexed on chain {}",
            chain.chain_id
        ))
    })?;
    let transactions = state
        .db
        .block_txs(cid, block.summary.number, MAX_TXS)
        .await?;
    Ok(BlockView {
        chain_id: chain.chain_id,
        truncated: i64::from(block.summary.tx_count) > transactions.len() as i64,
        block,
        transactions,
    })
}

/// The page.
pub fn render(state: &AppState, v: &BlockView) -> String {
    let c = v.chain_id;
    let b = &v.block;
    let n = b.summary.number;
    let prev = if n > 0 {
        format!(
            "<a rel=\"prev\" href=\"/chains/{c}/blocks/{}\">← {}</a>",
            n - 1,
            n - 1
        )
    } else {
        String::new()
    };
    let rows = [
        ("number", n.to_string()),
        (
            "hash",
            format!("<span class=\"mono\">{}</span>", esc(&b.summary.hash)),
        ),
        (
            "parent",
            if n > 0 {
                format!(
                    "<a class=\"mono\" href=\"/chains/{c}/blocks/{}\">{}</a>",
                    esc(&b.parent_hash),
                    esc(&b.parent_hash)
                )
            } else {
                format!("<span class=\"mono\">{}</span>", esc(&b.parent_hash))
            },
        ),
        ("time", html::time(b.summary.timestamp)),
        ("fee recipient", html::addr_link(c, &b.summary.miner, true)),
        ("transactions", b.summary.tx_count.to_string()),
        ("gas used", esc(&b.summary.gas_used)),
        ("gas limit", esc(&b.gas_limit)),
        (
            "base fee",
            b.base_fee
                .as_deref()
                .map_or_else(|| "—".into(), |f| format!("{} wei", esc(f))),
        ),
        (
            "extra data",
            format!("<span class=\"mono\">{}</span>", esc(&b.extra_data)),
        ),
    ];
    let kv: String = rows
        .iter()
        .map(|(k, v)| format!("<tr><th>{k}</th><td>{v}</td></tr>"))
        .collect();
    let more = if v.truncated {
        format!("<p class=\"muted\">Only the first {MAX_TXS} transactions are listed.</p>")
    } else {
        String::new()
    };
    let body = format!(
        "<h1>Block {n}</h1><table class=\"kv\" id=\"block\">{kv}</table>\
         <div class=\"pager\">{prev}<a rel=\"next\" href=\"/chains/{c}/blocks/{}\">{} →</a></div>\
         <h2>Transactions</h2>{}{more}",
        n + 1,
        n + 1,
        html::tx_table(c, &v.transactions)
    );
    html::page(state, Some(c), &format!("Block {n}"), &body)
}
