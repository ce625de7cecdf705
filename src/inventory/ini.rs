//! Ansible's INI inventory, read as Ansible's `ini` plugin reads it: hosts before any
//! section are ungrouped; `[group]` lists hosts (`host[:port] key=value ...`, with ranges),
//! `[group:children]` child groups (which may be defined further down), `[group:vars]`
//! `key=value` lines; `#` and `;` start comments. Values are typed as Python literals
//! (see `literal`).

use std::collections::HashMap;
use std::path::Path;

use super::ansible::{add_host, check_var, group_priority};
use super::precedence::UNGROUPED;
use super::{address, literal, range, Inventory, Vars};
use crate::diagnostic::SourceError;
use crate::error::Result;

#[derive(PartialEq, Clone, Copy)]
enum State {
    Hosts,
    Children,
    Vars,
}

/// A group named before it is defined: as a child (`parents`) or by `[g:vars]`.
struct Pending {
    line: usize,
    offset: usize,
    children: bool,
    parents: Vec<String>,
}

pub fn parse(path: &Path, source: &str) -> Result<Inventory> {
    let mut inv = Inventory {
        ansible: Some(Box::default()),
        ..Inventory::default()
    };
    let mut group = UNGROUPED.to_string();
    let mut state = State::Hosts;
    let mut pending: Vec<(String, Pending)> = Vec::new();
    let mut known: HashMap<String, ()> = HashMap::new();
    let mut offset = 0;
    for (index, raw) in source.split_inclusive('\n').enumerate() {
        let line_start = offset;
        offset += raw.len();
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        let col = raw.find(line).unwrap_or(0);
        let at = |delta: usize, message: String| {
            SourceError::at_offset(path, source, line_start + col + delta, message)
        };
        if line.starts_with('[') {
            let Some((name, kind)) = section(line) else {
                return Err(at(0, format!("`{line}` is not a section header (expected `[group]`, `[group:children]` or `[group:vars]`, with no spaces)")).into());
            };
            state = match kind {
                None | Some("hosts") => State::Hosts,
                Some("children") => State::Children,
                Some("vars") => State::Vars,
                Some(other) => {
                    return Err(at(0, format!("section `{line}` has the unknown type `{other}` (expected `children` or `vars`)")).into())
                }
            };
            group = name.to_string();
            let exists = known.contains_key(&group) || group == "all" || group == UNGROUPED;
            if !exists {
                if state == State::Vars && !pending.iter().any(|(g, _)| *g == group) {
                    pending.push((
                        group.clone(),
                        Pending {
                            line: line_no,
                            offset: line_start + col,
                            children: false,
                            parents: Vec::new(),
                        },
                    ));
                }
                known.insert(group.clone(), ());
                inv.groups.entry(group.clone()).or_default();
            }
            if state != State::Vars {
                if let Some(i) = pending.iter().position(|(g, _)| *g == group) {
                    if pending[i].1.children {
                        add_pending_children(&mut inv, &group, &mut pending);
                    } else {
                        pending.remove(i);
                    }
                }
            }
            if group == UNGROUPED && state != State::Hosts {
                return Err(at(0, format!("`{line}`: `ungrouped` can only list hosts")).into());
            }
            continue;
        }
        match state {
            State::Hosts => {
                let words = words(line)
                    .ok_or_else(|| at(0, "this host line has an unclosed quote".into()))?;
                let Some(((pattern, _), rest)) = words.split_first() else {
                    continue;
                };
                let (name, port) = address::split_port(pattern);
                if pattern.ends_with(':') && port.is_none() {
                    return Err(at(
                        0,
                        format!("host `{pattern}` ends in `:` (expected `host:port`)"),
                    )
                    .into());
                }
                if name == "---" {
                    return Err(at(
                        0,
                        "`---` starts a YAML document: name the file `.yml`, or write INI".into(),
                    )
                    .into());
                }
                if pattern.contains('@') {
                    return Err(at(0, format!("`{pattern}` is a pssh-style `user@host` entry, which an INI inventory does not have (write `{} ansible_user={}`)", pattern.split_once('@').map_or("", |(_, h)| h), pattern.split_once('@').map_or("", |(u, _)| u))).into());
                }
                let hosts = range::expand(&name).map_err(|m| at(0, m))?;
                let mut vars = Vars::new();
                if let Some(port) = port {
                    vars.insert("ansible_port".into(), port.into());
                }
                for (word, delta) in rest {
                    let Some((k, v)) = word.split_once('=') else {
                        return Err(at(
                            *delta,
                            format!("`{word}` is not a `key=value` host variable"),
                        )
                        .into());
                    };
                    let value = literal::ini_value(v);
                    check_var(k, &value).map_err(|m| at(*delta, m))?;
                    vars.insert(k.to_string(), value);
                }
                for host in hosts {
                    add_host(&mut inv, &host, &group, vars.clone());
                }
            }
            State::Vars => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(at(0, format!("`{line}` is not a `key=value` variable")).into());
                };
                let (k, v) = (k.trim(), v.trim());
                let value = literal::ini_value(v);
                check_var(k, &value).map_err(|m| at(0, m))?;
                if k == "ansible_group_priority" {
                    let p = group_priority(&value).map_err(|m| at(0, m))?;
                    inv.ansible
                        .get_or_insert_with(Box::default)
                        .priority
                        .insert(group.clone(), p);
                } else if group == "all" {
                    inv.defaults.insert(k.to_string(), value);
                } else {
                    inv.groups
                        .entry(group.clone())
                        .or_default()
                        .vars
                        .insert(k.to_string(), value);
                }
            }
            State::Children => {
                let child = line.split('#').next().unwrap_or("").trim();
                if child.is_empty() || child.contains([':', ']', ' ', '\t']) {
                    return Err(at(0, format!("`{line}` is not a group name")).into());
                }
                if child == "all" || child == UNGROUPED {
                    return Err(at(0, format!("`{child}` cannot be a child group here")).into());
                }
                if known.contains_key(child) {
                    add_child(&mut inv, &group, child);
                } else if let Some((_, p)) = pending.iter_mut().find(|(g, _)| g == child) {
                    p.parents.push(group.clone());
                } else {
                    pending.push((
                        child.to_string(),
                        Pending {
                            line: line_no,
                            offset: line_start + col,
                            children: true,
                            parents: vec![group.clone()],
                        },
                    ));
                }
            }
        }
    }
    if let Some((name, p)) = pending.first() {
        let message = if p.children {
            format!(
                "section [{}:children] names the group `{name}`, which is not defined (expected a `[{name}]` section)",
                p.parents.last().map_or("", String::as_str)
            )
        } else {
            format!("section [{name}:vars] is for the group `{name}`, which is not defined")
        };
        let _ = p.line;
        return Err(SourceError::at_offset(path, source, p.offset, message).into());
    }
    Ok(inv)
}

fn add_child(inv: &mut Inventory, parent: &str, child: &str) {
    if parent == "all" {
        inv.ansible
            .get_or_insert_with(Box::default)
            .all_children
            .insert(child.to_string());
    } else {
        inv.groups
            .entry(parent.to_string())
            .or_default()
            .children
            .insert(child.to_string());
    }
}

fn add_pending_children(inv: &mut Inventory, group: &str, pending: &mut Vec<(String, Pending)>) {
    let Some(i) = pending.iter().position(|(g, _)| g == group) else {
        return;
    };
    let (_, p) = pending.remove(i);
    for parent in p.parents {
        add_child(inv, &parent, group);
        if pending.iter().any(|(g, q)| *g == parent && q.children) {
            add_pending_children(inv, &parent, pending);
        }
    }
}

/// `[name]` or `[name:kind]`, with an optional trailing comment.
fn section(line: &str) -> Option<(&str, Option<&str>)> {
    let inner = line.strip_prefix('[')?;
    let end = inner.find(']')?;
    let after = inner[end + 1..].trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let body = &inner[..end];
    let (name, kind) = match body.split_once(':') {
        Some((n, k)) => (n, Some(k)),
        None => (body, None),
    };
    let name_ok = !name.is_empty() && !name.contains(char::is_whitespace);
    let kind_ok =
        kind.is_none_or(|k| !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_'));
    (name_ok && kind_ok).then_some((name, kind))
}

/// Shell words as Python's `shlex.split(line, comments=True)` gives them, each with the
/// byte offset it starts at.
fn words(line: &str) -> Option<Vec<(String, usize)>> {
    let mut out = Vec::new();
    let mut cur: Option<(String, usize)> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' => break,
            '\'' => {
                let w = &mut cur.get_or_insert_with(|| (String::new(), i)).0;
                loop {
                    match chars.next()?.1 {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = &mut cur.get_or_insert_with(|| (String::new(), i)).0;
                loop {
                    match chars.next()?.1 {
                        '"' => break,
                        '\\' => {
                            let (_, n) = chars.next()?;
                            if n != '"' && n != '\\' {
                                w.push('\\');
                            }
                            w.push(n);
                        }
                        c => w.push(c),
                    }
                }
            }
            '\\' => {
                let w = &mut cur.get_or_insert_with(|| (String::new(), i)).0;
                if let Some((_, n)) = chars.next() {
                    w.push(n);
                }
            }
            c if c.is_whitespace() => out.extend(cur.take()),
            c => cur.get_or_insert_with(|| (String::new(), i)).0.push(c),
        }
    }
    out.extend(cur);
    Some(out)
}
