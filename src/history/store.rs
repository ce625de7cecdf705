//! The run history on disk: `<state dir>/runs/` holds each run's report as
//! `<run id>.json.gz` (gzip: a 1,000-host report shrinks about tenfold) and `index.jsonl`,
//! one line per run with what `drover history` shows, so listing 200 runs reads one small
//! file instead of 200 reports.
//!
//! Several drover processes may record at once (cron jobs overlapping, shards on one
//! machine). A report file is written atomically under its own unique name first; then,
//! holding an exclusive `flock` on `index.lock`, the process reads the index, adds its run,
//! prunes (deleting only files the index lists, so a report another process has written but
//! not yet indexed is never touched) and replaces the index atomically. Readers take the
//! same lock, so nobody sees half an index.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::prune::{victims, Keep};
use crate::error::{Error, Result};
use crate::outcome::HostStatus;
use crate::report::{write_atomic, RunReport, ShardInfo};

/// One run as the index lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub started_at: String,
    pub command: String,
    pub playbook: Option<String>,
    /// What `last` matches within a run: the same playbook (or `exec` command) on the same
    /// inventories.
    pub key: String,
    pub hosts: usize,
    pub counts: BTreeMap<HostStatus, usize>,
    pub duration_ms: u64,
    pub exit_code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The history in `state_dir/runs`.
    pub fn new(state_dir: &Path) -> Store {
        Store {
            dir: state_dir.join("runs"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a run's report is kept.
    pub fn file(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json.gz"))
    }

    fn index(&self) -> PathBuf {
        self.dir.join("index.jsonl")
    }

    /// Records `report` under its run id and prunes what `keep` no longer keeps.
    pub fn record(&self, report: &RunReport, key: &str, keep: &Keep) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| Error::io(&self.dir, "create the history directory", e))?;
        let id = &report.run.run_id;
        let file = self.file(id);
        write_atomic(&file, |out| {
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
            serde_json::to_writer(&mut gz, report)?;
            gz.write_all(b"\n")?;
            gz.finish().map(drop)
        })?;
        let entry = Entry {
            id: id.clone(),
            started_at: report.run.started_at.clone(),
            command: report.run.command.clone(),
            playbook: report.run.playbook.clone(),
            key: key.to_string(),
            hosts: report.counts.values().sum(),
            counts: report.counts.clone(),
            duration_ms: report.run.duration_ms,
            exit_code: report.run.exit_code,
            shard: report.run.shard,
            error: report.run.error.clone(),
        };
        let index = self.index();
        crate::state_dir::with_lock(&index, || {
            let mut entries = read_index(&index)?;
            entries.retain(|e| e.id != entry.id);
            entries.push(entry);
            entries.sort_by(|a, b| a.id.cmp(&b.id));
            let gone = victims(&entries, keep, SystemTime::now());
            for i in gone.iter().rev() {
                let e = entries.remove(*i);
                match std::fs::remove_file(self.file(&e.id)) {
                    Ok(()) => {}
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                    Err(err) => return Err(Error::io(self.file(&e.id), "prune", err)),
                }
            }
            write_atomic(&index, |out| {
                for e in &entries {
                    serde_json::to_writer(&mut *out, e)?;
                    out.write_all(b"\n")?;
                }
                Ok(())
            })
        })?;
        Ok(file)
    }

    /// Every recorded run, oldest first.
    pub fn entries(&self) -> Result<Vec<Entry>> {
        let index = self.index();
        if !index.exists() {
            return Ok(Vec::new());
        }
        crate::state_dir::with_lock(&index, || read_index(&index))
    }

    /// The report file of `reference`: `last`, `last~N` (when `key` is given: among the runs
    /// with that key that did not stop on their input), a run id or a unique prefix of one.
    pub fn resolve(&self, reference: &str, key: Option<&str>) -> Result<PathBuf> {
        let entries = self.entries()?;
        if let Some(back) = back_steps(reference) {
            let back = back.map_err(|message| Error::Invalid {
                what: format!("run `{reference}`"),
                message,
            })?;
            let matching: Vec<&Entry> = entries
                .iter()
                // Within a run, `last` is the last run of this playbook that ran at all.
                .filter(|e| key.is_none_or(|k| e.key == k && e.error.is_none()))
                .collect();
            return match matching.len().checked_sub(back + 1) {
                Some(i) => Ok(self.file(&matching[i].id)),
                None => Err(Error::Invalid {
                    what: format!("run `{reference}`"),
                    message: format!(
                        "the history in {} holds {} matching run(s)",
                        self.dir.display(),
                        matching.len()
                    ),
                }),
            };
        }
        let found: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.id.starts_with(reference))
            .collect();
        match found.as_slice() {
            [one] => Ok(self.file(&one.id)),
            [] => Err(Error::Invalid {
                what: format!("run `{reference}`"),
                message: format!(
                    "no such report file, and no such run in the history in {} (see `drover history`)",
                    self.dir.display()
                ),
            }),
            many => Err(Error::Invalid {
                what: format!("run `{reference}`"),
                message: format!("the prefix matches {} runs; give more of the id", many.len()),
            }),
        }
    }
}

/// `last` → 0, `last~N` → N; `None` when the reference is not of that form.
fn back_steps(reference: &str) -> Option<std::result::Result<usize, String>> {
    let rest = reference.strip_prefix("last")?;
    if rest.is_empty() {
        return Some(Ok(0));
    }
    let n = rest.strip_prefix('~')?;
    Some(
        n.parse()
            .map_err(|_| format!("expected last or last~N with a number N, not `{reference}`")),
    )
}

/// The index's lines; a line that does not parse (a disk that filled up mid-write in an
/// older version) is skipped rather than making the whole history unreadable.
fn read_index(path: &Path) -> Result<Vec<Entry>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io(path, "read the history index", e)),
    }
}

/// A report's text, from a plain JSON file or a gzipped one (the history's).
pub fn read_report(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read the report", e))?;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return String::from_utf8(bytes).map_err(|e| Error::Invalid {
            what: format!("report {}", path.display()),
            message: format!("not UTF-8 text: {e}"),
        });
    }
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .map_err(|e| Error::io(path, "decompress the report", e))?;
    Ok(text)
}
