//! Profiles turn a resolved [`DevnetConfig`] into the graph of [`ServiceSpec`]s a runtime runs.
//! A profile never starts anything and never touches the disk: the same inputs always give the
//! same specs, so `up --plan` shows exactly what `up` does. One file per service family: the
//! chains ([`lite`]), the bridge between them ([`bridge`]), the database ([`data`]), opdev's own
//! services ([`own`]), monitoring ([`monitoring`]).

use std::path::PathBuf;

use opdev_spec::{DevnetConfig, Profile, RuntimeKind, ServiceSpec};

pub mod bridge;
pub mod data;
pub mod full;
pub mod lite;
pub mod monitoring;
pub mod own;

/// Paths of the external tools a profile needs, resolved by the orchestrator beforehand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// The anvil executable.
    pub anvil: PathBuf,
    /// The opdev executable, which runs opdev's own services (`opdev serve …`).
    pub opdev: PathBuf,
    /// PostgreSQL's server programs folder, when the devnet runs its own PostgreSQL.
    pub postgres: Option<PathBuf>,
    /// Prometheus, when monitoring is on.
    pub prometheus: Option<PathBuf>,
    /// Alertmanager, when monitoring is on.
    pub alertmanager: Option<PathBuf>,
    /// The npm package `@eth-optimism/contracts-bedrock`, when the devnet has a bridge.
    pub contracts: Option<PathBuf>,
    /// op-geth, op-node, op-batcher and op-proposer, for the full profile.
    pub op_stack: Option<full::OpStackTools>,
}

/// Secrets generated for the devnet (kept 0600 in its `secrets/` folder).
#[derive(Clone, PartialEq, Eq)]
pub struct Secrets {
    /// Folder holding the secret files.
    pub dir: PathBuf,
    /// Password of the `opdev` role of the devnet's PostgreSQL.
    pub postgres_password: String,
    /// Private key (0x hex) of the faucet's account.
    pub faucet_key: String,
    /// Address of the faucet's account (derived from the key by the orchestrator).
    pub faucet_address: String,
    /// Private key (0x hex) of the bridge's proposer, the only creator of dispute games.
    pub proposer_key: String,
    /// Address of the proposer (derived from the key by the orchestrator).
    pub proposer_address: String,
    /// Private key of the full profile's contract deployer: an account of this devnet alone,
    /// whose first transaction is the deployment, so the contracts land where
    /// [`RollupAccounts::game_factory`] says.
    pub deployer_key: String,
    /// The full profile's operators, one per L2 in order (empty in the lite profile).
    pub rollup: Vec<RollupAccounts>,
}

/// The accounts and secrets that run one full-profile L2 (keys as 0x hex, addresses derived by
/// the orchestrator).
#[derive(Clone, PartialEq, Eq)]
pub struct RollupAccounts {
    /// op-batcher's key.
    pub batcher_key: String,
    /// Its address (SystemConfig's batcher).
    pub batcher: String,
    /// op-proposer's key.
    pub proposer_key: String,
    /// Its address (the only creator of the L2's games).
    pub proposer: String,
    /// op-node's sequencer (block-signing) key.
    pub sequencer_key: String,
    /// Its address (SystemConfig's unsafe block signer).
    pub sequencer: String,
    /// The Engine API's JWT secret file, shared by op-geth and op-node (0600).
    pub jwt_file: PathBuf,
    /// The L1 address of the L2's DisputeGameFactory, as the deployment will make it.
    pub game_factory: String,
}

impl std::fmt::Debug for RollupAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollupAccounts")
            .field("batcher", &self.batcher)
            .field("proposer", &self.proposer)
            .field("sequencer", &self.sequencer)
            .field("game_factory", &self.game_factory)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Secrets {
    /// The file initdb reads the PostgreSQL password from.
    pub fn postgres_password_file(&self) -> PathBuf {
        self.dir.join("postgres.password")
    }
}

/// Everything a profile reads.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The devnet's config.
    pub config: &'a DevnetConfig,
    /// Resolved tools.
    pub tools: &'a Tools,
    /// The devnet's secrets.
    pub secrets: &'a Secrets,
    /// The devnet's folder.
    pub root: &'a std::path::Path,
}

/// Why a profile could not build its services.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The profile exists in the config model but is not built yet.
    #[error("profile '{0}' is not available in this version of opdev")]
    Unavailable(Profile),
    /// An image or binary was given for a service or tool the devnet does not run.
    #[error(
        "use an image or binary for {key}: this devnet runs no service or tool of that name (it runs: {known})"
    )]
    UnknownService {
        /// The name given.
        key: String,
        /// The services and tools it could have been.
        known: String,
    },
}

/// The services of `config`'s profile, dependencies before dependents.
pub fn services(inputs: Inputs<'_>) -> Result<Vec<ServiceSpec>, ProfileError> {
    let config = inputs.config;
    let mut specs = match config.profile {
        Profile::Lite => lite::services(config, inputs.tools),
        Profile::Full if inputs.tools.op_stack.is_none() => {
            return Err(ProfileError::Unavailable(Profile::Full));
        }
        Profile::Full => full::services(inputs),
    };
    specs.extend(bridge::services(inputs));
    specs.extend(data::services(inputs));
    specs.extend(own::services(inputs));
    specs.extend(monitoring::services(inputs, inputs.root));
    for spec in &mut specs {
        let binary = config
            .binaries
            .get(&spec.name)
            .or_else(|| config.binaries.get(&spec.artifact.tool));
        if let Some(binary) = binary {
            spec.artifact.binary.clone_from(binary);
        }
        if config.runtime == RuntimeKind::Docker {
            spec.artifact.image = image_of(config, spec, binary.is_some());
        }
    }
    for key in config.binaries.keys().chain(config.images.keys()) {
        if !specs
            .iter()
            .any(|s| s.name == *key || s.artifact.tool == *key)
        {
            let mut names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            for s in &specs {
                if !names.contains(&s.artifact.tool.as_str()) {
                    names.push(&s.artifact.tool);
                }
            }
            return Err(ProfileError::UnknownService {
                key: key.clone(),
                known: names.join(", "),
            });
        }
    }
    Ok(specs)
}

/// The image a service runs on the Docker runtime: the one named for it (by service, then tool);
/// none (build from the binary) when the user gave a binary or for opdev's own services; else the
/// tool's pinned default.
fn image_of(config: &DevnetConfig, spec: &ServiceSpec, own_binary: bool) -> Option<String> {
    if let Some(image) = config
        .images
        .get(&spec.name)
        .or_else(|| config.images.get(&spec.artifact.tool))
    {
        return Some(image.clone());
    }
    if own_binary {
        return None;
    }
    opdev_spec::images::default_image(&spec.artifact.tool).map(str::to_owned)
}

/// The PostgreSQL URL the devnet's services use (with the password).
pub fn database_url(config: &DevnetConfig, secrets: &Secrets) -> Option<String> {
    if !config.needs_database() {
        return None;
    }
    Some(match &config.postgres_url {
        Some(url) => url.clone(),
        None => format!(
            "postgres://opdev:{}@127.0.0.1:{}/postgres",
            secrets.postgres_password,
            config.service_port("postgres")
        ),
    })
}

/// The same URL with the password replaced by `***`, for display.
pub fn masked_database_url(config: &DevnetConfig, secrets: &Secrets) -> Option<String> {
    let url = database_url(config, secrets)?;
    Some(match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url,
            }
        }
        _ => url,
    })
}

#[cfg(test)]
pub(crate) fn test_inputs(config: &DevnetConfig) -> (Tools, Secrets) {
    (
        Tools {
            anvil: "/opt/anvil".into(),
            opdev: "/opt/opdev".into(),
            postgres: Some("/usr/lib/postgresql/15/bin".into()),
            prometheus: Some("/usr/bin/prometheus".into()),
            alertmanager: Some("/usr/bin/prometheus-alertmanager".into()),
            contracts: Some("/c/contracts-bedrock".into()),
            op_stack: Some(full::OpStackTools {
                op_geth: "/o/op-geth".into(),
                op_node: "/o/op-node".into(),
                op_batcher: "/o/op-batcher".into(),
                op_proposer: "/o/op-proposer".into(),
            }),
        },
        Secrets {
            dir: "/d/secrets".into(),
            postgres_password: "pw".into(),
            faucet_key: "0x01".into(),
            faucet_address: "0xfau".into(),
            proposer_key: "0x02".into(),
            proposer_address: "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF".into(),
            deployer_key: "0xdeployerkey".into(),
            rollup: (1..=config.l2.len())
                .map(|i| RollupAccounts {
                    batcher_key: format!("0xbatcherkey{i}"),
                    batcher: format!("0xba{i}"),
                    proposer_key: format!("0xproposerkey{i}"),
                    proposer: format!("0xpr{i}"),
                    sequencer_key: format!("0xsequencerkey{i}"),
                    sequencer: format!("0xse{i}"),
                    jwt_file: format!("/d/secrets/l2-{i}.jwt").into(),
                    game_factory: format!("0xfa{i}"),
                })
                .collect(),
        },
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use opdev_spec::{RuntimeKind, Settings};

    use super::*;

    fn specs(settings: Settings) -> Result<Vec<ServiceSpec>, ProfileError> {
        let config = DevnetConfig::new(&settings).unwrap();
        let (tools, secrets) = test_inputs(&config);
        services(Inputs {
            config: &config,
            tools: &tools,
            secrets: &secrets,
            root: std::path::Path::new("/d"),
        })
    }

    fn artifact(specs: &[ServiceSpec], name: &str) -> Artifact {
        specs
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .artifact
            .clone()
    }

    use opdev_spec::Artifact;

    #[test]
    fn docker_images_come_from_service_then_tool_then_binary_then_the_table() {
        let specs = specs(Settings {
            runtime: Some(RuntimeKind::Docker),
            l2: Some(2),
            images: Some(BTreeMap::from([
                ("anvil".into(), "my/anvil:1".into()),
                ("l2-2".into(), "my/l2:2".into()),
            ])),
            binaries: Some(BTreeMap::from([(
                "postgres".into(),
                "/opt/pg/bin/postgres".into(),
            )])),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(artifact(&specs, "l1").image.as_deref(), Some("my/anvil:1"));
        assert_eq!(artifact(&specs, "l2-2").image.as_deref(), Some("my/l2:2"));
        let pg = artifact(&specs, "postgres");
        assert_eq!(pg.image, None, "a binary means: build an image from it");
        assert_eq!(pg.binary, std::path::Path::new("/opt/pg/bin/postgres"));
        assert_eq!(
            artifact(&specs, "indexer").image,
            None,
            "opdev's own: built"
        );
        assert_eq!(
            artifact(&specs, "prometheus").image.as_deref(),
            opdev_spec::images::default_image("prometheus")
        );
    }

    #[test]
    fn native_specs_name_no_image_and_unknown_names_are_refused() {
        let native = specs(Settings::default()).unwrap();
        assert!(native.iter().all(|s| s.artifact.image.is_none()));
        let err = specs(Settings {
            binaries: Some(BTreeMap::from([("l9".into(), "/bin/true".into())])),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("l9") && err.contains("l2-1") && err.contains("anvil"),
            "{err}"
        );
    }
}
