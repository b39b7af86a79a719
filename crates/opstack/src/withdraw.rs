//! What a client of the bridge does: deposit ETH through an OptimismPortal, initiate a
//! withdrawal on the L2's L2ToL1MessagePasser, find the dispute game that covers it, build its
//! proof from `eth_getProof`, prove and finalize it on the portal, and tell where a withdrawal
//! stands. The calldata builders, the choice of a game and the state a withdrawal is in are pure
//! functions, unit-tested here; the functions that take a [`Chain`] only add the JSON-RPC calls
//! around them (each bounded by [`crate::anvil::CALL_TIMEOUT`]).

use std::time::Duration;

pub use alloy::signers::local::PrivateKeySigner;
use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, Bytes, U256},
    providers::Provider,
    rpc::types::{EIP1186AccountProofResponse, Filter, TransactionRequest},
    sol,
    sol_types::{SolCall, SolEvent, SolValue},
};
use serde_json::Value;

use crate::{
    Error,
    anvil::Chain,
    deposit::{self, UserDeposit},
    output::{self, OutputRootProof, WithdrawalTransaction},
    predeploys,
};

sol! {
    /// The calls a client makes on OptimismPortal2 (3.x), with the portal's own struct layouts.
    interface IPortal {
        struct Withdrawal {
            uint256 nonce;
            address sender;
            address target;
            uint256 value;
            uint256 gasLimit;
            bytes data;
        }
        struct OutputProof {
            bytes32 version;
            bytes32 stateRoot;
            bytes32 messagePasserStorageRoot;
            bytes32 latestBlockhash;
        }
        function depositTransaction(address _to, uint256 _value, uint64 _gasLimit, bool _isCreation, bytes _data) external payable;
        function proveWithdrawalTransaction(Withdrawal _tx, uint256 _disputeGameIndex, OutputProof _outputRootProof, bytes[] _withdrawalProof) external;
        function finalizeWithdrawalTransactionExternalProof(Withdrawal _tx, address _proofSubmitter) external;
        function checkWithdrawal(bytes32 _withdrawalHash, address _proofSubmitter) external view;
        function finalizedWithdrawals(bytes32 _withdrawalHash) external view returns (bool);
        function provenWithdrawals(bytes32 _withdrawalHash, address _submitter) external view returns (address disputeGameProxy, uint64 timestamp);
        function numProofSubmitters(bytes32 _withdrawalHash) external view returns (uint256);
        function proofSubmitters(bytes32 _withdrawalHash, uint256 _index) external view returns (address);
    }

    /// The portal's event when it pays a withdrawal out; `success` is the outcome of its call.
    event WithdrawalFinalized(bytes32 indexed withdrawalHash, bool success);

    /// The portal's event when a withdrawal is proven.
    event WithdrawalProven(bytes32 indexed withdrawalHash, address indexed from, address indexed to);

    /// The getters that lead from an L2 to its bridge on the L1.
    interface IDiscover {
        function OTHER_MESSENGER() external view returns (address);
        function PORTAL() external view returns (address);
        function disputeGameFactory() external view returns (address);
        function respectedGameType() external view returns (uint32);
    }

    /// The L2's message passer.
    interface IMessagePasser {
        function initiateWithdrawal(address _target, uint256 _gasLimit, bytes _data) external payable;
    }

    /// The factory's search for games (DisputeGameFactory 1.0.0).
    interface IGameSearch {
        struct GameSearchResult {
            uint256 index;
            bytes32 metadata;
            uint64 timestamp;
            bytes32 rootClaim;
            bytes extraData;
        }
        function gameCount() external view returns (uint256 gameCount_);
        function findLatestGames(uint32 _gameType, uint256 _start, uint256 _n) external view returns (GameSearchResult[] games_);
    }
}

/// Gas limit of the L2 deposit an ETH deposit makes (a plain transfer needs 21,000; the rest lets
/// a contract recipient run its receive function).
pub const DEPOSIT_GAS_LIMIT: u64 = 100_000;

/// Gas limit of the L1 call a withdrawal makes when it is finalized.
pub const WITHDRAWAL_GAS_LIMIT: u64 = 100_000;

/// How many games one `findLatestGames` call looks at.
const GAME_SEARCH: u64 = 16;

/// Blocks per `eth_getLogs` request when scanning a chain's history.
pub const LOG_RANGE: u64 = 5_000;

/// Where a withdrawal stands, in the words viem's `getWithdrawalStatus` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WithdrawalState {
    /// No game covers its L2 block yet.
    WaitingToProve,
    /// A game covers it; nobody proved it.
    ReadyToProve,
    /// Proven; the proof maturity delay has not passed.
    WaitingToFinalize,
    /// Proven and mature: `finalizeWithdrawalTransaction` would pass.
    ReadyToFinalize,
    /// Paid out on the L1.
    Finalized,
}

impl WithdrawalState {
    /// The state's name (`waiting-to-prove`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WaitingToProve => "waiting-to-prove",
            Self::ReadyToProve => "ready-to-prove",
            Self::WaitingToFinalize => "waiting-to-finalize",
            Self::ReadyToFinalize => "ready-to-finalize",
            Self::Finalized => "finalized",
        }
    }

    /// The state given what the portal and the factory say.
    pub fn decide(
        finalized: bool,
        proven: bool,
        check_passes: bool,
        newest_game_block: Option<u64>,
        withdrawal_block: u64,
    ) -> Self {
        if finalized {
            Self::Finalized
        } else if proven {
            if check_passes {
                Self::ReadyToFinalize
            } else {
                Self::WaitingToFinalize
            }
        } else if newest_game_block.is_some_and(|b| b >= withdrawal_block) {
            Self::ReadyToProve
        } else {
            Self::WaitingToProve
        }
    }
}

impl std::fmt::Display for WithdrawalState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One game of the factory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Game {
    /// Index in the factory (what `proveWithdrawalTransaction` takes).
    pub index: u64,
    /// When the factory created it (L1 timestamp).
    pub created_at: u64,
    /// The output root it claims.
    pub root_claim: B256,
    /// The L2 block the root is the output of.
    pub l2_block: u64,
}

impl Game {
    /// A game from the factory's search result; `None` when its extra data is not one uint256
    /// (not a game of the kind opdev's proposer makes).
    pub fn from_search(result: &IGameSearch::GameSearchResult) -> Option<Self> {
        let l2_block = U256::abi_decode(&result.extraData).ok()?;
        Some(Self {
            index: u64::try_from(result.index).ok()?,
            created_at: result.timestamp,
            root_claim: result.rootClaim,
            l2_block: u64::try_from(l2_block).ok()?,
        })
    }
}

/// A withdrawal read from the L2: the transaction that initiated it and what it passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initiated {
    /// The L2 transaction.
    pub l2_tx: B256,
    /// Its L2 block.
    pub l2_block: u64,
    /// The withdrawal as the portal takes it.
    pub withdrawal: WithdrawalTransaction,
}

impl Initiated {
    /// The withdrawal hash.
    pub fn hash(&self) -> B256 {
        self.withdrawal.hash()
    }
}

/// What proving needs beyond the withdrawal: the output root's parts and the storage proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The output root's preimage.
    pub output: OutputRootProof,
    /// The passer's storage proof of the withdrawal's slot.
    pub storage_proof: Vec<Bytes>,
}

/// The proof of `withdrawal` from an `eth_getProof` answer of the passer at the block with
/// `state_root` and `block_hash`, checked against the game's root claim and the slot's value.
pub fn proof_from(
    withdrawal: &WithdrawalTransaction,
    answer: &EIP1186AccountProofResponse,
    state_root: B256,
    block_hash: B256,
    root_claim: B256,
) -> Result<Proof, Error> {
    let bad = |reason: String| Error::Decode {
        what: "withdrawal proof",
        reason,
    };
    let output = OutputRootProof::v0(state_root, answer.storage_hash, block_hash);
    if output.root() != root_claim {
        return Err(bad(format!(
            "the block's output root {} is not the game's root claim {root_claim}",
            output.root()
        )));
    }
    let slot = withdrawal.storage_slot();
    let entry = answer
        .storage_proof
        .iter()
        .find(|p| B256::from(p.key.as_b256()) == slot)
        .ok_or_else(|| bad(format!("no proof of slot {slot} in the answer")))?;
    if entry.value != U256::from(1) {
        return Err(bad(format!(
            "the passer does not hold withdrawal {} at that block (slot {slot} is {})",
            withdrawal.hash(),
            entry.value
        )));
    }
    Ok(Proof {
        output,
        storage_proof: entry.proof.clone(),
    })
}

fn portal_withdrawal(w: &WithdrawalTransaction) -> IPortal::Withdrawal {
    IPortal::Withdrawal {
        nonce: w.nonce,
        sender: w.sender,
        target: w.target,
        value: w.value,
        gasLimit: w.gasLimit,
        data: w.data.clone(),
    }
}

/// Calldata of `OptimismPortal.depositTransaction(to, value, gas, false, 0x)`: an ETH deposit
/// whose L2 transaction sends `value` (minted by the transaction's own ETH) to `to`.
pub fn deposit_call(to: Address, value: U256) -> Bytes {
    IPortal::depositTransactionCall {
        _to: to,
        _value: value,
        _gasLimit: DEPOSIT_GAS_LIMIT,
        _isCreation: false,
        _data: Bytes::new(),
    }
    .abi_encode()
    .into()
}

/// Calldata of `L2ToL1MessagePasser.initiateWithdrawal(to, WITHDRAWAL_GAS_LIMIT, 0x)`.
pub fn initiate_call(to: Address) -> Bytes {
    IMessagePasser::initiateWithdrawalCall {
        _target: to,
        _gasLimit: U256::from(WITHDRAWAL_GAS_LIMIT),
        _data: Bytes::new(),
    }
    .abi_encode()
    .into()
}

/// Calldata of `proveWithdrawalTransaction(withdrawal, game, output, storageProof)`.
pub fn prove_call(withdrawal: &WithdrawalTransaction, game: u64, proof: &Proof) -> Bytes {
    IPortal::proveWithdrawalTransactionCall {
        _tx: portal_withdrawal(withdrawal),
        _disputeGameIndex: U256::from(game),
        _outputRootProof: IPortal::OutputProof {
            version: proof.output.version,
            stateRoot: proof.output.stateRoot,
            messagePasserStorageRoot: proof.output.messagePasserStorageRoot,
            latestBlockhash: proof.output.latestBlockhash,
        },
        _withdrawalProof: proof.storage_proof.clone(),
    }
    .abi_encode()
    .into()
}

/// Calldata of `finalizeWithdrawalTransactionExternalProof(withdrawal, submitter)`.
pub fn finalize_call(withdrawal: &WithdrawalTransaction, submitter: Address) -> Bytes {
    IPortal::finalizeWithdrawalTransactionExternalProofCall {
        _tx: portal_withdrawal(withdrawal),
        _proofSubmitter: submitter,
    }
    .abi_encode()
    .into()
}

/// A receipt, read as plain JSON so that it decodes on the L1 and on an OP L2 alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The transaction.
    pub tx: B256,
    /// Whether it succeeded.
    pub success: bool,
    /// Its block.
    pub block: u64,
    /// That block's hash.
    pub block_hash: B256,
    /// Gas used times the effective gas price: what the sender paid (before any L1 fee of an L2).
    pub fee: U256,
    /// Its logs.
    pub logs: Vec<ReceiptLog>,
}

/// One log of a [`Receipt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLog {
    /// Emitter.
    pub address: Address,
    /// Topics.
    pub topics: Vec<B256>,
    /// Data.
    pub data: Bytes,
    /// Index in its block.
    pub log_index: u64,
}

fn field<T: serde::de::DeserializeOwned>(v: &Value, key: &str) -> Result<T, Error> {
    serde_json::from_value(v.get(key).cloned().unwrap_or(Value::Null)).map_err(|e| Error::Decode {
        what: "receipt",
        reason: format!("field {key}: {e}"),
    })
}

impl Receipt {
    /// Parses an `eth_getTransactionReceipt` answer.
    pub fn from_json(v: &Value) -> Result<Self, Error> {
        let status: U256 = field(v, "status")?;
        let gas_used: U256 = field(v, "gasUsed")?;
        let price: U256 = field(v, "effectiveGasPrice")?;
        let block: U256 = field(v, "blockNumber")?;
        let logs: Vec<Value> = field(v, "logs")?;
        let logs = logs
            .iter()
            .map(|l| {
                let index: U256 = field(l, "logIndex")?;
                Ok(ReceiptLog {
                    address: field(l, "address")?,
                    topics: field(l, "topics")?,
                    data: field(l, "data")?,
                    log_index: index.to(),
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Self {
            tx: field(v, "transactionHash")?,
            success: status == U256::from(1),
            block: block.to(),
            block_hash: field(v, "blockHash")?,
            fee: gas_used * price,
            logs,
        })
    }

    /// The user deposits its `TransactionDeposited` logs from `portal` make.
    pub fn deposits(&self, portal: Address) -> Result<Vec<UserDeposit>, Error> {
        self.logs
            .iter()
            .filter(|l| l.address == portal && l.topics.first() == Some(&deposit::deposit_topic()))
            .map(|l| {
                deposit::decode_user_deposit(
                    &l.topics,
                    &l.data,
                    self.block,
                    self.block_hash,
                    l.log_index,
                    self.tx,
                )
            })
            .collect()
    }

    /// The outcome of the L1 call of withdrawal `hash` if this receipt finalized it on `portal`.
    pub fn finalized_call(&self, portal: Address, hash: B256) -> Option<bool> {
        self.logs.iter().find_map(|l| {
            if l.address != portal || l.topics.first() != Some(&WithdrawalFinalized::SIGNATURE_HASH)
            {
                return None;
            }
            let event =
                WithdrawalFinalized::decode_raw_log(l.topics.iter().copied(), &l.data).ok()?;
            (event.withdrawalHash == hash).then_some(event.success)
        })
    }

    /// The withdrawals its `MessagePassed` logs (of the L2's passer) start.
    pub fn withdrawals(&self) -> Result<Vec<Initiated>, Error> {
        self.logs
            .iter()
            .filter(|l| {
                l.address == predeploys::L2_TO_L1_MESSAGE_PASSER
                    && l.topics.first() == Some(&output::message_passed_topic())
            })
            .map(|l| {
                Ok(Initiated {
                    l2_tx: self.tx,
                    l2_block: self.block,
                    withdrawal: output::decode_withdrawal(&l.topics, &l.data)?,
                })
            })
            .collect()
    }
}

/// The receipt of `tx`, `None` while it is not mined.
pub async fn receipt(chain: &Chain, tx: B256) -> Result<Option<Receipt>, Error> {
    let v: Value = chain.request("eth_getTransactionReceipt", (tx,)).await?;
    if v.is_null() {
        return Ok(None);
    }
    Receipt::from_json(&v).map(Some)
}

/// Waits up to `deadline` for the receipt of `tx`.
pub async fn wait_receipt(chain: &Chain, tx: B256, deadline: Duration) -> Result<Receipt, Error> {
    let until = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(r) = receipt(chain, tx).await? {
            return Ok(r);
        }
        if tokio::time::Instant::now() >= until {
            return Err(Error::Rpc {
                what: format!("wait for transaction {tx}"),
                url: chain.url().into(),
                reason: format!("not mined within {} s", deadline.as_secs()),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A private key given as 0x + 64 hex digits.
pub fn parse_key(text: &str) -> Result<PrivateKeySigner, Error> {
    let hex = text.strip_prefix("0x").unwrap_or("");
    if hex.len() != 64 {
        return Err(Error::Decode {
            what: "private key",
            reason: "not 0x followed by 64 hex digits".into(),
        });
    }
    hex.parse().map_err(|e| Error::Decode {
        what: "private key",
        reason: format!("{e}"),
    })
}

/// The balance of `who` at block `number`.
pub async fn balance_at(chain: &Chain, who: Address, number: u64) -> Result<U256, Error> {
    chain
        .request(
            "eth_getBalance",
            (who, alloy::eips::BlockNumberOrTag::Number(number)),
        )
        .await
}

/// Sends a transaction from the key `chain` was connected with (nonce, gas and fees filled in by
/// the node's answers) and returns its hash.
pub async fn send(chain: &Chain, to: Address, value: U256, input: Bytes) -> Result<B256, Error> {
    let request = TransactionRequest::default()
        .with_to(to)
        .with_value(value)
        .with_input(input);
    let sent = tokio::time::timeout(
        crate::anvil::CALL_TIMEOUT,
        chain.provider().send_transaction(request),
    )
    .await;
    match sent {
        Ok(Ok(pending)) => Ok(*pending.tx_hash()),
        Ok(Err(e)) => Err(Error::Rpc {
            what: "send a transaction".into(),
            url: chain.url().into(),
            reason: e.to_string(),
        }),
        Err(_) => Err(Error::Rpc {
            what: "send a transaction".into(),
            url: chain.url().into(),
            reason: format!(
                "no answer within {} s",
                crate::anvil::CALL_TIMEOUT.as_secs()
            ),
        }),
    }
}

async fn view<C: SolCall>(chain: &Chain, to: Address, call: C) -> Result<C::Return, Error> {
    let out = chain.call(to, call.abi_encode().into()).await?;
    C::abi_decode_returns(&out).map_err(|e| Error::Decode {
        what: "contract answer",
        reason: format!("{} on {to}: {e}", C::SIGNATURE),
    })
}

/// The newest game of `game_type` in the factory, if any.
pub async fn newest_game(
    l1: &Chain,
    factory: Address,
    game_type: u32,
) -> Result<Option<Game>, Error> {
    let count = view(l1, factory, IGameSearch::gameCountCall {}).await?;
    if count.is_zero() {
        return Ok(None);
    }
    let found = view(
        l1,
        factory,
        IGameSearch::findLatestGamesCall {
            _gameType: game_type,
            _start: count - U256::from(1),
            _n: U256::from(GAME_SEARCH),
        },
    )
    .await?;
    Ok(found.iter().find_map(Game::from_search))
}

/// The proof of `w` against `game`: `eth_getProof` of the passer at the game's L2 block, checked
/// against the game's root claim. Fails when the L2 no longer holds that block's state, or when
/// its block there is not the one the game was made for.
pub async fn build_proof(
    l2: &Chain,
    w: &WithdrawalTransaction,
    game: &Game,
) -> Result<Proof, Error> {
    let block = l2.block(game.l2_block).await?.ok_or_else(|| Error::Rpc {
        what: format!("read L2 block {}", game.l2_block),
        url: l2.url().into(),
        reason: "no such block".into(),
    })?;
    let answer = l2
        .proof(
            predeploys::L2_TO_L1_MESSAGE_PASSER,
            vec![w.storage_slot()],
            game.l2_block,
        )
        .await?;
    proof_from(
        w,
        &answer,
        block.header.state_root,
        block.header.hash,
        game.root_claim,
    )
}

/// The L1 contracts a withdrawal from an L2 goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgeContracts {
    /// The OptimismPortal (proxy).
    pub portal: Address,
    /// Its DisputeGameFactory (proxy).
    pub factory: Address,
    /// The game type the portal respects.
    pub game_type: u32,
}

/// The topic of the portal's `WithdrawalProven` logs (the withdrawal hash is topic 1).
pub fn proven_topic() -> B256 {
    WithdrawalProven::SIGNATURE_HASH
}

/// The topic of the portal's `WithdrawalFinalized` logs (the withdrawal hash is topic 1).
pub fn finalized_topic() -> B256 {
    WithdrawalFinalized::SIGNATURE_HASH
}

/// Finds the L1 contracts of `l2`'s bridge from the chains alone: the L2's messenger names its
/// L1 messenger, which names the portal, which names its factory and game type. Works for any
/// OP chain whose contracts are 0.17-era Bedrock (lite and full devnets alike).
pub async fn discover(l1: &Chain, l2: &Chain) -> Result<BridgeContracts, Error> {
    let messenger = view(
        l2,
        predeploys::L2_CROSS_DOMAIN_MESSENGER,
        IDiscover::OTHER_MESSENGERCall {},
    )
    .await?;
    let portal = view(l1, messenger, IDiscover::PORTALCall {}).await?;
    let factory = view(l1, portal, IDiscover::disputeGameFactoryCall {}).await?;
    let game_type = view(l1, portal, IDiscover::respectedGameTypeCall {}).await?;
    Ok(BridgeContracts {
        portal,
        factory,
        game_type,
    })
}

/// Who proved the withdrawal `hash`, in order.
pub async fn proof_submitters(
    l1: &Chain,
    portal: Address,
    hash: B256,
) -> Result<Vec<Address>, Error> {
    let n = view(
        l1,
        portal,
        IPortal::numProofSubmittersCall {
            _withdrawalHash: hash,
        },
    )
    .await?;
    let mut out = Vec::new();
    for i in 0..n.to::<u64>() {
        out.push(
            view(
                l1,
                portal,
                IPortal::proofSubmittersCall {
                    _withdrawalHash: hash,
                    _index: U256::from(i),
                },
            )
            .await?,
        );
    }
    Ok(out)
}

/// When `submitter` proved `hash` (L1 timestamp), `None` if it did not.
pub async fn proven_at(
    l1: &Chain,
    portal: Address,
    hash: B256,
    submitter: Address,
) -> Result<Option<u64>, Error> {
    let proven = view(
        l1,
        portal,
        IPortal::provenWithdrawalsCall {
            _withdrawalHash: hash,
            _submitter: submitter,
        },
    )
    .await?;
    Ok((proven.timestamp != 0).then_some(proven.timestamp))
}

/// Whether `checkWithdrawal(hash, submitter)` passes at the latest L1 block.
pub async fn check_passes(
    l1: &Chain,
    portal: Address,
    hash: B256,
    submitter: Address,
) -> Result<bool, Error> {
    let input = IPortal::checkWithdrawalCall {
        _withdrawalHash: hash,
        _proofSubmitter: submitter,
    }
    .abi_encode();
    match l1.call(portal, input.into()).await {
        Ok(_) => Ok(true),
        // A revert is the answer "not yet"; a chain that does not answer is an error.
        Err(Error::Rpc { reason, .. }) if reason.contains("revert") => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the portal paid `hash` out.
pub async fn is_finalized(l1: &Chain, portal: Address, hash: B256) -> Result<bool, Error> {
    view(
        l1,
        portal,
        IPortal::finalizedWithdrawalsCall {
            _withdrawalHash: hash,
        },
    )
    .await
}

/// Where the withdrawal `w` (initiated in L2 block `l2_block`) stands; `submitter` is the
/// proof submitter whose proof counts (the first one when `None`). Returns the state and the
/// submitter that proved it, if any.
pub async fn state(
    l1: &Chain,
    portal: Address,
    factory: Address,
    game_type: u32,
    w: &Initiated,
    submitter: Option<Address>,
) -> Result<(WithdrawalState, Option<Address>), Error> {
    let hash = w.hash();
    let finalized = is_finalized(l1, portal, hash).await?;
    let submitters = proof_submitters(l1, portal, hash).await?;
    let prover = match submitter {
        Some(s) if submitters.contains(&s) => Some(s),
        _ => submitters.first().copied(),
    };
    let passes = match (finalized, prover) {
        (false, Some(p)) => check_passes(l1, portal, hash, p).await?,
        _ => false,
    };
    let newest = if finalized || prover.is_some() {
        None
    } else {
        newest_game(l1, factory, game_type)
            .await?
            .map(|g| g.l2_block)
    };
    Ok((
        WithdrawalState::decide(finalized, prover.is_some(), passes, newest, w.l2_block),
        prover,
    ))
}

/// Every `MessagePassed` of the L2's passer from block `from` to `to`, read in windows of
/// [`LOG_RANGE`] blocks.
pub async fn initiated_between(l2: &Chain, from: u64, to: u64) -> Result<Vec<Initiated>, Error> {
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = to.min(start + LOG_RANGE - 1);
        let filter = Filter::new()
            .address(predeploys::L2_TO_L1_MESSAGE_PASSER)
            .event_signature(output::message_passed_topic())
            .from_block(start)
            .to_block(end);
        for log in l2.logs(&filter).await? {
            let withdrawal = output::decode_withdrawal(log.topics(), &log.data().data)?;
            out.push(Initiated {
                l2_tx: log.transaction_hash.unwrap_or_default(),
                l2_block: log.block_number.unwrap_or_default(),
                withdrawal,
            });
        }
        start = end + 1;
    }
    Ok(out)
}

/// Every user deposit of `portal` on the L1 from block `from` to `to`, read in windows of
/// [`LOG_RANGE`] blocks.
pub async fn deposits_between(
    l1: &Chain,
    portal: Address,
    from: u64,
    to: u64,
) -> Result<Vec<UserDeposit>, Error> {
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = to.min(start + LOG_RANGE - 1);
        let filter = Filter::new()
            .address(portal)
            .event_signature(deposit::deposit_topic())
            .from_block(start)
            .to_block(end);
        for log in l1.logs(&filter).await? {
            out.push(deposit::decode_user_deposit(
                log.topics(),
                &log.data().data,
                log.block_number.unwrap_or_default(),
                log.block_hash.unwrap_or_default(),
                log.log_index.unwrap_or_default(),
                log.transaction_hash.unwrap_or_default(),
            )?);
        }
        start = end + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use alloy::{
        primitives::{b256, keccak256},
        rpc::types::EIP1186StorageProof,
    };

    use super::*;

    fn sample() -> WithdrawalTransaction {
        output::withdrawal(
            U256::from(1) << 240,
            Address::repeat_byte(0x11),
            Address::repeat_byte(0x22),
            U256::from(5),
            U256::from(WITHDRAWAL_GAS_LIMIT),
            Bytes::new(),
        )
    }

    #[test]
    fn selectors_are_the_portal_and_passer_ones() {
        // From the contracts-bedrock 0.17.3 artifacts' methodIdentifiers.
        assert_eq!(
            IPortal::depositTransactionCall::SELECTOR,
            [0xe9, 0xe0, 0x5c, 0x42]
        );
        assert_eq!(
            IPortal::proveWithdrawalTransactionCall::SELECTOR,
            [0x48, 0x70, 0x49, 0x6f]
        );
        assert_eq!(
            IPortal::finalizeWithdrawalTransactionExternalProofCall::SELECTOR,
            [0x43, 0xca, 0x1c, 0x50]
        );
        assert_eq!(
            IPortal::checkWithdrawalCall::SELECTOR,
            [0x71, 0xc1, 0x56, 0x6e]
        );
        assert_eq!(
            IPortal::provenWithdrawalsCall::SELECTOR,
            [0xbb, 0x2c, 0x72, 0x7e]
        );
        assert_eq!(
            &IMessagePasser::initiateWithdrawalCall::SELECTOR,
            &keccak256("initiateWithdrawal(address,uint256,bytes)")[..4]
        );
    }

    #[test]
    fn calls_carry_the_withdrawal_and_the_amounts() {
        let w = sample();
        let proof = Proof {
            output: OutputRootProof::v0(
                B256::repeat_byte(1),
                B256::repeat_byte(2),
                B256::repeat_byte(3),
            ),
            storage_proof: vec![
                Bytes::from_static(&[0xaa]),
                Bytes::from_static(&[0xbb, 0xcc]),
            ],
        };
        let call = IPortal::proveWithdrawalTransactionCall::abi_decode(&prove_call(&w, 7, &proof))
            .unwrap();
        assert_eq!(call._disputeGameIndex, U256::from(7));
        assert_eq!(call._tx.nonce, w.nonce);
        assert_eq!(call._tx.target, w.target);
        assert_eq!(
            call._outputRootProof.messagePasserStorageRoot,
            B256::repeat_byte(2)
        );
        assert_eq!(call._withdrawalProof, proof.storage_proof);
        // The portal's Hashing.hashWithdrawal over the encoded struct is the hash we key on.
        let t = call._tx;
        let rehash =
            output::withdrawal(t.nonce, t.sender, t.target, t.value, t.gasLimit, t.data).hash();
        assert_eq!(rehash, w.hash());

        let to = Address::repeat_byte(0x33);
        let d =
            IPortal::depositTransactionCall::abi_decode(&deposit_call(to, U256::from(9))).unwrap();
        assert_eq!(
            (d._to, d._value, d._gasLimit, d._isCreation),
            (to, U256::from(9), DEPOSIT_GAS_LIMIT, false)
        );
        let i = IMessagePasser::initiateWithdrawalCall::abi_decode(&initiate_call(to)).unwrap();
        assert_eq!(
            (i._target, i._gasLimit),
            (to, U256::from(WITHDRAWAL_GAS_LIMIT))
        );
        let f = IPortal::finalizeWithdrawalTransactionExternalProofCall::abi_decode(
            &finalize_call(&w, to),
        )
        .unwrap();
        assert_eq!(f._proofSubmitter, to);
    }

    #[test]
    fn states_follow_the_portal() {
        use WithdrawalState as S;
        assert_eq!(S::decide(false, false, false, None, 10), S::WaitingToProve);
        assert_eq!(
            S::decide(false, false, false, Some(9), 10),
            S::WaitingToProve
        );
        assert_eq!(
            S::decide(false, false, false, Some(10), 10),
            S::ReadyToProve
        );
        assert_eq!(
            S::decide(false, true, false, Some(10), 10),
            S::WaitingToFinalize
        );
        assert_eq!(S::decide(false, true, true, None, 10), S::ReadyToFinalize);
        assert_eq!(S::decide(true, true, false, None, 10), S::Finalized);
        assert_eq!(
            serde_json::to_value(S::ReadyToProve).unwrap(),
            "ready-to-prove"
        );
        assert_eq!(S::WaitingToFinalize.to_string(), "waiting-to-finalize");
    }

    #[test]
    fn a_game_reads_its_l2_block_from_the_extra_data() {
        let result = IGameSearch::GameSearchResult {
            index: U256::from(3),
            metadata: B256::ZERO,
            timestamp: 1_700_000_000,
            rootClaim: B256::repeat_byte(7),
            extraData: U256::from(42).abi_encode().into(),
        };
        assert_eq!(
            Game::from_search(&result),
            Some(Game {
                index: 3,
                created_at: 1_700_000_000,
                root_claim: B256::repeat_byte(7),
                l2_block: 42
            })
        );
        let odd = IGameSearch::GameSearchResult {
            extraData: Bytes::from_static(&[1, 2]),
            ..result
        };
        assert_eq!(Game::from_search(&odd), None);
    }

    fn answer(storage_hash: B256, slot: B256, value: u64) -> EIP1186AccountProofResponse {
        EIP1186AccountProofResponse {
            address: predeploys::L2_TO_L1_MESSAGE_PASSER,
            balance: U256::ZERO,
            code_hash: B256::ZERO,
            nonce: 0,
            storage_hash,
            account_proof: Vec::new(),
            storage_proof: vec![EIP1186StorageProof {
                key: slot.into(),
                value: U256::from(value),
                proof: vec![Bytes::from_static(&[0xde, 0xad])],
            }],
        }
    }

    #[test]
    fn a_proof_must_match_the_root_claim_and_hold_the_withdrawal() {
        let w = sample();
        let state = b256!("0101010101010101010101010101010101010101010101010101010101010101");
        let hash = B256::repeat_byte(3);
        let storage = B256::repeat_byte(2);
        let claim = OutputRootProof::v0(state, storage, hash).root();
        let ok = proof_from(
            &w,
            &answer(storage, w.storage_slot(), 1),
            state,
            hash,
            claim,
        )
        .unwrap();
        assert_eq!(ok.output.root(), claim);
        assert_eq!(ok.storage_proof, vec![Bytes::from_static(&[0xde, 0xad])]);
        // Another block's roots, a missing slot, or a slot not set are refused.
        assert!(
            proof_from(
                &w,
                &answer(storage, w.storage_slot(), 1),
                state,
                B256::ZERO,
                claim
            )
            .is_err()
        );
        assert!(proof_from(&w, &answer(storage, B256::ZERO, 1), state, hash, claim).is_err());
        assert!(
            proof_from(
                &w,
                &answer(storage, w.storage_slot(), 0),
                state,
                hash,
                claim
            )
            .is_err()
        );
    }

    #[test]
    fn receipts_decode_from_json_with_their_logs() {
        let w = sample();
        let event = output::MessagePassed::of(&w);
        let topics = event.topics();
        let json = serde_json::json!({
            "transactionHash": B256::repeat_byte(9),
            "status": "0x1",
            "blockNumber": "0x10",
            "blockHash": B256::repeat_byte(8),
            "gasUsed": "0x5208",
            "effectiveGasPrice": "0x2",
            "type": "0x7e",
            "depositNonce": "0x1",
            "logs": [{
                "address": predeploys::L2_TO_L1_MESSAGE_PASSER,
                "topics": topics,
                "data": Bytes::from(event.encode_data()),
                "logIndex": "0x3",
            }],
        });
        let r = Receipt::from_json(&json).unwrap();
        assert!(r.success);
        assert_eq!(r.block, 16);
        assert_eq!(r.fee, U256::from(21_000 * 2));
        let ws = r.withdrawals().unwrap();
        assert_eq!(ws.len(), 1);
        assert_eq!(ws[0].withdrawal, w);
        assert_eq!(ws[0].l2_block, 16);
        assert!(r.deposits(Address::ZERO).unwrap().is_empty());
    }
}
