//! Integration tests of the explorer over real indexed data: real anvil chains (an L1 and an
//! OP-mode L2 with a Counter deployed and incremented, transfers and an OP deposit), the real
//! indexer in-process on a real PostgreSQL server, and the explorer in-process; pages and their
//! JSON twins over HTTP, bad input, and a real headless Chromium.

mod adversarial;
mod bad_input;
mod browser;
mod pages;
mod support;
