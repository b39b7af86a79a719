//! opdev's own services, all run from the opdev binary (`opdev serve <service>`): the indexer
//! and the faucet (with the one-shot that funds the faucet's account on every chain). Secrets
//! reach them through the environment, never the command line.

use std::time::Duration;

use opdev_spec::{Artifact, ChainConfig, DevnetConfig, ServiceSpec, WaitFor};

use crate::{Inputs, data::POSTGRES, database_url};

/// Name of each service's HTTP port.
pub const HTTP_PORT: &str = "http";
/// ETH the faucet's account holds on every chain after `up` (topped up at each `up`).
pub const FAUCET_FUNDS_ETH: u64 = 1_000_000;

fn chain_args(config: &DevnetConfig) -> Vec<String> {
    config.chains().flat_map(|c: &ChainConfig| ["--chain".to_owned(), format!("{}={}={}", c.service, c.chain_id, c.rpc_url())]).collect()
}

fn own(name: &str, inputs: Inputs<'_>) -> ServiceSpec {
    let config = inputs.config;
    let mut spec = ServiceSpec::daemon(name, Artifact::binary("opdev", &inputs.tools.opdev))
        .with_args(["serve", name])
        .with_args(chain_args(config))
        .with_ready_timeout(Duration::from_secs(30));
    for chain in config.chains() {
        spec = spec.with_dependency(&chain.service);
    }
    if config.runs_postgres() {
        spec = spec.with_dependency(POSTGRES);
    }
    if let Some(url) = database_url(config, inputs.secrets) {
        spec = spec.with_env("DATABASE_URL", url);
    }
    spec
}

fn http(spec: ServiceSpec, port: u16, health: &str) -> ServiceSpec {
    spec.with_args(["--listen".to_owned(), format!("127.0.0.1:{port}")])
        .with_port(HTTP_PORT, port)
        .with_ready(WaitFor::Http { port: HTTP_PORT.into(), path: health.into() })
}

/// The indexer and the faucet, as the config asks.
pub fn services(inputs: Inputs<'_>) -> Vec<ServiceSpec> {
    let config = inputs.config;
    let mut specs = Vec::new();
    if config.indexer {
        specs.push(http(own("indexer", inputs), config.service_port("indexer"), "/health"));
    }
    if config.faucet {
        let address = inputs.secrets.faucet_address.clone();
        let mut fund = ServiceSpec::one_shot("faucet-fund", Artifact::binary("opdev", &inputs.tools.opdev))
            .with_args(["serve", "fund"])
            .with_args(chain_args(config))
            .with_args(["--address".to_owned(), address, "--eth".into(), FAUCET_FUNDS_ETH.to_string()])
            .with_ready_timeout(Duration::from_secs(30));
        for chain in config.chains() {
            fund = fund.with_dependency(&chain.service);
        }
        specs.push(fund);
        let faucet = http(own("faucet", inputs), config.service_port("faucet"), "/api/info")
            .with_env("FAUCET_PRIVATE_KEY", &inputs.secrets.faucet_key)
            .with_dependency("faucet-fund");
        specs.push(faucet);
    }
    specs
}
