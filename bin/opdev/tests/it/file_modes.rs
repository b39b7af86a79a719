//! Every file and folder opdev or its services write in a devnet folder is private to the user:
//! folders 0700, files 0600 (no bit for group or others on anything). Checked on a devnet that
//! ran with all its services (anvil L1 and L2, PostgreSQL, indexer, faucet, explorer, exporter,
//! Prometheus, Alertmanager), used, and stopped — its whole folder walked.

use std::{os::unix::fs::PermissionsExt, path::Path, time::Duration};

use crate::support::{Env, eventually};

fn walk(dir: &Path, found: &mut Vec<(String, u32, bool)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.file_type().is_symlink() {
            continue;
        }
        found.push((path.display().to_string(), mode, meta.is_dir()));
        if meta.is_dir() {
            walk(&path, found);
        }
    }
}

#[tokio::test]
async fn every_file_is_0600_and_every_folder_0700() {
    let env = Env::new("modes");
    env.ok(&["up", "-q", "--ports", "auto"]);
    let status = env.status();
    let names: Vec<&str> = status["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for service in [
        "l1",
        "l2-1",
        "postgres",
        "indexer",
        "faucet",
        "explorer",
        "exporter",
        "prometheus",
        "alertmanager",
    ] {
        assert!(names.contains(&service), "{service} runs: {names:?}");
    }
    // Use it: a claim (the faucet and the indexer write), and wait until Prometheus has scraped
    // and written its WAL.
    env.ok(&["faucet", "0xabCdEf0000000000000000000000000000C0FfEe"]);
    let wal = env.devnet_dir().join("data/prometheus");
    let scraped = eventually(30, async || {
        let mut found = Vec::new();
        walk(&wal, &mut found);
        found.iter().any(|(p, _, dir)| !dir && p.contains("/wal/"))
    })
    .await;
    assert!(scraped, "Prometheus wrote its WAL");
    tokio::time::sleep(Duration::from_secs(1)).await;
    env.ok(&["down"]);

    let mut found = Vec::new();
    let root = env.devnet_dir();
    let root_mode = std::fs::metadata(&root).unwrap().permissions().mode() & 0o777;
    found.push((root.display().to_string(), root_mode, true));
    walk(&root, &mut found);
    assert!(found.len() > 30, "{} entries", found.len());
    let loose: Vec<String> = found
        .iter()
        .filter(|(_, mode, dir)| if *dir { *mode != 0o700 } else { *mode != 0o600 })
        .map(|(p, mode, dir)| format!("{} {mode:o} {p}", if *dir { "dir " } else { "file" }))
        .collect();
    assert!(loose.is_empty(), "not private:\n{}", loose.join("\n"));
    for must in [
        "logs/supervisor.log",
        "data/prometheus",
        "data/alertmanager",
    ] {
        assert!(
            found.iter().any(|(p, _, _)| p.ends_with(must)),
            "{must} was checked"
        );
    }
}
