//! The OP Stack as data, shared by the lite bridge and the full profile: the official contract
//! artifacts from npm ([`artifacts`]), the canonical addresses ([`predeploys`]), the L1 system
//! deployed per L2 ([`l1`]), the L2 predeploys ([`l2`]), deposit transactions ([`deposit`]),
//! output roots and withdrawals ([`output`]), and what a bridge client does with them
//! ([`withdraw`]). What is pure data and encoding is kept apart from the few JSON-RPC calls that
//! apply it to a running anvil ([`anvil`]), so most of it is unit-tested without a chain.

use std::path::{Path, PathBuf};

pub mod anvil;
pub mod artifacts;
pub mod deposit;
pub mod genesis;
pub mod l1;
pub mod l2;
pub mod output;
pub mod predeploys;
pub mod record;
pub mod withdraw;

/// Ethereum primitive types, for crates that take no alloy of their own.
pub use alloy::primitives;
pub use artifacts::Artifacts;
pub use record::Record;

/// A failure of the OP Stack layer, read after "failed to …".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("access {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A contract artifact is missing or malformed.
    #[error("read contract artifact {path}: {reason}")]
    Artifact {
        /// The artifact.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A chain refused or failed a call.
    #[error("{what} on {url}: {reason}")]
    Rpc {
        /// What was being done.
        what: String,
        /// The chain's RPC URL.
        url: String,
        /// The node's answer.
        reason: String,
    },
    /// A transaction of a deployment reverted or never landed.
    #[error("deploy {what} on {url}: {reason}")]
    Deploy {
        /// The step.
        what: String,
        /// The chain's RPC URL.
        url: String,
        /// What happened.
        reason: String,
    },
    /// A log or value did not decode.
    #[error("decode {what}: {reason}")]
    Decode {
        /// What was decoded.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
