//! Integration tests of the faucet against a real anvil and a real PostgreSQL server: the
//! faucet runs in-process on 127.0.0.1:0 and is driven over HTTP.

mod adversarial;
mod api;
mod claims;
mod common;
mod failures;
mod hardening;
mod input;
mod limits;
