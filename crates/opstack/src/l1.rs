//! The L1 side of the bridge: the proxied system the OP Stack runs, deployed per L2 from the
//! package's artifacts. One set of implementations is shared by every L2 of a devnet (as the
//! Superchain shares them); each L2 gets its own ProxyAdmin and `Proxy`s, and each proxy is
//! pointed at its implementation with `ProxyAdmin.upgradeAndCall(proxy, impl, initialize(…))` —
//! the way upstream deploys them. Withdrawals are proven against games of a DisputeGameFactory
//! whose game type runs opdev's `OutputGame` (contracts/OutputGame.sol), which resolves at once.
//!
//! [`plan`] is pure: the same deployer, nonce and settings always give the same transactions and
//! addresses. [`deploy`] sends them all at once with consecutive nonces and mines them with
//! `evm_mine`, so a whole deployment costs a few L1 blocks however many L2s there are.

use std::collections::BTreeMap;

use alloy::{
    eips::eip2718::Encodable2718,
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol,
    sol_types::{SolCall, SolValue},
};
use serde::{Deserialize, Serialize};

use crate::{Error, anvil::Chain, predeploys};

/// Creation code of opdev's own dispute game, built by `contracts/build.sh`.
pub const OUTPUT_GAME_BYTECODE_HEX: &str = include_str!("../../../contracts/OutputGame.bin");

/// The game type under which the factory runs `OutputGame`.
pub const GAME_TYPE: u32 = 254;

sol! {
    interface IProxyAdmin {
        function upgradeAndCall(address _proxy, address _implementation, bytes _data) external payable;
    }
    interface ISuperchainConfig {
        function initialize(address _guardian, bool _paused) external;
    }
    interface ISystemConfig {
        struct ResourceConfig {
            uint32 maxResourceLimit;
            uint8 elasticityMultiplier;
            uint8 baseFeeMaxChangeDenominator;
            uint32 minimumBaseFee;
            uint32 systemTxMaxGas;
            uint128 maximumBaseFee;
        }
        struct Addresses {
            address l1CrossDomainMessenger;
            address l1ERC721Bridge;
            address l1StandardBridge;
            address disputeGameFactory;
            address optimismPortal;
            address optimismMintableERC20Factory;
            address gasPayingToken;
        }
        function initialize(
            address _owner,
            uint32 _basefeeScalar,
            uint32 _blobbasefeeScalar,
            bytes32 _batcherHash,
            uint64 _gasLimit,
            address _unsafeBlockSigner,
            ResourceConfig _config,
            address _batchInbox,
            Addresses _addresses
        ) external;
    }
    interface IOptimismPortal2 {
        function initialize(address _disputeGameFactory, address _systemConfig, address _superchainConfig, uint32 _initialRespectedGameType) external;
        function version() external view returns (string);
    }
    interface IDisputeGameFactory {
        function initialize(address _owner) external;
        function setImplementation(uint32 _gameType, address _impl) external;
        function create(uint32 _gameType, bytes32 _rootClaim, bytes _extraData) external payable returns (address proxy_);
        function gameCount() external view returns (uint256 gameCount_);
        function gameAtIndex(uint256 _index) external view returns (uint32 gameType_, uint64 timestamp_, address proxy_);
    }
    interface IL1CrossDomainMessenger {
        function initialize(address _superchainConfig, address _portal, address _systemConfig) external;
    }
    interface IL1StandardBridge {
        function initialize(address _messenger, address _superchainConfig, address _systemConfig) external;
    }
    interface IOptimismMintableERC20Factory {
        function initialize(address _bridge) external;
    }
    interface IL1ERC721Bridge {
        function initialize(address _messenger, address _superchainConfig) external;
    }
}

/// The L1 fee scalars every SystemConfig starts with, and L1-info deposits carry: 0, so the
/// lite L2s charge no L1 data fee. anvil's OP mode charges that fee to `eth_call` callers too
/// (op-geth does not), so any non-zero scalar makes calls from unfunded addresses (viem's reads
/// without an account, `cast call`) fail with "insufficient funds" once L1Block holds the L1's
/// base fee. L1Block still gets the L1's number, timestamp, base fee and hash.
pub const BASE_FEE_SCALAR: u32 = 0;
/// See [`BASE_FEE_SCALAR`].
pub const BLOB_BASE_FEE_SCALAR: u32 = 0;
/// Gas limit of every L2, as SystemConfig records it.
pub const L2_GAS_LIMIT: u64 = 30_000_000;
/// ETH the portal of each L2 is given at deployment, so that withdrawing the L2's prefunded ETH
/// pays out instead of failing.
pub const PORTAL_FUNDS_ETH: u64 = 100_000_000;

/// The shared implementations, in deployment order, with the artifact each comes from.
pub const IMPLEMENTATIONS: &[&str] = &[
    "SuperchainConfig",
    "SystemConfig",
    "OptimismPortal2",
    "DisputeGameFactory",
    "L1CrossDomainMessenger",
    "L1StandardBridge",
    "OptimismMintableERC20Factory",
    "L1ERC721Bridge",
];

/// The proxies of each L2, in deployment and initialisation order: the name the devnet reports
/// them under and the implementation behind it.
pub const PROXIES: &[(&str, &str)] = &[
    ("SuperchainConfig", "SuperchainConfig"),
    ("SystemConfig", "SystemConfig"),
    ("DisputeGameFactory", "DisputeGameFactory"),
    ("OptimismPortal", "OptimismPortal2"),
    ("L1CrossDomainMessenger", "L1CrossDomainMessenger"),
    ("L1StandardBridge", "L1StandardBridge"),
    (
        "OptimismMintableERC20Factory",
        "OptimismMintableERC20Factory",
    ),
    ("L1ERC721Bridge", "L1ERC721Bridge"),
];

/// What the deployment is made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Chain ids of the L2s, one system each.
    pub l2_chain_ids: Vec<u64>,
    /// Seconds between proving a withdrawal and finalizing it (the portal's proof maturity
    /// delay; games resolve at once and their finality delay is 0).
    pub finalization_period: u64,
    /// The only account that may create games (opdev's proposer).
    pub proposer: Address,
    /// The batcher SystemConfig names.
    pub batcher: Address,
    /// The sequencer's block-signing key SystemConfig names.
    pub unsafe_block_signer: Address,
    /// The full profile's operators, one per L2 in order: each chain then gets its own batcher
    /// and sequencer in SystemConfig and its own `OutputGame`, which only its proposer may
    /// create. Empty in the lite profile, where the fields above serve every chain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<Operators>,
}

/// The accounts that run one full-profile L2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operators {
    /// The only account that may create the chain's games (its op-proposer).
    pub proposer: Address,
    /// The account whose transactions to the batch inbox op-node derives from (op-batcher).
    pub batcher: Address,
    /// The sequencer's block-signing key (op-node's p2p sequencer key).
    pub unsafe_block_signer: Address,
}

impl Settings {
    /// The operators of the `index`-th L2.
    pub fn operators_of(&self, index: usize) -> Operators {
        self.operators.get(index).cloned().unwrap_or(Operators {
            proposer: self.proposer,
            batcher: self.batcher,
            unsafe_block_signer: self.unsafe_block_signer,
        })
    }
}

/// The contracts of one L2 on the L1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainContracts {
    /// The L2's chain id.
    pub chain_id: u64,
    /// Proxies by contract name, and `ProxyAdmin`.
    pub contracts: BTreeMap<String, Address>,
}

impl ChainContracts {
    /// The contract `name` (a name of [`PROXIES`] or `ProxyAdmin`).
    pub fn get(&self, name: &str) -> Address {
        self.contracts.get(name).copied().unwrap_or_default()
    }
}

/// A whole L1 deployment: what [`plan`] lays out and [`deploy`] makes real.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The account that deployed everything and owns the ProxyAdmins and factories.
    pub deployer: Address,
    /// The settings it was made for.
    pub settings: Settings,
    /// The dispute game type withdrawals are proven against.
    pub game_type: u32,
    /// Shared implementations by artifact name, and `OutputGame`.
    pub implementations: BTreeMap<String, Address>,
    /// One entry per L2, in order.
    pub chains: Vec<ChainContracts>,
}

/// One transaction of a deployment, from the deployer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What it does, for errors and logs.
    pub label: String,
    /// The callee; `None` creates a contract.
    pub to: Option<Address>,
    /// Calldata, or creation code with constructor arguments.
    pub input: Bytes,
    /// Gas limit (given, because later steps call contracts earlier steps create).
    pub gas: u64,
}

/// Where code for [`plan`] comes from: creation code by artifact name.
pub trait CodeSource {
    /// Creation code of the contract `name`.
    fn creation(&self, name: &str) -> Result<Bytes, Error>;
}

impl CodeSource for crate::Artifacts {
    fn creation(&self, name: &str) -> Result<Bytes, Error> {
        Ok(self.contract(name)?.creation)
    }
}

/// The addresses a deployment from a fresh `deployer` (nonce 0) gives, without its code: what
/// the full profile's services are told before the deployment runs.
pub fn addresses(deployer: Address, settings: &Settings) -> Result<Deployment, Error> {
    struct NoCode;
    impl CodeSource for NoCode {
        fn creation(&self, _: &str) -> Result<Bytes, Error> {
            Ok(Bytes::new())
        }
    }
    Ok(plan(&NoCode, deployer, 0, settings)?.1)
}

fn creation_gas(code: &Bytes) -> u64 {
    // 200 gas per byte of stored code (bounded by the creation code's length), calldata, and the
    // constructor's own work.
    1_000_000 + 216 * code.len() as u64
}

/// Steps from one deployer with consecutive nonces.
struct Planner {
    deployer: Address,
    next: u64,
    steps: Vec<Step>,
}

impl Planner {
    fn create(&mut self, label: String, input: Bytes) -> Address {
        let address = self.deployer.create(self.next);
        self.call(label, None, input.clone(), creation_gas(&input));
        address
    }

    fn call(&mut self, label: String, to: Option<Address>, input: Bytes, gas: u64) {
        self.next += 1;
        self.steps.push(Step {
            label,
            to,
            input,
            gas,
        });
    }
}

/// The transactions and resulting addresses of a deployment from `deployer` starting at `nonce`.
pub fn plan(
    code: &impl CodeSource,
    deployer: Address,
    nonce: u64,
    settings: &Settings,
) -> Result<(Vec<Step>, Deployment), Error> {
    let mut p = Planner {
        deployer,
        next: nonce,
        steps: Vec::new(),
    };
    let mut implementations = BTreeMap::new();
    for name in IMPLEMENTATIONS {
        let mut input = code.creation(name)?.to_vec();
        if *name == "OptimismPortal2" {
            input
                .extend((U256::from(settings.finalization_period), U256::ZERO).abi_encode_params());
        }
        let address = p.create(format!("implementation {name}"), input.into());
        implementations.insert((*name).to_owned(), address);
    }
    let game_code =
        alloy::hex::decode(OUTPUT_GAME_BYTECODE_HEX.trim()).map_err(|e| Error::Decode {
            what: "contracts/OutputGame.bin",
            reason: e.to_string(),
        })?;
    let game_of = |proposer: Address| {
        let mut input = game_code.clone();
        input.extend((GAME_TYPE, proposer).abi_encode_params());
        Bytes::from(input)
    };
    let shared_game = if settings.operators.is_empty() {
        let game = p.create(
            "implementation OutputGame".into(),
            game_of(settings.proposer),
        );
        implementations.insert("OutputGame".into(), game);
        Some(game)
    } else {
        None
    };

    let proxy_admin_code = code.creation("ProxyAdmin")?;
    let proxy_code = code.creation("Proxy")?;
    let mut chains = Vec::new();
    for (index, &chain_id) in settings.l2_chain_ids.iter().enumerate() {
        let mut contracts = BTreeMap::new();
        let game = match shared_game {
            Some(game) => game,
            None => {
                let proposer = settings.operators_of(index).proposer;
                let game = p.create(format!("chain {chain_id}: OutputGame"), game_of(proposer));
                contracts.insert("OutputGame".to_owned(), game);
                game
            }
        };
        let mut admin_input = proxy_admin_code.to_vec();
        admin_input.extend(deployer.abi_encode());
        let admin = p.create(format!("chain {chain_id}: ProxyAdmin"), admin_input.into());
        contracts.insert("ProxyAdmin".to_owned(), admin);
        for (name, _) in PROXIES {
            let mut input = proxy_code.to_vec();
            input.extend(admin.abi_encode());
            let proxy = p.create(format!("chain {chain_id}: {name} proxy"), input.into());
            contracts.insert((*name).to_owned(), proxy);
        }
        let c = ChainContracts {
            chain_id,
            contracts,
        };
        for (name, implementation) in PROXIES {
            let init = initialize(name, &c, deployer, chain_id, &settings.operators_of(index));
            let input = IProxyAdmin::upgradeAndCallCall {
                _proxy: c.get(name),
                _implementation: implementations[*implementation],
                _data: init,
            }
            .abi_encode();
            p.call(
                format!("chain {chain_id}: upgrade and initialize {name}"),
                Some(admin),
                input.into(),
                1_500_000,
            );
        }
        let input = IDisputeGameFactory::setImplementationCall {
            _gameType: GAME_TYPE,
            _impl: game,
        }
        .abi_encode();
        p.call(
            format!("chain {chain_id}: register OutputGame with the factory"),
            Some(c.get("DisputeGameFactory")),
            input.into(),
            200_000,
        );
        chains.push(c);
    }
    Ok((
        p.steps,
        Deployment {
            deployer,
            settings: settings.clone(),
            game_type: GAME_TYPE,
            implementations,
            chains,
        },
    ))
}

/// The `initialize` call of the proxy `name` of chain `c`.
fn initialize(
    name: &str,
    c: &ChainContracts,
    owner: Address,
    chain_id: u64,
    operators: &Operators,
) -> Bytes {
    let superchain = c.get("SuperchainConfig");
    let system = c.get("SystemConfig");
    let messenger = c.get("L1CrossDomainMessenger");
    let data = match name {
        "SuperchainConfig" => ISuperchainConfig::initializeCall {
            _guardian: owner,
            _paused: false,
        }
        .abi_encode(),
        "SystemConfig" => ISystemConfig::initializeCall {
            _owner: owner,
            _basefeeScalar: BASE_FEE_SCALAR,
            _blobbasefeeScalar: BLOB_BASE_FEE_SCALAR,
            _batcherHash: batcher_hash(operators.batcher),
            _gasLimit: L2_GAS_LIMIT,
            _unsafeBlockSigner: operators.unsafe_block_signer,
            _config: ISystemConfig::ResourceConfig {
                maxResourceLimit: 20_000_000,
                elasticityMultiplier: 10,
                baseFeeMaxChangeDenominator: 8,
                minimumBaseFee: 1_000_000_000,
                systemTxMaxGas: 1_000_000,
                maximumBaseFee: u128::MAX,
            },
            _batchInbox: predeploys::batch_inbox(chain_id),
            _addresses: ISystemConfig::Addresses {
                l1CrossDomainMessenger: messenger,
                l1ERC721Bridge: c.get("L1ERC721Bridge"),
                l1StandardBridge: c.get("L1StandardBridge"),
                disputeGameFactory: c.get("DisputeGameFactory"),
                optimismPortal: c.get("OptimismPortal"),
                optimismMintableERC20Factory: c.get("OptimismMintableERC20Factory"),
                gasPayingToken: Address::ZERO,
            },
        }
        .abi_encode(),
        "DisputeGameFactory" => IDisputeGameFactory::initializeCall { _owner: owner }.abi_encode(),
        "OptimismPortal" => IOptimismPortal2::initializeCall {
            _disputeGameFactory: c.get("DisputeGameFactory"),
            _systemConfig: system,
            _superchainConfig: superchain,
            _initialRespectedGameType: GAME_TYPE,
        }
        .abi_encode(),
        "L1CrossDomainMessenger" => IL1CrossDomainMessenger::initializeCall {
            _superchainConfig: superchain,
            _portal: c.get("OptimismPortal"),
            _systemConfig: system,
        }
        .abi_encode(),
        "L1StandardBridge" => IL1StandardBridge::initializeCall {
            _messenger: messenger,
            _superchainConfig: superchain,
            _systemConfig: system,
        }
        .abi_encode(),
        "OptimismMintableERC20Factory" => IOptimismMintableERC20Factory::initializeCall {
            _bridge: c.get("L1StandardBridge"),
        }
        .abi_encode(),
        "L1ERC721Bridge" => IL1ERC721Bridge::initializeCall {
            _messenger: messenger,
            _superchainConfig: superchain,
        }
        .abi_encode(),
        other => unreachable!("no initializer for {other}"),
    };
    data.into()
}

/// SystemConfig's batcher hash: the batcher's address as a 32-byte word.
pub fn batcher_hash(batcher: Address) -> B256 {
    B256::left_padding_from(batcher.as_slice())
}

/// Sends every step of `steps` from `deployer` (starting at the nonce [`plan`] used), mines
/// blocks until all have receipts, and fails naming the first step that reverted.
pub async fn deploy(
    l1: &Chain,
    deployer: &PrivateKeySigner,
    nonce: u64,
    steps: &[Step],
) -> Result<(), Error> {
    let chain_id = l1.chain_id().await?;
    let fail = |what: &str, reason: String| Error::Deploy {
        what: what.into(),
        url: l1.url().into(),
        reason,
    };
    // The deployer pays for gas with ETH the devnet gives it.
    let needed = U256::from(10u64).pow(U256::from(24u64));
    if l1.balance(deployer.address()).await? < needed {
        l1.set_balance(deployer.address(), needed).await?;
    }
    let base_fee = l1
        .latest_block()
        .await?
        .header
        .base_fee_per_gas
        .unwrap_or(1_000_000_000);
    // Blocks full of deployments raise the base fee by an eighth each; a cap far above it keeps
    // every transaction valid however many blocks the deployment takes (the deployer pays only
    // the base fee and a 1 wei tip).
    let max_fee = u128::from(base_fee) * 64 + 10_000_000_000;
    let wallet = EthereumWallet::from(deployer.clone());
    // anvil drops a pending transaction that does not fit in the block it builds (and every
    // later nonce with it): send batches whose gas limits fit one block, and mine each.
    let block_gas = l1.latest_block().await?.header.gas_limit * 9 / 10;
    let mut hashes = Vec::with_capacity(steps.len());
    let mut batch_gas = 0;
    for (i, step) in steps.iter().enumerate() {
        if batch_gas + step.gas > block_gas && batch_gas > 0 {
            mine_until(l1, deployer.address(), nonce + i as u64, steps, nonce).await?;
            batch_gas = 0;
        }
        batch_gas += step.gas;
        let mut request = TransactionRequest::default()
            .with_from(deployer.address())
            .with_chain_id(chain_id)
            .with_nonce(nonce + i as u64)
            .with_gas_limit(step.gas)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(1)
            .with_input(step.input.clone());
        match step.to {
            Some(to) => request = request.with_to(to),
            None => request = request.into_create(),
        }
        let envelope = request
            .build(&wallet)
            .await
            .map_err(|e| fail(&step.label, format!("sign: {e}")))?;
        hashes.push(l1.send_raw(&envelope.encoded_2718().into()).await?);
    }
    mine_until(
        l1,
        deployer.address(),
        nonce + steps.len() as u64,
        steps,
        nonce,
    )
    .await?;
    for (step, hash) in steps.iter().zip(&hashes) {
        let receipt = l1
            .receipt(*hash)
            .await?
            .ok_or_else(|| fail(&step.label, format!("no receipt for {hash}")))?;
        if !receipt.status() {
            return Err(fail(
                &step.label,
                format!(
                    "transaction {hash} reverted (gas used {} of {})",
                    receipt.gas_used, step.gas
                ),
            ));
        }
    }
    Ok(())
}

/// Mines blocks until the deployer's nonce reaches `until` (a few tries), or fails naming the
/// first step not mined.
async fn mine_until(
    l1: &Chain,
    deployer: Address,
    until: u64,
    steps: &[Step],
    first_nonce: u64,
) -> Result<(), Error> {
    for _ in 0..8 {
        l1.mine().await?;
        if l1.mined_nonce(deployer).await? >= until {
            return Ok(());
        }
    }
    let done = l1.mined_nonce(deployer).await?.saturating_sub(first_nonce) as usize;
    let step = &steps[done.min(steps.len() - 1)];
    Err(Error::Deploy {
        what: step.label.clone(),
        url: l1.url().into(),
        reason: format!(
            "not mined ({done} of {} transactions were); the L1 dropped it",
            steps.len()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl CodeSource for Fake {
        fn creation(&self, name: &str) -> Result<Bytes, Error> {
            Ok(Bytes::from(name.as_bytes().to_vec()))
        }
    }

    fn settings(n: u64) -> Settings {
        Settings {
            l2_chain_ids: (901..901 + n).collect(),
            finalization_period: 12,
            proposer: Address::repeat_byte(1),
            batcher: Address::repeat_byte(2),
            unsafe_block_signer: Address::repeat_byte(3),
            operators: Vec::new(),
        }
    }

    #[test]
    fn addresses_without_code_match_the_plan_from_nonce_zero() {
        let deployer = Address::repeat_byte(9);
        let (_, planned) = plan(&Fake, deployer, 0, &settings(2)).unwrap();
        let bare = addresses(deployer, &settings(2)).unwrap();
        assert_eq!(bare.chains, planned.chains);
        assert_eq!(bare.implementations, planned.implementations);
    }

    #[test]
    fn full_profile_chains_get_their_own_game_batcher_and_sequencer() {
        let deployer = Address::repeat_byte(9);
        let mut s = settings(2);
        s.operators = (0..2u8)
            .map(|i| Operators {
                proposer: Address::repeat_byte(0x10 + i),
                batcher: Address::repeat_byte(0x20 + i),
                unsafe_block_signer: Address::repeat_byte(0x30 + i),
            })
            .collect();
        let (steps, d) = plan(&Fake, deployer, 0, &s).unwrap();
        assert!(!d.implementations.contains_key("OutputGame"));
        for (i, chain) in d.chains.iter().enumerate() {
            let game = chain.get("OutputGame");
            let create = steps
                .iter()
                .enumerate()
                .find(|(n, _)| deployer.create(*n as u64) == game)
                .map(|(_, step)| step)
                .unwrap();
            let proposer = &create.input[create.input.len() - 20..];
            assert_eq!(proposer, Address::repeat_byte(0x10 + i as u8).as_slice());
            let system = steps
                .iter()
                .find(|st| {
                    st.label
                        == format!(
                            "chain {}: upgrade and initialize SystemConfig",
                            chain.chain_id
                        )
                })
                .unwrap();
            let call = IProxyAdmin::upgradeAndCallCall::abi_decode(&system.input).unwrap();
            let init = ISystemConfig::initializeCall::abi_decode(&call._data).unwrap();
            assert_eq!(
                init._batcherHash,
                batcher_hash(Address::repeat_byte(0x20 + i as u8))
            );
            assert_eq!(
                init._unsafeBlockSigner,
                Address::repeat_byte(0x30 + i as u8)
            );
            let register = steps
                .iter()
                .find(|st| {
                    st.label
                        == format!(
                            "chain {}: register OutputGame with the factory",
                            chain.chain_id
                        )
                })
                .unwrap();
            let call =
                IDisputeGameFactory::setImplementationCall::abi_decode(&register.input).unwrap();
            assert_eq!(call._impl, game);
        }
    }

    #[test]
    fn the_plan_is_deterministic_and_addresses_follow_the_deployer_nonce() {
        let deployer = Address::repeat_byte(9);
        let (steps, deployment) = plan(&Fake, deployer, 0, &settings(2)).unwrap();
        let (again, same) = plan(&Fake, deployer, 0, &settings(2)).unwrap();
        assert_eq!(steps, again);
        assert_eq!(deployment, same);
        // 8 implementations + the game, then per chain: admin, 8 proxies, 8 upgrades, 1 setImpl.
        assert_eq!(steps.len(), 9 + 2 * 18);
        assert_eq!(
            deployment.implementations["SuperchainConfig"],
            deployer.create(0)
        );
        assert_eq!(deployment.implementations["OutputGame"], deployer.create(8));
        let first = &deployment.chains[0];
        assert_eq!(first.get("ProxyAdmin"), deployer.create(9));
        assert_eq!(first.get("SuperchainConfig"), deployer.create(10));
        let second = &deployment.chains[1];
        assert_eq!(second.chain_id, 902);
        assert_eq!(second.get("ProxyAdmin"), deployer.create(9 + 18));
        let (_, shifted) = plan(&Fake, deployer, 5, &settings(2)).unwrap();
        assert_eq!(
            shifted.implementations["SuperchainConfig"],
            deployer.create(5)
        );
    }

    #[test]
    fn the_portal_gets_the_finalization_period_and_upgrades_name_their_proxy() {
        let deployer = Address::repeat_byte(9);
        let (steps, d) = plan(&Fake, deployer, 0, &settings(1)).unwrap();
        let portal = &steps[2];
        assert!(portal.input.starts_with(b"OptimismPortal2"));
        assert_eq!(
            &portal.input[portal.input.len() - 64..portal.input.len() - 32],
            U256::from(12).to_be_bytes::<32>().as_slice()
        );
        let upgrade = steps
            .iter()
            .find(|s| s.label.ends_with("upgrade and initialize OptimismPortal"))
            .unwrap();
        assert_eq!(upgrade.to, Some(d.chains[0].get("ProxyAdmin")));
        let call = IProxyAdmin::upgradeAndCallCall::abi_decode(&upgrade.input).unwrap();
        assert_eq!(call._proxy, d.chains[0].get("OptimismPortal"));
        assert_eq!(call._implementation, d.implementations["OptimismPortal2"]);
        let init = IOptimismPortal2::initializeCall::abi_decode(&call._data).unwrap();
        assert_eq!(init._initialRespectedGameType, GAME_TYPE);
        assert_eq!(
            init._disputeGameFactory,
            d.chains[0].get("DisputeGameFactory")
        );
    }
}
