//! `--chain NAME=CHAIN_ID=RPC_URL` as every service reads it: never a panic; an accepted value
//! is read back the same from how it prints; a list never holds a name or chain id twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opdev_spec::{ChainEndpoint, endpoint::parse_all};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = text.parse::<ChainEndpoint>() {
        assert!(!c.name.is_empty());
        assert!(c.chain_id >= 1 && c.chain_id <= i64::MAX as u64);
        // Read back from how it prints (the text itself may differ: `08` and `+8` read as 8).
        assert_eq!(c.to_string().parse::<ChainEndpoint>().unwrap(), c);
    }
    let values: Vec<&str> = text.split('\n').collect();
    if let Ok(chains) = parse_all(&values) {
        for (i, a) in chains.iter().enumerate() {
            for b in &chains[i + 1..] {
                assert!(a.name != b.name && a.chain_id != b.chain_id);
            }
        }
    }
});
