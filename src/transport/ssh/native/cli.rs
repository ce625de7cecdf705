//! A network device's session: the native connection with one PTY shell on it, opened at
//! connect and kept for all of the host's tasks, driven by the platform's prompts
//! ([`CliSession`]). Commands run one line at a time in the shell; privileged mode and
//! config mode carry over from one task to the next, as they do for a person at the
//! device's CLI.

use std::sync::Arc;
use std::time::Duration;

use russh::client::Msg;
use russh::ChannelStream;
use tokio::time::Instant;

use super::session::NativeSession;
use super::target::Secret;
use super::NativeTarget;
use crate::outcome::{ConfigLine, ErrorKind, TaskError};
use crate::platform::{CliSession, ConfigReply, LineReply, Platform, SessionLimits};
use crate::transport::{Action, BoxFuture, Output, RunError, Session};

/// The PTY drover asks for: wide, so no device wraps a line of output, and the usual height.
const PTY_COLUMNS: u32 = 511;
const PTY_ROWS: u32 = 24;

pub struct NativeCli {
    cli: CliSession<ChannelStream<Msg>>,
    conn: NativeSession,
    enable_secret: Option<Secret>,
}

impl std::fmt::Debug for NativeCli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeCli")
            .field("cli", &self.cli)
            .field("conn", &self.conn)
            .finish()
    }
}

/// Connects, opens the shell and waits for the device's first prompt and its on-open
/// commands, all within `timeout`.
pub async fn connect(
    target: &NativeTarget,
    platform: Arc<Platform>,
    timeout: Duration,
) -> Result<NativeCli, TaskError> {
    let started = Instant::now();
    let conn = super::connect(target, timeout).await?;
    // Inside the engine's own deadline for the attempt, as the login is.
    let left = timeout
        .saturating_sub(started.elapsed())
        .saturating_sub(timeout / 100);
    let cli = match tokio::time::timeout(left, open(&conn, platform, left)).await {
        Ok(Ok(cli)) => cli,
        Ok(Err(e)) => {
            conn.shut().await;
            return Err(e);
        }
        Err(_) => {
            conn.shut().await;
            return Err(TaskError::new(
                ErrorKind::ConnectTimeout,
                format!(
                    "timed out after {} waiting for the device's shell",
                    humantime::format_duration(timeout)
                ),
            ));
        }
    };
    Ok(NativeCli {
        cli,
        conn,
        enable_secret: target.enable_secret.clone(),
    })
}

async fn open(
    conn: &NativeSession,
    platform: Arc<Platform>,
    timeout: Duration,
) -> Result<CliSession<ChannelStream<Msg>>, TaskError> {
    let protocol = |what: &str, e: russh::Error| {
        TaskError::new(
            ErrorKind::Protocol,
            format!("the device refused {what}: {e}"),
        )
    };
    let Some(handle) = conn.handle() else {
        return Err(TaskError::new(ErrorKind::Protocol, "the connection closed"));
    };
    let channel = handle
        .channel_open_session()
        .await
        .map_err(|e| protocol("a session channel", e))?;
    channel
        .request_pty(true, "vt100", PTY_COLUMNS, PTY_ROWS, 0, 0, &[])
        .await
        .map_err(|e| protocol("a terminal (pty)", e))?;
    channel
        .request_shell(true)
        .await
        .map_err(|e| protocol("a shell", e))?;
    CliSession::open(
        channel.into_stream(),
        platform,
        SessionLimits::default(),
        timeout,
    )
    .await
    .map_err(|e| e.task_error())
}

fn lines(reply: &ConfigReply) -> Vec<ConfigLine> {
    let line = |l: &LineReply| ConfigLine {
        line: l.line.clone(),
        response: l.response.clone(),
    };
    reply
        .lines
        .iter()
        .chain(&reply.commit)
        .chain(&reply.save)
        .map(line)
        .collect()
}

fn ok(stdout: String) -> Output {
    Output {
        exit_code: Some(0),
        stdout,
        ..Output::default()
    }
}

impl NativeCli {
    async fn act(&mut self, action: Action<'_>, timeout: Duration) -> Result<Output, RunError> {
        let refused = |message: String| RunError::new(TaskError::new(ErrorKind::Protocol, message));
        match action {
            Action::Command(line) if line.contains('\n') => Err(refused(format!(
                "platform `{}` runs one line per `command`; give each line its own task (or \
                 use `config:` for config lines)",
                self.cli.platform().name
            ))),
            Action::Command(line) => self
                .cli
                .run(line, timeout)
                .await
                .map(ok)
                .map_err(|e| e.into_run_error()),
            // A platform without privileged mode (Junos, IOS XR) is there already.
            Action::Enable if self.cli.platform().enable.is_none() => Ok(ok(String::new())),
            Action::Enable => {
                let secret = self.enable_secret.as_ref().map(Secret::expose);
                self.cli
                    .enable(secret, timeout)
                    .await
                    .map(|()| ok(String::new()))
                    .map_err(|e| e.into_run_error())
            }
            Action::Config(request) => {
                match self
                    .cli
                    .configure(&request.lines, request.save, timeout)
                    .await
                {
                    Ok(reply) => Ok(Output {
                        lines: lines(&reply),
                        ..ok(reply.transcript())
                    }),
                    Err(failure) => Err(RunError {
                        error: failure.error.task_error(),
                        partial: Output {
                            exit_code: None,
                            stdout: failure.reply.transcript(),
                            stderr: String::new(),
                            lines: lines(&failure.reply),
                        },
                    }),
                }
            }
            Action::Shell(_) | Action::Mqtt(_) => Err(refused(format!(
                "platform `{}` runs `command` and `config` tasks only",
                self.cli.platform().name
            ))),
        }
    }
}

impl Session for NativeCli {
    fn run<'a>(
        &'a mut self,
        action: Action<'a>,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Output, RunError>> {
        Box::pin(self.act(action, timeout))
    }

    fn describe(&self) -> Option<String> {
        Some(format!(
            "{}; a PTY shell driven as platform `{}`, at the prompt `{}`",
            self.conn.description(),
            self.cli.platform().name,
            self.cli.prompt()
        ))
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let NativeCli { cli, conn, .. } = *self;
            cli.close().await;
            conn.shut().await;
        })
    }
}
