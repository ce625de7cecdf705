//! How drover reaches a host. Each transport is one folder behind one small interface,
//! [`Transport`]: at plan time it turns a host into a typed [`Endpoint`] (parsed and checked
//! once) and says which actions that endpoint can run; at run time it connects, and the
//! [`Session`] it returns runs actions and closes. At the end of the run a transport may
//! hand back a [`Summary`], which travels to the report as an event.
//!
//! [`Transports`] is the set a release build has — `local` (`sh -c` on this machine), `ssh`
//! (the system OpenSSH client, one ControlMaster per host) and `mqtt` (IoT nodes through a
//! broker) — and picks the transport by the host's `transport` variable. The engine holds
//! a `dyn Transport` and knows no transport's details; tests and benchmarks hand it an
//! in-process fake of their own (`tests/support/fake.rs`).

mod action;
pub mod capture;
mod local;
pub mod mqtt;
pub mod ssh;
pub mod topics;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::inventory::{Connection, TransportKind};
use crate::outcome::TaskError;

pub use action::{
    correlation_id, reply_filter, Action, ActionKind, ConfigRequest, MqttReply, MqttRequest,
};
pub use local::LocalTransport;
pub use mqtt::{MqttSummary, MqttTransport};
pub use ssh::SshTransport;

/// A boxed future, as the object-safe interface returns them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a command produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// A `config` action's lines and the device's answer to each.
    pub lines: Vec<crate::outcome::ConfigLine>,
}

/// An action that did not complete, with what it printed until then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError {
    pub error: TaskError,
    pub partial: Output,
}

impl RunError {
    /// A failure before anything was printed.
    pub fn new(error: TaskError) -> RunError {
        RunError {
            error,
            partial: Output::default(),
        }
    }
}

/// A host as its transport parsed it at plan time: what the engine needs to pace and label
/// it, and the transport's own typed target, which only the transport looks inside.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `local`, `ssh`, `mqtt`: for the report.
    pub transport: &'static str,
    /// Where it is, for the report and messages.
    pub address: String,
    /// Whether connecting opens a new connection, which is what the rate limit paces: a local
    /// "connection" starts nothing, and an MQTT node in shared mode joins its broker's client.
    pub opens_connection: bool,
    /// The gateway whose connections share `gateway_rate`: the `gateway` var, else what the
    /// transport goes through (the first jump host, the broker).
    pub gateway: Option<String>,
    /// Variables the transport adds to the host's templates (an MQTT node's `node_id`).
    pub vars: Vec<(&'static str, serde_json::Value)>,
    /// The network platform whose CLI the host has (`platform:`), set by the plan; `None`
    /// for an ordinary host.
    pub platform: Option<Arc<crate::platform::Platform>>,
    pub target: Target,
}

impl Endpoint {
    /// The platform when it is driven through an interactive CLI (not `linux`'s exec).
    pub fn cli(&self) -> Option<&Arc<crate::platform::Platform>> {
        self.platform
            .as_ref()
            .filter(|p| p.driver == crate::platform::DriverKind::Cli)
    }
}

/// Each transport's parsed options for one host.
#[derive(Debug, Clone)]
pub enum Target {
    Local,
    Ssh(Arc<ssh::SshTarget>),
    Mqtt(Arc<mqtt::MqttTarget>),
}

/// What a transport tells the report at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "transport", rename_all = "snake_case")]
pub enum Summary {
    Mqtt(MqttSummary),
}

/// Paces the new network connections a transport opens on its own after a loss (an MQTT
/// client dialling its broker again): the run's `rate`, the limiter the engine's connects
/// wait on, so a broker restart is not followed by every client at once.
pub type Pacer = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// One transport, or a set of them. Object-safe: the engine holds a `dyn Transport`.
pub trait Transport: Send + Sync + fmt::Debug {
    /// Plan time: parses and checks the host's options, once. The message names what is
    /// wrong (the variable), not the host.
    fn endpoint(&self, host: &str, conn: &Connection) -> Result<Endpoint, String>;

    /// Plan time: whether this endpoint can run this kind of action; the message says why
    /// not.
    fn supports(&self, endpoint: &Endpoint, action: ActionKind) -> Result<(), String>;

    /// Opens a session to the host. The engine bounds it with the connect timeout and
    /// retries transient failures.
    fn connect<'a>(
        &'a self,
        host: &'a str,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Box<dyn Session>, TaskError>>;

    /// Plan time, per play: what the hosts' endpoints must not have in common (two MQTT
    /// hosts that are one node on one broker); the message names the hosts.
    fn check_play(&self, _hosts: &[(&str, &Endpoint)]) -> Result<(), String> {
        Ok(())
    }

    /// Whether connecting `host` now opens a new network connection, which the engine paces
    /// by `rate`; if so, a claim the engine holds until the attempt ends. A transport that
    /// shares connections (MQTT's shared mode) claims one only for the first host on it;
    /// the others wait for that connection instead of each spending a token.
    fn opens_connection(&self, _host: &str, endpoint: &Endpoint) -> Option<Claim> {
        endpoint.opens_connection.then(Claim::default)
    }

    /// The end of the run: closes what the run shared (broker clients) and says what the
    /// report should know beyond the hosts' results.
    fn finish(&self) -> BoxFuture<'_, Vec<Summary>> {
        Box::pin(async { Vec::new() })
    }

    /// From now on, connections the transport opens again by itself wait on `pacer` (the
    /// current play's rate limit) first.
    fn pace(&self, _pacer: Pacer) {}

    /// For a long-running watch: the connection that carries `host`'s topics, kept for as
    /// long as the link lives, its messages sent to `messages`; `None` when the transport has
    /// no topics or none that outlive a check.
    fn topics(
        &self,
        _host: &str,
        _endpoint: &Endpoint,
        _messages: topics::TopicSender,
    ) -> Option<Box<dyn topics::TopicLink>> {
        None
    }
}

/// A host's claim to open a shared connection: whatever the transport needs to see that the
/// claimant is still on its way (dropped when its attempt ends, in success or not).
#[derive(Default)]
pub struct Claim(pub Option<Box<dyn Send + Sync>>);

impl fmt::Debug for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Claim")
    }
}

/// An open connection to one host, owned by that host's task.
pub trait Session: Send + fmt::Debug {
    fn run<'a>(
        &'a mut self,
        action: Action<'a>,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Output, RunError>>;

    fn close(self: Box<Self>) -> BoxFuture<'static, ()>;

    /// How the connection was made, in words without secrets (`-vvv`, and the report's
    /// successful connect attempt): the backend, the host key, the login, the hops.
    fn describe(&self) -> Option<String> {
        None
    }
}

/// The transports a release build has, built once per run; a host's `transport` variable
/// picks one.
#[derive(Debug, Clone, Default)]
pub struct Transports {
    pub local: LocalTransport,
    pub ssh: SshTransport,
    pub mqtt: MqttTransport,
}

impl Transports {
    fn pick(&self, kind: TransportKind) -> &dyn Transport {
        match kind {
            TransportKind::Local => &self.local,
            TransportKind::Ssh => &self.ssh,
            TransportKind::Mqtt => &self.mqtt,
        }
    }

    fn of(&self, target: &Target) -> &dyn Transport {
        match target {
            Target::Local => &self.local,
            Target::Ssh(_) => &self.ssh,
            Target::Mqtt(_) => &self.mqtt,
        }
    }
}

impl Transport for Transports {
    fn endpoint(&self, host: &str, conn: &Connection) -> Result<Endpoint, String> {
        let mut endpoint = self.pick(conn.transport).endpoint(host, conn)?;
        if let Some(serde_json::Value::String(g)) = conn.vars.get("gateway") {
            endpoint.gateway = Some(g.clone());
        }
        Ok(endpoint)
    }

    fn supports(&self, endpoint: &Endpoint, action: ActionKind) -> Result<(), String> {
        self.of(&endpoint.target).supports(endpoint, action)
    }

    fn connect<'a>(
        &'a self,
        host: &'a str,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Box<dyn Session>, TaskError>> {
        self.of(&endpoint.target).connect(host, endpoint)
    }

    fn opens_connection(&self, host: &str, endpoint: &Endpoint) -> Option<Claim> {
        self.of(&endpoint.target).opens_connection(host, endpoint)
    }

    fn check_play(&self, hosts: &[(&str, &Endpoint)]) -> Result<(), String> {
        self.mqtt.check_play(hosts)
    }

    fn topics(
        &self,
        host: &str,
        endpoint: &Endpoint,
        messages: topics::TopicSender,
    ) -> Option<Box<dyn topics::TopicLink>> {
        self.of(&endpoint.target).topics(host, endpoint, messages)
    }

    fn pace(&self, pacer: Pacer) {
        self.mqtt.pace(pacer);
    }

    fn finish(&self) -> BoxFuture<'_, Vec<Summary>> {
        Box::pin(async {
            let mut all = self.local.finish().await;
            all.extend(self.ssh.finish().await);
            all.extend(self.mqtt.finish().await);
            all
        })
    }
}
