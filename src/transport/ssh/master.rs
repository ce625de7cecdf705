//! Starting a host's ControlMaster (`ssh -M -f -N`), which the `openssh` crate would do
//! itself but in a way that blocks and cannot be stopped. Two things are ours:
//!
//! - `fork`+`exec` of `ssh` blocks its thread for 10–60 ms on a loaded machine; on one of
//!   the runtime's few worker threads that delays every other host's start, so at high
//!   concurrency the starts were paced by process creation, not by the rate limit. The
//!   spawn runs on tokio's blocking pool.
//! - An attempt the engine abandons (its connect deadline passed mid key exchange) must end
//!   its `ssh`, which otherwise holds a TCP session (a vty line on a router) until its own
//!   timeout. Until it has authenticated, `ssh -f` is the one process holding the
//!   connection, so killing it ends the session; once authenticated it forks the master
//!   and exits, and the master is then the crate's `Session`, stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use openssh::KnownHosts;

/// What the master needs, in `ssh`'s own terms.
#[derive(Debug)]
pub struct MasterArgs<'a> {
    pub control_dir: &'a Path,
    pub config: &'a Path,
    pub known_hosts: KnownHosts,
    pub control_persist_secs: usize,
    pub user: Option<&'a str>,
    pub port: Option<u16>,
    pub jump: &'a [String],
    pub destination: &'a str,
}

/// Why a master did not come up.
#[derive(Debug)]
pub enum MasterError {
    /// `ssh` could not be started, or its directory made.
    Start(String),
    /// `ssh` ran and failed; what it logged.
    Failed(String),
}

/// Starts the master and waits until it has authenticated (the `ssh -f` parent exits).
/// Dropping the future before then kills that `ssh`, and with it the TCP session.
/// The session, and the command line it was started with (for `-vvv`).
pub async fn launch(args: MasterArgs<'_>) -> Result<(openssh::Session, String), MasterError> {
    let dir = tempfile::Builder::new()
        .prefix(".ssh-connection")
        .tempdir_in(args.control_dir)
        .map_err(|e| MasterError::Start(format!("cannot create a control socket dir: {e}")))?;
    let log = dir.path().join("log");
    let socket = dir.path().join("master");
    let mut command = command(&args, &log, &socket);
    let line = std::iter::once(command.as_std().get_program())
        .chain(command.as_std().get_args())
        .map(|a| crate::shell::quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    // Dropped with the future: a master that came up just as the attempt was abandoned
    // (ssh exited, nobody polled again) is told to exit through its socket.
    let mut guard = Abandoned(Some(dir));
    let spawned = tokio::task::spawn_blocking(move || {
        // Inside the runtime's context (the blocking pool has it), so the child is tokio's
        // and can be awaited from the async side.
        command.kill_on_drop(true).spawn()
    })
    .await;
    let mut child = match spawned {
        Ok(Ok(child)) => child,
        Ok(Err(e)) => return Err(MasterError::Start(format!("cannot start ssh: {e}"))),
        Err(e) => return Err(MasterError::Start(format!("cannot start ssh: {e}"))),
    };
    let status = child
        .wait()
        .await
        .map_err(|e| MasterError::Start(format!("cannot wait for ssh: {e}")))?;
    let dir = guard.0.take().expect("taken once");
    if status.success() {
        Ok((openssh::Session::new_native_mux(dir), line))
    } else {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        Err(MasterError::Failed(text))
    }
}

struct Abandoned(Option<tempfile::TempDir>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            if dir.path().join("master").exists() {
                // The crate's session stops its master when dropped.
                drop(openssh::Session::new_native_mux(dir));
            }
        }
    }
}

fn command(args: &MasterArgs<'_>, log: &PathBuf, socket: &PathBuf) -> tokio::process::Command {
    let mut c = tokio::process::Command::new("ssh");
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .arg("-E")
        .arg(log)
        .arg("-S")
        .arg(socket)
        .args(["-M", "-f", "-N", "-o"])
        .arg(format!("ControlPersist={}s", args.control_persist_secs))
        .args(["-o", "BatchMode=yes", "-o"])
        .arg(match args.known_hosts {
            KnownHosts::Strict => "StrictHostKeyChecking=yes",
            KnownHosts::Add => "StrictHostKeyChecking=accept-new",
            _ => "StrictHostKeyChecking=no",
        });
    if let Some(port) = args.port {
        c.arg("-p").arg(port.to_string());
    }
    if let Some(user) = args.user {
        c.arg("-l").arg(user);
    }
    c.arg("-F").arg(args.config);
    if !args.jump.is_empty() {
        c.arg("-J").arg(args.jump.join(","));
    }
    c.arg(args.destination);
    c
}
