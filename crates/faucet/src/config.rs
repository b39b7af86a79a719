//! The faucet's settings: the `opdev serve faucet` flags ([`ServeArgs`]) and the typed
//! [`Config`] they resolve to, together with the faucet's key read from `FAUCET_PRIVATE_KEY`.
//! The key never passes through argv and never appears in `Debug` output or logs.

use std::{fmt, net::SocketAddr, time::Duration};

use alloy::{
    primitives::{U256, utils::parse_ether},
    signers::local::PrivateKeySigner,
};

/// Environment variable that holds the faucet's private key (hex, with or without `0x`).
pub const PRIVATE_KEY_ENV: &str = "FAUCET_PRIVATE_KEY";

/// Default amount sent per claim, in ETH.
pub const DEFAULT_AMOUNT_ETH: &str = "1";
/// Default per-address window, in seconds (1 hour).
pub const DEFAULT_ADDRESS_WINDOW_SECS: u64 = 3600;
/// Default claims per address per chain within the address window.
pub const DEFAULT_ADDRESS_CLAIMS: u32 = 1;
/// Default per-client-IP window, in seconds (1 hour).
pub const DEFAULT_IP_WINDOW_SECS: u64 = 3600;
/// Default claims per client IP per chain within the IP window.
pub const DEFAULT_IP_CLAIMS: u32 = 100;

/// Why the settings are unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A `--chain` value is not `NAME=CHAIN_ID=RPC_URL`, or repeats a name or chain id.
    #[error(transparent)]
    Chain(#[from] opdev_spec::endpoint::EndpointError),
    /// A `--amount` value is not `CHAIN_ID=ETH`, or names no configured chain.
    #[error("read --amount {value:?}: {reason} (expected CHAIN_ID=ETH, e.g. 901=0.5)")]
    Amount {
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `--listen` is not an address.
    #[error("read --listen {value:?}: {reason}")]
    Listen {
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A limit of zero claims or a zero window.
    #[error("read {flag}: must be at least 1")]
    Zero {
        /// The flag.
        flag: &'static str,
    },
    /// `FAUCET_PRIVATE_KEY` is missing or not a key.
    #[error("read the faucet key from {PRIVATE_KEY_ENV}: {0}")]
    Key(String),
}

/// `opdev serve faucet` arguments. The faucet's key comes from the `FAUCET_PRIVATE_KEY`
/// environment variable only.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// A chain to serve, as NAME=CHAIN_ID=RPC_URL (repeat for each chain). The first one is used
    /// when a claim names no chain.
    #[arg(long = "chain", value_name = "NAME=ID=URL", required = true)]
    pub chains: Vec<String>,
    /// Address of the HTTP server (127.0.0.1 unless you mean to expose it).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// PostgreSQL URL (claims and rate limits live there).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// ETH sent per claim on chains without their own --amount.
    #[arg(long, value_name = "ETH", default_value = DEFAULT_AMOUNT_ETH)]
    pub default_amount: String,
    /// ETH sent per claim on one chain, as CHAIN_ID=ETH (repeatable).
    #[arg(long = "amount", value_name = "ID=ETH")]
    pub amounts: Vec<String>,
    /// Window of the per-address limit, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_ADDRESS_WINDOW_SECS)]
    pub address_window: u64,
    /// Claims one address may make on one chain within --address-window.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ADDRESS_CLAIMS)]
    pub address_claims: u32,
    /// Window of the per-client-IP limit, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_IP_WINDOW_SECS)]
    pub ip_window: u64,
    /// Claims one client IP may make on one chain within --ip-window.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_IP_CLAIMS)]
    pub ip_claims: u32,
    /// Take the client IP from the right-most X-Forwarded-For entry (only behind a proxy you
    /// trust; otherwise the header is ignored).
    #[arg(long)]
    pub trust_forwarded_for: bool,
}

/// One chain the faucet pays out on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainConfig {
    /// Its name in the devnet (`l1`, `l2-1`, …).
    pub name: String,
    /// Its chain id.
    pub chain_id: u64,
    /// Its JSON-RPC URL.
    pub rpc_url: String,
    /// Wei sent per claim.
    pub amount: U256,
}

/// A rate limit: at most `claims` within any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Claims allowed within the window.
    pub claims: u32,
    /// The sliding window.
    pub window: Duration,
}

/// The per-address and per-IP limits (both counted per chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Per address and chain.
    pub address: Limit,
    /// Per client IP and chain.
    pub ip: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            address: Limit {
                claims: DEFAULT_ADDRESS_CLAIMS,
                window: Duration::from_secs(DEFAULT_ADDRESS_WINDOW_SECS),
            },
            ip: Limit {
                claims: DEFAULT_IP_CLAIMS,
                window: Duration::from_secs(DEFAULT_IP_WINDOW_SECS),
            },
        }
    }
}

/// Everything the faucet needs to run.
#[derive(Clone)]
pub struct Config {
    /// Chains, in the order given (the first is the default chain of a claim).
    pub chains: Vec<ChainConfig>,
    /// Where the HTTP server binds (port 0: any free port).
    pub listen: SocketAddr,
    /// PostgreSQL URL.
    pub database_url: String,
    /// The faucet's key.
    pub signer: PrivateKeySigner,
    /// Rate limits.
    pub limits: Limits,
    /// Whether X-Forwarded-For names the client.
    pub trust_forwarded_for: bool,
    /// Maximum PostgreSQL connections.
    pub pool_size: usize,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out: only the address it controls is shown.
        f.debug_struct("Config")
            .field("chains", &self.chains)
            .field("listen", &self.listen)
            .field("faucet", &self.signer.address())
            .field("limits", &self.limits)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A config with the defaults: 127.0.0.1:0, default limits, no X-Forwarded-For.
    pub fn new(chains: Vec<ChainConfig>, database_url: String, signer: PrivateKeySigner) -> Self {
        Self {
            chains,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url,
            signer,
            limits: Limits::default(),
            trust_forwarded_for: false,
            pool_size: 16,
        }
    }

    /// Sets the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets whether X-Forwarded-For is trusted.
    pub fn with_trust_forwarded_for(mut self, trust: bool) -> Self {
        self.trust_forwarded_for = trust;
        self
    }

    /// Resolves the flags, reading the key from `FAUCET_PRIVATE_KEY`.
    pub fn from_args(args: &ServeArgs) -> Result<Self, ConfigError> {
        let key = std::env::var(PRIVATE_KEY_ENV)
            .map_err(|_| ConfigError::Key("the variable is not set".into()))?;
        let signer = parse_key(&key)?;
        Self::from_args_with_signer(args, signer)
    }

    /// Resolves the flags with a given key.
    pub fn from_args_with_signer(
        args: &ServeArgs,
        signer: PrivateKeySigner,
    ) -> Result<Self, ConfigError> {
        let default_amount =
            parse_eth(&args.default_amount).map_err(|reason| ConfigError::Amount {
                value: args.default_amount.clone(),
                reason,
            })?;
        let mut chains: Vec<ChainConfig> = opdev_spec::endpoint::parse_all(&args.chains)?
            .into_iter()
            .map(|c| ChainConfig {
                name: c.name,
                chain_id: c.chain_id,
                rpc_url: c.rpc_url,
                amount: default_amount,
            })
            .collect();
        for value in &args.amounts {
            let bad = |reason: String| ConfigError::Amount {
                value: value.clone(),
                reason,
            };
            let (id, eth) = value.split_once('=').ok_or_else(|| bad("no '='".into()))?;
            let id: u64 = id
                .trim()
                .parse()
                .map_err(|e| bad(format!("chain id: {e}")))?;
            let amount = parse_eth(eth).map_err(bad)?;
            let chain = chains
                .iter_mut()
                .find(|c| c.chain_id == id)
                .ok_or_else(|| bad(format!("no --chain has id {id}")))?;
            chain.amount = amount;
        }
        let listen = args.listen.parse().map_err(|e| ConfigError::Listen {
            value: args.listen.clone(),
            reason: format!("{e}"),
        })?;
        for (flag, n) in [
            ("--address-window", args.address_window),
            ("--address-claims", u64::from(args.address_claims)),
            ("--ip-window", args.ip_window),
            ("--ip-claims", u64::from(args.ip_claims)),
        ] {
            if n == 0 {
                return Err(ConfigError::Zero { flag });
            }
        }
        let limits = Limits {
            address: Limit {
                claims: args.address_claims,
                window: Duration::from_secs(args.address_window),
            },
            ip: Limit {
                claims: args.ip_claims,
                window: Duration::from_secs(args.ip_window),
            },
        };
        Ok(Self {
            listen,
            limits,
            trust_forwarded_for: args.trust_forwarded_for,
            ..Self::new(chains, args.database_url.clone(), signer)
        })
    }

    /// The chain with this id.
    pub fn chain(&self, chain_id: u64) -> Option<&ChainConfig> {
        self.chains.iter().find(|c| c.chain_id == chain_id)
    }
}

/// Parses a hex private key (the error never contains the key).
pub fn parse_key(key: &str) -> Result<PrivateKeySigner, ConfigError> {
    key.trim()
        .parse::<PrivateKeySigner>()
        .map_err(|_| ConfigError::Key("not a 32-byte hex private key".into()))
}

/// Parses an amount of ETH (`1`, `0.25`, up to 18 decimals) into wei; zero is refused.
pub fn parse_eth(eth: &str) -> Result<U256, String> {
    let text = eth.trim();
    // alloy's parser slices the text by bytes and panics inside a multi-byte character (found by
    // the property test below): only digits and one point go to it.
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!(
            "amount {eth:?}: expected a number of ETH such as 1 or 0.25"
        ));
    }
    let wei = parse_ether(text).map_err(|e| format!("amount {eth:?}: {e}"))?;
    if wei.is_zero() {
        return Err("amount must be more than 0".into());
    }
    Ok(wei)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn args(extra: &[&str]) -> ServeArgs {
        let mut argv = vec![
            "faucet",
            "--chain",
            "l1=900=http://127.0.0.1:8545",
            "--chain",
            "l2-1=901=http://127.0.0.1:9545",
            "--database-url",
            "postgres://x@127.0.0.1/db",
        ];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).expect("parses").args
    }

    #[test]
    fn defaults_and_amounts() {
        let signer = PrivateKeySigner::random();
        let config =
            Config::from_args_with_signer(&args(&["--amount", "901=0.25"]), signer).unwrap();
        assert_eq!(config.chains.len(), 2);
        assert_eq!(config.chains[0].amount, parse_ether("1").unwrap());
        assert_eq!(config.chains[1].amount, parse_ether("0.25").unwrap());
        assert_eq!(config.limits, Limits::default());
        assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert!(!config.trust_forwarded_for);
    }

    #[test]
    fn bad_values_are_refused() {
        let signer = PrivateKeySigner::random();
        for extra in [
            &["--amount", "999=1"][..],
            &["--amount", "901=abc"],
            &["--amount", "901=0"],
            &["--amount", "901=.A A0A\u{1ec71}"],
            &["--amount", "901=-1"],
            &["--amount", "901=1e18"],
            &["--ip-claims", "0"],
            &["--listen", "nowhere"],
            &["--chain", "l3=901=http://127.0.0.1:1"],
            &["--chain", "l3=x=http://127.0.0.1:1"],
            &["--chain", "l3=903"],
        ] {
            assert!(
                Config::from_args_with_signer(&args(extra), signer.clone()).is_err(),
                "{extra:?} accepted"
            );
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let signer = PrivateKeySigner::random();
        let key = alloy::hex::encode(signer.to_bytes());
        let config = Config::from_args_with_signer(&args(&[]), signer).unwrap();
        assert!(!format!("{config:?}").contains(&key));
        assert!(
            parse_key("0x1234")
                .unwrap_err()
                .to_string()
                .contains("not a")
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        #[test]
        fn any_text_is_an_amount_or_refused(text in proptest::prelude::any::<String>()) {
            if let Ok(wei) = parse_eth(&text) {
                proptest::prop_assert!(!wei.is_zero());
            }
        }

        #[test]
        fn decimal_amounts_read_back(int in 0u64..1_000_000_000, frac in "[0-9]{0,18}") {
            let text = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
            let ten = U256::from(10u64);
            let mut wei = U256::from(int) * ten.pow(U256::from(18));
            if !frac.is_empty() {
                wei += U256::from_str_radix(&frac, 10).unwrap()
                    * ten.pow(U256::from(18 - frac.len()));
            }
            match parse_eth(&text) {
                Ok(parsed) => proptest::prop_assert_eq!(parsed, wei),
                Err(_) => proptest::prop_assert!(wei.is_zero()),
            }
        }
    }
}
