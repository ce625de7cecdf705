//! What a watch shows: on a terminal a table of the hosts (most urgent first) redrawn in
//! place; anywhere else one plain line per change (a level change, a host whose result
//! changed), nothing for a check that changed nothing; at the end, the report of the watch
//! period. These build text; `ui::out` writes it.

use std::collections::BTreeMap;

use comfy_table::{presets, Table};
use serde::Serialize;

use super::event::{CheckStatus, Stamped, WatchEvent};
use super::ledger::{HostView, Ledger};
use super::level::Level;

/// Plain lines for the changes in one event (none for most checks). `last` is the host's
/// status before this event, as the ledger had it.
pub fn plain_lines(event: &Stamped, last: Option<CheckStatus>) -> Vec<String> {
    let at = format!("{:>8}", clock(event.at_ms));
    match &event.event {
        WatchEvent::WatchStarted {
            hosts,
            resumed,
            concurrency,
            ..
        } => vec![format!(
            "{at}  watching {hosts} host(s), {resumed} resumed from saved state, at most {concurrency} check(s) at once"
        )],
        WatchEvent::Check {
            host,
            status,
            error,
            breaker_open,
            next_in_ms,
            ..
        } if last != Some(*status) => {
            let mut why = match error {
                Some(e) if e.kind.as_str() == status.as_str() => format!(": {}", e.message),
                Some(e) => format!(": {}: {}", e.kind.as_str(), e.message),
                None => String::new(),
            };
            if *breaker_open {
                why.push_str(&format!(
                    " (breaker open: next check in {})",
                    clock(*next_in_ms)
                ));
            }
            let was = last.map_or("-", CheckStatus::as_str);
            vec![format!("{at}  {host}  {was} → {}{why}", status.as_str())]
        }
        WatchEvent::LevelChanged {
            host,
            from,
            to,
            streak,
            idle_ms,
        } => {
            let why = if let Some(ms) = idle_ms {
                format!("not heard from for {}", clock(*ms))
            } else if to < from {
                format!("{streak} failure(s) in a row")
            } else {
                format!("{streak} success(es) in a row")
            };
            vec![format!("{at}  {host}  level {from} → {to} ({why})")]
        }
        WatchEvent::Subscriptions {
            evicted,
            added,
            held,
            waiting,
            ..
        } => {
            let held: Vec<String> = held.iter().map(|(c, n)| format!("{c}: {n}")).collect();
            vec![format!(
                "{at}  subscriptions: {} host(s) added, {} evicted; held {}; {waiting} host(s) without a place",
                added.len(),
                evicted.len(),
                held.join(", ")
            )]
        }
        _ => Vec::new(),
    }
}

/// `1h02m03s`-style watch time.
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    match (s / 3600, (s / 60) % 60, s % 60) {
        (0, 0, sec) => format!("{sec}.{}s", (ms % 1000) / 100),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, m, sec) => format!("{h}h{m:02}m{sec:02}s"),
    }
}

/// The live table: hosts by level (most urgent first), then by name; at most `rows` hosts,
/// and a line saying how many more there are.
pub fn table(ledger: &Ledger, rows: usize, width: Option<usize>) -> String {
    let mut hosts: Vec<&HostView> = ledger.hosts.iter().collect();
    hosts.sort_by(|a, b| (a.level, &a.name).cmp(&(b.level, &b.name)));
    let mut counts = BTreeMap::new();
    for h in &ledger.hosts {
        *counts.entry(h.level).or_insert(0usize) += 1;
    }
    let mut out = format!(
        "drover watch: {} host(s), {} check(s) in {} —",
        ledger.hosts.len(),
        ledger.checks,
        clock(ledger.now_ms)
    );
    for level in Level::ALL {
        out.push_str(&format!(" {level} {}", counts.get(&level).unwrap_or(&0)));
    }
    out.push('\n');
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    if let Some(w) = width {
        t.set_width(w as u16);
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    }
    t.set_header(vec![
        "host",
        "level",
        "last result",
        "last change",
        "next check",
    ]);
    for h in hosts.iter().take(rows) {
        let mut result = match (&h.status, &h.error) {
            (Some(s), Some(e)) => format!("{} ({e})", s.as_str()),
            (Some(s), None) => s.as_str().to_string(),
            (None, _) => "-".to_string(),
        };
        if h.breaker_open {
            result.push_str(", breaker open");
        }
        let change = h
            .last_change_at
            .map(|c| format!("{} ago", clock(ledger.now_ms.saturating_sub(c))))
            .unwrap_or_else(|| "-".into());
        let next = h
            .next_at
            .map(|n| format!("in {}", clock(n.saturating_sub(ledger.now_ms))))
            .unwrap_or_else(|| "-".into());
        t.add_row(vec![
            h.name.to_string(),
            h.level.to_string(),
            result,
            change,
            next,
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    if hosts.len() > rows {
        out.push_str(&format!("… and {} more host(s)\n", hosts.len() - rows));
    }
    out
}

/// The report of a watch period (`--report FILE` as JSON; its text on stdout at the end).
#[derive(Debug, Clone, Serialize)]
pub struct WatchReport {
    pub started_at: String,
    pub duration_ms: u64,
    pub checks: u64,
    pub checks_per_second: f64,
    pub peak_in_flight: usize,
    /// Hosts per level at the end.
    pub levels: BTreeMap<Level, usize>,
    pub hosts: Vec<HostReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    pub host: String,
    pub start_level: Level,
    pub level: Level,
    pub checks: u64,
    pub failed_checks: u64,
    pub level_changes: u32,
    pub status: Option<CheckStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its breaker was open after its last check.
    pub breaker_open: bool,
}

impl WatchReport {
    pub fn new(ledger: &Ledger) -> WatchReport {
        let mut levels = BTreeMap::new();
        for h in &ledger.hosts {
            *levels.entry(h.level).or_insert(0) += 1;
        }
        let secs = ledger.now_ms as f64 / 1000.0;
        WatchReport {
            started_at: humantime::format_rfc3339_millis(
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(ledger.start_unix_ms),
            )
            .to_string(),
            duration_ms: ledger.now_ms,
            checks: ledger.checks,
            checks_per_second: if secs > 0.0 {
                (ledger.checks as f64 / secs * 100.0).round() / 100.0
            } else {
                0.0
            },
            peak_in_flight: ledger.peak_in_flight,
            levels,
            hosts: ledger
                .hosts
                .iter()
                .map(|h| HostReport {
                    host: h.name.to_string(),
                    start_level: h.start_level,
                    level: h.level,
                    checks: h.checks,
                    failed_checks: h.failed_checks,
                    level_changes: h.level_changes,
                    status: h.status,
                    error: h.error.clone(),
                    breaker_open: h.breaker_open,
                })
                .collect(),
        }
    }

    /// The text at the end: totals, hosts per level, and the hosts that changed level or
    /// failed a check.
    pub fn text(&self) -> String {
        let mut out = format!(
            "watched {} host(s) for {}: {} check(s), {:.2}/s, at most {} at once\n",
            self.hosts.len(),
            clock(self.duration_ms),
            self.checks,
            self.checks_per_second,
            self.peak_in_flight
        );
        let mut t = Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED);
        t.set_header(vec!["level", "hosts"]);
        for level in Level::ALL {
            t.add_row(vec![
                level.to_string(),
                self.levels.get(&level).unwrap_or(&0).to_string(),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
        let troubled: Vec<&HostReport> = self
            .hosts
            .iter()
            .filter(|h| h.failed_checks > 0 || h.level != h.start_level)
            .collect();
        if !troubled.is_empty() {
            let mut t = Table::new();
            t.load_preset(presets::UTF8_FULL_CONDENSED);
            t.set_header(vec!["host", "level", "checks", "failed", "last result"]);
            for h in troubled.iter().take(50) {
                let last = match (&h.status, &h.error) {
                    (Some(s), Some(e)) => format!("{} ({e})", s.as_str()),
                    (Some(s), None) => s.as_str().to_string(),
                    (None, _) => "-".into(),
                };
                t.add_row(vec![
                    h.host.clone(),
                    format!("{} → {}", h.start_level, h.level),
                    h.checks.to_string(),
                    h.failed_checks.to_string(),
                    last,
                ]);
            }
            out.push_str(&t.to_string());
            out.push('\n');
            if troubled.len() > 50 {
                out.push_str(&format!("… and {} more host(s)\n", troubled.len() - 50));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::outcome::{ErrorKind, TaskError};

    fn check(status: CheckStatus, error: Option<TaskError>) -> Stamped {
        Stamped {
            at_ms: 75_000,
            event: WatchEvent::Check {
                host: Arc::from("r1"),
                status,
                level: Level::High,
                failures: 1,
                successes: 0,
                error,
                duration_ms: 3,
                next_in_ms: 15_000,
                in_flight: 1,
                breaker_open: false,
                heartbeat: false,
            },
        }
    }

    #[test]
    fn plain_lines_say_only_what_changed() {
        let down = || Some(TaskError::new(ErrorKind::Unreachable, "connection refused"));
        let e = check(CheckStatus::Unreachable, down());
        assert_eq!(
            plain_lines(&e, Some(CheckStatus::Ok)),
            ["   1m15s  r1  ok → unreachable: connection refused"]
        );
        // The same result again: nothing.
        assert!(plain_lines(&e, Some(CheckStatus::Unreachable)).is_empty());
        let change = Stamped {
            at_ms: 5_000,
            event: WatchEvent::LevelChanged {
                host: Arc::from("r1"),
                from: Level::Normal,
                to: Level::High,
                streak: 1,
                idle_ms: None,
            },
        };
        assert_eq!(
            plain_lines(&change, None),
            ["    5.0s  r1  level NORMAL → HIGH (1 failure(s) in a row)"]
        );
        let idle = Stamped {
            at_ms: 360_000,
            event: WatchEvent::LevelChanged {
                host: Arc::from("r1"),
                from: Level::Low,
                to: Level::High,
                streak: 0,
                idle_ms: Some(360_000),
            },
        };
        assert_eq!(
            plain_lines(&idle, None),
            ["   6m00s  r1  level LOW → HIGH (not heard from for 6m00s)"]
        );
    }

    #[test]
    fn the_table_puts_the_most_urgent_first_and_cuts_to_fit() {
        let names: Vec<Arc<str>> = ["a", "b", "c"].iter().map(|n| Arc::from(*n)).collect();
        let rules = crate::watch::Rules::default();
        let (mut ledger, _, _) = Ledger::new(&names, &rules, Default::default(), 0);
        let mut e = check(CheckStatus::Failed, None);
        if let WatchEvent::Check { host, .. } = &mut e.event {
            *host = Arc::from("c");
        }
        ledger.apply(&e);
        let text = table(&ledger, 2, None);
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with('│')).collect();
        assert!(
            rows[1].starts_with("│ c") && rows[1].contains("HIGH"),
            "{text}"
        );
        assert!(rows[1].contains("in 15.0s"), "{text}");
        assert!(rows[2].starts_with("│ a"), "{text}");
        assert!(text.ends_with("… and 1 more host(s)\n"), "{text}");
        assert!(
            text.starts_with("drover watch: 3 host(s), 1 check(s)"),
            "{text}"
        );
    }
}
