//! The devnet's database: PostgreSQL run from the machine's own installation, its data in the
//! devnet folder, listening on 127.0.0.1 with a generated password. `initdb` runs once as the
//! service's setup (with `--no-sync`: a fresh, empty cluster is cheap to recreate, and skipping
//! the flush saves seconds on the first `up`). PostgreSQL refuses root, so the spec is marked unprivileged (see the native
//! runtime). With `postgres_url` set, or no service that needs a database, nothing runs here.

use std::time::Duration;

use opdev_spec::{Artifact, ServiceSpec, Setup, StopSignal, WaitFor};

use crate::Inputs;

/// Name of the PostgreSQL service and of its port.
pub const POSTGRES: &str = "postgres";

/// The database services of the devnet.
pub fn services(inputs: Inputs<'_>) -> Vec<ServiceSpec> {
    let config = inputs.config;
    let Some(bin) = inputs
        .tools
        .postgres
        .as_ref()
        .filter(|_| config.runs_postgres())
    else {
        return Vec::new();
    };
    let port = config.service_port(POSTGRES);
    let password_file = inputs
        .secrets
        .postgres_password_file()
        .to_string_lossy()
        .into_owned();
    let spec = ServiceSpec::daemon(POSTGRES, Artifact::binary("postgres", bin.join("postgres")))
        .with_args([
            "-D",
            "{data}/pgdata",
            "-p",
            &port.to_string(),
            "-k",
            "{data}",
        ])
        .with_args([
            "-c",
            "listen_addresses={listen}",
            "-c",
            "unix_socket_permissions=0700",
        ])
        .with_port(POSTGRES, port)
        .with_ready(WaitFor::Port {
            port: POSTGRES.into(),
        })
        .with_ready(WaitFor::LogLine {
            contains: "ready to accept connections".into(),
        })
        .with_ready_timeout(Duration::from_secs(60))
        .with_stop_signal(StopSignal::Int)
        .with_setup(Setup {
            program: bin.join("initdb"),
            args: [
                "-D",
                "{data}/pgdata",
                "-U",
                "opdev",
                "--pwfile",
                &password_file,
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
            .map(String::from)
            .to_vec(),
            creates: "{data}/pgdata/PG_VERSION".into(),
        })
        .run_unprivileged();
    vec![spec]
}

#[cfg(test)]
mod tests {
    use opdev_spec::{DevnetConfig, Settings};

    use crate::{Inputs, database_url, masked_database_url, test_inputs};

    #[test]
    fn postgres_runs_only_when_needed_and_not_given() {
        let config = DevnetConfig::new(&Settings::default()).unwrap();
        let (tools, secrets) = test_inputs(&config);
        let specs = super::services(Inputs {
            config: &config,
            tools: &tools,
            secrets: &secrets,
            root: std::path::Path::new("/d"),
        });
        assert_eq!(specs.len(), 1);
        assert!(specs[0].unprivileged && specs[0].setup.is_some());
        assert_eq!(
            database_url(&config, &secrets).unwrap(),
            "postgres://opdev:pw@127.0.0.1:5433/postgres"
        );
        assert_eq!(
            masked_database_url(&config, &secrets).unwrap(),
            "postgres://opdev:***@127.0.0.1:5433/postgres"
        );

        let s = Settings {
            postgres_url: Some("postgres://u:p@db:5432/x".into()),
            ..Default::default()
        };
        let config = DevnetConfig::new(&s).unwrap();
        assert!(
            super::services(Inputs {
                config: &config,
                tools: &tools,
                secrets: &secrets,
                root: std::path::Path::new("/d")
            })
            .is_empty()
        );
        assert_eq!(
            database_url(&config, &secrets).unwrap(),
            "postgres://u:p@db:5432/x"
        );

        let s = Settings {
            indexer: Some(false),
            faucet: Some(false),
            ..Default::default()
        };
        let config = DevnetConfig::new(&s).unwrap();
        assert!(
            super::services(Inputs {
                config: &config,
                tools: &tools,
                secrets: &secrets,
                root: std::path::Path::new("/d")
            })
            .is_empty()
        );
        assert!(database_url(&config, &secrets).is_none());
    }
}
