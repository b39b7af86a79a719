//! Validation of everything a request carries (path segments, query parameters), before any
//! query runs: chain ids, block numbers, 32-byte hashes, 20-byte addresses and page numbers.
//! Anything malformed becomes a 400 with a message saying what was expected; a chain that is not
//! configured is a 404.

use std::collections::HashMap;

use crate::{AppState, ChainSpec, error::AppError};

/// Highest page number of an address's history.
pub const MAX_PAGE: i64 = 1000;
/// Longest input echoed back in a message.
const ECHO: usize = 80;

fn echo(s: &str) -> String {
    let mut out: String = s.chars().take(ECHO).collect();
    if s.chars().nth(ECHO).is_some() {
        out.push('…');
    }
    out
}

/// Bytes of `0x`-prefixed hex of exactly `len` bytes (either case).
pub fn hex_bytes(s: &str, len: usize) -> Option<Vec<u8>> {
    let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if h.len() != len * 2 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..len)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// A decimal number that fits a BIGINT.
pub fn number(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The configured chain with this id.
pub fn chain<'a>(state: &'a AppState, raw: &str) -> Result<&'a ChainSpec, AppError> {
    let id = number(raw).ok_or_else(|| {
        AppError::BadRequest(format!("bad chain id {:?}: expected a number", echo(raw)))
    })?;
    state
        .chain(id as u64)
        .ok_or_else(|| AppError::NotFound(format!("no chain {id} here")))
}

/// A 32-byte hash.
pub fn hash(raw: &str) -> Result<Vec<u8>, AppError> {
    hex_bytes(raw, 32).ok_or_else(|| {
        AppError::BadRequest(format!(
            "bad hash {:?}: expected 0x and 64 hex digits",
            echo(raw)
        ))
    })
}

/// A 20-byte address.
pub fn address(raw: &str) -> Result<Vec<u8>, AppError> {
    hex_bytes(raw, 20).ok_or_else(|| {
        AppError::BadRequest(format!(
            "bad address {:?}: expected 0x and 40 hex digits",
            echo(raw)
        ))
    })
}

/// A block by number or by hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockId {
    /// By number.
    Number(i64),
    /// By hash.
    Hash(Vec<u8>),
}

impl BlockId {
    /// A decimal number or a 32-byte hash.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        if let Some(n) = number(raw) {
            return Ok(Self::Number(n));
        }
        hex_bytes(raw, 32).map(Self::Hash).ok_or_else(|| {
            AppError::BadRequest(format!(
                "bad block {:?}: expected a number or 0x and 64 hex digits",
                echo(raw)
            ))
        })
    }
}

/// The `page` parameter: 1 when absent, else 1..=[`MAX_PAGE`].
pub fn page(query: &HashMap<String, String>) -> Result<i64, AppError> {
    match query.get("page") {
        None => Ok(1),
        Some(p) => number(p)
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "bad page {:?}: expected a number from 1 to {MAX_PAGE}",
                    echo(p)
                ))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_numbers_and_block_ids() {
        assert_eq!(hex_bytes("0x0aFF", 2), Some(vec![0x0a, 0xff]));
        assert_eq!(hex_bytes("0x0aF", 2), None);
        assert_eq!(hex_bytes("0aff", 2), None);
        assert_eq!(hex_bytes("0x0ag0", 2), None);
        assert_eq!(hex_bytes("0x€€", 1), None);
        assert_eq!(number("42"), Some(42));
        assert_eq!(number("-1"), None);
        assert_eq!(number("+1"), None);
        assert_eq!(number("99999999999999999999"), None);
        assert_eq!(BlockId::parse("7").unwrap(), BlockId::Number(7));
        assert!(matches!(
            BlockId::parse(&format!("0x{}", "ab".repeat(32))).unwrap(),
            BlockId::Hash(_)
        ));
        assert!(BlockId::parse("0x12").is_err());
        assert!(BlockId::parse("latest").is_err());
    }

    #[test]
    fn pages_are_bounded() {
        let q = |v: &str| HashMap::from([("page".to_owned(), v.to_owned())]);
        assert_eq!(page(&HashMap::new()).unwrap(), 1);
        assert_eq!(page(&q("3")).unwrap(), 3);
        for bad in ["0", "-1", "1001", "abc", "1e3", ""] {
            assert!(page(&q(bad)).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        #[test]
        fn any_text_is_a_value_or_refused(text in proptest::prelude::any::<String>()) {
            if let Some(n) = number(&text) {
                proptest::prop_assert!(n >= 0);
                proptest::prop_assert_eq!(n.to_string().parse::<i64>().unwrap(), n);
                proptest::prop_assert!(text.bytes().all(|b| b.is_ascii_digit()));
            }
            for len in [20, 32] {
                if let Some(bytes) = hex_bytes(&text, len) {
                    proptest::prop_assert_eq!(bytes.len(), len);
                    let back: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                    proptest::prop_assert_eq!(back, text[2..].to_lowercase());
                }
            }
            let _ = BlockId::parse(&text);
            let q = HashMap::from([("page".to_owned(), text.clone())]);
            if let Ok(p) = page(&q) {
                proptest::prop_assert!((1..=MAX_PAGE).contains(&p));
            }
        }
    }
}
