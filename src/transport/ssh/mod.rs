//! The `ssh` transport: the system OpenSSH client through the `openssh` crate, one
//! ControlMaster per host (native mux), reused by every task on that host and closed when
//! the host is done.
//!
//! What the crate leaves to us: options go into a per-run ssh config file that includes the
//! user's (`options`), masters live in a short private control directory that is removed at
//! exit and whose leftovers from crashed runs are cleaned (`control`), `ControlPersist` is
//! bounded so a killed drover's masters die on their own, and OpenSSH's messages are
//! classified (`classify`). The crate forces `BatchMode`: key, agent and certificate
//! authentication only.

mod classify;
mod control;
mod options;
mod session;

use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use openssh::{ControlPersist, KnownHosts, SessionBuilder};

use crate::inventory::Connection;
use crate::outcome::{ErrorKind, TaskError};
use control::ControlDir;
use options::{HostKeyPolicy, SshOptions};

pub use session::SshSession;

/// How long a master with no channel open stays up. Tasks follow each other without a
/// pause, so this only matters when drover dies without closing: then the masters go too.
const CONTROL_PERSIST_SECS: usize = 60;

/// Built once per run; clones share the control directory, which goes when the last does.
#[derive(Debug, Clone, Default)]
pub struct SshTransport {
    control: Arc<OnceLock<Result<ControlDir, String>>>,
    /// ssh's own `ConnectTimeout`; the engine's deadline is the authority, this bounds an
    /// `ssh` the engine gave up on.
    connect_timeout: Option<Duration>,
}

impl SshTransport {
    pub fn set_connect_timeout(&mut self, timeout: Duration) {
        self.connect_timeout = Some(timeout);
    }

    /// Plan-time validation of the host's ssh variables.
    pub fn check(&self, conn: &Connection) -> Result<(), String> {
        check_address(&conn.address)?;
        SshOptions::from_vars(&conn.vars).map(|_| ())
    }

    pub async fn connect(&self, conn: &Connection) -> Result<SshSession, TaskError> {
        let protocol = |m: String| TaskError::new(ErrorKind::Protocol, m);
        let control = self
            .control
            .get_or_init(ControlDir::create)
            .as_ref()
            .map_err(|m| protocol(m.clone()))?;
        check_address(&conn.address).map_err(protocol)?;
        let options = SshOptions::from_vars(&conn.vars).map_err(protocol)?;
        let secs = self
            .connect_timeout
            .map_or(10, |t| t.as_secs_f64().ceil() as u64);
        let config = control
            .config(options.config_text(secs.max(1)))
            .map_err(protocol)?;
        let mut builder = SessionBuilder::default();
        builder
            .control_directory(control.path())
            .config_file(&config)
            .known_hosts_check(match options.host_keys {
                HostKeyPolicy::Strict => KnownHosts::Strict,
                HostKeyPolicy::AcceptNew => KnownHosts::Add,
                HostKeyPolicy::Off => KnownHosts::Accept,
            });
        if let Some(persist) = NonZeroUsize::new(CONTROL_PERSIST_SECS) {
            builder.control_persist(ControlPersist::IdleFor(persist));
        }
        if let Some(user) = &conn.user {
            builder.user(user.clone());
        }
        if let Some(port) = conn.port {
            builder.port(port);
        }
        if !options.jump.is_empty() {
            builder.jump_hosts(&options.jump);
        }
        // In its own task: when the engine's connect deadline drops this future, the task
        // still ends, and a master that came up late is dropped there, which stops it.
        // Dropped mid-way instead, the crate's `ssh -f` would run on and, authenticated,
        // hold a connection whose control socket directory is already gone.
        let address = conn.address.clone();
        let connecting = tokio::spawn(async move { builder.connect_mux(&address).await });
        let connected = connecting
            .await
            .map_err(|e| protocol(format!("the connect task failed: {e}")))?;
        match connected {
            Ok(session) => Ok(SshSession::new(session).await),
            Err(openssh::Error::Connect(e)) => {
                let to = classify::Destination {
                    address: &conn.address,
                    port: conn.port,
                    jump: &options.jump,
                };
                Err(classify::connect_error(&e.to_string(), to))
            }
            Err(e) => Err(protocol(format!("cannot start ssh: {e}: {}", source(&e)))),
        }
    }
}

/// ssh takes the destination as its last argument, after its options: one that starts with
/// `-` would be read as an option (`-oProxyCommand=...`).
fn check_address(address: &str) -> Result<(), String> {
    if address.is_empty()
        || address.starts_with('-')
        || address.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "`{address}` is not a host name or address ssh can be given"
        ));
    }
    Ok(())
}

fn source(e: &openssh::Error) -> String {
    std::error::Error::source(e).map_or_else(String::new, |s| s.to_string())
}
