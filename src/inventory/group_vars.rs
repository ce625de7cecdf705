//! `group_vars/` and `host_vars/` beside an inventory source or a playbook, found the way
//! Ansible's `host_group_vars` plugin finds them: for a name, the first of `NAME`,
//! `NAME.yml`, `NAME.yaml`, `NAME.json` that exists; a directory of that name contributes
//! all its files (sorted, recursively, hidden and backup files skipped), merged in order.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::{ansible, Vars};
use crate::diagnostic::SourceError;
use crate::error::Result;

/// The vars files found in one directory, by group and by host name.
#[derive(Debug, Default, Clone)]
pub struct VarsDir {
    pub groups: IndexMap<String, Vars>,
    pub hosts: IndexMap<String, Vars>,
}

impl VarsDir {
    /// Reads `base/group_vars/NAME*` for each group and `base/host_vars/NAME*` for each host.
    pub fn load<'a>(
        base: &Path,
        groups: impl IntoIterator<Item = &'a str>,
        hosts: impl IntoIterator<Item = &'a str>,
    ) -> Result<VarsDir> {
        let mut out = VarsDir::default();
        for (sub, names, into) in [
            (
                "group_vars",
                groups.into_iter().collect::<Vec<_>>(),
                &mut out.groups,
            ),
            (
                "host_vars",
                hosts.into_iter().collect::<Vec<_>>(),
                &mut out.hosts,
            ),
        ] {
            let dir = base.join(sub);
            if !dir.is_dir() {
                continue;
            }
            for name in names {
                let mut vars = Vars::new();
                for file in find(&dir, name) {
                    vars.extend(read(&file)?);
                }
                if !vars.is_empty() {
                    into.insert(name.to_string(), vars);
                }
            }
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.hosts.is_empty()
    }
}

fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    if name.is_empty() || name.starts_with('.') || name.contains('/') {
        return Vec::new();
    }
    for ext in ["", ".yml", ".yaml", ".json"] {
        let path = dir.join(format!("{name}{ext}"));
        if path.is_dir() {
            let mut found = Vec::new();
            dir_files(&path, &mut found);
            return found;
        }
        if path.is_file() {
            return vec![path];
        }
    }
    Vec::new()
}

fn dir_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    names.sort();
    for name in names {
        let text = name.to_string_lossy();
        if text.starts_with('.') || text.ends_with('~') {
            continue;
        }
        let path = dir.join(&name);
        let ext = path.extension().and_then(|e| e.to_str());
        if path.is_dir() && ext.is_none() {
            dir_files(&path, out);
        } else if path.is_file() && matches!(ext, None | Some("yml" | "yaml" | "json")) {
            out.push(path);
        }
    }
}

/// One vars file: a mapping (or nothing), read as Ansible reads YAML.
fn read(path: &Path) -> Result<Vars> {
    let source = crate::yaml_limits::read(path, "read vars file")?;
    crate::yaml_limits::check(path, &source)?;
    let Some(node) = super::yaml11::parse(path, &source)? else {
        return Ok(Vars::new());
    };
    let super::yaml11::Node::Map(entries) = node else {
        return Err(SourceError::whole_file(
            path,
            format!(
                "a vars file must be a mapping of variables, not {}",
                node.kind()
            ),
        )
        .into());
    };
    let mut vars = Vars::new();
    for (key, value) in entries {
        let value = value.to_json();
        ansible::check_var(&key.text, &value)
            .map_err(|m| ansible::at_key(path, &source, &key, m))?;
        vars.insert(key.text, value);
    }
    super::paths::anchor(&mut vars, path.parent().unwrap_or(Path::new("")));
    Ok(vars)
}
