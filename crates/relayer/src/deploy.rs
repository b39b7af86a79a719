//! `opdev serve bridge-deploy`: makes the devnet's chains a bridge, once. Reads the contract
//! artifacts, plans the L1 deployment from the deployer's nonce (so addresses are the same for the
//! same devnet config), sends it, lays out every L2's predeploys, funds each portal and the
//! proposer, and writes the record. Run again on a devnet that has all of it, it only checks.

use std::{path::PathBuf, time::Duration};

use alloy::{
    primitives::U256,
    signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English},
};
use anyhow::{Context, bail};
use opdev_opstack::{Artifacts, Record, anvil::Chain, l1, l2};
use opdev_spec::ChainEndpoint;

/// `opdev serve bridge-deploy` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    /// A chain, as NAME=CHAIN_ID=RPC_URL: the L1 first, then every L2 in order.
    #[arg(long = "chain", value_name = "NAME=ID=URL", required = true)]
    pub chains: Vec<String>,
    /// The folder of the npm package @eth-optimism/contracts-bedrock.
    #[arg(long, value_name = "DIR")]
    pub artifacts: PathBuf,
    /// The pinned version of that package.
    #[arg(long)]
    pub artifacts_version: String,
    /// Where to write the bridge record (JSON).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Seconds between proving a withdrawal and finalizing it.
    #[arg(long)]
    pub finalization_period: u64,
    /// The proposer's address (the only creator of dispute games).
    #[arg(long)]
    pub proposer: alloy::primitives::Address,
    /// The devnet's mnemonic; the deployer is its account `--deployer-index`, so the contracts'
    /// addresses are the same for the same devnet config.
    #[arg(long, env = "DEPLOYER_MNEMONIC", hide_env_values = true)]
    pub mnemonic: String,
    /// The deployer's private key, instead of an account of the mnemonic (the full profile's
    /// deployer is an account of the devnet alone, so its first transaction is the deployment
    /// and the contracts land where op-proposer was told).
    #[arg(long, env = "DEPLOYER_PRIVATE_KEY", hide_env_values = true)]
    pub deployer_key: Option<String>,
    /// Which account of the mnemonic deploys (far from the dev accounts 0-9, whose nonces stay
    /// untouched).
    #[arg(long, default_value_t = DEPLOYER_INDEX)]
    pub deployer_index: u32,
    /// Full profile: the L2s are not running yet; write each one's `genesis.json` and
    /// `rollup.json` into DIR/<L2 name>/ (its predeploys in the genesis state) instead of laying
    /// predeploys out on running chains.
    #[arg(long, value_name = "DIR", requires_all = ["anvil", "op_geth"])]
    pub rollup: Option<PathBuf>,
    /// The anvil that makes each L2's genesis state (with `--rollup`).
    #[arg(long, value_name = "PATH")]
    pub anvil: Option<PathBuf>,
    /// The op-geth that computes each L2's genesis hash (with `--rollup`).
    #[arg(long, value_name = "PATH")]
    pub op_geth: Option<PathBuf>,
    /// An L2's own operators (with `--rollup`), one flag per L2:
    /// NAME=PROPOSER,BATCHER,SEQUENCER addresses.
    #[arg(long = "operator", value_name = "NAME=P,B,S", value_parser = crate::rollup::parse_operator)]
    pub operators: Vec<(String, l1::Operators)>,
    /// An account funded on every L2's genesis besides the dev accounts (with `--rollup`).
    #[arg(long, value_name = "ADDRESS")]
    pub fund: Vec<alloy::primitives::Address>,
    /// Seconds between L2 blocks (with `--rollup`).
    #[arg(long, default_value_t = 1)]
    pub l2_block_time: u64,
}

/// The account of the devnet's mnemonic that deploys the bridge.
pub const DEPLOYER_INDEX: u32 = 1000;

/// ETH the proposer is given on the L1 for its games' gas.
const PROPOSER_FUNDS_ETH: u64 = 1_000_000;

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

/// How long the deployment waits for a chain's RPC to answer.
const CHAIN_WAIT: Duration = Duration::from_secs(90);

/// Waits until the chain at `endpoint` answers `eth_chainId` with its id; fails at once on
/// another id, and after `within` when it never answers.
async fn wait_for_rpc(endpoint: &ChainEndpoint, within: Duration) -> anyhow::Result<()> {
    let chain = Chain::connect(&endpoint.rpc_url, None)?;
    let deadline = std::time::Instant::now() + within;
    loop {
        match chain.chain_id().await {
            Ok(id) if id == endpoint.chain_id => return Ok(()),
            Ok(id) => bail!(
                "{} at {} answers chain id {id}, not {}",
                endpoint.name,
                endpoint.rpc_url,
                endpoint.chain_id
            ),
            Err(e) if std::time::Instant::now() >= deadline => {
                bail!(
                    "{} did not answer within {} s: {e}",
                    endpoint.name,
                    within.as_secs()
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Deploys what is missing and writes the record.
pub async fn run(args: DeployArgs) -> anyhow::Result<()> {
    let endpoints = opdev_spec::endpoint::parse_all(&args.chains)?;
    let [l1_endpoint, l2_endpoints @ ..] = endpoints.as_slice() else {
        bail!("--chain: the L1 and at least one L2 are needed");
    };
    if l2_endpoints.is_empty() {
        bail!("--chain: at least one L2 is needed after the L1");
    }
    let deployer: PrivateKeySigner = match &args.deployer_key {
        Some(key) => key.parse().context("DEPLOYER_PRIVATE_KEY")?,
        None => MnemonicBuilder::<English>::default()
            .phrase(args.mnemonic.as_str())
            .index(args.deployer_index)
            .and_then(|b| b.build())
            .context("derive the deployer from DEPLOYER_MNEMONIC")?,
    };
    if let Some(dir) = &args.rollup {
        return rollup(&args, dir, &deployer, l1_endpoint, l2_endpoints).await;
    }
    // Started beside the chains, not after them: wait until each answers with its chain id.
    for endpoint in &endpoints {
        wait_for_rpc(endpoint, CHAIN_WAIT).await?;
    }
    let l1 = Chain::connect(&l1_endpoint.rpc_url, None)?;
    let settings = l1::Settings {
        l2_chain_ids: l2_endpoints.iter().map(|c| c.chain_id).collect(),
        finalization_period: args.finalization_period,
        proposer: args.proposer,
        // The lite profile has no batcher or sequencer key; the full profile names its own.
        batcher: args.proposer,
        unsafe_block_signer: args.proposer,
        operators: Vec::new(),
    };
    let services: Vec<String> = l2_endpoints.iter().map(|c| c.name.clone()).collect();

    let started = std::time::Instant::now();
    let existing = match Record::read(&args.out) {
        Ok(record)
            if record.deployment.settings == settings
                && record.l2_services == services
                && l1_has(&l1, &record).await? =>
        {
            Some(record)
        }
        _ => None,
    };
    let mut artifacts = None;
    let open = |artifacts: &mut Option<Artifacts>| -> anyhow::Result<Artifacts> {
        if artifacts.is_none() {
            *artifacts = Some(Artifacts::open(&args.artifacts, &args.artifacts_version)?);
        }
        Ok(artifacts.clone().expect("opened"))
    };
    let record = match existing {
        Some(record) => record,
        None => {
            let artifacts = open(&mut artifacts)?;
            let nonce = l1.nonce(deployer.address()).await?;
            let (steps, deployment) = l1::plan(&artifacts, deployer.address(), nonce, &settings)?;
            l2::apply_preinstalls(&l1, &artifacts).await?;
            l1::deploy(&l1, &deployer, nonce, &steps).await?;
            for chain in &deployment.chains {
                l1.set_balance(chain.get("OptimismPortal"), ether(l1::PORTAL_FUNDS_ETH))
                    .await?;
            }
            tracing::info!(
                transactions = steps.len(),
                ms = started.elapsed().as_millis() as u64,
                "L1 contracts deployed"
            );
            let record = Record::new(l1_endpoint.chain_id, deployment, services);
            record.write(&args.out)?;
            record
        }
    };
    if l1.balance(args.proposer).await? < ether(PROPOSER_FUNDS_ETH / 2) {
        l1.set_balance(args.proposer, ether(PROPOSER_FUNDS_ETH))
            .await?;
    }
    let mut missing = Vec::new();
    for (endpoint, contracts) in l2_endpoints.iter().zip(&record.deployment.chains) {
        let chain = Chain::connect(&endpoint.rpc_url, None)?;
        let setup = l2::Setup {
            l1_chain_id: l1_endpoint.chain_id,
            l1: contracts.clone(),
            owner: record.deployment.deployer,
        };
        if !l2::is_set_up(&chain, &setup).await? {
            missing.push((endpoint, chain, setup));
        }
    }
    if missing.is_empty() {
        tracing::info!(file = %args.out.display(), "bridge already deployed");
        return Ok(());
    }
    let artifacts = open(&mut artifacts)?;
    let results = futures::future::join_all(missing.iter().map(|(endpoint, chain, setup)| {
        let artifacts = &artifacts;
        async move {
            l2::apply(chain, artifacts, setup)
                .await
                .with_context(|| format!("set up the predeploys of {}", endpoint.name))
        }
    }))
    .await;
    for result in results {
        result?;
    }
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        file = %args.out.display(),
        "bridge deployed"
    );
    Ok(())
}

/// The full profile's deployment: the L1 contracts (each L2 with its own operators) and every
/// L2's genesis and rollup config, made side by side; the record is written last, so a record
/// means all of it is there.
async fn rollup(
    args: &DeployArgs,
    dir: &std::path::Path,
    deployer: &PrivateKeySigner,
    l1_endpoint: &ChainEndpoint,
    l2_endpoints: &[ChainEndpoint],
) -> anyhow::Result<()> {
    use crate::rollup as r;
    let anvil = args.anvil.as_deref().context("--rollup needs --anvil")?;
    let op_geth = args
        .op_geth
        .as_deref()
        .context("--rollup needs --op-geth")?;
    let mut operators = Vec::new();
    for endpoint in l2_endpoints {
        let Some((_, ops)) = args.operators.iter().find(|(n, _)| *n == endpoint.name) else {
            bail!("--operator: none given for {}", endpoint.name);
        };
        operators.push(ops.clone());
    }
    wait_for_rpc(l1_endpoint, CHAIN_WAIT).await?;
    let l1 = Chain::connect(&l1_endpoint.rpc_url, None)?;
    let settings = l1::Settings {
        l2_chain_ids: l2_endpoints.iter().map(|c| c.chain_id).collect(),
        finalization_period: args.finalization_period,
        proposer: args.proposer,
        batcher: operators[0].batcher,
        unsafe_block_signer: operators[0].unsafe_block_signer,
        operators: operators.clone(),
    };
    let services: Vec<String> = l2_endpoints.iter().map(|c| c.name.clone()).collect();
    let started = std::time::Instant::now();
    if let Ok(record) = Record::read(&args.out) {
        let files = services
            .iter()
            .all(|s| r::rollup_path(dir, s).exists() && r::genesis_path(dir, s).exists());
        if record.deployment.settings == settings
            && record.l2_services == services
            && files
            && l1_has(&l1, &record).await?
        {
            tracing::info!(file = %args.out.display(), "rollup already deployed");
            return Ok(());
        }
    }
    let artifacts = Artifacts::open(&args.artifacts, &args.artifacts_version)?;
    let nonce = l1.nonce(deployer.address()).await?;
    if nonce != 0 {
        bail!(
            "the deployer {} has sent {nonce} transactions on the L1 already, so the contracts \
             would not land where op-proposer was told (a devnet whose record was lost but whose \
             L1 was kept): start it over with `opdev up --fresh`",
            deployer.address()
        );
    }
    let (steps, deployment) = l1::plan(&artifacts, deployer.address(), nonce, &settings)?;
    let funded: Vec<_> = args
        .fund
        .iter()
        .map(|a| (*a, ether(crate::rollup::L2_FUNDS_ETH)))
        .collect();
    let scratch = r::Scratch {
        anvil,
        mnemonic: &args.mnemonic,
        funded: &funded,
        artifacts: &artifacts,
    };
    let work = dir.join("work");
    // The L2s' genesis states need only the contracts' addresses, which the plan has: made
    // while the L1 deployment runs.
    let deploy_l1 = async {
        l2::apply_preinstalls(&l1, &artifacts).await?;
        l1::deploy(&l1, deployer, nonce, &steps).await?;
        for chain in &deployment.chains {
            l1.set_balance(chain.get("OptimismPortal"), ether(l1::PORTAL_FUNDS_ETH))
                .await?;
        }
        for ops in &operators {
            for account in [ops.proposer, ops.batcher] {
                l1.set_balance(account, ether(PROPOSER_FUNDS_ETH)).await?;
            }
        }
        tracing::info!(
            transactions = steps.len(),
            ms = started.elapsed().as_millis() as u64,
            "L1 contracts deployed"
        );
        anyhow::Ok(())
    };
    let allocs = futures::future::try_join_all(l2_endpoints.iter().zip(&deployment.chains).map(
        |(endpoint, contracts)| {
            let setup = l2::Setup {
                l1_chain_id: l1_endpoint.chain_id,
                l1: contracts.clone(),
                owner: deployment.deployer,
            };
            let scratch = &scratch;
            let work = &work;
            async move {
                r::alloc(scratch, endpoint.chain_id, &setup, work)
                    .await
                    .with_context(|| format!("make the genesis state of {}", endpoint.name))
            }
        },
    ));
    let ((), allocs) = tokio::try_join!(deploy_l1, allocs)?;
    let _ = std::fs::remove_dir_all(&work);
    // The rollup starts from the L1's head once every contract is there.
    let origin = l1.latest_block().await?;
    let origin_hash = origin.header.hash;
    for ((endpoint, contracts), alloc) in l2_endpoints.iter().zip(&deployment.chains).zip(allocs) {
        let files = opdev_opstack::genesis::L2Files {
            l1_chain_id: l1_endpoint.chain_id,
            l2_chain_id: endpoint.chain_id,
            block_time: args.l2_block_time,
            l1_origin: (origin.header.number, origin_hash),
            timestamp: origin.header.timestamp,
            contracts: contracts.clone(),
            batcher: settings
                .operators_of(
                    services
                        .iter()
                        .position(|s| *s == endpoint.name)
                        .unwrap_or(0),
                )
                .batcher,
        };
        let hash = r::write_files(dir, &endpoint.name, &files, alloc, op_geth)
            .await
            .with_context(|| format!("write the genesis of {}", endpoint.name))?;
        tracing::info!(l2 = %endpoint.name, genesis = %hash, l1_origin = origin.header.number, "rollup config written");
    }
    let record = Record::new(l1_endpoint.chain_id, deployment, services);
    record.write(&args.out)?;
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        file = %args.out.display(),
        "rollup deployed"
    );
    Ok(())
}

/// Whether every system of the record has code on the L1.
async fn l1_has(l1: &Chain, record: &Record) -> anyhow::Result<bool> {
    for chain in &record.deployment.chains {
        for name in ["OptimismPortal", "DisputeGameFactory", "L1StandardBridge"] {
            if l1.code(chain.get(name)).await?.is_empty() {
                return Ok(false);
            }
        }
    }
    Ok(true)
}
