//! The orchestrator: everything between the CLI and the runtime. It knows where devnets live
//! ([`home`]) and who owns them ([`lock`]), finds or installs tools ([`tools`]), builds the full
//! profile's OP Stack programs ([`opstack_go`]), checks ports ([`ports`]), turns config into a
//! [`plan::Plan`] and executes it, runs a devnet's supervisor ([`daemon`]) and talks to it
//! ([`client`], [`protocol`]), probes fork upstreams ([`fork`]). [`lifecycle`] ties these into
//! the operations the CLI offers.

pub mod client;
pub mod daemon;
pub mod error;
pub mod fork;
pub mod home;
pub mod lifecycle;
pub mod lock;
pub mod monitoring;
pub mod opstack_go;
pub mod plan;
pub mod ports;
pub mod protocol;
pub mod secrets;
pub mod tools;

pub use error::{Error, ExitCode};
pub use home::{DevnetDir, Home};
