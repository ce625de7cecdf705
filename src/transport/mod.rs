//! How drover reaches a host. Each transport opens a session per host, runs commands on it
//! and closes it; the engine only sees `Transports`, `Session` and classified errors.
//!
//! `local` runs on this machine with `sh -c`; `ssh` drives the system OpenSSH client, one
//! ControlMaster per host (see `ssh/`); `mqtt` publishes to IoT nodes through a broker (see
//! `mqtt/`). `fake` is an in-process transport for engine tests and benchmarks.

pub mod fake;
mod local;
pub mod mqtt;
pub mod ssh;

use std::time::Duration;

use crate::inventory::{Connection, TransportKind};
use crate::outcome::{ErrorKind, TaskError};

pub use fake::FakeTransport;
pub use local::LocalSession;
pub use mqtt::{MqttRequest, MqttSession, MqttTransport};
pub use ssh::{SshSession, SshTransport};

/// What a command produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// One unit of work for a session: a command line, a multi-line script, or an MQTT publish
/// (and its reply).
#[derive(Debug, Clone, Copy)]
pub enum Script<'a> {
    Command(&'a str),
    Shell(&'a str),
    Mqtt(&'a MqttRequest),
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
    /// The run's broker clients.
    pub mqtt: MqttTransport,
    pub ssh: SshTransport,
}

/// An open connection to one host, owned by that host's task.
#[derive(Debug)]
pub enum Session {
    Local(LocalSession),
    Fake(fake::FakeSession),
    Mqtt(MqttSession),
    Ssh(SshSession),
}

impl Transports {
    /// Every host goes through this fake: for engine tests and benchmarks.
    pub fn with_fake(fake: FakeTransport) -> Transports {
        Transports {
            fake: Some(fake),
            ..Transports::default()
        }
    }

    /// Checks, before anything runs, that this host can be reached by this build and that
    /// its transport options make sense. The message names what is wrong, not the host.
    pub fn check(&self, host: &str, conn: &Connection) -> Result<(), String> {
        if self.fake.is_some() {
            return Ok(());
        }
        match conn.transport {
            TransportKind::Local => Ok(()),
            TransportKind::Mqtt => self.mqtt.check(host, conn),
            TransportKind::Ssh => self.ssh.check(conn),
        }
    }

    /// Whether connecting `host` opens a new connection, which is what the rate limit paces:
    /// a local "connection" starts nothing, and an MQTT node in shared mode joins the
    /// broker's one client.
    pub fn opens_connection(&self, host: &str, conn: &Connection) -> bool {
        if self.fake.is_some() {
            return true;
        }
        match conn.transport {
            TransportKind::Local => false,
            TransportKind::Mqtt => self.mqtt.opens_connection(host, conn),
            TransportKind::Ssh => true,
        }
    }

    pub async fn connect(&self, host: &str, conn: &Connection) -> Result<Session, TaskError> {
        if let Some(fake) = &self.fake {
            return fake.connect(host).await.map(Session::Fake);
        }
        match conn.transport {
            TransportKind::Local => Ok(Session::Local(LocalSession)),
            TransportKind::Mqtt => self.mqtt.connect(host, conn).await.map(Session::Mqtt),
            TransportKind::Ssh => self.ssh.connect(conn).await.map(Session::Ssh),
        }
    }
}

impl Session {
    pub async fn run(&mut self, script: Script<'_>, timeout: Duration) -> Result<Output, RunError> {
        match self {
            Session::Local(s) => s.run(script, timeout).await,
            Session::Fake(s) => s.run(script, timeout).await,
            Session::Mqtt(s) => match script {
                Script::Mqtt(request) => s.run(request, timeout).await,
                Script::Command(_) | Script::Shell(_) => Err(RunError {
                    error: TaskError::new(
                        ErrorKind::Protocol,
                        "an MQTT node runs `mqtt` tasks only, not `command` or `shell`",
                    ),
                    partial: Output::default(),
                }),
            },
            Session::Ssh(s) => match script {
                Script::Mqtt(_) => Err(RunError {
                    error: TaskError::new(
                        ErrorKind::Protocol,
                        "an SSH host runs `command` and `shell` tasks, not `mqtt`",
                    ),
                    partial: Output::default(),
                }),
                other => s.run(other, timeout).await,
            },
        }
    }

    pub async fn close(self) {
        match self {
            Session::Local(_) => {}
            Session::Fake(s) => s.close().await,
            Session::Mqtt(s) => s.close().await,
            Session::Ssh(s) => s.close().await,
        }
    }
}
