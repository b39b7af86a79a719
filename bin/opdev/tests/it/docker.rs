//! The Docker runtime end to end, against a real daemon, with registry-free images built from
//! this machine's anvil, PostgreSQL and the opdev binary under test: up → smoke → a killed
//! container comes back → down → up resumes with state intact → purge leaves no labelled object;
//! a native devnet runs beside it; the daemon-unreachable and missing-image errors; and a whole
//! devnet with no --binary at all, its pinned images built from this machine's programs because
//! no registry answers.

use std::{collections::HashMap, time::Duration};

use alloy::primitives::{Address, U256};
use bollard::query_parameters::{
    InspectContainerOptions, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
    ListNetworksOptionsBuilder,
};
use opdev_runtime::docker;

use crate::support::{Env, anvil, eventually, head, stderr, text};

const POSTGRES: &str = "/usr/lib/postgresql/15/bin/postgres";

/// Held by the tests that build the opdev image and remove it at the end: the image of a debug
/// build is shared by every devnet of the run, so one test's cleanup would take it from under
/// another's `up`.
pub(crate) static OPDEV_IMAGE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn binaries() -> Vec<String> {
    vec![
        "--binary".into(),
        format!("anvil={}", anvil().display()),
        "--binary".into(),
        format!("postgres={POSTGRES}"),
    ]
}

pub(crate) fn label_filter(devnet: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_owned(),
        vec![format!("{}={devnet}", docker::LABEL_DEVNET)],
    )])
}

async fn labelled(client: &bollard::Docker, devnet: &str) -> (usize, usize) {
    let containers = client
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&label_filter(devnet))
                .build(),
        ))
        .await
        .unwrap();
    let networks = client
        .list_networks(Some(
            ListNetworksOptionsBuilder::default()
                .filters(&label_filter(devnet))
                .build(),
        ))
        .await
        .unwrap();
    (containers.len(), networks.len())
}

#[tokio::test]
async fn docker_devnet_up_smoke_kill_down_resume_purge_beside_a_native_one() {
    let _image = OPDEV_IMAGE.lock().await;
    let client = docker::connect().await.expect("a Docker daemon answers");
    let env = Env::new("dk-life");
    let mut args = vec![
        "up",
        "--runtime",
        "docker",
        "--ports",
        "auto",
        "--no-monitoring",
    ];
    let bins = binaries();
    args.extend(bins.iter().map(String::as_str));
    let up = env.json(&args);
    assert_eq!(up["runtime"], "docker");

    // A native devnet runs at the same time.
    let native = Env::new("dk-native");
    native.json(&[
        "up",
        "--ports",
        "auto",
        "--no-indexer",
        "--no-faucet",
        "--no-monitoring",
    ]);
    let list = native.json(&["list"]);
    let runtimes: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().into(),
                d["runtime"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        runtimes.contains(&("dk-native".into(), "native".into())),
        "{runtimes:?}"
    );

    // Every service is a labelled container named <devnet>-<service>, joined to the devnet's
    // network namespace; ports are published on 127.0.0.1 only.
    let status = env.status();
    for service in status["services"].as_array().unwrap() {
        let name = service["name"].as_str().unwrap();
        let container = &service["container"];
        assert_eq!(container["name"], format!("dk-life-{name}"), "{service}");
        if service["state"] == "ready" {
            assert_eq!(container["state"], "running", "{service}");
        }
        let inspect = client
            .inspect_container(&format!("dk-life-{name}"), None::<InspectContainerOptions>)
            .await
            .unwrap();
        let labels = inspect.config.unwrap().labels.unwrap();
        assert_eq!(labels[docker::LABEL_DEVNET], "dk-life");
        assert_eq!(labels[docker::LABEL_SERVICE], name);
    }
    let netns = client
        .inspect_container("dk-life-netns", None::<InspectContainerOptions>)
        .await
        .unwrap();
    let bindings = netns.host_config.unwrap().port_bindings.unwrap();
    assert!(!bindings.is_empty());
    for binding in bindings.values().flatten().flatten() {
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
    }
    let network = client
        .inspect_network(
            "dk-life-net",
            None::<bollard::query_parameters::InspectNetworkOptions>,
        )
        .await
        .unwrap();
    assert_eq!(network.labels.unwrap()[docker::LABEL_DEVNET], "dk-life");

    // A killed container is restarted by the supervisor (a crash loses what came after the
    // last periodic save, as natively; so this comes before the smoke check).
    let before = env.service("l2-1");
    client
        .kill_container(
            "dk-life-l2-1",
            Some(
                KillContainerOptionsBuilder::default()
                    .signal("SIGKILL")
                    .build(),
            ),
        )
        .await
        .unwrap();
    assert!(
        eventually(20, async || {
            let s = env.service("l2-1");
            s["restarts"].as_u64() >= Some(1) && s["state"] == "ready"
        })
        .await,
        "l2-1 came back: {}",
        env.service("l2-1")
    );
    assert_ne!(env.service("l2-1")["container_id"], before["container_id"]);
    assert!(head(&env.rpcs()[1].1).await > 0);

    // The chains work and the containers reach each other at 127.0.0.1: the indexer (opdev's
    // image) follows both anvils and writes to PostgreSQL (built from this machine's install).
    let smoke = env.json(&["smoke"]);
    assert_eq!(smoke["ok"], true);
    let counter: Address = smoke["chains"][1]["report"]["counter"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let rpcs = env.rpcs();
    let l2 = rpcs[1].1.clone();
    let indexer_url = env.status()["indexer"]["url"].as_str().unwrap().to_owned();
    assert!(
        eventually(20, async || {
            let Ok(health) = opdev_chain::http::get_json(
                &format!("{indexer_url}/health"),
                Duration::from_secs(2),
            )
            .await
            else {
                return false;
            };
            health["chains"].as_array().is_some_and(|c| {
                c.len() == 2
                    && c.iter()
                        .all(|c| c["lag"] == 0 && c["indexed_head"].as_u64() > Some(1))
            })
        })
        .await,
        "the indexer follows both chains"
    );

    // Logs come through the API, and --follow shows new output as it comes.
    let logs = env.ok(&["logs", "l1", "--tail", "50"]);
    assert!(
        String::from_utf8_lossy(&logs.stdout).contains("eth_"),
        "{}",
        text(&logs)
    );
    let mut follow = env
        .cmd(&["logs", "l2-1", "--tail", "0", "--follow"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follow.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("eth_chainId"))
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let probe = opdev_chain::rpc::Probe::new(&env.rpcs()[1].1).unwrap();
    let _ = probe.chain_id().await;
    let seen = eventually(10, async || reader.is_finished()).await;
    let _ = follow.kill();
    let _ = follow.wait();
    assert!(
        seen && reader.join().unwrap().is_some(),
        "logs --follow shows a call made after it started"
    );

    // down stops every container (state saved), up resumes it.
    let head_before = head(&l2).await;
    env.ok(&["down"]);
    let running = client
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .filters(&label_filter("dk-life"))
                .build(),
        ))
        .await
        .unwrap();
    assert!(running.is_empty(), "nothing runs after down: {running:?}");
    // The same devnet folder means the same on the native runtime: switch, resume, switch back.
    let native_up = env.run(&["up", "--runtime", "native"]);
    assert!(native_up.status.success(), "{}", text(&native_up));
    let l2_native = env.rpcs()[1].1.clone();
    assert!(head(&l2_native).await >= head_before, "resumed natively");
    assert_eq!(
        opdev_chain::smoke::counter_value(&l2_native, counter)
            .await
            .unwrap(),
        U256::from(1)
    );
    assert!(
        env.status()["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "ready" || s["state"] == "done"),
        "PostgreSQL and the rest run natively on the Docker devnet's data: {}",
        env.status()
    );
    env.ok(&["down"]);
    let again = env.run(&["up", "--runtime", "docker"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        !stderr(&again).contains("building image"),
        "the second up reuses the images: {}",
        stderr(&again)
    );
    let l2 = env.rpcs()[1].1.clone();
    assert!(head(&l2).await >= head_before, "the chain resumed");
    assert_eq!(
        opdev_chain::smoke::counter_value(&l2, counter)
            .await
            .unwrap(),
        U256::from(1),
        "the contract deployed before down is still there"
    );

    // purge removes every labelled object, and nothing of the other devnet.
    let images: Vec<String> = env.status()["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["container"]["image"].as_str().map(str::to_owned))
        .collect();
    env.ok(&["purge", "--yes"]);
    assert_eq!(labelled(&client, "dk-life").await, (0, 0));
    assert!(!env.devnet_dir().exists());
    assert!(
        !docker::built_images(&client).await.unwrap().is_empty(),
        "images stay for reuse"
    );
    let native_status = native.status();
    assert_eq!(native_status["running"], true);
    // The images of a debug build are large and change with every build: do not keep them.
    for image in images {
        let _ = docker::remove_image(&client, &image).await;
    }
}

#[tokio::test]
async fn unreachable_daemon_and_missing_image_are_clear_errors_that_leave_nothing() {
    let env = Env::new("dk-errors");
    let anvil_arg = format!("anvil={}", anvil().display());
    let out = env
        .cmd(&["up", "--runtime", "docker", "--binary", &anvil_arg])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("reach the Docker daemon at unix:///nonexistent/docker.sock"),
        "{err}"
    );
    assert!(err.contains("hint:") && err.contains("dockerd"), "{err}");
    assert!(!env.devnet_dir().exists(), "nothing was written");

    // An image that is not here and cannot be pulled (nothing listens on port 1), for a service
    // whose program is not on this machine either (--anvil-bin names no file; l1 is built from
    // the real anvil).
    let client = docker::connect().await.expect("a Docker daemon answers");
    let l1_arg = format!("l1={}", anvil().display());
    let out = env.run(&[
        "up",
        "--runtime",
        "docker",
        "--ports",
        "auto",
        "--no-indexer",
        "--no-faucet",
        "--no-monitoring",
        "--binary",
        &l1_arg,
        "--anvil-bin",
        "/nonexistent/anvil",
        "--image",
        "l2-1=127.0.0.1:1/opdev/missing:0.0.1",
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("get image 127.0.0.1:1/opdev/missing:0.0.1 for l2-1"),
        "{err}"
    );
    assert!(err.contains("--binary l2-1=PATH"), "{err}");
    assert!(
        !err.contains("registry-free"),
        "nothing to build from: {err}"
    );
    assert!(
        err.lines().filter(|l| l.starts_with("error:")).count() == 1,
        "{err}"
    );
    assert!(!env.devnet_dir().exists(), "nothing was left");
    assert_eq!(labelled(&client, "dk-errors").await, (0, 0));
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test]
async fn without_a_registry_the_whole_devnet_comes_up_from_this_machines_programs() {
    let _image = OPDEV_IMAGE.lock().await;
    let client = docker::connect().await.expect("a Docker daemon answers");
    let env = Env::new("dk-offline");
    // No --binary, no --image: every pinned image is tried, and built from the host's program.
    let out = env.ok(&["up", "--runtime", "docker", "--ports", "auto"]);
    let err = stderr(&out);
    for pinned in opdev_spec::images::DEFAULT_IMAGES {
        if client.inspect_image(pinned.image).await.is_ok() {
            continue; // pulled on a machine with a registry: nothing to fall back from
        }
        assert!(
            err.contains(&format!("image {} for", pinned.image))
                && err.contains("building a registry-free image from"),
            "{}: {err}",
            pinned.image
        );
    }
    let status = env.status();
    let mut images = Vec::new();
    for service in status["services"].as_array().unwrap() {
        assert!(
            service["ready"] == true,
            "{} is not ready: {status}",
            service["name"]
        );
        let image = service["container"]["image"].as_str().unwrap_or_default();
        if !image.is_empty() {
            images.push(image.to_owned());
        }
    }
    assert!(
        images.iter().all(|i| docker::image::is_local(i)),
        "{images:?}"
    );
    assert_eq!(env.json(&["smoke"])["ok"], true);

    // --pull never does not try the registry; the images built before are reused.
    env.ok(&["down", "-q"]);
    let out = env.ok(&["up", "--pull", "never"]);
    let err = stderr(&out);
    assert!(!err.contains("pulling "), "{err}");
    assert!(err.contains("--pull never"), "{err}");
    assert!(!err.contains("building image"), "built before: {err}");
    env.ok(&["purge", "--yes"]);
    assert_eq!(labelled(&client, "dk-offline").await, (0, 0));
    // The opdev image of a debug build changes with every build: do not keep it. The others
    // (anvil, PostgreSQL, Prometheus, Alertmanager) are reused by later runs.
    for image in images
        .iter()
        .filter(|i| i.starts_with("opdev-local/opdev:"))
    {
        let _ = docker::remove_image(&client, image).await;
    }
}
