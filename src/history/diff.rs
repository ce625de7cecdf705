//! Drift between two runs, per host and task: status changes, hosts that appeared or
//! vanished, changed stdout (a unified diff, cut short), and changed `parsed` fields when a
//! task's result carries them. Hosts with the same changes are grouped, as identical outputs
//! are in the summary, so 200 routers that all moved to a new version read as one group.
//!
//! Reports are read through a narrow view of only the fields compared, so a report of an
//! older or newer drover (with fields this one does not know) still compares.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::outcome::{ErrorKind, HostStatus, TaskError, TaskStatus};

/// The parts of a report that drift is made of.
#[derive(Debug, Deserialize)]
pub struct View {
    #[serde(default)]
    pub run: ViewRun,
    #[serde(default)]
    pub hosts: Vec<ViewHost>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ViewRun {
    #[serde(default)]
    pub run_id: String,
    #[serde(default)]
    pub started_at: String,
}

#[derive(Debug, Deserialize)]
pub struct ViewHost {
    pub name: String,
    #[serde(default)]
    pub play: usize,
    pub status: HostStatus,
    #[serde(default)]
    pub error: Option<TaskError>,
    #[serde(default)]
    pub tasks: Vec<ViewTask>,
}

#[derive(Debug, Deserialize)]
pub struct ViewTask {
    pub index: usize,
    #[serde(default)]
    pub name: String,
    pub status: TaskStatus,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub stdout: String,
    #[serde(default)]
    pub parsed: Option<Value>,
}

impl View {
    pub fn load(path: &Path) -> Result<View> {
        View::parse(path, &super::store::read_report(path)?)
    }

    pub fn parse(path: &Path, text: &str) -> Result<View> {
        serde_json::from_str(text).map_err(|e| Error::Invalid {
            what: format!("report {}:{}:{}", path.display(), e.line(), e.column()),
            message: format!("not a drover report: {e}"),
        })
    }
}

/// One difference on one host.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Appeared {
        status: HostStatus,
    },
    Vanished {
        status: HostStatus,
    },
    Status {
        from: HostStatus,
        to: HostStatus,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<ErrorKind>,
    },
    TaskStatus {
        task: String,
        from: Option<TaskStatus>,
        to: Option<TaskStatus>,
    },
    ExitCode {
        task: String,
        from: Option<i32>,
        to: Option<i32>,
    },
    Stdout {
        task: String,
        diff: String,
    },
    Parsed {
        task: String,
        field: String,
        from: Option<Value>,
        to: Option<Value>,
    },
}

/// Hosts that changed the same way.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub hosts: Vec<String>,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub run_id: String,
    pub started_at: String,
    pub file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub from: Side,
    pub to: Side,
    pub drift: bool,
    /// Hosts in either run.
    pub hosts: usize,
    pub changed_hosts: usize,
    pub groups: Vec<Group>,
}

/// Compares `a` (earlier) with `b` (later).
pub fn diff(a: &View, b: &View, max_lines: usize) -> Vec<(String, Vec<Change>)> {
    let plays = a
        .hosts
        .iter()
        .chain(&b.hosts)
        .map(|h| h.play)
        .max()
        .unwrap_or(0);
    let label = |h: &ViewHost| {
        if plays > 0 {
            format!("{} (play {})", h.name, h.play + 1)
        } else {
            h.name.clone()
        }
    };
    let before: IndexMap<(usize, &str), &ViewHost> = a
        .hosts
        .iter()
        .map(|h| ((h.play, h.name.as_str()), h))
        .collect();
    let after: IndexMap<(usize, &str), &ViewHost> = b
        .hosts
        .iter()
        .map(|h| ((h.play, h.name.as_str()), h))
        .collect();
    let mut out = Vec::new();
    for (key, new) in &after {
        let changes = match before.get(key) {
            None => vec![Change::Appeared { status: new.status }],
            Some(old) => host_changes(old, new, max_lines),
        };
        out.push((label(new), changes));
    }
    for (key, old) in &before {
        if !after.contains_key(key) {
            out.push((label(old), vec![Change::Vanished { status: old.status }]));
        }
    }
    out
}

fn host_changes(old: &ViewHost, new: &ViewHost, max_lines: usize) -> Vec<Change> {
    let mut changes = Vec::new();
    let status_changed = old.status != new.status;
    if status_changed {
        changes.push(Change::Status {
            from: old.status,
            to: new.status,
            error: new.error.as_ref().map(|e| e.kind),
        });
    }
    let old_tasks: BTreeMap<usize, &ViewTask> = old.tasks.iter().map(|t| (t.index, t)).collect();
    let new_tasks: BTreeMap<usize, &ViewTask> = new.tasks.iter().map(|t| (t.index, t)).collect();
    let indexes: std::collections::BTreeSet<usize> =
        old_tasks.keys().chain(new_tasks.keys()).copied().collect();
    for i in indexes {
        let (o, n) = (old_tasks.get(&i), new_tasks.get(&i));
        let name = n.or(o).map(|t| task_name(t)).unwrap_or_default();
        match (o, n) {
            (Some(o), Some(n)) => task_changes(&name, o, n, max_lines, &mut changes),
            // A host that went unreachable ran none of its tasks: its status says it all.
            _ if status_changed => {}
            _ => changes.push(Change::TaskStatus {
                task: name,
                from: o.map(|t| t.status),
                to: n.map(|t| t.status),
            }),
        }
    }
    changes
}

fn task_changes(name: &str, o: &ViewTask, n: &ViewTask, max_lines: usize, out: &mut Vec<Change>) {
    if o.status != n.status {
        out.push(Change::TaskStatus {
            task: name.to_string(),
            from: Some(o.status),
            to: Some(n.status),
        });
    } else if o.exit_code != n.exit_code {
        out.push(Change::ExitCode {
            task: name.to_string(),
            from: o.exit_code,
            to: n.exit_code,
        });
    }
    if o.stdout != n.stdout {
        out.push(Change::Stdout {
            task: name.to_string(),
            diff: super::line_diff::unified(&o.stdout, &n.stdout, max_lines),
        });
    }
    if o.parsed != n.parsed {
        let (mut before, mut after) = (BTreeMap::new(), BTreeMap::new());
        if let Some(v) = &o.parsed {
            leaves(v, String::new(), &mut before);
        }
        if let Some(v) = &n.parsed {
            leaves(v, String::new(), &mut after);
        }
        let fields: std::collections::BTreeSet<&String> =
            before.keys().chain(after.keys()).collect();
        for field in fields {
            let (f, t) = (before.get(field), after.get(field));
            if f != t {
                out.push(Change::Parsed {
                    task: name.to_string(),
                    field: field.clone(),
                    from: f.cloned().cloned(),
                    to: t.cloned().cloned(),
                });
            }
        }
    }
}

fn task_name(t: &ViewTask) -> String {
    if t.name.is_empty() {
        format!("task {}", t.index + 1)
    } else {
        t.name.clone()
    }
}

/// A JSON value's scalar leaves by path: `interfaces[0].state`. Empty objects and arrays
/// count as leaves, so a list that emptied is seen.
fn leaves<'a>(v: &'a Value, path: String, out: &mut BTreeMap<String, &'a Value>) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaves(v, p, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, format!("{path}[{i}]"), out);
            }
        }
        _ => {
            out.insert(if path.is_empty() { ".".into() } else { path }, v);
        }
    }
}

/// Groups the hosts that changed identically, in the order they were first seen.
pub fn group(per_host: Vec<(String, Vec<Change>)>) -> Vec<Group> {
    let mut groups: IndexMap<String, Group> = IndexMap::new();
    for (host, changes) in per_host {
        if changes.is_empty() {
            continue;
        }
        let key = serde_json::to_string(&changes).unwrap_or_default();
        groups
            .entry(key)
            .or_insert_with(|| Group {
                hosts: Vec::new(),
                changes,
            })
            .hosts
            .push(host);
    }
    groups.into_values().collect()
}

/// Compares two reports and groups the result.
pub fn drift(a: (&Path, &View), b: (&Path, &View), max_lines: usize) -> Drift {
    let per_host = diff(a.1, b.1, max_lines);
    let hosts = per_host.len();
    let changed_hosts = per_host.iter().filter(|(_, c)| !c.is_empty()).count();
    let side = |(path, v): (&Path, &View)| Side {
        run_id: v.run.run_id.clone(),
        started_at: v.run.started_at.clone(),
        file: path.display().to_string(),
    };
    Drift {
        from: side(a),
        to: side(b),
        drift: changed_hosts > 0,
        hosts,
        changed_hosts,
        groups: group(per_host),
    }
}

impl Drift {
    /// The readable view: one block per group, its hosts folded (`r[1-3]`), then its changes.
    pub fn render(&self) -> String {
        let name = |s: &Side| {
            if s.run_id.is_empty() {
                s.file.clone()
            } else {
                s.run_id.clone()
            }
        };
        let mut out = String::new();
        if !self.drift {
            let _ = writeln!(
                out,
                "no drift from {} to {} ({} hosts)",
                name(&self.from),
                name(&self.to),
                self.hosts
            );
            return out;
        }
        let _ = writeln!(
            out,
            "drift from {} to {}: {} of {} hosts changed",
            name(&self.from),
            name(&self.to),
            self.changed_hosts,
            self.hosts
        );
        for g in &self.groups {
            let hosts = crate::report::fold(g.hosts.iter().map(String::as_str));
            let _ = writeln!(
                out,
                "\n{hosts} ({} host{})",
                g.hosts.len(),
                plural(g.hosts.len())
            );
            for c in &g.changes {
                render_change(c, &mut out);
            }
        }
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A value as the drift text shows it: `not run` for none, strings bare.
pub(super) fn opt<T: Serialize>(v: &Option<T>) -> String {
    match v {
        None => "not run".into(),
        Some(v) => match serde_json::to_value(v) {
            Ok(Value::String(s)) => s,
            Ok(v) => v.to_string(),
            Err(_) => String::new(),
        },
    }
}

fn render_change(c: &Change, out: &mut String) {
    let _ = match c {
        Change::Appeared { status } => writeln!(out, "  appeared ({})", status.as_str()),
        Change::Vanished { status } => writeln!(out, "  vanished (was {})", status.as_str()),
        Change::Status { from, to, error } => {
            let why = error
                .map(|e| format!(" ({})", e.as_str()))
                .unwrap_or_default();
            writeln!(out, "  status {} → {}{why}", from.as_str(), to.as_str())
        }
        Change::TaskStatus { task, from, to } => {
            writeln!(out, "  task `{task}`: {} → {}", opt(from), opt(to))
        }
        Change::ExitCode { task, from, to } => {
            writeln!(
                out,
                "  task `{task}`: exit code {} → {}",
                opt(from),
                opt(to)
            )
        }
        Change::Stdout { task, diff } => {
            let _ = writeln!(out, "  task `{task}`: stdout changed");
            for line in diff.lines() {
                let _ = writeln!(out, "    {line}");
            }
            Ok(())
        }
        Change::Parsed {
            task,
            field,
            from,
            to,
        } => {
            let show = |v: &Option<Value>| v.as_ref().map_or("absent".into(), Value::to_string);
            writeln!(
                out,
                "  task `{task}`: parsed {field}: {} → {}",
                show(from),
                show(to)
            )
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(json: serde_json::Value) -> View {
        serde_json::from_value(json).unwrap()
    }

    fn host(name: &str, status: &str, stdout: &str, parsed: Value) -> Value {
        serde_json::json!({"name": name, "status": status, "tasks": [
            {"index": 0, "name": "show", "status": "ok", "exit_code": 0, "stdout": stdout, "parsed": parsed}
        ]})
    }

    #[test]
    fn parsed_fields_drift_by_path() {
        let a = view(
            serde_json::json!({"hosts": [host("r1", "ok", "x", serde_json::json!({"v": {"major": 15, "minor": 1}}))]}),
        );
        let b = view(
            serde_json::json!({"hosts": [host("r1", "ok", "x", serde_json::json!({"v": {"major": 15, "minor": 2}}))]}),
        );
        let d = diff(&a, &b, 10);
        let json = serde_json::to_value(&d[0].1).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{"change": "parsed", "task": "show", "field": "v.minor", "from": 1, "to": 2}])
        );
    }

    #[test]
    fn identical_changes_group() {
        let a = view(
            serde_json::json!({"hosts": [host("r1", "ok", "1\n", Value::Null), host("r2", "ok", "1\n", Value::Null), host("r3", "ok", "1\n", Value::Null)]}),
        );
        let b = view(
            serde_json::json!({"hosts": [host("r1", "ok", "2\n", Value::Null), host("r2", "ok", "2\n", Value::Null), host("r3", "ok", "1\n", Value::Null)]}),
        );
        let groups = group(diff(&a, &b, 10));
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].hosts, vec!["r1", "r2"]);
    }
}
