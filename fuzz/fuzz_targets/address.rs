//! A recipient as the faucet reads it (API, form, CLI): never a panic; an accepted address is
//! 0x + 40 hex digits and reads back from its EIP-55 spelling; the zero address is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opdev_faucet::claim::{parse_address, parse_recipient};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(a) = parse_address(text) {
        assert_eq!(text.len(), 42);
        assert_eq!(parse_address(&a.to_checksum(None)).unwrap(), a);
        assert_eq!(parse_recipient(text).is_ok(), !a.is_zero());
    } else {
        assert!(parse_recipient(text).is_err());
    }
});
