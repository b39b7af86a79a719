//! `opdev logs`: the last lines of each service's log, then (with `--follow`) new lines as they
//! are written, across rotations. On a Docker devnet a service's output comes through the Engine
//! API (the container's own log), followed across the container's restarts; the supervisor's log
//! and services without a container are read from the devnet's log files.

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom},
    os::unix::fs::MetadataExt,
    path::PathBuf,
    time::Duration,
};

use opdev_orchestrator::{Error, daemon};
use opdev_runtime::logs::tail;
use opdev_spec::RuntimeKind;

use super::{Ctx, check_services};
use crate::cli::LogsArgs;

pub(crate) async fn run(ctx: &Ctx<'_>, args: LogsArgs) -> Result<(), Error> {
    let (devnet, config) = ctx.existing()?;
    check_services(&config, &devnet, &args.services, &["supervisor"])?;
    let services: Vec<String> = if args.services.is_empty() {
        match daemon::load_services(&devnet) {
            Ok(specs) => specs.into_iter().map(|s| s.name).collect(),
            Err(_) => config.chains().map(|c| c.service.clone()).collect(),
        }
    } else {
        args.services.clone()
    };
    let width = services.iter().map(String::len).max().unwrap_or(0);
    let prefix = |s: &str| {
        if services.len() > 1 {
            format!("{s:<width$} | ")
        } else {
            String::new()
        }
    };
    let printer = ctx.printer;
    if config.runtime == RuntimeKind::Docker {
        return docker_logs(ctx, &devnet, &services, &args).await;
    }
    let mut followers = Vec::new();
    for service in &services {
        let path = devnet.log_path(service);
        for line in tail(&path, args.tail).map_err(|e| Error::io(&path, e))? {
            printer.data(format!("{}{line}", prefix(service)));
        }
        followers.push((service.clone(), Follower::at_end(path)));
    }
    if !args.follow {
        return Ok(());
    }
    loop {
        for (service, follower) in &mut followers {
            for line in follower.poll() {
                printer.data(format!("{}{line}", prefix(service)));
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Logs of a Docker devnet: containers through the API, the rest from files.
async fn docker_logs(
    ctx: &Ctx<'_>,
    devnet: &opdev_orchestrator::DevnetDir,
    services: &[String],
    args: &LogsArgs,
) -> Result<(), Error> {
    let docker = opdev_runtime::docker::connect().await?;
    let containers = opdev_runtime::docker::list_containers(&docker, devnet.name()).await?;
    let width = services.iter().map(String::len).max().unwrap_or(0);
    let multi = services.len() > 1;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
    let mut tasks = Vec::new();
    for service in services {
        let has_container = containers.iter().any(|c| c.service == *service);
        let tx = tx.clone();
        let service = service.clone();
        let (tail_n, follow) = (args.tail, args.follow);
        if !has_container {
            // The supervisor's log, or a service that never ran: its file.
            let path = devnet.log_path(&service);
            for line in tail(&path, tail_n).map_err(|e| Error::io(&path, e))? {
                let _ = tx.send((service.clone(), line));
            }
            if follow {
                let mut follower = Follower::at_end(path);
                tasks.push(tokio::spawn(async move {
                    loop {
                        for line in follower.poll() {
                            let _ = tx.send((service.clone(), line));
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }));
            }
            continue;
        }
        let docker = docker.clone();
        let devnet = devnet.name().to_owned();
        tasks.push(tokio::spawn(async move {
            let mut since = None;
            loop {
                let mut partial = String::new();
                let tx_lines = tx.clone();
                let name = service.clone();
                let result = opdev_runtime::docker::container_logs(
                    &docker,
                    &devnet,
                    &service,
                    if since.is_some() { usize::MAX } else { tail_n },
                    follow,
                    since,
                    |chunk| {
                        partial.push_str(&String::from_utf8_lossy(chunk));
                        while let Some(i) = partial.find('\n') {
                            let line: String = partial.drain(..=i).collect();
                            let _ = tx_lines.send((name.clone(), line.trim_end().to_owned()));
                        }
                    },
                )
                .await;
                if !partial.is_empty() {
                    let _ = tx.send((service.clone(), partial));
                }
                if !follow || result.is_err() && since.is_none() {
                    return result;
                }
                // The container stopped (a restart recreates it): pick up its successor.
                since = Some(unix_now());
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }));
    }
    drop(tx);
    let printer = ctx.printer;
    while let Some((service, line)) = rx.recv().await {
        if multi {
            printer.data(format!("{service:<width$} | {line}"));
        } else {
            printer.data(line);
        }
    }
    for task in tasks {
        if let Ok(Err(e)) = task.await {
            return Err(e.into());
        }
    }
    Ok(())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Reads what is appended to a log file, starting again from the top when the file is rotated
/// (a new inode) or truncated.
struct Follower {
    path: PathBuf,
    inode: u64,
    offset: u64,
    partial: String,
}

impl Follower {
    fn at_end(path: PathBuf) -> Self {
        let (inode, offset) = std::fs::metadata(&path)
            .map(|m| (m.ino(), m.len()))
            .unwrap_or((0, 0));
        Self {
            path,
            inode,
            offset,
            partial: String::new(),
        }
    }

    fn poll(&mut self) -> Vec<String> {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return Vec::new();
        };
        if meta.ino() != self.inode || meta.len() < self.offset {
            self.inode = meta.ino();
            self.offset = 0;
        }
        if meta.len() == self.offset {
            return Vec::new();
        }
        let Ok(mut file) = File::open(&self.path) else {
            return Vec::new();
        };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut buf = Vec::new();
        let Ok(n) = file.read_to_end(&mut buf) else {
            return Vec::new();
        };
        self.offset += n as u64;
        self.partial.push_str(&String::from_utf8_lossy(&buf));
        let mut lines: Vec<String> = self.partial.split('\n').map(ToOwned::to_owned).collect();
        self.partial = lines.pop().unwrap_or_default();
        lines
    }
}
