//! The page's timeline: one SVG row per host, grouped by batch on shaded bands, time left to
//! right. Each row shows the rate-limit wait, every connection attempt (failed ones in red,
//! their backoff dashed), every task run (a retried task is several bars) and the
//! disconnect, so pacing, stragglers and retries are visible at a glance. A host that never
//! started (an open breaker, a cancelled run) is a dot where it ended.
//!
//! Styling is by class only, so the page's light and dark colours apply to it.

use std::fmt::Write;

use super::{duration, esc};
use crate::outcome::TaskStatus;
use crate::report::{HostReport, RunReport};

/// Width of the host-name column, and of the time axis, in SVG units.
const LABEL: f64 = 170.0;
const CHART: f64 = 1000.0;
const AXIS: f64 = 24.0;

pub fn timeline(report: &RunReport, out: &mut String) {
    let end = report
        .hosts
        .iter()
        .map(|h| h.finished_ms)
        .chain(
            report
                .plays
                .iter()
                .flat_map(|p| &p.batches)
                .filter_map(|b| b.finished_ms),
        )
        .chain([report.run.duration_ms])
        .max()
        .unwrap_or(0)
        .max(1);
    let n = report.hosts.len();
    let row = if n <= 60 {
        16.0
    } else if n <= 300 {
        8.0
    } else {
        4.0
    };
    let plays = report.plays.len() > 1;
    let heading = if plays { 16.0 } else { 0.0 };
    let height = AXIS + n as f64 * row + report.plays.len() as f64 * heading + 4.0;
    let x = |ms: u64| LABEL + ms as f64 / end as f64 * CHART;

    out.push_str(
        "<section aria-labelledby=\"s-timeline\">\n<h2 id=\"s-timeline\">Timeline</h2>\n\
         <p class=\"legend\"><span><i class=\"wait\"></i>rate-limit wait</span>\
         <span><i class=\"conn\"></i>connect</span><span><i class=\"conn-fail\"></i>failed \
         connect (then backoff)</span><span><i class=\"t-ok\"></i>task ok</span>\
         <span><i class=\"t-failed\"></i>task failed</span><span><i class=\"t-ignored\"></i>\
         failed, ignored</span><span><i class=\"disc\"></i>disconnect</span>\
         <span>shaded bands: batches; a row links to its host</span></p>\n<div class=\"timeline\">\n",
    );
    let _ = writeln!(
        out,
        "<svg viewBox=\"0 0 {w} {height:.0}\" role=\"img\" aria-labelledby=\"tl-title\">\
         <title id=\"tl-title\">{n} host{} over {}, by batch</title>",
        if n == 1 { "" } else { "s" },
        duration(end),
        w = LABEL + CHART + 30.0,
    );
    // The axis: a tick every 1, 2 or 5 × 10^k ms, at most ten of them.
    let step = tick_step(end);
    let mut t = 0;
    while t <= end {
        let _ = write!(
            out,
            "<line class=\"axis\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{AXIS}\" y2=\"{height:.0}\"/>\
             <text x=\"{0:.1}\" y=\"14\" text-anchor=\"middle\">{1}</text>",
            x(t),
            esc(&duration(t))
        );
        match t.checked_add(step) {
            Some(next) => t = next,
            None => break,
        }
    }
    out.push('\n');

    let mut y = AXIS;
    for play in &report.plays {
        if plays {
            let _ = writeln!(
                out,
                "<text x=\"2\" y=\"{:.1}\">play {}: {}</text>",
                y + 12.0,
                play.index + 1,
                esc(&play.name)
            );
            y += heading;
        }
        let mine: Vec<(usize, &HostReport)> = report
            .hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| h.play == play.index)
            .collect();
        // Bands first, rows over them: a batch's hosts are consecutive in the report.
        let mut start = 0;
        let mut band = 0;
        while start < mine.len() {
            let batch = mine[start].1.batch;
            let len = mine[start..]
                .iter()
                .take_while(|(_, h)| h.batch == batch)
                .count();
            let b = play.batches.iter().find(|b| b.index == batch);
            let (from, to) = match b {
                Some(b) => (b.started_ms, b.finished_ms.unwrap_or(end)),
                None => (0, end),
            };
            let top = y + start as f64 * row;
            let _ = writeln!(
                out,
                "<rect class=\"{}\" x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\">\
                 <title>batch {}: {} host{}, {} to {}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.1}\" class=\"muted\">b{}</text>",
                if band % 2 == 0 { "band" } else { "band2" },
                x(from),
                (x(to) - x(from)).max(1.0),
                len as f64 * row,
                batch,
                len,
                if len == 1 { "" } else { "s" },
                duration(from),
                duration(to),
                LABEL - 28.0,
                top + row.min(12.0),
                batch,
            );
            start += len;
            band += 1;
        }
        for (k, (i, h)) in mine.iter().enumerate() {
            host_row(*i, h, y + k as f64 * row, row, &x, out);
        }
        y += mine.len() as f64 * row;
    }
    out.push_str("</svg>\n</div>\n</section>\n");
}

fn tick_step(end: u64) -> u64 {
    let mut step: u64 = 1;
    loop {
        for m in [1, 2, 5] {
            let s = step.saturating_mul(m);
            if end / s <= 10 || s == u64::MAX {
                return s;
            }
        }
        step = step.saturating_mul(10);
    }
}

fn host_row(
    i: usize,
    h: &HostReport,
    top: f64,
    row: f64,
    x: &dyn Fn(u64) -> f64,
    out: &mut String,
) {
    let bar = (row * 0.7).max(2.0);
    let y = top + (row - bar) / 2.0;
    let mid = top + row / 2.0;
    let mut title = format!(
        "{}: {}, {}",
        h.name,
        h.outcome.status.as_str(),
        duration(h.outcome.duration_ms)
    );
    if h.outcome.attempts > 1 {
        let _ = write!(title, ", {} connection attempts", h.outcome.attempts);
    }
    for t in h.tasks.iter().filter(|t| t.status != TaskStatus::Skipped) {
        let _ = write!(
            title,
            "; {} {} {}",
            t.name,
            super::task_class(t.status),
            duration(t.duration_ms)
        );
        if t.attempts > 1 {
            let _ = write!(title, " ({} runs)", t.attempts);
        }
    }
    let _ = write!(out, "<a href=\"#host-{i}\"><title>{}</title>", esc(&title));
    if row >= 12.0 {
        let mut name: String = h.name.chars().take(24).collect();
        if name.len() < h.name.len() {
            name.push('…');
        }
        let _ = write!(
            out,
            "<text x=\"2\" y=\"{:.1}\">{}</text>",
            top + row - 4.0,
            esc(&name)
        );
    }
    let rect = |out: &mut String, class: &str, from: u64, to: u64, y: f64, h: f64| {
        let _ = write!(
            out,
            "<rect class=\"{class}\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\"/>",
            x(from),
            (x(to) - x(from)).max(0.8)
        );
    };
    let Some(started) = h.started_ms else {
        // Never started: a dot where its turn ended.
        let _ = writeln!(
            out,
            "<circle class=\"m-{}\" cx=\"{:.1}\" cy=\"{mid:.1}\" r=\"{:.1}\"/></a>",
            h.outcome.status.as_str(),
            x(h.finished_ms),
            (bar / 2.0).max(1.5)
        );
        return;
    };
    let _ = write!(
        out,
        "<line class=\"life\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{mid:.1}\" y2=\"{mid:.1}\"/>",
        x(started),
        x(h.finished_ms.max(started))
    );
    let mut last = started;
    for a in &h.outcome.connect_attempts {
        if a.waited_ms > 0 {
            rect(
                out,
                "wait",
                a.started_ms.saturating_sub(a.waited_ms),
                a.started_ms,
                y,
                bar,
            );
        }
        let done = a.started_ms.saturating_add(a.duration_ms);
        let class = if a.error.is_some() {
            "conn-fail"
        } else {
            "conn"
        };
        rect(out, class, a.started_ms, done, y, bar);
        if a.backoff_ms > 0 {
            let _ = write!(
                out,
                "<line class=\"backoff\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{mid:.1}\" y2=\"{mid:.1}\"/>",
                x(done),
                x(done.saturating_add(a.backoff_ms))
            );
        }
        last = last.max(done);
    }
    if h.outcome.connect_attempts.is_empty() {
        if let Some(ms) = h.outcome.connect_ms {
            rect(out, "conn", started, started.saturating_add(ms), y, bar);
            last = started.saturating_add(ms);
        }
    }
    for t in h.tasks.iter().filter(|t| t.status != TaskStatus::Skipped) {
        let class = format!("t-{}", super::task_class(t.status));
        if t.runs.is_empty() {
            rect(
                out,
                &class,
                t.started_ms,
                t.started_ms.saturating_add(t.duration_ms),
                y,
                bar,
            );
        } else {
            for (k, r) in t.runs.iter().enumerate() {
                // Earlier runs did not do; only the last one has the task's status.
                let c = if k + 1 == t.runs.len() {
                    class.as_str()
                } else {
                    "t-failed"
                };
                rect(
                    out,
                    c,
                    r.started_ms,
                    r.started_ms.saturating_add(r.duration_ms),
                    y,
                    bar,
                );
            }
        }
        last = last.max(t.started_ms.saturating_add(t.duration_ms));
    }
    if h.outcome.connect_ms.is_some() && h.finished_ms > last {
        rect(out, "disc", last, h.finished_ms, y + bar * 0.25, bar * 0.5);
    }
    out.push_str("</a>\n");
}

#[cfg(test)]
mod tests {
    use crate::report::RunReport;

    /// A report file is input like any other: times at the end of u64 draw, never overflow.
    #[test]
    fn huge_times_do_not_overflow() {
        let max = u64::MAX;
        let attempt = serde_json::json!({"attempt": 1, "started_ms": max, "waited_ms": max,
            "duration_ms": max, "backoff_ms": max, "probe": false, "error": null});
        let task = serde_json::json!({"index": 0, "name": "t", "kind": "command", "command": "x",
            "status": "ok", "exit_code": 0, "stdout": "", "stderr": "", "started_ms": max,
            "duration_ms": max, "error": null, "attempts": 2, "runs": [attempt]});
        let report: RunReport = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "drover_version": "0",
            "run": {"command": "run", "inventories": [], "started_at": "", "finished_at": "",
                "duration_ms": max, "interrupted": false, "exit_code": 0},
            "counts": {},
            "plays": [{"index": 0, "name": "p", "pattern": "all", "settings": null,
                "batches": [{"index": 1, "hosts": ["h"], "started_ms": max, "finished_ms": max}]}],
            "hosts": [{"name": "h", "play": 0, "batch": 1, "address": "", "transport": "",
                "started_ms": max, "finished_ms": max, "status": "ok", "error": null,
                "connect_ms": max, "duration_ms": max, "attempts": 1,
                "connect_attempts": [attempt], "breaker": null, "tasks": [task]}],
        }))
        .unwrap();
        let page = super::super::page(&report, None);
        assert!(page.contains("<svg"));
    }
}
