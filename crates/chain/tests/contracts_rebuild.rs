//! The committed Counter bytecode is what `contracts/build.sh` compiles from Counter.sol with
//! the pinned solcjs, so the source beside it is the truth.

use std::{path::Path, process::Command};

#[test]
fn committed_bytecode_rebuilds_from_source() {
    let contracts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts");
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(contracts.join("build.sh"))
        .arg(out.path())
        .status()
        .expect("build.sh runs");
    assert!(status.success(), "contracts/build.sh failed");
    let rebuilt = std::fs::read_to_string(out.path().join("Counter.bin")).unwrap();
    assert_eq!(
        rebuilt.trim(),
        opdev_chain::smoke::COUNTER_BYTECODE_HEX.trim()
    );
    let abi = std::fs::read_to_string(out.path().join("Counter.abi.json")).unwrap();
    let committed = std::fs::read_to_string(contracts.join("Counter.abi.json")).unwrap();
    assert_eq!(abi, committed);
}
