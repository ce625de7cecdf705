//! Playbooks: a list of plays, each with a host pattern, run settings, vars and tasks.
//! Everything is validated while parsing (unknown keys, wrong types, templates that do not
//! compile, bad regular expressions), so a bad playbook is reported with `file:line:column`
//! and nothing runs.

mod keys;
pub mod mqtt;
mod serial;
mod tags;
mod task;
mod values;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::SourceError;
use crate::error::{Error, Result};
use crate::inventory::Vars;
use crate::settings::{DurationValue, Overrides};

pub use serial::Serial;
pub use tags::TagFilter;
pub use task::{Action, AssertTask, ConfigTask, Expect, LoopControl, LoopItems, Task};
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
        /// Variables whose values are secret whatever their names: masked in all output.
        #[serde(default)]
        pub secret: OneOrMany<String>,
        /// Ansible's `no_log` for every task of the play.
        #[serde(default)]
        pub no_log: bool,
        #[serde(default)]
        circuit_breaker: Option<BreakerKeys>,
        /// Ansible's name for batches, with its list and percentage forms.
        #[serde(default)]
        pub serial: Option<Serial>,
        /// Tags every task of the play inherits.
        #[serde(default)]
        pub tags: OneOrMany<String>,
        /// Every task of the play runs in a network device's privileged mode (a task's own
        /// `enable` wins).
        #[serde(default)]
        pub enable: Option<bool>,
        /// Files of variables, read relative to the playbook; they override `vars`.
        #[serde(default)]
        vars_files: OneOrMany<String>,
        /// `drover watch`'s levels, rules and subscription limits; `run` ignores it.
        #[serde(default)]
        pub watch: Option<crate::watch::WatchKeys>,
        #[serde(default)]
        #[serde(rename = "gather_facts")]
        _gather_facts: Option<GatherFacts>,
        #[serde(deserialize_with = "keys::checked_vec")]
        pub tasks: Vec<Task>,
    }
}

/// `gather_facts: false` is accepted (drover gathers none); `true` is an error.
#[derive(Debug, Clone, Copy)]
struct GatherFacts;

impl<'de> Deserialize<'de> for GatherFacts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        if bool::deserialize(d)? {
            Err(serde::de::Error::custom(crate::diagnostic::with_needle(
                "`gather_facts: true` is not supported in drover: it gathers no facts (remove the key, or set it to false)",
                "gather_facts",
            )))
        } else {
            Ok(GatherFacts)
        }
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
            batch_size: self
                .batch_size
                .or_else(|| self.serial.as_ref().and_then(Serial::first_count)),
            ..self.settings_overrides()
        }
    }

    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.hosts.clone())
    }
}

impl Playbook {
    pub fn load(path: &Path) -> Result<Playbook> {
        let source = crate::yaml_limits::read(path, "read playbook")?;
        Playbook::parse(path, &source)
    }

    /// Reads a playbook; every unknown key of every play and task is reported at once (see
    /// `keys`), then TextFSM templates and `vars_files` are read relative to the playbook.
    pub fn parse(path: &Path, source: &str) -> Result<Playbook> {
        crate::yaml_limits::check(path, source)?;
        let mut errors: Vec<SourceError> = Vec::new();
        let mut plays = None;
        for tolerate in 0..=MAX_UNKNOWN_KEYS {
            let (result, unknown) = keys::scan(tolerate, || {
                serde_yaml::from_str::<Option<Vec<keys::Checked<Play>>>>(source)
            });
            match (result, unknown) {
                (Ok(p), _) => {
                    plays = Some(p.unwrap_or_default());
                    break;
                }
                (Err(e), Some(unknown)) => {
                    let mut error = SourceError::from_yaml(path, source, &e);
                    error.message = unknown.message;
                    error.hint = unknown.hint;
                    errors.push(error);
                }
                (Err(e), None) => {
                    errors.push(SourceError::from_yaml(path, source, &e));
                    break;
                }
            }
        }
        if !errors.is_empty() {
            return Err(Error::sources(errors));
        }
        let mut plays: Vec<Play> = plays.unwrap_or_default().into_iter().map(|c| c.0).collect();
        if plays.is_empty() {
            return Err(SourceError::whole_file(path, "the playbook has no plays".into()).into());
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for play in &mut plays {
            if play.batch_size.is_some() && play.serial.is_some() {
                let offset = source.find("serial").unwrap_or(0);
                let message =
                    "`serial` is Ansible's name for `batch_size`: give one of them".into();
                return Err(SourceError::at_offset(path, source, offset, message).into());
            }
            for task in &mut play.tasks {
                if let Some(spec) = &task.parse {
                    let parser = spec.load(base, path, source).map_err(Error::Source)?;
                    task.parse = Some(crate::parse::ParseSpec::Ready(parser));
                }
            }
            for file in &play.vars_files.0 {
                let vars = load_vars_file(base, file, path, source)?;
                play.vars.extend(vars);
            }
        }
        Ok(Playbook {
            path: path.to_path_buf(),
            plays,
        })
    }
}

/// More unknown keys than this in one playbook: the rest are not listed.
const MAX_UNKNOWN_KEYS: usize = 50;

fn load_vars_file(base: &Path, file: &str, playbook: &Path, source: &str) -> Result<Vars> {
    let at_file = |message: String| -> Error {
        let offset = source.find(file).unwrap_or(0);
        SourceError::at_offset(playbook, source, offset, message).into()
    };
    if crate::template::is_template(file) {
        return Err(at_file(format!(
            "`vars_files: {file}`: a file name is not a template in drover"
        )));
    }
    let full = base.join(file);
    let text = std::fs::read_to_string(&full)
        .map_err(|e| at_file(format!("cannot read vars file {}: {e}", full.display())))?;
    crate::yaml_limits::check(&full, &text)?;
    let vars: Option<Vars> =
        serde_yaml::from_str(&text).map_err(|e| SourceError::from_yaml(&full, &text, &e))?;
    Ok(vars.unwrap_or_default())
}
