//! An amount of ETH as `--amount` and `--default-amount` give it: never a panic, never zero.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(wei) = opdev_faucet::config::parse_eth(text) {
        assert!(!wei.is_zero());
    }
});
