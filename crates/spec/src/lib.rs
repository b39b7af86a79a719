//! opdev's data model, shared by every other crate: the devnet config as the user writes it and
//! as it is saved ([`config`]), the [`ServiceSpec`] that profiles produce and runtimes run
//! ([`service`]), and the table of pinned external versions ([`versions`]).

pub mod config;
pub mod endpoint;
pub mod images;
pub mod service;
pub mod versions;

pub use config::{
    ChainConfig, ConfigError, DevnetConfig, Fork, PortMode, Profile, PullPolicy, RuntimeKind,
    Settings,
};
pub use endpoint::ChainEndpoint;
pub use service::{
    Artifact, DATA_DIR, LISTEN_HOST, LOOPBACK, RestartPolicy, ServiceKind, ServiceSpec, Setup,
    StopSignal, WaitFor,
};
