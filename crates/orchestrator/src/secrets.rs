//! A devnet's secrets, generated when it is created and kept in `<devnet>/secrets/` (folder 0700,
//! files 0600): the PostgreSQL password and the faucet's and the bridge proposer's private keys. They reach services through
//! the environment, never the command line or the logs.

use std::path::Path;

use opdev_profiles::Secrets;

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

/// The devnet's secrets, created on first use.
pub fn load_or_create(devnet: &DevnetDir) -> Result<Secrets, Error> {
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
    Ok(Secrets {
        dir,
        postgres_password,
        faucet_key,
        faucet_address,
        proposer_key,
        proposer_address,
    })
}

/// The secrets as they would be, without writing anything (for `up --plan`).
pub fn preview(devnet: &DevnetDir) -> Secrets {
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
    Secrets {
        postgres_password: read("postgres.password").unwrap_or_else(|| "<generated>".into()),
        faucet_key,
        faucet_address,
        proposer_key,
        proposer_address,
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
        let first = load_or_create(&devnet).unwrap();
        let again = load_or_create(&devnet).unwrap();
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
