//! End-to-end tests of the `opdev` binary against real anvil processes. Each test has its own
//! `$OPDEV_HOME` and picks free ports (`--ports auto`), so tests run in parallel.

mod bridge;
mod daily;
mod docker;
mod docker_full;
mod errors;
mod faucet_crash;
mod file_modes;
mod full;
mod indexer;
mod lifecycle;
mod monitoring;
mod operations;
mod relay;
mod services;
mod support;
