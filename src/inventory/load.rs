//! Reading one `-i` argument, the way Ansible picks a plugin for it:
//! - a path that does not exist but has a comma is a host list (`-i '10.0.0.1,10.0.0.2,'`);
//! - a directory is every inventory in it (sorted; hidden files, `group_vars`,
//!   `host_vars` and backup/text files skipped);
//! - an executable is a dynamic inventory;
//! - `.yml`, `.yaml` and `.json` are YAML, in drover's native format or Ansible's, told
//!   apart by the top-level keys; any other file is YAML when it reads as a YAML mapping and
//!   otherwise INI, or a pssh-style host file (`[user@]host[:port]` per line).
//!
//! Beside every Ansible source, `group_vars/` and `host_vars/` are read (see `group_vars`).

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::de::IgnoredAny;

use super::group_vars::VarsDir;
use super::{address, ansible, dynamic, ini, native, Inventory, Vars};
use crate::diagnostic::SourceError;
use crate::error::{Error, Result};

/// Top-level keys of the native format; any other key means an Ansible inventory.
const NATIVE_KEYS: [&str; 4] = ["defaults", "groups", "hosts", "platforms"];

/// File endings a directory inventory skips, as Ansible's `INVENTORY_IGNORE_EXTS` does.
const IGNORED_ENDINGS: [&str; 12] = [
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
];

/// Loads every path and merges them in order (later ones win for variables).
pub fn load(paths: &[impl AsRef<Path>]) -> Result<Inventory> {
    let mut inventory = Inventory::default();
    let mut bases: Vec<PathBuf> = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let text = path.to_string_lossy();
        if !path.exists() && text.contains(',') {
            inventory.merge(host_list(&text));
            continue;
        }
        if path.is_dir() {
            for file in dir_sources(path)? {
                let one = load_one(&file)?;
                if one.ansible.is_some() && !bases.iter().any(|b| b == path) {
                    bases.push(path.to_path_buf());
                }
                inventory.merge(one);
            }
            continue;
        }
        let one = load_one(path)?;
        if one.ansible.is_some() {
            // A file in the working directory has the empty parent: its vars files then
            // read as `group_vars/web.yml`, not `./group_vars/web.yml`.
            let base = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
            if !bases.contains(&base) {
                bases.push(base);
            }
        }
        inventory.merge(one);
    }
    inventory.finish()?;
    if inventory.ansible.is_some() {
        for base in bases {
            let dir = vars_dir(&inventory, &base)?;
            if !dir.is_empty() {
                if let Some(data) = inventory.ansible.as_mut() {
                    data.inventory_dirs.push((base, dir));
                }
            }
        }
    }
    Ok(inventory)
}

/// Adds the `group_vars/` and `host_vars/` beside a playbook, as Ansible does (above the
/// inventory's own), for an Ansible inventory.
pub fn add_playbook_vars(inventory: &mut Inventory, playbook: &Path) -> Result<()> {
    if inventory.ansible.is_none() {
        return Ok(());
    }
    let base = playbook
        .parent()
        .map_or_else(PathBuf::new, Path::to_path_buf);
    let dir = vars_dir(inventory, &base)?;
    if let Some(data) = inventory.ansible.as_mut() {
        if !dir.is_empty() && !data.playbook_dirs.iter().any(|(b, _)| *b == base) {
            data.playbook_dirs.push((base, dir));
        }
    }
    Ok(())
}

fn vars_dir(inventory: &Inventory, base: &Path) -> Result<VarsDir> {
    let groups = ["all", super::precedence::UNGROUPED]
        .into_iter()
        .chain(inventory.groups.keys().map(String::as_str));
    VarsDir::load(base, groups, inventory.hosts.keys().map(String::as_str))
}

fn dir_sources(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::io(dir, "read inventory directory", e))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let skipped = name.starts_with('.')
            || matches!(name.as_str(), "group_vars" | "host_vars" | "vars_plugins")
            || IGNORED_ENDINGS.iter().any(|e| name.ends_with(e));
        if !skipped {
            let path = dir.join(&name);
            if path.is_dir() {
                out.extend(dir_sources(&path)?);
            } else {
                out.push(path);
            }
        }
    }
    Ok(out)
}

fn load_one(path: &Path) -> Result<Inventory> {
    let mut inventory = read_one(path)?;
    inventory.anchor_paths(path.parent().unwrap_or(Path::new("")));
    Ok(inventory)
}

fn read_one(path: &Path) -> Result<Inventory> {
    if dynamic::is_script(path) {
        return dynamic::load(path);
    }
    let source = crate::yaml_limits::read(path, "read inventory")?;
    crate::yaml_limits::check(path, &source)?;
    let yaml_named = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml" | "json")
    );
    if yaml_named || is_yaml_mapping(&source) {
        return parse_yaml(path, &source);
    }
    if let Some(inv) = pssh(&source) {
        return Ok(inv);
    }
    ini::parse(path, &source)
}

fn is_yaml_mapping(source: &str) -> bool {
    matches!(
        serde_yaml::from_str::<Option<IndexMap<String, IgnoredAny>>>(source),
        Ok(Some(_))
    )
}

/// Parses one YAML inventory on its own, ready to use.
pub fn from_yaml(path: &Path, source: &str) -> Result<Inventory> {
    crate::yaml_limits::check(path, source)?;
    let mut inventory = parse_yaml(path, source)?;
    inventory.finish()?;
    Ok(inventory)
}

/// Parses YAML inventory text (to be merged and finished), choosing the format by its top-level keys.
fn parse_yaml(path: &Path, source: &str) -> Result<Inventory> {
    // Only the top-level keys decide the format; their contents are parsed once, below.
    let top: Option<IndexMap<String, IgnoredAny>> =
        serde_yaml::from_str(source).map_err(|e| SourceError::from_yaml(path, source, &e))?;
    let Some(top) = top else {
        return Ok(Inventory::default());
    };
    let keys: Vec<&String> = top.keys().collect();
    if keys.iter().all(|k| NATIVE_KEYS.contains(&k.as_str())) && !keys.is_empty() {
        let mut inventory = native::parse(path, source)?;
        if top.contains_key("platforms") {
            inventory
                .platform_sources
                .push((path.to_path_buf(), source.to_string()));
        }
        Ok(inventory)
    } else {
        ansible::parse(path, source)
    }
}

/// `-i 'h1,h2:2222,'`: ungrouped hosts, as Ansible's `host_list` plugin reads them.
fn host_list(text: &str) -> Inventory {
    let mut inv = Inventory {
        ansible: Some(Box::default()),
        ..Inventory::default()
    };
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (host, port) = match address::parse(entry) {
            Some((h, p)) if !h.contains('[') => (h, p),
            _ => (entry.to_string(), None),
        };
        if inv.hosts.contains_key(&host) {
            continue;
        }
        let mut vars = Vars::new();
        if let Some(p) = port {
            vars.insert("ansible_port".into(), p.into());
        }
        ansible::add_host(&mut inv, &host, super::precedence::UNGROUPED, vars);
    }
    inv
}

/// A pssh-style host file: one `[user@]host[:port]` per line, at least one with a user.
fn pssh(source: &str) -> Option<Inventory> {
    let lines: Vec<&str> = source
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let pssh_like = !lines.is_empty()
        && lines.iter().any(|l| l.contains('@'))
        && lines.iter().all(|l| {
            !l.contains(char::is_whitespace) && !l.starts_with('[') && l.matches('@').count() <= 1
        });
    if !pssh_like {
        return None;
    }
    let mut inv = Inventory {
        ansible: Some(Box::default()),
        ..Inventory::default()
    };
    for line in lines {
        let (user, rest) = match line.split_once('@') {
            Some((u, r)) => (Some(u), r),
            None => (None, line),
        };
        let (host, port) = address::split_port(rest);
        let mut vars = Vars::new();
        if let Some(u) = user {
            vars.insert("ansible_user".into(), u.into());
        }
        if let Some(p) = port {
            vars.insert("ansible_port".into(), p.into());
        }
        ansible::add_host(&mut inv, &host, super::precedence::UNGROUPED, vars);
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::super::{ini, literal, range, select, yaml11};

    proptest! {
        /// No input makes a reader panic: it is read or it is an error.
        #[test]
        fn readers_never_panic(text in "[\\[\\]:=#;'\"a-c0-9 .,!&~*?\\\\\n@-]{0,80}") {
            let path = Path::new("hosts");
            let _ = ini::parse(path, &text);
            let _ = yaml11::parse(path, &text);
            let _ = literal::ini_value(&text);
            let _ = range::expand(&text);
            let _ = super::pssh(&text);
            let _ = super::host_list(&text);
            if let Ok(mut inv) = ini::parse(path, "[a]\n10.0.0.[1:3]\n[b:children]\na\n[c]\n10.0.0.9\n") {
                let _ = inv.finish();
                let _ = select(&inv, &text);
            }
        }
    }
}
