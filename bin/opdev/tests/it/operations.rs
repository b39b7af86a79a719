//! Day-to-day operations on a devnet: restart, deploy, logs, foreground, plan, config layers.

use std::{io::BufRead, process::Stdio, time::Duration};

use crate::support::{Env, anvil, eventually, head, script, text};

#[tokio::test]
async fn restart_and_deploy_swap_the_process_and_keep_the_chain() {
    let env = Env::new("ops");
    env.ok(&["up", "-q", "--ports", "auto"]);
    let before = env.service("l1");
    let rpc = env.rpcs()[0].1.clone();
    let head_before = head(&rpc).await;

    let out = env.ok(&["restart", "l1"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("l1 restarted and ready"),
        "{}",
        text(&out)
    );
    let after = env.service("l1");
    assert_ne!(after["pid"], before["pid"]);
    assert_eq!(after["restarts"], 0, "a requested restart is not a crash");
    assert!(head(&rpc).await >= head_before);

    // deploy runs the service from another executable: here a wrapper that marks its log.
    let dir = tempfile::tempdir().unwrap();
    let wrapper = script(
        dir.path(),
        "my-anvil",
        &format!("echo local-build-marker\nexec {} \"$@\"", anvil().display()),
    );
    env.ok(&["deploy", "l2-1", "--binary", wrapper.to_str().unwrap()]);
    let l2 = env.service("l2-1");
    assert_eq!(l2["binary"], wrapper.to_str().unwrap());
    assert_eq!(l2["state"], "ready");
    let log = std::fs::read_to_string(env.devnet_dir().join("logs/l2-1.log")).unwrap();
    assert!(log.contains("local-build-marker"));
    assert_eq!(env.json(&["smoke"])["ok"], true);

    // The choice survives down/up.
    env.ok(&["down"]);
    env.ok(&["up", "-q"]);
    assert_eq!(env.service("l2-1")["binary"], wrapper.to_str().unwrap());
}

#[tokio::test]
async fn logs_show_tail_and_follow_new_lines() {
    let env = Env::new("logs");
    env.ok(&["up", "-q", "--ports", "auto"]);
    let out = env.ok(&["logs", "l1", "--tail", "3"]);
    let lines: Vec<_> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 3, "{}", text(&out));

    let out = env.ok(&["logs", "--tail", "1000"]);
    let all = String::from_utf8_lossy(&out.stdout);
    let prefixed = |service: &str| {
        all.lines()
            .any(|l| l.starts_with(service) && l.contains(" | "))
    };
    assert!(
        prefixed("l1 ") && prefixed("l2-1 ") && prefixed("postgres "),
        "{all}"
    );
    assert!(all.contains("--- opdev: started pid"));

    let sup = env.ok(&["logs", "supervisor"]);
    assert!(String::from_utf8_lossy(&sup.stdout).contains("supervisor started"));

    // --follow prints lines written after it started.
    let mut follow = env
        .cmd(&["logs", "l1", "--follow", "--tail", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follow.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("eth_chainId"))
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rpc = env.rpcs()[0].1.clone();
    opdev_chain::rpc::Probe::new(&rpc)
        .unwrap()
        .chain_id()
        .await
        .unwrap();
    let seen = eventually(10, async || reader.is_finished()).await;
    follow.kill().unwrap();
    let _ = follow.wait();
    assert!(seen, "follow did not show the new request");
    assert!(reader.join().unwrap().is_some());
}

#[tokio::test]
async fn foreground_runs_until_interrupted_and_saves_state() {
    let env = Env::new("fg");
    let mut child = env
        .cmd(&["up", "--foreground", "--ports", "auto"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("is ready"));
    assert!(ready, "foreground up never reported ready");
    assert_eq!(env.status()["running"], true);
    assert_eq!(env.json(&["smoke"])["ok"], true);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(env.status()["running"], false);
    assert!(env.devnet_dir().join("data/l1/state.json").is_file());
}

#[test]
fn plan_prints_graph_and_steps_and_starts_nothing() {
    let env = Env::new("plan");
    let out = env.ok(&["up", "--plan", "--l2", "2"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "services",
        "l1",
        "l2-2",
        "--network optimism",
        "steps",
        "start:l2-2",
        "blocks advance",
    ] {
        assert!(text.contains(needle), "plan lacks {needle}:\n{text}");
    }
    assert!(!env.devnet_dir().exists(), "--plan wrote the devnet folder");
}

#[test]
fn settings_layer_file_then_env_then_flags() {
    let env = Env::new("layers");
    std::fs::write(
        env.home.path().join("opdev.toml"),
        "l2 = 2\nblock_time = 3\nl1_chain_id = 1337\n",
    )
    .unwrap();
    let plan = env.json(&["up", "--plan"]);
    assert_eq!(plan["config"]["l2"].as_array().unwrap().len(), 2);
    assert_eq!(plan["config"]["l2"][0]["block_time"], 3);
    assert_eq!(plan["config"]["l1"]["chain_id"], 1337);

    let out = env
        .cmd(&["up", "--plan", "--json"])
        .env("OPDEV_L2", "3")
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plan["config"]["l2"].as_array().unwrap().len(),
        3,
        "env beats file"
    );

    let out = env
        .cmd(&["up", "--plan", "--json", "--l2", "1"])
        .env("OPDEV_L2", "3")
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plan["config"]["l2"].as_array().unwrap().len(),
        1,
        "flag beats env"
    );
    assert_eq!(
        plan["config"]["l1"]["chain_id"], 1337,
        "unset flags keep the file's value"
    );
}

#[tokio::test]
async fn zero_block_time_mines_per_transaction_and_custom_mnemonic_funds_its_accounts() {
    let env = Env::new("automine");
    let mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    let up = env.json(&[
        "up",
        "--ports",
        "auto",
        "--block-time",
        "0",
        "--l1-block-time",
        "0",
        "--mnemonic",
        mnemonic,
        // The bridge's relayer sends an L1-info deposit for every L1 block and proposes outputs,
        // which mines blocks of their own on automining chains.
        "--no-bridge",
    ]);
    let first = up["accounts"][0]["address"].as_str().unwrap().to_owned();
    assert_eq!(first, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
    let rpc = env.rpcs()[1].1.clone();
    let h0 = head(&rpc).await;
    assert_eq!(env.json(&["smoke"])["ok"], true);
    assert_eq!(
        head(&rpc).await,
        h0 + 2,
        "each transaction mines its own block"
    );
    let config = std::fs::read_to_string(env.devnet_dir().join("config.toml")).unwrap();
    assert!(config.contains("abandon"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.devnet_dir().join("config.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the config holds the mnemonic");
    let sup = std::fs::read_to_string(env.devnet_dir().join("logs/supervisor.log")).unwrap();
    assert!(
        !sup.contains("abandon"),
        "the mnemonic is in the supervisor log"
    );
}
