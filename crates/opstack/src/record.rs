//! What a devnet's bridge deployment leaves behind for the services and the CLI:
//! `data/bridge-deploy/bridge.json`, the addresses of everything it deployed, per L2, and the
//! contracts on the L1 every L2 shares.

use std::{collections::BTreeMap, path::Path};

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

use crate::{Error, l1::Deployment, predeploys};

/// File name of the record in the deploy step's data folder.
pub const FILE: &str = "bridge.json";

/// The bridge of a devnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The L1's chain id.
    pub l1_chain_id: u64,
    /// Contracts on the L1 outside any one L2's system (`Multicall3`).
    pub l1_contracts: BTreeMap<String, Address>,
    /// The L2s' systems on the L1.
    pub deployment: Deployment,
    /// Service name of each L2, in the order of `deployment.chains`.
    pub l2_services: Vec<String>,
}

impl Record {
    /// A record of `deployment` on the L1 `l1_chain_id`.
    pub fn new(l1_chain_id: u64, deployment: Deployment, l2_services: Vec<String>) -> Self {
        Self {
            l1_chain_id,
            l1_contracts: BTreeMap::from([("Multicall3".to_owned(), predeploys::MULTICALL3)]),
            deployment,
            l2_services,
        }
    }

    /// Reads the record at `path`.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::Decode {
            what: "bridge record",
            reason: format!("{}: {e}", path.display()),
        })
    }

    /// Writes the record to `path` atomically (a temporary file renamed over it), mode 0600.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        use std::{io::Write, os::unix::fs::OpenOptionsExt};
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).expect("a record serializes");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::io(&tmp, e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }

    /// The L1 contracts of the L2 served by `service` (`l2-1`…).
    pub fn chain(&self, service: &str) -> Option<&crate::l1::ChainContracts> {
        let index = self.l2_services.iter().position(|s| s == service)?;
        self.deployment.chains.get(index)
    }
}
