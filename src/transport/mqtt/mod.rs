//! The `mqtt` transport: commands IoT nodes through a broker. In shared mode (the default)
//! every host on one broker with one identity goes through one client for the whole run,
//! addressed by topic; in per-node mode a host has its own client id and certificate and
//! its own connection, opened and closed like an SSH session.
//!
//! - `options`: a host's broker settings, from its variables, checked at plan time.
//! - `proto`: the only code that knows the MQTT crate.
//! - `client`: one connection, owned by one task; reconnects with backoff.
//! - `pending`: matching replies to requests.

mod client;
mod options;
mod pending;
mod proto;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{Output, RunError};
use crate::engine::retry::{self, fresh_seed, jitter_source, Backoff};
use crate::inventory::Connection;
use crate::outcome::{ErrorKind, TaskError};
use crate::playbook::mqtt::{Correlation, JsonPath};

pub use client::Stats;
use client::{BrokerClient, ReplyWait, Request};
pub use options::{node_id, BrokerOptions, Mode, Version};
use pending::Match;

/// One `mqtt` task for one host, rendered.
#[derive(Debug, Clone)]
pub struct MqttRequest {
    pub topic: String,
    pub payload: String,
    pub qos: u8,
    pub retain: bool,
    pub reply: Option<MqttReply>,
    /// Retry a `no_reply` too, not only a `no_ack`.
    pub idempotent: bool,
}

#[derive(Debug, Clone)]
pub struct MqttReply {
    pub topic: String,
    /// The subscription that covers the reply topic of every host (`+` for templated levels).
    pub filter: String,
    pub correlation: Correlation,
    pub correlation_id: String,
    pub field: JsonPath,
    pub status_field: Option<JsonPath>,
    pub timeout: Option<Duration>,
}

/// A fresh correlation id, unique within the run and very likely across runs.
pub fn correlation_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static RUN: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(fresh_seed) & 0xffff_ffff;
    format!("{run:08x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The subscription filter for a reply-topic template: each level holding a template
/// becomes `+`, so one subscription covers every node.
pub fn reply_filter(template: &str) -> String {
    template
        .split('/')
        .map(|level| {
            if level.contains("{{") || level.contains("{%") {
                "+"
            } else {
                level
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

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
    shared: Arc<Mutex<HashMap<BrokerOptions, BrokerClient>>>,
    stats: Arc<Stats>,
}

/// An open MQTT session for one host.
#[derive(Debug)]
pub struct MqttSession {
    client: BrokerClient,
    version: Version,
    per_node: bool,
}

impl MqttTransport {
    /// Plan-time check of a host's options.
    pub fn check(&self, host: &str, conn: &Connection) -> Result<(), String> {
        BrokerOptions::from_connection(host, conn).map(|_| ())
    }

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

    /// Ends the shared connections; for the end of the run.
    pub async fn close(&self) {
        let clients: Vec<BrokerClient> = {
            let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            shared.drain().map(|(_, c)| c).collect()
        };
        for client in clients {
            client.close().await;
        }
    }

    /// Whether connecting this host opens a connection of its own (per-node mode) rather than
    /// joining the broker's shared client.
    pub fn opens_connection(&self, host: &str, conn: &Connection) -> bool {
        BrokerOptions::from_connection(host, conn).map_or(true, |o| o.mode == Mode::PerNode)
    }

    pub async fn connect(&self, host: &str, conn: &Connection) -> Result<MqttSession, TaskError> {
        let options = BrokerOptions::from_connection(host, conn)
            .map_err(|m| TaskError::new(ErrorKind::Protocol, m))?;
        let client = match options.mode {
            Mode::PerNode => {
                let id = options
                    .client_id
                    .clone()
                    .unwrap_or_else(|| node_id(host, conn));
                BrokerClient::spawn(&options, &id, self.stats.clone())?
            }
            Mode::Shared => {
                // A std mutex: held for a lookup or an insert, never across an await.
                let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
                match shared.get(&options) {
                    Some(c) => c.clone(),
                    None => {
                        let id = options.client_id.clone().unwrap_or_else(|| {
                            format!("drover-{}-{}", std::process::id(), shared.len())
                        });
                        let c = BrokerClient::spawn(&options, &id, self.stats.clone())?;
                        shared.insert(options.clone(), c.clone());
                        c
                    }
                }
            }
        };
        client.ready().await?;
        Ok(MqttSession {
            client,
            version: options.version,
            per_node: options.mode == Mode::PerNode,
        })
    }
}

/// A topic name (not a filter): non-empty, no wildcards, no NUL.
fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && !topic.contains(['+', '#', '\0'])
}

/// Status values a node reports for success.
fn is_ok_status(v: &serde_json::Value) -> bool {
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
    pub async fn run(&mut self, req: &MqttRequest, timeout: Duration) -> Result<Output, RunError> {
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
        if let Some(reply) = &req.reply {
            if reply.correlation == Correlation::V5 && self.version == Version::V311 {
                return Err(fail(TaskError::new(
                    ErrorKind::Protocol,
                    "`correlation: v5` needs MQTT 5, and this host uses 3.1.1: use `correlation: payload`",
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
        let backoff = Backoff {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(2),
            retries: 2,
        };
        let idempotent = req.idempotent;
        let transient = |e: &TaskError| {
            e.kind == ErrorKind::NoAck || (idempotent && e.kind == ErrorKind::NoReply)
        };
        let mut jitter = jitter_source(fresh_seed());
        let client = &self.client;
        let retried = retry::retry(&backoff, transient, &mut jitter, |_| {
            client.request(request.clone(), timeout)
        })
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

    pub async fn close(self) {
        if self.per_node {
            self.client.disconnect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_filter_turns_templated_levels_into_wildcards() {
        assert_eq!(
            reply_filter("node/{{ node_id }}/from-node"),
            "node/+/from-node"
        );
        assert_eq!(reply_filter("site/x-{{ id }}/{{ a }}/r"), "site/+/+/r");
        assert_eq!(reply_filter("fixed/topic"), "fixed/topic");
    }

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
