//! `opdev bridge deposit|withdraw|status`: ETH through the devnet's bridge, signed by a dev
//! account (or a given key), each step printed with its transaction hash, and the state of every
//! deposit and withdrawal the devnet holds. The protocol work (calldata, games, proofs, states)
//! is `opdev_opstack::withdraw`; this module adds inputs, waiting and output.

use std::time::Duration;

use opdev_opstack::{
    Record,
    anvil::Chain,
    deposit::UserDeposit,
    l1::ChainContracts,
    predeploys,
    primitives::{Address, B256, TxKind, U256, utils::format_ether},
    withdraw::{self, Game, Initiated, PrivateKeySigner, Proof, Receipt, WithdrawalState},
};
use opdev_orchestrator::{Error, ExitCode, client};
use opdev_spec::{ChainConfig, DevnetConfig, Profile};
use serde_json::{Value, json};

use crate::{
    cli::{BridgeDepositArgs, BridgeStatusArgs, BridgeWithdrawArgs, SenderArgs},
    commands::{Ctx, faucet::parse_address},
    output::Printer,
};

/// How long the relayer may take to include a deposit on its L2, beyond the confirmations.
const RELAY_DEADLINE: Duration = Duration::from_secs(30);

/// How long the proposer may take to put a game over a withdrawal's block.
const GAME_DEADLINE: Duration = Duration::from_secs(60);

/// Gas that proving and finalizing take together at most; the sender needs that much L1 ETH.
const PROVE_FINALIZE_GAS: u64 = 1_000_000;

/// Wei per gwei.
const GWEI: u64 = 1_000_000_000;

/// A running devnet with a deployed bridge.
struct Bridge {
    config: DevnetConfig,
    record: Record,
}

impl Bridge {
    /// The devnet of `ctx`; errors when it has no bridge or does not run.
    fn open(ctx: &Ctx<'_>) -> Result<Self, Error> {
        let (devnet, config) = ctx.existing()?;
        if !opdev_profiles::bridge::has_contracts(&config) {
            return Err(Error::usage(
                format!("devnet '{}' has no bridge", config.name),
                "create it with the bridge: `opdev up --fresh --bridge true`",
            ));
        }
        let Some(record) = super::record(&config, devnet.root()) else {
            return Err(Error::usage(
                format!("devnet '{}' has not deployed its bridge yet", config.name),
                "run `opdev up`: the bridge is deployed when the chains first start",
            ));
        };
        if !client::is_running(&devnet)? {
            return Err(Error::NotRunning(devnet.name().into()));
        }
        Ok(Self { config, record })
    }

    /// The L2 `which` names (service or chain id; the first L2 when `None`) and its contracts.
    fn l2(&self, which: Option<&str>) -> Result<(&ChainConfig, &ChainContracts), Error> {
        let chain = match which {
            None => &self.config.l2[0],
            Some(w) => self
                .config
                .l2
                .iter()
                .find(|c| c.service == w || c.chain_id.to_string() == w)
                .ok_or_else(|| {
                    let known: Vec<String> = self
                        .config
                        .l2
                        .iter()
                        .map(|c| format!("{} ({})", c.service, c.chain_id))
                        .collect();
                    Error::usage(
                        format!("devnet '{}' has no L2 {w:?}", self.config.name),
                        format!(
                            "--chain takes an L2's service name or chain id: {}",
                            known.join(", ")
                        ),
                    )
                })?,
        };
        let contracts = self.record.chain(&chain.service).ok_or_else(|| {
            Error::usage(
                format!("{} is not in the devnet's bridge record", chain.service),
                "the bridge was deployed for other L2s; `opdev up --fresh` deploys it again",
            )
        })?;
        Ok((chain, contracts))
    }

    /// Every L2 with its contracts.
    fn l2s(&self) -> impl Iterator<Item = (&ChainConfig, &ChainContracts)> {
        self.config
            .l2
            .iter()
            .filter_map(|c| Some((c, self.record.chain(&c.service)?)))
    }

    /// The key that signs: `--from-key`, else dev account `--from-account` (default 0).
    fn sender(&self, args: &SenderArgs) -> Result<PrivateKeySigner, Error> {
        match &args.from_key {
            Some(key) => withdraw::parse_key(key).map_err(|_| {
                Error::usage(
                    "--from-key is not a private key",
                    "give 0x followed by 64 hex digits, or a dev account with --from-account N",
                )
            }),
            None => Ok(opdev_chain::accounts::signer(
                &self.config.mnemonic,
                args.from_account.unwrap_or(0),
            )?),
        }
    }
}

/// An amount of ETH in ether with up to 18 decimals, as wei; zero and negatives are refused.
pub(crate) fn parse_amount(text: &str) -> Result<U256, Error> {
    let bad = |why: &str| {
        Error::usage(
            format!("amount {text:?} {why}"),
            "give ETH in ether with up to 18 decimals, more than 0: 1, 1.5, 0.000000000000000001",
        )
    };
    let t = text.trim();
    if t.starts_with('-') {
        return Err(bad("is negative"));
    }
    let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err(bad("is not a number"));
    }
    if fraction.len() > 18 {
        return Err(bad(
            "has more than 18 decimals (1 wei is 0.000000000000000001)",
        ));
    }
    let wei = format!("{whole}{fraction:0<18}");
    let wei = wei.trim_start_matches('0');
    if wei.is_empty() {
        return Err(bad("is zero"));
    }
    U256::from_str_radix(wei, 10).map_err(|_| bad("is too large"))
}

/// A 32-byte transaction hash.
fn parse_hash(text: &str) -> Result<B256, Error> {
    match text.strip_prefix("0x") {
        Some(hex) if hex.len() == 64 => text.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        Error::usage(
            format!("{text:?} is not a transaction hash"),
            "give 0x followed by 64 hex digits",
        )
    })
}

/// Wei as ether, without trailing zeros.
fn eth(wei: U256) -> String {
    let s = format_ether(wei);
    let s = s.trim_end_matches('0');
    s.strip_suffix('.').unwrap_or(s).to_owned()
}

fn checksum(a: Address) -> String {
    a.to_checksum(None)
}

/// A failed chain call: the cause on one line, where to look.
fn rpc(e: opdev_opstack::Error) -> Error {
    Error::Reported {
        message: format!("bridge: {e}"),
        hint: Some(
            "`opdev status` shows whether the chains run; `opdev logs` shows the services' logs"
                .into(),
        ),
        code: ExitCode::Internal,
        details: Vec::new(),
    }
}

/// The sender cannot pay.
fn unfunded(who: Address, layer: &str, have: U256, need: U256) -> Error {
    Error::Reported {
        message: format!(
            "{} has {} ETH on {layer}, not enough for {} ETH",
            checksum(who),
            eth(have),
            eth(need)
        ),
        hint: Some(
            "send it ETH first, or sign with a funded key: a dev account (--from-account N) or --from-key"
                .into(),
        ),
        code: ExitCode::Refused,
        details: Vec::new(),
    }
}

fn connect(chain: &ChainConfig, key: Option<PrivateKeySigner>) -> Result<Chain, Error> {
    Chain::connect(&chain.rpc_url(), key).map_err(rpc)
}

/// How long a transaction may take to be mined on `chain`.
fn tx_deadline(chain: &ChainConfig) -> Duration {
    Duration::from_secs(30 + 3 * chain.block_time)
}

/// Sends a transaction of `from` on `chain` (the `layer`); a node's "insufficient funds" is the
/// sender's problem, said so.
async fn send(
    chain: &Chain,
    layer: &str,
    from: Address,
    to: Address,
    value: U256,
    input: opdev_opstack::primitives::Bytes,
) -> Result<B256, Error> {
    withdraw::send(chain, to, value, input).await.map_err(|e| {
        if e.to_string().contains("insufficient funds") {
            Error::Reported {
                message: format!(
                    "{layer} refused the transaction of {}: it cannot pay for it",
                    checksum(from)
                ),
                hint: Some(
                    "send it ETH first, or sign with a funded key: --from-account N or --from-key"
                        .into(),
                ),
                code: ExitCode::Refused,
                details: Vec::new(),
            }
        } else {
            rpc(e)
        }
    })
}

/// Waits for the receipt of `tx` and requires success.
async fn mined(chain: &Chain, what: &str, tx: B256, deadline: Duration) -> Result<Receipt, Error> {
    let receipt = withdraw::wait_receipt(chain, tx, deadline)
        .await
        .map_err(rpc)?;
    if !receipt.success {
        return Err(Error::Reported {
            message: format!(
                "{what}: transaction {tx} reverted (block {})",
                receipt.block
            ),
            hint: Some("`opdev bridge status` shows where each withdrawal stands".into()),
            code: ExitCode::Internal,
            details: Vec::new(),
        });
    }
    Ok(receipt)
}

/// A step's line: its name, then what it did.
fn step(printer: &Printer, name: &str, text: String) {
    printer.line(format!("{:<10} {text}", printer.bold(name)));
}

pub(crate) async fn deposit(ctx: &Ctx<'_>, args: BridgeDepositArgs) -> Result<(), Error> {
    let amount = parse_amount(&args.amount)?;
    let to = args.to.as_deref().map(parse_address).transpose()?;
    let bridge = Bridge::open(ctx)?;
    let (chain, contracts) = bridge.l2(args.chain.as_deref())?;
    let key = bridge.sender(&args.sender)?;
    let from = key.address();
    let to = to.unwrap_or(from);
    let l1_config = &bridge.config.l1;
    let l1 = connect(l1_config, Some(key))?;
    let l2 = connect(chain, None)?;
    let printer = ctx.printer;

    let have = l1.balance(from).await.map_err(rpc)?;
    if have <= amount {
        return Err(unfunded(from, "the L1", have, amount));
    }
    let portal = contracts.get("OptimismPortal");
    printer.progress(format!(
        "depositing {} ETH from {} on the L1 to {} on {} through OptimismPortal {}",
        eth(amount),
        checksum(from),
        checksum(to),
        chain.service,
        checksum(portal)
    ));
    let l1_tx = send(
        &l1,
        "the L1",
        from,
        portal,
        amount,
        withdraw::deposit_call(to, amount),
    )
    .await?;
    let receipt = mined(&l1, "deposit", l1_tx, tx_deadline(l1_config)).await?;
    let Some(dep) = receipt.deposits(portal).map_err(rpc)?.into_iter().next() else {
        return Err(rpc(opdev_opstack::Error::Decode {
            what: "deposit receipt",
            reason: format!("L1 transaction {l1_tx} has no TransactionDeposited log"),
        }));
    };
    let l2_tx = dep.l2_hash();
    step(
        printer,
        "deposit",
        format!("L1 tx {l1_tx} (block {})", receipt.block),
    );
    let mut l2_block = None;
    if args.no_wait {
        step(
            printer,
            "l2 tx",
            format!(
                "{l2_tx} on {} once relayed (`opdev bridge status {l2_tx}`)",
                chain.service
            ),
        );
    } else {
        printer.progress(match bridge.config.profile {
            Profile::Full => format!("waiting for {}'s op-node to derive it", chain.service),
            Profile::Lite => format!("waiting for the relayer to include it on {}", chain.service),
        });
        let deadline = RELAY_DEADLINE
            + Duration::from_secs(
                bridge.config.deposit_confirmations * l1_config.block_time.max(1) * 2,
            );
        let until = tokio::time::Instant::now() + deadline;
        let l2_receipt = loop {
            if let Some(r) = withdraw::receipt(&l2, l2_tx).await.map_err(rpc)? {
                break r;
            }
            if tokio::time::Instant::now() >= until {
                return Err(Error::Reported {
                    message: format!(
                        "deposit {l2_tx} did not reach {} within {} s",
                        chain.service,
                        deadline.as_secs()
                    ),
                    hint: Some(match bridge.config.profile {
                        Profile::Full => format!(
                            "op-node derives deposits from the L1: `opdev logs {}` shows its log; `opdev bridge status` the deposit's state",
                            opdev_profiles::full::service_name(&chain.service, opdev_profiles::full::NODE)
                        ),
                        Profile::Lite => "the relayer relays deposits: `opdev logs relayer` shows its log; `opdev bridge status` the deposit's state".into(),
                    }),
                    code: ExitCode::NotReady,
                    details: Vec::new(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if !l2_receipt.success {
            return Err(Error::Reported {
                message: format!(
                    "deposit {l2_tx} failed on {} (block {}): the minted ETH stays with the sender",
                    chain.service, l2_receipt.block
                ),
                hint: Some("a contract recipient must accept ETH within 100,000 gas".into()),
                code: ExitCode::Internal,
                details: Vec::new(),
            });
        }
        step(
            printer,
            "relayed",
            format!(
                "L2 tx {l2_tx} (block {}) on {}: {} received {} ETH",
                l2_receipt.block,
                chain.service,
                checksum(to),
                eth(amount)
            ),
        );
        l2_block = Some(l2_receipt.block);
    }
    printer.json(&json!({
        "chain": chain.service,
        "chain_id": chain.chain_id,
        "from": checksum(from),
        "to": checksum(to),
        "amount": eth(amount),
        "amount_wei": amount.to_string(),
        "l1_tx": l1_tx,
        "l1_block": receipt.block,
        "l2_tx": l2_tx,
        "l2_block": l2_block,
        "state": if l2_block.is_some() { "relayed" } else { "waiting-to-relay" },
    }));
    Ok(())
}

/// What `withdraw` did, for `--json`.
#[derive(Default)]
struct Steps {
    game: Option<Value>,
    prove: Option<Value>,
    finalize: Option<Value>,
    received: Option<U256>,
}

pub(crate) async fn withdraw(ctx: &Ctx<'_>, args: BridgeWithdrawArgs) -> Result<(), Error> {
    let amount = args.amount.as_deref().map(parse_amount).transpose()?;
    let to = args.to.as_deref().map(parse_address).transpose()?;
    let resume = args.tx.as_deref().map(parse_hash).transpose()?;
    let bridge = Bridge::open(ctx)?;
    let (chain, contracts) = bridge.l2(args.chain.as_deref())?;
    let key = bridge.sender(&args.sender)?;
    let from = key.address();
    let l1_config = &bridge.config.l1;
    let l1 = connect(l1_config, Some(key.clone()))?;
    let l2 = connect(chain, Some(key))?;
    let printer = ctx.printer;
    let portal = contracts.get("OptimismPortal");
    let factory = contracts.get("DisputeGameFactory");
    let game_type = bridge.record.deployment.game_type;

    let (initiated, resumed) = match resume {
        Some(tx) => {
            let receipt = withdraw::receipt(&l2, tx).await.map_err(rpc)?.ok_or_else(|| {
                Error::usage(
                    format!("{} has no mined transaction {tx}", chain.service),
                    "give the L2 tx that `opdev bridge withdraw --no-wait` printed, with --chain for another L2",
                )
            })?;
            let w = receipt
                .withdrawals()
                .map_err(rpc)?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    Error::usage(
                        format!(
                            "transaction {tx} on {} initiated no withdrawal",
                            chain.service
                        ),
                        "`opdev bridge status` lists the devnet's withdrawals",
                    )
                })?;
            (w, true)
        }
        None => {
            let amount = amount.expect("clap requires AMOUNT without --tx");
            let to = to.unwrap_or(from);
            let have = l2.balance(from).await.map_err(rpc)?;
            if have <= amount {
                return Err(unfunded(from, chain.service.as_str(), have, amount));
            }
            if !args.no_wait {
                // Proving and finalizing are L1 transactions of the same key.
                let base_fee = l1
                    .latest_block()
                    .await
                    .map_err(rpc)?
                    .header
                    .base_fee_per_gas
                    .unwrap_or(GWEI);
                let need = U256::from(PROVE_FINALIZE_GAS) * U256::from(2 * base_fee + GWEI);
                let have = l1.balance(from).await.map_err(rpc)?;
                if have < need {
                    return Err(unfunded(
                        from,
                        "the L1 (gas to prove and finalize)",
                        have,
                        need,
                    ));
                }
            }
            printer.progress(format!(
                "withdrawing {} ETH from {} on {} to {} on the L1",
                eth(amount),
                checksum(from),
                chain.service,
                checksum(to)
            ));
            let tx = send(
                &l2,
                chain.service.as_str(),
                from,
                predeploys::L2_TO_L1_MESSAGE_PASSER,
                amount,
                withdraw::initiate_call(to),
            )
            .await?;
            let receipt = mined(&l2, "initiate the withdrawal", tx, tx_deadline(chain)).await?;
            let w = receipt
                .withdrawals()
                .map_err(rpc)?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    rpc(opdev_opstack::Error::Decode {
                        what: "withdrawal receipt",
                        reason: format!("L2 transaction {tx} has no MessagePassed log"),
                    })
                })?;
            (w, false)
        }
    };
    let hash = initiated.hash();
    let w = &initiated.withdrawal;
    step(
        printer,
        if resumed { "withdrawal" } else { "initiated" },
        format!(
            "L2 tx {} (block {}) on {}: {} ETH to {}, withdrawal {hash}",
            initiated.l2_tx,
            initiated.l2_block,
            chain.service,
            eth(w.value),
            checksum(w.target)
        ),
    );
    let mut steps = Steps::default();
    let result = if args.no_wait {
        step(
            printer,
            "next",
            format!(
                "`opdev bridge withdraw --tx {} --chain {}` proves and finalizes it",
                initiated.l2_tx, chain.service
            ),
        );
        withdraw::state(&l1, portal, factory, game_type, &initiated, Some(from))
            .await
            .map(|(state, _)| state)
            .map_err(rpc)
    } else {
        let ctx = Finish {
            printer,
            l1: &l1,
            l2: &l2,
            l2_name: &chain.service,
            profile: bridge.config.profile,
            portal,
            factory,
            game_type,
            from,
            period: bridge.record.deployment.settings.finalization_period,
        };
        ctx.finish(&initiated, &mut steps).await
    };
    let state = result?;
    printer.json(&json!({
        "chain": chain.service,
        "chain_id": chain.chain_id,
        "from": checksum(w.sender),
        "to": checksum(w.target),
        "amount": eth(w.value),
        "amount_wei": w.value.to_string(),
        "withdrawal_hash": hash,
        "initiate": { "l2_tx": initiated.l2_tx, "l2_block": initiated.l2_block },
        "game": steps.game,
        "prove": steps.prove,
        "finalize": steps.finalize,
        "l1_received_wei": steps.received.map(|r| r.to_string()),
        "state": state,
    }));
    Ok(())
}

/// What proving and finalizing one withdrawal needs.
struct Finish<'a> {
    printer: &'a Printer,
    l1: &'a Chain,
    l2: &'a Chain,
    l2_name: &'a str,
    profile: Profile,
    portal: Address,
    factory: Address,
    game_type: u32,
    from: Address,
    period: u64,
}

impl Finish<'_> {
    /// Proves `initiated` unless it is proven, waits out the period, finalizes it and checks
    /// that the recipient's L1 balance moved by the amount.
    async fn finish(
        &self,
        initiated: &Initiated,
        steps: &mut Steps,
    ) -> Result<WithdrawalState, Error> {
        let hash = initiated.hash();
        let w = &initiated.withdrawal;
        let (state, prover) = withdraw::state(
            self.l1,
            self.portal,
            self.factory,
            self.game_type,
            initiated,
            Some(self.from),
        )
        .await
        .map_err(rpc)?;
        if state == WithdrawalState::Finalized {
            step(self.printer, "finalized", "already, nothing to do".into());
            return Ok(state);
        }
        let prover = match prover {
            Some(p) => {
                step(
                    self.printer,
                    "proven",
                    format!("already, by {}", checksum(p)),
                );
                p
            }
            None => {
                self.prove(initiated, steps).await?;
                self.from
            }
        };

        self.printer.progress(format!(
            "waiting out the finalization period ({} s)",
            self.period
        ));
        let deadline = Duration::from_secs(self.period) + GAME_DEADLINE;
        let until = tokio::time::Instant::now() + deadline;
        loop {
            if withdraw::check_passes(self.l1, self.portal, hash, prover)
                .await
                .map_err(rpc)?
            {
                break;
            }
            if withdraw::is_finalized(self.l1, self.portal, hash)
                .await
                .map_err(rpc)?
            {
                step(
                    self.printer,
                    "finalized",
                    "by someone else meanwhile".into(),
                );
                return Ok(WithdrawalState::Finalized);
            }
            if tokio::time::Instant::now() >= until {
                return Err(Error::Reported {
                    message: format!(
                        "withdrawal {hash} is still not final {} s after it was proven",
                        deadline.as_secs()
                    ),
                    hint: Some(
                        "the L1 must make blocks for time to pass: `opdev status` shows its head"
                            .into(),
                    ),
                    code: ExitCode::NotReady,
                    details: Vec::new(),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }

        let tx = send(
            self.l1,
            "the L1",
            self.from,
            self.portal,
            U256::ZERO,
            withdraw::finalize_call(w, prover),
        )
        .await?;
        let receipt = mined(
            self.l1,
            "finalize the withdrawal",
            tx,
            Duration::from_secs(30),
        )
        .await?;
        match receipt.finalized_call(self.portal, hash) {
            Some(true) => {}
            Some(false) => {
                return Err(Error::Reported {
                    message: format!(
                        "withdrawal {hash} is finalized but its call to {} failed (L1 tx {tx})",
                        checksum(w.target)
                    ),
                    hint: Some(
                        "a contract recipient must accept ETH within the withdrawal's gas limit"
                            .into(),
                    ),
                    code: ExitCode::Internal,
                    details: Vec::new(),
                });
            }
            None => {
                return Err(rpc(opdev_opstack::Error::Decode {
                    what: "finalize receipt",
                    reason: format!("L1 transaction {tx} has no WithdrawalFinalized log of {hash}"),
                }));
            }
        }
        let before = withdraw::balance_at(self.l1, w.target, receipt.block - 1)
            .await
            .map_err(rpc)?;
        let after = withdraw::balance_at(self.l1, w.target, receipt.block)
            .await
            .map_err(rpc)?;
        let paid = if w.target == self.from {
            receipt.fee
        } else {
            U256::ZERO
        };
        let received = (after + paid).checked_sub(before).unwrap_or_default();
        steps.finalize = Some(json!({ "l1_tx": tx, "l1_block": receipt.block }));
        steps.received = Some(received);
        step(
            self.printer,
            "finalized",
            format!(
                "L1 tx {tx} (block {}): {} received {} ETH on the L1",
                receipt.block,
                checksum(w.target),
                eth(received)
            ),
        );
        if received != w.value {
            return Err(Error::Reported {
                message: format!(
                    "the L1 balance of {} moved by {} ETH in block {}, not by the {} ETH withdrawn",
                    checksum(w.target),
                    eth(received),
                    receipt.block,
                    eth(w.value)
                ),
                hint: Some(
                    "another transaction of that account in the same block changes it too".into(),
                ),
                code: ExitCode::Internal,
                details: Vec::new(),
            });
        }
        Ok(WithdrawalState::Finalized)
    }

    /// Waits for a game over the withdrawal's block, proves against it, and makes sure the proof
    /// landed after the game's creation (the portal's finalize check is strict).
    async fn prove(&self, initiated: &Initiated, steps: &mut Steps) -> Result<(), Error> {
        let hash = initiated.hash();
        for _ in 0..3 {
            let (game, proof) = self.game(initiated).await?;
            steps.game = Some(
                json!({ "index": game.index, "l2_block": game.l2_block, "created_at": game.created_at }),
            );
            step(
                self.printer,
                "output",
                format!(
                    "dispute game #{} over L2 block {} (output root {})",
                    game.index, game.l2_block, game.root_claim
                ),
            );
            self.after(game.created_at).await?;
            let tx = send(
                self.l1,
                "the L1",
                self.from,
                self.portal,
                U256::ZERO,
                withdraw::prove_call(&initiated.withdrawal, game.index, &proof),
            )
            .await?;
            let receipt =
                mined(self.l1, "prove the withdrawal", tx, Duration::from_secs(30)).await?;
            steps.prove = Some(json!({ "l1_tx": tx, "l1_block": receipt.block }));
            step(
                self.printer,
                "proved",
                format!("L1 tx {tx} (block {})", receipt.block),
            );
            let at = withdraw::proven_at(self.l1, self.portal, hash, self.from)
                .await
                .map_err(rpc)?;
            if at.is_some_and(|at| at > game.created_at) {
                return Ok(());
            }
            self.printer.progress(
                "the proof landed in the game's own second; the portal needs a later one: proving again",
            );
        }
        Err(Error::Reported {
            message: format!("withdrawal {hash}: every proof landed no later than its game"),
            hint: Some("the L1's timestamps do not advance: `opdev status` shows its head".into()),
            code: ExitCode::Internal,
            details: Vec::new(),
        })
    }

    /// The newest game over the withdrawal's block whose proof the L2 can still give.
    async fn game(&self, initiated: &Initiated) -> Result<(Game, Proof), Error> {
        self.printer.progress(format!(
            "waiting for an output game over L2 block {}",
            initiated.l2_block
        ));
        let until = tokio::time::Instant::now() + GAME_DEADLINE;
        let mut tried = None;
        let mut problem = None;
        loop {
            let newest = withdraw::newest_game(self.l1, self.factory, self.game_type)
                .await
                .map_err(rpc)?;
            if let Some(game) = newest.filter(|g| g.l2_block >= initiated.l2_block)
                && tried != Some(game.index)
            {
                tried = Some(game.index);
                match withdraw::build_proof(self.l2, &initiated.withdrawal, &game).await {
                    Ok(proof) => return Ok((game, proof)),
                    // The L2 lost that block's state or the block (a restart): the proposer
                    // makes a newer game within seconds.
                    Err(e) => {
                        tracing::debug!(game = game.index, error = %e, "game not usable");
                        problem = Some(e.to_string());
                    }
                }
            }
            if tokio::time::Instant::now() >= until {
                return Err(Error::Reported {
                    message: format!(
                        "no usable output game over block {} of {} after {} s{}",
                        initiated.l2_block,
                        self.l2_name,
                        GAME_DEADLINE.as_secs(),
                        problem.map(|p| format!(" (last: {p})")).unwrap_or_default()
                    ),
                    hint: Some(match self.profile {
                        Profile::Full => format!(
                            "op-proposer proposes an output every few seconds: `opdev logs {}` shows its log",
                            opdev_profiles::full::service_name(self.l2_name, opdev_profiles::full::PROPOSER)
                        ),
                        Profile::Lite => "the relayer proposes an output every few seconds: `opdev logs relayer` shows its log".into(),
                    }),
                    code: ExitCode::NotReady,
                    details: Vec::new(),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits (up to 10 s) until the L1's newest block is later than `timestamp`.
    async fn after(&self, timestamp: u64) -> Result<(), Error> {
        let until = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::time::Instant::now() < until {
            let head = self.l1.latest_block().await.map_err(rpc)?;
            if head.header.timestamp > timestamp {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(())
    }
}

/// A deposit as `status` shows it.
async fn deposit_entry(l2: &Chain, chain: &ChainConfig, dep: &UserDeposit) -> Result<Value, Error> {
    let l2_tx = dep.l2_hash();
    let l2_receipt = withdraw::receipt(l2, l2_tx).await.map_err(rpc)?;
    let to = match dep.tx.to {
        TxKind::Call(a) => json!(checksum(a)),
        TxKind::Create => Value::Null,
    };
    Ok(json!({
        "kind": "deposit",
        "chain": chain.service,
        "chain_id": chain.chain_id,
        "l1_tx": dep.l1_tx,
        "l1_block": dep.l1_block,
        "l2_tx": l2_tx,
        "l2_block": l2_receipt.as_ref().map(|r| r.block),
        "from": checksum(dep.tx.from),
        "to": to,
        "amount": eth(U256::from(dep.tx.mint)),
        "mint_wei": dep.tx.mint.to_string(),
        "value_wei": dep.tx.value.to_string(),
        "state": if l2_receipt.is_some() { "relayed" } else { "waiting-to-relay" },
    }))
}

/// A withdrawal as `status` shows it.
async fn withdrawal_entry(
    l1: &Chain,
    bridge: &Bridge,
    chain: &ChainConfig,
    contracts: &ChainContracts,
    w: &Initiated,
) -> Result<Value, Error> {
    let (state, prover) = withdraw::state(
        l1,
        contracts.get("OptimismPortal"),
        contracts.get("DisputeGameFactory"),
        bridge.record.deployment.game_type,
        w,
        None,
    )
    .await
    .map_err(rpc)?;
    Ok(json!({
        "kind": "withdrawal",
        "chain": chain.service,
        "chain_id": chain.chain_id,
        "l2_tx": w.l2_tx,
        "l2_block": w.l2_block,
        "withdrawal_hash": w.hash(),
        "from": checksum(w.withdrawal.sender),
        "to": checksum(w.withdrawal.target),
        "amount": eth(w.withdrawal.value),
        "value_wei": w.withdrawal.value.to_string(),
        "proven_by": prover.map(checksum),
        "state": state,
    }))
}

pub(crate) async fn status(ctx: &Ctx<'_>, args: BridgeStatusArgs) -> Result<(), Error> {
    let only = args.tx.as_deref().map(parse_hash).transpose()?;
    let bridge = Bridge::open(ctx)?;
    let l1 = connect(&bridge.config.l1, None)?;
    let l1_head = l1.block_number().await.map_err(rpc)?;
    let l1_receipt = match only {
        Some(tx) => withdraw::receipt(&l1, tx).await.map_err(rpc)?,
        None => None,
    };
    let mut deposits = Vec::new();
    let mut withdrawals = Vec::new();
    for (chain, contracts) in bridge.l2s() {
        let l2 = connect(chain, None)?;
        let portal = contracts.get("OptimismPortal");
        let (deps, ws) = match only {
            None => {
                let l2_head = l2.block_number().await.map_err(rpc)?;
                (
                    withdraw::deposits_between(&l1, portal, 0, l1_head)
                        .await
                        .map_err(rpc)?,
                    withdraw::initiated_between(&l2, 0, l2_head)
                        .await
                        .map_err(rpc)?,
                )
            }
            Some(tx) => {
                let mut deps = match &l1_receipt {
                    Some(r) => r.deposits(portal).map_err(rpc)?,
                    None => Vec::new(),
                };
                let mut ws = Vec::new();
                if let Some(r) = withdraw::receipt(&l2, tx).await.map_err(rpc)? {
                    ws = r.withdrawals().map_err(rpc)?;
                    if ws.is_empty() {
                        // Perhaps the L2 side of a deposit: find the L1 log it came from.
                        deps.extend(
                            withdraw::deposits_between(&l1, portal, 0, l1_head)
                                .await
                                .map_err(rpc)?
                                .into_iter()
                                .filter(|d| d.l2_hash() == tx),
                        );
                    }
                }
                (deps, ws)
            }
        };
        for dep in &deps {
            deposits.push(deposit_entry(&l2, chain, dep).await?);
        }
        for w in &ws {
            withdrawals.push(withdrawal_entry(&l1, &bridge, chain, contracts, w).await?);
        }
    }
    if let Some(tx) = only
        && deposits.is_empty()
        && withdrawals.is_empty()
    {
        return Err(Error::usage(
            format!(
                "transaction {tx} is no deposit or withdrawal of devnet '{}'",
                bridge.config.name
            ),
            "give an L1 deposit tx, the L2 tx of a deposit, or an L2 withdrawal tx; `opdev bridge status` lists them all",
        ));
    }
    let printer = ctx.printer;
    printer.json(&json!({ "deposits": deposits, "withdrawals": withdrawals }));
    if deposits.is_empty() && withdrawals.is_empty() {
        printer.line("no deposits or withdrawals yet");
        return Ok(());
    }
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    };
    let rows: Vec<Vec<String>> = deposits
        .iter()
        .map(|d| ("deposit", d, "l1_tx"))
        .chain(withdrawals.iter().map(|w| ("withdrawal", w, "l2_tx")))
        .map(|(kind, e, tx)| {
            vec![
                kind.to_owned(),
                text(&e["chain"]),
                text(&e[tx]),
                text(&e["amount"]),
                text(&e["from"]),
                text(&e["to"]),
                text(&e["state"]),
            ]
        })
        .collect();
    printer.table(
        &[
            "kind",
            "chain",
            "tx (L1 for deposits, L2 for withdrawals)",
            "ETH",
            "from",
            "to",
            "state",
        ],
        &rows,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_ether_with_at_most_18_decimals() {
        let wei = |s| parse_amount(s).unwrap();
        assert_eq!(wei("1"), U256::from(10u64.pow(18)));
        assert_eq!(wei("1.5"), U256::from(15 * 10u64.pow(17)));
        assert_eq!(wei(".5"), U256::from(5 * 10u64.pow(17)));
        assert_eq!(wei("0.000000000000000001"), U256::from(1));
        assert_eq!(wei("007.25"), U256::from(725 * 10u64.pow(16)));
        for bad in [
            "0",
            "0.0",
            "-1",
            "-0.5",
            "abc",
            "1e18",
            "",
            ".",
            "1.2.3",
            "0.0000000000000000001",
            "1 000",
        ] {
            let e = parse_amount(bad).unwrap_err();
            assert_eq!(e.exit_code(), ExitCode::Usage, "{bad:?}");
            assert!(e.hint().is_some());
        }
        assert!(
            parse_amount("0.0000000000000000001")
                .unwrap_err()
                .to_string()
                .contains("18 decimals")
        );
        assert!(
            parse_amount("-1")
                .unwrap_err()
                .to_string()
                .contains("negative")
        );
    }

    #[test]
    fn ether_is_printed_without_trailing_zeros() {
        assert_eq!(eth(U256::from(15 * 10u64.pow(17))), "1.5");
        assert_eq!(eth(U256::from(10u64.pow(18))), "1");
        assert_eq!(eth(U256::from(1)), "0.000000000000000001");
        assert_eq!(eth(U256::ZERO), "0");
    }

    #[test]
    fn hashes_are_32_bytes() {
        assert!(parse_hash(&format!("0x{}", "ab".repeat(32))).is_ok());
        assert!(parse_hash("0x1234").is_err());
        assert!(parse_hash(&"ab".repeat(32)).is_err());
    }
}
