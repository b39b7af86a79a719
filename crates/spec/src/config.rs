//! The devnet config: what the user asks for ([`Settings`], one layer per source) and what a
//! devnet is ([`DevnetConfig`], every value concrete and validated, saved in the devnet folder).
//!
//! Layers are merged file → `OPDEV_*` environment → flags. A new devnet starts from the defaults;
//! an existing one starts from its saved config, so `opdev up` with no flags resumes exactly what
//! was created, and only the keys the user sets again change.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

use serde::{Deserialize, Serialize};

/// Default devnet name.
pub const DEFAULT_NAME: &str = "opdev";
/// Default L1 chain id.
pub const DEFAULT_L1_CHAIN_ID: u64 = 900;
/// Default chain id of the first L2; the next L2s count up from it.
pub const DEFAULT_L2_CHAIN_ID: u64 = 901;
/// Default L1 JSON-RPC port.
pub const DEFAULT_L1_PORT: u16 = 8545;
/// Default JSON-RPC port of the first L2; the next L2s count up from it.
pub const DEFAULT_L2_PORT: u16 = 9545;
/// Default seconds between L1 blocks.
pub const DEFAULT_L1_BLOCK_TIME: u64 = 1;
/// Default seconds between L2 blocks.
pub const DEFAULT_L2_BLOCK_TIME: u64 = 1;
/// Default seconds between proving a withdrawal and finalizing it (the portal's proof maturity
/// delay): long enough to see each state of a withdrawal, short enough for a test.
pub const DEFAULT_FINALIZATION_PERIOD: u64 = 12;
/// Default L1 confirmations before the relayer relays a deposit: none, since an anvil L1 only
/// reorgs when asked to.
pub const DEFAULT_DEPOSIT_CONFIRMATIONS: u64 = 0;
/// Seconds between two output proposals of one L2 by the lite bridge's relayer.
pub const PROPOSAL_INTERVAL: u64 = 4;
/// Default seconds between periodic saves of chain state: one default block time, so a kill -9
/// loses at most about one block (chosen by `opdev-bench crash-window`; docs/benchmarks.md).
pub const DEFAULT_STATE_INTERVAL: u64 = 1;
/// The most L2s one devnet may have.
pub const MAX_L2: u32 = 8;
/// The longest block time accepted, in seconds.
pub const MAX_BLOCK_TIME: u64 = 3600;
/// opdev's own services and their default ports on 127.0.0.1.
pub const DEFAULT_SERVICE_PORTS: &[(&str, u16)] = &[
    ("explorer", 4000),
    ("faucet", 4001),
    ("indexer", 4002),
    ("exporter", 4003),
    ("relayer", 4004),
    ("postgres", 5433),
    ("prometheus", 9090),
    ("alertmanager", 9093),
];

/// The ports each full-profile L2's rollup services listen on, by role; in
/// [`DevnetConfig::service_ports`] under `{l2}-{role}` (`l2-1-node`…). The `i`-th L2's default is
/// [`ROLLUP_PORT_BASE`] + 10·i + the role's index.
pub const ROLLUP_PORT_ROLES: &[&str] = &[
    "engine",
    "geth-metrics",
    "node",
    "node-metrics",
    "batcher",
    "batcher-metrics",
    "proposer",
    "proposer-metrics",
];

/// See [`ROLLUP_PORT_ROLES`].
pub const ROLLUP_PORT_BASE: u16 = 7300;

/// anvil's standard test mnemonic, the default source of the prefunded dev accounts.
pub const DEFAULT_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// A config error, read after "failed to …" in the CLI: one line, naming the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value outside what the key accepts.
    #[error("invalid {key}: {reason}")]
    Invalid {
        /// The key, as written in opdev.toml.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// opdev.toml could not be read or parsed.
    #[error("invalid config file {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (unknown key, wrong type…).
        reason: String,
    },
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.into(),
    }
}

/// Which chain software a devnet runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// anvil as L1 and as OP-mode L2s.
    #[default]
    Lite,
    /// The real OP Stack: anvil as L1 with the Bedrock contracts, and per L2 op-geth, op-node
    /// (sequencer), op-batcher and op-proposer built from the optimism Go module.
    Full,
}

/// Where a devnet's services run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuntimeKind {
    /// Supervised host processes.
    #[default]
    Native,
    /// Containers through the Docker Engine API.
    Docker,
}

/// How ports are chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortMode {
    /// The configured ports (8545 for the L1, 9545… for the L2s); a busy port is an error.
    #[default]
    Fixed,
    /// Free ports picked when the devnet is created, kept while they stay free.
    Auto,
}

macro_rules! kebab_enum_text {
    ($ty:ty, $key:literal, $($variant:ident => $text:literal),+) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $(Self::$variant => $text),+ })
            }
        }
        impl FromStr for $ty {
            type Err = ConfigError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(invalid(
                        $key,
                        format!("{other:?} is not one of: {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }
    };
}

/// Docker runtime: when a service's pinned image is pulled from its registry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PullPolicy {
    /// Never pull: an image that is not on the machine is built from the service's program on
    /// this machine.
    Never,
    /// Pull an image that is not on the machine; when the pull fails and the service's program is
    /// on this machine, build the image from it instead.
    #[default]
    Missing,
    /// Pull every pinned image at every `up` (a failed pull falls back as for `missing`).
    Always,
}

/// A chain started as a fork of another chain (anvil's fork mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fork {
    /// JSON-RPC URL of the chain forked from (the upstream).
    pub url: String,
    /// The upstream block the fork starts from. Pinned when the devnet is created (the
    /// upstream's head then, unless given), so every `up` forks the same block and loads the
    /// chain's saved state on top.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_number: Option<u64>,
}

kebab_enum_text!(Profile, "profile", Lite => "lite", Full => "full");
kebab_enum_text!(PullPolicy, "pull", Never => "never", Missing => "missing", Always => "always");
kebab_enum_text!(RuntimeKind, "runtime", Native => "native", Docker => "docker");
kebab_enum_text!(PortMode, "ports", Fixed => "fixed", Auto => "auto");

/// One layer of user settings: every key optional. The same keys are accepted in opdev.toml,
/// as `OPDEV_<KEY>` environment variables and as `--<key>` flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Devnet name.
    pub name: Option<String>,
    /// Chain software.
    pub profile: Option<Profile>,
    /// Where services run.
    pub runtime: Option<RuntimeKind>,
    /// Number of L2s.
    pub l2: Option<u32>,
    /// L1 chain id.
    pub l1_chain_id: Option<u64>,
    /// Chain id of the first L2.
    pub l2_chain_id: Option<u64>,
    /// Seconds between L1 blocks (0 = a block per transaction).
    pub l1_block_time: Option<u64>,
    /// Seconds between L2 blocks (0 = a block per transaction).
    pub block_time: Option<u64>,
    /// L1 JSON-RPC port.
    pub l1_port: Option<u16>,
    /// JSON-RPC port of the first L2.
    pub l2_port: Option<u16>,
    /// Fixed or automatically chosen ports.
    pub ports: Option<PortMode>,
    /// BIP39 mnemonic of the prefunded dev accounts.
    pub mnemonic: Option<String>,
    /// anvil executable to use instead of the one on PATH or the pinned download.
    pub anvil_bin: Option<PathBuf>,
    /// Seconds between periodic saves of chain state.
    pub state_interval: Option<u64>,
    /// An existing PostgreSQL server to use instead of running one.
    pub postgres_url: Option<String>,
    /// Run the indexer (and the PostgreSQL it writes to).
    pub indexer: Option<bool>,
    /// Run the faucet.
    pub faucet: Option<bool>,
    /// Run Prometheus, Alertmanager and the chain exporter.
    pub monitoring: Option<bool>,
    /// Ports of opdev's own services, by service name.
    pub service_ports: Option<BTreeMap<String, u16>>,
    /// A webhook URL that receives every alert notification too.
    pub alert_webhook: Option<String>,
    /// Blocks of indexer lag that fire `IndexerLagging` (after a minute).
    pub indexer_lag_alert: Option<u64>,
    /// Seconds an unhealthy condition must last before its alert fires (RpcDown, IndexerLagging,
    /// TargetDown, DiskFillingUp, DepositsStalled).
    pub alert_after: Option<u64>,
    /// Docker runtime: the image to run, by service or tool name.
    pub images: Option<BTreeMap<String, String>>,
    /// The executable to run, by service or tool name (on Docker: an image is built from it).
    pub binaries: Option<BTreeMap<String, PathBuf>>,
    /// Deploy the OP bridge (L1 contracts, L2 predeploys, relayer and proposer).
    pub bridge: Option<bool>,
    /// Seconds between proving a withdrawal and finalizing it.
    pub finalization_period: Option<u64>,
    /// L1 confirmations before a deposit is relayed.
    pub deposit_confirmations: Option<u64>,
    /// Start the L1 as a fork of the chain at this JSON-RPC URL ("" ends a fork: needs --fresh).
    pub fork_url: Option<String>,
    /// The upstream block the L1 fork starts from [default: the upstream's head at creation].
    pub fork_block_number: Option<u64>,
    /// Start L2s as forks, by service name (`l2-1`) to JSON-RPC URL.
    pub l2_fork_url: Option<BTreeMap<String, String>>,
    /// Docker runtime: when pinned images are pulled.
    pub pull: Option<PullPolicy>,
}

impl Settings {
    /// Every key this layer accepts, as written in opdev.toml.
    pub const KEYS: &'static [&'static str] = &[
        "name",
        "profile",
        "runtime",
        "l2",
        "l1_chain_id",
        "l2_chain_id",
        "l1_block_time",
        "block_time",
        "l1_port",
        "l2_port",
        "ports",
        "mnemonic",
        "anvil_bin",
        "state_interval",
        "postgres_url",
        "indexer",
        "bridge",
        "finalization_period",
        "deposit_confirmations",
        "faucet",
        "monitoring",
        "service_ports",
        "alert_webhook",
        "indexer_lag_alert",
        "alert_after",
        "images",
        "binaries",
        "fork_url",
        "fork_block_number",
        "l2_fork_url",
        "pull",
    ];

    /// Parses opdev.toml text; `path` only names the file in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            reason: e.message().trim().replace('\n', " "),
        })
    }

    /// Reads opdev.toml.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::from_toml(&text, path)
    }

    /// This layer with every key that `over` sets taken from `over`.
    pub fn overlay(self, over: Self) -> Self {
        Self {
            name: over.name.or(self.name),
            profile: over.profile.or(self.profile),
            runtime: over.runtime.or(self.runtime),
            l2: over.l2.or(self.l2),
            l1_chain_id: over.l1_chain_id.or(self.l1_chain_id),
            l2_chain_id: over.l2_chain_id.or(self.l2_chain_id),
            l1_block_time: over.l1_block_time.or(self.l1_block_time),
            block_time: over.block_time.or(self.block_time),
            l1_port: over.l1_port.or(self.l1_port),
            l2_port: over.l2_port.or(self.l2_port),
            ports: over.ports.or(self.ports),
            mnemonic: over.mnemonic.or(self.mnemonic),
            anvil_bin: over.anvil_bin.or(self.anvil_bin),
            state_interval: over.state_interval.or(self.state_interval),
            postgres_url: over.postgres_url.or(self.postgres_url),
            indexer: over.indexer.or(self.indexer),
            faucet: over.faucet.or(self.faucet),
            monitoring: over.monitoring.or(self.monitoring),
            bridge: over.bridge.or(self.bridge),
            finalization_period: over.finalization_period.or(self.finalization_period),
            deposit_confirmations: over.deposit_confirmations.or(self.deposit_confirmations),
            service_ports: match (self.service_ports, over.service_ports) {
                (Some(mut base), Some(over)) => {
                    base.extend(over);
                    Some(base)
                }
                (base, over) => over.or(base),
            },
            alert_webhook: over.alert_webhook.or(self.alert_webhook),
            indexer_lag_alert: over.indexer_lag_alert.or(self.indexer_lag_alert),
            alert_after: over.alert_after.or(self.alert_after),
            images: merge(self.images, over.images),
            binaries: merge(self.binaries, over.binaries),
            fork_url: over.fork_url.or(self.fork_url),
            fork_block_number: over.fork_block_number.or(self.fork_block_number),
            l2_fork_url: merge(self.l2_fork_url, over.l2_fork_url),
            pull: over.pull.or(self.pull),
        }
    }

    /// The devnet name these settings select.
    pub fn devnet_name(&self) -> Result<String, ConfigError> {
        let name = self.name.clone().unwrap_or_else(|| DEFAULT_NAME.to_owned());
        validate_name(&name)?;
        Ok(name)
    }
}

/// Two maps merged, `over`'s entries winning.
fn merge<V>(
    base: Option<BTreeMap<String, V>>,
    over: Option<BTreeMap<String, V>>,
) -> Option<BTreeMap<String, V>> {
    match (base, over) {
        (Some(mut base), Some(over)) => {
            base.extend(over);
            Some(base)
        }
        (base, over) => over.or(base),
    }
}

/// Checks a devnet name: 1–40 of `a-z 0-9 - _`, starting with a letter or digit. Names become
/// folder names, container names and label values, so they stay plain.
pub fn validate_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "name",
            format!(
                "{name:?} must be 1-40 characters of a-z, 0-9, '-' and '_', starting with a letter or digit"
            ),
        ))
    }
}

/// One chain of a devnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainConfig {
    /// Service name of the chain's node: `l1`, `l2-1`, `l2-2`…
    pub service: String,
    /// Chain id.
    pub chain_id: u64,
    /// Seconds between blocks; 0 mines a block per transaction.
    pub block_time: u64,
    /// JSON-RPC port (HTTP and WebSocket) on 127.0.0.1.
    pub port: u16,
    /// Set when the chain is a fork of another chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork: Option<Fork>,
}

impl ChainConfig {
    /// HTTP JSON-RPC URL.
    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How opdev's own services are told about this chain (`--chain NAME=ID=URL`).
    pub fn endpoint(&self) -> crate::ChainEndpoint {
        crate::ChainEndpoint {
            name: self.service.clone(),
            chain_id: self.chain_id,
            rpc_url: self.rpc_url(),
        }
    }

    /// WebSocket JSON-RPC URL.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }
}

/// A devnet's resolved config: every value concrete and valid. Saved as `config.toml` in the
/// devnet folder (mode 0600: it holds the mnemonic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevnetConfig {
    /// Devnet name.
    pub name: String,
    /// Chain software.
    pub profile: Profile,
    /// Where services run.
    pub runtime: RuntimeKind,
    /// How ports were chosen.
    pub ports: PortMode,
    /// BIP39 mnemonic of the prefunded dev accounts.
    pub mnemonic: String,
    /// Seconds between periodic saves of chain state.
    pub state_interval: u64,
    /// Docker runtime: when pinned images are pulled.
    #[serde(default)]
    pub pull: PullPolicy,
    /// anvil executable chosen by the user, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anvil_bin: Option<PathBuf>,
    /// Executables by service or tool name (`--binary`, `opdev deploy`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub binaries: BTreeMap<String, PathBuf>,
    /// Docker runtime: images by service or tool name (`--image`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub images: BTreeMap<String, String>,
    /// An existing PostgreSQL server to use instead of running one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres_url: Option<String>,
    /// Run the indexer.
    #[serde(default = "yes")]
    pub indexer: bool,
    /// Run the faucet.
    #[serde(default = "yes")]
    pub faucet: bool,
    /// Run the monitoring stack.
    #[serde(default = "yes")]
    pub monitoring: bool,
    /// Ports of opdev's own services on 127.0.0.1.
    #[serde(default = "default_service_ports")]
    pub service_ports: BTreeMap<String, u16>,
    /// A webhook URL that receives every alert notification too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_webhook: Option<String>,
    /// Blocks of indexer lag that fire `IndexerLagging`.
    #[serde(default = "default_indexer_lag_alert")]
    pub indexer_lag_alert: u64,
    /// Seconds an unhealthy condition must last before its alert fires; `None`: each alert's
    /// default (RpcDown and TargetDown 30 s, IndexerLagging, DiskFillingUp and DepositsStalled
    /// 60 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_after: Option<u64>,
    /// Deploy the OP bridge (a devnet saved before the bridge existed gets it at its next `up`).
    #[serde(default = "yes")]
    pub bridge: bool,
    /// Seconds between proving a withdrawal and finalizing it.
    #[serde(default = "default_finalization_period")]
    pub finalization_period: u64,
    /// L1 confirmations before a deposit is relayed.
    #[serde(default)]
    pub deposit_confirmations: u64,
    /// The L1.
    pub l1: ChainConfig,
    /// The L2s, in order.
    pub l2: Vec<ChainConfig>,
}

impl DevnetConfig {
    /// A new devnet's config: the defaults with `settings` applied.
    pub fn new(settings: &Settings) -> Result<Self, ConfigError> {
        let mut config = Self {
            name: settings.devnet_name()?,
            profile: Profile::default(),
            runtime: RuntimeKind::default(),
            ports: PortMode::default(),
            mnemonic: DEFAULT_MNEMONIC.to_owned(),
            state_interval: DEFAULT_STATE_INTERVAL,
            pull: PullPolicy::default(),
            anvil_bin: None,
            binaries: BTreeMap::new(),
            images: BTreeMap::new(),
            postgres_url: None,
            indexer: true,
            faucet: true,
            monitoring: true,
            service_ports: default_service_ports(),
            alert_webhook: None,
            indexer_lag_alert: default_indexer_lag_alert(),
            alert_after: None,
            bridge: true,
            finalization_period: DEFAULT_FINALIZATION_PERIOD,
            deposit_confirmations: DEFAULT_DEPOSIT_CONFIRMATIONS,
            l1: ChainConfig {
                service: "l1".into(),
                chain_id: DEFAULT_L1_CHAIN_ID,
                block_time: DEFAULT_L1_BLOCK_TIME,
                port: DEFAULT_L1_PORT,
                fork: None,
            },
            l2: Vec::new(),
        };
        config.set_l2s(
            1,
            DEFAULT_L2_CHAIN_ID,
            DEFAULT_L2_BLOCK_TIME,
            DEFAULT_L2_PORT,
        )?;
        config.apply(settings)?;
        Ok(config)
    }

    /// Applies the keys `settings` sets, then validates the whole config.
    pub fn apply(&mut self, settings: &Settings) -> Result<(), ConfigError> {
        if let Some(name) = &settings.name {
            validate_name(name)?;
            self.name.clone_from(name);
        }
        if let Some(profile) = settings.profile {
            self.profile = profile;
        }
        if let Some(runtime) = settings.runtime {
            self.runtime = runtime;
        }
        if let Some(ports) = settings.ports {
            self.ports = ports;
        }
        if let Some(mnemonic) = &settings.mnemonic {
            self.mnemonic = normalize_mnemonic(mnemonic);
        }
        if let Some(interval) = settings.state_interval {
            self.state_interval = interval;
        }
        if let Some(pull) = settings.pull {
            self.pull = pull;
        }
        if let Some(bin) = &settings.anvil_bin {
            self.anvil_bin = Some(bin.clone());
        }
        if let Some(url) = &settings.postgres_url {
            self.postgres_url = Some(url.clone()).filter(|u| !u.is_empty());
        }
        if let Some(on) = settings.indexer {
            self.indexer = on;
        }
        if let Some(on) = settings.faucet {
            self.faucet = on;
        }
        if let Some(on) = settings.monitoring {
            self.monitoring = on;
        }
        if let Some(url) = &settings.alert_webhook {
            self.alert_webhook = Some(url.clone()).filter(|u| !u.is_empty());
        }
        if let Some(blocks) = settings.indexer_lag_alert {
            self.indexer_lag_alert = blocks;
        }
        if let Some(secs) = settings.alert_after {
            self.alert_after = Some(secs);
        }
        if let Some(on) = settings.bridge {
            self.bridge = on;
        }
        if let Some(secs) = settings.finalization_period {
            self.finalization_period = secs;
        }
        if let Some(n) = settings.deposit_confirmations {
            self.deposit_confirmations = n;
        }
        if let Some(images) = &settings.images {
            self.images.extend(images.clone());
        }
        if let Some(binaries) = &settings.binaries {
            self.binaries.extend(binaries.clone());
        }
        if let Some(ports) = &settings.service_ports {
            self.service_ports
                .extend(ports.iter().map(|(k, v)| (k.clone(), *v)));
        }
        if let Some(id) = settings.l1_chain_id {
            self.l1.chain_id = id;
        }
        if let Some(t) = settings.l1_block_time {
            self.l1.block_time = t;
        }
        if let Some(p) = settings.l1_port {
            self.l1.port = p;
        }
        // L2 ids and ports are rebuilt only when a key that shapes them is set again, so ports
        // picked one by one (`ports = "auto"`) survive a plain `up`.
        if settings.l2.is_some() || settings.l2_chain_id.is_some() || settings.l2_port.is_some() {
            let first = self.l2.first();
            let count = settings.l2.unwrap_or(self.l2.len() as u32);
            let chain_id = settings
                .l2_chain_id
                .or(first.map(|c| c.chain_id))
                .unwrap_or(DEFAULT_L2_CHAIN_ID);
            let block_time = first.map_or(DEFAULT_L2_BLOCK_TIME, |c| c.block_time);
            let port = settings
                .l2_port
                .or(first.map(|c| c.port))
                .unwrap_or(DEFAULT_L2_PORT);
            self.set_l2s(count, chain_id, block_time, port)?;
        }
        if let Some(block_time) = settings.block_time {
            self.l2.iter_mut().for_each(|c| c.block_time = block_time);
        }
        self.apply_forks(settings)?;
        self.set_rollup_ports();
        self.validate()
    }

    /// Gives every full-profile L2 its rollup ports (defaults where none is set yet), and drops
    /// those of L2s or profiles that have none.
    fn set_rollup_ports(&mut self) {
        let wanted: Vec<(String, u16)> = if self.profile == Profile::Full {
            self.l2
                .iter()
                .enumerate()
                .flat_map(|(i, l2)| {
                    ROLLUP_PORT_ROLES.iter().enumerate().map(move |(k, role)| {
                        (
                            format!("{}-{role}", l2.service),
                            ROLLUP_PORT_BASE + 10 * i as u16 + k as u16,
                        )
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        self.service_ports.retain(|key, _| {
            DEFAULT_SERVICE_PORTS.iter().any(|(s, _)| s == key)
                || wanted.iter().any(|(w, _)| w == key)
        });
        for (key, port) in wanted {
            self.service_ports.entry(key).or_insert(port);
        }
    }

    /// The port of the rollup service `role` (one of [`ROLLUP_PORT_ROLES`]) of the L2 `l2`.
    pub fn rollup_port(&self, l2: &str, role: &str) -> u16 {
        self.service_port(&format!("{l2}-{role}"))
    }

    /// The rollup ports of this config, `({l2}-{role}, port)`.
    fn rollup_ports(&self) -> Vec<(String, u16)> {
        if self.profile != Profile::Full {
            return Vec::new();
        }
        self.l2
            .iter()
            .flat_map(|l2| {
                ROLLUP_PORT_ROLES.iter().map(move |role| {
                    let key = format!("{}-{role}", l2.service);
                    let port = self.service_port(&key);
                    (key, port)
                })
            })
            .collect()
    }

    /// Fork settings: `fork_url` and `fork_block_number` for the L1, `l2_fork_url` for L2s.
    fn apply_forks(&mut self, settings: &Settings) -> Result<(), ConfigError> {
        if let Some(url) = &settings.fork_url {
            self.l1.fork = next_fork(self.l1.fork.take(), url, settings.fork_block_number);
        } else if let Some(number) = settings.fork_block_number {
            match &mut self.l1.fork {
                Some(fork) => fork.block_number = Some(number),
                None => {
                    return Err(invalid(
                        "fork_block_number",
                        "only applies with fork_url (--fork-url)",
                    ));
                }
            }
        }
        for (service, url) in settings.l2_fork_url.iter().flatten() {
            let Some(l2) = self.l2.iter_mut().find(|c| c.service == *service) else {
                let known: Vec<&str> = self.l2.iter().map(|c| c.service.as_str()).collect();
                return Err(invalid(
                    "l2_fork_url",
                    format!(
                        "{service:?} is not an L2 of this devnet ({})",
                        known.join(", ")
                    ),
                ));
            };
            l2.fork = next_fork(l2.fork.take(), url, None);
        }
        Ok(())
    }

    fn set_l2s(
        &mut self,
        count: u32,
        first_chain_id: u64,
        block_time: u64,
        first_port: u16,
    ) -> Result<(), ConfigError> {
        if !(1..=MAX_L2).contains(&count) {
            return Err(invalid(
                "l2",
                format!("{count} L2s; a devnet has 1 to {MAX_L2}"),
            ));
        }
        let last_id = first_chain_id.checked_add(u64::from(count) - 1);
        if first_chain_id == 0 || last_id.is_none() {
            return Err(invalid(
                "l2_chain_id",
                format!("{first_chain_id} is out of range"),
            ));
        }
        let last_port = u32::from(first_port) + count - 1;
        if first_port == 0 || last_port > u32::from(u16::MAX) {
            return Err(invalid(
                "l2_port",
                format!("{first_port} leaves no room for {count} L2s"),
            ));
        }
        let forks: BTreeMap<String, Fork> = self
            .l2
            .iter()
            .filter_map(|c| Some((c.service.clone(), c.fork.clone()?)))
            .collect();
        self.l2 = (0..count)
            .map(|i| {
                let service = format!("l2-{}", i + 1);
                ChainConfig {
                    fork: forks.get(&service).cloned(),
                    service,
                    chain_id: first_chain_id + u64::from(i),
                    block_time,
                    port: first_port + i as u16,
                }
            })
            .collect();
        Ok(())
    }

    /// Checks everything that can be checked without the outside world.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_name(&self.name)?;
        if self.l1.chain_id == 0 {
            return Err(invalid("l1_chain_id", "0 is not a valid chain id"));
        }
        if let Some(l2) = self.l2.iter().find(|c| c.chain_id == self.l1.chain_id) {
            return Err(invalid(
                "l2_chain_id",
                format!("{} ({}) is also the L1's chain id", l2.chain_id, l2.service),
            ));
        }
        for (key, chain) in std::iter::once(("l1_block_time", &self.l1))
            .chain(self.l2.iter().map(|c| ("block_time", c)))
        {
            if chain.block_time > MAX_BLOCK_TIME {
                return Err(invalid(
                    key,
                    format!(
                        "{}s is longer than the {MAX_BLOCK_TIME}s limit",
                        chain.block_time
                    ),
                ));
            }
        }
        if self.l1.port == 0 {
            return Err(invalid(
                "l1_port",
                "port 0 is not allowed; use ports = \"auto\"",
            ));
        }
        if let Some(l2) = self.l2.iter().find(|c| c.port == self.l1.port) {
            return Err(invalid(
                "l2_port",
                format!("{} ({}) is also the L1's port", l2.port, l2.service),
            ));
        }
        let rollup = self.rollup_ports();
        for (service, port) in &self.service_ports {
            if !DEFAULT_SERVICE_PORTS.iter().any(|(s, _)| s == service)
                && !rollup.iter().any(|(r, _)| r == service)
            {
                let known: Vec<&str> = DEFAULT_SERVICE_PORTS.iter().map(|(s, _)| *s).collect();
                return Err(invalid(
                    "service_ports",
                    format!(
                        "{service:?} is not a service; services with ports: {}",
                        known.join(", ")
                    ),
                ));
            }
            if *port == 0 && self.ports == PortMode::Fixed {
                return Err(invalid(
                    "service_ports",
                    format!("port 0 for {service}; use ports = \"auto\""),
                ));
            }
        }
        let mut seen: BTreeMap<u16, String> = BTreeMap::new();
        for (service, port) in self.ports_in_use() {
            if port == 0 {
                continue;
            }
            if let Some(other) = seen.insert(port, service.clone()) {
                return Err(invalid(
                    "ports",
                    format!("{other} and {service} both use port {port}"),
                ));
            }
        }
        if let Some(url) = &self.postgres_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "postgres_url",
                "must start with postgres:// or postgresql://",
            ));
        }
        if let Some(url) = &self.alert_webhook
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(invalid(
                "alert_webhook",
                "must be an http:// or https:// URL",
            ));
        }
        if self.alert_after.is_some_and(|s| s == 0 || s > 86_400) {
            return Err(invalid("alert_after", "must be 1 to 86400 seconds"));
        }
        if self.indexer_lag_alert == 0 {
            return Err(invalid("indexer_lag_alert", "must be at least 1 block"));
        }
        for chain in self.chains() {
            if let Some(fork) = &chain.fork
                && !(fork.url.starts_with("http://") || fork.url.starts_with("https://"))
            {
                let key = if chain.service == self.l1.service {
                    "fork_url"
                } else {
                    "l2_fork_url"
                };
                return Err(invalid(
                    key,
                    format!(
                        "{:?} ({}) must be an http:// or https:// URL",
                        fork.url, chain.service
                    ),
                ));
            }
        }
        if self.finalization_period > 7 * 86_400 {
            return Err(invalid(
                "finalization_period",
                format!("{}s is longer than a week", self.finalization_period),
            ));
        }
        if self.deposit_confirmations > 256 {
            return Err(invalid(
                "deposit_confirmations",
                format!("{} is more than 256 blocks", self.deposit_confirmations),
            ));
        }
        if self.state_interval == 0 {
            return Err(invalid("state_interval", "must be at least 1 second"));
        }
        if self.profile == Profile::Full {
            if !self.bridge {
                return Err(invalid(
                    "bridge",
                    "the full profile's L2s derive from their L1 contracts: it always has the bridge (drop --no-bridge)",
                ));
            }
            if let Some(chain) = self.l2.iter().find(|c| c.fork.is_some()) {
                return Err(invalid(
                    "l2_fork_url",
                    format!(
                        "{} runs op-geth from its own genesis in the full profile; fork the L1 only",
                        chain.service
                    ),
                ));
            }
            if let Some(chain) = self.l2.iter().find(|c| c.block_time == 0) {
                return Err(invalid(
                    "block_time",
                    format!(
                        "{}: op-node needs a block time of at least 1 second",
                        chain.service
                    ),
                ));
            }
            if self.l1.block_time == 0 {
                return Err(invalid(
                    "l1_block_time",
                    "the full profile's L1 must make blocks on its own (op-node and the batcher wait for them)",
                ));
            }
        }
        let words = self.mnemonic.split(' ').count();
        if ![12, 15, 18, 21, 24].contains(&words) {
            return Err(invalid(
                "mnemonic",
                format!("has {words} words; BIP39 uses 12 to 24"),
            ));
        }
        Ok(())
    }

    /// Whether the devnet needs PostgreSQL (the indexer or the faucet writes to it).
    pub fn needs_database(&self) -> bool {
        self.indexer || self.faucet
    }

    /// Whether opdev runs its own PostgreSQL (needed, and no external URL given).
    pub fn runs_postgres(&self) -> bool {
        self.needs_database() && self.postgres_url.is_none()
    }

    /// The services of opdev's own that this config runs and that listen on a port.
    pub fn port_services(&self) -> Vec<&'static str> {
        DEFAULT_SERVICE_PORTS
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| match *s {
                "postgres" => self.runs_postgres(),
                "indexer" => self.indexer,
                "faucet" => self.faucet,
                "explorer" => self.indexer,
                "exporter" | "prometheus" | "alertmanager" => self.monitoring,
                // The lite bridge's relayer (crates/profiles/src/bridge.rs); the full profile's
                // op-node derives deposits and op-proposer proposes.
                "relayer" => self.bridge && self.profile == Profile::Lite,
                _ => false,
            })
            .collect()
    }

    /// The port of one of opdev's own services.
    pub fn service_port(&self, service: &str) -> u16 {
        self.service_ports.get(service).copied().unwrap_or_default()
    }

    /// Every (service, port) this config runs: chains, then opdev's own services.
    pub fn ports_in_use(&self) -> Vec<(String, u16)> {
        let mut out: Vec<(String, u16)> =
            self.chains().map(|c| (c.service.clone(), c.port)).collect();
        out.extend(
            self.port_services()
                .into_iter()
                .map(|s| (s.to_owned(), self.service_port(s))),
        );
        out.extend(self.rollup_ports());
        out
    }

    /// Sets the port of a chain or of one of opdev's own services.
    pub fn set_port(&mut self, service: &str, port: u16) {
        if let Some(chain) = self.chains_mut().find(|c| c.service == service) {
            chain.port = port;
        } else {
            self.service_ports.insert(service.to_owned(), port);
        }
    }

    /// Every chain, the L1 first.
    pub fn chains(&self) -> impl Iterator<Item = &ChainConfig> {
        std::iter::once(&self.l1).chain(&self.l2)
    }

    /// Every chain, mutable, the L1 first.
    pub fn chains_mut(&mut self) -> impl Iterator<Item = &mut ChainConfig> {
        std::iter::once(&mut self.l1).chain(&mut self.l2)
    }

    /// The chain with this service name or chain id.
    pub fn chain(&self, service_or_id: &str) -> Option<&ChainConfig> {
        self.chains()
            .find(|c| c.service == service_or_id || c.chain_id.to_string() == service_or_id)
    }

    /// The keys whose change would need a new chain (`--fresh`) going from `self` to `next`.
    pub fn identity_changes(&self, next: &Self) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if self.profile != next.profile {
            changed.push("profile");
        }
        if self.l1.chain_id != next.l1.chain_id {
            changed.push("l1_chain_id");
        }
        if self.l2.len() != next.l2.len() {
            changed.push("l2");
        } else if self
            .l2
            .iter()
            .zip(&next.l2)
            .any(|(a, b)| a.chain_id != b.chain_id)
        {
            changed.push("l2_chain_id");
        }
        if self.mnemonic != next.mnemonic {
            changed.push("mnemonic");
        }
        if self.l1.fork != next.l1.fork {
            changed.push("fork_url");
        }
        if self.l2.len() == next.l2.len()
            && self.l2.iter().zip(&next.l2).any(|(a, b)| a.fork != b.fork)
        {
            changed.push("l2_fork_url");
        }
        // The bridge's contracts are made for these: the portal holds the period, the L2s'
        // predeploys point at the L1 contracts of one deployment.
        if self.bridge && next.bridge && self.finalization_period != next.finalization_period {
            changed.push("finalization_period");
        }
        changed
    }

    /// Reads a saved config. A service that got a port after the devnet was saved (the relayer)
    /// gets its default port, which `up` moves when it is taken and ports are automatic.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let mut config: Self = toml::from_str(text).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            reason: e.message().trim().replace('\n', " "),
        })?;
        for (service, port) in DEFAULT_SERVICE_PORTS {
            config
                .service_ports
                .entry((*service).to_owned())
                .or_insert(*port);
        }
        config.set_rollup_ports();
        config.validate()?;
        Ok(config)
    }

    /// The text saved as `config.toml`.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a DevnetConfig always serializes")
    }
}

/// A chain's fork after the user names `url` again: unchanged when it is the same upstream and no
/// block is given (the block pinned at creation stays), none when `url` is empty.
fn next_fork(old: Option<Fork>, url: &str, block_number: Option<u64>) -> Option<Fork> {
    if url.is_empty() {
        return None;
    }
    match old {
        Some(fork) if fork.url == url && block_number.is_none() => Some(fork),
        _ => Some(Fork {
            url: url.to_owned(),
            block_number,
        }),
    }
}

fn default_finalization_period() -> u64 {
    DEFAULT_FINALIZATION_PERIOD
}

fn default_indexer_lag_alert() -> u64 {
    10
}

fn yes() -> bool {
    true
}

fn default_service_ports() -> BTreeMap<String, u16> {
    DEFAULT_SERVICE_PORTS
        .iter()
        .map(|(s, p)| ((*s).to_owned(), *p))
        .collect()
}

/// Collapses runs of whitespace so that a mnemonic pasted across lines still matches.
fn normalize_mnemonic(m: &str) -> String {
    m.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_make_one_l2() {
        let c = DevnetConfig::new(&Settings::default()).unwrap();
        assert_eq!(c.name, "opdev");
        assert_eq!((c.l1.chain_id, c.l1.port, c.l1.block_time), (900, 8545, 1));
        assert_eq!(c.l2.len(), 1);
        assert_eq!(
            (c.l2[0].service.as_str(), c.l2[0].chain_id, c.l2[0].port),
            ("l2-1", 901, 9545)
        );
    }

    #[test]
    fn l2s_count_up_ids_and_ports() {
        let s = Settings {
            l2: Some(3),
            l2_chain_id: Some(1000),
            ..Default::default()
        };
        let c = DevnetConfig::new(&s).unwrap();
        let ids: Vec<_> = c.l2.iter().map(|c| (c.chain_id, c.port)).collect();
        assert_eq!(ids, [(1000, 9545), (1001, 9546), (1002, 9547)]);
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            (
                Settings {
                    l2: Some(0),
                    ..Default::default()
                },
                "l2",
            ),
            (
                Settings {
                    l2: Some(9),
                    ..Default::default()
                },
                "l2",
            ),
            (
                Settings {
                    l1_chain_id: Some(0),
                    ..Default::default()
                },
                "l1_chain_id",
            ),
            (
                Settings {
                    l2_chain_id: Some(900),
                    ..Default::default()
                },
                "l2_chain_id",
            ),
            (
                Settings {
                    l2_chain_id: Some(u64::MAX),
                    l2: Some(2),
                    ..Default::default()
                },
                "l2_chain_id",
            ),
            (
                Settings {
                    block_time: Some(4000),
                    ..Default::default()
                },
                "block_time",
            ),
            (
                Settings {
                    l1_block_time: Some(4000),
                    ..Default::default()
                },
                "l1_block_time",
            ),
            (
                Settings {
                    l2_port: Some(8545),
                    ..Default::default()
                },
                "l2_port",
            ),
            (
                Settings {
                    l2_port: Some(65535),
                    l2: Some(2),
                    ..Default::default()
                },
                "l2_port",
            ),
            (
                Settings {
                    mnemonic: Some("one two".into()),
                    ..Default::default()
                },
                "mnemonic",
            ),
            (
                Settings {
                    name: Some("Bad Name".into()),
                    ..Default::default()
                },
                "name",
            ),
            (
                Settings {
                    state_interval: Some(0),
                    ..Default::default()
                },
                "state_interval",
            ),
        ];
        for (settings, key) in cases {
            match DevnetConfig::new(&settings) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key, "{settings:?}"),
                other => panic!("{settings:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_file_key_is_an_error_naming_it() {
        let err =
            Settings::from_toml("l2 = 2\nblok_time = 3\n", Path::new("opdev.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("opdev.toml") && msg.contains("blok_time"),
            "{msg}"
        );
    }

    #[test]
    fn keys_list_matches_the_struct() {
        let s = Settings {
            name: Some("x".into()),
            ..Default::default()
        };
        let table = toml::to_string(&s).unwrap();
        assert!(table.starts_with("name"));
        for key in Settings::KEYS {
            let text = format!("{key} = 1");
            let err = Settings::from_toml(&text, Path::new("f"))
                .err()
                .map(|e| e.to_string());
            assert!(
                !err.unwrap_or_default().contains("unknown field"),
                "{key} is not a field"
            );
        }
    }

    #[test]
    fn existing_devnet_keeps_its_values_unless_set_again() {
        let mut c = DevnetConfig::new(&Settings {
            l2: Some(3),
            ..Default::default()
        })
        .unwrap();
        let before = c.clone();
        c.apply(&Settings::default()).unwrap();
        assert_eq!(c, before);
        c.apply(&Settings {
            block_time: Some(2),
            ..Default::default()
        })
        .unwrap();
        assert!(before.identity_changes(&c).is_empty());
        assert!(c.l2.iter().all(|l2| l2.block_time == 2));
        c.apply(&Settings {
            l2: Some(2),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(before.identity_changes(&c), ["l2"]);
    }

    #[test]
    fn saved_config_round_trips() {
        let c = DevnetConfig::new(&Settings {
            l2: Some(2),
            ..Default::default()
        })
        .unwrap();
        let text = c.to_toml();
        assert_eq!(DevnetConfig::from_toml(&text, Path::new("c")).unwrap(), c);
    }

    #[test]
    fn a_fork_is_pinned_kept_and_changed_only_with_fresh() {
        let url = "http://127.0.0.1:7000";
        let mut c = DevnetConfig::new(&Settings {
            l2: Some(2),
            fork_url: Some(url.into()),
            l2_fork_url: Some(BTreeMap::from([("l2-2".into(), url.into())])),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.l1.fork.as_ref().unwrap().url, url);
        assert!(c.l2[0].fork.is_none() && c.l2[1].fork.is_some());
        // The orchestrator pins the upstream's head at creation.
        c.l1.fork.as_mut().unwrap().block_number = Some(42);
        let saved = c.clone();
        // Naming the same upstream again keeps the pinned block; more L2s keep l2-2's fork.
        c.apply(&Settings {
            fork_url: Some(url.into()),
            block_time: Some(2),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.l1.fork.as_ref().unwrap().block_number, Some(42));
        assert!(saved.identity_changes(&c).is_empty());
        let text = c.to_toml();
        assert_eq!(DevnetConfig::from_toml(&text, Path::new("c")).unwrap(), c);
        for (settings, key) in [
            (
                Settings {
                    fork_url: Some("http://127.0.0.1:7001".into()),
                    ..Default::default()
                },
                "fork_url",
            ),
            (
                Settings {
                    fork_block_number: Some(7),
                    ..Default::default()
                },
                "fork_url",
            ),
            (
                Settings {
                    fork_url: Some(String::new()),
                    ..Default::default()
                },
                "fork_url",
            ),
            (
                Settings {
                    l2_fork_url: Some(BTreeMap::from([("l2-1".into(), url.into())])),
                    ..Default::default()
                },
                "l2_fork_url",
            ),
        ] {
            let mut next = saved.clone();
            next.apply(&settings).unwrap();
            assert_eq!(saved.identity_changes(&next), [key], "{settings:?}");
        }
    }

    #[test]
    fn bad_fork_settings_are_named() {
        let cases = [
            (
                Settings {
                    fork_url: Some("ftp://127.0.0.1:1".into()),
                    ..Default::default()
                },
                "fork_url",
            ),
            (
                Settings {
                    fork_block_number: Some(3),
                    ..Default::default()
                },
                "fork_block_number",
            ),
            (
                Settings {
                    l2_fork_url: Some(BTreeMap::from([("l2-4".into(), "http://x".into())])),
                    ..Default::default()
                },
                "l2_fork_url",
            ),
        ];
        for (settings, key) in cases {
            match DevnetConfig::new(&settings) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key, "{settings:?}"),
                other => panic!("{settings:?} gave {other:?}"),
            }
        }
        assert_eq!("never".parse::<PullPolicy>().unwrap(), PullPolicy::Never);
        assert!("sometimes".parse::<PullPolicy>().is_err());
    }

    #[test]
    fn the_relayer_has_a_port_when_the_lite_bridge_runs() {
        let c = DevnetConfig::new(&Settings::default()).unwrap();
        assert!(c.port_services().contains(&"relayer"));
        assert_eq!(c.service_port("relayer"), 4004);
        for settings in [
            Settings {
                bridge: Some(false),
                ..Default::default()
            },
            Settings {
                profile: Some(Profile::Full),
                ..Default::default()
            },
        ] {
            let c = DevnetConfig::new(&settings).unwrap();
            assert!(!c.port_services().contains(&"relayer"), "{settings:?}");
        }
    }

    #[test]
    fn a_config_saved_before_a_service_had_a_port_gets_its_default() {
        let mut c = DevnetConfig::new(&Settings::default()).unwrap();
        c.service_ports.remove("relayer");
        let back = DevnetConfig::from_toml(&c.to_toml(), Path::new("c")).unwrap();
        assert_eq!(back.service_port("relayer"), 4004);
    }

    #[test]
    fn enum_text_parses_and_rejects() {
        assert_eq!("auto".parse::<PortMode>().unwrap(), PortMode::Auto);
        let err = "docker2".parse::<RuntimeKind>().unwrap_err().to_string();
        assert!(err.contains("native, docker"), "{err}");
    }
}
