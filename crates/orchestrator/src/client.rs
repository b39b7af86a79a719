//! The CLI's side of the control socket: one request, one response, with a deadline.

use std::time::Duration;

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::UnixStream,
};

use crate::{
    Error,
    home::DevnetDir,
    lock,
    protocol::{Request, Response, SupervisorState},
};

/// Whether the devnet's supervisor is running (it holds `run.lock`).
pub fn is_running(devnet: &DevnetDir) -> Result<bool, Error> {
    lock::is_held(&devnet.run_lock_path())
}

/// Sends `request` to the devnet's supervisor and waits up to `deadline` for the answer.
/// A devnet with no supervisor gives [`Error::NotRunning`].
pub async fn send(
    devnet: &DevnetDir,
    request: &Request,
    deadline: Duration,
) -> Result<Response, Error> {
    let name = devnet.name().to_owned();
    let unreachable = |reason: String| Error::Supervisor {
        name: name.clone(),
        reason,
    };
    if !devnet.exists() {
        return Err(Error::NotFound(name));
    }
    let stream = match UnixStream::connect(devnet.socket_path()).await {
        Ok(s) => s,
        Err(e) => {
            return Err(if is_running(devnet)? {
                unreachable(format!("running but its socket does not answer: {e}"))
            } else {
                Error::NotRunning(name)
            });
        }
    };
    let exchange = async {
        let mut stream = stream;
        let mut line = serde_json::to_vec(request).expect("requests serialize");
        line.push(b'\n');
        stream.write_all(&line).await?;
        let mut reader = BufReader::new(stream);
        let mut answer = String::new();
        reader.read_line(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(deadline, exchange)
        .await
        .map_err(|_| unreachable(format!("no answer within {} s", deadline.as_secs())))?
        .map_err(|e| unreachable(e.to_string()))?;
    if answer.is_empty() {
        return Err(unreachable(
            "closed the connection without answering".into(),
        ));
    }
    serde_json::from_str(&answer).map_err(|e| unreachable(format!("unreadable answer: {e}")))
}

/// The live state of a running devnet.
pub async fn status(devnet: &DevnetDir) -> Result<SupervisorState, Error> {
    match send(devnet, &Request::Status, Duration::from_secs(5)).await? {
        Response::Status(state) => Ok(state),
        other => Err(Error::Supervisor {
            name: devnet.name().into(),
            reason: format!("unexpected answer {other:?}"),
        }),
    }
}
