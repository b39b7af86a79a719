//! The committed bytecode and ABIs of our contracts (Counter, OutputGame) are what
//! `contracts/build.sh` compiles from their Solidity sources with the pinned solcjs, so the
//! sources beside them are the truth.

use std::{path::Path, process::Command};

#[test]
fn committed_contracts_rebuild_from_source() {
    let contracts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts");
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(contracts.join("build.sh"))
        .arg(out.path())
        .status()
        .expect("build.sh runs");
    assert!(status.success(), "contracts/build.sh failed");
    let read = |dir: &Path, file: &str| {
        std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.join(file).display()))
    };

    // Counter is embedded in opdev_chain; compare against what the crate actually carries.
    assert_eq!(
        read(out.path(), "Counter.bin").trim(),
        opdev_chain::smoke::COUNTER_BYTECODE_HEX.trim()
    );
    for name in ["Counter", "OutputGame"] {
        for file in [format!("{name}.bin"), format!("{name}.abi.json")] {
            let rebuilt = read(out.path(), &file);
            assert!(!rebuilt.trim().is_empty(), "{file} rebuilt empty");
            assert_eq!(
                rebuilt,
                read(&contracts, &file),
                "contracts/{file} differs from its rebuild: run contracts/build.sh and commit"
            );
        }
    }
}
