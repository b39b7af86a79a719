//! Where devnets live: `$OPDEV_HOME` (default `$XDG_DATA_HOME/opdev`, else
//! `~/.local/share/opdev`) holds one folder per devnet:
//!
//! ```text
//! <home>/<name>/
//!   config.toml      resolved config (0600: holds the mnemonic)
//!   services.json    the service specs the supervisor runs
//!   state.json       the supervisor's last view of its services
//!   run.lock         held by the running supervisor
//!   up.lock          held by an `up` in progress
//!   supervisor.sock  the supervisor's control socket
//!   logs/            <service>.log (rotated), supervisor.log
//!   data/<service>/  each service's data (anvil's state.json…)
//! ```

use std::{
    fs,
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
};

use opdev_runtime::Dirs;
use opdev_spec::DevnetConfig;

use crate::Error;

/// The folder that holds every devnet of this user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `$OPDEV_HOME`, else `$XDG_DATA_HOME/opdev`, else `~/.local/share/opdev`.
    pub fn from_env() -> Result<Self, Error> {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let root = var("OPDEV_HOME")
            .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("opdev")))
            .or_else(|| var("HOME").map(|h| h.join(".local/share/opdev")))
            .ok_or(Error::NoHome)?;
        Ok(Self { root })
    }

    /// A home at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The devnet called `name` (which may not exist).
    pub fn devnet(&self, name: &str) -> DevnetDir {
        DevnetDir {
            name: name.to_owned(),
            root: self.root.join(name),
        }
    }

    /// Every devnet that has a saved config, sorted by name.
    pub fn devnets(&self) -> Result<Vec<DevnetDir>, Error> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.root, e)),
        };
        let mut out: Vec<DevnetDir> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .map(|name| self.devnet(&name))
            .filter(DevnetDir::exists)
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

/// One devnet's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevnetDir {
    name: String,
    root: PathBuf,
}

impl DevnetDir {
    /// Devnet name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the devnet has been created (it has a saved config).
    pub fn exists(&self) -> bool {
        self.config_path().is_file()
    }

    /// `config.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// `services.json`.
    pub fn services_path(&self) -> PathBuf {
        self.root.join("services.json")
    }

    /// `state.json`.
    pub fn state_path(&self) -> PathBuf {
        self.root.join("state.json")
    }

    /// `run.lock`.
    pub fn run_lock_path(&self) -> PathBuf {
        self.root.join("run.lock")
    }

    /// `up.lock`.
    pub fn up_lock_path(&self) -> PathBuf {
        self.root.join("up.lock")
    }

    /// `supervisor.sock`.
    pub fn socket_path(&self) -> PathBuf {
        self.root.join("supervisor.sock")
    }

    /// `logs/`.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// `data/`.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// Log file of a service (or of `supervisor`).
    pub fn log_path(&self, service: &str) -> PathBuf {
        self.logs_dir().join(format!("{service}.log"))
    }

    /// The native runtime's folders for this devnet.
    pub fn runtime_dirs(&self) -> Dirs {
        Dirs {
            data: self.data_dir(),
            logs: self.logs_dir(),
        }
    }

    /// Creates the folder (mode 0700) if missing.
    pub fn create(&self) -> Result<(), Error> {
        for dir in [self.root.clone(), self.logs_dir(), self.data_dir()] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| Error::io(&dir, e))?;
        }
        Ok(())
    }

    /// Reads the saved config; [`Error::NotFound`] when the devnet does not exist.
    pub fn load_config(&self) -> Result<DevnetConfig, Error> {
        if !self.exists() {
            return Err(Error::NotFound(self.name.clone()));
        }
        let path = self.config_path();
        let text = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        Ok(DevnetConfig::from_toml(&text, &path)?)
    }

    /// Saves the config (mode 0600, atomically).
    pub fn save_config(&self, config: &DevnetConfig) -> Result<(), Error> {
        write_private(&self.config_path(), config.to_toml().as_bytes())
    }
}

/// Makes everything this process and the programs it starts create private to the user
/// (umask 077: files 0600, folders 0700), as a devnet folder holds keys, passwords and chain
/// state. `up` and the supervisor call it before they write there, so the services they start
/// (anvil, PostgreSQL, Prometheus, Alertmanager, opdev's own) inherit it.
pub fn private_umask() {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
}

/// Writes `bytes` to `path` through a temporary file and a rename, mode 0600, so a reader never
/// sees half a file and a crash never leaves one.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("tmp");
    let mut file = fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| Error::io(&tmp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_data())
        .map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
