//! Runtimes turn [`ServiceSpec`]s into running things and answer the same questions about them:
//! start, stop, restart, state. Both runtimes are the one [`Supervisor`] (readiness, restarts
//! with backoff, logs) with a different launcher: [`native`] runs host processes, [`docker`]
//! runs containers through the Docker Engine API.

use std::{
    future::Future,
    path::{Path, PathBuf},
};

use opdev_spec::ServiceSpec;
use serde::{Deserialize, Serialize};

pub mod docker;
pub mod logs;
pub mod native;
pub mod readiness;
pub mod snapshot;
pub mod supervise;

pub use docker::DockerRuntime;
pub use native::NativeRuntime;
pub use supervise::{Dirs, Supervisor};

/// opdev's cache folder: `$XDG_CACHE_HOME/opdev`, else `~/.cache/opdev`; `None` without either.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("XDG_CACHE_HOME")
        .map(|d| d.join("opdev"))
        .or_else(|| var("HOME").map(|h| h.join(".cache/opdev")))
}

/// Gives `dir` and everything under it to `id` (uid and gid).
pub(crate) fn chown_tree(dir: &Path, id: u32) -> Result<(), String> {
    let owner = Some(nix::unistd::Uid::from_raw(id));
    let group = Some(nix::unistd::Gid::from_raw(id));
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        nix::unistd::chown(&p, owner, group).map_err(|e| format!("chown {}: {e}", p.display()))?;
        if p.is_dir() && !p.is_symlink() {
            for entry in std::fs::read_dir(&p)
                .map_err(|e| format!("read {}: {e}", p.display()))?
                .flatten()
            {
                stack.push(entry.path());
            }
        }
    }
    Ok(())
}

/// The life-cycle state of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Process started, readiness not yet established.
    Starting,
    /// Running and every readiness condition held.
    Ready,
    /// Exited on its own; waiting out the backoff before the next start.
    Restarting,
    /// Stopped on request.
    Stopped,
    /// Could not be started or never became ready; not restarted.
    Failed,
    /// Exited and its restart policy says to leave it.
    Exited,
    /// A one-shot job that completed successfully.
    Done,
}

impl State {
    /// Whether the service has a live process.
    pub fn is_running(self) -> bool {
        matches!(self, Self::Starting | Self::Ready)
    }
}

/// What a runtime knows about one service at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// Service name.
    pub name: String,
    /// Life-cycle state.
    pub state: State,
    /// Process id of the live process, if any (on the host, also for a container).
    pub pid: Option<u32>,
    /// Id of the service's container, on the Docker runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Restarts after unexpected exits since the supervisor started.
    pub restarts: u32,
    /// Incremented at every start of the process, manual restarts included.
    pub generation: u64,
    /// Named ports.
    pub ports: std::collections::BTreeMap<String, u16>,
    /// The executable.
    pub binary: PathBuf,
    /// Why the last process ended or the service failed, if it did.
    pub last_error: Option<String>,
    /// Unix time (seconds) of the last start.
    pub started_at: Option<u64>,
}

/// A failure of a runtime operation, read after "failed to …".
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeError {
    /// No service of that name is known to the runtime.
    #[error("find service {0}: no such service in this devnet")]
    UnknownService(String),
    /// A service of that name was already started.
    #[error("start {0}: already started")]
    AlreadyStarted(String),
    /// The service did not become ready; carries its last log lines.
    #[error("start {service}: {reason}")]
    NotReady {
        /// Service name.
        service: String,
        /// What failed.
        reason: String,
        /// The last lines of the service's log.
        log_tail: Vec<String>,
    },
    /// The supervisor of the service is gone.
    #[error("reach the supervisor of {0}: it has stopped")]
    Gone(String),
    /// A file or folder of the runtime could not be prepared.
    #[error("prepare {path}: {reason}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        reason: String,
    },
}

/// What every runtime does with specs. The orchestrator drives a devnet through this trait only,
/// so the native and Docker runtimes are interchangeable above it.
pub trait Runtime: Send + Sync {
    /// Starts `spec` under supervision and waits until it is ready (or failed).
    fn start(
        &self,
        spec: ServiceSpec,
    ) -> impl Future<Output = Result<ServiceStatus, RuntimeError>> + Send;
    /// Restarts a service, optionally from another executable, and waits until it is ready.
    fn restart(
        &self,
        name: &str,
        binary: Option<PathBuf>,
    ) -> impl Future<Output = Result<ServiceStatus, RuntimeError>> + Send;
    /// Stops one service gracefully.
    fn stop(&self, name: &str) -> impl Future<Output = Result<(), RuntimeError>> + Send;
    /// Stops every service, in reverse start order, dependents first.
    fn stop_all(&self) -> impl Future<Output = ()> + Send;
    /// The state of every service, in start order.
    fn status(&self) -> Vec<ServiceStatus>;
}
