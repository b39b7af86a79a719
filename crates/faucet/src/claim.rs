//! One claim from request to record: validate the recipient, reserve the claim in the store
//! under both rate limits, send the transfer through the chain's nonce manager, and record what
//! happened. Reservations of one chain are serialized by an in-process lock (one statement each),
//! sends of one chain by the nonce manager; the two overlap, so a burst of claims keeps the node
//! busy while the next reservations are checked.

use std::{net::IpAddr, time::Instant};

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::{
    config::{ChainConfig, Config},
    metrics::{ClaimOutcome, Metrics},
    nonce::{ChainSender, SendError, Sent},
    store::{Refusal, Store, StoreError},
};

/// The answer to an accepted claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimResponse {
    /// The transfer (sent, maybe not mined yet).
    pub tx_hash: B256,
    /// Wei sent (decimal string).
    pub amount: String,
    /// Chain id.
    pub chain_id: u64,
}

/// Why a claim was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// The address is not a valid address, or its mixed-case checksum is wrong.
    #[error("read the address {0:?}: not a 20-byte hex address with a valid EIP-55 checksum")]
    InvalidAddress(String),
    /// The zero address: a transfer there would be burnt.
    #[error(
        "read the address: the zero address cannot receive claims (what is sent there is lost)"
    )]
    ZeroAddress,
    /// The faucet does not serve this chain.
    #[error("find chain {0}: this faucet does not serve it")]
    UnknownChain(u64),
    /// The address made too many claims on this chain recently.
    #[error(
        "claim for {address} on chain {chain_id}: the address's limit is reached; retry in {retry_after} s"
    )]
    AddressLimited {
        /// Chain id.
        chain_id: u64,
        /// Recipient.
        address: Address,
        /// Seconds until the next claim is possible.
        retry_after: u64,
    },
    /// The client made too many claims on this chain recently.
    #[error(
        "claim from {client_ip} on chain {chain_id}: this client's limit is reached; retry in {retry_after} s"
    )]
    IpLimited {
        /// Chain id.
        chain_id: u64,
        /// Client IP.
        client_ip: IpAddr,
        /// Seconds until the next claim is possible.
        retry_after: u64,
    },
    /// The transfer was not sent.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The store did not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ClaimError {
    /// The outcome counted in the metrics.
    pub fn outcome(&self) -> ClaimOutcome {
        match self {
            Self::InvalidAddress(_) | Self::ZeroAddress | Self::UnknownChain(_) => {
                ClaimOutcome::Invalid
            }
            Self::AddressLimited { .. } | Self::IpLimited { .. } => ClaimOutcome::RateLimited,
            Self::Send(SendError::InsufficientFunds { .. }) => ClaimOutcome::InsufficientFunds,
            Self::Send(SendError::Record { .. }) => ClaimOutcome::DatabaseError,
            Self::Send(_) => ClaimOutcome::NodeError,
            Self::Store(_) => ClaimOutcome::DatabaseError,
        }
    }

    /// Seconds to wait before claiming again, for a refusal by a limit.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::AddressLimited { retry_after, .. } | Self::IpLimited { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }
}

/// Parses a recipient: `0x` and 40 hex digits, either all lowercase/all uppercase (no checksum)
/// or mixed case with a correct EIP-55 checksum.
pub fn parse_address(s: &str) -> Result<Address, ClaimError> {
    let invalid = || ClaimError::InvalidAddress(s.chars().take(64).collect());
    let hex = s.strip_prefix("0x").ok_or_else(invalid)?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let address: Address = hex.parse().map_err(|_| invalid())?;
    let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    if has_lower && has_upper && address.to_checksum(None)[2..] != *hex {
        return Err(invalid());
    }
    Ok(address)
}

/// Parses a recipient of a claim: [`parse_address`], and not the zero address (whatever is sent
/// there is burnt).
pub fn parse_recipient(s: &str) -> Result<Address, ClaimError> {
    let address = parse_address(s)?;
    if address.is_zero() {
        return Err(ClaimError::ZeroAddress);
    }
    Ok(address)
}

/// The client a request is counted for by the per-IP limit: every loopback address (127.0.0.0/8,
/// `::1`, and IPv4 loopback mapped into IPv6) is one local client, 127.0.0.1; an IPv4-mapped IPv6
/// address is its IPv4 address; any other IPv6 address counts by its /64 prefix (one host
/// usually holds a whole /64), recorded with the rest of the address zeroed.
pub fn client_key(ip: IpAddr) -> IpAddr {
    let ip = ip.to_canonical();
    if ip.is_loopback() {
        return IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    }
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(prefix))
        }
    }
}

/// One chain the faucet serves.
#[derive(Debug)]
pub(crate) struct Chain {
    pub(crate) config: ChainConfig,
    pub(crate) sender: ChainSender,
    reserve: Mutex<()>,
}

/// The faucet: its settings, store, senders and metrics.
#[derive(Debug)]
pub(crate) struct Faucet {
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) metrics: Metrics,
    pub(crate) chains: Vec<Chain>,
}

impl Faucet {
    pub(crate) fn new(config: Config, store: Store) -> Result<Self, SendError> {
        let chains = config
            .chains
            .iter()
            .map(|c| {
                Ok(Chain {
                    config: c.clone(),
                    sender: ChainSender::new(c.chain_id, &c.rpc_url, config.signer.clone())?,
                    reserve: Mutex::new(()),
                })
            })
            .collect::<Result<_, SendError>>()?;
        Ok(Self {
            config,
            store,
            metrics: Metrics::new(),
            chains,
        })
    }

    /// The chain with this id, or the first chain for `None`.
    pub(crate) fn chain(&self, chain_id: Option<u64>) -> Result<&Chain, ClaimError> {
        match chain_id {
            None => self.chains.first().ok_or(ClaimError::UnknownChain(0)),
            Some(id) => self
                .chains
                .iter()
                .find(|c| c.config.chain_id == id)
                .ok_or(ClaimError::UnknownChain(id)),
        }
    }

    /// Handles one claim and counts it in the metrics.
    pub(crate) async fn claim(
        &self,
        address: &str,
        chain_id: Option<u64>,
        client_ip: IpAddr,
    ) -> Result<ClaimResponse, ClaimError> {
        let started = Instant::now();
        let client_ip = client_key(client_ip);
        let result = self.claim_inner(address, chain_id, client_ip).await;
        let outcome = match &result {
            Ok(_) => ClaimOutcome::Sent,
            Err(e) => e.outcome(),
        };
        // Only a chain this faucet serves becomes a label value: a client's made-up chain id
        // is `unknown`, so requests cannot grow the metrics.
        let chain = self.chain(chain_id).ok().map(|c| c.config.chain_id);
        self.metrics
            .claim(chain, outcome, started.elapsed().as_secs_f64());
        if let Err(e) = &result {
            match e.outcome() {
                ClaimOutcome::Invalid | ClaimOutcome::RateLimited => {
                    tracing::info!(chain_id = chain, %client_ip, outcome = outcome.as_str(), reason = %e, "claim refused")
                }
                _ => {
                    tracing::warn!(chain_id = chain, %client_ip, outcome = outcome.as_str(), reason = %e, "claim failed")
                }
            }
        }
        result
    }

    async fn claim_inner(
        &self,
        address: &str,
        chain_id: Option<u64>,
        client_ip: IpAddr,
    ) -> Result<ClaimResponse, ClaimError> {
        let to = parse_recipient(address)?;
        let chain = self.chain(chain_id)?;
        let chain_id = chain.config.chain_id;
        let amount = chain.config.amount;
        // The recipient's code (for the gas) is read while the claim is reserved.
        let reserve = async {
            let _serial = chain.reserve.lock().await;
            self.store
                .reserve(chain_id, to, client_ip, amount, &self.config.limits)
                .await
        };
        let (reserved, gas) = tokio::join!(reserve, chain.sender.transfer_gas(to, amount));
        let reserved = reserved?;
        let id = match reserved {
            Ok(id) => id,
            Err(Refusal::Address { retry_after }) => {
                return Err(ClaimError::AddressLimited {
                    chain_id,
                    address: to,
                    retry_after,
                });
            }
            Err(Refusal::Ip { retry_after }) => {
                return Err(ClaimError::IpLimited {
                    chain_id,
                    client_ip,
                    retry_after,
                });
            }
        };
        let sent = match gas {
            Ok(gas) => {
                let record = |sent: Sent| async move {
                    self.store
                        .record_intent(id, sent.tx_hash, sent.nonce)
                        .await
                        .map_err(|e| e.to_string())
                };
                chain.sender.send(to, amount, gas, record).await
            }
            Err(e) => Err(e),
        };
        match sent {
            Ok(sent) => {
                tracing::info!(
                    chain_id,
                    address = %to,
                    %client_ip,
                    amount = %amount,
                    tx_hash = %sent.tx_hash,
                    nonce = sent.nonce,
                    claim_id = id,
                    outcome = "sent",
                    "distributed"
                );
                if let Err(e) = self.store.mark_sent(id, sent.tx_hash, sent.nonce).await {
                    // The transfer is out and its hash is on the row: the row stays pending
                    // (and counting) until the next start reconciles it as sent.
                    tracing::error!(claim_id = id, tx_hash = %sent.tx_hash, error = %e, "record a sent claim");
                }
                Ok(ClaimResponse {
                    tx_hash: sent.tx_hash,
                    amount: amount.to_string(),
                    chain_id,
                })
            }
            Err(e) => {
                tracing::warn!(
                    chain_id,
                    address = %to,
                    %client_ip,
                    amount = %amount,
                    claim_id = id,
                    outcome = "failed",
                    error = %e,
                    "distribution failed"
                );
                if let Err(store) = self.store.mark_failed(id, &e.to_string()).await {
                    tracing::error!(claim_id = id, error = %store, "record a failed claim");
                }
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let checksummed = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
        let a = parse_address(checksummed).unwrap();
        assert_eq!(a.to_checksum(None), checksummed);
        assert_eq!(parse_address(&checksummed.to_lowercase()).unwrap(), a);
        assert_eq!(
            parse_address(&format!("0x{}", checksummed[2..].to_uppercase())).unwrap(),
            a
        );
        // One letter's case flipped: checksum wrong.
        assert!(parse_address("0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266").is_err());
        assert!(parse_address("0x0000000000000000000000000000000000000000").is_ok());
        assert!(matches!(
            parse_recipient("0x0000000000000000000000000000000000000000"),
            Err(ClaimError::ZeroAddress)
        ));
        for (ip, key) in [
            ("127.0.0.2", "127.0.0.1"),
            ("127.255.0.9", "127.0.0.1"),
            ("::1", "127.0.0.1"),
            ("::ffff:127.0.0.5", "127.0.0.1"),
            ("::ffff:10.1.2.3", "10.1.2.3"),
            ("10.1.2.3", "10.1.2.3"),
            ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"),
        ] {
            assert_eq!(client_key(ip.parse().unwrap()).to_string(), key, "{ip}");
        }
        for bad in [
            "",
            "0x",
            "f39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb9226",
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb922666",
            "0xg39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            "0x+39fd6e51aad88f6f4ce6ab8827279cfffb92266",
        ] {
            assert!(parse_address(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        #[test]
        fn any_text_is_an_address_or_refused(text in proptest::prelude::any::<String>()) {
            if let Ok(a) = parse_address(&text) {
                // Only 0x + 40 hex digits get through, and they mean what they say.
                proptest::prop_assert_eq!(text.len(), 42);
                proptest::prop_assert_eq!(a, text.to_lowercase().parse::<Address>().unwrap());
            }
        }

        #[test]
        fn every_address_is_read_back_in_any_accepted_spelling(
            bytes in proptest::prelude::any::<[u8; 20]>(),
            flip in 0usize..40,
        ) {
            let a = Address::from(bytes);
            let checksummed = a.to_checksum(None);
            proptest::prop_assert_eq!(parse_address(&checksummed).unwrap(), a);
            proptest::prop_assert_eq!(parse_address(&checksummed.to_lowercase()).unwrap(), a);
            let upper = format!("0x{}", checksummed[2..].to_uppercase());
            proptest::prop_assert_eq!(parse_address(&upper).unwrap(), a);
            proptest::prop_assert_eq!(parse_recipient(&checksummed).is_ok(), !a.is_zero());
            // One letter's case flipped in a mixed-case address: refused.
            let mut wrong = checksummed.clone().into_bytes();
            let i = 2 + flip;
            if wrong[i].is_ascii_alphabetic() {
                wrong[i] ^= 0x20;
                let wrong = String::from_utf8(wrong).unwrap();
                let hex = &wrong[2..];
                let mixed = hex.bytes().any(|b| b.is_ascii_lowercase())
                    && hex.bytes().any(|b| b.is_ascii_uppercase());
                if mixed {
                    proptest::prop_assert!(parse_address(&wrong).is_err(), "{}", wrong);
                }
            }
        }

        #[test]
        fn client_keys_are_stable(
            v4 in proptest::prelude::any::<[u8; 4]>(),
            v6 in proptest::prelude::any::<[u8; 16]>(),
        ) {
            use std::net::{Ipv4Addr, Ipv6Addr};
            for ip in [IpAddr::V4(Ipv4Addr::from(v4)), IpAddr::V6(Ipv6Addr::from(v6))] {
                let key = client_key(ip);
                proptest::prop_assert_eq!(client_key(key), key);
                proptest::prop_assert_eq!(key.is_loopback(), ip.to_canonical().is_loopback());
            }
        }
    }
}
