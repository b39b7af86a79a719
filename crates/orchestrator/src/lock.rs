//! Advisory file locks (`flock`) that tell who owns a devnet: `run.lock` is held by the running
//! supervisor for its whole life, `up.lock` by an `up` until its devnet is ready or has failed.
//! The kernel drops a lock when its holder dies, so a crash never leaves a devnet locked.

use std::{fs::File, os::unix::fs::OpenOptionsExt, path::Path};

use nix::{
    errno::Errno,
    fcntl::{Flock, FlockArg},
};

use crate::Error;

/// A held lock; released on drop.
#[derive(Debug)]
pub struct FileLock {
    _lock: Flock<File>,
}

/// Takes the exclusive lock on `path` without waiting: `Ok(None)` when someone else holds it.
pub fn try_lock(path: &Path) -> Result<Option<FileLock>, Error> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Some(FileLock { _lock: lock })),
        Err((_, Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, e)) => Err(Error::io(path, std::io::Error::from(e))),
    }
}

/// Whether someone holds the lock on `path` (a missing file is not held).
pub fn is_held(path: &Path) -> Result<bool, Error> {
    if !path.exists() {
        return Ok(false);
    }
    Ok(try_lock(path)?.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_taker_is_refused_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.lock");
        assert!(!is_held(&path).unwrap());
        let held = try_lock(&path).unwrap().expect("first lock");
        assert!(try_lock(&path).unwrap().is_none());
        assert!(is_held(&path).unwrap());
        drop(held);
        assert!(try_lock(&path).unwrap().is_some());
    }
}
