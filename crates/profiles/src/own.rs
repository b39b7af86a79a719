//! opdev's own services, all run from the opdev binary (`opdev serve <service>`): the indexer,
//! the block explorer over the indexer's tables, and the faucet (with the one-shot that funds the faucet's account on every chain). Secrets
//! reach them through the environment, never the command line.

use std::time::Duration;

use opdev_spec::{Artifact, ChainConfig, DevnetConfig, Profile, ServiceSpec, WaitFor};

use crate::{Inputs, data::POSTGRES, database_url};

/// Name of each service's HTTP port.
pub const HTTP_PORT: &str = "http";
/// ETH the faucet's account holds on every chain after `up` (topped up at each `up`).
pub const FAUCET_FUNDS_ETH: u64 = 1_000_000;

/// `--chain NAME=ID=URL` for every chain.
pub(crate) fn chain_args(config: &DevnetConfig) -> Vec<String> {
    config
        .chains()
        .flat_map(|c: &ChainConfig| ["--chain".to_owned(), c.endpoint().to_string()])
        .collect()
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

/// `spec` listening on `port` (`--listen`), ready once `GET health` answers 2xx.
pub(crate) fn http(spec: ServiceSpec, port: u16, health: &str) -> ServiceSpec {
    spec.with_args(["--listen".to_owned(), format!("{{listen}}:{port}")])
        .with_port(HTTP_PORT, port)
        .with_ready(WaitFor::Http {
            port: HTTP_PORT.into(),
            path: health.into(),
        })
}

/// The indexer and the faucet, as the config asks.
pub fn services(inputs: Inputs<'_>) -> Vec<ServiceSpec> {
    let config = inputs.config;
    let mut specs = Vec::new();
    if config.indexer {
        specs.push(http(
            own("indexer", inputs),
            config.service_port("indexer"),
            "/health",
        ));
        // The explorer reads what the indexer writes.
        let explorer = http(
            own("explorer", inputs),
            config.service_port("explorer"),
            "/health",
        );
        specs.push(explorer);
    }
    if config.faucet {
        let address = inputs.secrets.faucet_address.clone();
        // anvil chains are topped up with `anvil_setBalance` at every `up`; the full profile's
        // op-geth L2s hold the faucet's ETH from their genesis.
        let funded: Vec<&ChainConfig> = match config.profile {
            Profile::Lite => config.chains().collect(),
            Profile::Full => vec![&config.l1],
        };
        let mut fund = ServiceSpec::one_shot(
            "faucet-fund",
            Artifact::binary("opdev", &inputs.tools.opdev),
        )
        .with_args(["serve", "fund"])
        .with_args(
            funded
                .iter()
                .flat_map(|c| ["--chain".to_owned(), c.endpoint().to_string()]),
        )
        .with_args([
            "--address".to_owned(),
            address,
            "--eth".into(),
            FAUCET_FUNDS_ETH.to_string(),
        ])
        .with_ready_timeout(Duration::from_secs(30));
        for chain in &funded {
            fund = fund.with_dependency(&chain.service);
        }
        specs.push(fund);
        let faucet = http(
            own("faucet", inputs),
            config.service_port("faucet"),
            "/api/info",
        )
        .with_env("FAUCET_PRIVATE_KEY", &inputs.secrets.faucet_key)
        .with_dependency("faucet-fund");
        specs.push(faucet);
    }
    specs
}

#[cfg(test)]
mod tests {
    use opdev_spec::{DevnetConfig, ServiceKind, Settings};

    use crate::{Inputs, test_inputs};

    #[test]
    fn own_services_get_secrets_by_environment_and_wait_for_what_they_use() {
        let config = DevnetConfig::new(&Settings {
            l2: Some(2),
            ..Default::default()
        })
        .unwrap();
        let (tools, secrets) = test_inputs(&config);
        let specs = super::services(Inputs {
            config: &config,
            tools: &tools,
            secrets: &secrets,
            root: std::path::Path::new("/d"),
        });
        let names: Vec<_> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["indexer", "explorer", "faucet-fund", "faucet"]);
        for spec in &specs {
            assert!(spec.args.iter().all(
                |a| !a.contains(&secrets.postgres_password) && !a.contains(&secrets.faucet_key)
            ));
            assert!(
                spec.depends_on.iter().any(|d| d == "l2-2"),
                "{} must wait for every chain",
                spec.name
            );
        }
        let faucet = &specs[3];
        assert_eq!(faucet.env["FAUCET_PRIVATE_KEY"], secrets.faucet_key);
        assert!(faucet.env["DATABASE_URL"].contains(":pw@"));
        assert!(
            faucet.depends_on.iter().any(|d| d == "postgres")
                && faucet.depends_on.iter().any(|d| d == "faucet-fund")
        );
        assert_eq!(specs[2].kind, ServiceKind::OneShot);
        assert!(
            specs[0]
                .args
                .windows(2)
                .any(|w| w == ["--chain", "l2-2=902=http://127.0.0.1:9546"])
        );
    }

    #[test]
    fn disabled_services_are_left_out() {
        let s = Settings {
            indexer: Some(false),
            faucet: Some(false),
            ..Default::default()
        };
        let config = DevnetConfig::new(&s).unwrap();
        let (tools, secrets) = test_inputs(&config);
        assert!(
            super::services(Inputs {
                config: &config,
                tools: &tools,
                secrets: &secrets,
                root: std::path::Path::new("/d")
            })
            .is_empty()
        );
    }
}
