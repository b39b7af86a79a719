//! The supervision shared by every runtime: one actor task per service starts it through a
//! [`Launcher`] (a host process, a container…), checks its readiness, restarts it with backoff
//! when it dies, and stops it on request. What differs between runtimes is only how one run of a
//! service is launched, waited for and terminated: the [`Launcher`] and [`Proc`] traits.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use futures::future::BoxFuture;
use opdev_spec::{ServiceKind, ServiceSpec, StopSignal};
use tokio::{
    sync::{mpsc, oneshot, watch},
    time::Instant,
};
use tracing::{info, warn};

use crate::{
    Runtime, RuntimeError, ServiceStatus, State,
    logs::{self, DEFAULT_KEEP, DEFAULT_MAX_BYTES, RotatingLog},
    readiness,
};

/// A service's log, shared by the supervisor's notes and the copy of the service's output.
pub type SharedLog = Arc<Mutex<RotatingLog>>;

/// How one run of a service ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// Exit code 0.
    pub success: bool,
    /// "exit code 3", "killed by SIGKILL"… for logs and messages.
    pub description: String,
}

/// Starts runs of services. Implemented once per runtime.
pub trait Launcher: Send + Sync + 'static {
    /// Prepares (the spec's setup, an image…) and starts one run of `spec`, whose data folder on
    /// the host is `data`; the run's output goes to `log`. `Err` says why it could not start.
    fn launch<'a>(
        &'a self,
        spec: &'a ServiceSpec,
        data: &'a Path,
        log: SharedLog,
    ) -> BoxFuture<'a, Result<Box<dyn Proc>, String>>;
}

/// One running instance of a service.
pub trait Proc: Send {
    /// The host process id, when known.
    fn pid(&self) -> Option<u32>;
    /// The container id, on runtimes that run containers.
    fn container(&self) -> Option<String> {
        None
    }
    /// Waits until the run ends. Cancel-safe: dropping the future and calling again is fine.
    fn wait(&mut self) -> BoxFuture<'_, Exit>;
    /// Asks the run to stop with `signal`, waits up to `grace`, then kills it.
    fn terminate(&mut self, grace: Duration, signal: StopSignal) -> BoxFuture<'_, ()>;
}

/// First pause before restarting a service that died.
const BACKOFF_START: Duration = Duration::from_millis(250);
/// Longest pause between restarts.
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// A process that ran this long resets the backoff.
const BACKOFF_RESET_AFTER: Duration = Duration::from_secs(30);
/// Log lines attached to a readiness failure.
pub const FAILURE_LOG_LINES: usize = 15;

/// Where a runtime keeps service data and logs on the host.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// Parent of every service's data folder (`<data>/<service>`).
    pub data: PathBuf,
    /// Folder of the service logs (`<logs>/<service>.log`).
    pub logs: PathBuf,
}

impl Dirs {
    /// Data folder of `service`.
    pub fn data_of(&self, service: &str) -> PathBuf {
        self.data.join(service)
    }

    /// Log file of `service`.
    pub fn log_of(&self, service: &str) -> PathBuf {
        self.logs.join(format!("{service}.log"))
    }
}

enum Request {
    Stop(oneshot::Sender<()>),
    Restart(Option<PathBuf>, oneshot::Sender<u64>),
}

struct Handle {
    tx: mpsc::Sender<Request>,
    state: watch::Receiver<ServiceStatus>,
    depends_on: Vec<String>,
}

/// Supervises services: one actor per service starts it through a [`Launcher`], copies its
/// output to a rotating log, checks its readiness, restarts it with backoff when it dies, and
/// stops it on request. The native and Docker runtimes are this with different launchers.
#[derive(Clone)]
pub struct Supervisor {
    dirs: Dirs,
    launcher: Arc<dyn Launcher>,
    services: Arc<Mutex<Vec<(String, Handle)>>>,
    changed: watch::Sender<u64>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("dirs", &self.dirs)
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    /// A runtime keeping data and logs under `dirs`, starting services with `launcher`.
    pub fn new(dirs: Dirs, launcher: Arc<dyn Launcher>) -> Self {
        Self {
            dirs,
            launcher,
            services: Arc::default(),
            changed: watch::channel(0).0,
        }
    }

    /// The folders this runtime uses.
    pub fn dirs(&self) -> &Dirs {
        &self.dirs
    }

    /// A receiver that sees a new value whenever any service's status changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn handle(
        &self,
        name: &str,
    ) -> Result<(mpsc::Sender<Request>, watch::Receiver<ServiceStatus>), RuntimeError> {
        let services = self.services.lock().expect("runtime lock poisoned");
        services
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, h)| (h.tx.clone(), h.state.clone()))
            .ok_or_else(|| RuntimeError::UnknownService(name.to_owned()))
    }

    /// Restarts `name` each time `of` is ready again after a crash (its `restarts` count went
    /// up), until either is gone. Nothing happens when `of` is unknown.
    fn follow_restarts(&self, name: String, of: String) {
        let Ok((_, mut rx)) = self.handle(&of) else {
            return;
        };
        let supervisor = self.clone();
        let mut seen = rx.borrow().restarts;
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let (restarts, ready) = {
                    let s = rx.borrow_and_update();
                    (s.restarts, s.state == State::Ready)
                };
                if restarts > seen && ready {
                    seen = restarts;
                    tracing::info!(service = %name, after = %of, "restarting: it follows the restarts of {of}");
                    if let Err(e) = supervisor.restart(&name, None).await {
                        if matches!(e, RuntimeError::Gone(_) | RuntimeError::UnknownService(_)) {
                            return;
                        }
                        tracing::warn!(service = %name, "restart after {of} failed: {e}");
                    }
                }
            }
        });
    }

    /// Waits until `name` has started at least `generation` times and is ready, or has failed.
    async fn wait_ready(&self, name: &str, generation: u64) -> Result<ServiceStatus, RuntimeError> {
        let (_, mut rx) = self.handle(name)?;
        loop {
            {
                let s = rx.borrow_and_update();
                if s.generation >= generation {
                    match s.state {
                        State::Ready | State::Done => return Ok(s.clone()),
                        State::Failed | State::Exited | State::Stopped => {
                            let reason = s
                                .last_error
                                .clone()
                                .unwrap_or_else(|| format!("{:?}", s.state));
                            return Err(RuntimeError::NotReady {
                                service: name.to_owned(),
                                reason,
                                log_tail: logs::tail(&self.dirs.log_of(name), FAILURE_LOG_LINES)
                                    .unwrap_or_default(),
                            });
                        }
                        _ => {}
                    }
                }
            }
            if rx.changed().await.is_err() {
                return Err(RuntimeError::Gone(name.to_owned()));
            }
        }
    }
}

impl Runtime for Supervisor {
    async fn start(&self, spec: ServiceSpec) -> Result<ServiceStatus, RuntimeError> {
        let name = spec.name.clone();
        let data = self.dirs.data_of(&name);
        for dir in [&data, &self.dirs.logs] {
            create_private_dir(dir)?;
        }
        let log_path = self.dirs.log_of(&name);
        let log = RotatingLog::open(&log_path, DEFAULT_MAX_BYTES, DEFAULT_KEEP).map_err(|e| {
            RuntimeError::Io {
                path: log_path.clone(),
                reason: e.to_string(),
            }
        })?;
        let initial = ServiceStatus {
            name: name.clone(),
            state: State::Starting,
            pid: None,
            restarts: 0,
            generation: 0,
            ports: spec.ports.clone(),
            binary: spec.artifact.binary.clone(),
            last_error: None,
            started_at: None,
            container: None,
        };
        let (state_tx, state_rx) = watch::channel(initial);
        let (tx, rx) = mpsc::channel(8);
        {
            let mut services = self.services.lock().expect("runtime lock poisoned");
            if services.iter().any(|(n, _)| *n == name) {
                return Err(RuntimeError::AlreadyStarted(name));
            }
            let depends_on = spec.depends_on.clone();
            services.push((
                name.clone(),
                Handle {
                    tx,
                    state: state_rx,
                    depends_on,
                },
            ));
        }
        let actor = ServiceActor {
            spec,
            launcher: self.launcher.clone(),
            data,
            log: Arc::new(Mutex::new(log)),
            log_path,
            state: state_tx,
            changed: self.changed.clone(),
            rx,
        };
        let follows = actor.spec.restart_with.clone();
        tokio::spawn(actor.run());
        for of in follows {
            self.follow_restarts(name.clone(), of);
        }
        self.wait_ready(&name, 1).await
    }

    async fn restart(
        &self,
        name: &str,
        binary: Option<PathBuf>,
    ) -> Result<ServiceStatus, RuntimeError> {
        let (tx, _) = self.handle(name)?;
        let (reply, generation) = oneshot::channel();
        tx.send(Request::Restart(binary, reply))
            .await
            .map_err(|_| RuntimeError::Gone(name.into()))?;
        let generation = generation
            .await
            .map_err(|_| RuntimeError::Gone(name.into()))?;
        self.wait_ready(name, generation).await
    }

    async fn stop(&self, name: &str) -> Result<(), RuntimeError> {
        let (tx, _) = self.handle(name)?;
        let (reply, done) = oneshot::channel();
        if tx.send(Request::Stop(reply)).await.is_ok() {
            let _ = done.await;
        }
        Ok(())
    }

    async fn stop_all(&self) {
        // Stop in waves: a service stops once nothing still running depends on it; each wave
        // stops in parallel.
        let mut remaining: Vec<(String, Vec<String>)> = {
            let services = self.services.lock().expect("runtime lock poisoned");
            services
                .iter()
                .map(|(n, h)| (n.clone(), h.depends_on.clone()))
                .collect()
        };
        while !remaining.is_empty() {
            let wave: Vec<String> = remaining
                .iter()
                .filter(|(n, _)| !remaining.iter().any(|(_, deps)| deps.contains(n)))
                .map(|(n, _)| n.clone())
                .collect();
            let wave = if wave.is_empty() {
                remaining.iter().map(|(n, _)| n.clone()).collect() // a cycle: stop the rest at once
            } else {
                wave
            };
            let stops = wave.iter().map(|n| self.stop(n));
            futures::future::join_all(stops).await;
            remaining.retain(|(n, _)| !wave.contains(n));
        }
    }

    fn status(&self) -> Vec<ServiceStatus> {
        let services = self.services.lock().expect("runtime lock poisoned");
        services
            .iter()
            .map(|(_, h)| h.state.borrow().clone())
            .collect()
    }
}

fn create_private_dir(dir: &Path) -> Result<(), RuntimeError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| RuntimeError::Io {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// How a supervised process's run ended.
enum RunEnd {
    /// The process exited on its own.
    Exited(Exit),
    /// It could not be started at all.
    SpawnFailed(String),
    /// It never became ready while the service had not been ready before.
    NotReady(String),
    /// A command asked for a stop; the process is gone.
    Stopped(oneshot::Sender<()>),
    /// A command asked for a restart; the process is gone.
    Restart(Option<PathBuf>, oneshot::Sender<u64>),
    /// Every handle to the runtime is gone.
    Orphaned,
}

struct ServiceActor {
    spec: ServiceSpec,
    launcher: Arc<dyn Launcher>,
    data: PathBuf,
    log: Arc<Mutex<RotatingLog>>,
    log_path: PathBuf,
    state: watch::Sender<ServiceStatus>,
    changed: watch::Sender<u64>,
    rx: mpsc::Receiver<Request>,
}

impl ServiceActor {
    fn set(&self, f: impl FnOnce(&mut ServiceStatus)) {
        self.state.send_modify(f);
        self.changed.send_modify(|n| *n += 1);
    }

    fn note(&self, line: &str) {
        if let Ok(mut log) = self.log.lock() {
            let _ = log.note(line);
        }
    }

    async fn run(mut self) {
        let name = self.spec.name.clone();
        let mut ever_ready = false;
        let mut backoff = BACKOFF_START;
        let mut pending_restart: Option<oneshot::Sender<u64>> = None;
        loop {
            let generation = self.state.borrow().generation + 1;
            self.set(|s| {
                s.state = State::Starting;
                s.generation = generation;
                s.pid = None;
                s.binary = self.spec.artifact.binary.clone();
                s.started_at = Some(unix_now());
            });
            if let Some(reply) = pending_restart.take() {
                let _ = reply.send(generation);
            }
            let started = Instant::now();
            let end = self.run_once(generation, &mut ever_ready).await;
            let ran = started.elapsed();
            let park = match end {
                RunEnd::Stopped(reply) => {
                    self.set(|s| {
                        s.state = State::Stopped;
                        s.pid = None;
                    });
                    let _ = reply.send(());
                    true
                }
                RunEnd::Restart(binary, reply) => {
                    self.swap_binary(binary);
                    pending_restart = Some(reply);
                    backoff = BACKOFF_START;
                    false
                }
                RunEnd::Orphaned => return,
                RunEnd::Exited(status)
                    if self.spec.kind == ServiceKind::OneShot && status.success =>
                {
                    self.note("completed");
                    self.set(|s| {
                        s.state = State::Done;
                        s.pid = None;
                    });
                    true
                }
                RunEnd::SpawnFailed(reason) | RunEnd::NotReady(reason) if !ever_ready => {
                    self.fail(reason);
                    true
                }
                RunEnd::Exited(status) if !ever_ready => {
                    self.fail(format!(
                        "exited before it was ready ({})",
                        status.description
                    ));
                    true
                }
                RunEnd::SpawnFailed(reason) | RunEnd::NotReady(reason) => {
                    self.restart_after(&name, reason, &mut backoff, ran).await
                }
                RunEnd::Exited(status) if self.spec.restart.restarts_after(status.success) => {
                    self.restart_after(&name, status.description, &mut backoff, ran)
                        .await
                }
                RunEnd::Exited(status) => {
                    let reason = status.description;
                    self.note(&format!(
                        "exited ({reason}); its restart policy leaves it stopped"
                    ));
                    self.set(|s| {
                        s.state = State::Exited;
                        s.pid = None;
                        s.last_error = Some(reason);
                    });
                    true
                }
            };
            if park {
                // Stopped, failed or exited for good: wait for a command.
                match self.park().await {
                    Some((binary, reply)) => {
                        self.swap_binary(binary);
                        pending_restart = Some(reply);
                        backoff = BACKOFF_START;
                    }
                    None => return,
                }
            }
        }
    }

    fn fail(&self, reason: String) {
        warn!(service = %self.spec.name, %reason, "failed to start");
        self.note(&format!("failed: {reason}"));
        self.set(|s| {
            s.state = State::Failed;
            s.pid = None;
            s.last_error = Some(reason);
        });
    }

    fn swap_binary(&mut self, binary: Option<PathBuf>) {
        if let Some(binary) = binary {
            self.note(&format!("binary is now {}", binary.display()));
            self.spec.artifact.binary = binary;
            // A runtime that runs images builds one from the new binary.
            self.spec.artifact.image = None;
        }
    }

    /// Counts a restart and sleeps the backoff. Returns true when a stop came during the sleep
    /// (the service is then stopped and the stop answered); false to start again.
    async fn restart_after(
        &mut self,
        name: &str,
        reason: String,
        backoff: &mut Duration,
        ran: Duration,
    ) -> bool {
        if ran >= BACKOFF_RESET_AFTER {
            *backoff = BACKOFF_START;
        }
        let wait = *backoff;
        *backoff = (*backoff * 2).min(BACKOFF_MAX);
        warn!(service = %name, %reason, backoff_ms = wait.as_millis() as u64, "exited; restarting");
        self.note(&format!(
            "exited ({reason}); restarting in {} ms",
            wait.as_millis()
        ));
        self.set(|s| {
            s.state = State::Restarting;
            s.pid = None;
            s.restarts += 1;
            s.last_error = Some(reason);
        });
        tokio::select! {
            _ = tokio::time::sleep(wait) => false,
            cmd = self.rx.recv() => match cmd {
                Some(Request::Stop(reply)) => {
                    self.set(|s| s.state = State::Stopped);
                    let _ = reply.send(());
                    true
                }
                Some(Request::Restart(binary, reply)) => {
                    // Restart now instead of after the backoff.
                    self.swap_binary(binary);
                    let generation = self.state.borrow().generation + 1;
                    let _ = reply.send(generation);
                    false
                }
                None => false,
            },
        }
    }

    /// Waits for a command while nothing runs. `Some` means: start again.
    async fn park(&mut self) -> Option<(Option<PathBuf>, oneshot::Sender<u64>)> {
        loop {
            match self.rx.recv().await? {
                Request::Stop(reply) => {
                    if self.state.borrow().state != State::Failed {
                        self.set(|s| s.state = State::Stopped);
                    }
                    let _ = reply.send(());
                }
                Request::Restart(binary, reply) => return Some((binary, reply)),
            }
        }
    }

    /// Starts the process once and follows it until it ends or a command ends it.
    async fn run_once(&mut self, generation: u64, ever_ready: &mut bool) -> RunEnd {
        let name = self.spec.name.clone();
        let log_start = std::fs::metadata(&self.log_path)
            .map(|m| m.len())
            .unwrap_or(0);
        let data_text = self.data.to_string_lossy().into_owned();
        for scratch in &self.spec.scratch {
            let path = PathBuf::from(scratch.replace(opdev_spec::DATA_DIR, &data_text));
            match std::fs::remove_dir_all(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return RunEnd::SpawnFailed(format!("empty {}: {e}", path.display())),
            }
        }
        for snapshot in &self.spec.snapshots {
            let path = PathBuf::from(snapshot.replace(opdev_spec::DATA_DIR, &data_text));
            match tokio::task::spawn_blocking(move || crate::snapshot::check(&path)).await {
                Ok(Ok(None)) => {}
                Ok(Ok(Some(note))) => {
                    warn!(service = %name, "{note}");
                    self.note(&note);
                }
                Ok(Err(reason)) => return RunEnd::SpawnFailed(reason),
                Err(e) => return RunEnd::SpawnFailed(format!("check {snapshot}: {e}")),
            }
        }
        let launched = self
            .launcher
            .launch(&self.spec, &self.data, self.log.clone())
            .await;
        let mut child = match launched {
            Ok(child) => child,
            Err(reason) => return RunEnd::SpawnFailed(reason),
        };
        let pid = child.pid();
        let container = child.container();
        info!(service = %name, pid, generation, binary = %self.spec.artifact.binary.display(), "started");
        self.note(&match &container {
            Some(id) => format!("started container {id} (start #{generation})"),
            None => format!(
                "started pid {} (start #{generation})",
                pid.unwrap_or_default()
            ),
        });
        self.set(|s| {
            s.pid = pid;
            s.container = container;
        });

        let spec = self.spec.clone();
        let log_path = self.log_path.clone();
        let ready = async move { readiness::wait(&spec, &log_path, log_start).await };
        tokio::pin!(ready);
        // A one-shot job is judged by its exit, not by readiness conditions.
        let mut ready_done = self.spec.kind == ServiceKind::OneShot;
        loop {
            tokio::select! {
                status = child.wait() => return RunEnd::Exited(status),
                result = &mut ready, if !ready_done => {
                    ready_done = true;
                    match result {
                        Ok(()) => {
                            *ever_ready = true;
                            info!(service = %name, generation, "ready");
                            self.set(|s| {
                                s.state = State::Ready;
                                s.last_error = None;
                            });
                        }
                        Err(not_ready) => {
                            let reason = not_ready.to_string();
                            child.terminate(self.spec.stop_grace, self.spec.stop_signal).await;
                            return RunEnd::NotReady(reason);
                        }
                    }
                }
                cmd = self.rx.recv() => {
                    let grace = self.spec.stop_grace;
                    match cmd {
                        Some(Request::Stop(reply)) => {
                            child.terminate(grace, self.spec.stop_signal).await;
                            info!(service = %name, "stopped");
                            self.note("stopped on request");
                            return RunEnd::Stopped(reply);
                        }
                        Some(Request::Restart(binary, reply)) => {
                            child.terminate(grace, self.spec.stop_signal).await;
                            self.note("restarting on request");
                            return RunEnd::Restart(binary, reply);
                        }
                        None => {
                            child.terminate(grace, self.spec.stop_signal).await;
                            return RunEnd::Orphaned;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use opdev_spec::{Artifact, ServiceSpec};

    use crate::{Dirs, Runtime, State, native};

    fn sleeper(name: &str) -> ServiceSpec {
        ServiceSpec::daemon(name, Artifact::binary("sleep", "/bin/sleep"))
            .with_args(["600"])
            .with_stop_grace(Duration::from_secs(1))
    }

    #[tokio::test]
    async fn a_service_follows_the_crash_restarts_of_another_but_not_its_stops() {
        let dir = tempfile::tempdir().unwrap();
        let supervisor = native::NativeRuntime::new(Dirs {
            data: dir.path().join("data"),
            logs: dir.path().join("logs"),
        });
        let leader = supervisor.start(sleeper("leader")).await.unwrap();
        let follower = sleeper("follower").with_restart_with("leader");
        let first = supervisor.start(follower).await.unwrap();
        assert_eq!(first.generation, 1);
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(leader.pid.unwrap() as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        let status = |name: &str| {
            supervisor
                .status()
                .into_iter()
                .find(|s| s.name == name)
                .unwrap()
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let f = status("follower");
            if f.generation == 2 && f.state == State::Ready {
                assert_ne!(f.pid, first.pid, "a new process");
                assert_eq!(f.restarts, 0, "followed, not crashed");
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the follower was not restarted: {f:?}, leader {:?}",
                status("leader")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(status("leader").restarts, 1);
        // A requested restart of the leader is no crash: the follower stays.
        supervisor.restart("leader", None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(status("follower").generation, 2);
        supervisor.stop_all().await;
    }
}
