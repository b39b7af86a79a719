//! `opdev supervise`: the background supervisor `up` starts. Its stdout carries progress events
//! (JSON lines) to the waiting `up`; its stderr is the devnet's `logs/supervisor.log`.

use std::io::Write;

use opdev_orchestrator::{Error, daemon};
use tokio_util::sync::CancellationToken;

use super::Ctx;

pub(crate) async fn run(ctx: &Ctx<'_>) -> Result<(), Error> {
    // Leave the terminal's session: a closed terminal or its Ctrl-C must not reach the devnet.
    let _ = nix::unistd::setsid();
    let devnet = ctx.devnet()?;
    let mut stdout = Some(std::io::stdout());
    daemon::run(
        devnet,
        move |event| {
            let ready_or_failed = matches!(
                event,
                opdev_orchestrator::protocol::Event::Ready { .. }
                    | opdev_orchestrator::protocol::Event::Failed { .. }
            );
            if let Some(out) = stdout.as_mut() {
                let mut line = serde_json::to_vec(&event).expect("events serialize");
                line.push(b'\n');
                // The reader may be gone (Ctrl-C on `up`): the devnet goes on regardless.
                let _ = out.write_all(&line).and_then(|()| out.flush());
            }
            if ready_or_failed {
                stdout = None;
            }
        },
        CancellationToken::new(),
    )
    .await
}
