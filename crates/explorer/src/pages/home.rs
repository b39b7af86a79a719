//! The home page of a chain: every chain's head (from its node) beside its indexing checkpoint
//! and the lag between them, then the chain's latest blocks and transactions.

use serde::Serialize;

use crate::{
    AppState,
    db::{BlockSummary, TxSummary},
    error::AppError,
    html::{self, esc},
    input,
};

/// Rows of each latest list.
pub const LATEST: i64 = 15;

/// A chain's heads.
#[derive(Debug, Clone, Serialize)]
pub struct Heads {
    /// Name.
    pub name: String,
    /// Chain id.
    pub chain_id: u64,
    /// Head block number from the node (None when it does not answer).
    pub node_head: Option<u64>,
    /// Last block indexed (None when nothing is).
    pub indexed_head: Option<i64>,
    /// Blocks the indexer is behind the node.
    pub lag: Option<i64>,
    /// Why the node gave no head.
    pub node_error: Option<String>,
}

/// The home page's data.
#[derive(Debug, Clone, Serialize)]
pub struct HomeView {
    /// The chain shown.
    pub chain_id: u64,
    /// Every chain's heads (the chain shown included).
    pub chains: Vec<Heads>,
    /// Newest blocks first.
    pub latest_blocks: Vec<BlockSummary>,
    /// Newest transactions first.
    pub latest_transactions: Vec<TxSummary>,
}

/// Loads the home page of chain `id`.
pub async fn load(state: &AppState, id: &str) -> Result<HomeView, AppError> {
    let chain = input::chain(state, id)?;
    let cid = chain.chain_id as i64;
    let heads = futures_join_heads(state);
    let (heads, blocks, txs) = tokio::join!(
        heads,
        state.db.latest_blocks(cid, LATEST),
        state.db.latest_txs(cid, LATEST)
    );
    Ok(HomeView {
        chain_id: chain.chain_id,
        chains: heads?,
        latest_blocks: blocks?,
        latest_transactions: txs?,
    })
}

async fn futures_join_heads(state: &AppState) -> Result<Vec<Heads>, AppError> {
    let mut out = Vec::with_capacity(state.chains.len());
    let mut tasks = Vec::new();
    for c in state.chains.iter() {
        let (node, db, c) = (state.node.clone(), state.db.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            let (head, cp) = tokio::join!(node.head(&c.rpc_url), db.checkpoint(c.chain_id as i64));
            (c, head, cp)
        }));
    }
    for t in tasks {
        let (c, head, cp) = t.await.map_err(|_| AppError::Unavailable)?;
        let indexed_head = cp?.map(|cp| cp.number);
        let (node_head, node_error) = match head {
            Ok(h) => (Some(h), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let lag = node_head.map(|h| h as i64 - indexed_head.unwrap_or(-1));
        out.push(Heads {
            name: c.name,
            chain_id: c.chain_id,
            node_head,
            indexed_head,
            lag,
            node_error,
        });
    }
    Ok(out)
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(
        || "<span class=\"muted\">—</span>".into(),
        |v| v.to_string(),
    )
}

/// The page.
pub fn render(state: &AppState, v: &HomeView) -> String {
    let chain = v.chain_id;
    let name = state.chain(chain).map_or("", |c| c.name.as_str());
    let heads: String = v
        .chains
        .iter()
        .map(|h| {
            format!(
                "<tr><td><a href=\"/chains/{id}\">{}</a></td><td>{id}</td><td class=\"node-head\">{}</td>\
                 <td class=\"indexed-head\">{}</td><td class=\"lag\">{}</td></tr>",
                esc(&h.name),
                h.node_head.map_or_else(
                    || format!(
                        "<span class=\"error\" title=\"{}\">unavailable</span>",
                        esc(h.node_error.as_deref().unwrap_or(""))
                    ),
                    |n| n.to_string()
                ),
                opt(h.indexed_head),
                opt(h.lag),
                id = h.chain_id,
            )
        })
        .collect();
    let blocks: String = if v.latest_blocks.is_empty() {
        "<tr><td colspan=\"4\" class=\"muted\">Nothing indexed yet.</td></tr>".into()
    } else {
        v.latest_blocks
            .iter()
            .map(|b| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    html::block_link(chain, b.number),
                    esc(&html::short(&b.hash)),
                    b.tx_count,
                    html::time(b.timestamp)
                )
            })
            .collect()
    };
    let body = format!(
        "<h1>{} <span class=\"muted\">chain {chain}</span></h1>\
         <h2>Heads</h2><table id=\"heads\"><thead><tr><th>chain</th><th>id</th><th>node head</th>\
         <th>indexed</th><th>lag (blocks)</th></tr></thead><tbody>{heads}</tbody></table>\
         <div><h2>Latest blocks</h2><table id=\"latest-blocks\"><thead><tr>\
         <th>block</th><th>hash</th><th>txs</th><th>time</th></tr></thead><tbody>{blocks}</tbody>\
         </table></div><div id=\"latest-transactions\"><h2>Latest transactions</h2>{}</div>",
        esc(name),
        html::tx_table(chain, &v.latest_transactions)
    );
    html::page(state, Some(chain), name, &body)
}
