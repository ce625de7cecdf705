//! Flags and subcommands of the run history: recording, retention, drift, retry and shards.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::report::ShardInfo;
use crate::settings::DurationValue;

/// How a `run` or `exec` is recorded, and which earlier run it builds on.
#[derive(Debug, Args, Clone)]
pub struct HistoryArgs {
    /// Do not record this run in the history
    #[arg(long)]
    pub no_history: bool,
    /// Runs kept in the history; older ones are pruned after each run
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub keep_runs: usize,
    /// Also prune runs older than this, e.g. 30d, 12h [default: no age limit]
    #[arg(long, value_name = "DURATION")]
    pub keep_for: Option<DurationValue>,
    /// After the run, print its drift against REF (a run id, `last`, `last~N`, or a report file)
    #[arg(long, value_name = "REF")]
    pub diff_against: Option<String>,
    /// Run only the hosts that failed, were unreachable or were cancelled in REF (a report file, a run id, `last`)
    #[arg(long, value_name = "REF")]
    pub retry_failed: Option<String>,
    /// Run one part K of N of the selected hosts, split by a stable hash of the host name
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<ShardInfo>,
}

impl Default for HistoryArgs {
    fn default() -> HistoryArgs {
        HistoryArgs {
            no_history: true,
            keep_runs: 200,
            keep_for: None,
            diff_against: None,
            retry_failed: None,
            shard: None,
        }
    }
}

/// `K/N` with 1 ≤ K ≤ N.
pub fn parse_shard(text: &str) -> Result<ShardInfo, String> {
    let bad = || format!("`{text}` is not a shard: expected K/N with 1 <= K <= N, e.g. 2/4");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let index: u32 = k.trim().parse().map_err(|_| bad())?;
    let count: u32 = n.trim().parse().map_err(|_| bad())?;
    if index == 0 || count == 0 || index > count {
        return Err(bad());
    }
    Ok(ShardInfo { index, count })
}

/// `drover history`.
#[derive(Debug, Args)]
pub struct HistoryListArgs {
    /// The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Only runs of this playbook (its path as given, or its file name)
    #[arg(long, value_name = "PLAYBOOK")]
    pub playbook: Option<String>,
    /// Only runs started at or after this: an RFC 3339 time or an age such as 2h, 7d
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only runs started before this: an RFC 3339 time or an age such as 2h, 7d
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// One JSON array of runs on stdout, for scripts
    #[arg(long)]
    pub json: bool,
}

/// `drover report …`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Print a past run's summary as the run printed it
    #[command(
        after_help = "REF: a run id (or a unique prefix), `last`, `last~N`, or a report file"
    )]
    Show(ShowArgs),
    /// Show the drift between two runs per host and task; exit 2 when something drifted
    #[command(after_help = "Examples:
  drover report diff last~1 last
  drover report diff yesterday.json report.json --json | jq '.groups'

REF: a run id (or a unique prefix), `last`, `last~N`, or a report file.
Exit codes: 0 no drift, 1 a run or file could not be read, 2 drift")]
    Diff(DiffArgs),
    /// Join the reports of `--shard K/N` runs into the report one run would have written
    #[command(after_help = "Examples:
  drover report merge shard-*.json --report report.json --junit junit.xml

Exit codes: the merged run's (0 ok, 2 hosts failed, …); 1 when the shards do not belong together")]
    Merge(MergeArgs),
    /// Write a run's report as one self-contained HTML page (no network, works from file://)
    #[command(after_help = "Examples:
  drover report html last -o run.html
  drover report html report.json --diff-against last~1 -o audit.html
  drover report html last > run.html

The page holds the run header and settings, hosts per status, a timeline of batches and
hosts (connect, each task, disconnect, retries), a host table that sorts and filters by
status, group, error class and text, each host's commands, outputs, parsed fields and
attempts, identical outputs grouped, errors grouped by class and message, and with
--diff-against the drift from the other run. Secrets are masked as in the JSON report;
device output is escaped and shown, never interpreted.

REF: a run id (or a unique prefix), `last`, `last~N`, or a report file.
Exit codes: 0 written, 1 a run or file could not be read or the page not written")]
    Html(HtmlArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The run: a run id, `last`, `last~N`, or a report file
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Print the whole JSON report instead of the summary
    #[arg(long)]
    pub json: bool,
    /// The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier run: a run id, `last`, `last~N`, or a report file
    #[arg(value_name = "A")]
    pub a: String,
    /// The later run
    #[arg(value_name = "B")]
    pub b: String,
    /// The drift as JSON on stdout, for scripts
    #[arg(long)]
    pub json: bool,
    /// Lines of output diff shown per change before it is cut
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_lines: usize,
    /// Also write B's HTML page with this drift in it (see `drover report html`)
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' reports (files or run ids), one per shard
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<String>,
    /// Write the merged JSON report here
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write the merged JUnit XML here
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// The state directory, for run ids [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HtmlArgs {
    /// The run: a run id, `last`, `last~N`, or a report file
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Write the page here (atomically) [default: stdout]
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Add a drift view: what changed since REF (a run id, `last~N`, or a report file)
    #[arg(long, value_name = "REF")]
    pub diff_against: Option<String>,
    /// The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}
