//! `opdev logs`: the last lines of each service's log, then (with `--follow`) new lines as they
//! are written, across rotations.

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom},
    os::unix::fs::MetadataExt,
    path::PathBuf,
    time::Duration,
};

use opdev_orchestrator::{Error, daemon};
use opdev_runtime::logs::tail;

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
