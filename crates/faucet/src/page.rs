//! The faucet's HTML page: a plain form (no JavaScript) that posts to `POST /claim` and a result
//! page. Everything interpolated is HTML-escaped.

use std::fmt::Write;

use crate::{
    claim::{ClaimResponse, Faucet},
    http::eth,
};

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}\
input,select,button{font-size:1rem;padding:.4rem;margin:.2rem 0}input{width:100%}\
code{word-break:break-all}.err{color:#b00020}.ok{color:#006400}";

/// Escapes text for HTML content and attribute values.
pub(crate) fn escape(s: &str) -> String {
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

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    )
}

/// `GET /`: the claim form.
pub(crate) fn index(faucet: &Faucet) -> String {
    let mut options = String::new();
    for chain in &faucet.chains {
        let _ = write!(
            options,
            "<option value=\"{}\">{} (chain {}, {} ETH)</option>",
            chain.config.chain_id,
            escape(&chain.config.name),
            chain.config.chain_id,
            eth(chain.config.amount)
        );
    }
    let limits = faucet.config.limits;
    let body = format!(
        "<h1>opdev faucet</h1>\
         <form method=\"post\" action=\"/claim\">\
         <label for=\"address\">Address</label>\
         <input id=\"address\" name=\"address\" required pattern=\"0x[0-9a-fA-F]{{40}}\" placeholder=\"0x…\">\
         <label for=\"chain_id\">Chain</label> <select id=\"chain_id\" name=\"chain_id\">{options}</select> \
         <button type=\"submit\">Send</button></form>\
         <p>Faucet <code>{}</code>. Each address may claim {} time(s) per {} s on each chain, each \
         client {} time(s) per {} s.</p>",
        faucet.config.signer.address(),
        limits.address.claims,
        limits.address.window.as_secs(),
        limits.ip.claims,
        limits.ip.window.as_secs(),
    );
    layout("opdev faucet", &body)
}

/// The result page of an accepted claim.
pub(crate) fn success(answer: &ClaimResponse) -> String {
    let amount = answer
        .amount
        .parse()
        .map(eth)
        .unwrap_or_else(|_| answer.amount.clone());
    let body = format!(
        "<h1 class=\"ok\">Sent</h1><p>{} ETH on chain {}.</p><p>Transaction <code>{}</code></p>\
         <p><a href=\"/\">Back</a></p>",
        escape(&amount),
        answer.chain_id,
        answer.tx_hash
    );
    layout("opdev faucet: sent", &body)
}

/// The result page of a refused or failed claim.
pub(crate) fn failure(message: &str) -> String {
    let body = format!(
        "<h1 class=\"err\">Not sent</h1><p class=\"err\">{}</p><p><a href=\"/\">Back</a></p>",
        escape(message)
    );
    layout("opdev faucet: not sent", &body)
}

/// The page of an error no handler chose (an unknown path, a method a route does not take).
pub(crate) fn error(status: axum::http::StatusCode, message: &str) -> String {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = format!(
        "<h1 class=\"err\">{} {}</h1><p class=\"err\">{}</p><p><a href=\"/\">Back</a></p>",
        status.as_u16(),
        escape(title),
        escape(message)
    );
    layout(&format!("opdev faucet: {title}"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert!(failure("<script>").contains("&lt;script&gt;"));
    }
}
