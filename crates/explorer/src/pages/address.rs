//! The address page: balance and nonce and whether it holds code (live, from the node), then
//! its transaction history from the database (sent, received, or creating it), newest first,
//! [`PER_PAGE`] a page.

use std::collections::HashMap;

use serde::Serialize;

use crate::{
    AppState,
    db::{TxSummary, hex},
    error::AppError,
    html::{self, esc},
    input,
    node::Account,
};

/// Transactions a page.
pub const PER_PAGE: i64 = 25;

/// The address page's data.
#[derive(Debug, Clone, Serialize)]
pub struct AddressView {
    /// Chain id.
    pub chain_id: u64,
    /// The address, lowercase.
    pub address: String,
    /// Live values (None when the node does not answer).
    pub account: Option<Account>,
    /// Why the node gave no values.
    pub node_error: Option<String>,
    /// This page (from 1).
    pub page: i64,
    /// Transactions a page.
    pub per_page: i64,
    /// The page's transactions, newest first.
    pub transactions: Vec<TxSummary>,
    /// The next page, if there is one.
    pub next_page: Option<i64>,
}

/// Loads the address page.
pub async fn load(
    state: &AppState,
    id: &str,
    addr: &str,
    query: &HashMap<String, String>,
) -> Result<AddressView, AppError> {
    let chain = input::chain(state, id)?;
    let bytes = input::address(addr)?;
    let page = input::page(query)?;
    let address = hex(&bytes);
    let (account, txs) = tokio::join!(
        state.node.account(&chain.rpc_url, &address),
        state.db.address_txs(
            chain.chain_id as i64,
            &bytes,
            (page - 1) * PER_PAGE,
            PER_PAGE + 1
        )
    );
    let mut transactions = txs?;
    if page > 1 && transactions.is_empty() {
        return Err(AppError::NotFound(format!(
            "page {page} is past the end of {address}'s history"
        )));
    }
    let next_page = (transactions.len() as i64 > PER_PAGE).then_some(page + 1);
    transactions.truncate(PER_PAGE as usize);
    let (account, node_error) = match account {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(AddressView {
        chain_id: chain.chain_id,
        address,
        account,
        node_error,
        page,
        per_page: PER_PAGE,
        transactions,
        next_page,
    })
}

/// The page.
pub fn render(state: &AppState, v: &AddressView) -> String {
    let c = v.chain_id;
    let live = match &v.account {
        Some(a) => format!(
            "<tr><th>balance</th><td id=\"balance\">{}</td></tr>\
             <tr><th>nonce</th><td id=\"nonce\">{}</td></tr>\
             <tr><th>kind</th><td id=\"kind\">{}</td></tr>",
            html::eth(&a.balance),
            a.nonce,
            if a.is_contract {
                format!("contract ({} bytes of code)", a.code_size)
            } else {
                "account (no code)".into()
            }
        ),
        None => format!(
            "<tr><th>balance, nonce, code</th><td class=\"error\">node unavailable: {}</td></tr>",
            esc(v.node_error.as_deref().unwrap_or(""))
        ),
    };
    let base = format!("/chains/{c}/address/{}", esc(&v.address));
    let prev = if v.page > 1 {
        format!(
            "<a rel=\"prev\" href=\"{base}?page={}\">← newer</a>",
            v.page - 1
        )
    } else {
        String::new()
    };
    let next = v.next_page.map_or(String::new(), |p| {
        format!("<a rel=\"next\" href=\"{base}?page={p}\">older →</a>")
    });
    let body = format!(
        "<h1>Address <span class=\"mono\">{}</span></h1><table class=\"kv\" id=\"address\">{live}\
         </table><h2>Transactions <span class=\"muted\">page {}</span></h2>\
         <div id=\"history\">{}</div><div class=\"pager\">{prev}{next}</div>",
        esc(&v.address),
        v.page,
        html::tx_table(c, &v.transactions)
    );
    html::page(state, Some(c), &format!("Address {}", v.address), &body)
}
