//! Properties of the parsers that read outside input (`--chain` values, opdev.toml), checked on
//! a bounded number of generated inputs (stable Rust; the same parsers are fuzz targets under
//! `fuzz/`, see docs/threat-model.md): nothing panics, and what is accepted reads back the same.

use std::path::Path;

use opdev_spec::{ChainEndpoint, DevnetConfig, Settings, endpoint::parse_all};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_chain_text_parses_or_is_refused(text in any::<String>()) {
        if let Ok(c) = text.parse::<ChainEndpoint>() {
            prop_assert!(!c.name.is_empty());
            prop_assert!(c.chain_id >= 1 && c.chain_id <= i64::MAX as u64);
            prop_assert_eq!(c.to_string().parse::<ChainEndpoint>().unwrap(), c);
        }
    }

    #[test]
    fn chain_text_round_trips(
        name in "[a-z0-9-]{1,12}",
        id in 1u64..=i64::MAX as u64,
        url in "https?://[a-z0-9.:/?=&-]{0,40}",
    ) {
        let text = format!("{name}={id}={url}");
        let c: ChainEndpoint = text.parse().unwrap();
        prop_assert_eq!(
            (c.name.as_str(), c.chain_id, c.rpc_url.as_str()),
            (name.as_str(), id, url.as_str())
        );
        prop_assert_eq!(c.to_string(), text.clone());
        // The same chain twice is refused.
        prop_assert!(parse_all(&[text.clone(), text]).is_err());
    }

    #[test]
    fn chain_ids_out_of_range_are_refused(id in (i64::MAX as u64 + 1)..=u64::MAX) {
        let text = format!("l1={id}=http://127.0.0.1:8545");
        prop_assert!(text.parse::<ChainEndpoint>().is_err());
    }
}

/// Lines of opdev.toml, valid and not, to combine.
fn toml_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "(name|profile|runtime|ports|l2|block_time|l1_block_time|l1_chain_id|l2_chain_id|mnemonic|faucet|indexer|explorer|monitoring|postgres_url|alert_after|indexer_lag_alert|nosuch) = (\"[a-z0-9 -]{0,12}\"|[0-9]{1,20}|-[0-9]{1,3}|true|false|\\[\\]|\\{\\})",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn any_opdev_toml_is_read_or_refused(lines in prop::collection::vec(toml_line(), 0..8)) {
        let text = lines.join("\n");
        let path = Path::new("opdev.toml");
        let Ok(settings) = Settings::from_toml(&text, path) else { return Ok(()) };
        let Ok(config) = DevnetConfig::new(&settings) else { return Ok(()) };
        // A config that was accepted is saved and read back the same.
        let saved = config.to_toml();
        prop_assert_eq!(DevnetConfig::from_toml(&saved, path).unwrap(), config);
    }
}
