//! The summary at the end of a run: counts per status, the failures grouped by what went
//! wrong (hosts with the same task, class, message and output share one row), the slowest
//! hosts, and identical outputs grouped across hosts (as `clubak` does), so 200 routers
//! saying the same thing read as one group with a folded host list.
//!
//! On a terminal every table fits its width: long host lists and messages are cut with `…`
//! (the report keeps them whole), the tables keep their shape.

use comfy_table::{presets, ColumnConstraint, ContentArrangement, Table};

use crate::outcome::{HostStatus, TaskStatus};
use crate::report::{fold, HostReport, RunReport};

/// Failure groups shown before "… and N more".
const MAX_ROWS: usize = 50;
/// Hosts in the "slowest" table.
const SLOWEST: usize = 5;
/// Lines of a failed task's own output shown under its message.
const EXCERPT_LINES: usize = 2;

/// The summary text, for a reader with no width limit (a pipe, a file, a test).
pub fn summary(report: &RunReport, group_outputs: bool) -> String {
    summary_fitted(report, group_outputs, None)
}

/// The summary text; with `width`, every table fits in that many columns.
pub fn summary_fitted(report: &RunReport, group_outputs: bool, width: Option<usize>) -> String {
    let mut out = String::new();
    let mut counts = table(vec!["status", "hosts"], width);
    for status in HostStatus::ALL {
        let n = report.counts.get(&status).copied().unwrap_or(0);
        if n > 0 || status == HostStatus::Ok {
            counts.add_row(vec![status.as_str().to_string(), n.to_string()]);
        }
    }
    out.push_str(&counts.to_string());
    out.push('\n');

    let failures = failure_groups(&report.hosts);
    if !failures.is_empty() {
        // Two columns, so a failure reads on an 80-column terminal: the hosts (one line, at
        // most a third of the width) and what went wrong, each line cut to what is left.
        let mut t = table(vec!["hosts", "what went wrong"], width);
        keep_whole(&mut t, &[0, 1]);
        let hosts_width = width.map_or(usize::MAX, |w| (w / 3).max(16));
        let cells: Vec<(String, Vec<String>)> = failures
            .iter()
            .take(MAX_ROWS)
            .map(|g| (hosts_cell(&g.folded, g.hosts, hosts_width), g.lines()))
            .collect();
        let widest_hosts = cells
            .iter()
            .map(|(h, _)| h.chars().count())
            .chain(["hosts".len()])
            .max()
            .unwrap_or(0);
        // `| a   b |`: 3 columns of border and padding per column, and one more.
        let what_width = width.map_or(usize::MAX, |w| w.saturating_sub(widest_hosts + 7).max(16));
        for (hosts, lines) in cells {
            let lines: Vec<String> = lines.iter().map(|l| truncate(l, what_width)).collect();
            t.add_row(vec![hosts, lines.join("\n")]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
        if failures.len() > MAX_ROWS {
            out.push_str(&format!(
                "… and {} more (see the report)\n",
                failures.len() - MAX_ROWS
            ));
        }
    }

    // The slowest hosts that did something, when there is more than one to compare.
    let mut ran: Vec<_> = report
        .hosts
        .iter()
        .filter(|h| h.outcome.connect_ms.is_some())
        .collect();
    if ran.len() > 1 {
        ran.sort_by_key(|h| std::cmp::Reverse(h.outcome.duration_ms));
        let mut t = table(vec!["slowest", "status", "total", "connect"], width);
        keep_whole(&mut t, &[0, 1, 2, 3]);
        let name_width = width.map_or(usize::MAX, |w| w.saturating_sub(40).max(8));
        for h in ran.iter().take(SLOWEST) {
            let mut row = comfy_table::Row::from(vec![
                truncate(&h.name, name_width),
                h.outcome.status.as_str().to_string(),
                format!("{} ms", h.outcome.duration_ms),
                h.outcome
                    .connect_ms
                    .map(|ms| format!("{ms} ms"))
                    .unwrap_or_default(),
            ]);
            row.max_height(1);
            t.add_row(row);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }

    if group_outputs {
        // On screen every output shows, also one only a single host printed.
        let groups = crate::report::group_outputs(&report.hosts, 1);
        let several_tasks = groups.iter().any(|g| g.task > 0 || g.play > 0);
        let rule = "-".repeat(15);
        for g in &groups {
            let task = if several_tasks {
                format!(" · task `{}`", g.task_name)
            } else {
                String::new()
            };
            let title = format!("{} ({}){task}", g.folded, g.hosts.len());
            let title = match width {
                Some(w) => truncate(&title, w),
                None => title,
            };
            out.push_str(&format!("{rule}\n{title}\n{rule}\n"));
            out.push_str(&g.stdout);
            if !g.stdout.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    // The handle for `drover report show|diff` and `--retry-failed`.
    if !report.run.run_id.is_empty() {
        out.push_str(&format!("run id: {}\n", report.run.run_id));
    }
    out
}

/// Hosts that failed (or were cancelled, or skipped for a reason) for the same reason.
#[derive(Debug, PartialEq)]
struct FailureGroup {
    status: HostStatus,
    /// The failed task's name; `connect` when the host never got that far.
    task: String,
    kind: String,
    message: String,
    /// The first lines the failed task printed (stderr, else stdout).
    excerpt: Vec<String>,
    folded: String,
    hosts: usize,
}

impl FailureGroup {
    /// `failed · nonzero_exit · task `x``, the message, then the task's first output lines.
    fn lines(&self) -> Vec<String> {
        let mut head = vec![self.status.as_str().to_string()];
        if !self.kind.is_empty() {
            head.push(self.kind.clone());
        }
        match self.task.as_str() {
            "" => {}
            "connect" => head.push("while connecting".to_string()),
            task => head.push(format!("task `{task}`")),
        }
        let mut lines = vec![head.join(" · ")];
        if !self.message.is_empty() {
            lines.push(self.message.clone());
        }
        lines.extend(self.excerpt.iter().map(|l| format!("│ {l}")));
        lines
    }
}

/// Groups troubled hosts by (status, task, class, message, output excerpt), in the order of
/// each group's first host; the largest group first.
fn failure_groups(hosts: &[HostReport]) -> Vec<FailureGroup> {
    type Key = (HostStatus, String, String, String, Vec<String>);
    let mut keys: Vec<Key> = Vec::new();
    let mut names: Vec<Vec<&str>> = Vec::new();
    for h in hosts.iter().filter(|h| troubled(h)) {
        let failed = h
            .tasks
            .iter()
            .find(|t| t.status == TaskStatus::Failed && t.error.is_some());
        let task = match failed {
            Some(t) => t.name.clone(),
            None if h.outcome.connect_ms.is_none() && h.outcome.error.is_some() => {
                "connect".to_string()
            }
            None => String::new(),
        };
        let (kind, message) = match h.outcome.error.as_ref() {
            Some(e) => (e.kind.as_str().to_string(), first_line(&e.message)),
            None => (String::new(), String::new()),
        };
        let excerpt = failed
            .map(|t| excerpt(&t.stderr, &t.stdout, &message))
            .unwrap_or_default();
        let key = (h.outcome.status, task, kind, message, excerpt);
        match keys.iter().position(|k| *k == key) {
            Some(i) => names[i].push(&h.name),
            None => {
                keys.push(key);
                names.push(vec![&h.name]);
            }
        }
    }
    let mut groups: Vec<FailureGroup> = keys
        .into_iter()
        .zip(names)
        .map(
            |((status, task, kind, message, excerpt), names)| FailureGroup {
                status,
                task,
                kind,
                message,
                excerpt,
                folded: fold(names.iter().copied()),
                hosts: names.len(),
            },
        )
        .collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.hosts));
    groups
}

/// `r[1-3],core (4)`, the list cut so the whole cell fits in `max` columns.
fn hosts_cell(folded: &str, n: usize, max: usize) -> String {
    let count = format!(" ({n})");
    let room = max.saturating_sub(count.chars().count()).max(4);
    format!("{}{count}", truncate(folded, room))
}

fn troubled(h: &HostReport) -> bool {
    h.outcome.status.is_failure()
        || h.outcome.status == HostStatus::Cancelled
        || (h.outcome.status == HostStatus::Skipped && h.outcome.error.is_some())
}

/// The first non-empty lines of what a failed task printed, stderr first; none when they only
/// repeat the message.
pub(super) fn excerpt(stderr: &str, stdout: &str, message: &str) -> Vec<String> {
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    let lines: Vec<String> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .take(EXCERPT_LINES)
        .map(|l| truncate(l, 200))
        .collect();
    if lines.len() == 1 && message.ends_with(lines[0].as_str()) {
        return Vec::new();
    }
    lines
}

fn table(header: Vec<&str>, width: Option<usize>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED);
    t.set_header(header);
    if let Some(w) = width {
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(u16::try_from(w).unwrap_or(u16::MAX));
        t.set_truncation_indicator("…");
    }
    t
}

/// Columns that are short words (a status, a class): never wrapped.
fn keep_whole(t: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_string()
}

/// At most `max` characters, the last one `…` when cut.
pub(super) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
