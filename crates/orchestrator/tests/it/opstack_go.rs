//! The full profile's OP Stack programs, built for real with the Go on this machine into opdev's
//! cache. The first run downloads the Go modules and compiles op-geth, op-node, op-batcher and
//! op-proposer (minutes); later runs find them in the cache. Without Go these tests say so and
//! return.

use std::{collections::BTreeMap, path::Path, process::Command, time::Instant};

use opdev_orchestrator::{
    Error,
    opstack_go::{GoModule, PROGRAMS, find_go, op_stack},
    tools::Origin,
};
use opdev_spec::versions::{OP_GETH, OPTIMISM};

/// The Go on this machine, or None after saying that the test is skipped.
#[allow(clippy::disallowed_macros, reason = "a skipped test says why")]
fn go_or_skip(test: &str) -> Option<std::path::PathBuf> {
    let go = find_go();
    if go.is_none() {
        eprintln!("{test}: skipped, there is no Go on this machine (https://go.dev/dl/)");
    }
    go
}

/// `program args…`'s stdout and stderr.
fn run(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {out:?}",
        program.display()
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
#[allow(
    clippy::disallowed_macros,
    reason = "the build's progress, shown with --nocapture"
)]
fn builds_the_four_programs_once() {
    if go_or_skip("builds_the_four_programs_once").is_none() {
        return;
    }
    let mut notes = Vec::new();
    let started = Instant::now();
    let first = op_stack(&BTreeMap::new(), |n| {
        eprintln!("{n}");
        notes.push(n.to_owned());
    })
    .unwrap();
    let first_took = started.elapsed();
    let all = [
        &first.op_geth,
        &first.op_node,
        &first.op_batcher,
        &first.op_proposer,
    ];
    if all.iter().any(|r| r.origin == Origin::Installed) {
        assert!(
            notes.iter().any(|n| n.starts_with("building ")),
            "a build says so: {notes:?}"
        );
        assert!(notes.last().unwrap().starts_with("built "), "{notes:?}");
    }
    let module = GoModule::in_cache(first.op_node.path.parent().unwrap().parent().unwrap());
    assert!(
        !module.dir().join("go").exists(),
        "Go's caches are deleted after the build"
    );

    // The second time nothing is built.
    let started = Instant::now();
    let second = op_stack(&BTreeMap::new(), |n| panic!("built again: {n}")).unwrap();
    for (a, b) in all.iter().zip([
        &second.op_geth,
        &second.op_node,
        &second.op_batcher,
        &second.op_proposer,
    ]) {
        assert_eq!(b.origin, Origin::Cache);
        assert_eq!(a.path, b.path);
    }
    assert!(started.elapsed() < first_took.max(std::time::Duration::from_secs(1)));

    // Each reports the pinned version and has the flags the full profile relies on.
    let geth = run(&second.op_geth.path, &["version"]);
    assert!(
        geth.contains(&format!(
            "Version: {}",
            OP_GETH.version.trim_start_matches('v')
        )),
        "{geth}"
    );
    for (program, r) in [
        ("op-node", &second.op_node),
        ("op-batcher", &second.op_batcher),
        ("op-proposer", &second.op_proposer),
    ] {
        let version = run(&r.path, &["--version"]);
        assert_eq!(
            version.trim(),
            format!("{program} version {}", OPTIMISM.version)
        );
    }
    let node = run(&second.op_node.path, &["--help"]);
    for flag in [
        "--l1.beacon.ignore",
        "--l1.rpckind",
        "--rollup.config",
        "--l2.jwt-secret",
        "--sequencer.enabled",
    ] {
        assert!(node.contains(flag), "op-node lacks {flag}");
    }
    let batcher = run(&second.op_batcher.path, &["--help"]);
    assert!(batcher.contains("--data-availability-type"));
    let proposer = run(&second.op_proposer.path, &["--help"]);
    for flag in [
        "--game-factory-address",
        "--game-type",
        "--proposal-interval",
    ] {
        assert!(proposer.contains(flag), "op-proposer lacks {flag}");
    }
    let geth_help = run(&second.op_geth.path, &["--help"]);
    for flag in ["--rollup.sequencerhttp", "--authrpc.jwtsecret", "--gcmode"] {
        assert!(geth_help.contains(flag), "op-geth lacks {flag}");
    }
}

#[test]
fn a_failed_build_reports_its_last_lines() {
    let Some(go) = go_or_skip("a_failed_build_reports_its_last_lines") else {
        return;
    };
    // An empty cache and no module proxy: Go cannot fetch the monorepo, a real failure.
    let cache = tempfile::tempdir().unwrap();
    let module = GoModule::in_cache(cache.path());
    // Caches an earlier build left half deleted are deleted when the next build starts.
    let leftover = module.dir().join("go.deleting-1/mod");
    std::fs::create_dir_all(&leftover).unwrap();
    let mut notes = Vec::new();
    let err = module
        .ensure(Some(&go), &PROGRAMS[..1], &[("GOPROXY", "off")], |n| {
            notes.push(n.to_owned())
        })
        .unwrap_err();
    let Error::Build {
        what, log, tail, ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(what, "op-node");
    assert!(
        tail.iter().any(|l| l.contains("GOPROXY=off")),
        "the last lines show Go's reason: {tail:?}"
    );
    assert_eq!(err.details(), tail.as_slice());
    let hint = err.hint().unwrap();
    assert!(hint.contains(&log.display().to_string()), "{hint}");
    assert!(
        std::fs::read_to_string(log)
            .unwrap()
            .contains("GOPROXY=off")
    );
    assert!(!module.bin("op-node").exists());
    assert!(!leftover.exists());
    assert!(
        notes[0].starts_with("building op-node with go1."),
        "{notes:?}"
    );
}
