//! Ansible's YAML inventory, read as Ansible's `yaml` plugin reads it: nested groups with
//! `hosts:`, `children:` and `vars:` (in the order written), host ranges in host keys,
//! `host:port`, YAML 1.1 scalars. `all`'s vars become drover's defaults.

use std::path::Path;

use serde_json::Value;

use super::precedence::{AnsibleData, UNGROUPED};
use super::yaml11::{Key, Node};
use super::{address, connection, range, Inventory, Vars};
use crate::diagnostic::SourceError;
use crate::error::{Error, Result};

/// An error at a key of a YAML file (or the whole file when its position is unknown).
pub fn at_key(path: &Path, source: &str, key: &Key, message: String) -> Error {
    match key.offset {
        Some(at) => SourceError::at_offset(path, source, at, message).into(),
        None => SourceError::whole_file(path, format!("{message} (at `{}`)", key.text)).into(),
    }
}

/// Rejects, where it is written, a variable drover cannot honour.
pub fn check_var(key: &str, value: &Value) -> Result<(), String> {
    match key {
        "ansible_connection" => match value {
            Value::String(s) => connection::transport_for(s).map(|_| ()),
            other => Err(format!(
                "`ansible_connection` must be a string, not {other}"
            )),
        },
        "ansible_group_priority" => group_priority(value).map(|_| ()),
        "ansible_ssh_common_args" | "ansible_ssh_extra_args" => match value {
            Value::String(s) => connection::ssh_args(key, s).map(|_| ()),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

pub fn group_priority(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(n) if n.is_i64() => Ok(n.as_i64().unwrap_or(1)),
        Value::String(s) if s.trim().parse::<i64>().is_ok() => Ok(s.trim().parse().unwrap_or(1)),
        other => Err(format!(
            "`ansible_group_priority` must be a whole number, not {other}"
        )),
    }
}

pub fn parse(path: &Path, source: &str) -> Result<Inventory> {
    let mut reader = Reader {
        path,
        source,
        inv: Inventory {
            ansible: Some(Box::default()),
            ..Inventory::default()
        },
    };
    let Some(top) = super::yaml11::parse(path, source)? else {
        return Ok(reader.inv);
    };
    let Node::Map(entries) = top else {
        return Err(SourceError::whole_file(
            path,
            format!(
                "an Ansible YAML inventory must be a mapping of groups, not {}",
                top.kind()
            ),
        )
        .into());
    };
    if let Some((key, _)) = entries.iter().find(|(k, _)| k.text == "plugin") {
        return Err(reader.err(key, "inventory plugin configuration (`plugin:`) is not supported; drover reads YAML and INI inventories and executable dynamic inventories".into()));
    }
    for (key, node) in &entries {
        reader.group(key, node)?;
    }
    Ok(reader.inv)
}

struct Reader<'a> {
    path: &'a Path,
    source: &'a str,
    inv: Inventory,
}

impl Reader<'_> {
    fn err(&self, key: &Key, message: String) -> Error {
        at_key(self.path, self.source, key, message)
    }

    fn data(&mut self) -> &mut AnsibleData {
        self.inv.ansible.get_or_insert_with(Box::default)
    }

    fn group(&mut self, key: &Key, node: &Node) -> Result<()> {
        let name = key.text.as_str();
        let entries = match node {
            Node::Map(entries) => entries.as_slice(),
            n if n.is_null() => &[],
            other => {
                return Err(self.err(
                    key,
                    format!(
                    "group `{name}` must be a mapping with `hosts`, `children` or `vars`, not {}",
                    other.kind()
                ),
                ))
            }
        };
        if name != "all" && name != UNGROUPED {
            self.inv.groups.entry(name.to_string()).or_default();
        }
        for (section, value) in entries {
            let items: Vec<(Key, Node)> = match value {
                Node::Map(items) => items.clone(),
                Node::Scalar(Value::String(s)) if section.text != "vars" => vec![(
                    Key {
                        text: s.clone(),
                        offset: None,
                    },
                    Node::Scalar(Value::Null),
                )],
                n if n.is_null() => Vec::new(),
                other => {
                    return Err(self.err(
                        section,
                        format!(
                            "`{}` of group `{name}` must be a mapping, not {}",
                            section.text,
                            other.kind()
                        ),
                    ))
                }
            };
            match section.text.as_str() {
                "vars" => self.vars(name, section, items)?,
                "children" => {
                    for (child, child_node) in &items {
                        if child.text == "all" {
                            return Err(self.err(child, "`all` cannot be a child group".into()));
                        }
                        self.group(child, child_node)?;
                        self.child(name, child)?;
                    }
                }
                "hosts" => {
                    for (pattern, host_node) in &items {
                        self.hosts(name, pattern, host_node)?;
                    }
                }
                other => {
                    return Err(self.err(
                        section,
                        format!("unknown key `{other}` in group `{name}` (expected `hosts`, `children` or `vars`)"),
                    ))
                }
            }
        }
        Ok(())
    }

    fn vars(&mut self, group: &str, section: &Key, items: Vec<(Key, Node)>) -> Result<()> {
        if group == UNGROUPED && !items.is_empty() {
            return Err(self.err(
                section,
                "vars on `ungrouped` are not supported; put them in `all` or a group".into(),
            ));
        }
        for (key, node) in items {
            let value = node.to_json();
            check_var(&key.text, &value).map_err(|m| self.err(&key, m))?;
            if key.text == "ansible_group_priority" {
                let p = group_priority(&value).map_err(|m| self.err(&key, m))?;
                self.data().priority.insert(group.to_string(), p);
                continue;
            }
            let vars = if group == "all" {
                &mut self.inv.defaults
            } else {
                &mut self.inv.groups.entry(group.to_string()).or_default().vars
            };
            vars.insert(key.text, value);
        }
        Ok(())
    }

    fn child(&mut self, parent: &str, child: &Key) -> Result<()> {
        if child.text == UNGROUPED {
            if parent == "all" {
                return Ok(());
            }
            return Err(self.err(child, "`ungrouped` can only be a child of `all`".into()));
        }
        if parent == "all" {
            self.data().all_children.insert(child.text.clone());
        } else if parent == UNGROUPED {
            return Err(self.err(child, "`ungrouped` cannot have child groups".into()));
        } else {
            let group = self.inv.groups.entry(parent.to_string()).or_default();
            group.children.insert(child.text.clone());
        }
        Ok(())
    }

    fn hosts(&mut self, group: &str, pattern: &Key, node: &Node) -> Result<()> {
        let vars: Vec<(Key, Node)> = match node {
            Node::Map(entries) => entries.clone(),
            n if n.is_null() => Vec::new(),
            other => {
                return Err(self.err(
                    pattern,
                    format!(
                        "host `{}` must have a mapping of variables, not {}",
                        pattern.text,
                        other.kind()
                    ),
                ))
            }
        };
        let (name, port) = address::split_port(&pattern.text);
        let names = range::expand(&name).map_err(|m| self.err(pattern, m))?;
        let mut host_vars = Vars::new();
        if let Some(port) = port {
            host_vars.insert("ansible_port".into(), port.into());
        }
        for (key, node) in vars {
            let value = node.to_json();
            check_var(&key.text, &value).map_err(|m| self.err(&key, m))?;
            host_vars.insert(key.text, value);
        }
        for host in names {
            add_host(&mut self.inv, &host, group, host_vars.clone());
        }
        Ok(())
    }
}

/// Adds `host` to `group` (`all` and `ungrouped` are Ansible's implicit groups) with vars.
pub fn add_host(inv: &mut Inventory, host: &str, group: &str, vars: Vars) {
    let entry = inv.hosts.entry(host.to_string()).or_default();
    entry.vars.extend(vars);
    match group {
        "all" => {
            inv.ansible
                .get_or_insert_with(Box::default)
                .all_hosts
                .insert(host.to_string());
        }
        UNGROUPED => {
            inv.ansible
                .get_or_insert_with(Box::default)
                .ungrouped
                .insert(host.to_string());
        }
        g => {
            entry.groups.insert(g.to_string());
            inv.groups
                .entry(g.to_string())
                .or_default()
                .hosts
                .insert(host.to_string());
        }
    }
}
