//! Real components for tests, started on free loopback ports and stopped on drop:
//! [`TestPostgres`] (a throwaway PostgreSQL server, run unprivileged when the tests run as root,
//! exactly as the devnet runs it) and [`TestAnvil`] (one anvil chain); and [`op_deposit_raw`],
//! an OP deposit transaction to send to an OP-mode anvil.

use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};

/// A free port on 127.0.0.1 (outside the ephemeral range).
pub fn free_port() -> u16 {
    opdev_orchestrator::ports::pick_free(&[]).expect("a free port")
}

fn wait_port(port: u16, child: &mut Child, what: &str, log: &Path) {
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "{what} did not listen on {port} within 30 s: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn stop(child: &mut Child, signal: Signal) {
    let _ = kill(Pid::from_raw(child.id() as i32), signal);
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A PostgreSQL server in a temporary folder, with trust authentication on 127.0.0.1.
pub struct TestPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    child: Option<Child>,
    /// Its port.
    pub port: u16,
}

impl TestPostgres {
    /// initdb + start; panics with the server's log if it does not come up.
    pub fn start() -> Self {
        let bin = opdev_orchestrator::tools::postgres_bin_dir().expect("PostgreSQL is installed");
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("pg");
        let (program, args) = opdev_runtime::native::command_line(
            &bin.join("initdb"),
            [
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ]
            .map(String::from)
            .to_vec(),
            true,
        )
        .expect("initdb command");
        let out = Command::new(program)
            .args(args)
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut pg = Self {
            dir,
            bin,
            child: None,
            port: free_port(),
        };
        pg.start_server();
        pg
    }

    fn start_server(&mut self) {
        let data = self.dir.path().join("pg");
        let log_path = self.dir.path().join("server.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let args = [
            "-D",
            data.to_str().unwrap(),
            "-p",
            &self.port.to_string(),
            "-k",
            self.dir.path().to_str().unwrap(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ]
        .map(String::from)
        .to_vec();
        let (program, args) =
            opdev_runtime::native::command_line(&self.bin.join("postgres"), args, true)
                .expect("postgres command");
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("postgres starts");
        wait_port(self.port, &mut child, "postgres", &log_path);
        // Listening comes a moment before accepting logins; wait for "ready".
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until
            && !std::fs::read_to_string(&log_path)
                .unwrap_or_default()
                .contains("ready to accept connections")
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: SIGINT ends open sessions).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop(&mut child, Signal::SIGINT);
        }
    }

    /// Starts it again on the same port with the same data.
    pub fn restart(&mut self) {
        self.stop();
        self.start_server();
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One anvil chain on a free port.
pub struct TestAnvil {
    child: Option<Child>,
    args: Vec<String>,
    log: tempfile::NamedTempFile,
    history: tempfile::TempDir,
    /// Its port.
    pub port: u16,
}

impl TestAnvil {
    /// Starts anvil with `--port <free>` and `args` (e.g. `["--chain-id", "901", "--network", "optimism"]`).
    pub fn start(args: &[&str]) -> Self {
        let mut anvil = Self {
            child: None,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            log: tempfile::NamedTempFile::new().unwrap(),
            history: tempfile::tempdir().unwrap(),
            port: free_port(),
        };
        anvil.spawn();
        anvil
    }

    fn spawn(&mut self) {
        let bin = anvil_bin();
        let log = self.log.reopen().unwrap();
        // State history goes to a folder of this test, not ~/.foundry (which a killed anvil
        // leaves behind: gigabytes after long test chains).
        let history = self.history.path().to_string_lossy().into_owned();
        let mut child = Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--cache-path", &history, "--max-persisted-states", "256"])
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("anvil starts");
        wait_port(self.port, &mut child, "anvil", self.log.path());
        self.child = Some(child);
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops it (the chain's in-memory state is gone unless `--state` was given).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop(&mut child, Signal::SIGTERM);
        }
    }

    /// Starts it again on the same port with the same arguments.
    pub fn start_again(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for TestAnvil {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Installs the npm package `spec` (`name@version`) into `dir` (`npm install --prefix`) unless
/// `dir/node_modules/<name>/package.json` is there already; for tests that drive a Node client.
pub fn npm_package(dir: &Path, spec: &str) {
    let name = spec.rsplit_once('@').map_or(spec, |(n, _)| n);
    if dir
        .join("node_modules")
        .join(name)
        .join("package.json")
        .is_file()
    {
        return;
    }
    std::fs::create_dir_all(dir).expect("create the npm prefix");
    let out = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--prefix",
        ])
        .arg(dir)
        .arg(spec)
        .stdin(Stdio::null())
        .output()
        .expect("npm runs");
    assert!(
        out.status.success(),
        "npm install {spec} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `target/` of the running test binary (`target/<profile>/deps/<test>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.ancestors().nth(3).expect("target dir").to_path_buf()
}

/// The anvil binary opdev would run (installed from npm on first use).
pub fn anvil_bin() -> PathBuf {
    opdev_orchestrator::tools::anvil(None, |_| {})
        .expect("anvil resolves")
        .path
}

/// The opdev binary built for these tests, for tests outside the opdev crate: the workspace's
/// `target/<profile>/opdev` (build it first: `cargo build -p opdev`).
pub fn opdev_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/<test> → target/<profile>/opdev
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("opdev"))
        .expect("target dir")
}

/// The raw bytes of an OP deposit transaction (type 0x7e: RLP of source hash, from, to, mint,
/// value, gas, is-system, data) minting and sending `mint` wei to `to` from a fixed non-dev
/// sender (a deposit takes its sender's nonce, which must not collide with the dev accounts'
/// pending transactions). OP-mode anvil accepts it unsigned through `eth_sendRawTransaction`.
pub fn op_deposit_raw(source_hash: [u8; 32], to: alloy::primitives::Address, mint: u64) -> Vec<u8> {
    use alloy::{
        primitives::{Address, B256, Bytes, U256},
        rlp::{Encodable, Header},
    };
    let mut payload = Vec::new();
    B256::from(source_hash).encode(&mut payload);
    Address::repeat_byte(0xde).encode(&mut payload);
    to.encode(&mut payload);
    U256::from(mint).encode(&mut payload);
    U256::from(mint).encode(&mut payload);
    100_000u64.encode(&mut payload);
    false.encode(&mut payload);
    Bytes::new().encode(&mut payload);
    let mut raw = vec![0x7e];
    Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(&mut raw);
    raw.extend(payload);
    raw
}
