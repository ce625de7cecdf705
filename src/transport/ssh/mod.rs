//! The `ssh` transport, two backends behind one set of host variables (`backend` says which
//! a host gets): `native`, SSH inside drover on russh (see `native/`), and `openssh`, the
//! system OpenSSH client through the `openssh` crate, one ControlMaster per host (native
//! mux), reused by every task on that host and closed when the host is done.
//!
//! What the crate leaves to us: options go into a per-run ssh config file that includes the
//! user's (`options`), masters live in a short private control directory that is removed at
//! exit and whose leftovers from crashed runs are cleaned (`control`), `ControlPersist` is
//! bounded so a killed drover's masters die on their own, and OpenSSH's messages are
//! classified (`classify`). The crate forces `BatchMode`: key, agent and certificate
//! authentication only, which is why a host with a password goes native.

mod backend;
mod classify;
mod control;
mod kill;
mod master;
mod native;
mod options;
mod session;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use openssh::KnownHosts;

use super::{ActionKind, BoxFuture, Endpoint, Session, Target, Transport};
use crate::inventory::{Connection, Vars};
use crate::outcome::{ErrorKind, TaskError};
use control::ControlDir;
pub use options::{HostKeyPolicy, SshOptions};

pub use backend::Backend;
pub use native::{NativeSession, NativeTarget};
pub use session::OpenSshSession;

/// The backend a host with these variables gets, and why, in words (for `inventory --host`).
pub fn backend_of(vars: &Vars) -> Result<(Backend, String), String> {
    backend::choose(vars)
}

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
    /// Kills of commands whose host was cut short mid-command, which the run's end awaits.
    stops: kill::SharedStops,
}

/// A host's ssh endpoint, parsed once at plan time, for the backend it gets.
#[derive(Debug)]
pub enum SshTarget {
    OpenSsh(OpenSshTarget),
    Native(NativeTarget),
}

/// What the openssh backend needs of a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSshTarget {
    pub address: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub options: SshOptions,
}

impl SshTransport {
    pub fn set_connect_timeout(&mut self, timeout: Duration) {
        self.connect_timeout = Some(timeout);
    }

    async fn open(&self, target: &OpenSshTarget) -> Result<OpenSshSession, TaskError> {
        let protocol = |m: String| TaskError::new(ErrorKind::Protocol, m);
        let control = self
            .control
            .get_or_init(ControlDir::create)
            .as_ref()
            .map_err(|m| protocol(m.clone()))?;
        let options = &target.options;
        let secs = self
            .connect_timeout
            .map_or(10, |t| t.as_secs_f64().ceil() as u64);
        let config = control
            .config(options.config_text(secs.max(1)))
            .map_err(protocol)?;
        let args = master::MasterArgs {
            control_dir: control.path(),
            config: &config,
            known_hosts: match options.host_keys {
                HostKeyPolicy::Strict => KnownHosts::Strict,
                HostKeyPolicy::AcceptNew => KnownHosts::Add,
                HostKeyPolicy::Off => KnownHosts::Accept,
            },
            control_persist_secs: CONTROL_PERSIST_SECS,
            user: target.user.as_deref(),
            port: target.port,
            jump: &options.jump,
            destination: &target.address,
        };
        // Not in a task of its own: when the engine's connect deadline drops this future,
        // the `ssh` still authenticating is killed with it (see `master`).
        match master::launch(args).await {
            Ok((session, line)) => {
                Ok(
                    OpenSshSession::new(session, format!("openssh: {line}"), self.stops.clone())
                        .await,
                )
            }
            Err(master::MasterError::Failed(log)) => {
                let to = classify::Destination {
                    address: &target.address,
                    port: target.port,
                    jump: &options.jump,
                };
                Err(classify::connect_error(&log, to))
            }
            Err(master::MasterError::Start(m)) => Err(protocol(m)),
        }
    }
}

impl Transport for SshTransport {
    fn endpoint(&self, _host: &str, conn: &Connection) -> Result<Endpoint, String> {
        check_address(&conn.address)?;
        let (target, gateway) = match backend::choose(&conn.vars)?.0 {
            Backend::Native => {
                let target = NativeTarget::from_connection(conn)?;
                let gateway = target.jumps.first().map(|h| h.label());
                (SshTarget::Native(target), gateway)
            }
            Backend::OpenSsh => {
                let options = SshOptions::from_vars(&conn.vars)?;
                let gateway = options.jump.first().cloned();
                let target = OpenSshTarget {
                    address: conn.address.clone(),
                    port: conn.port,
                    user: conn.user.clone(),
                    options,
                };
                (SshTarget::OpenSsh(target), gateway)
            }
        };
        Ok(Endpoint {
            platform: None,
            transport: "ssh",
            address: conn.address.clone(),
            opens_connection: true,
            gateway,
            vars: Vec::new(),
            target: Target::Ssh(Arc::new(target)),
        })
    }

    fn supports(&self, endpoint: &Endpoint, action: ActionKind) -> Result<(), String> {
        let cli = endpoint.cli();
        if let (Some(p), Target::Ssh(target)) = (cli, &endpoint.target) {
            if let SshTarget::OpenSsh(_) = &**target {
                return Err(format!(
                    "needs the native ssh backend: platform `{}` is driven through an \
                     interactive CLI, which only the native backend runs (remove \
                     `ssh_backend: openssh`)",
                    p.name
                ));
            }
        }
        match (action, cli) {
            (ActionKind::Command, _) | (ActionKind::Shell, None) => Ok(()),
            (ActionKind::Shell, Some(p)) => Err(format!(
                "is a `shell` task: platform `{}` has a CLI, not a POSIX shell; use `command` \
                 (one line per task) or `config`",
                p.name
            )),
            (ActionKind::Config | ActionKind::Enable, None) => Err(format!(
                "{} a network device's CLI: set the host's `platform` (cisco_ios, \
                 juniper_junos, ...)",
                if action == ActionKind::Config {
                    "is a `config` task, which needs"
                } else {
                    "has `enable: true`, which needs"
                }
            )),
            (ActionKind::Config, Some(p)) if p.config.is_none() => Err(format!(
                "is a `config` task, and platform `{}` has no config mode",
                p.name
            )),
            (ActionKind::Config | ActionKind::Enable, Some(_)) => Ok(()),
            (ActionKind::Mqtt { .. }, _) => {
                Err("is an `mqtt` task, and this host's transport is ssh".into())
            }
        }
    }

    /// Waits for the kills of commands whose host was cut short (bounded: a second Ctrl-C
    /// still ends the run promptly).
    fn finish(&self) -> BoxFuture<'_, Vec<super::Summary>> {
        Box::pin(async {
            self.stops.wait(kill::STOP_WAIT).await;
            Vec::new()
        })
    }

    fn connect<'a>(
        &'a self,
        _host: &'a str,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Box<dyn Session>, TaskError>> {
        Box::pin(async move {
            let Target::Ssh(target) = &endpoint.target else {
                return Err(TaskError::new(ErrorKind::Protocol, "not an ssh endpoint"));
            };
            match &**target {
                SshTarget::OpenSsh(t) => Ok(Box::new(self.open(t).await?) as Box<dyn Session>),
                SshTarget::Native(t) => {
                    let timeout = self.connect_timeout.unwrap_or(Duration::from_secs(10));
                    match endpoint.cli() {
                        Some(p) => Ok(Box::new(native::connect_cli(t, p.clone(), timeout).await?)
                            as Box<dyn Session>),
                        None => Ok(Box::new(
                            native::connect(t, timeout)
                                .await?
                                .with_stops(self.stops.clone()),
                        ) as Box<dyn Session>),
                    }
                }
            }
        })
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
