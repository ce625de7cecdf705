//! Everything drover writes to the terminal: one plain line per host event on stderr, and
//! the summary at the end on stdout. The engine never prints; this module only reads events.

mod summary;

use std::io::Write;

use crate::event::{Event, HostState, Stamped};
use crate::outcome::TaskStatus;

pub use summary::summary;

/// How much the plain printer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Only the summary.
    Quiet,
    /// Host state changes and failed tasks.
    Normal,
    /// Every task too.
    Verbose,
}

/// Writes one timestamped line per host event.
pub struct PlainPrinter<W: Write> {
    out: W,
    verbosity: Verbosity,
    width: usize,
}

impl<W: Write> PlainPrinter<W> {
    pub fn new(out: W, verbosity: Verbosity) -> Self {
        PlainPrinter {
            out,
            verbosity,
            width: 12,
        }
    }

    /// Aligns host names to the longest one in the run.
    pub fn set_host_width(&mut self, width: usize) {
        self.width = width.clamp(4, 40);
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
                ..
            } => Some(format!("play `{name}`: {hosts} hosts in {batches} batches")),
            Event::BatchStarted { batch, hosts, .. } => {
                Some(format!("batch {batch}: {} hosts", hosts.len()))
            }
            Event::HostState {
                host, state, task, ..
            } => match (state, task) {
                (HostState::Running, Some(task)) if self.verbosity >= Verbosity::Verbose => {
                    Some(self.host_line(host, &format!("running `{task}`")))
                }
                (HostState::Running, _) => None,
                (HostState::Connecting, _) => Some(self.host_line(host, "connecting")),
                (HostState::Connected, _) => Some(self.host_line(host, "connected")),
                (HostState::Disconnecting, _) if self.verbosity >= Verbosity::Verbose => {
                    Some(self.host_line(host, "disconnecting"))
                }
                (HostState::Disconnecting, _) => None,
            },
            Event::TaskFinished { host, result, .. } => {
                let show = result.status == TaskStatus::Failed
                    || result.status == TaskStatus::Ignored
                    || self.verbosity >= Verbosity::Verbose;
                show.then(|| {
                    let status = serde_json::to_value(result.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    let mut text = format!(
                        "task `{}` {status} ({} ms)",
                        result.name, result.duration_ms
                    );
                    if let Some(e) = &result.error {
                        text.push_str(&format!(": {e}"));
                    }
                    self.host_line(host, &text)
                })
            }
            Event::HostFinished { host, outcome, .. } => {
                let mut text = format!("{} ({} ms)", outcome.status.as_str(), outcome.duration_ms);
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
            } => {
                let error = attempt
                    .error
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let next = match retry_in_ms {
                    Some(ms) => format!("; retrying in {:.1} s", *ms as f64 / 1000.0),
                    None => String::new(),
                };
                Some(self.host_line(
                    host,
                    &format!("attempt {} failed: {error}{next}", attempt.attempt),
                ))
            }
            Event::RunFinished {
                aborted: Some(why), ..
            } => Some(format!("run aborted: {why}")),
            Event::RunFinished {
                interrupted: true, ..
            } => Some("run interrupted".to_string()),
            _ => None,
        };
        if let Some(line) = line {
            let at = clock(stamped.at_ms);
            // A closed stderr (a pipe whose reader left) must not stop the run.
            let _ = writeln!(self.out, "{at} {line}");
        }
    }

    fn host_line(&self, host: &str, text: &str) -> String {
        format!("{host:<width$} {text}", width = self.width)
    }
}

/// `mm:ss.mmm` since the run started.
fn clock(ms: u64) -> String {
    let (m, rest) = (ms / 60_000, ms % 60_000);
    format!("{m:02}:{:02}.{:03}", rest / 1000, rest % 1000)
}
