//! Progress bars for a person at a terminal (indicatif), fed by the event stream: an overall
//! bar (hosts done / total, ok and failed counts, elapsed, ETA), a batch line, and one line
//! per in-flight host with its state. Host lines are capped at the terminal's height (all of
//! them with `-v`, none with `-q`); finished failures print above the bars, never through
//! them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::plain::{clock, connect_failed, task_status};
use super::summary::{excerpt, truncate};
use super::{paint, Verbosity};
use crate::event::{Event, Stamped};
use crate::outcome::{HostStatus, TaskStatus};
use crate::settings::Strategy;

pub struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    batch: ProgressBar,
    /// In-flight hosts that have a line.
    shown: HashMap<Arc<str>, ProgressBar>,
    /// In-flight hosts beyond `max_lines`, counted on the `more` line.
    hidden: HashSet<Arc<str>>,
    more: Option<ProgressBar>,
    max_lines: usize,
    host_style: ProgressStyle,
    width: usize,
    /// The terminal's width: every bar line fits in it.
    columns: usize,
    verbosity: Verbosity,
    color: bool,
    counts: HashMap<HostStatus, usize>,
    /// Plays in the run; the current play's name and batch count.
    plays: usize,
    play_name: String,
    batches: usize,
    /// Hosts whose failed task was logged with this error, so their end line need not
    /// repeat it.
    logged: HashMap<Arc<str>, String>,
    /// The current play's window under `rolling` (it has one "batch" of every host).
    rolling: Option<usize>,
}

impl Progress {
    pub fn new(total: usize, width: usize, verbosity: Verbosity, color: bool) -> Progress {
        let multi = MultiProgress::new();
        let columns = super::term::stderr_columns().unwrap_or(80);
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_prefix("drover");
        overall.enable_steady_tick(Duration::from_millis(250));
        // Both lines cut what does not fit (`wide_msg`), so nothing wraps.
        let line = ProgressStyle::with_template("{wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let batch = multi.add(ProgressBar::new(1));
        batch.set_style(line.clone());
        let max_lines = match verbosity {
            Verbosity::Quiet => 0,
            Verbosity::Normal => terminal_rows().saturating_sub(4).max(1),
            Verbosity::Verbose | Verbosity::Connector | Verbosity::Wire => usize::MAX,
        };
        let progress = Progress {
            multi,
            overall,
            batch,
            shown: HashMap::new(),
            hidden: HashSet::new(),
            more: None,
            max_lines,
            host_style: ProgressStyle::with_template("  {prefix} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            // Host names get at most a third of the line; longer ones are cut.
            width: width.clamp(4, 40).min((columns / 3).max(8)),
            columns,
            verbosity,
            color,
            counts: HashMap::new(),
            plays: 1,
            play_name: String::new(),
            batches: 0,
            rolling: None,
            logged: HashMap::new(),
        };
        progress.update_counts();
        progress
    }

    pub fn show(&mut self, stamped: &Stamped) {
        for (host, text) in super::debug_lines(&stamped.event, self.verbosity) {
            let line = match host {
                Some(h) => format!(
                    "{} {h:<width$} {text}",
                    clock(stamped.at_ms),
                    width = self.width
                ),
                None => format!("{} {text}", clock(stamped.at_ms)),
            };
            let _ = self.multi.println(line);
        }
        match &stamped.event {
            Event::RunStarted { plays, .. } => self.plays = *plays,
            Event::PlayStarted {
                name,
                batches,
                settings,
                ..
            } => {
                self.play_name = name.clone();
                self.batches = *batches;
                self.rolling =
                    (settings.strategy == Strategy::Rolling).then_some(settings.concurrency);
            }
            Event::BatchStarted { play, batch, hosts } => {
                let play = if self.plays > 1 {
                    format!("Play {}/{} `{}` · ", play + 1, self.plays, self.play_name)
                } else {
                    String::new()
                };
                let hosts = super::count(hosts.len(), "host");
                self.batch.set_message(match self.rolling {
                    Some(window) => format!("{play}Rolling · window of {window} · {hosts}"),
                    None => format!("{play}Batch {batch}/{} · {hosts}", self.batches),
                });
            }
            Event::HostState {
                host, state, task, ..
            } => {
                let text = super::state_text(*state, task.as_deref());
                self.host_line(host, text);
            }
            Event::HostFinished { host, outcome, .. } => {
                if let Some(bar) = self.shown.remove(host) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                } else {
                    self.hidden.remove(host);
                }
                self.update_more();
                *self.counts.entry(outcome.status).or_default() += 1;
                self.overall.inc(1);
                self.update_counts();
                let worth_a_line = outcome.status.is_failure()
                    || outcome.status == HostStatus::Cancelled
                    || self.verbosity >= Verbosity::Verbose;
                if worth_a_line && self.verbosity != Verbosity::Quiet {
                    let status = outcome.status.as_str();
                    let mut line = format!(
                        "{} {host:<width$} {} ({} ms)",
                        clock(stamped.at_ms),
                        paint(status, status, self.color),
                        outcome.duration_ms,
                        width = self.width
                    );
                    let logged = self.logged.remove(host);
                    if let Some(e) = &outcome.error {
                        let e = e.to_string();
                        if logged.as_ref() != Some(&e) {
                            line.push_str(&format!(": {e}"));
                        }
                    }
                    // Above the bars; a closed terminal is not worth stopping for.
                    let _ = self.multi.println(line);
                }
            }
            Event::TaskFinished { host, result, .. } => {
                let show = result.status == TaskStatus::Failed
                    || result.status == TaskStatus::Ignored
                    || self.verbosity >= Verbosity::Verbose;
                if show && self.verbosity != Verbosity::Quiet {
                    // As the plain view words it, with the first lines the task printed.
                    let status = task_status(result.status);
                    let mut line = format!(
                        "{} {host:<width$} task `{}` {} ({} ms)",
                        clock(stamped.at_ms),
                        result.name,
                        paint(status, status, self.color),
                        result.duration_ms,
                        width = self.width
                    );
                    if let Some(e) = &result.error {
                        line.push_str(&format!(": {e}"));
                        self.logged.insert(host.clone(), e.to_string());
                        let columns = self.columns.saturating_sub(6).max(20);
                        for l in excerpt(&result.stderr, &result.stdout, &e.message) {
                            line.push_str(&format!("\n    │ {}", truncate(&l, columns)));
                        }
                    }
                    let _ = self.multi.println(line);
                }
            }
            Event::ConnectFailed {
                host,
                attempt,
                retry_in_ms,
                ..
            } => {
                let text = connect_failed(attempt, *retry_in_ms);
                if self.verbosity != Verbosity::Quiet {
                    let line = format!(
                        "{} {host:<width$} {text}",
                        clock(stamped.at_ms),
                        width = self.width
                    );
                    let _ = self.multi.println(line);
                }
                self.host_line(host, text);
            }
            Event::RunFinished {
                aborted: Some(why), ..
            } => {
                let _ = self.multi.println(format!("run aborted: {why}"));
            }
            Event::RunFinished {
                interrupted: true, ..
            } => {
                let _ = self.multi.println("run interrupted");
            }
            _ => {}
        }
    }

    fn host_line(&mut self, host: &Arc<str>, text: String) {
        if let Some(bar) = self.shown.get(host) {
            bar.set_message(text);
            return;
        }
        if self.shown.len() >= self.max_lines {
            if self.hidden.insert(host.clone()) {
                self.update_more();
            }
            return;
        }
        self.hidden.remove(host);
        let bar = ProgressBar::new(1).with_style(self.host_style.clone());
        let bar = match &self.more {
            Some(more) => self.multi.insert_before(more, bar),
            None => self.multi.add(bar),
        };
        bar.set_prefix(format!(
            "{:<width$}",
            truncate(host, self.width),
            width = self.width
        ));
        bar.set_message(text);
        self.shown.insert(host.clone(), bar);
        self.update_more();
    }

    /// The "… and N more in flight" line under the host lines.
    fn update_more(&mut self) {
        let n = self.hidden.len();
        let text = if self.shown.is_empty() {
            format!("  {n} hosts in flight")
        } else {
            format!("  … and {n} more in flight")
        };
        match (&self.more, n) {
            (Some(more), 0) => {
                more.finish_and_clear();
                self.multi.remove(more);
                self.more = None;
            }
            (Some(more), _) => more.set_message(text),
            (None, 0) => {}
            (None, _) => {
                let more = self.multi.add(
                    ProgressBar::new(1).with_style(
                        ProgressStyle::with_template("{msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    ),
                );
                more.set_message(text);
                self.more = Some(more);
            }
        }
    }

    /// The overall line: `drover [bar] 3/31 hosts · 2 ok · 1 failed · 00:00:04 · ETA 12s`,
    /// restyled as the counts change so it always fits: the bar gives up room first (down to
    /// nothing), then the counts are cut.
    fn update_counts(&self) {
        let mut parts = Vec::new();
        let mut plain = Vec::new();
        for status in HostStatus::ALL {
            let n = self.counts.get(&status).copied().unwrap_or(0);
            if n > 0 || status == HostStatus::Ok || status == HostStatus::Failed {
                let word = status.as_str();
                let text = format!("{n} {word}");
                parts.push(paint(&text, word, self.color));
                plain.push(text);
            }
        }
        let mut counts = parts.join(" · ");
        let counts_len = plain.join(" · ").chars().count();
        let total = self.overall.length().unwrap_or(0);
        let hosts = format!(
            "{total}/{total} {}",
            if total == 1 { "host" } else { "hosts" }
        );
        // "drover [" + "] " + hosts + " · " + counts + " · 00:00:00 · ETA 99h59m"
        let fixed = 8 + 2 + hosts.chars().count() + 3 + 3 + 8 + 3 + 10;
        let room = self.columns.saturating_sub(1);
        let bar = room.saturating_sub(fixed + counts_len).min(24);
        if fixed + bar + counts_len > room {
            counts = truncate(&plain.join(" · "), room.saturating_sub(fixed + bar).max(1));
        }
        let bar = match (bar, self.color) {
            (0, _) => String::new(),
            (n, true) => format!("[{{bar:{n}.cyan/blue}}] "),
            (n, false) => format!("[{{bar:{n}}}] "),
        };
        let word = if total == 1 { "host" } else { "hosts" };
        let style = ProgressStyle::with_template(&format!(
            "{{prefix}} {bar}{{pos}}/{{len}} {word} · {{msg}} · {{elapsed_precise}} · {{eta_known}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
        .with_key("eta_known", eta);
        self.overall.set_style(style);
        self.overall.set_message(counts);
    }

    /// The bars' owner, for printing above them.
    pub fn multi(&self) -> MultiProgress {
        self.multi.clone()
    }

    /// Clears the batch and host lines and leaves the overall bar's last frame.
    pub fn finish(self) {
        for bar in self.shown.values() {
            bar.finish_and_clear();
        }
        if let Some(more) = &self.more {
            more.finish_and_clear();
        }
        self.batch.finish_and_clear();
        self.overall.finish();
    }
}

/// `ETA 12s`; before the first host is done there is nothing to estimate from.
fn eta(state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write) {
    let done = state.pos();
    let left = state.len().unwrap_or(0).saturating_sub(done);
    let _ = match (done, left) {
        (_, 0) => write!(out, "done"),
        (0, _) => write!(out, "ETA …"),
        _ => {
            let secs = state.eta().as_secs();
            match secs {
                0..60 => write!(out, "ETA {secs}s"),
                60..3600 => write!(out, "ETA {}m{:02}s", secs / 60, secs % 60),
                _ => write!(out, "ETA {}h{:02}m", secs / 3600, secs % 3600 / 60),
            }
        }
    };
}

/// The terminal's height in rows (24 when it cannot be asked).
fn terminal_rows() -> usize {
    super::term::size(libc::STDERR_FILENO).map_or(24, |(_, rows)| rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::HostState;
    use crate::outcome::HostOutcome;

    fn at(event: Event) -> Stamped {
        Stamped { at_ms: 0, event }
    }

    fn state(host: &str) -> Stamped {
        at(Event::HostState {
            play: 0,
            batch: 1,
            host: host.into(),
            state: HostState::Connecting,
            task: None,
        })
    }

    fn finished(host: &str, status: HostStatus) -> Stamped {
        at(Event::HostFinished {
            play: 0,
            batch: 1,
            host: host.into(),
            address: String::new(),
            transport: "local".into(),
            groups: Vec::new(),
            outcome: HostOutcome {
                status,
                error: None,
                connect_ms: None,
                duration_ms: 0,
                attempts: 1,
                connect_attempts: Vec::new(),
                breaker: None,
            },
        })
    }

    #[test]
    fn host_lines_are_capped_and_the_rest_counted() {
        let mut p = Progress::new(5, 6, Verbosity::Normal, false);
        p.multi
            .set_draw_target(indicatif::ProgressDrawTarget::hidden());
        p.max_lines = 2;
        for h in ["h1", "h2", "h3", "h4", "h5"] {
            p.show(&state(h));
        }
        assert_eq!(p.shown.len(), 2);
        assert_eq!(p.hidden.len(), 3);
        assert!(p.more.is_some());
        // A finished host frees its line; the next state change of a waiting host takes it.
        p.show(&finished("h1", HostStatus::Ok));
        p.show(&finished("h4", HostStatus::Failed));
        p.show(&state("h5"));
        assert!(p.shown.contains_key("h5"));
        assert_eq!(p.hidden.len(), 1);
        p.show(&finished("h3", HostStatus::Ok));
        assert!(p.more.is_none(), "no waiting host, no `more` line");
        assert_eq!(p.overall.position(), 3);
        assert_eq!(p.counts[&HostStatus::Failed], 1);
        p.finish();
    }
}
