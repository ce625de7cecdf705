//! Defaults for the flags people give every time (`-i`, `--concurrency`, `--rate`,
//! `--state-dir`), from `drover.yml` or `drover.toml` in the current directory and in the
//! XDG config dir (`$XDG_CONFIG_HOME/drover/`, else `~/.config/drover/`); one directory may
//! have one of the two, not both. Precedence,
//! last wins: the XDG file, the project file, the `DROVER_*` variable, the flag. The files
//! become clap default values, so clap itself applies that order; `drover config` shows
//! where each value came from.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use serde_json::Value;

use super::config_toml;
use crate::diagnostic::SourceError;
use crate::error::Result;

/// The keys a config file may set, each with its flag's argument id and variable.
const KEYS: [(&str, &str, &str); 4] = [
    ("inventory", "inventories", "DROVER_INVENTORY"),
    ("concurrency", "concurrency", "DROVER_CONCURRENCY"),
    ("rate", "rate", "DROVER_RATE"),
    ("state_dir", "state_dir", "DROVER_STATE_DIR"),
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    inventory: Option<PathBuf>,
    concurrency: Option<u32>,
    rate: Option<String>,
    state_dir: Option<PathBuf>,
}

/// One value a file set, and which file.
#[derive(Debug, Clone)]
struct FromFile {
    value: String,
    path: PathBuf,
}

/// The values the config files give, per key, the project file over the XDG one.
#[derive(Debug, Default)]
pub struct Config {
    values: Vec<(&'static str, FromFile)>,
    /// The files looked at, in the order they apply.
    pub files: Vec<PathBuf>,
}

impl Config {
    /// Reads whichever of the two files exist. A file that does not parse is an error with
    /// its position; a missing file is nothing.
    pub fn load() -> Result<Config> {
        let mut config = Config::default();
        let xdg = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .map(|d| d.join("drover"));
        for dir in xdg.into_iter().chain([PathBuf::new()]) {
            let (yml, toml) = (dir.join("drover.yml"), dir.join("drover.toml"));
            let (path, text) = match (
                std::fs::read_to_string(&yml),
                std::fs::read_to_string(&toml),
            ) {
                (Ok(_), Ok(_)) => {
                    return Err(crate::error::Error::Usage(format!(
                        "both {} and {} exist: keep one of them",
                        yml.display(),
                        toml.display()
                    )))
                }
                (Ok(text), Err(_)) => (yml, text),
                (Err(_), Ok(text)) => (toml, text),
                (Err(_), Err(_)) => continue,
            };
            let file: File = if path.extension().is_some_and(|e| e == "toml") {
                let map = config_toml::parse(&path, &text, &KEYS.map(|(k, _, _)| k))?;
                serde_json::from_value(Value::Object(map)).map_err(|e| {
                    SourceError::whole_file(
                        &path,
                        format!("{e} (keys: inventory, concurrency, rate, state_dir)"),
                    )
                })?
            } else {
                crate::yaml_limits::check(&path, &text)?;
                serde_yaml::from_str::<Option<File>>(&text)
                    .map_err(|e| SourceError::from_yaml(&path, &text, &e))?
                    .unwrap_or_default()
            };
            let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
            // Paths in a file are relative to the file.
            let relative = |p: PathBuf| {
                if p.is_relative() && dir != Path::new("") {
                    dir.join(p)
                } else {
                    p
                }
            };
            let mut set = |key: &'static str, value: Option<String>| {
                if let Some(value) = value {
                    config.values.retain(|(k, _)| *k != key);
                    config.values.push((
                        key,
                        FromFile {
                            value,
                            path: path.clone(),
                        },
                    ));
                }
            };
            set(
                "inventory",
                file.inventory.map(|p| relative(p).display().to_string()),
            );
            set("concurrency", file.concurrency.map(|n| n.to_string()));
            set("rate", file.rate);
            set(
                "state_dir",
                file.state_dir.map(|p| relative(p).display().to_string()),
            );
            config.files.push(path);
        }
        Ok(config)
    }

    /// The command with each configured value as the default of its flag, on every
    /// subcommand that has the flag.
    pub fn apply(&self, mut cmd: clap::Command) -> clap::Command {
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        for (key, from) in &self.values {
            let Some((_, id, _)) = KEYS.iter().find(|(k, _, _)| k == key) else {
                continue;
            };
            for name in &names {
                let has = cmd
                    .find_subcommand(name)
                    .is_some_and(|s| s.get_arguments().any(|a| a.get_id() == *id));
                if has {
                    // clap takes defaults as `&'static str` (without its `string` feature);
                    // a handful of values, once per process.
                    let value: &'static str = Box::leak(from.value.clone().into_boxed_str());
                    cmd = cmd.mut_subcommand(name, |s| {
                        s.mut_arg(*id, |a| a.required(false).default_value(value))
                    });
                }
            }
        }
        cmd
    }

    /// `drover config`: each key, its value and where it came from.
    pub fn show(&self) -> String {
        let mut out = String::new();
        for (key, _, var) in KEYS {
            let (value, source) = match (
                std::env::var(var).ok().filter(|v| !v.is_empty()),
                self.get(key),
            ) {
                (Some(v), _) => (v, format!("from {var}")),
                (None, Some(f)) => (f.value.clone(), format!("from {}", f.path.display())),
                (None, None) => (builtin(key).to_string(), "built in".to_string()),
            };
            out.push_str(&format!("{key:<12} {value}  # {source}\n"));
        }
        out.push_str("# a flag on the command line wins over all of these\n");
        out
    }

    fn get(&self, key: &str) -> Option<&FromFile> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, f)| f)
    }
}

fn builtin(key: &str) -> &'static str {
    match key {
        "inventory" => "(none: -i is required)",
        "concurrency" => "(the play's, else 10)",
        "rate" => "(the play's, else 20/s)",
        _ => "(XDG state dir: $XDG_STATE_HOME/drover or ~/.local/state/drover)",
    }
}
