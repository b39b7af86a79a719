//! Writes the monitoring stack's configuration into the devnet folder before the plan runs:
//! `data/prometheus/{prometheus.yml,alerts.yml}` and `data/alertmanager/alertmanager.yml`, from
//! the devnet's config (chains and their block times, the ports of the services to scrape, the
//! alert thresholds). Regenerated at every `up`, so a change of block time moves the thresholds.

use opdev_spec::DevnetConfig;
use opdev_telemetry::config::{MonitoringConfig, Thresholds};

use crate::{
    Error,
    home::{DevnetDir, write_private},
};

/// Where the runbooks are, as alert annotations link them.
pub const RUNBOOKS: &str = "docs/runbooks";

/// The monitoring settings of `config`.
pub fn settings(config: &DevnetConfig) -> MonitoringConfig {
    let local = |service: &str| format!("127.0.0.1:{}", config.service_port(service));
    let mut cfg = MonitoringConfig::new(&config.name, local("exporter"), local("alertmanager"));
    for chain in config.chains() {
        cfg = cfg.with_chain(&chain.service, chain.chain_id, chain.block_time);
    }
    if config.indexer {
        cfg = cfg.with_target("opdev-indexer", local("indexer"));
    }
    if config.faucet {
        cfg = cfg.with_target("opdev-faucet", local("faucet"));
    }
    if opdev_profiles::bridge::enabled(config) {
        cfg = cfg.with_relayer(
            local(opdev_profiles::bridge::RELAYER),
            config.deposit_confirmations,
            opdev_spec::config::PROPOSAL_INTERVAL,
        );
    }
    if let Some(url) = &config.alert_webhook {
        cfg = cfg.with_user_webhook(url);
    }
    let mut thresholds = Thresholds {
        indexer_lag_blocks: config.indexer_lag_alert,
        ..Thresholds::default()
    };
    if let Some(secs) = config.alert_after {
        let after = std::time::Duration::from_secs(secs);
        thresholds.rpc_down_for = after;
        thresholds.indexer_lag_for = after;
        thresholds.target_down_for = after;
        thresholds.disk_for = after;
        thresholds.deposit_lag_for = after;
    }
    cfg.runbook_base = RUNBOOKS.into();
    cfg.with_thresholds(thresholds)
}

/// Writes the files; nothing when monitoring is off.
pub fn write(devnet: &DevnetDir, config: &DevnetConfig) -> Result<(), Error> {
    if !config.monitoring {
        return Ok(());
    }
    let cfg = settings(config);
    let prometheus = devnet.data_dir().join("prometheus");
    let alertmanager = devnet.data_dir().join("alertmanager");
    for dir in [&prometheus, &alertmanager] {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(dir, e))?;
        // A folder made by an older opdev may still be 0755.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(dir, e))?;
    }
    write_private(
        &prometheus.join("prometheus.yml"),
        opdev_telemetry::config::prometheus_yml(&cfg).as_bytes(),
    )?;
    write_private(
        &prometheus.join(&cfg.rules_file),
        opdev_telemetry::rules::alert_rules_yml(&cfg).as_bytes(),
    )?;
    write_private(
        &alertmanager.join("alertmanager.yml"),
        opdev_telemetry::config::alertmanager_yml(&cfg).as_bytes(),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use opdev_spec::{DevnetConfig, Settings};

    #[test]
    fn the_relayer_is_scraped_and_watched_only_with_the_lite_bridge() {
        let config = DevnetConfig::new(&Settings {
            deposit_confirmations: Some(3),
            alert_after: Some(7),
            ..Default::default()
        })
        .unwrap();
        let cfg = super::settings(&config);
        let relayer = cfg.relayer.as_ref().expect("the bridge is on by default");
        assert_eq!(relayer.address, "127.0.0.1:4004");
        assert_eq!(relayer.deposit_confirmations, 3);
        assert_eq!(cfg.thresholds.deposit_lag_for.as_secs(), 7);

        let config = DevnetConfig::new(&Settings {
            bridge: Some(false),
            ..Default::default()
        })
        .unwrap();
        assert!(super::settings(&config).relayer.is_none());
    }
}
