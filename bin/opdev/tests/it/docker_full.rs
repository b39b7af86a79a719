//! The full profile on the Docker runtime, against a real daemon and with no registry: the L1's
//! anvil, the opdev binary under test and the OP Stack programs opdev built (op-geth, op-node,
//! op-batcher, op-proposer: no pinned image) all run from images built from this machine's files.
//! One devnet with one L2: ready (its safe head advancing) → op-geth's `init` ran in a one-off
//! container, the rollup files and the secrets are read-only mounts, `bridge-deploy` ran the
//! mounted anvil and op-geth, every port is published on 127.0.0.1 only → smoke → `down`/`up`
//! resumes with the L2 head not lower and the images reused → purge leaves no labelled object.

use std::path::Path;

use bollard::{
    models::MountPoint,
    query_parameters::{InspectContainerOptions, ListContainersOptionsBuilder},
};
use opdev_runtime::docker;

use crate::support::{Env, eventually, head, stderr, text};

/// Containers carrying the devnet's label (`all`: stopped ones too).
async fn containers(client: &bollard::Docker, devnet: &str, all: bool) -> usize {
    client
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(all)
                .filters(&crate::docker::label_filter(devnet))
                .build(),
        ))
        .await
        .unwrap()
        .len()
}

async fn mounts(client: &bollard::Docker, container: &str) -> Vec<MountPoint> {
    client
        .inspect_container(container, None::<InspectContainerOptions>)
        .await
        .unwrap()
        .mounts
        .unwrap_or_default()
}

/// Whether `path` is mounted read-only at its own path.
fn read_only(mounts: &[MountPoint], path: &Path) -> bool {
    let path = path.to_string_lossy();
    mounts.iter().any(|m| {
        m.source.as_deref() == Some(&path)
            && m.destination.as_deref() == Some(&path)
            && m.rw == Some(false)
    })
}

/// The L2's safe head, from `status`.
fn safe_head(env: &Env) -> u64 {
    env.status()["rollup"][0]["safe"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn a_full_devnet_runs_on_docker_without_a_registry_and_resumes() {
    // The opdev image is shared with the other Docker tests, which remove it at their end.
    let _image = crate::docker::OPDEV_IMAGE.lock().await;
    let client = docker::connect().await.expect("a Docker daemon answers");
    let env = Env::new("dk-full");
    let out = env.ok(&[
        "up",
        "--profile",
        "full",
        "--runtime",
        "docker",
        "--l2",
        "1",
        "--no-indexer",
        "--no-faucet",
        "--no-monitoring",
        "--ports",
        "auto",
    ]);
    let err = stderr(&out);
    assert!(
        !err.contains(" for l2-1"),
        "no pinned image for the OP Stack programs: {err}"
    );

    // Every service ran from an image built here; each OP Stack program from its own.
    let status = env.status();
    assert_eq!(status["runtime"], "docker");
    let mut images = Vec::new();
    for service in status["services"].as_array().unwrap() {
        let name = service["name"].as_str().unwrap();
        assert!(service["ready"] == true, "{name} is not ready: {status}");
        let image = service["container"]["image"].as_str().unwrap().to_owned();
        assert!(docker::image::is_local(&image), "{name}: {image}");
        images.push(image);
    }
    for (service, tool) in [
        ("l2-1", "op-geth"),
        ("l2-1-node", "op-node"),
        ("l2-1-batcher", "op-batcher"),
        ("l2-1-proposer", "op-proposer"),
    ] {
        let image = env.service(service)["container"]["image"].clone();
        assert!(
            image
                .as_str()
                .is_some_and(|i| i.starts_with(&format!("opdev-local/{tool}:"))),
            "{service}: {image}"
        );
    }

    // op-geth's `init` ran once, in a one-off container that is gone.
    let devnet = env.devnet_dir();
    let geth_log = std::fs::read_to_string(devnet.join("logs/l2-1.log")).unwrap();
    assert!(
        geth_log.contains("setup: ") && geth_log.contains("(container)"),
        "{geth_log}"
    );
    assert!(
        geth_log.contains("Successfully wrote genesis state"),
        "{geth_log}"
    );
    assert!(
        client
            .inspect_container("dk-full-l2-1-setup", None::<InspectContainerOptions>)
            .await
            .is_err()
    );

    // The rollup files and the secrets reach op-geth and op-node as read-only mounts.
    let rollup = devnet.join("data/bridge-deploy");
    let secrets = devnet.join("secrets");
    for container in ["dk-full-l2-1", "dk-full-l2-1-node"] {
        let mounts = mounts(&client, container).await;
        assert!(read_only(&mounts, &rollup), "{container}: {mounts:?}");
        assert!(read_only(&mounts, &secrets), "{container}: {mounts:?}");
    }

    // bridge-deploy (the opdev image) ran the host's anvil and op-geth, mounted read-only: the
    // scratch chain gave the L2's genesis, and op-geth its hash.
    let deploy = client
        .inspect_container("dk-full-bridge-deploy", None::<InspectContainerOptions>)
        .await
        .unwrap();
    assert_eq!(deploy.state.unwrap().exit_code, Some(0));
    let args = deploy.args.unwrap_or_default();
    let deploy_mounts = deploy.mounts.unwrap_or_default();
    for flag in ["--anvil", "--op-geth"] {
        let i = args.iter().position(|a| a == flag).expect(flag);
        assert!(
            read_only(&deploy_mounts, Path::new(&args[i + 1])),
            "{flag} {}: {deploy_mounts:?}",
            args[i + 1]
        );
    }
    let deploy_log = std::fs::read_to_string(devnet.join("logs/bridge-deploy.log")).unwrap();
    assert!(
        deploy_log.contains("rollup config written") && deploy_log.contains("genesis=0x"),
        "{deploy_log}"
    );

    // Every port of the devnet is published, on 127.0.0.1 only.
    let netns = client
        .inspect_container("dk-full-netns", None::<InspectContainerOptions>)
        .await
        .unwrap();
    let bindings = netns.host_config.unwrap().port_bindings.unwrap();
    for binding in bindings.values().flatten().flatten() {
        assert_eq!(
            binding.host_ip.as_deref(),
            Some("127.0.0.1"),
            "{bindings:?}"
        );
    }
    for service in status["services"].as_array().unwrap() {
        for port in service["ports"]
            .as_object()
            .into_iter()
            .flat_map(|p| p.values())
        {
            assert!(
                bindings.contains_key(&format!("{port}/tcp")),
                "{} port {port} is not published: {bindings:?}",
                service["name"]
            );
        }
    }

    // The rollup works end to end: the safe head advances, and smoke passes on both chains.
    let safe = safe_head(&env);
    assert!(safe > 0, "ready means a safe head above genesis");
    assert!(
        eventually(30, async || safe_head(&env) > safe).await,
        "the safe head stays at {safe}: {}",
        env.status()["rollup"]
    );
    let smoke = env.json(&["smoke"]);
    assert_eq!(smoke["ok"], true, "{smoke}");

    // down stops every container; up resumes the L2 where it was, from the same images.
    let l2 = env.rpcs()[1].1.clone();
    let head_before = head(&l2).await;
    env.ok(&["down"]);
    assert_eq!(
        containers(&client, "dk-full", false).await,
        0,
        "nothing runs after down"
    );
    let again = env.run(&["up"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        !stderr(&again).contains("building image"),
        "the second up reuses the images: {}",
        stderr(&again)
    );
    let l2 = env.rpcs()[1].1.clone();
    let head_after = head(&l2).await;
    assert!(
        head_after >= head_before,
        "the L2 resumed at {head_after}, below {head_before}"
    );
    assert!(safe_head(&env) > 0, "{}", env.status()["rollup"]);

    // purge removes every labelled object.
    env.ok(&["purge", "--yes"]);
    assert_eq!(containers(&client, "dk-full", true).await, 0);
    assert!(!devnet.exists());
    // The opdev image of a debug build changes with every build: do not keep it. The OP Stack
    // programs' and anvil's images, tagged by content, are reused by later runs.
    images.sort();
    images.dedup();
    for image in images
        .iter()
        .filter(|i| i.starts_with("opdev-local/opdev:"))
    {
        let _ = docker::remove_image(&client, image).await;
    }
}
