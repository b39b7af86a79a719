//! The floor of the full profile's life cycle: the same programs opdev runs — anvil as the L1
//! and, per L2, op-geth, op-node, op-batcher and op-proposer — started by hand on files prepared
//! beforehand, with the command lines of the profile itself (`opdev_profiles::full::services`),
//! so the floor's flags are opdev's by construction.
//!
//! Each floor run makes its own devnet folder from the config and secrets of a devnet opdev
//! created ([`Source`]), and prepares it without the clock: the L1 anvil started on an empty
//! state, `opdev serve bridge-deploy` run against it (the L1 contracts, each L2's `genesis.json`
//! and `rollup.json`, whose genesis L1 block is that anvil's head), then the anvil stopped with
//! SIGTERM, which saves its state with the block hashes `rollup.json` names. Preparing in every
//! run keeps the rollup's genesis a few seconds old, as on a cold `up`: an L2 whose genesis is
//! minutes old first has to sequence those minutes before it can follow the L1.
//!
//! The clock then starts at the first spawn: the anvil from the saved state and each L2's
//! `op-geth init`, at once; each op-geth as soon as its init is done; op-node and op-batcher as
//! soon as the L1 and that op-geth answer JSON-RPC; op-proposer as soon as op-node answers. The
//! floor is ready when every op-node's safe head has passed the unsafe head it first reported
//! (polled every 40 ms with `optimism_syncStatus`, as opdev's `SafeHeadAdvancing` does) and every
//! op-proposer's port answers — what opdev's `up` waits for. Then every process gets SIGTERM at
//! once and the floor of `down` is the wait for all of them to exit.

use std::{
    fs::File,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use opdev_chain::rpc::Probe;
use opdev_orchestrator::{Home, tools::Resolved};
use opdev_profiles::{Inputs, Tools, bridge::DEPLOY, full};

/// Pause between two polls, as opdev's readiness.
const POLL: Duration = Duration::from_millis(40);
/// Longest wait for the deployment of one preparation.
const DEPLOY_TIMEOUT: Duration = Duration::from_secs(240);
/// Longest wait for the rollup to be ready.
const READY_TIMEOUT: Duration = Duration::from_secs(180);
/// How long the processes get to exit on SIGTERM before SIGKILL (op-geth's grace in opdev).
const STOP_GRACE: Duration = Duration::from_secs(20);
/// The devnet name of the floor's folders (the source's config keeps its own name).
const NAME: &str = "bench";

/// What the floor needs of a full devnet opdev created: its `config.toml` and `secrets/`
/// (keys and JWT secrets), copied away so the devnet can be purged.
pub(crate) struct Source {
    dir: tempfile::TempDir,
}

impl Source {
    /// Copies the config and secrets of the devnet folder `devnet`.
    pub(crate) fn copy(devnet: &Path) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        copy_devnet_files(devnet, dir.path())?;
        Ok(Self { dir })
    }
}

/// Copies `config.toml` and `secrets/` (files only, modes kept) from `from` to `to`.
fn copy_devnet_files(from: &Path, to: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(to.join("secrets"))?;
    let copy = |rel: &Path| {
        std::fs::copy(from.join(rel), to.join(rel))
            .with_context(|| format!("copy {}", from.join(rel).display()))
    };
    copy(Path::new("config.toml"))?;
    for entry in std::fs::read_dir(from.join("secrets"))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            copy(&Path::new("secrets").join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// The programs the floor runs, resolved once.
pub(crate) struct Programs {
    tools: Tools,
}

impl Programs {
    /// anvil, the contracts and the OP Stack programs as opdev resolves them (from its cache),
    /// and `opdev` for the deployment.
    pub(crate) fn resolve(anvil: &Path, opdev: &Path) -> Result<Self> {
        let note = |n: &str| eprintln!("{n}");
        let programs = opdev_orchestrator::opstack_go::op_stack(&Default::default(), note)?;
        let path = |r: Resolved| r.path;
        Ok(Self {
            tools: Tools {
                anvil: anvil.to_path_buf(),
                opdev: opdev.to_path_buf(),
                postgres: None,
                prometheus: None,
                alertmanager: None,
                contracts: Some(opdev_orchestrator::tools::contracts_bedrock(note)?),
                op_stack: Some(full::OpStackTools {
                    op_geth: path(programs.op_geth),
                    op_node: path(programs.op_node),
                    op_batcher: path(programs.op_batcher),
                    op_proposer: path(programs.op_proposer),
                }),
            },
        })
    }
}

/// One floor run's figures.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Floor {
    /// Until the L1, every op-geth and every op-node answer JSON-RPC.
    pub(crate) rpc: Duration,
    /// Until every op-node's safe head has passed its first unsafe head and every op-proposer
    /// listens.
    pub(crate) ready: Duration,
    /// SIGTERM to every process until all have exited.
    pub(crate) stop: Duration,
    /// The untimed preparation (L1 + deployment), for the log.
    pub(crate) prepare: Duration,
}

/// Processes started by the floor: SIGKILLed on drop, so an error leaves none behind.
#[derive(Default)]
struct Procs {
    children: Vec<(String, Child)>,
}

impl Procs {
    fn spawn(&mut self, name: &str, program: &Path, args: &[String], env: Env<'_>) -> Result<()> {
        let log = env.logs.join(format!("{name}.log"));
        let out = File::create(&log).with_context(|| format!("create {}", log.display()))?;
        std::fs::create_dir_all(env.data)?;
        let child = Command::new(program)
            .args(args)
            .envs(env.vars)
            .current_dir(env.data)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .process_group(0)
            .spawn()
            .with_context(|| format!("start {name} ({})", program.display()))?;
        self.children.push((name.to_owned(), child));
        Ok(())
    }

    /// The exit of `name` if it has exited.
    fn exited(&mut self, name: &str) -> Result<Option<std::process::ExitStatus>> {
        let (_, child) = self
            .children
            .iter_mut()
            .find(|(n, _)| n == name)
            .with_context(|| format!("no process {name}"))?;
        Ok(child.try_wait()?)
    }

    /// Fails naming the first daemon that has exited (with the end of its log).
    fn check_alive(&mut self, logs: &Path, one_shots: &[String]) -> Result<()> {
        for (name, child) in &mut self.children {
            if one_shots.contains(name) {
                continue;
            }
            if let Some(status) = child.try_wait()? {
                bail!(
                    "{name} exited ({status}) during the floor: {}",
                    log_tail(&logs.join(format!("{name}.log")))
                );
            }
        }
        Ok(())
    }

    /// SIGTERM to every process still running, then waits for all (SIGKILL after the grace).
    fn stop_all(&mut self) -> Result<Duration> {
        let t0 = Instant::now();
        for (_, child) in &mut self.children {
            if child.try_wait()?.is_none() {
                signal(child, nix::sys::signal::Signal::SIGTERM);
            }
        }
        for (name, child) in &mut self.children {
            while child.try_wait()?.is_none() {
                if t0.elapsed() > STOP_GRACE {
                    eprintln!("{name} did not stop within {STOP_GRACE:?}: SIGKILL");
                    signal(child, nix::sys::signal::Signal::SIGKILL);
                    child.wait()?;
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let took = t0.elapsed();
        self.children.clear();
        Ok(took)
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            if matches!(child.try_wait(), Ok(None)) {
                signal(child, nix::sys::signal::Signal::SIGKILL);
                let _ = child.wait();
            }
        }
    }
}

/// A signal to a child's process group (each floor process leads its own).
fn signal(child: &Child, sig: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(child.id() as i32), sig);
}

/// Where a process runs and logs, and its extra environment.
#[derive(Clone, Copy)]
struct Env<'a> {
    data: &'a Path,
    logs: &'a Path,
    vars: &'a std::collections::BTreeMap<String, String>,
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(8).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

/// One floor run on a devnet folder made from `source`.
pub(crate) fn floor(source: &Source, programs: &Programs) -> Result<Floor> {
    let home_dir = tempfile::tempdir()?;
    let devnet = Home::at(home_dir.path()).devnet(NAME);
    copy_devnet_files(source.dir.path(), devnet.root())?;
    let mut config = devnet.load_config()?;
    opdev_orchestrator::ports::ensure(&mut config)?;
    let secrets = opdev_orchestrator::secrets::load_or_create(&devnet, &config)?;
    let specs = full::services(Inputs {
        config: &config,
        tools: &programs.tools,
        secrets: &secrets,
        root: devnet.root(),
    });
    let logs = devnet.logs_dir();
    std::fs::create_dir_all(&logs)?;
    // The specs as command lines, `{data}` resolved to each service's data folder.
    let progs: Vec<Prog> = specs
        .iter()
        .map(|spec| {
            let data = devnet.data_dir().join(&spec.name);
            let text = data.to_string_lossy().into_owned();
            Prog {
                name: spec.name.clone(),
                binary: spec.artifact.binary.clone(),
                args: spec.resolved_args(&text, "127.0.0.1"),
                env: spec.env.clone(),
                rpc_port: spec.port(opdev_profiles::lite::RPC_PORT),
                setup: spec
                    .setup
                    .as_ref()
                    .and_then(|setup| Some((setup.program.clone(), setup.pending_args(&text)?))),
                data,
            }
        })
        .collect();
    let get = |name: &str| {
        progs
            .iter()
            .find(|p| p.name == name)
            .with_context(|| format!("the full profile has no service {name}"))
    };
    let l1 = get(&config.l1.service)?;
    let deploy = get(DEPLOY)?;
    let l2s: Vec<L2> = config
        .l2
        .iter()
        .map(|c| {
            Ok(L2 {
                chain_id: c.chain_id,
                geth: get(&c.service)?,
                node: get(&full::service_name(&c.service, full::NODE))?,
                batcher: get(&full::service_name(&c.service, full::BATCHER))?,
                proposer: get(&full::service_name(&c.service, full::PROPOSER))?,
            })
        })
        .collect::<Result<_>>()?;
    let start = |procs: &mut Procs, prog: &Prog| {
        procs.spawn(
            &prog.name,
            &prog.binary,
            &prog.args,
            Env {
                data: &prog.data,
                logs: &logs,
                vars: &prog.env,
            },
        )
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let url = |port: u16| format!("http://127.0.0.1:{port}");
    let l1_probe = Probe::new(&url(config.l1.port))?;

    // Preparation, untimed: the L1 on an empty state, the deployment, the L1 saved by SIGTERM.
    let t_prepare = Instant::now();
    {
        let mut procs = Procs::default();
        start(&mut procs, l1)?;
        runtime.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(30);
            while l1_probe.chain_id().await.is_err() {
                ensure!(
                    Instant::now() < deadline,
                    "the L1 did not answer within 30 s"
                );
                tokio::time::sleep(POLL).await;
            }
            Ok(())
        })?;
        start(&mut procs, deploy)?;
        let deadline = Instant::now() + DEPLOY_TIMEOUT;
        loop {
            if let Some(status) = procs.exited(DEPLOY)? {
                ensure!(
                    status.success(),
                    "bridge-deploy failed ({status}): {}",
                    log_tail(&logs.join(format!("{DEPLOY}.log")))
                );
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "bridge-deploy did not finish within {DEPLOY_TIMEOUT:?}"
            );
            std::thread::sleep(POLL);
        }
        procs.stop_all()?;
    }
    let prepare = t_prepare.elapsed();
    // As opdev empties it before every start (`with_scratch`).
    let _ = std::fs::remove_dir_all(l1.data.join("history"));
    for l2 in &l2s {
        let rollup = full::rollup_dir(devnet.root()).join(&l2.geth.name);
        ensure!(
            rollup.join("genesis.json").is_file() && rollup.join("rollup.json").is_file(),
            "the deployment wrote no genesis.json/rollup.json into {}",
            rollup.display()
        );
    }

    // The floor, timed from the first spawn.
    let mut procs = Procs::default();
    let t0 = Instant::now();
    start(&mut procs, l1)?;
    let mut inits = Vec::new();
    for l2 in &l2s {
        let (program, args) = l2
            .geth
            .setup
            .as_ref()
            .context("op-geth has no pending init")?;
        let name = format!("{}-init", l2.geth.name);
        procs.spawn(
            &name,
            program,
            args,
            Env {
                data: &l2.geth.data,
                logs: &logs,
                vars: &l2.geth.env,
            },
        )?;
        inits.push(name);
    }
    let result = runtime.block_on(async {
        let probes = l2s
            .iter()
            .map(|l2| {
                let port = |prog: &Prog| {
                    prog.rpc_port
                        .with_context(|| format!("{} has no rpc port", prog.name))
                };
                Ok((
                    Probe::new(&url(port(l2.geth)?))?,
                    Probe::new(&url(port(l2.node)?))?,
                    port(l2.proposer)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut state: Vec<Stage> = vec![Stage::Init; l2s.len()];
        let mut l1_up = false;
        let mut rpc_at = None;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            ensure!(
                Instant::now() < deadline,
                "the floor was not ready within {READY_TIMEOUT:?} ({state:?})"
            );
            procs.check_alive(&logs, &inits)?;
            if !l1_up {
                l1_up = l1_probe.chain_id().await.is_ok();
            }
            for (i, l2) in l2s.iter().enumerate() {
                let (geth, node, proposer_port) = &probes[i];
                loop {
                    let next = match state[i] {
                        Stage::Init => match procs.exited(&inits[i])? {
                            Some(status) if status.success() => {
                                start(&mut procs, l2.geth)?;
                                Some(Stage::Geth)
                            }
                            Some(status) => bail!(
                                "op-geth init failed ({status}): {}",
                                log_tail(&logs.join(format!("{}.log", inits[i])))
                            ),
                            None => None,
                        },
                        Stage::Geth => {
                            let ok =
                                l1_up && geth.chain_id().await.is_ok_and(|id| id == l2.chain_id);
                            if ok {
                                start(&mut procs, l2.node)?;
                                start(&mut procs, l2.batcher)?;
                            }
                            ok.then_some(Stage::Node)
                        }
                        Stage::Node => match node.rollup_heads().await {
                            Ok(_) => {
                                start(&mut procs, l2.proposer)?;
                                Some(Stage::Rollup { first: None })
                            }
                            Err(_) => None,
                        },
                        Stage::Rollup { first } => match node.rollup_heads().await {
                            Ok(Some((unsafe_head, safe))) => match first {
                                None => Some(Stage::Rollup {
                                    first: Some(unsafe_head),
                                }),
                                Some(first) if safe > first => Some(Stage::Safe),
                                Some(_) => None,
                            },
                            _ => None,
                        },
                        Stage::Safe => {
                            tokio::net::TcpStream::connect(("127.0.0.1", *proposer_port))
                                .await
                                .is_ok()
                                .then_some(Stage::Ready)
                        }
                        Stage::Ready => None,
                    };
                    match next {
                        // A stage that holds at once lets the next one be checked in this poll;
                        // a first unsafe head is only a baseline, checked again next poll.
                        Some(next @ Stage::Rollup { first: Some(_) }) => {
                            state[i] = next;
                            break;
                        }
                        Some(next) => state[i] = next,
                        None => break,
                    }
                }
            }
            if rpc_at.is_none() && l1_up && state.iter().all(|s| s.rpc_answers()) {
                rpc_at = Some(t0.elapsed());
            }
            if state.iter().all(|s| matches!(s, Stage::Ready)) {
                let ready = t0.elapsed();
                return Ok((rpc_at.unwrap_or(ready), ready));
            }
            tokio::time::sleep(POLL).await;
        }
    });
    // On an error, dropping `procs` kills what runs.
    let (rpc, ready) = result?;
    let stop = procs.stop_all()?;
    Ok(Floor {
        rpc,
        ready,
        stop,
        prepare,
    })
}

/// One program of the profile as the floor starts it.
struct Prog {
    name: String,
    binary: PathBuf,
    /// Arguments, `{data}` and `{listen}` resolved.
    args: Vec<String>,
    env: std::collections::BTreeMap<String, String>,
    /// Its data folder (and working directory).
    data: PathBuf,
    rpc_port: Option<u16>,
    /// Its setup command (`op-geth init`), program and arguments.
    setup: Option<(PathBuf, Vec<String>)>,
}

/// The programs of one L2.
struct L2<'a> {
    chain_id: u64,
    geth: &'a Prog,
    node: &'a Prog,
    batcher: &'a Prog,
    proposer: &'a Prog,
}

/// How far one L2 of the floor has got.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// `op-geth init` runs.
    Init,
    /// op-geth runs; op-node and op-batcher start once it and the L1 answer.
    Geth,
    /// op-node and op-batcher run; op-proposer starts once op-node answers.
    Node,
    /// Waiting for the safe head to pass the first unsafe head seen.
    Rollup { first: Option<u64> },
    /// The safe head has passed; waiting for op-proposer's port.
    Safe,
    /// Ready.
    Ready,
}

impl Stage {
    /// Whether op-geth and op-node answer JSON-RPC by this stage.
    fn rpc_answers(&self) -> bool {
        matches!(self, Self::Rollup { .. } | Self::Safe | Self::Ready)
    }
}

/// `go build`'s flags and environment in opdev's build (crates/orchestrator/src/opstack_go.rs),
/// repeated for the floor: trimmed paths, static programs, the local Go, no workspace.
const GO_BUILD_ARGS: &[&str] = &["-v", "-trimpath"];
/// See [`GO_BUILD_ARGS`].
const GO_BUILD_ENV: &[(&str, &str)] = &[
    ("CGO_ENABLED", "0"),
    ("GOTOOLCHAIN", "local"),
    ("GOWORK", "off"),
    ("GOFLAGS", "-modcacherw"),
];

/// `runs` builds of the four OP Stack programs from empty Go caches as opdev does them
/// (`GoModule::ensure`: lock, log, progress, then Go's caches deleted in the background),
/// each paired with the floor: the same `go build` commands (same module, flags, `-ldflags` and
/// environment) run one after another by hand with fresh caches. Every build starts once the
/// previous one's folder is deleted.
pub(crate) fn go_build_bench(runs: usize, json_out: bool) -> Result<()> {
    use opdev_orchestrator::opstack_go::find_go;
    let go = find_go().context("no `go` on PATH (nor /usr/local/go/bin/go)")?;
    let (mut opdev, mut floor) = (Vec::new(), Vec::new());
    let load_start = crate::load_average();
    for i in 0..runs {
        // The two sides take turns going first: the machine's load drifts over minutes.
        if i % 2 == 0 {
            opdev.push(go_build_opdev(&go)?);
            floor.push(go_build_floor(&go)?);
        } else {
            floor.push(go_build_floor(&go)?);
            opdev.push(go_build_opdev(&go)?);
        }
        eprintln!(
            "build {}/{runs}: opdev {:.1}s, floor {:.1}s (load {})",
            i + 1,
            opdev[i].as_secs_f64(),
            floor[i].as_secs_f64(),
            crate::load_average()
        );
    }
    let ((med, min, max), (f_med, f_min, f_max)) = (crate::stats(&opdev), crate::stats(&floor));
    println!(
        "build of op-geth, op-node, op-batcher and op-proposer from empty Go caches, {runs} runs, \
         {} cores, load average {load_start} at start, {} at end",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        crate::load_average()
    );
    println!(
        "{:<14} {:>9} {:>9} {:>9} | {:>13} {:>9} {:>9} | {:>7}",
        "", "median s", "min s", "max s", "floor median", "min s", "max s", "ratio"
    );
    println!(
        "{:<14} {med:>9.1} {min:>9.1} {max:>9.1} | {f_med:>13.1} {f_min:>9.1} {f_max:>9.1} | \
         {:>7.2}",
        "opdev build",
        med / f_med
    );
    if json_out {
        println!(
            "{}",
            serde_json::json!({ "runs": runs, "median_s": med, "min_s": min, "max_s": max,
                                "floor_median_s": f_med, "floor_min_s": f_min,
                                "floor_max_s": f_max })
        );
    }
    Ok(())
}

/// One build as opdev's first `up` does it, into a fresh cache folder.
fn go_build_opdev(go: &Path) -> Result<Duration> {
    use opdev_orchestrator::opstack_go::{GoModule, PROGRAMS};
    let cache = BuildDir::new()?;
    let module = GoModule::in_cache(cache.path());
    let t0 = Instant::now();
    module.ensure(Some(go), &PROGRAMS, &[], |n| eprintln!("{n}"))?;
    let took = t0.elapsed();
    for program in PROGRAMS {
        ensure!(
            module.bin(program.name).is_file(),
            "{} was not built",
            program.name
        );
    }
    Ok(took)
}

/// The floor of one build: opdev's module files and `go build` commands, run by hand.
fn go_build_floor(go: &Path) -> Result<Duration> {
    use opdev_orchestrator::opstack_go::{GO_MOD, GO_SUM, PROGRAMS};
    let dir = BuildDir::new()?;
    let (src, bin, caches) = (
        dir.path().join("src"),
        dir.path().join("bin"),
        dir.path().join("go"),
    );
    std::fs::create_dir_all(&src)?;
    std::fs::write(src.join("go.mod"), GO_MOD)?;
    std::fs::write(src.join("go.sum"), GO_SUM)?;
    let t0 = Instant::now();
    for program in PROGRAMS {
        let out = Command::new(go)
            .arg("build")
            .args(GO_BUILD_ARGS)
            .arg(program.ldflags())
            .arg("-o")
            .arg(bin.join(program.name))
            .arg(program.package)
            .current_dir(&src)
            .env("GOMODCACHE", caches.join("mod"))
            .env("GOCACHE", caches.join("cache"))
            .env("GOPATH", &caches)
            .envs(GO_BUILD_ENV.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("run go build")?;
        ensure!(
            out.status.success(),
            "go build {} failed: {}",
            program.package,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    Ok(t0.elapsed())
}

/// A temporary build folder, deleted on drop — also of what opdev's background `rm -rf` of Go's
/// caches may still be deleting there (waited for, at most 10 minutes).
struct BuildDir(PathBuf);

impl BuildDir {
    fn new() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("opdev-bench-go-")
            .tempdir()?;
        Ok(Self(dir.keep()))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for BuildDir {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(600);
        while self.0.exists() && Instant::now() < deadline {
            let _ = std::fs::remove_dir_all(&self.0);
            if self.0.exists() {
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}
