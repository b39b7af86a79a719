//! Decoding of the events the explorer knows: ERC-20 `Transfer(address,address,uint256)` and
//! the Counter's `Incremented(address indexed by, uint256 newValue)` (contracts/Counter.sol),
//! plus the formatting of wei amounts. A log that does not match an event's exact shape (topic
//! count, data length) is left undecoded.

use alloy::primitives::U256;
use serde::Serialize;

use crate::db::hex;

/// topic0 of `Transfer(address,address,uint256)`.
pub const TRANSFER_TOPIC: [u8; 32] =
    hex32("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
/// topic0 of `Incremented(address,uint256)`.
pub const INCREMENTED_TOPIC: [u8; 32] =
    hex32("38ac789ed44572701765277c4d0970f2db1c1a571ed39e84358095ae4eaa5420");

const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not lowercase hex"),
        }
    }
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// One decoded parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Param {
    /// Name in the event's declaration.
    pub name: &'static str,
    /// Solidity type.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Value: `0x` hex for an address, decimal for a uint256.
    pub value: String,
}

/// A decoded event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Event name.
    pub name: &'static str,
    /// Full signature.
    pub signature: &'static str,
    /// Parameters in declaration order.
    pub params: Vec<Param>,
}

fn address_word(word: &[u8]) -> Option<String> {
    (word.len() == 32 && word[..12].iter().all(|b| *b == 0)).then(|| hex(&word[12..]))
}

fn uint_word(word: &[u8]) -> Option<String> {
    (word.len() == 32).then(|| U256::from_be_slice(word).to_string())
}

/// Decodes a log with these topics and data, if its event is known.
pub fn decode(topics: &[Vec<u8>], data: &[u8]) -> Option<Event> {
    let topic0 = topics.first()?;
    if topic0.as_slice() == TRANSFER_TOPIC && topics.len() == 3 && data.len() == 32 {
        Some(Event {
            name: "Transfer",
            signature: "Transfer(address indexed from, address indexed to, uint256 value)",
            params: vec![
                Param {
                    name: "from",
                    kind: "address",
                    value: address_word(&topics[1])?,
                },
                Param {
                    name: "to",
                    kind: "address",
                    value: address_word(&topics[2])?,
                },
                Param {
                    name: "value",
                    kind: "uint256",
                    value: uint_word(data)?,
                },
            ],
        })
    } else if topic0.as_slice() == INCREMENTED_TOPIC && topics.len() == 2 && data.len() == 32 {
        Some(Event {
            name: "Incremented",
            signature: "Incremented(address indexed by, uint256 newValue)",
            params: vec![
                Param {
                    name: "by",
                    kind: "address",
                    value: address_word(&topics[1])?,
                },
                Param {
                    name: "newValue",
                    kind: "uint256",
                    value: uint_word(data)?,
                },
            ],
        })
    } else {
        None
    }
}

/// A decimal wei amount as ETH (`1.5 ETH`, `0 ETH`, `0.000000000000000001 ETH`); anything that
/// is not a plain decimal is returned as it is.
pub fn format_eth(wei: &str) -> String {
    if wei.is_empty() || !wei.bytes().all(|b| b.is_ascii_digit()) {
        return wei.to_owned();
    }
    let digits = wei.trim_start_matches('0');
    let padded = format!("{digits:0>19}");
    let (int, frac) = padded.split_at(padded.len() - 18);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{int} ETH")
    } else {
        format!("{int}.{frac} ETH")
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::keccak256;

    use super::*;

    #[test]
    fn topics_are_the_keccak_of_the_signatures() {
        assert_eq!(
            keccak256("Transfer(address,address,uint256)").0,
            TRANSFER_TOPIC
        );
        assert_eq!(
            keccak256("Incremented(address,uint256)").0,
            INCREMENTED_TOPIC
        );
    }

    fn word_addr(b: u8) -> Vec<u8> {
        let mut w = vec![0u8; 12];
        w.extend([b; 20]);
        w
    }

    #[test]
    fn decodes_transfer_and_incremented_and_refuses_other_shapes() {
        let mut amount = vec![0u8; 32];
        amount[31] = 42;
        let t = decode(
            &[TRANSFER_TOPIC.to_vec(), word_addr(1), word_addr(2)],
            &amount,
        )
        .unwrap();
        assert_eq!(t.name, "Transfer");
        assert_eq!(t.params[0].value, format!("0x{}", "01".repeat(20)));
        assert_eq!(t.params[1].value, format!("0x{}", "02".repeat(20)));
        assert_eq!(t.params[2].value, "42");
        // ERC-721 Transfer: 4 topics, no data.
        assert!(
            decode(
                &[
                    TRANSFER_TOPIC.to_vec(),
                    word_addr(1),
                    word_addr(2),
                    amount.clone()
                ],
                &[]
            )
            .is_none()
        );
        let i = decode(&[INCREMENTED_TOPIC.to_vec(), word_addr(3)], &amount).unwrap();
        assert_eq!(i.name, "Incremented");
        assert_eq!(i.params[1].value, "42");
        assert!(decode(&[INCREMENTED_TOPIC.to_vec()], &amount).is_none());
        assert!(decode(&[], &amount).is_none());
    }

    #[test]
    fn formats_wei_as_eth() {
        assert_eq!(format_eth("0"), "0 ETH");
        assert_eq!(format_eth("1"), "0.000000000000000001 ETH");
        assert_eq!(format_eth("1500000000000000000"), "1.5 ETH");
        assert_eq!(format_eth("10000000000000000000000"), "10000 ETH");
        assert_eq!(format_eth("x"), "x");
    }
}
