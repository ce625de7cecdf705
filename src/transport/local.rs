//! The `local` transport: `sh -c` on this machine, each command in its own process group so
//! a command timeout kills everything it started, not just the shell.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use super::capture::Capture;
use super::{
    Action, ActionKind, BoxFuture, Endpoint, Output, RunError, Session, Target, Transport,
};
use crate::inventory::Connection;
use crate::outcome::{ErrorKind, TaskError};

/// How long the output pipes may stay open after the shell's process group is gone.
const DRAIN_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Default)]
pub struct LocalTransport;

impl Transport for LocalTransport {
    fn endpoint(&self, _host: &str, conn: &Connection) -> Result<Endpoint, String> {
        Ok(Endpoint {
            platform: None,
            transport: "local",
            address: conn.address.clone(),
            opens_connection: false,
            gateway: None,
            vars: Vec::new(),
            target: Target::Local,
        })
    }

    fn supports(&self, _endpoint: &Endpoint, action: ActionKind) -> Result<(), String> {
        match action {
            ActionKind::Command | ActionKind::Shell => Ok(()),
            ActionKind::Mqtt { .. } => {
                Err("is an `mqtt` task, and this host's transport is local".into())
            }
            ActionKind::Config | ActionKind::Enable => Err(format!(
                "is for a network device's CLI (`{}`), and this host's transport is local",
                action.name()
            )),
        }
    }

    fn connect<'a>(
        &'a self,
        _host: &'a str,
        _endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Box<dyn Session>, TaskError>> {
        Box::pin(async { Ok(Box::new(LocalSession) as Box<dyn Session>) })
    }
}

#[derive(Debug, Default)]
pub struct LocalSession;

/// Kills a process group when dropped, unless disarmed: a cancelled host leaves nothing behind.
struct GroupGuard(Option<i32>);

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(pgid) = self.0.take() {
            // SAFETY: killpg only sends a signal; a stale id at worst hits nothing.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Session for LocalSession {
    fn run<'a>(
        &'a mut self,
        action: Action<'a>,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Output, RunError>> {
        Box::pin(run(action, timeout))
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

async fn run(action: Action<'_>, timeout: Duration) -> Result<Output, RunError> {
    let text = match action {
        Action::Command(t) | Action::Shell(t) => t,
        Action::Mqtt(_) => {
            return Err(RunError::new(TaskError::new(
                ErrorKind::Protocol,
                "an `mqtt` task needs a host with `transport: mqtt`",
            )))
        }
        Action::Config(_) | Action::Enable => {
            return Err(RunError::new(TaskError::new(
                ErrorKind::Protocol,
                "`config` and `enable` need a network device's CLI, reached over ssh",
            )))
        }
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(text)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            RunError::new(TaskError::new(
                ErrorKind::Protocol,
                format!("cannot start sh: {e}"),
            ))
        })?;
    let mut guard = GroupGuard(child.id().map(|id| id as i32));
    let stdout = Capture::start(child.stdout.take());
    let stderr = Capture::start(child.stderr.take());
    let waited = tokio::time::timeout(timeout, child.wait()).await;
    // The shell is gone or timed out; background jobs it left in the group go with it.
    guard.kill();
    if waited.is_err() {
        let _ = child.wait().await;
    }
    let output = Output {
        exit_code: match &waited {
            Ok(Ok(status)) => status.code().or_else(|| {
                use std::os::unix::process::ExitStatusExt;
                status.signal().map(|s| 128 + s)
            }),
            _ => None,
        },
        stdout: stdout.finish(DRAIN_WAIT).await,
        stderr: stderr.finish(DRAIN_WAIT).await,
        lines: Vec::new(),
    };
    match waited {
        Ok(Ok(_)) => Ok(output),
        Ok(Err(e)) => Err(RunError {
            error: TaskError::new(ErrorKind::Protocol, format!("waiting for sh failed: {e}")),
            partial: output,
        }),
        Err(_) => Err(RunError {
            error: TaskError::new(
                ErrorKind::CommandTimeout,
                format!(
                    "no exit after {}; the process group was killed",
                    humantime::format_duration(timeout)
                ),
            ),
            partial: output,
        }),
    }
}
