//! Registry-free images: an image made from files of this machine — a program, its shared-library
//! closure (what the dynamic loader needs, found with `lddtree` the way `ld.so` would) and, for
//! programs that need more than libraries (PostgreSQL's `share` and `lib` trees), their data
//! trees — on an empty base. Every file keeps its host path inside the image, so a spec's
//! executable path works unchanged as the container's entrypoint.
//!
//! A service's image also holds its setup program (op-geth's `init`, PostgreSQL's `initdb`) and
//! the libraries of the programs mounted into its container at run time (`bridge-deploy` runs the
//! host's anvil and op-geth), so both run inside the container.
//!
//! The image is the root file system as one tar, imported through the Engine API (`POST
//! /images/create?fromSrc=-`, what `docker import` does: one layer, no build step, about three
//! times faster than a `FROM scratch` build for opdev's own 350 MB debug binary). It is tagged by
//! a hash of its content (paths, modes, bytes), so making it again from the same files is a
//! cache hit that sends nothing to the daemon.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::Read,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

/// Repository of the images opdev builds.
pub const LOCAL_REPOSITORY: &str = "opdev-local";

/// Whether `image` is one opdev built from host files (so its programs keep their host paths).
pub fn is_local(image: &str) -> bool {
    image.starts_with(&format!("{LOCAL_REPOSITORY}/"))
}

/// One file of an image: where it is on the host, where it goes in the image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    /// Path inside the image (absolute).
    target: PathBuf,
    /// The host file whose bytes go there (symlinks followed).
    source: PathBuf,
}

/// The files of an image built from host programs.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// The tool, for the tag (`opdev-local/<tool>:<hash>`).
    pub tool: String,
    entries: BTreeSet<Entry>,
    lib_dirs: BTreeSet<PathBuf>,
}

impl Recipe {
    /// The files needed to run `binary` as `tool`: the binary, its library closure, and the data
    /// some tools read at run time: PostgreSQL's whole installation (every program, `lib` and
    /// `share` trees, time zones), Debian's Prometheus web assets and Alertmanager templates.
    pub fn for_program(tool: &str, binary: &Path) -> Result<Self, String> {
        let mut recipe = Self {
            tool: tool.to_owned(),
            entries: BTreeSet::new(),
            lib_dirs: BTreeSet::new(),
        };
        if !binary.is_file() {
            return Err(format!("{} is not a file", binary.display()));
        }
        let mut programs = vec![binary.to_path_buf()];
        let mut trees = Vec::new();
        match tool {
            "postgres" => {
                let (extra_programs, extra_trees) = postgres_installation(binary)?;
                programs.extend(extra_programs);
                trees.extend(extra_trees);
            }
            // Debian's build reads its notification templates from /usr/share/prometheus.
            "alertmanager" => {
                let share = Path::new("/usr/share/prometheus/alertmanager");
                if share.is_dir() {
                    trees.push(share.to_path_buf());
                }
            }
            _ => {}
        }
        for tree in &trees {
            for file in walk(tree)? {
                if is_elf(&file) {
                    programs.push(file);
                } else {
                    recipe.add(&file, &file);
                }
            }
        }
        for program in &programs {
            recipe.add_program(program)?;
        }
        Ok(recipe)
    }

    /// Adds another program and its library closure: a service's setup program, when it is not
    /// the service's own program (PostgreSQL's `initdb` is in its installation already).
    pub fn with_program(mut self, program: &Path) -> Result<Self, String> {
        self.add_program(program)?;
        Ok(self)
    }

    /// Adds the loader and libraries `program` needs, not the program itself: a program the
    /// container gets through a read-only mount of its host path (`bridge-deploy` runs the host's
    /// anvil). Anything that is not an ELF file (a folder, a data file, a script) adds nothing.
    pub fn with_libraries_of(mut self, program: &Path) -> Result<Self, String> {
        if program.is_file() && is_elf(program) {
            let had = self.entries.iter().any(|e| e.target == program);
            self.add_program(program)?;
            if !had {
                self.entries.retain(|e| e.target != program);
            }
        }
        Ok(self)
    }

    fn add(&mut self, target: &Path, source: &Path) {
        self.entries.insert(Entry {
            target: target.to_path_buf(),
            source: source.to_path_buf(),
        });
    }

    /// Adds an ELF program or library and everything the dynamic loader loads for it.
    fn add_program(&mut self, program: &Path) -> Result<(), String> {
        self.add(program, program);
        let tree = lddtree::DependencyAnalyzer::new(PathBuf::from("/"))
            .analyze(program)
            .map_err(|e| format!("read the libraries of {}: {e}", program.display()))?;
        if let Some(interpreter) = &tree.interpreter {
            self.add(Path::new(interpreter), Path::new(interpreter));
        }
        for lib in tree.libraries.values() {
            if !lib.found() {
                return Err(format!(
                    "{} needs {}, which is not on this machine",
                    program.display(),
                    lib.name
                ));
            }
            self.add(&lib.path, &lib.path);
            if let Some(dir) = lib.path.parent() {
                self.lib_dirs.insert(dir.to_path_buf());
            }
        }
        Ok(())
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the recipe has no file.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `LD_LIBRARY_PATH` for the image: the folders the libraries were found in (an image has no
    /// `ld.so.cache`).
    pub fn library_path(&self) -> String {
        self.lib_dirs
            .iter()
            .map(|d| d.to_string_lossy())
            .collect::<Vec<_>>()
            .join(":")
    }

    /// The content hash and the image's root file system as a tar (every file at its path in the
    /// image, parent folders made by the daemon), read once.
    pub fn rootfs(&self) -> Result<(String, Vec<u8>), String> {
        let mut hasher = Sha256::new();
        let mut builder = tar::Builder::new(Vec::new());
        builder.mode(tar::HeaderMode::Deterministic);
        let mut total = 0u64;
        for entry in &self.entries {
            let mut bytes = Vec::new();
            let mut file = std::fs::File::open(&entry.source)
                .map_err(|e| format!("read {}: {e}", entry.source.display()))?;
            file.read_to_end(&mut bytes)
                .map_err(|e| format!("read {}: {e}", entry.source.display()))?;
            let mode = std::fs::metadata(&entry.source)
                .map_err(|e| format!("read {}: {e}", entry.source.display()))?
                .permissions()
                .mode()
                & 0o7777;
            let target = entry.target.to_string_lossy();
            hasher.update(target.as_bytes());
            hasher.update(mode.to_le_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
            total += bytes.len() as u64;
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(mode);
            header.set_entry_type(tar::EntryType::Regular);
            let path = target.trim_start_matches('/');
            builder
                .append_data(&mut header, path, bytes.as_slice())
                .map_err(|e| format!("pack {target}: {e}"))?;
        }
        hasher.update(self.library_path().as_bytes());
        let tar = builder
            .into_inner()
            .map_err(|e| format!("pack the image's files: {e}"))?;
        let hash = hex::encode(hasher.finalize());
        tracing::debug!(
            files = self.entries.len(),
            bytes = total,
            "image files packed"
        );
        Ok((hash, tar))
    }

    /// The Dockerfile instructions the import applies to the image: the library path (an image
    /// has no `ld.so.cache`) and `labels`.
    pub fn changes(&self, labels: &BTreeMap<String, String>) -> Vec<String> {
        let library_path = self.library_path();
        let mut changes = Vec::new();
        if !library_path.is_empty() {
            changes.push(format!("ENV LD_LIBRARY_PATH={library_path}"));
        }
        changes.extend(
            labels
                .iter()
                .map(|(key, value)| format!("LABEL {key}={value:?}")),
        );
        changes
    }

    /// A cheap stand-in for the content hash: a hash of every file's path, size, modification
    /// time and inode (no file is read). [`remembered`] maps it to the tag built from the same
    /// files, so a warm `up` does not read hundreds of MB to find its images.
    pub fn fingerprint(&self) -> String {
        use std::os::unix::fs::MetadataExt;
        let mut hasher = Sha256::new();
        hasher.update(self.tool.as_bytes());
        for entry in &self.entries {
            hasher.update(entry.target.to_string_lossy().as_bytes());
            if let Ok(m) = std::fs::metadata(&entry.source) {
                hasher.update(m.len().to_le_bytes());
                hasher.update(m.mtime().to_le_bytes());
                hasher.update(m.mtime_nsec().to_le_bytes());
                hasher.update(m.ino().to_le_bytes());
                hasher.update(m.mode().to_le_bytes());
            }
        }
        hex::encode(hasher.finalize())
    }

    /// The tag of the image with content hash `hash`.
    pub fn tag(&self, hash: &str) -> String {
        format!("{LOCAL_REPOSITORY}/{}:{}", self.tool, &hash[..16])
    }
}

/// The tag built earlier from files with this fingerprint, if opdev's cache remembers one.
pub fn remembered(fingerprint: &str) -> Option<String> {
    let path = crate::cache_dir()?.join("images").join(fingerprint);
    let tag = std::fs::read_to_string(path).ok()?;
    let tag = tag.trim();
    tag.starts_with(LOCAL_REPOSITORY).then(|| tag.to_owned())
}

/// Remembers that files with this fingerprint built `tag` (best effort).
pub fn remember(fingerprint: &str, tag: &str) {
    let Some(dir) = crate::cache_dir().map(|d| d.join("images")) else {
        return;
    };
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let tmp = dir.join(format!(".{fingerprint}.{}", std::process::id()));
    if std::fs::write(&tmp, tag).is_ok() {
        let _ = std::fs::rename(&tmp, dir.join(fingerprint));
    }
}

/// PostgreSQL's other programs (`initdb`…) and its data trees, from the path of `postgres`
/// (Debian: `/usr/lib/postgresql/<major>/bin/postgres`, data in `/usr/share/postgresql/<major>`).
fn postgres_installation(binary: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
    let bin = binary
        .parent()
        .ok_or_else(|| format!("{} has no folder", binary.display()))?;
    let mut programs: Vec<PathBuf> = walk(bin)?.into_iter().filter(|p| is_elf(p)).collect();
    // initdb runs `postgres -V` through popen(3), which needs a shell.
    programs.push(PathBuf::from("/bin/sh"));
    let mut trees = Vec::new();
    if let Some(prefix) = bin.parent() {
        let lib = prefix.join("lib");
        if lib.is_dir() {
            trees.push(lib);
        }
        if let Some(major) = prefix.file_name() {
            let share = Path::new("/usr/share/postgresql").join(major);
            if share.is_dir() {
                trees.push(share);
            }
        }
    }
    let zoneinfo = PathBuf::from("/usr/share/zoneinfo");
    if zoneinfo.is_dir() {
        trees.push(zoneinfo);
    }
    Ok((programs, trees))
}

/// Regular files under `dir` (symlinks to files included), skipping PostgreSQL's LLVM JIT
/// (hundreds of MB of LLVM for an optional feature).
fn walk(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let read = std::fs::read_dir(&d).map_err(|e| format!("read {}: {e}", d.display()))?;
        for entry in read.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("llvmjit") || name == "bitcode" {
                continue;
            }
            let Ok(meta) = std::fs::metadata(&path) else {
                continue; // a dangling link
            };
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn is_elf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_brings_its_loader_and_libraries_and_hashes_stably() {
        let sh = Path::new("/bin/sh");
        let recipe = Recipe::for_program("sh", sh).unwrap();
        let targets: Vec<String> = recipe
            .entries
            .iter()
            .map(|e| e.target.to_string_lossy().into_owned())
            .collect();
        assert!(targets.iter().any(|t| t == "/bin/sh"), "{targets:?}");
        assert!(
            targets.iter().any(|t| t.contains("ld-linux")),
            "{targets:?}"
        );
        assert!(targets.iter().any(|t| t.contains("libc.so")), "{targets:?}");
        let (a, tar) = recipe.rootfs().unwrap();
        let (b, _) = recipe.rootfs().unwrap();
        assert_eq!(a, b, "same files, same hash");
        assert!(recipe.tag(&a).starts_with("opdev-local/sh:"));
        let mut archive = tar::Archive::new(tar.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names.contains(&"bin/sh".to_owned()), "{names:?}");
        let labels = BTreeMap::from([("opdev.image".to_owned(), "sh".to_owned())]);
        let changes = recipe.changes(&labels);
        assert!(
            changes[0].starts_with("ENV LD_LIBRARY_PATH=/"),
            "{changes:?}"
        );
        assert_eq!(changes[1], r#"LABEL opdev.image="sh""#);
    }

    #[test]
    fn a_mounted_program_brings_its_libraries_but_not_itself() {
        let sh = Path::new("/bin/sh");
        let alone = Recipe::for_program("sh", sh).unwrap();
        // A program run from a mount (`bridge-deploy` runs the host's anvil): its libraries go in,
        // the program does not; the same libraries again change nothing, not even the tag.
        let mounted = Recipe::for_program("true", Path::new("/bin/true"))
            .unwrap()
            .with_libraries_of(sh)
            .unwrap();
        let targets: Vec<&Path> = mounted.entries.iter().map(|e| e.target.as_path()).collect();
        assert!(targets.contains(&Path::new("/bin/true")), "{targets:?}");
        assert!(!targets.contains(&sh), "{targets:?}");
        assert!(
            targets
                .iter()
                .any(|t| t.to_string_lossy().contains("libc.so"))
        );
        let again = alone.clone().with_libraries_of(sh).unwrap();
        assert_eq!(again.entries, alone.entries, "its own program stays");
        assert_eq!(again.rootfs().unwrap().0, alone.rootfs().unwrap().0);
        // Folders and data files among the mounts add nothing.
        let dirs = alone
            .clone()
            .with_libraries_of(Path::new("/etc"))
            .unwrap()
            .with_libraries_of(Path::new("/etc/passwd"))
            .unwrap();
        assert_eq!(dirs.entries, alone.entries);
        // A setup program comes with its libraries.
        let with_setup = Recipe::for_program("true", Path::new("/bin/true"))
            .unwrap()
            .with_program(sh)
            .unwrap();
        assert!(with_setup.entries.iter().any(|e| e.target == sh));
    }

    #[test]
    fn a_missing_program_is_named() {
        let err = Recipe::for_program("x", Path::new("/nonexistent/x")).unwrap_err();
        assert!(err.contains("/nonexistent/x"), "{err}");
    }
}
