//! One host's ssh session: a ControlMaster that every task reuses, each command on its own
//! exec channel through the native mux. A command timeout kills the remote process group
//! (POSIX hosts) or closes the connection (device CLIs), because closing a channel alone
//! leaves a non-tty command running on an OpenSSH server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use openssh::Stdio;
use tokio::io::AsyncReadExt;

use super::options::RemoteShell;
use crate::outcome::{ErrorKind, TaskError};
use crate::transport::local::OUTPUT_LIMIT;
use crate::transport::{Output, RunError, Script};

/// The first line a POSIX command prints to stderr: the process group to kill on timeout.
const PID_MARKER: &str = "drover-pid:";

/// How long a kill or a close may take before drover stops waiting for it.
const CLEANUP_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct SshSession {
    /// `None` once the connection was closed after a command timeout on a device.
    session: Option<openssh::Session>,
    /// The master process, so `close` can wait until the TCP connection is really gone.
    master_pid: Option<u32>,
    shell: RemoteShell,
}

impl SshSession {
    pub async fn new(session: openssh::Session, shell: RemoteShell) -> SshSession {
        let master_pid =
            match openssh_mux_client::Connection::connect(session.control_socket()).await {
                Ok(mut c) => c.send_alive_check().await.ok().map(|p| p.get()),
                Err(_) => None,
            };
        SshSession {
            session: Some(session),
            master_pid,
            shell,
        }
    }

    pub async fn run(&mut self, script: Script<'_>, timeout: Duration) -> Result<Output, RunError> {
        let Some(session) = &self.session else {
            return Err(failed(
                ErrorKind::Protocol,
                "the connection was closed after an earlier command timeout".to_string(),
                Output::default(),
            ));
        };
        let line = remote_line(script, self.shell);
        let mut child = match session
            .raw_command(&line)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .await
        {
            Ok(child) => child,
            Err(e) => {
                return Err(failed(
                    ErrorKind::Protocol,
                    format!("cannot open a channel: {}", describe(&e)),
                    Output::default(),
                ))
            }
        };
        let stdout = Capture::start(child.stdout().take());
        let stderr = Capture::start(child.stderr().take());
        let waited = tokio::time::timeout(timeout, child.wait()).await;
        let Ok(status) = waited else {
            return Err(self.timed_out(timeout, stdout, stderr).await);
        };
        let output = |exit_code| Output {
            exit_code,
            stdout: String::new(),
            stderr: String::new(),
        };
        let (mut output, error) = match status {
            Ok(status) => (output(status.code()), None),
            Err(openssh::Error::Remote(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                (output(Some(127)), None)
            }
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
        output.stdout = stdout.finish().await;
        output.stderr = strip_marker(stderr.finish().await);
        match error {
            None => Ok(output),
            Some(error) => Err(RunError {
                error,
                partial: output,
            }),
        }
    }

    async fn timed_out(&mut self, timeout: Duration, stdout: Capture, stderr: Capture) -> RunError {
        let after = humantime::format_duration(timeout);
        let pid = match self.shell {
            RemoteShell::Posix => find_pid(&stderr.peek()),
            RemoteShell::None => None,
        };
        let killed = match (pid, &self.session) {
            (Some(pid), Some(session)) => kill(session, pid).await.map(|()| pid),
            (None, _) if self.shell == RemoteShell::None => Err(String::new()),
            _ => Err("the command never reported its process id".to_string()),
        };
        let message = match killed {
            Ok(pid) => format!("no exit after {after}; the remote process group {pid} was killed"),
            Err(why) => {
                self.close_master(true).await;
                if why.is_empty() {
                    format!("no exit after {after}; the connection was closed to end the command")
                } else {
                    format!(
                        "no exit after {after}; could not kill the remote process ({why}), so \
                         the connection was closed"
                    )
                }
            }
        };
        let partial = Output {
            exit_code: None,
            stdout: stdout.finish().await,
            stderr: strip_marker(stderr.finish().await),
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

    pub async fn close(mut self) {
        self.close_master(false).await;
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

/// What goes on the exec channel. Device CLIs get the line exactly as typed; a POSIX login
/// shell first prints its pid (the process group sshd made for the session), and a `shell`
/// script runs as `sh -c '<script>'` so it does not depend on the login shell's syntax.
fn remote_line(script: Script<'_>, shell: RemoteShell) -> String {
    match (script, shell) {
        (Script::Command(line) | Script::Shell(line), RemoteShell::None) => line.to_string(),
        (Script::Command(line), RemoteShell::Posix) => {
            format!("echo {PID_MARKER}$$ >&2; {line}")
        }
        (Script::Shell(script), RemoteShell::Posix) => {
            format!("echo {PID_MARKER}$$ >&2; exec sh -c {}", sh_quote(script))
        }
    }
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn find_pid(stderr: &str) -> Option<u32> {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix(PID_MARKER))
        .and_then(|p| p.trim().parse().ok())
        .filter(|p| *p > 1)
}

/// Removes the marker line, wherever a chatty login script put it.
fn strip_marker(stderr: String) -> String {
    let Some(start) = stderr
        .match_indices(PID_MARKER)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || stderr.as_bytes()[i - 1] == b'\n')
    else {
        return stderr;
    };
    let end = stderr[start..]
        .find('\n')
        .map_or(stderr.len(), |n| start + n + 1);
    let mut text = stderr;
    text.replace_range(start..end, "");
    text
}

/// Kills the remote process group over a fresh channel on the same master.
async fn kill(session: &openssh::Session, pid: u32) -> Result<(), String> {
    let line = format!("kill -9 -{pid} 2>/dev/null || kill -9 {pid} 2>/dev/null; true");
    let mut command = session.raw_command(line);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match tokio::time::timeout(CLEANUP_WAIT, command.status()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(describe(&e)),
        Err(_) => Err("the kill command did not answer".to_string()),
    }
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
        tokio::time::sleep(Duration::from_millis(5)).await;
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

/// A stream read in the background into a buffer that can be looked at while it fills,
/// so a timed-out command still reports what it printed.
struct Capture {
    buf: Arc<Mutex<(Vec<u8>, usize)>>,
    task: tokio::task::JoinHandle<()>,
}

impl Capture {
    fn start<R: tokio::io::AsyncRead + Unpin + Send + 'static>(stream: Option<R>) -> Capture {
        let buf: Arc<Mutex<(Vec<u8>, usize)>> = Arc::default();
        let fill = buf.clone();
        let task = tokio::spawn(async move {
            let Some(mut stream) = stream else { return };
            let mut chunk = [0u8; 8192];
            while let Ok(n @ 1..) = stream.read(&mut chunk).await {
                let mut guard = fill.lock().unwrap_or_else(|e| e.into_inner());
                let (kept, dropped) = &mut *guard;
                let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
                *dropped += n.saturating_sub(room);
            }
        });
        Capture { buf, task }
    }

    fn peek(&self) -> String {
        let guard = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&guard.0).into_owned()
    }

    /// Waits (bounded) for the stream to end and returns its text.
    async fn finish(self) -> String {
        let mut task = self.task;
        if tokio::time::timeout(CLEANUP_WAIT, &mut task).await.is_err() {
            task.abort();
        }
        let guard = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        let mut text = String::from_utf8_lossy(&guard.0).into_owned();
        if guard.1 > 0 {
            text.push_str(&format!("\n[drover: {} more bytes not kept]", guard.1));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_lines_go_as_typed_and_posix_ones_report_their_pid() {
        let line = "show run | include hostname";
        assert_eq!(remote_line(Script::Command(line), RemoteShell::None), line);
        assert_eq!(
            remote_line(Script::Command(line), RemoteShell::Posix),
            format!("echo drover-pid:$$ >&2; {line}")
        );
        assert_eq!(
            remote_line(Script::Shell("echo 'a'\necho b"), RemoteShell::Posix),
            "echo drover-pid:$$ >&2; exec sh -c 'echo '\\''a'\\''\necho b'"
        );
    }

    #[test]
    fn the_marker_line_is_found_and_removed() {
        let text = "motd\ndrover-pid:4242\nreal error\n".to_string();
        assert_eq!(find_pid(&text), Some(4242));
        assert_eq!(strip_marker(text), "motd\nreal error\n");
        assert_eq!(strip_marker("no marker".to_string()), "no marker");
        assert_eq!(find_pid("xdrover-pid:1"), None);
    }
}
