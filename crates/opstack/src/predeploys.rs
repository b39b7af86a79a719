//! Canonical addresses of the OP Stack: the L2 predeploys at `0x4200…`, their implementations in
//! the `0xc0d3…` code namespace, the system accounts, the preinstalls (Multicall3 and the usual
//! deployers and wallets, at the same address on every chain), and the EIP-1967 proxy slots.

use alloy::primitives::{Address, B256, address, b256};

/// The legacy message passer (pre-Bedrock withdrawals).
pub const LEGACY_MESSAGE_PASSER: Address = address!("4200000000000000000000000000000000000000");
/// The legacy deployer whitelist.
pub const DEPLOYER_WHITELIST: Address = address!("4200000000000000000000000000000000000002");
/// Wrapped ETH.
pub const WETH: Address = address!("4200000000000000000000000000000000000006");
/// The L2 side of the cross-domain messenger.
pub const L2_CROSS_DOMAIN_MESSENGER: Address = address!("4200000000000000000000000000000000000007");
/// The gas price oracle (L1 data fee).
pub const GAS_PRICE_ORACLE: Address = address!("420000000000000000000000000000000000000F");
/// The L2 side of the standard bridge.
pub const L2_STANDARD_BRIDGE: Address = address!("4200000000000000000000000000000000000010");
/// Where sequencer fees go.
pub const SEQUENCER_FEE_VAULT: Address = address!("4200000000000000000000000000000000000011");
/// Makes L2 representations of L1 ERC-20 tokens.
pub const OPTIMISM_MINTABLE_ERC20_FACTORY: Address =
    address!("4200000000000000000000000000000000000012");
/// The legacy L1 block number.
pub const L1_BLOCK_NUMBER: Address = address!("4200000000000000000000000000000000000013");
/// The L2 side of the ERC-721 bridge.
pub const L2_ERC721_BRIDGE: Address = address!("4200000000000000000000000000000000000014");
/// The L1 block attributes (number, timestamp, base fee, hash…), written by L1-info deposits.
pub const L1_BLOCK: Address = address!("4200000000000000000000000000000000000015");
/// Where withdrawals start: its storage holds every withdrawal hash.
pub const L2_TO_L1_MESSAGE_PASSER: Address = address!("4200000000000000000000000000000000000016");
/// Makes L2 representations of L1 ERC-721 tokens.
pub const OPTIMISM_MINTABLE_ERC721_FACTORY: Address =
    address!("4200000000000000000000000000000000000017");
/// The admin of every predeploy proxy.
pub const PROXY_ADMIN: Address = address!("4200000000000000000000000000000000000018");
/// Where base fees go.
pub const BASE_FEE_VAULT: Address = address!("4200000000000000000000000000000000000019");
/// Where L1 data fees go.
pub const L1_FEE_VAULT: Address = address!("420000000000000000000000000000000000001A");
/// The EAS schema registry.
pub const SCHEMA_REGISTRY: Address = address!("4200000000000000000000000000000000000020");
/// The Ethereum Attestation Service.
pub const EAS: Address = address!("4200000000000000000000000000000000000021");

/// The account that sends L1-info and system deposits.
pub const DEPOSITOR_ACCOUNT: Address = address!("DeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001");

/// Multicall3, at its address on every chain.
pub const MULTICALL3: Address = address!("cA11bde05977b3631167028862bE2a173976CA11");

/// EIP-1967 slot holding a proxy's implementation.
pub const IMPLEMENTATION_SLOT: B256 =
    b256!("360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc");
/// EIP-1967 slot holding a proxy's admin.
pub const ADMIN_SLOT: B256 =
    b256!("b53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103");

/// The preinstalls opdev lays out on every chain where that address holds no code: name in the
/// package's `Preinstalls` library and address. Permit2 is left out: its code embeds the chain
/// id and needs patching.
pub const PREINSTALLS: &[(&str, Address)] = &[
    ("MultiCall3", MULTICALL3),
    (
        "Create2Deployer",
        address!("13b0D85CcB8bf860b6b79AF3029fCA081AE9beF2"),
    ),
    (
        "Safe_v130",
        address!("69f4D1788e39c87893C980c06EdF4b7f686e2938"),
    ),
    (
        "SafeL2_v130",
        address!("fb1bffC9d739B8D520DaF37dF666da4C687191EA"),
    ),
    (
        "MultiSendCallOnly_v130",
        address!("A1dabEF33b3B82c7814B6D82A79e50F4AC44102B"),
    ),
    (
        "SafeSingletonFactory",
        address!("914d7Fec6aaC8cd542e72Bca78B30650d45643d7"),
    ),
    (
        "DeterministicDeploymentProxy",
        address!("4e59b44847b379578588920cA78FbF26c0B4956C"),
    ),
    (
        "MultiSend_v130",
        address!("998739BFdAAdde7C933B942a68053933098f9EDa"),
    ),
    (
        "SenderCreator",
        address!("7fc98430eAEdbb6070B35B39D798725049088348"),
    ),
    (
        "EntryPoint",
        address!("5FF137D4b0FDCD49DcA30c7CF57E578a026d2789"),
    ),
];

/// Where the implementation of the predeploy at `proxy` lives: the `0xc0d3…` code namespace with
/// the predeploy's last two bytes.
pub fn implementation_of(proxy: Address) -> Address {
    let mut bytes = [0xc0, 0xd3].repeat(10);
    bytes[18] = proxy[18];
    bytes[19] = proxy[19];
    Address::from_slice(&bytes)
}

/// The batch inbox of the L2 with `chain_id`, by the OP Stack's convention: `0xff00…` followed by
/// the chain id's decimal digits.
pub fn batch_inbox(chain_id: u64) -> Address {
    let digits = chain_id.to_string();
    let hex = format!("ff{digits:0>38}");
    hex.parse().expect("40 hex digits")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implementations_sit_in_the_code_namespace() {
        assert_eq!(
            implementation_of(L2_CROSS_DOMAIN_MESSENGER),
            address!("c0d3c0d3c0d3c0d3c0d3c0d3c0d3c0d3c0d30007")
        );
        assert_eq!(
            implementation_of(L1_FEE_VAULT),
            address!("c0d3c0d3c0d3c0d3c0d3c0d3c0d3c0d3c0d3001a")
        );
    }

    #[test]
    fn batch_inbox_spells_the_chain_id() {
        assert_eq!(
            batch_inbox(901),
            address!("ff00000000000000000000000000000000000901")
        );
    }
}
