//! The prefunded dev accounts: derived from the devnet's mnemonic on the standard Ethereum path
//! `m/44'/60'/0'/0/i`, the same accounts anvil funds.

use alloy::{
    primitives::Address,
    signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English},
};
use serde::Serialize;

use crate::ChainError;

/// How many dev accounts anvil funds, and opdev lists.
pub const DEV_ACCOUNTS: u32 = 10;

/// One prefunded account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DevAccount {
    /// Derivation index.
    pub index: u32,
    /// Address (serialized with its EIP-55 checksum).
    #[serde(serialize_with = "checksummed")]
    pub address: Address,
    /// Private key, 0x-prefixed hex.
    pub private_key: String,
}

fn checksummed<S: serde::Serializer>(address: &Address, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&address.to_checksum(None))
}

/// The signer of account `index` of `mnemonic`.
pub fn signer(mnemonic: &str, index: u32) -> Result<PrivateKeySigner, ChainError> {
    MnemonicBuilder::<English>::default()
        .phrase(mnemonic)
        .index(index)
        .map_err(|e| ChainError::Mnemonic(e.to_string()))?
        .build()
        .map_err(|e| ChainError::Mnemonic(e.to_string()))
}

/// The first `count` accounts of `mnemonic`; fails on a mnemonic that is not valid BIP39 English.
pub fn derive(mnemonic: &str, count: u32) -> Result<Vec<DevAccount>, ChainError> {
    (0..count)
        .map(|index| {
            let s = signer(mnemonic, index)?;
            Ok(DevAccount {
                index,
                address: s.address(),
                private_key: format!("0x{}", alloy::hex::encode(s.to_bytes())),
            })
        })
        .collect()
}

/// A new random private key: `(0x hex key, checksummed address)`.
pub fn random_key() -> (String, String) {
    let signer = PrivateKeySigner::random();
    (
        format!("0x{}", alloy::hex::encode(signer.to_bytes())),
        signer.address().to_checksum(None),
    )
}

/// The checksummed address of a 0x-hex private key.
pub fn address_of(key: &str) -> Result<String, ChainError> {
    let signer: PrivateKeySigner = key
        .parse()
        .map_err(|e| ChainError::Mnemonic(format!("invalid private key: {e}")))?;
    Ok(signer.address().to_checksum(None))
}

/// 32 random bytes as hex, for passwords.
pub fn random_secret() -> String {
    alloy::hex::encode(PrivateKeySigner::random().to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anvil_test_mnemonic_gives_the_well_known_first_account() {
        let accounts = derive(
            "test test test test test test test test test test test junk",
            2,
        )
        .unwrap();
        assert_eq!(
            accounts[0].address.to_string(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        assert_eq!(
            accounts[0].private_key,
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        );
        assert_eq!(
            accounts[1].address.to_string(),
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
        );
    }

    #[test]
    fn bad_checksum_word_is_rejected() {
        let err = derive(
            "test test test test test test test test test test test test",
            1,
        )
        .unwrap_err();
        assert!(matches!(err, ChainError::Mnemonic(_)), "{err}");
    }
}
