//! Every host's last known state, kept from the watch's events: what the live table, the
//! metrics file and the final report show, and what is saved in the state dir
//! (`watch-<inventory>-<hash>.json`) so a restarted watch resumes each host at its level,
//! with its streak, its first check due one interval after its last one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::event::{CheckStatus, Stamped, WatchEvent};
use super::level::Level;
use super::rules::{Rules, Track};
use super::scheduler::Start;
use crate::error::{Error, Result};

/// One host as the state file keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub level: Level,
    pub failures: u32,
    pub successes: u32,
    /// Unix milliseconds of the last check's end.
    pub last_check_ms: u64,
    /// Unix milliseconds of the last level change, if one was seen.
    #[serde(default)]
    pub last_change_ms: Option<u64>,
    #[serde(default)]
    pub status: Option<CheckStatus>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    version: u32,
    hosts: BTreeMap<String, Saved>,
}

/// A host during this watch.
#[derive(Debug, Clone)]
pub struct HostView {
    pub name: Arc<str>,
    pub start_level: Level,
    pub level: Level,
    pub failures: u32,
    pub successes: u32,
    pub status: Option<CheckStatus>,
    pub error: Option<String>,
    /// The host's breaker was open after its last check.
    pub breaker_open: bool,
    /// Watch milliseconds (since its start) of the last check, level change, next check.
    pub last_check_at: Option<u64>,
    pub last_change_at: Option<u64>,
    pub next_at: Option<u64>,
    pub last_duration_ms: Option<u64>,
    pub checks: u64,
    pub failed_checks: u64,
    pub level_changes: u32,
    /// From the saved state: the last change before this watch (Unix ms).
    pub saved_change_ms: Option<u64>,
}

/// The hosts of a watch, in the play's order.
#[derive(Debug)]
pub struct Ledger {
    pub hosts: Vec<HostView>,
    index: BTreeMap<Arc<str>, usize>,
    pub start_unix_ms: u64,
    pub now_ms: u64,
    pub checks: u64,
    pub peak_in_flight: usize,
    pub finished: bool,
    /// Hosts saved by an earlier watch that are not in this one: kept in the file.
    others: BTreeMap<String, Saved>,
}

impl Ledger {
    /// The hosts, where each starts (from `saved` when it has an entry, else `rules.start`,
    /// checked at once), and how many resumed.
    pub fn new(
        names: &[Arc<str>],
        rules: &Rules,
        mut saved: BTreeMap<String, Saved>,
        now_unix_ms: u64,
    ) -> (Ledger, Vec<Start>, usize) {
        let mut hosts = Vec::with_capacity(names.len());
        let mut starts = Vec::with_capacity(names.len());
        let mut resumed = 0;
        for name in names {
            let s = saved.remove(&**name);
            resumed += usize::from(s.is_some());
            let (track, first_in) = match &s {
                Some(s) => {
                    let due = s.last_check_ms + rules.interval(s.level).as_millis() as u64;
                    let track = Track {
                        level: s.level,
                        failures: s.failures,
                        successes: s.successes,
                    };
                    (
                        track,
                        Duration::from_millis(due.saturating_sub(now_unix_ms)),
                    )
                }
                None => (Track::new(rules.start), Duration::ZERO),
            };
            starts.push(Start { track, first_in });
            hosts.push(HostView {
                name: name.clone(),
                start_level: track.level,
                level: track.level,
                failures: track.failures,
                successes: track.successes,
                status: s.and_then(|s| s.status),
                error: None,
                breaker_open: false,
                last_check_at: None,
                last_change_at: None,
                next_at: Some(first_in.as_millis() as u64),
                last_duration_ms: None,
                checks: 0,
                failed_checks: 0,
                level_changes: 0,
                saved_change_ms: s.and_then(|s| s.last_change_ms),
            });
        }
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let ledger = Ledger {
            hosts,
            index,
            start_unix_ms: now_unix_ms,
            now_ms: 0,
            checks: 0,
            peak_in_flight: 0,
            finished: false,
            others: saved,
        };
        (ledger, starts, resumed)
    }

    pub fn apply(&mut self, stamped: &Stamped) {
        self.now_ms = self.now_ms.max(stamped.at_ms);
        let at = stamped.at_ms;
        match &stamped.event {
            WatchEvent::WatchStarted { start_unix_ms, .. } => self.start_unix_ms = *start_unix_ms,
            WatchEvent::Check {
                host,
                status,
                level,
                failures,
                successes,
                error,
                duration_ms,
                next_in_ms,
                breaker_open,
                ..
            } => {
                let Some(h) = self.index.get(host).map(|i| &mut self.hosts[*i]) else {
                    return;
                };
                h.status = Some(*status);
                h.level = *level;
                h.failures = *failures;
                h.successes = *successes;
                h.error = error
                    .as_ref()
                    .map(|e| format!("{}: {}", e.kind.as_str(), e.message));
                h.breaker_open = *breaker_open;
                h.last_check_at = Some(at);
                h.next_at = Some(at + next_in_ms);
                h.last_duration_ms = Some(*duration_ms);
                h.checks += 1;
                h.failed_checks += u64::from(*status != CheckStatus::Ok);
                self.checks += 1;
            }
            WatchEvent::LevelChanged { host, to, .. } => {
                if let Some(h) = self.index.get(host).map(|i| &mut self.hosts[*i]) {
                    h.level = *to;
                    h.last_change_at = Some(at);
                    h.level_changes += 1;
                }
            }
            WatchEvent::Subscriptions { .. } => {}
            WatchEvent::WatchFinished {
                checks,
                peak_in_flight,
            } => {
                self.checks = *checks;
                self.peak_in_flight = *peak_in_flight;
                self.finished = true;
            }
        }
    }

    /// What the state file keeps of each host checked at least once (this watch or before).
    fn saved(&self) -> BTreeMap<String, Saved> {
        let mut out = self.others.clone();
        for h in &self.hosts {
            let Some(at) = h.last_check_at else { continue };
            out.insert(
                h.name.to_string(),
                Saved {
                    level: h.level,
                    failures: h.failures,
                    successes: h.successes,
                    last_check_ms: self.start_unix_ms + at,
                    last_change_ms: h
                        .last_change_at
                        .map(|c| self.start_unix_ms + c)
                        .or(h.saved_change_ms),
                    status: h.status,
                },
            );
        }
        out
    }

    /// Writes the state file atomically (under its lock, as the breaker store does).
    pub fn save(&self, path: &Path) -> Result<()> {
        let file = File {
            version: 1,
            hosts: self.saved(),
        };
        crate::state_dir::with_lock(path, || {
            crate::atomic_write::write_atomic(path, |out| {
                serde_json::to_writer_pretty(&mut *out, &file)?;
                out.write_all(b"\n")
            })
        })
    }
}

/// The state file of these inventories in `dir`.
pub fn state_path(dir: &Path, inventories: &[PathBuf]) -> PathBuf {
    let stem = inventories
        .first()
        .and_then(|p| p.file_stem())
        .map(|s| {
            s.to_string_lossy()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect()
        })
        .unwrap_or_else(|| "inventory".to_string());
    let joined: Vec<String> = inventories
        .iter()
        .map(|p| {
            std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string()
        })
        .collect();
    let hash = joined
        .join("\n")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    dir.join(format!("watch-{stem}-{hash:016x}.json"))
}

/// The saved hosts; none when there is no file yet.
pub fn load(path: &Path) -> Result<BTreeMap<String, Saved>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str::<File>(&text)
            .map(|f| f.hosts)
            .map_err(|e| Error::Invalid {
                what: format!("watch state file {}", path.display()),
                message: format!("{e} (delete it to start every host afresh)"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(Error::io(path, "read watch state", e)),
    }
}
