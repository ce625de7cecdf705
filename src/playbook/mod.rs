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
use crate::settings::{DurationValue, Overrides, Strategy};

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
    pub tasks: Vec<Task>,
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
