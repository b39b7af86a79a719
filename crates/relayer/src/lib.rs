//! The lite bridge's services, run from the opdev binary:
//!
//! - `opdev serve bridge-deploy` ([`deploy`]): a one-shot that deploys the OP contracts on the
//!   L1 for every L2 and lays out the predeploys on each L2, then writes the bridge record. When
//!   the record's contracts are already on the chains (a warm `up`), it deploys nothing.
//! - `opdev serve relayer` ([`relay`]): follows every OptimismPortal's deposits and relays each,
//!   exactly once, to its L2 as a deposit transaction ([`deposits`]); keeps each L2's L1Block
//!   predeploy in step with the L1 ([`l1info`]); and proposes outputs by creating dispute games on
//!   the L1 ([`proposer`]), so withdrawals can be proven and finalized; it serves `/metrics`
//!   ([`metrics`]) and `/health` on `--listen`.

pub mod deploy;
pub mod deposits;
mod http;
pub mod l1info;
pub mod metrics;
pub mod proposer;
pub mod relay;
pub mod rollup;

pub use deploy::DeployArgs;
pub use relay::ServeArgs;
