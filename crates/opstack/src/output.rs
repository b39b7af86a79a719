//! Output roots and withdrawals. An output root (version 0) commits to an L2 block:
//! `keccak256(bytes32(0) ‖ stateRoot ‖ messagePasserStorageRoot ‖ blockHash)`. A withdrawal is
//! the `MessagePassed` event of the L2ToL1MessagePasser; its hash is the key that the passer's
//! `sentMessages` mapping (slot 0) sets to true, and that the portal proves and finalizes.

use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    sol,
    sol_types::{SolEvent, SolValue},
};

use crate::Error;

sol! {
    /// The passer's event for every withdrawal.
    event MessagePassed(
        uint256 indexed nonce,
        address indexed sender,
        address indexed target,
        uint256 value,
        uint256 gasLimit,
        bytes data,
        bytes32 withdrawalHash
    );

    /// A withdrawal as the portal takes it.
    #[derive(Debug, PartialEq, Eq)]
    struct WithdrawalTransaction {
        uint256 nonce;
        address sender;
        address target;
        uint256 value;
        uint256 gasLimit;
        bytes data;
    }

    /// What an output root is made of, as the portal takes it.
    #[derive(Debug, PartialEq, Eq)]
    struct OutputRootProof {
        bytes32 version;
        bytes32 stateRoot;
        bytes32 messagePasserStorageRoot;
        bytes32 latestBlockhash;
    }
}

impl OutputRootProof {
    /// A version-0 proof of the L2 block with these roots.
    pub fn v0(state_root: B256, message_passer_storage_root: B256, block_hash: B256) -> Self {
        Self {
            version: B256::ZERO,
            stateRoot: state_root,
            messagePasserStorageRoot: message_passer_storage_root,
            latestBlockhash: block_hash,
        }
    }

    /// The output root it hashes to.
    pub fn root(&self) -> B256 {
        keccak256(
            (
                self.version,
                self.stateRoot,
                self.messagePasserStorageRoot,
                self.latestBlockhash,
            )
                .abi_encode(),
        )
    }
}

impl WithdrawalTransaction {
    /// The withdrawal hash: `keccak256(abi.encode(nonce, sender, target, value, gasLimit, data))`.
    pub fn hash(&self) -> B256 {
        keccak256(
            (
                self.nonce,
                self.sender,
                self.target,
                self.value,
                self.gasLimit,
                self.data.clone(),
            )
                .abi_encode_params(),
        )
    }

    /// The storage slot of the passer that holds this withdrawal (`sentMessages[hash]`, slot 0).
    pub fn storage_slot(&self) -> B256 {
        keccak256((self.hash(), U256::ZERO).abi_encode())
    }
}

#[cfg(test)]
impl MessagePassed {
    /// The event the passer emits for `w` (for tests that make logs).
    pub(crate) fn of(w: &WithdrawalTransaction) -> Self {
        Self {
            nonce: w.nonce,
            sender: w.sender,
            target: w.target,
            value: w.value,
            gasLimit: w.gasLimit,
            data: w.data.clone(),
            withdrawalHash: w.hash(),
        }
    }

    /// Its topics.
    pub(crate) fn topics(&self) -> Vec<B256> {
        self.encode_topics()
            .into_iter()
            .map(|t| B256::from(t.0))
            .collect()
    }
}

/// The topic that selects `MessagePassed` logs.
pub fn message_passed_topic() -> B256 {
    MessagePassed::SIGNATURE_HASH
}

/// Decodes a `MessagePassed` log into the withdrawal it starts, checking the hash it carries.
pub fn decode_withdrawal(topics: &[B256], data: &[u8]) -> Result<WithdrawalTransaction, Error> {
    let event =
        MessagePassed::decode_raw_log(topics.iter().copied(), data).map_err(|e| Error::Decode {
            what: "MessagePassed log",
            reason: e.to_string(),
        })?;
    let withdrawal = WithdrawalTransaction {
        nonce: event.nonce,
        sender: event.sender,
        target: event.target,
        value: event.value,
        gasLimit: event.gasLimit,
        data: event.data,
    };
    if withdrawal.hash() != event.withdrawalHash {
        return Err(Error::Decode {
            what: "MessagePassed log",
            reason: format!(
                "carries hash {} but its fields hash to {}",
                event.withdrawalHash,
                withdrawal.hash()
            ),
        });
    }
    Ok(withdrawal)
}

/// Builds the withdrawal that a `MessagePassed` with these fields describes.
pub fn withdrawal(
    nonce: U256,
    sender: Address,
    target: Address,
    value: U256,
    gas_limit: U256,
    data: Bytes,
) -> WithdrawalTransaction {
    WithdrawalTransaction {
        nonce,
        sender,
        target,
        value,
        gasLimit: gas_limit,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_root_is_the_hash_of_four_words() {
        let proof = OutputRootProof::v0(
            B256::repeat_byte(1),
            B256::repeat_byte(2),
            B256::repeat_byte(3),
        );
        let mut packed = vec![0u8; 32];
        packed.extend_from_slice(&[1; 32]);
        packed.extend_from_slice(&[2; 32]);
        packed.extend_from_slice(&[3; 32]);
        assert_eq!(proof.root(), keccak256(packed));
    }

    #[test]
    fn a_message_passed_log_round_trips_and_a_wrong_hash_is_refused() {
        let w = withdrawal(
            U256::from(1) << 240,
            Address::repeat_byte(0x11),
            Address::repeat_byte(0x22),
            U256::from(10),
            U256::from(100_000),
            Bytes::from_static(&[1, 2, 3]),
        );
        let event = MessagePassed::of(&w);
        let topics = event.topics();
        assert_eq!(decode_withdrawal(&topics, &event.encode_data()).unwrap(), w);
        let bad = MessagePassed {
            withdrawalHash: B256::ZERO,
            ..event
        };
        assert!(decode_withdrawal(&topics, &bad.encode_data()).is_err());
    }
}
