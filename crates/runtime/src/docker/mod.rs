//! The Docker runtime: the same specs, run as containers through the Docker Engine API
//! (bollard; never the docker CLI), supervised by the same [`Supervisor`] as native processes.
//!
//! Per devnet: one bridge network `<devnet>-net`, and one small container `<devnet>-netns` on it
//! that holds the devnet's network namespace and publishes every service port on 127.0.0.1. Each
//! service runs in container `<devnet>-<service>` joined to that namespace, so services reach each
//! other at 127.0.0.1 exactly as on the native runtime and specs need no rewriting; they listen on
//! every interface of the namespace ([`opdev_spec::LISTEN_HOST`]) so the published ports reach
//! them. Every container, network and image opdev creates carries the labels `opdev.devnet` and
//! `opdev.service`.
//!
//! Data: the devnet folder is bind-mounted at its own path, so `{data}` and every other path in
//! a spec mean the same inside and outside, and `down`/`up` resume exactly as natively. Containers
//! run as the user running opdev (files stay theirs); a service that refuses root, started by
//! root, runs as uid 1000 with only its own data folder mounted (owned by that uid).
//!
//! Images: a spec whose artifact names an image runs it (pulled with progress when missing, as
//! the [`PullPolicy`] says); otherwise an image is built from the artifact's binary ([`image`]),
//! tagged by content hash. A named image that cannot be had (no registry) is built from the
//! artifact's binary too when that program is installed on this machine, with a progress line
//! saying so.
//! Restarts are the supervisor's (Docker's own restart policy stays `no`), with the same backoff
//! as native.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use bollard::{
    Docker,
    errors::Error as ApiError,
    models::{ContainerCreateBody, HostConfig, NetworkCreateRequest, PortBinding},
    query_parameters::{
        CreateContainerOptionsBuilder, CreateImageOptionsBuilder, KillContainerOptionsBuilder,
        ListContainersOptionsBuilder, ListImagesOptionsBuilder, ListNetworksOptionsBuilder,
        LogsOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
        WaitContainerOptionsBuilder,
    },
};
use futures::{StreamExt, future::BoxFuture};
use opdev_spec::{PullPolicy, ServiceKind, ServiceSpec, StopSignal};
use tokio::time::timeout;
use tracing::{info, warn};

use crate::supervise::{Dirs, Exit, Launcher, Proc, SharedLog, Supervisor};

pub mod image;

/// Label naming the devnet of every object opdev creates.
pub const LABEL_DEVNET: &str = "opdev.devnet";
/// Label naming the service of every object opdev creates.
pub const LABEL_SERVICE: &str = "opdev.service";
/// Label on the images opdev builds.
pub const LABEL_IMAGE: &str = "opdev.image";
/// The service name of the container holding a devnet's network namespace.
pub const NETNS: &str = "netns";
/// The uid (and gid) of services that refuse root when opdev runs as root.
const UNPRIVILEGED_ID: u32 = 1000;
/// Address services bind inside their network namespace.
const LISTEN_ALL: &str = "0.0.0.0";

/// A failure of the Docker runtime, read after "failed to …".
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DockerError {
    /// No daemon answers.
    #[error("reach the Docker daemon at {host}: {reason}")]
    Unreachable {
        /// Where opdev looked (DOCKER_HOST or the default socket).
        host: String,
        /// What went wrong.
        reason: String,
    },
    /// An image is not on the machine and could not be pulled.
    #[error("get image {image} for {service}: not on this machine, and the pull failed: {reason}")]
    ImageMissing {
        /// The image reference.
        image: String,
        /// The service that needs it.
        service: String,
        /// Why the pull failed.
        reason: String,
    },
    /// An image could not be built from host files.
    #[error("build an image for {service} from {binary}: {reason}")]
    Build {
        /// The service.
        service: String,
        /// The program the image was built from.
        binary: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Any other Engine API failure.
    #[error("{action}: {reason}")]
    Api {
        /// What was being done.
        action: String,
        /// The daemon's answer.
        reason: String,
    },
}

impl DockerError {
    fn api(action: impl Into<String>, e: ApiError) -> Self {
        Self::Api {
            action: action.into(),
            reason: e.to_string(),
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Unreachable { .. } => Some(
                "start the daemon (`sudo systemctl start docker`, or `sudo dockerd &`; on Debian \
                 install it with `apt-get install docker.io`), set DOCKER_HOST, or use --runtime native"
                    .into(),
            ),
            Self::ImageMissing { service, .. } => Some(format!(
                "install the service's program on this machine (opdev then builds an image from \
                 it), pass --binary {service}=PATH, or name another image with --image {service}=REF"
            )),
            _ => None,
        }
    }
}

/// Where the client looks for the daemon: `DOCKER_HOST`, else the default socket.
pub fn daemon_address() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

/// A client of the daemon, checked with a ping and speaking the daemon's API version.
pub async fn connect() -> Result<Docker, DockerError> {
    let host = daemon_address();
    let unreachable = |reason: String| DockerError::Unreachable {
        host: host.clone(),
        reason,
    };
    let docker = Docker::connect_with_defaults().map_err(|e| unreachable(e.to_string()))?;
    let docker = timeout(Duration::from_secs(10), docker.negotiate_version())
        .await
        .map_err(|_| unreachable("no answer within 10 s".into()))?
        .map_err(|e| unreachable(e.to_string()))?;
    docker
        .ping()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    Ok(docker)
}

/// The container of `service` in `devnet`.
pub fn container_name(devnet: &str, service: &str) -> String {
    format!("{devnet}-{service}")
}

/// The bridge network of `devnet`.
pub fn network_name(devnet: &str) -> String {
    format!("{devnet}-net")
}

fn labels(devnet: &str, service: &str) -> HashMap<String, String> {
    HashMap::from([
        (LABEL_DEVNET.to_owned(), devnet.to_owned()),
        (LABEL_SERVICE.to_owned(), service.to_owned()),
    ])
}

fn devnet_filter(devnet: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), vec![format!("{LABEL_DEVNET}={devnet}")])])
}

/// A progress line while images are pulled or built.
pub type Progress = Arc<dyn Fn(String) + Send + Sync>;

/// The image a spec runs, which gives the entrypoint inside it: a built image keeps host paths,
/// so the program's host path is its entrypoint; a pulled image finds the program on its PATH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedImage {
    /// Image reference.
    pub image: String,
    /// Whether it was already on the machine.
    pub cached: bool,
}

impl ResolvedImage {
    /// Whether opdev built it from host files (an `opdev-local/…` image).
    pub fn built(&self) -> bool {
        image::is_local(&self.image)
    }

    /// The path (or name) of `program` inside this image.
    pub fn program(&self, program: &Path) -> String {
        if self.built() {
            program.to_string_lossy().into_owned()
        } else {
            program
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        }
    }
}

/// Makes sure the image of `spec` is on the machine: a named image is pulled as `policy` says
/// (`missing`: when not on the machine; `always`: every time; `never`: not at all); an image that
/// cannot be had is built from the artifact's binary when that program is on this machine (a
/// progress line says so), and the error is the pull's otherwise. A spec naming no image is built
/// from its binary (a cache hit when the same files were built before).
pub async fn ensure_image(
    docker: &Docker,
    spec: &ServiceSpec,
    progress: &Progress,
    policy: PullPolicy,
) -> Result<ResolvedImage, DockerError> {
    let Some(image) = &spec.artifact.image else {
        return build(docker, spec, progress).await;
    };
    let present = docker.inspect_image(image).await.is_ok();
    if present && policy != PullPolicy::Always {
        return Ok(ResolvedImage {
            image: image.clone(),
            cached: true,
        });
    }
    let failure = if policy == PullPolicy::Never {
        DockerError::ImageMissing {
            image: image.clone(),
            service: spec.name.clone(),
            reason: "pulls are off (--pull never)".into(),
        }
    } else {
        match pull(docker, image, &spec.name, progress).await {
            Ok(()) => {
                return Ok(ResolvedImage {
                    image: image.clone(),
                    cached: false,
                });
            }
            Err(e) => e,
        }
    };
    if present {
        progress(format!(
            "could not pull {image} for {}; using the copy on this machine",
            spec.name
        ));
        return Ok(ResolvedImage {
            image: image.clone(),
            cached: true,
        });
    }
    if !spec.artifact.binary.is_file() {
        return Err(failure);
    }
    let reason = match &failure {
        DockerError::ImageMissing { reason, .. } => reason.clone(),
        other => other.to_string(),
    };
    progress(format!(
        "image {image} for {} is not on this machine and cannot be pulled ({reason}); building a \
         registry-free image from {} instead",
        spec.name,
        spec.artifact.binary.display()
    ));
    let mut local = spec.clone();
    local.artifact.image = None;
    build(docker, &local, progress).await
}

async fn pull(
    docker: &Docker,
    image: &str,
    service: &str,
    progress: &Progress,
) -> Result<(), DockerError> {
    progress(format!("pulling {image} for {service}"));
    let options = CreateImageOptionsBuilder::default()
        .from_image(image)
        .build();
    let mut stream = docker.create_image(Some(options), None, None);
    let mut last = String::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                    return Err(DockerError::ImageMissing {
                        image: image.into(),
                        service: service.into(),
                        reason: detail,
                    });
                }
                let percent = info
                    .progress_detail
                    .and_then(|d| match (d.current, d.total) {
                        (Some(c), Some(t)) if t > 0 => Some(format!("{}%", c * 100 / t)),
                        _ => None,
                    });
                let line = [info.id, info.status, percent]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                if !line.is_empty() && line != last {
                    progress(format!("pull {image}: {line}"));
                    last = line;
                }
            }
            Err(e) => {
                return Err(DockerError::ImageMissing {
                    image: image.into(),
                    service: service.into(),
                    reason: one_line(&e.to_string()),
                });
            }
        }
    }
    Ok(())
}

async fn build(
    docker: &Docker,
    spec: &ServiceSpec,
    progress: &Progress,
) -> Result<ResolvedImage, DockerError> {
    let binary = spec.artifact.binary.clone();
    let fail = |reason: String| DockerError::Build {
        service: spec.name.clone(),
        binary: binary.clone(),
        reason,
    };
    let tool = spec.artifact.tool.clone();
    let program = binary.clone();
    // The setup runs in the same image, and programs mounted read-only run inside it too.
    let setup = spec
        .setup
        .as_ref()
        .map(|s| s.program.clone())
        .filter(|p| *p != binary && p.is_file());
    let mounted = spec.read_only.clone();
    let (recipe, fingerprint) = tokio::task::spawn_blocking(move || {
        let mut recipe = image::Recipe::for_program(&tool, &program)?;
        if let Some(setup) = &setup {
            recipe = recipe.with_program(setup)?;
        }
        for path in &mounted {
            recipe = recipe.with_libraries_of(path)?;
        }
        let fingerprint = recipe.fingerprint();
        Ok::<_, String>((recipe, fingerprint))
    })
    .await
    .map_err(|e| fail(e.to_string()))?
    .map_err(fail)?;
    // The same files as an earlier build, and its image still here: nothing to read or send.
    if let Some(tag) = image::remembered(&fingerprint)
        && docker.inspect_image(&tag).await.is_ok()
    {
        return Ok(ResolvedImage {
            image: tag,
            cached: true,
        });
    }
    let packer = recipe.clone();
    let (hash, rootfs) = tokio::task::spawn_blocking(move || packer.rootfs())
        .await
        .map_err(|e| fail(e.to_string()))?
        .map_err(fail)?;
    let tag = recipe.tag(&hash);
    if docker.inspect_image(&tag).await.is_ok() {
        image::remember(&fingerprint, &tag);
        return Ok(ResolvedImage {
            image: tag,
            cached: true,
        });
    }
    progress(format!(
        "building image {tag} from {} ({} files, {:.1} MB)",
        binary.display(),
        recipe.len(),
        rootfs.len() as f64 / 1e6
    ));
    let labels = BTreeMap::from([(LABEL_IMAGE.to_owned(), recipe.tool.clone())]);
    let (repository, version) = tag
        .rsplit_once(':')
        .expect("a built image's tag has a version");
    let options = CreateImageOptionsBuilder::default()
        .from_src("-")
        .repo(repository)
        .tag(version)
        .changes(recipe.changes(&labels))
        .build();
    let mut stream =
        docker.create_image(Some(options), Some(bollard::body_full(rootfs.into())), None);
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| fail(one_line(&e.to_string())))?;
        if let Some(error) = info.error_detail.and_then(|d| d.message) {
            return Err(fail(error));
        }
    }
    docker
        .inspect_image(&tag)
        .await
        .map_err(|e| fail(format!("the daemon did not keep {tag}: {e}")))?;
    image::remember(&fingerprint, &tag);
    Ok(ResolvedImage {
        image: tag,
        cached: false,
    })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the Docker launcher needs to know about the devnet.
#[derive(Debug, Clone)]
pub struct DevnetContext {
    /// The devnet's name.
    pub name: String,
    /// The devnet folder (bind-mounted at its own path).
    pub root: PathBuf,
}

/// Starts services as containers of one devnet.
pub struct DockerLauncher {
    docker: Docker,
    devnet: DevnetContext,
    images: Mutex<HashMap<(PathBuf, Option<String>), ResolvedImage>>,
    progress: Progress,
}

impl std::fmt::Debug for DockerLauncher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerLauncher")
            .field("devnet", &self.devnet)
            .finish_non_exhaustive()
    }
}

/// The Docker runtime: the [`Supervisor`] with containers.
pub struct DockerRuntime;

impl DockerRuntime {
    /// A Docker runtime for `devnet`, keeping logs under `dirs`. Returns the supervisor and the
    /// launcher, whose [`DockerLauncher::prepare`] must run before the first start.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        dirs: Dirs,
        docker: Docker,
        devnet: DevnetContext,
        progress: Progress,
    ) -> (Supervisor, Arc<DockerLauncher>) {
        let launcher = Arc::new(DockerLauncher {
            docker,
            devnet,
            images: Mutex::default(),
            progress,
        });
        (Supervisor::new(dirs, launcher.clone()), launcher)
    }
}

impl DockerLauncher {
    /// The client.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    fn name(&self, service: &str) -> String {
        container_name(&self.devnet.name, service)
    }

    /// Creates the devnet's network (kept across `down`) and a fresh network-namespace container
    /// running `holder` (a program that waits for SIGTERM), publishing `ports` on 127.0.0.1.
    /// Containers left by an earlier run of the devnet are removed first.
    pub async fn prepare(&self, holder: &ServiceSpec, ports: &[u16]) -> Result<(), DockerError> {
        // Containers a dead supervisor left running get their stop signal first (anvil saves
        // its state on SIGTERM), then go.
        stop_containers(&self.docker, &self.devnet.name, Duration::from_secs(10)).await?;
        remove_containers(&self.docker, &self.devnet.name).await?;
        let network = network_name(&self.devnet.name);
        if self.docker.inspect_network(&network, None).await.is_err() {
            let mut labels = labels(&self.devnet.name, "network");
            labels.insert("opdev".into(), "1".into());
            self.docker
                .create_network(NetworkCreateRequest {
                    name: network.clone(),
                    driver: Some("bridge".into()),
                    labels: Some(labels),
                    ..Default::default()
                })
                .await
                .map_err(|e| DockerError::api(format!("create network {network}"), e))?;
        }
        let resolved = self.image_of(holder).await?;
        let mut bindings = HashMap::new();
        for port in ports {
            bindings.insert(
                format!("{port}/tcp"),
                Some(vec![PortBinding {
                    host_ip: Some(opdev_spec::LOOPBACK.into()),
                    host_port: Some(port.to_string()),
                }]),
            );
        }
        let name = self.name(NETNS);
        let body = ContainerCreateBody {
            image: Some(resolved.image.clone()),
            entrypoint: Some(vec![resolved.program(&holder.artifact.binary)]),
            cmd: Some(holder.args.clone()),
            labels: Some(labels(&self.devnet.name, NETNS)),
            exposed_ports: Some(bindings.keys().cloned().collect()),
            host_config: Some(HostConfig {
                network_mode: Some(network.clone()),
                port_bindings: Some(bindings),
                init: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.docker
            .create_container(
                Some(CreateContainerOptionsBuilder::default().name(&name).build()),
                body,
            )
            .await
            .map_err(|e| DockerError::api(format!("create container {name}"), e))?;
        self.docker
            .start_container(&name, None)
            .await
            .map_err(|e| DockerError::api(format!("start container {name}"), e))?;
        info!(container = %name, ports = ports.len(), "network namespace ready");
        Ok(())
    }

    /// Stops the network-namespace container (after every service stopped).
    pub async fn finish(&self) {
        let name = self.name(NETNS);
        let options = KillContainerOptionsBuilder::default()
            .signal("SIGTERM")
            .build();
        let _ = self.docker.kill_container(&name, Some(options)).await;
        let wait = WaitContainerOptionsBuilder::default()
            .condition("not-running")
            .build();
        let mut stream = self.docker.wait_container(&name, Some(wait));
        let _ = timeout(Duration::from_secs(5), stream.next()).await;
    }

    async fn image_of(&self, spec: &ServiceSpec) -> Result<ResolvedImage, DockerError> {
        let key = (spec.artifact.binary.clone(), spec.artifact.image.clone());
        if let Some(found) = self.images.lock().expect("images lock").get(&key) {
            return Ok(found.clone());
        }
        let resolved = match &spec.artifact.image {
            // An image `up` built for this spec: use it while it exists, else build it again.
            Some(tag) if image::is_local(tag) => {
                if self.docker.inspect_image(tag).await.is_ok() {
                    ResolvedImage {
                        image: tag.clone(),
                        cached: true,
                    }
                } else {
                    let mut rebuild = spec.clone();
                    rebuild.artifact.image = None;
                    ensure_image(&self.docker, &rebuild, &self.progress, PullPolicy::Missing)
                        .await?
                }
            }
            _ => ensure_image(&self.docker, spec, &self.progress, PullPolicy::Missing).await?,
        };
        self.images
            .lock()
            .expect("images lock")
            .insert(key, resolved.clone());
        Ok(resolved)
    }

    /// The uid and gid a service's container runs as, and whether they are not the user running
    /// opdev.
    fn user(spec: &ServiceSpec) -> ((u32, u32), bool) {
        let uid = nix::unistd::geteuid().as_raw();
        let gid = nix::unistd::getegid().as_raw();
        if spec.unprivileged && uid == 0 {
            ((UNPRIVILEGED_ID, UNPRIVILEGED_ID), true)
        } else {
            ((uid, gid), false)
        }
    }

    /// Bind mounts of a service: the devnet folder, or, for a service running as another user,
    /// only its data folder (given to that user) and the files its arguments name elsewhere in
    /// the devnet folder (copied into the data folder, mounted read-only at their paths). A
    /// service that must not run as root also gets a passwd file naming its uid (PostgreSQL looks
    /// itself up, and an image built from host files has no users).
    fn binds(
        &self,
        spec: &ServiceSpec,
        data: &Path,
        user: (u32, u32),
        other_user: bool,
    ) -> Result<Vec<String>, String> {
        let root = self.devnet.root.to_string_lossy();
        let data_text = data.to_string_lossy().into_owned();
        let mut binds = if other_user {
            vec![format!("{data_text}:{data_text}")]
        } else {
            vec![format!("{root}:{root}")]
        };
        binds.extend(
            spec.read_only
                .iter()
                .map(|p| format!("{}:{}:ro", p.display(), p.display())),
        );
        if !spec.unprivileged {
            return Ok(binds);
        }
        let shared = data.join(".opdev");
        std::fs::create_dir_all(&shared)
            .map_err(|e| format!("create {}: {e}", shared.display()))?;
        let (uid, gid) = user;
        let passwd = shared.join("passwd");
        let mut users = String::from("root:x:0:0:root:/root:/sbin/nologin\n");
        if uid != 0 {
            users.push_str(&format!(
                "opdev:x:{uid}:{gid}:opdev:{data_text}:/sbin/nologin\n"
            ));
        }
        std::fs::write(&passwd, users).map_err(|e| format!("write {}: {e}", passwd.display()))?;
        let group = shared.join("group");
        let mut groups = String::from("root:x:0:\n");
        if gid != 0 {
            groups.push_str(&format!("opdev:x:{gid}:\n"));
        }
        std::fs::write(&group, groups).map_err(|e| format!("write {}: {e}", group.display()))?;
        binds.push(format!("{}:/etc/passwd:ro", passwd.display()));
        binds.push(format!("{}:/etc/group:ro", group.display()));
        if !other_user {
            return Ok(binds);
        }
        let mut args: Vec<String> = spec.resolved_args(&data_text, LISTEN_ALL);
        if let Some(setup) = &spec.setup {
            args.extend(
                setup
                    .args
                    .iter()
                    .map(|a| a.replace(opdev_spec::DATA_DIR, &data_text)),
            );
        }
        for arg in args {
            let path = Path::new(arg.rsplit('=').next().unwrap_or(&arg));
            if path.is_absolute()
                && path.starts_with(&self.devnet.root)
                && !path.starts_with(data)
                && path.is_file()
            {
                let copy = shared.join(path.file_name().unwrap_or_default());
                std::fs::copy(path, &copy).map_err(|e| format!("copy {}: {e}", path.display()))?;
                binds.push(format!("{}:{}:ro", copy.display(), path.display()));
            }
        }
        crate::chown_tree(data, uid)?;
        Ok(binds)
    }

    fn body(
        &self,
        spec: &ServiceSpec,
        image: &ResolvedImage,
        program: &Path,
        args: Vec<String>,
        data: &Path,
        service: &str,
    ) -> Result<ContainerCreateBody, String> {
        let (user, other_user) = Self::user(spec);
        let binds = self.binds(spec, data, user, other_user)?;
        Ok(ContainerCreateBody {
            image: Some(image.image.clone()),
            entrypoint: Some(vec![image.program(program)]),
            cmd: Some(args),
            env: Some(
                spec.env
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .chain(["TZ=UTC".to_owned()])
                    .collect(),
            ),
            user: Some(format!("{}:{}", user.0, user.1)),
            working_dir: Some(data.to_string_lossy().into_owned()),
            labels: Some(labels(&self.devnet.name, service)),
            host_config: Some(HostConfig {
                network_mode: Some(format!("container:{}", self.name(NETNS))),
                binds: Some(binds),
                init: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    async fn create_and_start(
        &self,
        name: &str,
        body: ContainerCreateBody,
    ) -> Result<String, String> {
        remove_container(&self.docker, name).await;
        let created = self
            .docker
            .create_container(
                Some(CreateContainerOptionsBuilder::default().name(name).build()),
                body,
            )
            .await
            .map_err(|e| format!("create container {name}: {}", one_line(&e.to_string())))?;
        self.docker
            .start_container(name, None)
            .await
            .map_err(|e| format!("start container {name}: {}", one_line(&e.to_string())))?;
        Ok(created.id)
    }

    /// Runs the spec's setup in a one-off container unless what it creates exists.
    async fn setup(
        &self,
        spec: &ServiceSpec,
        image: &ResolvedImage,
        data: &Path,
        log: &SharedLog,
    ) -> Result<(), String> {
        let Some(setup) = &spec.setup else {
            return Ok(());
        };
        let Some(args) = setup.pending_args(&data.to_string_lossy()) else {
            return Ok(());
        };
        if let Ok(mut log) = log.lock() {
            let _ = log.note(&format!("setup: {} (container)", setup.program.display()));
        }
        let service = format!("{}-setup", spec.name);
        let name = self.name(&service);
        let body = self.body(spec, image, &setup.program, args, data, &service)?;
        self.create_and_start(&name, body).await?;
        let mut proc = ContainerProc::new(self.docker.clone(), name.clone(), None);
        let copy = tokio::spawn(copy_logs(self.docker.clone(), name.clone(), log.clone()));
        let exit = proc.wait().await;
        let _ = copy.await;
        remove_container(&self.docker, &name).await;
        if !exit.success {
            return Err(format!(
                "setup {} failed ({})",
                setup.program.display(),
                exit.description
            ));
        }
        Ok(())
    }
}

impl Launcher for DockerLauncher {
    fn launch<'a>(
        &'a self,
        spec: &'a ServiceSpec,
        data: &'a Path,
        log: SharedLog,
    ) -> BoxFuture<'a, Result<Box<dyn Proc>, String>> {
        Box::pin(async move {
            let image = self.image_of(spec).await.map_err(|e| e.to_string())?;
            self.setup(spec, &image, data, &log).await?;
            let data_text = data.to_string_lossy().into_owned();
            let args = spec.resolved_args(&data_text, LISTEN_ALL);
            let body = self.body(spec, &image, &spec.artifact.binary, args, data, &spec.name)?;
            let name = self.name(&spec.name);
            let id = self.create_and_start(&name, body).await?;
            let pid = self
                .docker
                .inspect_container(&name, None)
                .await
                .ok()
                .and_then(|c| c.state?.pid)
                .filter(|p| *p > 0)
                .map(|p| p as u32);
            tokio::spawn(copy_logs(self.docker.clone(), name.clone(), log));
            if spec.kind == ServiceKind::OneShot {
                info!(container = %name, "one-shot started");
            }
            let short = id.chars().take(12).collect();
            Ok(
                Box::new(ContainerProc::new(self.docker.clone(), name, Some(short)).with_pid(pid))
                    as Box<dyn Proc>,
            )
        })
    }
}

/// Copies a container's output (from its start, following) into the service's log.
async fn copy_logs(docker: Docker, name: String, log: SharedLog) {
    let options = LogsOptionsBuilder::default()
        .follow(true)
        .stdout(true)
        .stderr(true)
        .build();
    let mut stream = docker.logs(&name, Some(options));
    while let Some(Ok(chunk)) = stream.next().await {
        if let Ok(mut log) = log.lock() {
            let _ = log.write_all(&chunk.into_bytes());
        }
    }
}

/// A service running as a container.
struct ContainerProc {
    docker: Docker,
    name: String,
    id: Option<String>,
    pid: Option<u32>,
}

impl ContainerProc {
    fn new(docker: Docker, name: String, id: Option<String>) -> Self {
        Self {
            docker,
            name,
            id,
            pid: None,
        }
    }

    fn with_pid(mut self, pid: Option<u32>) -> Self {
        self.pid = pid;
        self
    }

    async fn wait_exit(&self) -> Exit {
        let options = WaitContainerOptionsBuilder::default()
            .condition("not-running")
            .build();
        let mut stream = self.docker.wait_container(&self.name, Some(options));
        let code = match stream.next().await {
            Some(Ok(r)) => r.status_code,
            Some(Err(ApiError::DockerContainerWaitError { code, .. })) => code,
            Some(Err(e)) => {
                return Exit {
                    success: false,
                    description: format!("lost the container: {}", one_line(&e.to_string())),
                };
            }
            None => {
                return Exit {
                    success: false,
                    description: "lost the container".into(),
                };
            }
        };
        Exit {
            success: code == 0,
            description: describe_code(code),
        }
    }
}

/// A container's exit code in words (128+n is signal n).
fn describe_code(code: i64) -> String {
    if code > 128 && code < 160 {
        match nix::sys::signal::Signal::try_from((code - 128) as i32) {
            Ok(s) => format!("killed by {s} (exit code {code})"),
            Err(_) => format!("exit code {code}"),
        }
    } else {
        format!("exit code {code}")
    }
}

impl Proc for ContainerProc {
    fn pid(&self) -> Option<u32> {
        self.pid
    }

    fn container(&self) -> Option<String> {
        self.id.clone()
    }

    fn wait(&mut self) -> BoxFuture<'_, Exit> {
        Box::pin(self.wait_exit())
    }

    fn terminate(&mut self, grace: Duration, signal: StopSignal) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let signal = match signal {
                StopSignal::Term => "SIGTERM",
                StopSignal::Int => "SIGINT",
            };
            let options = KillContainerOptionsBuilder::default()
                .signal(signal)
                .build();
            let _ = self.docker.kill_container(&self.name, Some(options)).await;
            if timeout(grace, self.wait_exit()).await.is_err() {
                warn!(container = %self.name, grace_ms = grace.as_millis() as u64, "did not stop; sending SIGKILL");
                let options = KillContainerOptionsBuilder::default()
                    .signal("SIGKILL")
                    .build();
                let _ = self.docker.kill_container(&self.name, Some(options)).await;
                let _ = self.wait_exit().await;
            }
        })
    }
}

async fn remove_container(docker: &Docker, name: &str) {
    let options = RemoveContainerOptionsBuilder::default().force(true).build();
    let _ = docker.remove_container(name, Some(options)).await;
}

async fn remove_containers(docker: &Docker, devnet: &str) -> Result<usize, DockerError> {
    let containers = list_containers(docker, devnet).await?;
    futures::future::join_all(containers.iter().map(|c| remove_container(docker, &c.name))).await;
    Ok(containers.len())
}

/// A container of a devnet, as `status` and `purge` see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContainerInfo {
    /// Container name.
    pub name: String,
    /// The `opdev.service` label.
    pub service: String,
    /// Short id.
    pub id: String,
    /// Docker's state (`running`, `exited`…).
    pub state: String,
    /// Docker's status text (`Up 3 minutes`…).
    pub status: String,
    /// The image.
    pub image: String,
}

/// Every container carrying `devnet`'s label, running or not.
pub async fn list_containers(
    docker: &Docker,
    devnet: &str,
) -> Result<Vec<ContainerInfo>, DockerError> {
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&devnet_filter(devnet))
        .build();
    let list = docker
        .list_containers(Some(options))
        .await
        .map_err(|e| DockerError::api("list containers", e))?;
    let mut out: Vec<ContainerInfo> = list
        .into_iter()
        .map(|c| {
            let labels = c.labels.unwrap_or_default();
            ContainerInfo {
                name: c
                    .names
                    .unwrap_or_default()
                    .first()
                    .map(|n| n.trim_start_matches('/').to_owned())
                    .unwrap_or_default(),
                service: labels.get(LABEL_SERVICE).cloned().unwrap_or_default(),
                id: c.id.unwrap_or_default().chars().take(12).collect(),
                state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                status: c.status.unwrap_or_default(),
                image: c.image.unwrap_or_default(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Stops every running container of `devnet` (the services' stop signal is SIGTERM; anvil saves
/// its state on it), for a `down` whose supervisor is gone.
pub async fn stop_containers(
    docker: &Docker,
    devnet: &str,
    grace: Duration,
) -> Result<usize, DockerError> {
    let containers = list_containers(docker, devnet).await?;
    let running: Vec<_> = containers.iter().filter(|c| c.state == "running").collect();
    let stops = running.iter().map(|c| {
        let mut proc = ContainerProc::new(docker.clone(), c.name.clone(), None);
        async move { proc.terminate(grace, StopSignal::Term).await }
    });
    futures::future::join_all(stops).await;
    Ok(running.len())
}

/// What `purge` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    /// Containers removed.
    pub containers: usize,
    /// Networks removed.
    pub networks: usize,
    /// Volumes removed.
    pub volumes: usize,
}

/// Removes every container, network and volume carrying `devnet`'s label, and nothing else.
pub async fn purge(docker: &Docker, devnet: &str) -> Result<Purged, DockerError> {
    let containers = remove_containers(docker, devnet).await?;
    let networks = docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::default()
                .filters(&devnet_filter(devnet))
                .build(),
        ))
        .await
        .map_err(|e| DockerError::api("list networks", e))?;
    for n in &networks {
        if let Some(name) = &n.name {
            docker
                .remove_network(name)
                .await
                .map_err(|e| DockerError::api(format!("remove network {name}"), e))?;
        }
    }
    let volumes = docker
        .list_volumes(Some(
            bollard::query_parameters::ListVolumesOptionsBuilder::default()
                .filters(&devnet_filter(devnet))
                .build(),
        ))
        .await
        .map_err(|e| DockerError::api("list volumes", e))?
        .volumes
        .unwrap_or_default();
    for v in &volumes {
        docker
            .remove_volume(
                &v.name,
                None::<bollard::query_parameters::RemoveVolumeOptions>,
            )
            .await
            .map_err(|e| DockerError::api(format!("remove volume {}", v.name), e))?;
    }
    Ok(Purged {
        containers,
        networks: networks.len(),
        volumes: volumes.len(),
    })
}

/// Images opdev built (label `opdev.image`), for tests and cleanup.
pub async fn built_images(docker: &Docker) -> Result<Vec<String>, DockerError> {
    let filters = HashMap::from([("label".to_owned(), vec![LABEL_IMAGE.to_owned()])]);
    let images = docker
        .list_images(Some(
            ListImagesOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(|e| DockerError::api("list images", e))?;
    Ok(images.into_iter().flat_map(|i| i.repo_tags).collect())
}

/// Removes one image by reference.
pub async fn remove_image(docker: &Docker, image: &str) -> Result<(), DockerError> {
    docker
        .remove_image(
            image,
            Some(RemoveImageOptionsBuilder::default().force(true).build()),
            None,
        )
        .await
        .map(drop)
        .map_err(|e| DockerError::api(format!("remove image {image}"), e))
}

/// The output of a service's container through the API: the last `tail` lines (or those since
/// unix time `since`), then (with `follow`) whatever comes until the container stops. Each chunk
/// goes to `out`.
pub async fn container_logs(
    docker: &Docker,
    devnet: &str,
    service: &str,
    tail: usize,
    follow: bool,
    since: Option<i64>,
    mut out: impl FnMut(&[u8]),
) -> Result<(), DockerError> {
    let name = container_name(devnet, service);
    let tail = if tail == usize::MAX {
        "all".to_owned()
    } else {
        tail.to_string()
    };
    let mut options = LogsOptionsBuilder::default()
        .follow(follow)
        .stdout(true)
        .stderr(true)
        .tail(&tail);
    if let Some(since) = since {
        options = options.since(since as i32);
    }
    let mut stream = docker.logs(&name, Some(options.build()));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| DockerError::api(format!("read the logs of {name}"), e))?;
        out(&chunk.into_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_exit_codes() {
        assert_eq!(container_name("dev", "l2-1"), "dev-l2-1");
        assert_eq!(network_name("dev"), "dev-net");
        assert_eq!(describe_code(0), "exit code 0");
        assert_eq!(describe_code(137), "killed by SIGKILL (exit code 137)");
        assert_eq!(describe_code(3), "exit code 3");
        let built = ResolvedImage {
            image: "opdev-local/anvil:0123".into(),
            cached: false,
        };
        assert_eq!(built.program(Path::new("/opt/x/anvil")), "/opt/x/anvil");
        let pulled = ResolvedImage {
            image: "ghcr.io/foundry-rs/foundry:v1.7.1".into(),
            ..built
        };
        assert_eq!(pulled.program(Path::new("/opt/x/anvil")), "anvil");
    }
}
