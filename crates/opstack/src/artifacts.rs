//! The official compiled contracts: the npm package `@eth-optimism/contracts-bedrock`, installed
//! at a pinned version into opdev's cache (see `opdev_orchestrator::tools`), read here. Nothing
//! of it is copied into opdev: bytecode is read from the package's `forge-artifacts/` at run time,
//! and the preinstalls' code from its `src/libraries/Preinstalls.sol`.

use std::path::{Path, PathBuf};

use alloy::primitives::Bytes;
use serde::Deserialize;

use crate::Error;

/// The npm package and the version opdev reads.
pub const PACKAGE: &str = "@eth-optimism/contracts-bedrock";

/// An opened copy of the package.
#[derive(Debug, Clone)]
pub struct Artifacts {
    root: PathBuf,
}

/// One contract's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    /// The contract's name.
    pub name: String,
    /// Creation code (constructor arguments go after it).
    pub creation: Bytes,
    /// Runtime code as the artifact has it (immutables zeroed).
    pub runtime: Bytes,
}

#[derive(Deserialize)]
struct ForgeArtifact {
    bytecode: Code,
    #[serde(rename = "deployedBytecode")]
    deployed: Code,
}

#[derive(Deserialize)]
struct Code {
    object: String,
}

#[derive(Deserialize)]
struct PackageJson {
    name: String,
    version: String,
}

impl Artifacts {
    /// Opens the package at `root` (the folder holding `package.json`) and checks that it is
    /// `version` of [`PACKAGE`].
    pub fn open(root: &Path, version: &str) -> Result<Self, Error> {
        let manifest = root.join("package.json");
        let text = std::fs::read_to_string(&manifest).map_err(|e| Error::io(&manifest, e))?;
        let package: PackageJson = serde_json::from_str(&text).map_err(|e| Error::Artifact {
            path: manifest.clone(),
            reason: e.to_string(),
        })?;
        if package.name != PACKAGE || package.version != version {
            return Err(Error::Artifact {
                path: manifest,
                reason: format!(
                    "holds {}@{}, expected {PACKAGE}@{version}",
                    package.name, package.version
                ),
            });
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The package's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The compiled contract `name` (`forge-artifacts/<name>.sol/<name>.json`).
    pub fn contract(&self, name: &str) -> Result<Contract, Error> {
        let path = self
            .root
            .join("forge-artifacts")
            .join(format!("{name}.sol"))
            .join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let artifact: ForgeArtifact = serde_json::from_str(&text).map_err(|e| Error::Artifact {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let hex = |code: &str, what: &str| -> Result<Bytes, Error> {
            let bytes = alloy::hex::decode(code).map_err(|e| Error::Artifact {
                path: path.clone(),
                reason: format!("{what} is not hex: {e}"),
            })?;
            if bytes.is_empty() {
                return Err(Error::Artifact {
                    path: path.clone(),
                    reason: format!("{what} is empty (an interface or abstract contract?)"),
                });
            }
            Ok(bytes.into())
        };
        Ok(Contract {
            name: name.to_owned(),
            creation: hex(&artifact.bytecode.object, "bytecode")?,
            runtime: hex(&artifact.deployed.object, "deployedBytecode")?,
        })
    }

    /// The runtime code of the preinstall `name` (`Preinstalls.<name>Code` in
    /// `src/libraries/Preinstalls.sol`, e.g. `MultiCall3`).
    pub fn preinstall(&self, name: &str) -> Result<Bytes, Error> {
        let path = self.root.join("src/libraries/Preinstalls.sol");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        preinstall_code(&text, name).ok_or_else(|| Error::Artifact {
            path,
            reason: format!("no hex constant {name}Code"),
        })
    }
}

/// Finds `bytes internal constant <name>Code = hex"…";` in the Preinstalls library's source.
fn preinstall_code(source: &str, name: &str) -> Option<Bytes> {
    let marker = format!("constant {name}Code =");
    let start = source.find(&marker)? + marker.len();
    let rest = source[start..].trim_start();
    let rest = rest.strip_prefix("hex\"")?;
    let end = rest.find('"')?;
    alloy::hex::decode(&rest[..end]).ok().map(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preinstall_hex_constants_are_found_by_name() {
        let source = "library P {\n    bytes internal constant FooCode =\n        hex\"6001600055\";\n    bytes internal constant FooBarCode = hex\"00\";\n}";
        assert_eq!(
            preinstall_code(source, "Foo").unwrap().to_vec(),
            vec![0x60, 0x01, 0x60, 0x00, 0x55]
        );
        assert_eq!(preinstall_code(source, "FooBar").unwrap().to_vec(), vec![0]);
        assert!(preinstall_code(source, "Bar").is_none());
    }

    #[test]
    fn a_package_of_another_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            format!(r#"{{"name":"{PACKAGE}","version":"0.1.0"}}"#),
        )
        .unwrap();
        let err = Artifacts::open(dir.path(), "0.17.3")
            .unwrap_err()
            .to_string();
        assert!(err.contains("0.1.0") && err.contains("0.17.3"), "{err}");
    }
}
