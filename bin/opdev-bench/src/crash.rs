//! `opdev-bench crash-window`: what anvil's periodic state save (`--state-interval`) costs, and
//! what a kill -9 loses, at several intervals. One OP-mode chain of `blocks` blocks with traffic is
//! built once and saved (or taken from `--seed`, a state file an earlier run kept); then, for the
//! floor (`--load-state`: the same chain never saved), for `--state` alone (anvil's own default:
//! a save every 60 s, seen with strace) and for each interval, an anvil started as opdev starts
//! an L2 loads a copy of
//! that state, makes 1-second blocks under steady traffic for `seconds`, and its kernel counters
//! are read before and after: bytes written (`/proc/<pid>/io` `write_bytes`, and of those the
//! bytes truncated away before they reached the disk, `cancelled_write_bytes`) and CPU time
//! (`/proc/<pid>/stat` utime + stime). Both are extrapolated to an hour. The anvil is then killed
//! with SIGKILL, started again from its state file, and the blocks it lost are counted.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use serde_json::json;

use crate::chain::{deploy_counter, fill, quantity, rpc};

/// Transactions per block while the chain is built (transfers and Counter calls).
const FILL_TXS_PER_BLOCK: u64 = 3;
/// Transactions per second of the traffic during a measurement.
const TRAFFIC_PER_SECOND: u64 = 4;

/// How a measured anvil saves its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Saving {
    /// `--load-state`: never (the floor).
    Never,
    /// `--state` alone: anvil's default period (60 s in anvil 1.7.1).
    AnvilDefault,
    /// `--state --state-interval N`.
    Every(u64),
}

/// One measured setting.
struct Sample {
    saving: Saving,
    seconds: f64,
    write_bytes: u64,
    cancelled_bytes: u64,
    cpu_seconds: f64,
    state_bytes: u64,
    /// `None`: the state file was unreadable after the kill.
    lost_blocks: Option<u64>,
}

/// Runs the benchmark.
pub(crate) fn run(
    blocks: u64,
    seconds: u64,
    intervals: &[u64],
    keep: Option<&Path>,
    json_out: bool,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let anvil = opdev_test_utils::anvil_bin();
    let seed = dir.path().join("seed.json");
    let t0 = Instant::now();
    if let Some(kept) = keep.filter(|k| k.is_file()) {
        std::fs::copy(kept, &seed).with_context(|| format!("copy {}", kept.display()))?;
        eprintln!("reusing the chain saved in {}", kept.display());
    } else {
        let mut node = Node::start(&anvil, dir.path(), &seed, Saving::AnvilDefault, false)?;
        runtime.block_on(async {
            let (senders, counter) = deploy_counter(&node.url).await?;
            let mut nonces = vec![0u64; 9];
            for (i, s) in senders.iter().take(9).enumerate() {
                nonces[i] = quantity(
                    &rpc(&node.url, "eth_getTransactionCount", json!([s, "pending"])).await?,
                )?;
            }
            let head = quantity(&rpc(&node.url, "eth_blockNumber", json!([])).await?)?;
            fill(
                &node.url,
                &senders,
                &counter,
                &mut nonces,
                blocks.saturating_sub(head + 1),
                FILL_TXS_PER_BLOCK,
                |t| t % 2 == 0,
            )
            .await
        })?;
        node.stop_gracefully()?;
        if let Some(kept) = keep {
            std::fs::copy(&seed, kept).with_context(|| format!("keep {}", kept.display()))?;
        }
    }
    let seed_bytes = std::fs::metadata(&seed)
        .context("the seed state was saved")?
        .len();
    eprintln!(
        "chain of {blocks} blocks ({FILL_TXS_PER_BLOCK} transactions each) ready in {:.0} s; \
         its state file: {:.1} MB",
        t0.elapsed().as_secs_f64(),
        seed_bytes as f64 / 1e6
    );
    let mut samples = Vec::new();
    let settings = [Saving::Never, Saving::AnvilDefault]
        .into_iter()
        .chain(intervals.iter().copied().map(Saving::Every));
    for saving in settings {
        let state = dir.path().join("run.json");
        std::fs::copy(&seed, &state)?;
        let sample = runtime.block_on(measure(&anvil, dir.path(), &state, saving, seconds))?;
        eprintln!(
            "{}: {:.1} MB written, {:.2} CPU s in {:.0} s; kill -9 lost {}",
            label(saving),
            sample.write_bytes as f64 / 1e6,
            sample.cpu_seconds,
            sample.seconds,
            lost(sample.lost_blocks)
        );
        samples.push(sample);
    }
    print_report(blocks, seed_bytes, seconds, &samples, json_out);
    Ok(())
}

fn lost(blocks: Option<u64>) -> String {
    match blocks {
        Some(n) => format!("{n} blocks"),
        None => "the chain (state file unreadable)".to_owned(),
    }
}

fn label(saving: Saving) -> String {
    match saving {
        Saving::Never => "floor: never saved".to_owned(),
        Saving::AnvilDefault => "--state alone (anvil: 60 s)".to_owned(),
        Saving::Every(s) => format!("--state-interval {s}"),
    }
}

async fn measure(
    anvil: &Path,
    dir: &Path,
    state: &Path,
    saving: Saving,
    seconds: u64,
) -> Result<Sample> {
    let mut node = Node::start(anvil, dir, state, saving, true)?;
    let senders: Vec<String> = opdev_chain::accounts::derive(
        "test test test test test test test test test test test junk",
        2,
    )?
    .iter()
    .map(|a| a.address.to_string())
    .collect();
    // Loading the state is not what is measured.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (bytes0, cancelled0, cpu0) = node.counters()?;
    let t0 = Instant::now();
    let until = t0 + Duration::from_secs(seconds);
    let gap = Duration::from_millis(1000 / TRAFFIC_PER_SECOND);
    while Instant::now() < until {
        rpc(
            &node.url,
            "eth_sendTransaction",
            json!([{"from": senders[0], "to": senders[1], "value": "0x1"}]),
        )
        .await?;
        tokio::time::sleep(gap).await;
    }
    let (bytes1, cancelled1, cpu1) = node.counters()?;
    let elapsed = t0.elapsed().as_secs_f64();
    let head = quantity(&rpc(&node.url, "eth_blockNumber", json!([])).await?)?;
    node.kill()?;
    let state_bytes = std::fs::metadata(state).map(|m| m.len()).unwrap_or(0);
    // A kill during a save leaves a truncated file (anvil rewrites it in place), which anvil
    // refuses to load: counted as a lost chain.
    let lost_blocks = match Node::start(anvil, dir, state, Saving::AnvilDefault, false) {
        Ok(mut again) => {
            let resumed = quantity(&rpc(&again.url, "eth_blockNumber", json!([])).await?)?;
            again.kill()?;
            Some(head.saturating_sub(resumed))
        }
        Err(_) => None,
    };
    Ok(Sample {
        saving,
        seconds: elapsed,
        write_bytes: bytes1.saturating_sub(bytes0),
        cancelled_bytes: cancelled1.saturating_sub(cancelled0),
        cpu_seconds: cpu1 - cpu0,
        state_bytes,
        lost_blocks,
    })
}

fn print_report(blocks: u64, seed_bytes: u64, seconds: u64, samples: &[Sample], json_out: bool) {
    let floor = &samples[0];
    let per_hour = |s: &Sample| {
        (
            s.write_bytes as f64 * 3600.0 / s.seconds / 1e9,
            s.cpu_seconds * 3600.0 / s.seconds / 60.0,
        )
    };
    let net_per_hour = |s: &Sample| {
        s.write_bytes.saturating_sub(s.cancelled_bytes) as f64 * 3600.0 / s.seconds / 1e9
    };
    let (floor_gb, floor_min) = per_hour(floor);
    println!(
        "crash window: OP-mode anvil, {blocks}-block chain ({:.1} MB state), 1 s blocks, \
         {TRAFFIC_PER_SECOND} tx/s, {seconds} s per setting",
        seed_bytes as f64 / 1e6
    );
    println!(
        "{:<28} {:>12} {:>14} {:>14} {:>10} {:>12}",
        "setting", "GB/hour", "net GB/hour", "CPU min/hour", "CPU %", "lost blocks"
    );
    for s in samples {
        let (gb, min) = per_hour(s);
        let extra = if s.saving != Saving::Never {
            format!(" (+{:.2} GB, +{:.1} min)", gb - floor_gb, min - floor_min)
        } else {
            String::new()
        };
        println!(
            "{:<28} {:>12.2} {:>14.2} {:>14.1} {:>9.1}% {:>12}{extra}",
            label(s.saving),
            gb,
            net_per_hour(s),
            min,
            s.cpu_seconds * 100.0 / s.seconds,
            s.lost_blocks
                .map(|n| n.to_string())
                .unwrap_or_else(|| "unreadable".into())
        );
    }
    if json_out {
        let rows: Vec<_> = samples
            .iter()
            .map(|s| {
                let (gb, min) = per_hour(s);
                json!({
                    "setting": label(s.saving),
                    "interval_secs": match s.saving {
                        Saving::Never => None,
                        Saving::AnvilDefault => Some(60),
                        Saving::Every(n) => Some(n),
                    },
                    "seconds": s.seconds,
                    "write_bytes": s.write_bytes,
                    "cancelled_write_bytes": s.cancelled_bytes,
                    "net_gb_written_per_hour": net_per_hour(s),
                    "cpu_seconds": s.cpu_seconds,
                    "gb_written_per_hour": gb,
                    "cpu_minutes_per_hour": min,
                    "state_file_bytes": s.state_bytes,
                    "lost_blocks_on_kill": s.lost_blocks,
                })
            })
            .collect();
        println!(
            "{}",
            json!({"bench": "crash-window", "blocks": blocks, "samples": rows})
        );
    }
}

/// One anvil started as opdev starts an L2.
struct Node {
    child: Option<Child>,
    url: String,
}

impl Node {
    fn start(
        anvil: &Path,
        dir: &Path,
        state: &Path,
        saving: Saving,
        block_time: bool,
    ) -> Result<Self> {
        let port = opdev_test_utils::free_port();
        let history: PathBuf = dir.join("history");
        let _ = std::fs::remove_dir_all(&history);
        let mut cmd = Command::new(anvil);
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--chain-id", "901", "--network", "optimism", "--silent"])
            .args(["--gas-limit", "1000000000"])
            .arg(if saving == Saving::Never {
                "--load-state"
            } else {
                "--state"
            })
            .arg(state)
            .arg("--cache-path")
            .arg(&history)
            .args(["--max-persisted-states", "256"]);
        if let Saving::Every(secs) = saving {
            cmd.args(["--state-interval", &secs.to_string()]);
        }
        if block_time {
            cmd.args(["--block-time", "1"]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", anvil.display()))?;
        let mut node = Self {
            child: Some(child),
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = node
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!("anvil exited at start: {status}");
            }
            ensure!(
                Instant::now() < deadline,
                "anvil did not listen within 120 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(node)
    }

    fn pid(&self) -> Result<u32> {
        Ok(self.child.as_ref().context("anvil runs")?.id())
    }

    /// Bytes written, bytes of those truncated before writeback, and CPU seconds (user +
    /// system) so far.
    fn counters(&self) -> Result<(u64, u64, f64)> {
        let pid = self.pid()?;
        let io = std::fs::read_to_string(format!("/proc/{pid}/io"))?;
        let field = |name: &str| -> Result<u64> {
            Ok(io
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .with_context(|| format!("{name} in /proc/<pid>/io"))?
                .trim()
                .parse()?)
        };
        let bytes = field("write_bytes:")?;
        let cancelled = field("cancelled_write_bytes:")?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name, which may hold spaces: state is field 3, utime 14.
        let rest = &stat[stat.rfind(')').context("a stat line")? + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        let per_second =
            nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)?.context("CLK_TCK")? as f64;
        Ok((bytes, cancelled, ticks as f64 / per_second))
    }

    /// SIGTERM: anvil saves its state and exits.
    fn stop_gracefully(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)?;
            let deadline = Instant::now() + Duration::from_secs(120);
            while child.try_wait()?.is_none() {
                ensure!(Instant::now() < deadline, "anvil did not exit within 120 s");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }

    /// SIGKILL: no save.
    fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
