//! One task: what to run (`command`, `shell` or `mqtt`), when (`when`), what to keep (`register`)
//! and what its result must look like (`expect`).

use serde::{Deserialize, Serialize};

use super::mqtt::MqttTask;
use super::values::{Condition, OneOrMany, RegexValue, TemplateText};
use crate::settings::DurationValue;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// One command line: over SSH an exec channel, locally `sh -c`.
    Command(TemplateText),
    /// A multi-line script sent as one unit.
    Shell(TemplateText),
    /// Publish to a broker, and optionally wait for the node's reply.
    Mqtt(Box<MqttTask>),
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Command(_) => "command",
            Action::Shell(_) => "shell",
            Action::Mqtt(_) => "mqtt",
        }
    }

    /// The command line or script; for `mqtt`, the topic.
    pub fn text(&self) -> &str {
        match self {
            Action::Command(t) | Action::Shell(t) => &t.0,
            Action::Mqtt(m) => &m.topic.0,
        }
    }
}

/// Checks that turn a run into an audit. Without `exit_code`, anything but 0 fails the task.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub exit_code: OneOrMany<i32>,
    #[serde(default)]
    pub stdout_contains: OneOrMany<TemplateText>,
    #[serde(default)]
    pub stdout_not_contains: OneOrMany<TemplateText>,
    #[serde(default)]
    pub stdout_matches: OneOrMany<RegexValue>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawTask")]
pub struct Task {
    pub name: String,
    pub action: Action,
    pub when: Option<Condition>,
    pub register: Option<String>,
    pub expect: Expect,
    pub ignore_errors: bool,
    /// Overrides the play's `command_timeout` for this task.
    pub timeout: Option<std::time::Duration>,
    /// Runs after the first when the task fails (or `until` is false).
    pub retries: u32,
    /// Base of the jittered backoff between runs of this task.
    pub delay: std::time::Duration,
    /// Runs again until this holds (with `retries`, default 3).
    pub until: Option<Condition>,
    /// Safe to run twice: an `mqtt` request left unanswered (`no_reply`) is retried.
    pub idempotent: bool,
}

impl Task {
    /// A task built in code, as `drover exec` does.
    pub fn command(line: &str) -> Task {
        Task {
            name: line.to_string(),
            action: Action::Command(TemplateText(line.to_string())),
            when: None,
            register: None,
            expect: Expect::default(),
            ignore_errors: false,
            timeout: None,
            retries: 0,
            delay: std::time::Duration::from_secs(5),
            until: None,
            idempotent: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    name: Option<String>,
    command: Option<TemplateText>,
    shell: Option<TemplateText>,
    mqtt: Option<MqttTask>,
    when: Option<Condition>,
    register: Option<String>,
    #[serde(default)]
    expect: Expect,
    #[serde(default)]
    ignore_errors: bool,
    timeout: Option<DurationValue>,
    retries: Option<u32>,
    delay: Option<DurationValue>,
    until: Option<Condition>,
    #[serde(default)]
    idempotent: bool,
}

impl TryFrom<RawTask> for Task {
    type Error = String;

    fn try_from(raw: RawTask) -> Result<Task, String> {
        let action = match (raw.command, raw.shell, raw.mqtt) {
            (Some(c), None, None) => Action::Command(c),
            (None, Some(s), None) => Action::Shell(s),
            (None, None, Some(m)) => {
                m.validate()?;
                Action::Mqtt(Box::new(m))
            }
            (None, None, None) => {
                return Err("a task needs an action: `command`, `shell` or `mqtt`".into());
            }
            _ => {
                return Err(
                    "a task has one action: `command`, `shell` or `mqtt`, not several".into(),
                )
            }
        };
        if raw.until.is_some() && raw.register.is_none() {
            return Err("`until` reads the task's registered result: add `register:`".into());
        }
        if let Some(name) = &raw.register {
            let ident = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ident {
                return Err(format!(
                    "`register: {name}` must be a variable name (letters, digits, `_`)"
                ));
            }
        }
        let name = raw.name.unwrap_or_else(|| {
            let text = match &action {
                Action::Mqtt(m) => format!("mqtt {}", m.topic.0),
                other => other.text().to_string(),
            };
            let text = text.lines().next().unwrap_or("").trim();
            text.chars().take(60).collect()
        });
        Ok(Task {
            name,
            action,
            when: raw.when,
            register: raw.register,
            expect: raw.expect,
            ignore_errors: raw.ignore_errors,
            timeout: raw.timeout.map(|d| d.0),
            // As in Ansible: `until` alone retries 3 times, 5 s apart (jittered here).
            retries: raw
                .retries
                .unwrap_or(if raw.until.is_some() { 3 } else { 0 }),
            delay: raw.delay.map_or(std::time::Duration::from_secs(5), |d| d.0),
            until: raw.until,
            idempotent: raw.idempotent,
        })
    }
}
