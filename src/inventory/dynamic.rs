//! Dynamic inventory: an executable run with `--list`, whose stdout is Ansible's JSON
//! inventory (`{"group": {"hosts": [..], "vars": {..}, "children": [..]}, "_meta":
//! {"hostvars": {..}}}`). This is how a lookup service (a port manager that knows each
//! router's tunnel port) plugs in.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::{Inventory, Vars};
use crate::error::{Error, Result};

/// An executable file that is not named like a data file. YAML and JSON files are read as
/// data even when a checkout marked them executable.
pub fn is_script(path: &Path) -> bool {
    let data = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml" | "json")
    );
    let executable = std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    executable && !data
}

pub fn load(path: &Path) -> Result<Inventory> {
    let fail = |message: String| Error::DynamicInventory {
        path: path.to_path_buf(),
        message,
    };
    // A bare name would be looked up in PATH; the user meant the file.
    let program = if path.is_relative() {
        Path::new(".").join(path)
    } else {
        path.to_path_buf()
    };
    let output = Command::new(&program)
        .arg("--list")
        .output()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(fail(format!(
            "it exited with {}: {}",
            output.status,
            stderr.trim()
        )));
    }
    let json: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| fail(format!("its output is not JSON: {e}")))?;
    from_json(&json).map_err(fail)
}

/// Reads Ansible's `--list` JSON.
pub fn from_json(json: &Value) -> Result<Inventory, String> {
    let top = json
        .as_object()
        .ok_or("the top level must be a JSON object")?;
    let mut inventory = Inventory::default();
    for (name, def) in top {
        if name == "_meta" {
            continue;
        }
        let (hosts, vars, children) = match def {
            Value::Array(hosts) => (hosts.clone(), Vars::new(), Vec::new()),
            Value::Object(o) => (
                array(o.get("hosts"), name, "hosts")?,
                match o.get("vars") {
                    None | Some(Value::Null) => Vars::new(),
                    Some(Value::Object(v)) => v.clone(),
                    Some(_) => return Err(format!("group `{name}`: `vars` must be an object")),
                },
                array(o.get("children"), name, "children")?,
            ),
            _ => {
                return Err(format!(
                    "group `{name}` must be a list of hosts or an object"
                ))
            }
        };
        let special = name == "all" || name == "ungrouped";
        if name == "all" {
            inventory.defaults.extend(vars);
        } else if !special {
            inventory
                .groups
                .entry(name.clone())
                .or_default()
                .vars
                .extend(vars);
        }
        for host in hosts {
            let host = host
                .as_str()
                .ok_or(format!("group `{name}`: host names must be strings"))?;
            let entry = inventory.hosts.entry(host.to_string()).or_default();
            if !special {
                entry.groups.insert(name.clone());
            }
        }
        for child in children {
            let child = child
                .as_str()
                .ok_or(format!("group `{name}`: children must be strings"))?;
            if !special && child != "ungrouped" {
                let group = inventory.groups.entry(name.clone()).or_default();
                group.children.insert(child.to_string());
            }
        }
    }
    if let Some(hostvars) = json.pointer("/_meta/hostvars") {
        let hostvars = hostvars
            .as_object()
            .ok_or("`_meta.hostvars` must be an object")?;
        for (host, vars) in hostvars {
            let vars = vars
                .as_object()
                .ok_or(format!("hostvars of `{host}` must be an object"))?;
            inventory
                .hosts
                .entry(host.clone())
                .or_default()
                .vars
                .extend(vars.clone());
        }
    }
    Ok(inventory)
}

fn array(value: Option<&Value>, group: &str, key: &str) -> Result<Vec<Value>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a.clone()),
        Some(_) => Err(format!("group `{group}`: `{key}` must be a list")),
    }
}
