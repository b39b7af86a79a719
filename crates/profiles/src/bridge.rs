//! The lite bridge's services: `bridge-deploy`, a one-shot that deploys the OP contracts on the
//! L1 and the predeploys on every L2 (and only checks on a warm `up`), and
//! `relayer`, which relays deposits and L1-info updates and proposes outputs. Both are the opdev
//! binary (`opdev serve bridge-deploy|relayer`); their keys reach them through the environment.
//! The relayer serves `/metrics` and `/health` on its `http` port (service port `relayer`, 4004),
//! and is ready once `/health` answers.

use std::time::Duration;

use opdev_spec::{Artifact, DevnetConfig, Profile, ServiceSpec, versions::CONTRACTS_BEDROCK};

use crate::{
    Inputs,
    own::{chain_args, http},
};

/// Name of the deployment step.
pub const DEPLOY: &str = "bridge-deploy";
/// Name of the relayer service.
pub const RELAYER: &str = "relayer";
/// The record the deployment writes, in its data folder.
pub const RECORD: &str = "bridge.json";

/// The bridge's record file of a devnet whose folder is `root`.
pub fn record_path(root: &std::path::Path) -> std::path::PathBuf {
    root.join("data").join(DEPLOY).join(RECORD)
}

/// Whether the devnet of `config` has the bridge's contracts (the lite bridge, or the full
/// profile, whose L2s always derive from their L1 contracts).
pub fn has_contracts(config: &DevnetConfig) -> bool {
    config.bridge || config.profile == Profile::Full
}

/// Whether `config` runs the lite bridge (its deployment step and relayer).
pub fn enabled(config: &DevnetConfig) -> bool {
    config.bridge && config.profile == Profile::Lite
}

/// `opdev serve bridge-deploy` with what both profiles give it: the chains, the contract
/// package, the record's path, the finalization period and `proposer` (the full profile adds
/// its rollup arguments).
pub(crate) fn deploy_step(inputs: Inputs<'_>, proposer: &str) -> ServiceSpec {
    let config = inputs.config;
    let contracts = inputs
        .tools
        .contracts
        .clone()
        .unwrap_or_else(|| format!("contracts-bedrock-{}", CONTRACTS_BEDROCK.version).into());
    ServiceSpec::one_shot(DEPLOY, Artifact::binary("opdev", &inputs.tools.opdev))
        .with_args(["serve", DEPLOY])
        .with_args(chain_args(config))
        .with_args(["--artifacts".to_owned(), contracts.display().to_string()])
        .with_args([
            "--artifacts-version".to_owned(),
            CONTRACTS_BEDROCK.version.to_owned(),
            "--out".to_owned(),
            record_path(inputs.root).display().to_string(),
            "--finalization-period".to_owned(),
            config.finalization_period.to_string(),
            "--proposer".to_owned(),
            proposer.to_owned(),
        ])
        .with_env("DEPLOYER_MNEMONIC", &config.mnemonic)
        .with_read_only(contracts)
        .with_ready_timeout(Duration::from_secs(120))
}

/// The deployment step and the relayer, when the config has a bridge.
pub fn services(inputs: Inputs<'_>) -> Vec<ServiceSpec> {
    let config = inputs.config;
    if !enabled(config) {
        return Vec::new();
    }
    let record = record_path(inputs.root);
    let deploy = deploy_step(inputs, &inputs.secrets.proposer_address);
    // No dependency on the chains: the deployment needs them to answer RPC, not to have made a
    // block, so it starts with them and waits for their RPC itself (`opdev serve bridge-deploy`
    // waits up to 90 s for each chain id). Its work then overlaps the chains' first block time
    // instead of following it.
    let relayer = ServiceSpec::daemon(RELAYER, Artifact::binary("opdev", &inputs.tools.opdev))
        .with_args(["serve", RELAYER])
        .with_args(chain_args(config))
        .with_args([
            "--bridge".to_owned(),
            record.display().to_string(),
            "--data".to_owned(),
            "{data}".to_owned(),
            "--deposit-confirmations".to_owned(),
            config.deposit_confirmations.to_string(),
        ])
        .with_env("PROPOSER_PRIVATE_KEY", &inputs.secrets.proposer_key)
        .with_dependency(DEPLOY)
        .with_ready_timeout(Duration::from_secs(30));
    let relayer = http(relayer, config.service_port(RELAYER), "/health");
    vec![deploy, relayer]
}

#[cfg(test)]
mod tests {
    use opdev_spec::{ServiceKind, Settings};

    use crate::{Inputs, test_inputs};

    fn specs(settings: Settings) -> Vec<opdev_spec::ServiceSpec> {
        let config = opdev_spec::DevnetConfig::new(&settings).unwrap();
        let (tools, secrets) = test_inputs(&config);
        super::services(Inputs {
            config: &config,
            tools: &tools,
            secrets: &secrets,
            root: std::path::Path::new("/d"),
        })
    }

    #[test]
    fn the_bridge_deploys_beside_the_chains_and_the_relayer_after_the_deployment() {
        let specs = specs(Settings {
            l2: Some(2),
            ..Default::default()
        });
        let names: Vec<_> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["bridge-deploy", "relayer"]);
        assert_eq!(specs[0].kind, ServiceKind::OneShot);
        assert!(specs[0].depends_on.is_empty());
        assert_eq!(specs[1].depends_on, ["bridge-deploy"]);
        assert!(
            specs[0]
                .args
                .windows(2)
                .any(|w| w == ["--out", "/d/data/bridge-deploy/bridge.json"])
        );
        assert!(
            specs[0]
                .args
                .windows(2)
                .any(|w| w == ["--finalization-period", "12"])
        );
        assert_eq!(
            specs[0].read_only,
            [std::path::PathBuf::from("/c/contracts-bedrock")]
        );
        // Keys travel in the environment only.
        assert!(specs.iter().all(|s| {
            !s.args
                .iter()
                .any(|a| a.contains("0x02") || a.contains("junk"))
        }));
        assert_eq!(specs[1].env["PROPOSER_PRIVATE_KEY"], "0x02");
        // The relayer serves /metrics and /health on its own port and is ready once /health answers.
        let relayer = &specs[1];
        assert_eq!(relayer.ports[crate::own::HTTP_PORT], 4004);
        assert!(
            relayer
                .args
                .windows(2)
                .any(|w| w == ["--listen", "{listen}:4004"])
        );
        assert!(relayer.ready.contains(&opdev_spec::WaitFor::Http {
            port: crate::own::HTTP_PORT.into(),
            path: "/health".into()
        }));
    }

    #[test]
    fn no_bridge_means_no_bridge_services() {
        assert!(
            specs(Settings {
                bridge: Some(false),
                ..Default::default()
            })
            .is_empty()
        );
    }
}
