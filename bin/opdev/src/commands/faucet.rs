//! `opdev faucet ADDRESS [--chain ID]` claims test ETH through the devnet's running faucet and
//! waits for the receipt; `opdev faucet history` lists what the faucet gave.

use std::time::Duration;

use opdev_chain::primitives::Address;
use opdev_orchestrator::{Error, ExitCode, client};
use serde_json::json;

use super::Ctx;
use crate::cli::{FaucetArgs, FaucetCommand};

/// Parses an address; a mixed-case one must carry a valid EIP-55 checksum.
pub(crate) fn parse_address(text: &str) -> Result<Address, Error> {
    let bad = |why: &str| {
        Error::usage(
            format!("{text:?} is not a valid address: {why}"),
            "give 0x followed by 40 hex digits",
        )
    };
    let hex = text.strip_prefix("0x").ok_or_else(|| bad("no 0x prefix"))?;
    let mixed =
        hex.chars().any(|c| c.is_ascii_uppercase()) && hex.chars().any(|c| c.is_ascii_lowercase());
    if mixed {
        Address::parse_checksummed(text, None).map_err(|_| bad("wrong EIP-55 checksum"))
    } else {
        text.parse().map_err(|_| bad("not 20 bytes of hex"))
    }
}

fn faucet_error(e: opdev_faucet::client::ClientError) -> Error {
    let code = match &e {
        opdev_faucet::client::ClientError::Refused { status, .. } if *status < 500 => {
            ExitCode::Refused
        }
        _ => ExitCode::Internal,
    };
    Error::Reported {
        message: format!("faucet: {e}"),
        hint: Some(
            "`opdev faucet history` lists what it gave; `opdev logs faucet` shows its log".into(),
        ),
        code,
        details: Vec::new(),
    }
}

pub(crate) async fn run(ctx: &Ctx<'_>, args: FaucetArgs) -> Result<(), Error> {
    let (devnet, config) = ctx.existing()?;
    if !config.faucet {
        return Err(Error::usage(
            format!("devnet '{}' runs no faucet", config.name),
            "start it with the faucet: `opdev up --faucet true`",
        ));
    }
    if !client::is_running(&devnet)? {
        return Err(Error::NotRunning(devnet.name().into()));
    }
    let base = format!("http://127.0.0.1:{}", config.service_port("faucet"));
    let printer = ctx.printer;
    if let Some(FaucetCommand::History { address, limit }) = args.history {
        let max = opdev_faucet::http::HISTORY_MAX;
        if !(1..=max).contains(&limit) {
            return Err(Error::usage(
                format!("--limit {limit} is out of range"),
                format!("give 1 to {max}"),
            ));
        }
        let address = address.as_deref().map(parse_address).transpose()?;
        let records = opdev_faucet::client::history(&base, address, Some(limit))
            .await
            .map_err(faucet_error)?;
        printer.json(&json!({ "claims": records }));
        let rows: Vec<Vec<String>> = records
            .iter()
            .map(|r| {
                vec![
                    r.at.clone(),
                    r.chain_id.to_string(),
                    r.address.to_checksum(None),
                    r.client_ip.to_string(),
                    r.amount.clone(),
                    r.tx_hash
                        .map(|h| h.to_string())
                        .unwrap_or_else(|| "-".into()),
                    format!("{:?}", r.outcome).to_lowercase(),
                ]
            })
            .collect();
        if rows.is_empty() {
            printer.line("no distributions yet");
        } else {
            printer.table(
                &[
                    "time",
                    "chain",
                    "address",
                    "client ip",
                    "wei",
                    "tx",
                    "outcome",
                ],
                &rows,
            );
        }
        return Ok(());
    }
    let Some(address) = args.address.as_deref() else {
        return Err(Error::usage(
            "no address given",
            "`opdev faucet 0xADDRESS [--chain ID]`, or `opdev faucet history`",
        ));
    };
    let address = parse_address(address)?;
    let chain = match args.chain.as_deref() {
        Some(which) => config.chain(which).ok_or_else(|| {
            let known: Vec<String> = config
                .chains()
                .map(|c| format!("{} ({})", c.chain_id, c.service))
                .collect();
            Error::usage(
                format!("devnet '{}' has no chain {which:?}", config.name),
                format!("its chains: {}", known.join(", ")),
            )
        })?,
        None => &config.l2[0],
    };
    let sent = opdev_faucet::client::claim(&base, address, chain.chain_id)
        .await
        .map_err(faucet_error)?;
    let block = if args.no_wait {
        None
    } else {
        let receipt = opdev_faucet::client::wait_for_receipt(
            &chain.rpc_url(),
            sent.tx_hash,
            Duration::from_secs(30 + 3 * chain.block_time),
        )
        .await
        .map_err(faucet_error)?;
        receipt.block_number
    };
    printer.json(&json!({ "tx_hash": sent.tx_hash, "amount": sent.amount, "chain_id": sent.chain_id, "block": block }));
    let mined = block
        .map(|b| format!(", mined in block {b}"))
        .unwrap_or_default();
    printer.line(format!(
        "sent {} wei to {} on {} ({}): tx {}{mined}",
        sent.amount,
        address.to_checksum(None),
        chain.service,
        chain.chain_id,
        sent.tx_hash
    ));
    Ok(())
}
