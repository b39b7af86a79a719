//! Helpers: run the opdev binary against a private home, read its JSON, clean up after.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::Duration,
};

use serde_json::Value;

/// A private `$OPDEV_HOME` with a devnet name; purges everything it started when dropped.
pub(crate) struct Env {
    pub(crate) home: tempfile::TempDir,
    pub(crate) name: String,
}

impl Env {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            home: tempfile::tempdir().expect("temp dir"),
            name: name.to_owned(),
        }
    }

    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_opdev"));
        cmd.env("OPDEV_HOME", self.home.path())
            .env("OPDEV_NAME", &self.name)
            .env("NO_COLOR", "1")
            .env_remove("OPDEV_CONFIG")
            .current_dir(self.home.path())
            .args(args);
        cmd
    }

    /// Runs opdev and returns its output, whatever the exit code.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("opdev runs")
    }

    /// Runs opdev and panics with its output unless it succeeds.
    pub(crate) fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "opdev {args:?} failed: {}",
            text(&out)
        );
        out
    }

    /// Runs opdev with `--json` and parses stdout.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ok(&all);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
    }

    pub(crate) fn devnet_dir(&self) -> PathBuf {
        self.home.path().join(&self.name)
    }

    pub(crate) fn status(&self) -> Value {
        self.json(&["status"])
    }

    /// `(service, rpc url)` of every chain, L1 first.
    pub(crate) fn rpcs(&self) -> Vec<(String, String)> {
        let status = self.status();
        let endpoints = &status["endpoints"];
        std::iter::once(&endpoints["l1"])
            .chain(endpoints["l2"].as_array().unwrap())
            .map(|c| {
                (
                    c["service"].as_str().unwrap().to_owned(),
                    c["rpc"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    pub(crate) fn service(&self, name: &str) -> Value {
        let status = self.status();
        status["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.run(&["purge", "--yes"]);
    }
}

/// Exit code, stdout and stderr of a run, for assertion messages.
pub(crate) fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// stderr of a run.
pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The anvil opdev runs here (installed through opdev's own resolution when missing).
pub(crate) fn anvil() -> PathBuf {
    opdev_orchestrator::tools::anvil(None, |_| {})
        .expect("anvil resolves")
        .path
}

/// Head of the chain at `rpc`.
pub(crate) async fn head(rpc: &str) -> u64 {
    opdev_chain::rpc::Probe::new(rpc)
        .unwrap()
        .block_number()
        .await
        .expect("head")
}

/// Polls `f` until it returns true or `secs` pass.
pub(crate) async fn eventually(secs: u64, mut f: impl AsyncFnMut() -> bool) -> bool {
    let until = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < until {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Whether a process with this pid exists.
pub(crate) fn alive(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

/// Writes an executable shell script.
pub(crate) fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}
