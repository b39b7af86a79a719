//! How a chain is named to opdev's own services: `--chain NAME=CHAIN_ID=RPC_URL`, written by the
//! profiles and read by the indexer, explorer, faucet and exporter. One parser, so every service
//! accepts and refuses the same text.

use std::{fmt, str::FromStr};

/// A chain as `NAME=CHAIN_ID=RPC_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEndpoint {
    /// Service name (`l1`, `l2-1`…).
    pub name: String,
    /// Chain id (at most `i64::MAX`, as PostgreSQL's BIGINT stores it).
    pub chain_id: u64,
    /// HTTP JSON-RPC URL.
    pub rpc_url: String,
}

/// Why a `--chain` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// Not `NAME=CHAIN_ID=RPC_URL`.
    #[error("invalid chain {value:?}: {reason} (expected NAME=CHAIN_ID=http://HOST:PORT)")]
    Invalid {
        /// The text given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A second chain with a name or chain id already given.
    #[error("chain {value:?} is given twice (same name or chain id)")]
    Duplicate {
        /// The text given.
        value: String,
    },
}

impl FromStr for ChainEndpoint {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason| EndpointError::Invalid {
            value: s.into(),
            reason,
        };
        let mut parts = s.splitn(3, '=');
        let (Some(name), Some(id), Some(url)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("three parts separated by '=' are needed"));
        };
        if name.is_empty() {
            return Err(bad("empty name"));
        }
        let chain_id: u64 = id
            .parse()
            .map_err(|_| bad("the chain id is not a number"))?;
        if chain_id == 0 || chain_id > i64::MAX as u64 {
            return Err(bad("the chain id is out of range"));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(bad("the RPC URL must start with http:// or https://"));
        }
        Ok(Self {
            name: name.into(),
            chain_id,
            rpc_url: url.into(),
        })
    }
}

impl fmt::Display for ChainEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}={}", self.name, self.chain_id, self.rpc_url)
    }
}

/// Parses every value and refuses two chains with the same name or chain id.
pub fn parse_all<S: AsRef<str>>(values: &[S]) -> Result<Vec<ChainEndpoint>, EndpointError> {
    let mut out: Vec<ChainEndpoint> = Vec::with_capacity(values.len());
    for value in values {
        let chain: ChainEndpoint = value.as_ref().parse()?;
        if out
            .iter()
            .any(|c| c.name == chain.name || c.chain_id == chain.chain_id)
        {
            return Err(EndpointError::Duplicate {
                value: value.as_ref().into(),
            });
        }
        out.push(chain);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_bad_text() {
        let c: ChainEndpoint = "l2-1=901=http://127.0.0.1:9545".parse().unwrap();
        assert_eq!(
            (c.name.as_str(), c.chain_id, c.rpc_url.as_str()),
            ("l2-1", 901, "http://127.0.0.1:9545")
        );
        assert_eq!(c.to_string().parse::<ChainEndpoint>().unwrap(), c);
        for bad in [
            "l1",
            "l1=900",
            "=900=http://x",
            "l1=x=http://x",
            "l1=0=http://x",
            "l1=900=ws://x",
            "l1=18446744073709551615=http://x",
        ] {
            assert!(bad.parse::<ChainEndpoint>().is_err(), "{bad}");
        }
        assert!(parse_all(&["a=1=http://x", "b=1=http://y"]).is_err());
        assert!(parse_all(&["a=1=http://x", "a=2=http://y"]).is_err());
        assert_eq!(
            parse_all(&["a=1=http://x", "b=2=http://y"]).unwrap().len(),
            2
        );
    }
}
