//! The command line: global options and one subcommand per operation. Every setting of `up` can
//! also come from opdev.toml (`--config`) and from an `OPDEV_<KEY>` environment variable; flags
//! win over the environment, which wins over the file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use opdev_spec::{PortMode, Profile, PullPolicy, RuntimeKind, Settings};

use crate::output::ColorChoice;

/// One command for a local OP Stack devnet: an L1 and OP L2s, ready in seconds, supervised in the
/// background, kept across restarts.
#[derive(Debug, Parser)]
#[command(name = "opdev", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 ok, 1 internal error, 2 invalid input, 3 devnet not found, \
4 already running, 5 not running, 6 port in use, 7 tool or binary missing, 8 service not ready \
(or the bridge's relayer late), 9 smoke check failed, 10 refused (faucet rate limit, a bridge sender \
that cannot pay).\nDevnets live in $OPDEV_HOME (default ~/.local/share/opdev)."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Devnet to act on [default: name in opdev.toml, else "opdev"].
    #[arg(long, global = true, env = "OPDEV_NAME", value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// Config file [default: ./opdev.toml when it exists].
    #[arg(long, global = true, env = "OPDEV_CONFIG", value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    /// Machine-readable output: one JSON document on stdout.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Print only errors.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub(crate) color: ColorChoice,
    /// More diagnostics on stderr (-v info, -vv debug); OPDEV_LOG takes a tracing filter.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

// Parsed once per run: the size of `up`'s arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Start a devnet (create it on first use) and return once every chain makes blocks.
    Up(UpArgs),
    /// Stop a devnet gracefully; its chains' state is saved and resumed by the next `up`.
    Down,
    /// Show every service's state, pid, ports, restarts and each chain's head.
    Status,
    /// Show service logs (all services when none is named; `supervisor` is opdev's own).
    Logs(LogsArgs),
    /// Restart services of a running devnet and wait until they are ready again.
    Restart(RestartArgs),
    /// Run a service from another executable (a local build) and restart it.
    Deploy(DeployArgs),
    /// Deploy a Counter on every chain, call increment, read it back; non-zero exit on mismatch.
    Smoke,
    /// Get test ETH from the devnet's faucet (waits for the receipt), or list its distributions.
    Faucet(FaucetArgs),
    /// Show the devnet's alerts (firing and pending) with their runbooks.
    Alerts,
    /// The OP bridge between the L1 and the L2s: deposits, withdrawals, their state, addresses.
    Bridge(BridgeArgs),
    /// List every devnet on this machine and whether it runs.
    List,
    /// Print the devnet's endpoints as shell variables: `eval "$(opdev env)"` (bash, zsh),
    /// `opdev env --shell fish | source`. Prints the database password (in DATABASE_URL).
    Env(EnvArgs),
    /// Print a completion script for a shell (installation: see the README).
    Completions(CompletionsArgs),
    /// Delete a devnet entirely: stop it, remove its data folder.
    Purge(PurgeArgs),
    /// Run one of opdev's own services in the foreground (`up` starts them as devnet services).
    #[command(subcommand)]
    Serve(ServeCommand),
    /// Run a devnet's supervisor (used by `up`; not for direct use).
    #[command(hide = true)]
    Supervise,
}

/// opdev's own services. Each logs to stderr and stops on SIGTERM or SIGINT.
#[derive(Debug, Subcommand)]
pub(crate) enum ServeCommand {
    /// Copy every block, transaction, receipt and log of the chains into PostgreSQL.
    Indexer(opdev_indexer::ServeArgs),
    /// Hand out test ETH over HTTP, rate-limited, every distribution recorded.
    Faucet(opdev_faucet::ServeArgs),
    /// Browse blocks, transactions and addresses indexed in PostgreSQL (pages and a JSON API).
    Explorer(opdev_explorer::ServeArgs),
    /// Probe the chains, serve their metrics and the disk's, log alert notifications.
    Exporter(opdev_telemetry::ServeArgs),
    /// Relay deposits and L1-info updates to the L2s and propose outputs on the L1.
    Relayer(opdev_relayer::ServeArgs),
    /// Deploy the OP bridge's contracts on the L1 and the predeploys on the L2s (a one-shot
    /// step of `up`, started with the chains: it waits up to 90 s for each to answer with its
    /// chain id; deploys nothing when they are there).
    #[command(hide = true)]
    BridgeDeploy(opdev_relayer::DeployArgs),
    /// Top an account up on every chain (anvil_setBalance); a one-shot step of `up`.
    #[command(hide = true)]
    Fund(FundArgs),
    /// Wait for SIGTERM or SIGINT and exit 0: the process of the container that holds a Docker
    /// devnet's network namespace.
    #[command(hide = true)]
    Pause,
}

#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// Print the service graph and the steps, start nothing.
    #[arg(long)]
    pub(crate) plan: bool,
    /// Stay attached: logs on the terminal, Ctrl-C stops the devnet.
    #[arg(long)]
    pub(crate) foreground: bool,
    /// Start new chains even if the devnet exists (deletes its chain data).
    #[arg(long)]
    pub(crate) fresh: bool,

    /// Chain software.
    #[arg(long, env = "OPDEV_PROFILE", help_heading = "Devnet", value_parser = parse::<Profile>)]
    pub(crate) profile: Option<Profile>,
    /// Where services run: native (supervised host processes) or docker (containers through the
    /// Docker Engine API; see docs/docker.md) [default: native].
    #[arg(long, env = "OPDEV_RUNTIME", help_heading = "Devnet", value_parser = parse::<RuntimeKind>)]
    pub(crate) runtime: Option<RuntimeKind>,

    /// Number of OP L2s (1-8) [default: 1].
    #[arg(long, env = "OPDEV_L2", help_heading = "Chains", value_name = "N")]
    pub(crate) l2: Option<u32>,
    /// L1 chain id [default: 900].
    #[arg(
        long,
        env = "OPDEV_L1_CHAIN_ID",
        help_heading = "Chains",
        value_name = "ID"
    )]
    pub(crate) l1_chain_id: Option<u64>,
    /// Chain id of the first L2; the others count up [default: 901].
    #[arg(
        long,
        env = "OPDEV_L2_CHAIN_ID",
        help_heading = "Chains",
        value_name = "ID"
    )]
    pub(crate) l2_chain_id: Option<u64>,
    /// Seconds between L1 blocks; 0 = a block per transaction [default: 1].
    #[arg(
        long,
        env = "OPDEV_L1_BLOCK_TIME",
        help_heading = "Chains",
        value_name = "SECS"
    )]
    pub(crate) l1_block_time: Option<u64>,
    /// Seconds between L2 blocks; 0 = a block per transaction [default: 1].
    #[arg(
        long,
        env = "OPDEV_BLOCK_TIME",
        help_heading = "Chains",
        value_name = "SECS"
    )]
    pub(crate) block_time: Option<u64>,
    /// Seconds between periodic saves of chain state (also saved at `down`); a kill -9 loses at
    /// most this much. Each save rewrites the whole state: raise it for long-lived busy chains
    /// (costs in docs/benchmarks.md) [default: 1].
    #[arg(
        long,
        env = "OPDEV_STATE_INTERVAL",
        help_heading = "Chains",
        value_name = "SECS"
    )]
    pub(crate) state_interval: Option<u64>,

    /// `fixed` uses the ports below; `auto` picks free ones [default: fixed].
    #[arg(long, env = "OPDEV_PORTS", help_heading = "Ports", value_parser = parse::<PortMode>)]
    pub(crate) ports: Option<PortMode>,
    /// L1 JSON-RPC port (HTTP and WebSocket) [default: 8545].
    #[arg(
        long,
        env = "OPDEV_L1_PORT",
        help_heading = "Ports",
        value_name = "PORT"
    )]
    pub(crate) l1_port: Option<u16>,
    /// JSON-RPC port of the first L2; the others count up [default: 9545].
    #[arg(
        long,
        env = "OPDEV_L2_PORT",
        help_heading = "Ports",
        value_name = "PORT"
    )]
    pub(crate) l2_port: Option<u16>,

    /// BIP39 mnemonic of the prefunded dev accounts [default: anvil's test mnemonic].
    #[arg(
        long,
        env = "OPDEV_MNEMONIC",
        help_heading = "Accounts",
        hide_env_values = true
    )]
    pub(crate) mnemonic: Option<String>,

    /// anvil executable [default: anvil on PATH, else the pinned release installed from npm].
    #[arg(
        long,
        env = "OPDEV_ANVIL_BIN",
        help_heading = "Tools",
        value_name = "PATH"
    )]
    pub(crate) anvil_bin: Option<PathBuf>,

    /// Use this PostgreSQL server instead of running one [default: run the machine's PostgreSQL].
    #[arg(
        long,
        env = "OPDEV_POSTGRES_URL",
        help_heading = "Services",
        value_name = "URL",
        hide_env_values = true
    )]
    pub(crate) postgres_url: Option<String>,
    /// Run the indexer [default: true].
    #[arg(
        long,
        env = "OPDEV_INDEXER",
        help_heading = "Services",
        value_name = "BOOL"
    )]
    pub(crate) indexer: Option<bool>,
    /// Leave the indexer out (same as --indexer false).
    #[arg(long, help_heading = "Services", conflicts_with = "indexer")]
    pub(crate) no_indexer: bool,
    /// Run the faucet [default: true].
    #[arg(
        long,
        env = "OPDEV_FAUCET",
        help_heading = "Services",
        value_name = "BOOL"
    )]
    pub(crate) faucet: Option<bool>,
    /// Leave the faucet out (same as --faucet false).
    #[arg(long, help_heading = "Services", conflicts_with = "faucet")]
    pub(crate) no_faucet: bool,
    /// Run Prometheus, Alertmanager and the chain exporter [default: true].
    #[arg(
        long,
        env = "OPDEV_MONITORING",
        help_heading = "Services",
        value_name = "BOOL"
    )]
    pub(crate) monitoring: Option<bool>,
    /// Leave the monitoring stack out (same as --monitoring false).
    #[arg(long, help_heading = "Services", conflicts_with = "monitoring")]
    pub(crate) no_monitoring: bool,
    /// Port of one of opdev's own services, as SERVICE=PORT (repeatable; services: explorer
    /// 4000, faucet 4001, indexer 4002, exporter 4003, relayer 4004, postgres 5433, prometheus
    /// 9090, alertmanager 9093).
    #[arg(
        long = "service-port",
        env = "OPDEV_SERVICE_PORTS",
        value_delimiter = ',',
        help_heading = "Ports",
        value_name = "SERVICE=PORT",
        value_parser = parse_service_port
    )]
    pub(crate) service_ports: Vec<(String, u16)>,
    /// A webhook URL that receives every alert notification too (Alertmanager's webhook format).
    #[arg(
        long,
        env = "OPDEV_ALERT_WEBHOOK",
        help_heading = "Services",
        value_name = "URL"
    )]
    pub(crate) alert_webhook: Option<String>,
    /// Blocks of indexer lag that fire the IndexerLagging alert (after a minute) [default: 10].
    #[arg(
        long,
        env = "OPDEV_INDEXER_LAG_ALERT",
        help_heading = "Services",
        value_name = "BLOCKS"
    )]
    pub(crate) indexer_lag_alert: Option<u64>,
    /// Seconds an unhealthy condition must last before its alert fires [default: 30 for
    /// RpcDown and TargetDown, 60 for IndexerLagging, DiskFillingUp and DepositsStalled].
    #[arg(
        long,
        env = "OPDEV_ALERT_AFTER",
        help_heading = "Services",
        value_name = "SECS"
    )]
    pub(crate) alert_after: Option<u64>,
    /// Docker runtime: the image of a service, as SERVICE=REF; SERVICE is a service (l1, l2-1,
    /// postgres…) or a tool (anvil, postgres, prometheus, alertmanager) (repeatable; defaults in
    /// docs/images.md).
    #[arg(
        long = "image",
        env = "OPDEV_IMAGES",
        value_delimiter = ',',
        help_heading = "Runtime",
        value_name = "SERVICE=REF",
        value_parser = parse_pair
    )]
    pub(crate) images: Vec<(String, String)>,
    /// The executable of a service, as SERVICE=PATH; SERVICE is a service or a tool as for
    /// --image. On Docker an image is built from it (the program and its shared libraries, no
    /// registry needed) (repeatable).
    #[arg(
        long = "binary",
        env = "OPDEV_BINARIES",
        value_delimiter = ',',
        help_heading = "Runtime",
        value_name = "SERVICE=PATH",
        value_parser = parse_pair
    )]
    pub(crate) binaries: Vec<(String, String)>,

    /// Deploy the OP bridge: the Bedrock contracts on the L1, the predeploys on every L2, the
    /// relayer and the proposer [default: true].
    #[arg(
        long,
        env = "OPDEV_BRIDGE",
        help_heading = "Bridge",
        value_name = "BOOL"
    )]
    pub(crate) bridge: Option<bool>,
    /// Leave the bridge out (same as --bridge false).
    #[arg(long, help_heading = "Bridge", conflicts_with = "bridge")]
    pub(crate) no_bridge: bool,
    /// Seconds between proving a withdrawal and finalizing it [default: 12].
    #[arg(
        long,
        env = "OPDEV_FINALIZATION_PERIOD",
        help_heading = "Bridge",
        value_name = "SECS"
    )]
    pub(crate) finalization_period: Option<u64>,
    /// L1 blocks on top of a deposit's block before it is relayed [default: 0].
    #[arg(
        long,
        env = "OPDEV_DEPOSIT_CONFIRMATIONS",
        help_heading = "Bridge",
        value_name = "BLOCKS"
    )]
    pub(crate) deposit_confirmations: Option<u64>,
    /// Docker runtime: when pinned images are pulled. `missing` pulls what is not on the
    /// machine, `always` pulls at every `up`, `never` does not pull; an image that cannot be had
    /// is built from the service's program when it is installed here [default: missing].
    #[arg(
        long,
        env = "OPDEV_PULL",
        help_heading = "Runtime",
        value_name = "WHEN",
        value_parser = parse::<PullPolicy>
    )]
    pub(crate) pull: Option<PullPolicy>,

    /// Start the L1 as a fork of the chain at this JSON-RPC URL (http:// or https://); the L2s
    /// and services run on top. Keeps the devnet's L1 chain id; `down`/`up` resumes the fork at
    /// the same upstream block (the upstream must answer at every `up`). "" ends the fork (with
    /// --fresh).
    #[arg(
        long,
        env = "OPDEV_FORK_URL",
        help_heading = "Fork",
        value_name = "URL"
    )]
    pub(crate) fork_url: Option<String>,
    /// The upstream block the L1 fork starts from [default: the upstream's head when the devnet
    /// is created].
    #[arg(
        long,
        env = "OPDEV_FORK_BLOCK_NUMBER",
        help_heading = "Fork",
        value_name = "N"
    )]
    pub(crate) fork_block_number: Option<u64>,
    /// Start an L2 as a fork, as L2=URL (e.g. l2-1=http://127.0.0.1:9999) (repeatable).
    #[arg(
        long = "l2-fork-url",
        env = "OPDEV_L2_FORK_URL",
        value_delimiter = ',',
        help_heading = "Fork",
        value_name = "L2=URL",
        value_parser = parse_pair
    )]
    pub(crate) l2_fork_urls: Vec<(String, String)>,
}

/// `path` made absolute against the current folder (the supervisor runs elsewhere).
fn absolute(path: &str) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.into())
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((key, value)) if !key.is_empty() && !value.is_empty() => {
            Ok((key.to_owned(), value.to_owned()))
        }
        _ => Err(format!("{s:?} is not SERVICE=VALUE")),
    }
}

fn parse_service_port(s: &str) -> Result<(String, u16), String> {
    let (service, port) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not SERVICE=PORT"))?;
    let port = port
        .parse::<u16>()
        .map_err(|e| format!("port of {service}: {e}"))?;
    Ok((service.to_owned(), port))
}

fn parse<T: std::str::FromStr<Err = opdev_spec::ConfigError>>(s: &str) -> Result<T, String> {
    s.parse()
        .map_err(|e: opdev_spec::ConfigError| e.to_string())
}

impl UpArgs {
    /// The settings given on the command line or in the environment.
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            name: None,
            profile: self.profile,
            runtime: self.runtime,
            l2: self.l2,
            l1_chain_id: self.l1_chain_id,
            l2_chain_id: self.l2_chain_id,
            l1_block_time: self.l1_block_time,
            block_time: self.block_time,
            l1_port: self.l1_port,
            l2_port: self.l2_port,
            ports: self.ports,
            mnemonic: self.mnemonic.clone(),
            anvil_bin: self.anvil_bin.clone(),
            state_interval: self.state_interval,
            postgres_url: self.postgres_url.clone(),
            indexer: if self.no_indexer {
                Some(false)
            } else {
                self.indexer
            },
            faucet: if self.no_faucet {
                Some(false)
            } else {
                self.faucet
            },
            monitoring: if self.no_monitoring {
                Some(false)
            } else {
                self.monitoring
            },
            alert_webhook: self.alert_webhook.clone(),
            indexer_lag_alert: self.indexer_lag_alert,
            alert_after: self.alert_after,
            images: (!self.images.is_empty()).then(|| self.images.iter().cloned().collect()),
            binaries: (!self.binaries.is_empty()).then(|| {
                self.binaries
                    .iter()
                    .map(|(k, v)| (k.clone(), absolute(v)))
                    .collect()
            }),
            service_ports: (!self.service_ports.is_empty())
                .then(|| self.service_ports.iter().cloned().collect()),
            bridge: if self.no_bridge {
                Some(false)
            } else {
                self.bridge
            },
            finalization_period: self.finalization_period,
            deposit_confirmations: self.deposit_confirmations,
            fork_url: self.fork_url.clone(),
            fork_block_number: self.fork_block_number,
            l2_fork_url: (!self.l2_fork_urls.is_empty())
                .then(|| self.l2_fork_urls.iter().cloned().collect()),
            pull: self.pull,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct BridgeArgs {
    #[command(subcommand)]
    pub(crate) command: BridgeCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BridgeCommand {
    /// The bridge's contracts: each L2's system on the L1, the L1's Multicall3, the predeploys.
    Addresses,
    /// Deposit ETH from the L1 to an L2 through its OptimismPortal; waits until the L2 has it.
    Deposit(BridgeDepositArgs),
    /// Withdraw ETH from an L2 to the L1: initiate, wait for an output, prove, wait out the
    /// finalization period, finalize.
    Withdraw(BridgeWithdrawArgs),
    /// Deposits and withdrawals of the devnet with their state, or those of one transaction.
    Status(BridgeStatusArgs),
}

/// Who signs a bridge transaction.
#[derive(Debug, Args)]
pub(crate) struct SenderArgs {
    /// Private key (0x + 64 hex digits) that signs and pays [default: dev account 0].
    #[arg(long, value_name = "KEY", conflicts_with = "from_account")]
    pub(crate) from_key: Option<String>,
    /// Dev account of the devnet's mnemonic that signs and pays (0-based) [default: 0].
    #[arg(long, value_name = "N")]
    pub(crate) from_account: Option<u32>,
}

#[derive(Debug, Args)]
pub(crate) struct BridgeDepositArgs {
    /// ETH to deposit, in ether (up to 18 decimals: 1.5, 0.000000000000000001).
    #[arg(allow_negative_numbers = true)]
    pub(crate) amount: String,
    /// Recipient on the L2 [default: the sender].
    #[arg(long, value_name = "ADDRESS")]
    pub(crate) to: Option<String>,
    /// The L2, by service name or chain id [default: the first L2].
    #[arg(long, value_name = "L2")]
    pub(crate) chain: Option<String>,
    #[command(flatten)]
    pub(crate) sender: SenderArgs,
    /// Return once the L1 transaction is mined, without waiting for the L2 deposit.
    #[arg(long)]
    pub(crate) no_wait: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BridgeWithdrawArgs {
    /// ETH to withdraw, in ether (up to 18 decimals); left out with --tx.
    #[arg(
        allow_negative_numbers = true,
        required_unless_present = "tx",
        conflicts_with = "tx"
    )]
    pub(crate) amount: Option<String>,
    /// Recipient on the L1 [default: the sender].
    #[arg(long, value_name = "ADDRESS", conflicts_with = "tx")]
    pub(crate) to: Option<String>,
    /// The L2, by service name or chain id [default: the first L2].
    #[arg(long, value_name = "L2")]
    pub(crate) chain: Option<String>,
    #[command(flatten)]
    pub(crate) sender: SenderArgs,
    /// Stop once the withdrawal is initiated on the L2 (finish it later with --tx).
    #[arg(long)]
    pub(crate) no_wait: bool,
    /// Finish the withdrawal that this L2 transaction initiated (after --no-wait, a `down`/`up`,
    /// an interruption): prove it unless proven, then finalize it.
    #[arg(long, value_name = "HASH")]
    pub(crate) tx: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct BridgeStatusArgs {
    /// Only this transaction: an L1 deposit, the L2 transaction of a deposit, or an L2
    /// withdrawal.
    pub(crate) tx: Option<String>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct FaucetArgs {
    #[command(subcommand)]
    pub(crate) history: Option<FaucetCommand>,
    /// Address to fund (0x…; a mixed-case address must carry a valid EIP-55 checksum).
    pub(crate) address: Option<String>,
    /// Chain, by id or service name [default: the first L2].
    #[arg(long)]
    pub(crate) chain: Option<String>,
    /// Return once the transfer is sent, without waiting for its receipt.
    #[arg(long)]
    pub(crate) no_wait: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum FaucetCommand {
    /// List the faucet's distributions, newest first.
    History {
        /// Only those to this address.
        #[arg(long)]
        address: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Debug, Args)]
pub(crate) struct FundArgs {
    /// A chain, as NAME=CHAIN_ID=RPC_URL (repeatable).
    #[arg(long = "chain", value_name = "NAME=ID=URL", required = true)]
    pub(crate) chains: Vec<String>,
    /// The account to fund.
    #[arg(long)]
    pub(crate) address: String,
    /// The balance it should have at least, in ETH.
    #[arg(long)]
    pub(crate) eth: u64,
}

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// Services to show [default: all].
    pub(crate) services: Vec<String>,
    /// Keep printing new lines as they come (Ctrl-C to stop).
    #[arg(long, short)]
    pub(crate) follow: bool,
    /// Lines to show from the end of each log.
    #[arg(long, short = 'n', default_value_t = 100, value_name = "N")]
    pub(crate) tail: usize,
}

#[derive(Debug, Args)]
pub(crate) struct RestartArgs {
    /// Services to restart.
    #[arg(required = true)]
    pub(crate) services: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// Service to run from the new executable.
    pub(crate) service: String,
    /// The executable; kept for later `up`s until deployed again.
    #[arg(long, value_name = "PATH")]
    pub(crate) binary: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct EnvArgs {
    /// Chain of ETH_RPC_URL, by service name or chain id [default: the first L2].
    #[arg(long)]
    pub(crate) chain: Option<String>,
    /// Syntax of the output: `sh` (bash, zsh, dash…: `export NAME='value'`), `fish`
    /// (`set -gx NAME 'value'`) or `json`.
    #[arg(long, value_enum, default_value_t = EnvShell::Sh)]
    pub(crate) shell: EnvShell,
}

/// The syntax `opdev env` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EnvShell {
    /// POSIX shells: bash, zsh, dash, ksh.
    Sh,
    /// fish.
    Fish,
    /// One JSON object, name to value.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct PurgeArgs {
    /// Do not ask for confirmation.
    #[arg(long, short)]
    pub(crate) yes: bool,
}

/// Environment variables opdev reads; any other `OPDEV_*` is a mistake worth an error.
pub(crate) fn known_env() -> Vec<String> {
    let mut known: Vec<String> = Settings::KEYS
        .iter()
        .map(|k| format!("OPDEV_{}", k.to_uppercase()))
        .collect();
    known.extend(["OPDEV_HOME", "OPDEV_CONFIG", "OPDEV_LOG"].map(String::from));
    known
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_setting_has_an_env_variable_the_checker_knows() {
        let cmd = Cli::command();
        let up = cmd.find_subcommand("up").unwrap();
        let envs: Vec<String> = up
            .get_arguments()
            .filter_map(|a| a.get_env().map(|e| e.to_string_lossy().into_owned()))
            .collect();
        for key in Settings::KEYS {
            let var = format!("OPDEV_{}", key.to_uppercase());
            assert!(
                envs.contains(&var) || var == "OPDEV_NAME",
                "{var} is not an env of `up`"
            );
            assert!(known_env().contains(&var));
        }
    }
}
