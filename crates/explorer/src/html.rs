//! HTML building blocks: [`esc`] (every dynamic value goes through it, in text and in
//! attributes), the page layout with the chain selector and the search form, links to blocks,
//! transactions and addresses, amounts and times, and the one stylesheet (`/style.css`).

use crate::{AppState, decode::format_eth};

/// The stylesheet served at `/style.css`.
pub const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2330;background:#f4f6fa}
header{background:#1c2330;color:#fff;padding:.6rem 1.2rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff;text-decoration:none}
header .brand{font-weight:700;font-size:1.1rem;margin-right:.5rem}
nav.chains a{padding:.2rem .6rem;border-radius:.3rem;background:#2f3a4f;margin-right:.3rem}
nav.chains a.current{background:#ff0420}
form.search{margin-left:auto;display:flex;gap:.3rem}
form.search input{width:28rem;max-width:60vw;padding:.35rem .5rem;border-radius:.3rem;border:0}
form.search button{padding:.35rem .8rem;border:0;border-radius:.3rem;background:#ff0420;color:#fff}
main{max-width:72rem;margin:1.2rem auto;padding:0 1.2rem}
h1{font-size:1.35rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
section.card,table{background:#fff;border-radius:.4rem;box-shadow:0 1px 2px #0002}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #e6e9ef;vertical-align:top}
th{color:#5b6475;font-weight:600;white-space:nowrap}
table.kv th{width:13rem}
td.mono,code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.86rem;word-break:break-all}
a{color:#0b5bd3}
table.txs td{white-space:nowrap}
.ok{color:#0a7d38;font-weight:600}.fail{color:#c0162b;font-weight:600}
.tag{display:inline-block;padding:0 .4rem;border-radius:.25rem;background:#e8ecf4;font-size:.8rem}
.tag.deposit{background:#ffe1e5;color:#a3001a}
.error{color:#c0162b}
.muted{color:#6b7385}
pre.data{white-space:pre-wrap;word-break:break-all;background:#f0f2f7;padding:.5rem;border-radius:.3rem;max-height:16rem;overflow:auto;margin:0}
.pager{margin:.8rem 0;display:flex;gap:1rem}
"#;

/// Escapes `&`, `<`, `>`, `"` and `'` for text and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: header with the chain selector (`current` highlighted) and search, then `body`
/// (already HTML).
pub fn page(state: &AppState, current: Option<u64>, title: &str, body: &str) -> String {
    let current = current.unwrap_or(state.default_chain().chain_id);
    let chains: String = state
        .chains
        .iter()
        .map(|c| {
            format!(
                "<a href=\"/chains/{}\"{}>{} <span class=\"muted\">{}</span></a>",
                c.chain_id,
                if c.chain_id == current {
                    " class=\"current\""
                } else {
                    ""
                },
                esc(&c.name),
                c.chain_id
            )
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · opdev explorer</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\
         <body><header><a class=\"brand\" href=\"/\">opdev explorer</a>\
         <nav class=\"chains\">{chains}</nav>\
         <form class=\"search\" action=\"/search\" method=\"get\" role=\"search\">\
         <input type=\"hidden\" name=\"chain\" value=\"{current}\">\
         <input type=\"search\" name=\"q\" placeholder=\"block number, block or tx hash, address\" \
         aria-label=\"search\"><button type=\"submit\">Search</button></form></header>\
         <main>{body}</main></body></html>",
        esc(title)
    )
}

/// A shortened hash or address for lists (`0x1234…abcd`).
pub fn short(h: &str) -> String {
    if h.len() > 14 {
        format!("{}…{}", &h[..8], &h[h.len() - 6..])
    } else {
        h.to_owned()
    }
}

/// Link to a block.
pub fn block_link(chain: u64, number: i64) -> String {
    format!("<a href=\"/chains/{chain}/blocks/{number}\">{number}</a>")
}

/// Link to a transaction, shortened unless `full`.
pub fn tx_link(chain: u64, hash: &str, full: bool) -> String {
    let text = if full { hash.to_owned() } else { short(hash) };
    format!(
        "<a class=\"mono\" href=\"/chains/{chain}/tx/{}\">{}</a>",
        esc(hash),
        esc(&text)
    )
}

/// Link to an address, shortened unless `full`.
pub fn addr_link(chain: u64, addr: &str, full: bool) -> String {
    let text = if full { addr.to_owned() } else { short(addr) };
    format!(
        "<a class=\"mono\" href=\"/chains/{chain}/address/{}\">{}</a>",
        esc(addr),
        esc(&text)
    )
}

/// A wei amount as ETH, with the exact wei in the title.
pub fn eth(wei: &str) -> String {
    format!(
        "<span title=\"{} wei\">{}</span>",
        esc(wei),
        esc(&format_eth(wei))
    )
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn time(ts: i64) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Status of a transaction as a coloured word.
pub fn status(status: Option<i16>) -> &'static str {
    match status {
        Some(1) => "<span class=\"ok\">success</span>",
        Some(0) => "<span class=\"fail\">reverted</span>",
        _ => "<span class=\"muted\">unknown</span>",
    }
}

/// A table of transactions (hash, block, from, to, value), or a line saying there are none.
pub fn tx_table(chain: u64, txs: &[crate::db::TxSummary]) -> String {
    if txs.is_empty() {
        return "<p class=\"muted\">No transactions.</p>".into();
    }
    let rows: String = txs
        .iter()
        .map(|t| {
            let to = match (&t.to, &t.contract_address) {
                (Some(to), _) => addr_link(chain, to, false),
                (None, Some(c)) => format!("created {}", addr_link(chain, c, false)),
                (None, None) => "<span class=\"muted\">—</span>".into(),
            };
            let kind = if t.is_deposit() {
                " <span class=\"tag deposit\">deposit</span>"
            } else {
                ""
            };
            format!(
                "<tr><td>{}{kind}</td><td>{}</td><td>{}</td><td>{to}</td><td>{}</td><td>{}</td></tr>",
                tx_link(chain, &t.hash, false),
                block_link(chain, t.block_number),
                addr_link(chain, &t.from, false),
                eth(&t.value),
                status(t.status),
            )
        })
        .collect();
    format!(
        "<table class=\"txs\"><thead><tr><th>hash</th><th>block</th><th>from</th><th>to</th>\
         <th>value</th><th>status</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            esc(r#"<script>alert('x')</script>&"q""#),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;q&quot;"
        );
    }

    #[test]
    fn formats_unix_time_as_utc() {
        assert_eq!(time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(time(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(time(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
