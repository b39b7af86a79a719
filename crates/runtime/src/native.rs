//! The native runtime: each service is a host process in its own process group, owned by one
//! actor task that starts it, copies its output to a rotating log, checks its readiness, restarts
//! it with backoff when it dies, and stops it (SIGTERM to the group, a grace period, SIGKILL).
//!
//! Children get `PR_SET_PDEATHSIG(SIGTERM)`: if the supervisor itself dies, its services are told
//! to stop (anvil saves its state on SIGTERM) instead of running on unowned.

use std::{
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use nix::{
    sys::signal::{Signal, killpg},
    unistd::Pid,
};
use opdev_spec::{ServiceKind, ServiceSpec, StopSignal};
use tokio::{
    io::{AsyncRead, AsyncReadExt},
    process::{Child, Command},
    sync::{mpsc, oneshot, watch},
    time::{Instant, sleep, timeout},
};
use tracing::{info, warn};

use crate::{
    Runtime, RuntimeError, ServiceStatus, State,
    logs::{self, DEFAULT_KEEP, DEFAULT_MAX_BYTES, RotatingLog},
    readiness,
};

/// First pause before restarting a service that died.
const BACKOFF_START: Duration = Duration::from_millis(250);
/// Longest pause between restarts.
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// A process that ran this long resets the backoff.
const BACKOFF_RESET_AFTER: Duration = Duration::from_secs(30);
/// Log lines attached to a readiness failure.
pub const FAILURE_LOG_LINES: usize = 15;

/// Where the native runtime keeps service data and logs.
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

/// Supervises services as host processes.
#[derive(Clone)]
pub struct NativeRuntime {
    dirs: Dirs,
    services: Arc<Mutex<Vec<(String, Handle)>>>,
    changed: watch::Sender<u64>,
}

impl std::fmt::Debug for NativeRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeRuntime")
            .field("dirs", &self.dirs)
            .finish_non_exhaustive()
    }
}

impl NativeRuntime {
    /// A runtime keeping data and logs under `dirs`.
    pub fn new(dirs: Dirs) -> Self {
        Self {
            dirs,
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

impl Runtime for NativeRuntime {
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
            data,
            log: Arc::new(Mutex::new(log)),
            log_path,
            state: state_tx,
            changed: self.changed.clone(),
            rx,
        };
        tokio::spawn(actor.run());
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
    Exited(ExitStatus),
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
                    if self.spec.kind == ServiceKind::OneShot && status.success() =>
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
                    self.fail(format!("exited before it was ready ({})", describe(status)));
                    true
                }
                RunEnd::SpawnFailed(reason) | RunEnd::NotReady(reason) => {
                    self.restart_after(&name, reason, &mut backoff, ran).await
                }
                RunEnd::Exited(status) if self.spec.restart.restarts_after(status.success()) => {
                    self.restart_after(&name, describe(status), &mut backoff, ran)
                        .await
                }
                RunEnd::Exited(status) => {
                    let reason = describe(status);
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
        if let Err(reason) = self.setup().await {
            return RunEnd::SpawnFailed(reason);
        }
        let log_start = std::fs::metadata(&self.log_path)
            .map(|m| m.len())
            .unwrap_or(0);
        let mut child = match self.spawn() {
            Ok(child) => child,
            Err(reason) => return RunEnd::SpawnFailed(reason),
        };
        let pid = child.id();
        info!(service = %name, pid, generation, binary = %self.spec.artifact.binary.display(), "started");
        self.note(&format!(
            "started pid {} (start #{generation})",
            pid.unwrap_or_default()
        ));
        self.set(|s| s.pid = pid);

        let spec = self.spec.clone();
        let log_path = self.log_path.clone();
        let ready = async move { readiness::wait(&spec, &log_path, log_start).await };
        tokio::pin!(ready);
        // A one-shot job is judged by its exit, not by readiness conditions.
        let mut ready_done = self.spec.kind == ServiceKind::OneShot;
        loop {
            tokio::select! {
                status = child.wait() => {
                    return match status {
                        Ok(status) => RunEnd::Exited(status),
                        Err(e) => RunEnd::SpawnFailed(format!("wait for process: {e}")),
                    };
                }
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
                            terminate(&mut child, pid, self.spec.stop_grace, self.spec.stop_signal).await;
                            return RunEnd::NotReady(reason);
                        }
                    }
                }
                cmd = self.rx.recv() => {
                    let grace = self.spec.stop_grace;
                    match cmd {
                        Some(Request::Stop(reply)) => {
                            terminate(&mut child, pid, grace, self.spec.stop_signal).await;
                            info!(service = %name, "stopped");
                            self.note("stopped on request");
                            return RunEnd::Stopped(reply);
                        }
                        Some(Request::Restart(binary, reply)) => {
                            terminate(&mut child, pid, grace, self.spec.stop_signal).await;
                            self.note("restarting on request");
                            return RunEnd::Restart(binary, reply);
                        }
                        None => {
                            terminate(&mut child, pid, grace, self.spec.stop_signal).await;
                            return RunEnd::Orphaned;
                        }
                    }
                }
            }
        }
    }

    /// Runs the spec's setup command unless what it creates exists; its output goes to the log.
    async fn setup(&self) -> Result<(), String> {
        let Some(setup) = &self.spec.setup else {
            return Ok(());
        };
        let data = self.data.to_string_lossy().into_owned();
        let creates = setup.creates.replace(opdev_spec::DATA_DIR, &data);
        if Path::new(&creates).exists() {
            return Ok(());
        }
        self.note(&format!("setup: {}", setup.program.display()));
        let args = setup
            .args
            .iter()
            .map(|a| a.replace(opdev_spec::DATA_DIR, &data))
            .collect();
        let (program, args) = command_line(&setup.program, args, self.spec.unprivileged)?;
        let output = Command::new(program)
            .args(args)
            .envs(&self.spec.env)
            .current_dir(&self.data)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| format!("run setup {}: {e}", setup.program.display()))?;
        if let Ok(mut log) = self.log.lock() {
            let _ = log.write_all(&output.stdout);
            let _ = log.write_all(&output.stderr);
        }
        if !output.status.success() {
            return Err(format!(
                "setup {} failed ({})",
                setup.program.display(),
                describe(output.status)
            ));
        }
        Ok(())
    }

    fn spawn(&self) -> Result<Child, String> {
        let data = self.data.to_string_lossy().into_owned();
        let (program, args) = command_line(
            &self.spec.artifact.binary,
            self.spec.resolved_args(&data),
            self.spec.unprivileged,
        )?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .envs(&self.spec.env)
            .current_dir(&self.data)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        set_parent_death_signal(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("run {}: {e}", self.spec.artifact.binary.display()))?;
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            tokio::spawn(copy_to_log(pipe, self.log.clone()));
        }
        Ok(child)
    }
}

/// The program and arguments to execute. A program that refuses root, started by root, runs in
/// a new user namespace (util-linux `unshare`) as uid/gid 1000 mapped onto root: it believes it
/// is unprivileged, while its files stay owned by the user running opdev and every path opdev can
/// reach stays reachable (a separate system user could not enter a 0700 home folder).
pub fn command_line(
    program: &Path,
    args: Vec<String>,
    unprivileged: bool,
) -> Result<(PathBuf, Vec<String>), String> {
    if !unprivileged || !nix::unistd::geteuid().is_root() {
        return Ok((program.to_path_buf(), args));
    }
    let unshare = which_unshare()
        .ok_or("running as root needs util-linux's `unshare` to drop root for this program")?;
    let mut all = vec![
        "--user".to_owned(),
        "--map-user=1000".into(),
        "--map-group=1000".into(),
        "--".into(),
    ];
    all.push(program.to_string_lossy().into_owned());
    all.extend(args);
    Ok((unshare, all))
}

fn which_unshare() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/bin".into(), "/bin".into()])
        .map(|d| d.join("unshare"))
        .find(|p| p.is_file())
}

async fn copy_to_log(mut pipe: Box<dyn AsyncRead + Send + Unpin>, log: Arc<Mutex<RotatingLog>>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Ok(mut log) = log.lock() {
                    let _ = log.write_all(&buf[..n]);
                }
            }
        }
    }
}

/// The stop signal to the process group, up to `grace` for it to exit, then SIGKILL.
async fn terminate(child: &mut Child, pid: Option<u32>, grace: Duration, signal: StopSignal) {
    let Some(pid) = pid else { return };
    let group = Pid::from_raw(pid as i32);
    let signal = match signal {
        StopSignal::Term => Signal::SIGTERM,
        StopSignal::Int => Signal::SIGINT,
    };
    let _ = killpg(group, signal);
    if timeout(grace, child.wait()).await.is_err() {
        warn!(
            pid,
            grace_ms = grace.as_millis() as u64,
            "did not stop after SIGTERM; sending SIGKILL"
        );
        let _ = killpg(group, Signal::SIGKILL);
        let _ = child.wait().await;
    }
    // Leftover members of the group (grandchildren) go too.
    let _ = killpg(group, Signal::SIGKILL);
    sleep(Duration::ZERO).await;
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => match Signal::try_from(sig) {
            Ok(s) => format!("killed by {s}"),
            Err(_) => format!("killed by signal {sig}"),
        },
        _ => "unknown exit".into(),
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn set_parent_death_signal(cmd: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and only makes one async-signal-
    // safe system call (prctl), touching no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(std::io::Error::from)
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn set_parent_death_signal(_cmd: &mut Command) {}
