//! The pages in a real browser: headless Chromium (`/usr/bin/chromium`, Debian's `chromium`)
//! driven by `playwright-core` (npm, pinned, installed under `target/explorer-browser/` on first
//! use) through `browser.js`. Screenshots are kept in `target/explorer-screenshots/`.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::json;

use crate::support::{self, DEV1, DEV3, L2};

/// The pinned playwright-core.
const PLAYWRIGHT: &str = "playwright-core@1.49.1";

/// `target/` of this build (the test binary is `target/<profile>/deps/<test>`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

fn install_playwright(dir: &Path) {
    if dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return;
    }
    std::fs::create_dir_all(dir).unwrap();
    let out = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--prefix",
        ])
        .arg(dir)
        .arg(PLAYWRIGHT)
        .output()
        .expect("npm runs");
    assert!(
        out.status.success(),
        "npm install {PLAYWRIGHT} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_follows_links_searches_and_takes_screenshots() {
    assert!(
        Path::new("/usr/bin/chromium").is_file(),
        "install Debian's chromium package"
    );
    let target = target_dir();
    let dir = target.join("explorer-browser");
    install_playwright(&dir);
    let script = dir.join("browser.js");
    std::fs::write(&script, include_str!("browser.js")).unwrap();
    let shots = target.join("explorer-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tempfile::tempdir().unwrap();

    let env = support::start().await;
    let f = &env.facts;
    let facts = json!({
        "increment_tx": f.increment_tx, "counter": f.counter, "deposit_tx": f.deposit_tx,
        "deposit_source": f.deposit_source, "dev1": DEV1, "dev3": DEV3,
    });
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(&script)
        .current_dir(&dir)
        .env("BASE", &env.base)
        .env("L2", L2.to_string())
        .env("FACTS", facts.to_string())
        .env("SHOTS", &shots)
        .env("PROFILE", profile.path())
        .kill_on_drop(true);
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
        .await
        .expect("the browser test finishes within 120 s")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser steps failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ok: deposit source hash"), "{stdout}");
    for name in [
        "home",
        "block",
        "transaction",
        "address",
        "search-transaction",
        "deposit",
    ] {
        let png = shots.join(format!("{name}.png"));
        let len = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "screenshot {} missing", png.display());
    }
}
