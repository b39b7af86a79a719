//! The full profile's OP Stack programs: op-geth, op-node, op-batcher and op-proposer, built from
//! their Go modules on first use. `opstack-go/` in the repo is a Go module of ours (go.mod and
//! go.sum only) that pins the monorepo and op-geth; both files are embedded in opdev, so an
//! installed opdev builds without the repo. A build writes the module to
//! `<cache>/opstack-go-<key>/src/`, runs `go build` once per missing program with private Go
//! caches under the same folder, moves the programs into `bin/`, and then deletes those caches,
//! so what stays on disk is the four programs. `<key>` hashes the module files and the build
//! recipe: while they are unchanged, the programs are never built again.

use std::{
    collections::{BTreeMap, VecDeque},
    io::{BufRead, BufReader, Write},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use opdev_spec::versions::{OP_GETH, OPTIMISM};
use sha2::{Digest, Sha256};

use crate::{
    Error, lock,
    tools::{Origin, Resolved, cache_dir, check_executable},
};

/// `opstack-go/go.mod`.
pub const GO_MOD: &str = include_str!("../../../opstack-go/go.mod");
/// `opstack-go/go.sum`.
pub const GO_SUM: &str = include_str!("../../../opstack-go/go.sum");

/// The oldest Go that builds the module (its `go` line and its `tool` block need 1.24).
pub const MIN_GO: (u32, u32) = (1, 24);

/// The `--binary` flags that give the programs instead of building them.
pub const BINARY_FLAGS: &str =
    "--binary op-geth=PATH,op-node=PATH,op-batcher=PATH,op-proposer=PATH";

/// One program opdev builds: its name (also the `--binary` key), its Go main package, and the
/// variables its upstream Makefile sets with `-X` to stamp the version it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Program {
    /// The name of the executable and of the service kind (`--binary op-node=PATH`).
    pub name: &'static str,
    /// The main package `go build` compiles.
    pub package: &'static str,
    /// The pinned version it is built at.
    pub version: &'static str,
    /// Variables set to [`Program::version`].
    pub version_vars: &'static [&'static str],
    /// Variables set to "" (op-node's `Meta`, "dev" by default).
    pub cleared_vars: &'static [&'static str],
}

impl Program {
    /// `-ldflags` of its `go build`: stripped of the symbol table (the panic traces keep their
    /// file and line), linked with `-checklinkname=0`, since Go 1.23 refuses op-geth
    /// v1.101315's dependency github.com/fjl/memsize, which reaches into the runtime with
    /// `go:linkname`, and stamped with its version.
    pub fn ldflags(&self) -> String {
        let mut flags = String::from("-ldflags=-s -w -checklinkname=0");
        for var in self.version_vars {
            flags.push_str(&format!(" -X {var}={}", self.version));
        }
        for var in self.cleared_vars {
            flags.push_str(&format!(" -X {var}="));
        }
        flags
    }
}

/// The programs, in build order (op-geth last: most of it is compiled by then, for op-node).
pub const PROGRAMS: [Program; 4] = [
    Program {
        name: "op-node",
        package: "github.com/ethereum-optimism/optimism/op-node/cmd",
        version: OPTIMISM.version,
        version_vars: &["github.com/ethereum-optimism/optimism/op-node/version.Version"],
        cleared_vars: &["github.com/ethereum-optimism/optimism/op-node/version.Meta"],
    },
    Program {
        name: "op-batcher",
        package: "github.com/ethereum-optimism/optimism/op-batcher/cmd",
        version: OPTIMISM.version,
        version_vars: &["main.Version"],
        cleared_vars: &[],
    },
    Program {
        name: "op-proposer",
        package: "github.com/ethereum-optimism/optimism/op-proposer/cmd",
        version: OPTIMISM.version,
        version_vars: &["main.Version"],
        cleared_vars: &[],
    },
    Program {
        name: "op-geth",
        package: "github.com/ethereum/go-ethereum/cmd/geth",
        version: OP_GETH.version,
        version_vars: &["github.com/ethereum/go-ethereum/params.gitTag"],
        cleared_vars: &[],
    },
];

/// `go build`'s flags besides `-ldflags` (`-v` names each package as it is compiled: progress).
const BUILD_ARGS: &[&str] = &["-v", "-trimpath"];

/// The environment of `go build` besides the caches: static programs (no C toolchain needed,
/// and a Docker image of the program needs no libraries), the Go on the machine and no other,
/// no go.work of the user, and module-cache files opdev can delete afterwards.
const BUILD_ENV: &[(&str, &str)] = &[
    ("CGO_ENABLED", "0"),
    ("GOTOOLCHAIN", "local"),
    ("GOWORK", "off"),
    ("GOFLAGS", "-modcacherw"),
];

/// The name prefix of Go's caches while they are deleted after a build.
const DISCARDED: &str = "go.deleting-";

/// How often a long build says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(30);

/// How many of the build's last output lines an error shows.
const TAIL_LINES: usize = 20;

/// The four programs, each found or built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpStackPrograms {
    /// op-geth (the execution client).
    pub op_geth: Resolved,
    /// op-node (the rollup node).
    pub op_node: Resolved,
    /// op-batcher.
    pub op_batcher: Resolved,
    /// op-proposer.
    pub op_proposer: Resolved,
}

/// The cache key of the module files and the build recipe: 16 hex digits of their SHA-256.
pub fn module_key() -> String {
    let mut hash = Sha256::new();
    for part in [GO_MOD, GO_SUM] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    for part in BUILD_ARGS {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    for program in PROGRAMS {
        for part in [program.name, program.package, &program.ldflags()] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
    }
    for (key, value) in BUILD_ENV {
        hash.update(format!("{key}={value}").as_bytes());
        hash.update([0]);
    }
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The Go command: `go` on PATH, else the official tarball's `/usr/local/go/bin/go`.
pub fn find_go() -> Option<PathBuf> {
    which::which("go").ok().or_else(|| {
        let path = PathBuf::from("/usr/local/go/bin/go");
        check_executable("go", &path).ok().map(|()| path)
    })
}

/// A flag only `program`'s `--help` lists: how a `--binary` of the wrong program is told apart.
pub fn marker_flag(program: &str) -> Option<&'static str> {
    Some(match program {
        "op-geth" => "--rollup.sequencerhttp",
        "op-node" => "--rollup.config",
        "op-batcher" => "--max-channel-duration",
        "op-proposer" => "--game-factory-address",
        _ => return None,
    })
}

/// Checks that `path` is an executable `program` (one of [`PROGRAMS`]): its `--help` (run with
/// a 10 s limit) lists the program's [`marker_flag`].
pub fn check_program(program: &str, path: &Path) -> Result<(), Error> {
    check_executable(&format!("{program} binary"), path)?;
    let Some(marker) = marker_flag(program) else {
        return Ok(());
    };
    let err = |reason: String| Error::Binary {
        what: format!("{program} binary"),
        path: path.into(),
        reason,
    };
    let mut child = Command::new(path)
        .arg("--help")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(format!("it does not run: {e}")))?;
    let (mut out, mut errs) = (child.stdout.take(), child.stderr.take());
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(out) = out.as_mut() {
            let _ = std::io::Read::read_to_string(out, &mut text);
        }
        if let Some(errs) = errs.as_mut() {
            let _ = std::io::Read::read_to_string(errs, &mut text);
        }
        text
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().ok().flatten().is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(err("its --help did not finish within 10 s".into()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let help = reader.join().unwrap_or_default();
    if help.contains(marker) {
        return Ok(());
    }
    let other = PROGRAMS
        .iter()
        .find(|p| p.name != program && marker_flag(p.name).is_some_and(|m| help.contains(m)))
        .map(|p| format!(" (it looks like {})", p.name))
        .unwrap_or_default();
    Err(err(format!(
        "it is not {program}: its --help does not list {marker}{other}"
    )))
}

/// op-geth, op-node, op-batcher and op-proposer: each from the user's `--binary NAME=PATH` when
/// given, else from opdev's cache, else built now with Go into the cache (under a lock, so
/// parallel `up`s build once). `note` hears what is built where and how far it got.
pub fn op_stack(
    user: &BTreeMap<String, PathBuf>,
    note: impl FnMut(&str),
) -> Result<OpStackPrograms, Error> {
    let mut found = BTreeMap::new();
    for program in PROGRAMS {
        if let Some(path) = user.get(program.name) {
            check_program(program.name, path)?;
            found.insert(
                program.name,
                Resolved {
                    path: path.clone(),
                    origin: Origin::User,
                },
            );
        }
    }
    if found.len() < PROGRAMS.len() {
        let module = GoModule::in_cache(&cache_dir()?);
        let wanted: Vec<Program> = PROGRAMS
            .into_iter()
            .filter(|p| !found.contains_key(p.name))
            .collect();
        found.extend(module.ensure(find_go().as_deref(), &wanted, &[], note)?);
    }
    let mut take = |name: &str| {
        found.remove(name).ok_or_else(|| Error::ToolMissing {
            tool: name.into(),
            reason: "it was neither given nor built".into(),
        })
    };
    Ok(OpStackPrograms {
        op_geth: take("op-geth")?,
        op_node: take("op-node")?,
        op_batcher: take("op-batcher")?,
        op_proposer: take("op-proposer")?,
    })
}

/// The build folder of one version of the module: `src/` (go.mod, go.sum), `bin/` (the
/// programs), `build.log` (the last build's output) and, during a build, `go/` (Go's caches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoModule {
    dir: PathBuf,
}

impl GoModule {
    /// The folder for the embedded module inside opdev's cache folder `cache`.
    pub fn in_cache(cache: &Path) -> Self {
        Self {
            dir: cache.join(format!("opstack-go-{}", module_key())),
        }
    }

    /// The build folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the built `name` lives.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.dir.join("bin").join(name)
    }

    /// The log of the last build.
    pub fn log(&self) -> PathBuf {
        self.dir.join("build.log")
    }

    /// `programs` from the cache, building those that are missing with `go` (None: no Go on
    /// this machine). `env` is added to the build's environment (tests point GOPROXY elsewhere).
    pub fn ensure(
        &self,
        go: Option<&Path>,
        programs: &[Program],
        env: &[(&str, &str)],
        mut note: impl FnMut(&str),
    ) -> Result<BTreeMap<&'static str, Resolved>, Error> {
        let cached = |p: &Program| self.bin(p.name).is_file();
        if programs.iter().all(cached) {
            return Ok(self.resolved(programs, &[]));
        }
        let go = go.ok_or_else(|| Error::ToolMissing {
            tool: "go".into(),
            reason: format!(
                "opdev builds {} with Go, and there is no `go` on PATH (nor \
                 /usr/local/go/bin/go)",
                names(programs)
            ),
        })?;
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        // One builder at a time; whoever waited finds the programs there afterwards.
        let lock_path = self.dir.with_extension("lock");
        let mut waited = false;
        let _guard = loop {
            match lock::try_lock(&lock_path)? {
                Some(guard) => break guard,
                None => {
                    if !waited {
                        note(&format!(
                            "waiting for another opdev that is building the OP Stack programs in {}",
                            self.dir.display()
                        ));
                        waited = true;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        };
        let missing: Vec<Program> = programs.iter().filter(|p| !cached(p)).copied().collect();
        if missing.is_empty() {
            return Ok(self.resolved(programs, &[]));
        }
        let version = go_version(go)?;
        self.build(go, &version, &missing, env, &mut note)?;
        let built: Vec<&str> = missing.iter().map(|p| p.name).collect();
        Ok(self.resolved(programs, &built))
    }

    fn resolved(&self, programs: &[Program], built: &[&str]) -> BTreeMap<&'static str, Resolved> {
        programs
            .iter()
            .map(|p| {
                let origin = if built.contains(&p.name) {
                    Origin::Installed
                } else {
                    Origin::Cache
                };
                (
                    p.name,
                    Resolved {
                        path: self.bin(p.name),
                        origin,
                    },
                )
            })
            .collect()
    }

    /// Builds `missing` (the caller holds the lock).
    fn build(
        &self,
        go: &Path,
        go_version: &str,
        missing: &[Program],
        env: &[(&str, &str)],
        note: &mut impl FnMut(&str),
    ) -> Result<(), Error> {
        let src = self.dir.join("src");
        let out = self.dir.join("out");
        let bin = self.dir.join("bin");
        let caches = self.dir.join("go");
        for dir in [&src, &out, &bin] {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        // Caches an earlier build was still deleting when its opdev ended.
        for entry in std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))? {
            let path = entry.map_err(|e| Error::io(&self.dir, e))?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.starts_with(DISCARDED) {
                std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        for (name, text) in [("go.mod", GO_MOD), ("go.sum", GO_SUM)] {
            let path = src.join(name);
            std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        }
        let log_path = self.log();
        let mut log = std::fs::File::create(&log_path).map_err(|e| Error::io(&log_path, e))?;
        let started = Instant::now();
        note(&format!(
            "building {} with {go_version} into {} (once per version: it downloads about 190 Go \
             modules and compiles for some 5 CPU-minutes)",
            names(missing),
            bin.display()
        ));
        for (i, program) in missing.iter().enumerate() {
            let target = out.join(program.name);
            let mut command = Command::new(go);
            command
                .arg("build")
                .args(BUILD_ARGS)
                .arg(program.ldflags())
                .arg("-o")
                .arg(&target)
                .arg(program.package)
                .current_dir(&src)
                .env("GOMODCACHE", caches.join("mod"))
                .env("GOCACHE", caches.join("cache"))
                .env("GOPATH", &caches)
                .envs(BUILD_ENV.iter().copied())
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            let _ = writeln!(log, "== go build {} ({})", program.package, program.name);
            let failed = |reason: String, tail: Vec<String>| Error::Build {
                what: program.name.into(),
                reason,
                log: log_path.clone(),
                tail,
            };
            let mut child = command
                .spawn()
                .map_err(|e| failed(format!("{} did not start: {e}", go.display()), vec![]))?;
            let mut tail = VecDeque::with_capacity(TAIL_LINES);
            let (mut packages, mut downloads) = (0usize, 0usize);
            let mut last_note = Instant::now();
            if let Some(stderr) = child.stderr.take() {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let _ = writeln!(log, "{line}");
                    if line.starts_with("go: downloading ") {
                        downloads += 1;
                    } else if !line.contains(' ') {
                        packages += 1;
                    }
                    if tail.len() == TAIL_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                    if last_note.elapsed() >= PROGRESS_EVERY {
                        note(&format!(
                            "building {} ({}/{}): {packages} packages compiled, {downloads} \
                             modules downloaded, {} elapsed",
                            program.name,
                            i + 1,
                            missing.len(),
                            seconds(started.elapsed())
                        ));
                        last_note = Instant::now();
                    }
                }
            }
            let status = child
                .wait()
                .map_err(|e| failed(format!("waiting for go build: {e}"), vec![]))?;
            if !status.success() {
                return Err(failed(format!("`go build` {status}"), tail.into()));
            }
            check_executable(&format!("built {}", program.name), &target)?;
            let dest = bin.join(program.name);
            std::fs::rename(&target, &dest).map_err(|e| Error::io(&dest, e))?;
        }
        // The programs are in bin/; Go's caches would only serve a rebuild of this same version.
        std::fs::remove_dir_all(&out).map_err(|e| Error::io(&out, e))?;
        self.discard(&caches)?;
        note(&format!(
            "built {} in {}",
            names(missing),
            seconds(started.elapsed())
        ));
        Ok(())
    }
}

impl GoModule {
    /// Deletes Go's caches after a build without waiting: they hold tens of thousands of files,
    /// which took two minutes to delete on a busy two-core machine. The folder is renamed first
    /// (so `go/` is gone at once) and deleted by an `rm -rf` in its own process group, which
    /// outlives opdev; a rename the next build still finds is deleted then.
    fn discard(&self, caches: &Path) -> Result<(), Error> {
        let trash = self.dir.join(format!("{DISCARDED}{}", std::process::id()));
        std::fs::rename(caches, &trash).map_err(|e| Error::io(caches, e))?;
        let spawned = Command::new("rm")
            .arg("-rf")
            .arg(&trash)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if spawned.is_err() {
            std::fs::remove_dir_all(&trash).map_err(|e| Error::io(&trash, e))?;
        }
        Ok(())
    }
}

/// `go env GOVERSION` (e.g. `go1.26.8`), checked against [`MIN_GO`].
fn go_version(go: &Path) -> Result<String, Error> {
    let missing = |reason: String| Error::ToolMissing {
        tool: "go".into(),
        reason,
    };
    let output = Command::new(go)
        .args(["env", "GOVERSION"])
        .env("GOTOOLCHAIN", "local")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| missing(format!("{} did not run: {e}", go.display())))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || version.is_empty() {
        return Err(missing(format!(
            "`{} env GOVERSION` failed: {}",
            go.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    match parse_go_version(&version) {
        Some(v) if v < MIN_GO => Err(missing(format!(
            "{} is {version}; the OP Stack module needs Go {}.{} or newer",
            go.display(),
            MIN_GO.0,
            MIN_GO.1
        ))),
        _ => Ok(version),
    }
}

/// (major, minor) of `go1.26.8`, `go1.24rc1`, `go1.25`; None for development builds.
fn parse_go_version(version: &str) -> Option<(u32, u32)> {
    let rest = version.strip_prefix("go")?;
    let mut parts = rest.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

fn names(programs: &[Program]) -> String {
    programs
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn seconds(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use base64::Engine;

    use super::*;

    const OPTIMISM_MODULE: &str = "github.com/ethereum-optimism/optimism";

    /// What `replace github.com/ethereum/go-ethereum => …` says in optimism v1.7.7's own go.mod
    /// (read from the Go module proxy's copy when the pin was chosen), and that go.mod's hash,
    /// which go.sum also records: the test reads the file itself when a module cache has it.
    const UPSTREAM_REPLACE: &str = "github.com/ethereum-optimism/op-geth v1.101315.2-rc.1";
    const UPSTREAM_GO_MOD_HASH: &str = "h1:niB7vsxZCKyzUiSgbD2RKW00Go9ciKOsk5a1bkKSYm8=";

    /// The right-hand side of `replace github.com/ethereum/go-ethereum [version] => …` in go.mod.
    fn geth_replace(go_mod: &str) -> Option<String> {
        go_mod.lines().find_map(|line| {
            let rest = line
                .trim()
                .strip_prefix("replace github.com/ethereum/go-ethereum ")?;
            let (_, target) = rest.split_once("=>")?;
            Some(target.split_whitespace().collect::<Vec<_>>().join(" "))
        })
    }

    /// The version a go.mod requires of `module` (in a `require` block or line).
    fn required(go_mod: &str, module: &str) -> Option<String> {
        go_mod.lines().find_map(|line| {
            let line = line.trim().strip_prefix("require ").unwrap_or(line.trim());
            let mut words = line.split_whitespace();
            (words.next() == Some(module)).then(|| words.next().map(str::to_owned))?
        })
    }

    /// go.sum's hash of `module@version`'s go.mod.
    fn go_mod_hash_in_go_sum(module: &str, version: &str) -> Option<String> {
        let prefix = format!("{module} {version}/go.mod ");
        GO_SUM
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
    }

    /// Go's `h1:` hash of a go.mod file (dirhash.Hash1 over the one file named `go.mod`).
    fn h1_of_go_mod(data: &[u8]) -> String {
        let file: String = Sha256::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let summary = Sha256::digest(format!("{file}  go.mod\n").as_bytes());
        format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode(summary)
        )
    }

    /// The module caches on this machine that could hold upstream's go.mod (none is fine).
    fn module_caches() -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        if let Some(dir) = std::env::var_os("GOMODCACHE") {
            dirs.push(PathBuf::from(dir));
        }
        if let Some(go) = find_go() {
            let out = Command::new(go)
                .args(["env", "GOMODCACHE"])
                .env("GOTOOLCHAIN", "local")
                .output()
                .ok()
                .filter(|o| o.status.success());
            if let Some(out) = out {
                let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                if !dir.is_empty() {
                    dirs.push(PathBuf::from(dir));
                }
            }
        }
        if let Some(home) = std::env::var_os("HOME") {
            dirs.push(PathBuf::from(home).join("go/pkg/mod"));
        }
        dirs
    }

    #[test]
    fn go_mod_pins_the_versions_of_the_table() {
        assert_eq!(
            required(GO_MOD, OPTIMISM_MODULE).as_deref(),
            Some(OPTIMISM.version),
            "opstack-go/go.mod must require {OPTIMISM_MODULE} {}",
            OPTIMISM.version
        );
        assert_eq!(
            geth_replace(GO_MOD),
            Some(format!(
                "github.com/ethereum-optimism/op-geth {}",
                OP_GETH.version
            )),
            "opstack-go/go.mod must replace go-ethereum with op-geth {}",
            OP_GETH.version
        );
        assert!(GO_MOD.contains("\ngo 1.24\n"), "MIN_GO follows the go line");
        let tools = GO_MOD
            .split_once("tool (")
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(block, _)| block)
            .expect("a tool block");
        let mut listed: Vec<&str> = tools.split_whitespace().collect();
        let mut built: Vec<&str> = PROGRAMS.iter().map(|p| p.package).collect();
        listed.sort_unstable();
        built.sort_unstable();
        assert_eq!(
            listed, built,
            "the tool block names exactly the programs built"
        );
        for (module, version) in [
            (OPTIMISM_MODULE, OPTIMISM.version),
            ("github.com/ethereum-optimism/op-geth", OP_GETH.version),
        ] {
            assert!(
                GO_SUM.contains(&format!("{module} {version} h1:")),
                "go.sum lacks {module} {version}"
            );
        }
    }

    #[test]
    fn replace_repeats_the_one_of_the_pinned_monorepo() {
        assert_eq!(
            go_mod_hash_in_go_sum(OPTIMISM_MODULE, OPTIMISM.version).as_deref(),
            Some(UPSTREAM_GO_MOD_HASH),
            "go.sum records another go.mod of {OPTIMISM_MODULE} {}: update UPSTREAM_*",
            OPTIMISM.version
        );
        let relative = format!(
            "cache/download/{OPTIMISM_MODULE}/@v/{}.mod",
            OPTIMISM.version
        );
        let upstream = module_caches()
            .into_iter()
            .map(|dir| dir.join(&relative))
            .find_map(|path| std::fs::read(path).ok());
        let expected = match upstream {
            // A module cache has upstream's go.mod: check it is the file go.sum names, and read
            // its replace.
            Some(data) => {
                assert_eq!(h1_of_go_mod(&data), UPSTREAM_GO_MOD_HASH);
                geth_replace(&String::from_utf8_lossy(&data)).expect("upstream replaces geth")
            }
            None => UPSTREAM_REPLACE.to_owned(),
        };
        assert_eq!(expected, UPSTREAM_REPLACE);
        assert_eq!(geth_replace(GO_MOD).as_deref(), Some(UPSTREAM_REPLACE));
    }

    #[test]
    fn hash_of_go_mod_is_gos() {
        // `go mod download -json golang.org/x/text@v0.3.0` reports this GoModSum for the go.mod
        // the proxy serves for that version (it has none of its own), this one line.
        let go_mod = b"module golang.org/x/text\n";
        assert_eq!(
            h1_of_go_mod(go_mod),
            "h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ="
        );
    }

    #[test]
    fn go_versions_are_parsed() {
        assert_eq!(parse_go_version("go1.26.8"), Some((1, 26)));
        assert_eq!(parse_go_version("go1.24rc1"), Some((1, 24)));
        assert_eq!(parse_go_version("go1.25"), Some((1, 25)));
        assert_eq!(parse_go_version("devel go1.27-abcdef"), None);
        assert!(parse_go_version("go1.22.3").unwrap() < MIN_GO);
    }

    #[test]
    fn version_is_stamped_into_each_program() {
        let op_node = PROGRAMS.iter().find(|p| p.name == "op-node").unwrap();
        assert_eq!(
            op_node.ldflags(),
            format!(
                "-ldflags=-s -w -checklinkname=0 -X \
                 github.com/ethereum-optimism/optimism/op-node/version.Version={} -X \
                 github.com/ethereum-optimism/optimism/op-node/version.Meta=",
                OPTIMISM.version
            )
        );
        let geth = PROGRAMS.iter().find(|p| p.name == "op-geth").unwrap();
        assert!(
            geth.ldflags()
                .ends_with(&format!("params.gitTag={}", OP_GETH.version))
        );
    }

    #[test]
    fn key_names_one_folder_per_module_version() {
        let key = module_key();
        assert_eq!(key.len(), 16);
        assert!(key.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(key, module_key());
        let module = GoModule::in_cache(Path::new("/c"));
        assert_eq!(module.dir(), Path::new(&format!("/c/opstack-go-{key}")));
        assert_eq!(
            module.bin("op-node"),
            PathBuf::from(format!("/c/opstack-go-{key}/bin/op-node"))
        );
    }

    #[test]
    fn without_go_the_error_says_what_to_install_or_give() {
        let cache = tempfile::tempdir().unwrap();
        let module = GoModule::in_cache(cache.path());
        let err = module.ensure(None, &PROGRAMS, &[], |_| {}).unwrap_err();
        assert!(
            matches!(&err, Error::ToolMissing { tool, .. } if tool == "go"),
            "{err}"
        );
        assert_eq!(err.exit_code(), crate::ExitCode::ToolMissing);
        let hint = err.hint().unwrap();
        assert!(hint.contains("https://go.dev/dl/"), "{hint}");
        assert!(hint.contains(BINARY_FLAGS), "{hint}");
        assert!(
            !module.dir().exists(),
            "nothing is written when nothing can be built"
        );
    }

    #[test]
    fn built_programs_are_used_without_go() {
        let cache = tempfile::tempdir().unwrap();
        let module = GoModule::in_cache(cache.path());
        std::fs::create_dir_all(module.dir().join("bin")).unwrap();
        for p in PROGRAMS {
            std::fs::copy("/bin/true", module.bin(p.name)).unwrap();
        }
        let found = module.ensure(None, &PROGRAMS, &[], |_| {}).unwrap();
        assert_eq!(found.len(), 4);
        for p in PROGRAMS {
            assert_eq!(found[p.name].origin, Origin::Cache);
            assert_eq!(found[p.name].path, module.bin(p.name));
        }
    }

    #[test]
    fn caches_are_deleted_in_the_background() {
        let cache = tempfile::tempdir().unwrap();
        let module = GoModule::in_cache(cache.path());
        let caches = module.dir().join("go");
        std::fs::create_dir_all(caches.join("mod/a/b")).unwrap();
        std::fs::write(caches.join("mod/a/b/file"), "x").unwrap();
        module.discard(&caches).unwrap();
        assert!(!caches.exists(), "go/ is gone at once");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::read_dir(module.dir()).unwrap().next().is_some() {
            assert!(Instant::now() < deadline, "rm -rf did not finish");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn given_binaries_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("op-node");
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        let user = BTreeMap::from([("op-node".to_owned(), file.clone())]);
        let err = op_stack(&user, |_| {}).unwrap_err();
        assert!(err.to_string().contains("not executable"), "{err}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        // An executable that is not op-node: its --help lacks op-node's own flag.
        let err = op_stack(&user, |_| {}).unwrap_err();
        assert!(err.to_string().contains("it is not op-node"), "{err}");
        // A stand-in whose --help lists every program's flag passes as each of them.
        let flags: Vec<&str> = PROGRAMS
            .iter()
            .filter_map(|p| marker_flag(p.name))
            .collect();
        std::fs::write(&file, format!("#!/bin/sh\necho '{}'\n", flags.join(" "))).unwrap();
        let user: BTreeMap<String, PathBuf> = PROGRAMS
            .iter()
            .map(|p| (p.name.to_owned(), file.clone()))
            .collect();
        let found = op_stack(&user, |_| panic!("nothing to build")).unwrap();
        assert_eq!(found.op_proposer.origin, Origin::User);
        assert_eq!(found.op_geth.path, file);
    }

    #[test]
    #[allow(clippy::disallowed_macros, reason = "a skipped test says why")]
    fn the_real_programs_pass_their_own_check_and_fail_each_others() {
        let module = GoModule::in_cache(&crate::tools::cache_dir().unwrap());
        if !PROGRAMS.iter().all(|p| module.bin(p.name).exists()) {
            eprintln!("the OP Stack programs are not built on this machine: skipped");
            return;
        }
        for program in PROGRAMS {
            check_program(program.name, &module.bin(program.name)).unwrap();
            for other in PROGRAMS.iter().filter(|o| o.name != program.name) {
                let err = check_program(other.name, &module.bin(program.name)).unwrap_err();
                assert!(
                    err.to_string()
                        .contains(&format!("looks like {}", program.name)),
                    "{err}"
                );
            }
        }
    }
}
