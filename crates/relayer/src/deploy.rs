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
    /// Which account of the mnemonic deploys (far from the dev accounts 0-9, whose nonces stay
    /// untouched).
    #[arg(long, default_value_t = DEPLOYER_INDEX)]
    pub deployer_index: u32,
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
    let deployer: PrivateKeySigner = MnemonicBuilder::<English>::default()
        .phrase(args.mnemonic.as_str())
        .index(args.deployer_index)
        .and_then(|b| b.build())
        .context("derive the deployer from DEPLOYER_MNEMONIC")?;
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
