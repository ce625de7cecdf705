//! Plain output for cron, CI and pipes: one timestamped line per host state change, no
//! escape codes (unless `--color always`), nothing redrawn.

use std::io::Write;

use super::{count, paint, Verbosity};
use crate::event::{Event, Stamped};
use crate::outcome::{Attempt, TaskStatus};
use crate::settings::Strategy;

/// Writes one timestamped line per host event.
pub struct PlainPrinter<W: Write> {
    out: W,
    verbosity: Verbosity,
    width: usize,
    color: bool,
}

impl<W: Write> PlainPrinter<W> {
    pub fn new(out: W, verbosity: Verbosity) -> Self {
        PlainPrinter {
            out,
            verbosity,
            width: 12,
            color: false,
        }
    }

    /// Aligns host names to the longest one in the run.
    pub fn set_host_width(&mut self, width: usize) {
        self.width = width.clamp(4, 40);
    }

    pub fn set_color(&mut self, color: bool) {
        self.color = color;
    }

    pub fn print(&mut self, stamped: &Stamped) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let line = match &stamped.event {
            Event::PlayStarted {
                name,
                hosts,
                batches,
                settings,
                ..
            } => Some(match settings.strategy {
                Strategy::Rolling => format!(
                    "play `{name}`: {}, rolling, window of {}",
                    count(*hosts, "host"),
                    settings.concurrency
                ),
                Strategy::Batched => format!(
                    "play `{name}`: {} in {}",
                    count(*hosts, "host"),
                    count(*batches, "batch")
                ),
            }),
            Event::BatchStarted { batch, hosts, .. } => {
                Some(format!("batch {batch}: {}", count(hosts.len(), "host")))
            }
            Event::HostState {
                host, state, task, ..
            } => {
                let text = super::state_text(*state, task.as_deref());
                Some(self.host_line(host, &text))
            }
            Event::TaskFinished { host, result, .. } => {
                let show = result.status == TaskStatus::Failed
                    || result.status == TaskStatus::Ignored
                    || self.verbosity >= Verbosity::Verbose;
                show.then(|| {
                    let status = task_status(result.status);
                    let mut text = format!(
                        "task `{}` {} ({} ms)",
                        result.name,
                        paint(status, status, self.color),
                        result.duration_ms
                    );
                    if let Some(e) = &result.error {
                        text.push_str(&format!(": {e}"));
                    }
                    self.host_line(host, &text)
                })
            }
            Event::HostFinished { host, outcome, .. } => {
                let status = outcome.status.as_str();
                let mut text = format!(
                    "{} ({} ms)",
                    paint(status, status, self.color),
                    outcome.duration_ms
                );
                if let Some(e) = &outcome.error {
                    text.push_str(&format!(": {e}"));
                }
                Some(self.host_line(host, &text))
            }
            Event::ConnectFailed {
                host,
                attempt,
                retry_in_ms,
                ..
            } => Some(self.host_line(host, &connect_failed(attempt, *retry_in_ms))),
            Event::RunFinished {
                aborted: Some(why), ..
            } => Some(format!("run aborted: {why}")),
            Event::RunFinished {
                interrupted: true, ..
            } => Some("run interrupted".to_string()),
            _ => None,
        };
        let at = clock(stamped.at_ms);
        if let Some(line) = line {
            // A closed stderr (a pipe whose reader left) must not stop the run.
            let _ = writeln!(self.out, "{at} {line}");
        }
        for (host, text) in super::debug_lines(&stamped.event, self.verbosity) {
            let line = match host {
                Some(h) => self.host_line(h, &text),
                None => text,
            };
            let _ = writeln!(self.out, "{at} {line}");
        }
    }

    fn host_line(&self, host: &str, text: &str) -> String {
        format!("{host:<width$} {text}", width = self.width)
    }
}

/// `attempt 1 failed: unreachable: …; retrying in 2.0 s`.
pub(super) fn connect_failed(attempt: &Attempt, retry_in_ms: Option<u64>) -> String {
    let error = attempt
        .error
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let next = match retry_in_ms {
        Some(ms) => format!("; retrying in {:.1} s", ms as f64 / 1000.0),
        None => String::new(),
    };
    format!("attempt {} failed: {error}{next}", attempt.attempt)
}

pub(super) fn task_status(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Ok => "ok",
        TaskStatus::Failed => "failed",
        TaskStatus::Ignored => "ignored",
        TaskStatus::Skipped => "skipped",
    }
}

/// `mm:ss.mmm` since the run started.
pub(super) fn clock(ms: u64) -> String {
    let (m, rest) = (ms / 60_000, ms % 60_000);
    format!("{m:02}:{:02}.{:03}", rest / 1000, rest % 1000)
}
