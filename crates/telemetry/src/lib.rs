//! opdev's monitoring building blocks. A devnet runs Prometheus and Alertmanager beside its chains;
//! this crate generates everything they need and serves the one thing they scrape that opdev
//! itself must provide:
//!
//! - [`config`]: the devnet's monitoring settings ([`MonitoringConfig`]) and the generated
//!   `prometheus.yml`, `alertmanager.yml` and Grafana datasource file;
//! - [`rules`]: the alert rules (thresholds derived from each chain's block time) and the
//!   `promtool test rules` unit tests that pin their behaviour;
//! - [`metrics`]: every metric name the rules and dashboards use, in one place, with its owner
//!   (this exporter, the indexer, the faucet, the relayer, the supervisor, or one of the full
//!   profile's OP Stack programs);
//! - [`exporter`]: `opdev serve exporter`, which probes each chain's JSON-RPC, measures the devnet
//!   folder's disk, serves `GET /metrics` and appends Alertmanager notifications (`POST /alerts`)
//!   to a JSON-lines log;
//! - [`dashboards`]: the Grafana dashboards shipped in `dashboards/*.json` and a PromQL scanner
//!   that checks each panel names only known metrics.
//!
//! Generated YAML files are written as JSON documents (JSON is YAML, and Prometheus, Alertmanager,
//! promtool and Grafana read them as such) through `serde_json`, so the crate needs no YAML
//! serializer.

pub mod config;
pub mod dashboards;
pub mod exporter;
pub mod metrics;
pub mod rules;

pub use config::{
    ChainTarget, MonitoringConfig, Program, ProgramTarget, RelayerTarget, RollupTarget,
    ScrapeTarget, Thresholds, Timing,
};
pub use exporter::{AlertRecord, ChainEndpoint, Exporter, ServeArgs, serve};
pub use rules::Alert;

/// What can go wrong in this crate. Messages read after "failed to …".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `--chain` argument is not `NAME=CHAIN_ID=RPC_URL`.
    #[error(transparent)]
    Chain(#[from] opdev_spec::endpoint::EndpointError),
    /// The HTTP listener could not bind.
    #[error("listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The HTTP server stopped with an error.
    #[error("serve HTTP on {addr}: {source}")]
    Serve {
        /// The bound address.
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The HTTP client for the JSON-RPC probes could not be built.
    #[error("build the JSON-RPC client: {0}")]
    Client(#[source] reqwest::Error),
}
