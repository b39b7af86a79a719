//! The life cycle of a devnet as the CLI drives it: [`prepare`] resolves config, tools and ports
//! and writes what the supervisor needs (or, for `--plan`, only computes it); [`launch`] starts the
//! supervisor in the background and follows its progress until ready; [`down`] and [`purge`] end
//! it. A failed `up` of a new devnet leaves no folder behind; of an existing one, leaves it
//! stopped as it was.

use std::os::unix::fs::OpenOptionsExt;
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use opdev_profiles::{Inputs, Tools};
use opdev_runtime::logs;
use opdev_spec::{DevnetConfig, PortMode, RuntimeKind, Settings};
use tracing::info;

use crate::{
    Error, client,
    daemon::load_state,
    home::{DevnetDir, Home, write_private},
    lock::{self, FileLock},
    monitoring,
    plan::Plan,
    ports,
    protocol::{Event, Request, Response, SupervisorState},
    secrets, tools,
};

/// What `up` asks for.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// Merged settings (file, env, flags).
    pub settings: Settings,
    /// Start new chains even if the devnet exists (its chain data is deleted).
    pub fresh: bool,
    /// The opdev executable that runs opdev's own services.
    pub opdev: PathBuf,
    /// Fork mode: the upstream heads [`check_forks`] found, which pin new forks.
    pub fork_heads: std::collections::BTreeMap<String, u64>,
}

/// A devnet ready to be launched: config saved, specs written, `up.lock` held.
#[derive(Debug)]
pub struct Prepared {
    /// The devnet folder.
    pub devnet: DevnetDir,
    /// Its resolved config.
    pub config: DevnetConfig,
    /// What will run.
    pub plan: Plan,
    /// Whether this `up` created the devnet.
    pub created: bool,
    /// Steps done so far and how long they took.
    pub timings: Vec<(String, Duration)>,
    plan_opdev: PathBuf,
    up_lock: FileLock,
}

impl Prepared {
    /// Releases `up.lock` (once the devnet is ready or has failed).
    pub fn release(self) -> (DevnetDir, DevnetConfig, Vec<(String, Duration)>) {
        drop(self.up_lock);
        (self.devnet, self.config, self.timings)
    }
}

/// Removes a devnet folder created by this `up` unless disarmed.
struct RemoveOnError {
    dir: Option<PathBuf>,
}

impl Drop for RemoveOnError {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn resolve_config(devnet: &DevnetDir, opts: &UpOptions) -> Result<DevnetConfig, Error> {
    let config = if devnet.exists() {
        let saved = devnet.load_config()?;
        let mut next = saved.clone();
        next.apply(&opts.settings)?;
        let changed = saved.identity_changes(&next);
        if !changed.is_empty() && !opts.fresh {
            let keys = changed
                .iter()
                .map(|key| match *key {
                    // Say which way: the chains of one profile cannot become the other's.
                    "profile" => format!("profile ({}, not {})", saved.profile, next.profile),
                    other => other.to_owned(),
                })
                .collect::<Vec<_>>();
            return Err(Error::NeedsFresh {
                name: next.name.clone(),
                keys: keys.join(", "),
            });
        }
        next
    } else {
        DevnetConfig::new(&opts.settings)?
    };
    let mut config = config;
    crate::fork::pin(&mut config, &opts.fork_heads);
    opdev_chain::accounts::derive(&config.mnemonic, 1)?;
    Ok(config)
}

/// Fork mode: probes the upstream of every chain this `up` forks (before anything is written or
/// started) and returns the heads that pin new forks, for [`UpOptions::fork_heads`].
pub async fn check_forks(
    home: &Home,
    opts: &UpOptions,
) -> Result<std::collections::BTreeMap<String, u64>, Error> {
    let devnet = home.devnet(&opts.settings.devnet_name()?);
    let config = resolve_config(&devnet, opts)?;
    crate::fork::probe(&config).await
}

/// The programs of a Docker devnet. Services run from images, so nothing has to be installed:
/// a program found on this machine (on PATH, or anvil in opdev's cache) is named by its path, and
/// an image is built from it when asked with `--binary` or when its pinned image cannot be had;
/// a program not found is named by the path it has in the tool's official image. The full
/// profile's op-geth, op-node, op-batcher and op-proposer are not among these: they have no pinned
/// image, so `prepare` resolves them as on the native runtime (`--binary`, else opdev's cache,
/// else built with Go) and each image is built from that program.
fn docker_tools(config: &DevnetConfig, opdev: &Path) -> Tools {
    let found = |name: &str| which::which(name).ok();
    let anvil = config
        .anvil_bin
        .clone()
        .or_else(|| found("anvil"))
        .or_else(tools::cached_anvil)
        .unwrap_or_else(|| PathBuf::from("/usr/local/bin/anvil"));
    let postgres = config.runs_postgres().then(|| {
        tools::postgres_bin_dir().unwrap_or_else(|_| PathBuf::from("/usr/lib/postgresql/15/bin"))
    });
    let (prometheus, alertmanager) = if config.monitoring {
        (
            Some(found("prometheus").unwrap_or_else(|| PathBuf::from("/bin/prometheus"))),
            Some(found("alertmanager").unwrap_or_else(|| {
                found("prometheus-alertmanager")
                    .unwrap_or_else(|| PathBuf::from("/bin/alertmanager"))
            })),
        )
    } else {
        (None, None)
    };
    Tools {
        anvil,
        opdev: opdev.to_path_buf(),
        postgres,
        prometheus,
        alertmanager,
        contracts: contracts_path(config),
        op_stack: None,
    }
}

/// Where the bridge's contract package is or will be, when the devnet has a bridge.
fn contracts_path(config: &DevnetConfig) -> Option<PathBuf> {
    opdev_profiles::bridge::has_contracts(config)
        .then(|| tools::contracts_bedrock_dir().ok())
        .flatten()
}

/// The runtime an `up` with these options will use (the flag, else the devnet's saved choice).
pub fn runtime_of(home: &Home, opts: &UpOptions) -> RuntimeKind {
    if let Some(runtime) = opts.settings.runtime {
        return runtime;
    }
    opts.settings
        .devnet_name()
        .ok()
        .map(|name| home.devnet(&name))
        .filter(DevnetDir::exists)
        .and_then(|d| d.load_config().ok())
        .map(|c| c.runtime)
        .unwrap_or_default()
}

/// Checks, before anything is written, that the runtime can work: for Docker, that a daemon
/// answers.
pub async fn check_runtime(runtime: RuntimeKind) -> Result<(), Error> {
    if runtime == RuntimeKind::Docker {
        opdev_runtime::docker::connect().await?;
    }
    Ok(())
}

/// Docker runtime: makes sure every image the devnet runs is on the machine — pulls the named
/// ones (with progress), builds the others from their binaries (cache hits when built before) —
/// so the supervisor only starts containers. `note` hears the progress. A devnet this `up`
/// created is removed when an image cannot be had.
pub async fn prepare_images(
    prepared: &mut Prepared,
    mut note: impl FnMut(&str),
) -> Result<(), Error> {
    if prepared.config.runtime != RuntimeKind::Docker {
        return Ok(());
    }
    let t = Instant::now();
    let mut specs: Vec<opdev_spec::ServiceSpec> = Vec::new();
    let holder = crate::daemon::netns_spec(&prepared.plan_opdev);
    for spec in prepared.plan.services.iter().chain([&holder]) {
        if !specs.iter().any(|s| {
            s.artifact.binary == spec.artifact.binary && s.artifact.image == spec.artifact.image
        }) {
            specs.push(spec.clone());
        }
    }
    let result = async {
        let docker = opdev_runtime::docker::connect().await?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let progress: opdev_runtime::docker::Progress = std::sync::Arc::new(move |line| {
            let _ = tx.send(line);
        });
        let policy = prepared.config.pull;
        let task = tokio::spawn(async move {
            let mut resolved = Vec::new();
            for spec in specs {
                let image =
                    opdev_runtime::docker::ensure_image(&docker, &spec, &progress, policy).await?;
                resolved.push((spec.artifact, image));
            }
            Ok::<_, Error>(resolved)
        });
        while let Some(line) = rx.recv().await {
            note(&line);
        }
        task.await.map_err(|e| Error::Supervisor {
            name: prepared.devnet.name().into(),
            reason: format!("image preparation stopped: {e}"),
        })?
    }
    .await;
    if result.is_err() && prepared.created {
        let _ = std::fs::remove_dir_all(prepared.devnet.root());
    }
    // The supervisor runs exactly these images (built ones by tag, so it need not read the
    // programs again to find them).
    for spec in &mut prepared.plan.services {
        if let Some((_, image)) = result
            .as_ref()
            .ok()
            .and_then(|r| r.iter().find(|(a, _)| *a == spec.artifact))
        {
            spec.artifact.image = Some(image.image.clone());
        }
    }
    result?;
    let services = serde_json::to_vec_pretty(&prepared.plan.services).expect("specs serialize");
    write_private(&prepared.devnet.services_path(), &services)?;
    prepared.timings.push(("images".to_owned(), t.elapsed()));
    Ok(())
}

/// What `up --plan` shows: the plan for these options, computed without starting, installing
/// or writing anything.
pub fn plan_only(home: &Home, opts: &UpOptions) -> Result<(Plan, DevnetConfig), Error> {
    let devnet = home.devnet(&opts.settings.devnet_name()?);
    let config = resolve_config(&devnet, opts)?;
    let tools = if config.runtime == RuntimeKind::Docker {
        docker_tools(&config, &opts.opdev)
    } else {
        let anvil = match tools::anvil(config.anvil_bin.as_deref(), |_| {}) {
            Ok(r) => r.path,
            Err(Error::ToolMissing { .. }) if config.anvil_bin.is_none() => PathBuf::from(format!(
                "anvil (to be installed {})",
                opdev_spec::versions::ANVIL.version
            )),
            Err(e) => return Err(e),
        };
        let postgres = if config.runs_postgres() {
            Some(tools::postgres_bin_dir()?)
        } else {
            None
        };
        let (prometheus, alertmanager) =
            tools::monitoring(config.monitoring).unwrap_or((None, None));
        Tools {
            anvil,
            opdev: opts.opdev.clone(),
            postgres,
            prometheus,
            alertmanager,
            contracts: contracts_path(&config),
            op_stack: None,
        }
    };
    let mut tools = tools;
    if config.profile == opdev_spec::Profile::Full {
        // `--plan` builds nothing: it names the programs where `up` would take them.
        let cache = tools::cache_dir()?;
        let module = crate::opstack_go::GoModule::in_cache(&cache);
        let path = |name: &str| {
            config
                .binaries
                .get(name)
                .cloned()
                .unwrap_or_else(|| module.bin(name))
        };
        tools.op_stack = Some(opdev_profiles::full::OpStackTools {
            op_geth: path("op-geth"),
            op_node: path("op-node"),
            op_batcher: path("op-batcher"),
            op_proposer: path("op-proposer"),
        });
    }
    let secrets = secrets::preview(&devnet, &config);
    let services = opdev_profiles::services(Inputs {
        config: &config,
        tools: &tools,
        secrets: &secrets,
        root: devnet.root(),
    })?;
    Ok((Plan::new(&config, services), config))
}

/// Resolves and saves everything a supervisor needs; `note` hears about slow work (installs).
pub fn prepare(
    home: &Home,
    opts: &UpOptions,
    mut note: impl FnMut(&str),
) -> Result<Prepared, Error> {
    crate::home::private_umask();
    let mut timings = Vec::new();
    let t0 = Instant::now();
    let name = opts.settings.devnet_name()?;
    let devnet = home.devnet(&name);
    let created = !devnet.exists();
    if created && devnet.root().exists() {
        // A folder without config: a crashed earlier attempt, or someone else's `up` at work.
        if let Some(guard) = lock::try_lock(&devnet.up_lock_path())? {
            drop(guard);
            std::fs::remove_dir_all(devnet.root()).map_err(|e| Error::io(devnet.root(), e))?;
        } else {
            return Err(Error::UpInProgress(name));
        }
    }
    devnet.create()?;
    let mut cleanup = RemoveOnError {
        dir: created.then(|| devnet.root().to_path_buf()),
    };
    let up_lock =
        lock::try_lock(&devnet.up_lock_path())?.ok_or_else(|| Error::UpInProgress(name.clone()))?;
    if client::is_running(&devnet)? {
        cleanup.dir = None;
        return Err(Error::AlreadyRunning {
            name,
            pid: load_state(&devnet).map(|s| s.pid),
        });
    }
    let mut config = resolve_config(&devnet, opts)?;
    timings.push(("resolve".to_owned(), t0.elapsed()));

    let t = Instant::now();
    for (service, binary) in &config.binaries {
        match opdev_profiles::full::tool_of(&config, service) {
            Some(program) => crate::opstack_go::check_program(program, binary)?,
            None => tools::check_executable(&format!("binary of {service}"), binary)?,
        }
    }
    // The full profile's Go programs build (minutes, the first time) while anvil and the
    // contracts package install; their notes are passed on as they come.
    let full = config.profile == opdev_spec::Profile::Full;
    let (notes, heard) = std::sync::mpsc::channel::<String>();
    let (tools, programs) = std::thread::scope(|scope| {
        let build = full.then(|| {
            let binaries = &config.binaries;
            scope.spawn(move || {
                crate::opstack_go::op_stack(binaries, |line: &str| {
                    let _ = notes.send(line.to_owned());
                })
            })
        });
        let tools = (|| -> Result<Tools, Error> {
            let mut tools = if config.runtime == RuntimeKind::Docker {
                docker_tools(&config, &opts.opdev)
            } else {
                let anvil = tools::anvil(config.anvil_bin.as_deref(), &mut note)?;
                info!(path = %anvil.path.display(), origin = ?anvil.origin, "anvil");
                let postgres = if config.runs_postgres() {
                    Some(tools::postgres_bin_dir()?)
                } else {
                    None
                };
                let (prometheus, alertmanager) = tools::monitoring(config.monitoring)?;
                Tools {
                    anvil: anvil.path,
                    opdev: opts.opdev.clone(),
                    postgres,
                    prometheus,
                    alertmanager,
                    contracts: None,
                    op_stack: None,
                }
            };
            if opdev_profiles::bridge::has_contracts(&config) {
                tools.contracts = Some(tools::contracts_bedrock(&mut note)?);
            }
            Ok(tools)
        })();
        // Notes of the build, until it ends (its thread drops the sender then).
        while let Some(handle) = &build {
            match heard.recv_timeout(std::time::Duration::from_millis(200)) {
                Ok(line) => note(&line),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if !handle.is_finished() => {}
                Err(_) => break,
            }
        }
        for line in heard.try_iter() {
            note(&line);
        }
        let programs = build.map(|b| b.join().expect("the build thread does not panic"));
        (tools, programs)
    });
    let mut tools = tools?;
    if let Some(programs) = programs {
        let programs = programs?;
        tools.op_stack = Some(opdev_profiles::full::OpStackTools {
            op_geth: programs.op_geth.path,
            op_node: programs.op_node.path,
            op_batcher: programs.op_batcher.path,
            op_proposer: programs.op_proposer.path,
        });
    }
    timings.push(("tools".to_owned(), t.elapsed()));

    let t = Instant::now();
    if created && config.ports == PortMode::Auto {
        // A new devnet with automatic ports takes free ones, not the defaults (which another
        // devnet may be about to take); ports the user named stay.
        if opts.settings.l1_port.is_none() {
            config.l1.port = 0;
        }
        if opts.settings.l2_port.is_none() {
            config.l2.iter_mut().for_each(|c| c.port = 0);
        }
        let named = opts.settings.service_ports.clone().unwrap_or_default();
        for (service, port) in config.service_ports.iter_mut() {
            if !named.contains_key(service) {
                *port = 0;
            }
        }
    }
    let picked = ports::ensure(&mut config)?;
    if !created {
        for (service, port) in picked {
            note(&format!(
                "{service} moves to port {port}: its port is taken (ports = auto)"
            ));
        }
    }
    timings.push(("ports".to_owned(), t.elapsed()));

    let secrets = secrets::load_or_create(&devnet, &config)?;
    let services = opdev_profiles::services(Inputs {
        config: &config,
        tools: &tools,
        secrets: &secrets,
        root: devnet.root(),
    })?;
    let plan = Plan::new(&config, services);
    if opts.fresh && !created {
        let data = devnet.data_dir();
        std::fs::remove_dir_all(&data).map_err(|e| Error::io(&data, e))?;
        let _ = std::fs::remove_file(devnet.state_path());
        devnet.create()?;
    }
    monitoring::write(&devnet, &config)?;
    let services = serde_json::to_vec_pretty(&plan.services).expect("specs serialize");
    write_private(&devnet.services_path(), &services)?;
    devnet.save_config(&config)?;
    cleanup.dir = None;
    Ok(Prepared {
        devnet,
        config,
        plan,
        created,
        timings,
        plan_opdev: opts.opdev.clone(),
        up_lock,
    })
}

/// A devnet whose supervisor reported it ready.
#[derive(Debug)]
pub struct Launched {
    /// The supervisor's view at that moment.
    pub state: SupervisorState,
    /// The devnet's config.
    pub config: DevnetConfig,
    /// Every step and how long it took.
    pub timings: Vec<(String, Duration)>,
}

/// Starts the supervisor of a prepared devnet in the background (its own session; its output
/// goes to `logs/supervisor.log`) and follows its progress events until the devnet is ready.
/// On failure the supervisor has stopped everything it started; a devnet this `up` created is
/// removed.
pub fn launch(
    prepared: Prepared,
    opdev_exe: &Path,
    mut on_event: impl FnMut(&Event),
) -> Result<Launched, Error> {
    let t = Instant::now();
    let devnet = prepared.devnet.clone();
    let name = devnet.name().to_owned();
    let log_path = devnet.log_path("supervisor");
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&log_path)
        .map_err(|e| Error::io(&log_path, e))?;
    // The steps `up` did before the supervisor existed go to its log too.
    for (step, took) in &prepared.timings {
        use std::io::Write;
        let _ = writeln!(
            log,
            "{} up: step {step} done in {} ms",
            humantime::format_rfc3339_micros(std::time::SystemTime::now()),
            took.as_millis()
        );
    }
    let home = devnet
        .root()
        .parent()
        .expect("a devnet folder has a parent")
        .to_path_buf();
    let mut child = Command::new(opdev_exe)
        .args(["supervise", "--name", &name])
        .env("OPDEV_HOME", &home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| Error::io(opdev_exe, e))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut outcome: Option<Result<SupervisorState, Error>> = None;
    let mut timings = prepared.timings.clone();
    timings.push(("supervisor".to_owned(), t.elapsed()));
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Ok(event) = serde_json::from_str::<Event>(&line) else {
            continue;
        };
        on_event(&event);
        match event {
            Event::StepDone { step, millis } => timings.push((step, Duration::from_millis(millis))),
            Event::Ready { state } => {
                outcome = Some(Ok(state));
                break;
            }
            Event::Failed {
                message,
                hint,
                log_tail,
                exit_code,
                ..
            } => {
                outcome = Some(Err(Error::Reported {
                    message,
                    hint,
                    code: crate::ExitCode::from_u8(exit_code),
                    details: log_tail,
                }));
                break;
            }
            Event::StepStarted { .. } => {}
        }
    }
    let created = prepared.created;
    let (devnet, config, _) = prepared.release();
    match outcome {
        Some(Ok(state)) => Ok(Launched {
            state,
            config,
            timings,
        }),
        failure => {
            let _ = child.wait(); // the supervisor has stopped its services and exits
            let err = failure.unwrap_or_else(|| {
                Err(Error::Supervisor {
                    name: name.clone(),
                    reason: format!(
                        "exited before the devnet was ready; last log lines: {}",
                        logs::tail(&log_path, 3).unwrap_or_default().join(" | ")
                    ),
                })
            });
            let err = err.expect_err("only failures reach here");
            if created {
                let _ = std::fs::remove_dir_all(devnet.root());
                return Err(err.after_removal(&name));
            }
            Err(err)
        }
    }
}

/// Stops a running devnet: asks its supervisor to stop every service gracefully (each anvil
/// saves its state) and waits until the supervisor has exited. Returns false when the devnet was
/// not running.
pub async fn down(devnet: &DevnetDir, deadline: Duration) -> Result<bool, Error> {
    if !devnet.exists() {
        return Err(Error::NotFound(devnet.name().into()));
    }
    match client::send(devnet, &Request::Down, deadline).await {
        Ok(Response::Ok) => {}
        Ok(other) => {
            return Err(Error::Supervisor {
                name: devnet.name().into(),
                reason: format!("unexpected answer {other:?}"),
            });
        }
        Err(Error::NotRunning(_)) => {
            // No supervisor. A Docker devnet whose supervisor died may have left containers
            // running: stop them (anvil saves its state on SIGTERM).
            let stopped = stop_orphan_containers(devnet).await?;
            return Ok(stopped > 0);
        }
        Err(Error::Supervisor { .. }) if client::is_running(devnet)? => {
            // The socket does not answer: signal the supervisor instead.
            if let Some(state) = load_state(devnet) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(state.pid as i32),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        Err(e) => return Err(e),
    }
    // The supervisor answers after its services stopped; wait for it to let go of the lock.
    let until = Instant::now() + deadline;
    while client::is_running(devnet)? {
        if Instant::now() > until {
            return Err(Error::Supervisor {
                name: devnet.name().into(),
                reason: "still running after down".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(true)
}

fn is_docker(devnet: &DevnetDir) -> bool {
    devnet
        .load_config()
        .map(|c| c.runtime == RuntimeKind::Docker)
        .unwrap_or(false)
}

async fn stop_orphan_containers(devnet: &DevnetDir) -> Result<usize, Error> {
    if !is_docker(devnet) {
        return Ok(0);
    }
    let Ok(docker) = opdev_runtime::docker::connect().await else {
        return Ok(0); // no daemon: no container runs
    };
    Ok(
        opdev_runtime::docker::stop_containers(&docker, devnet.name(), Duration::from_secs(10))
            .await?,
    )
}

/// Deletes a devnet entirely, stopping it first if it runs. For a Docker devnet, every
/// container, network and volume carrying its label goes too, and nothing else.
pub async fn purge(devnet: &DevnetDir) -> Result<(), Error> {
    if !devnet.root().exists() {
        return Err(Error::NotFound(devnet.name().into()));
    }
    if devnet.exists() {
        let docker = is_docker(devnet);
        down(devnet, Duration::from_secs(30)).await?;
        if docker {
            let client = opdev_runtime::docker::connect().await?;
            let purged = opdev_runtime::docker::purge(&client, devnet.name()).await?;
            info!(?purged, "docker objects removed");
        }
    }
    std::fs::remove_dir_all(devnet.root()).map_err(|e| Error::io(devnet.root(), e))
}
