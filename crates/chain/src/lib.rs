//! What opdev needs to say to a running chain: JSON-RPC probes used for readiness and status
//! ([`rpc`]), the prefunded dev accounts a mnemonic gives ([`accounts`]), and the smoke check that
//! deploys and drives the Counter contract ([`smoke`]).

pub mod accounts;
pub mod fund;
pub mod http;
pub mod rpc;
pub mod smoke;

/// Ethereum primitive types (addresses, 256-bit integers), for crates that take no alloy of their own.
pub use alloy::primitives;

/// A failure talking to a chain, read after "failed to …".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The RPC URL is not a URL.
    #[error("parse RPC URL {url}: {reason}")]
    Url {
        /// The text given.
        url: String,
        /// Why it is not a URL.
        reason: String,
    },
    /// The node did not answer or answered with an error.
    #[error("call {method} on {url}: {reason}")]
    Rpc {
        /// Endpoint.
        url: String,
        /// JSON-RPC method.
        method: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The node did not answer in time.
    #[error("call {method} on {url}: no answer within {secs} s")]
    Timeout {
        /// Endpoint.
        url: String,
        /// JSON-RPC method.
        method: &'static str,
        /// The deadline.
        secs: u64,
    },
    /// The mnemonic is not valid BIP39 English.
    #[error("derive accounts: invalid mnemonic: {0}")]
    Mnemonic(String),
    /// The smoke check saw something other than what it expected.
    #[error("smoke check on chain {chain_id}: {reason}")]
    Smoke {
        /// Chain id.
        chain_id: u64,
        /// What differed.
        reason: String,
    },
}
