//! The summary at the end of a run: counts per status, the hosts that failed and why, and
//! identical outputs grouped across hosts, so 200 routers saying the same thing read as one
//! row.

use std::collections::BTreeMap;

use comfy_table::{presets, Table};

use crate::outcome::{HostStatus, TaskStatus};
use crate::report::RunReport;

pub fn summary(report: &RunReport, group_outputs: bool) -> String {
    let mut out = String::new();
    let mut counts = Table::new();
    counts.load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED);
    counts.set_header(vec!["status", "hosts"]);
    for status in HostStatus::ALL {
        let n = report.counts.get(&status).copied().unwrap_or(0);
        if n > 0 || status == HostStatus::Ok {
            counts.add_row(vec![status.as_str().to_string(), n.to_string()]);
        }
    }
    out.push_str(&counts.to_string());
    out.push('\n');

    let failed: Vec<_> = report
        .hosts
        .iter()
        .filter(|h| h.outcome.status.is_failure() || h.outcome.status == HostStatus::Cancelled)
        .collect();
    if !failed.is_empty() {
        let mut table = Table::new();
        table.load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED);
        table.set_header(vec!["host", "status", "error", "message"]);
        for h in failed.iter().take(50) {
            let (kind, message) = match &h.outcome.error {
                Some(e) => (e.kind.as_str().to_string(), first_line(&e.message)),
                None => (String::new(), String::new()),
            };
            table.add_row(vec![
                h.name.clone(),
                h.outcome.status.as_str().to_string(),
                kind,
                message,
            ]);
        }
        out.push_str(&table.to_string());
        out.push('\n');
        if failed.len() > 50 {
            out.push_str(&format!(
                "… and {} more (see the report)\n",
                failed.len() - 50
            ));
        }
    }

    if group_outputs {
        // Identical stdout of the last command that ran, grouped across hosts.
        let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for h in &report.hosts {
            let last = h
                .tasks
                .iter()
                .rev()
                .find(|t| t.status != TaskStatus::Skipped);
            if let Some(t) = last {
                groups
                    .entry(t.stdout.as_str())
                    .or_default()
                    .push(h.name.as_str());
            }
        }
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_by_key(|g| std::cmp::Reverse(g.1.len()));
        for (stdout, hosts) in groups {
            out.push_str(&format!(
                "---------------\n{} ({})\n---------------\n",
                hosts.join(","),
                hosts.len()
            ));
            out.push_str(stdout);
            if !stdout.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > 100 {
        format!("{}…", line.chars().take(100).collect::<String>())
    } else {
        line.to_string()
    }
}
