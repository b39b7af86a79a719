//! The native runtime: each service is a host process in its own process group, its output
//! copied to the service's log; a stop is the stop signal to the group, a grace period, then
//! SIGKILL. Supervision (readiness, restarts with backoff) is the shared [`Supervisor`]'s.
//!
//! Children get `PR_SET_PDEATHSIG(SIGTERM)`: if the supervisor itself dies, its services are told
//! to stop (anvil saves its state on SIGTERM) instead of running on unowned.

use std::{
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    sync::Arc,
    time::Duration,
};

use futures::future::BoxFuture;
use nix::{
    sys::signal::{Signal, killpg},
    unistd::Pid,
};
use opdev_spec::{ServiceSpec, StopSignal};
use tokio::{
    io::{AsyncRead, AsyncReadExt},
    process::{Child, Command},
    time::{sleep, timeout},
};
use tracing::warn;

use crate::supervise::{Dirs, Exit, Launcher, Proc, SharedLog, Supervisor};

/// The native runtime: the [`Supervisor`] with host processes.
pub struct NativeRuntime;

impl NativeRuntime {
    /// A native runtime keeping data and logs under `dirs`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(dirs: Dirs) -> Supervisor {
        Supervisor::new(dirs, Arc::new(NativeLauncher))
    }
}

/// Starts services as host processes.
#[derive(Debug, Clone, Copy, Default)]
pub struct NativeLauncher;

impl Launcher for NativeLauncher {
    fn launch<'a>(
        &'a self,
        spec: &'a ServiceSpec,
        data: &'a Path,
        log: SharedLog,
    ) -> BoxFuture<'a, Result<Box<dyn Proc>, String>> {
        Box::pin(async move {
            setup(spec, data, &log).await?;
            let child = spawn(spec, data, log)?;
            let pid = child.id();
            Ok(Box::new(HostProcess { child, pid }) as Box<dyn Proc>)
        })
    }
}

/// Runs the spec's setup command unless what it creates exists; its output goes to the log.
async fn setup(spec: &ServiceSpec, data: &Path, log: &SharedLog) -> Result<(), String> {
    if spec.unprivileged && nix::unistd::geteuid().is_root() {
        // Run by root, the program runs as uid 1000 mapped onto root (see `command_line`), so
        // its files must be root's. The Docker runtime gives them to uid 1000: take them back
        // when a devnet moves from Docker to native.
        use std::os::unix::fs::MetadataExt;
        if std::fs::metadata(data).is_ok_and(|m| m.uid() != 0) {
            crate::chown_tree(data, 0)?;
        }
    }
    let Some(setup) = &spec.setup else {
        return Ok(());
    };
    let Some(args) = setup.pending_args(&data.to_string_lossy()) else {
        return Ok(());
    };
    if let Ok(mut log) = log.lock() {
        let _ = log.note(&format!("setup: {}", setup.program.display()));
    }
    let (program, args) = command_line(&setup.program, args, spec.unprivileged)?;
    let output = Command::new(program)
        .args(args)
        .envs(&spec.env)
        .current_dir(data)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("run setup {}: {e}", setup.program.display()))?;
    if let Ok(mut log) = log.lock() {
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

fn spawn(spec: &ServiceSpec, data: &Path, log: SharedLog) -> Result<Child, String> {
    let data_text = data.to_string_lossy().into_owned();
    let (program, args) = command_line(
        &spec.artifact.binary,
        spec.resolved_args(&data_text, opdev_spec::LOOPBACK),
        spec.unprivileged,
    )?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(&spec.env)
        .current_dir(data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    set_parent_death_signal(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("run {}: {e}", spec.artifact.binary.display()))?;
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
        tokio::spawn(copy_to_log(pipe, log.clone()));
    }
    Ok(child)
}

/// A service run as a host process (group).
struct HostProcess {
    child: Child,
    pid: Option<u32>,
}

impl Proc for HostProcess {
    fn pid(&self) -> Option<u32> {
        self.pid
    }

    fn wait(&mut self) -> BoxFuture<'_, Exit> {
        Box::pin(async move {
            match self.child.wait().await {
                Ok(status) => Exit {
                    success: status.success(),
                    description: describe(status),
                },
                Err(e) => Exit {
                    success: false,
                    description: format!("lost the process: {e}"),
                },
            }
        })
    }

    fn terminate(&mut self, grace: Duration, signal: StopSignal) -> BoxFuture<'_, ()> {
        Box::pin(terminate(&mut self.child, self.pid, grace, signal))
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

async fn copy_to_log(mut pipe: Box<dyn AsyncRead + Send + Unpin>, log: SharedLog) {
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
