//! opdev in the daily loop: `opdev env` evaluated by real shells (bash, zsh, fish) against a
//! running devnet, completion scripts that the shells parse, an L1 and an L2 forked from
//! upstream anvils (what the fork sees, how `down`/`up` resumes it, bad URLs), and what a kill -9
//! of an L2 keeps with the default state interval.

use std::{
    io::{Read, Write},
    process::Command,
    time::Duration,
};

use alloy::primitives::{Address, U256, address};
use opdev_spec::config::{DEFAULT_MNEMONIC, DEFAULT_STATE_INTERVAL};
use opdev_test_utils::TestAnvil;
use serde_json::{Value, json};

use crate::support::{Env, eventually, head, stderr, text};

const RICH: Address = address!("0x00000000000000000000000000000000000000aa");
const LOCAL: Address = address!("0x00000000000000000000000000000000000000bb");

async fn call(url: &str, method: &'static str, params: Value) -> Value {
    let client = alloy::rpc::client::RpcClient::new_http(url.parse().unwrap());
    client.request::<_, Value>(method, params).await.unwrap()
}

async fn balance(url: &str, who: Address) -> U256 {
    let v = call(url, "eth_getBalance", json!([who, "latest"])).await;
    v.as_str().unwrap().parse().unwrap()
}

/// Runs `script` in `shell -c` with the devnet's environment; `BIN` is the opdev binary.
fn shell(env: &Env, shell: &str, script: &str) -> std::process::Output {
    Command::new(shell)
        .arg("-c")
        .arg(script)
        .env("OPDEV_HOME", env.home.path())
        .env("OPDEV_NAME", &env.name)
        .env("BIN", env!("CARGO_BIN_EXE_opdev"))
        .env_remove("OPDEV_CONFIG")
        .current_dir(env.home.path())
        .output()
        .unwrap()
}

#[tokio::test]
async fn env_is_evaluated_by_bash_zsh_and_fish_against_a_running_devnet() {
    let env = Env::new("envsh");
    env.ok(&["up", "-q", "--ports", "auto"]);
    let status = env.status();
    let l2 = status["endpoints"]["l2"][0]["rpc"]
        .as_str()
        .unwrap()
        .to_owned();
    let l1 = status["endpoints"]["l1"]["rpc"]
        .as_str()
        .unwrap()
        .to_owned();
    // status --json gains Prometheus and Alertmanager in the explorer's shape.
    for service in ["prometheus", "alertmanager", "explorer", "faucet"] {
        assert!(
            status[service]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("http://127.0.0.1:")),
            "{service}: {status}"
        );
        assert_eq!(status[service]["state"], "ready", "{service}: {status}");
    }

    // The JSON form holds every variable; the password is in DATABASE_URL (and only here).
    let vars = env.json(&["env"]);
    assert_eq!(vars["ETH_RPC_URL"], l2.as_str());
    assert_eq!(vars["L1_RPC_URL"], l1.as_str());
    assert_eq!(vars["L2_1_CHAIN_ID"], "901");
    assert!(vars["L2_1_WS_URL"].as_str().unwrap().starts_with("ws://"));
    let db = vars["DATABASE_URL"].as_str().unwrap().to_owned();
    assert!(!db.contains("***"), "{db}");
    assert!(
        status["database"]["url"].as_str().unwrap().contains("***"),
        "status keeps masking it"
    );
    for key in [
        "FAUCET_URL",
        "EXPLORER_URL",
        "INDEXER_URL",
        "PROMETHEUS_URL",
        "ALERTMANAGER_URL",
    ] {
        assert!(vars[key].as_str().is_some(), "{key}: {vars}");
    }
    assert_eq!(vars["PROMETHEUS_URL"], status["prometheus"]["url"]);
    assert_eq!(
        env.json(&["env", "--chain", "l1"])["ETH_RPC_URL"],
        l1.as_str()
    );
    let out = env.run(&["env", "--chain", "l7"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // A real shell evaluates the output, then reaches the chain, the database and Prometheus
    // with it; opdev still runs in that shell (nothing exported is an OPDEV_* setting).
    let check = r#"printf '%s\n' "$ETH_RPC_URL" "$L1_CHAIN_ID"
curl -sf -H 'content-type: application/json' \
  -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$ETH_RPC_URL"; echo
psql "$DATABASE_URL" -tAc 'select 42'
curl -sf "$PROMETHEUS_URL/-/ready" >/dev/null && echo prometheus-ready
"$BIN" status -q && echo opdev-ok"#;
    for sh in ["bash", "zsh"] {
        let out = shell(&env, sh, &format!("eval \"$(\"$BIN\" env)\" && {check}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{sh}: {}", text(&out));
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines[0], l2, "{sh}: {stdout}");
        assert_eq!(lines[1], "900", "{sh}: {stdout}");
        assert!(lines[2].contains("\"result\":\"0x385\""), "{sh}: {stdout}");
        assert_eq!(lines[3], "42", "{sh}: the password works: {stdout}");
        assert_eq!(
            &lines[4..],
            ["prometheus-ready", "opdev-ok"],
            "{sh}: {stdout}"
        );
    }
    let fish = r#""$BIN" env --shell fish | source
and printf '%s\n' $ETH_RPC_URL $L1_CHAIN_ID
and psql $DATABASE_URL -tAc 'select 42'
and curl -sf $PROMETHEUS_URL/-/ready >/dev/null
and echo prometheus-ready"#;
    let out = shell(&env, "fish", fish);
    assert!(out.status.success(), "fish: {}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [l2.as_str(), "900", "42", "prometheus-ready"],
        "fish: {stdout}"
    );
}

#[test]
fn completion_scripts_are_generated_for_every_shell_and_parse() {
    let env = Env::new("compl");
    let dir = tempfile::tempdir().unwrap();
    for sh in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = env.ok(&["completions", sh]);
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains("opdev"), "{sh}: {script}");
        for flag in ["fork-url", "pull", "completions", "env"] {
            assert!(script.contains(flag), "{sh} lacks {flag}");
        }
        let file = dir.path().join(sh);
        std::fs::write(&file, &script).unwrap();
        // The shells installed here check the syntax without running anything.
        let check = match sh {
            "bash" => Some(("bash", "-n")),
            "zsh" => Some(("zsh", "-n")),
            "fish" => Some(("fish", "--no-execute")),
            _ => None,
        };
        if let Some((program, flag)) = check {
            let out = Command::new(program).arg(flag).arg(&file).output().unwrap();
            assert!(out.status.success(), "{sh}: {}", text(&out));
        }
    }
    // bash: once sourced, `opdev <TAB>` offers the subcommands.
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && COMP_WORDS=(opdev '') COMP_CWORD=1 && _opdev opdev '' opdev && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            dir.path().join("bash").display()
        ))
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&out.stdout);
    for word in ["up", "env", "completions", "status"] {
        assert!(offered.lines().any(|l| l == word), "{word}: {}", text(&out));
    }
    let out = env.run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// An HTTP server on 127.0.0.1 that answers everything with 404: a URL that is not JSON-RPC.
fn not_rpc() -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot here\n",
            );
        }
    });
    (url, handle)
}

#[tokio::test]
async fn l1_and_l2_forks_see_their_upstream_and_resume_after_down() {
    // The upstreams: an L1 holding a Counter (incremented once) and a balance; an OP-mode L2
    // holding another balance.
    let upstream = TestAnvil::start(&["--chain-id", "4242"]);
    let report = opdev_chain::smoke::run(
        &upstream.url(),
        4242,
        DEFAULT_MNEMONIC,
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    let counter = report.counter;
    call(&upstream.url(), "anvil_setBalance", json!([RICH, "0x1234"])).await;
    call(&upstream.url(), "evm_mine", json!([])).await;
    let upstream_head = head(&upstream.url()).await;
    let l2_upstream = TestAnvil::start(&["--chain-id", "4343", "--network", "optimism"]);
    call(
        &l2_upstream.url(),
        "anvil_setBalance",
        json!([RICH, "0x5678"]),
    )
    .await;

    let env = Env::new("fork");
    let l2_fork = format!("l2-1={}", l2_upstream.url());
    env.ok(&[
        "up",
        "-q",
        "--ports",
        "auto",
        "--no-indexer",
        "--no-faucet",
        "--no-monitoring",
        "--fork-url",
        &upstream.url(),
        "--l2-fork-url",
        &l2_fork,
    ]);
    let rpcs = env.rpcs();
    let (l1, l2) = (rpcs[0].1.clone(), rpcs[1].1.clone());
    // The devnet keeps its own chain ids; the forks see the upstreams' state.
    assert_eq!(call(&l1, "eth_chainId", json!([])).await, "0x384");
    assert_eq!(call(&l2, "eth_chainId", json!([])).await, "0x385");
    assert_eq!(
        opdev_chain::smoke::counter_value(&l1, counter)
            .await
            .unwrap(),
        U256::from(1)
    );
    assert_eq!(balance(&l1, RICH).await, U256::from(0x1234));
    assert_eq!(balance(&l2, RICH).await, U256::from(0x5678));
    assert!(
        head(&l1).await >= upstream_head,
        "the fork starts at the upstream's head"
    );
    // The fork was pinned to the upstream's head at creation.
    let saved = std::fs::read_to_string(env.devnet_dir().join("config.toml")).unwrap();
    assert!(
        saved.contains(&format!("block_number = {upstream_head}")),
        "{saved}"
    );
    // The devnet works on top of the fork.
    assert_eq!(env.json(&["smoke"])["ok"], true);

    // Changes made on the fork survive down/up; the upstream's state is still seen.
    call(&l1, "anvil_setBalance", json!([LOCAL, "0x99"])).await;
    let before = head(&l1).await;
    env.ok(&["down", "-q"]);
    // The upstream moves on meanwhile (a transfer in a new block; anvil's own anvil_setBalance
    // would rewrite history too): the fork stays at its pinned block.
    let dev1 = opdev_chain::accounts::derive(DEFAULT_MNEMONIC, 2).unwrap()[1].address;
    call(
        &upstream.url(),
        "eth_sendTransaction",
        json!([{"from": dev1, "to": RICH, "value": "0x5"}]),
    )
    .await;
    assert_eq!(balance(&upstream.url(), RICH).await, U256::from(0x1239));
    env.ok(&["up", "-q"]);
    assert_eq!(balance(&l1, LOCAL).await, U256::from(0x99));
    assert_eq!(balance(&l1, RICH).await, U256::from(0x1234));
    assert_eq!(
        opdev_chain::smoke::counter_value(&l1, counter)
            .await
            .unwrap(),
        U256::from(1)
    );
    assert!(head(&l1).await >= before, "the fork's own blocks resume");

    // Another upstream is another chain: that needs --fresh.
    env.ok(&["down", "-q"]);
    let out = env.run(&["up", "--fork-url", &l2_upstream.url()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("fork_url"), "{}", text(&out));
}

#[tokio::test]
async fn an_unreachable_or_wrong_fork_url_is_one_line_before_anything_starts() {
    let env = Env::new("forkbad");
    let port = opdev_test_utils::free_port();
    let dead = format!("http://127.0.0.1:{port}");
    let (wrong, server) = not_rpc();
    for url in [dead.as_str(), wrong.as_str()] {
        let out = env.run(&["up", "--ports", "auto", "--fork-url", url]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let err = stderr(&out);
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{err}");
        assert!(errors[0].contains(&format!("fork l1 from {url}")), "{err}");
        assert!(err.contains("hint:"), "{err}");
        assert!(!env.devnet_dir().exists(), "nothing was written: {err}");
    }
    server.join().unwrap();
    let out = env.run(&["up", "--fork-url", "ftp://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = env.run(&["up", "--l2-fork-url", "l2-5=http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("l2-5"), "{}", text(&out));
}

#[tokio::test]
async fn kill_9_right_after_a_deployment_keeps_it_within_the_state_interval() {
    let env = Env::new("crash");
    env.ok(&[
        "up",
        "-q",
        "--ports",
        "auto",
        "--no-indexer",
        "--no-faucet",
        "--no-monitoring",
    ]);
    let rpc = env.rpcs()[1].1.clone();
    let report = opdev_chain::smoke::run(&rpc, 901, DEFAULT_MNEMONIC, Duration::from_secs(30))
        .await
        .unwrap();
    // One state interval (and a little for the write) after the receipt, a kill -9 keeps it.
    tokio::time::sleep(Duration::from_millis(DEFAULT_STATE_INTERVAL * 1000 + 300)).await;
    let saved = env.status()["endpoints"]["l2"][0]["state_saved_secs_ago"].clone();
    assert!(
        saved.as_u64().is_some_and(|s| s <= DEFAULT_STATE_INTERVAL),
        "status says when the state was saved: {saved}"
    );
    let before = env.service("l2-1");
    let pid = before["pid"].as_u64().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let restarted = eventually(20, async || {
        let s = env.service("l2-1");
        s["state"] == "ready" && s["pid"].as_u64() != Some(pid)
    })
    .await;
    assert!(restarted, "l2-1 did not come back: {}", env.service("l2-1"));
    assert_eq!(
        opdev_chain::smoke::counter_value(&rpc, report.counter)
            .await
            .unwrap(),
        U256::from(1),
        "the Counter deployed and incremented before the kill is still there"
    );
    assert!(head(&rpc).await >= report.block);
}

#[tokio::test]
async fn a_state_file_cut_short_by_a_kill_during_a_save_falls_back_to_the_previous_start() {
    let env = Env::new("cutshort");
    let up = [
        "up",
        "-q",
        "--ports",
        "auto",
        "--no-indexer",
        "--no-faucet",
        "--no-monitoring",
    ];
    env.ok(&up);
    let rpc = env.rpcs()[1].1.clone();
    let report = opdev_chain::smoke::run(&rpc, 901, DEFAULT_MNEMONIC, Duration::from_secs(30))
        .await
        .unwrap();
    env.ok(&["down", "-q"]);
    // This start copies the state saved at `down` (with the Counter) aside.
    env.ok(&up[..2]);
    env.ok(&["down", "-q"]);
    // What a kill in the middle of a save leaves: the first part of the file.
    let state = env.devnet_dir().join("data/l2-1/state.json");
    let bytes = std::fs::read(&state).unwrap();
    std::fs::write(&state, &bytes[..bytes.len() / 2]).unwrap();
    env.ok(&up[..2]);
    assert_eq!(
        opdev_chain::smoke::counter_value(&rpc, report.counter)
            .await
            .unwrap(),
        U256::from(1),
        "the chain came back from the copy of the previous start"
    );
    let log = std::fs::read_to_string(env.devnet_dir().join("logs/l2-1.log")).unwrap();
    assert!(log.contains("was cut short"), "{log}");
    assert!(
        env.devnet_dir()
            .join("data/l2-1/state.json.broken")
            .is_file()
    );
}
