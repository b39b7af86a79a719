//! Profiles turn a resolved [`DevnetConfig`] into the graph of [`ServiceSpec`]s a runtime runs.
//! A profile never starts anything and never touches the disk: the same config always gives the
//! same specs, so `up --plan` shows exactly what `up` does.

use std::path::PathBuf;

use opdev_spec::{DevnetConfig, Profile, ServiceSpec};

pub mod lite;

/// Paths of the external tools a profile needs, resolved by the orchestrator beforehand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// The anvil executable.
    pub anvil: PathBuf,
}

/// Why a profile could not build its services.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The profile exists in the config model but is not built yet.
    #[error("profile '{0}' is not available in this version of opdev")]
    Unavailable(Profile),
}

/// The services of `config`'s profile, dependencies before dependents.
pub fn services(config: &DevnetConfig, tools: &Tools) -> Result<Vec<ServiceSpec>, ProfileError> {
    let mut specs = match config.profile {
        Profile::Lite => lite::services(config, tools),
        Profile::Full => return Err(ProfileError::Unavailable(Profile::Full)),
    };
    for spec in &mut specs {
        if let Some(binary) = config.binaries.get(&spec.name) {
            spec.artifact.binary.clone_from(binary);
        }
    }
    Ok(specs)
}
