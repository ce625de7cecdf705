//! How drover reaches a host. Each transport opens a session per host, runs commands on it
//! and closes it; the engine only sees `Transports`, `Session` and classified errors.
//!
//! `local` runs on this machine with `sh -c`; `ssh` drives the system OpenSSH client, one
//! ControlMaster per host. `mqtt` plugs in here as a further variant. `fake` is an in-process transport for engine tests and benchmarks.

pub mod fake;
mod local;
pub mod ssh;

use std::time::Duration;

use crate::inventory::{Connection, TransportKind};
use crate::outcome::{ErrorKind, TaskError};

pub use fake::FakeTransport;
pub use local::LocalSession;
pub use ssh::{SshSession, SshTransport};

/// What a command produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// One unit of work for a session: a command line or a multi-line script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script<'a> {
    Command(&'a str),
    Shell(&'a str),
}

/// A command that did not complete, with what it printed until then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError {
    pub error: TaskError,
    pub partial: Output,
}

/// The transports a run may use, built once per run.
#[derive(Debug, Clone, Default)]
pub struct Transports {
    /// When set, every host goes through this fake instead of its own transport.
    pub fake: Option<FakeTransport>,
    pub ssh: SshTransport,
}

/// An open connection to one host, owned by that host's task.
#[derive(Debug)]
pub enum Session {
    Local(LocalSession),
    Fake(fake::FakeSession),
    Ssh(SshSession),
}

impl Transports {
    /// Checks, before anything runs, that this host can be reached by this build and that
    /// its transport options make sense. The message names what is wrong, not the host.
    pub fn check(&self, conn: &Connection) -> Result<(), String> {
        if self.fake.is_some() {
            return Ok(());
        }
        match conn.transport {
            TransportKind::Local => Ok(()),
            TransportKind::Ssh => self.ssh.check(conn),
            other => Err(format!(
                "the {} transport is not available in this build of drover",
                other.as_str()
            )),
        }
    }

    pub async fn connect(&self, host: &str, conn: &Connection) -> Result<Session, TaskError> {
        if let Some(fake) = &self.fake {
            return fake.connect(host).await.map(Session::Fake);
        }
        match conn.transport {
            TransportKind::Local => Ok(Session::Local(LocalSession)),
            TransportKind::Ssh => self.ssh.connect(conn).await.map(Session::Ssh),
            other => Err(TaskError::new(
                ErrorKind::Unsupported,
                format!(
                    "the {} transport is not available in this build",
                    other.as_str()
                ),
            )),
        }
    }
}

impl Session {
    pub async fn run(&mut self, script: Script<'_>, timeout: Duration) -> Result<Output, RunError> {
        match self {
            Session::Local(s) => s.run(script, timeout).await,
            Session::Fake(s) => s.run(script, timeout).await,
            Session::Ssh(s) => s.run(script, timeout).await,
        }
    }

    pub async fn close(self) {
        match self {
            Session::Local(_) => {}
            Session::Fake(s) => s.close().await,
            Session::Ssh(s) => s.close().await,
        }
    }
}
