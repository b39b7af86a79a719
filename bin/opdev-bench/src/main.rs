//! Benchmarks of opdev's life-cycle commands. Each prints the median (and min/max) of several
//! runs beside a floor measured in the same run, so a number always comes with what it could at
//! best be on this machine at this moment. Traffic goes to 127.0.0.1 only; every loop is bounded.
#![allow(clippy::disallowed_macros)] // a benchmark's report is its output

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;

mod bridge;
mod chain;
mod crash;
mod explorer;
mod faucet;
mod indexer;
mod rollup;

/// opdev's benchmarks.
#[derive(Debug, Parser)]
#[command(name = "opdev-bench", about)]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Explorer page latency (p50, p99) of the home, block, transaction and address pages with
    /// concurrent clients over an indexed chain of at least 10,000 blocks, against the floor of
    /// the same requests to `/health` (HTTP + one `SELECT 1`).
    Explorer {
        /// Concurrent clients.
        #[arg(long, default_value_t = 50)]
        clients: usize,
        /// Requests per page (split across the clients).
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        /// Blocks of the chain (at least 10,000).
        #[arg(long, default_value_t = 10_000)]
        blocks: u64,
        /// Print the results as JSON too.
        #[arg(long)]
        json: bool,
    },
    /// Indexer backfill (blocks/s, tx/s) of a busy and an empty chain, against the floor of the
    /// same blocks fetched over RPC with the same batching and no database.
    Indexer {
        /// Runs of each measurement (at least 3).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Blocks of the busy chain.
        #[arg(long, default_value_t = 10_000)]
        blocks: u64,
        /// Blocks of the empty chain.
        #[arg(long, default_value_t = 10_000)]
        empty_blocks: u64,
        /// Transactions per block of the busy chain.
        #[arg(long, default_value_t = 6)]
        txs_per_block: u64,
        /// Print the results as JSON too.
        #[arg(long)]
        json: bool,
    },
    /// Cold `up` of a new devnet, warm `up` of a stopped one, and `down`, against the floor of
    /// the same programs started by hand: the anvils in parallel (lite), or the L1 anvil and
    /// each L2's op-geth, op-node, op-batcher and op-proposer on a prepared deployment (full).
    Lifecycle {
        /// Runs of each measurement (at least 5; 3 with `--profile full`).
        #[arg(long, default_value_t = 7)]
        runs: usize,
        /// Number of L2s.
        #[arg(long, default_value_t = 1)]
        l2: u32,
        /// The devnet's profile: anvil chains (lite) or the OP Stack rollup (full, whose programs
        /// must be built already, or are built by the first `up`).
        #[arg(long, value_enum, default_value_t = BenchProfile::Lite)]
        profile: BenchProfile,
        /// Block time of every chain, in seconds.
        #[arg(long, default_value_t = 1)]
        block_time: u64,
        /// The opdev binary [default: the one beside this benchmark].
        #[arg(long)]
        opdev: Option<PathBuf>,
        /// The whole devnet (PostgreSQL, indexer, faucet, monitoring), not just the chains.
        #[arg(long)]
        full: bool,
        /// Leave the OP bridge out (the chains alone, as before the bridge existed).
        #[arg(long)]
        no_bridge: bool,
        /// Measure the Docker runtime too, in the same runs (a Docker daemon must answer; images
        /// are built from this machine's programs, and the first `up` that builds them is timed
        /// once, after removing them).
        #[arg(long)]
        docker: bool,
        /// Print the results as JSON too.
        #[arg(long)]
        json: bool,
    },
    /// The one-off build of the full profile's programs (op-geth, op-node, op-batcher,
    /// op-proposer) from empty Go caches, as opdev's first `up` does it, against the floor of the
    /// same `go build` commands run by hand; each build in a temporary folder, deleted after.
    GoBuild {
        /// Builds of each side (at least 1; one pair takes several minutes).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Print the results as JSON too.
        #[arg(long)]
        json: bool,
    },
    /// Deposit latency of the lite bridge (L1 receipt seen → L2 deposit mined), median and p95
    /// over many deposits, against the floor of a transfer sent straight to the L2 at the same
    /// moments.
    Bridge {
        /// Deposits, one after another (at least 20).
        #[arg(long, default_value_t = 100)]
        deposits: usize,
        /// The opdev binary [default: the one beside this benchmark].
        #[arg(long)]
        opdev: Option<PathBuf>,
        /// Print the results as JSON too.
        #[arg(long)]
        json: bool,
    },
    /// What anvil's periodic state save costs (bytes written and CPU per hour) and what a kill -9
    /// loses, at several `--state-interval`s, against the floor of the same chain saved only at
    /// exit; on an OP-mode chain of at least 10,000 blocks with traffic.
    CrashWindow {
        /// Blocks of the chain (at least 10,000).
        #[arg(long, default_value_t = 10_000)]
        blocks: u64,
        /// Seconds each setting runs under traffic (at least 30).
        #[arg(long, default_value_t = 120)]
        seconds: u64,
        /// State intervals to measure, in seconds.
        #[arg(long, value_delimiter = ',', default_values_t = [10, 5, 2, 1])]
        intervals: Vec<u64>,
        /// Keep the built chain's state file here and reuse it when it exists (building the
        /// chain takes long).
        #[arg(long, value_name = "PATH")]
        seed: Option<PathBuf>,
        /// Print the results as JSON too.
        #[arg(long)]
        json: bool,
    },
    /// Faucet claims per second for distinct addresses (real anvil, automine unless
    /// --block-time, and PostgreSQL), against the floor of the same number of signed transfers
    /// sent straight to the node.
    Faucet {
        /// Runs (at least 5).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Claims per run.
        #[arg(long, default_value_t = 200)]
        claims: usize,
        /// anvil block time in seconds [default: automine].
        #[arg(long)]
        block_time: Option<u64>,
        /// Print the results as JSON too.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> Result<()> {
    match Cli::parse().bench {
        Bench::Explorer {
            clients,
            requests,
            blocks,
            json,
        } => {
            ensure!(
                clients >= 1 && requests >= clients,
                "at least one request per client"
            );
            ensure!(blocks >= 10_000, "at least 10,000 blocks");
            explorer::run(clients, requests, blocks, json)
        }
        Bench::Lifecycle {
            runs,
            l2,
            profile,
            block_time,
            opdev,
            full,
            no_bridge,
            docker,
            json,
        } => {
            let rollup = profile == BenchProfile::Full;
            ensure!(
                runs >= if rollup { 3 } else { 5 },
                "at least {} runs, for a median worth reading",
                if rollup { 3 } else { 5 }
            );
            ensure!(
                !rollup || !(docker || no_bridge),
                "--profile full runs natively and always with its bridge: no --docker, --no-bridge"
            );
            let opdev = match opdev {
                Some(p) => p,
                None => std::env::current_exe()?.with_file_name("opdev"),
            };
            ensure!(
                opdev.is_file(),
                "no opdev binary at {} (build it with --release)",
                opdev.display()
            );
            let services = Services {
                full,
                bridge: !no_bridge,
                rollup,
            };
            lifecycle(&opdev, runs, l2, block_time, services, docker, json)
        }
        Bench::GoBuild { runs, json } => {
            ensure!(runs >= 1, "at least one build");
            rollup::go_build_bench(runs, json)
        }
        Bench::Indexer {
            runs,
            blocks,
            empty_blocks,
            txs_per_block,
            json,
        } => {
            ensure!(runs >= 3, "at least 3 runs, for a median worth reading");
            indexer::run(runs, blocks, empty_blocks, txs_per_block, json)
        }
        Bench::Bridge {
            deposits,
            opdev,
            json,
        } => {
            ensure!(
                deposits >= 20,
                "at least 20 deposits, for a p95 worth reading"
            );
            let opdev = match opdev {
                Some(path) => path,
                None => std::env::current_exe()?.with_file_name("opdev"),
            };
            bridge::run(&opdev, deposits, json)
        }
        Bench::CrashWindow {
            blocks,
            seconds,
            intervals,
            seed,
            json,
        } => {
            ensure!(blocks >= 10_000, "at least 10,000 blocks");
            ensure!(seconds >= 30, "at least 30 seconds per setting");
            ensure!(
                !intervals.is_empty() && intervals.iter().all(|s| *s >= 1),
                "intervals of at least 1 second"
            );
            crash::run(blocks, seconds, &intervals, seed.as_deref(), json)
        }
        Bench::Faucet {
            runs,
            claims,
            block_time,
            json,
        } => {
            ensure!(runs >= 5, "at least 5 runs, for a median worth reading");
            ensure!(claims >= 1, "at least one claim per run");
            faucet::run(runs, claims, block_time, json)
        }
    }
}

/// Median, min and max of a sample, in seconds.
pub(crate) fn stats(samples: &[Duration]) -> (f64, f64, f64) {
    let mut s: Vec<f64> = samples.iter().map(Duration::as_secs_f64).collect();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    (median, s[0], s[n - 1])
}

fn run_opdev(opdev: &Path, home: &Path, args: &[&str]) -> Result<Duration> {
    run_named(opdev, home, "bench", args)
}

fn run_named(opdev: &Path, home: &Path, name: &str, args: &[&str]) -> Result<Duration> {
    let t0 = Instant::now();
    let out = Command::new(opdev)
        .args(args)
        .args(["--quiet", "--name", name])
        .env("OPDEV_HOME", home)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("run {}", opdev.display()))?;
    let took = t0.elapsed();
    if !out.status.success() {
        bail!(
            "opdev {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(took)
}

/// The profiles a lifecycle benchmark can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BenchProfile {
    /// anvil as the L1 and as each L2.
    Lite,
    /// The OP Stack: anvil as the L1, op-geth, op-node, op-batcher, op-proposer per L2.
    Full,
}

/// What runs around the chains in a lifecycle benchmark.
#[derive(Debug, Clone, Copy)]
struct Services {
    /// PostgreSQL, indexer, explorer, faucet, monitoring.
    full: bool,
    /// The OP bridge.
    bridge: bool,
    /// The full profile (the OP Stack rollup) instead of anvil L2s.
    rollup: bool,
}

/// The system's load averages over 1, 5 and 15 minutes, as `uptime` prints them.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn lifecycle(
    opdev: &Path,
    runs: usize,
    l2: u32,
    block_time: u64,
    services: Services,
    docker: bool,
    json: bool,
) -> Result<()> {
    let full = services.full;
    let home = std::env::temp_dir().join(format!("opdev-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let anvil = opdev_orchestrator::tools::anvil(None, |note| eprintln!("{note}"))?.path;
    let bt = block_time.to_string();
    let l2s = l2.to_string();
    let mut up_args = vec![
        "up",
        "--ports",
        "auto",
        "--l2",
        &l2s,
        "--l1-block-time",
        &bt,
        "--block-time",
        &bt,
    ];
    if !full {
        up_args.extend(["--no-indexer", "--no-faucet", "--no-monitoring"]);
    }
    if !services.bridge {
        up_args.push("--no-bridge");
    }
    if services.rollup {
        up_args.extend(["--profile", "full"]);
    }
    let mut docker_args = up_args.clone();
    let anvil_binary = format!("anvil={}", anvil.display());
    let extra_binaries: Vec<String> = if full {
        let mut b = vec![format!(
            "postgres={}",
            opdev_orchestrator::tools::postgres_bin_dir()?
                .join("postgres")
                .display()
        )];
        for tool in ["prometheus", "alertmanager"] {
            let found = which::which(tool)
                .or_else(|_| which::which(format!("prometheus-{tool}")))
                .with_context(|| format!("{tool} is needed for --full --docker"))?;
            b.push(format!("{tool}={}", found.display()));
        }
        b
    } else {
        Vec::new()
    };
    docker_args.extend(["--runtime", "docker", "--binary", &anvil_binary]);
    for b in &extra_binaries {
        docker_args.extend(["--binary", b]);
    }
    let mut docker_first = None;
    if docker {
        // The first `up` builds the images: time it once, from no image.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let client = opdev_runtime::docker::connect().await?;
            for image in opdev_runtime::docker::built_images(&client).await? {
                let _ = opdev_runtime::docker::remove_image(&client, &image).await;
            }
            Ok::<_, anyhow::Error>(())
        })?;
        let took = run_named(opdev, &home, "bench-docker", &docker_args)?;
        run_named(opdev, &home, "bench-docker", &["purge", "--yes"])?;
        eprintln!("docker first up (images built): {:.3}s", took.as_secs_f64());
        docker_first = Some(took);
    }

    let (mut d_cold, mut d_warm, mut d_down) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cold, mut warm, mut down) = (Vec::new(), Vec::new(), Vec::new());
    let (mut floor_rpc, mut floor_blocks, mut floor_down) = (Vec::new(), Vec::new(), Vec::new());
    let programs = if services.rollup {
        Some(rollup::Programs::resolve(&anvil, opdev)?)
    } else {
        None
    };
    let mut source = None;
    let load_start = load_average();
    let mut runs_done = || -> Result<()> {
        for i in 0..runs {
            cold.push(run_opdev(opdev, &home, &up_args)?);
            down.push(run_opdev(opdev, &home, &["down"])?);
            warm.push(run_opdev(opdev, &home, &["up"])?);
            down.push(run_opdev(opdev, &home, &["down"])?);
            if services.rollup && source.is_none() {
                // The floor's devnets are made from this one's config and keys.
                let devnet = opdev_orchestrator::Home::at(&home).devnet("bench");
                source = Some(rollup::Source::copy(devnet.root())?);
            }
            run_opdev(opdev, &home, &["purge", "--yes"])?;
            if docker {
                let d = |args: &[&str]| run_named(opdev, &home, "bench-docker", args);
                d_cold.push(d(&docker_args)?);
                d_down.push(d(&["down"])?);
                d_warm.push(d(&["up"])?);
                d_down.push(d(&["down"])?);
                d(&["purge", "--yes"])?;
                eprintln!(
                    "run {}/{runs}: docker cold {:.3}s warm {:.3}s",
                    i + 1,
                    d_cold[i].as_secs_f64(),
                    d_warm[i].as_secs_f64()
                );
            }
            let (rpc, blocks, stop) = match (&source, &programs) {
                (Some(source), Some(programs)) => {
                    let f = rollup::floor(source, programs)?;
                    eprintln!(
                        "run {}/{runs}: floor prepared in {:.1}s (untimed), programs answer at \
                         {:.3}s, safe head passed at {:.3}s, SIGTERM to exit {:.3}s",
                        i + 1,
                        f.prepare.as_secs_f64(),
                        f.rpc.as_secs_f64(),
                        f.ready.as_secs_f64(),
                        f.stop.as_secs_f64()
                    );
                    (f.rpc, f.ready, f.stop)
                }
                _ => floor(&anvil, l2, block_time)?,
            };
            floor_rpc.push(rpc);
            floor_blocks.push(blocks);
            floor_down.push(stop);
            eprintln!(
                "run {}/{runs}: cold {:.3}s warm {:.3}s down {:.3}s/{:.3}s floor {:.3}s/{:.3}s \
                 (load {})",
                i + 1,
                cold[i].as_secs_f64(),
                warm[i].as_secs_f64(),
                down[2 * i].as_secs_f64(),
                down[2 * i + 1].as_secs_f64(),
                rpc.as_secs_f64(),
                blocks.as_secs_f64(),
                load_average()
            );
        }
        Ok(())
    };
    let outcome = runs_done();
    if outcome.is_err() {
        // Leave nothing running behind a failed run.
        let _ = run_opdev(opdev, &home, &["purge", "--yes"]);
        if docker {
            let _ = run_named(opdev, &home, "bench-docker", &["purge", "--yes"]);
        }
    }
    let _ = std::fs::remove_dir_all(&home);
    outcome?;
    let load_end = load_average();

    let mut rows = vec![
        (
            "cold up",
            stats(&cold),
            stats(&floor_rpc),
            stats(&floor_blocks),
        ),
        (
            "warm up",
            stats(&warm),
            stats(&floor_rpc),
            stats(&floor_blocks),
        ),
        ("down", stats(&down), stats(&floor_down), stats(&floor_down)),
    ];
    if docker {
        rows.extend([
            (
                "docker cold up",
                stats(&d_cold),
                stats(&floor_rpc),
                stats(&floor_blocks),
            ),
            (
                "docker warm up",
                stats(&d_warm),
                stats(&floor_rpc),
                stats(&floor_blocks),
            ),
            (
                "docker down",
                stats(&d_down),
                stats(&floor_down),
                stats(&floor_down),
            ),
        ]);
        if let Some(first) = docker_first {
            let s = first.as_secs_f64();
            rows.push((
                "docker first up",
                (s, s, s),
                stats(&floor_rpc),
                stats(&floor_blocks),
            ));
        }
    }
    println!(
        "opdev lifecycle ({}{}), {runs} runs, 1 L1 + {l2} L2, {block_time}s blocks, {} cores, \
         load average {load_start} at start, {load_end} at end",
        if services.rollup {
            "full profile: anvil L1, per L2 op-geth, op-node, op-batcher, op-proposer"
        } else if full {
            "whole devnet: chains"
        } else {
            "chains only"
        },
        if full {
            ", PostgreSQL, indexer, faucet, monitoring"
        } else {
            ""
        },
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    // The full profile is ready when the rollup's safe head advances; the lite one at a block.
    let ready_floor = if services.rollup {
        "floor safe s"
    } else {
        "floor block s"
    };
    println!(
        "{:<16} {:>9} {:>9} {:>9} | {:>11} {:>7} | {:>13} {:>7}",
        "metric", "median s", "min s", "max s", "floor rpc s", "ratio", ready_floor, "ratio"
    );
    for (name, (med, min, max), (f_rpc, _, _), (f_blk, _, _)) in &rows {
        println!(
            "{name:<16} {med:>9.3} {min:>9.3} {max:>9.3} | {f_rpc:>11.3} {:>7.1} | {f_blk:>13.3} {:>7.2}",
            med / f_rpc,
            med / f_blk
        );
    }
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|(name, (med, min, max), (f_rpc, _, _), (f_blk, _, _))| {
                let mut row = json!({ "metric": name, "median_s": med, "min_s": min,
                                      "max_s": max, "floor_rpc_s": f_rpc });
                if services.rollup {
                    row["floor_safe_head_s"] = json!(f_blk);
                } else {
                    row["floor_first_block_s"] = json!(f_blk);
                }
                row
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(())
}

/// The floor: the same anvil processes (one L1, `l2` OP-mode L2s, same block time, fresh state
/// files) started by hand in parallel. Returns the time until every RPC answers, until every
/// chain has made its first block, and for SIGTERM to end them all.
fn floor(anvil: &Path, l2: u32, block_time: u64) -> Result<(Duration, Duration, Duration)> {
    let dir = tempfile::tempdir()?;
    let dir = dir.path();
    let ports: Vec<u16> = (0..=l2)
        .map(|_| opdev_orchestrator::ports::pick_free(&[]))
        .collect::<Result<_, _>>()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let t0 = Instant::now();
    let mut children: Vec<Child> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            let mut cmd = Command::new(anvil);
            cmd.args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--chain-id",
                &(900 + i).to_string(),
            ])
            .arg("--state")
            .arg(dir.join(format!("state-{i}.json")))
            // The same bounded on-disk history as opdev's chains.
            .arg("--cache-path")
            .arg(dir.join(format!("history-{i}")))
            .args([
                "--max-persisted-states",
                &opdev_profiles::lite::HISTORY_STATES.to_string(),
            ])
            .args([
                "--state-interval",
                "10",
                "--block-time",
                &block_time.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
            if i > 0 {
                cmd.args(["--network", "optimism"]);
            }
            cmd.spawn().context("start anvil")
        })
        .collect::<Result<_>>()?;
    let (rpc, blocks) = runtime.block_on(async {
        let probes: Vec<_> = ports
            .iter()
            .map(|p| opdev_chain::rpc::Probe::new(&format!("http://127.0.0.1:{p}")).expect("url"))
            .collect();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut answered = None;
        loop {
            ensure!(
                Instant::now() < deadline,
                "anvil did not answer within 30 s"
            );
            let heads = futures_heads(&probes).await;
            if answered.is_none() && heads.iter().all(Option::is_some) {
                answered = Some(t0.elapsed());
            }
            if heads.iter().all(|h| h.is_some_and(|h| h > 0)) {
                return Ok((answered.unwrap_or_else(|| t0.elapsed()), t0.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })?;
    let t1 = Instant::now();
    for child in &children {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    for child in &mut children {
        child.wait()?;
    }
    let stop = t1.elapsed();
    Ok((rpc, blocks, stop))
}

async fn futures_heads(probes: &[opdev_chain::rpc::Probe]) -> Vec<Option<u64>> {
    futures::future::join_all(probes.iter().map(|p| async { p.block_number().await.ok() })).await
}
