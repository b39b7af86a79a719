//! The `full` profile: a real OP Stack rollup. The L1 is anvil (Cancun, as the L2s' Ecotone needs)
//! with the Bedrock contracts; `bridge-deploy` deploys them with per-L2 operators and writes each
//! L2's `genesis.json` and `rollup.json` (`opdev serve bridge-deploy --rollup`); then per L2:
//!
//! - `l2-N`: op-geth, initialised once from that genesis, the Engine API behind the L2's JWT
//!   secret; its JSON-RPC port is the chain's port, so everything that talks to an L2 is the same
//!   as in the lite profile;
//! - `l2-N-node`: op-node as sequencer, deriving from the L1 (calldata batches, no beacon API);
//!   ready once its safe head advances — batches posted, included and derived back;
//! - `l2-N-batcher`: op-batcher, calldata batches to the L2's batch inbox;
//! - `l2-N-proposer`: op-proposer, outputs as dispute games of the L2's factory.
//!
//! Keys reach the programs through their environment variables, never the command line. The
//! L2s are independent of each other: all of them start together once the deployment is done.

use std::{path::PathBuf, time::Duration};

use opdev_spec::{Artifact, ChainConfig, ServiceSpec, WaitFor, service::Setup};

use crate::{
    Inputs, RollupAccounts,
    bridge::{DEPLOY, deploy_step},
    lite::{self, RPC_PORT},
};

/// The game type op-proposer creates (opdev's `OutputGame`, see crates/opstack).
pub const GAME_TYPE: u32 = 254;
/// Seconds between two proposals of op-proposer.
pub const PROPOSAL_INTERVAL_SECS: u64 = 6;

/// Suffixes of each L2's rollup services, after the L2's own name.
pub const NODE: &str = "node";
/// See [`NODE`].
pub const BATCHER: &str = "batcher";
/// See [`NODE`].
pub const PROPOSER: &str = "proposer";

/// The folder `bridge-deploy` writes the L2s' genesis and rollup files into (its data folder).
pub fn rollup_dir(root: &std::path::Path) -> PathBuf {
    root.join("data").join(DEPLOY)
}

/// The name of an L2's rollup service `role` ([`NODE`], [`BATCHER`], [`PROPOSER`]).
pub fn service_name(l2: &str, role: &str) -> String {
    format!("{l2}-{role}")
}

/// The program a full-profile service runs (`l2-1` → op-geth, `l2-1-node` → op-node…), for
/// checking a `--binary` given by service name.
pub fn tool_of(config: &opdev_spec::DevnetConfig, service: &str) -> Option<&'static str> {
    if config.profile != opdev_spec::Profile::Full {
        return None;
    }
    config.l2.iter().find_map(|c| {
        let name = c.service.as_str();
        if service == name {
            return Some("op-geth");
        }
        [
            (NODE, "op-node"),
            (BATCHER, "op-batcher"),
            (PROPOSER, "op-proposer"),
        ]
        .into_iter()
        .find(|(role, _)| service == service_name(name, role))
        .map(|(_, tool)| tool)
    })
}

/// The programs of the full profile, each found or built by the orchestrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpStackTools {
    /// op-geth.
    pub op_geth: PathBuf,
    /// op-node.
    pub op_node: PathBuf,
    /// op-batcher.
    pub op_batcher: PathBuf,
    /// op-proposer.
    pub op_proposer: PathBuf,
}

/// The full profile's services: the L1, the deployment, then each L2's four.
pub fn services(inputs: Inputs<'_>) -> Vec<ServiceSpec> {
    let config = inputs.config;
    let tools = inputs.tools;
    let Some(programs) = &tools.op_stack else {
        // The orchestrator resolves the programs before asking for the full profile.
        return Vec::new();
    };
    let l1 = lite::anvil(config, tools, &config.l1, false).with_args(["--hardfork", "cancun"]);
    let mut specs = vec![l1, deploy(inputs, programs)];
    for (index, chain) in config.l2.iter().enumerate() {
        let Some(accounts) = inputs.secrets.rollup.get(index) else {
            continue;
        };
        specs.extend(l2(inputs, programs, chain, accounts));
    }
    specs
}

fn deploy(inputs: Inputs<'_>, programs: &OpStackTools) -> ServiceSpec {
    let config = inputs.config;
    let secrets = inputs.secrets;
    let first_proposer = secrets
        .rollup
        .first()
        .map(|a| a.proposer.clone())
        .unwrap_or_default();
    let mut spec = deploy_step(inputs, &first_proposer)
        .with_args([
            "--rollup".to_owned(),
            "{data}".to_owned(),
            "--anvil".to_owned(),
            inputs.tools.anvil.display().to_string(),
            "--op-geth".to_owned(),
            programs.op_geth.display().to_string(),
            "--fund".to_owned(),
            secrets.faucet_address.clone(),
            "--l2-block-time".to_owned(),
            config.l2.first().map_or(1, |c| c.block_time).to_string(),
        ])
        .with_env("DEPLOYER_PRIVATE_KEY", &secrets.deployer_key)
        .with_read_only(&programs.op_geth)
        .with_read_only(&inputs.tools.anvil);
    for (chain, accounts) in config.l2.iter().zip(&secrets.rollup) {
        spec = spec.with_args([
            "--operator".to_owned(),
            format!(
                "{}={},{},{}",
                chain.service, accounts.proposer, accounts.batcher, accounts.sequencer
            ),
        ]);
    }
    spec
}

fn l2(
    inputs: Inputs<'_>,
    programs: &OpStackTools,
    chain: &ChainConfig,
    accounts: &RollupAccounts,
) -> Vec<ServiceSpec> {
    let config = inputs.config;
    let name = &chain.service;
    let port = |role: &str| config.rollup_port(name, role);
    let files = rollup_dir(inputs.root).join(name);
    let genesis = files.join("genesis.json").display().to_string();
    let rollup = files.join("rollup.json").display().to_string();
    let jwt = accounts.jwt_file.display().to_string();
    let l1_url = config.l1.rpc_url();
    let engine_url = format!("http://127.0.0.1:{}", port("engine"));
    let node_url = format!("http://127.0.0.1:{}", port("node"));
    let apis = "eth,net,web3,debug,txpool";

    let geth = ServiceSpec::daemon(name, Artifact::binary("op-geth", &programs.op_geth))
        .with_setup(Setup {
            program: programs.op_geth.clone(),
            args: vec![
                "init".into(),
                "--datadir".into(),
                "{data}".into(),
                "--state.scheme=hash".into(),
                genesis,
            ],
            creates: "{data}/geth/chaindata".into(),
        })
        .with_args(["--datadir", "{data}", "--networkid"])
        .with_args([chain.chain_id.to_string()])
        .with_args(["--http", "--http.addr", "{listen}", "--http.port"])
        .with_args([chain.port.to_string()])
        .with_args([
            "--http.api",
            apis,
            "--http.vhosts",
            "*",
            "--http.corsdomain",
            "*",
        ])
        .with_args(["--ws", "--ws.addr", "{listen}", "--ws.port"])
        .with_args([chain.port.to_string()])
        .with_args(["--ws.api", apis, "--ws.origins", "*"])
        .with_args(["--authrpc.addr", "{listen}", "--authrpc.port"])
        .with_args([port("engine").to_string()])
        .with_args(["--authrpc.vhosts", "*", "--authrpc.jwtsecret"])
        .with_args([jwt.clone()])
        // Every block's state on disk (archive, hash scheme): a kill loses nothing committed,
        // and calls at old blocks work (the indexer's and the explorer's).
        .with_args([
            "--syncmode",
            "full",
            "--gcmode",
            "archive",
            "--state.scheme",
            "hash",
        ])
        // No peers: the devnet's L2 is its own network.
        .with_args(["--nodiscover", "--maxpeers", "0", "--port", "0"])
        .with_args(["--rollup.disabletxpoolgossip"])
        .with_args(["--metrics", "--metrics.addr", "{listen}", "--metrics.port"])
        .with_args([port("geth-metrics").to_string()])
        .with_port(RPC_PORT, chain.port)
        .with_port("engine", port("engine"))
        .with_port("metrics", port("geth-metrics"))
        .with_ready(WaitFor::Rpc {
            port: RPC_PORT.into(),
            chain_id: chain.chain_id,
        })
        .with_read_only(rollup_dir(inputs.root))
        .with_read_only(&inputs.secrets.dir)
        .with_dependency(DEPLOY)
        .with_ready_timeout(Duration::from_secs(60))
        .with_stop_grace(Duration::from_secs(20));

    let node_name = service_name(name, NODE);
    let node = ServiceSpec::daemon(&node_name, Artifact::binary("op-node", &programs.op_node))
        .with_args(["--l1", &l1_url])
        // anvil is a plain JSON-RPC node with no beacon API: calldata batches only, receipts
        // fetched one by one, its answers trusted, and its new blocks polled every second.
        .with_args([
            "--l1.rpckind",
            "basic",
            "--l1.trustrpc",
            "--l1.beacon.ignore",
        ])
        .with_args([
            "--l1.epoch-poll-interval",
            "2s",
            "--l1.http-poll-interval",
            "1s",
        ])
        .with_args([
            "--l2",
            &engine_url,
            "--l2.jwt-secret",
            &jwt,
            "--rollup.config",
            &rollup,
        ])
        .with_args(["--sequencer.enabled", "--sequencer.l1-confs", "0"])
        .with_args(["--verifier.l1-confs", "0", "--p2p.disable"])
        .with_args(["--rpc.addr", "{listen}", "--rpc.port"])
        .with_args([port("node").to_string()])
        .with_args([
            "--metrics.enabled",
            "--metrics.addr",
            "{listen}",
            "--metrics.port",
        ])
        .with_args([port("node-metrics").to_string()])
        .with_env(
            "OP_NODE_P2P_SEQUENCER_KEY",
            accounts.sequencer_key.trim_start_matches("0x"),
        )
        .with_port(RPC_PORT, port("node"))
        .with_port("metrics", port("node-metrics"))
        // Ready when the rollup works end to end: the safe head advances. op-batcher starts
        // beside op-node (it does not wait for this), so the first batch can land.
        .with_ready(WaitFor::SafeHeadAdvancing {
            port: RPC_PORT.into(),
        })
        .with_read_only(rollup_dir(inputs.root))
        .with_read_only(&inputs.secrets.dir)
        .with_dependency(name.as_str())
        .with_dependency(config.l1.service.as_str())
        .with_ready_timeout(Duration::from_secs(90 + 4 * chain.block_time));

    let batcher = ServiceSpec::daemon(
        service_name(name, BATCHER),
        Artifact::binary("op-batcher", &programs.op_batcher),
    )
    .with_args(["--l1-eth-rpc", &l1_url, "--l2-eth-rpc", &chain.rpc_url()])
    .with_args(["--rollup-rpc", &node_url])
    .with_args(["--data-availability-type", "calldata"])
    // A channel closes after one L1 block, so the safe head follows the unsafe head within a
    // few seconds; one confirmation is enough on a chain that never reorgs.
    .with_args(["--max-channel-duration", "1", "--num-confirmations", "1"])
    .with_args(["--poll-interval", "1s", "--sub-safety-margin", "4"])
    .with_args(["--txmgr.receipt-query-interval", "1s"])
    // A transaction the L1 lost (an L1 restarted from its last saved state drops its pool) is
    // sent again after 5 s, not upstream's 48.
    .with_args(["--resubmission-timeout", "5s"])
    .with_args(["--rpc.addr", "{listen}", "--rpc.port"])
    .with_args([port("batcher").to_string()])
    .with_args([
        "--metrics.enabled",
        "--metrics.addr",
        "{listen}",
        "--metrics.port",
    ])
    .with_args([port("batcher-metrics").to_string()])
    .with_env(
        "OP_BATCHER_PRIVATE_KEY",
        accounts.batcher_key.trim_start_matches("0x"),
    )
    // op-batcher v1.7.7 does not notice batches an L1 forgot (an L1 back from its last saved
    // state): it would wait out the channel timeout (300 L1 blocks) before sending them again.
    // Started again, it batches from op-node's safe head.
    .with_restart_with(config.l1.service.as_str())
    .with_port(RPC_PORT, port("batcher"))
    .with_port("metrics", port("batcher-metrics"))
    .with_ready(WaitFor::Port {
        port: RPC_PORT.into(),
    })
    .with_dependency(name.as_str())
    .with_dependency(config.l1.service.as_str());

    let proposer = ServiceSpec::daemon(
        service_name(name, PROPOSER),
        Artifact::binary("op-proposer", &programs.op_proposer),
    )
    .with_args(["--l1-eth-rpc", &l1_url, "--rollup-rpc", &node_url])
    .with_args(["--game-factory-address", &accounts.game_factory])
    .with_args(["--game-type".to_owned(), GAME_TYPE.to_string()])
    .with_args([
        "--proposal-interval".to_owned(),
        format!("{PROPOSAL_INTERVAL_SECS}s"),
    ])
    // Outputs of safe blocks: the L1 of a devnet does not finalize.
    .with_args(["--allow-non-finalized", "--num-confirmations", "1"])
    .with_args([
        "--poll-interval",
        "1s",
        "--txmgr.receipt-query-interval",
        "1s",
    ])
    .with_args(["--rpc.addr", "{listen}", "--rpc.port"])
    .with_args([port("proposer").to_string()])
    .with_args([
        "--metrics.enabled",
        "--metrics.addr",
        "{listen}",
        "--metrics.port",
    ])
    .with_args([port("proposer-metrics").to_string()])
    .with_env(
        "OP_PROPOSER_PRIVATE_KEY",
        accounts.proposer_key.trim_start_matches("0x"),
    )
    .with_port(RPC_PORT, port("proposer"))
    .with_port("metrics", port("proposer-metrics"))
    .with_ready(WaitFor::Port {
        port: RPC_PORT.into(),
    })
    .with_dependency(node_name);
    vec![geth, node, batcher, proposer]
}

#[cfg(test)]
mod tests {
    use opdev_spec::{DevnetConfig, Profile, ServiceKind, Settings};

    use super::*;
    use crate::test_inputs;

    fn specs(l2: u32) -> Vec<ServiceSpec> {
        let config = DevnetConfig::new(&Settings {
            profile: Some(Profile::Full),
            l2: Some(l2),
            ..Default::default()
        })
        .unwrap();
        let (tools, secrets) = test_inputs(&config);
        crate::services(Inputs {
            config: &config,
            tools: &tools,
            secrets: &secrets,
            root: std::path::Path::new("/d"),
        })
        .unwrap()
    }

    fn arg_after<'a>(spec: &'a ServiceSpec, flag: &str) -> &'a str {
        let i = spec.args.iter().position(|a| a == flag).unwrap_or_else(|| {
            panic!("{} has no {flag}: {:?}", spec.name, spec.args);
        });
        &spec.args[i + 1]
    }

    #[test]
    fn each_l2_runs_op_geth_op_node_batcher_and_proposer_after_the_deployment() {
        let specs = specs(2);
        let names: Vec<_> = specs.iter().map(|s| s.name.as_str()).collect();
        for name in [
            "l1",
            "bridge-deploy",
            "l2-1",
            "l2-1-node",
            "l2-1-batcher",
            "l2-1-proposer",
            "l2-2",
            "l2-2-node",
            "l2-2-batcher",
            "l2-2-proposer",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        assert!(!names.contains(&"relayer"), "op-node derives deposits");
        let get = |n: &str| specs.iter().find(|s| s.name == n).unwrap();
        let deploy = get("bridge-deploy");
        assert_eq!(deploy.kind, ServiceKind::OneShot);
        assert!(deploy.depends_on.is_empty(), "it waits for the L1 itself");
        assert_eq!(arg_after(deploy, "--rollup"), "{data}");
        assert_eq!(deploy.args.iter().filter(|a| *a == "--operator").count(), 2);
        assert!(
            get("l1")
                .args
                .windows(2)
                .any(|w| w == ["--hardfork", "cancun"])
        );
        let geth = get("l2-2");
        assert_eq!(geth.artifact.tool, "op-geth");
        assert_eq!(geth.depends_on, ["bridge-deploy"]);
        assert_eq!(geth.port("rpc"), Some(9546), "the L2's port is op-geth's");
        let setup = geth.setup.as_ref().unwrap();
        assert_eq!(
            setup.args.last().unwrap(),
            "/d/data/bridge-deploy/l2-2/genesis.json"
        );
        let node = get("l2-2-node");
        assert_eq!(
            node.ready,
            [WaitFor::SafeHeadAdvancing { port: "rpc".into() }]
        );
        assert_eq!(
            arg_after(node, "--rollup.config"),
            "/d/data/bridge-deploy/l2-2/rollup.json"
        );
        assert_eq!(
            arg_after(node, "--l2"),
            format!("http://127.0.0.1:{}", geth.port("engine").unwrap())
        );
        assert_eq!(
            arg_after(node, "--l2.jwt-secret"),
            arg_after(geth, "--authrpc.jwtsecret")
        );
        let batcher = get("l2-2-batcher");
        assert!(
            !batcher.depends_on.contains(&"l2-2-node".to_owned()),
            "the batcher starts beside op-node, whose readiness needs its batches"
        );
        assert_eq!(arg_after(batcher, "--data-availability-type"), "calldata");
        assert_eq!(get("l2-2-proposer").depends_on, ["l2-2-node"]);
        for spec in &specs {
            assert!(
                !spec
                    .args
                    .iter()
                    .any(|a| a.contains("key0") || a.contains("jwt0")),
                "{} has a secret on its command line",
                spec.name
            );
        }
        assert_eq!(batcher.env["OP_BATCHER_PRIVATE_KEY"], "batcherkey2");
        // Every port of every service is distinct.
        let mut ports: Vec<u16> = specs
            .iter()
            .flat_map(|s| s.ports.values().copied())
            .collect();
        let n = ports.len();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), n, "{ports:?}");
    }
}
