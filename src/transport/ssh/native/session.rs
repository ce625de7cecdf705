//! One host's native session: one authenticated connection, an exec channel per command.
//! Every message of a channel is read until the server closes it, so stdout and stderr are
//! complete before the exit status is looked at (servers send the status before the last
//! data now and then). A command timeout kills what the command started from a second
//! channel, as the openssh backend does (`ssh::kill`), and closes the connection where that
//! cannot be confirmed; a session dropped mid-command kills it the same way, in the
//! background.

use std::time::Duration;

use russh::client::Handle;
use russh::{ChannelMsg, Disconnect};
use tokio::time::Instant;

use super::handler::Client;
use super::jump::Chain;
use crate::outcome::{ErrorKind, TaskError};
use crate::transport::capture::Bounded;
use crate::transport::ssh::kill::{self, SharedStops, Stopped, KILL_GRACE};
use crate::transport::ssh::session::{remote_line, CLEANUP_WAIT};
use crate::transport::{Action, BoxFuture, Output, RunError, Session};

pub struct NativeSession {
    /// `None` once the connection was closed after a command timeout it could not end.
    handle: Option<Handle<Client>>,
    jumps: Vec<Handle<Client>>,
    label: String,
    seen: std::sync::Arc<super::handler::Seen>,
    /// When the command in progress started; set while `exec` runs, so a session dropped
    /// with it set was cut short mid-command.
    running: Option<Instant>,
    /// Where a session dropped mid-command starts its kill.
    stops: SharedStops,
}

impl std::fmt::Debug for NativeSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeSession")
            .field("label", &self.label)
            .field("jumps", &self.jumps.len())
            .finish()
    }
}

/// What one channel produced before it closed.
#[derive(Default)]
struct Collected {
    stdout: Bounded,
    stderr: Bounded,
    exit_code: Option<i32>,
    signal: Option<String>,
    refused: bool,
    /// The server closed the channel; without it the connection ended under the command.
    closed: bool,
}

impl Collected {
    fn output(&self) -> Output {
        Output {
            exit_code: self.exit_code,
            stdout: self.stdout.text(),
            stderr: self.stderr.text(),
            lines: Vec::new(),
        }
    }
}

fn failed(kind: ErrorKind, message: String, partial: Output) -> RunError {
    RunError {
        error: TaskError::new(kind, message),
        partial,
    }
}

impl NativeSession {
    pub(super) fn new(chain: Chain) -> NativeSession {
        NativeSession {
            handle: Some(chain.handle),
            jumps: chain.jumps,
            label: chain.label,
            seen: chain.seen,
            running: None,
            stops: SharedStops::default(),
        }
    }

    /// Kills of commands cut short go to the transport's `stops`, which the run awaits.
    pub fn with_stops(mut self, stops: SharedStops) -> NativeSession {
        self.stops = stops;
        self
    }

    /// The connection to the host, while it is open.
    pub(super) fn handle(&self) -> Option<&Handle<Client>> {
        self.handle.as_ref()
    }

    async fn exec(&mut self, script: Action<'_>, timeout: Duration) -> Result<Output, RunError> {
        self.running = Some(Instant::now());
        let result = self.exec_running(script, timeout).await;
        self.running = None;
        result
    }

    async fn exec_running(
        &mut self,
        script: Action<'_>,
        timeout: Duration,
    ) -> Result<Output, RunError> {
        let Some(handle) = &self.handle else {
            return Err(failed(
                ErrorKind::Protocol,
                "the connection was closed after an earlier command timeout".to_string(),
                Output::default(),
            ));
        };
        let line = remote_line(script)?;
        let started = Instant::now();
        let deadline = started + timeout;
        let lost = |e: russh::Error| {
            let e = super::classify::from_server(&e, &self.label, &self.seen);
            failed(
                ErrorKind::Protocol,
                format!("cannot open a channel: {}", e.message),
                Output::default(),
            )
        };
        let opened = tokio::time::timeout_at(deadline, async {
            let channel = handle.channel_open_session().await?;
            channel.exec(true, line).await?;
            Ok::<_, russh::Error>(channel)
        })
        .await;
        let mut channel = match opened {
            Ok(Ok(channel)) => channel,
            Ok(Err(e)) => return Err(lost(e)),
            Err(_) => {
                self.disconnect().await;
                return Err(failed(
                    ErrorKind::CommandTimeout,
                    format!(
                        "no channel after {}; the connection was closed",
                        humantime::format_duration(timeout)
                    ),
                    Output::default(),
                ));
            }
        };
        let mut got = Collected::default();
        let drained = tokio::time::timeout_at(deadline, collect(&mut channel, &mut got)).await;
        if drained.is_err() {
            // One deadline for the kill and the rest of the output, read while the kill
            // runs (a chatty command must not stall the connection by filling its window).
            let grace = deadline + KILL_GRACE;
            let shell_exit = got.exit_code;
            let (killed, _) = tokio::join!(
                kill_started(handle, started.elapsed(), grace),
                tokio::time::timeout_at(grace, collect(&mut channel, &mut got)),
            );
            let stopped = Stopped {
                killed,
                ended: got.closed,
                shell_exit,
            };
            // A channel still open after the kill is closed with the connection, within
            // the same deadline; a connection slow to go is seen off in the background.
            if stopped.close_connection() {
                if let Some(handle) = self.handle.take() {
                    let mut goodbye = Box::pin(say_goodbye(handle));
                    if tokio::time::timeout_at(grace, &mut goodbye).await.is_err() {
                        self.stops.start(goodbye);
                    }
                }
            }
            let mut partial = got.output();
            partial.exit_code = None;
            return Err(failed(
                ErrorKind::CommandTimeout,
                stopped.timeout_message(timeout),
                partial,
            ));
        }
        let output = got.output();
        if got.refused {
            return Err(failed(
                ErrorKind::Protocol,
                format!(
                    "{} refused to run the command on an exec channel; a router or switch \
                     that only has an interactive CLI needs the host's `platform` \
                     (cisco_ios, juniper_junos, ...)",
                    self.label
                ),
                output,
            ));
        }
        if !got.closed && got.exit_code.is_none() && got.signal.is_none() {
            return Err(failed(
                ErrorKind::ConnectionLost,
                format!(
                    "the connection to {} was lost while the command ran",
                    self.label
                ),
                output,
            ));
        }
        match got.signal {
            Some(signal) => Err(failed(
                ErrorKind::NonzeroExit,
                format!("the remote process was killed by signal {signal}"),
                output,
            )),
            None => Ok(output),
        }
    }

    /// Ends the connection to the host (not the jump hosts); later commands are refused.
    async fn disconnect(&mut self) {
        if let Some(handle) = self.handle.take() {
            say_goodbye(handle).await;
        }
    }

    /// Says goodbye to the host, then to each jump host, last first, and waits (bounded)
    /// for each connection to end: in a batched run the next batch connects only after this.
    pub(super) async fn shut(mut self) {
        self.disconnect().await;
        while let Some(jump) = self.jumps.pop() {
            say_goodbye(jump).await;
        }
    }
}

/// Ends a connection and waits (bounded) until it is gone.
async fn say_goodbye(handle: Handle<Client>) {
    let _ = handle.disconnect(Disconnect::ByApplication, "", "en").await;
    let _ = tokio::time::timeout(CLEANUP_WAIT, handle).await;
}

/// Kills what a command that has run `running_for` started, from a fresh channel, by
/// `deadline`; the processes killed, or why not.
async fn kill_started(
    handle: &Handle<Client>,
    running_for: Duration,
    deadline: Instant,
) -> Result<Vec<u32>, String> {
    let ran = tokio::time::timeout_at(deadline, async {
        let mut channel = handle.channel_open_session().await?;
        channel.exec(true, kill::script(running_for)).await?;
        let mut got = Collected::default();
        collect(&mut channel, &mut got).await;
        Ok::<_, russh::Error>(got.stdout.text())
    })
    .await;
    match ran {
        Ok(Ok(stdout)) => kill::parse(&stdout),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the kill command did not answer in time".to_string()),
    }
}

/// A session dropped mid-command (the host timeout, a second Ctrl-C): closing the
/// connection would leave the command running, so it is killed first, in the background
/// within [`KILL_GRACE`], and then the connections are ended.
impl Drop for NativeSession {
    fn drop(&mut self) {
        let Some(started) = self.running.take() else {
            return;
        };
        let Some(handle) = self.handle.take() else {
            return;
        };
        let mut jumps = std::mem::take(&mut self.jumps);
        self.stops.start(async move {
            let grace = Instant::now() + KILL_GRACE;
            let _ = kill_started(&handle, started.elapsed(), grace).await;
            say_goodbye(handle).await;
            while let Some(jump) = jumps.pop() {
                say_goodbye(jump).await;
            }
        });
    }
}

impl Session for NativeSession {
    fn run<'a>(
        &'a mut self,
        action: Action<'a>,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Output, RunError>> {
        Box::pin(self.exec(action, timeout))
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin((*self).shut())
    }

    fn describe(&self) -> Option<String> {
        Some(self.description())
    }
}

impl NativeSession {
    /// `native ssh to 10.0.0.1:22, host key ED25519 SHA256:…, login by password`.
    pub(super) fn description(&self) -> String {
        let get = |m: &std::sync::Mutex<Option<String>>| {
            m.lock().unwrap_or_else(|e| e.into_inner()).clone()
        };
        let mut text = format!("native ssh to {}", self.label);
        if let Some(key) = get(&self.seen.host_key) {
            text.push_str(&format!(", host key {key}"));
        }
        if let Some(login) = get(&self.seen.login) {
            text.push_str(&format!(", login by {login}"));
        }
        text
    }
}

/// Reads a channel until the server closes it.
async fn collect(channel: &mut russh::Channel<russh::client::Msg>, got: &mut Collected) {
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::Data { data } => got.stdout.push(&data),
            ChannelMsg::ExtendedData { data, ext: 1 } => got.stderr.push(&data),
            ChannelMsg::ExitStatus { exit_status } => {
                got.exit_code = i32::try_from(exit_status).ok();
            }
            ChannelMsg::ExitSignal {
                signal_name,
                error_message,
                ..
            } => {
                let name = format!("{signal_name:?}");
                got.signal = Some(if error_message.is_empty() {
                    name
                } else {
                    format!("{name} ({error_message})")
                });
            }
            // The exec request was refused; the server keeps the channel open, so waiting
            // for its close would only run into the command timeout.
            ChannelMsg::Failure => {
                got.refused = true;
                break;
            }
            ChannelMsg::Close => {
                got.closed = true;
                break;
            }
            _ => {}
        }
    }
}
