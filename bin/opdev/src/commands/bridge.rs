//! `opdev bridge …`: the devnet's OP bridge — its addresses, deposits and withdrawals
//! ([`transfer`]) — and the helpers `up` and `status` use to show it.

use std::{collections::BTreeMap, path::Path};

use opdev_opstack::{Record, primitives::Address};
use opdev_orchestrator::Error;
use opdev_spec::DevnetConfig;
use serde_json::{Value, json};

use super::Ctx;
use crate::cli::{BridgeArgs, BridgeCommand};

mod transfer;

/// The bridge record of the devnet in `root`, when it has a bridge that was deployed.
pub(crate) fn record(config: &DevnetConfig, root: &Path) -> Option<Record> {
    if !opdev_profiles::bridge::has_contracts(config) {
        return None;
    }
    Record::read(&opdev_profiles::bridge::record_path(root)).ok()
}

/// Addresses by name as a JSON object of EIP-55 strings.
pub(crate) fn addresses_json(addresses: &BTreeMap<String, Address>) -> Value {
    Value::Object(
        addresses
            .iter()
            .map(|(name, a)| (name.clone(), json!(a.to_checksum(None))))
            .collect(),
    )
}

/// The `bridge` object of `status --json`.
pub(crate) fn summary_json(config: &DevnetConfig, root: &Path, relayer: Option<&str>) -> Value {
    if !opdev_profiles::bridge::has_contracts(config) {
        return Value::Null;
    }
    let record = record(config, root);
    json!({
        "deployed": record.is_some(),
        "record": opdev_profiles::bridge::record_path(root),
        "finalization_period": config.finalization_period,
        "deposit_confirmations": config.deposit_confirmations,
        "game_type": record.as_ref().map(|r| r.deployment.game_type),
        "relayer": relayer,
    })
}

/// The line `up` prints about the bridge.
pub(crate) fn summary_line(config: &DevnetConfig, root: &Path) -> Option<String> {
    let record = record(config, root)?;
    let portals: Vec<String> = record
        .l2_services
        .iter()
        .zip(&record.deployment.chains)
        .map(|(service, c)| format!("{service} {}", c.get("OptimismPortal").to_checksum(None)))
        .collect();
    Some(format!(
        "bridge:       OptimismPortal of {} · withdrawals final {} s after proving · `opdev bridge addresses`",
        portals.join(", "),
        config.finalization_period
    ))
}

pub(crate) async fn run(ctx: &Ctx<'_>, args: BridgeArgs) -> Result<(), Error> {
    match args.command {
        BridgeCommand::Addresses => addresses(ctx),
        BridgeCommand::Deposit(args) => transfer::deposit(ctx, args).await,
        BridgeCommand::Withdraw(args) => transfer::withdraw(ctx, args).await,
        BridgeCommand::Status(args) => transfer::status(ctx, args).await,
    }
}

fn addresses(ctx: &Ctx<'_>) -> Result<(), Error> {
    let (devnet, config) = ctx.existing()?;
    if !opdev_profiles::bridge::has_contracts(&config) {
        return Err(Error::usage(
            format!("devnet '{}' has no bridge", config.name),
            "create it with the bridge: `opdev up --fresh --bridge true`",
        ));
    }
    let Some(record) = record(&config, devnet.root()) else {
        return Err(Error::usage(
            format!("devnet '{}' has not deployed its bridge yet", config.name),
            "run `opdev up`: the bridge is deployed when the chains first start",
        ));
    };
    let printer = ctx.printer;
    let l2: Vec<Value> = record
        .l2_services
        .iter()
        .zip(&record.deployment.chains)
        .map(|(service, c)| {
            json!({
                "service": service,
                "chain_id": c.chain_id,
                "l1_contracts": addresses_json(&c.contracts),
                "l2_contracts": addresses_json(&l2_predeploys()),
            })
        })
        .collect();
    if printer.is_json() {
        printer.json(&json!({
            "l1": {
                "chain_id": record.l1_chain_id,
                "contracts": addresses_json(&record.l1_contracts),
                "implementations": addresses_json(&record.deployment.implementations),
                "deployer": record.deployment.deployer.to_checksum(None),
            },
            "game_type": record.deployment.game_type,
            "finalization_period": record.deployment.settings.finalization_period,
            "l2": l2,
        }));
        return Ok(());
    }
    let mut rows = Vec::new();
    for (name, address) in &record.l1_contracts {
        rows.push(vec![
            "l1".to_owned(),
            name.clone(),
            address.to_checksum(None),
        ]);
    }
    for (service, c) in record.l2_services.iter().zip(&record.deployment.chains) {
        for (name, address) in &c.contracts {
            rows.push(vec![
                format!("l1 (for {service})"),
                name.clone(),
                address.to_checksum(None),
            ]);
        }
    }
    for (name, address) in l2_predeploys() {
        rows.push(vec!["every l2".to_owned(), name, address.to_checksum(None)]);
    }
    printer.table(&["chain", "contract", "address"], &rows);
    printer.line(format!(
        "\ndispute game type {} (opdev's OutputGame, resolves at once); withdrawals final {} s after proving",
        record.deployment.game_type, record.deployment.settings.finalization_period
    ));
    Ok(())
}

/// The predeploys users call on every L2, by name.
fn l2_predeploys() -> BTreeMap<String, Address> {
    use opdev_opstack::predeploys as p;
    [
        ("L2ToL1MessagePasser", p::L2_TO_L1_MESSAGE_PASSER),
        ("L2CrossDomainMessenger", p::L2_CROSS_DOMAIN_MESSENGER),
        ("L2StandardBridge", p::L2_STANDARD_BRIDGE),
        ("L2ERC721Bridge", p::L2_ERC721_BRIDGE),
        ("L1Block", p::L1_BLOCK),
        ("GasPriceOracle", p::GAS_PRICE_ORACLE),
        (
            "OptimismMintableERC20Factory",
            p::OPTIMISM_MINTABLE_ERC20_FACTORY,
        ),
        ("WETH", p::WETH),
        ("ProxyAdmin", p::PROXY_ADMIN),
        ("SequencerFeeVault", p::SEQUENCER_FEE_VAULT),
        ("BaseFeeVault", p::BASE_FEE_VAULT),
        ("L1FeeVault", p::L1_FEE_VAULT),
        ("Multicall3", p::MULTICALL3),
    ]
    .into_iter()
    .map(|(n, a)| (n.to_owned(), a))
    .collect()
}
