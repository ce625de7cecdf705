//! Network-device platforms: what a router's or a switch's CLI looks like, as data. A
//! [`Platform`] says how each mode's prompt looks, what to send when a session opens (paging
//! off, a wide terminal), how to enter privileged and config mode, how the pager asks for
//! more, and which output lines mean that a command failed. [`driver::CliSession`] drives a
//! shell by these facts; nothing in it knows a vendor by name.
//!
//! drover ships profiles in `platforms.yml` (embedded in the binary). A user adds profiles or
//! overrides fields of shipped ones with a `platforms:` mapping, in an inventory or in a file
//! given to `--platforms`; an override keeps every field it does not name, and `extends:`
//! builds a new profile on an existing one.

pub mod driver;
mod terminal;

use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Deserialize;

use crate::diagnostic::{with_needle, SourceError};
use crate::error::{Error, Result};

pub use driver::{CliError, CliSession, ConfigFailure, ConfigReply, LineReply, SessionLimits};

const SHIPPED: &str = include_str!("platforms.yml");

/// The mode a CLI session is in, told by which prompt the device shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `r1>`: the mode a login lands in on most devices.
    User,
    /// `r1#`: after `enable`.
    Privileged,
    /// `r1(config)#` and its sub-modes.
    Config,
}

/// How drover talks to a host of this platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriverKind {
    /// One exec channel per command, as for a Linux host.
    Exec,
    /// One interactive shell per host, driven by prompts.
    Cli,
}

/// A regular expression from a profile, compiled once when the profile is read.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    regex: regex_lite::Regex,
}

impl Pattern {
    pub fn new(source: &str) -> std::result::Result<Pattern, String> {
        regex_lite::Regex::new(source)
            .map(|regex| Pattern {
                source: source.to_string(),
                regex,
            })
            .map_err(|e| format!("not a valid regular expression: {e}"))
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Pattern, D::Error> {
        let text = String::deserialize(d)?;
        Pattern::new(&text).map_err(|e| serde::de::Error::custom(with_needle(e, &text)))
    }
}

/// The prompt of each mode; a platform without a mode (Junos has no privileged mode, IOS XR
/// no user mode) leaves it out.
#[derive(Debug, Clone, Default)]
pub struct Prompts {
    pub user: Option<Pattern>,
    pub privileged: Option<Pattern>,
    pub config: Option<Pattern>,
}

impl Prompts {
    /// The mode whose prompt `line` is. Config first: it is the most specific shape.
    pub fn mode_of(&self, line: &str) -> Option<Mode> {
        [
            (Mode::Config, &self.config),
            (Mode::Privileged, &self.privileged),
            (Mode::User, &self.user),
        ]
        .into_iter()
        .find_map(|(mode, p)| p.as_ref().filter(|p| p.is_match(line)).map(|_| mode))
    }

    fn is_empty(&self) -> bool {
        self.user.is_none() && self.privileged.is_none() && self.config.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct Enable {
    pub command: String,
    /// How the device asks for the enable secret.
    pub password_prompt: Pattern,
}

/// Config mode. Every step is optional: RouterOS has no config mode (lines are sent as they
/// are), Junos and IOS XR commit instead of saving.
#[derive(Debug, Clone, Default)]
pub struct ConfigMode {
    pub enter: Option<String>,
    /// Sent after the last line when none failed.
    pub commit: Option<String>,
    /// Sent instead of `commit` when a line failed, to drop the candidate configuration.
    pub abort: Option<String>,
    pub exit: Option<String>,
    /// Sent after leaving config mode when the task says `save: true`.
    pub save: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Pager {
    pub patterns: Vec<Pattern>,
    /// What answers the pager (a space: the next page).
    pub answer: String,
}

/// A question the device may ask while config mode is left or saved, and its answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub prompt: Pattern,
    pub answer: String,
}

/// One platform's profile, resolved (its `extends` applied) and checked.
#[derive(Debug, Clone)]
pub struct Platform {
    pub name: String,
    pub driver: DriverKind,
    /// A host var holding the prompt regex (the `generic` platform).
    pub prompt_var: Option<String>,
    pub prompts: Prompts,
    pub on_open: Vec<String>,
    pub enable: Option<Enable>,
    pub config: Option<ConfigMode>,
    pub pager: Option<Pager>,
    pub failures: Vec<Pattern>,
    pub answers: Vec<Answer>,
    /// What ends a line sent to the device.
    pub newline: String,
    /// Whether the device echoes what it is sent (a PTY does); a prompt counts as the end of
    /// a command's output only after its echo.
    pub echo: bool,
}

impl Platform {
    /// This platform with every mode's prompt replaced by a host's own regex (the value of
    /// its `prompt_var`). The message says what is wrong with the regex.
    pub fn with_prompt(&self, pattern: &str) -> std::result::Result<Platform, String> {
        let pattern = Pattern::new(pattern)?;
        let mut platform = self.clone();
        platform.prompts = Prompts {
            user: Some(pattern),
            privileged: None,
            config: None,
        };
        Ok(platform)
    }

    /// Whether `line` of a command's output says that the command failed.
    pub fn is_failure(&self, line: &str) -> bool {
        self.failures.iter().any(|p| p.is_match(line))
    }
}

/// Every platform known to a run: the shipped ones and the user's.
#[derive(Debug, Clone)]
pub struct Platforms {
    specs: IndexMap<String, Spec>,
    resolved: IndexMap<String, Arc<Platform>>,
}

impl Platforms {
    /// The platforms drover ships.
    pub fn shipped() -> Platforms {
        let mut platforms = Platforms {
            specs: IndexMap::new(),
            resolved: IndexMap::new(),
        };
        // The shipped file is part of the binary and a unit test reads it: it cannot fail.
        platforms
            .add_source(Path::new("platforms.yml"), SHIPPED, true)
            .unwrap_or_else(|e| unreachable!("the shipped platforms.yml is broken: {e}"));
        platforms
    }

    /// The shipped platforms with the profiles of a `--platforms` file added: a YAML file whose
    /// only top-level key is `platforms`.
    pub fn load(path: &Path) -> Result<Platforms> {
        let mut platforms = Platforms::shipped();
        platforms.add_file(path)?;
        Ok(platforms)
    }

    /// Adds a `--platforms` file's profiles on top of these (after an inventory's, so the
    /// flag wins).
    pub fn add_file(&mut self, path: &Path) -> Result<()> {
        let source =
            std::fs::read_to_string(path).map_err(|e| Error::io(path, "read platforms", e))?;
        self.add_source(path, &source, true)
    }

    /// The shipped platforms, with a `--platforms` file's when one is given.
    pub fn with_file(path: Option<&Path>) -> Result<Platforms> {
        match path {
            Some(path) => Platforms::load(path),
            None => Ok(Platforms::shipped()),
        }
    }

    /// The platforms of a run: the shipped ones, then each inventory's `platforms:` in the
    /// order the inventories were given, then the `--platforms` file's, which wins.
    pub fn for_run<'a>(
        inventories: impl IntoIterator<Item = (&'a Path, &'a str)>,
        file: Option<&Path>,
    ) -> Result<Platforms> {
        let mut platforms = Platforms::shipped();
        for (path, source) in inventories {
            platforms.add_inventory(path, source)?;
        }
        if let Some(file) = file {
            platforms.add_file(file)?;
        }
        Ok(platforms)
    }

    /// Adds the `platforms:` key of an inventory file, whose other keys are the inventory's.
    pub fn add_inventory(&mut self, path: &Path, source: &str) -> Result<()> {
        self.add_source(path, source, false)
    }

    /// Adds a file's profiles. `strict`: no other top-level key is allowed.
    fn add_source(&mut self, path: &Path, source: &str, strict: bool) -> Result<()> {
        crate::yaml_limits::check(path, source)?;
        let specs = if strict {
            serde_yaml::from_str::<StrictFile>(source).map(|f| f.platforms)
        } else {
            serde_yaml::from_str::<InventoryFile>(source).map(|f| f.platforms)
        }
        .map_err(|e| SourceError::from_yaml(path, source, &e))?;
        let mut names = Vec::new();
        for (name, spec) in specs {
            let merged = match self.specs.get(&name) {
                Some(old) if spec.extends.is_none() => old.clone().overlaid(spec),
                _ => spec,
            };
            self.specs.insert(name.clone(), merged);
            names.push(name);
        }
        // Re-resolve everything: a changed profile changes the ones that extend it.
        let mut resolved = IndexMap::new();
        for name in self.specs.keys() {
            match self.resolve(name) {
                Ok(p) => {
                    resolved.insert(name.clone(), Arc::new(p));
                }
                Err(message) => {
                    let offset = key_offset(source, name).unwrap_or(0);
                    let known = names.contains(name);
                    let err = if known {
                        SourceError::at_offset(path, source, offset, message)
                    } else {
                        SourceError::whole_file(path, format!("platform `{name}`: {message}"))
                    };
                    return Err(err.into());
                }
            }
        }
        self.resolved = resolved;
        Ok(())
    }

    /// A platform by name; `ansible_network_os` names (`cisco.ios.ios`, `ios`, `junos`, …) are
    /// aliases of the shipped ones.
    pub fn get(&self, name: &str) -> Option<Arc<Platform>> {
        self.resolved
            .get(name)
            .or_else(|| self.resolved.get(alias(name)?))
            .cloned()
    }

    /// The platform a host's variables name: `platform`, else `ansible_network_os`; `None` for
    /// a host that names none (an ordinary exec host). A platform with a `prompt_var` takes
    /// its prompt from that variable. The message says what is wrong, for the plan to put
    /// in front of the host's name.
    pub fn for_host(
        &self,
        vars: &serde_json::Map<String, serde_json::Value>,
    ) -> std::result::Result<Option<Arc<Platform>>, String> {
        let named = ["platform", "ansible_network_os"]
            .into_iter()
            .find_map(|key| vars.get(key).map(|v| (key, v)));
        let Some((key, value)) = named else {
            return Ok(None);
        };
        let Some(name) = value.as_str() else {
            return Err(format!("`{key}` must be a platform name, not `{value}`"));
        };
        let Some(platform) = self.get(name) else {
            let close = crate::diagnostic::closest(name, self.names());
            let hint = match close.first() {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("known: {}", self.names().collect::<Vec<_>>().join(", ")),
            };
            return Err(format!("`{key}: {name}` names no platform ({hint})"));
        };
        let Some(var) = &platform.prompt_var else {
            return Ok(Some(platform));
        };
        match vars.get(var).and_then(|v| v.as_str()) {
            Some(pattern) => platform
                .with_prompt(pattern)
                .map(|p| Some(Arc::new(p)))
                .map_err(|e| format!("`{var}`: {e}")),
            None => Err(format!(
                "platform `{}` takes its prompt from `{var}`, a regex, which this host does not set",
                platform.name
            )),
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.resolved.keys().map(String::as_str)
    }

    fn resolve(&self, name: &str) -> std::result::Result<Platform, String> {
        let mut chain = vec![name.to_string()];
        let mut spec = self.specs[name].clone();
        while let Some(base) = spec.extends.take() {
            if chain.contains(&base) {
                return Err(format!(
                    "`extends` makes a loop: {} → {base}",
                    chain.join(" → ")
                ));
            }
            let Some(base_spec) = self.specs.get(&base) else {
                let known: Vec<&str> = self.specs.keys().map(String::as_str).collect();
                let close = crate::diagnostic::closest(&base, known);
                let hint = close
                    .first()
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                return Err(format!("`extends: {base}` names no platform{hint}"));
            };
            chain.push(base);
            spec = base_spec.clone().overlaid(spec);
        }
        spec.build(name)
    }
}

/// `ansible_network_os` values and their short forms, mapped to drover's names.
fn alias(name: &str) -> Option<&'static str> {
    let short = name.rsplit('.').next().unwrap_or(name);
    Some(match short {
        "ios" => "cisco_ios",
        "iosxe" => "cisco_iosxe",
        "nxos" => "cisco_nxos",
        "iosxr" => "cisco_iosxr",
        "eos" => "arista_eos",
        "junos" => "juniper_junos",
        "routeros" => "mikrotik_routeros",
        "ce" | "vrp" => "huawei_vrp",
        "os6" | "dellos6" => "dell_os6",
        _ => return None,
    })
}

/// Where `name:` is written as a key, for an error about that profile.
fn key_offset(source: &str, name: &str) -> Option<usize> {
    let key = format!("{name}:");
    source
        .match_indices(&key)
        .find(|(i, _)| *i == 0 || source[..*i].ends_with([' ', '\n']))
        .map(|(i, _)| i)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictFile {
    #[serde(default)]
    platforms: IndexMap<String, Spec>,
}

#[derive(Deserialize)]
struct InventoryFile {
    #[serde(default)]
    platforms: IndexMap<String, Spec>,
}

/// A profile as written: every field optional, so an override names only what it changes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    extends: Option<String>,
    driver: Option<DriverKind>,
    prompt_var: Option<String>,
    prompts: Option<PromptsSpec>,
    on_open: Option<Vec<String>>,
    enable: Option<EnableSpec>,
    config: Option<ConfigSpec>,
    pager: Option<PagerSpec>,
    failures: Option<Vec<Pattern>>,
    answers: Option<Vec<Answer>>,
    newline: Option<String>,
    echo: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromptsSpec {
    user: Option<Pattern>,
    privileged: Option<Pattern>,
    config: Option<Pattern>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnableSpec {
    command: String,
    password_prompt: Pattern,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigSpec {
    enter: Option<String>,
    commit: Option<String>,
    abort: Option<String>,
    exit: Option<String>,
    save: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PagerSpec {
    patterns: Vec<Pattern>,
    answer: String,
}

fn or<T>(new: Option<T>, old: Option<T>) -> Option<T> {
    new.or(old)
}

impl Spec {
    /// `over` written on top of `self`: what `over` names wins, the rest stays.
    fn overlaid(self, over: Spec) -> Spec {
        let prompts = match (self.prompts, over.prompts) {
            (Some(a), Some(b)) => Some(PromptsSpec {
                user: or(b.user, a.user),
                privileged: or(b.privileged, a.privileged),
                config: or(b.config, a.config),
            }),
            (a, b) => or(b, a),
        };
        let config = match (self.config, over.config) {
            (Some(a), Some(b)) => Some(ConfigSpec {
                enter: or(b.enter, a.enter),
                commit: or(b.commit, a.commit),
                abort: or(b.abort, a.abort),
                exit: or(b.exit, a.exit),
                save: or(b.save, a.save),
            }),
            (a, b) => or(b, a),
        };
        Spec {
            extends: over.extends,
            driver: or(over.driver, self.driver),
            prompt_var: or(over.prompt_var, self.prompt_var),
            prompts,
            on_open: or(over.on_open, self.on_open),
            enable: or(over.enable, self.enable),
            config,
            pager: or(over.pager, self.pager),
            failures: or(over.failures, self.failures),
            answers: or(over.answers, self.answers),
            newline: or(over.newline, self.newline),
            echo: or(over.echo, self.echo),
        }
    }

    fn build(self, name: &str) -> std::result::Result<Platform, String> {
        let driver = self.driver.unwrap_or(DriverKind::Cli);
        let prompts = self
            .prompts
            .map(|p| Prompts {
                user: p.user,
                privileged: p.privileged,
                config: p.config,
            })
            .unwrap_or_default();
        if driver == DriverKind::Cli && prompts.is_empty() && self.prompt_var.is_none() {
            return Err(format!(
                "platform `{name}` drives a CLI but has no `prompts` (nor a `prompt_var`)"
            ));
        }
        let config = self.config.map(|c| ConfigMode {
            enter: c.enter,
            commit: c.commit,
            abort: c.abort,
            exit: c.exit,
            save: c.save,
        });
        if let Some(c) = &config {
            if c.enter.is_some() && prompts.config.is_none() && self.prompt_var.is_none() {
                return Err(format!(
                    "platform `{name}` has a `config.enter` command but no `prompts.config`, \
                     so drover could not tell that config mode began"
                ));
            }
        }
        if let Some(e) = &self.enable {
            if prompts.privileged.is_none() && self.prompt_var.is_none() {
                return Err(format!(
                    "platform `{name}` has an `enable` command but no `prompts.privileged`"
                ));
            }
            if e.command.trim().is_empty() {
                return Err(format!("platform `{name}`: `enable.command` is empty"));
            }
        }
        Ok(Platform {
            name: name.to_string(),
            driver,
            prompt_var: self.prompt_var,
            prompts,
            on_open: self.on_open.unwrap_or_default(),
            enable: self.enable.map(|e| Enable {
                command: e.command,
                password_prompt: e.password_prompt,
            }),
            config,
            pager: self.pager.map(|p| Pager {
                patterns: p.patterns,
                answer: p.answer,
            }),
            failures: self.failures.unwrap_or_default(),
            answers: self.answers.unwrap_or_default(),
            newline: self.newline.unwrap_or_else(|| "\n".to_string()),
            echo: self.echo.unwrap_or(true),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED_NAMES: [&str; 11] = [
        "linux",
        "generic",
        "cisco_ios",
        "cisco_iosxe",
        "cisco_nxos",
        "cisco_iosxr",
        "arista_eos",
        "juniper_junos",
        "mikrotik_routeros",
        "huawei_vrp",
        "dell_os6",
    ];

    #[test]
    fn every_shipped_profile_resolves() {
        let platforms = Platforms::shipped();
        for name in SHIPPED_NAMES {
            assert!(platforms.get(name).is_some(), "{name} missing");
        }
        assert_eq!(platforms.names().count(), SHIPPED_NAMES.len());
        assert_eq!(
            platforms.get("linux").map(|p| p.driver),
            Some(DriverKind::Exec)
        );
    }

    #[test]
    fn prompts_tell_the_mode() {
        let p = Platforms::shipped();
        let cases = [
            ("cisco_ios", "r1>", Some(Mode::User)),
            ("cisco_ios", "r1#", Some(Mode::Privileged)),
            ("cisco_ios", "r1(config)#", Some(Mode::Config)),
            ("cisco_ios", "r1(config-if)#", Some(Mode::Config)),
            ("cisco_ios", "show version", None),
            (
                "cisco_iosxe",
                "edge-2.fra(config-router)#",
                Some(Mode::Config),
            ),
            ("cisco_iosxr", "RP/0/RP0/CPU0:xr1#", Some(Mode::Privileged)),
            (
                "cisco_iosxr",
                "RP/0/RP0/CPU0:xr1(config)#",
                Some(Mode::Config),
            ),
            ("cisco_nxos", "n9k(config-if)#", Some(Mode::Config)),
            ("arista_eos", "leaf 1(config)#", Some(Mode::Config)),
            ("juniper_junos", "admin@mx1>", Some(Mode::User)),
            ("juniper_junos", "admin@mx1#", Some(Mode::Config)),
            ("mikrotik_routeros", "[admin@MikroTik] >", Some(Mode::User)),
            (
                "mikrotik_routeros",
                "[admin@MikroTik] /ip address>",
                Some(Mode::User),
            ),
            ("huawei_vrp", "<HUAWEI>", Some(Mode::User)),
            ("huawei_vrp", "[HUAWEI]", Some(Mode::Config)),
            (
                "huawei_vrp",
                "[~HUAWEI-GigabitEthernet0/0/1]",
                Some(Mode::Config),
            ),
            ("dell_os6", "console(config)#", Some(Mode::Config)),
        ];
        for (name, line, mode) in cases {
            let platform = p.get(name).unwrap();
            assert_eq!(platform.prompts.mode_of(line), mode, "{name}: {line:?}");
        }
    }

    #[test]
    fn ansible_network_os_names_are_aliases() {
        let p = Platforms::shipped();
        for (alias, name) in [
            ("cisco.ios.ios", "cisco_ios"),
            ("ios", "cisco_ios"),
            ("junipernetworks.junos.junos", "juniper_junos"),
            ("arista.eos.eos", "arista_eos"),
            ("community.routeros.routeros", "mikrotik_routeros"),
            ("dellemc.os6.os6", "dell_os6"),
        ] {
            assert_eq!(p.get(alias).map(|p| p.name.clone()).as_deref(), Some(name));
        }
        assert!(p.get("cisco.nope.nope").is_none());
    }

    fn load(text: &str) -> Result<Platforms> {
        let mut p = Platforms::shipped();
        p.add_source(Path::new("plat.yml"), text, true)?;
        Ok(p)
    }

    #[test]
    fn an_override_keeps_what_it_does_not_name_and_reaches_what_extends_it() {
        let p = load("platforms:\n  cisco_ios:\n    on_open: [terminal length 0]\n").unwrap();
        let ios = p.get("cisco_ios").unwrap();
        assert_eq!(ios.on_open, ["terminal length 0"]);
        assert!(ios.enable.is_some() && !ios.failures.is_empty());
        let xe = p.get("cisco_iosxe").unwrap();
        assert_eq!(xe.on_open, ["terminal length 0"]);
        assert_eq!(
            xe.config.as_ref().and_then(|c| c.save.as_deref()),
            Some("copy running-config startup-config")
        );
    }

    #[test]
    fn a_new_profile_extends_a_shipped_one() {
        let text = "platforms:\n  lab_ios:\n    extends: cisco_ios\n    prompts: { user: '^lab-\\w+>$' }\n";
        let p = load(text).unwrap();
        let lab = p.get("lab_ios").unwrap();
        assert_eq!(lab.prompts.mode_of("lab-r1>"), Some(Mode::User));
        assert_eq!(lab.prompts.mode_of("r1>"), None);
        assert_eq!(lab.prompts.mode_of("lab-r1#"), Some(Mode::Privileged));
    }

    #[test]
    fn a_bad_regex_is_an_error_at_its_position() {
        let text = "platforms:\n  x:\n    prompts:\n      user: '^r1(>$'\n";
        let err = load(text).unwrap_err().to_string();
        assert!(err.contains("not a valid regular expression"), "{err}");
        assert!(err.contains("plat.yml:4:14"), "{err}");
    }

    #[test]
    fn unknown_keys_and_unknown_bases_are_errors_that_name_the_place() {
        let err = load("platforms:\n  x:\n    promts: {}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown key `promts`"), "{err}");
        assert!(err.contains("plat.yml:3:"), "{err}");
        let err = load("platforms:\n  x:\n    extends: cisco_iso\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`extends: cisco_iso` names no platform"),
            "{err}"
        );
        assert!(err.contains("did you mean `cisco_ios`?"), "{err}");
        assert!(err.contains("plat.yml:2:3"), "{err}");
        let err = load("hosts: {}\n").unwrap_err().to_string();
        assert!(err.contains("unknown key `hosts`"), "{err}");
    }

    #[test]
    fn a_cli_profile_needs_prompts() {
        let err = load("platforms:\n  x:\n    on_open: [a]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("has no `prompts`"), "{err}");
    }

    #[test]
    fn an_inventory_keeps_its_other_keys() {
        let mut p = Platforms::shipped();
        p.add_inventory(
            Path::new("inv.yml"),
            "hosts: { r1: {} }\nplatforms:\n  x: { extends: cisco_ios }\n",
        )
        .unwrap();
        assert!(p.get("x").is_some());
    }

    fn vars(json: &str) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_host_names_its_platform() {
        let p = Platforms::shipped();
        let name = |v: &str| p.for_host(&vars(v)).map(|p| p.map(|p| p.name.clone()));
        assert_eq!(name("{}"), Ok(None));
        assert_eq!(
            name(r#"{"platform": "juniper_junos"}"#),
            Ok(Some("juniper_junos".into()))
        );
        assert_eq!(
            name(r#"{"ansible_network_os": "cisco.ios.ios"}"#),
            Ok(Some("cisco_ios".into()))
        );
        assert_eq!(
            name(r#"{"platform": "arista_eso"}"#),
            Err("`platform: arista_eso` names no platform (did you mean `arista_eos`?)".into())
        );
        assert_eq!(
            name(r#"{"platform": 3}"#),
            Err("`platform` must be a platform name, not `3`".into())
        );
        let err = name(r#"{"platform": "generic"}"#).unwrap_err();
        assert!(
            err.contains("takes its prompt from `prompt_pattern`"),
            "{err}"
        );
        let host = p
            .for_host(&vars(
                r#"{"platform": "generic", "prompt_pattern": "^sw\\d+>$"}"#,
            ))
            .unwrap()
            .unwrap();
        assert_eq!(host.prompts.mode_of("sw3>"), Some(Mode::User));
        let err = name(r#"{"platform": "generic", "prompt_pattern": "("}"#).unwrap_err();
        assert!(
            err.starts_with("`prompt_pattern`: not a valid regular expression"),
            "{err}"
        );
    }

    #[test]
    fn generic_takes_the_hosts_prompt() {
        let p = Platforms::shipped();
        let generic = p.get("generic").unwrap();
        assert_eq!(generic.prompt_var.as_deref(), Some("prompt_pattern"));
        let host = generic.with_prompt(r"^sw-\d+\$$").unwrap();
        assert_eq!(host.prompts.mode_of("sw-12$"), Some(Mode::User));
        assert!(generic.with_prompt("(").is_err());
    }
}
