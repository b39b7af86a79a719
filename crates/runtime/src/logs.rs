//! Service logs: every service's output goes to `<logs>/<service>.log`, capped in size and rotated
//! (`.log` → `.log.1` → … → `.log.N`, the oldest dropped), and read back by `tail`.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Seek, SeekFrom, Write},
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

/// Default size at which a log file is rotated.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Default number of rotated files kept beside the live one.
pub const DEFAULT_KEEP: u32 = 3;

/// An append-only log file that rotates itself when it grows past a size.
#[derive(Debug)]
pub struct RotatingLog {
    path: PathBuf,
    file: File,
    len: u64,
    max_bytes: u64,
    keep: u32,
}

impl RotatingLog {
    /// Opens (or creates, mode 0600) `path` for appending.
    pub fn open(path: impl Into<PathBuf>, max_bytes: u64, keep: u32) -> io::Result<Self> {
        let path = path.into();
        let file = open_append(&path)?;
        let len = file.metadata()?.len();
        Ok(Self {
            path,
            file,
            len,
            max_bytes,
            keep,
        })
    }

    /// The live file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `bytes`, rotating first if they would take the file past its cap.
    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.len > 0 && self.len + bytes.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Appends one line of opdev's own, marked so it stands out from the service's output.
    pub fn note(&mut self, line: &str) -> io::Result<()> {
        self.write_all(format!("--- opdev: {line}\n").as_bytes())
    }

    fn rotate(&mut self) -> io::Result<()> {
        for i in (1..self.keep).rev() {
            let from = rotated(&self.path, i);
            if from.exists() {
                fs::rename(&from, rotated(&self.path, i + 1))?;
            }
        }
        if self.keep > 0 {
            fs::rename(&self.path, rotated(&self.path, 1))?;
        } else {
            fs::remove_file(&self.path)?;
        }
        self.file = open_append(&self.path)?;
        self.len = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// Path of the `n`th rotated file of `path`.
pub fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// The last `n` lines of the log at `path`, reading the newest rotated file too when the live
/// one is shorter. A missing file gives no lines.
pub fn tail(path: &Path, n: usize) -> io::Result<Vec<String>> {
    let mut lines = tail_file(path, n)?;
    if lines.len() < n {
        let mut older = tail_file(&rotated(path, 1), n - lines.len())?;
        older.append(&mut lines);
        lines = older;
    }
    Ok(lines)
}

fn tail_file(path: &Path, n: usize) -> io::Result<Vec<String>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    if n == 0 {
        return Ok(Vec::new());
    }
    let len = file.metadata()?.len();
    // Read backwards in growing windows until enough newlines are seen.
    let mut window = 8 * 1024u64;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::with_capacity((len - start) as usize);
        Read::by_ref(&mut file)
            .take(len - start)
            .read_to_end(&mut buf)?;
        let text = String::from_utf8_lossy(&buf);
        let mut lines: Vec<&str> = text.lines().collect();
        if lines.len() > n || start == 0 {
            if start > 0 {
                lines.remove(0); // probably cut in the middle
            }
            let skip = lines.len().saturating_sub(n);
            return Ok(lines[skip..].iter().map(|l| (*l).to_owned()).collect());
        }
        window *= 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_at_the_cap_and_keeps_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.log");
        let mut log = RotatingLog::open(&path, 100, 2).unwrap();
        for i in 0..30 {
            log.write_all(format!("line {i:03} .........\n").as_bytes())
                .unwrap();
        }
        assert!(fs::metadata(&path).unwrap().len() <= 100);
        assert!(rotated(&path, 1).exists() && rotated(&path, 2).exists());
        assert!(!rotated(&path, 3).exists());
        let last = tail(&path, 3).unwrap();
        assert_eq!(
            last,
            [
                "line 027 .........",
                "line 028 .........",
                "line 029 ........."
            ]
        );
        // Asking for more lines than the live file has reaches into the rotated one.
        let more = tail(&path, 7).unwrap();
        assert_eq!(more.last().unwrap(), "line 029 .........");
        assert_eq!(more.len(), 7);
    }

    #[test]
    fn tail_of_missing_file_is_empty_and_of_long_file_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        assert!(tail(&dir.path().join("none.log"), 5).unwrap().is_empty());
        let path = dir.path().join("big.log");
        let text: String = (0..5000).map(|i| format!("{i}\n")).collect();
        fs::write(&path, text).unwrap();
        assert_eq!(tail(&path, 2).unwrap(), ["4998", "4999"]);
    }
}
