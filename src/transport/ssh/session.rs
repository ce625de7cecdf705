//! One host's ssh session: a ControlMaster that every task reuses, each command on its own
//! exec channel through the native mux, the line exactly as typed. Closing a channel leaves
//! a command without a terminal running on an OpenSSH server, so a command timeout kills
//! what the command started from a second channel where the far end has a POSIX shell
//! (`kill`), and otherwise (a device CLI) closes the connection. A session dropped while a
//! command runs (the host timeout, a second Ctrl-C) kills it the same way, in the background.

use std::time::Duration;

use openssh::Stdio;
use tokio::time::Instant;

use super::kill::{self, SharedStops, Stopped, KILL_GRACE};
use crate::outcome::{ErrorKind, TaskError};
use crate::transport::capture::Capture;
use crate::transport::{Action, BoxFuture, Output, RunError, Session};

/// How long a close may take before drover stops waiting for it.
pub(super) const CLEANUP_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct OpenSshSession {
    /// `None` once the connection was closed after a command timeout on a device.
    session: Option<openssh::Session>,
    /// The master process, so `close` can wait until the TCP connection is really gone.
    master_pid: Option<u32>,
    /// How it was started, for `-vvv` (no secrets: the openssh backend has none).
    via: String,
    /// When the command in progress started; set while `exec` runs, so a session dropped
    /// with it set was cut short mid-command.
    running: Option<Instant>,
    /// Where a session dropped mid-command starts its kill.
    stops: SharedStops,
}

impl OpenSshSession {
    pub async fn new(session: openssh::Session, via: String, stops: SharedStops) -> OpenSshSession {
        let master_pid =
            match openssh_mux_client::Connection::connect(session.control_socket()).await {
                Ok(mut c) => c.send_alive_check().await.ok().map(|p| p.get()),
                Err(_) => None,
            };
        OpenSshSession {
            session: Some(session),
            master_pid,
            via,
            running: None,
            stops,
        }
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
        let Some(session) = &self.session else {
            return Err(failed(
                ErrorKind::Protocol,
                "the connection was closed after an earlier command timeout".to_string(),
                Output::default(),
            ));
        };
        let line = remote_line(script)?;
        let started = Instant::now();
        let deadline = started + timeout;
        let mut command = session.raw_command(&line);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = match tokio::time::timeout_at(deadline, command.spawn()).await {
            Ok(Ok(child)) => child,
            Ok(Err(e)) => {
                return Err(failed(
                    ErrorKind::Protocol,
                    format!("cannot open a channel: {}", describe(&e)),
                    Output::default(),
                ))
            }
            Err(_) => {
                drop(command);
                self.close_master(true).await;
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
        let mut stdout = Capture::start(child.stdout().take());
        let mut stderr = Capture::start(child.stderr().take());
        // Both streams are read to their end before the exit status is asked for: once `wait`
        // returns, the mux master drops the session and what it had not yet written to the
        // pipes is lost (seen here as an empty stderr on a loaded machine; openssh-rust #103).
        let drained = tokio::time::timeout_at(deadline, async {
            stdout.ended().await;
            stderr.ended().await;
        })
        .await;
        if drained.is_err() {
            return Err(self.timed_out(started, timeout, stdout, stderr).await);
        }
        let waited = tokio::time::timeout_at(deadline, child.wait()).await;
        let Ok(status) = waited else {
            return Err(self.timed_out(started, timeout, stdout, stderr).await);
        };
        let output = |exit_code| Output {
            exit_code,
            stdout: String::new(),
            stderr: String::new(),
            lines: Vec::new(),
        };
        let (mut output, error) = match status {
            Ok(status) => (output(status.code()), None),
            Err(openssh::Error::Remote(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                (output(Some(127)), None)
            }
            // Also what a connection that died mid-command looks like through the mux: the
            // master tells the two apart.
            Err(openssh::Error::RemoteProcessTerminated) if !self.master_alive().await => (
                output(None),
                Some(TaskError::new(
                    ErrorKind::ConnectionLost,
                    "the connection to the host was lost while the command ran",
                )),
            ),
            Err(openssh::Error::RemoteProcessTerminated) => (
                output(None),
                Some(TaskError::new(
                    ErrorKind::NonzeroExit,
                    "the remote process was killed by a signal",
                )),
            ),
            Err(e) => (
                output(None),
                Some(TaskError::new(
                    ErrorKind::Protocol,
                    format!("the channel failed: {}", describe(&e)),
                )),
            ),
        };
        output.stdout = stdout.finish(CLEANUP_WAIT).await;
        output.stderr = stderr.finish(CLEANUP_WAIT).await;
        match error {
            None => Ok(output),
            Some(error) => Err(RunError {
                error,
                partial: output,
            }),
        }
    }

    /// Whether the master still holds its connection to the host.
    async fn master_alive(&self) -> bool {
        match &self.session {
            Some(session) => tokio::time::timeout(CLEANUP_WAIT, session.check())
                .await
                .is_ok_and(|r| r.is_ok()),
            None => false,
        }
    }

    /// The command's deadline passed: kill what it started, and take the last of its
    /// output, all by one deadline [`KILL_GRACE`] past the timeout; close the connection
    /// when that could not be confirmed.
    async fn timed_out(
        &mut self,
        started: Instant,
        timeout: Duration,
        stdout: Capture,
        stderr: Capture,
    ) -> RunError {
        let grace = started + timeout + KILL_GRACE;
        let killed = match &self.session {
            Some(session) => kill_started(session, started.elapsed(), grace).await,
            None => Err("no connection".to_string()),
        };
        let stdout = stdout.finish_by(grace);
        let stderr = stderr.finish_by(grace);
        let (stdout, stderr) = tokio::join!(stdout, stderr);
        let stopped = Stopped {
            ended: stdout.1 && stderr.1,
            killed,
            shell_exit: None,
        };
        if stopped.close_connection() {
            // Within the same deadline; a master slow to go is seen off in the background.
            let closing = close_master(self.session.take(), self.master_pid.take(), true);
            let mut closing = Box::pin(closing);
            if tokio::time::timeout_at(grace, &mut closing).await.is_err() {
                self.stops.start(closing);
            }
        }
        let partial = Output {
            exit_code: None,
            stdout: stdout.0,
            stderr: stderr.0,
            lines: Vec::new(),
        };
        failed(
            ErrorKind::CommandTimeout,
            stopped.timeout_message(timeout),
            partial,
        )
    }

    /// Stops the master and waits (bounded) until its process, and so its TCP connection,
    /// is gone: in a batched run the next batch connects only after this. A master that
    /// still carries a channel (a command that outlived its timeout) does not stop on
    /// request, so `force` (and a request that was not enough) ends it with SIGTERM.
    async fn close_master(&mut self, force: bool) {
        close_master(self.session.take(), self.master_pid.take(), force).await;
    }

    async fn shut(mut self) {
        self.close_master(false).await;
    }
}

/// Ends a master, waiting (bounded) until its process is gone.
async fn close_master(session: Option<openssh::Session>, pid: Option<u32>, force: bool) {
    if let (true, Some(pid)) = (force, pid) {
        signal(pid, libc::SIGTERM);
    }
    if let Some(session) = session {
        let _ = tokio::time::timeout(CLEANUP_WAIT, session.close()).await;
    }
    let Some(pid) = pid else { return };
    for sig in [libc::SIGTERM, libc::SIGKILL] {
        if wait_gone(pid, Duration::from_secs(2)).await {
            return;
        }
        signal(pid, sig);
    }
    wait_gone(pid, Duration::from_secs(1)).await;
}

/// A session dropped without `close` (the host was cancelled or hit its deadline): the
/// master would stay up for as long as a remote command runs. Mid-command, the command is
/// killed first, in the background within [`KILL_GRACE`], then the master is ended; between
/// commands the master is ended at once.
impl Drop for OpenSshSession {
    fn drop(&mut self) {
        let (Some(session), pid) = (self.session.take(), self.master_pid.take()) else {
            return;
        };
        if let Some(started) = self.running.take() {
            let stop = async move {
                let grace = Instant::now() + KILL_GRACE;
                let _ = kill_started(&session, started.elapsed(), grace).await;
                close_master(Some(session), pid, true).await;
            };
            if self.stops.start(stop) {
                return;
            }
        }
        if let Some(pid) = pid {
            signal(pid, libc::SIGTERM);
        }
    }
}

fn failed(kind: ErrorKind, message: String, partial: Output) -> RunError {
    RunError {
        error: TaskError::new(kind, message),
        partial,
    }
}

/// The error with its causes, as one line.
fn describe(e: &openssh::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl Session for OpenSshSession {
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
        let master = self
            .master_pid
            .map_or_else(String::new, |p| format!(", master pid {p}"));
        Some(format!("{}{master}", self.via))
    }
}

/// What goes on the exec channel: a command line exactly as typed (`show run | include x`
/// reaches a router as that line); a `shell` script as `sh -c '<script>'`, so it runs under a
/// POSIX shell whatever the login shell is.
/// The plan rejects the other actions on an exec host; the session refuses them too.
pub(super) fn remote_line(script: Action<'_>) -> Result<String, RunError> {
    match script {
        Action::Command(line) => Ok(line.to_string()),
        Action::Shell(script) => Ok(format!("sh -c {}", crate::shell::quote(script))),
        other => Err(RunError::new(TaskError::new(
            ErrorKind::Protocol,
            format!(
                "a `{}` action needs a network platform's CLI, and this host runs commands over exec",
                other.kind().name()
            ),
        ))),
    }
}

/// Kills what a command that has run `running_for` started, from a fresh channel on the
/// same master, by `deadline`; returns the processes killed, or why that was not possible.
async fn kill_started(
    session: &openssh::Session,
    running_for: Duration,
    deadline: Instant,
) -> Result<Vec<u32>, String> {
    let mut command = session.raw_command(kill::script(running_for));
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let output = match tokio::time::timeout_at(deadline, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(describe(&e)),
        Err(_) => return Err("the kill command did not answer in time".to_string()),
    };
    kill::parse(&String::from_utf8_lossy(&output.stdout))
}

async fn wait_gone(pid: u32, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if gone(pid) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill only sends a signal; the pid is the master the mux named for us.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// Whether a process has exited (a zombie no init reaps counts as gone).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => {
            // SAFETY: signal 0 only checks that the process exists.
            let rc = unsafe { libc::kill(pid as i32, 0) };
            rc != 0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_go_as_typed_and_scripts_under_sh() {
        let line = "show run | include \"host name\"";
        assert_eq!(remote_line(Action::Command(line)).unwrap(), line);
        assert_eq!(
            remote_line(Action::Shell("echo 'a'\necho b")).unwrap(),
            "sh -c 'echo '\\''a'\\''\necho b'"
        );
        assert!(remote_line(Action::Enable).is_err());
    }
}
