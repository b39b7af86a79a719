//! The full profile's part of `opdev serve bridge-deploy`: the files each L2's op-geth and
//! op-node start from, written once beside the bridge record.
//!
//! Each L2's genesis state is made by the same code that lays the lite profile's predeploys out:
//! a scratch anvil in OP mode with the L2's chain id gets the predeploys, preinstalls and
//! initialisers ([`l2::apply`]) and the devnet's funded accounts, and its state, dumped when it
//! stops, becomes the genesis alloc. The genesis block's hash, which `rollup.json` must name, is
//! what op-geth itself computes: `op-geth init` into a throw-away folder.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use alloy::{
    genesis::GenesisAccount,
    primitives::{Address, B256, U256},
};
use anyhow::{Context, bail};
use opdev_opstack::{
    Artifacts,
    anvil::Chain,
    genesis::{self, L2Files},
    l1, l2,
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};

/// ETH each account given with `--fund` holds in every L2's genesis.
pub const L2_FUNDS_ETH: u64 = 1_000_000;

/// The files of the L2 whose service is `service`, in the rollup folder `dir`.
pub fn genesis_path(dir: &Path, service: &str) -> PathBuf {
    dir.join(service).join("genesis.json")
}

/// See [`genesis_path`].
pub fn rollup_path(dir: &Path, service: &str) -> PathBuf {
    dir.join(service).join("rollup.json")
}

/// What a scratch chain is made with.
pub struct Scratch<'a> {
    /// The anvil executable.
    pub anvil: &'a Path,
    /// The devnet's mnemonic (its dev accounts are funded as on every chain).
    pub mnemonic: &'a str,
    /// Accounts given ETH besides the dev accounts (the faucet's).
    pub funded: &'a [(Address, U256)],
    /// The contract artifacts.
    pub artifacts: &'a Artifacts,
}

/// The genesis alloc of the L2 of `setup` with chain id `chain_id`: the state of a scratch anvil
/// after the predeploys are laid out on it. `work` is a folder for its state file.
pub async fn alloc(
    scratch: &Scratch<'_>,
    chain_id: u64,
    setup: &l2::Setup,
    work: &Path,
) -> anyhow::Result<BTreeMap<Address, GenesisAccount>> {
    std::fs::create_dir_all(work).with_context(|| format!("create {}", work.display()))?;
    let state = work.join(format!("scratch-{chain_id}.json"));
    let _ = std::fs::remove_file(&state);
    let mut child = Command::new(scratch.anvil)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--optimism",
            "--chain-id",
        ])
        .arg(chain_id.to_string())
        .args(["--mnemonic", scratch.mnemonic, "--dump-state"])
        .arg(&state)
        // Its few blocks stay in memory: nothing spills to ~/.foundry.
        .args(["--max-persisted-states", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("start {}", scratch.anvil.display()))?;
    let stdout = child.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(address) = line.trim().strip_prefix("Listening on ") {
                return Ok(format!("http://{address}"));
            }
        }
        bail!("anvil exited before it listened")
    })
    .await
    .context("the scratch anvil did not listen within 30 s")??;
    // Drain the rest of its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let chain = Chain::connect(&url, None)?;
    l2::apply(&chain, scratch.artifacts, setup)
        .await
        .context("lay the predeploys out on the scratch chain")?;
    for (address, wei) in scratch.funded {
        chain.set_balance(*address, *wei).await?;
    }
    // anvil writes its state on SIGTERM.
    let pid = child.id().context("scratch anvil pid")?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .context("stop the scratch anvil")?;
    tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .context("the scratch anvil did not stop within 30 s")??;
    let bytes = std::fs::read(&state).with_context(|| format!("read {}", state.display()))?;
    let _ = std::fs::remove_file(&state);
    let mut alloc = genesis::alloc_from_anvil_state(&bytes)?;
    // The scratch chain's own block-history contracts (EIP-2935, EIP-4788) hold storage of its
    // blocks, not the L2's: keep their code, drop what they recorded.
    for address in [EIP2935_HISTORY, EIP4788_BEACON_ROOTS] {
        if let Some(account) = alloc.get_mut(&address) {
            account.storage = None;
        }
    }
    Ok(alloc)
}

/// EIP-2935's block-hash history contract.
const EIP2935_HISTORY: Address =
    alloy::primitives::address!("0000F90827F1C53a10cb7A02335B175320002935");
/// EIP-4788's beacon-root contract.
const EIP4788_BEACON_ROOTS: Address =
    alloy::primitives::address!("000F3df6D732807Ef1319fB7B8bB8522d0Beac02");

/// The hash op-geth gives the genesis block of `genesis_file`: `op-geth init` into `scratch`
/// (deleted after), its JSON log read back.
pub async fn genesis_hash(
    op_geth: &Path,
    genesis_file: &Path,
    scratch: &Path,
) -> anyhow::Result<B256> {
    let _ = std::fs::remove_dir_all(scratch);
    let out = Command::new(op_geth)
        .args([
            "--log.format",
            "json",
            "init",
            "--state.scheme=hash",
            "--datadir",
        ])
        .arg(scratch)
        .arg(genesis_file)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("run {} init", op_geth.display()))?;
    let _ = std::fs::remove_dir_all(scratch);
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        bail!(
            "op-geth init {} failed ({}): {}",
            genesis_file.display(),
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        );
    }
    for line in text.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if entry["msg"] == "Successfully wrote genesis state"
            && let Some(hash) = entry["hash"].as_str()
        {
            return hash.parse().context("op-geth's genesis hash");
        }
    }
    bail!("op-geth init printed no genesis hash")
}

/// Writes `genesis.json` and `rollup.json` of one L2 into `dir/<service>/`.
pub async fn write_files(
    dir: &Path,
    service: &str,
    files: &L2Files,
    alloc: BTreeMap<Address, GenesisAccount>,
    op_geth: &Path,
) -> anyhow::Result<B256> {
    let genesis_file = genesis_path(dir, service);
    let folder = genesis_file.parent().expect("a file in a folder");
    std::fs::create_dir_all(folder).with_context(|| format!("create {}", folder.display()))?;
    let genesis = genesis::l2_genesis(files, alloc);
    std::fs::write(&genesis_file, serde_json::to_vec(&genesis)?)
        .with_context(|| format!("write {}", genesis_file.display()))?;
    let hash = genesis_hash(op_geth, &genesis_file, &folder.join("init-check")).await?;
    let rollup = genesis::rollup_json(&genesis::rollup_config(files, hash))?;
    let rollup_file = rollup_path(dir, service);
    std::fs::write(&rollup_file, serde_json::to_vec_pretty(&rollup)?)
        .with_context(|| format!("write {}", rollup_file.display()))?;
    Ok(hash)
}

/// The operators of each L2 as `--operator NAME=PROPOSER,BATCHER,SEQUENCER` gives them.
pub fn parse_operator(text: &str) -> Result<(String, l1::Operators), String> {
    let (name, rest) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected NAME=PROPOSER,BATCHER,SEQUENCER"))?;
    let parts: Vec<&str> = rest.split(',').collect();
    let [proposer, batcher, sequencer] = parts.as_slice() else {
        return Err(format!("{text:?}: expected three addresses after {name}="));
    };
    let address = |s: &str| {
        s.parse::<Address>()
            .map_err(|e| format!("{text:?}: {s} is not an address: {e}"))
    };
    Ok((
        name.to_owned(),
        l1::Operators {
            proposer: address(proposer)?,
            batcher: address(batcher)?,
            unsafe_block_signer: address(sequencer)?,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_parse_in_order_and_bad_input_names_itself() {
        let (name, ops) = parse_operator(&format!(
            "l2-1={},{},{}",
            Address::repeat_byte(1),
            Address::repeat_byte(2),
            Address::repeat_byte(3)
        ))
        .unwrap();
        assert_eq!(name, "l2-1");
        assert_eq!(ops.proposer, Address::repeat_byte(1));
        assert_eq!(ops.batcher, Address::repeat_byte(2));
        assert_eq!(ops.unsafe_block_signer, Address::repeat_byte(3));
        assert!(parse_operator("l2-1").unwrap_err().contains("NAME="));
        assert!(
            parse_operator("l2-1=0x1,0x2")
                .unwrap_err()
                .contains("three")
        );
    }
}
