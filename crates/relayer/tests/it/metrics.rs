//! The relayer's `/metrics` move with what it does: a deposit made through the OptimismPortal
//! counts as relayed once it is on the L2, outputs are proposed, L1-info updates are sent, and a
//! deposit an L2 lost (restarted without its state) counts as re-sent. The names it exposes are
//! exactly the relayer's part of `opdev_telemetry::metrics`, which the rules and dashboards use.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
    signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English},
    sol,
    sol_types::SolCall,
};
use opdev_opstack::{Record, anvil::Chain};
use opdev_relayer::{DeployArgs, ServeArgs, deploy::DEPLOYER_INDEX};
use opdev_spec::{config::DEFAULT_MNEMONIC, versions::CONTRACTS_BEDROCK};
use opdev_telemetry::metrics::{self as known, Owner};
use opdev_test_utils::{TestAnvil, free_port};
use tokio_util::sync::CancellationToken;

sol! {
    interface IOptimismPortal {
        function depositTransaction(address _to, uint256 _value, uint64 _gasLimit, bool _isCreation, bytes _data) external payable;
    }
}

const L2_SERIES: &str = r#"{chain="l2-1",chain_id="901"}"#;

/// The value of `name{chain="l2-1",chain_id="901"}` in an exposition.
fn value(text: &str, name: &str) -> Option<f64> {
    let prefix = format!("{name}{L2_SERIES} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

async fn get(url: &str) -> Option<(u16, String)> {
    let resp = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.text().await.ok()?))
}

/// Reads `/metrics` every 200 ms until `done` holds, for at most `timeout`.
async fn metrics_until(
    base: &str,
    what: &str,
    timeout: Duration,
    done: impl Fn(&str) -> bool,
) -> String {
    let until = Instant::now() + timeout;
    let mut last = String::new();
    while Instant::now() < until {
        if let Some((200, text)) = get(&format!("{base}/metrics")).await {
            if done(&text) {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what}: not within {timeout:?}; last /metrics:\n{last}");
}

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_deposits_outputs_and_resends_against_real_chains() {
    let l1 = TestAnvil::start(&["--chain-id", "900", "--block-time", "1"]);
    let mut l2 = TestAnvil::start(&[
        "--chain-id",
        "901",
        "--network",
        "optimism",
        "--block-time",
        "1",
    ]);
    let chains = vec![
        format!("l1=900={}", l1.url()),
        format!("l2-1=901={}", l2.url()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let record_path = dir.path().join("bridge.json");
    let proposer = PrivateKeySigner::random();

    let artifacts =
        opdev_orchestrator::tools::contracts_bedrock(|_| {}).expect("contracts package");
    opdev_relayer::deploy::run(DeployArgs {
        chains: chains.clone(),
        artifacts,
        artifacts_version: CONTRACTS_BEDROCK.version.into(),
        out: record_path.clone(),
        finalization_period: 12,
        proposer: proposer.address(),
        mnemonic: DEFAULT_MNEMONIC.into(),
        deployer_index: DEPLOYER_INDEX,
        deployer_key: None,
        rollup: None,
        anvil: None,
        op_geth: None,
        operators: Vec::new(),
        fund: Vec::new(),
        l2_block_time: 1,
    })
    .await
    .expect("bridge deployed");
    let record = Record::read(&record_path).unwrap();
    let portal = record.chain("l2-1").unwrap().get("OptimismPortal");

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let stop = CancellationToken::new();
    let relayer = tokio::spawn(opdev_relayer::relay::serve(
        ServeArgs {
            chains,
            listen: format!("127.0.0.1:{port}"),
            bridge: record_path,
            data: dir.path().join("relayer"),
            deposit_confirmations: 0,
            recheck_window: 120,
            proposal_interval: 1,
            poll_interval_ms: 100,
            proposer_key: proposer.to_bytes().to_string(),
        },
        stop.clone(),
    ));

    // /health answers once the relayer serves, naming its L2.
    let until = Instant::now() + Duration::from_secs(20);
    let health = loop {
        if let Some((200, body)) = get(&format!("{base}/health")).await {
            break body;
        }
        assert!(
            !relayer.is_finished() && Instant::now() < until,
            "relayer /health did not answer"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["l2s"][0]["chain"], "l2-1");
    assert_eq!(health["l2s"][0]["chain_id"], 901);

    // Nothing relayed yet: the counter is there, at 0.
    let text = get(&format!("{base}/metrics")).await.unwrap().1;
    assert_eq!(
        value(&text, "opdev_relayer_deposits_relayed_total"),
        Some(0.0),
        "{text}"
    );

    // A deposit of 1 ETH to a fresh address through the portal, from dev account 0.
    let sender = MnemonicBuilder::<English>::default()
        .phrase(DEFAULT_MNEMONIC)
        .index(0)
        .unwrap()
        .build()
        .unwrap();
    let l1_chain = Chain::connect(&l1.url(), Some(sender.clone())).unwrap();
    let recipient = Address::repeat_byte(0x42);
    let input = IOptimismPortal::depositTransactionCall {
        _to: recipient,
        _value: ether(1),
        _gasLimit: 100_000,
        _isCreation: false,
        _data: Default::default(),
    }
    .abi_encode();
    let receipt = l1_chain
        .provider()
        .send_transaction(
            TransactionRequest::default()
                .with_from(sender.address())
                .with_to(portal)
                .with_value(ether(1))
                .with_input(input),
        )
        .await
        .expect("deposit sent")
        .get_receipt()
        .await
        .expect("deposit mined");
    assert!(receipt.status(), "deposit reverted");
    let deposit_block = receipt.block_number.unwrap() as f64;

    let text = metrics_until(
        &base,
        "deposit relayed and an output proposed",
        Duration::from_secs(60),
        |t| {
            value(t, "opdev_relayer_deposits_relayed_total") == Some(1.0)
                && value(t, "opdev_relayer_outputs_proposed_total").is_some_and(|v| v >= 1.0)
                && value(t, "opdev_relayer_deposit_lag_blocks").is_some_and(|v| v <= 2.0)
        },
    )
    .await;
    assert_eq!(
        value(&text, "opdev_relayer_deposit_seen_l1_block"),
        Some(deposit_block),
        "{text}"
    );
    assert_eq!(
        value(&text, "opdev_relayer_deposit_relayed_l1_block"),
        Some(deposit_block),
        "{text}"
    );
    assert!(value(&text, "opdev_relayer_l1_info_updates_total").unwrap() >= 1.0);
    assert!(value(&text, "opdev_relayer_output_l2_block").unwrap() >= 1.0);
    assert_eq!(
        value(&text, "opdev_relayer_deposits_resent_total"),
        Some(0.0)
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for stamp in [
        "opdev_relayer_last_deposit_timestamp_seconds",
        "opdev_relayer_last_output_timestamp_seconds",
    ] {
        let at = value(&text, stamp).unwrap();
        assert!((now - 120.0..=now + 1.0).contains(&at), "{stamp} = {at}");
    }
    // What the counter says happened did: the deposit is on the L2.
    let l2_chain = Chain::connect(&l2.url(), None).unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while l2_chain.balance(recipient).await.unwrap() != ether(1) {
        assert!(Instant::now() < until, "deposit not on the L2");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Exactly the relayer's names of the list the rules and dashboards use, every one present
    // now that each has a value.
    let exposed: BTreeSet<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let listed: BTreeSet<&str> = known::all()
        .filter(|m| m.owner == Owner::Relayer)
        .map(|m| m.name)
        .collect();
    assert_eq!(exposed, listed);
    for m in known::all().filter(|m| m.owner == Owner::Relayer) {
        assert_eq!(m.labels, ["chain", "chain_id"], "{}", m.name);
    }

    // The L2 comes back without its state (killed, no state file): the relayer sends the
    // deposit again and counts it.
    l2.start_again();
    let text = metrics_until(
        &base,
        "deposit re-sent after the L2 lost it",
        Duration::from_secs(30),
        |t| value(t, "opdev_relayer_deposits_resent_total").is_some_and(|v| v >= 1.0),
    )
    .await;
    assert_eq!(
        value(&text, "opdev_relayer_deposits_relayed_total"),
        Some(1.0),
        "a re-send is not a new relay"
    );
    let until = Instant::now() + Duration::from_secs(10);
    while l2_chain.balance(recipient).await.unwrap() != ether(1) {
        assert!(Instant::now() < until, "re-sent deposit not on the L2");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(15), relayer)
        .await
        .expect("relayer stops")
        .unwrap()
        .expect("relayer ends cleanly");
}
