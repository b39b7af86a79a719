//! The files a full-profile L2 starts from: the execution genesis op-geth is initialised with
//! (`genesis.json`, an [`alloy::genesis::Genesis`] with the OP fields of op-geth's chain config)
//! and the rollup config op-node reads (`rollup.json`, kona-genesis's [`RollupConfig`]). Both are
//! pure: the same inputs give the same bytes.
//!
//! Hardforks: every L2 starts at Fjord — Regolith, Canyon, Delta, Ecotone and Fjord active from
//! its genesis block — the newest fork the pinned op-node (v1.7.7) knows and the one the npm
//! contracts (0.17.3, whose L1Block and GasPriceOracle have the Ecotone and Fjord functions) were
//! released for. Ecotone brings Cancun on the L2, so the L1 runs Cancun too (an Ecotone L1-info
//! deposit carries the L1's blob base fee).

use std::collections::BTreeMap;

use alloy::{
    genesis::{ChainConfig, Genesis, GenesisAccount},
    primitives::{Address, B256, Bytes, U256},
};
use kona_genesis::{ChainGenesis, HardForkConfig, RollupConfig, SystemConfig};
use serde_json::{Value, json};

use crate::{Error, l1, predeploys};

/// Seconds between L2 blocks unless the devnet says otherwise.
pub const DEFAULT_BLOCK_TIME: u64 = 1;
/// The L2's base fee in its genesis block (1 gwei, as op-geth's default).
pub const GENESIS_BASE_FEE: u128 = 1_000_000_000;
/// EIP-1559 parameters of every L2: OP Mainnet's.
pub const EIP1559_ELASTICITY: u64 = 6;
/// See [`EIP1559_ELASTICITY`].
pub const EIP1559_DENOMINATOR: u64 = 50;
/// See [`EIP1559_ELASTICITY`] (from Canyon).
pub const EIP1559_DENOMINATOR_CANYON: u64 = 250;
/// L1 blocks within which a batch must land after its L1 origin (op-node's `seq_window_size`);
/// upstream's devnets use 200, mainnet 3,600. Long enough that a devnet kept down for a while
/// resumes, short enough that a batcher outage shows as an unsafe head that falls back.
pub const SEQ_WINDOW_SIZE: u64 = 3_600;
/// L1 blocks a channel may stay open (`channel_timeout`).
pub const CHANNEL_TIMEOUT: u64 = 300;
/// How far L2 time may run ahead of its L1 origin (`max_sequencer_drift`; Fjord fixes it at
/// 1,800 s whatever the file says).
pub const MAX_SEQUENCER_DRIFT: u64 = 1_800;

/// What one L2's files are made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2Files {
    /// The L1's chain id.
    pub l1_chain_id: u64,
    /// The L2's chain id.
    pub l2_chain_id: u64,
    /// Seconds between L2 blocks.
    pub block_time: u64,
    /// The L1 block the rollup starts from (its number and hash).
    pub l1_origin: (u64, B256),
    /// Its timestamp, which is the L2 genesis block's too.
    pub timestamp: u64,
    /// The L2's contracts on the L1 (portal, SystemConfig).
    pub contracts: l1::ChainContracts,
    /// The batcher SystemConfig names.
    pub batcher: Address,
}

/// The activation times of the forks every L2 runs (all at genesis).
pub fn hardforks() -> HardForkConfig {
    HardForkConfig {
        regolith_time: Some(0),
        canyon_time: Some(0),
        delta_time: Some(0),
        ecotone_time: Some(0),
        fjord_time: Some(0),
        ..Default::default()
    }
}

/// SystemConfig's `scalar` after Ecotone: version byte 1, then the blob base fee scalar and the
/// base fee scalar as big-endian u32s in the last 8 bytes.
pub fn ecotone_scalar(base_fee_scalar: u32, blob_base_fee_scalar: u32) -> U256 {
    let mut word = [0u8; 32];
    word[0] = 1;
    word[24..28].copy_from_slice(&blob_base_fee_scalar.to_be_bytes());
    word[28..32].copy_from_slice(&base_fee_scalar.to_be_bytes());
    U256::from_be_bytes(word)
}

/// op-geth's genesis for an L2 of `files` holding `alloc`.
pub fn l2_genesis(files: &L2Files, alloc: BTreeMap<Address, GenesisAccount>) -> Genesis {
    let mut config = ChainConfig {
        chain_id: files.l2_chain_id,
        homestead_block: Some(0),
        eip150_block: Some(0),
        eip155_block: Some(0),
        eip158_block: Some(0),
        byzantium_block: Some(0),
        constantinople_block: Some(0),
        petersburg_block: Some(0),
        istanbul_block: Some(0),
        muir_glacier_block: Some(0),
        berlin_block: Some(0),
        london_block: Some(0),
        arrow_glacier_block: Some(0),
        gray_glacier_block: Some(0),
        merge_netsplit_block: Some(0),
        // Canyon brings Shanghai, Ecotone brings Cancun.
        shanghai_time: Some(0),
        cancun_time: Some(0),
        terminal_total_difficulty: Some(U256::ZERO),
        terminal_total_difficulty_passed: true,
        ..Default::default()
    };
    let forks = hardforks();
    let op_fields = json!({
        "bedrockBlock": 0,
        "regolithTime": forks.regolith_time,
        "canyonTime": forks.canyon_time,
        "deltaTime": forks.delta_time,
        "ecotoneTime": forks.ecotone_time,
        "fjordTime": forks.fjord_time,
        "optimism": {
            "eip1559Elasticity": EIP1559_ELASTICITY,
            "eip1559Denominator": EIP1559_DENOMINATOR,
            "eip1559DenominatorCanyon": EIP1559_DENOMINATOR_CANYON,
        },
    });
    if let Value::Object(map) = op_fields {
        for (key, value) in map {
            config.extra_fields.insert(key, value);
        }
    }
    Genesis {
        config,
        nonce: 0,
        timestamp: files.timestamp,
        extra_data: Bytes::new(),
        gas_limit: l1::L2_GAS_LIMIT,
        difficulty: U256::ZERO,
        mix_hash: B256::ZERO,
        coinbase: predeploys::SEQUENCER_FEE_VAULT,
        alloc,
        base_fee_per_gas: Some(GENESIS_BASE_FEE),
        excess_blob_gas: Some(0),
        blob_gas_used: Some(0),
        number: Some(0),
        ..Default::default()
    }
}

/// op-node's rollup config for an L2 of `files` whose genesis block has hash `l2_genesis_hash`.
pub fn rollup_config(files: &L2Files, l2_genesis_hash: B256) -> RollupConfig {
    let (l1_number, l1_hash) = files.l1_origin;
    RollupConfig {
        genesis: ChainGenesis {
            l1: (l1_number, l1_hash).into(),
            l2: (0, l2_genesis_hash).into(),
            l2_time: files.timestamp,
            system_config: Some(SystemConfig {
                batcher_address: files.batcher,
                overhead: U256::ZERO,
                scalar: ecotone_scalar(l1::BASE_FEE_SCALAR, l1::BLOB_BASE_FEE_SCALAR),
                gas_limit: l1::L2_GAS_LIMIT,
                ..Default::default()
            }),
        },
        block_time: files.block_time,
        max_sequencer_drift: MAX_SEQUENCER_DRIFT,
        seq_window_size: SEQ_WINDOW_SIZE,
        channel_timeout: CHANNEL_TIMEOUT,
        l1_chain_id: files.l1_chain_id,
        l2_chain_id: files.l2_chain_id.into(),
        hardforks: hardforks(),
        batch_inbox_address: predeploys::batch_inbox(files.l2_chain_id),
        deposit_contract_address: files.contracts.get("OptimismPortal"),
        l1_system_config_address: files.contracts.get("SystemConfig"),
        ..Default::default()
    }
}

/// The keys of `rollup.json` the pinned op-node reads; kona-genesis also writes keys of later
/// releases (Granite's channel timeout, interop, the chain's EIP-1559 block), which op-node
/// v1.7.7 ignores. Only these are written, so the file says what the node runs.
pub const ROLLUP_KEYS: &[&str] = &[
    "genesis",
    "block_time",
    "max_sequencer_drift",
    "seq_window_size",
    "channel_timeout",
    "l1_chain_id",
    "l2_chain_id",
    "regolith_time",
    "canyon_time",
    "delta_time",
    "ecotone_time",
    "fjord_time",
    "batch_inbox_address",
    "deposit_contract_address",
    "l1_system_config_address",
    "protocol_versions_address",
];

/// `config` as op-node's `rollup.json`: kona-genesis's serialisation, kept to [`ROLLUP_KEYS`]
/// and with the chain ids as numbers (alloy-chains writes a known chain's name).
pub fn rollup_json(config: &RollupConfig) -> Result<Value, Error> {
    let decode = |e: serde_json::Error| Error::Decode {
        what: "rollup config",
        reason: e.to_string(),
    };
    let Value::Object(mut map) = serde_json::to_value(config).map_err(decode)? else {
        unreachable!("a struct serialises to an object")
    };
    map.retain(|key, _| ROLLUP_KEYS.contains(&key.as_str()));
    map.insert("l2_chain_id".into(), json!(config.l2_chain_id.id()));
    map.insert("l1_chain_id".into(), json!(config.l1_chain_id));
    if let Some(Value::Object(system)) = map
        .get_mut("genesis")
        .and_then(|g| g.get_mut("system_config"))
    {
        system.retain(|key, _| {
            ["batcherAddr", "overhead", "scalar", "gasLimit"].contains(&key.as_str())
        });
    }
    Ok(Value::Object(map))
}

/// The accounts of an anvil state file (`--dump-state`) as genesis accounts: code, storage,
/// balance and nonce of every account the chain holds.
pub fn alloc_from_anvil_state(state: &[u8]) -> Result<BTreeMap<Address, GenesisAccount>, Error> {
    #[derive(serde::Deserialize)]
    struct State {
        accounts: BTreeMap<Address, Account>,
    }
    #[derive(serde::Deserialize)]
    struct Account {
        nonce: u64,
        balance: U256,
        #[serde(default)]
        code: Bytes,
        #[serde(default)]
        storage: BTreeMap<U256, U256>,
    }
    let state: State = serde_json::from_slice(state).map_err(|e| Error::Decode {
        what: "anvil state",
        reason: e.to_string(),
    })?;
    Ok(state
        .accounts
        .into_iter()
        .map(|(address, a)| {
            let storage: BTreeMap<B256, B256> = a
                .storage
                .into_iter()
                .filter(|(_, v)| !v.is_zero())
                .map(|(k, v)| (B256::from(k), B256::from(v)))
                .collect();
            let account = GenesisAccount::default()
                .with_nonce((a.nonce > 0).then_some(a.nonce))
                .with_balance(a.balance)
                .with_code((!a.code.is_empty()).then_some(a.code))
                .with_storage((!storage.is_empty()).then_some(storage));
            (address, account)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> L2Files {
        let mut contracts = BTreeMap::new();
        contracts.insert("OptimismPortal".into(), Address::repeat_byte(0x11));
        contracts.insert("SystemConfig".into(), Address::repeat_byte(0x22));
        L2Files {
            l1_chain_id: 900,
            l2_chain_id: 901,
            block_time: 1,
            l1_origin: (7, B256::repeat_byte(0xaa)),
            timestamp: 1_700_000_000,
            contracts: l1::ChainContracts {
                chain_id: 901,
                contracts,
            },
            batcher: Address::repeat_byte(0xba),
        }
    }

    #[test]
    fn the_ecotone_scalar_puts_the_version_first_and_the_scalars_last() {
        let word = ecotone_scalar(0x0102_0304, 0x0a0b_0c0d).to_be_bytes::<32>();
        assert_eq!(word[0], 1);
        assert_eq!(&word[24..], &[0x0a, 0x0b, 0x0c, 0x0d, 1, 2, 3, 4]);
        assert!(word[1..24].iter().all(|b| *b == 0));
        // Zero scalars still make a non-zero word, which op-node requires.
        assert_ne!(ecotone_scalar(0, 0), U256::ZERO);
    }

    /// Golden: the rollup.json of a fixed input, key by key, as op-node v1.7.7 reads it.
    #[test]
    fn rollup_json_is_what_op_node_reads() {
        let config = rollup_config(&files(), B256::repeat_byte(0xbb));
        let json = rollup_json(&config).unwrap();
        let expected = json!({
            "genesis": {
                "l1": {"number": 7, "hash": format!("0x{}", "aa".repeat(32))},
                "l2": {"number": 0, "hash": format!("0x{}", "bb".repeat(32))},
                "l2_time": 1_700_000_000u64,
                "system_config": {
                    "batcherAddr": format!("0x{}", "ba".repeat(20)),
                    "overhead": format!("0x{}", "00".repeat(32)),
                    "scalar": format!("0x01{}", "00".repeat(31)),
                    "gasLimit": 30_000_000,
                }
            },
            "block_time": 1,
            "max_sequencer_drift": 1800,
            "seq_window_size": 3600,
            "channel_timeout": 300,
            "l1_chain_id": 900,
            "l2_chain_id": 901,
            "regolith_time": 0,
            "canyon_time": 0,
            "delta_time": 0,
            "ecotone_time": 0,
            "fjord_time": 0,
            "batch_inbox_address": "0xff00000000000000000000000000000000000901",
            "deposit_contract_address": format!("0x{}", "11".repeat(20)),
            "l1_system_config_address": format!("0x{}", "22".repeat(20)),
            "protocol_versions_address": format!("0x{}", "00".repeat(20)),
        });
        assert_eq!(json, expected, "{json:#}");
        // And it reads back as the same config through kona-genesis (the keys dropped are the
        // ones kona fills with its defaults).
        let back: RollupConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back.genesis, config.genesis);
        assert_eq!(back.hardforks, config.hardforks);
    }

    #[test]
    fn the_l2_genesis_carries_op_geths_fork_fields_and_the_alloc() {
        let mut alloc = BTreeMap::new();
        alloc.insert(
            Address::repeat_byte(1),
            GenesisAccount::default().with_balance(U256::from(5)),
        );
        let genesis = l2_genesis(&files(), alloc.clone());
        let json = serde_json::to_value(&genesis).unwrap();
        let config = &json["config"];
        assert_eq!(config["chainId"], 901);
        assert_eq!(config["bedrockBlock"], 0);
        for fork in [
            "regolithTime",
            "canyonTime",
            "deltaTime",
            "ecotoneTime",
            "fjordTime",
        ] {
            assert_eq!(config[fork], 0, "{fork}");
        }
        assert_eq!(config["shanghaiTime"], 0);
        assert_eq!(config["cancunTime"], 0);
        assert!(
            config.get("pragueTime").is_none(),
            "no Isthmus, so no Prague"
        );
        assert_eq!(config["terminalTotalDifficultyPassed"], true);
        assert_eq!(config["optimism"]["eip1559DenominatorCanyon"], 250);
        assert_eq!(json["timestamp"], "0x6553f100");
        assert_eq!(json["gasLimit"], "0x1c9c380");
        assert_eq!(genesis.alloc, alloc);
    }

    #[test]
    fn an_anvil_state_becomes_an_alloc() {
        let state = br#"{"block":{},"accounts":{
            "0x4200000000000000000000000000000000000016":{"nonce":0,"balance":"0x0","code":"0x6001","storage":{"0x0":"0x5","0x1":"0x0"}},
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266":{"nonce":3,"balance":"0x10","code":"0x","storage":{}}
        },"best_block_number":"0x0","blocks":[],"transactions":[]}"#;
        let alloc = alloc_from_anvil_state(state).unwrap();
        let passer = &alloc[&predeploys::L2_TO_L1_MESSAGE_PASSER];
        assert_eq!(
            passer.code.as_ref().map(|c| c.to_vec()),
            Some(vec![0x60, 0x01])
        );
        let storage = passer.storage.as_ref().unwrap();
        assert_eq!(storage.len(), 1, "zero slots are left out");
        assert_eq!(storage[&B256::ZERO], B256::from(U256::from(5)));
        let dev: Address = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
            .parse()
            .unwrap();
        assert_eq!(alloc[&dev].nonce, Some(3));
        assert_eq!(alloc[&dev].code, None);
        assert_eq!(alloc[&dev].balance, U256::from(16));
    }
}
