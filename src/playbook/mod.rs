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
use crate::settings::{DurationValue, Overrides};

pub use task::{Action, Expect, Task};
pub use values::{Condition, OneOrMany, RegexValue, TemplateText};

#[derive(Debug, Clone)]
pub struct Playbook {
    pub path: PathBuf,
    pub plays: Vec<Play>,
}

crate::settings::play_keys! {
    /// One play. Its run-setting keys (`batch_size`, `rate`, ...) are added by
    /// `settings::play_keys!`, from the one declaration of every setting.
    #[derive(Debug, Clone, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Play {
        #[serde(default)]
        pub name: Option<String>,
        pub hosts: String,
        #[serde(default)]
        pub vars: Vars,
        #[serde(default)]
        circuit_breaker: Option<BreakerKeys>,
        pub tasks: Vec<Task>,
    }
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

impl Play {
    /// A play built in code, as `drover exec` does.
    pub fn adhoc(hosts: &str, tasks: Vec<Task>) -> Play {
        Play {
            name: Some("ad-hoc".into()),
            hosts: hosts.to_string(),
            tasks,
            ..Play::default()
        }
    }

    /// The run settings this play sets.
    pub fn overrides(&self) -> Overrides {
        let breaker = self.circuit_breaker.as_ref();
        Overrides {
            breaker_threshold: breaker.and_then(|b| b.threshold),
            breaker_cooldown: breaker.and_then(|b| b.cooldown.map(|d| d.0)),
            ..self.settings_overrides()
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
