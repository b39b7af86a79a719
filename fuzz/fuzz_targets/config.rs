//! opdev.toml as `up` reads it: never a panic; a config it accepts is saved and read back the same.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use opdev_spec::{DevnetConfig, Settings};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("opdev.toml");
    let Ok(settings) = Settings::from_toml(text, path) else {
        return;
    };
    let Ok(config) = DevnetConfig::new(&settings) else {
        return;
    };
    let saved = config.to_toml();
    assert_eq!(DevnetConfig::from_toml(&saved, path).unwrap(), config);
});
