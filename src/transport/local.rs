//! The `local` transport: `sh -c` on this machine, each command in its own process group so
//! a command timeout kills everything it started, not just the shell.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::Command;

use super::{Output, RunError, Script};
use crate::outcome::{ErrorKind, TaskError};

/// The most output kept per stream; the rest is dropped and the text says so.
pub const OUTPUT_LIMIT: usize = 4 << 20;

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

impl LocalSession {
    pub async fn run(&mut self, script: Script<'_>, timeout: Duration) -> Result<Output, RunError> {
        let text = match script {
            Script::Command(t) | Script::Shell(t) => t,
            Script::Mqtt(_) => {
                return Err(RunError {
                    error: TaskError::new(
                        ErrorKind::Protocol,
                        "an `mqtt` task needs a host with `transport: mqtt`",
                    ),
                    partial: Output::default(),
                })
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
            .map_err(|e| RunError {
                error: TaskError::new(ErrorKind::Protocol, format!("cannot start sh: {e}")),
                partial: Output::default(),
            })?;
        let mut guard = GroupGuard(child.id().map(|id| id as i32));
        let stdout = tokio::spawn(read_limited(child.stdout.take()));
        let stderr = tokio::spawn(read_limited(child.stderr.take()));
        let waited = tokio::time::timeout(timeout, child.wait()).await;
        let timed_out = waited.is_err();
        if timed_out {
            guard.kill();
            let _ = child.wait().await;
        } else {
            // The shell is gone; background jobs it left in the group go with it.
            guard.kill();
        }
        let output = Output {
            exit_code: match &waited {
                Ok(Ok(status)) => status.code().or_else(|| {
                    use std::os::unix::process::ExitStatusExt;
                    status.signal().map(|s| 128 + s)
                }),
                _ => None,
            },
            stdout: stdout.await.unwrap_or_default(),
            stderr: stderr.await.unwrap_or_default(),
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
}

async fn read_limited<R: tokio::io::AsyncRead + Unpin>(stream: Option<R>) -> String {
    let Some(mut stream) = stream else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    let mut dropped = 0usize;
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                dropped += n.saturating_sub(room);
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if dropped > 0 {
        text.push_str(&format!("\n[drover: {dropped} more bytes not kept]"));
    }
    text
}
