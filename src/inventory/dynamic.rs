//! Dynamic inventory: an executable run with `--list`, whose stdout is Ansible's JSON
//! inventory (`{"group": {"hosts": [..], "vars": {..}, "children": [..]}, "_meta":
//! {"hostvars": {..}}}`). This is how a lookup service (a port manager that knows each
//! router's tunnel port) plugs in.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

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
    let mut child = Command::new(&program)
        .arg("--list")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    // stderr on a thread of its own, so a script that fills it does not block on us; only
    // its start is kept, for the message.
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let _ = (&mut pipe).take(STDERR_KEPT).read_to_end(&mut kept);
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
            kept
        })
    });
    // stdout bounded as every inventory file is: a script gone wrong cannot fill memory.
    let mut stdout = Vec::new();
    if let Some(pipe) = child.stdout.take() {
        let limit = crate::yaml_limits::MAX_BYTES as u64;
        let read = pipe.take(limit + 1).read_to_end(&mut stdout);
        if let Err(e) = read {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail(format!("cannot read its output: {e}")));
        }
        if stdout.len() as u64 > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail(format!(
                "its output is larger than {} MiB, the most drover reads of an inventory",
                limit >> 20
            )));
        }
    }
    let status = child
        .wait()
        .map_err(|e| fail(format!("cannot wait for it: {e}")))?;
    if !status.success() {
        let kept = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        let stderr = String::from_utf8_lossy(&kept);
        return Err(fail(format!("it exited with {status}: {}", stderr.trim())));
    }
    let json: Value = serde_json::from_slice(&stdout)
        .map_err(|e| fail(format!("its output is not JSON: {e}")))?;
    from_json(&json).map_err(fail)
}

/// How much of a failed script's stderr its message quotes at most.
const STDERR_KEPT: u64 = 4 << 10;

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
