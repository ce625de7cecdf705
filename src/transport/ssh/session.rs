//! One host's ssh session: a ControlMaster that every task reuses, each command on its own
//! exec channel through the native mux, the line exactly as typed. Closing a channel leaves
//! a command without a terminal running on an OpenSSH server, so a command timeout kills the
//! command's process group from a second channel where the far end has a POSIX shell, and
//! otherwise (a device CLI) closes the connection.

use std::time::Duration;

use openssh::Stdio;

use crate::outcome::{ErrorKind, TaskError};
use crate::transport::capture::Capture;
use crate::transport::{Action, BoxFuture, Output, RunError, Session};

/// Run on a second channel after a timeout. Every command sshd starts for a connection is a
/// child of the same sshd process (our `$PPID`) and leads its own process group, so this
/// kills the groups of our siblings, which is the timed-out command (one command runs per
/// host at a time). `ps -A -o pid= -o ppid=` is POSIX. The last line tells a POSIX shell
/// with a working `ps`, which did the work, from a device CLI, which refused the line.
pub(super) const KILL_SIBLINGS: &str = "procs=$(ps -A -o pid= -o ppid=) || exit 1; \
echo \"$procs\" | while read -r p pp; do \
[ \"$pp\" = \"$PPID\" ] && [ \"$p\" != \"$$\" ] && kill -9 -\"$p\" 2>/dev/null && echo \"killed $p\"; \
done; echo drover-kill-done";

/// How long a kill or a close may take before drover stops waiting for it.
pub(super) const CLEANUP_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct OpenSshSession {
    /// `None` once the connection was closed after a command timeout on a device.
    session: Option<openssh::Session>,
    /// The master process, so `close` can wait until the TCP connection is really gone.
    master_pid: Option<u32>,
    /// How it was started, for `-vvv` (no secrets: the openssh backend has none).
    via: String,
}

impl OpenSshSession {
    pub async fn new(session: openssh::Session, via: String) -> OpenSshSession {
        let master_pid =
            match openssh_mux_client::Connection::connect(session.control_socket()).await {
                Ok(mut c) => c.send_alive_check().await.ok().map(|p| p.get()),
                Err(_) => None,
            };
        OpenSshSession {
            session: Some(session),
            master_pid,
            via,
        }
    }

    async fn exec(&mut self, script: Action<'_>, timeout: Duration) -> Result<Output, RunError> {
        let Some(session) = &self.session else {
            return Err(failed(
                ErrorKind::Protocol,
                "the connection was closed after an earlier command timeout".to_string(),
                Output::default(),
            ));
        };
        let line = remote_line(script)?;
        let deadline = tokio::time::Instant::now() + timeout;
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
            return Err(self.timed_out(timeout, stdout, stderr).await);
        }
        let waited = tokio::time::timeout_at(deadline, child.wait()).await;
        let Ok(status) = waited else {
            return Err(self.timed_out(timeout, stdout, stderr).await);
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

    async fn timed_out(&mut self, timeout: Duration, stdout: Capture, stderr: Capture) -> RunError {
        let killed = match &self.session {
            Some(session) => kill_siblings(session).await,
            None => Err("no connection".to_string()),
        };
        if killed.is_err() {
            self.close_master(true).await;
        }
        let message = timeout_message(timeout, &killed);
        let partial = Output {
            exit_code: None,
            stdout: stdout.finish(CLEANUP_WAIT).await,
            stderr: stderr.finish(CLEANUP_WAIT).await,
            lines: Vec::new(),
        };
        failed(ErrorKind::CommandTimeout, message, partial)
    }

    /// Stops the master and waits (bounded) until its process, and so its TCP connection,
    /// is gone: in a batched run the next batch connects only after this. A master that
    /// still carries a channel (a command that outlived its timeout) does not stop on
    /// request, so `force` (and a request that was not enough) ends it with SIGTERM.
    async fn close_master(&mut self, force: bool) {
        let pid = self.master_pid.take();
        if let (true, Some(pid)) = (force, pid) {
            signal(pid, libc::SIGTERM);
        }
        if let Some(session) = self.session.take() {
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

    async fn shut(mut self) {
        self.close_master(false).await;
    }
}

/// A session dropped without `close` (the host was cancelled or hit its deadline mid-command):
/// the master would stay up for as long as the remote command runs, so it is ended here.
impl Drop for OpenSshSession {
    fn drop(&mut self) {
        if let (Some(pid), Some(_)) = (self.master_pid, &self.session) {
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

/// What a command timeout did, from what the kill on a second channel found: the groups it
/// killed, or why it could not (then the connection was closed to end the command).
pub(super) fn timeout_message(timeout: Duration, killed: &Result<Vec<String>, String>) -> String {
    let after = humantime::format_duration(timeout);
    match killed {
        Ok(groups) if groups.is_empty() => {
            format!("no exit after {after}; the remote command was gone before drover killed it")
        }
        Ok(groups) => format!(
            "no exit after {after}; the remote process group {} was killed",
            groups.join(", ")
        ),
        Err(why) => format!(
            "no exit after {after}; the connection was closed to end the command \
             (the far end could not kill it: {why})"
        ),
    }
}

/// The kill script's output: the process groups it killed, or why it did not run.
pub(super) fn killed_groups(stdout: &str) -> Result<Vec<String>, String> {
    if !stdout.lines().any(|l| l == "drover-kill-done") {
        return Err("no POSIX shell with `ps` at the other end".to_string());
    }
    Ok(stdout
        .lines()
        .filter_map(|l| l.strip_prefix("killed "))
        .map(str::to_string)
        .collect())
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

/// Kills the timed-out command from a fresh channel on the same master; returns the
/// process groups killed, or why that was not possible.
async fn kill_siblings(session: &openssh::Session) -> Result<Vec<String>, String> {
    let mut command = session.raw_command(KILL_SIBLINGS);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let output = match tokio::time::timeout(CLEANUP_WAIT, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(describe(&e)),
        Err(_) => return Err("the kill command did not answer".to_string()),
    };
    killed_groups(&String::from_utf8_lossy(&output.stdout))
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
