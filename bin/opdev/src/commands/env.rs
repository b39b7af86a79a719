//! `opdev env`: the devnet's endpoints as shell variables, for `eval "$(opdev env)"` (bash, zsh,
//! any POSIX shell), `opdev env --shell fish | source`, or JSON. It is the one command that prints
//! the database password (inside `DATABASE_URL`); `status` masks it.
//!
//! Every variable comes from [`variables`], one section per source; a new kind of endpoint (bridge
//! contract addresses…) is one more section appended there.

use opdev_orchestrator::{DevnetDir, Error, client};
use opdev_spec::{ChainConfig, DevnetConfig};
use serde_json::{Map, Value};

use super::Ctx;
use crate::cli::{EnvArgs, EnvShell};

/// One exported variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Var {
    pub(crate) name: String,
    pub(crate) value: String,
}

fn var(name: impl Into<String>, value: impl Into<String>) -> Var {
    Var {
        name: name.into(),
        value: value.into(),
    }
}

pub(crate) async fn run(ctx: &Ctx<'_>, args: EnvArgs) -> Result<(), Error> {
    let (devnet, config) = ctx.existing()?;
    let chain = match &args.chain {
        Some(name) => config.chain(name).ok_or_else(|| {
            let known: Vec<String> = config
                .chains()
                .map(|c| format!("{} ({})", c.service, c.chain_id))
                .collect();
            Error::usage(
                format!("devnet '{}' has no chain '{name}'", config.name),
                format!("name one by service or id: {}", known.join(", ")),
            )
        })?,
        None => config.l2.first().unwrap_or(&config.l1),
    };
    if !client::is_running(&devnet)? {
        ctx.printer.progress(format!(
            "devnet '{}' is not running; these endpoints answer once `opdev up` started it",
            config.name
        ));
    }
    let vars = variables(&devnet, &config, chain);
    // Data the user asked for: on stdout even with --quiet; --json is --shell json.
    if ctx.printer.is_json() {
        ctx.printer.json(&json_of(&vars));
    } else {
        ctx.printer.data(render(&vars, args.shell).trim_end());
    }
    Ok(())
}

/// Every variable `opdev env` exports for `config`, with `chain` as `ETH_RPC_URL`, in order:
/// the chosen chain, each chain, the database, opdev's services. Append new sections here.
pub(crate) fn variables(
    devnet: &DevnetDir,
    config: &DevnetConfig,
    chain: &ChainConfig,
) -> Vec<Var> {
    let mut vars = vec![
        // Foundry's tools (cast, forge) read ETH_RPC_URL.
        var("ETH_RPC_URL", chain.rpc_url()),
    ];
    vars.extend(config.chains().flat_map(chain_vars));
    vars.extend(rollup_vars(config));
    vars.extend(database_vars(devnet, config));
    vars.extend(service_vars(config));
    vars.extend(bridge_vars(devnet, config));
    vars
}

/// Full profile: each L2's op-node RPC (`L2_1_ROLLUP_RPC_URL`, for `optimism_syncStatus`,
/// `optimism_outputAtBlock`…).
fn rollup_vars(config: &DevnetConfig) -> Vec<Var> {
    if config.profile != opdev_spec::Profile::Full {
        return Vec::new();
    }
    config
        .l2
        .iter()
        .map(|c| {
            var(
                format!("{}_ROLLUP_RPC_URL", env_name(&c.service)),
                format!(
                    "http://127.0.0.1:{}",
                    config.rollup_port(&c.service, "node")
                ),
            )
        })
        .collect()
}

/// The bridge's contracts, once deployed: `L2_1_OPTIMISM_PORTAL`, `L2_1_L1_STANDARD_BRIDGE`… (each
/// L2's system on the L1, by contract name) and `L1_MULTICALL3`.
fn bridge_vars(devnet: &DevnetDir, config: &DevnetConfig) -> Vec<Var> {
    let Some(record) = super::bridge::record(config, devnet.root()) else {
        return Vec::new();
    };
    let mut vars: Vec<Var> = record
        .l1_contracts
        .iter()
        .map(|(name, a)| var(format!("L1_{}", screaming(name)), a.to_checksum(None)))
        .collect();
    for (service, chain) in record.l2_services.iter().zip(&record.deployment.chains) {
        let prefix = env_name(service);
        vars.extend(
            chain
                .contracts
                .iter()
                .map(|(name, a)| var(format!("{prefix}_{}", screaming(name)), a.to_checksum(None))),
        );
    }
    vars
}

/// `OptimismPortal` → `OPTIMISM_PORTAL`, `L1ERC721Bridge` → `L1_ERC721_BRIDGE`.
fn screaming(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        let boundary = i > 0
            && c.is_ascii_uppercase()
            && (chars[i - 1].is_ascii_lowercase()
                || chars[i - 1].is_ascii_digit()
                || (chars[i - 1].is_ascii_uppercase()
                    && chars.get(i + 1).is_some_and(char::is_ascii_lowercase)));
        if boundary {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// `L1_RPC_URL`, `L1_WS_URL`, `L1_CHAIN_ID`; `L2_1_…` for l2-1 and so on.
fn chain_vars(chain: &ChainConfig) -> Vec<Var> {
    let prefix = env_name(&chain.service);
    vec![
        var(format!("{prefix}_RPC_URL"), chain.rpc_url()),
        var(format!("{prefix}_WS_URL"), chain.ws_url()),
        var(format!("{prefix}_CHAIN_ID"), chain.chain_id.to_string()),
    ]
}

/// `DATABASE_URL` with the password, when the devnet has a database.
fn database_vars(devnet: &DevnetDir, config: &DevnetConfig) -> Vec<Var> {
    let secrets = opdev_orchestrator::secrets::preview(devnet, config);
    opdev_profiles::database_url(config, &secrets)
        .map(|url| var("DATABASE_URL", url))
        .into_iter()
        .collect()
}

/// The URL of each of opdev's own services the devnet runs (`FAUCET_URL`…).
fn service_vars(config: &DevnetConfig) -> Vec<Var> {
    service_urls(config)
        .into_iter()
        .map(|(service, url)| var(format!("{}_URL", env_name(service)), url))
        .collect()
}

/// The HTTP URL of each of opdev's own services that has one and that `config` runs: faucet,
/// explorer, indexer, Prometheus, Alertmanager.
fn service_urls(config: &DevnetConfig) -> Vec<(&'static str, String)> {
    let running = config.port_services();
    [
        "faucet",
        "explorer",
        "indexer",
        "prometheus",
        "alertmanager",
        "relayer",
    ]
    .into_iter()
    .filter(|s| running.contains(s))
    .map(|s| (s, format!("http://127.0.0.1:{}", config.service_port(s))))
    .collect()
}

/// `l2-1` → `L2_1`.
fn env_name(service: &str) -> String {
    service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The variables as `shell` reads them.
pub(crate) fn render(vars: &[Var], shell: EnvShell) -> String {
    match shell {
        EnvShell::Sh => vars
            .iter()
            .map(|v| format!("export {}={}\n", v.name, sh_quote(&v.value)))
            .collect(),
        EnvShell::Fish => vars
            .iter()
            .map(|v| format!("set -gx {} {}\n", v.name, fish_quote(&v.value)))
            .collect(),
        EnvShell::Json => {
            serde_json::to_string_pretty(&json_of(vars)).expect("JSON values serialize") + "\n"
        }
    }
}

fn json_of(vars: &[Var]) -> Value {
    Value::Object(
        vars.iter()
            .map(|v| (v.name.clone(), Value::String(v.value.clone())))
            .collect::<Map<_, _>>(),
    )
}

/// POSIX single quotes: nothing inside is special except `'`, written `'\''`.
fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// fish single quotes: `\` and `'` are escaped with a backslash.
fn fish_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn contract_names_become_variable_names() {
        for (name, var) in [
            ("OptimismPortal", "OPTIMISM_PORTAL"),
            ("L1CrossDomainMessenger", "L1_CROSS_DOMAIN_MESSENGER"),
            ("L1ERC721Bridge", "L1_ERC721_BRIDGE"),
            (
                "OptimismMintableERC20Factory",
                "OPTIMISM_MINTABLE_ERC20_FACTORY",
            ),
            ("Multicall3", "MULTICALL3"),
            ("ProxyAdmin", "PROXY_ADMIN"),
        ] {
            assert_eq!(super::screaming(name), var);
        }
    }

    use super::*;

    #[test]
    fn quoting_keeps_every_byte_literal() {
        assert_eq!(sh_quote("a'b $c `d` \\e"), r#"'a'\''b $c `d` \e'"#);
        assert_eq!(fish_quote("a'b $c \\e"), r#"'a\'b $c \\e'"#);
    }

    /// Values no quoting mistake survives, each read back by a real shell after evaluating what
    /// `render` printed.
    #[test]
    fn real_shells_read_back_every_value_exactly() {
        let values = [
            "postgres://opdev:it's $HOME `id` \\ \"q\"@127.0.0.1:5433/postgres",
            "a\nnew line",
            "*; echo pwned",
            "",
        ];
        let vars: Vec<Var> = values
            .iter()
            .enumerate()
            .map(|(i, v)| var(format!("V{i}"), *v))
            .collect();
        let shells = [
            (
                "bash",
                EnvShell::Sh,
                "printf '%s\\0' \"$V0\" \"$V1\" \"$V2\" \"$V3\"",
            ),
            (
                "zsh",
                EnvShell::Sh,
                "printf '%s\\0' \"$V0\" \"$V1\" \"$V2\" \"$V3\"",
            ),
            (
                "dash",
                EnvShell::Sh,
                "printf '%s\\0' \"$V0\" \"$V1\" \"$V2\" \"$V3\"",
            ),
            (
                "fish",
                EnvShell::Fish,
                "printf '%s\\0' \"$V0\" \"$V1\" \"$V2\" \"$V3\"",
            ),
        ];
        for (shell, syntax, print) in shells {
            let script = format!("{}\n{print}", render(&vars, syntax));
            let out = std::process::Command::new(shell)
                .arg("-c")
                .arg(&script)
                .output()
                .unwrap_or_else(|e| panic!("{shell}: {e} (scripts/deps.sh --tests installs it)"));
            assert!(out.status.success(), "{shell}: {out:?}");
            let read: Vec<String> = String::from_utf8(out.stdout)
                .unwrap()
                .split('\0')
                .map(str::to_owned)
                .collect();
            assert_eq!(&read[..4], values, "{shell}");
        }
    }

    #[test]
    fn names_are_shell_identifiers() {
        assert_eq!(env_name("l2-1"), "L2_1");
        assert_eq!(env_name("alertmanager"), "ALERTMANAGER");
    }
}
