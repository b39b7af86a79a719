//! The orchestrator's errors. Each reads after "failed to …"-style context as one line, carries a
//! hint where one helps, and maps to one of opdev's documented exit codes ([`ExitCode`]).

use std::path::{Path, PathBuf};

use opdev_runtime::docker::DockerError;
use opdev_spec::ConfigError;

/// opdev's documented exit codes (see docs/cli.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Success.
    Ok = 0,
    /// An unexpected failure (I/O, a bug).
    Internal = 1,
    /// Invalid input: unknown flag or config key, invalid value.
    Usage = 2,
    /// The devnet does not exist.
    NotFound = 3,
    /// The devnet is already running, or an `up` of it is in progress.
    AlreadyRunning = 4,
    /// The devnet is not running (for commands that need it running).
    NotRunning = 5,
    /// A port is already in use.
    PortInUse = 6,
    /// A tool or binary is missing or not executable.
    ToolMissing = 7,
    /// A service did not become ready.
    NotReady = 8,
    /// The smoke check failed.
    SmokeFailed = 9,
    /// A service of the devnet refused the request (the faucet's rate limit…).
    Refused = 10,
}

impl ExitCode {
    /// The code for a number received from another opdev process; unknown numbers are internal.
    pub fn from_u8(code: u8) -> Self {
        [
            Self::Ok,
            Self::Internal,
            Self::Usage,
            Self::NotFound,
            Self::AlreadyRunning,
            Self::NotRunning,
            Self::PortInUse,
            Self::ToolMissing,
            Self::NotReady,
            Self::SmokeFailed,
            Self::Refused,
        ]
        .into_iter()
        .find(|c| *c as u8 == code)
        .unwrap_or(Self::Internal)
    }
}

/// Everything the orchestrator can fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Invalid config.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Invalid input outside the config (unknown service name…).
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// What to do instead.
        hint: Option<String>,
    },
    /// No home folder could be found.
    #[error("find opdev's data folder: neither OPDEV_HOME, XDG_DATA_HOME nor HOME is set")]
    NoHome,
    /// The devnet does not exist.
    #[error("devnet '{0}' does not exist")]
    NotFound(String),
    /// The devnet is running already.
    #[error("devnet '{name}' is already running{}", pid.map(|p| format!(" (supervisor pid {p})")).unwrap_or_default())]
    AlreadyRunning {
        /// Devnet.
        name: String,
        /// Its supervisor.
        pid: Option<u32>,
    },
    /// Another `up` of the devnet has not finished.
    #[error("another `opdev up` of devnet '{0}' is in progress")]
    UpInProgress(String),
    /// The devnet is stopped.
    #[error("devnet '{0}' is not running")]
    NotRunning(String),
    /// A saved chain would change.
    #[error("devnet '{name}' was created with other {keys}; that needs a new chain")]
    NeedsFresh {
        /// Devnet.
        name: String,
        /// The keys that changed.
        keys: String,
    },
    /// A port is taken.
    #[error("port {port} ({service}) is already in use on 127.0.0.1")]
    PortInUse {
        /// The port.
        port: u16,
        /// What wanted it.
        service: String,
    },
    /// A binary is missing or unusable.
    #[error("{what} {path}: {reason}")]
    Binary {
        /// What the binary is for.
        what: String,
        /// The path.
        path: PathBuf,
        /// Missing, not a file, not executable.
        reason: String,
    },
    /// A tool is not installed and cannot be installed.
    #[error("{tool} is not installed and cannot be installed: {reason}")]
    ToolMissing {
        /// The tool.
        tool: String,
        /// Why it cannot be installed.
        reason: String,
    },
    /// Building a program from source failed.
    #[error("build {what}: {reason}")]
    Build {
        /// The program.
        what: String,
        /// How the build ended.
        reason: String,
        /// The build's whole output.
        log: PathBuf,
        /// Its last lines.
        tail: Vec<String>,
    },
    /// A service did not become ready.
    #[error("service {service} did not become ready: {reason}")]
    NotReady {
        /// Service.
        service: String,
        /// Why.
        reason: String,
        /// Its last log lines.
        log_tail: Vec<String>,
    },
    /// The supervisor failed or answered nonsense.
    #[error("supervisor of devnet '{name}': {reason}")]
    Supervisor {
        /// Devnet.
        name: String,
        /// What happened.
        reason: String,
    },
    /// The profile cannot build its services.
    #[error(transparent)]
    Profile(#[from] opdev_profiles::ProfileError),
    /// A chain operation failed.
    #[error(transparent)]
    Chain(#[from] opdev_chain::ChainError),
    /// The Docker runtime failed.
    #[error(transparent)]
    Docker(#[from] opdev_runtime::docker::DockerError),
    /// An error another opdev process (the supervisor) reported.
    #[error("{message}")]
    Reported {
        /// One-line cause.
        message: String,
        /// What to do.
        hint: Option<String>,
        /// Exit code.
        code: ExitCode,
        /// Extra lines (a service's last log lines).
        details: Vec<String>,
    },
    /// One of opdev's own services (`opdev serve …`) stopped with an error.
    #[error("{service}: {reason}")]
    Service {
        /// The service.
        service: String,
        /// Its error, with its causes.
        reason: String,
    },
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A usage error with a hint.
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Usage {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// The exit code this error ends opdev with.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Config(_) | Self::Usage { .. } | Self::NeedsFresh { .. } | Self::Profile(_) => {
                ExitCode::Usage
            }
            Self::NotFound(_) => ExitCode::NotFound,
            Self::AlreadyRunning { .. } | Self::UpInProgress(_) => ExitCode::AlreadyRunning,
            Self::NotRunning(_) => ExitCode::NotRunning,
            Self::PortInUse { .. } => ExitCode::PortInUse,
            Self::Binary { .. } | Self::ToolMissing { .. } | Self::Build { .. } => {
                ExitCode::ToolMissing
            }
            Self::NotReady { .. } => ExitCode::NotReady,
            Self::Chain(opdev_chain::ChainError::Mnemonic(_)) => ExitCode::Usage,
            Self::Chain(opdev_chain::ChainError::Smoke { .. }) => ExitCode::SmokeFailed,
            Self::Reported { code, .. } => *code,
            Self::Service { .. } => ExitCode::Internal,
            Self::Docker(
                DockerError::Unreachable { .. }
                | DockerError::ImageMissing { .. }
                | DockerError::Build { .. },
            ) => ExitCode::ToolMissing,
            Self::Docker(_) => ExitCode::Internal,
            Self::NoHome | Self::Supervisor { .. } | Self::Chain(_) | Self::Io { .. } => {
                ExitCode::Internal
            }
        }
    }

    /// What the user can do about it, if there is something to say.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Usage { hint, .. } | Self::Reported { hint, .. } => return hint.clone(),
            Self::Config(_) => "see `opdev up --help` and docs/config.md for valid keys and values".into(),
            Self::NotFound(_) => "`opdev list` shows the devnets on this machine; `opdev up --name NAME` creates one".into(),
            Self::AlreadyRunning { name, .. } => format!("`opdev status --name {name}` shows it; `opdev down --name {name}` stops it"),
            Self::UpInProgress(_) => "wait for it to finish, then run `opdev status`".into(),
            Self::NotRunning(name) => format!("start it with `opdev up --name {name}`"),
            Self::NeedsFresh { .. } => "add --fresh to start new chains (their state is deleted), or use another --name".into(),
            Self::PortInUse { .. } => "stop what uses it, choose other ports (--l1-port, --l2-port), or pass --ports auto".into(),
            Self::Binary { what, reason, .. } if reason.starts_with("it is not") => format!(
                "give the {} itself (built from github.com/ethereum-optimism/optimism {}), or leave that --binary out and opdev builds it",
                what,
                opdev_spec::versions::OPTIMISM.version
            ),
            Self::Binary { .. } => "give the path of an existing executable file".into(),
            Self::ToolMissing { tool, .. } if tool == "anvil" => "install Node.js and npm (opdev then installs anvil itself), put Foundry's anvil on PATH, or pass --anvil-bin PATH".into(),
            Self::ToolMissing { tool, .. } if tool == "go" => format!("install Go {}.{} or newer (https://go.dev/dl/) and opdev builds them once into its cache, or give them: {}", crate::opstack_go::MIN_GO.0, crate::opstack_go::MIN_GO.1, crate::opstack_go::BINARY_FLAGS),
            Self::Build { log, .. } => format!("the whole output is in {}; check the connection to the Go module proxy (GOPROXY) and the free disk space, or give the programs: {}", log.display(), crate::opstack_go::BINARY_FLAGS),
            Self::ToolMissing { tool, .. } if tool == "postgresql" => "install it (Debian: apt-get install postgresql), pass --postgres-url URL of a server you run, or --no-indexer".into(),
            Self::ToolMissing { tool, .. } if tool == "prometheus" || tool == "alertmanager" => "install them (Debian: apt-get install prometheus prometheus-alertmanager), or run without monitoring: --no-monitoring".into(),
            Self::NotReady { service, .. } => format!("see the whole log with `opdev logs {service}`"),
            Self::Chain(opdev_chain::ChainError::Mnemonic(_)) => "give 12 to 24 words from the BIP39 English list with a valid checksum".into(),
            Self::Supervisor { .. } => "see `opdev logs supervisor`".into(),
            Self::Profile(opdev_profiles::ProfileError::Unavailable(_)) => "use --profile lite (anvil L1 and OP-mode L2s)".into(),
            Self::Profile(opdev_profiles::ProfileError::UnknownService { .. }) => "name one of them; `opdev up --plan` shows every service with its tool".into(),
            Self::Docker(e) => return e.hint(),
            _ => return None,
        })
    }

    /// [`Error::hint`] for an error of devnet `name`: the commands it suggests carry
    /// `--name NAME` unless the devnet has the default name.
    pub fn hint_for(&self, name: &str) -> Option<String> {
        let flag = name_flag(name);
        match self {
            Self::NotReady { service, .. } => Some(format!(
                "see the whole log with `opdev logs {service}{flag}`"
            )),
            Self::Supervisor { .. } => Some(format!("see `opdev logs supervisor{flag}`")),
            other => other.hint(),
        }
    }

    /// This error with [`Error::hint_for`] `name` as its hint.
    pub fn for_devnet(self, name: &str) -> Self {
        let hint = self.hint_for(name);
        if hint == self.hint() {
            return self;
        }
        Self::Reported {
            message: self.to_string(),
            hint,
            code: self.exit_code(),
            details: self.details().to_vec(),
        }
    }

    /// The error of a failed `up` that created devnet `name` and then removed its folder: a hint
    /// that points to a log (gone with the folder) says so instead.
    pub fn after_removal(self, name: &str) -> Self {
        let points_to_log = self.hint().is_some_and(|h| h.contains("opdev logs"));
        if !points_to_log {
            return self;
        }
        Self::Reported {
            message: self.to_string(),
            hint: Some(format!(
                "this `up` created devnet '{name}', so its folder was removed, logs included; the \
                 lines above are the end of the log — fix the cause, then run `opdev up{}` again",
                name_flag(name)
            )),
            code: self.exit_code(),
            details: self.details().to_vec(),
        }
    }

    /// Extra lines shown under the error (a service's last log lines).
    pub fn details(&self) -> &[String] {
        match self {
            Self::NotReady { log_tail, .. }
            | Self::Build { tail: log_tail, .. }
            | Self::Reported {
                details: log_tail, ..
            } => log_tail,
            _ => &[],
        }
    }
}

/// ` --name NAME`, or nothing for the default devnet.
fn name_flag(name: &str) -> String {
    if name == opdev_spec::config::DEFAULT_NAME {
        String::new()
    } else {
        format!(" --name {name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_ready() -> Error {
        Error::NotReady {
            service: "faucet".into(),
            reason: "exit code 1".into(),
            log_tail: vec!["boom".into()],
        }
    }

    #[test]
    fn hints_name_the_devnet_unless_it_is_the_default() {
        assert_eq!(
            not_ready().hint_for("opdev").unwrap(),
            "see the whole log with `opdev logs faucet`"
        );
        assert_eq!(
            not_ready().hint_for("mine").unwrap(),
            "see the whole log with `opdev logs faucet --name mine`"
        );
        let reported = not_ready().for_devnet("mine");
        assert_eq!(reported.exit_code(), ExitCode::NotReady);
        assert_eq!(reported.details(), ["boom".to_owned()]);
        assert!(reported.hint().unwrap().contains("--name mine"));
    }

    #[test]
    fn after_removal_no_hint_points_to_a_deleted_log() {
        for (name, retry) in [("opdev", "`opdev up`"), ("mine", "`opdev up --name mine`")] {
            let err = not_ready().after_removal(name);
            let hint = err.hint().unwrap();
            assert!(!hint.contains("opdev logs"), "{hint}");
            assert!(
                hint.contains("was removed") && hint.contains(retry),
                "{hint}"
            );
            assert_eq!(err.exit_code(), ExitCode::NotReady);
            assert_eq!(err.details(), ["boom".to_owned()]);
        }
        // A hint that points to nothing deleted stays.
        let port = Error::PortInUse {
            service: "l1".into(),
            port: 8545,
        };
        let hint = port.hint();
        assert_eq!(port.after_removal("mine").hint(), hint);
    }
}
