//! The L2 side: the predeploys at their canonical `0x4200…` addresses, laid out as an OP genesis
//! lays them out — a `Proxy` at the predeploy address whose admin is the ProxyAdmin predeploy and
//! whose implementation sits in the `0xc0d3…` code namespace (WETH unproxied) — plus the
//! preinstalls, then initialised to point at the L2's contracts on the L1.
//!
//! On an anvil L2 the layout is applied with `anvil_setCode` / `anvil_setStorageAt`. Runtime
//! code is what the artifact's creation code (with constructor arguments) returns from an
//! `eth_call`, so immutables come out as a constructor sets them. The initialisers run as
//! system deposits from the depositor account, in the chain's own blocks.
//!
//! Left out against upstream's genesis: the 2,048 empty proxies of the `0x4200…0000–07ff` range
//! that have no predeploy yet, the GovernanceToken, and the Permit2 preinstall.

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    sol,
    sol_types::{SolCall, SolValue},
};

use crate::{Artifacts, Error, anvil::Chain, deposit, l1::ChainContracts, predeploys as p};

sol! {
    interface IL2CrossDomainMessenger {
        function initialize(address _l1CrossDomainMessenger) external;
        function OTHER_MESSENGER() external view returns (address);
    }
    interface IL2StandardBridge {
        function initialize(address _otherBridge) external;
        function OTHER_BRIDGE() external view returns (address);
    }
    interface IL2ERC721Bridge {
        function initialize(address _l1ERC721Bridge) external;
    }
    interface IL2OptimismMintableERC20Factory {
        function initialize(address _bridge) external;
    }
    interface IGasPriceOracle {
        function setEcotone() external;
        function setFjord() external;
        function isFjord() external view returns (bool);
    }
}

/// How a fee vault pays out: to the recipient on the L2 (`WithdrawalNetwork.L2`).
const FEE_VAULT_NETWORK_L2: u8 = 1;
/// The least a fee vault pays out at once.
const FEE_VAULT_MIN_WITHDRAWAL_WEI: u128 = 10_000_000_000_000_000_000;
/// Gas of each set-up deposit.
const SETUP_GAS: u64 = 1_000_000;

/// One predeploy: its artifact, its address, whether a proxy fronts it, and its constructor
/// arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Predeploy {
    /// Artifact name.
    pub name: &'static str,
    /// Canonical address.
    pub address: Address,
    /// Behind a `Proxy` (implementation in the code namespace) or code at the address itself.
    pub proxied: bool,
    /// ABI-encoded constructor arguments.
    pub args: Bytes,
}

/// What the L2 of one system needs to know.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The L1's chain id (the ERC-721 factory's remote chain).
    pub l1_chain_id: u64,
    /// The L2's contracts on the L1.
    pub l1: ChainContracts,
    /// Owner of the ProxyAdmin predeploy and recipient of the fee vaults.
    pub owner: Address,
}

/// The predeploys of an L2 of `setup`.
pub fn predeploys(setup: &Setup) -> Vec<Predeploy> {
    let vault = (
        setup.owner,
        U256::from(FEE_VAULT_MIN_WITHDRAWAL_WEI),
        U256::from(FEE_VAULT_NETWORK_L2),
    )
        .abi_encode_params();
    let plain = |name, address| Predeploy {
        name,
        address,
        proxied: true,
        args: Bytes::new(),
    };
    let with = |name, address, args: Vec<u8>| Predeploy {
        name,
        address,
        proxied: true,
        args: args.into(),
    };
    vec![
        plain("LegacyMessagePasser", p::LEGACY_MESSAGE_PASSER),
        plain("DeployerWhitelist", p::DEPLOYER_WHITELIST),
        Predeploy {
            proxied: false,
            ..plain("WETH", p::WETH)
        },
        plain("L2CrossDomainMessenger", p::L2_CROSS_DOMAIN_MESSENGER),
        plain("GasPriceOracle", p::GAS_PRICE_ORACLE),
        plain("L2StandardBridge", p::L2_STANDARD_BRIDGE),
        with("SequencerFeeVault", p::SEQUENCER_FEE_VAULT, vault.clone()),
        plain(
            "OptimismMintableERC20Factory",
            p::OPTIMISM_MINTABLE_ERC20_FACTORY,
        ),
        plain("L1BlockNumber", p::L1_BLOCK_NUMBER),
        plain("L2ERC721Bridge", p::L2_ERC721_BRIDGE),
        plain("L1Block", p::L1_BLOCK),
        plain("L2ToL1MessagePasser", p::L2_TO_L1_MESSAGE_PASSER),
        with(
            "OptimismMintableERC721Factory",
            p::OPTIMISM_MINTABLE_ERC721_FACTORY,
            (p::L2_ERC721_BRIDGE, U256::from(setup.l1_chain_id)).abi_encode_params(),
        ),
        plain("ProxyAdmin", p::PROXY_ADMIN).with_owner_arg(setup.owner),
        with("BaseFeeVault", p::BASE_FEE_VAULT, vault.clone()),
        with("L1FeeVault", p::L1_FEE_VAULT, vault),
        plain("SchemaRegistry", p::SCHEMA_REGISTRY),
        plain("EAS", p::EAS),
    ]
}

impl Predeploy {
    fn with_owner_arg(mut self, owner: Address) -> Self {
        self.args = owner.abi_encode().into();
        self
    }
}

/// The set-up deposits of an L2 of `setup`, in two rounds (the second needs the first mined):
/// the bridges' and messenger's initialisers and Ecotone's fee switch, then Fjord's. They are
/// sent and mined one at a time.
pub fn setup_calls(setup: &Setup) -> [Vec<(&'static str, Address, Bytes)>; 2] {
    let first = vec![
        (
            "initialize L2CrossDomainMessenger",
            p::L2_CROSS_DOMAIN_MESSENGER,
            IL2CrossDomainMessenger::initializeCall {
                _l1CrossDomainMessenger: setup.l1.get("L1CrossDomainMessenger"),
            }
            .abi_encode()
            .into(),
        ),
        (
            "initialize L2StandardBridge",
            p::L2_STANDARD_BRIDGE,
            IL2StandardBridge::initializeCall {
                _otherBridge: setup.l1.get("L1StandardBridge"),
            }
            .abi_encode()
            .into(),
        ),
        (
            "initialize L2ERC721Bridge",
            p::L2_ERC721_BRIDGE,
            IL2ERC721Bridge::initializeCall {
                _l1ERC721Bridge: setup.l1.get("L1ERC721Bridge"),
            }
            .abi_encode()
            .into(),
        ),
        (
            "initialize OptimismMintableERC20Factory",
            p::OPTIMISM_MINTABLE_ERC20_FACTORY,
            IL2OptimismMintableERC20Factory::initializeCall {
                _bridge: p::L2_STANDARD_BRIDGE,
            }
            .abi_encode()
            .into(),
        ),
        (
            "GasPriceOracle.setEcotone",
            p::GAS_PRICE_ORACLE,
            IGasPriceOracle::setEcotoneCall {}.abi_encode().into(),
        ),
    ];
    let second = vec![(
        "GasPriceOracle.setFjord",
        p::GAS_PRICE_ORACLE,
        IGasPriceOracle::setFjordCall {}.abi_encode().into(),
    )];
    [first, second]
}

/// Whether the L2 already has its predeploys set up for `setup` (a warm start finds them in the
/// saved chain state).
pub async fn is_set_up(l2: &Chain, setup: &Setup) -> Result<bool, Error> {
    if l2.code(p::L2_TO_L1_MESSAGE_PASSER).await?.is_empty() {
        return Ok(false);
    }
    let other = l2
        .call(
            p::L2_CROSS_DOMAIN_MESSENGER,
            IL2CrossDomainMessenger::OTHER_MESSENGERCall {}
                .abi_encode()
                .into(),
        )
        .await;
    let Ok(other) = other else { return Ok(false) };
    let expected = setup.l1.get("L1CrossDomainMessenger");
    if Address::abi_decode(&other).ok() != Some(expected) {
        return Ok(false);
    }
    let fjord = l2
        .call(
            p::GAS_PRICE_ORACLE,
            IGasPriceOracle::isFjordCall {}.abi_encode().into(),
        )
        .await?;
    Ok(bool::abi_decode(&fjord).unwrap_or(false))
}

/// Lays the predeploys and preinstalls out on the L2 and initialises them. Idempotent: what is
/// already there is written again with the same values, and initialisers that already ran are
/// skipped by checking the result.
pub async fn apply(l2: &Chain, artifacts: &Artifacts, setup: &Setup) -> Result<(), Error> {
    let proxy = artifacts.contract("Proxy")?;
    // A Proxy's runtime code has no immutables: its admin lives in a storage slot.
    for predeploy in predeploys(setup) {
        let contract = artifacts.contract(predeploy.name)?;
        let mut creation = contract.creation.to_vec();
        creation.extend_from_slice(&predeploy.args);
        let runtime = l2.runtime_code(creation.into()).await?;
        if predeploy.proxied {
            let implementation = p::implementation_of(predeploy.address);
            l2.set_code(implementation, &runtime).await?;
            l2.set_code(predeploy.address, &proxy.runtime).await?;
            l2.set_storage(predeploy.address, p::ADMIN_SLOT, word(p::PROXY_ADMIN))
                .await?;
            l2.set_storage(
                predeploy.address,
                p::IMPLEMENTATION_SLOT,
                word(implementation),
            )
            .await?;
        } else {
            l2.set_code(predeploy.address, &runtime).await?;
        }
    }
    // Ownable keeps its owner in slot 0; the proxy's storage is the ProxyAdmin's.
    l2.set_storage(p::PROXY_ADMIN, B256::ZERO, word(setup.owner))
        .await?;
    apply_preinstalls(l2, artifacts).await?;

    // anvil's pool takes one pending transaction per sender, deposits included: each set-up
    // deposit (all from the depositor account) is mined before the next is sent.
    let head = l2.block_number().await?;
    for (what, to, input) in setup_calls(setup).into_iter().flatten() {
        let intent = format!("opdev: {what} (L2 block {head})");
        let tx = deposit::system_deposit(&intent, to, input, SETUP_GAS);
        l2.send_raw(&deposit::raw(&tx)).await?;
        l2.mine().await?;
    }
    if !is_set_up(l2, setup).await? {
        return Err(Error::Deploy {
            what: "L2 predeploys".into(),
            url: l2.url().into(),
            reason: "after set-up, L2CrossDomainMessenger does not point at the L1 messenger or GasPriceOracle is not on Fjord".into(),
        });
    }
    Ok(())
}

/// Puts the preinstalls (Multicall3 and the others of [`p::PREINSTALLS`]) on a chain wherever
/// their address holds no code yet (a forked chain may have them).
pub async fn apply_preinstalls(chain: &Chain, artifacts: &Artifacts) -> Result<(), Error> {
    for (name, address) in p::PREINSTALLS {
        if chain.code(*address).await?.is_empty() {
            chain
                .set_code(*address, &artifacts.preinstall(name)?)
                .await?;
        }
    }
    Ok(())
}

fn word(address: Address) -> B256 {
    B256::left_padding_from(address.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> Setup {
        let mut contracts = std::collections::BTreeMap::new();
        contracts.insert("L1CrossDomainMessenger".into(), Address::repeat_byte(7));
        contracts.insert("L1StandardBridge".into(), Address::repeat_byte(8));
        Setup {
            l1_chain_id: 900,
            l1: ChainContracts {
                chain_id: 901,
                contracts,
            },
            owner: Address::repeat_byte(1),
        }
    }

    #[test]
    fn predeploys_are_proxied_except_weth_and_sit_at_distinct_addresses() {
        let list = predeploys(&setup());
        let mut addresses: Vec<_> = list.iter().map(|p| p.address).collect();
        addresses.sort();
        addresses.dedup();
        assert_eq!(addresses.len(), list.len());
        assert!(list.iter().all(|d| d.proxied == (d.address != p::WETH)));
        let factory = list
            .iter()
            .find(|d| d.name == "OptimismMintableERC721Factory")
            .unwrap();
        assert_eq!(
            factory.args.as_ref(),
            (p::L2_ERC721_BRIDGE, U256::from(900)).abi_encode_params()
        );
    }

    #[test]
    fn initialisers_point_at_the_l1_contracts() {
        let [first, second] = setup_calls(&setup());
        let messenger = &first[0];
        assert_eq!(messenger.1, p::L2_CROSS_DOMAIN_MESSENGER);
        let call = IL2CrossDomainMessenger::initializeCall::abi_decode(&messenger.2).unwrap();
        assert_eq!(call._l1CrossDomainMessenger, Address::repeat_byte(7));
        assert_eq!(second[0].0, "GasPriceOracle.setFjord");
    }
}
