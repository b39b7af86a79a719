//! Deposit transactions (type `0x7E`), as the deposit spec defines them: user deposits decoded
//! from an OptimismPortal's `TransactionDeposited` log, L1-info deposits that write the L1 block's
//! attributes into the L1Block predeploy, and system deposits of opdev's own (predeploy set-up),
//! each with its source hash. Types and hashing come from `op-alloy-consensus`.

use alloy::{
    eips::eip2718::Encodable2718,
    primitives::{Address, B256, Bytes, TxKind, U256},
    sol,
    sol_types::SolEvent,
};
pub use op_alloy_consensus::TxDeposit;
use op_alloy_consensus::{L1InfoDepositSource, UpgradeDepositSource, UserDepositSource};

use crate::{Error, predeploys};

sol! {
    /// The portal's deposit event (version 0 of its opaque data).
    event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData);
}

/// Gas of an L1-info deposit (the deposit spec's 1,000,000).
pub const L1_INFO_GAS: u64 = 1_000_000;

/// A user deposit read from the L1: where it was emitted and the L2 transaction it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDeposit {
    /// Number of the L1 block holding the log.
    pub l1_block: u64,
    /// Hash of that block.
    pub l1_block_hash: B256,
    /// Index of the log in its block.
    pub log_index: u64,
    /// The L1 transaction that made the deposit.
    pub l1_tx: B256,
    /// The deposit transaction to execute on the L2.
    pub tx: TxDeposit,
}

impl UserDeposit {
    /// Hash of the L2 transaction; deterministic, so the L2 can be asked whether it has it.
    pub fn l2_hash(&self) -> B256 {
        self.tx.tx_hash()
    }

    /// The raw transaction for `eth_sendRawTransaction`.
    pub fn raw(&self) -> Bytes {
        raw(&self.tx)
    }
}

/// The topic that selects `TransactionDeposited` logs.
pub fn deposit_topic() -> B256 {
    TransactionDeposited::SIGNATURE_HASH
}

/// The source hash of the user deposit that the `TransactionDeposited` log at `log_index` (its
/// position in the block) of L1 block `l1_block_hash` makes: what links an L2 deposit back to
/// its L1 log.
pub fn user_source_hash(l1_block_hash: B256, log_index: u64) -> B256 {
    UserDepositSource::new(l1_block_hash, log_index).source_hash()
}

/// Decodes a `TransactionDeposited` log (its topics and data) at `log_index` of the L1 block
/// `l1_block_hash` into the deposit transaction the spec derives from it.
pub fn decode_user_deposit(
    topics: &[B256],
    data: &[u8],
    l1_block: u64,
    l1_block_hash: B256,
    log_index: u64,
    l1_tx: B256,
) -> Result<UserDeposit, Error> {
    let event =
        TransactionDeposited::decode_raw_log(topics.iter().copied(), data).map_err(|e| {
            Error::Decode {
                what: "TransactionDeposited log",
                reason: e.to_string(),
            }
        })?;
    if event.version != U256::ZERO {
        return Err(Error::Decode {
            what: "TransactionDeposited log",
            reason: format!("unknown version {}", event.version),
        });
    }
    let opaque = &event.opaqueData;
    // abi.encodePacked(uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data)
    if opaque.len() < 32 + 32 + 8 + 1 {
        return Err(Error::Decode {
            what: "TransactionDeposited opaque data",
            reason: format!("{} bytes, at least 73 expected", opaque.len()),
        });
    }
    let mint = U256::from_be_slice(&opaque[..32]);
    let value = U256::from_be_slice(&opaque[32..64]);
    let gas_limit = u64::from_be_bytes(opaque[64..72].try_into().expect("8 bytes"));
    let is_creation = opaque[72] != 0;
    let input = Bytes::copy_from_slice(&opaque[73..]);
    let mint = u128::try_from(mint).map_err(|_| Error::Decode {
        what: "TransactionDeposited mint",
        reason: format!("{mint} does not fit in 128 bits"),
    })?;
    let tx = TxDeposit {
        source_hash: user_source_hash(l1_block_hash, log_index),
        from: event.from,
        to: if is_creation {
            TxKind::Create
        } else {
            TxKind::Call(event.to)
        },
        mint,
        value,
        gas_limit,
        is_system_transaction: false,
        input,
    };
    Ok(UserDeposit {
        l1_block,
        l1_block_hash,
        log_index,
        l1_tx,
        tx,
    })
}

/// What an L1-info deposit tells the L2 about one L1 block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L1Info {
    /// L1 block number.
    pub number: u64,
    /// L1 block timestamp.
    pub timestamp: u64,
    /// L1 base fee.
    pub base_fee: U256,
    /// L1 blob base fee (1 when the L1 has none).
    pub blob_base_fee: U256,
    /// L1 block hash.
    pub hash: B256,
    /// Position of the L2 block in its epoch.
    pub sequence_number: u64,
    /// The SystemConfig's base fee scalar.
    pub base_fee_scalar: u32,
    /// The SystemConfig's blob base fee scalar.
    pub blob_base_fee_scalar: u32,
    /// The SystemConfig's batcher hash.
    pub batcher_hash: B256,
}

/// Selector of `L1Block.setL1BlockValuesEcotone()`.
pub const SET_L1_BLOCK_VALUES_ECOTONE: [u8; 4] = [0x44, 0x0a, 0x5e, 0x20];

impl L1Info {
    /// The packed calldata of `setL1BlockValuesEcotone` (164 bytes).
    pub fn calldata(&self) -> Bytes {
        let mut data = Vec::with_capacity(164);
        data.extend_from_slice(&SET_L1_BLOCK_VALUES_ECOTONE);
        data.extend_from_slice(&self.base_fee_scalar.to_be_bytes());
        data.extend_from_slice(&self.blob_base_fee_scalar.to_be_bytes());
        data.extend_from_slice(&self.sequence_number.to_be_bytes());
        data.extend_from_slice(&self.timestamp.to_be_bytes());
        data.extend_from_slice(&self.number.to_be_bytes());
        data.extend_from_slice(&self.base_fee.to_be_bytes::<32>());
        data.extend_from_slice(&self.blob_base_fee.to_be_bytes::<32>());
        data.extend_from_slice(self.hash.as_slice());
        data.extend_from_slice(self.batcher_hash.as_slice());
        data.into()
    }

    /// The L1-info deposit transaction.
    pub fn deposit(&self) -> TxDeposit {
        TxDeposit {
            source_hash: L1InfoDepositSource::new(self.hash, self.sequence_number).source_hash(),
            from: predeploys::DEPOSITOR_ACCOUNT,
            to: TxKind::Call(predeploys::L1_BLOCK),
            mint: 0,
            value: U256::ZERO,
            gas_limit: L1_INFO_GAS,
            is_system_transaction: false,
            input: self.calldata(),
        }
    }
}

/// A deposit from the depositor account calling `to` with `input`, its source hash derived from
/// `intent` (the spec's upgrade-deposit domain): how opdev sets up predeploys.
pub fn system_deposit(intent: &str, to: Address, input: Bytes, gas_limit: u64) -> TxDeposit {
    TxDeposit {
        source_hash: UpgradeDepositSource::new(intent.to_owned()).source_hash(),
        from: predeploys::DEPOSITOR_ACCOUNT,
        to: TxKind::Call(to),
        mint: 0,
        value: U256::ZERO,
        gas_limit,
        is_system_transaction: false,
        input,
    }
}

/// The raw (EIP-2718) bytes of a deposit, for `eth_sendRawTransaction`.
pub fn raw(tx: &TxDeposit) -> Bytes {
    tx.encoded_2718().into()
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{address, b256, keccak256};

    use super::*;

    #[test]
    fn the_deposit_topic_is_the_portals_event_signature() {
        // docs/schema.md names it by its first bytes.
        assert_eq!(
            deposit_topic(),
            b256!("0xb3813568d9991fc951961fcb4c784893574240a28925604d09fc577c55bb7c32")
        );
        let (hash, index) = (B256::repeat_byte(7), 9);
        let mut inner = hash.to_vec();
        inner.extend_from_slice(&U256::from(index).to_be_bytes::<32>());
        let mut outer = [0u8; 32].to_vec();
        outer.extend_from_slice(keccak256(inner).as_slice());
        assert_eq!(user_source_hash(hash, index), keccak256(outer));
    }

    fn opaque(mint: u64, value: u64, gas: u64, creation: bool, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&U256::from(mint).to_be_bytes::<32>());
        v.extend_from_slice(&U256::from(value).to_be_bytes::<32>());
        v.extend_from_slice(&gas.to_be_bytes());
        v.push(u8::from(creation));
        v.extend_from_slice(data);
        v
    }

    fn log(from: Address, to: Address, opaque: Vec<u8>) -> (Vec<B256>, Vec<u8>) {
        let event = TransactionDeposited {
            from,
            to,
            version: U256::ZERO,
            opaqueData: opaque.into(),
        };
        let data = event.encode_data();
        let topics = event
            .encode_topics()
            .into_iter()
            .map(|t| B256::from(t.0))
            .collect();
        (topics, data)
    }

    #[test]
    fn a_portal_log_becomes_the_spec_deposit() {
        let from = address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        let to = address!("70997970C51812dc3A010C7d01b50e0d17dc79C8");
        let (topics, data) = log(from, to, opaque(5, 3, 100_000, false, &[0xab, 0xcd]));
        let block_hash = b256!("1111111111111111111111111111111111111111111111111111111111111111");
        let d = decode_user_deposit(&topics, &data, 7, block_hash, 4, B256::ZERO).unwrap();
        assert_eq!(d.tx.from, from);
        assert_eq!(d.tx.to, TxKind::Call(to));
        assert_eq!(d.tx.mint, 5);
        assert_eq!(d.tx.value, U256::from(3));
        assert_eq!(d.tx.gas_limit, 100_000);
        assert_eq!(d.tx.input.as_ref(), &[0xab, 0xcd]);
        // source = keccak256(bytes32(0) ‖ keccak256(l1BlockHash ‖ uint256(logIndex)))
        let mut inner = block_hash.to_vec();
        inner.extend_from_slice(&U256::from(4).to_be_bytes::<32>());
        let mut outer = [0u8; 32].to_vec();
        outer.extend_from_slice(keccak256(inner).as_slice());
        assert_eq!(d.tx.source_hash, keccak256(outer));
        let raw = d.raw();
        assert_eq!(raw[0], 0x7e);
        assert_eq!(d.l2_hash(), keccak256(&raw));
    }

    #[test]
    fn creation_deposits_have_no_recipient_and_short_data_is_refused() {
        let a = address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        let (topics, data) = log(a, Address::ZERO, opaque(0, 0, 1, true, &[0x60]));
        let d = decode_user_deposit(&topics, &data, 1, B256::ZERO, 0, B256::ZERO).unwrap();
        assert_eq!(d.tx.to, TxKind::Create);
        let (topics, data) = log(a, a, vec![0; 72]);
        assert!(decode_user_deposit(&topics, &data, 1, B256::ZERO, 0, B256::ZERO).is_err());
    }

    #[test]
    fn l1_info_calldata_is_packed_as_ecotone_reads_it() {
        let info = L1Info {
            number: 0x0102,
            timestamp: 0x0304,
            base_fee: U256::from(7),
            blob_base_fee: U256::from(1),
            hash: B256::repeat_byte(0xaa),
            sequence_number: 0,
            base_fee_scalar: 1368,
            blob_base_fee_scalar: 810_949,
            batcher_hash: B256::repeat_byte(0xbb),
        };
        let data = info.calldata();
        assert_eq!(data.len(), 164);
        assert_eq!(&data[..4], &SET_L1_BLOCK_VALUES_ECOTONE);
        assert_eq!(
            &alloy::primitives::keccak256("setL1BlockValuesEcotone()")[..4],
            &SET_L1_BLOCK_VALUES_ECOTONE
        );
        // calldataload(4) >> 128: baseFeeScalar, blobBaseFeeScalar, sequenceNumber
        assert_eq!(&data[4..8], &1368u32.to_be_bytes());
        assert_eq!(&data[8..12], &810_949u32.to_be_bytes());
        // calldataload(20) >> 128: timestamp, number
        assert_eq!(&data[20..28], &0x0304u64.to_be_bytes());
        assert_eq!(&data[28..36], &0x0102u64.to_be_bytes());
        assert_eq!(data[67], 7);
        assert_eq!(&data[100..132], &[0xaa; 32]);
        assert_eq!(info.deposit().from, predeploys::DEPOSITOR_ACCOUNT);
    }
}
