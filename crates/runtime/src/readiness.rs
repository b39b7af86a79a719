//! Readiness as data: each [`WaitFor`] condition of a spec is checked here, the same way for every
//! runtime. A runtime gives the host ports and the log file; this module polls until every
//! condition holds or the deadline passes.

use std::{net::SocketAddr, path::Path, time::Duration};

use opdev_chain::rpc::Probe;
use opdev_spec::{ServiceSpec, WaitFor};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::{Instant, sleep, timeout},
};

/// Pause between two polls of a condition.
const POLL: Duration = Duration::from_millis(40);

/// Why a service is not ready.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("{condition} did not hold within {secs:.1} s (last seen: {last})")]
pub struct NotReady {
    /// The condition that failed.
    pub condition: String,
    /// The deadline, in seconds.
    pub secs: f64,
    /// The last observation, for the error message.
    pub last: String,
}

/// Waits until every readiness condition of `spec` holds, in order, within `spec.ready_timeout`.
/// `log` is the service's log file and `from` the offset where this start's output begins, for
/// [`WaitFor::LogLine`]. [`WaitFor::Exit`] is the runtime's to judge and is skipped here.
pub async fn wait(spec: &ServiceSpec, log: &Path, from: u64) -> Result<(), NotReady> {
    let deadline = Instant::now() + spec.ready_timeout;
    for cond in &spec.ready {
        let mut last = String::from("nothing yet");
        let mut baseline: Option<u64> = None;
        loop {
            match check(spec, cond, log, from, &mut baseline).await {
                Ok(true) => break,
                Ok(false) => {}
                Err(seen) => last = seen,
            }
            if Instant::now() >= deadline {
                return Err(NotReady {
                    condition: cond.to_string(),
                    secs: spec.ready_timeout.as_secs_f64(),
                    last,
                });
            }
            sleep(POLL).await;
        }
    }
    Ok(())
}

/// One check of one condition: `Ok(true)` when it holds, `Ok(false)` when not yet, `Err(text)`
/// with what was seen when the check itself failed.
async fn check(
    spec: &ServiceSpec,
    cond: &WaitFor,
    log: &Path,
    from: u64,
    baseline: &mut Option<u64>,
) -> Result<bool, String> {
    let port = |name: &str| {
        spec.port(name)
            .ok_or_else(|| format!("no port named {name}"))
    };
    match cond {
        WaitFor::Port { port: p } => {
            let addr = SocketAddr::from(([127, 0, 0, 1], port(p)?));
            TcpStream::connect(addr)
                .await
                .map(|_| true)
                .map_err(|e| e.to_string())
        }
        WaitFor::Http { port: p, path } => http_ok(port(p)?, path).await,
        WaitFor::Rpc { port: p, chain_id } => {
            let probe =
                Probe::new(&format!("http://127.0.0.1:{}", port(p)?)).map_err(|e| e.to_string())?;
            match probe.chain_id().await {
                Ok(id) if id == *chain_id => Ok(true),
                Ok(id) => Err(format!("chain id {id}")),
                Err(e) => Err(e.to_string()),
            }
        }
        WaitFor::BlocksAdvancing { port: p } => {
            let probe =
                Probe::new(&format!("http://127.0.0.1:{}", port(p)?)).map_err(|e| e.to_string())?;
            let head = probe.block_number().await.map_err(|e| e.to_string())?;
            match *baseline {
                None => {
                    *baseline = Some(head);
                    Err(format!("head {head}"))
                }
                Some(first) if head > first => Ok(true),
                Some(_) => Err(format!("head {head}")),
            }
        }
        WaitFor::SafeHeadAdvancing { port: p } => {
            let probe =
                Probe::new(&format!("http://127.0.0.1:{}", port(p)?)).map_err(|e| e.to_string())?;
            let Some((unsafe_head, safe)) =
                probe.rollup_heads().await.map_err(|e| e.to_string())?
            else {
                return Err("the rollup node has not read its heads yet".into());
            };
            // The safe head must pass the unsafe head first seen: a block made after this start
            // was batched, included on the L1 and derived back. (A restarted op-node also
            // re-derives older batches at once, which proves less.)
            match *baseline {
                None => {
                    *baseline = Some(unsafe_head);
                    Err(format!("safe head {safe}, unsafe head {unsafe_head}"))
                }
                Some(first) if safe > first => Ok(true),
                Some(first) => Err(format!(
                    "safe head {safe}, waiting for it to pass {first} (unsafe head {unsafe_head})"
                )),
            }
        }
        WaitFor::LogLine { contains } => match tokio::fs::read(log).await {
            // A rotation since the start makes the file shorter than `from`: read it all.
            Ok(bytes) => {
                let start = if (from as usize) <= bytes.len() {
                    from as usize
                } else {
                    0
                };
                Ok(String::from_utf8_lossy(&bytes[start..]).contains(contains.as_str()))
            }
            Err(e) => Err(e.to_string()),
        },
        WaitFor::Exit => Ok(true),
        #[allow(unreachable_patterns)]
        _ => Err(format!("unsupported readiness condition {cond}")),
    }
}

/// A minimal HTTP/1.0 GET on loopback: true on a 2xx status line.
async fn http_ok(port: u16, path: &str) -> Result<bool, String> {
    let attempt = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = [0u8; 16];
        let n = stream.read(&mut head).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..n]).into_owned())
    };
    match timeout(Duration::from_secs(2), attempt).await {
        Ok(Ok(status)) => {
            let code = status.split_whitespace().nth(1).unwrap_or("");
            if code.starts_with('2') {
                Ok(true)
            } else {
                Err(format!("status {code}"))
            }
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 2 s".into()),
    }
}
