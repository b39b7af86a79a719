//! A devnet's supervisor: the long-lived process (or, with `up --foreground`, the terminal's own
//! process) that holds `run.lock`, runs the plan's service steps on the native runtime, reports
//! progress until the devnet is ready, then serves requests on `supervisor.sock` and keeps
//! `state.json` current until `down`, SIGTERM or SIGINT stops it.

use std::{
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use opdev_runtime::{
    NativeRuntime, Runtime, RuntimeError, Supervisor,
    docker::{self, DevnetContext, DockerLauncher, DockerRuntime},
};
use opdev_spec::{Artifact, RuntimeKind, ServiceSpec};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{UnixListener, UnixStream},
    signal::unix::{SignalKind, signal},
    sync::mpsc,
};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    Error,
    home::{DevnetDir, write_private},
    lock,
    plan::{self, Plan},
    protocol::{Event, Request, Response, SupervisorState},
};

/// Reads the specs `up` saved for the supervisor.
pub fn load_services(devnet: &DevnetDir) -> Result<Vec<ServiceSpec>, Error> {
    let path = devnet.services_path();
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Supervisor {
        name: devnet.name().into(),
        reason: format!("{}: {e}", path.display()),
    })
}

/// Reads the last `state.json` a supervisor wrote, if any.
pub fn load_state(devnet: &DevnetDir) -> Option<SupervisorState> {
    let text = std::fs::read_to_string(devnet.state_path()).ok()?;
    serde_json::from_str(&text).ok()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

struct Shared {
    devnet: DevnetDir,
    runtime: Supervisor,
    pid: u32,
    started_at: u64,
}

impl Shared {
    fn state(&self) -> SupervisorState {
        SupervisorState {
            pid: self.pid,
            started_at: self.started_at,
            services: self.runtime.status(),
        }
    }

    fn save_state(&self) {
        let json = serde_json::to_vec_pretty(&self.state()).expect("state serializes");
        if let Err(e) = write_private(&self.devnet.state_path(), &json) {
            warn!(error = %e, "failed to write state.json");
        }
    }
}

/// Runs the supervisor of `devnet` until it is told to stop. `events` receives the progress of
/// the plan, then one `Ready` or `Failed`; nothing after that. `stop` ends the supervisor from
/// outside (besides `down`, SIGTERM and SIGINT).
pub async fn run(
    devnet: DevnetDir,
    mut events: impl FnMut(Event) + Send,
    stop: CancellationToken,
) -> Result<(), Error> {
    crate::home::private_umask();
    let name = devnet.name().to_owned();
    let fail = |events: &mut dyn FnMut(Event), step: &str, err: &Error| {
        events(Event::Failed {
            step: step.into(),
            message: err.to_string(),
            hint: err.hint_for(&name),
            exit_code: err.exit_code() as u8,
            log_tail: err.details().to_vec(),
        });
    };
    let Some(_run_lock) = lock::try_lock(&devnet.run_lock_path())? else {
        let err = Error::AlreadyRunning {
            name: name.clone(),
            pid: load_state(&devnet).map(|s| s.pid),
        };
        fail(&mut events, "supervisor", &err);
        return Err(err);
    };
    let prepared = (|| {
        let config = devnet.load_config()?;
        let services = load_services(&devnet)?;
        Ok::<_, Error>((config.runtime, Plan::new(&config, services)))
    })();
    let (runtime_kind, plan) = match prepared {
        Ok(p) => p,
        Err(e) => {
            fail(&mut events, "supervisor", &e);
            return Err(e);
        }
    };
    let (runtime, docker) = match runtime_kind {
        RuntimeKind::Native => (NativeRuntime::new(devnet.runtime_dirs()), None),
        RuntimeKind::Docker => match docker_runtime(&devnet, &plan.services).await {
            Ok((runtime, launcher)) => (runtime, Some(launcher)),
            Err(e) => {
                fail(&mut events, "supervisor", &e);
                return Err(e);
            }
        },
    };

    let socket_path = devnet.socket_path();
    let _ = std::fs::remove_file(&socket_path); // stale: we hold the run lock
    let listener = match UnixListener::bind(&socket_path) {
        Ok(l) => l,
        Err(e) => {
            let err = Error::io(&socket_path, e);
            fail(&mut events, "supervisor", &err);
            return Err(err);
        }
    };
    let shared = Arc::new(Shared {
        devnet: devnet.clone(),
        runtime,
        pid: std::process::id(),
        started_at: unix_now(),
    });
    info!(devnet = %name, pid = shared.pid, "supervisor started");

    // Requests are served from the start, so `status` and `down` work while `up` is under way.
    let (down_tx, mut down_rx) = mpsc::channel::<UnixStream>(4);
    let server = tokio::spawn(serve(listener, shared.clone(), down_tx));
    let mut sigterm = signal(SignalKind::terminate()).map_err(|e| Error::io(&socket_path, e))?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| Error::io(&socket_path, e))?;
    let mut down_replies: Vec<UnixStream> = Vec::new();

    // Run the plan.
    let steps = plan.service_steps();
    let specs = plan.services.clone();
    let events = Arc::new(Mutex::new(events));
    let emit = |e: Event| (events.lock().expect("events lock"))(e);
    let execution = plan::execute(
        &steps,
        |step| {
            let spec = specs
                .iter()
                .find(|s| plan::start_step(&s.name) == step.id)
                .cloned();
            let runtime = shared.runtime.clone();
            async move {
                let spec = spec.expect("every service step has a spec");
                runtime.start(spec).await.map(drop)
            }
        },
        |step| {
            info!(step = %step.id, "step started");
            emit(Event::StepStarted {
                step: step.id.clone(),
            })
        },
        |step, took| {
            info!(step = %step.id, millis = took.as_millis() as u64, "step done");
            emit(Event::StepDone {
                step: step.id.clone(),
                millis: took.as_millis() as u64,
            });
        },
    );
    let outcome = tokio::select! {
        result = execution => Some(result),
        _ = stop.cancelled() => None,
        _ = sigterm.recv() => None,
        _ = sigint.recv() => None,
        Some(stream) = down_rx.recv() => { down_replies.push(stream); None }
    };
    shared.save_state();
    match outcome {
        Some(Ok(_)) => {
            info!(devnet = %name, "ready");
            emit(Event::Ready {
                state: shared.state(),
            });
        }
        Some(Err(failure)) => {
            let err = match failure.error {
                RuntimeError::NotReady {
                    service,
                    reason,
                    log_tail,
                } => Error::NotReady {
                    service,
                    reason,
                    log_tail,
                },
                other => Error::Supervisor {
                    name: name.clone(),
                    reason: other.to_string(),
                },
            };
            warn!(step = %failure.step, error = %err, "up failed; stopping what started");
            shared.runtime.stop_all().await;
            if let Some(launcher) = &docker {
                launcher.finish().await;
            }
            shared.save_state();
            let _ = std::fs::remove_file(&socket_path);
            emit(Event::Failed {
                step: failure.step,
                message: err.to_string(),
                hint: err.hint_for(&name),
                exit_code: err.exit_code() as u8,
                log_tail: err.details().to_vec(),
            });
            return Err(err);
        }
        None => {
            let err = Error::Supervisor {
                name: name.clone(),
                reason: "stopped before the devnet was ready".into(),
            };
            emit(Event::Failed {
                step: "supervisor".into(),
                message: err.to_string(),
                hint: err.hint_for(&name),
                exit_code: err.exit_code() as u8,
                log_tail: Vec::new(),
            });
        }
    }
    drop(events); // nothing is reported after Ready/Failed

    // Serve until told to stop, keeping state.json current.
    let mut changes = shared.runtime.subscribe();
    if down_replies.is_empty() {
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = sigterm.recv() => { info!("SIGTERM"); break }
                _ = sigint.recv() => { info!("SIGINT"); break }
                Some(stream) = down_rx.recv() => { down_replies.push(stream); break }
                Ok(()) = changes.changed() => shared.save_state(),
            }
        }
    }

    info!(devnet = %name, "stopping");
    server.abort();
    let _ = std::fs::remove_file(&socket_path);
    shared.runtime.stop_all().await;
    if let Some(launcher) = &docker {
        launcher.finish().await;
    }
    shared.save_state();
    info!(devnet = %name, "stopped");
    while let Ok(stream) = down_rx.try_recv() {
        down_replies.push(stream);
    }
    for mut stream in down_replies {
        let _ = write_line(&mut stream, &Response::Ok).await;
    }
    Ok(())
}

/// The container that holds a Docker devnet's network namespace runs this: opdev waiting for
/// SIGTERM (`opdev serve pause`), from the image built of the running opdev binary.
pub fn netns_spec(opdev: &std::path::Path) -> ServiceSpec {
    ServiceSpec::daemon(docker::NETNS, Artifact::binary("opdev", opdev))
        .with_args(["serve", "pause"])
}

/// The Docker runtime of `devnet`, its network and network-namespace container ready for the
/// services of `specs`.
async fn docker_runtime(
    devnet: &DevnetDir,
    specs: &[ServiceSpec],
) -> Result<(Supervisor, Arc<DockerLauncher>), Error> {
    let client = docker::connect().await?;
    let context = DevnetContext {
        name: devnet.name().to_owned(),
        root: devnet.root().to_path_buf(),
    };
    let progress: docker::Progress = Arc::new(|line: String| info!("{line}"));
    let (runtime, launcher) = DockerRuntime::new(devnet.runtime_dirs(), client, context, progress);
    let opdev = std::env::current_exe().map_err(|e| Error::io(devnet.root(), e))?;
    let ports: Vec<u16> = specs
        .iter()
        .flat_map(|s| s.ports.values().copied())
        .collect();
    launcher.prepare(&netns_spec(&opdev), &ports).await?;
    Ok((runtime, launcher))
}

async fn serve(listener: UnixListener, shared: Arc<Shared>, down: mpsc::Sender<UnixStream>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        let down = down.clone();
        tokio::spawn(async move {
            if let Err(e) = handle(stream, &shared, down).await {
                warn!(error = %e, "control connection failed");
            }
        });
    }
}

async fn handle(
    stream: UnixStream,
    shared: &Shared,
    down: mpsc::Sender<UnixStream>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let mut stream = reader.into_inner();
    let request: Request = match serde_json::from_str(&line) {
        Ok(r) => r,
        Err(e) => {
            let response = Response::Error {
                message: format!("bad request: {e}"),
                log_tail: Vec::new(),
            };
            return write_line(&mut stream, &response).await;
        }
    };
    info!(?request, "request");
    let response = match request {
        Request::Status => Response::Status(shared.state()),
        Request::Down => {
            // The main loop answers once everything has stopped.
            let _ = down.send(stream).await;
            return Ok(());
        }
        Request::Restart { services, binary } => {
            let restarts = services
                .iter()
                .map(|s| shared.runtime.restart(s, binary.clone()));
            let results = futures::future::join_all(restarts).await;
            shared.save_state();
            match results.into_iter().find_map(Result::err) {
                None => Response::Status(shared.state()),
                Some(RuntimeError::NotReady {
                    service,
                    reason,
                    log_tail,
                }) => Response::Error {
                    message: format!("service {service} did not become ready: {reason}"),
                    log_tail,
                },
                Some(other) => Response::Error {
                    message: other.to_string(),
                    log_tail: Vec::new(),
                },
            }
        }
    };
    write_line(&mut stream, &response).await
}

async fn write_line<T: serde::Serialize>(
    stream: &mut UnixStream,
    value: &T,
) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(value).expect("protocol values serialize");
    bytes.push(b'\n');
    stream.write_all(&bytes).await?;
    stream.flush().await
}
