//! The life of a devnet: up → ready → smoke → down → up resumes state → purge; and a killed
//! process comes back.

use alloy::{
    primitives::{Address, U256, address},
    providers::{Provider, ProviderBuilder},
};

use crate::support::{Env, alive, eventually, head, text};

const DEV0: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

async fn balance(rpc: &str, who: Address) -> U256 {
    ProviderBuilder::new()
        .connect_http(rpc.parse().unwrap())
        .get_balance(who)
        .await
        .unwrap()
}

#[tokio::test]
async fn up_smoke_down_up_resumes_state_then_purge() {
    let env = Env::new("life");
    let up = env.json(&["up", "--ports", "auto"]);
    assert_eq!(up["name"], "life");
    assert_eq!(up["accounts"][0]["address"], DEV0.to_string());
    let rpcs = env.rpcs();
    assert_eq!(rpcs.len(), 2);

    // Ready means: every RPC answers and blocks advance.
    for (_, rpc) in &rpcs {
        let first = head(rpc).await;
        assert!(
            eventually(5, async || head(rpc).await > first).await,
            "{rpc} makes no blocks"
        );
    }

    // The smoke check deploys and drives a Counter on every chain.
    let smoke = env.json(&["smoke"]);
    assert_eq!(smoke["ok"], true);
    let chains = smoke["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 2);
    let mut counters = Vec::new();
    for (chain, (_, rpc)) in chains.iter().zip(&rpcs) {
        assert_eq!(chain["report"]["value"], "0x1");
        let counter: Address = chain["report"]["counter"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            opdev_chain::smoke::counter_value(rpc, counter)
                .await
                .unwrap(),
            U256::from(1)
        );
        counters.push(counter);
    }
    let balances_before: Vec<U256> =
        futures::future::join_all(rpcs.iter().map(|(_, r)| balance(r, DEV0))).await;
    let heads_before: Vec<u64> = futures::future::join_all(rpcs.iter().map(|(_, r)| head(r))).await;
    let pids: Vec<u64> = env.status()["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["pid"].as_u64())
        .collect();
    assert!(
        pids.len() >= 5,
        "chains, postgres, indexer and faucet run: {pids:?}"
    );

    // down stops every process and keeps the data.
    let down = env.json(&["down"]);
    assert_eq!(down["was_running"], true);
    let status = env.status();
    assert_eq!(status["running"], false);
    assert!(
        status["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "stopped")
    );
    for pid in pids {
        assert!(!alive(pid), "service pid {pid} survived down");
    }
    assert!(env.devnet_dir().join("data/l1/state.json").is_file());

    // up again: the same ports, contracts, balances, and block numbers that go on from before.
    env.ok(&["up", "-q"]);
    // The indexer resumes from its checkpoint in the kept database and catches up.
    let caught_up = eventually(20, async || {
        let status = env.status();
        let chains = status["indexer"]["chains"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        chains.len() == 2
            && chains.iter().enumerate().all(|(i, c)| {
                c["indexed_head"]
                    .as_u64()
                    .is_some_and(|h| h >= heads_before[i])
                    && c["lag"].as_u64().is_some_and(|l| l <= 2)
            })
    })
    .await;
    assert!(
        caught_up,
        "indexer did not resume: {}",
        env.status()["indexer"]
    );
    assert_eq!(env.status()["database"]["state"], "ready");
    assert_eq!(env.rpcs(), rpcs, "endpoints changed across down/up");
    for (i, (_, rpc)) in rpcs.iter().enumerate() {
        assert_eq!(
            opdev_chain::smoke::counter_value(rpc, counters[i])
                .await
                .unwrap(),
            U256::from(1)
        );
        assert_eq!(
            balance(rpc, DEV0).await,
            balances_before[i],
            "balance changed on {rpc}"
        );
        assert!(head(rpc).await >= heads_before[i], "{rpc} lost blocks");
    }

    // purge deletes it all.
    env.ok(&["purge", "--yes"]);
    assert!(!env.devnet_dir().exists());
    let out = env.run(&["status"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

#[tokio::test]
async fn killed_service_is_restarted_and_the_devnet_still_passes_smoke() {
    let env = Env::new("kill9");
    env.ok(&["up", "-q", "--ports", "auto"]);
    let before = env.service("l2-1");
    let pid = before["pid"].as_u64().unwrap();
    assert_eq!(before["restarts"], 0);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let restarted = eventually(15, async || {
        let s = env.service("l2-1");
        s["restarts"] == 1 && s["state"] == "ready" && s["pid"].as_u64() != Some(pid)
    })
    .await;
    assert!(restarted, "l2-1 was not restarted: {}", env.service("l2-1"));
    assert!(!crate::support::alive(pid));
    let log = std::fs::read_to_string(env.devnet_dir().join("logs/l2-1.log")).unwrap();
    assert!(
        log.contains("killed by SIGKILL"),
        "the restart is not in the log"
    );
    assert_eq!(env.json(&["smoke"])["ok"], true);
}

#[tokio::test]
async fn three_l2s_with_consecutive_ids_and_status_json_keys() {
    let env = Env::new("three");
    env.ok(&[
        "up",
        "-q",
        "--l2",
        "3",
        "--ports",
        "auto",
        "--no-indexer",
        "--no-faucet",
        "--no-monitoring",
    ]);
    let status = env.status();
    for key in [
        "name",
        "profile",
        "runtime",
        "services",
        "endpoints",
        "running",
        "data_dir",
    ] {
        assert!(
            status.get(key).is_some(),
            "status --json lacks {key}: {status}"
        );
    }
    assert_eq!(
        (
            status["name"].as_str(),
            status["profile"].as_str(),
            status["runtime"].as_str()
        ),
        (Some("three"), Some("lite"), Some("native"))
    );
    let services = status["services"].as_array().unwrap();
    let names: Vec<&str> = services
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["l1", "l2-1", "l2-2", "l2-3", "bridge-deploy", "relayer"],
        "the chains and the bridge"
    );
    for s in services {
        if s["name"] == "bridge-deploy" {
            // A one-shot step: done, no process left.
            assert_eq!(s["state"], "done");
            continue;
        }
        assert_eq!(s["state"], "ready");
        assert!(s["restarts"].is_u64() && s["name"].is_string() && s["pid"].is_u64());
    }
    assert_eq!(status["endpoints"]["l1"]["chain_id"], 900);
    let l2: Vec<u64> = status["endpoints"]["l2"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["chain_id"].as_u64().unwrap())
        .collect();
    assert_eq!(l2, [901, 902, 903]);
    for (_, rpc) in env.rpcs() {
        assert!(rpc.starts_with("http://127.0.0.1:"));
    }
    assert_eq!(env.json(&["smoke"])["ok"], true);
    let list = env.json(&["list"]);
    assert_eq!(list[0]["name"], "three");
    assert_eq!(list[0]["state"], "running");
}

/// Files of a chain's on-disk state history.
fn history_files(env: &Env, chain: &str) -> usize {
    std::fs::read_dir(env.devnet_dir().join("data").join(chain).join("history"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn chain_history_stays_in_the_devnet_folder_bounded_and_is_emptied_at_start() {
    let env = Env::new("history");
    env.json(&[
        "up",
        "--ports",
        "auto",
        "--no-indexer",
        "--no-faucet",
        "--no-monitoring",
    ]);
    // OP-mode states are the larger ones, which anvil moves to disk soonest.
    let l2 = env.rpcs()[1].1.clone();
    let provider = ProviderBuilder::new().connect_http(l2.parse().unwrap());
    // 4,000 blocks: far more than the history keeps.
    let _: serde_json::Value = provider
        .raw_request("anvil_mine".into(), (4000u64,))
        .await
        .unwrap();
    let limit = opdev_profiles::lite::HISTORY_STATES as usize;
    assert!(
        eventually(15, async || history_files(&env, "l2-1") > 0).await,
        "anvil writes its state history into the devnet folder"
    );
    assert!(
        history_files(&env, "l2-1") <= limit + 1,
        "at most {limit} states on disk: {}",
        history_files(&env, "l2-1")
    );
    env.ok(&["down"]);
    let before = history_files(&env, "l2-1");
    assert!(before > 0);
    env.json(&["up"]);
    assert!(
        history_files(&env, "l2-1") < before,
        "a start empties the old history ({before} files before)"
    );
}
