//! The lite bridge end to end, on real anvil chains and the real Bedrock contracts: viem's OP
//! Stack actions deposit and withdraw; deposits arrive exactly once through relayer and L2
//! crashes, `down`/`up` and an L1 reorg under the confirmation depth; messages and ERC-20s cross
//! both ways; every L2 of a devnet has a bridge of its own.

use std::{process::Command, time::Duration};

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256, address},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol,
    sol_types::{SolCall, SolEvent, SolValue},
};
use serde_json::Value;

use crate::support::{self, Env, eventually};

/// viem, pinned: the client nobody at opdev wrote.
const VIEM: &str = "viem@2.57.20";

/// Dev accounts of anvil's test mnemonic.
pub(crate) const KEYS: [&str; 4] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

sol! {
    interface IPortal {
        function depositTransaction(address _to, uint256 _value, uint64 _gasLimit, bool _isCreation, bytes _data) external payable;
    }
    interface IL1StandardBridge {
        function depositETHTo(address _to, uint32 _minGasLimit, bytes _extraData) external payable;
        function depositERC20To(address _l1Token, address _l2Token, address _to, uint256 _amount, uint32 _minGasLimit, bytes _extraData) external;
    }
    interface IMessenger {
        function sendMessage(address _target, bytes _message, uint32 _minGasLimit) external payable;
    }
    interface IL2StandardBridge {
        function withdrawTo(address _l2Token, address _to, uint256 _amount, uint32 _minGasLimit, bytes _extraData) external payable;
    }
    interface IFactory {
        function createOptimismMintableERC20(address _remoteToken, string _name, string _symbol) external returns (address);
        event OptimismMintableERC20Created(address indexed localToken, address indexed remoteToken, address deployer);
    }
    interface IERC20 {
        function mint(address to, uint256 amount) external;
        function approve(address spender, uint256 amount) external returns (bool);
        function balanceOf(address who) external view returns (uint256);
    }
    interface IL1Block {
        function number() external view returns (uint64);
        function hash() external view returns (bytes32);
    }
    interface ICounter {
        function number() external view returns (uint256);
        function increment() external;
    }
}

const L2_STANDARD_BRIDGE: Address = address!("4200000000000000000000000000000000000010");
const L2_MESSENGER: Address = address!("4200000000000000000000000000000000000007");
const L2_ERC20_FACTORY: Address = address!("4200000000000000000000000000000000000012");
const L1_BLOCK: Address = address!("4200000000000000000000000000000000000015");

fn ether(tenths: u64) -> U256 {
    U256::from(tenths) * U256::from(100_000_000_000_000_000u64)
}

/// A devnet with the bridge and nothing else around the chains.
fn bridge_devnet(name: &str, extra: &[&str]) -> Env {
    let env = Env::new(name);
    let mut args = vec![
        "up",
        "--ports",
        "auto",
        "--no-indexer",
        "--no-faucet",
        "--no-monitoring",
    ];
    args.extend(extra);
    env.ok(&args);
    env
}

/// What `status --json` says about L2 `i`.
struct Side {
    l1: String,
    l2: String,
    contracts: Value,
}

fn side(env: &Env, i: usize) -> Side {
    let status = env.status();
    let e = &status["endpoints"];
    Side {
        l1: e["l1"]["rpc"].as_str().unwrap().to_owned(),
        l2: e["l2"][i]["rpc"].as_str().unwrap().to_owned(),
        contracts: e["l2"][i]["l1_contracts"].clone(),
    }
}

impl Side {
    fn l1_contract(&self, name: &str) -> Address {
        self.contracts[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {}", self.contracts))
            .parse()
            .unwrap()
    }
}

/// Sends a transaction from `key` on `rpc` and waits for its receipt; panics when it reverts.
async fn send(rpc: &str, key: &str, to: Option<Address>, input: Vec<u8>, value: U256) -> B256 {
    let signer: PrivateKeySigner = key.parse().unwrap();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(rpc.parse().unwrap());
    let mut tx = TransactionRequest::default()
        .with_input(input)
        .with_value(value);
    tx = match to {
        Some(to) => tx.with_to(to),
        None => tx.into_create(),
    };
    let receipt = provider
        .send_transaction(tx)
        .await
        .expect("send")
        .with_timeout(Some(Duration::from_secs(30)))
        .get_receipt()
        .await
        .expect("receipt");
    if !receipt.status() {
        let trace: Value = provider
            .raw_request(
                "debug_traceTransaction".into(),
                (
                    receipt.transaction_hash,
                    serde_json::json!({"tracer": "callTracer"}),
                ),
            )
            .await
            .unwrap_or_default();
        panic!(
            "transaction {} on {rpc} reverted (gas used {}): {trace}",
            receipt.transaction_hash, receipt.gas_used
        );
    }
    receipt.transaction_hash
}

async fn balance(rpc: &str, who: Address) -> U256 {
    ProviderBuilder::new()
        .connect_http(rpc.parse().unwrap())
        .get_balance(who)
        .await
        .unwrap()
}

/// `eth_call` at the latest mined block (never the pending one: anvil orders a pending user
/// transaction before a pending deposit in the same block).
async fn call(rpc: &str, to: Address, input: Vec<u8>) -> Bytes {
    let tx = TransactionRequest::default().with_to(to).with_input(input);
    ProviderBuilder::new()
        .connect_http(rpc.parse().unwrap())
        .call(tx)
        .block(alloy::eips::BlockId::latest())
        .await
        .unwrap()
}

fn portal_deposit(to: Address, value: U256) -> Vec<u8> {
    IPortal::depositTransactionCall {
        _to: to,
        _value: value,
        _gasLimit: 100_000,
        _isCreation: false,
        _data: Bytes::new(),
    }
    .abi_encode()
}

/// Runs the viem script with `env` vars; returns its JSON lines.
pub(crate) fn viem(status: &Value, key: &str, vars: &[(&str, String)]) -> Vec<Value> {
    let dir = opdev_test_utils::target_dir().join("viem-bridge");
    opdev_test_utils::npm_package(&dir, VIEM);
    let script = dir.join("bridge.mjs");
    std::fs::write(&script, include_str!("../viem/bridge.mjs")).unwrap();
    let mut cmd = Command::new("timeout");
    cmd.args(["180", "node"])
        .arg(&script)
        .current_dir(&dir)
        .env("OPDEV_STATUS", status.to_string())
        .env("PRIVATE_KEY", key);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "viem steps failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

pub(crate) fn step<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["step"] == name)
        .unwrap_or_else(|| panic!("no step {name} in {lines:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viem_deposits_withdraws_proves_and_finalizes() {
    let env = bridge_devnet("viem", &["--finalization-period", "3"]);
    let status = env.status();
    assert_eq!(status["bridge"]["deployed"], true, "{status}");
    assert_eq!(
        status["endpoints"]["l1"]["contracts"]["Multicall3"],
        "0xcA11bde05977b3631167028862bE2a173976CA11"
    );
    let lines = viem(&status, KEYS[2], &[]);
    assert_eq!(step(&lines, "deposit")["gained"], "1000000000000000000");
    // Right after initiating, a game may already stand at a later block.
    let first = step(&lines, "status")["status"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        first == "waiting-to-prove" || first == "ready-to-prove",
        "{first}"
    );
    assert_eq!(step(&lines, "prove")["status"], "waiting-to-finalize");
    assert_eq!(step(&lines, "finalize")["status"], "finalized");
    assert_eq!(step(&lines, "received")["received"], "500000000000000000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposits_arrive_exactly_once_through_relayer_and_l2_kills_and_down_up() {
    let env = bridge_devnet("once", &[]);
    let s = side(&env, 0);
    let portal = s.l1_contract("OptimismPortal");
    let recipients: Vec<Address> = (1..=3).map(|i| Address::repeat_byte(0x40 + i)).collect();
    let mut expected = vec![U256::ZERO; recipients.len()];
    let mut sent = 0u64;
    let deposit = |round: u64| {
        let (rpc, key) = (s.l1.clone(), KEYS[(round % 4) as usize]);
        let to = recipients[(round % 3) as usize];
        let value = ether(1 + round % 5);
        async move {
            send(&rpc, key, Some(portal), portal_deposit(to, value), value).await;
            (to, value)
        }
    };
    let record = |expected: &mut Vec<U256>, (to, value): (Address, U256)| {
        let i = recipients.iter().position(|r| *r == to).unwrap();
        expected[i] += value;
    };
    for _ in 0..4 {
        record(&mut expected, deposit(sent).await);
        sent += 1;
    }
    // The relayer dies hard mid-stream; the supervisor restarts it from its checkpoint.
    let relayer = env.service("relayer")["pid"].as_u64().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(relayer as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    for _ in 0..4 {
        record(&mut expected, deposit(sent).await);
        sent += 1;
    }
    // The L2 dies hard right after a deposit reached it: it comes back from its last saved state,
    // without its newest blocks, and what it lost is relayed again.
    let (to, value) = deposit(sent).await;
    record(&mut expected, (to, value));
    sent += 1;
    let target = expected.clone();
    let l2 = s.l2.clone();
    assert!(
        eventually(20, async || balance(&l2, to).await
            == target[recipients.iter().position(|r| *r == to).unwrap()])
        .await,
        "the deposit before the kill did not arrive"
    );
    let l2_pid = env.service("l2-1")["pid"].as_u64().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(l2_pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(
        eventually(30, async || env.service("l2-1")["state"] == "ready"
            && env.service("l2-1")["pid"].as_u64() != Some(l2_pid))
        .await,
        "l2-1 was not restarted"
    );
    for _ in 0..3 {
        record(&mut expected, deposit(sent).await);
        sent += 1;
    }
    env.ok(&["down"]);
    env.ok(&["up"]);
    let s = side(&env, 0);
    for _ in 0..2 {
        let (to, value) = {
            let to = recipients[(sent % 3) as usize];
            let value = ether(1);
            send(
                &s.l1,
                KEYS[0],
                Some(portal),
                portal_deposit(to, value),
                value,
            )
            .await;
            (to, value)
        };
        record(&mut expected, (to, value));
        sent += 1;
    }
    for (i, to) in recipients.iter().enumerate() {
        let want = expected[i];
        assert!(
            eventually(30, async || balance(&s.l2, *to).await == want).await,
            "{to}: L2 balance {} after {sent} deposits, expected exactly {want}",
            balance(&s.l2, *to).await
        );
    }
    // And it stays so: nothing arrives twice later.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for (i, to) in recipients.iter().enumerate() {
        assert_eq!(
            balance(&s.l2, *to).await,
            expected[i],
            "{to} after settling"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_block_follows_the_l1_and_messages_and_erc20s_cross_both_ways() {
    let env = bridge_devnet("cross", &["--finalization-period", "2"]);
    let s = side(&env, 0);
    // L1Block on the L2 follows the L1 head.
    let l1_head = support::head(&s.l1).await;
    let l2 = s.l2.clone();
    assert!(
        eventually(10, async || {
            let n = call(&l2, L1_BLOCK, IL1Block::numberCall {}.abi_encode()).await;
            U256::from_be_slice(&n) >= U256::from(l1_head)
        })
        .await,
        "L1Block.number() did not reach the L1 head {l1_head}"
    );

    // ETH through the L1StandardBridge.
    let to = Address::repeat_byte(0x51);
    let bridge = s.l1_contract("L1StandardBridge");
    let input = IL1StandardBridge::depositETHToCall {
        _to: to,
        _minGasLimit: 200_000,
        _extraData: Bytes::new(),
    }
    .abi_encode();
    send(&s.l1, KEYS[1], Some(bridge), input, ether(7)).await;
    assert!(eventually(20, async || balance(&l2, to).await == ether(7)).await);

    // A message L1 → L2: the L2 messenger calls increment() on a Counter on the L2.
    let counter_code = alloy::hex::decode(opdev_chain::smoke::COUNTER_BYTECODE_HEX.trim()).unwrap();
    let l2_counter = PrivateKeySigner::from_slice(
        &alloy::hex::decode(KEYS[3].trim_start_matches("0x")).unwrap(),
    )
    .unwrap()
    .address()
    .create(
        ProviderBuilder::new()
            .connect_http(s.l2.parse().unwrap())
            .get_transaction_count(KEYS[3].parse::<PrivateKeySigner>().unwrap().address())
            .await
            .unwrap(),
    );
    send(&s.l2, KEYS[3], None, counter_code.clone(), U256::ZERO).await;
    let message = IMessenger::sendMessageCall {
        _target: l2_counter,
        _message: ICounter::incrementCall {}.abi_encode().into(),
        _minGasLimit: 200_000,
    }
    .abi_encode();
    send(
        &s.l1,
        KEYS[1],
        Some(s.l1_contract("L1CrossDomainMessenger")),
        message,
        U256::ZERO,
    )
    .await;
    assert!(
        eventually(20, async || {
            let n = call(&l2, l2_counter, ICounter::numberCall {}.abi_encode()).await;
            U256::from_be_slice(&n) == U256::from(1)
        })
        .await,
        "the L2 Counter was not incremented by the message"
    );

    // An ERC-20: minted on the L1, its L2 twin made by the factory, deposited, and withdrawn.
    let artifacts = opdev_opstack::Artifacts::open(
        &opdev_orchestrator::tools::contracts_bedrock(|_| {}).unwrap(),
        opdev_spec::versions::CONTRACTS_BEDROCK.version,
    )
    .unwrap();
    let erc20 = artifacts.contract("MockERC20").unwrap();
    let holder: Address = KEYS[1].parse::<PrivateKeySigner>().unwrap().address();
    let l1_nonce = ProviderBuilder::new()
        .connect_http(s.l1.parse().unwrap())
        .get_transaction_count(holder)
        .await
        .unwrap();
    let l1_token = holder.create(l1_nonce);
    // solmate's MockERC20(name, symbol, decimals): anyone may mint.
    let mut creation = erc20.creation.to_vec();
    creation.extend(("Test".to_owned(), "TST".to_owned(), U256::from(18)).abi_encode_params());
    send(&s.l1, KEYS[1], None, creation, U256::ZERO).await;
    let amount = U256::from(1_000_000u64);
    send(
        &s.l1,
        KEYS[1],
        Some(l1_token),
        IERC20::mintCall { to: holder, amount }.abi_encode(),
        U256::ZERO,
    )
    .await;
    let created = send(
        &s.l2,
        KEYS[1],
        Some(L2_ERC20_FACTORY),
        IFactory::createOptimismMintableERC20Call {
            _remoteToken: l1_token,
            _name: "Test".into(),
            _symbol: "TST".into(),
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    let receipt = ProviderBuilder::new()
        .connect_http(s.l2.parse().unwrap())
        .raw_request::<_, Value>("eth_getTransactionReceipt".into(), (created,))
        .await
        .unwrap();
    let l2_token: Address = receipt["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| {
            l["topics"][0].as_str()
                == Some(&IFactory::OptimismMintableERC20Created::SIGNATURE_HASH.to_string())
        })
        .map(|l| {
            let topic = l["topics"][1].as_str().unwrap();
            Address::from_slice(&alloy::hex::decode(&topic[26..]).unwrap())
        })
        .expect("OptimismMintableERC20Created");
    send(
        &s.l1,
        KEYS[1],
        Some(l1_token),
        IERC20::approveCall {
            spender: bridge,
            amount,
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    send(
        &s.l1,
        KEYS[1],
        Some(bridge),
        IL1StandardBridge::depositERC20ToCall {
            _l1Token: l1_token,
            _l2Token: l2_token,
            _to: holder,
            _amount: amount,
            _minGasLimit: 300_000,
            _extraData: Bytes::new(),
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    let token_balance = async |rpc: &str, token: Address| {
        U256::from_be_slice(
            &call(
                rpc,
                token,
                IERC20::balanceOfCall { who: holder }.abi_encode(),
            )
            .await,
        )
    };
    assert!(
        eventually(20, async || token_balance(&l2, l2_token).await == amount).await,
        "the ERC-20 deposit did not arrive on the L2"
    );

    // Back: the ERC-20 withdrawn to the L1 (proven and finalized by viem), and a message L2 → L1.
    let withdraw = send(
        &s.l2,
        KEYS[1],
        Some(L2_STANDARD_BRIDGE),
        IL2StandardBridge::withdrawToCall {
            _l2Token: l2_token,
            _to: holder,
            _amount: amount,
            _minGasLimit: 300_000,
            _extraData: Bytes::new(),
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    let status = env.status();
    viem(&status, KEYS[1], &[("INITIATE_TX", withdraw.to_string())]);
    assert_eq!(
        token_balance(&s.l1, l1_token).await,
        amount,
        "the ERC-20 came back to the L1"
    );
    assert_eq!(token_balance(&l2, l2_token).await, U256::ZERO);

    let l1_counter = holder.create(
        ProviderBuilder::new()
            .connect_http(s.l1.parse().unwrap())
            .get_transaction_count(holder)
            .await
            .unwrap(),
    );
    send(&s.l1, KEYS[1], None, counter_code, U256::ZERO).await;
    let message = send(
        &s.l2,
        KEYS[1],
        Some(L2_MESSENGER),
        IMessenger::sendMessageCall {
            _target: l1_counter,
            _message: ICounter::incrementCall {}.abi_encode().into(),
            _minGasLimit: 200_000,
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    viem(&status, KEYS[2], &[("INITIATE_TX", message.to_string())]);
    let n = call(&s.l1, l1_counter, ICounter::numberCall {}.abi_encode()).await;
    assert_eq!(
        U256::from_be_slice(&n),
        U256::from(1),
        "the L1 Counter got the message"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_l2_has_its_own_bridge_and_addresses_are_deterministic() {
    let env = bridge_devnet("three", &["--l2", "3"]);
    let status = env.status();
    let portals: Vec<String> = (0..3)
        .map(|i| {
            status["endpoints"]["l2"][i]["l1_contracts"]["OptimismPortal"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        portals[0] != portals[1] && portals[1] != portals[2],
        "{portals:?}"
    );
    for (i, key) in KEYS.iter().take(3).enumerate() {
        let s = side(&env, i);
        let to = Address::repeat_byte(0x60 + i as u8);
        let value = ether(2 + i as u64);
        send(
            &s.l1,
            key,
            Some(s.l1_contract("OptimismPortal")),
            portal_deposit(to, value),
            value,
        )
        .await;
        let l2 = s.l2.clone();
        assert!(
            eventually(20, async || balance(&l2, to).await == value).await,
            "deposit to l2-{} did not arrive",
            i + 1
        );
        // Only its own L2 got it.
        for j in 0..3 {
            if j != i {
                assert_eq!(balance(&side(&env, j).l2, to).await, U256::ZERO);
            }
        }
    }
    // The same config gives the same addresses.
    let again = bridge_devnet("three-again", &["--l2", "3"]);
    let other = again.status();
    for i in 0..3 {
        assert_eq!(
            status["endpoints"]["l2"][i]["l1_contracts"],
            other["endpoints"]["l2"][i]["l1_contracts"]
        );
    }
    // `bridge addresses` names the same contracts.
    let addresses = env.json(&["bridge", "addresses"]);
    assert_eq!(
        addresses["l2"][1]["l1_contracts"]["OptimismPortal"],
        status["endpoints"]["l2"][1]["l1_contracts"]["OptimismPortal"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_reorged_out_under_the_confirmation_depth_is_never_relayed() {
    let env = bridge_devnet("reorg", &["--deposit-confirmations", "3"]);
    let s = side(&env, 0);
    let portal = s.l1_contract("OptimismPortal");
    let to = Address::repeat_byte(0x77);
    let hash = send(
        &s.l1,
        KEYS[0],
        Some(portal),
        portal_deposit(to, ether(3)),
        ether(3),
    )
    .await;
    let l1 = ProviderBuilder::new().connect_http(s.l1.parse().unwrap());
    let block = l1
        .get_transaction_receipt(hash)
        .await
        .unwrap()
        .unwrap()
        .block_number
        .unwrap();
    // Replace the blocks from the deposit's up to the head before the deposit has 3
    // confirmations: the deposit is no longer on the L1.
    let depth = l1.get_block_number().await.unwrap() - block + 1;
    assert!(depth <= 3, "the deposit is {depth} blocks deep already");
    l1.raw_request::<_, Value>("anvil_reorg".into(), (depth, Vec::<Value>::new()))
        .await
        .expect("anvil_reorg");
    assert!(
        l1.get_transaction_receipt(hash).await.unwrap().is_none(),
        "the reorg kept the deposit transaction"
    );
    // A deposit that stays: it arrives, the reorged one never does.
    let kept = Address::repeat_byte(0x78);
    send(
        &s.l1,
        KEYS[1],
        Some(portal),
        portal_deposit(kept, ether(1)),
        ether(1),
    )
    .await;
    let l2 = s.l2.clone();
    assert!(eventually(30, async || balance(&l2, kept).await == ether(1)).await);
    assert_eq!(
        balance(&s.l2, to).await,
        U256::ZERO,
        "a reorged-out deposit was relayed"
    );
}
