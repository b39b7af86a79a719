//! Path segments and query values as the explorer reads them: never a panic; what is accepted is
//! in range and means what it says.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use opdev_explorer::input::{BlockId, MAX_PAGE, hex_bytes, number, page};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(n) = number(text) {
        assert!(n >= 0 && text.bytes().all(|b| b.is_ascii_digit()));
    }
    for len in [20, 32] {
        if let Some(bytes) = hex_bytes(text, len) {
            let back: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(back, text[2..].to_lowercase());
        }
    }
    let _ = BlockId::parse(text);
    if let Ok(p) = page(&HashMap::from([("page".to_owned(), text.to_owned())])) {
        assert!((1..=MAX_PAGE).contains(&p));
    }
});
