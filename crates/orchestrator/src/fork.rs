//! Fork mode: a chain started as a fork of another chain (anvil's `--fork-url`). Before anything
//! starts, each fork's upstream must answer `eth_chainId` within the probe deadline, so an
//! unreachable or wrong URL is one line of error instead of a chain that never becomes ready.
//! A new fork is pinned to the upstream's head at creation (unless a block was given): every later
//! `up` forks that same block and loads the chain's saved state on top, which anvil resumes
//! exactly (its saved state holds what changed on the fork; what did not is read from the
//! upstream again, at the pinned block).

use std::collections::BTreeMap;

use opdev_chain::rpc::{PROBE_TIMEOUT, Probe};
use opdev_spec::DevnetConfig;

use crate::Error;

/// Probes every fork's upstream of `config`; returns the upstream's head for each fork whose
/// block is not pinned yet, by service name.
pub async fn probe(config: &DevnetConfig) -> Result<BTreeMap<String, u64>, Error> {
    let mut heads = BTreeMap::new();
    for chain in config.chains() {
        let Some(fork) = &chain.fork else {
            continue;
        };
        let fail = |reason: String| {
            Error::usage(
                format!(
                    "fork {} from {}: the upstream does not answer: {reason}",
                    chain.service, fork.url
                ),
                format!(
                    "check the URL and that its node runs (opdev waits {} s for eth_chainId); \
                     a devnet forked earlier needs its upstream at every `up`",
                    PROBE_TIMEOUT.as_secs()
                ),
            )
        };
        let probe = Probe::new(&fork.url).map_err(|e| fail(e.to_string()))?;
        let upstream_id = probe.chain_id().await.map_err(|e| fail(e.to_string()))?;
        let head = probe
            .block_number()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if let Some(pinned) = fork.block_number
            && pinned > head
        {
            return Err(Error::usage(
                format!(
                    "fork {} from {} at block {pinned}: the upstream (chain id {upstream_id}) is \
                     only at block {head}",
                    chain.service, fork.url
                ),
                "give a block the upstream has (--fork-block-number), or leave it out to fork \
                 its head",
            ));
        }
        tracing::info!(service = %chain.service, url = %fork.url, upstream_id, head, "fork upstream answers");
        if fork.block_number.is_none() {
            heads.insert(chain.service.clone(), head);
        }
    }
    Ok(heads)
}

/// Pins every unpinned fork of `config` to the head `probe` found.
pub fn pin(config: &mut DevnetConfig, heads: &BTreeMap<String, u64>) {
    for chain in config.chains_mut() {
        if let Some(fork) = &mut chain.fork
            && fork.block_number.is_none()
        {
            fork.block_number = heads.get(&chain.service).copied();
        }
    }
}
