//! Everything drover writes to the terminal while it runs and at the end: progress bars when
//! stderr is a terminal, one plain timestamped line per host state change otherwise, and the
//! summary. The engine never prints; this module only reads events.

pub mod out;
mod plain;
mod progress;
mod summary;
pub mod term;
pub use term::read_secret;

use std::io::IsTerminal;

use crate::cli::ColorChoice;
use crate::event::Stamped;
use crate::report::RunReport;

pub use plain::PlainPrinter;
pub use progress::Progress;
pub use summary::{summary, summary_fitted};

/// How much is shown while the run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Only the summary (on a terminal: the overall bar and the batch line).
    Quiet,
    /// Host state changes and failed tasks (on a terminal: in-flight hosts up to its height).
    Normal,
    /// Every task too (on a terminal: every in-flight host).
    Verbose,
    /// `-vv`: the connector's decisions too: each play's settings, each connection attempt
    /// (rate-limit wait, duration, backoff, probe) and the breaker a host ends with.
    Connector,
    /// `-vvv`: the wire too: each command line as sent (secrets masked), its exit code and
    /// how much came back.
    Wire,
}

impl Verbosity {
    /// `-q` and the number of `-v`s.
    pub fn from_flags(quiet: bool, verbose: u8) -> Verbosity {
        match (quiet, verbose) {
            (true, _) => Verbosity::Quiet,
            (_, 0) => Verbosity::Normal,
            (_, 1) => Verbosity::Verbose,
            (_, 2) => Verbosity::Connector,
            _ => Verbosity::Wire,
        }
    }
}

/// The lines `-vv` and `-vvv` add for an event, each with the host it is about (if any).
fn debug_lines(event: &crate::event::Event, verbosity: Verbosity) -> Vec<(Option<&str>, String)> {
    use crate::event::Event;
    let mut lines = Vec::new();
    if verbosity < Verbosity::Connector {
        return lines;
    }
    match event {
        Event::PlayStarted { settings, .. } => {
            let json = serde_json::to_string(settings).unwrap_or_default();
            lines.push((None, format!("settings: {json}")));
        }
        Event::HostFinished { host, outcome, .. } => {
            for a in &outcome.connect_attempts {
                let mut text = format!(
                    "connect attempt {}: waited {} ms for a rate token, took {} ms",
                    a.attempt, a.waited_ms, a.duration_ms
                );
                if a.probe {
                    text.push_str(" (half-open breaker's probe)");
                }
                if let Some(e) = &a.error {
                    text.push_str(&format!(": {e}"));
                }
                if a.backoff_ms > 0 {
                    text.push_str(&format!("; backing off {} ms", a.backoff_ms));
                }
                if let (Some(via), true) = (&a.via, verbosity >= Verbosity::Wire) {
                    text.push_str(&format!(": {via}"));
                }
                lines.push((Some(host.as_ref()), text));
            }
            if let Some(b) = &outcome.breaker {
                let json = serde_json::to_string(b).unwrap_or_default();
                lines.push((Some(host.as_ref()), format!("breaker: {json}")));
            }
        }
        Event::TaskFinished { host, result, .. } if verbosity >= Verbosity::Wire => {
            if !result.command.is_empty() {
                lines.push((
                    Some(host.as_ref()),
                    format!("task `{}` sent: {}", result.name, result.command.trim_end()),
                ));
            }
            let code = result
                .exit_code
                .map_or_else(|| "none".to_string(), |c| c.to_string());
            lines.push((
                Some(host.as_ref()),
                format!(
                    "task `{}` exit code {code}, {} bytes of stdout, {} of stderr",
                    result.name,
                    result.stdout.len(),
                    result.stderr.len()
                ),
            ));
        }
        _ => {}
    }
    lines
}

/// The live view of a run: bars on a terminal, plain lines anywhere else (cron, CI, pipes).
pub enum Live {
    Bars(Box<Progress>),
    Plain(PlainPrinter<std::io::Stderr>),
}

impl Live {
    /// Bars when stderr is a terminal that can draw them; plain lines otherwise.
    /// `hosts` are the run's host slots (a host in two plays counts twice), for the bars and
    /// the width of the name column.
    pub fn new<'a>(
        hosts: impl Iterator<Item = &'a str>,
        verbosity: Verbosity,
        color: ColorChoice,
    ) -> Live {
        let stderr = std::io::stderr();
        let terminal =
            stderr.is_terminal() && !matches!(std::env::var("TERM").as_deref(), Ok("dumb"));
        let color = use_color(
            color,
            terminal,
            std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        );
        let (total, width) = hosts.fold((0, 0), |(n, w), h| (n + 1, w.max(h.len())));
        let width = if total == 0 { 8 } else { width };
        if terminal {
            Live::Bars(Box::new(Progress::new(total, width, verbosity, color)))
        } else {
            let mut printer = PlainPrinter::new(stderr, verbosity);
            printer.set_host_width(width);
            printer.set_color(color);
            Live::Plain(printer)
        }
    }

    pub fn show(&mut self, event: &Stamped) {
        match self {
            Live::Bars(bars) => bars.show(event),
            Live::Plain(printer) => printer.print(event),
        }
    }

    /// A handle for messages from outside the event stream (the signal handler): above the
    /// bars on a terminal, a plain stderr line otherwise.
    pub fn notices(&self) -> Notices {
        match self {
            Live::Bars(bars) => Notices(Some(bars.multi())),
            Live::Plain(_) => Notices(None),
        }
    }

    /// Clears what is in flight and leaves the overall bar's last frame.
    pub fn finish(self) {
        if let Live::Bars(bars) = self {
            bars.finish();
        }
    }
}

/// What stdout carries at the end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdout {
    /// The summary (the default).
    Summary,
    /// The JSON report (`exec --output json`); the summary goes to stderr.
    Report,
    /// The NDJSON stream already went there (`--events -`); the summary goes to stderr.
    Events,
}

/// Prints the end of a run: the summary (with grouped outputs for `exec`, or with `-v`), and
/// the JSON report when stdout is for it. A closed stdout is a quiet end (see [`out`]).
pub fn print_end(
    report: &RunReport,
    stdout: Stdout,
    group_outputs: bool,
    verbosity: Verbosity,
) -> crate::error::Result<()> {
    let group_outputs = group_outputs || verbosity >= Verbosity::Verbose;
    // The summary fits the terminal it lands on; a pipe or a file gets it whole.
    let width = match stdout {
        Stdout::Summary => term::stdout_columns(),
        Stdout::Report | Stdout::Events => term::stderr_columns(),
    };
    let summary = summary_fitted(report, group_outputs, width);
    match stdout {
        Stdout::Summary => out::print(&summary)?,
        Stdout::Report => {
            let json = serde_json::to_string_pretty(report).unwrap_or_default();
            out::print(&format!("{json}\n"))?;
            if verbosity != Verbosity::Quiet {
                out::eprint(&summary);
            }
        }
        Stdout::Events => out::eprint(&summary),
    }
    Ok(())
}

/// See [`Live::notices`].
#[derive(Clone)]
pub struct Notices(Option<indicatif::MultiProgress>);

impl Notices {
    pub fn say(&self, message: &str) {
        match &self.0 {
            Some(multi) => {
                let _ = multi.println(message);
            }
            None => out::eprintln(message),
        }
    }
}

/// `--color always` wins over everything; `auto` means a terminal and no `NO_COLOR`
/// (set and not empty, as no-color.org says).
pub fn use_color(choice: ColorChoice, terminal: bool, no_color: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !no_color,
    }
}

/// ANSI SGR codes for a status word, when colours are on.
fn paint(text: &str, status: &str, color: bool) -> String {
    let code = match status {
        "ok" => "32",
        "failed" | "unreachable" => "31",
        "skipped" | "cancelled" | "ignored" => "33",
        _ => return text.to_string(),
    };
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// `1 host`, `3 hosts`.
fn count(n: usize, word: &str) -> String {
    match (n, word.ends_with('h')) {
        (1, _) => format!("{n} {word}"),
        (_, true) => format!("{n} {word}es"),
        _ => format!("{n} {word}s"),
    }
}

/// A host's state as both live views word it.
fn state_text(state: crate::event::HostState, task: Option<&str>) -> String {
    use crate::event::HostState;
    match (state, task) {
        (HostState::Connecting, _) => "connecting".to_string(),
        (HostState::Connected, _) => "connected".to_string(),
        (HostState::Running, Some(task)) => format!("running `{task}`"),
        (HostState::Running, None) => "running".to_string(),
        (HostState::Disconnecting, _) => "disconnecting".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_choice() {
        assert!(use_color(ColorChoice::Auto, true, false));
        assert!(!use_color(ColorChoice::Auto, true, true));
        assert!(!use_color(ColorChoice::Auto, false, false));
        assert!(use_color(ColorChoice::Always, false, true));
        assert!(!use_color(ColorChoice::Never, true, false));
    }
}
