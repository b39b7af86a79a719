//! Every bad input ends with a one-line cause, a hint, a documented exit code, and nothing left
//! running or half-written.

use std::{net::TcpListener, process::Output};

use crate::support::{Env, alive, script, stderr, text};

/// Asserts exit code `code` and that stderr's first line contains every needle, plus a hint.
fn fails(out: &Output, code: i32, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(code), "{}", text(out));
    let err = stderr(out);
    let first = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line: {}", text(out)));
    for needle in needles {
        assert!(
            first.contains(needle),
            "{needle:?} not in {first:?}\n{}",
            text(out)
        );
    }
    assert!(err.contains("hint:"), "no hint: {}", text(out));
}

fn nothing_left(env: &Env) {
    assert!(
        !env.devnet_dir().exists(),
        "a failed first up left {}",
        env.devnet_dir().display()
    );
}

#[test]
fn port_in_use_is_named_and_nothing_starts() {
    let env = Env::new("busy");
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let out = env.run(&["up", "--l1-port", &port, "--l2-port", "0"]);
    // l2_port 0 is invalid before any port is checked
    fails(&out, 2, &["l2_port"]);
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let out = env.run(&["up", "--l1-port", &port, "--l2-port", &free]);
    fails(&out, 6, &[&format!("port {port}"), "l1", "in use"]);
    nothing_left(&env);
}

#[test]
fn missing_or_non_executable_binary() {
    let env = Env::new("nobin");
    let dir = tempfile::tempdir().unwrap();
    let out = env.run(&["up", "--ports", "auto", "--anvil-bin", "/nonexistent/anvil"]);
    fails(&out, 7, &["/nonexistent/anvil", "no such file"]);
    nothing_left(&env);
    let plain = dir.path().join("anvil");
    std::fs::write(&plain, "not a program").unwrap();
    let out = env.run(&[
        "up",
        "--ports",
        "auto",
        "--anvil-bin",
        plain.to_str().unwrap(),
    ]);
    fails(&out, 7, &["not executable"]);
    nothing_left(&env);
}

#[test]
fn invalid_values_and_unknown_keys() {
    let env = Env::new("bad");
    let cases: &[(&[&str], &[&str])] = &[
        (&["up", "--l2", "0"], &["invalid l2", "1 to 8"]),
        (&["up", "--l2", "9"], &["invalid l2"]),
        (&["up", "--l1-chain-id", "0"], &["l1_chain_id"]),
        (&["up", "--l2-chain-id", "900"], &["l2_chain_id", "L1"]),
        (&["up", "--block-time", "99999"], &["block_time"]),
        (
            &["up", "--mnemonic", "not a real mnemonic at all"],
            &["mnemonic"],
        ),
        (
            &[
                "up",
                "--mnemonic",
                "test test test test test test test test test test test test",
            ],
            &["mnemonic"],
        ),
        (&["up", "--name", "Bad Name!"], &["name"]),
        (
            &["up", "--image", "nosuch=example/x:1"],
            &["nosuch", "no service or tool", "l2-1"],
        ),
        (
            &["up", "--binary", "nosuch=/bin/true"],
            &["nosuch", "no service or tool"],
        ),
    ];
    for (args, needles) in cases {
        let out = env.run(args);
        fails(&out, 2, needles);
    }
    // clap's own value errors (not a number, not SERVICE=VALUE) are exit 2 too.
    let out = env.run(&["up", "--block-time", "fast"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    for bad in [["--image", "l1"], ["--binary", "=/bin/true"]] {
        let out = env.run(&["up", bad[0], bad[1]]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(stderr(&out).contains("SERVICE=VALUE"), "{}", text(&out));
    }
    // A binary that does not exist is named (exit 7), before anything starts.
    let out = env.run(&["up", "--binary", "anvil=/nonexistent/anvil"]);
    fails(&out, 7, &["/nonexistent/anvil"]);

    std::fs::write(
        env.home.path().join("opdev.toml"),
        "l2 = 2\nblok_time = 3\n",
    )
    .unwrap();
    let out = env.run(&["up"]);
    fails(&out, 2, &["opdev.toml", "blok_time"]);
    std::fs::write(env.home.path().join("opdev.toml"), "l2 = \"two\"\n").unwrap();
    fails(&env.run(&["up"]), 2, &["opdev.toml"]);
    std::fs::remove_file(env.home.path().join("opdev.toml")).unwrap();

    let out = env
        .cmd(&["up"])
        .env("OPDEV_BLOK_TIME", "3")
        .output()
        .unwrap();
    fails(&out, 2, &["OPDEV_BLOK_TIME"]);
    let out = env.cmd(&["up"]).env("OPDEV_L2", "many").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = env.run(&["up", "--config", "/nonexistent/opdev.toml"]);
    fails(&out, 2, &["/nonexistent/opdev.toml"]);
    nothing_left(&env);
}

#[test]
fn commands_on_a_devnet_that_does_not_exist() {
    let env = Env::new("ghost");
    for args in [
        &["down"][..],
        &["status"],
        &["logs"],
        &["restart", "l1"],
        &["smoke"],
        &["purge", "--yes"],
        &["deploy", "l1", "--binary", "/bin/true"],
    ] {
        let out = env.run(args);
        fails(&out, 3, &["'ghost'", "does not exist"]);
    }
}

#[test]
fn second_up_of_a_running_devnet_is_refused_by_the_lock() {
    let env = Env::new("twice");
    env.ok(&["up", "-q", "--ports", "auto"]);
    let pid = env.status()["supervisor_pid"].as_u64().unwrap();
    let out = env.run(&["up"]);
    fails(&out, 4, &["already running", &pid.to_string()]);
    // Two more at once: both refused, the devnet untouched.
    let a = env.cmd(&["up"]).spawn().unwrap();
    let b = env.cmd(&["up"]).spawn().unwrap();
    for child in [a, b] {
        assert_eq!(child.wait_with_output().unwrap().status.code(), Some(4));
    }
    assert_eq!(env.status()["supervisor_pid"].as_u64(), Some(pid));

    // Commands that need a running devnet say when it is not.
    env.ok(&["down"]);
    fails(&env.run(&["smoke"]), 5, &["not running"]);
    fails(&env.run(&["restart", "l1"]), 5, &["not running"]);
    fails(&env.run(&["restart", "l9"]), 2, &["no service 'l9'"]);
    fails(&env.run(&["logs", "nope"]), 2, &["no service 'nope'"]);
    let out = env.ok(&["down"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("was not running"));

    // A chain-changing setting on an existing devnet needs --fresh.
    fails(
        &env.run(&["up", "--l1-chain-id", "1234"]),
        2,
        &["l1_chain_id", "new chain"],
    );
    env.ok(&["up", "-q", "--l1-chain-id", "1234", "--fresh"]);
    assert_eq!(env.status()["endpoints"]["l1"]["chain_id"], 1234);
}

#[test]
fn purge_without_yes_and_without_a_terminal_is_refused() {
    let env = Env::new("keep");
    env.ok(&["up", "-q", "--ports", "auto"]);
    let out = env
        .cmd(&["purge"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    fails(&out, 2, &["without confirmation"]);
    assert!(env.devnet_dir().exists());
}

#[test]
fn service_that_exits_at_once_fails_up_with_its_last_log_lines() {
    let env = Env::new("crash");
    let dir = tempfile::tempdir().unwrap();
    let bad = script(
        dir.path(),
        "anvil",
        "echo 'fatal: cannot open the flux capacitor' >&2\nexit 3",
    );
    let out = env.run(&[
        "up",
        "--ports",
        "auto",
        "--anvil-bin",
        bad.to_str().unwrap(),
    ]);
    fails(&out, 8, &["did not become ready", "exit code 3"]);
    assert!(
        stderr(&out).contains("| fatal: cannot open the flux capacitor"),
        "{}",
        text(&out)
    );
    nothing_left(&env);
    // The folder (and the log) went with the failure: the hint does not send the user to it,
    // and the command it gives names this devnet.
    let hint = stderr(&out)
        .lines()
        .find(|l| l.trim_start().starts_with("hint:"))
        .unwrap_or_default()
        .to_owned();
    assert!(!hint.contains("opdev logs"), "{}", text(&out));
    assert!(hint.contains("was removed"), "{}", text(&out));
    assert!(hint.contains("`opdev up --name crash`"), "{}", text(&out));
}

#[test]
fn parser_errors_are_one_line_with_a_hint_and_exit_2() {
    let env = Env::new("parse");
    let address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    let cases: &[(&[&str], &[&str], &str)] = &[
        (&["up", "--block-time", "-1"], &["'-1'"], "opdev up --help"),
        (&["nosuchcmd"], &["'nosuchcmd'"], "opdev --help"),
        (&["up", "--ports", "1:2"], &["'1:2'", "--ports"], "--ports"),
        (
            &["faucet", address, "--chain", "-1"],
            &["'-1'"],
            "opdev faucet --help",
        ),
        (&["upp"], &["'upp'"], "`opdev up`"),
        (
            &["status", "--nosuch"],
            &["'--nosuch'"],
            "opdev status --help",
        ),
    ];
    for (args, needles, in_hint) in cases {
        for json in [false, true] {
            let mut all = args.to_vec();
            if json {
                all.push("--json");
            }
            let out = env.run(&all);
            fails(&out, 2, needles);
            let err = stderr(&out);
            let lines: Vec<&str> = err.lines().collect();
            assert_eq!(
                lines.len(),
                2,
                "one error line and one hint line: {}",
                text(&out)
            );
            assert!(lines[0].starts_with("error: "), "{}", text(&out));
            assert!(
                lines[1].trim_start().starts_with("hint: "),
                "{}",
                text(&out)
            );
            assert!(lines[1].contains(in_hint), "{in_hint:?}: {}", text(&out));
            assert!(!err.contains("Usage:"), "{}", text(&out));
            if json {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout)
                    .unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
                assert_eq!(v["exit_code"], 2);
                assert!(v["hint"].is_string());
            } else {
                assert!(out.stdout.is_empty(), "{}", text(&out));
            }
        }
    }
    nothing_left(&env);
    // Help and version print as usual, on stdout, with exit code 0.
    for args in [&["--help"][..], &["up", "--help"], &["--version"]] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("Usage:") || stdout.starts_with("opdev "),
            "{}",
            text(&out)
        );
        assert!(out.stderr.is_empty(), "{}", text(&out));
    }
}

#[test]
fn service_that_never_becomes_ready_is_named_and_stopped() {
    let env = Env::new("hang");
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let body = format!(
        "echo $$ >> {}\necho 'listening nowhere'\nexec sleep 600",
        pidfile.display()
    );
    let bad = script(dir.path(), "anvil", &body);
    let out = env.run(&[
        "up",
        "--ports",
        "auto",
        "--l1-block-time",
        "0",
        "--block-time",
        "0",
        "--anvil-bin",
        bad.to_str().unwrap(),
    ]);
    fails(&out, 8, &["did not become ready", "chain id"]);
    assert!(
        stderr(&out).contains("| listening nowhere"),
        "{}",
        text(&out)
    );
    nothing_left(&env);
    let pids = std::fs::read_to_string(&pidfile).unwrap();
    for pid in pids.lines() {
        assert!(
            !alive(pid.parse().unwrap()),
            "process {pid} of the failed service is still running"
        );
    }
}

/// The full profile's bad inputs that need no chain: a `--binary` of the wrong program (checked
/// by its `--help`), and a profile switch on an existing devnet without `--fresh`.
#[test]
fn full_profile_refuses_the_wrong_program_and_a_profile_switch() {
    let env = Env::new("fullbad");
    let dir = tempfile::tempdir().unwrap();
    let other = script(
        dir.path(),
        "op-node",
        "echo '  --max-channel-duration value   the batcher flag'",
    );
    let out = env.run(&[
        "up",
        "--profile",
        "full",
        "--ports",
        "auto",
        "--binary",
        &format!("op-node={}", other.display()),
    ]);
    fails(
        &out,
        7,
        &["op-node", "it is not op-node", "looks like op-batcher"],
    );
    assert!(
        stderr(&out).contains("leave that --binary out"),
        "{}",
        text(&out)
    );
    nothing_left(&env);
    let out = env.run(&[
        "up",
        "--profile",
        "full",
        "--ports",
        "auto",
        "--binary",
        "l2-1-batcher=/bin/true",
    ]);
    fails(&out, 7, &["op-batcher binary", "/bin/true"]);
    nothing_left(&env);

    env.ok(&[
        "up",
        "-q",
        "--ports",
        "auto",
        "--no-indexer",
        "--no-faucet",
        "--no-monitoring",
    ]);
    env.ok(&["down", "-q"]);
    let out = env.run(&["up", "--profile", "full"]);
    fails(&out, 2, &["profile (lite, not full)", "new chain"]);
    assert!(stderr(&out).contains("--fresh"), "{}", text(&out));
}

/// An op-node whose safe head never moves (its batcher answers but posts nothing) fails `up`
/// naming op-node with its last log lines, and nothing stays running.
#[test]
fn full_profile_op_node_that_never_derives_a_safe_block_is_named_and_stopped() {
    let env = Env::new("nosafe");
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    // A stand-in op-batcher: it passes the program check and listens on its RPC port, but never
    // posts a batch.
    let body = format!(
        "if [ \"$1\" = --help ]; then echo '--max-channel-duration'; exit 0; fi\n\
         echo $$ >> {}\n\
         while [ $# -gt 0 ]; do [ \"$1\" = --rpc.port ] && port=$2; shift; done\n\
         exec python3 -m http.server \"$port\" --bind 127.0.0.1",
        pidfile.display()
    );
    let batcher = script(dir.path(), "op-batcher", &body);
    let out = env.run(&[
        "up",
        "--profile",
        "full",
        "--ports",
        "auto",
        "--no-indexer",
        "--no-faucet",
        "--no-monitoring",
        "--binary",
        &format!("op-batcher={}", batcher.display()),
    ]);
    fails(
        &out,
        8,
        &["l2-1-node", "did not become ready", "safe L2 head"],
    );
    let err = stderr(&out);
    assert!(
        err.contains("| ") && err.contains("lvl="),
        "op-node's last log lines are shown: {}",
        text(&out)
    );
    nothing_left(&env);
    for pid in std::fs::read_to_string(&pidfile).unwrap().lines() {
        assert!(!alive(pid.parse().unwrap()), "the batcher {pid} still runs");
    }
    let leftovers = std::process::Command::new("pgrep")
        .args(["-f", &env.home.path().display().to_string()])
        .output()
        .unwrap();
    assert!(
        leftovers.stdout.is_empty(),
        "processes of the failed devnet still run: {}",
        String::from_utf8_lossy(&leftovers.stdout)
    );
}
