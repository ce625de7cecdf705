//! One task: what to run (`command`, `shell`, `mqtt`, or an `assert` on the controller),
//! when (`when`, `tags`, `run_once`), how often (`loop`), what to read from the output
//! (`parse`), what to keep (`register`) and what its result must look like (`expect`,
//! `failed_when`, `changed_when`).

use serde::{Deserialize, Serialize};

use super::mqtt::MqttTask;
use super::values::{Condition, OneOrMany, RegexValue, TemplateText};
use crate::parse::ParseSpec;
use crate::settings::DurationValue;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// One command line: over SSH an exec channel, locally `sh -c`.
    Command(TemplateText),
    /// A multi-line script sent as one unit.
    Shell(TemplateText),
    /// Publish to a broker, and optionally wait for the node's reply.
    Mqtt(Box<MqttTask>),
    /// Conditions checked on the controller; the device is not touched.
    Assert(Box<AssertTask>),
    /// Lines sent in a network device's config mode.
    Config(Box<ConfigTask>),
}

/// `config:` — lines for a network device's config mode, as a list, or as
/// `{ lines: [...], save: true }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigTask {
    pub lines: Vec<TemplateText>,
    /// Save the configuration afterwards (`write memory`, as the platform says), when no
    /// line failed.
    pub save: bool,
}

impl<'de> Deserialize<'de> for ConfigTask {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            lines: OneOrMany<TemplateText>,
            #[serde(default)]
            save: bool,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            List(Vec<TemplateText>),
            Full(Full),
        }
        let task = match Form::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "`config` takes a list of lines, or `{ lines: [...], save: true }`",
            )
        })? {
            Form::List(lines) => ConfigTask { lines, save: false },
            Form::Full(f) => ConfigTask {
                lines: f.lines.0,
                save: f.save,
            },
        };
        if task.lines.is_empty() {
            return Err(serde::de::Error::custom("`config` needs at least one line"));
        }
        if let Some(line) = task.lines.iter().find(|l| l.0.contains('\n')) {
            return Err(serde::de::Error::custom(crate::diagnostic::with_needle(
                "each `config` line is one line: give several lines as a list",
                &line.0,
            )));
        }
        Ok(task)
    }
}

/// `assert:` — every condition of `that` must hold.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertTask {
    pub that: OneOrMany<Condition>,
    pub fail_msg: Option<TemplateText>,
    pub success_msg: Option<TemplateText>,
    #[serde(default)]
    pub quiet: bool,
}

/// `loop:` — a list written out, or an expression (`"{{ interfaces }}"`) that gives one.
#[derive(Debug, Clone, PartialEq)]
pub enum LoopItems {
    List(Vec<serde_json::Value>),
    Expression(String),
}

impl<'de> Deserialize<'de> for LoopItems {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Array(items) => Ok(LoopItems::List(items)),
            serde_json::Value::String(text) => {
                let inner = text.trim();
                let expr = inner
                    .strip_prefix("{{")
                    .and_then(|t| t.strip_suffix("}}"))
                    .map(str::trim)
                    .filter(|e| !e.is_empty() && !e.contains("{{"));
                let Some(expr) = expr else {
                    return Err(D::Error::custom(crate::diagnostic::with_needle(
                        "`loop` takes a list, or one expression such as \"{{ interfaces }}\"",
                        &text,
                    )));
                };
                crate::template::check_expression(expr).map_err(|e| {
                    D::Error::custom(crate::diagnostic::with_needle(
                        format!("the loop expression does not compile: {e}"),
                        expr,
                    ))
                })?;
                Ok(LoopItems::Expression(expr.to_string()))
            }
            _ => Err(D::Error::custom(
                "`loop` takes a list, or one expression such as \"{{ interfaces }}\"",
            )),
        }
    }
}

/// `loop_control:` — how the items are named.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopControl {
    /// What the report and the screen call each item (a template; the item itself by default).
    pub label: Option<TemplateText>,
    /// The variable that holds the item (`item` by default).
    pub loop_var: Option<String>,
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Command(_) => "command",
            Action::Shell(_) => "shell",
            Action::Mqtt(_) => "mqtt",
            Action::Assert(_) => "assert",
            Action::Config(_) => "config",
        }
    }

    /// The command line or script; for `mqtt`, the topic.
    pub fn text(&self) -> &str {
        match self {
            Action::Command(t) | Action::Shell(t) => &t.0,
            Action::Mqtt(m) => &m.topic.0,
            Action::Assert(_) => "assert",
            Action::Config(c) => c.lines.first().map_or("", |l| &l.0),
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

#[derive(Debug, Clone, PartialEq)]
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
    /// Turns the output into data (`parsed` in the registered result and the report).
    pub parse: Option<ParseSpec>,
    /// Replaces the exit-code rule: the task fails when this holds.
    pub failed_when: Option<Condition>,
    /// Whether the task changed something, as the report records it.
    pub changed_when: Option<Condition>,
    pub loop_items: Option<LoopItems>,
    pub loop_control: LoopControl,
    pub tags: Vec<String>,
    /// Runs on the play's first host only.
    pub run_once: bool,
    /// Runs in a network device's privileged mode (`None`: as the play says).
    pub enable: Option<bool>,
    /// Ansible's `no_log`: the command, output and error are hidden in every output.
    pub no_log: bool,
    /// Variables whose values are secret whatever their names (for the whole play's hosts).
    pub secret: Vec<String>,
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
            parse: None,
            failed_when: None,
            changed_when: None,
            loop_items: None,
            loop_control: LoopControl::default(),
            tags: Vec::new(),
            run_once: false,
            enable: None,
            no_log: false,
            secret: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for Task {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let before = super::keys::stepped_over();
        let raw = RawTask::deserialize(d)?;
        // A task whose action is an Ansible module (`ios_command:`) has no drover action;
        // its unknown key already says so, and the scan goes on to the next task.
        let stepped_over = super::keys::stepped_over() > before;
        let actionless = raw.command.is_none()
            && raw.shell.is_none()
            && raw.mqtt.is_none()
            && raw.assert.is_none()
            && raw.config.is_none();
        if stepped_over && actionless {
            return Ok(Task::command(""));
        }
        Task::try_from(raw).map_err(serde::de::Error::custom)
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
    assert: Option<AssertTask>,
    parse: Option<ParseSpec>,
    #[serde(default)]
    failed_when: OneOrMany<Condition>,
    #[serde(default)]
    changed_when: OneOrMany<Condition>,
    #[serde(rename = "loop")]
    loop_items: Option<LoopItems>,
    #[serde(default)]
    loop_control: LoopControl,
    #[serde(default)]
    tags: OneOrMany<String>,
    #[serde(default)]
    run_once: bool,
    config: Option<ConfigTask>,
    enable: Option<bool>,
    #[serde(default)]
    no_log: bool,
    #[serde(default)]
    secret: OneOrMany<String>,
}

impl TryFrom<RawTask> for Task {
    type Error = String;

    fn try_from(raw: RawTask) -> Result<Task, String> {
        const ACTIONS: &str = "`command`, `shell`, `config`, `mqtt` or `assert`";
        let mut actions = Vec::new();
        if let Some(c) = raw.command {
            actions.push(Action::Command(c));
        }
        if let Some(s) = raw.shell {
            actions.push(Action::Shell(s));
        }
        if let Some(c) = raw.config {
            actions.push(Action::Config(Box::new(c)));
        }
        if let Some(m) = raw.mqtt {
            m.validate()?;
            actions.push(Action::Mqtt(Box::new(m)));
        }
        if let Some(a) = raw.assert {
            if a.that.0.is_empty() {
                return Err("`assert` needs at least one condition in `that`".into());
            }
            actions.push(Action::Assert(Box::new(a)));
        }
        if actions.len() > 1 {
            return Err(format!("a task has one action: {ACTIONS}, not several"));
        }
        let Some(action) = actions.pop() else {
            return Err(format!("a task needs an action: {ACTIONS}"));
        };
        if matches!(action, Action::Assert(_))
            && (raw.parse.is_some() || !raw.failed_when.0.is_empty() || raw.until.is_some())
        {
            return Err(
                "an `assert` task reads no output: `parse`, `failed_when` and `until` go on the task that ran the command"
                    .into(),
            );
        }
        if raw.until.is_some() && raw.register.is_none() {
            return Err("`until` reads the task's registered result: add `register:`".into());
        }
        if let Some(name) = &raw.register {
            if !is_identifier(name) {
                return Err(format!(
                    "`register: {name}` must be a variable name (letters, digits, `_`)"
                ));
            }
        }
        if raw.loop_items.is_none() && raw.loop_control != LoopControl::default() {
            return Err("`loop_control` goes with `loop`".into());
        }
        if let Some(var) = &raw.loop_control.loop_var {
            if !is_identifier(var) {
                return Err(format!(
                    "`loop_var: {var}` must be a variable name (letters, digits, `_`)"
                ));
            }
        }
        let name = raw.name.unwrap_or_else(|| {
            let text = match &action {
                Action::Mqtt(m) => format!("mqtt {}", m.topic.0),
                Action::Assert(a) => format!("assert {}", a.that.0[0].0),
                Action::Config(c) => format!("config {}", c.lines[0].0),
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
            parse: raw.parse,
            failed_when: Condition::all(&raw.failed_when.0),
            changed_when: Condition::all(&raw.changed_when.0),
            loop_items: raw.loop_items,
            loop_control: raw.loop_control,
            tags: raw.tags.0,
            run_once: raw.run_once,
            enable: raw.enable,
            no_log: raw.no_log,
            secret: raw.secret.0,
        })
    }
}

fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
