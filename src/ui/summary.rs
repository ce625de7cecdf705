//! The summary at the end of a run: counts per status, the hosts that failed and why, the
//! slowest hosts, and identical outputs grouped across hosts (as `clubak` does), so 200
//! routers saying the same thing read as one group with a folded host list.

use comfy_table::{presets, Table};

use crate::outcome::HostStatus;
use crate::report::RunReport;

/// Hosts listed by name before "… and N more".
const MAX_ROWS: usize = 50;
/// Hosts in the "slowest" table.
const SLOWEST: usize = 5;

/// The summary text. `group_outputs` adds the grouped outputs (always for `exec`).
pub fn summary(report: &RunReport, group_outputs: bool) -> String {
    let mut out = String::new();
    let mut counts = table(vec!["status", "hosts"]);
    for status in HostStatus::ALL {
        let n = report.counts.get(&status).copied().unwrap_or(0);
        if n > 0 || status == HostStatus::Ok {
            counts.add_row(vec![status.as_str().to_string(), n.to_string()]);
        }
    }
    out.push_str(&counts.to_string());
    out.push('\n');

    let troubled: Vec<_> = report
        .hosts
        .iter()
        .filter(|h| {
            h.outcome.status.is_failure()
                || h.outcome.status == HostStatus::Cancelled
                || (h.outcome.status == HostStatus::Skipped && h.outcome.error.is_some())
        })
        .collect();
    if !troubled.is_empty() {
        let mut t = table(vec!["host", "status", "error", "message"]);
        for h in troubled.iter().take(MAX_ROWS) {
            let (kind, message) = match &h.outcome.error {
                Some(e) => (e.kind.as_str().to_string(), first_line(&e.message)),
                None => (String::new(), String::new()),
            };
            t.add_row(vec![
                h.name.clone(),
                h.outcome.status.as_str().to_string(),
                kind,
                message,
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
        if troubled.len() > MAX_ROWS {
            out.push_str(&format!(
                "… and {} more (see the report)\n",
                troubled.len() - MAX_ROWS
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
        let mut t = table(vec!["slowest", "status", "total", "connect"]);
        for h in ran.iter().take(SLOWEST) {
            t.add_row(vec![
                h.name.clone(),
                h.outcome.status.as_str().to_string(),
                format!("{} ms", h.outcome.duration_ms),
                h.outcome
                    .connect_ms
                    .map(|ms| format!("{ms} ms"))
                    .unwrap_or_default(),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }

    if group_outputs {
        // On screen every output shows, also one only a single host printed.
        let groups = crate::report::group_outputs(&report.hosts, 1);
        let several_tasks = groups.iter().any(|g| g.task > 0 || g.play > 0);
        for g in &groups {
            let task = if several_tasks {
                format!(" · task `{}`", g.task_name)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "---------------\n{} ({}){task}\n---------------\n",
                g.folded,
                g.hosts.len()
            ));
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

fn table(header: Vec<&str>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED);
    t.set_header(header);
    t
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > 100 {
        format!("{}…", line.chars().take(100).collect::<String>())
    } else {
        line.to_string()
    }
}
