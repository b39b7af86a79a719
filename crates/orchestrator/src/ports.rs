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

/// The kernel's range for outgoing connections' local ports (`ip_local_port_range`).
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|n| n.parse::<u16>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32768, 60999))
}

/// A free port on 127.0.0.1, other than those in `taken`. It is drawn at random below the
/// kernel's ephemeral range: a port from that range (what binding port 0 gives) can be handed to
/// some outgoing connection between the check and the service's own bind.
pub fn pick_free(taken: &[u16]) -> Result<u16, Error> {
    use std::hash::{BuildHasher, RandomState};
    let (ephemeral_start, ephemeral_end) = ephemeral_range();
    let (low, high) = if ephemeral_start > 20_000 {
        (10_000, ephemeral_start)
    } else {
        (ephemeral_end.saturating_add(1), u16::MAX)
    };
    let random = RandomState::new();
    for attempt in 0u64..256 {
        let span = u64::from(high - low).max(1);
        let port = low + (random.hash_one(attempt) % span) as u16;
        if !taken.contains(&port) && is_free(port) {
            return Ok(port);
        }
    }
    Err(Error::usage(
        format!("no free port found on 127.0.0.1 between {low} and {high}"),
        "free some ports, or set fixed ports with --l1-port and --l2-port",
    ))
}

/// Makes every port of `config` (chains and opdev's own services) usable: in fixed mode a busy
/// port is an error naming it; in auto mode a busy (or unset, 0) port is replaced by a free one.
/// Returns the ports that changed.
pub fn ensure(config: &mut DevnetConfig) -> Result<Vec<(String, u16)>, Error> {
    let mut changed = Vec::new();
    let mut taken: Vec<u16> = Vec::new();
    for (service, port) in config.ports_in_use() {
        if port != 0 && !taken.contains(&port) && is_free(port) {
            taken.push(port);
            continue;
        }
        match config.ports {
            PortMode::Fixed => return Err(Error::PortInUse { port, service }),
            PortMode::Auto => {
                let new = pick_free(&taken)?;
                taken.push(new);
                config.set_port(&service, new);
                changed.push((service, new));
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
        let port = pick_free(&[]).unwrap();
        let _busy = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
        let free = pick_free(&[port]).unwrap();
        let settings = Settings {
            l1_port: Some(port),
            l2_port: Some(free),
            ..Default::default()
        };
        let mut config = DevnetConfig::new(&settings).unwrap();
        match ensure(&mut config) {
            Err(Error::PortInUse { port: p, service }) => {
                assert_eq!((p, service.as_str()), (port, "l1"))
            }
            other => panic!("{other:?}"),
        }
        config.ports = PortMode::Auto;
        let changed = ensure(&mut config).unwrap();
        assert_eq!(changed.len(), 1);
        assert_ne!(config.l1.port, port);
        assert_eq!(config.l2[0].port, free);
        assert!(
            config.l1.port < ephemeral_range().0,
            "auto ports avoid the ephemeral range"
        );
    }
}
