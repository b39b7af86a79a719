//! A devnet's secrets, generated when it is created and kept in `<devnet>/secrets/` (folder 0700,
//! files 0600): the PostgreSQL password and the faucet's and the bridge proposer's private keys. They reach services through
//! the environment, never the command line or the logs.

use std::path::Path;

use opdev_profiles::{RollupAccounts, Secrets};
use opdev_spec::{DevnetConfig, Profile};

use crate::{
    Error,
    home::{DevnetDir, write_private},
};

fn read_or_create(
    dir: &Path,
    name: &str,
    create: impl FnOnce() -> String,
) -> Result<String, Error> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.trim().to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let value = create();
            write_private(&path, format!("{value}\n").as_bytes())?;
            Ok(value)
        }
        Err(e) => Err(Error::io(&path, e)),
    }
}

/// The devnet's secrets, created on first use: for the full profile also a deployer key and,
/// per L2, a batcher, proposer and sequencer key and the Engine API's JWT secret.
pub fn load_or_create(devnet: &DevnetDir, config: &DevnetConfig) -> Result<Secrets, Error> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = devnet.root().join("secrets");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| Error::io(&dir, e))?;
    let postgres_password = read_or_create(
        &dir,
        "postgres.password",
        opdev_chain::accounts::random_secret,
    )?;
    let faucet_key = read_or_create(&dir, "faucet.key", || opdev_chain::accounts::random_key().0)?;
    let faucet_address =
        opdev_chain::accounts::address_of(&faucet_key).map_err(|e| Error::Supervisor {
            name: devnet.name().into(),
            reason: format!("secrets/faucet.key: {e}"),
        })?;
    let proposer_key = read_or_create(&dir, "proposer.key", || {
        opdev_chain::accounts::random_key().0
    })?;
    let proposer_address =
        opdev_chain::accounts::address_of(&proposer_key).map_err(|e| Error::Supervisor {
            name: devnet.name().into(),
            reason: format!("secrets/proposer.key: {e}"),
        })?;
    let mut secrets = Secrets {
        dir: dir.clone(),
        postgres_password,
        faucet_key,
        faucet_address,
        proposer_key,
        proposer_address,
        deployer_key: String::new(),
        rollup: Vec::new(),
    };
    if config.profile == Profile::Full {
        let key = |name: &str| read_or_create(&dir, name, || opdev_chain::accounts::random_key().0);
        secrets.deployer_key = key("deployer.key")?;
        let mut keys = Vec::new();
        for chain in &config.l2 {
            let name = &chain.service;
            keys.push([
                key(&format!("{name}.batcher.key"))?,
                key(&format!("{name}.proposer.key"))?,
                key(&format!("{name}.sequencer.key"))?,
            ]);
            // op-geth and op-node read the JWT secret as 32 bytes of hex in a file.
            read_or_create(&dir, &format!("{name}.jwt"), || {
                opdev_chain::accounts::random_key().0
            })?;
        }
        secrets.rollup =
            rollup_accounts(config, &dir, &secrets.deployer_key, keys).map_err(|reason| {
                Error::Supervisor {
                    name: devnet.name().into(),
                    reason,
                }
            })?;
    }
    Ok(secrets)
}

/// Each L2's accounts from its keys, with the game factory the deployment from `deployer_key`
/// will make for it.
fn rollup_accounts(
    config: &DevnetConfig,
    dir: &Path,
    deployer_key: &str,
    keys: Vec<[String; 3]>,
) -> Result<Vec<RollupAccounts>, String> {
    use opdev_chain::accounts::address_of;
    use opdev_opstack::{l1, primitives::Address};
    let parse = |text: &str| -> Result<Address, String> {
        text.parse::<Address>().map_err(|e| format!("{text}: {e}"))
    };
    let mut accounts = Vec::new();
    let mut operators = Vec::new();
    for (chain, [batcher_key, proposer_key, sequencer_key]) in config.l2.iter().zip(keys) {
        let address = |key: &str, what: &str| {
            address_of(key).map_err(|e| format!("secrets/{}.{what}.key: {e}", chain.service))
        };
        let account = RollupAccounts {
            batcher: address(&batcher_key, "batcher")?,
            proposer: address(&proposer_key, "proposer")?,
            sequencer: address(&sequencer_key, "sequencer")?,
            batcher_key,
            proposer_key,
            sequencer_key,
            jwt_file: dir.join(format!("{}.jwt", chain.service)),
            game_factory: String::new(),
        };
        operators.push(l1::Operators {
            proposer: parse(&account.proposer)?,
            batcher: parse(&account.batcher)?,
            unsafe_block_signer: parse(&account.sequencer)?,
        });
        accounts.push(account);
    }
    let deployer = if deployer_key.starts_with("0x") {
        parse(&address_of(deployer_key).map_err(|e| format!("secrets/deployer.key: {e}"))?)?
    } else {
        Address::ZERO
    };
    let settings = l1::Settings {
        l2_chain_ids: config.l2.iter().map(|c| c.chain_id).collect(),
        finalization_period: config.finalization_period,
        proposer: operators.first().map(|o| o.proposer).unwrap_or_default(),
        batcher: operators.first().map(|o| o.batcher).unwrap_or_default(),
        unsafe_block_signer: operators
            .first()
            .map(|o| o.unsafe_block_signer)
            .unwrap_or_default(),
        operators,
    };
    let deployment = l1::addresses(deployer, &settings).map_err(|e| e.to_string())?;
    for (account, chain) in accounts.iter_mut().zip(&deployment.chains) {
        account.game_factory = chain.get("DisputeGameFactory").to_string();
    }
    Ok(accounts)
}

/// The secrets as they would be, without writing anything (for `up --plan`).
pub fn preview(devnet: &DevnetDir, config: &DevnetConfig) -> Secrets {
    let dir = devnet.root().join("secrets");
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map(|t| t.trim().to_owned())
            .ok()
    };
    let faucet_key = read("faucet.key").unwrap_or_else(|| "<generated>".into());
    let faucet_address =
        opdev_chain::accounts::address_of(&faucet_key).unwrap_or_else(|_| "<generated>".into());
    let proposer_key = read("proposer.key").unwrap_or_else(|| "<generated>".into());
    let proposer_address =
        opdev_chain::accounts::address_of(&proposer_key).unwrap_or_else(|_| "<generated>".into());
    let rollup = if config.profile == Profile::Full {
        let keys = config
            .l2
            .iter()
            .map(|c| {
                // A key not made yet is shown as a fresh one would be.
                ["batcher", "proposer", "sequencer"].map(|what| {
                    read(&format!("{}.{what}.key", c.service))
                        .unwrap_or_else(|| opdev_chain::accounts::random_key().0)
                })
            })
            .collect();
        let deployer =
            read("deployer.key").unwrap_or_else(|| opdev_chain::accounts::random_key().0);
        rollup_accounts(config, &dir, &deployer, keys).unwrap_or_default()
    } else {
        Vec::new()
    };
    Secrets {
        postgres_password: read("postgres.password").unwrap_or_else(|| "<generated>".into()),
        faucet_key,
        faucet_address,
        proposer_key,
        proposer_address,
        deployer_key: read("deployer.key").unwrap_or_else(|| "<generated>".into()),
        rollup,
        dir,
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::Home;

    #[test]
    fn secrets_are_created_once_private_and_stable() {
        let home = tempfile::tempdir().unwrap();
        let devnet = Home::at(home.path()).devnet("s");
        devnet.create().unwrap();
        let config = DevnetConfig::new(&Default::default()).unwrap();
        let first = load_or_create(&devnet, &config).unwrap();
        let again = load_or_create(&devnet, &config).unwrap();
        assert_eq!(first, again);
        assert_eq!(first.postgres_password.len(), 64);
        assert!(first.faucet_key.starts_with("0x") && first.faucet_address.starts_with("0x"));
        for file in ["postgres.password", "faucet.key", "proposer.key"] {
            let mode = std::fs::metadata(first.dir.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        assert_eq!(
            std::fs::metadata(&first.dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(
            !format!("{first:?}").contains(&first.postgres_password),
            "Debug shows the password"
        );
    }
}
