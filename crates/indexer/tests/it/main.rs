//! Integration tests of the indexer against a real PostgreSQL server and real anvil chains. Each
//! test builds its chains, runs the indexer in-process, and ends with a parity check: every
//! block, transaction and log of the chain is in the database with the same values, and nothing
//! else is.

mod backfill;
mod faults;
mod reorg;
mod support;
