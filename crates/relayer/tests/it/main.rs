//! Integration tests of opdev-relayer against real anvil chains: an L1 and an OP-mode L2, the
//! bridge deployed by `deploy::run` from the pinned contracts package, and the relayer served
//! in-process.

mod metrics;
