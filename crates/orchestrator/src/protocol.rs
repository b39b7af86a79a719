//! What the CLI and a devnet's supervisor say to each other. Two channels, both JSON lines:
//! progress events on the supervisor's stdout while `up` waits, and request/response pairs on
//! the supervisor's Unix socket for as long as it runs.

use std::path::PathBuf;

use opdev_runtime::ServiceStatus;
use serde::{Deserialize, Serialize};

/// A request to a running supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "kebab-case")]
pub enum Request {
    /// The state of every service.
    Status,
    /// Restart services (optionally one from another binary) and wait until they are ready.
    Restart {
        /// Services to restart.
        services: Vec<String>,
        /// New executable, for `deploy` (only with one service).
        binary: Option<PathBuf>,
    },
    /// Stop every service gracefully, then the supervisor.
    Down,
}

/// A supervisor's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "kebab-case")]
pub enum Response {
    /// The supervisor and its services.
    Status(SupervisorState),
    /// Done.
    Ok,
    /// The request failed.
    Error {
        /// One-line cause.
        message: String,
        /// The failing service's last log lines, if any.
        log_tail: Vec<String>,
    },
}

/// A supervisor's view of its devnet; also saved as `state.json` at every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisorState {
    /// Supervisor process id.
    pub pid: u32,
    /// Unix time the supervisor started.
    pub started_at: u64,
    /// Every service, in start order.
    pub services: Vec<ServiceStatus>,
}

/// Progress of `up`, sent by the supervisor to the waiting CLI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A step began.
    StepStarted {
        /// Step id.
        step: String,
    },
    /// A step finished.
    StepDone {
        /// Step id.
        step: String,
        /// How long it took.
        millis: u64,
    },
    /// Every service is ready; the supervisor keeps running.
    Ready {
        /// Supervisor and services.
        state: SupervisorState,
    },
    /// `up` failed; everything started has been stopped and the supervisor exits.
    Failed {
        /// The failing step.
        step: String,
        /// One-line cause.
        message: String,
        /// What to do about it.
        hint: Option<String>,
        /// Exit code the CLI should end with.
        exit_code: u8,
        /// The failing service's last log lines.
        log_tail: Vec<String>,
    },
}
