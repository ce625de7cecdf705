//! The `mqtt` transport: commands IoT nodes through a broker. In shared mode (the default)
//! every host on one broker with one identity goes through one client for the whole run,
//! addressed by topic; in per-node mode a host has its own client id and certificate and
//! its own connection, opened and closed like an SSH session.
//!
//! - `options`: a host's broker settings, from its variables, checked at plan time.
//! - `proto`: the only code that knows the MQTT crate.
//! - `client`: one connection, owned by one task; reconnects with backoff.
//! - `pending`: matching replies to requests.
//! - `watched`: the topics a watch holds on a connection.

mod client;
mod options;
mod pending;
mod proto;
mod watched;
mod x509;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::topics::{Refused, TopicLink, TopicSender};
use super::{
    Action, ActionKind, BoxFuture, Claim, Endpoint, MqttRequest, Output, RunError, Session,
    Summary, Target, Transport,
};
use crate::inventory::Connection;
use crate::outcome::{ErrorKind, TaskError};
use crate::playbook::mqtt::Correlation;
use crate::policy::{retry, Backoff, RetryPolicy, Step};

pub use client::Stats;
use client::{BrokerClient, ReplyWait, Request};
pub use options::{node_id, BrokerOptions, Mode, TlsFiles, Version};
use pending::Match;

/// Publishes whose PUBACK did not come are sent again this often, this far apart.
const PUBLISH_BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(200),
    cap: Duration::from_secs(2),
    retries: 2,
};

/// What the run's MQTT clients saw beyond the hosts' own results, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MqttSummary {
    /// Broker connections opened (one per broker+identity in shared mode, one per node in
    /// per-node mode).
    pub connections: u64,
    /// Replies that came after their request had given up.
    pub late_replies: u64,
    /// Messages on reply topics that answered no request of this run.
    pub unmatched_replies: u64,
    /// Connections re-established after a loss.
    pub reconnects: u64,
}

/// The MQTT side of `Transports`: the shared clients, created lazily, one per broker and
/// identity, kept for the whole run.
#[derive(Debug, Clone, Default)]
pub struct MqttTransport {
    shared: Arc<Mutex<HashMap<BrokerOptions, Slot>>>,
    /// Told when a shared client is created or a claim to create one ends.
    opened: Arc<tokio::sync::Notify>,
    stats: Arc<Stats>,
    /// What a client's reconnect waits on: the current play's rate limit.
    pacer: client::Reconnects,
}

/// A shared connection, or the claim of the host that opens it once its rate token comes
/// (the other hosts on that broker wait for it rather than each spending a token).
#[derive(Debug)]
enum Slot {
    Claimed {
        host: String,
        alive: Weak<ClaimToken>,
    },
    Open(BrokerClient),
}

/// Held (through the engine's `Claim`) by the host that opens a shared connection.
#[derive(Debug)]
struct ClaimToken(Arc<tokio::sync::Notify>);

impl Drop for ClaimToken {
    fn drop(&mut self) {
        self.0.notify_waiters();
    }
}

/// An open MQTT session for one host.
#[derive(Debug)]
pub struct MqttSession {
    client: BrokerClient,
    per_node: bool,
    /// Keeps the connection wanted (reconnected after a loss) while the host uses it.
    _held: client::Use,
}

/// A watch's topics on a shared broker connection, which stays wanted while this lives.
#[derive(Debug)]
struct MqttTopics {
    client: BrokerClient,
    _held: client::Use,
}

impl TopicLink for MqttTopics {
    fn subscribe(
        &self,
        filters: Vec<String>,
    ) -> BoxFuture<'static, Result<Vec<Refused>, TaskError>> {
        self.client.watch_subscribe(filters)
    }

    fn unsubscribe(&self, filters: Vec<String>) -> BoxFuture<'static, Result<(), TaskError>> {
        self.client.watch_unsubscribe(filters)
    }
}

/// A node's MQTT endpoint, parsed once at plan time. The TLS files and the password are
/// read at its first connect and kept for the run, not read again on every attempt.
#[derive(Debug)]
pub struct MqttTarget {
    pub options: BrokerOptions,
    /// The client id of a per-node connection.
    pub client_id: String,
    /// The node's id in its topics.
    pub node_id: String,
    /// No `mqtt_url`: the broker is the host's own address, port 1883 (`drover check`
    /// shows it and warns when that gives many hosts brokers of their own).
    pub default_broker: bool,
    secrets: OnceLock<Result<Secrets, TaskError>>,
}

/// TLS material and the password, as a client needs them. Its `Debug` shows neither.
#[derive(Clone)]
pub struct Secrets {
    pub tls: Option<TlsFiles>,
    pub password: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets").finish_non_exhaustive()
    }
}

impl MqttTarget {
    fn secrets(&self) -> Result<&Secrets, TaskError> {
        self.secrets
            .get_or_init(|| {
                Ok(Secrets {
                    tls: self.options.tls_files()?,
                    password: self.options.password()?,
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl MqttTransport {
    pub fn summary(&self) -> Option<MqttSummary> {
        let s = &self.stats;
        let summary = MqttSummary {
            connections: s.connections.load(Ordering::Relaxed),
            late_replies: s.late_replies.load(Ordering::Relaxed),
            unmatched_replies: s.unmatched_replies.load(Ordering::Relaxed),
            reconnects: s.reconnects.load(Ordering::Relaxed),
        };
        (summary.connections > 0).then_some(summary)
    }

    /// Ends the shared connections, all at once (each waits up to a second for its
    /// goodbye); for the end of the run.
    pub async fn close(&self) {
        let clients: Vec<BrokerClient> = {
            let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            shared
                .drain()
                .filter_map(|(_, slot)| match slot {
                    Slot::Open(c) => Some(c),
                    Slot::Claimed { .. } => None,
                })
                .collect()
        };
        let mut closing = tokio::task::JoinSet::new();
        for client in clients {
            closing.spawn(client.close());
        }
        while closing.join_next().await.is_some() {}
    }

    /// Whether connecting `host` now opens a broker connection: always per node; in shared
    /// mode for the first host on a broker and identity, which claims it.
    fn opens(&self, host: &str, endpoint: &Endpoint) -> Option<Claim> {
        let Target::Mqtt(t) = &endpoint.target else {
            return endpoint.opens_connection.then(Claim::default);
        };
        if t.options.mode == Mode::PerNode {
            return Some(Claim::default());
        }
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        match shared.get(&t.options) {
            Some(Slot::Open(_)) => None,
            Some(Slot::Claimed { host: h, alive }) if h != host && alive.strong_count() > 0 => None,
            _ => {
                let token = Arc::new(ClaimToken(self.opened.clone()));
                let alive = Arc::downgrade(&token);
                let host = host.to_string();
                shared.insert(t.options.clone(), Slot::Claimed { host, alive });
                Some(Claim(Some(Box::new(token))))
            }
        }
    }

    /// The shared client for `target`: the one that exists, or a new one when `host` holds
    /// the claim (or nobody does); otherwise waits for the claimant (bounded by the engine's
    /// connect timeout).
    fn shared_client(
        &self,
        host: &str,
        target: &MqttTarget,
    ) -> Result<Option<BrokerClient>, TaskError> {
        let options = &target.options;
        // A std mutex: held for a lookup or an insert, never across an await.
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        match shared.get(options) {
            Some(Slot::Open(c)) => Ok(Some(c.clone())),
            Some(Slot::Claimed { host: h, alive }) if h != host && alive.strong_count() > 0 => {
                Ok(None)
            }
            _ => {
                let id = options
                    .client_id
                    .clone()
                    .unwrap_or_else(|| format!("drover-{}-{}", std::process::id(), shared.len()));
                let secrets = target.secrets()?;
                let c = BrokerClient::spawn(
                    options,
                    &id,
                    secrets,
                    self.stats.clone(),
                    self.pacer.clone(),
                )?;
                shared.insert(options.clone(), Slot::Open(c.clone()));
                self.opened.notify_waiters();
                Ok(Some(c))
            }
        }
    }

    async fn open(&self, host: &str, target: &MqttTarget) -> Result<MqttSession, TaskError> {
        let options = &target.options;
        let client = match options.mode {
            Mode::PerNode => BrokerClient::spawn(
                options,
                &target.client_id,
                target.secrets()?,
                self.stats.clone(),
                self.pacer.clone(),
            )?,
            Mode::Shared => loop {
                let opened = self.opened.notified();
                tokio::pin!(opened);
                opened.as_mut().enable();
                if let Some(c) = self.shared_client(host, target)? {
                    break c;
                }
                opened.await;
            },
        };
        let held = client.hold();
        client.ready().await?;
        Ok(MqttSession {
            client,
            per_node: options.mode == Mode::PerNode,
            _held: held,
        })
    }
}

impl Transport for MqttTransport {
    fn endpoint(&self, host: &str, conn: &Connection) -> Result<Endpoint, String> {
        let options = BrokerOptions::from_connection(host, conn)?;
        let node = node_id(host, conn);
        let client_id = options.client_id.clone().unwrap_or_else(|| node.clone());
        let mut vars = Vec::new();
        if !conn.vars.contains_key("node_id") {
            // MQTT topics name the node; by default it is the host.
            vars.push(("node_id", serde_json::Value::String(node)));
        }
        Ok(Endpoint {
            platform: None,
            transport: "mqtt",
            address: conn.address.clone(),
            opens_connection: options.mode == Mode::PerNode,
            gateway: Some(options.url()),
            vars,
            target: Target::Mqtt(Arc::new(MqttTarget {
                options,
                client_id,
                node_id: node_id(host, conn),
                default_broker: conn.vars.get("mqtt_url").is_none_or(|v| v.is_null()),
                secrets: OnceLock::new(),
            })),
        })
    }

    fn supports(&self, endpoint: &Endpoint, action: ActionKind) -> Result<(), String> {
        let version = match &endpoint.target {
            Target::Mqtt(t) => Some(t.options.version),
            _ => None,
        };
        match action {
            ActionKind::Mqtt {
                v5_correlation: true,
            } if version == Some(Version::V311) => Err(
                "uses `correlation: v5`, which needs MQTT 5, and this host uses 3.1.1: use `correlation: payload`".into(),
            ),
            ActionKind::Mqtt { .. } => Ok(()),
            other => Err(format!(
                "is a `{}` task, and an MQTT node runs `mqtt` tasks only",
                other.name()
            )),
        }
    }

    fn connect<'a>(
        &'a self,
        host: &'a str,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Box<dyn Session>, TaskError>> {
        Box::pin(async move {
            let Target::Mqtt(target) = &endpoint.target else {
                return Err(TaskError::new(ErrorKind::Protocol, "not an MQTT endpoint"));
            };
            let session = self.open(host, target).await?;
            Ok(Box::new(session) as Box<dyn Session>)
        })
    }

    fn opens_connection(&self, host: &str, endpoint: &Endpoint) -> Option<Claim> {
        self.opens(host, endpoint)
    }

    fn check_play(&self, hosts: &[(&str, &Endpoint)]) -> Result<(), String> {
        unique_nodes(hosts.iter().copied())
    }

    /// Shared mode only: the broker's client lives for the whole watch (created now if no
    /// host has connected yet). A node's own connection (per-node mode) lives for one check,
    /// so it holds no topics between checks.
    fn topics(
        &self,
        host: &str,
        endpoint: &Endpoint,
        messages: TopicSender,
    ) -> Option<Box<dyn TopicLink>> {
        let Target::Mqtt(target) = &endpoint.target else {
            return None;
        };
        if target.options.mode != Mode::Shared {
            return None;
        }
        // An error (unreadable TLS files) is the checks' to report, when they connect.
        let client = self.shared_client(host, target).ok().flatten()?;
        client.tap(messages);
        Some(Box::new(MqttTopics {
            _held: client.hold(),
            client,
        }))
    }

    fn pace(&self, pacer: crate::transport::Pacer) {
        self.pacer.set(pacer);
    }

    fn finish(&self) -> BoxFuture<'_, Vec<Summary>> {
        Box::pin(async {
            let summary = self.summary();
            self.close().await;
            summary.map(Summary::Mqtt).into_iter().collect()
        })
    }
}

/// Plan time, per play: two hosts may not be one node on one broker. With the same node
/// id they share topics (each may take the other's reply); in per-node mode with the same
/// client id the broker lets each connection take the other's session over, so both fail.
fn unique_nodes<'a>(
    hosts: impl IntoIterator<Item = (&'a str, &'a Endpoint)>,
) -> Result<(), String> {
    let mut seen: HashMap<(String, &'static str, String), &str> = HashMap::new();
    for (host, endpoint) in hosts {
        let Target::Mqtt(t) = &endpoint.target else {
            continue;
        };
        let url = t.options.url();
        let mut keys = vec![("node_id", t.node_id.clone())];
        if t.options.mode == Mode::PerNode {
            keys.push(("client id", t.client_id.clone()));
        }
        for (what, id) in keys {
            if let Some(other) = seen.insert((url.clone(), what, id.clone()), host) {
                let fix = if what == "node_id" {
                    "give each its own `node_id`"
                } else {
                    "give each its own `mqtt_client_id`"
                };
                return Err(format!(
                    "hosts {other} and {host} have the same MQTT {what} `{id}` on {url}: \
                     the broker would treat them as one node; {fix}"
                ));
            }
        }
    }
    Ok(())
}

/// A topic name (not a filter): non-empty, no wildcards, no NUL.
fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && !topic.contains(['+', '#', '\0'])
}

/// Status values a node reports for success (in a reply's or a heartbeat's status field).
pub fn is_ok_status(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::Number(n) => n.as_i64() == Some(0),
        serde_json::Value::String(s) => {
            matches!(
                s.to_ascii_lowercase().as_str(),
                "ok" | "success" | "succeeded" | "done"
            )
        }
        _ => false,
    }
}

impl MqttSession {
    /// Publishes, waits for the reply if asked, and turns it into output. A `no_ack` is
    /// retried (nothing was delivered); a `no_reply` only when the task is idempotent.
    async fn publish(&mut self, req: &MqttRequest, timeout: Duration) -> Result<Output, RunError> {
        let fail = |error: TaskError| RunError {
            error,
            partial: Output::default(),
        };
        for topic in std::iter::once(&req.topic).chain(req.reply.as_ref().map(|r| &r.topic)) {
            if !valid_topic(topic) {
                return Err(fail(TaskError::new(
                    ErrorKind::Protocol,
                    format!("`{topic}` is not a topic to publish or wait on: it must not be empty or hold `+`, `#` or NUL"),
                )));
            }
        }
        let request = Request {
            topic: req.topic.clone(),
            payload: Bytes::from(req.payload.clone()),
            qos: req.qos,
            retain: req.retain,
            reply: req.reply.as_ref().map(|r| ReplyWait {
                id: r.correlation_id.clone(),
                topic: r.topic.clone(),
                // A node's own connection subscribes to its own reply topic only: a broker
                // that confines each identity to its topics refuses the wildcard.
                filter: if self.per_node {
                    r.topic.clone()
                } else {
                    r.filter.clone()
                },
                matching: match r.correlation {
                    Correlation::V5 => Match::V5,
                    Correlation::Payload => Match::Payload(r.field.clone()),
                    Correlation::None => Match::FirstOnTopic,
                },
                timeout: r.timeout.unwrap_or(timeout),
            }),
        };
        let idempotent = req.idempotent;
        let mut policy = RetryPolicy::new(PUBLISH_BACKOFF, |e: &TaskError, _| {
            e.kind == ErrorKind::NoAck || (idempotent && e.kind == ErrorKind::NoReply)
        });
        let client = &self.client;
        let retried = retry(
            &mut policy,
            || 0,
            |_, _| {},
            |_| async { Step::tried(client.request(request.clone(), timeout).await) },
        )
        .await;
        let attempts = retried.attempts.len();
        let message = match retried.result {
            Ok(m) => m,
            Err(mut e) => {
                if attempts > 1 {
                    e.message = format!("{} (after {attempts} attempts)", e.message);
                }
                return Err(fail(e));
            }
        };
        let Some(message) = message else {
            return Ok(Output {
                exit_code: Some(0),
                ..Output::default()
            });
        };
        let mut output = Output {
            exit_code: Some(0),
            stdout: String::from_utf8_lossy(&message.payload).into_owned(),
            stderr: String::new(),
            lines: Vec::new(),
        };
        let status_field = req.reply.as_ref().and_then(|r| r.status_field.as_ref());
        if let Some(field) = status_field {
            let json = serde_json::from_slice::<serde_json::Value>(&message.payload).ok();
            let status = json.as_ref().map(|j| field.get(j));
            let error = match status {
                None => Some(TaskError::new(
                    ErrorKind::Protocol,
                    format!(
                        "the reply is not JSON: {}",
                        pending::preview(&message.payload)
                    ),
                )),
                Some(None) => Some(TaskError::new(
                    ErrorKind::Protocol,
                    format!(
                        "the reply has no `{field}`: {}",
                        pending::preview(&message.payload)
                    ),
                )),
                Some(Some(v)) if is_ok_status(v) => None,
                Some(Some(v)) => Some(TaskError::new(
                    ErrorKind::Failed,
                    format!("the node reported {field} = {v}"),
                )),
            };
            if let Some(error) = error {
                output.exit_code = Some(1);
                return Err(RunError {
                    error,
                    partial: output,
                });
            }
        }
        Ok(output)
    }
}

impl Session for MqttSession {
    fn run<'a>(
        &'a mut self,
        action: Action<'a>,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Output, RunError>> {
        Box::pin(async move {
            match action {
                Action::Mqtt(request) => self.publish(request, timeout).await,
                other => Err(RunError::new(TaskError::new(
                    ErrorKind::Protocol,
                    format!(
                        "an MQTT node runs `mqtt` tasks only, not `{}`",
                        other.kind().name()
                    ),
                ))),
            }
        })
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        if self.per_node {
            self.client.disconnect();
        }
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_exclude_wildcards() {
        assert!(valid_topic("node/a/to-node"));
        assert!(!valid_topic(""));
        assert!(!valid_topic("node/+/x"));
        assert!(!valid_topic("node/#"));
    }

    #[test]
    fn ok_statuses() {
        for v in [
            serde_json::json!("OK"),
            serde_json::json!(true),
            serde_json::json!(0),
        ] {
            assert!(is_ok_status(&v), "{v}");
        }
        for v in [
            serde_json::json!("error"),
            serde_json::json!(false),
            serde_json::json!(2),
        ] {
            assert!(!is_ok_status(&v), "{v}");
        }
    }
}
