//! The Docker runtime's image builder against a real daemon: an image built from a host program
//! runs it (its library closure is complete), and building it again is a cache hit.

use std::{path::PathBuf, sync::Arc};

use bollard::{models::ContainerCreateBody, query_parameters::WaitContainerOptionsBuilder};
use futures::StreamExt;
use opdev_runtime::docker::{self, Progress};
use opdev_spec::{Artifact, ServiceSpec};

/// A copy of `/bin/echo` made unique by trailing bytes (the loader ignores them), so this test
/// builds its own image whatever ran before.
fn unique_program(dir: &tempfile::TempDir) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let mut bytes = std::fs::read("/bin/echo").unwrap();
    let nonce = format!(
        "opdev-test-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    );
    bytes.extend_from_slice(nonce.as_bytes());
    let path = dir.path().join("echo");
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
async fn an_image_built_from_a_host_program_runs_it_and_is_reused() {
    let docker = docker::connect().await.expect("a Docker daemon answers");
    let dir = tempfile::tempdir().unwrap();
    let program = unique_program(&dir);
    let spec = ServiceSpec::one_shot("echo", Artifact::binary("echo-test", &program));
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = lines.clone();
    let progress: Progress = Arc::new(move |l| seen.lock().unwrap().push(l));

    let first = docker::ensure_image(&docker, &spec, &progress, opdev_spec::PullPolicy::Missing)
        .await
        .unwrap();
    assert!(first.built() && !first.cached, "{first:?}");
    assert!(
        first.image.starts_with("opdev-local/echo-test:"),
        "{first:?}"
    );
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("building image")),
        "{lines:?}"
    );
    let second = docker::ensure_image(&docker, &spec, &progress, opdev_spec::PullPolicy::Missing)
        .await
        .unwrap();
    assert_eq!(second.image, first.image);
    assert!(second.cached, "the same files are a cache hit");
    assert!(
        docker::built_images(&docker)
            .await
            .unwrap()
            .contains(&first.image)
    );

    // The image runs the program: the loader and libraries are all there.
    let name = format!("opdev-test-echo-{}", std::process::id());
    let body = ContainerCreateBody {
        image: Some(first.image.clone()),
        entrypoint: Some(vec![first.program(&program)]),
        cmd: Some(vec!["hello from scratch".into()]),
        ..Default::default()
    };
    docker
        .create_container(
            Some(
                bollard::query_parameters::CreateContainerOptionsBuilder::default()
                    .name(&name)
                    .build(),
            ),
            body,
        )
        .await
        .unwrap();
    docker.start_container(&name, None).await.unwrap();
    let wait = WaitContainerOptionsBuilder::default()
        .condition("not-running")
        .build();
    let exit = docker
        .wait_container(&name, Some(wait))
        .next()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(exit.status_code, 0);
    let mut output = Vec::new();
    docker
        .logs(
            &name,
            Some(
                bollard::query_parameters::LogsOptionsBuilder::default()
                    .stdout(true)
                    .build(),
            ),
        )
        .for_each(|c| {
            output.extend_from_slice(&c.unwrap().into_bytes());
            async {}
        })
        .await;
    assert_eq!(
        String::from_utf8_lossy(&output).trim(),
        "hello from scratch"
    );
    docker
        .remove_container(
            &name,
            Some(
                bollard::query_parameters::RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .build(),
            ),
        )
        .await
        .unwrap();
    docker::remove_image(&docker, &first.image).await.unwrap();
}
