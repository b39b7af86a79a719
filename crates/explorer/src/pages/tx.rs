//! The transaction page: status, parties, value, fee and gas, input data, and logs with the
//! known events decoded; an OP deposit (type 0x7e) is shown as a deposit with its source hash,
//! mint and system flag, and the bridge part ([`crate::bridge`]): the L1 transaction behind a
//! deposit, the deposits an L1 transaction made, the state of the withdrawals a transaction
//! started.

use serde::Serialize;

use crate::{
    AppState,
    bridge::{self, BridgeView, DepositKind},
    db::{Log, Tx},
    error::AppError,
    html::{self, esc},
    input,
};

/// The transaction page's data.
#[derive(Debug, Clone, Serialize)]
pub struct TxView {
    /// Chain id.
    pub chain_id: u64,
    /// The transaction with its receipt.
    pub transaction: Tx,
    /// Its logs in order.
    pub logs: Vec<Log>,
    /// Deposits and withdrawals it takes part in (left out when none).
    #[serde(skip_serializing_if = "BridgeView::is_empty")]
    pub bridge: BridgeView,
}

/// Loads transaction `hash` of chain `id`.
pub async fn load(state: &AppState, id: &str, hash: &str) -> Result<TxView, AppError> {
    let chain = input::chain(state, id)?;
    let cid = chain.chain_id as i64;
    let h = input::hash(hash)?;
    let tx = state.db.tx(cid, &h).await?.ok_or_else(|| {
        AppError::NotFound(format!(
            "transaction {hash} is not indexed on chain {}",
            chain.chain_id
        ))
    })?;
    let logs = state.db.tx_logs(cid, tx.summary.block_number, &h).await?;
    let bridge = bridge::load(state, chain, &tx, &logs).await?;
    Ok(TxView {
        chain_id: chain.chain_id,
        transaction: tx,
        logs,
        bridge,
    })
}

fn type_name(t: i16) -> &'static str {
    match t {
        0 => "legacy",
        1 => "EIP-2930",
        2 => "EIP-1559",
        3 => "EIP-4844 (blob)",
        4 => "EIP-7702",
        0x7e => "OP deposit",
        _ => "unknown",
    }
}

fn opt_wei(v: &Option<String>) -> String {
    v.as_deref()
        .map_or_else(|| "—".into(), |w| format!("{} wei", esc(w)))
}

/// The page.
pub fn render(state: &AppState, v: &TxView) -> String {
    let c = v.chain_id;
    let t = &v.transaction;
    let s = &t.summary;
    let to = match (&s.to, &s.contract_address) {
        (Some(to), _) => html::addr_link(c, to, true),
        (None, Some(created)) => format!("contract created: {}", html::addr_link(c, created, true)),
        (None, None) => "—".into(),
    };
    let mut rows = vec![
        (
            "hash",
            format!("<span class=\"mono\">{}</span>", esc(&s.hash)),
        ),
        ("status", html::status(s.status).to_owned()),
        (
            "type",
            format!("{} ({})", esc(type_name(s.tx_type)), s.tx_type),
        ),
        (
            "block",
            format!(
                "{} (index {})",
                html::block_link(c, s.block_number),
                s.tx_index
            ),
        ),
        ("from", html::addr_link(c, &s.from, true)),
        ("to", to),
        ("value", html::eth(&s.value)),
    ];
    if let Some(d) = &t.deposit {
        rows.push((
            "source hash",
            format!(
                "<span class=\"mono\" id=\"source-hash\">{}</span>",
                esc(d.source_hash.as_deref().unwrap_or("—"))
            ),
        ));
        rows.push(("mint", d.mint.as_deref().map_or("—".into(), html::eth)));
        rows.push((
            "system tx",
            d.is_system_tx.map_or("—".into(), |b| b.to_string()),
        ));
        if let Some(n) = d.deposit_nonce {
            rows.push(("deposit nonce", n.to_string()));
        }
        rows.push(("L1 transaction", deposit_origin(&v.bridge)));
    }
    rows.extend([
        ("fee", html::eth(&t.fee)),
        ("gas limit", esc(&t.gas)),
        ("gas used", esc(&t.gas_used)),
        ("effective gas price", opt_wei(&t.effective_gas_price)),
        ("max fee per gas", opt_wei(&t.max_fee_per_gas)),
        ("max priority fee", opt_wei(&t.max_priority_fee_per_gas)),
    ]);
    if t.l1_fee.is_some() {
        rows.push(("L1 fee", opt_wei(&t.l1_fee)));
    }
    rows.push(("nonce", t.nonce.map_or("—".into(), |n| n.to_string())));
    rows.push((
        "input",
        format!("<pre class=\"data\" id=\"input\">{}</pre>", esc(&t.input)),
    ));
    let kv: String = rows
        .iter()
        .map(|(k, v)| format!("<tr><th>{k}</th><td>{v}</td></tr>"))
        .collect();
    let logs: String = if v.logs.is_empty() {
        "<p class=\"muted\">No logs.</p>".into()
    } else {
        v.logs.iter().map(|l| render_log(c, l)).collect()
    };
    let title = if s.is_deposit() {
        "Deposit transaction"
    } else {
        "Transaction"
    };
    let tag = if s.is_deposit() {
        " <span class=\"tag deposit\">deposit</span>"
    } else {
        ""
    };
    let body = format!(
        "<h1>{title}{tag}</h1><table class=\"kv\" id=\"tx\">{kv}</table>{}{}\
         <h2>Logs ({})</h2><div id=\"logs\">{logs}</div>",
        render_deposits(&v.bridge),
        render_withdrawals(&v.bridge),
        v.logs.len()
    );
    html::page(state, Some(c), title, &body)
}

fn deposit_origin(b: &BridgeView) -> String {
    match (b.deposit_kind, &b.deposit_origin) {
        (_, Some(o)) => format!(
            "<span id=\"deposit-origin\">{} (block {}, log {})</span>",
            html::tx_link(o.chain_id, &o.tx_hash, true),
            html::block_link(o.chain_id, o.block_number),
            o.log_index
        ),
        (Some(DepositKind::System), None) => "<span class=\"muted\" id=\"deposit-origin\">none: \
            a system deposit (the L1 block's attributes, or the setup of the predeploys)</span>"
            .into(),
        _ => "<span class=\"muted\" id=\"deposit-origin\">not indexed (yet)</span>".into(),
    }
}

fn render_deposits(b: &BridgeView) -> String {
    if b.deposits.is_empty() {
        return String::new();
    }
    let rows: String = b
        .deposits
        .iter()
        .map(|d| {
            let l2 = match (d.l2_chain_id, &d.l2_tx_hash) {
                (Some(c), Some(h)) => format!("{} on chain {c}", html::tx_link(c, h, true)),
                _ => "<span class=\"muted\">not on an indexed L2 (yet)</span>".into(),
            };
            format!(
                "<tr><td>{}</td><td class=\"mono\">{}</td><td>{l2}</td></tr>",
                d.log_index,
                esc(&d.source_hash)
            )
        })
        .collect();
    format!(
        "<h2>Deposits to L2 ({})</h2><table id=\"deposits\"><tr><th>log</th>\
         <th>source hash</th><th>L2 transaction</th></tr>{rows}</table>",
        b.deposits.len()
    )
}

fn l1_links(txs: &[bridge::L1Tx]) -> String {
    if txs.is_empty() {
        return "—".into();
    }
    txs.iter()
        .map(|t| html::tx_link(t.chain_id, &t.tx_hash, false))
        .collect::<Vec<_>>()
        .join(", ")
}

fn render_withdrawals(b: &BridgeView) -> String {
    if b.withdrawals.is_empty() {
        return String::new();
    }
    let rows: String = b
        .withdrawals
        .iter()
        .map(|w| {
            let state = match (&w.state, &w.state_error) {
                (Some(s), _) => format!("<strong class=\"withdrawal-state\">{}</strong>", esc(s)),
                (None, Some(e)) => format!("<span class=\"muted\">unknown: {}</span>", esc(e)),
                (None, None) => "—".into(),
            };
            let finalized = match (&w.finalized, w.finalized_success) {
                (Some(t), ok) => format!(
                    "{}{}",
                    l1_links(std::slice::from_ref(t)),
                    if ok == Some(false) {
                        " (its call failed)"
                    } else {
                        ""
                    }
                ),
                (None, _) => "—".into(),
            };
            format!(
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{state}</td>\
                 <td>{}</td><td>{finalized}</td></tr>",
                esc(&html::short(&w.hash)),
                esc(&html::short(&w.target)),
                html::eth(&w.value),
                l1_links(&w.proven)
            )
        })
        .collect();
    format!(
        "<h2>Withdrawals to L1 ({})</h2><table id=\"withdrawals\"><tr><th>hash</th><th>to</th>\
         <th>value</th><th>state</th><th>proven in</th><th>finalized in</th></tr>{rows}</table>",
        b.withdrawals.len()
    )
}

fn render_log(c: u64, l: &Log) -> String {
    let decoded = match &l.event {
        Some(e) => {
            let params: String = e
                .params
                .iter()
                .map(|p| {
                    let value = if p.kind == "address" {
                        html::addr_link(c, &p.value, true)
                    } else {
                        format!("<span class=\"mono\">{}</span>", esc(&p.value))
                    };
                    format!(
                        "<tr><th>{} <span class=\"muted\">{}</span></th><td>{value}</td></tr>",
                        esc(p.name),
                        esc(p.kind)
                    )
                })
                .collect();
            format!(
                "<tr><th>event</th><td><strong class=\"event\">{}</strong> \
                 <span class=\"muted mono\">{}</span></td></tr>{params}",
                esc(e.name),
                esc(e.signature)
            )
        }
        None => String::new(),
    };
    let topics: String = l
        .topics
        .iter()
        .enumerate()
        .map(|(i, t)| format!("<div>[{i}] {}</div>", esc(t)))
        .collect();
    format!(
        "<h3>Log {}</h3><table class=\"kv log\"><tr><th>address</th><td>{}</td></tr>{decoded}\
         <tr><th>topics</th><td class=\"mono\">{topics}</td></tr>\
         <tr><th>data</th><td><pre class=\"data\">{}</pre></td></tr></table>",
        l.log_index,
        html::addr_link(c, &l.address, true),
        esc(&l.data)
    )
}
