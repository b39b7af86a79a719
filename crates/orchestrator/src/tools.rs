//! External tools: find them or install the pinned version. anvil comes from, in order: the
//! user's `--anvil-bin`, `anvil` on PATH, opdev's cache, or a fresh install of Foundry's npm
//! package `@foundry-rs/anvil` into the cache (under a lock, so parallel `up`s install once).

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Stdio,
};

use opdev_spec::versions::{ANVIL, CONTRACTS_BEDROCK};

use crate::{Error, lock};

/// Where a tool was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Given by the user.
    User,
    /// Found on PATH.
    Path,
    /// Already in opdev's cache.
    Cache,
    /// Installed into opdev's cache just now.
    Installed,
}

/// A resolved tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The executable.
    pub path: PathBuf,
    /// Where it came from.
    pub origin: Origin,
}

/// opdev's cache folder: `$XDG_CACHE_HOME/opdev`, else `~/.cache/opdev`.
pub fn cache_dir() -> Result<PathBuf, Error> {
    opdev_runtime::cache_dir().ok_or(Error::NoHome)
}

/// Checks that `path` is an executable file.
pub fn check_executable(what: &str, path: &Path) -> Result<(), Error> {
    let err = |reason: &str| Error::Binary {
        what: what.into(),
        path: path.into(),
        reason: reason.into(),
    };
    let meta = std::fs::metadata(path).map_err(|_| err("no such file"))?;
    if !meta.is_file() {
        return Err(err("not a file"));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(err("not executable"));
    }
    Ok(())
}

/// npm's name for this platform's package of a Foundry tool.
fn platform_package(tool: &str) -> Option<String> {
    let os = match std::env::consts::OS {
        "linux" => "linux",
        "macos" => "darwin",
        _ => return None,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        _ => return None,
    };
    Some(format!("{tool}-{os}-{arch}"))
}

/// The pinned anvil in opdev's cache, when it was installed there before (nothing is
/// installed).
pub fn cached_anvil() -> Option<PathBuf> {
    let package = platform_package("anvil")?;
    let binary = cache_dir()
        .ok()?
        .join(format!("foundry-{}", ANVIL.version))
        .join("node_modules/@foundry-rs")
        .join(package)
        .join("bin/anvil");
    binary.is_file().then_some(binary)
}

/// The anvil to run. `install_note` is called before a download starts, with what is installed
/// where, so the caller can say so.
pub fn anvil(user: Option<&Path>, install_note: impl FnOnce(&str)) -> Result<Resolved, Error> {
    if let Some(path) = user {
        check_executable("anvil binary", path)?;
        return Ok(Resolved {
            path: path.to_path_buf(),
            origin: Origin::User,
        });
    }
    if let Ok(path) = which::which("anvil") {
        return Ok(Resolved {
            path,
            origin: Origin::Path,
        });
    }
    let missing = |reason: String| Error::ToolMissing {
        tool: "anvil".into(),
        reason,
    };
    let package = platform_package("anvil").ok_or_else(|| {
        missing(format!(
            "Foundry publishes no npm package for {}-{}",
            std::env::consts::OS,
            std::env::consts::ARCH
        ))
    })?;
    let prefix = cache_dir()?.join(format!("foundry-{}", ANVIL.version));
    let binary = prefix
        .join("node_modules/@foundry-rs")
        .join(&package)
        .join("bin/anvil");
    if binary.is_file() {
        return Ok(Resolved {
            path: binary,
            origin: Origin::Cache,
        });
    }
    npm_install(
        &prefix,
        &[
            format!("@foundry-rs/anvil@{}", ANVIL.version),
            format!("@foundry-rs/{package}@{}", ANVIL.version),
        ],
        &binary,
        &format!(
            "installing anvil {} from npm (@foundry-rs/anvil) into {}",
            ANVIL.version,
            prefix.display()
        ),
        install_note,
    )
    .map_err(missing)?;
    check_executable("installed anvil", &binary)?;
    Ok(Resolved {
        path: binary,
        origin: Origin::Installed,
    })
}

/// Installs npm `packages` into `prefix` (`npm install --prefix`), once: under a lock next to
/// the prefix, so parallel callers install once and the others find `done` there afterwards.
/// `note` hears `what` before a download starts. Errors are one line: npm missing, or npm's
/// last line.
fn npm_install(
    prefix: &Path,
    packages: &[String],
    done: &Path,
    what: &str,
    note: impl FnOnce(&str),
) -> Result<(), String> {
    let npm = which::which("npm").map_err(|_| {
        "it is not installed and npm is not on PATH (install Node.js and npm)".to_owned()
    })?;
    std::fs::create_dir_all(prefix).map_err(|e| format!("create {}: {e}", prefix.display()))?;
    // One installer at a time; whoever waited finds the result there afterwards.
    let lock_path = prefix.with_extension("lock");
    let _guard = loop {
        match lock::try_lock(&lock_path).map_err(|e| e.to_string())? {
            Some(guard) => break guard,
            None => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    };
    if done.exists() {
        return Ok(());
    }
    note(what);
    let output = std::process::Command::new(npm)
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--ignore-scripts",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(prefix)
        .args(packages)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("npm did not run: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        return Err(format!("npm install failed: {last}"));
    }
    Ok(())
}

/// Where the pinned `@eth-optimism/contracts-bedrock` package is (or will be) in opdev's cache.
pub fn contracts_bedrock_dir() -> Result<PathBuf, Error> {
    Ok(cache_dir()?
        .join(format!("contracts-bedrock-{}", CONTRACTS_BEDROCK.version))
        .join("node_modules/@eth-optimism/contracts-bedrock"))
}

/// The OP Stack's compiled contracts: the pinned npm package `@eth-optimism/contracts-bedrock`,
/// installed into opdev's cache the first time (`note` hears about it).
pub fn contracts_bedrock(note: impl FnOnce(&str)) -> Result<PathBuf, Error> {
    let dir = contracts_bedrock_dir()?;
    let done = dir.join("package.json");
    if done.is_file() {
        return Ok(dir);
    }
    let prefix = cache_dir()?.join(format!("contracts-bedrock-{}", CONTRACTS_BEDROCK.version));
    npm_install(
        &prefix,
        &[format!("@eth-optimism/contracts-bedrock@{}", CONTRACTS_BEDROCK.version)],
        &done,
        &format!(
            "installing the OP Stack contracts {} from npm (@eth-optimism/contracts-bedrock) into {}",
            CONTRACTS_BEDROCK.version,
            prefix.display()
        ),
        note,
    )
    .map_err(|reason| Error::ToolMissing {
        tool: "@eth-optimism/contracts-bedrock".into(),
        reason,
    })?;
    if !done.is_file() {
        return Err(Error::ToolMissing {
            tool: "@eth-optimism/contracts-bedrock".into(),
            reason: format!("npm installed it, but {} is missing", done.display()),
        });
    }
    Ok(dir)
}

/// The folder holding PostgreSQL's server programs (`initdb`, `postgres`, `pg_ctl`): where
/// `initdb` is on PATH, else the newest `/usr/lib/postgresql/<version>/bin` (Debian's layout).
pub fn postgres_bin_dir() -> Result<PathBuf, Error> {
    if let Ok(initdb) = which::which("initdb") {
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        if let Some(dir) = real.parent().filter(|d| d.join("postgres").is_file()) {
            return Ok(dir.to_path_buf());
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| Error::ToolMissing {
            tool: "postgresql".into(),
            reason: "initdb is not on PATH and /usr/lib/postgresql/*/bin has no server".into(),
        })
}

/// Prometheus and Alertmanager executables when `wanted`: found on PATH (Debian names the
/// latter `prometheus-alertmanager`).
pub fn monitoring(wanted: bool) -> Result<(Option<PathBuf>, Option<PathBuf>), Error> {
    if !wanted {
        return Ok((None, None));
    }
    let find = |names: &[&str]| names.iter().find_map(|n| which::which(n).ok());
    let missing = |tool: &str| Error::ToolMissing {
        tool: tool.into(),
        reason: "it is not on PATH".into(),
    };
    let prometheus = find(&["prometheus"]).ok_or_else(|| missing("prometheus"))?;
    let alertmanager = find(&["prometheus-alertmanager", "alertmanager"])
        .ok_or_else(|| missing("alertmanager"))?;
    Ok((Some(prometheus), Some(alertmanager)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_binary_must_exist_and_be_executable() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = anvil(Some(&missing), |_| {}).unwrap_err();
        assert!(err.to_string().contains("no such file"), "{err}");
        let file = dir.path().join("anvil");
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        let err = anvil(Some(&file), |_| {}).unwrap_err();
        assert!(err.to_string().contains("not executable"), "{err}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(anvil(Some(&file), |_| {}).unwrap().origin, Origin::User);
        let err = anvil(Some(dir.path()), |_| {}).unwrap_err();
        assert!(err.to_string().contains("not a file"), "{err}");
    }
}
