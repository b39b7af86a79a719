//! Search: a block number (on the chain searched from), a block or transaction hash (on any
//! chain, the searched chain first), or an address (on the chain searched from) leads to its
//! page; anything else, or a hash nobody knows, is "nothing found" (404).

use std::collections::HashMap;

use serde::Serialize;

use crate::{
    AppState,
    db::{HashKind, hex},
    error::AppError,
    input,
};

/// Longest query accepted.
pub const MAX_QUERY: usize = 200;

/// Where a search leads.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// `block`, `transaction` or `address`.
    pub kind: &'static str,
    /// Chain id.
    pub chain_id: u64,
    /// The page.
    pub url: String,
    /// Its JSON twin.
    pub api: String,
}

fn hit(kind: &'static str, chain_id: u64, segment: &str, id: &str) -> Hit {
    Hit {
        kind,
        chain_id,
        url: format!("/chains/{chain_id}/{segment}/{id}"),
        api: format!("/api/chains/{chain_id}/{segment}/{id}"),
    }
}

/// Resolves `q` (searching from `chain`, default the first chain).
pub async fn load(state: &AppState, query: &HashMap<String, String>) -> Result<Hit, AppError> {
    let chain = match query.get("chain").filter(|c| !c.is_empty()) {
        Some(id) => input::chain(state, id)?,
        None => state.default_chain(),
    };
    let q = query.get("q").map(|q| q.trim()).unwrap_or("");
    if q.is_empty() {
        return Err(AppError::BadRequest("nothing to search for: give q".into()));
    }
    if q.len() > MAX_QUERY {
        return Err(AppError::BadRequest(format!(
            "search too long: at most {MAX_QUERY} characters"
        )));
    }
    let none = || AppError::NotFound(format!("nothing found for {q:?}"));
    let cid = chain.chain_id;
    if let Some(n) = input::number(q) {
        return match state.db.block_by_number(cid as i64, n).await? {
            Some(_) => Ok(hit("block", cid, "blocks", &n.to_string())),
            None => Err(none()),
        };
    }
    if let Some(h) = input::hex_bytes(q, 32) {
        let mut found = state.db.find_hash(&h).await?;
        // The chain searched from first, then blocks before transactions, then by chain order.
        found.retain(|(_, c)| state.chain(*c as u64).is_some());
        found.sort_by_key(|(kind, c)| (*c as u64 != cid, *kind != HashKind::Block, *c));
        return match found.first() {
            Some((HashKind::Block, c)) => Ok(hit("block", *c as u64, "blocks", &hex(&h))),
            Some((HashKind::Tx, c)) => Ok(hit("transaction", *c as u64, "tx", &hex(&h))),
            None => Err(none()),
        };
    }
    if let Some(a) = input::hex_bytes(q, 20) {
        return Ok(hit("address", cid, "address", &hex(&a)));
    }
    Err(none())
}
