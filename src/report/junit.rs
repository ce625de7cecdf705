//! JUnit XML (`--junit FILE`) so CI systems show each host × task as a test case. Every host
//! the play selected gets one case per task of the play, also when it never ran them: an
//! unreachable or breaker-skipped host's cases are failures (both make the exit code 2, and
//! the file agrees with it), a cancelled host's are skips, and tasks after a failed one are
//! skips — no host vanishes from the CI view.
//!
//! The file follows the JUnit format as Jenkins' junit-10 schema defines it, which CI systems
//! at large accept: `skipped` is counted per `testsuite`, never on `testsuites`.

use std::fmt::Write;

use super::{HostReport, RunReport};
use crate::outcome::{ErrorKind, HostStatus, TaskError, TaskStatus};

/// A test case's verdict.
enum Verdict<'a> {
    Passed,
    Failed(Option<&'a TaskError>),
    Skipped(String),
}

/// Renders the report as JUnit XML. `tasks[play]` holds the task names of each play, in
/// order (the report only knows the tasks a host ran).
pub fn junit(report: &RunReport, tasks: &[Vec<String>]) -> String {
    let mut suites = String::new();
    let (mut all_tests, mut all_failures) = (0, 0);
    for play in &report.plays {
        let names = tasks.get(play.index).map(Vec::as_slice).unwrap_or(&[]);
        let (mut tests, mut failures, mut skipped) = (0, 0, 0);
        let mut cases = String::new();
        // The play's wall time: its first batch's start to its last batch's end.
        let start = play.batches.iter().map(|b| b.started_ms).min().unwrap_or(0);
        let end = play.batches.iter().filter_map(|b| b.finished_ms).max();
        let time_ms = end.unwrap_or(report.run.duration_ms).saturating_sub(start);
        for host in report.hosts.iter().filter(|h| h.play == play.index) {
            let mut earlier_failure = false;
            for (index, name) in names.iter().enumerate() {
                let result = host.tasks.iter().find(|t| t.index == index);
                let verdict = verdict(host, result, &mut earlier_failure);
                tests += 1;
                let ms = result.map_or(0, |r| r.duration_ms);
                let _ = writeln!(
                    cases,
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">",
                    xml(&host.name),
                    xml(name),
                    seconds(ms)
                );
                match verdict {
                    Verdict::Passed => {}
                    Verdict::Failed(error) => {
                        failures += 1;
                        let (kind, message) =
                            error.map_or(("failed", ""), |e| (e.kind.as_str(), e.message.as_str()));
                        let _ = writeln!(
                            cases,
                            "      <failure type=\"{kind}\" message=\"{}\">{}</failure>",
                            xml(message),
                            xml(&failure_body(result))
                        );
                    }
                    Verdict::Skipped(message) => {
                        skipped += 1;
                        let _ = writeln!(cases, "      <skipped message=\"{}\"/>", xml(&message));
                    }
                }
                if let Some(r) = result {
                    if !r.stdout.is_empty() {
                        let _ =
                            writeln!(cases, "      <system-out>{}</system-out>", xml(&r.stdout));
                    }
                    if !r.stderr.is_empty() {
                        let _ =
                            writeln!(cases, "      <system-err>{}</system-err>", xml(&r.stderr));
                    }
                }
                cases.push_str("    </testcase>\n");
            }
        }
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" \
             skipped=\"{skipped}\" time=\"{}\">\n{cases}  </testsuite>\n",
            xml(&play.name),
            seconds(time_ms)
        );
        all_tests += tests;
        all_failures += failures;
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"drover {}\" \
         tests=\"{all_tests}\" failures=\"{all_failures}\" errors=\"0\" time=\"{}\">\n{suites}</testsuites>\n",
        xml(&report.run.command),
        seconds(report.run.duration_ms)
    )
}

fn verdict<'a>(
    host: &'a HostReport,
    result: Option<&'a crate::outcome::TaskResult>,
    earlier_failure: &mut bool,
) -> Verdict<'a> {
    if let Some(r) = result {
        return match r.status {
            TaskStatus::Ok | TaskStatus::Ignored => Verdict::Passed,
            TaskStatus::Skipped => Verdict::Skipped("skipped: `when` was false".to_string()),
            TaskStatus::Failed => {
                *earlier_failure = true;
                Verdict::Failed(r.error.as_ref())
            }
        };
    }
    let why = host
        .outcome
        .error
        .as_ref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    match host.outcome.status {
        HostStatus::Unreachable => Verdict::Failed(host.outcome.error.as_ref()),
        // A host that failed without a failed task (a host timeout): its first missing task
        // carries the failure, the rest were not run.
        HostStatus::Failed if !*earlier_failure => {
            *earlier_failure = true;
            Verdict::Failed(host.outcome.error.as_ref())
        }
        HostStatus::Failed | HostStatus::Ok => {
            Verdict::Skipped("not run: an earlier task failed".to_string())
        }
        // An open breaker means the host was not reached: a failure, as the exit code says.
        HostStatus::Skipped if breaker_open(host) => Verdict::Failed(host.outcome.error.as_ref()),
        HostStatus::Skipped => Verdict::Skipped(format!("host skipped{why}")),
        HostStatus::Cancelled => Verdict::Skipped(format!("cancelled{why}")),
    }
}

fn breaker_open(host: &HostReport) -> bool {
    host.outcome
        .error
        .as_ref()
        .is_some_and(|e| e.kind == ErrorKind::BreakerOpen)
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Escapes text for an XML attribute or element, dropping characters XML 1.0 forbids
/// (terminal escapes in a device's output would make the whole file unreadable).
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A failure's text: an `assert` task's conditions that did not hold, else the command.
fn failure_body(result: Option<&crate::outcome::TaskResult>) -> String {
    let Some(r) = result else {
        return String::new();
    };
    let failed: Vec<String> = r
        .assertions
        .iter()
        .filter(|a| !a.passed)
        .map(|a| format!("assertion failed: {}", a.that))
        .collect();
    if failed.is_empty() {
        r.command.clone()
    } else {
        failed.join("\n")
    }
}
