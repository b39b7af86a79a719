//! Ports: every service listens on 127.0.0.1. Fixed ports are checked before anything starts, so
//! a busy port is a one-line error, not a crashed service; `auto` picks free ones by binding
//! port 0 and reading back what the kernel gave.

use std::net::{Ipv4Addr, TcpListener};

use opdev_spec::{DevnetConfig, PortMode};

use crate::Error;

/// Whether `port` can be bound on 127.0.0.1 right now.
pub fn is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// A port the kernel reports free on 127.0.0.1, other than those in `taken`.
pub fn pick_free(taken: &[u16]) -> Result<u16, Error> {
    for _ in 0..32 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| Error::io(std::path::Path::new("127.0.0.1:0"), e))?;
        let port = listener.local_addr().map_err(|e| Error::io(std::path::Path::new("127.0.0.1:0"), e))?.port();
        if !taken.contains(&port) {
            return Ok(port);
        }
    }
    Err(Error::usage("no free port found on 127.0.0.1", "free some ports and try again"))
}

/// Makes every chain port of `config` usable: in fixed mode a busy port is an error naming it;
/// in auto mode a busy (or unset) port is replaced by a free one. Returns the ports that changed.
pub fn ensure(config: &mut DevnetConfig) -> Result<Vec<(String, u16)>, Error> {
    let mut changed = Vec::new();
    let mode = config.ports;
    let mut taken: Vec<u16> = Vec::new();
    for chain in config.chains_mut() {
        if chain.port != 0 && is_free(chain.port) && !taken.contains(&chain.port) {
            taken.push(chain.port);
            continue;
        }
        match mode {
            PortMode::Fixed => {
                return Err(Error::PortInUse { port: chain.port, service: chain.service.clone() });
            }
            PortMode::Auto => {
                chain.port = pick_free(&taken)?;
                taken.push(chain.port);
                changed.push((chain.service.clone(), chain.port));
            }
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use opdev_spec::Settings;

    use super::*;

    #[test]
    fn busy_fixed_port_is_named_and_auto_replaces_it() {
        let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = busy.local_addr().unwrap().port();
        let free = pick_free(&[port]).unwrap();
        let settings = Settings { l1_port: Some(port), l2_port: Some(free), ..Default::default() };
        let mut config = DevnetConfig::new(&settings).unwrap();
        match ensure(&mut config) {
            Err(Error::PortInUse { port: p, service }) => assert_eq!((p, service.as_str()), (port, "l1")),
            other => panic!("{other:?}"),
        }
        config.ports = PortMode::Auto;
        let changed = ensure(&mut config).unwrap();
        assert_eq!(changed.len(), 1);
        assert_ne!(config.l1.port, port);
        assert_eq!(config.l2[0].port, free);
    }
}
