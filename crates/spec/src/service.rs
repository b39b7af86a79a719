//! The one model of everything a devnet runs: [`ServiceSpec`].
//!
//! A profile produces specs; a runtime runs them. Nothing in a spec is specific to one runtime:
//! paths inside arguments use the [`DATA_DIR`] placeholder, which each runtime replaces with the
//! service's data folder as that runtime sees it, and listen addresses use [`LISTEN_HOST`], which
//! a runtime replaces with the address its services must bind: [`LOOPBACK`] for host processes,
//! every interface inside a container (whose ports are published on the host's loopback only).
//! Services reach each other at 127.0.0.1 on every runtime (the Docker runtime shares one network
//! namespace between a devnet's containers).

use std::{collections::BTreeMap, fmt, path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

/// Placeholder in [`ServiceSpec::args`] for the service's own data folder.
pub const DATA_DIR: &str = "{data}";
/// Placeholder in [`ServiceSpec::args`] for the host a service listens on.
pub const LISTEN_HOST: &str = "{listen}";
/// The address services listen on natively, and where every published port is.
pub const LOOPBACK: &str = "127.0.0.1";

/// One long-running program of a devnet, or a one-shot job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// Unique name within the devnet (`l1`, `l2-1`, `postgres`…).
    pub name: String,
    /// Long-running or one-shot.
    pub kind: ServiceKind,
    /// What to run.
    pub artifact: Artifact,
    /// Command-line arguments; [`DATA_DIR`] is replaced by the service's data folder.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// Named ports the service listens on, all on 127.0.0.1.
    pub ports: BTreeMap<String, u16>,
    /// Conditions that must all hold before the service counts as ready.
    pub ready: Vec<WaitFor>,
    /// How long readiness may take before the service is declared failed.
    #[serde(with = "millis")]
    pub ready_timeout: Duration,
    /// Services that must be ready before this one starts.
    pub depends_on: Vec<String>,
    /// What to do when the process exits on its own.
    pub restart: RestartPolicy,
    /// How long a stop waits after SIGTERM before SIGKILL.
    #[serde(with = "millis")]
    pub stop_grace: Duration,
    /// The program refuses to run as root (PostgreSQL): when opdev runs as root, run it as an
    /// unprivileged user.
    #[serde(default)]
    pub unprivileged: bool,
    /// Signal that asks the service to stop.
    #[serde(default)]
    pub stop_signal: StopSignal,
    /// A command run before the service's first start, skipped once the path it creates exists
    /// (PostgreSQL's `initdb`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<Setup>,
    /// Folders (with [`DATA_DIR`]) emptied before every start: a program's caches that are
    /// worthless after a restart and would otherwise pile up (anvil's on-disk state history).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scratch: Vec<String>,
    /// Host paths outside the devnet folder that the service reads (a package in opdev's
    /// cache): the Docker runtime mounts each read-only at its own path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_only: Vec<PathBuf>,
    /// JSON files (with [`DATA_DIR`]) the program rewrites in place, so that a kill while it
    /// writes leaves them cut short (anvil's state file). Checked before every start: a complete
    /// document is copied to `<file>.last-start`; a cut-short one is set aside as
    /// `<file>.broken` and that copy is put back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<String>,
    /// Services whose restarts after a crash this one follows: once such a service is ready
    /// again after one, this one is restarted too (op-batcher after an L1 that came back from
    /// its last saved state: it does not notice batches the L1 forgot).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restart_with: Vec<String>,
}

/// A command that prepares a service's data once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments ([`DATA_DIR`] is replaced as in the service's own).
    pub args: Vec<String>,
    /// Path (with [`DATA_DIR`]) whose existence means the setup is done.
    pub creates: String,
}

impl Setup {
    /// The arguments to run it with, `{data}` resolved to `data_dir`; `None` when what it
    /// creates exists already (the setup is done).
    pub fn pending_args(&self, data_dir: &str) -> Option<Vec<String>> {
        if std::path::Path::new(&self.creates.replace(DATA_DIR, data_dir)).exists() {
            return None;
        }
        Some(
            self.args
                .iter()
                .map(|a| a.replace(DATA_DIR, data_dir))
                .collect(),
        )
    }
}

/// The signal that starts a graceful stop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopSignal {
    /// SIGTERM (most programs; anvil saves its state on it).
    #[default]
    Term,
    /// SIGINT (PostgreSQL's fast shutdown).
    Int,
}

impl ServiceSpec {
    /// A long-running service with no ports, readiness or dependencies yet.
    pub fn daemon(name: impl Into<String>, artifact: Artifact) -> Self {
        Self {
            name: name.into(),
            kind: ServiceKind::Daemon,
            artifact,
            args: Vec::new(),
            env: BTreeMap::new(),
            ports: BTreeMap::new(),
            ready: Vec::new(),
            ready_timeout: Duration::from_secs(30),
            depends_on: Vec::new(),
            restart: RestartPolicy::default(),
            stop_grace: Duration::from_secs(5),
            unprivileged: false,
            stop_signal: StopSignal::Term,
            setup: None,
            scratch: Vec::new(),
            read_only: Vec::new(),
            snapshots: Vec::new(),
            restart_with: Vec::new(),
        }
    }

    /// A one-shot job (a deployment, an `initdb`): ready when it exits with code 0.
    pub fn one_shot(name: impl Into<String>, artifact: Artifact) -> Self {
        let mut spec = Self::daemon(name, artifact);
        spec.kind = ServiceKind::OneShot;
        spec.restart = RestartPolicy::Never;
        spec.ready = vec![WaitFor::Exit];
        spec
    }

    /// Adds an environment variable.
    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Adds a setup command run once before the first start.
    pub fn with_setup(mut self, setup: Setup) -> Self {
        self.setup = Some(setup);
        self
    }

    /// Adds a folder emptied before every start.
    pub fn with_scratch(mut self, path: impl Into<String>) -> Self {
        self.scratch.push(path.into());
        self
    }

    /// Adds a host path the service reads (mounted read-only on Docker).
    pub fn with_read_only(mut self, path: impl Into<PathBuf>) -> Self {
        self.read_only.push(path.into());
        self
    }

    /// Adds a JSON file checked before every start (see [`ServiceSpec::snapshots`]).
    pub fn with_snapshot(mut self, path: impl Into<String>) -> Self {
        self.snapshots.push(path.into());
        self
    }

    /// Restarts this service whenever `name` is ready again after a crash (see
    /// [`ServiceSpec::restart_with`]).
    pub fn with_restart_with(mut self, name: impl Into<String>) -> Self {
        self.restart_with.push(name.into());
        self
    }

    /// Sets how long a stop waits after the stop signal before SIGKILL.
    pub fn with_stop_grace(mut self, grace: Duration) -> Self {
        self.stop_grace = grace;
        self
    }

    /// Sets the signal that starts a graceful stop.
    pub fn with_stop_signal(mut self, signal: StopSignal) -> Self {
        self.stop_signal = signal;
        self
    }

    /// Marks the program as one that must not run as root.
    pub fn run_unprivileged(mut self) -> Self {
        self.unprivileged = true;
        self
    }

    /// Appends command-line arguments.
    pub fn with_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds a named port.
    pub fn with_port(mut self, name: impl Into<String>, port: u16) -> Self {
        self.ports.insert(name.into(), port);
        self
    }

    /// Adds a readiness condition.
    pub fn with_ready(mut self, wait: WaitFor) -> Self {
        self.ready.push(wait);
        self
    }

    /// Sets the readiness deadline.
    pub fn with_ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Adds a dependency on another service.
    pub fn with_dependency(mut self, name: impl Into<String>) -> Self {
        self.depends_on.push(name.into());
        self
    }

    /// The port with this name, if the service has one.
    pub fn port(&self, name: &str) -> Option<u16> {
        self.ports.get(name).copied()
    }

    /// The arguments with [`DATA_DIR`] replaced by `data_dir` and [`LISTEN_HOST`] by `listen`.
    pub fn resolved_args(&self, data_dir: &str, listen: &str) -> Vec<String> {
        self.args
            .iter()
            .map(|a| a.replace(DATA_DIR, data_dir).replace(LISTEN_HOST, listen))
            .collect()
    }
}

/// Whether a service keeps running or runs once to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceKind {
    /// Runs until stopped; restarted by its [`RestartPolicy`].
    Daemon,
    /// Runs to completion; success is exit code 0.
    OneShot,
}

/// What a service runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// The tool this is (`anvil`, `opdev`…), used for version tables and messages.
    pub tool: String,
    /// The executable to run on the native runtime, and the file a runtime that runs images
    /// builds an image from when [`Artifact::image`] is not set.
    pub binary: PathBuf,
    /// The image to run on runtimes that run images; `None`: build one from `binary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

impl Artifact {
    /// An artifact for `tool` run from `binary`.
    pub fn binary(tool: impl Into<String>, binary: impl Into<PathBuf>) -> Self {
        Self {
            tool: tool.into(),
            binary: binary.into(),
            image: None,
        }
    }
}

/// One readiness condition; a service is ready when all of its conditions hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WaitFor {
    /// A TCP connect to the named port succeeds.
    Port {
        /// Name of the port in [`ServiceSpec::ports`].
        port: String,
    },
    /// An HTTP GET of `path` on the named port answers with a 2xx status.
    Http {
        /// Name of the port in [`ServiceSpec::ports`].
        port: String,
        /// Path to request, starting with `/`.
        path: String,
    },
    /// The JSON-RPC endpoint on the named port answers `eth_chainId` with this chain id.
    Rpc {
        /// Name of the port in [`ServiceSpec::ports`].
        port: String,
        /// The chain id the node must report.
        chain_id: u64,
    },
    /// The chain behind the named JSON-RPC port produces a new block.
    BlocksAdvancing {
        /// Name of the port in [`ServiceSpec::ports`].
        port: String,
    },
    /// The rollup node behind the named JSON-RPC port (op-node's `optimism_syncStatus`) reports
    /// a safe L2 head above the unsafe head it first reported: a block made after the start was
    /// batched, included on the L1 and derived back.
    SafeHeadAdvancing {
        /// Name of the port in [`ServiceSpec::ports`].
        port: String,
    },
    /// A line containing this text appears in the service's output.
    LogLine {
        /// Text to look for.
        contains: String,
    },
    /// The process exits with code 0 (one-shot jobs).
    Exit,
}

impl fmt::Display for WaitFor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Port { port } => write!(f, "port {port} accepts connections"),
            Self::Http { port, path } => write!(f, "GET {path} on port {port} answers 2xx"),
            Self::Rpc { port, chain_id } => {
                write!(f, "RPC on port {port} answers with chain id {chain_id}")
            }
            Self::BlocksAdvancing { port } => write!(f, "blocks advance on port {port}"),
            Self::SafeHeadAdvancing { port } => {
                write!(f, "the safe L2 head advances on port {port}")
            }
            Self::LogLine { contains } => write!(f, "log line containing {contains:?}"),
            Self::Exit => f.write_str("exits with code 0"),
        }
    }
}

/// What a supervisor does when a service's process exits without being asked to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// Leave it stopped.
    Never,
    /// Restart after any exit, with exponential backoff.
    #[default]
    Always,
    /// Restart only after a non-zero exit or a signal.
    OnFailure,
}

impl RestartPolicy {
    /// Whether an exit with this success flag should lead to a restart.
    pub fn restarts_after(self, success: bool) -> bool {
        match self {
            Self::Never => false,
            Self::Always => true,
            Self::OnFailure => !success,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_placeholder_is_replaced_everywhere() {
        let spec = ServiceSpec::daemon("l1", Artifact::binary("anvil", "/bin/anvil")).with_args([
            "--state",
            "{data}/state.json",
            "--host",
            "{listen}",
        ]);
        assert_eq!(
            spec.resolved_args("/d/l1", "0.0.0.0"),
            ["--state", "/d/l1/state.json", "--host", "0.0.0.0"]
        );
    }

    #[test]
    fn spec_round_trips_through_json() {
        let spec = ServiceSpec::daemon("l1", Artifact::binary("anvil", "/bin/anvil"))
            .with_port("rpc", 8545)
            .with_ready(WaitFor::Rpc {
                port: "rpc".into(),
                chain_id: 900,
            })
            .with_ready(WaitFor::BlocksAdvancing { port: "rpc".into() });
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<ServiceSpec>(&json).unwrap(), spec);
    }

    #[test]
    fn setup_is_pending_until_what_it_creates_exists() {
        let dir = std::env::temp_dir().join(format!("opdev-setup-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let data = dir.to_string_lossy().into_owned();
        let setup = Setup {
            program: "/bin/initdb".into(),
            args: vec!["-D".into(), "{data}/pg".into()],
            creates: "{data}/pg/PG_VERSION".into(),
        };
        assert_eq!(
            setup.pending_args(&data),
            Some(vec!["-D".to_owned(), format!("{data}/pg")])
        );
        std::fs::create_dir_all(dir.join("pg")).unwrap();
        std::fs::write(dir.join("pg/PG_VERSION"), "15").unwrap();
        assert_eq!(setup.pending_args(&data), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn restart_policies() {
        assert!(RestartPolicy::Always.restarts_after(true));
        assert!(!RestartPolicy::OnFailure.restarts_after(true));
        assert!(RestartPolicy::OnFailure.restarts_after(false));
        assert!(!RestartPolicy::Never.restarts_after(false));
    }
}
