//! Playbooks: a list of plays, each with a host pattern, run settings, vars and tasks.
//! Everything is validated while parsing (unknown keys, wrong types, templates that do not
//! compile, bad regular expressions), so a bad playbook is reported with `file:line:column`
//! and nothing runs.

pub mod mqtt;
mod task;
mod values;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::SourceError;
use crate::error::{Error, Result};
use crate::inventory::Vars;
use crate::settings::{DurationValue, Overrides, Rate, Strategy};

pub use task::{Action, Expect, Task};
pub use values::{Condition, OneOrMany, RegexValue, TemplateText};

#[derive(Debug, Clone)]
pub struct Playbook {
    pub path: PathBuf,
    pub plays: Vec<Play>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Play {
    #[serde(default)]
    pub name: Option<String>,
    pub hosts: String,
    #[serde(default)]
    pub vars: Vars,
    #[serde(default)]
    batch_size: Option<usize>,
    #[serde(default)]
    strategy: Option<Strategy>,
    #[serde(default)]
    concurrency: Option<usize>,
    #[serde(default)]
    connect_timeout: Option<DurationValue>,
    #[serde(default)]
    command_timeout: Option<DurationValue>,
    #[serde(default)]
    host_timeout: Option<DurationValue>,
    #[serde(default)]
    batch_pause: Option<DurationValue>,
    #[serde(default)]
    rate: Option<Rate>,
    #[serde(default)]
    burst: Option<u32>,
    #[serde(default)]
    gateway_rate: Option<Rate>,
    #[serde(default)]
    retries: Option<u32>,
    #[serde(default)]
    backoff: Option<DurationValue>,
    #[serde(default)]
    backoff_cap: Option<DurationValue>,
    #[serde(default)]
    circuit_breaker: Option<BreakerKeys>,
    #[serde(default)]
    max_fail_percentage: Option<Percentage>,
    #[serde(default)]
    min_hosts_done: Option<usize>,
    #[serde(default)]
    any_errors_fatal: Option<bool>,
    pub tasks: Vec<Task>,
}

/// `circuit_breaker: { threshold: 3, cooldown: 180s }`; `threshold: 0` turns breakers off.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakerKeys {
    #[serde(default)]
    threshold: Option<u32>,
    #[serde(default)]
    cooldown: Option<DurationValue>,
}

/// A percentage from 0 to 100.
#[derive(Debug, Clone, Copy)]
struct Percentage(f64);

impl<'de> Deserialize<'de> for Percentage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        if (0.0..=100.0).contains(&value) {
            Ok(Percentage(value))
        } else {
            Err(serde::de::Error::custom(crate::diagnostic::with_needle(
                format!("a percentage must be from 0 to 100, not {value}"),
                &value.to_string(),
            )))
        }
    }
}

impl Play {
    /// A play built in code, as `drover exec` does.
    pub fn adhoc(hosts: &str, tasks: Vec<Task>) -> Play {
        Play {
            name: Some("ad-hoc".into()),
            hosts: hosts.to_string(),
            vars: Vars::new(),
            batch_size: None,
            strategy: None,
            concurrency: None,
            connect_timeout: None,
            command_timeout: None,
            host_timeout: None,
            batch_pause: None,
            rate: None,
            burst: None,
            gateway_rate: None,
            retries: None,
            backoff: None,
            backoff_cap: None,
            circuit_breaker: None,
            max_fail_percentage: None,
            min_hosts_done: None,
            any_errors_fatal: None,
            tasks,
        }
    }

    /// The run settings this play sets.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            batch_size: self.batch_size,
            strategy: self.strategy,
            concurrency: self.concurrency,
            connect_timeout: self.connect_timeout.map(|d| d.0),
            command_timeout: self.command_timeout.map(|d| d.0),
            host_timeout: self.host_timeout.map(|d| d.0),
            batch_pause: self.batch_pause.map(|d| d.0),
            rate: self.rate,
            burst: self.burst,
            gateway_rate: self.gateway_rate,
            retries: self.retries,
            backoff: self.backoff.map(|d| d.0),
            backoff_cap: self.backoff_cap.map(|d| d.0),
            breaker_threshold: self.circuit_breaker.as_ref().and_then(|b| b.threshold),
            breaker_cooldown: self
                .circuit_breaker
                .as_ref()
                .and_then(|b| b.cooldown.map(|d| d.0)),
            max_fail_percentage: self.max_fail_percentage.map(|p| p.0),
            min_hosts_done: self.min_hosts_done,
            any_errors_fatal: self.any_errors_fatal,
        }
    }

    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.hosts.clone())
    }
}

impl Playbook {
    pub fn load(path: &Path) -> Result<Playbook> {
        let source =
            std::fs::read_to_string(path).map_err(|e| Error::io(path, "read playbook", e))?;
        Playbook::parse(path, &source)
    }

    pub fn parse(path: &Path, source: &str) -> Result<Playbook> {
        let plays: Option<Vec<Play>> =
            serde_yaml::from_str(source).map_err(|e| SourceError::from_yaml(path, source, &e))?;
        let plays = plays.unwrap_or_default();
        if plays.is_empty() {
            return Err(SourceError::whole_file(path, "the playbook has no plays".into()).into());
        }
        Ok(Playbook {
            path: path.to_path_buf(),
            plays,
        })
    }
}
