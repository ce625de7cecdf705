//! Audits over time: every `run` and `exec` is recorded in the state directory under a
//! time-sortable run id, so `drover history` can list runs, `drover report diff` can show
//! what drifted between two of them, `--retry-failed` can rerun the hosts a run did not
//! finish well, and `--shard K/N` with `drover report merge` can split one run across
//! machines. Files only: no server.
//!
//! [`Session`] is one run's side of it, built from the command line before anything is
//! loaded, so even a run that stops on its input leaves a report saying why.

mod commands;
mod diff;
mod drift_html;
mod line_diff;
mod merge;
mod meta;
mod prune;
mod select;
mod store;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::cli::{HistoryArgs, StateArgs, TargetArgs};
use crate::error::{Error, Result};
use crate::outcome::HostStatus;
use crate::report::{write_atomic, ReportBuilder, RunInfo, RunReport};

pub use commands::{history, report};
pub use diff::{drift, Drift, View};
pub use merge::merge;
pub use meta::{digest_bytes, run_id};
pub use prune::Keep;
pub use select::{resolve_limit, shard_of, Selection};
pub use store::{read_report, Entry, Store};

/// One run's record keeping: its id and metadata, what it selects from an earlier run, and
/// where it is recorded.
#[derive(Debug, Clone)]
pub struct Session {
    info: RunInfo,
    /// The history to read references from (`None` without a state directory).
    store: Option<Store>,
    record: bool,
    keep: Keep,
    key: String,
    report_path: Option<PathBuf>,
    args: HistoryArgs,
    select: Selection,
    /// `--diff-against`: the file and its text, read before this run is recorded (and
    /// perhaps prunes it).
    base: Option<(PathBuf, String)>,
    /// Set once the run has produced its own report: from then on an error is not "nothing ran".
    ran: Arc<AtomicBool>,
}

/// What the command line says about the run, for the session.
pub struct Invocation<'a> {
    pub command: &'static str,
    /// `run`'s playbook file.
    pub playbook: Option<&'a Path>,
    /// `exec`'s pattern and command line.
    pub exec: Option<String>,
    pub target: &'a TargetArgs,
    pub state: &'a StateArgs,
    pub history: &'a HistoryArgs,
    pub report: Option<&'a Path>,
}

impl Session {
    /// A session that records nothing and selects every host (`drover check`).
    pub fn none() -> Session {
        Session {
            info: RunInfo::default(),
            store: None,
            record: false,
            keep: Keep {
                runs: 200,
                max_age: None,
            },
            key: String::new(),
            report_path: None,
            args: HistoryArgs::default(),
            select: Selection::default(),
            base: None,
            ran: Arc::default(),
        }
    }

    /// Reads nothing but the inventory and playbook bytes (for their digests): cannot fail.
    pub fn new(inv: Invocation<'_>) -> Session {
        let state_dir = inv
            .state
            .state_dir
            .clone()
            .or_else(crate::state_dir::default_dir);
        let inventories: Vec<String> = inv
            .target
            .inventories
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let canonical = |p: &Path| {
            std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string()
        };
        let what = match (inv.playbook, &inv.exec) {
            (Some(p), _) => canonical(p),
            (None, Some(e)) => e.clone(),
            (None, None) => String::new(),
        };
        let mut key = vec![inv.command.to_string(), what];
        key.extend(inv.target.inventories.iter().map(|p| canonical(p)));
        let info = RunInfo {
            command: inv.command.to_string(),
            playbook: inv.playbook.map(|p| p.display().to_string()),
            inventories,
            limit: inv.target.limit.clone(),
            run_id: meta::run_id(std::time::SystemTime::now()),
            user: meta::user(),
            hostname: meta::hostname(),
            argv: meta::masked_argv(std::env::args()),
            inventory_digest: meta::digest_paths(&inv.target.inventories),
            playbook_digest: match (inv.playbook, &inv.exec) {
                (Some(p), _) => meta::digest_paths(&[p]),
                (None, Some(e)) => meta::digest_text(e),
                (None, None) => String::new(),
            },
            shard: inv.history.shard,
            ..RunInfo::default()
        };
        Session {
            info,
            store: state_dir.as_deref().map(Store::new),
            record: !inv.history.no_history && state_dir.is_some(),
            keep: Keep {
                runs: inv.history.keep_runs,
                max_age: inv.history.keep_for.map(|d| d.0),
            },
            key: key.join("\n"),
            report_path: inv.report.map(Path::to_path_buf),
            args: inv.history.clone(),
            select: Selection {
                names: None,
                shard: inv.history.shard,
            },
            base: None,
            ran: Arc::default(),
        }
    }

    /// Resolves the references to earlier runs (`--retry-failed`, `--diff-against`).
    pub fn prepare(&mut self) -> Result<()> {
        if let Some(reference) = self.args.retry_failed.clone() {
            let path = self.resolve(&reference)?;
            let view = View::load(&path)?;
            let names: HashSet<String> = view
                .hosts
                .iter()
                .filter(|h| {
                    matches!(
                        h.status,
                        HostStatus::Failed | HostStatus::Unreachable | HostStatus::Cancelled
                    )
                })
                .map(|h| h.name.clone())
                .collect();
            self.select.names = Some(Arc::new(names));
            self.info.retry_of = Some(if view.run.run_id.is_empty() {
                path.display().to_string()
            } else {
                view.run.run_id
            });
        }
        if let Some(reference) = self.args.diff_against.clone() {
            let path = self.resolve(&reference)?;
            let text = store::read_report(&path)?;
            View::parse(&path, &text)?;
            self.base = Some((path, text));
        }
        Ok(())
    }

    /// A report file, or a run of this playbook and inventory in the history.
    fn resolve(&self, reference: &str) -> Result<PathBuf> {
        resolve(self.store.as_ref(), reference, Some(&self.key))
    }

    /// The hosts this run keeps of those its plays and `--limit` select.
    pub fn selection(&self) -> Selection {
        self.select.clone()
    }

    /// The run's metadata, for its report.
    pub fn info(&self) -> RunInfo {
        self.info.clone()
    }

    /// Records the finished run's report; a history that cannot be written is a warning, not
    /// a failed audit.
    pub fn record(&self, report: &RunReport) {
        self.ran.store(true, Ordering::SeqCst);
        if let (true, Some(store)) = (self.record, &self.store) {
            if let Err(e) = store.record(report, &self.key, &self.keep) {
                eprintln!("warning: the run was not recorded in the history: {e}");
            }
        }
    }

    /// The run's drift from `--diff-against`, if it was given.
    pub fn drift(&self, report: &RunReport) -> Option<Drift> {
        let (path, text) = self.base.as_ref()?;
        let base = View::parse(path, text).ok()?;
        let now = serde_json::to_string(report)
            .ok()
            .and_then(|t| serde_json::from_str::<View>(&t).ok())?;
        let here = PathBuf::from(if report.run.run_id.is_empty() {
            "this run"
        } else {
            &report.run.run_id
        });
        Some(drift((path, &base), (&here, &now), 20))
    }

    /// The end of the run's output: its drift from `--diff-against` (the summary above it
    /// ends with the run id).
    pub fn print_end(&self, report: &RunReport, to_stderr: bool) {
        let Some(d) = self.drift(report) else {
            return;
        };
        if to_stderr {
            eprint!("\n{}", d.render());
        } else {
            print!("\n{}", d.render());
        }
    }

    /// The run stopped before it ran (an input error): leaves a report saying why, in place of
    /// any earlier one, and records it. Returns the error to print.
    pub fn failed(&self, error: Error) -> Error {
        if self.ran.load(Ordering::SeqCst) || self.info.command.is_empty() {
            return error;
        }
        let now = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
        let mut report = ReportBuilder::default().build(RunInfo {
            started_at: now.clone(),
            finished_at: now,
            error: Some(error.to_string()),
            ..self.info()
        });
        report.run.exit_code = report.exit_code();
        if let Some(path) = &self.report_path {
            let written = write_atomic(path, |out| {
                serde_json::to_writer_pretty(&mut *out, &report)?;
                out.write_all(b"\n")
            });
            if let Err(e) = written {
                eprintln!("warning: {e}");
            }
        }
        self.record(&report);
        error
    }
}

/// `last`, `last~N`, a run id or prefix, else an existing report file.
pub fn resolve(store: Option<&Store>, reference: &str, key: Option<&str>) -> Result<PathBuf> {
    let path = Path::new(reference);
    let keyword = reference == "last" || reference.starts_with("last~");
    if !keyword && path.is_file() {
        return Ok(path.to_path_buf());
    }
    match store {
        Some(store) => store.resolve(reference, key),
        None => Err(Error::Invalid {
            what: format!("run `{reference}`"),
            message:
                "no such report file, and no state directory to look it up in (set --state-dir)"
                    .into(),
        }),
    }
}
