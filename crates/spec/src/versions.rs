//! The one table of pinned versions of external software opdev runs or installs.
//! `docs/versions.md` lists the same table; a test keeps the two in step.

/// A piece of external software at a pinned version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pinned {
    /// What opdev calls it.
    pub tool: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// Where it comes from.
    pub source: &'static str,
}

/// Foundry's anvil, installed from Foundry's npm packages when not on PATH.
pub const ANVIL: Pinned = Pinned {
    tool: "anvil",
    version: "1.7.1",
    source: "npm: @foundry-rs/anvil",
};

/// The Solidity compiler used to rebuild the smoke-check contract offline.
pub const SOLC: Pinned = Pinned {
    tool: "solc",
    version: "0.8.28",
    source: "npm: solc (solcjs)",
};

/// The OP Stack's compiled contracts (forge artifacts of the Bedrock contracts, the L2
/// predeploys and the preinstalls), installed from npm into opdev's cache when a bridge is first
/// deployed. The package is the optimism monorepo's develop branch of late May 2024:
/// OptimismPortal2 3.10.0, DisputeGameFactory 1.0.0, SystemConfig 2.3.0-beta.2, L1Block with
/// Ecotone's `setL1BlockValuesEcotone`.
pub const CONTRACTS_BEDROCK: Pinned = Pinned {
    tool: "contracts-bedrock",
    version: "0.17.3",
    source: "npm: @eth-optimism/contracts-bedrock",
};

/// The OP Stack monorepo's Go module, whose mains opdev builds for the full profile: op-node,
/// op-batcher and op-proposer. `opstack-go/go.mod` requires this version (a test checks).
pub const OPTIMISM: Pinned = Pinned {
    tool: "op-node, op-batcher, op-proposer",
    version: "v1.7.7",
    source: "Go module: github.com/ethereum-optimism/optimism",
};

/// op-geth, built as `github.com/ethereum/go-ethereum/cmd/geth` through the `replace` that
/// [`OPTIMISM`]'s own go.mod makes; `opstack-go/go.mod` repeats it (a test checks).
pub const OP_GETH: Pinned = Pinned {
    tool: "op-geth",
    version: "v1.101315.2-rc.1",
    source: "Go module: github.com/ethereum-optimism/op-geth",
};

/// Every pinned piece, in the order `docs/versions.md` lists them.
pub const ALL: &[Pinned] = &[ANVIL, SOLC, CONTRACTS_BEDROCK, OPTIMISM, OP_GETH];

#[cfg(test)]
mod tests {
    #[test]
    fn docs_list_every_pinned_version() {
        let doc = include_str!("../../../docs/versions.md");
        for p in super::ALL {
            let row = format!("| {} | {} | {} |", p.tool, p.version, p.source);
            assert!(doc.contains(&row), "docs/versions.md lacks the row {row}");
        }
    }
}
