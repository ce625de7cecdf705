//! What a task asks of a host, rendered for that host: the contract between the engine,
//! which renders it, and the transports, which carry it out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::playbook::mqtt::{Correlation, JsonPath};
use crate::policy::fresh_seed;

/// One unit of work for a session: a command line, a multi-line script, or an MQTT publish
/// (and its reply).
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    Command(&'a str),
    Shell(&'a str),
    Mqtt(&'a MqttRequest),
    /// Lines for a network device's config mode.
    Config(&'a ConfigRequest),
    /// Into a network device's privileged mode (`enable`), when the session is not there yet.
    Enable,
}

/// One `config` task for one host, rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigRequest {
    pub lines: Vec<String>,
    /// Save the configuration afterwards (when no line failed).
    pub save: bool,
}

impl Action<'_> {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Command(_) => ActionKind::Command,
            Action::Shell(_) => ActionKind::Shell,
            Action::Mqtt(r) => ActionKind::Mqtt {
                v5_correlation: r
                    .reply
                    .as_ref()
                    .is_some_and(|r| r.correlation == Correlation::V5),
            },
            Action::Config(_) => ActionKind::Config,
            Action::Enable => ActionKind::Enable,
        }
    }
}

/// The kind of an action, as a transport's plan-time check sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Command,
    Shell,
    /// An MQTT publish; `v5_correlation` when its reply is matched by MQTT 5 properties.
    Mqtt {
        v5_correlation: bool,
    },
    /// Config-mode lines on a network device's CLI.
    Config,
    /// Privileged mode on a network device's CLI (`enable: true`).
    Enable,
}

impl ActionKind {
    /// The task kind as a playbook spells it.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Command => "command",
            ActionKind::Shell => "shell",
            ActionKind::Mqtt { .. } => "mqtt",
            ActionKind::Config => "config",
            ActionKind::Enable => "enable",
        }
    }
}

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
}
