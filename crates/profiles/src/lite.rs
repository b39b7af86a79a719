//! The `lite` profile: Foundry's anvil as the L1 and, in OP mode (`--network optimism`), as each
//! L2. Every chain keeps its state in `{data}/state.json`: loaded at start, saved every
//! `state_interval` seconds and on SIGTERM, so `down`/`up` resumes the same chain.

use std::time::Duration;

use opdev_spec::{
    Artifact, ChainConfig, DevnetConfig, Fork, ServiceSpec, WaitFor, config::DEFAULT_MNEMONIC,
};

use crate::Tools;

/// Past blocks whose state each chain keeps on disk (beyond the few in memory), so calls at a
/// recent block work: about four minutes of 1-second blocks.
pub const HISTORY_STATES: u32 = 256;

/// The file in each chain's data folder that holds its saved state.
pub const STATE_FILE: &str = "state.json";

/// Name of the JSON-RPC port of every chain service.
pub const RPC_PORT: &str = "rpc";

/// The lite profile's services: one anvil per chain, all independent of each other.
pub fn services(config: &DevnetConfig, tools: &Tools) -> Vec<ServiceSpec> {
    config
        .chains()
        .map(|chain| anvil(config, tools, chain, chain.service != config.l1.service))
        .collect()
}

/// The anvil of `chain`, in OP mode when `op`.
pub(crate) fn anvil(
    config: &DevnetConfig,
    tools: &Tools,
    chain: &ChainConfig,
    op: bool,
) -> ServiceSpec {
    let mut spec = ServiceSpec::daemon(&chain.service, Artifact::binary("anvil", &tools.anvil))
        .with_args(["--host", "{listen}", "--port"])
        .with_args([
            chain.port.to_string(),
            "--chain-id".into(),
            chain.chain_id.to_string(),
        ])
        .with_args(["--state".to_owned(), format!("{{data}}/{STATE_FILE}")])
        .with_args(["--state-interval"])
        .with_args([config.state_interval.to_string()])
        // anvil spills the state of past blocks to disk, by default under ~/.foundry/anvil/tmp,
        // up to 3,600 states whose files grow with the chain (1.2 GB per chain after 4,000
        // blocks, measured), and leaves them there when killed (71 GB had piled up on our test
        // machine). Keep a bounded history in the devnet folder instead (147 MB for an OP-mode
        // chain after 4,000 blocks, measured), emptied at every start.
        .with_args(["--cache-path", "{data}/history", "--max-persisted-states"])
        .with_args([HISTORY_STATES.to_string()])
        .with_scratch("{data}/history")
        // anvil rewrites its state file in place: a kill during a save leaves it cut short, and
        // anvil refuses to start from it. Checked (and repaired from the copy of the previous
        // start) before every start.
        .with_snapshot(format!("{{data}}/{STATE_FILE}"))
        .with_port(RPC_PORT, chain.port)
        .with_ready(WaitFor::Rpc {
            port: RPC_PORT.into(),
            chain_id: chain.chain_id,
        })
        // A chain is ready when it makes blocks; it needs at most one block time for that.
        .with_ready_timeout(Duration::from_secs(15 + 2 * chain.block_time));
    if chain.block_time > 0 {
        spec = spec
            .with_args(["--block-time".to_owned(), chain.block_time.to_string()])
            .with_ready(WaitFor::BlocksAdvancing {
                port: RPC_PORT.into(),
            });
    }
    if op {
        spec = spec.with_args(["--network", "optimism"]);
    }
    if config.mnemonic != DEFAULT_MNEMONIC {
        spec = spec.with_args(["--mnemonic".to_owned(), config.mnemonic.clone()]);
    }
    if let Some(fork) = &chain.fork {
        spec = fork_args(spec, fork, chain.block_time);
    }
    spec
}

/// Fork mode: anvil forks the upstream at the pinned block and loads the chain's saved state on
/// top (`--state` keeps what changed on the fork; the rest is read from the upstream again). The
/// devnet's chain id stays (`--chain-id` above). anvil's RPC cache under ~/.foundry stays off:
/// the devnet folder holds everything a devnet writes. Reaching the upstream at start takes a
/// few round trips, so readiness gets more time.
fn fork_args(spec: ServiceSpec, fork: &Fork, block_time: u64) -> ServiceSpec {
    let mut spec = spec
        .with_args(["--fork-url".to_owned(), fork.url.clone()])
        .with_args(["--no-storage-caching"])
        .with_ready_timeout(Duration::from_secs(60 + 2 * block_time));
    if let Some(block) = fork.block_number {
        spec = spec.with_args(["--fork-block-number".to_owned(), block.to_string()]);
    }
    spec
}

#[cfg(test)]
mod tests {
    use opdev_spec::Settings;

    use super::*;

    fn tools() -> Tools {
        Tools {
            anvil: "/opt/anvil".into(),
            opdev: "/opt/opdev".into(),
            postgres: None,
            prometheus: None,
            alertmanager: None,
            contracts: None,
            op_stack: None,
        }
    }

    #[test]
    fn one_anvil_per_chain_with_op_mode_on_l2s() {
        let config = DevnetConfig::new(&Settings {
            l2: Some(3),
            ..Default::default()
        })
        .unwrap();
        let specs = services(&config, &tools());
        let names: Vec<_> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["l1", "l2-1", "l2-2", "l2-3"]);
        assert!(!specs[0].args.contains(&"optimism".to_owned()));
        assert!(
            specs[1..]
                .iter()
                .all(|s| s.args.windows(2).any(|w| w == ["--network", "optimism"]))
        );
        assert!(
            specs.iter().all(|s| s.depends_on.is_empty()),
            "chains start in parallel"
        );
        assert!(
            specs
                .iter()
                .all(|s| s.snapshots == ["{data}/state.json".to_owned()]),
            "every chain's state file is checked before a start"
        );
        assert_eq!(specs[2].port(RPC_PORT), Some(9546));
        assert!(specs[2].args.windows(2).any(|w| w == ["--chain-id", "902"]));
    }

    #[test]
    fn zero_block_time_mines_per_transaction_and_skips_the_advance_check() {
        let s = Settings {
            block_time: Some(0),
            ..Default::default()
        };
        let config = DevnetConfig::new(&s).unwrap();
        let specs = services(&config, &tools());
        assert!(!specs[1].args.contains(&"--block-time".to_owned()));
        assert_eq!(specs[1].ready.len(), 1);
        assert_eq!(specs[0].ready.len(), 2);
    }

    #[test]
    fn custom_mnemonic_is_passed_and_default_is_not() {
        let config = DevnetConfig::new(&Settings::default()).unwrap();
        assert!(
            !services(&config, &tools())[0]
                .args
                .contains(&"--mnemonic".to_owned())
        );
        let m = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
        let s = Settings {
            mnemonic: Some(m.into()),
            ..Default::default()
        };
        let config = DevnetConfig::new(&s).unwrap();
        assert!(services(&config, &tools())[0].args.contains(&m.to_owned()));
    }

    #[test]
    fn forked_chains_name_their_upstream_and_pinned_block() {
        let mut config = DevnetConfig::new(&Settings {
            l2: Some(2),
            fork_url: Some("http://127.0.0.1:7000".into()),
            fork_block_number: Some(12),
            l2_fork_url: Some(
                [("l2-2".to_owned(), "https://example.invalid/rpc".to_owned())].into(),
            ),
            ..Default::default()
        })
        .unwrap();
        config.l2[1].fork.as_mut().unwrap().block_number = Some(34);
        let specs = services(&config, &tools());
        let has = |i: usize, pair: [&str; 2]| specs[i].args.windows(2).any(|w| w == pair);
        assert!(has(0, ["--fork-url", "http://127.0.0.1:7000"]));
        assert!(has(0, ["--fork-block-number", "12"]));
        assert!(has(0, ["--chain-id", "900"]), "the devnet's chain id stays");
        assert!(!specs[1].args.contains(&"--fork-url".to_owned()));
        assert!(has(2, ["--fork-url", "https://example.invalid/rpc"]));
        assert!(has(2, ["--fork-block-number", "34"]));
        assert!(
            specs[2].args.contains(&"--state".to_owned()),
            "a fork keeps its state file"
        );
    }

    #[test]
    fn deploy_override_replaces_the_binary() {
        let mut config = DevnetConfig::new(&Settings::default()).unwrap();
        config
            .binaries
            .insert("l2-1".into(), "/tmp/my-anvil".into());
        let (tools, secrets) = crate::test_inputs(&config);
        let inputs = crate::Inputs {
            config: &config,
            tools: &tools,
            secrets: &secrets,
            root: std::path::Path::new("/d"),
        };
        let specs = crate::services(inputs).unwrap();
        assert_eq!(specs[0].artifact.binary, std::path::Path::new("/opt/anvil"));
        assert_eq!(
            specs[1].artifact.binary,
            std::path::Path::new("/tmp/my-anvil")
        );
    }
}
